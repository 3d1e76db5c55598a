"""Steps 5 and 11: the dry run and the restore, in a worker, with live progress.

The restore runs off the UI thread; core reports through `Progress`, which this screen
adapts into messages (thread-safe `post_message`). Cancel sets the token core checks
between chunks: the transaction rolls back and production is left as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from gapmend.core import shown
from gapmend.core.apply.preflight import require_ready
from gapmend.core.apply.reports import RestoreReport
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.databases.dialects import dialect_of
from gapmend.core.errors import GapmendError
from gapmend.core.logfile import LOGGER
from gapmend.core.plan.file import Reviewed
from gapmend.core.private_files import require_room
from gapmend.core.progress import Cancelled
from gapmend.core.runbook.backup import require_recent_backup
from gapmend.core.runbook.report import render, render_totals, write_report
from gapmend.core.runbook.restored import describe, last_restore
from gapmend.core.runbook.room import room
from gapmend.core.runbook.steps import step
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import ProgressBar, RichLog, Static
from textual.worker import Worker, WorkerState

from .base import StepScreen


class RestoreScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run"),
        Binding("escape", "cancel", "Cancel run"),
    ]

    @dataclass
    class PhaseStarted(Message):
        label: str
        total: int | None

    @dataclass
    class Advanced(Message):
        done: int

    @dataclass
    class Noted(Message):
        line: str

    def __init__(self, context, step: int | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context, step)
        self.cancel_token = context.cancel   # shared: quitting cancels the restore too
        self.started = 0.0
        self.phase_started = 0.0
        self.dry = self.key == "dry-run"
        self.row_phase = False
        self.phases = 0
        self.log_lines: list[str] = []

    def compose_body(self) -> ComposeResult:
        what = (f"runs the restore inside a transaction, writes every statement to {self._dry_run_file()} and "
                "rolls back" if self.dry else "writes Friday's rows into production in one transaction")
        yield Static(f"Press r: gapmend {what}.", id="restore-what")
        # No time left for the whole run: nobody knows the phases' lengths in advance, and a
        # made-up estimate misleads. The phase bar's is measured, where the phase counts rows.
        yield Static("overall", id="overall-label", classes="bar-label")
        yield ProgressBar(total=100, id="overall", show_eta=False, show_percentage=False)
        yield Static("", id="phase-label", classes="bar-label")
        yield ProgressBar(total=100, id="phase", show_eta=True)
        yield Static("", id="rate")
        # min_width: RichLog renders at 78 columns by default and clips what is narrower.
        yield RichLog(id="log", wrap=True, markup=False, min_width=20)

    def _log(self, line: str) -> None:
        """A line in the screen's log, kept to be wrapped again when the terminal resizes
        (RichLog wraps a line once, as it is written)."""
        self.log_lines.append(line)
        self.query_one("#log", RichLog).write(line)

    def on_resize(self) -> None:
        log = self.query_one("#log", RichLog)
        log.clear()
        for line in self.log_lines:
            log.write(line)

    def action_run(self) -> None:
        if self._busy():
            self.notify("already running")
            return
        target = self.context.settings.production.render_as_string(hide_password=True)
        if self.dry:
            self._start(True)
            return
        if self._already_restored():
            return
        if self.context.checklist.get("backup").state != "skipped":   # skipping it (with a reason) is the override
            try:
                require_recent_backup(self.context.backups_dir, self.context.checklist, self.context.settings.production)
            except GapmendError as exc:
                self.refuse("No backup", exc.message + f" (or skip step {step('backup').number} with a reason)")
                return
        tables = self._tables()
        if tables is None:
            return
        try:   # gapmend's own record is proven before production's first write
            require_room(self.context.reports_dir, self.context.checklist.path, self.context.log_path)
        except GapmendError as exc:
            self.refuse(exc.title, exc.message)
            return
        self.ask(lambda: self._start(False), type_to_confirm=self._target_name(), target=target, tables=tables)

    def _already_restored(self) -> bool:
        """Whether a restore committed since step 1's scan: then that scan no longer
        describes the databases, and running again from it would be refused as if
        something had gone wrong. Say what happened instead, and keep the step done."""
        plan = self.context.plan
        if plan is None:
            return False   # no scan in this session: the restore itself finds what is left (`noop`)
        last = last_restore(self.context.settings)
        if last is None or last.finished_at is None:
            return False
        scanned = datetime.fromisoformat(plan.created_at).replace(tzinfo=None)
        if last.finished_at < scanned:   # both in whole seconds: a run in the scan's second counts as after it
            return False
        said = f"Already restored by {describe(last)}: nothing to do."
        self.query_one("#restore-what", Static).update(
            Text(f"{said}\nTo look for anything left (tables approved since), scan again at step 1 (r there), then "
                 "come back here. Step 13 shows what that run wrote."))
        LOGGER.info("wizard: restore not run again: %s", said)
        if self.context.checklist.get(self.step_number).state != "done":
            self.mark("done")
        return True

    def _tables(self) -> str | None:
        """What the restore will write, from step 1's scan (`selection`): None, with the
        reason shown, when tables are still pending or a boundary is unconfirmed."""
        plan = self.context.plan
        if plan is None:   # not scanned in this session: the restore checks the same rule itself
            return "Approved tables only; pending ones are refused, skipped ones stay out."
        decisions = self.context.decisions()
        try:
            chosen = require_ready(plan, decisions)
        except GapmendError as exc:
            self._log(f"not started: {exc.message}")
            self.refuse("Not ready to restore (step 1)", exc.message)
            return None
        space = room(self.context.settings, plan, chosen.order).line()   # and whether production has the room
        lines = [f"Writes: {', '.join(chosen.order) or 'nothing'}.", space[0].upper() + space[1:] + "."]
        lines.extend(f"Left out: {name} ({why})." for name, why in chosen.left_out.items())
        return "\n".join(lines)

    def _dry_run_file(self) -> Path:
        return self.context.reports_dir / "dry-run.sql"

    def _target_name(self) -> str:
        """What the operator types to confirm: the production database's name (file name for SQLite)."""
        return dialect_of(self.context.settings.production).short_name(self.context.settings.production)

    def _start(self, dry: bool) -> None:
        self.cancel_token.clear()
        self.started, self.phases = time.monotonic(), 0
        self._log("dry run started" if dry else "restore started")
        LOGGER.info("wizard: %s: %s", "dry run" if dry else "restore", shown.pairs(self.context.settings.masked()))
        self.run_restore(dry)

    def _busy(self) -> bool:
        return any(w.group == "restore" and not w.is_finished for w in self.app.workers)

    def action_cancel(self) -> None:
        if self._busy():
            self.cancel_token.set()
            self._log("cancel requested: rolling back at the next chunk")

    @work(thread=True, exclusive=True, exit_on_error=False, group="restore", description="restoring")
    def run_restore(self, dry: bool) -> RestoreReport:
        decisions = self.context.decisions()
        # The restore runs what step 1 showed, or refuses when the databases moved since (`plan_file`).
        reviewed = (Reviewed.of(self.context.plan, decisions, self.context.delta)
                    if self.context.plan is not None else None)
        options = RestoreOptions(dry_run=self._dry_run_file() if dry else None, reviewed=reviewed)
        if dry:
            self.context.reports_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            report = restore(self.context.settings, decisions, options, _Progress(self), self.cancel_token)
        except Cancelled:
            LOGGER.info("wizard: restore cancelled, rolled back")
            raise
        except Exception as exc:   # recorded here, whichever screen shows when the work ends
            LOGGER.error("wizard: restore failed", exc_info=exc.__cause__ or exc)   # the traceback: the log only
            self.mark("failed", getattr(exc, "message", str(exc)))
            raise
        LOGGER.info("wizard: restore %s%s: %s", report.run_id, " (dry run)" if report.dry_run else "",
                    render_totals(report))
        self.mark("done")
        if not dry and not report.noop:
            _, text_path, moved = write_report(report, self.context.reports_dir)
            self.post_message(RestoreScreen.Noted(moved or f"report: {text_path}"))
        return report

    def on_restore_screen_phase_started(self, message: PhaseStarted) -> None:
        self.phase_started = time.monotonic()
        # Writing phases count rows; the inspection phases count tables.
        self.row_phase = any(word in message.label for word in ("inserting", "applying"))
        self.query_one("#rate", Static).update("")
        self.query_one("#phase-label", Static).update(message.label)
        self.query_one("#phase", ProgressBar).update(total=message.total, progress=0)
        self._log(message.label)
        self.phases += 1
        elapsed = time.monotonic() - self.started
        self.query_one("#overall-label", Static).update(f"overall: phase {self.phases}, {elapsed:,.0f} s so far")
        self.query_one("#overall", ProgressBar).update(total=None)   # running, length unknown

    def on_restore_screen_advanced(self, message: Advanced) -> None:
        bar = self.query_one("#phase", ProgressBar)
        bar.advance(message.done)
        elapsed = max(1e-6, time.monotonic() - self.phase_started)
        of = f" of {bar.total:,.0f}" if bar.total else ""
        rate = f" · {bar.progress / elapsed:,.0f} rows/s" if self.row_phase else ""
        self.query_one("#rate", Static).update(f"{bar.progress:,.0f}{of}{rate}")

    def on_restore_screen_noted(self, message: Noted) -> None:
        self._log(message.line)

    @on(Worker.StateChanged)
    def _finished(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "restore":
            return
        if event.state == WorkerState.SUCCESS:
            report: RestoreReport = event.worker.result
            self.query_one("#overall", ProgressBar).update(total=100, progress=100)
            self.query_one("#overall-label", Static).update(
                f"overall: done in {time.monotonic() - self.started:,.1f} s, {self.phases} phases")
            if report.noop and not report.dry_run:   # a run that wrote nothing is no "last restore"
                last = last_restore(self.context.settings)
                said = "nothing to do: every Friday row is already restored" + (f" (by {describe(last)})" if last else "")
                self.query_one("#restore-what", Static).update(Text(said))
                self._log(said)
                self.notify(said)
                return
            self._log(render(report))
            if report.dry_run:
                self.query_one("#restore-what", Static).update(Text(f"dry run done, nothing committed: every statement "
                                                                    f"is in {report.dry_run}"))
            self.notify("dry run done: nothing committed" if report.dry_run else "restore committed")
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, Cancelled):   # the operator's choice, not a failure of the step
                self._log("cancelled: rolled back, production unchanged")
                self.notify("cancelled: rolled back, production unchanged", severity="warning")
                return
            message = getattr(error, "message", str(error))
            LOGGER.error("wizard: restore failed: %s", message)
            self._log(f"FAILED: {message}")
            self.refuse("Dry run failed" if self.dry else "Restore failed", message)


class _Progress:
    """Core's `Progress`, posted as messages (safe from the worker thread)."""

    def __init__(self, screen: RestoreScreen) -> None:
        self.screen = screen

    def start(self, label: str, total: int | None) -> None:
        LOGGER.info("%s", label)
        self.screen.post_message(RestoreScreen.PhaseStarted(label, total))

    def advance(self, done: int) -> None:
        self.screen.post_message(RestoreScreen.Advanced(done))

    def note(self, message: str) -> None:
        LOGGER.info("%s", message)
        self.screen.post_message(RestoreScreen.Noted(message))
