"""Check production after a restore, from the journal: exits non-zero on any problem.

What it proves: every row the journal says was inserted is in production exactly once
under its new key; every reference those rows hold (declared, implied, polymorphic)
finds its parent; no old key was restored twice; auto-increment counters lie past every
used id, so the application's next insert cannot collide with a restored row; and every
restored or updated row equals Friday's row in the crashed database, column by column,
its references mapped through the journal (`outcome`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import Connection, Integer, and_, case, func, select

from .. import shown
from ..apply.crashed_address import attached, choose_address
from ..config import Settings
from ..databases import journal, triggers
from ..databases import rows as rowio
from ..databases.dialects import dialect_of
from ..databases.schema import KeyKind, Schema, TableInfo, reflect
from ..inspect import id_evidence
from ..inspect.census import undecided_columns
from ..inspect.graph import Edge, ReferenceGraph, build_graph, graph_decisions, held_id
from ..inspect.payloads import PayloadEdge
from ..inspect.sources import Sources
from ..plan.decisions import ScopedNumber, load_decisions
from .outcome import Sides, check_values


@dataclass
class _Friday:
    """Crashed, to tell a reference value Friday itself left naming no row (a sentinel:
    ``0`` for "none", an id it left dangling) from one the restore broke."""

    conn: Connection
    schema: Schema

    def lacks(self, edge: Edge, values: Iterable[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        """The `values` (one tuple per row, `edge`'s columns) no row of `edge`'s parent
        holds in crashed."""
        wanted = set(values)
        parent = self.schema.tables.get(edge.parent)
        if parent is None or not wanted:
            return set()
        key = edge.parent_columns
        return wanted - {tuple(row) for row in rowio.fetch_keys(self.conn, parent, key, sorted(wanted, key=str),
                                                               select_cols=key)}


def verify(settings: Settings) -> tuple[list[str], dict[str, int]]:
    """(problems, counts checked). Read-only."""
    sources = Sources.open(settings)
    decisions = load_decisions(settings.decisions_path)
    try:
        schema = reflect(sources.production, "production")
        crashed = reflect(sources.crashed, "crashed")
        with sources.production.connect() as p, sources.crashed.connect() as c:
            if not p.dialect.has_table(p, journal.ID_MAP):
                return ["no gapmend journal in production: nothing was restored yet (run gapmend restore)",
                        *triggers.problems(p)], {}
            nothing = _nothing_restored(p)
            if nothing is not None:
                return [nothing, *triggers.problems(p)], {}
            graph = build_graph(schema, [p], graph_decisions(decisions, settings.app_aliases))
            problems, counts = _verify(p, schema, graph, _Friday(c, crashed))
            problems += undeclared_ids(p, schema, graph, decisions.plain_columns, decisions.scoped_numbers())
            problems += doubled_numbers(p, schema, decisions.scoped_numbers())
            problems += doubled_keys(p, schema, decisions.operator_keys())
            problems += triggers.problems(p)
        # The outcome, against Friday's own rows: equal, references mapped (`outcome`).
        confirmed = [PayloadEdge.from_dict(d) for d in decisions.payload_edges]
        address, _ = choose_address(sources.production, sources.crashed, crashed, staged=False)
        in_place = None if address.staged else address   # else every row is compared in gapmend
        with sources.production.connect() as p, sources.crashed.connect() as c, \
                attached(p, in_place) if in_place is not None else contextlib.nullcontext():
            counts["compared"] = 0
            sides = Sides(p, c, schema, crashed, graph, in_place, journal.irregular_tables(p))
            for table in journal.inserted_tables(p, ("inserted", "updated")):
                if table in schema:
                    inside = [e for e in confirmed if e.table == table]
                    counts["compared"] += check_values(sides, table, problems, inside=inside)
        return problems, counts
    finally:
        sources.dispose()


def _nothing_restored(p: Connection) -> str | None:
    """Why there is nothing to verify, when no committed restore's rows are in production:
    none committed (one stopped before its commit wrote nothing), or an undo took the
    last back. A verdict of "verified: 0 rows" would say the restore is fine."""
    if journal.last_writing_run(p) is not None:
        return None
    undone = journal.last_undo(p)
    if undone is None and journal.has_runs(p):
        return None   # a committed run that only linked Friday's rows to production's: verified as such
    if undone is not None:
        at = f" at {undone.finished_at:%Y-%m-%d %H:%M} UTC" if undone.finished_at else ""
        run = undone.summary.split(":")[0].removeprefix("undo of ")[:8]
        return (f"nothing restored to verify: restore {run} was taken back by undo {undone.run_id[:8]}{at}; "
                "restore again if that was not meant")
    return ("nothing restored to verify: no committed restore wrote a row to production (one stopped before "
            "its commit wrote nothing): run gapmend restore")


def _verify(p: Connection, schema: Schema, graph: ReferenceGraph, friday: _Friday) -> tuple[list[str], dict[str, int]]:
    """Table by table, chunk by chunk of the journal: memory stays flat however large the
    restore was."""
    problems = [f"{table}: Friday row {key} was restored {n} times" for table, key, n in journal.repeated(p, "old_key")]
    problems += [f"{table}: new key {key} given to more than one Friday row"
                 for table, key, n in journal.repeated(p, "new_key") if table in schema and schema[table].primary_key]
    counts = {"rows": 0, "references": 0}
    presence = _Presence(p, schema, graph, friday, counts)
    tables = journal.inserted_tables(p)
    for table in tables:
        if table not in schema:
            problems.append(f"{table}: in the journal but not in production")
            continue
        t = schema[table]
        found_problems: list[str] = []
        if _integer_keys(t):
            counts["rows"] += presence.in_server(t, found_problems)
            problems.extend(found_problems[:10])
            continue
        for keys in journal.inserted_keys(p, table, rowio.CHUNK):
            if not t.primary_key:
                counts["rows"] += len(keys)
                continue
            counts["rows"] += presence.chunk(t, keys, found_problems)
            del found_problems[10:]
        problems.extend(found_problems[:10])
    problems.extend(_counters(p, schema, tables))
    return problems, counts


@dataclass
class _Presence:
    """Every restored row present in production, and every reference it holds finding its
    parent (a value Friday itself left naming no row, a sentinel, excepted: `_Friday`)."""

    p: Connection
    schema: Schema
    graph: ReferenceGraph
    friday: _Friday
    counts: dict[str, int]   # rows and references checked, added to

    def chunk(self, t: TableInfo, keys: list[tuple[Any, ...]], problems: list[str]) -> int:
        """Restored rows `keys` of `t` present, and every reference they hold finds its
        parent; returns how many are present."""
        found = [tuple(r) for r in rowio.fetch_keys(self.p, t, t.identity, keys)]
        key_idx = [t.column_names.index(c) for c in t.identity]
        present = {tuple(r[i] for i in key_idx) for r in found}
        problems.extend(_missing(t, k) for k in keys if tuple(k) not in present)
        for edge in self.graph.edges_from(t.name):
            idx = [t.column_names.index(c) for c in edge.columns]
            ti = t.column_names.index(edge.type_column) if edge.type_column else None
            # One column: a string spelling an id read as that id (`held_id`); a composite key as it is.
            read = held_id if len(idx) == 1 else (lambda v: v)
            values = {tuple(read(r[i]) for i in idx) for r in found
                      if all(r[i] is not None for i in idx) and (ti is None or edge.covers(r[ti]))}
            if not values:
                continue
            parent = self.schema[edge.parent]
            have = {tuple(r) for r in rowio.fetch_keys(self.p, parent, edge.parent_columns, sorted(values, key=str),
                                                       select_cols=edge.parent_columns)}
            self.counts["references"] += len(values)
            problems.extend(_dangling(t, edge, v) for v in _broken(edge, sorted(values - have, key=str), self.friday))
        return len(present)

    def in_server(self, t: TableInfo, problems: list[str]) -> int:
        """`chunk` for a table keyed by one or two integers, as joins of the journal with
        the table and its parents inside the database: no key travels. Returns how many
        are present."""
        key = t.identity
        restored = journal.counted_keys(t.name, len(key), ("inserted",))
        new = [restored.c[f"new_{i}"] for i in range(len(key))]
        row = t.table.alias("row")
        at_row = and_(*(row.c[k] == n for k, n in zip(key, new)))
        present = self.p.execute(select(func.count()).select_from(restored.join(row, at_row))).scalar_one()
        missing = self.p.execute(select(*new).select_from(restored.outerjoin(row, at_row))
                                 .where(row.c[key[0]].is_(None)).limit(10))
        problems.extend(_missing(t, tuple(k)) for k in missing)
        for edge in self.graph.edges_from(t.name):
            cols = [row.c[c] for c in edge.columns]
            cond = [*(col.is_not(None) for col in cols), *edge.type_filter(row)]
            named = select(*cols).distinct().select_from(restored.join(row, at_row)).where(*cond).subquery("named")
            par = self.schema[edge.parent].table.alias("par")
            joined = named.outerjoin(par, and_(*(par.c[pc] == col for pc, col in zip(edge.parent_columns, named.c))))
            unheld = par.c[edge.parent_columns[0]].is_(None)
            # One pass counts the values named and those naming no row; these are read only when there are any.
            total, missing_parents = self.p.execute(select(func.count(), func.count(case((unheld, 1))))
                                                    .select_from(joined)).one()
            self.counts["references"] += int(total)
            if missing_parents:
                dangling = [tuple(r) for r in self.p.execute(select(*named.c).select_from(joined).where(unheld).limit(50))]
                problems.extend(_dangling(t, edge, v) for v in _broken(edge, dangling, self.friday)[:10])
        return int(present)


def _integer_keys(t: TableInfo) -> bool:
    """Whether `t`'s restored rows are found by joins in the server (`_Presence.in_server`):
    a key of one or two integers (a pivot's), decoded from the journal in SQL."""
    return bool(t.primary_key) and len(t.identity) <= 2 and all(
        isinstance(t.table.c[k].type, Integer) for k in t.identity)


def undeclared_ids(p: Connection, schema: Schema, graph: ReferenceGraph, plain: Iterable[str],
                   numbers: Iterable[ScopedNumber] = (), cap: int = 10) -> list[str]:
    """Restored rows holding, in a column decided neither reference nor plain value
    (`census.undecided_columns`), a value equal to an id the journal says a Friday row
    of some table was moved from: that value names production's row now, not Friday's.
    Independent of the census the plan made: it reads the rows as the restore left them."""
    m, runs = journal.id_map, journal.runs
    counted = select(m.c.table_name, m.c.old_key, m.c.new_key).join(runs, runs.c.run_id == m.c.run_id).where(
        m.c.new_key.is_not(None), runs.c.status.in_(journal.COUNTING))
    # The rows a run wrote (inserted or updated), and the ids it moved.
    restored = counted.where(m.c.action.in_(("inserted", "updated"))).subquery("restored")
    moved = counted.where(m.c.action == "inserted", m.c.old_key != m.c.new_key).subquery("moved")
    integer_keyed = {name for name, t in schema.tables.items() if t.key_kind == KeyKind.SURROGATE}
    out: list[str] = []
    for table in journal.inserted_tables(p, ("inserted", "updated")):
        t = schema.tables.get(table)
        if t is None or t.key_kind != KeyKind.SURROGATE:
            continue
        row = t.table.alias("row")
        pk = row.c[t.primary_key[0]]
        for open_ in undecided_columns(t, graph, plain, numbers):
            col, value = open_.column, id_evidence.held(p, row.c[open_.column])
            stmt = (select(pk, value, moved.c.table_name, moved.c.new_key)
                    .select_from(restored.join(row, pk == journal.decode_id_sql(restored.c.new_key))
                                 .join(moved, moved.c.old_key == journal.encode_id_sql(value)))
                    .where(restored.c.table_name == table, moved.c.table_name.in_(sorted(integer_keyed)), value.is_not(None),
                           *open_.rows(row))
                    .order_by(pk).limit(cap))
            # One line per row and column, naming every table whose moved id the value equals.
            found: dict[tuple[Any, Any], list[tuple[str, Any]]] = {}
            for key, held, parent, new in p.execute(stmt.order_by(moved.c.table_name)):
                found.setdefault((key, held), []).append((parent, (journal.decode(new) or ("?",))[0]))
            for (key, held), moves in found.items():
                (parent, new), others = moves[0], moves[1:]
                also = "".join(f", or Friday's {o} {held} (production's {n} now)" for o, n in others)
                decide = ("`gapmend edges` says which table the data points to" if others else
                          f"`gapmend edges --add {table}.{col}->{parent}.{schema[parent].primary_key[0]}`")
                out.append(f"{table} {key} {col} = {held}: Friday's {parent} {held} is production's {new} now{also}; "
                           f"{col} is undecided ({decide}, or `--plain {table}.{col}`)")
    return out[:cap * 5]


def doubled_numbers(p: Connection, schema: Schema, numbers: Iterable[ScopedNumber], cap: int = 10) -> list[str]:
    """Numbers within a parent (`ScopedNumber`) that two rows of the same parent hold:
    a reply by that number names either. Whoever wrote them: one grouped count per number."""
    out: list[str] = []
    for n in numbers:
        t = schema.tables.get(n.table)
        if t is None or any(c not in t.column_names for c in (*n.within, n.column)):
            continue
        cols = [t.table.c[c] for c in (*n.within, n.column)]
        for *scope, number, count in rowio.repeated(p, cols, [t.table.c[n.column].is_not(None)], cap):
            within = ", ".join(f"{c} = {shown.value(v)}" for c, v in zip(n.within, scope))
            out.append(f"{n.table}: {count} rows with {within} hold {n.column} {number}: a reference by that "
                       f"number ({', '.join(n.named_by) or 'none declared'}) names either")
    return out


def doubled_keys(p: Connection, schema: Schema, keys: Mapping[str, list[tuple[str, ...]]], cap: int = 10) -> list[str]:
    """Values of a key the operator declared unique (`gapmend edges --unique`) that two
    rows of production hold: the application keeps one. One grouped count per key."""
    out: list[str] = []
    for table, columns in keys.items():
        t = schema.tables.get(table)
        for key in columns:
            if t is None or any(c not in t.column_names for c in key):
                continue
            cols = [t.table.c[c] for c in key]
            for *values, count in rowio.repeated(p, cols, [c.is_not(None) for c in cols], cap):
                out.append(f"{table}: {count} rows hold ({', '.join(key)}) = ({', '.join(shown.value(v) for v in values)}),"
                           " a key the application keeps once")
    return out


def _broken(edge: Edge, dangling: list[tuple[Any, ...]], friday: _Friday) -> list[tuple[Any, ...]]:
    """The `dangling` values that name a row in crashed: the restore broke those. One
    that names no row there either is a sentinel written as Friday had it (the outcome
    check compares it with Friday's value)."""
    sentinels = friday.lacks(edge, dangling)
    return [v for v in dangling if v not in sentinels]


def _missing(t: TableInfo, key: tuple[Any, ...]) -> str:
    return f"{t.name}: restored row {tuple(key)} is missing from production"


def _dangling(t: TableInfo, edge: Edge, values: tuple[Any, ...]) -> str:
    named = ",".join(str(v) for v in values)
    return f"{t.name}: a restored row's {','.join(edge.columns)} = {named} points at no {edge.parent} row ({edge.id})"


def _counters(p: Connection, schema: Schema, tables: list[str]) -> list[str]:
    out = []
    for table in tables:
        t = schema.tables.get(table)
        if t is None or t.key_kind != KeyKind.SURROGATE:
            continue
        top = p.execute(select(func.max(t.table.c[t.primary_key[0]]))).scalar() or 0
        nxt = dialect_of(p).next_id(p, table)
        if nxt is not None and nxt <= int(top):
            out.append(f"{table}: the next id {nxt} is not past the highest id {top}")
    return out
