"""`PlanScreen`: a step that shows the plan, scanning the gap first when no step has yet.

The plan is built in a thread worker (it reads three databases); the screen is filled
when the worker's result arrives, never from the thread. `r` scans again.
"""

from __future__ import annotations

import threading

from gapmend.core.apply.preview import build_plan
from gapmend.core.inspect.gap import Reading
from gapmend.core.plan.delta import Delta
from gapmend.core.plan.model import Plan
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState

from .base import StepScreen

RESCAN = Binding("r", "rescan", "Rescan")


class PlanScreen(StepScreen):
    """Subclasses compose `compose_scan` into their body, show the plan in `_show_plan`,
    and bind `RESCAN` last among their keys (the footer lists a screen's keys in order)."""

    def __init__(self, context, step: int | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context, step)
        self.cancel = threading.Event()

    @property
    def plan(self) -> Plan | None:
        return self.context.plan

    @plan.setter
    def plan(self, plan: Plan | None) -> None:
        self.context.plan = plan

    def on_mount(self) -> None:
        if self.plan is None:
            self.scan()
        else:   # scanned at an earlier step: shown as it was, `r` scans again
            self.query_one("#scan-progress", ProgressBar).display = False
            self._show_plan("scanned before; r to rescan")

    def on_unmount(self) -> None:
        self.cancel.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="db", description="scanning the gap")
    def scan(self) -> Plan:
        delta = Delta()
        plan = build_plan(self.context.settings, self.context.decisions(), _ScanProgress(self), self.cancel,
                          Reading(delta=delta))
        self.context.delta = delta
        return plan

    @on(Worker.StateChanged)
    def _scanned(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "db":
            return
        status = self.query_one("#scan-status", Static)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.query_one("#scan-progress", ProgressBar).display = False
        if event.state == WorkerState.SUCCESS:
            self.plan = event.worker.result
            self._show_plan(f"{self.plan.elapsed_s:.2f} s")
        elif event.state == WorkerState.ERROR:
            message = getattr(event.worker.error, "message", str(event.worker.error))
            status.update(f"scan failed: {message}")
            status.add_class("-error")
            self.refuse("Gap scan failed", message)

    def compose_scan(self) -> ComposeResult:
        yield Static("scanning the gap…", id="scan-status")
        yield ProgressBar(total=100, id="scan-progress", show_eta=True)

    def _show_plan(self, when: str) -> None:
        raise NotImplementedError

    def action_rescan(self) -> None:
        self.query_one("#scan-status", Static).update("scanning the gap…")
        self.query_one("#scan-progress", ProgressBar).display = True
        self.scan()


class _ScanProgress:
    """Core's `Progress` for the scan: phases and tables onto the screen's bar and status,
    through `call_from_thread` (the scan reports per table, so this is a handful of calls)."""

    def __init__(self, screen: PlanScreen) -> None:
        self.screen = screen

    def start(self, label: str, total: int | None) -> None:
        def show() -> None:
            self.screen.query_one("#scan-status", Static).update(f"scanning the gap: {label}…")
            self.screen.query_one("#scan-progress", ProgressBar).update(total=total, progress=0)
        self.screen.app.call_from_thread(show)

    def advance(self, done: int) -> None:
        self.screen.app.call_from_thread(self.screen.query_one("#scan-progress", ProgressBar).advance, done)

    def note(self, message: str) -> None:
        pass
