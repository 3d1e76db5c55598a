"""Steps 1-2 at the console: inspect the gap, say which database is which, and the
operator's decisions on tables, boundaries, edges, jobs and conflicts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import click
from gapmend.core.config import Settings
from gapmend.core.logfile import LOGGER
from gapmend.core.plan.decisions import Decisions, load_decisions, save_decisions
from gapmend.core.plan.model import Decision, to_dict

from ..render import job_line, render_plan
from .context import EXIT_ERROR, Context, StderrProgress, fail, guarded, plan_with_progress, terminal, tick
from .group import cli

if TYPE_CHECKING:
    pass


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the plan file here (0600): `restore --plan` runs exactly it, or refuses if the databases moved.")
@click.option("--wide", is_flag=True, help="Show conflicting values whole (they are cut at 60 characters).")
@guarded
def plan(as_json: bool, output: Path | None, wide: bool) -> None:
    """Inspect every table's gap and print the restore plan (read-only).

    Example: gapmend --env-file prod.env plan --json > plan.json
    """
    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    decisions = load_decisions(ctx.decisions_path(settings))
    from gapmend.core.plan.delta import Delta

    delta = Delta() if output is not None else None   # kept for the restore: it compares only these keys again
    result = plan_with_progress(settings, decisions, delta)
    if output is not None:
        from gapmend.core.plan.file import write_plan_file

        write_plan_file(output, result, decisions, delta)
        LOGGER.info("plan file written: %s", output)
    click.echo(json.dumps(to_dict(result), indent=2) if as_json else render_plan(result, wide=wide, **terminal()))
    if not as_json:
        from gapmend.core.runbook.room import room

        click.echo("\n" + room(settings, result).line())
    if output is not None:
        click.echo(f"\nplan file: {output} (restore exactly this: gapmend restore --plan {output})", err=True)
    tick("inspect", "order")




@cli.command()
@click.option("--confirm", "confirm_them", is_flag=True,
              help="Record that you checked the findings shown and the roles are right (the restore waits for it).")
@guarded
def roles(confirm_them: bool) -> None:
    """Say which database is which (server, name, size, latest write) and what their contents say.

    Example: gapmend --env-file prod.env roles --confirm
    """
    from gapmend.core.apply.preview import build_plan
    from gapmend.core.inspect.gap import Reading
    from gapmend.core.inspect.roles import REFUSE, findings_of

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    progress = StderrProgress()
    try:
        result = build_plan(settings, decisions, progress, reading=Reading(check_roles=False))
    finally:
        progress.finish()
    for facts in result.roles:
        click.echo(facts.line())
    found = findings_of(result)
    for f in found:
        state = "refused" if f.kind == REFUSE else ("confirmed" if f.id in decisions.roles_confirmed else "to confirm")
        click.echo(f"{state}: {f.message}")
    if not found:
        click.echo("the contents fit the roles: the snapshot predates the crash, production wrote after it")
    refused = [f for f in found if f.kind == REFUSE]
    if refused:
        fail(f"{refused[0].message} (a contradiction cannot be confirmed)")
    if confirm_them and found:
        decisions.confirm_roles(f.id for f in found)
        save_decisions(path, decisions)
        LOGGER.info("roles confirmed by the operator: %s", [f.message for f in found])
        click.echo("confirmed: the restore may go ahead on these roles")


@cli.command()
@click.option("--fix-permissions", is_flag=True, help="Make the env file readable by its owner only (chmod 600).")
@guarded
def check(fix_permissions: bool) -> None:
    """Connect to every configured database and say which answer (passwords masked).

    Example: gapmend --env-file prod.env check
    """
    from gapmend.core.databases.engines import open_engine

    ctx: Context = click.get_current_context().obj
    if fix_permissions:
        ctx.env_path().chmod(0o600)
        LOGGER.info("%s made readable by its owner only", ctx.env_path())
        click.echo(f"{ctx.env_path()}: now readable by its owner only (600)")
    settings = ctx.settings()
    for role, url in (("production", settings.production), ("crashed", settings.crashed), ("snapshot", settings.snapshot)):
        if url is None:
            click.echo(f"{role:<10} not configured")
            continue
        engine = open_engine(url, role)
        engine.dispose()
        click.echo(f"{role:<10} ok  {url.render_as_string(hide_password=True)}")


@cli.command()
@guarded
def schema() -> None:
    """Compare the crashed and production schemas table by table.

    Example: gapmend --env-file prod.env schema
    """
    from gapmend.core.databases.engines import open_engine
    from gapmend.core.databases.schema import compare, reflect

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    c = open_engine(settings.crashed, "crashed")
    p = open_engine(settings.production, "production")
    findings = compare(reflect(c, "crashed"), reflect(p, "production"))
    for f in findings:
        click.echo(f.line())
    if not findings:
        click.echo("the schemas match")
    if any(f.blocking for f in findings):
        sys.exit(EXIT_ERROR)


@cli.command()
@click.option("--drop", multiple=True, metavar="EDGE", help="Drop an implied edge (its id as `plan` prints it).")
@click.option("--confirm", multiple=True, metavar="EDGE", help="Confirm an implied edge.")
@click.option("--add", multiple=True, metavar="SPEC",
              help="Add an edge: child.column->parent.column, or child.column[discriminator=value]->parent.column "
                   "for the rows whose discriminator holds value.")
@click.option("--morph", multiple=True, metavar="VALUE=TABLE", help="Map a polymorphic type value to a table.")
@click.option("--plain", multiple=True, metavar="TABLE.COLUMN",
              help="An integer column holds plain values, not ids (the restore copies it as it is); "
                   "TABLE.COLUMN[DISCRIMINATOR=VALUE] for the rows of one kind.")
@click.option("--scoped", multiple=True, metavar="TABLE.COLUMN[PARENT,...]",
              help="A number unique within a parent, not an id (a comment's local_id within its page): "
                   "the restore renumbers a Friday row whose number production's row holds there.")
@click.option("--scoped-ref", multiple=True, metavar="TABLE.COLUMN->TABLE.NUMBER",
              help="A column naming a row of the same parent by its --scoped number (a reply's parent_id).")
@click.option("--unique", multiple=True, metavar="TABLE(A,B)",
              help="A key the application keeps though no index declares it (a per-user counter): a Friday row "
                   "whose key production holds is linked to production's row, not inserted a second time.")
@click.option("--not-unique", multiple=True, metavar="TABLE(A,B)",
              help="A key the census proposed is none: the application may keep the pair twice.")
@click.option("--accept-suggestions", is_flag=True,
              help="Take every proposal the census shows as a reference (read them first; recorded with their evidence).")
@guarded
def edges(accept_suggestions: bool, **said: tuple[str, ...]) -> None:
    """List the reference graph's edges and the census of undecided id columns, or record the operator's word on them.

    Example: gapmend edges --drop 'comments.user_id->users.id'
    """
    from gapmend.core.inspect.reference_edits import ReferenceEdits, edit_references

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    edits = ReferenceEdits(**said)   # each option spelt as the edit it records
    found = edit_references(settings, decisions, edits)
    if edits.any:
        save_decisions(path, decisions)
        LOGGER.info("edges: %s", ", ".join(f"{name} {list(specs)}" for name, specs in said.items() if specs))
    for e in found.edges:
        # The data's own word on an inferred edge: how many values find their parent.
        data = "" if e.found is None else f"; in crashed {e.found[1]}/{e.found[0]} values find a parent row"
        click.echo(f"{e.edge_kind:<11} {e.state:<11} {e.id}  — {e.evidence}{data}")
    for p in found.inside:
        state = "confirmed" if p.confirmed else "unconfirmed"
        click.echo(f"{'payload':<11} {state:<11} {p.id}  — {p.evidence}; {p.sampled_said()}")
    for dropped in found.graph.dropped:
        click.echo(f"{'dropped':<11} {'':<11} {dropped}")
    for cycle in found.graph.cycles:
        click.echo("cycle: " + " ↔ ".join(cycle))
    for column in decisions.plain_columns:
        click.echo(f"{'plain':<11} {'':<11} {column}")
    for key in decisions.unique_keys:
        click.echo(f"{'unique':<11} {'':<11} {key}  — a key the application keeps (the operator's word)")
    for number in decisions.scoped_numbers():
        named = f"; named by {', '.join(number.named_by)}" if number.named_by else ""
        click.echo(f"{'scoped':<11} {'':<11} {number.id}  — a number within its parent{named}")
    if settings.app_path is not None:
        from gapmend.core.laravel.layout import reading

        for line in reading(settings.app_path, settings.app_aliases, settings.app_guards):
            click.echo(line)
    _census(settings, decisions, path, accept_suggestions)


def _census(settings: Settings, decisions: Decisions, path: Path, accept: bool) -> None:
    """The columns nobody declared whose Friday values name moved ids (`census`, read
    from a plan of the data), or, with `accept`, each proposal taken as a reference."""
    from gapmend.core.inspect import census

    plan = plan_with_progress(settings, decisions)
    found = plan.id_columns
    if accept and found:
        taken = census.accept(decisions, plan, found)
        save_decisions(path, decisions)
        LOGGER.info("edges: suggestions accepted: %s", taken)
        for edge, evidence in taken.items():
            click.echo(f"{'accepted':<11} {'added':<11} {edge}  — {evidence}")
        return
    for f in found:
        click.echo(f"{'census':<11} {'undecided':<11} {f.id}  — {f.evidence()}; proposed: {f.proposal()}")
    if found:
        click.echo("undecided columns: the restore refuses until each is decided (--add, --plain, --unique, "
                   "--not-unique, or --accept-suggestions after reading the proposals)")
    elif accept:
        click.echo("no undecided column: nothing to accept")


@cli.command()
@click.argument("table")
@click.argument("value", required=False, type=int)
@click.option("--clear", is_flag=True, help="Forget the override and detect the boundary again.")
@guarded
def boundary(table: str, value: int | None, clear: bool) -> None:
    """Override where the snapshot ends in TABLE (its last snapshot id).

    Example: gapmend boundary users 41235
    """
    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    _require_tables(settings, [table])
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    if value is None and not clear:
        fail("give the last snapshot id, or --clear")
    decisions.set_boundary(table, None if clear else value)
    save_decisions(path, decisions)
    LOGGER.info("boundary %s = %s", table, "auto" if clear else value)
    click.echo(f"{table}: boundary {'detected again' if clear else value}")


def _require_tables(settings: Settings, names: Iterable[str]) -> dict[str, list[str]]:
    """The operator's table names against the crashed database's (read-only): each
    name's columns, or an error naming the closest table."""
    from gapmend.core.databases.engines import open_engine
    from gapmend.core.databases.schema import require_known
    from sqlalchemy import inspect

    engine = open_engine(settings.crashed, "crashed")
    try:
        found = inspect(engine)
        require_known(names, found.get_table_names())
        return {name: [c["name"] for c in found.get_columns(name)] for name in names}
    finally:
        engine.dispose()


