"""Apply the plan: Friday's rows into PRODUCTION, every reference rewritten, in one transaction.

The order of work is what makes cycles and self-references need no guesswork:

1. **Classify** (the same inspection as `gapmend plan`, `inspect.gap`) to learn each table's Friday
   inserts, updates, deletes and conflicts; rows a committed run already restored are
   taken out (the journal, `journal.py`).
2. **Decide each Friday row's fate** before writing anything, by the server's own
   set-based statements over Friday's rows read in place or staged (`server_copy`):
   inserted, linked to the production row that already holds its unique key (a
   collision), or skipped (an orphan whose parent production deleted, a collision under
   ``--collisions skip``, or a row whose Friday parent is itself skipped). Repeated
   until nothing changes, so skips travel along cycles and self-references.
3. **Allocate ids.** A Friday row keeps its id when it lies past everything production
   holds; otherwise it gets the next id after the larger of production's and Friday's
   highest, in its original order. Keeping free ids keeps the links Friday's users were
   sent (order numbers, confirmation URLs) valid wherever production did not take them.
4. **Write** parents first with final values (ids and references already mapped), with
   foreign-key checks off for the session, then Friday's updates where production left
   the row alone (and conflicts the operator resolved as "take Friday's").
5. **Check** every reference written points at a row that exists, then commit. Any
   failure before the commit rolls everything back: production is as it was.

Inserts are ``INSERT … SELECT`` inside the server; Friday's updated rows are staged beside
production's tables in chunks and then checked, mapped and applied by one ``UPDATE … FROM``
per table (`UpdateRules.apply_updates`): never row by row.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from ..config import Settings
from ..databases import journal, row_images, triggers
from ..databases import rows as rowio
from ..databases.dialects import dialect_of
from ..databases.engines import WRITER
from ..databases.schema import JOURNAL_PREFIX, reflect
from ..errors import GapmendError
from ..inspect import census, roles
from ..inspect.gap import Reading, inspect_gaps
from ..inspect.graph import Edge, build_graph, graph_decisions
from ..inspect.payloads import PayloadEdge
from ..inspect.picks import not_picked, require_plan_picks
from ..inspect.trio import Trio
from ..inspect.unique import with_operator_keys
from ..plan.decisions import Decisions
from ..plan.delta import Delta, fingerprints
from ..plan.file import Outcome, require_outcome, require_sources_unchanged
from ..plan.model import COLLIDED, ORPHANED, IdColumn, Plan, RowClass
from ..plan.selection import Selection
from ..progress import Cancelled, NullProgress, Progress, check_cancel
from . import failure, id_guard, leftovers, rerun, scope
from .classified import Classified
from .crashed_address import choose_address, staging_shapes
from .exclusive import only_restore
from .id_guard import ConcurrentWrite  # noqa: F401  (re-exported: the restore raises it)
from .lock_watch import lock_waits_said
from .payload_rewrite import rewrite_run
from .preflight import require_ready
from .reports import REPORT_CAP, OnOrphan, RestoreOptions, RestoreReport, TableReport
from .scoped_numbers import renumber_run
from .server_copy import ServerCopy
from .sql_recorder import SqlRecorder
from .table_writes import TableWrites
from .work_context import WorkContext, WorkLayout, boundaries_of
from .work_tables import temporary_refused


class RestoreError(GapmendError):
    title = "Restore failed"


# --- fates -----------------------------------------------------------------------------


def restore(
    settings: Settings,
    decisions: Decisions | None = None,
    options: RestoreOptions = RestoreOptions(),
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> RestoreReport:
    """Restore Friday's rows into production in one transaction; see the module docstring."""
    started = time.monotonic()
    if settings.merge_cells and not options.merge_cells:
        options = replace(options, merge_cells=True)
    run_id = str(uuid.uuid4())
    phases = failure.Phases(progress or NullProgress())
    with Trio.opened(settings, decisions, phases, cancel, readonly=False) as trio, only_restore(trio.production):
        try:
            inputs = rerun.digest(settings, trio.decisions, options, trio.sources)
            report = _answered(trio, inputs, run_id, options) or _restore(trio, options, run_id, inputs)
        except Cancelled:
            raise
        except GapmendError as exc:   # already says what to do; and what is left, if anything is
            exc.message = failure.with_leftovers(exc.message, trio.production)
            exc.args = (exc.message,)
            raise
        except BaseException as exc:   # the traceback goes to the log (`__cause__`), never the screen
            raise RestoreError(failure.paragraph(exc, phases.phase, run_id, trio.production)) from exc
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _answered(trio: Trio, inputs: str, run_id: str, options: RestoreOptions) -> RestoreReport | None:
    """A rerun's answer from the journal (`rerun`): nothing to do, or None."""
    if options.dry_run is not None or options.per_table:
        return None
    with trio.production.connect() as conn:
        last = rerun.answered(conn, inputs)
    if last is None:
        return None
    trio.progress.note(f"already restored by run {last.run_id[:8]}: crashed, the snapshot, the decisions and the "
                       "options are as that run found them; nothing read again, nothing written")
    started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return RestoreReport(run_id, started, 0.0, {}, [], noop=True)


