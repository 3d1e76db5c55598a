"""Every integer column that can carry an id, decided before the restore (issue 38).

The reference graph (`graph`) knows the columns a foreign key, Laravel's naming or a
polymorphic pair declares. Real applications hold ids in others too: ``created_by``,
``owned_by``, ``uploaded_to``. A Friday row's value there that names a Friday-only row
production's own rows took the id of would, copied as it is, name production's row. So
each such column of a table the restore writes is looked at in the data:

- how many of Friday's values name a row of each candidate table in crashed, and
- above all how many name a **moved** id: a Friday-only id of that table (past its
  boundary) that production holds too, so the restore gives Friday's row a new one.

A column with no Friday value naming a moved id cannot be left naming the wrong row,
whatever it is: it needs no decision. One that has some is *undecided* until the
operator says it is a reference (``gapmend edges --add``, or ``--accept-suggestions``,
which takes the proposal shown: the table most of its moved-id values name) or a plain
value (``gapmend edges --plain``); the restore refuses while one is undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from sqlalchemy import Connection, Integer, and_, case, func, select

from ..databases.schema import Schema, TableInfo
from ..errors import ReferenceError_
from ..plan.model import IdColumn, Plan, RowClass
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


def undecided_columns(t: TableInfo, graph: ReferenceGraph, plain: Iterable[str]) -> list[str]:
    """`t`'s integer columns that are neither its key, nor a reference the graph knows,
    nor a plain value by the operator's word: the columns that can carry an id unseen."""
    covered = {c for e in graph.edges_from(t.name) for c in e.columns} | set(t.primary_key)
    covered |= {e.type_column for e in graph.edges_from(t.name) if e.type_column}
    said = set(plain)
    return [c.name for c in t.table.columns
            if isinstance(c.type, Integer) and c.name not in covered and f"{t.name}.{c.name}" not in said]


def movers(schema: Schema, boundaries: Mapping[str, int | None], production_max: Mapping[str, int | None]) -> list[Mover]:
    """The integer-keyed tables where production holds ids past the snapshot's: a Friday
    row there with such an id is given a new one."""
    out = []
    for name, t in schema.tables.items():
        b, top = boundaries.get(name), production_max.get(name)
        if t.key_kind == "surrogate" and b is not None and top is not None and top > b:
            out.append(Mover(name, t.primary_key[0], b, top))
    return out


def census(c: Connection, schema: Schema, graph: ReferenceGraph, tables: Sequence[str],
           boundaries: Mapping[str, int | None], production_max: Mapping[str, int | None],
           plain: Iterable[str]) -> list[IdColumn]:
    """The undecided columns of `tables` (integer-keyed, Friday's rows past their
    boundary) whose Friday values name moved ids, read in crashed (`c`): one count per
    column and table that moved ids, so the cost follows the columns, not the rows."""
    plain = list(plain)
    moving = movers(schema, boundaries, production_max)
    out: list[IdColumn] = []
    if not moving:
        return out
    for name in tables:
        t, b = schema[name], boundaries.get(name)
        if t.key_kind != "surrogate" or b is None:
            continue
        for col in undecided_columns(t, graph, plain):
            found = _column(c, schema, t, b, col, moving)
            if found is not None:
                out.append(found)
    return out


def _column(c: Connection, schema: Schema, t: TableInfo, boundary: int, col: str,
            moving: list[Mover]) -> IdColumn | None:
    rows = t.table.alias("f")
    value = rows.c[col]
    friday = [rows.c[t.primary_key[0]] > boundary, value.is_not(None), value != 0]
    best: tuple[int, bool, int, Mover] | None = None
    for m in moving:
        par = schema[m.table].table.alias("par")
        joined = rows.join(par, par.c[m.key] == value)
        moved, named = c.execute(select(
            func.coalesce(func.sum(case((and_(value > m.boundary, value <= m.production_max), 1), else_=0)), 0),
            func.count()).select_from(joined).where(*friday)).one()
        if moved and (best is None or (moved, _hinted(col, m.table), named) > best[:3]):
            best = (int(moved), _hinted(col, m.table), int(named), m)
    if best is None:
        return None
    total = int(c.execute(select(func.count()).select_from(rows).where(*friday)).scalar_one())
    moved, _, named, m = best
    return IdColumn(t.name, col, m.table, m.key, total, named, moved)


def _hinted(column: str, table: str) -> bool:
    """Whether `column`'s name reads as an id of a row (``created_by``), or names `table`."""
    return any(h in column for h in NAME_HINTS) or table.rstrip("s") in column


def plan_census(c: Connection, schema: Schema, graph: ReferenceGraph, plan: Plan, tables: Sequence[str],
                plain: Iterable[str]) -> list[IdColumn]:
    """`census` of the tables of `tables` that hold Friday inserts, with the plan's boundaries."""
    gaps = {g.table: g for g in plan.tables if g.table in schema}
    boundaries = {n: g.boundary.value for n, g in gaps.items()}
    production_max = {n: g.production_max_id for n, g in gaps.items()}
    writing = [n for n in tables if n in gaps and gaps[n].count(RowClass.FRIDAY_INSERT)]
    return census(c, schema, graph, writing, boundaries, production_max, plain)


def require_decided(found: Sequence[IdColumn]) -> None:
    """Refuse, in one line, a restore over columns that can carry a moved id undecided:
    copied as they are, those values would name production's rows."""
    if not found:
        return
    shown = "; ".join(f"{f.id} ({f.moved} Friday values name moved {f.parent} ids)" for f in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    raise ReferenceError_(
        f"undecided columns can carry ids the restore moves: {shown}{more}: read `gapmend edges`, then decide each "
        f"(`gapmend edges --add {found[0].edge}`, `--plain {found[0].id}`, or `--accept-suggestions`); "
        "nothing was written")