def _decide(tables: tuple[str, ...], decision: Decision) -> None:
    from gapmend.core.inspect.framework import fixed_reason, require_approvable

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    columns = _require_tables(settings, tables)
    if decision is Decision.APPROVE:
        for name in tables:
            require_approvable(name, fixed_reason(name, columns[name]))
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    for t in tables:
        decisions.decide(t, decision.value)
    save_decisions(path, decisions)
    LOGGER.info("%s: %s", decision.value, ", ".join(tables))
    click.echo(f"{decision.value}: {', '.join(tables)}")


@cli.command()
@click.argument("tables", nargs=-1, required=True)
@guarded
def approve(tables: tuple[str, ...]) -> None:
    """Approve TABLES for the restore.

    Example: gapmend approve users posts comments
    """
    _decide(tables, Decision.APPROVE)


@cli.command()
@click.argument("tables", nargs=-1, required=True)
@guarded
def skip(tables: tuple[str, ...]) -> None:
    """Leave TABLES out of the restore.

    Example: gapmend skip activity_log
    """
    _decide(tables, Decision.SKIP)


@cli.command()
@click.option("--table", "table_name", default=None, metavar="TABLE",
              help="The queue table, when the app has more than one (jobs, failed_jobs).")
@click.option("--pick", "picked", multiple=True, type=int, metavar="ID", help="Replay this Friday job (repeat for more).")
@click.option("--unpick", "unpicked", multiple=True, type=int, metavar="ID", help="Leave this job out again.")
@guarded
def jobs(table_name: str | None, picked: tuple[int, ...], unpicked: tuple[int, ...]) -> None:
    """List Friday's queued jobs, or pick the ones the restore replays (the rest stay out).

    Example: gapmend jobs --pick 12 --pick 14
    """
    from gapmend.core.inspect import picks

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    result = plan_with_progress(settings, decisions)
    queues = sorted({j.table for j in result.queued_jobs})
    if picked or unpicked:
        if table_name is None and len(queues) != 1:
            fail("give the queue table with --table (" + (", ".join(queues) or "no Friday job found") + ")")
        table = table_name or queues[0]
        if table not in queues:
            fail(f"{table} holds no Friday job to pick: " + ("pick in " + ", ".join(queues) if queues else
                                                            "no queue table has Friday jobs"))
        if picked:
            from gapmend.core.databases.engines import open_engine
            from gapmend.core.databases.schema import reflect

            engine = open_engine(settings.crashed, "crashed")
            try:
                with engine.connect() as conn:
                    picks.require_friday(conn, reflect(engine, "crashed"), result, table, picked)
            finally:
                engine.dispose()
            for edge in picks.pick(decisions, result, table, picked):
                click.echo(f"confirmed the ids inside its payloads: {edge}")
        if unpicked:
            picks.unpick(decisions, table, unpicked)
        save_decisions(path, decisions)
        LOGGER.info("jobs %s: picked %s, unpicked %s", table, list(picked), list(unpicked))
        result = picks.applied(result, decisions, table)
    if not result.queued_jobs:
        click.echo("no Friday job in a queue table")
    for job in result.queued_jobs:
        click.echo(job_line(result, job))



@cli.command()
@click.argument("table")
@click.argument("keys", nargs=-1)
@click.option("--take", type=click.Choice(["friday", "production", "merge"]), required=True,
              help="The whole row from Friday, the whole row as production has it (the default), or merged by "
                   "column (each side's changes stand, a column both changed keeps production's value).")
@guarded
def resolve(table: str, keys: tuple[str, ...], take: str) -> None:
    """Resolve the rows both sides changed in TABLE (all, or those with KEYS): Friday's, production's, or merged.

    Example: gapmend resolve users 6 --take friday
    """
    from gapmend.core.databases.journal import encode

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    _require_tables(settings, [table])
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    items = {"*"} if not keys else {encode([int(k) if k.lstrip("-").isdigit() else k]) for k in keys}
    decisions.resolve(table, items, take)
    save_decisions(path, decisions)
    LOGGER.info("resolve %s %s: take %s", table, keys or "all", take)
    click.echo(f"{table} {' '.join(keys) or '(all rows both sides changed)'}: "
               + ("merged by column" if take == "merge" else f"take {take}'s row"))
