"""Step 13: what the restore did, and `verify`'s verdict."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from gapmend.core.verify import verify

from .base import StepScreen


class InvestigateScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("v", "verify", "Verify again")]

    def compose_body(self) -> ComposeResult:
        yield Static("verifying production…", id="verdict")
        yield Static("", id="last-report")

    def on_mount(self) -> None:
        reports = sorted(self.context.reports_dir.glob("restore-*.txt")) if self.context.reports_dir.exists() else []
        text = reports[-1].read_text() if reports else "no restore report yet"
        self.query_one("#last-report", Static).update(text)
        self.action_verify()

    def action_verify(self) -> None:
        self.run_verify()

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify", description="verifying")
    def run_verify(self) -> tuple[list[str], dict[str, int]]:
        return verify(self.context.settings)

    @on(Worker.StateChanged)
    def _verified(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "verify" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        verdict = self.query_one("#verdict", Static)
        if event.state == WorkerState.ERROR:
            verdict.update(f"verify failed to run: {getattr(event.worker.error, 'message', event.worker.error)}")
            verdict.set_class(True, "-error")
            return
        problems, counts = event.worker.result
        if problems:
            verdict.update("verify found problems:\n" + "\n".join(f"  {p}" for p in problems))
            verdict.set_class(True, "-error")
        else:
            verdict.update(f"verified: {counts.get('rows', 0)} restored rows present once, "
                           f"{counts.get('references', 0)} references resolve, counters past every id")
            verdict.set_class(True, "-ok")
            self.mark("done")
