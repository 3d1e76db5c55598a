"""Per-table gap inspection: where the snapshot ends, and what each side did after it.

Read-only on every database. For each table:

1. **Boundary** (tables with one integer key): the snapshot's last id, from the
   SNAPSHOT database when given (exact); else the highest id created at or before
   ``GAPMEND_SNAPSHOT_AT`` (high); else the highest id both sides hold with the same
   content (medium with ``created_at``, low without); or the operator's override.
2. **Overlap** (ids up to the boundary): only ranges whose rows may differ are read,
   found by chunk checksums on MariaDB or a join across ATTACHed SQLite files
   (`compare.py`); equal rows never reach Python. With ``GAPMEND_TRUST_UPDATED_AT``,
   only the rows stamped after the snapshot time and the ids a side lacks.
3. **Past the boundary**: Friday's rows are read in chunks (they are the restore's
   work and are checked for unique-key collisions and orphans); production's are counted.

Tables without an integer key are merged by key (or, without any key, as multisets of
whole rows): grouped inside the server when one connection sees every side (joined by
key instead for the restore, `compare.keyed_versions`), compared by chunk checksums over
an integer first key column across MariaDB servers, else over streamed, ordered reads.
A row whose key references a parent row from
past that parent's boundary belongs to the side it was read from: pivot row
``(101, 5)`` in Friday's data means Friday's post 101, not production's.

Each row's class follows the three-way rule of a merge with a base (see `classify`).
"""

from __future__ import annotations

import dataclasses
import heapq
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import Connection, DateTime, Engine, Integer, MetaData, String, Table, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..config import Settings
from ..databases import journal, triggers
from ..databases import rows as rowio
from ..databases.dialects import Address, dialect_of
from ..databases.engines import connect, database_identity, open_engine, unreadable
from ..databases.schema import Schema, TableInfo, reflect, require_compatible
from ..databases.schema import compare as compare_schemas
from ..errors import ConfigError, PlanError
from ..plan.decisions import Decisions
from ..plan.model import Boundary, Collision, Conflict, Decision, Orphan, Plan, RowClass, TableGap
from ..progress import NullProgress, Progress, check_cancel
from . import compare, framework, payloads, php_payloads, roles, soft_deletes, unique
from .graph import ReferenceGraph, build_graph, graph_decisions, held_id

Row = tuple[Any, ...]
RowSink = Callable[[str, RowClass, tuple[Any, ...]], None]
SAMPLES = 5
DETAIL_CAP = 500            # conflicts/collisions/orphans kept per table in the plan
LOOKUP_BATCH = 2000


# --- the entry point ----------------------------------------------------------------

@dataclass
class Sources:
    """Open engines for the roles taking part."""

    production: Engine
    crashed: Engine
    snapshot: Engine | None = None
    # Role -> what names its database whatever the URL says (`db.database_identity`).
    identities: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, *, readonly: bool = True) -> "Sources":
        """The roles' engines, once each is known to be a database of its own."""
        snap = open_engine(settings.snapshot, "snapshot") if settings.snapshot is not None else None
        sources = cls(
            production=open_engine(settings.production, "production", readonly=readonly),
            crashed=open_engine(settings.crashed, "crashed"),
            snapshot=snap,
        )
        try:
            sources.require_distinct()
        except BaseException:
            sources.dispose()
            raise
        return sources

    def require_distinct(self) -> None:
        """Two roles naming one database would have gapmend read production as the
        snapshot (and overwrite production's rows with Friday's) or write into the
        crashed copy: refused before anything is read."""
        seen: dict[str, str] = {}
        for role, engine in (("production", self.production), ("crashed", self.crashed), ("snapshot", self.snapshot)):
            if engine is None:
                continue
            ident = self.identities[role] = database_identity(engine, role)
            if ident is None:
                continue
            if ident in seen:
                raise ConfigError(
                    f"GAPMEND_{seen[ident].upper()}_URL and GAPMEND_{role.upper()}_URL name the same database "
                    f"({engine.url.render_as_string(hide_password=True)}): each role needs its own (production the "
                    "live one, crashed the recovered copy, snapshot the restored dump); fix the env file")
            seen[ident] = role

    def dispose(self) -> None:
        for e in (self.production, self.crashed, self.snapshot):
            if e is not None:
                e.dispose()


