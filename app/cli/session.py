"""The wizard and the demo, opened from the console."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from gapmend.core.logfile import LOGGER

from .context import Context, fail, guarded
from .group import cli
from .inspecting import plan


@cli.command()
@guarded
def wizard() -> None:
    """Open the terminal wizard on the configured databases (the default command).

    Example: gapmend --env-file prod.env wizard
    """
    ctx: Context = click.get_current_context().obj
    _run_wizard(ctx)


def _run_wizard(ctx: Context) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):   # else it writes escape codes into a pipe for ever
        fail("the wizard needs a terminal to draw on: run it in one, or use the console commands "
             "(gapmend plan, approve, backup, restore --yes, verify; see gapmend --help)")
    wizard_app(ctx).run()


def wizard_app(ctx: Context) -> Any:
    """The wizard over the same settings, decisions, step file, log, reports and backups
    as the console commands of `ctx` (``--laravel`` or ``--env-file``)."""
    from gapmend.app.wizard import GapmendApp

    settings = ctx.settings()
    LOGGER.info("wizard: %s", settings.masked())
    return GapmendApp(settings, ctx.log_path().parent, ctx.decisions_path(settings), ctx.steps_path())


@cli.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Build the demo here (default: a new temporary folder).")
@click.option("--no-snapshot", is_flag=True, help="Leave the snapshot out (plan from the snapshot time).")
@click.option("--users", default=40, show_default=True, help="Users in the snapshot (sets the demo's size).")
@click.option("--plan", "print_plan", is_flag=True, help="Print the plan instead of opening the wizard.")
@click.pass_context
def demo(click_ctx: click.Context, directory: Path | None, no_snapshot: bool, users: int, print_plan: bool) -> None:
    """Build the SQLite demo trio (snapshot, crashed, production) and open the wizard on it.

    Example: gapmend demo --dir /tmp/gapmend-demo
    """
    from gapmend.core.demo import build_demo

    directory = directory or Path(tempfile.mkdtemp(prefix="gapmend-demo-"))
    env_file = build_demo(directory, with_snapshot=not no_snapshot, users=users)
    click.echo(f"demo databases and env file in {directory}")
    click.echo(f"console: gapmend --env-file {env_file} plan\n")
    click_ctx.obj = Context(env_file=env_file, laravel=None)
    if print_plan or not sys.stdout.isatty():
        click_ctx.invoke(plan)
    else:
        click_ctx.invoke(wizard)


def main() -> None:
    cli(prog_name="gapmend")
