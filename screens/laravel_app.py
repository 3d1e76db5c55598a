"""Steps 7, 9, 10, 12 and 15 in the Laravel application: maintenance mode on and off
through the app's own artisan, the OS user's access to the app folder, and the crashed
connection added to and removed from the app's configuration."""

from __future__ import annotations

from typing import ClassVar

from gapmend.core.runbook import artisan, connection
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual.worker import Worker

from .base import StepScreen


class LaravelAppScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "run", "Run")]

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Press r: {self.step.does if self.step else ''}."), id="app-status")

    def on_mount(self) -> None:
        self.problem: str | None = None   # why the step cannot run here (not configured)
        status = self.query_one("#app-status", Static)
        try:
            app = artisan.app_path(self.context.settings.extra, None)
        except artisan.LaravelError as exc:
            self.problem = f"{exc.message}, or skip this step (k) with a reason"
            status.update(Text(f"not configured: {self.problem}"))
            status.set_class(True, "-error")
            return
        state = "in maintenance mode" if artisan.is_down(app) else "live"
        status.update(Text(f"{app}: {state}\nPress r: {self.step.does if self.step else ''}."))

    def action_run(self) -> None:
        if self.problem is not None:
            self.refuse(f"Step {self.step_number} is not configured", self.problem)
            return
        if self.step is None or self.step.asks is None:   # checking permissions asks nothing
            self.run_step()
            return
        self.ask(self.run_step, app=str(artisan.app_path(self.context.settings.extra, None)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="laravel", description="artisan")
    def run_step(self) -> str:
        """The step, its outcome recorded here (whichever screen shows when it ends)."""
        try:
            said = self._run_step()
        except Exception as exc:
            self.mark("failed", getattr(exc, "message", str(exc)))
            raise
        self.mark("done")
        return said

    def _run_step(self) -> str:
        extra = self.context.settings.extra
        app = artisan.app_path(extra, None)
        php = extra.get("GAPMEND_PHP") or "php"
        if self.key == "maintenance-on":
            return artisan.maintenance_on(app, php)
        if self.key == "maintenance-off":
            return artisan.maintenance_off(app, php)
        if self.key == "connection-add":
            connection.add(app, self.context.settings.crashed)
            return f"added the 'crashed' connection to {app} ({self.context.settings.masked()['crashed']})"
        if self.key == "connection-remove":
            connection.remove(app)
            return f"removed the 'crashed' connection from {app}"
        problems = artisan.check_permissions(app)
        if problems:
            raise artisan.LaravelError("; ".join(problems))
        return f"this user can read and write what the runbook needs in {app}"

    @on(Worker.StateChanged)
    def _done(self, event: Worker.StateChanged) -> None:
        done = self.outcome(event, "laravel")
        if done is None:
            return
        ok, value = done
        status = self.query_one("#app-status", Static)
        if ok:
            status.update(Text(str(value)))
            status.set_class(True, "-ok")
        else:
            status.update(Text(value))
            status.set_class(True, "-error")
            self.refuse(f"Step {self.step_number} failed", value)