def build_plan(
    settings: Settings,
    decisions: Decisions | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    sources: Sources | None = None,
    on_row: RowSink | None = None,
    row_classes: frozenset[RowClass] = frozenset(RowClass),
    joint: bool = True,
    count_only: frozenset[str] = frozenset(),
    prepared: tuple[Schema, ReferenceGraph] | None = None,
    check_roles: bool = True,
) -> Plan:
    """Inspect every table's gap and return the plan. Writes nothing anywhere.

    `on_row`, when given, hears every classified row of `row_classes` as
    ``(table, class, key)``: the restore and the tests use it to see each row's fate, not
    only the counts. Production's inserts into integer-key tables are otherwise only
    counted; they are read row by row only when `row_classes` asks for them.
    `joint` False keeps every comparison in gapmend even where one connection sees every
    side (as between servers; tests compare both ways). Tables in
    `count_only` have their Friday inserts counted by the server instead of read (the
    server-side restore's own statements find their collisions and orphans). `prepared`
    is crashed's schema and the reference graph when the caller has them already (the
    restore): reflecting and reading every type column again costs a scan per table.
    A contradiction between the roles and their contents (`roles`) is refused unless
    `check_roles` is False (`gapmend roles`, which shows them).
    """
    started = time.monotonic()
    decisions = decisions or Decisions()
    progress = progress or NullProgress()
    own = sources is None
    sources = sources or Sources.open(settings)
    try:
        progress.start("reflecting schemas", None)
        crashed_schema = prepared[0] if prepared is not None else reflect(sources.crashed, "crashed")
        production_schema = reflect(sources.production, "production")
        findings = compare_schemas(crashed_schema, production_schema)
        require_compatible(findings)   # first: a migration only one side ran is the likelier story
        if sources.snapshot is not None:
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
        with connect(sources.crashed, "crashed") as c_conn, connect(sources.production, "production") as p_conn:
            s_ctx = connect(sources.snapshot, "snapshot") if sources.snapshot is not None else None
            s_conn = s_ctx.__enter__() if s_ctx is not None else None
            try:
                facts = {role: roles.read_facts(role, conn, crashed_schema)
                         for role, conn in (("production", p_conn), ("crashed", c_conn), ("snapshot", s_conn))
                         if conn is not None}
                found = roles.check_facts(facts)
                if check_roles:   # before the gap is read: a snapshot newer than the crash is no snapshot
                    roles.require_settled([f for f in found if f.kind == roles.REFUSE], [])
                graph = prepared[1] if prepared is not None else build_graph(
                    crashed_schema, [c_conn, p_conn], graph_decisions(decisions, settings.app_aliases))
                payload_edges = payload_candidates(c_conn, crashed_schema, decisions, settings)
                inspector = _Inspector(
                    schema=crashed_schema, graph=graph, sources=sources, c=c_conn, p=p_conn, s=s_conn,
                    snapshot_at=settings.snapshot_at, trust_updated_at=settings.trust_updated_at, decisions=decisions,
                    progress=progress, cancel=cancel, on_row=on_row, row_classes=row_classes, joint_allowed=joint,
                    count_only=count_only, hide_restored=on_row is None,
                )
                gaps = inspector.run()
                journaled = journal.has_runs(p_conn)
                jobs = queued_jobs(c_conn, crashed_schema, gaps)
                found += roles.check_friday_rows(c_conn, p_conn, crashed_schema, graph, gaps, {
                    t for t, d in decisions.tables.items() if d == Decision.SKIP.value})
                if check_roles:
                    roles.require_settled([f for f in found if f.kind == roles.REFUSE], [])
                written = [g.table for g in gaps if g.has_work]
                trigger_list = [
                    {"name": t.name, "table": t.table, "timing": t.timing, "event": t.event, "writes": t.writes,
                     "action": triggers.ACTION}
                    for t in triggers.on_tables(p_conn, written)]
            finally:
                if s_ctx is not None:
                    s_ctx.__exit__(None, None, None)
        mode = "three-way (snapshot)" if sources.snapshot is not None else (
            "snapshot time" if settings.snapshot_at is not None else "content")
        if settings.trust_updated_at:
            mode += ", rows changed since by updated_at"
        plan = Plan(
            tables=gaps,
            order=list(graph.order),
            cycles=[list(c) for c in graph.cycles],
            edges=[
                {"id": e.id, "child": e.child, "columns": list(e.columns), "parent": e.parent,
                 "parent_columns": list(e.parent_columns), "kind": e.describe_kind(), "evidence": e.evidence,
                 "confirmed": e.kind == "declared" or e.id in decisions.confirm_edges}
                for e in graph.edges
            ],
            schema_findings=[f.line() for f in findings],
            unmatched_columns=list(graph.unmatched),
            mode=mode,
            created_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            connections=settings.masked(),
            identities=dict(sources.identities),
            elapsed_s=round(time.monotonic() - started, 3),
            triggers=trigger_list,
            roles=list(facts.values()),
            payload_edges=payload_edges,
            queued_jobs=jobs,
        )
        if not journaled:   # after a restore production holds Friday's changes by gapmend's own doing
            found += roles.check_plan(plan, facts)
        if check_roles:
            roles.require_settled([f for f in found if f.kind == roles.REFUSE], [])
        return dataclasses.replace(plan, role_findings=[dataclasses.asdict(f) for f in found])
    finally:
        if own:
            sources.dispose()


JOBS_SHOWN = 50


def queued_jobs(conn: Connection, schema: Schema, gaps: list[TableGap]) -> list[dict[str, Any]]:
    """Friday's queued jobs (rows past the boundary of a table shaped like Laravel's
    ``jobs``), the first `JOBS_SHOWN` of each table: what each would do if replayed."""
    out: list[dict[str, Any]] = []
    for g in gaps:
        t = schema[g.table]
        if not {"queue", "payload"} <= set(t.column_names) or g.key_kind != "surrogate" or not g.count(
                RowClass.FRIDAY_INSERT):
            continue
        key, when = t.table.c[t.primary_key[0]], t.table.c.get("available_at")
        cols = [key, t.table.c["payload"], *([when] if when is not None else [])]
        for row in conn.execute(select(*cols).where(key > (g.boundary.value or 0)).order_by(key).limit(JOBS_SHOWN)):
            described = php_payloads.describe_job(row[1])
            at = row[2] if len(row) > 2 else None
            out.append({"table": g.table, "id": row[0], "job": described[0] if described else "(not a Laravel job)",
                        "models": described[1] if described else [],
                        "available_at": datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                        if isinstance(at, int) else at})
    return out


def payload_candidates(conn: Connection, schema: Schema, decisions: Decisions,
                       settings: Settings) -> list[dict[str, Any]]:
    """The paths of ids inside crashed's JSON values, with the operator's word on each."""
    confirmed = {payloads.PayloadEdge.from_dict(d).id for d in decisions.payload_edges}
    out = []
    for c in payloads.find(conn, schema, graph_decisions(decisions, settings.app_aliases).morph_map, settings.app_guards):
        if c.edge.id in decisions.drop_edges:
            continue
        out.append({**c.edge.as_dict(), "evidence": c.evidence, "sampled": c.values, "ids": len(c.ids),
                    "ids_found": c.parents, "confirmed": c.edge.id in confirmed})
    return out


# --- classification -------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """What the classifier may use for one table, beyond the rows themselves."""

    has_snapshot: bool
    snapshot_at: datetime | None
    updated_at: int | None      # column index
    created_at: int | None
    ref_columns: dict[int, Callable[[Row], bool]]   # column index -> "value points past the parent's boundary"


