"""What every console command shares: the settings it loads, its progress line, its
log, its questions, and its one-line errors (exit code 2)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import click
from gapmend.core import shown
from gapmend.core.apply.leftovers import left_behind
from gapmend.core.config import Settings, load_laravel_settings, load_settings, password_exposure
from gapmend.core.errors import GapmendError
from gapmend.core.logfile import LOGGER, close_log, open_log
from gapmend.core.plan.decisions import Decisions
from gapmend.core.progress import Cancelled

F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 2


@dataclass
class Context:
    env_file: Path
    laravel: Path | None
    warned: bool = False   # the env file's mode and what a stopped restore left, said once per command

    def settings(self, say_leftovers: bool = True) -> Settings:
        """The run's settings; the first call of a command also warns, first, of a
        readable env file and of what a stopped restore left in production (`leftovers`)."""
        settings = load_laravel_settings(self.laravel) if self.laravel is not None else load_settings(self.env_file)
        if not self.warned:
            self.warned = True
            exposed = password_exposure(self.env_path())
            left = left_behind(settings.production) if say_leftovers else []
            for said in ([exposed] if exposed else []) + left:
                LOGGER.warning("%s", said)
                click.echo(f"gapmend: warning: {said}", err=True)
        return settings

    def env_path(self) -> Path:
        return self.laravel / ".env" if self.laravel is not None else self.env_file

    def decisions_path(self, settings: Settings) -> Path:
        assert settings.decisions_path is not None
        return settings.decisions_path

    def steps_path(self) -> Path:
        base = self.laravel / "storage" if self.laravel is not None else self.env_file.resolve().parent
        return base / "gapmend.steps.json"

    def backups_path(self) -> Path:
        return self.log_path().parent / "gapmend-backups"

    def reports_path(self) -> Path:
        return self.log_path().parent / "gapmend-reports"

    def log_path(self) -> Path:
        base = self.laravel / "storage" / "logs" if self.laravel is not None else self.env_file.resolve().parent
        return base / "gapmend.log"


class StderrProgress:
    """Progress as one rewritten line on stderr when it is a terminal, silent otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.label = ""
        self.total: int | None = None
        self.done = 0

    def start(self, label: str, total: int | None) -> None:
        self.label, self.total, self.done = label, total, 0
        LOGGER.info("%s", label)
        self._draw()

    def advance(self, done: int) -> None:
        self.done += done
        self._draw()

    def note(self, message: str) -> None:
        LOGGER.info("%s", message)
        if self.tty and message.startswith("waiting"):   # what it waits on, where the operator looks
            width = shutil.get_terminal_size().columns
            sys.stderr.write(f"\r\x1b[2K{shown.cut(f'{self.label}: {message}', width - 1)}")
            sys.stderr.flush()

    def _draw(self) -> None:
        if self.tty:
            of = f"/{self.total}" if self.total else ""
            sys.stderr.write(f"\r\x1b[2K{self.label} {self.done}{of}")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


def tick(*keys: str, state: str = "done") -> None:
    """Record in the run's step file that a console command carried out these steps."""
    from gapmend.core.runbook.steps import Checklist

    ctx: Context = click.get_current_context().obj
    checklist = Checklist(ctx.steps_path())
    for key in keys:
        checklist.mark(key, state)


def yes_option(fn: F) -> F:
    """The shared --yes of every command that changes something."""
    return click.option("--yes", is_flag=True, help="Do it without asking.")(fn)  # type: ignore[return-value]


def confirm_step(key: str, yes: bool, **facts: str) -> None:
    """Ask what the step asks in the wizard too (`steps.Step.asks`), with these facts;
    --yes answers it, and without a terminal to ask on --yes is required."""
    from gapmend.core.runbook.steps import step

    asks = step(key).asks
    assert asks is not None, key
    question, detail = asks.worded(**facts)
    if yes:
        return
    require_terminal(question.rstrip("?"))
    click.echo(detail)
    click.confirm(question, default=False, abort=True)


def table_list(tables: str | None) -> frozenset[str] | None:
    """The tables of a ``--tables a,b`` option (None: it was not given)."""
    return frozenset(t.strip() for t in tables.split(",") if t.strip()) if tables else None


def require_terminal(what: str) -> None:
    """A question with nobody to answer it (a pipe, cron) is an error naming --yes, not
    click's bare "Aborted!"."""
    if not sys.stdin.isatty():
        fail(f"{what}: not confirmed: pass --yes (no terminal to ask on)")


def terminal() -> dict[str, Any]:
    """How the console prints: the terminal's width (None when the output is not a
    terminal: a file or a pipe gets every table whole) and whether in colour (a terminal,
    unless NO_COLOR is set: no-color.org)."""
    if not sys.stdout.isatty():
        return {"width": None, "color": False}
    return {"width": shutil.get_terminal_size().columns, "color": "NO_COLOR" not in os.environ}


def fail(message: str) -> None:
    click.echo(f"gapmend: error: {message}", err=True)
    LOGGER.error("%s", message)
    sys.exit(EXIT_ERROR)


def guarded(fn: F) -> F:
    """Run a command with the operator's log open; core errors end it with exit code 2."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx: Context = click.get_current_context().obj
        handler = None
        try:
            try:
                handler = open_log(ctx.log_path())
            except OSError:
                handler = None  # an unwritable folder must not stop a read-only command
            LOGGER.info("command: %s", click.get_current_context().command_path)
            return fn(*args, **kwargs)
        except GapmendError as exc:
            if exc.__cause__ is not None:   # what the paragraph was made from, for whoever reads the log later
                LOGGER.error("%s failed", click.get_current_context().command_path, exc_info=exc.__cause__)
            fail(exc.message)
        except Cancelled:
            fail("cancelled: nothing was written")
        except KeyboardInterrupt:
            fail("interrupted: nothing was written")
        except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:   # a bug: one line on screen, the traceback in the log
            LOGGER.error("unexpected failure", exc_info=exc)
            first = str(exc).splitlines()[0] if str(exc) else "no detail"
            fail(f"unexpected failure ({type(exc).__name__}: {first}): the traceback is in {ctx.log_path()}; "
                 "report it with that log")
        finally:
            if handler is not None:
                close_log(handler)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper  # type: ignore[return-value]


def plan_with_progress(settings: Settings, decisions: Decisions, delta: Any = None) -> Any:
    """`build_plan` with the progress line on stderr; Ctrl-C cancels it."""
    from gapmend.core.apply.preview import build_plan
    from gapmend.core.inspect.gap import Reading

    progress = StderrProgress()
    cancel = threading.Event()
    LOGGER.info("plan: %s", shown.pairs(settings.masked()))
    try:
        result = build_plan(settings, decisions, progress, cancel, Reading(delta=delta))
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        progress.finish()
    LOGGER.info("plan built in %.2f s: %s", result.elapsed_s, shown.plural(len(result.tables), "table"))
    return result