class _ReadEveryTable(Exception):
    """The tables a scoped restore read do not hold the plan's references (`scope`)."""


def _restore(trio: Trio, options: RestoreOptions, run_id: str, inputs: str) -> RestoreReport:
    known = _known_delta(trio, options)
    read = scope.restore_scope(trio.production, known, options.reviewed if options.scoped else None, trio.decisions,
                               options.tables or ())
    if read is not None:
        trio.progress.note(f"reading {len(read)} tables: those Friday wrote, and those their rows name or that "
                           "name them")
        try:
            return _restore_reading(trio, options, read, known, run_id, inputs)
        except _ReadEveryTable as moved:
            trio.progress.note(f"{moved}: reading every table")
    return _restore_reading(trio, options, None, known, run_id, inputs)


def _restore_reading(trio: Trio, options: RestoreOptions, read: frozenset[str] | None, known: Delta | None,
                     run_id: str, inputs: str) -> RestoreReport:
    """The restore, reading the tables of `read` (None: every one)."""
    decisions, progress = trio.decisions, trio.progress
    schema = with_operator_keys(reflect(trio.crashed, "crashed", only=read), decisions)
    with trio.crashed.connect() as c_conn:
        # Friday's type values are the ones its rows hold; production's own cannot matter
        # to rows being restored (and production's schema is checked by the plan, next).
        graph = build_graph(schema, [c_conn], graph_decisions(decisions, trio.settings.app_aliases))
    address, path = choose_address(trio.production, trio.crashed, schema, options.staged)
    with trio.production.connect() as p_conn:   # what a stopped restore left, put back first
        p_conn.execution_options(**{WRITER: True})
        for done in leftovers.put_back(p_conn):
            progress.note(f"{done} (a stopped restore had left them)")
    progress.note(f"rows travel {path}")
    classified = Classified.of(schema, decisions)
    created = False
    try:
        plan = inspect_gaps(trio.knowing(schema, graph),
                            Reading.restoring(classified.sink, Classified.CLASSES, frozenset(schema.tables) - classified.natural,
                                              known, every_table=read is None)).plan
        findings = roles.findings_of(plan)
        if read is not None:   # before anything is written
            assert known is not None and options.reviewed is not None
            moved = scope.references_moved(known, plan)
            if moved is not None:
                raise _ReadEveryTable(moved)
            findings = options.reviewed.role_findings   # its look at every table

        def id_columns(order: list[str]) -> list[IdColumn]:
            # The picks first: an id picked that Friday no longer holds is refused as such.
            # `--yes` decides nothing: a column that can carry a moved id is the operator's.
            with trio.crashed.connect() as c_conn, trio.production.connect() as p_conn:
                require_plan_picks(c_conn, schema, plan, order)
                return census.plan_census(trio.knowing(schema, graph), plan, order, c_conn, p_conn)

        # A reviewed plan's collisions and orphans are compared by what the writing finds (`_outcomes`).
        selection = require_ready(plan, decisions, options,
                                  findings=findings, id_columns=id_columns, detailed=frozenset(),
                                  partial=read is not None)
        # After the plan, so that input the plan refuses leaves production without a trace.
        created = options.dry_run is None and journal.ensure(trio.production)
        with trio.crashed.connect() as c_conn, trio.production.connect() as p_conn:
            p_conn.execution_options(**{WRITER: True})
            batches = _WriteBatches(p_conn, options.fail_after_batches)
            context = WorkContext(
                production=p_conn, crashed=c_conn, address=address, schema=schema, graph=graph,
                boundaries=boundaries_of(plan, schema), run_id=run_id, execute=batches.execute_set,
                progress=progress, cancel=trio.cancel, shapes=staging_shapes(trio.production, trio.crashed, address, schema),
                # Not the staging tables of Friday's rows: InnoDB's temporary
                # tablespace keeps its size until the server restarts.
                temporary=not address.staged and dialect_of(p_conn).reopens_temporary(p_conn))
            report = _Restoring(context, inputs, plan, decisions, options, selection, classified, batches).execute()
    except BaseException:
        if created:   # a first run that failed: production as it was, without empty journal tables
            with contextlib.suppress(DBAPIError):   # the server gone: the first error is the one to tell
                journal.drop_if_empty(trio.production)
        raise
    finally:
        classified.close()
    report.path = path
    return report


