"""Steps 7, 9, 10, 12 and 15 in the Laravel application: maintenance mode on and off
through the app's own artisan, the OS user's access to the app folder, and the crashed
connection added to and removed from the app's configuration."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual.worker import Worker

from gapmend.core import connection, laravel

from .base import StepScreen
from .dialogs import ConfirmScreen

ACTIONS = {
    7: "maintenance mode on (php artisan down)",
    9: "check permissions",
    10: "add the crashed connection to .env and config/database.php",
    12: "remove the crashed connection from .env and config/database.php",
    15: "maintenance mode off (php artisan up)",
}


class LaravelAppScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "run", "Run")]

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Press r: {ACTIONS[self.step_number]}."), id="app-status")

    def on_mount(self) -> None:
        try:
            app = laravel.app_path(self.context.settings.extra, None)
            state = "in maintenance mode" if laravel.is_down(app) else "live"
            self.query_one("#app-status", Static).update(Text(f"{app}: {state}\nPress r: {ACTIONS[self.step_number]}."))
        except laravel.LaravelError as exc:
            self.query_one("#app-status", Static).update(Text(exc.message))

    def action_run(self) -> None:
        if self.step_number == 9:
            self.run_step()
            return
        self.app.push_screen(ConfirmScreen(f"Turn {ACTIONS[self.step_number]}?",
                                           "Runs the application's own artisan in its folder, as this OS user.",
                                           yes_label="Run artisan"),
                             lambda ok: self.run_step() if ok else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="laravel", description="artisan")
    def run_step(self) -> str:
        extra = self.context.settings.extra
        app = laravel.app_path(extra, None)
        php = extra.get("GAPMEND_PHP") or "php"
        if self.step_number == 7:
            return laravel.maintenance_on(app, php)
        if self.step_number == 15:
            return laravel.maintenance_off(app, php)
        if self.step_number == 10:
            connection.add(app, self.context.settings.crashed)
            return f"added the 'crashed' connection to {app} ({self.context.settings.masked()['crashed']})"
        if self.step_number == 12:
            connection.remove(app)
            return f"removed the 'crashed' connection from {app}"
        problems = laravel.check_permissions(app)
        if problems:
            raise laravel.LaravelError("; ".join(problems))
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
            self.mark("done")
        else:
            status.update(Text(value))
            status.set_class(True, "-error")
            self.mark("failed")