def classify(s: Row | None, c: Row | None, p: Row | None, ev: Evidence,
             in_snapshot: bool = False) -> tuple[RowClass | None, str]:
    """The class of one key's rows (None when nothing happened to it) and why.

    With the snapshot it is a three-way merge: a side changed the row if its version
    differs from the snapshot's; one side changed → that side's change stands; both
    changed alike → converged; both changed differently → conflict. Production's
    deletes are never undone; Friday's are applied only on request.
    Without the snapshot, `updated_at` against the snapshot time says who changed a
    row; when nothing can tell, the row is a conflict, never a guess. `in_snapshot`
    says the key is known to predate the snapshot (an id up to the table's boundary).
    """
    if ev.has_snapshot:
        if s is None:
            if c is not None and p is not None:
                return (RowClass.CONVERGED, "inserted alike on both sides") if _same(c, p, ev) else (
                    RowClass.CONFLICT, "both sides inserted this key with different values")
            if c is None and p is None:
                return None, ""
            return (RowClass.FRIDAY_INSERT, "") if c is not None else (RowClass.PRODUCTION_INSERT, "")
        c_changed = c != s
        p_changed = p != s
        if not c_changed and not p_changed:
            return None, ""
        if c_changed and not p_changed:
            return (RowClass.FRIDAY_DELETE, "") if c is None else (RowClass.FRIDAY_UPDATE, "")
        if p_changed and not c_changed:
            return (RowClass.PRODUCTION_DELETE, "") if p is None else (RowClass.PRODUCTION_UPDATE, "")
        if c is None and p is None:
            return RowClass.CONVERGED, "deleted on both sides"
        if c is None:
            return RowClass.CONFLICT, "Friday deleted a row production updated"
        if p is None:
            return RowClass.CONFLICT, "Friday updated a row production deleted (not resurrected)"
        if _same(c, p, ev):
            return RowClass.CONVERGED, "changed alike on both sides"
        return RowClass.CONFLICT, "both sides changed the row"
    # Without the snapshot: c and p are versions of a snapshot row, or one side's insert.
    if c is not None and p is not None:
        if _same(c, p, ev):
            return None, ""
        cu, pu = _after(c, ev.updated_at, ev), _after(p, ev.updated_at, ev)
        if cu is None or pu is None:
            return RowClass.CONFLICT, "the rows differ and no updated_at tells which side changed"
        if cu and not pu:
            return RowClass.FRIDAY_UPDATE, "Friday's updated_at is after the snapshot time"
        if pu and not cu:
            return RowClass.PRODUCTION_UPDATE, "production's updated_at is after the snapshot time"
        if cu and pu:
            return RowClass.CONFLICT, "both updated_at are after the snapshot time"
        return RowClass.CONFLICT, "the rows differ but neither updated_at is after the snapshot time"
    only = c if c is not None else p
    if only is None:
        return None, ""
    created = False if in_snapshot else _after(only, ev.created_at, ev)
    updated = _after(only, ev.updated_at, ev)
    if c is not None:
        if created:
            return RowClass.FRIDAY_INSERT, "created after the snapshot time"
        if created is None:
            return RowClass.CONFLICT, "only Friday has this row and nothing tells a Friday insert from a production delete"
        if updated:
            return RowClass.CONFLICT, "Friday updated a row production deleted (not resurrected)"
        return RowClass.PRODUCTION_DELETE, "created before the snapshot, gone from production"
    if created:
        return RowClass.PRODUCTION_INSERT, "created after the snapshot time"
    if created is None:
        return RowClass.CONFLICT, "only production has this row and nothing tells a production insert from a Friday delete"
    if updated:
        return RowClass.CONFLICT, "Friday deleted a row production updated"
    if updated is None:
        return RowClass.CONFLICT, "Friday deleted this row; nothing tells whether production changed it"
    return RowClass.FRIDAY_DELETE, "created before the snapshot, gone from Friday's data"


def _after(row: Row, index: int | None, ev: Evidence) -> bool | None:
    if index is None or ev.snapshot_at is None:
        return None
    value = row[index]
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value > ev.snapshot_at


def _same(c: Row, p: Row, ev: Evidence) -> bool:
    """Equal as data *and* as meaning: a reference past its parent's boundary names a
    different row on each side, so `current_team_id = 51` on both is not agreement."""
    if c != p:
        return False
    return not any(is_new(c) for is_new in ev.ref_columns.values())


# --- the inspector ---------------------------------------------------------------------

# Classes only production's own writes produce (a row crashed holds as the snapshot did).
PRODUCTION_SIDE = frozenset({RowClass.PRODUCTION_INSERT, RowClass.PRODUCTION_UPDATE, RowClass.PRODUCTION_DELETE,
                             RowClass.CONVERGED})