def _known_delta(trio: Trio, options: RestoreOptions) -> Delta | None:
    """Friday's delta from the reviewed plan, when it has one and crashed and the snapshot
    are as it read them (refused when they are not): only its keys are compared again.
    One found trusting ``updated_at`` is used only by a restore that trusts it too."""
    reviewed = options.reviewed
    if reviewed is None or reviewed.delta is None or trio.snapshot is None:
        return None
    if reviewed.delta.trusting and not trio.settings.trust_updated_at:
        trio.progress.note("the plan's delta was found trusting updated_at and this restore does not: "
                           "comparing in full")
        return None
    require_sources_unchanged(reviewed, dict(trio.sources.identities), fingerprints(trio.crashed, trio.snapshot))
    trio.progress.note(f"Friday's delta from {reviewed.where()}: {sum(map(len, reviewed.delta.keys.values()))} keys "
                       "to compare again, crashed and the snapshot unchanged since")
    return reviewed.delta


class _WriteBatches:
    """The restore's statements on production's application tables, counted as write
    batches (`RestoreOptions.fail_after_batches` fails after so many); work tables and
    journal statements are not counted."""

    def __init__(self, production: Connection, limit: int | None) -> None:
        self.production, self.limit, self.count = production, limit, 0

    def execute_set(self, stmt: Any) -> int:
        """One set-based statement of the server-side copy; returns the rows it touched."""
        n = self.production.execute(stmt).rowcount
        target = getattr(getattr(stmt, "table", None), "name", "")
        if not target.startswith(JOURNAL_PREFIX):
            self._counted()
        return int(n)

    def execute_rows(self, stmt: Any, rows: list[dict[str, Any]]) -> None:
        """One statement for many rows (a multi-row write)."""
        if not rows:
            return
        rowio.execute_rows(self.production, stmt, rows)
        self._counted()

    def _counted(self) -> None:
        self.count += 1
        if self.limit is not None and self.count >= self.limit:
            raise RestoreError(f"injected failure after write batch {self.count}")


