"""verify's check of the outcome: every restored row equals Friday's, references mapped.

The journal says which Friday row became which production row; this module trusts it
no further than that. For each row a counted run inserted or updated, Friday's row is
read from CRASHED by its old key and production's by its new key, and every column must
be equal, NULL-safe, value for value (strings exactly, case and spaces included):

- the key: the new key the journal gives;
- a reference column: Friday's value mapped through the journal's entries for its parent
  (inserted or linked there), or Friday's value itself where the parent has none (a
  parent from the snapshot); NULL is accepted only where that parent is gone from
  production (``--orphans null``);
- a column only production has (a later migration): its constant default, when it has
  one (an expression such as ``CURRENT_TIMESTAMP`` cannot be predicted and is not compared);
- a number within a parent the restore renumbered (`apply.scoped_numbers`), and a
  reference by it: the number the journal says it gave, where Friday's is the one it replaced.

So a production trigger that rewrote a date, a reference pointing at another row than
the mapping says, or a value changed since the restore each becomes a line naming the
table, the key and the column. Memory holds one page of the journal at a time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection

from .. import shown
from ..apply.crashed_address import CrashedAddress
from ..databases import journal
from ..databases import rows as rowio
from ..databases.schema import Schema, TableInfo
from ..inspect import cell_merge, payloads
from ..inspect.graph import Edge, ReferenceGraph, as_held, held_id
from ..inspect.payloads import PayloadEdge
from .outcome_sql import column_refs, sql_suspects

Row = dict[str, Any]
MISSING = object()   # a column whose expected value cannot be known


@dataclass(frozen=True)
class Sides:
    """Production after the restore and crashed, each with its schema, and the references."""

    production: Connection
    crashed: Connection
    production_schema: Schema
    crashed_schema: Schema
    graph: ReferenceGraph
    address: CrashedAddress | None = None   # how production's connection reads crashed's tables, where it can
    # Tables with rows written otherwise than as Friday had them (`journal.irregular_tables`):
    # compared here whole.
    irregular: frozenset[str] = frozenset()


def check_values(sides: Sides, table: str, problems: list[str], cap: int = 10,
                 inside: Sequence[PayloadEdge] = ()) -> int:
    """Compare `table`'s restored rows with Friday's; append at most `cap` problems.
    A column with confirmed ids `inside` its JSON must hold Friday's document with those
    ids mapped. Where the server can, it compares every row first (`outcome_sql`) and
    only the rows it finds differing are compared here. Returns how many rows were compared."""
    p, c, p_schema, graph = sides.production, sides.crashed, sides.production_schema, sides.graph
    tp, tc = p_schema[table], sides.crashed_schema.tables.get(table)
    if tc is None or not tp.primary_key:
        return 0
    in_server = None
    if sides.address is not None and not inside and table not in sides.irregular:
        in_server = sql_suspects(p, sides.address, p_schema, sides.crashed_schema, graph, table, rowio.CHUNK)
    pages = in_server[1] if in_server is not None else journal.entries(p, table, ("inserted", "updated"), rowio.CHUNK)
    refs = column_refs(graph.edges_from(table))
    defaults = {col: _constant_default(tp, col) for col in tp.column_names if col not in tc.column_names}
    compared = 0
    found: list[str] = []
    # Updates merged by column: only the columns they took Friday's value into are Friday's.
    # Numbers within a parent the restore gave a Friday row (`scoped_numbers`): expected as given.
    merged: dict[str, frozenset[str]] = {}
    numbers: dict[tuple[Any, str], tuple[Any, Any]] = {}
    if in_server is None:   # else the table has neither (`Sides.irregular`)
        merged = {key: cell_merge.friday_columns(mask) for key, mask in journal.merged_columns(p, table).items()}
        numbers = journal.renumbered(p, table)
    for page in pages:
        friday = _by_key(c, tc, [old for old, _, _ in page])
        restored = _by_key(p, tp, [new for _, new, _ in page])
        mapped = _parent_maps(p, refs, friday.values())
        documents = _documents(p, inside, friday)
        gone: dict[tuple[str, Any], bool] = {}
        for old, new, action in page:
            f, r = friday.get(_norm(old)), restored.get(_norm(new))
            if f is None:
                found.append(f"{table}: Friday row {old} is not in the crashed database: restored row {new} "
                             "cannot be compared (is GAPMEND_CRASHED_URL still the crashed copy?)")
            elif r is not None:   # a missing one is reported by the presence check
                compared += 1
                only = merged.get(journal.encode(new)) if action == "updated" else None
                for col in tp.column_names:
                    if only is not None and col not in only:
                        continue   # production's value, or a timestamp merged by "the later"
                    expected = _expected(tp, col, f, new, refs, mapped, defaults)
                    renumbered = numbers.get((new[0], col)) if len(new) == 1 else None
                    if renumbered is not None and _same(f[col], renumbered[0]):
                        expected = renumbered[1]
                    if (_norm(old), col) in documents:
                        fmt, expected = documents[_norm(old), col]
                        got = payloads.document(r[col], fmt)
                        if got is not None and payloads.canonical(got, fmt) == payloads.canonical(expected, fmt):
                            continue
                    elif expected is MISSING or _same(r[col], expected):
                        continue
                    edge = _edge(refs.get(col, []), f)
                    if r[col] is None and edge is not None and _parent_gone(p, p_schema, edge, f[col], gone):
                        continue   # --orphans null: Friday's parent was deleted by production
                    found.append(f"{table} {shown.key(new)}: {col} is {shown.value(r[col])} but the {action} Friday row "
                                 f"{shown.key(old)} says {shown.value(expected)}")
            if len(found) >= cap:
                problems.extend(found[:cap])
                return compared if in_server is None else in_server[0]
    problems.extend(found)
    return compared if in_server is None else in_server[0]


def _edge(edges: list[Edge], row: Row) -> Edge | None:
    """The edge `row`'s value travels along: for a polymorphic column, its type's."""
    return next((e for e in edges if e.covers(row.get(e.type_column) if e.type_column else None)), None)


def _by_key(conn: Connection, t: TableInfo, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Row]:
    """Rows of `t` with one of `keys`, by `_norm`ed key."""
    out: dict[tuple[Any, ...], Row] = {}
    for r in rowio.fetch_keys(conn, t, t.identity, keys):
        row = dict(zip(t.column_names, r))
        out[_norm(row[k] for k in t.identity)] = row
    return out


def _norm(key: Iterable[Any]) -> tuple[Any, ...]:
    """A key as the journal's JSON gives it back: a date as its text without
    microseconds, a decimal as its text (`journal.encode`)."""
    return tuple(v.replace(microsecond=0).isoformat(sep=" ") if isinstance(v, datetime)
                 else str(v) if isinstance(v, Decimal) else v for v in key)


def _documents(p: Connection, inside: Sequence[PayloadEdge], friday: Mapping[tuple[Any, ...], Row]
               ) -> dict[tuple[tuple[Any, ...], str], tuple[str, Any]]:
    """(Friday key, column) -> the JSON document the restored row must hold: Friday's,
    each id of a confirmed path that the journal restored under another id mapped. A
    snapshot row's id is never in the journal (its old keys lie past the boundary)."""
    if not inside:
        return {}
    wanted: dict[str, set[int]] = defaultdict(set)
    docs: dict[tuple[tuple[Any, ...], str], Any] = {}
    for key, row in friday.items():
        for e in inside:
            doc = docs.setdefault((key, e.column), payloads.document(row.get(e.column), e.format))
            if doc is not None:
                wanted[e.parent].update(payloads.ids_at(doc, e))
    maps = {parent: {old[0]: new[0] for old, new in journal.mapped_keys(p, parent, [(v,) for v in ids]).items()}
            for parent, ids in wanted.items()}
    for (key, col), doc in docs.items():
        for e in (e for e in inside if e.column == col and doc is not None):
            parent_map = maps.get(e.parent, {})
            payloads.rewrite(doc, e, lambda v: parent_map.get(v, v))
    formats = {e.column: e.format for e in inside}
    return {k: (formats[k[1]], d) for k, d in docs.items() if d is not None}


