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
from typing import Any, Iterable, Mapping, Sequence

import inflection
from sqlalchemy import Connection, Integer, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..databases.schema import Schema, TableInfo
from ..errors import ReferenceError_
from ..plan.decisions import Decisions, ScopedNumber
from ..plan.model import IdColumn, Plan, RowClass, Target
from .graph import ReferenceGraph, column_spec
from .payloads import PayloadEdge

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


def undecided_columns(t: TableInfo, graph: ReferenceGraph, plain: Iterable[str],
                      numbers: Iterable[ScopedNumber] = ()) -> list[Open]:
    """`t`'s integer columns that are neither its key, nor a reference the graph knows,
    nor a plain value by the operator's word: the columns that can carry an id unseen.
    A column decided for some values of a discriminator stays open for the others."""
    edges = graph.edges_from(t.name)
    whole = {c for e in edges if e.type_column is None or e.kind == "polymorphic" for c in e.columns}
    whole |= {e.type_column for e in edges if e.type_column} | set(t.primary_key)
    whole |= {c for n in numbers if n.table == t.name for c in n.columns}
    decided: dict[str, dict[str, set[str]]] = {}
    for e in edges:
        if e.type_column is not None and e.kind != "polymorphic" and e.type_value is not None:
            decided.setdefault(e.columns[0], {}).setdefault(e.type_column, set()).add(e.type_value)
    for spec in plain:
        table, column, d, value = _spec(spec)
        if table != t.name:
            continue
        if d is None:
            whole.add(column)
        elif value is not None:
            decided.setdefault(column, {}).setdefault(d, set()).add(value)
    out = []
    for c in t.table.columns:
        if not isinstance(c.type, Integer) or c.name in whole:
            continue
        by = decided.get(c.name)
        if by:
            d, values = sorted(by.items())[0]
            out.append(Open(c.name, d, tuple(sorted(values))))
        else:
            out.append(Open(c.name))
    return out


def _spec(spec: str) -> tuple[str, str, str | None, str | None]:
    try:
        return column_spec(spec)
    except ValueError:
        return "", "", None, None


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
           plain: Iterable[str], confirmed: Iterable[str] = (), numbers: Iterable[ScopedNumber] = ()) -> list[IdColumn]:
    """The undecided columns of `tables` (integer-keyed, Friday's rows past their
    boundary) whose Friday values name moved ids, read in crashed (`c`): one count per
    column and table that moved ids, so the cost follows the columns, not the rows."""
    plain, confirmed = list(plain), frozenset(confirmed)
    moving = movers(schema, boundaries, production_max)
    out: list[IdColumn] = []
    if not moving:
        return out
    for name in tables:
        t, b = schema[name], boundaries.get(name)
        if t.key_kind != "surrogate" or b is None:
            continue
        for column in undecided_columns(t, graph, plain, numbers):
            found = _column(c, schema, graph, t, b, column, moving)
            if found is not None:
                out.append(found)
        out.extend(_implied(c, schema, graph, t, b, moving, confirmed))
    return out


