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
# Each changing step's confirmation: title, what it does, the button.
CONFIRMS = {
    7: ("Turn maintenance mode on?", "Runs the application's own `php artisan down` in {app}, as this OS user: "
        "users see the maintenance page until step 15.", "Run artisan down"),
    10: ("Add the crashed connection?", "Writes DB_CRASHED_* keys into {app}/.env (a copy of the original kept "
         "beside it, 0600) and a 'crashed' connection into config/database.php, checked with php -l.", "Add it"),
    12: ("Remove the crashed connection?", "Takes out exactly the DB_CRASHED_* keys and the 'crashed' connection "
         "step 10 added to {app}.", "Remove it"),
    15: ("Turn maintenance mode off?", "Runs the application's own `php artisan up` in {app}: the app is live "
         "again for its users.", "Run artisan up"),
}


class LaravelAppScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "run", "Run")]

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Press r: {ACTIONS[self.step_number]}."), id="app-status")

    def on_mount(self) -> None:
        self.problem: str | None = None   # why the step cannot run here (not configured)
        status = self.query_one("#app-status", Static)
        try:
            app = laravel.app_path(self.context.settings.extra, None)
        except laravel.LaravelError as exc:
            self.problem = f"{exc.message}, or skip this step (k) with a reason"
            status.update(Text(f"not configured: {self.problem}"))
            status.set_class(True, "-error")
            return
        state = "in maintenance mode" if laravel.is_down(app) else "live"
        status.update(Text(f"{app}: {state}\nPress r: {ACTIONS[self.step_number]}."))

    def action_run(self) -> None:
        if self.problem is not None:
            self.notify(self.problem, title=f"Step {self.step_number} is not configured", severity="error")
            return
        if self.step_number == 9:
            self.run_step()
            return
        title, detail, button = CONFIRMS[self.step_number]
        app = laravel.app_path(self.context.settings.extra, None)
        self.app.push_screen(ConfirmScreen(title, detail.format(app=app), yes_label=button),
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
            self.mark("failed", value)
            self.notify(value, title=f"Step {self.step_number} failed", severity="error")
