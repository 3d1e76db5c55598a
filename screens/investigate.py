"""Step 13: what the restore did (read back from production), `verify`'s verdict and the
conflicts still to decide — the same investigation `gapmend investigate` prints."""

from __future__ import annotations

from typing import ClassVar

from gapmend.core.runbook.investigate import investigate, save
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker

from .base import StepScreen


class InvestigateScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("v", "verify", "Verify again")]

    def compose_body(self) -> ComposeResult:
        yield Static("investigating production…", id="verdict")
        with VerticalScroll(id="detail-scroll"):
            yield Static("", id="last-report")

    def on_mount(self) -> None:
        self.action_verify()

    def action_verify(self) -> None:
        self.run_verify()

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify", description="investigating")
    def run_verify(self) -> tuple[str, bool]:
        text, ok = investigate(self.context.settings, self.context.reports_dir, self.context.decisions())
        save(text, self.context.reports_dir)
        return text, ok

    @on(Worker.StateChanged)
    def _verified(self, event: Worker.StateChanged) -> None:
        done = self.outcome(event, "verify")
        if done is None:
            return
        finished, value = done
        verdict = self.query_one("#verdict", Static)
        if not finished:
            verdict.update(Text(f"investigation failed: {value}"))
            verdict.set_class(True, "-error")
            return
        text, ok = value
        verdict.update("verified: every restored row present once, every reference resolves" if ok
                       else "verify found problems: see below")
        verdict.set_class(ok, "-ok")
        verdict.set_class(not ok, "-error")
        self.query_one("#last-report", Static).update(Text(text))
        self.mark("done" if ok else "failed")