@dataclass
class _Acc:
    """Accumulates one table's findings with bounded memory."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    conflicts: list[Conflict] = field(default_factory=list)
    collisions: list[Collision] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    truncated: bool = False
    ids_taken: int = 0
    restored: int = 0                                           # Friday rows a committed run restored
    restored_keys: set[str] = field(default_factory=set)       # their encoded keys (`_Inspector._restored`)
    written_keys: set[str] = field(default_factory=set)        # the production keys they were inserted under
    soft_deletes: int = 0                                       # Friday updates that set deleted_at
    soft_parents: dict[str, int] = field(default_factory=lambda: defaultdict(int))   # edge -> Friday rows

    def was_restored(self, key: Row) -> bool:
        if journal.encode(key) in self.restored_keys:
            self.restored += 1
            return True
        return False

    def add(self, cls: RowClass, key: Row, n: int = 1) -> None:
        self.counts[cls.value] += n
        if len(self.samples[cls.value]) < SAMPLES:
            self.samples[cls.value].append(key)

    def keep(self, bucket: list[Any], item: Any) -> None:
        if len(bucket) < DETAIL_CAP:
            bucket.append(item)
        else:
            self.truncated = True


@dataclass
class _Inspector:
    schema: Schema
    graph: ReferenceGraph
    sources: Sources
    c: Connection
    p: Connection
    s: Connection | None
    snapshot_at: datetime | None
    decisions: Decisions
    progress: Progress
    cancel: threading.Event | None
    on_row: RowSink | None = None
    row_classes: frozenset[RowClass] = frozenset(RowClass)
    joint_allowed: bool = True
    count_only: frozenset[str] = frozenset()   # tables whose Friday inserts are counted, not read
    trust_updated_at: bool = False
    # A plan to read (not the restore's own): rows a committed run restored are counted
    # as restored, not as work still to do (`journal`).
    hide_restored: bool = False
    boundaries: dict[str, Boundary] = field(default_factory=dict)
    # Friday ids that collide with a production row, per table -> that row's id (`unique`).
    linked: dict[str, dict[Any, Any]] = field(default_factory=lambda: defaultdict(dict))
    # One connection that names every side's tables (tag -> schema; None = its own), when there is one.
    joint: tuple[Connection, dict[int, str | None]] | None = None

    def run(self) -> list[TableGap]:
        tables = [self.schema[name] for name in self.graph.order]
        self.progress.start("finding boundaries", len(tables))
        for t in tables:
            check_cancel(self.cancel)
            self.boundaries[t.name] = self._boundary(t)
            self.progress.advance(1)
        for t in tables:   # children write after parents: their boundaries are all known now
            b = self.boundaries[t.name]
            if b.unconfirmed or b.method == "snapshot_at":
                self.boundaries[t.name] = self._referenced_before(t, b)
        addresses = self._addresses()   # asked once: on MariaDB each answer takes two connections
        attached = self._attach_sqlite(addresses)
        self.joint = self._joint(attached, addresses) if self.joint_allowed else None
        gaps = []
        self.progress.start("inspecting tables", len(tables))
        try:
            for t in tables:
                check_cancel(self.cancel)
                gaps.append(self._inspect(t))
                self.progress.note(f"{t.name}: inspected")
                self.progress.advance(1)
        finally:
            if attached is not None:
                attached.close()
        return gaps

    # -- boundaries --

    def _boundary(self, t: TableInfo) -> Boundary:
        if t.key_kind != "surrogate":
            return Boundary(None, "by key", "exact" if self.s is not None else ("high" if self.snapshot_at else "low"),
                            "rows matched by key" + (" across the snapshot" if self.s is not None else ""))
        key = t.table.c[t.primary_key[0]]
        c_max = self.c.execute(select(func.max(key))).scalar() or 0
        p_max = self.p.execute(select(func.max(key))).scalar() or 0
        if t.name in self.decisions.boundaries:
            value = self.decisions.boundaries[t.name]
            if value > max(c_max, p_max) or value < 0:
                raise PlanError(
                    f"boundary {value} for {t.name} is past the end of the table (max id {max(c_max, p_max)}): fix the override")
            return Boundary(value, "operator", "operator", f"set by the operator (crashed max {c_max}, production max {p_max})")
        if self.s is not None:
            value = self.s.execute(select(func.max(key))).scalar() or 0
            return Boundary(int(value), "snapshot", "exact", f"the snapshot's last id is {value}")
        created = t.table.c.get("created_at")
        if self.snapshot_at is not None and created is not None:
            at = self.snapshot_at
            c_b = self.c.execute(select(func.max(key)).where(created <= at)).scalar() or 0
            p_b = self.p.execute(select(func.max(key)).where(created <= at)).scalar() or 0
            c_next = self.c.execute(select(func.min(key)).where(created > at)).scalar()
            value = max(c_b, p_b)
            evidence = (f"last id created at or before {at:%Y-%m-%d %H:%M:%S}: crashed {c_b}, production {p_b}; "
                        f"first Friday id after it: {c_next if c_next is not None else 'none'}")
            confidence = "high" if c_next is None or c_next > value else "medium"
            return Boundary(int(value), "snapshot_at", confidence, evidence)
        return self._content_boundary(t, int(c_max), int(p_max))

    def _referenced_before(self, t: TableInfo, estimate: Boundary) -> Boundary:
        """More evidence for a boundary not read from the snapshot: rows of a child table
        from before the snapshot (within its own exact or high boundary) that reference an
        id of `t` on both sides say that id existed at the snapshot. A higher one raises
        the boundary (Friday's updates of early rows hide them from the content
        comparison; a clock or a missing created_at can mislead the snapshot time) to low
        confidence: the operator confirms it."""
        assert estimate.value is not None
        best: tuple[int, str] | None = None
        for edge in self.graph.edges_to(t.name):
            child_b = self.boundaries.get(edge.child)
            if (len(edge.columns) != 1 or edge.child == t.name or child_b is None or child_b.value is None
                    or child_b.confidence not in ("exact", "high", "operator")):
                continue
            child = self.schema[edge.child]
            col, key = child.table.c[edge.columns[0]], child.table.c[child.primary_key[0]]
            where = [key <= child_b.value, *edge.type_filter(child.table)]
            highest = [conn.execute(select(func.max(col)).where(*where)).scalar() for conn in (self.c, self.p)]
            ints = [h for h in highest if isinstance(h, int)]
            if len(ints) != len(highest):
                continue
            value = min(ints)
            if best is None or value > best[0]:
                best = (value, f"{edge.child}.{edge.columns[0]} (rows up to {edge.child} id {child_b.value})")
        if best is None:
            return estimate
        value, where_seen = best
        seen = f"; rows from before the snapshot reference {t.name} {value} on both sides: {where_seen}"
        if value <= estimate.value:
            return Boundary(estimate.value, estimate.method, estimate.confidence, estimate.evidence + seen)
        top = min(int(self.c.execute(select(func.max(t.table.c[t.primary_key[0]]))).scalar() or 0),
                  int(self.p.execute(select(func.max(t.table.c[t.primary_key[0]]))).scalar() or 0))
        if value > top:
            return estimate
        disagrees = "" if estimate.unconfirmed else "the evidence disagrees: "
        return Boundary(value, estimate.method, "low", f"{estimate.evidence}; {disagrees}raised to {value}{seen}")

    def _content_boundary(self, t: TableInfo, c_max: int, p_max: int) -> Boundary:
        """The highest id whose row both sides hold alike, searched downward from the top."""
        key = t.table.c[t.primary_key[0]]
        idx = t.column_names.index("created_at") if "created_at" in t.column_names else None
        hi = min(c_max, p_max)
        scanned = 0
        while hi > 0:
            lo = max(0, hi - rowio.CHUNK)
            c_rows = {r[0]: r for r in self.c.execute(select(key, *t.table.c).where(key > lo, key <= hi))}
            p_rows = {r[0]: r for r in self.p.execute(select(key, *t.table.c).where(key > lo, key <= hi))}
            for k in sorted(set(c_rows) & set(p_rows), reverse=True):
                a, b = c_rows[k][1:], p_rows[k][1:]
                same = (a[idx] == b[idx] and a[idx] is not None) if idx is not None else a == b
                if same:
                    how = "created_at" if idx is not None else "whole row"
                    return Boundary(int(k), "content", "medium" if idx is not None else "low",
                                    f"highest id with the same {how} on both sides ({scanned + hi - k} ids from the top checked)")
            scanned += hi - lo
            hi = lo
        return Boundary(0, "content", "low", "no id holds the same row on both sides: every row counts as after the snapshot")

    # -- per table --

    def _evidence(self, t: TableInfo) -> Evidence:
        names = t.column_names
        refs: dict[int, Callable[[Row], bool]] = {}
        for edge in self.graph.edges_from(t.name):
            b = self.boundaries.get(edge.parent)
            if b is None or b.value is None or len(edge.columns) != 1:
                continue
            i = names.index(edge.columns[0])
            ti = names.index(edge.type_column) if edge.type_column else None
            refs[i] = _past_boundary(i, ti, edge.type_value, b.value, refs.get(i))
        return Evidence(
            has_snapshot=self.s is not None,
            snapshot_at=self.snapshot_at,
            updated_at=names.index("updated_at") if "updated_at" in names else None,
            created_at=names.index("created_at") if "created_at" in names else None,
            ref_columns=refs,
        )

    def _inspect(self, t: TableInfo) -> TableGap:
        acc = _Acc()
        done, written = self._restored(t)
        acc.restored_keys, acc.written_keys = done, written
        ev = self._evidence(t)
        boundary = self.boundaries[t.name]
        key_idx = [t.column_names.index(c) for c in t.identity]
        p_max = c_max = None
        friday_rows = _FridayRows(self, t, acc)
        if t.key_kind == "surrogate":
            assert boundary.value is not None
            b = boundary.value
            keycol = t.table.c[t.primary_key[0]]
            c_max = int(self.c.execute(select(func.max(keycol))).scalar() or 0)
            p_max = int(self.p.execute(select(func.max(keycol))).scalar() or 0)
            for s_row, c_row, p_row in self._overlap(t, b):
                self._record(t, ev, acc, friday_rows, key_idx, s_row, c_row, p_row, in_snapshot=True)
            if t.name in self.count_only:
                self._count_friday_inserts(t, acc, b, p_max)
            else:
                for chunk in rowio.page_by_id(self.c, t, lo=b):
                    check_cancel(self.cancel)
                    if done:
                        chunk = [row for row in chunk if not acc.was_restored(_key(row, key_idx))]
                    for row in chunk:
                        acc.add(RowClass.FRIDAY_INSERT, _key(row, key_idx))
                        self._tell(t.name, RowClass.FRIDAY_INSERT, _key(row, key_idx))
                        if row[key_idx[0]] <= p_max:
                            acc.ids_taken += 1
                    friday_rows.extend(chunk)
            n_prod = self.p.execute(select(func.count()).select_from(t.table).where(keycol > b)).scalar_one()
            # Rows a committed run inserted are past the boundary too: they are Friday's.
            acc.counts[RowClass.PRODUCTION_INSERT.value] += int(n_prod) - len(written)
            for row in self.p.execute(select(keycol).where(keycol > b).order_by(keycol).limit(SAMPLES)):
                acc.samples[RowClass.PRODUCTION_INSERT.value].append((row[0],))
            if self.on_row is not None and RowClass.PRODUCTION_INSERT in self.row_classes:
                for chunk in rowio.page_by_id(self.p, t, lo=b):
                    for row in chunk:
                        self._tell(t.name, RowClass.PRODUCTION_INSERT, _key(row, key_idx))
        else:
            key_refs = [fn for i, fn in ev.ref_columns.items() if i in key_idx]
            for s_row, c_row, p_row in self._merge_keyed(t, ev, key_idx):
                lone = c_row if p_row is None and s_row is None else p_row if c_row is None and s_row is None else None
                known = lone is not None and any(fn(lone) for fn in key_refs)
                self._record(t, ev, acc, friday_rows, key_idx, s_row, c_row, p_row, known_new=known)
        friday_rows.flush()
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
            collisions=acc.collisions,
            orphans=acc.orphans,
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
            soft_deleted_parents=dict(acc.soft_parents),
        )

    def _restored(self, t: TableInfo) -> tuple[set[str], set[str]]:
        """Friday keys of `t` committed runs inserted or linked, and the production keys
        they inserted (encoded): empty for the restore's own plan (it reads the journal itself)."""
        if not self.hide_restored:
            return set(), set()
        entries = journal.done_keys(self.p, t.name, ("inserted", "linked"))
        written = {journal.encode(new) for action, new in entries.values() if action == "inserted" and new is not None}
        return set(entries), written

    def _count_friday_inserts(self, t: TableInfo, acc: _Acc, b: int, p_max: int) -> None:
        """Friday's inserts counted by the server, for a restore that copies them there
        (it finds their collisions and orphans itself): no row is read."""
        key = t.table.c[t.primary_key[0]]
        n, taken = self.c.execute(select(func.count(), func.sum(case((key <= p_max, 1), else_=0))).where(key > b)).one()
        acc.counts[RowClass.FRIDAY_INSERT.value] += int(n)
        acc.ids_taken += int(taken or 0)
        for (first,) in self.c.execute(select(key).where(key > b).order_by(key).limit(SAMPLES)):
            acc.samples[RowClass.FRIDAY_INSERT.value].append((first,))

    def _record(self, t: TableInfo, ev: Evidence, acc: _Acc, friday_rows: "_FridayRows", key_idx: list[int],
                s: Row | None, c: Row | None, p: Row | None, in_snapshot: bool = False,
                known_new: bool = False) -> None:
        cls: RowClass | None
        if known_new:  # its key references a row created after the snapshot
            cls, reason = (RowClass.FRIDAY_INSERT if c is not None else RowClass.PRODUCTION_INSERT), "references a new row"
        else:
            cls, reason = classify(s, c, p, ev, in_snapshot)
        if cls is None:
            return
        key = _key(next(r for r in (c, p, s) if r is not None), key_idx)
        if acc.restored_keys or acc.written_keys:
            if cls in (RowClass.FRIDAY_INSERT, RowClass.CONVERGED) and acc.was_restored(key):
                return
            if cls is RowClass.PRODUCTION_INSERT and journal.encode(key) in acc.written_keys:
                return   # a row a committed run restored (under a key of its own)
        acc.add(cls, key)
        self._tell(t.name, cls, key)
        if cls is RowClass.CONFLICT:
            acc.keep(acc.conflicts, Conflict(key, reason, _diff(t.column_names, s, c, p)))
        elif cls in (RowClass.FRIDAY_INSERT, RowClass.FRIDAY_UPDATE):
            assert c is not None
            friday_rows.append(c, check_unique=cls is RowClass.FRIDAY_INSERT)
            if cls is RowClass.FRIDAY_UPDATE and soft_deletes.deletes(t, s if s is not None else p, c):
                acc.soft_deletes += 1

    def _tell(self, table: str, cls: RowClass, key: Row) -> None:
        if self.on_row is not None and cls in self.row_classes:
            self.on_row(table, cls, key)

    def _overlap(self, t: TableInfo, b: int) -> Iterator[tuple[Row | None, Row | None, Row | None]]:
        """(snapshot, crashed, production) versions of every id ≤ b that may differ."""
        ranges = self._changed_since(t, b)
        if ranges is None:
            ranges = self._differing(t, b)
        for batch in _batched_ranges(ranges):
            yield from self._read_ranges(t, batch)

    def _differing(self, t: TableInfo, b: int) -> Iterable[tuple[int, int]]:
        """Ranges of ids ≤ b whose rows may differ, the whole overlap compared."""
        if self.joint is not None:   # one connection sees every side: one join by key
            return compare.attached_ranges(*self._joint_schemas(), t, 0, b, self._pool_engine())
        checksummed = self._checksum_sides()
        if checksummed is not None:
            return compare.checksum_ranges([compare.Side(conn, t) for conn in checksummed], 0, b)
        return compare.whole_range(0, b)

    def _changed_since(self, t: TableInfo, b: int) -> Iterable[tuple[int, int]] | None:
        """With ``GAPMEND_TRUST_UPDATED_AT``: the ids whose ``updated_at`` on some side is
        after the snapshot time, and the ids some side lacks (a delete leaves no
        ``updated_at``), found by key checksums on MariaDB or a key join where one
        connection sees every side. None where the table has no ``updated_at`` time (it
        is compared whole)."""
        since, col = self.snapshot_at, t.table.c.get("updated_at")
        if not self.trust_updated_at or since is None or col is None or not isinstance(col.type, DateTime):
            return None
        lacking: Iterable[tuple[int, int]]
        if self._checksum_sides() is not None:
            lacking = compare.checksum_ranges([compare.Side(conn, t) for conn in self._compared()], 0, b, keys_only=True)
        elif self.joint is not None:
            lacking = compare.attached_ranges(*self._joint_schemas(), t, 0, b, self._pool_engine(), keys_only=True)
        else:
            return None
        key = t.primary_key[0]
        changed = set().union(*(compare.changed_ids(conn, t.table, key, "updated_at", since, 0, b)
                                for conn in self._compared()))
        return compare.merge_ranges([*lacking, *((i - 1, i) for i in changed)])

    def _joint_schemas(self) -> tuple[Connection, list[str]]:
        """The joint connection and the schemas it names the compared sides by."""
        assert self.joint is not None
        conn, names = self.joint
        own = self.sources.production.url.database or "main"
        return conn, [names[tag] or own for tag in sorted(names) if not (self._friday_only() and tag == 2)]

    def _pool_engine(self) -> Engine | None:
        """An engine to run statements side by side on (MariaDB), or None (one at a time)."""
        return self.sources.production if dialect_of(self.sources.production).side_by_side else None

    def _friday_only(self) -> bool:
        """Asked only for what Friday did (the restore), with the snapshot at hand: a row
        crashed holds as the snapshot did needs nothing, so production is read only for
        the keys where crashed differs (half the comparisons)."""
        return self.s is not None and not (self.row_classes & PRODUCTION_SIDE)

    def _read_ranges(self, t: TableInfo, ranges: list[tuple[int, int]]) -> Iterator[tuple[Row | None, Row | None, Row | None]]:
        """Every side's rows whose first key column lies in `ranges`, as (snapshot,
        crashed, production) versions per key (the whole key), in key order."""
        check_cancel(self.cancel)
        cond = _ranges_condition(t.table.c[t.primary_key[0]], ranges)
        key_idx = [t.column_names.index(k) for k in t.primary_key]
        def read(conn: Connection | None) -> dict[Row, Row]:
            if conn is None:
                return {}
            return {_key(tuple(r), key_idx): tuple(r) for r in conn.execute(select(*t.table.c).where(cond))}
        s_rows, c_rows, p_rows = read(self.s), read(self.c), read(self.p)
        for k in sorted(set(s_rows) | set(c_rows) | set(p_rows), key=rowio.sort_key):
            yield s_rows.get(k), c_rows.get(k), p_rows.get(k)

    def _merge_keyed(self, t: TableInfo, ev: Evidence, key_idx: list[int]) -> Iterator[tuple[Row | None, Row | None, Row | None]]:
        """Merge the sides' ordered streams by key; rows whose key points past a parent's
        boundary stand alone (they are that side's insert, whatever the other side holds)."""
        if self.joint is not None:
            yield from self._joint_keyed(t, ev, key_idx)
            return
        key_refs = [fn for i, fn in ev.ref_columns.items() if i in key_idx]
        if self._checksummed_keyed(t):
            yield from self._checksum_keyed(t, key_idx, key_refs)
            return
        streams = []
        for tag, engine in ((0, self.sources.snapshot), (1, self.sources.crashed), (2, self.sources.production)):
            if engine is None:
                continue
            streams.append(_tagged(tag, rowio.stream_ordered(engine, t), key_idx, multiset=not t.primary_key))
        group: list[tuple[int, Row]] = []
        current: Any = object()
        for sk, tag, row in heapq.merge(*streams, key=lambda x: x[0]):
            if sk != current:
                yield from _emit(group, key_refs)
                group, current = [], sk
            group.append((tag, row))
        yield from _emit(group, key_refs)

    def _compared(self) -> list[Connection]:
        """The connections of the sides compared: snapshot (when loaded), crashed, and
        production unless only Friday's work is asked for."""
        return [conn for conn in ((self.s, self.c) if self._friday_only() else (self.s, self.c, self.p))
                if conn is not None]

    def _checksum_sides(self) -> list[Connection] | None:
        """The connections whose tables chunk checksums compare (all MariaDB), or None."""
        engines = [self.sources.snapshot, self.sources.crashed] if self._friday_only() else [
            self.sources.snapshot, self.sources.crashed, self.sources.production]
        if not all(dialect_of(e).checksums for e in engines if e is not None):
            return None
        return self._compared()

    def _checksummed_keyed(self, t: TableInfo) -> bool:
        """A keyed table the chunk checksums can compare across servers: its key starts
        with an integer column, whose values cut the table into chunks."""
        return bool(t.primary_key) and isinstance(t.table.c[t.primary_key[0]].type, Integer) and (
            self._checksum_sides() is not None)

    def _checksum_keyed(self, t: TableInfo, key_idx: list[int],
                        key_refs: list[Callable[[Row], bool]]) -> Iterator[tuple[Row | None, Row | None, Row | None]]:
        """`_merge_keyed` by chunk checksums over the key's first column (a pivot's post
        ids): only the first-column values whose rows differ are read, from every side,
        and merged by the whole key; the rest never leave the servers."""
        sides = self._checksum_sides()
        assert sides is not None
        col = t.table.c[t.primary_key[0]]
        span = compare.key_span(conn.execute(select(func.min(col), func.max(col))).one() for conn in sides)
        if span is None:
            return
        ranges: Iterable[tuple[int, int]] = compare.checksum_ranges([compare.Side(conn, t) for conn in sides], *span)
        # Rows whose key names a parent past its boundary are new whatever the other side
        # holds (Friday's pivot row (101, 5) and production's are different rows with equal
        # bytes, which checksums cannot tell apart): their first-column values are read too.
        past = self._past_sql(t, key_idx)(t.table)
        if past is not None:
            values = set().union(*({v for (v,) in conn.execute(select(col).distinct().where(past))} for conn in sides))
            ranges = compare.merge_ranges([*ranges, *((v - 1, v) for v in values)])
        for batch in _batched_ranges(ranges):
            for versions in self._read_ranges(t, batch):
                yield from _emit(_tagged_versions(versions), key_refs)

    def _joint(self, attached: Connection | None,
               addresses: dict[int, Address | None]) -> tuple[Connection, dict[int, str | None]] | None:
        """A connection that sees every side: the ATTACHed SQLite one, or production's
        when every side is a database on production's MariaDB server it may read."""
        if attached is not None:
            return attached, {0: "snap", 1: "crashed", 2: "main"} if self.s is not None else {1: "crashed", 2: "main"}
        schemas: dict[int, str | None] = {2: None}
        for tag, address in addresses.items():
            if address is None or address.attach_uri is not None:
                return None
            schemas[tag] = address.schema
        md = MetaData()
        others = (self.schema[name].table.to_metadata(md, schema=schema)
                  for name in self.schema.tables for schema in schemas.values() if schema is not None)
        return None if unreadable(self.p, others) is not None else (self.p, schemas)

    def _joint_keyed(self, t: TableInfo, ev: Evidence, key_idx: list[int]) -> Iterator[tuple[Row | None, Row | None, Row | None]]:
        """`_merge_keyed` done by the server: only rows not alike on every side come back."""
        assert self.joint is not None
        conn, schemas = self.joint
        md = MetaData()
        sides = {tag: t.table if schema is None else t.table.to_metadata(md, schema=schema)
                 for tag, schema in schemas.items()}
        key_refs = [fn for i, fn in ev.ref_columns.items() if i in key_idx]
        if 0 in sides and t.primary_key and not any(isinstance(t.table.c[k].type, String) for k in t.primary_key):
            # Joined by key against the snapshot rather than grouped: no temporary table as
            # big as the sides. Only crashed is compared when only Friday's work is asked
            # for. (String keys stay grouped by their bytes: a join would match them by
            # collation. Without a snapshot, rows alike on both sides may still be two
            # different inserts, which only the grouping's `past` flag finds.)
            engine = self._pool_engine()
            compared = 2 if self._friday_only() else 3
            for part in compare.keyed_versions(conn, [sides[0], sides[1], sides[2]], t, engine, compared):
                for found_versions in part:
                    yield from _emit(_tagged_versions(found_versions), key_refs)
            return
        past = self._past_sql(t, key_idx)
        # Sorted by the key's bytes and consumed as they come: memory holds one key's versions.
        order = t.primary_key or t.column_names
        found = compare.joint_differences(conn, sides, t, t.column_names, past, order=order)
        if not t.primary_key:   # a multiset: the counts say how many copies each side holds
            for row, counts in found:
                for d in range(max(counts.values())):
                    yield from _emit([(tag, row) for tag, n in counts.items() if d < n], key_refs)
            return
        # Each group is one exact row version; the sides counting it hold it.
        current: Row | None = None
        versions: dict[int, Row] = {}
        for row, counts in found:
            key = _key(row, key_idx)
            if key != current:
                yield from _emit(sorted(versions.items()), key_refs)
                current, versions = key, {}
            versions.update((tag, row) for tag, n in counts.items() if n)
        yield from _emit(sorted(versions.items()), key_refs)

    def _past_sql(self, t: TableInfo, key_idx: list[int]) -> Callable[[Table], ColumnElement[bool] | None]:
        """The SQL form of the key references in `Evidence.ref_columns`: a key column naming
        a parent row past that parent's boundary."""
        edges = []
        for edge in self.graph.edges_from(t.name):
            b = self.boundaries.get(edge.parent)
            if b is None or b.value is None or len(edge.columns) != 1:
                continue
            if t.column_names.index(edge.columns[0]) in key_idx:
                edges.append((edge, b.value))

        def past(table: Table) -> ColumnElement[bool] | None:
            conds = [and_(table.c[e.columns[0]] > v, *e.type_filter(table))
                     for e, v in edges]
            return or_(*conds) if conds else None
        return past

    def _addresses(self) -> dict[int, Address | None]:
        """How production's connection names the snapshot's (0) and crashed's (1) tables."""
        production = self.sources.production
        sides = ((0, "snapshot", "snap", self.sources.snapshot), (1, "crashed", "crashed", self.sources.crashed))
        return {tag: dialect_of(production).locate(production, engine, role, alias)[0]
                for tag, role, alias, engine in sides if engine is not None}

    def _attach_sqlite(self, addresses: dict[int, Address | None]) -> Connection | None:
        """One SQLite connection with crashed (and snapshot) ATTACHed read-only beside
        production, for joins across the files; None unless every side is a SQLite file."""
        if any(a is None or a.attach_uri is None for a in addresses.values()):
            return None
        conn = self.sources.production.connect()
        raw = conn.connection.driver_connection  # ATTACH must run outside a transaction
        for address in addresses.values():
            assert address is not None
            try:
                raw.execute(f"ATTACH DATABASE ? AS {address.schema}", (address.attach_uri,))  # type: ignore[union-attr]
            except sqlite3.OperationalError as exc:
                conn.close()
                raise PlanError(f"cannot read production beside {address.schema} ({exc}): another program is "
                                "writing to it; stop the writers (maintenance mode, workers, cron) and retry") from None
        return conn


