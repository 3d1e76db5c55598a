"""Step 8: back up production with its own tool and prove the backup restores."""

from __future__ import annotations

import time
from typing import ClassVar

from gapmend.core.logfile import LOGGER
from gapmend.core.runbook.backup import Backup, backup, latest_verified
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from .base import StepScreen


class BackupScreen(StepScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "run", "Back up now")]

    def compose_body(self) -> ComposeResult:
        latest = latest_verified(self.context.backups_dir)
        last = f"last verified backup: {latest.path} ({latest.taken_at})" if latest else "no verified backup yet"
        yield Static(Text(last), id="last-backup")
        yield Static("Press r to back up production now.", id="backup-status")

    def action_run(self) -> None:
        target = self.context.settings.production.render_as_string(hide_password=True)
        self.ask(self.run_backup, target=target, folder=str(self.context.backups_dir))

    class Status(Message):
        """A progress line from the backup's worker thread (posting never blocks it)."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    @on(Status)
    def _status(self, message: Status) -> None:
        self.query_one("#backup-status", Static).update(message.line)

    @work(thread=True, exclusive=True, exit_on_error=False, group="backup", description="backing up")
    def run_backup(self) -> Backup:
        """The backup, its outcome recorded here: kept whichever screen shows when it ends."""
        self.post_message(BackupScreen.Status("backing up…"))
        try:
            record = backup(self.context.settings.production, self.context.backups_dir, _StatusProgress(self))
        except Exception as exc:
            message = getattr(exc, "message", str(exc))
            LOGGER.error("wizard: backup failed: %s", message)
            self.mark("failed", message)
            raise
        LOGGER.info("wizard: backup %s (%d bytes, sha256 %s), verified", record.path, record.bytes, record.sha256)
        self.mark("done")
        return record

    @on(Worker.StateChanged)
    def _done(self, event: Worker.StateChanged) -> None:
        done = self.outcome(event, "backup")
        if done is None:
            return
        ok, value = done
        status = self.query_one("#backup-status", Static)
        if ok:
            record: Backup = value
            self.query_one("#last-backup", Static).update(Text(f"last verified backup: {record.path} ({record.taken_at})"))
            status.update(Text(f"verified backup {record.path}\n{record.bytes:,} bytes, sha256 {record.sha256}\n"
                               f"{sum(record.row_counts.values()):,} rows in {len(record.row_counts)} tables match production"))
            status.set_class(True, "-ok")
        else:
            status.update(Text(f"backup failed: {value}"))
            status.set_class(True, "-error")


class _StatusProgress:
    """The backup's progress on the screen's status line (from the worker's thread), and in the log."""

    def __init__(self, screen: BackupScreen) -> None:
        self.screen, self.label, self.total, self.done, self.shown = screen, "", None, 0, 0.0

    def start(self, label: str, total: int | None) -> None:
        self.label, self.total, self.done = label, total, 0
        LOGGER.info("wizard: backup: %s", label)
        self._show(force=True)

    def advance(self, done: int) -> None:
        self.done += done
        self._show()

    def note(self, message: str) -> None:
        LOGGER.info("wizard: backup: %s", message)

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.shown < 0.2:   # a redraw per megabyte would flood the screen
            return
        self.shown = now
        of = f" of {self.total:,}" if self.total else ""
        self.screen.post_message(BackupScreen.Status(f"{self.label}: {self.done:,}{of}"))
