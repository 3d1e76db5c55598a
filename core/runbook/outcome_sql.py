"""verify's outcome check inside the server: the restored rows that may differ from Friday's.

Where production's connection reads crashed's tables itself (two databases on one
MariaDB server, or a SQLite file ATTACHed: `crashed_address`), one statement per table
joins the journal's entries with Friday's row in crashed (by old id) and the restored
row in production (by new id), maps each reference of Friday's row through the journal
in the same statement, and returns the entries where any column differs, byte for byte
and NULL-safe (`Dialect.exact`, `Dialect.differs`), or Friday's row is missing. Only
those go through `outcome.check_values`, which names the table, key and column (and
accepts what the rules allow: a reference written NULL for a parent production deleted).

An entry the statement passes is one `check_values` would pass: the same expected value
per column (Friday's, its reference mapped where its parent's journal maps it), compared
more strictly. A table whose rows need more than this (a key of more than two integers
or of anything else, a reference held in a string or naming a table keyed otherwise, a
column only production has, updates merged by column, numbers renumbered within a
parent, ids inside values) is left to `check_values` whole: `sql_suspects` answers None.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Integer, MetaData, and_, case, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from ..apply.crashed_address import CrashedAddress
from ..databases import journal
from ..databases.dialects import dialect_of
from ..databases.schema import KeyKind, Schema, TableInfo
from ..inspect.graph import Edge, ReferenceGraph

Entry = tuple[tuple[Any, ...], tuple[Any, ...], str]   # (old key, new key, action), as `journal.entries` gives them


def sql_suspects(p: Connection, address: CrashedAddress, p_schema: Schema, c_schema: Schema, graph: ReferenceGraph,
                 table: str, chunk: int) -> tuple[int, Iterator[list[Entry]]] | None:
    """(rows compared, pages of the entries that may differ) of `table`'s restored and
    updated rows, or None when the table is `check_values`'s whole (see the module; the
    caller leaves out tables with updates merged by column or numbers renumbered)."""
    if address.schema is None:
        return None
    tp, tc = p_schema[table], c_schema.tables.get(table)
    if tc is None or not _simple(tp, tc, p_schema, graph.edges_from(table)):
        return None
    crashed = tc.table.to_metadata(MetaData(), schema=address.schema).alias("c")
    row, key = tp.table.alias("p"), tp.identity
    entries = journal.counted_keys(table, len(key), ("inserted", "updated"))
    old, new = _parts(entries, "old", len(key)), _parts(entries, "new", len(key))
    joined = (entries.outerjoin(crashed, and_(*(crashed.c[k] == o for k, o in zip(key, old))))
              .outerjoin(row, and_(*(row.c[k] == n for k, n in zip(key, new)))))
    found = and_(crashed.c[key[0]].is_not(None), row.c[key[0]].is_not(None))
    dialect = dialect_of(p)
    differs = [dialect.differs(dialect.exact(row.c[col]), dialect.exact(expected))
               for col, expected in _expected(tp, crashed, graph.edges_from(table))]
    suspect = or_(crashed.c[key[0]].is_(None), and_(row.c[key[0]].is_not(None), or_(*_never_if_none(differs))))
    # One pass counts both; the suspects are read again only where there are any.
    compared, suspects = p.execute(select(func.count(case((found, 1))), func.count(case((suspect, 1))))
                                   .select_from(joined)).one()
    stmt = select(entries.c.entry, *old, *new, entries.c.action).select_from(joined).where(suspect)
    return int(compared), _pages(p, stmt, entries.c.entry, len(key), chunk) if suspects else iter(())


def _parts(entries: Any, side: str, width: int) -> list[ColumnElement[Any]]:
    return [entries.c[f"{side}_{i}"] for i in range(width)]


def column_refs(edges: Iterable[Edge]) -> dict[str, list[Edge]]:
    """A table's single-column references by their column (a polymorphic one has an edge
    per type); composite ones are compared as Friday holds them."""
    out: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        if len(e.columns) == 1:
            out[e.columns[0]].append(e)
    return out


def _never_if_none(conditions: Sequence[ColumnElement[bool]]) -> Sequence[ColumnElement[bool]]:
    """`conditions`, or one that is never true (a table whose only column is its key)."""
    return conditions or [~true()]


def _simple(tp: TableInfo, tc: TableInfo, p_schema: Schema, edges: Sequence[Edge]) -> bool:
    """Whether every column of `tp` is compared by `_expected`: a key of one or two
    integers (a pivot's), the same in crashed, every column in crashed too, every
    single-column reference an integer naming an integer-keyed table's key."""
    key = tp.identity
    if (not tp.primary_key or len(key) > 2 or tuple(tc.identity) != tuple(key)
            or not all(isinstance(tp.table.c[k].type, Integer) for k in key)
            or set(tp.column_names) - set(tc.column_names)):
        return False
    for e in edges:
        if len(e.columns) != 1:
            continue   # compared as Friday holds it, as `check_values` does
        parent = p_schema.tables.get(e.parent)
        if (parent is None or parent.key_kind != KeyKind.SURROGATE or tuple(e.parent_columns) != tuple(parent.primary_key)
                or not isinstance(tp.table.c[e.columns[0]].type, Integer)):
            return False
    return True


def _expected(tp: TableInfo, crashed: Any, edges: Sequence[Edge]) -> Iterator[tuple[str, ColumnElement[Any]]]:
    """Each compared column of `tp` and what the restored row must hold there: Friday's
    value, a reference mapped through its parent's journal (by the first edge whose type
    the row holds, as `outcome._edge` picks it). The key is met by the join."""
    refs = column_refs(edges)
    for col in tp.column_names:
        value = crashed.c[col]
        if col not in refs:
            if col not in tp.identity:
                yield col, value
            continue
        whens = [(and_(true(), *e.type_filter(crashed)), func.coalesce(journal.mapped_id_sql(e.parent, value), value))
                 for e in refs[col]]
        yield col, case(*whens, else_=value)


def _pages(p: Connection, stmt: Any, order: ColumnElement[Any], width: int, chunk: int) -> Iterator[list[Entry]]:
    """`stmt`'s entries in pages of `chunk`, in the journal's order, as `journal.entries`
    gives them; the connection is free between pages."""
    after: int | None = None
    while True:
        page = p.execute((stmt if after is None else stmt.where(order > after)).order_by(order).limit(chunk)).all()
        if not page:
            return
        after = page[-1][0]
        yield [(tuple(r[1:1 + width]), tuple(r[1 + width:1 + 2 * width]), r[-1]) for r in page]
