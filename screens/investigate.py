"""Step 13: what the restore did (read back from production), `verify`'s verdict and the
conflicts still to decide — the same investigation `gapmend investigate` prints. From
here the restore can also be taken back (`gapmend undo`): a dry run shows what would be,
and the production database's name typed confirms it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

from gapmend.core import shown
from gapmend.core.apply.undo import UndoOptions, undo
from gapmend.core.apply.undo_report import UndoReport, render
from gapmend.core.databases.dialects import dialect_of
from gapmend.core.logfile import LOGGER
from gapmend.core.runbook.investigate import investigate, save
from gapmend.core.runbook.report import write_undo_report
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker

from .base import StepScreen
from .dialogs import ConfirmScreen


class InvestigateScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("v", "verify", "Verify again"),
                                             Binding("u", "undo", "Undo the restore")]

    def compose_body(self) -> ComposeResult:
        yield Static("investigating production…", id="verdict")
        with VerticalScroll(id="detail-scroll"):
            yield Static("", id="last-report")

    def on_mount(self) -> None:
        self.action_verify()

    def action_verify(self) -> None:
        if any(w.group == "verify" and not w.is_finished for w in self.app.workers):
            return
        verdict = self.query_one("#verdict", Static)
        verdict.update("investigating production… (verify reads every restored row: a large restore takes a while)")
        verdict.remove_class("-ok", "-error")
        self.run_verify()

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify", description="investigating")
    def run_verify(self) -> tuple[str, bool]:
        """The investigation, its outcome recorded here (whichever screen shows when it ends)."""
        text, ok = investigate(self.context.settings, self.context.reports_dir, self.context.decisions())
        save(text, self.context.reports_dir)
        self.mark("done" if ok else "failed")
        return text, ok

    def _result(self, event: Worker.StateChanged, group: str, what: str) -> Any:
        """`group`'s worker's result once it succeeded; None, with the error shown, if it failed."""
        done = self.outcome(event, group)
        if done is None:
            return None
        finished, value = done
        if not finished:
            verdict = self.query_one("#verdict", Static)
            verdict.update(Text(f"{what} failed: {value}"))
            verdict.set_class(True, "-error")
            return None
        return value

    @on(Worker.StateChanged)
    def _verified(self, event: Worker.StateChanged) -> None:
        value = self._result(event, "verify", "investigation")
        if value is None:
            return
        verdict = self.query_one("#verdict", Static)
        text, ok = value
        verdict.update("verified: every restored row present once, every reference resolves" if ok
                       else "verify found problems: see below")
        verdict.set_class(ok, "-ok")
        verdict.set_class(not ok, "-error")
        self.query_one("#last-report", Static).update(Text(text))

    # -- taking the restore back --

    def action_undo(self) -> None:
        if any(w.group in ("verify", "undo") and not w.is_finished for w in self.app.workers):
            return
        self.query_one("#verdict", Static).update("undo: a dry run first, to show what it would take back…")
        self.run_undo(True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="undo", description="undoing")
    def run_undo(self, dry: bool) -> tuple[UndoReport, str]:
        ctx = self.context
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        options = UndoOptions(dry_run=ctx.reports_dir / f"undo-dry-run-{stamp}.sql") if dry else UndoOptions()
        if dry:
            ctx.reports_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        LOGGER.info("wizard: undo%s: %s", " (dry run)" if dry else "", shown.pairs(ctx.settings.masked()))
        report = undo(ctx.settings, ctx.decisions(), options)
        LOGGER.info("wizard: undo %s of %s%s: %s", report.undo_id, report.run_id, " (dry run)" if dry else "",
                    ", ".join(f"{what} {n}" for what, n in report.totals().items()))
        if dry:
            return report, ""
        _, text_path, moved = write_undo_report(report, ctx.reports_dir)
        return report, moved or f"report: {text_path}"

    @on(Worker.StateChanged)
    def _undone(self, event: Worker.StateChanged) -> None:
        value = self._result(event, "undo", "undo")
        if value is None:
            return
        verdict = self.query_one("#verdict", Static)
        report, where = value
        self.query_one("#last-report", Static).update(Text(render(report) + (f"\n\n{where}" if where else "")))
        if not report.dry_run:
            verdict.update("the restore was taken back where production left it alone: press v to verify")
            self.notify(where, title="Undo committed")
            return
        if report.noop:
            verdict.update("nothing to undo")
            return
        verdict.update("undo, dry run: see below what it would take back")
        settings = self.context.settings
        name = dialect_of(settings.production).short_name(settings.production)
        self.app.push_screen(
            ConfirmScreen("Take the restore back?", f"Run {report.run_id[:8]}: " + ", ".join(
                              f"{what} {n}" for what, n in report.totals().items()) + " (the detail is in the pane "
                          "behind).\nRows production changed or references stay; everything production wrote since "
                          "stays.", yes_label="Undo the restore", type_to_confirm=name),
            lambda ok: self.run_undo(False) if ok else self.notify("undo: not run"))
