"""Per-table gap inspection: where the snapshot ends, and what each side did after it.

Read-only on every database. For each table, in the reference graph's order:

1. **Boundary** (tables with one integer key): where the snapshot ends (`boundaries`).
2. **Overlap** (ids up to the boundary, or every key of a table without an integer
   key): only the rows that may differ are read, every side's version of each key
   (`versions`), and classified by the three-way rule of a merge with a base (`classify`).
3. **Past the boundary**: Friday's rows are counted by the server, or read in chunks
   where a caller hears each row; production's are counted.

`inspect_gaps` runs it and returns the inspected `Plan`. What the restore will do with
each Friday row (collisions, orphans) is not decided here but by the restore's own
rules: `apply.preview.build_plan` adds it to make the plan the operator reviews.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, NamedTuple

from sqlalchemy import Connection, select

from ..config import Settings
from ..databases import journal, triggers
from ..databases import rows as rowio
from ..databases.engines import connect
from ..databases.schema import KeyKind, Schema, SchemaFinding, TableInfo, reflect, require_compatible
from ..databases.schema import compare as compare_schemas
from ..errors import PlanError
from ..plan.decisions import Decisions
from ..plan.delta import SOURCES, Delta, LatestWrite, fingerprints, references_of, usable
from ..plan.model import (
    Boundary,
    Conflict,
    Decision,
    FoundPayloadEdge,
    Merge,
    Plan,
    PlanEdge,
    PlanTrigger,
    QueuedJob,
    RoleFinding,
    RowClass,
    TableGap,
)
from ..progress import check_cancel
from . import framework, payloads, php_payloads, roles, soft_deletes
from .boundaries import BoundaryFinder
from .cell_merge import merge_cells
from .classify import Evidence, Row, classify, diff, evidence, key_of
from .findings import SAMPLES, Findings
from .graph import Edge, ReferenceGraph, build_graph, graph_decisions
from .sources import Sources
from .trio import Trio
from .unique import with_operator_keys
from .versions import VersionReader

# (table, class, key, the cell merge of a merged or conflicting row: what the restore writes)
RowSink = Callable[[str, RowClass, tuple[Any, ...], "Merge | None"], None]


class Inspected(NamedTuple):
    """The inspected plan, and the reference graph its tables were read by."""

    plan: Plan
    graph: ReferenceGraph


# --- the entry point ----------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """How a look at the gaps reads, and who hears each row it classifies.

    `on_row`, when given, hears every classified row of `heard` (by default `row_classes`,
    the classes read) as ``(table, class, key, merge)``: the restore and the tests use it
    to see each row's fate, not only the counts. Production's inserts into integer-key
    tables are otherwise only counted; they are read row by row only when `heard` asks for
    them. `joint` False keeps every comparison in gapmend even where one connection sees
    every side (as between servers; tests compare both ways). Tables in `count_only` have
    their Friday inserts counted by the server instead of read (the server-side restore's
    own statements find their collisions and orphans). Rows a committed run restored are
    counted as restored, not as work still to do, when `hide_restored` (by default: when
    no caller hears the rows, as the restore does). A contradiction between the roles and
    their contents (`roles`) is refused unless `check_roles` is False (`gapmend roles`,
    which shows them). With a snapshot, `delta` (when given) is filled with Friday's delta
    and the sources' fingerprints (`plan.delta`), and `known` (a delta the caller checked
    is still true) limits the comparison of crashed with the snapshot to its keys; what
    its plan read of those two databases (their latest writes, that the snapshot is
    crashed's) is not read again.
    """

    on_row: RowSink | None = None
    row_classes: frozenset[RowClass] = frozenset(RowClass)
    heard: frozenset[RowClass] | None = None
    joint: bool = True
    count_only: frozenset[str] = frozenset()
    check_roles: bool = True
    delta: Delta | None = None
    known: Delta | None = None
    hide_restored: bool | None = None

    @classmethod
    def restoring(cls, sink: RowSink, classes: frozenset[RowClass], counted: frozenset[str], known: Delta | None,
                  every_table: bool) -> Reading:
        """The restore's look: `sink` hears the rows of `classes` it writes, the server
        counts the Friday inserts of `counted`, and the roles are checked where it reads
        `every_table` (else the reviewed plan's look at every table holds)."""
        return cls(on_row=sink, row_classes=classes, count_only=counted, check_roles=every_table, known=known)


def inspect_gaps(trio: Trio, reading: Reading = Reading()) -> Inspected:
    """Inspect every table's gap and return the plan (`Reading` says how). Writes nothing
    anywhere. `trio.schema` (crashed's) and `trio.graph` are taken when read already:
    reflecting and reading every type column again costs a scan per table."""
    started = time.monotonic()
    settings, decisions, sources = trio.settings, trio.decisions, trio.sources
    delta = reading.delta
    if delta is not None and sources.snapshot is not None:   # before anything is read
        delta.fingerprints = fingerprints(sources.crashed, sources.snapshot)
        delta.trusting = settings.trust_updated_at
    trio.progress.start("reflecting schemas", None)
    schema, findings = _reflect_sides(sources, decisions, trio.schema, snapshot_checked=reading.known is not None)
    snapshot = connect(sources.snapshot, "snapshot") if sources.snapshot is not None else contextlib.nullcontext()
    with connect(sources.crashed, "crashed") as c_conn, connect(sources.production, "production") as p_conn, \
            snapshot as s_conn:
        facts = {role: roles.read_facts(role, conn, schema, _known_latest(reading.known, role))
                 for role, conn in (("production", p_conn), ("crashed", c_conn), ("snapshot", s_conn))
                 if conn is not None}
        if delta is not None:
            delta.latest_writes = {r: (facts[r].latest_write, facts[r].latest_at) for r in SOURCES if r in facts}
        found = roles.check_facts(facts)
        _settle(reading, found)   # before the gap is read: a snapshot newer than the crash is no snapshot
        graph = trio.graph or build_graph(schema, [c_conn, p_conn], graph_decisions(decisions, settings.app_aliases))
        gaps = _Inspector(trio.knowing(schema, graph), reading, c_conn, p_conn, s_conn).run()
        moving = {g.table: (g.boundary.value, g.production_max_id) for g in gaps
                  if g.boundary.value is not None and g.production_max_id is not None}
        skipped = {t for t, d in decisions.tables.items() if d == Decision.SKIP.value}
        found += roles.check_friday_rows(c_conn, p_conn, schema, graph, gaps, skipped)
        _settle(reading, found)
        payload_edges = payload_candidates(c_conn, schema, decisions, settings, moving)
        jobs = queued_jobs(c_conn, schema, gaps)
        trigger_list = _triggers(p_conn, [g.table for g in gaps if g.has_work])
        journaled = journal.has_runs(p_conn)
        plan = Plan(
            tables=gaps,
            order=list(graph.order),
            cycles=[list(c) for c in graph.cycles],
            edges=[_edge_entry(e, decisions) for e in graph.edges],
            schema_findings=[f.line() for f in findings],
            unmatched_columns=list(graph.unmatched),
            mode=_mode(settings, sources),
            created_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            connections=settings.masked(),
            identities=dict(sources.identities),
            elapsed_s=round(time.monotonic() - started, 3),
            triggers=trigger_list,
            roles=list(facts.values()),
            payload_edges=payload_edges,
            queued_jobs=jobs,
        )
    if delta is not None and sources.snapshot is not None:   # what a restore of this plan must read (`apply.scope`)
        delta.references = references_of(schema.tables, plan.edges, plan.payload_edges)
    if not journaled:   # after a restore production holds Friday's changes by gapmend's own doing
        found += roles.check_plan(plan, facts)
    _settle(reading, found)
    return Inspected(dataclasses.replace(plan, role_findings=found), graph)


def _settle(reading: Reading, found: list[RoleFinding]) -> None:
    """A contradiction between the roles and their contents refused (unless `reading`
    does not check the roles: `gapmend roles`, which shows them)."""
    if reading.check_roles:
        roles.require_settled([f for f in found if f.kind == roles.REFUSE], [])


def _reflect_sides(sources: Sources, decisions: Decisions, crashed: Schema | None,
                   snapshot_checked: bool = False) -> tuple[Schema, list[SchemaFinding]]:
    """Crashed's schema (the one every table is read by) and how production's differs;
    refused when they cannot be compared, the snapshot is not crashed's (unless
    `snapshot_checked`: a plan found it was, and neither has changed since), or an
    override names a table crashed does not have."""
    crashed_schema = crashed or with_operator_keys(reflect(sources.crashed, "crashed"), decisions)
    production_schema = reflect(sources.production, "production",
                                only=crashed_schema.tables if crashed_schema.partial else None)
    findings = compare_schemas(crashed_schema, production_schema)
    require_compatible(findings)   # first: a migration only one side ran is the likelier story
    if sources.snapshot is not None and not snapshot_checked:
        snap_schema = reflect(sources.snapshot, "snapshot")
        snap_findings = [f for f in compare_schemas(crashed_schema, snap_schema, "crashed", "snapshot") if f.blocking]
        if snap_findings:
            raise PlanError(
                f"the snapshot does not match the crashed database ({snap_findings[0].table}: {snap_findings[0].what}): "
                "load the right snapshot or drop GAPMEND_SNAPSHOT_URL"
            )
    for table in decisions.boundaries:
        if table not in crashed_schema:
            raise PlanError(f"boundary override for unknown table {table!r}: fix the decisions file")
    return crashed_schema, findings


def _known_latest(known: Delta | None, role: str) -> LatestWrite | None:
    """A source's latest write as the plan of `known` read it (None: read it now)."""
    return known.latest_writes.get(role) if known is not None and role in SOURCES else None


def _triggers(conn: Connection, written: list[str]) -> list[PlanTrigger]:
    """Production's triggers on the tables the restore would write, and what it does with them."""
    return [PlanTrigger(t.name, t.table, t.timing, t.event, t.writes, triggers.ACTION)
            for t in triggers.on_tables(conn, written)]


def _edge_entry(e: Edge, decisions: Decisions) -> PlanEdge:
    return PlanEdge(e.id, e.child, list(e.columns), e.parent, list(e.parent_columns), e.describe_kind(), e.evidence,
                    e.kind == "declared" or e.id in decisions.confirm_edges)


def _mode(settings: Settings, sources: Sources) -> str:
    mode = "three-way (snapshot)" if sources.snapshot is not None else (
        "snapshot time" if settings.snapshot_at is not None else "content")
    return mode + (", rows changed since by updated_at" if settings.trust_updated_at else "")


JOBS_SHOWN = 50


def queued_jobs(conn: Connection, schema: Schema, gaps: list[TableGap]) -> list[QueuedJob]:
    """Friday's queued jobs (rows past the boundary of a table shaped like Laravel's
    ``jobs``), the first `JOBS_SHOWN` of each table: what each would do if replayed."""
    out: list[QueuedJob] = []
    for g in gaps:
        t = schema[g.table]
        if not {"queue", "payload"} <= set(t.column_names) or g.key_kind != KeyKind.SURROGATE or not g.count(
                RowClass.FRIDAY_INSERT):
            continue
        key, when = t.table.c[t.primary_key[0]], t.table.c.get("available_at")
        cols = [key, t.table.c["payload"], *([when] if when is not None else [])]
        for row in conn.execute(select(*cols).where(key > (g.boundary.value or 0)).order_by(key).limit(JOBS_SHOWN)):
            described = php_payloads.describe_job(row[1])
            at = row[2] if len(row) > 2 else None
            out.append(QueuedJob(g.table, row[0], described[0] if described else "(not a Laravel job)",
                                 described[1] if described else [],
                                 datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                                 if isinstance(at, int) else at))
    return out


def payload_candidates(conn: Connection, schema: Schema, decisions: Decisions, settings: Settings,
                       moving: Mapping[str, tuple[int, int]] | None = None) -> list[FoundPayloadEdge]:
    """The paths of ids inside crashed's JSON values, with the operator's word on each,
    and (given `moving`: table -> its boundary and production's highest id) how many of
    their sampled ids are Friday-only ids the restore moves: left unconfirmed, those
    would name production's rows (`census`)."""
    confirmed = {payloads.PayloadEdge.from_dict(d).id for d in decisions.payload_edges}
    out = []
    for c in payloads.find(conn, schema, graph_decisions(decisions, settings.app_aliases).morph_map, settings.app_guards):
        if c.edge.id in decisions.drop_edges:
            continue
        low, high = (moving or {}).get(c.edge.parent, (0, 0))
        out.append(FoundPayloadEdge(**c.edge.as_dict(), evidence=c.evidence, sampled=c.values, ids=len(c.ids),
                                    ids_found=c.parents, confirmed=c.edge.id in confirmed,
                                    moved=sum(1 for i in c.ids if low < i <= high)))
    return out


@dataclass
class _Inspector:
    """One look at every table's gap, on open connections to the three databases."""

    trio: Trio               # with crashed's schema and its reference graph
    reading: Reading
    crashed: Connection
    production: Connection
    snapshot: Connection | None
    boundaries: dict[str, Boundary] = field(default_factory=dict)
    maxima: dict[str, tuple[int, int]] = field(default_factory=dict)   # (crashed, production) highest ids
    # Per integer-keyed table, rows past its boundary: production's, and (for `count_only`
    # tables) crashed's and how many of those have an id production holds too.
    past: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.trio.schema is not None and self.trio.graph is not None
        self.schema, self.graph = self.trio.schema, self.trio.graph
        self.settings, self.decisions = self.trio.settings, self.trio.decisions
        self.progress, self.cancel = self.trio.progress, self.trio.cancel
        reading = self.reading
        self.heard = reading.row_classes if reading.heard is None else reading.heard   # the classes `on_row` hears
        # A plan to read (not the restore's own): rows a committed run restored are counted
        # as restored, not as work still to do (`journal`).
        self.hide_restored = reading.on_row is None if reading.hide_restored is None else reading.hide_restored
        self.delta = reading.delta if self.snapshot is not None else None   # filled with Friday's delta (`plan.delta`)

    def run(self) -> list[TableGap]:
        tables = [self.schema[name] for name in self.graph.order]
        # Asked once, not per table: without a committed run nothing was restored yet.
        self.hide_restored = self.hide_restored and journal.has_runs(self.production)
        known = self.reading.known
        finder = BoundaryFinder(self.schema, self.graph, self.crashed, self.production, self.snapshot,
                                self.settings.snapshot_at, self.decisions,
                                known=known.highest if known is not None else {})
        self.boundaries = finder.find_all(tables, self.progress, self.cancel)
        self.maxima = finder.maxima
        if self.delta is not None:
            self.delta.highest = {"crashed": finder.highest("c"), "snapshot": finder.highest("s")}
        self.past = self._count_past(tables)
        valid = None if known is None else known.valid_keys({n: b.value for n, b in self.boundaries.items()})
        reader = VersionReader(self.schema, self.graph, self.trio.sources, self.crashed, self.production, self.snapshot,
                               self.boundaries, self.settings.snapshot_at, self.reading.row_classes,
                               self.settings.trust_updated_at, self.cancel, valid)
        gaps = []
        self.progress.start("inspecting tables", len(tables))
        with reader.opened(self.reading.joint):
            for t in tables:
                check_cancel(self.cancel)
                gaps.append(self._inspect(t, reader))
                self.progress.note(f"{t.name}: inspected")
                self.progress.advance(1)
        return gaps

    def _count_past(self, tables: list[TableInfo]) -> dict[str, tuple[int, int, int]]:
        """Rows past each boundary, counted a hundred tables per statement (an app has
        60-200 tables, most with nothing past it): production's, and the Friday inserts
        of tables whose rows the restore copies on the server (it finds their collisions
        and orphans itself; no row is read) with how many take an id production holds."""
        integer_keyed = [t for t in tables if t.key_kind == KeyKind.SURROGATE]
        bounds = {t.name: int(self.boundaries[t.name].value or 0) for t in integer_keyed}
        produced = rowio.counts_past(self.production, integer_keyed, bounds)
        counted = [t for t in integer_keyed if t.name in self.reading.count_only and self.maxima[t.name][0] > bounds[t.name]]
        friday = rowio.counts_past(self.crashed, counted, bounds)
        taken = rowio.counts_past(self.crashed, counted, bounds, upto={n: p for n, (_, p) in self.maxima.items()})
        return {t.name: (produced[t.name], friday.get(t.name, 0), taken.get(t.name, 0)) for t in integer_keyed}

    # -- per table --

    def _inspect(self, t: TableInfo, reader: VersionReader) -> TableGap:
        acc = Findings()
        if self.delta is not None and usable(t):
            self.delta.cover(t.name, self.boundaries[t.name].value)
        done, written = self._restored(t)
        acc.restored_keys, acc.written_keys = done, written
        ev = evidence(t, self.graph.edges_from(t.name), self.boundaries, self.snapshot is not None, self.settings.snapshot_at,
                      self.settings.stamp_columns)
        boundary = self.boundaries[t.name]
        key_idx = [t.column_names.index(c) for c in t.identity]
        p_max = c_max = None
        if t.key_kind == KeyKind.SURROGATE:
            assert boundary.value is not None
            b = boundary.value
            keycol = t.table.c[t.primary_key[0]]
            c_max, p_max = self.maxima[t.name]   # read by the boundary's search, just before
            for s_row, c_row, p_row in reader.overlap(t, b):
                self._record(t, ev, acc, key_idx, s_row, c_row, p_row, in_snapshot=True)
            friday_past = c_max > b   # crashed holds rows past the boundary (and never changes)
            n_prod, n_friday, n_taken = self.past[t.name]
            if t.name in self.reading.count_only and not done:   # rows a committed run restored are told apart by reading
                if friday_past:
                    self._count_friday_inserts(t, acc, b, n_friday, n_taken)
            elif friday_past:
                for chunk in rowio.page_by_id(self.crashed, t, lo=b):
                    check_cancel(self.cancel)
                    if done:
                        chunk = [row for row in chunk if not acc.was_restored(key_of(row, key_idx))]
                    for row in chunk:
                        acc.add(RowClass.FRIDAY_INSERT, key_of(row, key_idx))
                        self._tell(t.name, RowClass.FRIDAY_INSERT, key_of(row, key_idx), None)
                        if row[key_idx[0]] <= p_max:
                            acc.ids_taken += 1
            # Counted, not taken from the maxima: production is live while a plan is made.
            past = n_prod > 0   # production holds rows past the boundary
            # Rows a committed run inserted are past the boundary too: they are Friday's.
            acc.counts[RowClass.PRODUCTION_INSERT.value] += int(n_prod) - len(written)
            for row in self.production.execute(select(keycol).where(keycol > b).order_by(keycol).limit(SAMPLES)) if past else ():
                acc.samples[RowClass.PRODUCTION_INSERT.value].append((row[0],))
            if past and self.reading.on_row is not None and RowClass.PRODUCTION_INSERT in self.heard:
                for chunk in rowio.page_by_id(self.production, t, lo=b):
                    for row in chunk:
                        self._tell(t.name, RowClass.PRODUCTION_INSERT, key_of(row, key_idx), None)
        else:
            key_refs = [fn for i, fn in ev.ref_columns.items() if i in key_idx]
            for s_row, c_row, p_row in reader.merge_keyed(t, ev, key_idx):
                lone = c_row if p_row is None and s_row is None else p_row if c_row is None and s_row is None else None
                known = lone is not None and any(fn(lone) for fn in key_refs)
                self._record(t, ev, acc, key_idx, s_row, c_row, p_row, known_new=known)
        decision, default = framework.decide(t.name, t.column_names, self.decisions.tables.get(t.name))
        picked = self.decisions.picked.get(t.name)
        for cls in list(acc.counts):
            if not acc.counts[cls]:
                del acc.counts[cls]
        return TableGap(
            table=t.name,
            key_kind=t.key_kind,
            identity=t.identity,
            boundary=boundary,
            counts=dict(acc.counts),
            samples={k: v for k, v in acc.samples.items() if v},
            conflicts=acc.conflicts,
            merges=acc.merges,
            references_out=[e.id for e in self.graph.edges_from(t.name)],
            references_in=[e.id for e in self.graph.edges_to(t.name)],
            production_max_id=p_max,
            crashed_max_id=c_max,
            decision=decision,
            default_reason=default.reason if default else None,
            default_fixed=default.fixed if default else False,
            picked=tuple(picked) if picked is not None else None,
            truncated=acc.truncated,
            ids_taken=acc.ids_taken,
            restored=acc.restored,
            soft_deletes=acc.soft_deletes,
        )

    def _restored(self, t: TableInfo) -> tuple[set[str], set[str]]:
        """Friday keys of `t` committed runs inserted or linked, and the production keys
        they inserted (encoded): empty for the restore's own plan (it reads the journal itself)."""
        if not self.hide_restored:
            return set(), set()
        entries = journal.done_keys(self.production, t.name, ("inserted", "linked"))
        written = {journal.encode(new) for action, new in entries.values() if action == "inserted" and new is not None}
        return set(entries), written

    def _count_friday_inserts(self, t: TableInfo, acc: Findings, b: int, n: int, taken: int) -> None:
        """Friday's inserts as counted by the server (`_count_past`), and the first few."""
        key = t.table.c[t.primary_key[0]]
        acc.counts[RowClass.FRIDAY_INSERT.value] += n
        acc.ids_taken += taken
        for (first,) in self.crashed.execute(select(key).where(key > b).order_by(key).limit(SAMPLES)):
            acc.samples[RowClass.FRIDAY_INSERT.value].append((first,))

    def _record(self, t: TableInfo, ev: Evidence, acc: Findings, key_idx: list[int],
                s: Row | None, c: Row | None, p: Row | None, in_snapshot: bool = False,
                known_new: bool = False) -> None:
        cls: RowClass | None
        if known_new:  # its key references a row created after the snapshot
            cls, reason = (RowClass.FRIDAY_INSERT if c is not None else RowClass.PRODUCTION_INSERT), "references a new row"
        else:
            cls, reason = classify(s, c, p, ev, in_snapshot)
        if cls is None:
            return
        key = key_of(next(r for r in (c, p, s) if r is not None), key_idx)
        if self.delta is not None and c != s and t.name in self.delta.keys:
            self.delta.add(t.name, key)
        if acc.restored_keys or acc.written_keys:
            if cls in (RowClass.FRIDAY_INSERT, RowClass.CONVERGED) and acc.was_restored(key):
                return
            if cls is RowClass.PRODUCTION_INSERT and journal.encode(key) in acc.written_keys:
                return   # a row a committed run restored (under a key of its own)
        acc.add(cls, key)
        merge = writes = None
        if cls in (RowClass.MERGE, RowClass.CONFLICT) and s is not None and c is not None and p is not None and ev.names:
            merge = merge_cells(key, ev.names, s, c, p, ev.stamps, ev.ref_columns)[0]
            # Nothing of Friday's to write when only a timestamp of its is newer.
            writes = merge if merge.friday else None
        self._tell(t.name, cls, key, writes)
        if cls is RowClass.CONFLICT:
            acc.keep(acc.conflicts, Conflict(key, reason, diff(t.column_names, s, c, p), writes))
        elif cls is RowClass.MERGE and merge is not None:
            acc.keep(acc.merges, merge)
        elif cls is RowClass.FRIDAY_UPDATE and c is not None and soft_deletes.deletes(t, s if s is not None else p, c):
            acc.soft_deletes += 1

    def _tell(self, table: str, cls: RowClass, key: Row, merge: Merge | None) -> None:
        if self.reading.on_row is not None and cls in self.heard:
            self.reading.on_row(table, cls, key, merge)

