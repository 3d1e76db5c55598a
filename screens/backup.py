"""Step 8: back up production with its own tool and prove the backup restores."""

from __future__ import annotations

from typing import ClassVar

from gapmend.core.logfile import LOGGER
from gapmend.core.runbook.backup import Backup, backup, latest_verified
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
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

    @work(thread=True, exclusive=True, exit_on_error=False, group="backup", description="backing up")
    def run_backup(self) -> Backup:
        self.app.call_from_thread(self.query_one("#backup-status", Static).update, "backing up…")
        return backup(self.context.settings.production, self.context.backups_dir)

    @on(Worker.StateChanged)
    def _done(self, event: Worker.StateChanged) -> None:
        done = self.outcome(event, "backup")
        if done is None:
            return
        ok, value = done
        status = self.query_one("#backup-status", Static)
        if ok:
            record: Backup = value
            LOGGER.info("wizard: backup %s (%d bytes, sha256 %s), verified", record.path, record.bytes, record.sha256)
            status.update(Text(f"verified backup {record.path}\n{record.bytes:,} bytes, sha256 {record.sha256}\n"
                               f"{sum(record.row_counts.values()):,} rows in {len(record.row_counts)} tables match production"))
            status.set_class(True, "-ok")
            self.mark("done")
        else:
            LOGGER.error("wizard: backup failed: %s", value)
            status.update(Text(f"backup failed: {value}"))
            status.set_class(True, "-error")
            self.mark("failed")
