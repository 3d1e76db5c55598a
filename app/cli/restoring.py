"""Step 11 at the console, and taking a restore back: `restore` and `undo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from gapmend.core import shown
from gapmend.core.logfile import LOGGER
from gapmend.core.plan.decisions import load_decisions
from gapmend.core.private_files import require_room

from ..render import render_plan, render_selection
from .context import (
    Context,
    StderrProgress,
    confirm_step,
    guarded,
    plan_with_progress,
    require_terminal,
    table_list,
    terminal,
    tick,
    yes_option,
)
from .group import cli


@cli.command()
@click.option("--yes", is_flag=True, help="Apply without asking.")
@click.option("--tables", default=None, metavar="A,B", help="Restore only these tables (their parents are pulled in).")
@click.option("--approve-pending", is_flag=True,
              help="Also restore the tables still pending, as if approved now (the report lists them); "
                   "without it only approved tables are written.")
@click.option("--collisions", type=click.Choice(["link", "skip"]), default="link", show_default=True,
              help="A Friday row whose unique key production holds: link references to production's row, or skip it.")
@click.option("--orphans", type=click.Choice(["skip", "null"]), default="skip", show_default=True,
              help="A Friday row whose parent production deleted: skip it (and its dependants) or set a nullable reference to NULL.")
@click.option("--apply-deletes", is_flag=True, help="Also apply Friday's deletes of rows production left alone.")
@click.option("--merge-cells", is_flag=True,
              help="Merge the rows both sides changed column by column (Friday's changed columns written, "
                   "production's kept) where you resolved nothing else; by default production's row stands.")
@click.option("--without-backup", is_flag=True,
              help="Restore even though no verified backup was taken in this run (you have your own).")
@click.option("--per-table", is_flag=True,
              help="Commit table by table (for very large gaps); an interrupted run resumes where it stopped.")
@click.option("--dry-run", "dry_run", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the SQL the restore would run to this file, and change nothing.")
@click.option("--staged", is_flag=True,
              help="Copy Friday's rows into staging tables beside production's first, even where production's "
                   "connection could read crashed's tables in place (the server copies the rows either way).")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Run exactly this reviewed plan (`plan --output`), with its decisions; refused if the databases "
                   "moved under it since.")
@guarded
def restore(yes: bool, tables: str | None, without_backup: bool, plan_file: Path | None, **chosen: Any) -> None:
    """Put Friday's rows into production in one transaction, and write a report.

    Example: gapmend --env-file prod.env restore --yes
    """
    from gapmend.core.apply.restore import RestoreOptions
    from gapmend.core.apply.restore import restore as run_restore
    from gapmend.core.runbook.report import render, render_totals, write_report

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    reviewed = None
    if plan_file is not None:
        from gapmend.core.plan.file import read_plan_file

        reviewed = read_plan_file(plan_file)
        LOGGER.info("restore runs the plan file %s with its decisions", plan_file)
    decisions = reviewed.decisions if reviewed is not None else load_decisions(ctx.decisions_path(settings))
    # The options not named above are the restore's own, spelt alike (`RestoreOptions`).
    options = RestoreOptions(tables=table_list(tables), reviewed=reviewed, **chosen)
    dry_run = options.dry_run
    if dry_run is None and not without_backup:
        from gapmend.core.runbook.backup import require_recent_backup
        from gapmend.core.runbook.steps import Checklist

        accepted = require_recent_backup(ctx.backups_path(), Checklist(ctx.steps_path()), settings.production)
        click.echo(f"backup: {accepted.path} (taken {accepted.taken_at}, verified)")
        LOGGER.info("restore: the backup it relies on: %s", accepted.path)
    elif without_backup:
        LOGGER.warning("restore without a verified backup, on the operator's word (--without-backup)")
    if not yes and dry_run is None:
        from gapmend.core.apply.preflight import require_ready

        require_terminal("write to production")   # before the plan: nobody would read it
        result = plan_with_progress(settings, decisions)
        click.echo(render_plan(result, detail=False, **terminal()) + "\n")
        # Refused before asking, as the restore itself would refuse it.
        chosen_tables = require_ready(result, decisions, options)
        from gapmend.core.runbook.room import room

        click.echo(room(settings, result, chosen_tables.order, options.staged).line())
        confirm_step("restore", yes, target=settings.production.render_as_string(hide_password=True),
                     tables=render_selection(chosen_tables))
    if dry_run is None:   # gapmend's own record is proven before production's first write
        require_room(ctx.reports_path(), ctx.steps_path(), ctx.log_path())
    progress = StderrProgress()
    LOGGER.info("restore: %s", shown.pairs(settings.masked()))
    try:
        report = run_restore(settings, decisions, options, progress)
    finally:
        progress.finish()
    LOGGER.info("restore %s%s: %s", report.run_id, " (dry run)" if dry_run else "", render_totals(report))
    click.echo(render(report))
    if dry_run is not None:
        click.echo(f"\ndry run: nothing was committed; the SQL is in {dry_run}")
        tick("dry-run")
        return
    tick("restore")
    if report.noop:   # nothing new, nothing committed: the run that did it is the one to read
        from gapmend.core.runbook.restored import describe, last_restore

        last = last_restore(settings)
        click.echo(f"\nalready restored{f' by {describe(last)}' if last else ''}: nothing to do, nothing written"
                   + (f" (its report: `gapmend report {last.run_id[:8]}`)" if last else ""))
        return
    json_path, text_path, moved = write_report(report, ctx.reports_path())
    if moved:
        LOGGER.warning("restore %s committed; %s", report.run_id, moved)
        click.echo(f"\nthe restore committed; {moved}", err=True)
    click.echo(f"\nreport: {text_path} (and {json_path.name})")



@cli.command()
@click.option("--run", "run_id", default=None, metavar="ID",
              help="The restore to take back (default: the latest; its id is in its report and in `investigate`).")
@click.option("--tables", default=None, metavar="A,B", help="Take back only these tables.")
@click.option("--force-table", "force_tables", multiple=True, metavar="TABLE",
              help="Also take back this table's rows production changed since the restore (repeatable); "
                   "rows production rows reference are left all the same.")
@click.option("--dry-run", "dry_run", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the SQL the undo would run to this file, print what it would do, and change nothing.")
@yes_option
@guarded
def undo(run_id: str | None, tables: str | None, force_tables: tuple[str, ...], dry_run: Path | None,
         yes: bool) -> None:
    """Take a restore back, leaving what production wrote since: remove the rows it inserted
    and put back the rows it changed, where production has not touched them.

    Example: gapmend --env-file prod.env undo --dry-run undo.sql
    """
    from gapmend.core.apply.undo import UndoOptions
    from gapmend.core.apply.undo import undo as run_undo
    from gapmend.core.apply.undo_report import render as render_undo
    from gapmend.core.runbook.report import write_undo_report

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    options = UndoOptions(run_id=run_id, dry_run=dry_run, force_tables=frozenset(force_tables),
                          tables=table_list(tables))
    if not yes and dry_run is None:
        require_terminal("undo a restore")
        click.echo(f"undo {run_id or 'the latest restore'} in {settings.production.render_as_string(hide_password=True)}"
                   " (run it with --dry-run first to see what it takes back)")
        click.confirm("Take the restore back?", default=False, abort=True)
    LOGGER.info("undo: %s", shown.pairs(settings.masked()))
    progress = StderrProgress()
    try:
        report = run_undo(settings, load_decisions(ctx.decisions_path(settings)), options, progress)
    finally:
        progress.finish()
    LOGGER.info("undo %s of %s%s: %s", report.undo_id, report.run_id, " (dry run)" if dry_run else "", report.totals())
    click.echo(render_undo(report))
    if dry_run is not None:
        click.echo(f"\ndry run: nothing was committed; the SQL is in {dry_run}")
        return
    json_path, text_path, moved = write_undo_report(report, ctx.reports_path())
    if moved:
        click.echo(f"\nthe undo committed; {moved}", err=True)
    click.echo(f"\nreport: {text_path} (and {json_path.name})")