@dataclass
class _Restoring:
    """One restore's writes, after the plan: in `context`'s session on production."""

    context: WorkContext
    inputs: str   # what the run is decided by, hashed: a rerun with the same answers from the journal (`rerun`)
    plan: Plan
    decisions: Decisions
    options: RestoreOptions
    selection: Selection
    classified: Classified
    batches: _WriteBatches
    reports: dict[str, TableReport] = field(default_factory=lambda: defaultdict(TableReport))
    counters: dict[str, int] = field(default_factory=dict)   # AUTO_INCREMENT before the restore (`id_guard`)
    order: list[str] = field(default_factory=list)   # the tables of this restore, in write order
    suspended: list[str] = field(default_factory=list)   # production's triggers, for the report
    found_nothing: bool = False   # nothing new to write: rolled back, the journal left as it was

    def __post_init__(self) -> None:
        context = self.context
        self.run_id, self.production, self.schema, self.graph = context.run_id, context.production, context.schema, context.graph
        self.progress, self.cancel = context.progress, context.cancel

    # -- orchestration --

    def execute(self) -> RestoreReport:
        started_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        tables = self.order = self.selection.order
        for name in tables:
            self.reports[name].not_picked = not_picked(self.plan.table(name))
        layout = WorkLayout.of(self.plan, self.classified, tables, self.schema)
        self.server = ServerCopy(self.context, layout)
        self.writes = TableWrites(self.server, self.classified, self.options, self.decisions, self.reports)
        if self.context.address.staged:
            self.progress.start("staging Friday's rows in production's database",
                                sum(self.plan.table(n).count(RowClass.FRIDAY_INSERT) for n in layout.surrogate))
        try:
            self.server.open(self.progress.advance)
        except BaseException as exc:
            with contextlib.suppress(DBAPIError):   # a connection the server dropped: `leftovers` finds them
                self.server.close()
            refused = temporary_refused(self.production.engine) if isinstance(exc, DBAPIError) and self.server.temporary else None
            if refused is not None:
                raise RestoreError(f"{refused} (the restore's work tables are temporary): nothing was written") from None
            raise
        # Cycles are written with their final ids in one pass; references are checked
        # by `_check_references` before the commit instead (a session setting).
        dialect = dialect_of(self.production)
        dialect.foreign_key_checks(self.production, False)
        try:
            with lock_waits_said(self.production.engine, self.production, self.progress):   # a wait on the app's locks, named
                self._write(tables, list(layout.surrogate))
        except BaseException:
            with contextlib.suppress(Exception):   # the first failure is the one to tell; `failure` says what is left
                self._put_back(failed=True)
            raise
        self._put_back(failed=False)   # a failure here is told too: the run committed, something is left
        report = RestoreReport(self.run_id, started_at, 0.0, {t: self.reports[t] for t in tables}, self.selection.pulled_in, noop=False,
                               dry_run=str(self.options.dry_run) if self.options.dry_run else None,
                               triggers=self.suspended, approved_now=self.selection.approved_now,
                               left_out=self.selection.left_out)
        t = report.totals()
        report.noop = self.found_nothing if not self.options.per_table else \
            not (t["inserted"] or t["updated"] or t["deleted"] or t["linked"])
        return report

    def _write(self, tables: list[str], surrogate: list[str]) -> None:
        """Counters moved and triggers suspended (each recorded first), then the rows."""
        # Recorded before they move: a way out that cannot put them back leaves the record (`leftovers`).
        self.counters = id_guard.counters(self.production, self.schema, surrogate)   # the tables that insert
        self.progress.start("moving the id counters past the restore's ids", None)
        leftovers.record_counters(self.production, self.run_id, self.counters)
        if self.options.dry_run is None:
            id_guard.reserve_ids(self.production, self.plan, self.schema, tables, self.counters)
        # Friday's rows already hold what its triggers wrote: production's stay out (`triggers`).
        suspended = triggers.on_tables(self.production, tables)
        self.production.rollback()
        self.progress.start("suspending production's triggers on the tables it writes", None)
        triggers.suspend(self.production, self.run_id, suspended)
        self.suspended = [t.name for t in suspended]
        if suspended:
            self.progress.note("triggers suspended for the restore: " + ", ".join(t.name for t in suspended))
        if self.options.per_table:
            self._execute_per_table(tables)
        else:
            self._execute_atomic(tables)

    def _put_back(self, failed: bool) -> None:
        """Everything changed outside the transaction, put back (`leftovers`): on this
        connection, or when the server dropped it, once more on a new one (SQLAlchemy
        connects again after the rollback); the temporary work tables went with the old.
        After a failure, a note: the phase that failed is the one to tell (`failure`)."""
        said = "putting back production's triggers, id counters and work tables"
        if failed:
            self.progress.note(said)
        else:
            self.progress.start(said, None)
        try:
            try:
                self.production.rollback()
                dialect_of(self.production).foreign_key_checks(self.production, True)
                self.server.close()
            except DBAPIError:   # the connection is gone, and its session with it: a new one below
                self.production.rollback()
            for done in leftovers.put_back(self.production, self.run_id):   # staged work tables the close could not drop too
                self.progress.note(done)
        finally:
            if self.options.dry_run is not None:
                triggers.forget(self.production, self.run_id)

    def _count_rows_before(self, tables: list[str]) -> None:
        counts = rowio.row_counts(self.production, [self.schema[name] for name in tables])
        for name in tables:
            self.reports[name].rows_before = counts[name]

    def _derive_rows_after(self, tables: list[str]) -> None:
        # Nobody else writes these tables during the restore (`id_guard`), so the count
        # follows from what it wrote; counting again would read every table once more.
        for name in tables:
            r = self.reports[name]
            r.rows_after = r.rows_before + r.inserted - r.deleted

    def _prepare(self, tables: list[str]) -> None:
        self.progress.start("locking the ids past production's newest and counting its rows", None)
        self._count_rows_before(tables)
        id_guard.check_unchanged(self.production, self.plan, self.schema, tables)
        self.writes.load_done(tables)
        self._decide()   # the natural-keyed tables' rows are staged and decided here too

    def _decide(self) -> None:
        """The fates of the integer-keyed tables' Friday rows, decided by the server, and their ids."""
        names = self.server.tables
        self.writes.stage_natural(self.order)
        self.progress.start("deciding each Friday row (server-side)", len(names) * 2)
        done = self.server.decide(self.options.collisions, self.options.orphans == OnOrphan.NULL,
                                  self.writes.staged_tables(self.order), self.cancel, self.progress.advance)
        for name in names:
            report = self.reports[name]
            report.already_done += done[name]
            report.kept_ids, report.moved_count, report.moved = self.server.surrogate_rules.allocate(name, REPORT_CAP)

    def _execute_atomic(self, tables: list[str]) -> None:
        """Everything in one transaction: any failure leaves production as it was."""
        recorder = SqlRecorder(self.production, self.options.dry_run) if self.options.dry_run is not None else None
        with self.production.begin() as trans:
            try:
                if recorder is not None:
                    journal.ensure_temporary(self.production)
                    recorder.start()
                self._prepare(tables)
                writer = journal.Writer(self.production, self.run_id)
                writer.start()
                for name in tables:
                    check_cancel(self.cancel)
                    self.writes.write_inserts(self.schema[name], writer)
                for name in tables:
                    check_cancel(self.cancel)
                    self.writes.write_changes(self.schema[name], writer)
                writer.flush()
                resumed = self._rewrite_payloads()
                self._renumber(writer)
                self._check_references(tables)
                self._derive_rows_after(tables)
                if self.options.reviewed is not None:   # what the server's own statements found
                    require_outcome(self.options.reviewed, self._outcomes(tables), self.options.orphans == OnOrphan.SKIP)
                self._keep_after_images(tables)
                rerun.record(self.production, self.run_id, self.inputs)
                writer.finish(self._summary(), resumed)
                self.found_nothing = recorder is None and not resumed and self._found_nothing()
                if recorder is None and not self.found_nothing:
                    self.progress.start("committing", None)
            finally:
                if recorder is not None:
                    recorder.stop()
            if recorder is not None or self.found_nothing:
                # A dry run: everything above really ran, and is undone. A run that found
                # nothing new: its journal would only repeat the last one's.
                trans.rollback()

    def _found_nothing(self) -> bool:
        """Whether this run changed no row and journaled only what earlier runs did."""
        r = self.reports.values()
        if any(x.inserted or x.updated or x.deleted or x.linked or x.renumbered or x.payload_ids for x in r):
            return False
        return journal.repeats_only(self.production, self.run_id)

    def _execute_per_table(self, tables: list[str]) -> None:
        """One transaction per table, for gaps too large for one. The id allocation for
        every table is committed first, so a run that stops after some tables resumes with
        the same ids and the rows it already wrote keep pointing at the right rows."""
        if self.options.dry_run is not None:
            raise RestoreError("--dry-run runs as one transaction: leave out --per-table")
        writer = journal.Writer(self.production, self.run_id)
        with self.production.begin():
            self._prepare(tables)
            writer.start(status=journal.STOPPED)
            for name in self.server.tables:
                self.server.surrogate_rules.write_allocated(name)
        for name in tables:
            check_cancel(self.cancel)
            with self.production.begin():
                self.writes.write_inserts(self.schema[name], writer)
                self.writes.write_changes(self.schema[name], writer)
                if self.options.reviewed is not None:
                    require_outcome(self.options.reviewed, self._outcomes([name]), self.options.orphans == OnOrphan.SKIP,
                                    written=f"{name} was not written, the tables before it were (a run resumes them)")
                writer.flush()
            self.progress.note(f"{name}: committed")
        with self.production.begin():
            resumed = self._rewrite_payloads()   # last: every table's ids are known by now
            self._renumber(writer)
            self._check_references(tables)
            self._derive_rows_after(tables)
            self._keep_after_images(tables)
            rerun.record(self.production, self.run_id, self.inputs)
            writer.finish(self._summary(), resumed)
            self.progress.start("committing", None)

    def _outcomes(self, tables: list[str]) -> dict[str, Outcome]:
        """Per table, the Friday rows this run found colliding and orphaned (linked or
        skipped, by the reasons `server_copy`'s work tables record)."""
        out = {}
        for name in tables:
            report = self.reports[name]
            collided = [k for k, _ in report.linked] + [k for k, why in report.skipped if why.startswith(COLLIDED)]
            orphaned = [k for k, why in report.skipped if ORPHANED in why]
            out[name] = Outcome(collided, orphaned)
        return out

    def _rewrite_payloads(self) -> list[str]:
        """Ids inside the JSON values of the rows this run wrote (`payload_rewrite`), and
        of the rows of the stopped ``--per-table`` runs it resumes, whose own last step
        this was; returns those runs, for the journal to mark resumed."""
        confirmed = [PayloadEdge.from_dict(d) for d in self.decisions.payload_edges]
        sure = {e.id for e in confirmed}
        unconfirmed = [PayloadEdge.from_dict(d.as_decided()) for d in self.plan.payload_edges if d.id not in sure]
        stopped = journal.stopped_runs(self.production, self.run_id)
        wanted = set(self.order)
        passes = [(stopped, confirmed, []), ([self.run_id], [e for e in confirmed if e.table in wanted],
                                           [e for e in unconfirmed if e.table in wanted])]
        for runs, sure_edges, unsure_edges in passes:
            if not runs or not (sure_edges or unsure_edges):
                continue
            self.progress.start("ids inside JSON values" + (" (of the stopped run resumed)" if runs is stopped else ""),
                                None)
            done = rewrite_run(self.context, runs, sure_edges, unsure_edges, self.batches.execute_rows)
            for table, result in done.items():
                report = self.reports[table]
                report.payload_ids += result.ids
                report.payload_rows += result.rows
                report.payload_notes += result.unresolved + result.unconfirmed
        return stopped


    def _renumber(self, writer: journal.Writer) -> None:
        """Numbers within a parent both sides used (`scoped_numbers`), among the rows this
        run wrote, once every parent is mapped."""
        numbers = [n for n in self.decisions.scoped_numbers() if n.table in self.order]
        if not numbers:
            return
        self.progress.start("numbers within a parent", None)
        for table, changed in renumber_run(self.context, numbers, writer, self.batches.execute_rows).items():
            self.reports[table].renumbered += changed

    def _keep_after_images(self, tables: list[str]) -> None:
        """Every row this run inserted or updated, as it leaves it (`row_images`): `undo`
        takes back only the rows production has not touched since."""
        total = sum(self.reports[n].inserted + self.reports[n].updated for n in tables)
        self.progress.start("keeping the restored rows' images for undo", total)
        for name in tables:
            t = self.schema[name]
            if not (self.reports[name].inserted or self.reports[name].updated):
                continue   # nothing of this table to keep (most tables of an app)
            if row_images.integer_keys(t):   # found and fingerprinted by the server
                self.progress.advance(row_images.keep_digests(self.production, self.run_id, t, ("inserted", "updated")))
                continue
            for page in journal.run_keys(self.production, name, self.run_id, ("inserted", "updated"), row_images.BATCH):
                check_cancel(self.cancel)
                keys = [row_images.typed_key(t, new) for _, new in page]
                rows = list(rowio.fetch_keys(self.production, t, t.identity, keys))
                row_images.keep(self.production, self.run_id, t, journal.AFTER, rows)
                self.progress.advance(len(page))

    def _summary(self) -> str:
        r = self.reports.values()
        return (f"inserted {sum(x.inserted for x in r)}, updated {sum(x.updated for x in r)}, "
                f"deleted {sum(x.deleted for x in r)}")


    # -- integrity --

    def _check_references(self, tables: list[str]) -> None:
        """Every reference value this run wrote must find its parent row in production."""
        for name in tables:
            if name not in self.server.work and not self.reports[name].inserted:
                continue
            check = (self.server.surrogate_rules.broken_reference if name in self.server.work
                     else self.server.natural_key_rules.broken_reference)
            for edge in self.graph.edges_from(name):
                _require_none_missing(edge, check(name, edge))
        for name in tables:
            if self.reports[name].updated:   # Friday's updates: the references they wrote
                for edge in self.graph.edges_from(name):
                    _require_none_missing(edge, self.server.update_rules.broken_update(name, edge))


def _require_none_missing(edge: Edge, missing: list[Any]) -> None:
    if missing:
        raise RestoreError(f"integrity check failed: {edge.id} would point at missing {edge.parent} "
                           f"{missing[:5]}: nothing was written; report this with the plan")


