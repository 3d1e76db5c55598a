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
which takes the proposal shown: the table most of its values name, one per value of a
discriminator, or a number within a parent), or a plain value (``gapmend edges
--plain``). So are a reference implied by naming that the data contradicts and a path
of ids inside values that holds moved ids, until confirmed or dropped. The restore
refuses while one is undecided. The figures come from `id_evidence`.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection, Integer, String, cast, select

from ..databases.schema import KeyKind, Schema, TableInfo
from ..errors import ReferenceError_
from ..plan.decisions import Decisions, ScopedNumber
from ..plan.model import IdColumn, Plan, RowClass
from .graph import ReferenceGraph, column_spec
from .id_evidence import Mover, Open, by_number, column_evidence, held, implied, key_evidence
from .payloads import PayloadEdge
from .trio import Trio


def undecided_columns(t: TableInfo, graph: ReferenceGraph, plain: Iterable[str],
                      numbers: Iterable[ScopedNumber] = ()) -> list[Open]:
    """`t`'s columns that can hold an id (`_can_hold_id`) and are neither its key, nor a
    reference the graph knows, nor a plain value by the operator's word: the columns
    that can carry an id unseen.
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
        if not _can_hold_id(c) or c.name in whole:
            continue
        by = decided.get(c.name)
        if by:
            d, values = sorted(by.items())[0]
            out.append(Open(c.name, d, tuple(sorted(values))))
        else:
            out.append(Open(c.name))
    return out


SHORT_TEXT = 64   # a string column this long or shorter can hold an id spelled out ('42')


def _can_hold_id(column: Any) -> bool:
    """An integer column, or a short string one (an id spelled out, as a VARCHAR ``*_id``
    or a settings value holds it). A UUID never needs a decision: the restore keeps every
    UUID key, so none moves."""
    if isinstance(column.type, Integer):
        return True
    return isinstance(column.type, String) and 0 < (column.type.length or 0) <= SHORT_TEXT


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
        if t.key_kind == KeyKind.SURROGATE and b is not None and top is not None and top > b:
            out.append(Mover(name, t.primary_key[0], b, top))
    return out


def plan_census(trio: Trio, plan: Plan, tables: Sequence[str], crashed: Connection,
                production: Connection | None = None) -> list[IdColumn]:
    """What of `tables` the operator must decide before the restore, read in `crashed`
    (with `trio`'s schema, graph and decisions and the plan's boundaries), of the
    integer-keyed tables holding Friday inserts or updates: undecided columns whose
    Friday values name moved ids, implied references the data contradicts or reads as
    numbers within a parent, (given `production`) pairs of references a Friday row holds
    as production's row does; and the plan's paths of ids inside values that hold moved
    ids, unconfirmed. One count per column and table that moved ids: the cost follows
    the columns."""
    assert trio.schema is not None and trio.graph is not None
    schema, graph, decisions = trio.schema, trio.graph, trio.decisions
    gaps = {g.table: g for g in plan.tables if g.table in schema}
    boundaries = {n: g.boundary.value for n, g in gaps.items()}
    moving = movers(schema, boundaries, {n: g.production_max_id for n, g in gaps.items()})
    writing = [n for n in tables if n in gaps and (gaps[n].count(RowClass.FRIDAY_INSERT)
                                                   or gaps[n].count(RowClass.FRIDAY_UPDATE))]
    said = frozenset([*decisions.unique_keys, *decisions.not_unique])
    out: list[IdColumn] = []
    for name in writing:
        t, b = schema[name], boundaries.get(name)
        if t.key_kind != KeyKind.SURROGATE or b is None:
            continue
        if production is not None:   # keys nobody declared matter whether or not ids move
            out.extend(key_evidence(crashed, production, graph, t, b, boundaries, said))
        if moving:
            out += _moved_ids(crashed, schema, graph, t, b, moving, decisions)
    return out + [IdColumn(e.table, e.column, e.parent, schema[e.parent].primary_key[0], e.ids, e.ids_found,
                           e.moved, payload=e.id)
                  for e in plan.payload_edges
                  if not e.confirmed and e.moved and e.table in tables and e.parent in schema]


def _moved_ids(crashed: Connection, schema: Schema, graph: ReferenceGraph, t: TableInfo, boundary: int,
               moving: list[Mover], decisions: Decisions) -> list[IdColumn]:
    """`t`'s undecided columns whose Friday values name moved ids, its replies naming a
    parent's number within a thread, and the implied references the data contradicts."""
    numbers, confirmed = decisions.scoped_numbers(), frozenset(decisions.confirm_edges)
    here: list[IdColumn] = []
    for column in undecided_columns(t, graph, decisions.plain_columns, numbers):
        found = column_evidence(crashed, schema, graph, t, boundary, column, moving)
        if found is not None:
            here.append(found)
    counted = [(n.column, n.within) for n in numbers if n.table == t.name] + [(f.column, f.within)
                                                                            for f in here if f.within]
    replies = list(by_number(crashed, graph, t, boundary, counted, confirmed))
    contradicted = implied(crashed, schema, graph, t, boundary, moving,
                           confirmed | {f.implied for f in replies if f.implied})
    return [*here, *replies, *contradicted]