def _parent_maps(p: Connection, refs: dict[str, list[Edge]], rows: Iterable[Row]) -> dict[str, dict[Any, Any]]:
    """Parent table -> Friday's parent id -> the id the journal restored it as."""
    wanted: dict[str, set[Any]] = defaultdict(set)
    for row in rows:
        for col, edges in refs.items():
            edge = _edge(edges, row)
            if edge is not None and row.get(col) is not None:
                wanted[edge.parent].add(held_id(row[col]))
    return {parent: {old[0]: new[0] for old, new in journal.mapped_keys(p, parent, [(v,) for v in values]).items()}
            for parent, values in wanted.items()}


def _expected(t: TableInfo, col: str, friday: Row, new: tuple[Any, ...], refs: dict[str, list[Edge]],
              mapped: dict[str, dict[Any, Any]], defaults: dict[str, Any]) -> Any:
    if col in t.identity and col not in refs:
        return new[t.identity.index(col)]
    if col not in friday:
        return defaults.get(col, MISSING)
    value = friday[col]
    edge = _edge(refs.get(col, []), friday)
    if value is None or edge is None:
        return value
    restored_as = mapped.get(edge.parent, {}).get(held_id(value))
    return value if restored_as is None else as_held(restored_as, value)


def _parent_gone(p: Connection, schema: Schema, edge: Edge, value: Any, cache: dict[tuple[str, Any], bool]) -> bool:
    parent = schema.tables.get(edge.parent)
    if parent is None or value is None:
        return False
    if (edge.parent, value) not in cache:
        present = rowio.fetch_keys(p, parent, edge.parent_columns, [(value,)], select_cols=edge.parent_columns)
        cache[edge.parent, value] = next(present, None) is None
    return cache[edge.parent, value]


class _Text(str):
    """A default as the schema spells it: compared with the value's text."""


def _constant_default(t: TableInfo, col: str) -> Any:
    """The value a column production alone has takes in a row gapmend inserts."""
    column = t.table.c[col]
    default = column.server_default
    if default is None:
        return None if column.nullable else MISSING
    text = str(getattr(default, "arg", "")).strip()
    if text.upper() == "NULL":
        return None
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return _Text(text[1:-1])
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return _Text(text)
    return MISSING


def _same(got: Any, expected: Any) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    if isinstance(expected, _Text):
        return str(got) == expected
    if isinstance(got, (bytearray, memoryview)):
        got = bytes(got)
    if isinstance(expected, (bytearray, memoryview)):
        expected = bytes(expected)
    if isinstance(got, bytes) != isinstance(expected, bytes):
        return False
    if got == expected:
        return True
    if isinstance(got, str) != isinstance(expected, str):
        # A key decoded from the journal's JSON (a date as text): compare the spellings.
        return bool(journal.encode([got]) == journal.encode([expected]))
    return False