def _implied(c: Connection, schema: Schema, graph: ReferenceGraph, t: TableInfo, boundary: int,
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


def _column(c: Connection, schema: Schema, graph: ReferenceGraph, t: TableInfo, boundary: int, column: Open,
            moving: list[Mover]) -> IdColumn | None:
    rows = t.table.alias("f")
    value = rows.c[column.column]
    friday = [rows.c[t.primary_key[0]] > boundary, value.is_not(None), value != 0, *column.rows(rows)]
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
    stmt = (select(literal(1)).where(*(col.is_not(None) for col in columns)).group_by(*columns)
            .having(func.count() > 1).limit(1))
    return c.execute(stmt).first() is not None


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


def plan_census(c: Connection, schema: Schema, graph: ReferenceGraph, plan: Plan, tables: Sequence[str],
                decisions: Decisions) -> list[IdColumn]:
    """`census` of the tables of `tables` that hold Friday inserts, with the plan's boundaries."""
    gaps = {g.table: g for g in plan.tables if g.table in schema}
    boundaries = {n: g.boundary.value for n, g in gaps.items()}
    production_max = {n: g.production_max_id for n, g in gaps.items()}
    writing = [n for n in tables if n in gaps and gaps[n].count(RowClass.FRIDAY_INSERT)]
    found = census(c, schema, graph, writing, boundaries, production_max, decisions.plain_columns,
                   decisions.confirm_edges, decisions.scoped_numbers())
    return found + [IdColumn(e["table"], e["column"], e["parent"], schema[e["parent"]].primary_key[0], e["ids"],
                             e["ids_found"], e["moved"], payload=e["id"])
                    for e in plan.payload_edges
                    if not e["confirmed"] and e.get("moved") and e["table"] in tables and e["parent"] in schema]


def rewritten(c: Connection, schema: Schema, plan: Plan, f: IdColumn, limit: int = 3) -> list[str]:
    """A few of Friday's rows (read in crashed, `c`) whose value in `f`'s column names a
    moved id of the proposed table: the rows a decision rewrites, or leaves naming
    production's row. Words for the operator; none for a path inside values."""
    if f.payload is not None or f.table not in schema:
        return []
    t = schema[f.table]
    gaps = {g.table: g for g in plan.tables}
    rows, out = t.table.alias("f"), []
    value, key = rows.c[f.column], rows.c[t.primary_key[0]]
    kinds = [(t_.value, t_.parent) for t_ in f.targets] if f.discriminator else [(None, f.parent)]
    for kind, parent in kinds:
        g, own = gaps.get(parent), gaps.get(f.table)
        if g is None or own is None or g.boundary.value is None or g.production_max_id is None:
            continue
        where = [key > (own.boundary.value or 0), value > g.boundary.value, value <= g.production_max_id]
        if kind is not None and f.discriminator is not None:
            where.append(cast(rows.c[f.discriminator], String) == kind)
        for k, v in c.execute(select(key, value).where(*where).order_by(key).limit(limit)):
            which = f" ({f.discriminator} = {kind})" if kind is not None else ""
            out.append(f"{f.table} {k}: {f.column} = {v}{which}: Friday's {parent} {v}, "
                       f"whose id production's own row holds")
    return out[:limit]


def accept(decisions: Decisions, plan: Plan, found: Sequence[IdColumn]) -> dict[str, str]:
    """Each of `found`'s proposals taken, after the operator read them (`gapmend edges
    --accept-suggestions`, the wizard's step 2): a column's edges added, an inferred
    edge confirmed; each recorded with the evidence shown. Returns edge -> evidence."""
    taken = {edge: f.evidence() for f in found for edge in f.edges}
    inside = {f.payload for f in found if f.payload is not None}
    implied = {f.implied for f in found if f.implied is not None}
    numbers = {f.edges[0]: f for f in found if f.within}
    for f in numbers.values():
        decisions.scoped.setdefault(f"{f.table}.{f.column}", {"within": list(f.within), "named_by": []})
    decisions.add_edges = sorted(set(decisions.add_edges) | (set(taken) - inside - implied - set(numbers)))
    decisions.confirm_edges = sorted(set(decisions.confirm_edges) | implied)
    held = {PayloadEdge.from_dict(d).id for d in decisions.payload_edges}
    decisions.payload_edges += [PayloadEdge.from_dict(e).as_dict() for e in plan.payload_edges
                                if e["id"] in inside and e["id"] not in held]
    decisions.accepted.update(taken)
    return taken


def reject(decisions: Decisions, f: IdColumn) -> str:
    """`f` is not a reference: a column's values are plain, an inferred edge is dropped
    (and its column plain, so the census does not ask again). Returns what was recorded."""
    if f.payload is not None:
        decisions.drop_edges = sorted(set(decisions.drop_edges) | {f.payload})
        return f"dropped {f.payload}"
    column = f"{f.table}.{f.column}"
    decisions.plain_columns = sorted(set(decisions.plain_columns) | {column})
    if f.implied is not None:
        decisions.drop_edges = sorted(set(decisions.drop_edges) | {f.implied})
        return f"dropped {f.implied}; {column} plain"
    return f"{column} plain"


def require_decided(found: Sequence[IdColumn]) -> None:
    """Refuse, in one line, a restore over columns that can carry a moved id undecided:
    copied as they are, those values would name production's rows."""
    if not found:
        return
    shown = "; ".join(f"{f.id} ({f.moved} Friday values name moved {f.parent} ids)" for f in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    first = found[0]
    how = f"`{first.command()}`, " + (f"`--drop '{first.id}'`" if first.inferred else f"`--plain {first.id}`")
    raise ReferenceError_(
        f"undecided columns can carry ids the restore moves: {shown}{more}: read `gapmend edges`, then decide each "
        f"({how}, or `--accept-suggestions`); nothing was written")