def rewritten(c: Connection, schema: Schema, plan: Plan, f: IdColumn, limit: int = 3) -> list[str]:
    """A few of Friday's rows (read in crashed, `c`) whose value in `f`'s column names a
    moved id of the proposed table: the rows a decision rewrites, or leaves naming
    production's row. Words for the operator; none for a path inside values or a key."""
    if f.payload is not None or f.unique or f.table not in schema:
        return []
    t = schema[f.table]
    gaps = {g.table: g for g in plan.tables}
    rows, out = t.table.alias("f"), []
    value, key = held(c, rows.c[f.column]), rows.c[t.primary_key[0]]
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
    keys = {f.id for f in found if f.unique}
    decisions.unique_keys = sorted(set(decisions.unique_keys) | keys)
    inside = {f.payload for f in found if f.payload is not None}
    replies = [f for f in found if f.names_number is not None]
    implied = {f.implied for f in found if f.implied is not None and f.names_number is None}
    numbers = {f.edges[0]: f for f in found if f.within and f.names_number is None}
    for f in numbers.values():
        decisions.scoped.setdefault(f"{f.table}.{f.column}", {"within": list(f.within), "named_by": []})
    for f in replies:   # a reply's parent by its number: the implied self-reference goes
        how = decisions.scoped.setdefault(f"{f.table}.{f.names_number}", {"within": list(f.within), "named_by": []})
        how["named_by"] = sorted(set(how.get("named_by", [])) | {f.column})
        if f.implied is not None:
            decisions.drop_edges = sorted(set(decisions.drop_edges) | {f.implied})
    decisions.add_edges = sorted(set(decisions.add_edges) | (set(taken) - inside - implied - set(numbers) - keys
                                                             - {e for f in replies for e in f.edges}))
    decisions.confirm_edges = sorted(set(decisions.confirm_edges) | implied)
    kept = {PayloadEdge.from_dict(d).id for d in decisions.payload_edges}
    decisions.payload_edges += [e.as_decided() for e in plan.payload_edges if e.id in inside and e.id not in kept]
    decisions.accepted.update(taken)
    return taken


def reject(decisions: Decisions, f: IdColumn) -> str:
    """`f` is not a reference: a column's values are plain, an inferred edge is dropped
    (and its column plain, so the census does not ask again). Returns what was recorded."""
    if f.unique:
        decisions.not_unique = sorted(set(decisions.not_unique) | {f.id})
        return f"{f.id} not a key"
    if f.names_number is not None:   # not a number either: its implied reference confirmed
        decisions.confirm_edges = sorted(set(decisions.confirm_edges) | {f.implied or ""} - {""})
        return f"confirmed {f.implied}"
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
    shown = "; ".join(f"{f.id} ({f.named} Friday rows hold a pair production's row holds)" if f.unique else
                      f"{f.id} ({f.moved} Friday values name moved {f.parent} ids)" for f in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    first = found[0]
    how = f"`{first.command()}`, `{first.reject_command()}`"
    raise ReferenceError_(
        f"undecided columns can carry ids the restore moves: {shown}{more}: read `gapmend edges`, then decide each "
        f"({how}, or `--accept-suggestions`); nothing was written")
