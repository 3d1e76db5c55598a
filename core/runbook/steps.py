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

from ..errors import ConfigError
from ..private_files import write_private


@dataclass(frozen=True)
class Ask:
    """What a changing step asks before it runs: the same words in the wizard's dialog
    and at the console's prompt. The caller fills in the facts named in braces (``{app}``,
    ``{target}``, ``{folder}``, ``{programs}``, ``{tables}``)."""

    question: str
    detail: str
    button: str

    def worded(self, **facts: str) -> tuple[str, str]:
        return self.question.format(**facts), self.detail.format(**facts)


@dataclass(frozen=True)
class Step:
    """One runbook step: the wizard's screen and the console command are built from it."""

    number: int
    key: str
    title: str
    command: str              # the console command that does it
    short: str = ""           # for the checklist column
    does: str = ""            # what the wizard's `r` does there, when it does something
    asks: Ask | None = None   # a step that changes something asks first (the wizard and the console)

    @property
    def changes(self) -> bool:
        return self.asks is not None

    @property
    def label(self) -> str:
        return self.short or self.title


_WORKERS = "Through supervisorctl on this host: {programs}."
STEPS: tuple[Step, ...] = (
    Step(1, "inspect", "Inspect each table's gap", "gapmend plan", "Inspect gaps"),
    Step(2, "order", "Plan the restore order around the references", "gapmend plan; gapmend edges", "Plan the order"),
    Step(3, "decide", "Approve or skip each table", "gapmend approve / skip TABLE", "Approve / skip tables"),
    Step(4, "conflicts", "Resolve conflicts", "gapmend resolve TABLE [KEY] --take friday|production", "Resolve conflicts"),
    Step(5, "dry-run", "Dry-run the restore", "gapmend restore --dry-run gapmend-reports/dry-run.sql", "Dry run",
         does="run the whole restore and roll it back, keeping its SQL"),
    Step(6, "workers-stop", "Stop the queue workers", "gapmend workers stop", "Stop workers",
         does="stop the running workers", asks=Ask("Stop the queue workers?", _WORKERS, "Stop them")),
    Step(7, "maintenance-on", "Maintenance mode on", "gapmend maintenance on", "Maintenance on",
         does="maintenance mode on (php artisan down)",
         asks=Ask("Turn maintenance mode on?", "Runs the application's own `php artisan down` in {app}, as this OS "
                  "user: users see the maintenance page until step 15.", "Run artisan down")),
    Step(8, "backup", "Back up production", "gapmend backup", "Back up production", does="back up production",
         asks=Ask("Back up production?", "Dumps {target} into {folder} (0600, compressed, checksummed), then loads "
                  "the dump into a scratch database to prove it restores, and drops the scratch copy.", "Back up")),
    Step(9, "permissions", "Check the OS user can read and write the app folder", "gapmend permissions",
         "Check permissions", does="check permissions"),
    Step(10, "connection-add", "Add the crashed connection to .env and config/database.php", "gapmend connection add",
         "Add crashed connection", does="add the crashed connection to .env and config/database.php",
         asks=Ask("Add the crashed connection?", "Writes DB_CRASHED_* keys into {app}/.env (a copy of the original "
                  "kept beside it, 0600) and a 'crashed' connection into config/database.php, checked with php -l.",
                  "Add it")),
    Step(11, "restore", "Restore", "gapmend restore", "Restore", does="restore Friday's rows into production",
         asks=Ask("Restore into production?", "Friday's rows go into {target} in one transaction, under new ids "
                  "where production took theirs.\n{tables}\nConflicts keep production's values unless resolved. "
                  "Any failure or Cancel rolls everything back.", "Restore")),
    Step(12, "connection-remove", "Remove the crashed connection again", "gapmend connection remove",
         "Remove crashed conn.", does="remove the crashed connection from .env and config/database.php",
         asks=Ask("Remove the crashed connection?", "Takes out exactly the DB_CRASHED_* keys and the 'crashed' "
                  "connection step 10 added to {app}.", "Remove it")),
    Step(13, "investigate", "Investigate the restored data", "gapmend investigate", "Investigate"),
    Step(14, "workers-start", "Start the workers", "gapmend workers start", "Start workers",
         does="start the workers step 6 stopped", asks=Ask("Start the queue workers?", _WORKERS, "Start them")),
    Step(15, "maintenance-off", "Maintenance mode off", "gapmend maintenance off", "Maintenance off",
         does="maintenance mode off (php artisan up)",
         asks=Ask("Turn maintenance mode off?", "Runs the application's own `php artisan up` in {app}: the app is "
                  "live again for its users.", "Run artisan up")),
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

    def get(self, ref: str | int) -> StepState:
        """A step's state, by its key or number."""
        self._reload()
        return self.states.get(step(ref).number, StepState())

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
