"""Steps 1-4: every table's gap, its detail, approve/skip and conflict resolution.

The plan is built in a thread worker (it reads three databases); the table is filled
when the worker's result arrives, never from the thread.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from gapmend.core import shown
from gapmend.core.databases.journal import encode
from gapmend.core.errors import GapmendError
from gapmend.core.inspect import cell_merge, picks
from gapmend.core.inspect.framework import require_approvable
from gapmend.core.inspect.roles import findings_of
from gapmend.core.inspect.samples import sample_rows
from gapmend.core.logfile import LOGGER
from gapmend.core.plan.model import Decision, RowClass, TableGap
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from .dialogs import ConfirmScreen
from .gap_detail import detail_lines, short, val
from .plan_scan import RESCAN, PlanScreen

# What the operator decides on comes first (all of it visible at 80 columns); the rest
# follows, and the detail below says it in words.
COLUMNS = ("table", "decision", "Fri ins", "apply", "confl", "collide", "orphan",
           "prod ins", "boundary", "conf", "key", "refs")
DECISION_COLUMN = COLUMNS.index("decision")
CONF_COLUMN = COLUMNS.index("conf")


class InspectGapsScreen(PlanScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve"),
        Binding("s", "skip_table", "Skip"),
        Binding("f", "take_friday", "Take Friday's"),
        Binding("p", "keep_production", "Keep prod's"),
        Binding("m", "merge_cells", "Merge cells"),
        Binding("o", "confirm_boundary", "Confirm boundary"),
        Binding("w", "confirm_roles", "Confirm roles"),
        Binding("e", "confirm_edges", "Confirm edges"),
        Binding("j", "pick_job", "Pick job"),
        RESCAN,
    ]

    def compose_body(self) -> ComposeResult:
        yield from self.compose_scan()
        table: DataTable[str] = DataTable(id="gaps", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        conflicts: DataTable[str] = DataTable(id="conflicts", cursor_type="row")
        conflicts.add_columns("both changed", "reason", "resolution")
        yield conflicts
        jobs: DataTable[str] = DataTable(id="jobs", cursor_type="row")
        jobs.add_columns("job", "class", "models", "due", "restore")
        yield jobs
        with VerticalScroll(id="detail-scroll"):
            yield Static("", id="detail")
            yield Static("", id="samples")

    def _show_plan(self, when: str) -> None:
        assert self.plan is not None
        self._fill()
        self.query_one("#scan-status", Static).update(Text(f"{len(self.plan.tables)} tables · {self.plan.mode} · {when}"))
        # Steps 1, 2 and 4 are reading: done once the plan is on screen (conflicts keep
        # production's values until the operator takes Friday's). Step 3 is done when
        # every table is decided (`_decide`).
        if self.key in ("inspect", "order", "conflicts"):
            self.mark("done")

    def _fill(self) -> None:
        assert self.plan is not None
        table = self.query_one("#gaps", DataTable)
        table.clear()
        for name in self.plan.order:
            table.add_row(*self._cells(self.plan.table(name)), key=name)
        table.focus()
        self._show_detail(self.plan.order[0] if self.plan.order else None)

    def _cells(self, g: TableGap) -> tuple[str, ...]:
        return (short(g.table, 16), self._decision(g.table), str(g.count(RowClass.FRIDAY_INSERT)),
                str(g.count(RowClass.FRIDAY_UPDATE) + g.count(RowClass.MERGE)), str(g.count(RowClass.CONFLICT)), str(len(g.collisions)),
                str(len(g.orphans)), str(g.count(RowClass.PRODUCTION_INSERT)),
                "-" if g.boundary.value is None else str(g.boundary.value), g.boundary.confidence, g.key_kind,
                str(len(g.references_out)))

    def _decision(self, name: str) -> str:
        """The plan's decision; `*` marks gapmend's default for a framework table."""
        assert self.plan is not None
        g = self.plan.table(name)
        if g.picked is not None and g.decision is Decision.APPROVE:
            return f"{len(g.picked)} picked"
        return g.decision.value + ("*" if g.default_reason else "")

    @on(DataTable.RowHighlighted, "#gaps")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.row_key.value if event.row_key else None)

    def _show_detail(self, name: str | None) -> None:
        if self.plan is None or name is None:
            return
        g = self.plan.table(name)
        lines = detail_lines(self.plan, g, self.context.decisions().roles_confirmed)
        self.query_one("#detail", Static).update(Text("\n".join(lines)))
        self._fill_conflicts(g)
        self._fill_jobs(g)
        self.query_one("#samples", Static).update("")
        self.load_samples(g)

    @work(thread=True, exclusive=True, exit_on_error=False, group="samples", description="sample rows")
    def load_samples(self, g: TableGap) -> tuple[str, dict[str, list[dict[str, object]]]]:
        friday = g.samples.get(RowClass.FRIDAY_INSERT.value, [])[:3]
        production = g.samples.get(RowClass.PRODUCTION_INSERT.value, [])[:3]
        return g.table, sample_rows(self.context.settings, g.table, friday, production)

    @on(Worker.StateChanged)
    def _samples_loaded(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "samples" or event.state != WorkerState.SUCCESS or self.plan is None:
            return
        table, rows = event.worker.result
        lines = ["", f"sample rows of {table} — Friday's inserts (crashed) and production's own:"]
        for side, label in (("crashed", "Friday    "), ("production", "production")):
            for row in rows.get(side, []):
                lines.append(f"  {label} " + ", ".join(f"{k}={val(v, 20)}" for k, v in list(row.items())[:5]))
        self.query_one("#samples", Static).update(Text("\n".join(lines)))

    def _fill_conflicts(self, g: TableGap) -> None:
        """One row per row both sides changed (conflicts, and rows merged by column), with
        how it is resolved now: a whole row from one side, or which column from which."""
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        decisions = self.context.decisions()
        rows = [(c.key, c.reason, c.merge) for c in g.conflicts] + [(m.key, "both changed, other columns", m) for m in g.merges]
        for key, reason, merge in rows:
            choice = decisions.choice(g.table, encode(key), self.context.settings.merge_cells)
            whose = ("Friday's" if choice == "friday" else
                     cell_merge.describe(merge) if choice == "merge" and merge is not None and merge.friday else
                     "production's")
            table.add_row(short(shown.key(key), 24), reason, whose, key=encode(key))
        table.display = bool(rows)

    def _fill_jobs(self, g: TableGap) -> None:
        """Friday's queued jobs of the table, one per row, with what the restore does with each."""
        assert self.plan is not None
        table = self.query_one("#jobs", DataTable)
        table.clear()
        for job in (j for j in self.plan.queued_jobs if j.table == g.table):
            table.add_row(str(job.id), short(job.job, 28), short(", ".join(job.models) or "-", 28),
                          str(job.available_at), picks.fate(g, job.id), key=str(job.id))
        table.display = bool(table.row_count)

    def _selected(self) -> str | None:
        table = self.query_one("#gaps", DataTable)
        if self.plan is None or table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _decide(self, decision: Decision) -> None:
        name = self._selected()
        if name is None:
            return
        assert self.plan is not None
        if decision is Decision.APPROVE:
            try:
                g = self.plan.table(name)
                require_approvable(name, g.default_reason if g.default_fixed else None)
            except GapmendError as exc:
                self.refuse(f"{name} stays out", exc.message)
                return
        decisions = self.context.decisions()
        decisions.decide(name, decision.value)
        self.context.save_decisions(decisions)
        table = self.query_one("#gaps", DataTable)
        table.update_cell_at((table.cursor_coordinate.row, DECISION_COLUMN), decision.value)
        self.plan = replace(self.plan, tables=[replace(g, decision=decision, default_reason=None, picked=None) if g.table == name else g
                                               for g in self.plan.tables])
        if all(self.plan.table(t).decision is not Decision.PENDING for t in self.plan.order):
            self.context.checklist.mark("decide", "done")
        LOGGER.info("wizard: %s: %s (the operator's decision)", name, decision.value)
        self.notify(f"{name}: {decision.value}")

    def action_approve(self) -> None:
        self._decide(Decision.APPROVE)

    def action_skip_table(self) -> None:
        self._decide(Decision.SKIP)

    def _resolve(self, take: str) -> None:
        """On the conflicts list (Tab to it): the highlighted conflict; elsewhere: the whole table."""
        name = self._selected()
        if name is None or self.plan is None:
            return
        g = self.plan.table(name)
        both = [c.key for c in g.conflicts] + [m.key for m in g.merges]   # rows both sides changed
        if not both:
            self.notify(f"{name} has no conflicts")
            return
        decisions = self.context.decisions()
        conflicts = self.query_one("#conflicts", DataTable)
        whose = {"friday": "Friday's values", "production": "production's values", "merge": "merged by column"}[take]
        if self.focused is conflicts and conflicts.row_count:
            key = str(conflicts.coordinate_to_cell_key(conflicts.cursor_coordinate).row_key.value)
            decisions.resolve(name, {key}, take)
            message = f"{name} {key}: {whose}"
        else:
            decisions.resolve(name, {"*"}, take)
            message = f"{name}: {len(both)} rows both sides changed → {whose}"
        self.context.save_decisions(decisions)
        row = conflicts.cursor_coordinate
        self._fill_conflicts(g)
        if conflicts.row_count:
            conflicts.move_cursor(row=min(row.row, conflicts.row_count - 1))
        LOGGER.info("wizard: resolved %s", message)
        self.notify(message)

    def action_take_friday(self) -> None:
        self._resolve("friday")

    def action_keep_production(self) -> None:
        self._resolve("production")

    def action_merge_cells(self) -> None:
        self._resolve("merge")

    def action_confirm_boundary(self) -> None:
        """An estimated boundary (below high confidence) keeps the restore off the table
        until the operator, having read its evidence, confirms it (as `gapmend boundary`)."""
        name = self._selected()
        if name is None or self.plan is None:
            return
        b = self.plan.table(name).boundary
        if b.value is None or not b.unconfirmed:
            self.notify(f"{name}: the boundary is {b.confidence}; nothing to confirm")
            return

        def confirmed(yes: bool | None) -> None:
            if not yes or self.plan is None:
                return
            decisions = self.context.decisions()
            decisions.set_boundary(name, int(b.value))  # type: ignore[arg-type]
            self.context.save_decisions(decisions)
            sure = replace(b, method="operator", confidence="operator", evidence=f"confirmed by the operator: {b.evidence}")
            self.plan = replace(self.plan, tables=[replace(g, boundary=sure) if g.table == name else g
                                                   for g in self.plan.tables])
            table = self.query_one("#gaps", DataTable)
            table.update_cell_at((table.cursor_coordinate.row, CONF_COLUMN), "operator")
            self._show_detail(name)
            LOGGER.info("wizard: %s: boundary %s confirmed by the operator", name, b.value)
            self.notify(f"{name}: boundary {b.value} confirmed")

        self.app.push_screen(ConfirmScreen(
            f"Confirm that {name}'s snapshot ends at id {b.value}?",
            f"{b.confidence} confidence: {b.evidence}\n\nRows past it are restored as Friday's; "
            "a boundary too low inserts second copies of snapshot rows.", yes_label="Yes, it ends there"), confirmed)

    def action_confirm_roles(self) -> None:
        """What the contents suggest about the roles (`roles`), confirmed by the operator
        after reading it, as `gapmend roles --confirm`; the restore waits for it."""
        if self.plan is None or not self.plan.role_findings:
            self.notify("the contents fit the roles: nothing to confirm")
            return
        found = findings_of(self.plan)

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            decisions = self.context.decisions()
            decisions.confirm_roles(f.id for f in found)
            self.context.save_decisions(decisions)
            LOGGER.info("wizard: roles confirmed by the operator: %s", "; ".join(f.message for f in found))
            self._show_detail(self._selected())
            self.notify("roles confirmed")

        self.app.push_screen(ConfirmScreen(
            "Are the roles right?", "\n\n".join(f.message for f in found) + "\n\n" + "\n".join(
                facts.line() for facts in self.plan.roles), yes_label="Yes, they are right"), confirmed)

    def action_confirm_edges(self) -> None:
        """The highlighted table's inferred references (implied by naming, or ids inside
        its JSON and serialized values), confirmed after reading their evidence, as
        `gapmend edges --confirm`; confirmed ids inside values are rewritten by the restore."""
        name = self._selected()
        if name is None or self.plan is None:
            return
        implied = [e for e in self.plan.edges if e.child == name and not e.confirmed]
        inside = [e for e in self.plan.payload_edges if e.table == name and not e.confirmed]
        if not implied and not inside:
            self.notify(f"{name}: no unconfirmed reference")
            return

        def confirmed(yes: bool | None) -> None:
            if not yes or self.plan is None:
                return
            decisions = self.context.decisions()
            decisions.confirm_references((e.id for e in implied), [e.as_decided() for e in inside])
            self.context.save_decisions(decisions)
            ids = {e.id for e in implied} | {e.id for e in inside}
            self.plan = replace(self.plan,
                                edges=[replace(e, confirmed=True) if e.id in ids else e for e in self.plan.edges],
                                payload_edges=[replace(e, confirmed=True) if e.id in ids else e
                                               for e in self.plan.payload_edges])
            LOGGER.info("wizard: edges confirmed: %s", ", ".join(sorted(ids)))
            self._show_detail(name)
            self.notify(f"{name}: {len(ids)} reference{'s' if len(ids) != 1 else ''} confirmed")

        self.app.push_screen(ConfirmScreen(
            f"Confirm {name}'s inferred references?",
            "\n".join(f"{e.id}  ({e.evidence})" for e in [*implied, *inside])
            + "\n\nConfirmed ids inside values are rewritten by the restore; drop a wrong one with `gapmend edges --drop`.",
            yes_label="Confirm them"), confirmed)

    def action_pick_job(self) -> None:
        """On the jobs list: the highlighted Friday job is replayed by the restore, or
        left out again (as `gapmend jobs --pick/--unpick`); the table's other Friday rows
        stay out, and the ids inside the picked jobs' payloads are confirmed for rewriting."""
        name = self._selected()
        jobs = self.query_one("#jobs", DataTable)
        if name is None or self.plan is None:
            return
        if self.focused is not jobs or not jobs.row_count:
            self.notify("Tab to the jobs list, then j on a job" if jobs.row_count else f"{name} has no Friday job")
            return
        job_id = int(str(jobs.coordinate_to_cell_key(jobs.cursor_coordinate).row_key.value))
        decisions = self.context.decisions()
        g = self.plan.table(name)
        if g.picked is not None and job_id in g.picked:
            picks.unpick(decisions, name, [job_id])
            message = f"{name} {job_id}: left out"
        else:
            confirmed = picks.pick(decisions, self.plan, name, [job_id])
            message = f"{name} {job_id}: replayed by the restore" + (
                f" (ids inside its payload confirmed: {len(confirmed)})" if confirmed else "")
            ids = set(confirmed)
            self.plan = replace(self.plan, payload_edges=[replace(e, confirmed=True) if e.id in ids else e
                                                          for e in self.plan.payload_edges])
        self.context.save_decisions(decisions)
        self.plan = picks.applied(self.plan, decisions, name)
        LOGGER.info("wizard: %s", message)
        row = jobs.cursor_coordinate.row
        table = self.query_one("#gaps", DataTable)
        table.update_cell_at((table.cursor_coordinate.row, DECISION_COLUMN), self._decision(name))
        self._fill_jobs(self.plan.table(name))
        jobs.move_cursor(row=row)
        self.notify(message)
