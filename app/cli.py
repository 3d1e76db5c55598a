"""The console commands: a thin Click layer over `gapmend.core`.

Every command loads the settings the same way (``--env-file`` or ``--laravel``), turns
core's `GapmendError` into one line on stderr and exit code 2, and logs to a file only
its owner can read.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import click
from gapmend.core.config import Settings, load_laravel_settings, load_settings, password_exposure
from gapmend.core.errors import GapmendError
from gapmend.core.logfile import LOGGER, close_log, open_log
from gapmend.core.plan.decisions import Decisions, load_decisions, save_decisions
from gapmend.core.plan.model import Decision, to_dict
from gapmend.core.progress import Cancelled

from .render import job_line, render_plan, render_selection

F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 2


@dataclass
class Context:
    env_file: Path
    laravel: Path | None
    warned: bool = False   # the env file's mode, said once per command

    def settings(self) -> Settings:
        settings = load_laravel_settings(self.laravel) if self.laravel is not None else load_settings(self.env_file)
        exposed = password_exposure(self.env_path())
        if exposed and not self.warned:
            self.warned = True
            LOGGER.warning("%s", exposed)
            click.echo(f"gapmend: warning: {exposed}", err=True)
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
            fail(exc.message)
        except Cancelled:
            fail("cancelled: nothing was written")
        except KeyboardInterrupt:
            fail("interrupted: nothing was written")
        finally:
            if handler is not None:
                close_log(handler)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper  # type: ignore[return-value]


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
            ctx.invoke(wizard)
        else:   # no terminal to draw on (a pipe, cron): say what there is instead
            click.echo(ctx.get_help())


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
    result = _build_plan(settings, decisions, delta)
    if output is not None:
        from gapmend.core.plan.file import write_plan_file

        write_plan_file(output, result, decisions, delta)
        LOGGER.info("plan file written: %s", output)
    click.echo(json.dumps(to_dict(result), indent=2) if as_json else render_plan(result, wide=wide))
    if output is not None:
        click.echo(f"\nplan file: {output} (restore exactly this: gapmend restore --plan {output})", err=True)
    tick("inspect", "order")


def _build_plan(settings: Settings, decisions: Decisions, delta: Any = None) -> Any:
    from gapmend.core.inspect.gap import build_plan

    progress = StderrProgress()
    cancel = threading.Event()
    LOGGER.info("plan: %s", settings.masked())
    try:
        result = build_plan(settings, decisions, progress, cancel, delta=delta)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        progress.finish()
    LOGGER.info("plan built in %.2f s: %d tables", result.elapsed_s, len(result.tables))
    return result


@cli.command()
@click.option("--confirm", "confirm_them", is_flag=True,
              help="Record that you checked the findings shown and the roles are right (the restore waits for it).")
@guarded
def roles(confirm_them: bool) -> None:
    """Say which database is which (server, name, size, latest write) and what their contents say.

    Example: gapmend --env-file prod.env roles --confirm
    """
    from gapmend.core.inspect.gap import build_plan
    from gapmend.core.inspect.roles import REFUSE, findings_of

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    progress = StderrProgress()
    try:
        result = build_plan(settings, decisions, progress, check_roles=False)
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
        decisions.roles_confirmed = sorted(set(decisions.roles_confirmed) | {f.id for f in found})
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
@click.option("--add", multiple=True, metavar="SPEC", help="Add an edge: child.column->parent.column")
@click.option("--morph", multiple=True, metavar="VALUE=TABLE", help="Map a polymorphic type value to a table.")
@guarded
def edges(drop: tuple[str, ...], confirm: tuple[str, ...], add: tuple[str, ...], morph: tuple[str, ...]) -> None:
    """List the reference graph's edges, or record the operator's word on them.

    Example: gapmend edges --drop 'comments.user_id->users.id'
    """
    from gapmend.core.databases.engines import open_engine
    from gapmend.core.databases.schema import reflect
    from gapmend.core.inspect.gap import payload_candidates
    from gapmend.core.inspect.graph import build_graph, edge_counts, graph_decisions
    from gapmend.core.inspect.payloads import PayloadEdge, summary

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    path = ctx.decisions_path(settings)
    decisions = load_decisions(path)
    c = open_engine(settings.crashed, "crashed")
    p = open_engine(settings.production, "production")
    schema = reflect(c, "crashed")
    with c.connect() as cc:
        inside = {e["id"]: e for e in payload_candidates(cc, schema, decisions, settings)}
    if drop or confirm or add or morph:
        # A confirmed path inside values is kept whole: the restore and verify need no sampling to use it.
        decisions.payload_edges += [PayloadEdge.from_dict(inside[i]).as_dict()
                                    for i in confirm if i in inside and not inside[i]["confirmed"]]
        decisions.payload_edges = [d for d in decisions.payload_edges if not _dropped(d, drop)]
        decisions.drop_edges = sorted(set(decisions.drop_edges) | set(drop))
        decisions.confirm_edges = sorted(set(decisions.confirm_edges) | (set(confirm) - set(inside)))
        decisions.add_edges = sorted(set(decisions.add_edges) | set(add))
        for item in morph:
            value, sep, table = item.partition("=")
            if not sep:
                fail(f"--morph {item!r}: write it as VALUE=TABLE")
            decisions.morph_map[value] = table
        save_decisions(path, decisions)
        LOGGER.info("edges: dropped %s, confirmed %s, added %s", drop, confirm, add)
        inside = {i: {**e, "confirmed": e["confirmed"] or i in confirm} for i, e in inside.items() if i not in drop}
    with c.connect() as cc, p.connect() as pc:
        graph = build_graph(schema, [cc, pc], graph_decisions(decisions, settings.app_aliases))
        for e in graph.edges:
            state = "declared" if e.kind == "declared" else ("confirmed" if e.id in decisions.confirm_edges else "unconfirmed")
            data = ""
            if e.kind != "declared":
                # The data's own word on an inferred edge: how many values find their parent.
                total, missing = edge_counts(cc, schema, e)
                data = f"; in crashed {total - missing}/{total} values find a parent row"
            click.echo(f"{e.describe_kind():<11} {state:<11} {e.id}  — {e.evidence}{data}")
    for e in inside.values():
        state = "confirmed" if e["confirmed"] else "unconfirmed"
        click.echo(f"{'payload':<11} {state:<11} {e['id']}  — {e['evidence']}; {summary(e)}")
    for e in graph.dropped:
        click.echo(f"{'dropped':<11} {'':<11} {e}")
    for cycle in graph.cycles:
        click.echo("cycle: " + " ↔ ".join(cycle))


def _dropped(edge: dict[str, Any], drop: Iterable[str]) -> bool:
    from gapmend.core.inspect.payloads import PayloadEdge

    return PayloadEdge.from_dict(edge).id in set(drop)


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
    if clear:
        decisions.boundaries.pop(table, None)
    elif value is None:
        fail("give the last snapshot id, or --clear")
    else:
        decisions.boundaries[table] = value
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
    result = _build_plan(settings, decisions)
    queues = sorted({j["table"] for j in result.queued_jobs})
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
def restore(yes: bool, tables: str | None, approve_pending: bool, collisions: str, orphans: str, apply_deletes: bool,
            without_backup: bool, per_table: bool, dry_run: Path | None, staged: bool,
            plan_file: Path | None) -> None:
    """Put Friday's rows into production in one transaction, and write a report.

    Example: gapmend --env-file prod.env restore --yes
    """
    from gapmend.core.apply.restore import RestoreOptions
    from gapmend.core.apply.restore import restore as run_restore
    from gapmend.core.runbook.report import render, write_report

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    reviewed = None
    if plan_file is not None:
        from gapmend.core.plan.file import read_plan_file

        reviewed = read_plan_file(plan_file)
        LOGGER.info("restore runs the plan file %s with its decisions", plan_file)
    decisions = reviewed.decisions if reviewed is not None else load_decisions(ctx.decisions_path(settings))
    if dry_run is None and not without_backup:
        from gapmend.core.runbook.backup import require_recent_backup
        from gapmend.core.runbook.steps import Checklist

        require_recent_backup(ctx.backups_path(), Checklist(ctx.steps_path()))
    elif without_backup:
        LOGGER.warning("restore without a verified backup, on the operator's word (--without-backup)")
    only = table_list(tables)
    if not yes and dry_run is None:
        from gapmend.core.inspect.roles import findings_of, require_settled
        from gapmend.core.plan.selection import require_confirmed, select_tables

        require_terminal("write to production")   # before the plan: nobody would read it
        result = _build_plan(settings, decisions)
        click.echo(render_plan(result, detail=False) + "\n")
        require_settled(findings_of(result), decisions.roles_confirmed)       # refused before asking
        chosen = select_tables(result, only, approve_pending)
        require_confirmed(result, chosen.order)
        if reviewed is not None:   # refused before asking, as the restore itself would refuse it
            from gapmend.core.plan.file import require_unmoved

            require_unmoved(reviewed, result, chosen.order)
        confirm_step("restore", yes, target=settings.production.render_as_string(hide_password=True),
                     tables=render_selection(chosen))
    options = RestoreOptions(
        tables=only, approve_pending=approve_pending,
        collisions=collisions, orphans=orphans, apply_deletes=apply_deletes, dry_run=dry_run,
        per_table=per_table, staged=staged, reviewed=reviewed,
    )
    progress = StderrProgress()
    LOGGER.info("restore: %s", settings.masked())
    try:
        report = run_restore(settings, decisions, options, progress)
    finally:
        progress.finish()
    LOGGER.info("restore %s%s: %s", report.run_id, " (dry run)" if dry_run else "", report.totals())
    click.echo(render(report))
    if dry_run is not None:
        click.echo(f"\ndry run: nothing was committed; the SQL is in {dry_run}")
        tick("dry-run")
        return
    tick("restore")
    json_path, text_path, moved = write_report(report, ctx.reports_path())
    if moved:
        LOGGER.warning("restore %s committed; %s", report.run_id, moved)
        click.echo(f"\nthe restore committed; {moved}", err=True)
    click.echo(f"\nreport: {text_path} (and {json_path.name})")


@cli.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where backups go (default: gapmend-backups/ beside the env file).")
@click.option("--yes", is_flag=True, help="Accepted like every step's; a backup changes nothing in production, so it asks nothing.")
@guarded
def backup(directory: Path | None, yes: bool) -> None:
    """Back up production with its own tool, prove the backup restores, checksum it.

    Example: gapmend --env-file prod.env backup
    """
    from gapmend.core.runbook.backup import backup as run_backup

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    folder = directory or ctx.backups_path()
    progress = StderrProgress()
    try:
        record = run_backup(settings.production, folder, progress)
    finally:
        progress.finish()
    LOGGER.info("backup %s (%d bytes, sha256 %s), verified", record.path, record.bytes, record.sha256)
    click.echo(f"backup {record.path} ({record.bytes:,} bytes), sha256 {record.sha256}")
    click.echo(f"verified: loaded into a scratch database, {sum(record.row_counts.values()):,} rows in "
               f"{len(record.row_counts)} tables match production")
    tick("backup")


@cli.command()
@click.argument("action", type=click.Choice(["status", "stop", "start"]))
@yes_option
@guarded
def workers(action: str, yes: bool) -> None:
    """Stop the queue workers (step 6), start again exactly those (step 14), or show them.

    Example: gapmend workers stop
    """
    from gapmend.core.runbook import workers as w

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    sup = w.from_settings(settings.extra)
    state = ctx.log_path().parent / "gapmend.workers.json"
    if action == "status":
        for name, st in sup.status().items():
            click.echo(f"{name:<30} {st}")
        return
    confirm_step("workers-stop" if action == "stop" else "workers-start", yes, programs=str(sup.programs))
    names = w.stop(sup, state) if action == "stop" else w.start(sup, state)
    LOGGER.info("workers %s: %s", action, names)
    verb = "stopped" if action == "stop" else "started"
    click.echo(f"{verb}: {', '.join(names) or 'nothing'}")
    tick("workers-stop" if action == "stop" else "workers-start")


@cli.command()
@click.argument("action", type=click.Choice(["on", "off", "status"]))
@yes_option
@guarded
def maintenance(action: str, yes: bool) -> None:
    """Maintenance mode on (step 7) or off (step 15) through the app's own php artisan.

    Example: gapmend --laravel /srv/shop maintenance on
    """
    from gapmend.core.runbook import artisan

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    app = artisan.app_path(settings.extra, ctx.laravel)
    php = settings.extra.get("GAPMEND_PHP") or "php"
    if action == "status":
        click.echo(f"{app}: {'in maintenance mode' if artisan.is_down(app) else 'live'}")
        return
    confirm_step("maintenance-on" if action == "on" else "maintenance-off", yes, app=str(app))
    output = artisan.maintenance_on(app, php) if action == "on" else artisan.maintenance_off(app, php)
    LOGGER.info("maintenance %s in %s: %s", action, app, output)
    click.echo(output or f"maintenance mode {action}")
    tick("maintenance-on" if action == "on" else "maintenance-off")


@cli.command()
@guarded
def permissions() -> None:
    """Check the OS user can read and write the app and backup folders, and the database users' privileges (step 9).

    Example: gapmend --laravel /srv/shop permissions
    """
    import getpass

    from gapmend.core.databases.engines import open_engine
    from gapmend.core.runbook import artisan
    from gapmend.core.runbook.privileges import missing_privileges

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    app = artisan.app_path(settings.extra, ctx.laravel)
    problems = artisan.check_permissions(app)
    backups = ctx.backups_path()
    try:
        backups.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = backups / ".gapmend-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        problems.append(f"cannot write the backup folder {backups} ({exc.strerror})")
    for role in ("production", "crashed", "snapshot"):
        url = settings.url(role)
        if url is not None:
            engine = open_engine(url, role)
            problems.extend(missing_privileges(engine, role))
            engine.dispose()
    for p in problems:
        click.echo(f"problem: {p}")
    LOGGER.info("permissions in %s as %s: %s", app, getpass.getuser(), problems or "ok")
    if problems:
        tick("permissions", state="failed")
        sys.exit(1)
    click.echo(f"{getpass.getuser()} can read and write what the runbook needs in {app}")
    tick("permissions")


@cli.command()
@click.argument("action", type=click.Choice(["add", "remove", "status"]))
@click.option("--database", default=None,
              help="With --laravel: the crashed database's name (on the same server; default GAPMEND_CRASHED_DATABASE).")
@yes_option
@guarded
def connection(action: str, database: str | None, yes: bool) -> None:
    """Add the crashed connection to the app's .env and config/database.php (step 10), or remove it (step 12).

    Example: gapmend --laravel /srv/shop connection add --database shop_crashed
    """
    from gapmend.core.runbook import artisan
    from gapmend.core.runbook import connection as conn

    ctx: Context = click.get_current_context().obj
    app = ctx.laravel if ctx.laravel is not None else artisan.app_path(ctx.settings().extra, None)
    if action == "status":
        click.echo(f"{app}: crashed connection {'present' if conn.present(app) else 'absent'}")
        return
    confirm_step(f"connection-{action}", yes, app=str(app))
    if action == "remove":
        conn.remove(app)
        LOGGER.info("crashed connection removed from %s", app)
        click.echo(f"removed the crashed connection from {app}/.env and config/database.php")
        tick("connection-remove")
        return
    if ctx.laravel is not None and database:
        from gapmend.core.config import laravel_sibling_url

        url = laravel_sibling_url(app, database)
    else:   # the env file's, or (--laravel) the one GAPMEND_CRASHED_DATABASE names
        url = ctx.settings().crashed
    conn.add(app, url)
    LOGGER.info("crashed connection added to %s (%s)", app, url.render_as_string(hide_password=True))
    click.echo(f"added the crashed connection 'crashed' to {app}/.env and config/database.php "
               f"({url.render_as_string(hide_password=True)})")
    tick("connection-add")


@cli.command()
@guarded
def investigate() -> None:
    """Investigate the restored data (step 13): verify, per-table summary, samples, conflicts left.

    Example: gapmend --env-file prod.env investigate
    """
    from gapmend.core.runbook.investigate import investigate as run
    from gapmend.core.runbook.investigate import save

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    text_, ok = run(settings, ctx.reports_path(), load_decisions(ctx.decisions_path(settings)))
    path = save(text_, ctx.reports_path())
    click.echo(text_)
    click.echo(f"\nsaved to {path}")
    LOGGER.info("investigate: verify %s; saved %s", "ok" if ok else "FAILED", path)
    tick("investigate", state="done" if ok else "failed")
    if not ok:
        sys.exit(1)


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
    LOGGER.info("undo: %s", settings.masked())
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


@cli.command("triggers")
@click.argument("action", type=click.Choice(["list", "restore"]), default="list")
@guarded
def triggers_command(action: str) -> None:
    """Production's triggers, or `restore`: create again those a stopped restore suspended.

    A restore suspends production's triggers on the tables it writes and creates them
    again when it ends; a restore killed in between leaves them suspended (the next
    restore, this command and `verify` all say so).

    Example: gapmend --env-file prod.env triggers restore
    """
    from gapmend.core.databases import triggers

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    if action == "restore":
        names = triggers.put_back(settings.production)
        LOGGER.info("triggers restore: %s", names)
        click.echo(f"created again: {', '.join(names)}" if names else "no trigger is suspended")
        return
    found, problems = triggers.listed(settings.production)
    for t in found:
        click.echo(f"{t.name}: {t.timing} {t.event} on {t.table}, {t.writes}")
    for p in problems:
        click.echo(f"problem: {p}")
    if not found:
        click.echo("production has no triggers")
    if problems:
        sys.exit(1)


@cli.command()
@guarded
def verify() -> None:
    """Check production after a restore; exits 1 on any problem.

    Example: gapmend --env-file prod.env verify
    """
    from gapmend.core.runbook.verify import verify as run_verify

    ctx: Context = click.get_current_context().obj
    problems, counts = run_verify(ctx.settings())
    for p in problems:
        click.echo(f"problem: {p}")
    LOGGER.info("verify: %d problems, %s", len(problems), counts)
    if problems:
        tick("investigate", state="failed")
        sys.exit(1)
    tick("investigate")
    click.echo(f"verified: {counts.get('rows', 0)} restored rows present once, "
               f"{counts.get('references', 0)} references resolve, {counts.get('compared', 0)} rows equal to "
               "Friday's (references mapped), counters past every id")


@cli.command()
@click.argument("table")
@click.argument("keys", nargs=-1)
@click.option("--take", type=click.Choice(["friday", "production", "merge"]), required=True,
              help="The whole row from Friday, the whole row as production has it, or merged by column "
                   "(the default: each side's changes stand, a column both changed keeps production's value).")
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


@cli.command()
@click.argument("action", required=False, type=click.Choice(["done", "skip", "failed", "reset"]))
@click.argument("step_ref", required=False, metavar="STEP")
@click.option("--reason", default=None, help="Why a step is skipped (required for skip).")
@guarded
def steps(action: str | None, step_ref: str | None, reason: str | None) -> None:
    """List the fifteen runbook steps with their state, or mark one.

    Example: gapmend steps skip 6 --reason "no supervisor on this host"
    """
    from gapmend.core.runbook.steps import STEPS, Checklist

    ctx: Context = click.get_current_context().obj
    checklist = Checklist(ctx.steps_path())
    if action is not None:
        if step_ref is None:
            fail("name the step: a number 1-15 or its key")
        state = {"done": "done", "skip": "skipped", "failed": "failed", "reset": "pending"}[action]
        checklist.mark(step_ref, state, reason)  # type: ignore[arg-type]
        LOGGER.info("step %s: %s %s", step_ref, state, reason or "")
    marks = {"pending": " ", "done": "x", "skipped": "-", "failed": "!"}
    current = checklist.current()
    for s in STEPS:
        st = checklist.get(s.number)
        when = f"  {st.state} {st.at} by {st.by}" if st.at else ""
        why = f" ({st.reason})" if st.reason else ""
        pointer = ">" if s == current and st.state == "pending" else " "
        click.echo(f"{pointer}[{marks[st.state]}] {s.number:>2}. {s.title:<58} {s.command}{when}{why}")


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
