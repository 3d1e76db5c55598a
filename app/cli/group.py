"""The `gapmend` command group: every command module adds its commands to it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .context import Context


@click.group(invoke_without_command=True)
@click.version_option(package_name="gapmend")
@click.option("--env-file", type=click.Path(path_type=Path), default=Path(".env"), show_default=True,
              help="dotenv file with GAPMEND_PRODUCTION_URL, GAPMEND_CRASHED_URL, ...")
@click.option("--laravel", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Read the connections from this Laravel application's .env instead.")
@click.pass_context
def cli(ctx: click.Context, env_file: Path, laravel: Path | None) -> None:
    """gapmend: put the rows a crash lost back into the live database.

    Example: gapmend --env-file prod.env plan
    """
    ctx.obj = Context(env_file=env_file, laravel=laravel)
    if ctx.invoked_subcommand is None:
        if sys.stdout.isatty():
            ctx.invoke(cli.commands["wizard"])   # added by `session`, which imports this module
        else:   # no terminal to draw on (a pipe, cron): say what there is instead
            click.echo(ctx.get_help())
