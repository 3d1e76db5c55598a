"""The evidence the census (`census`) proposes from: in crashed's data, how many of a
column's Friday values name a row of each table whose ids the restore moves, and how
many name a moved id; per value of a discriminator column; whether the column numbers
rows within a parent instead, and whether a self-reference names rows by that number;
whether an implied reference's values all find a row; and, with production, whether a
pair of references is a key nobody declared that a Friday row shares with production.

Every figure is one count over Friday's rows per column and table that moved ids, so
the cost follows the columns, not the rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

import inflection
from sqlalchemy import Connection, Integer, String, and_, case, cast, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..databases import rows as rowio
from ..databases.dialects import dialect_of
from ..databases.schema import KeyKind, Schema, TableInfo
from ..plan.model import IdColumn, Target
from .graph import ReferenceGraph

# Column names that say "an id of some row" without the ``_id`` Laravel's naming reads:
# the proposal prefers their table when the figures tie.
NAME_HINTS = ("_by", "_to", "owner", "parent", "author", "creator", "editor")


@dataclass(frozen=True)
class Mover:
    """A table whose Friday rows production took the ids of: ids in (boundary, production's highest]."""

    table: str
    key: str
    boundary: int
    production_max: int


@dataclass(frozen=True)
class Open:
    """A column that can carry an id unseen: all its rows, or, when the operator decided
    some values of its discriminator (``uploaded_to[type=gallery]``), the rows of the others."""

    column: str
    discriminator: str | None = None
    decided: tuple[str, ...] = ()

    def rows(self, table: Any) -> list[ColumnElement[bool]]:
        """The SQL condition picking, in `table`, the rows whose value is still undecided."""
        if self.discriminator is None:
            return []
        d = table.c[self.discriminator]
        return [or_(d.is_(None), cast(d, String).not_in(self.decided))]


def implied(c: Connection, schema: Schema, graph: ReferenceGraph, t: TableInfo, boundary: int,
             moving: list[Mover], confirmed: frozenset[str]) -> Iterable[IdColumn]:
    """`t`'s references implied by naming alone (``parent_id``, ``user_id``) that the
    data contradicts: some Friday values name no row of the parent in crashed, so the
    column may hold something else (a per-thread number, a look-alike), and some name
    moved ids, which the restore would rewrite. Undecided until confirmed or dropped;
    where every value names a parent row, the name and the data agree."""
    by_table = {m.table: m for m in moving}
    rows = t.table.alias("f")
    for e in graph.edges_from(t.name):
        m = by_table.get(e.parent)
        if (e.kind != "implied" or e.id in confirmed or m is None or len(e.columns) != 1
                or not isinstance(t.table.c[e.columns[0]].type, Integer)):
            continue
        value = rows.c[e.columns[0]]
        friday = [rows.c[t.primary_key[0]] > boundary, value.is_not(None), value != 0, *e.type_filter(rows)]
        moved, named = _tally(c, schema, rows, value, friday, m)
        total = int(c.execute(select(func.count()).select_from(rows).where(*friday)).scalar_one())
        if moved and named < total:
            yield IdColumn(t.name, e.columns[0], m.table, m.key, total, named, moved, implied=e.id)


def column_evidence(c: Connection, schema: Schema, graph: ReferenceGraph, t: TableInfo, boundary: int, column: Open,
                    moving: list[Mover]) -> IdColumn | None:
    """`column`'s evidence and proposal, or None when none of Friday's values names a
    moved id (a string column's values read as the ids they spell, `Dialect.held_id`)."""
    rows = t.table.alias("f")
    value, key = held(c, rows.c[column.column]), rows.c[t.primary_key[0]]
    friday = [_friday_rows(c, key, value, boundary, moving, column.rows(rows)), value.is_not(None), value != 0,
              *column.rows(rows)]
    if c.execute(select(key).where(*friday, _any_moved(value, moving)).limit(1)).first() is None:
        return None   # one look, by the key's range: most columns stop here
    tallies = [_tally(c, schema, rows, value, friday, m) for m in moving]
    best = _best(column.column, [(m, moved, named) for m, (moved, named) in zip(moving, tallies)], t.name)
    if best is None:
        return None
    total = int(c.execute(select(func.count()).select_from(rows).where(*friday)).scalar_one())
    m, moved, named = best
    within = _scope(c, t, column.column, graph) if column.discriminator is None else ()
    if within:
        return IdColumn(t.name, column.column, m.table, m.key, total, named, moved, within=within)
    targets = _by_discriminator(c, schema, t, rows, value, friday, moving, column)
    return IdColumn(t.name, column.column, m.table, m.key, total, named, moved,
                    discriminator=targets[0] if targets else None, targets=targets[1] if targets else ())


def _scope(c: Connection, t: TableInfo, column: str, graph: ReferenceGraph) -> tuple[str, ...]:
    """The parent (a reference of `t`, with its type column when polymorphic) that
    numbers `column`'s values in crashed: they never repeat within a parent, do repeat
    across parents, and count up from 1 in each (a comment's number within its page; a
    few numbers lost to deleted rows allowed). () when no reference of `t` is such a
    parent, or the name reads as a reference (``created_by``)."""
    number = t.table.c[column]
    if any(h in column for h in NAME_HINTS) or not _repeats(c, [number]):
        return ()
    for e in graph.edges_from(t.name):
        if len(e.columns) != 1 or e.is_self or e.columns[0] == column:
            continue
        within = (e.columns[0], *([e.type_column] if e.type_column else []))
        parents = [t.table.c[w] for w in within]
        if not _repeats(c, [*parents, number]) and _counts_up(c, parents, number):
            return within
    return ()


def _counts_up(c: Connection, parents: list[Any], number: Any) -> bool:
    """Whether `number` counts 1, 2, 3… within each parent: the parents' highest numbers
    add up to at most a quarter more than their rows."""
    per = (select(func.max(number).label("top"), func.count().label("rows"))
           .where(number.is_not(None), *(p.is_not(None) for p in parents)).group_by(*parents).subquery("per"))
    top, rows = c.execute(select(func.sum(per.c.top), func.sum(per.c.rows))).one()
    return bool(rows) and int(top or 0) <= int(rows) * 1.25


def _repeats(c: Connection, columns: list[Any]) -> bool:
    """Whether two rows hold the same values in `columns` (NULLs left out)."""
    return bool(rowio.repeated(c, columns, [col.is_not(None) for col in columns], limit=1))


def held(c: Connection, column: Any) -> Any:
    """`column` as the ids it holds: a string column's values that spell one, as integers."""
    return dialect_of(c).held_id(column) if isinstance(column.type, String) else column


def _any_moved(value: Any, moving: list[Mover]) -> ColumnElement[bool]:
    return or_(*(and_(value > m.boundary, value <= m.production_max) for m in moving))


def _friday_rows(c: Connection, key: Any, value: Any, boundary: int, moving: list[Mover],
                 open_rows: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """The condition picking Friday's rows of a table in crashed: those past its boundary,
    and those from before it that hold a moved id in `value`: that id did not exist at
    the snapshot, so Friday wrote it there (an update). Looked for once, so that a table
    whose early rows hold none is read by its key's range alone."""
    moved = _any_moved(value, moving)
    updated = c.execute(select(key).where(key <= boundary, moved, *open_rows).limit(1)).first()
    return or_(key > boundary, and_(key <= boundary, moved)) if updated is not None else key > boundary


def _tally(c: Connection, schema: Schema, rows: Any, value: Any, friday: list[ColumnElement[bool]],
           m: Mover) -> tuple[int, int]:
    """(Friday values naming a moved `m` id, ... naming any `m` row in crashed)."""
    par = schema[m.table].table.alias("par")
    moved, named = c.execute(select(_moved(value, m), func.count())
                             .select_from(rows.join(par, par.c[m.key] == value)).where(*friday)).one()
    return int(moved), int(named)


def _moved(value: Any, m: Mover) -> Any:
    return func.coalesce(func.sum(case((and_(value > m.boundary, value <= m.production_max), 1), else_=0)), 0)


def _best(column: str, tallies: Iterable[tuple[Mover, int, int]], table: str,
          words: str = "") -> tuple[Mover, int, int] | None:
    """Among the tables some moved-id value names, the one most of the values name a row
    of (a reference's values all do; a look-alike's or a wrong table's fall short);
    then the one most moved-id values name; ties go to a table the column's name (or
    the discriminator value, `words`) names, then to any name that reads as a
    reference, then to another table than the column's own."""
    found = [(named, moved, _hint(f"{column} {words}", m.table), m.table != table, m.table, m)
             for m, moved, named in tallies if moved]
    if not found:
        return None
    named, moved, _, _, _, m = max(found, key=lambda f: f[:5])
    return m, moved, named


def _by_discriminator(c: Connection, schema: Schema, t: TableInfo, rows: Any, value: Any,
                      friday: list[ColumnElement[bool]], moving: list[Mover], column: Open,
                      ) -> tuple[str, tuple[Target, ...]] | None:
    """One target per value of a discriminator column (an upload's ``type``: a page's,
    a book's or a user's id), when the evidence names different tables for different
    values; None when one table explains them all."""
    for d in _discriminators(t, column):
        kinds = rows.c[d]
        per: dict[str, list[tuple[Mover, int, int]]] = {}
        for m in moving:
            par = schema[m.table].table.alias("par")
            stmt = (select(kinds, _moved(value, m), func.count()).select_from(rows.join(par, par.c[m.key] == value))
                    .where(*friday, kinds.is_not(None)).group_by(kinds).limit(DISCRIMINATOR_VALUES + 1))
            found = c.execute(stmt).all()
            if len(found) > DISCRIMINATOR_VALUES:
                break
            for kind, moved, named in found:
                per.setdefault(str(kind), []).append((m, int(moved), int(named)))
        else:
            targets = []
            for kind, tallies in sorted(per.items()):
                best = _best(column.column, tallies, t.name, kind)
                if best is not None:
                    targets.append(Target(kind, best[0].table, best[0].key, best[2], best[1]))
            if len({x.parent for x in targets}) > 1:
                return d, tuple(targets)
    return None


DISCRIMINATOR_VALUES = 20   # a column with more values among Friday's rows is not a discriminator
DISCRIMINATOR_NAMES = ("type", "kind", "category", "model", "class")


def _discriminators(t: TableInfo, column: Open) -> list[str]:
    """The columns of `t` that may choose `column`'s target table: the operator's, or
    short text columns named as a kind (``type``, ``*_type``, ``kind``)."""
    if column.discriminator is not None:
        return [column.discriminator]
    return [c.name for c in t.table.columns
            if c.name != column.column and isinstance(c.type, String) and (c.type.length or 256) <= 255
            and any(c.name == n or c.name.endswith("_" + n) for n in DISCRIMINATOR_NAMES)]


def _hint(words: str, table: str) -> int:
    """2 when `words` (a column's name, a discriminator's value) name `table`
    (``cover_book``: books), 1 when they read as an id of some row (``created_by``)."""
    if inflection.singularize(table) in words:
        return 2
    return 1 if any(h in words for h in NAME_HINTS) else 0


def by_number(c: Connection, graph: ReferenceGraph, t: TableInfo, boundary: int,
              numbers: Sequence[tuple[str, tuple[str, ...]]], confirmed: frozenset[str]) -> Iterator[IdColumn]:
    """`t`'s self-references implied by naming alone (a reply's ``parent_id``) whose
    Friday values name a row of the same parent by its number within it (`numbers`:
    column, parent) at least as often as by its id: proposed as naming by that number."""
    rows, other = t.table.alias("r"), t.table.alias("o")
    key = t.primary_key[0]
    for e in graph.edges_from(t.name):
        if e.kind != "implied" or not e.is_self or e.id in confirmed or len(e.columns) != 1:
            continue
        value = rows.c[e.columns[0]]
        for number, within in numbers:
            same = [other.c[w] == rows.c[w] for w in within]
            friday = [rows.c[key] > boundary, value.is_not(None)]
            total, as_number, as_id = c.execute(select(
                func.count(),
                func.coalesce(func.sum(case((exists().where(*same, other.c[number] == value), 1), else_=0)), 0),
                func.coalesce(func.sum(case((exists().where(*same, other.c[key] == value), 1), else_=0)), 0),
            ).where(*friday)).one()
            if as_number and as_number >= as_id:
                yield IdColumn(t.name, e.columns[0], t.name, number, int(total), int(as_number), int(as_id),
                               implied=e.id, within=within, names_number=number)
                break


PAIRS_READ = 5000   # Friday's pairs looked up in production, for the evidence of a key


def key_evidence(c: Connection, p: Connection, graph: ReferenceGraph, t: TableInfo, boundary: int,
                 boundaries: Mapping[str, int | None], said: frozenset[str]) -> Iterator[IdColumn]:
    """Pairs of `t`'s references (a counter's user and item) that no row of crashed or
    production repeats, though each repeats alone, and that a Friday row holds as a
    production row does (both naming rows from before the snapshot, so the same rows on
    both sides): proposed as a key the application keeps. A pivot keyed by its
    references collides on its key already; a pair the operator has spoken of is not asked."""
    if t.key_kind != KeyKind.SURROGATE:
        return
    edges = {e.columns[0]: e for e in graph.edges_from(t.name)
             if len(e.columns) == 1 and e.type_column is None and not e.is_self}
    declared = [set(k) for k in t.unique_keys]
    key = t.table.c[t.primary_key[0]]
    for a, b in itertools.combinations(sorted(edges), 2):
        if f"{t.name}({a},{b})" in said or any(k <= {a, b} for k in declared):
            continue
        cols = [t.table.c[a], t.table.c[b]]
        early = [col <= boundaries[edges[n].parent] for n, col in zip((a, b), cols)
                 if boundaries.get(edges[n].parent) is not None]
        # Friday's pairs production holds first (Friday's rows only, by the key's range):
        # only then the whole tables' counts, which most pairs never reach.
        pairs = [tuple(r) for r in c.execute(select(*cols).where(
            key > boundary, *(col.is_not(None) for col in cols), *early).limit(PAIRS_READ))]
        shared = {tuple(r) for r in rowio.fetch_keys(p, t, (a, b), pairs, select_cols=(a, b))}
        if (not shared or _repeats(c, cols) or _repeats(p, cols) or not _repeats(c, cols[:1])
                or not _repeats(c, cols[1:])):
            continue
        yield IdColumn(t.name, f"{a},{b}", t.name, t.primary_key[0], len(pairs),
                       sum(1 for pair in pairs if pair in shared), 0, unique=(a, b))
