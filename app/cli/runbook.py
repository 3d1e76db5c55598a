"""The runbook's other steps at the console: workers, maintenance mode, backup,
permissions, the crashed connection, investigation, the id map, triggers, verify, the step list."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from gapmend.core import shown
from gapmend.core.logfile import LOGGER
from gapmend.core.plan.decisions import load_decisions

from .context import Context, StderrProgress, confirm_step, fail, guarded, tick, yes_option
from .group import cli


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
        record = run_backup(settings.production, folder, progress, index=ctx.backups_path())
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
@click.argument("table", required=False)
@click.argument("value", required=False, metavar="ID")
@click.option("--csv", "fmt", flag_value="csv", help="Export the id map as CSV.")
@click.option("--json", "fmt", flag_value="json", help="Export the id map as JSON lines.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the export here (readable by you only) instead of to the terminal.")
@guarded
def ids(table: str | None, value: str | None, fmt: str | None, output: Path | None) -> None:
    """Friday's ids and where the restore put them: look one up both ways, or export the map.

    For support: Friday's e-mails, links and order numbers carry Friday's ids, and after the
    restore some of those ids name other rows. Every committed run, from production's journal.

    Examples: gapmend ids users 241 · gapmend ids --csv --output friday-ids.csv
    """
    from gapmend.core.runbook import id_map

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    if value is not None:
        if table is None:
            fail("give the table and the id: gapmend ids TABLE ID")
        for line in id_map.look_up(settings, table, value):
            click.echo(line)
        LOGGER.info("ids: looked up %s %s", table, value)
        return
    if fmt is None and output is None:
        _ids_summary(id_map.entries(settings, table))
        return
    if output is not None:
        n = id_map.export_file(settings, output, fmt or "csv")
        click.echo(f"{n} Friday rows in {output} (readable by you only)")
    else:
        n = id_map.export(settings, sys.stdout, fmt or "csv", table)
    LOGGER.info("ids: exported %d Friday rows%s", n, f" to {output}" if output else "")


def _ids_summary(entries: Any) -> None:
    """Per table: Friday rows restored under their own id, under a new one, linked, not
    restored; and how to export them all."""
    counts: dict[str, dict[str, int]] = {}
    for e in entries:
        fate = "moved" if e.moved else e.fate
        counts.setdefault(e.table, {}).setdefault(fate, 0)
        counts[e.table][fate] += 1
    if not counts:
        click.echo("no Friday row in production's journal: nothing was restored yet")
        return
    for name, c in sorted(counts.items()):
        click.echo(f"{name}: {c.get('inserted', 0)} kept their Friday id, {c.get('moved', 0)} have a new id, "
                   f"{c.get('linked', 0)} are production's rows, {c.get('skipped', 0)} not restored")
    click.echo("look one up: gapmend ids TABLE ID · export all: gapmend ids --csv --output FILE")


@cli.command("triggers")
@click.argument("action", type=click.Choice(["list", "restore"]), default="list")
@guarded
def triggers_command(action: str) -> None:
    """Production's triggers, or `restore`: create again those a stopped restore suspended.

    A restore suspends production's triggers on the tables it writes and creates them
    again when it ends; a restore killed in between leaves them suspended (every later
    command says so). `restore` is `gapmend put-back`: it puts back the counters and work
    tables such a restore left too.

    Example: gapmend --env-file prod.env triggers restore
    """
    from gapmend.core.databases import triggers

    ctx: Context = click.get_current_context().obj
    settings = ctx.settings()
    if action == "restore":   # what a stopped restore left is put back whole (`put-back`)
        click.get_current_context().invoke(put_back_command)
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
@click.argument("run", required=False)
@guarded
def report(run: str | None) -> None:
    """Write a restore's report again, rebuilt from production's journal.

    RUN is the run's id or its first characters (the last restore that wrote rows by
    default). For a report file that was lost: the journal keeps what each Friday row
    became, in the same transaction as the rows.

    Example: gapmend --env-file prod.env report b36e0c1a
    """
    from gapmend.core.runbook.rebuilt import rebuild
    from gapmend.core.runbook.report import render, write_report

    ctx: Context = click.get_current_context().obj
    rebuilt = rebuild(ctx.settings(), run)
    _, text_path, moved = write_report(rebuilt, ctx.reports_path())
    LOGGER.info("report of run %s rebuilt from the journal: %s", rebuilt.run_id, text_path)
    click.echo(render(rebuilt))
    click.echo(f"\n{moved or f'report: {text_path}'}")


@cli.command("put-back")
@guarded
def put_back_command() -> None:
    """Put back what a stopped restore changed outside its transaction.

    A restore moves production's id counters, suspends its triggers and may stage
    Friday's rows in work tables; every way out puts them back, but a restore whose
    server went away mid-run cannot. Every command names what is left; this puts back
    all of it (the next restore does so first too).

    Example: gapmend --env-file prod.env put-back
    """
    from gapmend.core.apply.leftovers import NOTHING, put_back_in

    ctx: Context = click.get_current_context().obj
    done = put_back_in(ctx.settings(say_leftovers=False).production)   # it says what it puts back instead
    for said in done:
        LOGGER.info("put-back: %s", said)
        click.echo(said)
    if not done:
        click.echo(NOTHING)


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
    LOGGER.info("verify: %s; %s", shown.plural(len(problems), "problem"), shown.pairs(counts))
    if problems:
        tick("investigate", state="failed")
        sys.exit(1)
    tick("investigate")
    click.echo(f"verified: {counts.get('rows', 0)} restored rows present once, "
               f"{counts.get('references', 0)} references resolve, {counts.get('compared', 0)} rows equal to "
               "Friday's (references mapped), counters past every id")


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
