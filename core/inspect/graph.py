"""The reference graph: every edge along which a row id can travel between tables.

Edges come from four places, each listed with its evidence so the operator can confirm
or drop it:

- declared foreign keys;
- foreign keys implied by Laravel's naming (``user_id`` → ``users.id``), with plurals
  from the `inflection` library and ``parent_id`` read as a self-reference;
- polymorphic pairs ``X_type``/``X_id`` (``App\\Models\\Post`` or a morph-map alias),
  one edge per type value, since each value points into a different table;
- extra edges the operator adds in the decisions file.

Cycles are the strongly connected components of the table graph; the write order is
the topological order of their condensation (parents first), so a cycle's tables are
written together once all their ids are allocated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from graphlib import TopologicalSorter
from typing import Any, Iterable, Mapping

import inflection
from sqlalchemy import Connection, and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from ..databases.dialects.base import ID_DIGITS
from ..databases.schema import Schema, TableInfo
from ..errors import ReferenceError_
from ..laravel.morph_map import Alias
from ..plan.decisions import Decisions


@dataclass(frozen=True)
class Edge:
    """`child.columns` hold values of `parent.parent_columns`.

    For a polymorphic edge, or one the operator added for one value of a discriminator
    column (``images.uploaded_to[type=gallery]->pages.id``), only the child rows whose
    `type_column` equals `type_value` point into `parent`.
    """

    child: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    kind: str  # "declared" | "implied" | "polymorphic" | "added"
    evidence: str
    type_column: str | None = None
    type_value: str | None = None

    @cached_property
    def id(self) -> str:
        morph = "" if self.type_value is None else (
            f"[{self.type_value}]" if self.kind == "polymorphic" else f"[{self.type_column}={self.type_value}]")
        return f"{self.child}.{','.join(self.columns)}{morph}->{self.parent}.{','.join(self.parent_columns)}"

    @property
    def is_self(self) -> bool:
        return self.child == self.parent

    def describe_kind(self) -> str:
        return "self" if self.is_self else self.kind

    def type_filter(self, table: Any) -> list[ColumnElement[bool]]:
        """The SQL condition picking, in `table` (the child or an alias of it), the rows
        this edge covers: ``type_column = type_value`` when polymorphic, none otherwise."""
        return [table.c[self.type_column] == self.type_value] if self.type_column else []

    def covers(self, type_value: Any) -> bool:
        """Whether a child row whose type column holds `type_value` points along this edge
        (compared as text: a discriminator may be an integer column)."""
        return self.type_column is None or (type_value is not None and str(type_value) == self.type_value)


@dataclass(frozen=True)
class ReferenceGraph:
    edges: tuple[Edge, ...]
    cycles: tuple[tuple[str, ...], ...]          # SCCs with more than one table
    order: tuple[str, ...]                       # write order, parents first
    pivots: tuple[str, ...]                      # tables whose key is made of references
    unmatched: tuple[str, ...] = ()              # "*_id" columns that point nowhere we know
    dropped: tuple[str, ...] = ()                # edge ids the operator dropped
    components: Mapping[str, int] = field(default_factory=dict)  # table -> SCC index

    def edges_from(self, child: str) -> list[Edge]:
        return [e for e in self.edges if e.child == child]

    def edges_to(self, parent: str) -> list[Edge]:
        return [e for e in self.edges if e.parent == parent]


@dataclass(frozen=True)
class GraphDecisions:
    """What the operator said about edges (from the decisions file)."""

    dropped: frozenset[str] = frozenset()
    added: tuple[str, ...] = ()                  # "child.col->parent.col"
    morph_map: Mapping[str, str] = field(default_factory=dict)  # type value -> table (or a model's class)
    morph_sources: Mapping[str, str] = field(default_factory=dict)  # type value -> where its mapping came from
    # "table.column"s that hold numbers within a parent (`ScopedNumber`), not ids: no edge is implied on them.
    numbers: frozenset[str] = frozenset()


def held_id(value: Any) -> Any:
    """The id a reference value names: a string spelling an integer exactly ('42'; not
    '0', '042', ' 42' or a UUID) is that integer, as a polymorphic id or a ``*_id`` column
    declared as a string holds it; any other value as it is."""
    if (isinstance(value, str) and value.isascii() and value.isdigit() and value[0] != "0"
            and len(value) <= ID_DIGITS):   # as the server reads it (`Dialect.held_id`)
        return int(value)
    return value


def as_held(new: Any, old: Any) -> Any:
    """The id `new` spelled as the value it replaces was: a string column gets a string."""
    return str(new) if isinstance(old, str) else new


def graph_decisions(decisions: Decisions, app_aliases: Iterable[Alias] = ()) -> GraphDecisions:
    """The operator's word on edges (`decisions`), over the app's own morph map (`morph_map`)."""
    aliases = list(app_aliases)
    morphs = {a.alias: a.model for a in aliases} | dict(decisions.morph_map)
    sources = {a.alias: f"the app's morph map, {a.where}" for a in aliases if a.alias not in decisions.morph_map}
    numbers = frozenset(f"{n.table}.{c}" for n in decisions.scoped_numbers() for c in n.columns)
    return GraphDecisions(dropped=frozenset(decisions.drop_edges), added=tuple(decisions.add_edges), morph_map=morphs,
                          morph_sources=sources, numbers=numbers)


def build_graph(schema: Schema, sources: Iterable[Connection], decisions: GraphDecisions = GraphDecisions()) -> ReferenceGraph:
    """All edges of `schema`, with polymorphic type values read from every connection in `sources`."""
    sources = list(sources)
    edges: list[Edge] = []
    unmatched: list[str] = []
    for table in schema.tables.values():
        edges.extend(_declared(table, schema))
        morph_pairs = _morph_pairs(table)
        covered = {c for e in edges if e.child == table.name for c in e.columns}
        covered |= {f"{stem}_id" for stem in morph_pairs}
        for col in table.column_names:
            if col.endswith("_id") and col not in covered and f"{table.name}.{col}" not in decisions.numbers:
                edge = _implied(table, col, schema, sources)
                if edge is None:
                    unmatched.append(f"{table.name}.{col}")
                else:
                    edges.append(edge)
        for stem in morph_pairs:
            edges.extend(_polymorphic(table, stem, schema, sources, decisions.morph_map, decisions.morph_sources))
    edges.extend(_added(decisions.added, schema))
    dropped = tuple(sorted(e.id for e in edges if e.id in decisions.dropped))
    edges = [e for e in edges if e.id not in decisions.dropped]
    edges = _dedupe(edges)
    components, cycles, order = _order(schema, edges)
    return ReferenceGraph(
        edges=tuple(edges),
        cycles=cycles,
        order=order,
        pivots=tuple(sorted(_pivots(schema, edges))),
        unmatched=tuple(sorted(set(unmatched))),
        dropped=dropped,
        components=components,
    )


def _declared(table: TableInfo, schema: Schema) -> Iterable[Edge]:
    for fk in table.foreign_keys:
        if fk.ref_table not in schema:
            continue
        yield Edge(table.name, fk.columns, fk.ref_table, fk.ref_columns, "declared", f"declared foreign key {fk.name or ''}".strip())


def _implied(table: TableInfo, col: str, schema: Schema, sources: list[Connection]) -> Edge | None:
    """``user_id`` → users; a qualified name by its last words when the whole names no
    table: ``current_team_id`` (Jetstream's users) → teams, ``solution_reply_id`` → replies."""
    stem = col[: -len("_id")]
    words = stem.split("_")
    for i in range(len(words)):
        edge = _implied_by(table, col, "_".join(words[i:]), schema, sources)
        if edge is not None:
            return edge
    return None


def _implied_by(table: TableInfo, col: str, stem: str, schema: Schema, sources: list[Connection]) -> Edge | None:
    candidates = [inflection.pluralize(stem), stem]
    if stem == "parent":
        candidates.append(table.name)
    for name in candidates:
        parent = schema.tables.get(name)
        if parent is None or len(parent.primary_key) != 1:
            continue
        pk_col = parent.column(parent.primary_key[0])
        child_col = table.column(col)
        if pk_col is None or child_col is None:
            continue
        held = ""
        if pk_col.affinity != child_col.affinity:
            read = _ids_in_strings(table, col, sources) if (pk_col.affinity, child_col.affinity) == (
                "Integer", "String") else 0
            if not read:
                continue
            held = f"; a string column, its {read} values read all integers"
        named = f"'{col}'" if col == f"{stem}_id" else f"'{col}' ends in '{stem}_id'"
        why = f"self-reference by convention ('{col}' in {table.name})" if name == table.name and stem == "parent" else (
            f"naming: {named} → table '{name}'" + (f" (plural of '{stem}')" if name != stem else "")
        )
        return Edge(table.name, (col,), name, parent.primary_key, "implied", why + held)
    return None


IDS_READ = 1000   # values of a string ``*_id`` column read to tell whether it holds integer ids


def _ids_in_strings(table: TableInfo, col: str, sources: list[Connection]) -> int:
    """How many values of the string column `col` were read, when every one spells an
    integer id (`held_id`) on every source: then it holds references; else 0."""
    column = table.table.c[col]
    read = 0
    for conn in sources:
        values = conn.execute(select(column).where(column.is_not(None)).limit(IDS_READ)).scalars().all()
        if not all(isinstance(held_id(v), int) for v in values):
            return 0
        read += len(values)
    return read


def _morph_pairs(table: TableInfo) -> list[str]:
    names = set(table.column_names)
    return sorted(c[: -len("_type")] for c in names if c.endswith("_type") and c[: -len("_type")] + "_id" in names)


def morph_table(value: str, schema: Schema, morph_map: Mapping[str, str]) -> str | None:
    """The table a polymorphic type value points into, or None when it cannot be told.

    `App\\Models\\Post` and `App\\Post` → `posts` (Laravel's own convention: the model's
    class basename, snake-cased and pluralised); an alias such as `post` → `posts`.
    """
    if value in morph_map:
        target = morph_map[value]
        return target if target in schema or "\\" not in target else morph_table(target, schema, {})
    base = value.rsplit("\\", 1)[-1]
    for name in (inflection.tableize(base), inflection.underscore(base), base):
        if name in schema:
            return name
    return None


def _polymorphic(
    table: TableInfo, stem: str, schema: Schema, sources: list[Connection], morph_map: Mapping[str, str],
    morph_sources: Mapping[str, str] = {},
) -> Iterable[Edge]:
    type_col, id_col = f"{stem}_type", f"{stem}_id"
    values: set[str] = set()
    for conn in sources:
        column = table.table.c[type_col]
        values.update(v for v in conn.execute(select(column).distinct().where(column.is_not(None))).scalars() if v is not None)
    for value in sorted(values):
        parent_name = morph_table(value, schema, morph_map)
        if parent_name is None or parent_name not in schema:
            raise ReferenceError_(
                f"{table.name}.{type_col} holds {value!r}, which names no table: map it in the decisions file "
                f'("morph_map": {{"{value}": "<table>"}})'
            )
        parent = schema[parent_name]
        how = morph_sources.get(value) or (
            "morph map" if value in morph_map else "class name" if "\\" in value else "alias")
        yield Edge(
            table.name, (id_col,), parent_name, parent.primary_key, "polymorphic",
            f"{type_col} = {value!r} → {parent_name} ({how})", type_column=type_col, type_value=value,
        )


def column_spec(spec: str) -> tuple[str, str, str | None, str | None]:
    """``table.column`` or ``table.column[discriminator=value]`` as (table, column,
    discriminator, value); ValueError when it is neither."""
    spec = spec.strip()
    discriminator = value = None
    if spec.endswith("]") and "[" in spec:
        spec, _, cond = spec[:-1].partition("[")
        discriminator, eq, value = cond.partition("=")
        if not eq or not discriminator.strip():
            raise ValueError(spec)
        discriminator, value = discriminator.strip(), value.strip()
    table, _, column = spec.partition(".")
    if not table or not column:
        raise ValueError(spec)
    return table, column, discriminator, value


def _added(specs: Iterable[str], schema: Schema) -> Iterable[Edge]:
    for spec in specs:
        try:
            left, right = spec.split("->")
            child, cols, type_column, type_value = column_spec(left)
            parent, pcols = right.strip().split(".", 1)
        except ValueError:
            raise ReferenceError_(f"edge {spec!r} in the decisions file: write it as child.column->parent.column "
                                  "(or child.column[discriminator=value]->parent.column)") from None
        if child not in schema or parent not in schema:
            raise ReferenceError_(f"edge {spec!r}: no table {child if child not in schema else parent}: fix the decisions file")
        if type_column is not None and type_column not in schema[child].column_names:
            raise ReferenceError_(f"edge {spec!r}: {child} has no column {type_column}: fix the decisions file")
        why = "added by the operator" + (f" for {type_column} = {type_value!r}" if type_column else "")
        yield Edge(child, tuple(cols.split(",")), parent, tuple(pcols.split(",")), "added", why,
                   type_column=type_column, type_value=type_value)


def _dedupe(edges: list[Edge]) -> list[Edge]:
    seen: dict[tuple[str, tuple[str, ...], str | None, str | None], Edge] = {}
    for e in edges:
        seen.setdefault((e.child, e.columns, e.type_column, e.type_value), e)
    return list(seen.values())


def _pivots(schema: Schema, edges: list[Edge]) -> Iterable[str]:
    for table in schema.tables.values():
        if len(table.identity) < 2:
            continue
        ref_cols = {c for e in edges if e.child == table.name for c in e.columns}
        key_refs = [c for c in table.identity if c in ref_cols]
        if len(key_refs) >= 2:
            yield table.name


def strongly_connected(nodes: Iterable[str], succ: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (schemas can be deep), deterministic by sorted input."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(succ.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                result.append(sorted(comp))
    return result


def _order(schema: Schema, edges: list[Edge]) -> tuple[dict[str, int], tuple[tuple[str, ...], ...], tuple[str, ...]]:
    succ: dict[str, set[str]] = {name: set() for name in schema.tables}
    for e in edges:
        if not e.is_self:
            succ[e.child].add(e.parent)
    comps = strongly_connected(schema.tables, succ)
    comp_of = {t: i for i, comp in enumerate(comps) for t in comp}
    sorter: TopologicalSorter[int] = TopologicalSorter()
    for i, comp in enumerate(comps):
        sorter.add(i, *sorted({comp_of[p] for t in comp for p in succ[t]} - {i}))
    order: list[str] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda i: comps[i])
        for i in ready:
            order.extend(comps[i])
        sorter.done(*ready)
    cycles = tuple(tuple(c) for c in comps if len(c) > 1)
    return comp_of, cycles, tuple(order)


def edge_counts(conn: Connection, schema: Schema, edge: Edge) -> tuple[int, int]:
    """(non-null references, references whose parent is missing) in one database: evidence."""
    child = schema[edge.child].table
    parent = schema[edge.parent].table.alias("p")
    cols = [child.c[c] for c in edge.columns]
    cond = and_(*(c.is_not(None) for c in cols))
    cond = and_(cond, *edge.type_filter(child))
    total = conn.execute(select(func.count()).select_from(child).where(cond)).scalar_one()
    join_on = and_(*(cc == parent.c[pc] for cc, pc in zip(cols, edge.parent_columns)))
    missing = conn.execute(
        select(func.count()).select_from(child.outerjoin(parent, join_on)).where(cond, parent.c[edge.parent_columns[0]].is_(None))
    ).scalar_one()
    return int(total), int(missing)