def _past_boundary(i: int, ti: int | None, type_value: str | None, b: int,
                   previous: Callable[[Row], bool] | None) -> Callable[[Row], bool]:
    def check(row: Row) -> bool:
        if previous is not None and previous(row):
            return True
        if ti is not None and row[ti] != type_value:
            return False
        v = held_id(row[i])
        return isinstance(v, int) and v > b
    return check


def _tagged(tag: int, chunks: Iterator[list[Row]], key_idx: list[int], multiset: bool) -> Iterator[tuple[Any, int, Row]]:
    last: Any = None
    dup = 0
    for chunk in chunks:
        for row in chunk:
            sk = rowio.sort_key([row[i] for i in key_idx])
            if multiset:
                dup = dup + 1 if sk == last else 0
                last = sk
                yield (sk, dup), tag, row
            else:
                yield sk, tag, row


def _emit(group: list[tuple[int, Row]], key_refs: list[Callable[[Row], bool]]) -> Iterator[tuple[Row | None, Row | None, Row | None]]:
    """The (snapshot, crashed, production) versions of one key. A version whose key names
    a parent from past that parent's boundary is its side's insert by meaning, so it is
    yielded alone and the other side's same-looking key is matched without it."""
    if not group:
        return
    by = {tag: row for tag, row in group}
    s, c, p = by.get(0), by.get(1), by.get(2)
    c_new = c is not None and any(fn(c) for fn in key_refs)
    p_new = p is not None and any(fn(p) for fn in key_refs)
    if c_new:
        yield None, c, None
        c = None
    if p_new:
        yield None, None, p
        p = None
    if s is not None or c is not None or p is not None:
        yield s, c, p


