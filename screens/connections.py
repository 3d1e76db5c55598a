"""The connections: production, crashed and snapshot (passwords masked), tested on request."""

from __future__ import annotations

from typing import ClassVar

from gapmend.core.config import ROLES
from gapmend.core.databases.engines import open_engine
from gapmend.core.errors import GapmendError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual.worker import get_current_worker

from .base import StepScreen


class ConnectionsScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("t", "test", "Test connections")]

    def compose_body(self) -> ComposeResult:
        yield Static("Connections", classes="step-title")
        yield Static(f"from {self.context.settings.source}", classes="step-command")
        for role in ROLES:
            url = self.context.settings.masked()[role]
            yield Static(f"{role:<11} {url or 'not configured'}", id=f"conn-{role}", classes="connection")
        yield Static("press t to test them; n goes to step 1", classes="hint")

    def on_mount(self) -> None:
        self.action_test()

    def action_test(self) -> None:
        for role in ROLES:
            self.query_one(f"#conn-{role}", Static).set_class(False, "-ok", "-error")
        self.test_connections()

    @work(thread=True, exclusive=True, exit_on_error=False, group="db", description="testing connections")
    def test_connections(self) -> None:
        worker = get_current_worker()
        for role in ROLES:
            url = self.context.settings.url(role)
            if url is None or worker.is_cancelled:
                continue
            try:
                open_engine(url, role).dispose()
                line, ok = f"{role:<11} ok   {url.render_as_string(hide_password=True)}", True
            except GapmendError as exc:
                line, ok = f"{role:<11} FAIL {exc.message}", False
            self.app.call_from_thread(self._show, role, line, ok)

    def _show(self, role: str, line: str, ok: bool) -> None:
        widget = self.query_one(f"#conn-{role}", Static)
        widget.update(line)
        widget.set_class(ok, "-ok")
        widget.set_class(not ok, "-error")
