"""The operator's runbook: fifteen steps with a state each, kept in a small file.

The console (`gapmend steps`) and the wizard read and write the same file, so an
operator who is interrupted resumes where they stopped, from either. Each step names the
console command that carries it out; steps whose automation is not built yet are done by
hand and ticked off here, which is what the runbook asks for anyway.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import ConfigError
from .private_files import write_private


@dataclass(frozen=True)
class Step:
    number: int
    key: str
    title: str
    command: str        # how to do it from the console
    changes: bool       # does it change something (the wizard confirms those)
    short: str = ""     # for the checklist column

    @property
    def label(self) -> str:
        return self.short or self.title


STEPS: tuple[Step, ...] = (
    Step(1, "inspect", "Inspect each table's gap", "gapmend plan", False, "Inspect gaps"),
    Step(2, "order", "Plan the restore order around the references", "gapmend plan; gapmend edges", False, "Plan the order"),
    Step(3, "decide", "Approve or skip each table", "gapmend approve / skip TABLE", False, "Approve / skip tables"),
    Step(4, "conflicts", "Resolve conflicts", "gapmend resolve TABLE [KEY] --take friday|production", False, "Resolve conflicts"),
    Step(5, "dry-run", "Dry-run the restore", "gapmend restore --dry-run restore.sql", False, "Dry run"),
    Step(6, "workers-stop", "Stop the queue workers", "gapmend workers stop", True, "Stop workers"),
    Step(7, "maintenance-on", "Maintenance mode on", "gapmend maintenance on", True, "Maintenance on"),
    Step(8, "backup", "Back up production", "gapmend backup", True, "Back up production"),
    Step(9, "permissions", "Check the OS user can read and write the app folder", "gapmend permissions", False, "Check permissions"),
    Step(10, "connection-add", "Add the crashed connection to .env and config/database.php", "gapmend connection add", True, "Add crashed connection"),
    Step(11, "restore", "Restore", "gapmend restore", True, "Restore"),
    Step(12, "connection-remove", "Remove the crashed connection again", "gapmend connection remove", True, "Remove crashed conn."),
    Step(13, "investigate", "Investigate the restored data", "gapmend investigate", False, "Investigate"),
    Step(14, "workers-start", "Start the workers", "gapmend workers start", True, "Start workers"),
    Step(15, "maintenance-off", "Maintenance mode off", "gapmend maintenance off", True, "Maintenance off"),
)

STATES = ("pending", "done", "skipped", "failed")


@dataclass(frozen=True)
class StepState:
    state: str = "pending"
    at: str | None = None
    by: str | None = None
    reason: str | None = None


def step(ref: str | int) -> Step:
    for s in STEPS:
        if str(s.number) == str(ref) or s.key == ref:
            return s
    raise ConfigError(f"no step {ref!r}: use a number 1-15 or a key such as 'inspect' (see gapmend steps)")


class Checklist:
    """The run's step states, saved to `path` (0600) on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.states: dict[int, StepState] = {}
        self._seen: int | None = None
        self._reload()

    def _reload(self) -> None:
        """Read the file again when someone else (the console, another wizard) changed it."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if stamp == self._seen:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.states = {int(k): StepState(**v) for k, v in raw.get("steps", {}).items()}
        except (ValueError, TypeError, OSError) as exc:
            raise ConfigError(f"step file {self.path} is unreadable ({exc.__class__.__name__}): fix or delete it") from None
        self._seen = stamp

    def get(self, number: int) -> StepState:
        self._reload()
        return self.states.get(number, StepState())

    def mark(self, ref: str | int, state: str, reason: str | None = None) -> StepState:
        if state not in STATES:
            raise ConfigError(f"unknown state {state!r}: use one of {', '.join(STATES)}")
        if state == "skipped" and not reason:
            raise ConfigError("a skipped step needs a reason (e.g. 'no supervisor on this host')")
        s = step(ref)
        self._reload()
        new = StepState(state, datetime.now(timezone.utc).replace(microsecond=0).isoformat(), _user(), reason)
        self.states[s.number] = new if state != "pending" else StepState()
        self._save()
        return self.states[s.number]

    def current(self) -> Step:
        """The first step not done or skipped (the last step once all are)."""
        return next((s for s in STEPS if self.get(s.number).state not in ("done", "skipped")), STEPS[-1])

    def _save(self) -> None:
        data = {"steps": {str(k): asdict(v) for k, v in sorted(self.states.items())}}
        write_private(self.path, json.dumps(data, indent=2), atomic=True)
        self._seen = self.path.stat().st_mtime_ns


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