def _tagged_versions(versions: Sequence[Row | None]) -> list[tuple[int, Row]]:
    """(snapshot, crashed, production) versions as `_emit` takes them: (side tag, row)."""
    return [(tag, row) for tag, row in enumerate(versions) if row is not None]


def _key(row: Row, key_idx: list[int]) -> Row:
    return tuple(row[i] for i in key_idx)


def _diff(names: Sequence[str], s: Row | None, c: Row | None, p: Row | None) -> tuple[tuple[str, Any, Any, Any], ...]:
    out: list[tuple[str, Any, Any, Any]] = []
    for i, name in enumerate(names):
        sv, cv, pv = (r[i] if r is not None else None for r in (s, c, p))
        if c is None or p is None or cv != pv or (s is not None and sv != cv):
            out.append((name, sv, cv, pv))
    return tuple(out)


def _batched_ranges(ranges: Iterable[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    """Candidate ranges grouped for reading: up to `rowio.CHUNK` ids or 500 ranges a
    batch, a wider range cut into pieces (a block of 50,000 new ids is not read at once)."""
    batch: list[tuple[int, int]] = []
    width = 0
    for lo, hi in ranges:
        for start in range(lo, hi, rowio.CHUNK):
            batch.append((start, min(hi, start + rowio.CHUNK)))
            width += batch[-1][1] - start
            if width >= rowio.CHUNK or len(batch) >= 500:
                yield batch
                batch, width = [], 0
    if batch:
        yield batch


def _ranges_condition(col: Any, ranges: list[tuple[int, int]]) -> Any:
    """Single ids (the usual drill-down result) as one expanding IN, which SQLAlchemy
    caches; wider ranges as BETWEEN-style pairs."""
    singles = [hi for lo, hi in ranges if hi - lo == 1]
    wide = [(lo, hi) for lo, hi in ranges if hi - lo != 1]
    parts = ([col.in_(singles)] if singles else []) + [and_(col > lo, col <= hi) for lo, hi in wide]
    return or_(*parts)


class _FridayRows:
    """Friday rows to write, checked in batches against production: does production hold
    their unique values (collision)? Does a parent they reference still exist (orphan)?"""

    def __init__(self, insp: _Inspector, t: TableInfo, acc: _Acc) -> None:
        self.insp, self.t, self.acc = insp, t, acc
        self.rows: list[tuple[Row, bool]] = []
        self.key_idx = [t.column_names.index(c) for c in t.identity]

    def append(self, row: Row, check_unique: bool) -> None:
        self.rows.append((row, check_unique))
        if len(self.rows) >= LOOKUP_BATCH:
            self.flush()

    def extend(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.append(row, True)

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        self._collisions([r for r, unique in rows if unique])
        self._orphans([r for r, _ in rows])

    def _collisions(self, rows: list[Row]) -> None:
        """Friday rows whose unique values as written (`unique`) production holds. A
        linked row's id is remembered: its children's references are written as the
        production row's (parents are inspected first; within a cycle, the restore's
        fixpoint may find a few more than the plan)."""
        t, names = self.t, self.t.column_names
        edges = self.insp.graph.edges_from(t.name)
        refs = unique.key_refs(t, edges, lambda parent: self.insp.boundaries[parent].value)
        linked = self.insp.linked[t.name]
        for cols in unique.collision_keys(t, edges):
            idx = [names.index(c) for c in cols]
            values: unique.WrittenKeys[Row] = unique.WrittenKeys()
            moved_only = unique.whole_row(t, cols)
            for r in rows:
                written = unique.written_key(r, idx, refs, lambda parent, v: self.insp.linked[parent].get(v), moved_only)
                if written is not None:
                    values.add(written, r)
            if not values.exact:
                continue
            ident = list(t.identity)
            for found in rowio.fetch_keys(self.insp.p, t, cols, list(values.exact), select_cols=list(cols) + ident):
                value = tuple(found[: len(cols)])
                row = values.get(value)
                if row is None:
                    continue
                key, holder = _key(row, self.key_idx), tuple(found[len(cols):])
                if t.key_kind == "surrogate":
                    linked.setdefault(key[0], holder[0])
                self.acc.keep(self.acc.collisions, Collision(key, tuple(cols), value, holder))

    def _orphans(self, rows: list[Row]) -> None:
        names = self.t.column_names
        for edge in self.insp.graph.edges_from(self.t.name):
            parent_b = self.insp.boundaries.get(edge.parent)
            if parent_b is None or parent_b.value is None or len(edge.columns) != 1:
                continue
            i = names.index(edge.columns[0])
            ti = names.index(edge.type_column) if edge.type_column else None
            wanted: dict[Any, list[Row]] = defaultdict(list)
            for r in rows:
                v = held_id(r[i])
                if v is None or (ti is not None and r[ti] != edge.type_value):
                    continue
                if isinstance(v, int) and v <= parent_b.value:
                    wanted[v].append(r)
            if not wanted:
                continue
            parent = self.insp.schema[edge.parent]
            soft = [soft_deletes.COLUMN] if soft_deletes.index(parent) is not None else []
            present = {row[0]: row[1:] for row in rowio.fetch_keys(
                self.insp.p, parent, parent.primary_key, [(v,) for v in wanted], select_cols=[*parent.primary_key, *soft])}
            for v in sorted(set(wanted) - set(present)):
                for r in wanted[v]:
                    self.acc.keep(self.acc.orphans, Orphan(_key(r, self.key_idx), edge.id, v))
            # A parent production soft-deleted is still a row: its Friday children are restored.
            gone_soft = sum(len(wanted[v]) for v, rest in present.items() if soft and rest[0] is not None)
            if gone_soft:
                self.acc.soft_parents[edge.id] += gone_soft
