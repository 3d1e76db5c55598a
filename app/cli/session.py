"""The wizard and the demo, opened from the console."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from gapmend.core import shown
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
    LOGGER.info("wizard: %s", shown.pairs(settings.masked()))
    return GapmendApp(settings, ctx.log_path().parent, ctx.decisions_path(settings), ctx.steps_path())


@cli.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Build the demo here (default: a new temporary folder).")
@click.option("--no-snapshot", is_flag=True, help="Leave the snapshot out (plan from the snapshot time).")
@click.option("--users", default=40, show_default=True, help="Users in the snapshot (sets the demo's size).")
@click.option("--plan", "print_plan", is_flag=True, help="Print the plan instead of opening the wizard.")
@click.option("--fresh", is_flag=True,
              help="Over a demo already in --dir: build it again and forget its steps, decisions, reports and backups.")
@click.pass_context
def demo(click_ctx: click.Context, directory: Path | None, no_snapshot: bool, users: int, print_plan: bool,
         fresh: bool) -> None:
    """Build the SQLite demo trio (snapshot, crashed, production) and open the wizard on it.

    Example: gapmend demo --dir /tmp/gapmend-demo
    Reopen a demo where it was left: gapmend --env-file /tmp/gapmend-demo/demo.env wizard
    """
    from gapmend.core.demo import ENV_NAME, build_demo

    directory = directory or Path(tempfile.mkdtemp(prefix="gapmend-demo-"))
    old = directory / ENV_NAME
    if old.exists():
        if not fresh:
            fail(f"{directory} holds a demo already: reopen it with `gapmend --env-file {old} wizard`, or build it "
                 "again with --fresh (its steps, decisions, reports and backups are forgotten)")
        _forget_demo(Context(env_file=old, laravel=None))
    env_file = build_demo(directory, with_snapshot=not no_snapshot, users=users)
    click.echo(f"demo databases and env file in {directory}")
    click.echo(f"console: gapmend --env-file {env_file} plan\n")
    click_ctx.obj = Context(env_file=env_file, laravel=None)
    if print_plan or not sys.stdout.isatty():
        click_ctx.invoke(plan)
    else:
        click_ctx.invoke(wizard)


def _forget_demo(ctx: Context) -> None:
    """A demo's run state, beside the databases about to be built again: a step file or
    a backup of the old databases would say the new ones were restored. The log stays."""
    import shutil

    for path in (ctx.steps_path(), ctx.decisions_path(ctx.settings())):
        path.unlink(missing_ok=True)
    for folder in (ctx.reports_path(), ctx.backups_path()):
        shutil.rmtree(folder, ignore_errors=True)
    LOGGER.info("demo: built again with --fresh; steps, decisions, reports and backups forgotten")


def main() -> None:
    cli(prog_name="gapmend")
