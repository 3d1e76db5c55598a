"""The one paragraph a stopped restore ends with, whatever stopped it.

An operator at 2 a.m. needs four things from a failure, and a traceback gives none of
them: the phase it stopped in, why, what production holds now (committed or not, and what
is left outside the transaction: `leftovers`), and the one command that puts it right.
Production is asked again on a connection of its own, so the paragraph says what is true
after the failure, not what the restore believed before it.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..databases import journal
from ..databases.engines import explained, translate
from ..progress import Progress
from . import leftovers


class Phases:
    """A `Progress` that remembers the phase it last started (what a failure names)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.phase = "reading the databases"

    def start(self, label: str, total: int | None) -> None:
        self.phase = label
        self.progress.start(label, total)

    def advance(self, done: int) -> None:
        self.progress.advance(done)

    def note(self, message: str) -> None:
        self.progress.note(message)


def cause(exc: BaseException, engine: Engine) -> str:
    """Why, in the server's or gapmend's own words (the first line only)."""
    if isinstance(exc, DBAPIError):
        return translate(exc, "production", engine.url).message
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, (SQLAlchemyError, OSError)):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'} (a bug: report it with the log)"


def paragraph(exc: BaseException, phase: str, run_id: str, engine: Engine) -> str:
    """The phase, the cause, production's state asked again, and what to run."""
    said = f"the restore stopped while {phase}: {cause(exc, engine).rstrip('.')}."
    try:
        with engine.connect() as conn:
            state = _state(conn, run_id)
    except DBAPIError as again:
        why = explained(again, engine.url, "production")[1]
        return (f"{said} Production could not be asked again ({why}): once it answers, run `{leftovers.PUT_BACK}` "
                "(it puts back any trigger, counter or work table left and says which), then the restore again.")
    return f"{said} {state}"


def _state(conn: Connection, run_id: str) -> str:
    status = journal.status(conn, run_id)
    left = leftovers.found(conn)
    if status in ("committed", "resumed"):
        wrote = f"It had committed (run {run_id[:8]}): Friday's rows are in production."
        todo = f"Run `gapmend verify`; `gapmend report {run_id[:8]}` writes the run's report."
    elif status == journal.STOPPED:
        wrote = f"The tables it committed stay (run {run_id[:8]}); the open transaction was rolled back."
        todo = "Run the restore again: it resumes where this one stopped."
    else:
        wrote = "Nothing was written: the open transaction was rolled back."
        todo = "Run the restore again: it does only what is left."
    if left:
        return f"{wrote} {_still_held(left)} {todo}"
    return f"{wrote} Triggers, id counters and work tables are as they were. {todo}"


def with_leftovers(message: str, engine: Engine) -> str:
    """A refusal's own message, and what a stopped restore left outside its transaction, if anything."""
    try:
        with engine.connect() as conn:
            left = leftovers.found(conn)
    except DBAPIError:
        return message
    return f"{message.rstrip('.')}. {_still_held(left)}" if left else message


def _still_held(left: list[leftovers.Leftover]) -> str:
    return (f"Production still holds what a restore changed outside its transaction: "
            f"{'; '.join(x.said() for x in left)}. Run `{leftovers.PUT_BACK}` first.")
