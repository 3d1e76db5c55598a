"""Steps 6 and 14: stop the queue workers through supervisorctl, and start them again."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from gapmend.core.runbook import workers as w
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual.worker import Worker

from .base import StepScreen


class WorkersScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "run", "Run"), Binding("t", "status", "Status")]

    @property
    def stopping(self) -> bool:
        return self.key == "workers-stop"

    def _state_file(self) -> Path:
        return self.context.reports_dir.parent / "gapmend.workers.json"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="workers-status")
        yield Static(f"Press r to {'stop the running' if self.stopping else 'start the stopped'} workers, "
                     "t to refresh; without supervisor here, skip this step (k) with a reason.", classes="hint")

    def on_mount(self) -> None:
        self.problem: str | None = None   # supervisor not reachable here: said, and `r` says it again
        self.action_status()

    def action_status(self) -> None:
        self.run_status()

    @work(thread=True, exclusive=True, exit_on_error=False, group="supervisor-status", description="workers' state")
    def run_status(self) -> tuple[str, list[str], dict[str, str]]:
        """supervisorctl's view of the programs (reads only: nothing waits for it)."""
        return "status", [], w.from_settings(self.context.settings.extra).status()

    def action_run(self) -> None:
        if self.problem is not None:
            self.refuse(f"Step {self.step_number} cannot run here", self.problem)
            return
        programs = w.from_settings(self.context.settings.extra).programs
        self.ask(lambda: self.run_action("stop" if self.stopping else "start"), programs=programs)

    @work(thread=True, exclusive=True, exit_on_error=False, group="workers", description="workers")
    def run_action(self, action: str) -> tuple[str, list[str], dict[str, str]]:
        sup = w.from_settings(self.context.settings.extra)
        names: list[str] = []
        if action == "stop":
            names = w.stop(sup, self._state_file())
        elif action == "start":
            names = w.start(sup, self._state_file())
        if action != "status":   # recorded here, whichever screen shows when it ends
            self.mark("done")
        return action, names, sup.status()

    @on(Worker.StateChanged)
    def _done(self, event: Worker.StateChanged) -> None:
        done = self.outcome(event, "workers") or self.outcome(event, "supervisor-status")
        if done is None:
            return
        ok, value = done
        status = self.query_one("#workers-status", Static)
        if ok:
            action, names, states = value
            lines = [f"{n:<30} {s}" for n, s in states.items()] or ["no programs configured"]
            if action != "status":
                lines.insert(0, f"{action}: {', '.join(names) or 'nothing to do'}")
            status.update(Text("\n".join(lines)))
        else:
            if isinstance(event.worker.error, w.NoSupervisor):   # not a failure of the step: nothing to run it with
                self.problem = value = f"{value}; here: k skips, or set GAPMEND_SUPERVISOR_CONF in the env file"
            status.update(Text(value))
            status.set_class(True, "-error")
            if event.worker.group == "workers":   # the operator's r: a dialog; the look on arrival: the body
                self.refuse(f"Step {self.step_number}: supervisor", value)
