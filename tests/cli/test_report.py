"""Issue 40, item 3: a restore's report rebuilt from production's journal, for a report
file that was lost: what each Friday row became is what the run itself reported."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.demo import build_demo
from gapmend.core.runbook.report import REBUILT


def test_a_report_rebuilt_from_the_journal_says_what_the_run_said(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    said = CliRunner().invoke(cli, ["--env-file", str(env), "report"])
    assert said.exit_code == 2 and "production keeps no journal" in said.output, said.output
    ran = restore(load_settings(env, environ={}), options=RestoreOptions(approve_pending=True))
    assert ran.totals()["inserted"] and ran.totals()["linked"] and ran.totals()["skipped"]

    for named in ([], [ran.run_id[:8]]):   # the last run, or the one named by its first characters
        result = CliRunner().invoke(cli, ["--env-file", str(env), "report", *named])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].startswith(f"gapmend restore {ran.run_id} — restore committed in ") and REBUILT in lines
        assert lines[1] == (f"inserted {ran.totals()['inserted']}, linked {ran.totals()['linked']}, updated "
                            f"{ran.totals()['updated']}, deleted {ran.totals()['deleted']}, skipped "
                            f"{ran.totals()['skipped']}, conflicts kept 0, already restored 0")
        path = Path(lines[-1].removeprefix("report: "))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.parent == tmp_path / "gapmend-reports"
    from gapmend.core.runbook.rebuilt import rebuild

    again = rebuild(load_settings(env, environ={}), ran.run_id[:8])
    for name, table in ran.tables.items():   # per table: what each Friday row became, as the run reported it
        if not (table.inserted or table.linked or table.skipped or table.updated or table.deleted):
            continue
        got = again.tables[name]
        assert (got.inserted, got.updated, got.deleted, got.moved_count) == \
            (table.inserted, table.updated, table.deleted, table.moved_count), name
        assert sorted(got.moved) == sorted(table.moved) and sorted(got.linked) == sorted(table.linked), name
        assert sorted(got.skipped) == sorted(table.skipped), name
        assert got.kept_ids == table.kept_ids, name

    unknown = CliRunner().invoke(cli, ["--env-file", str(env), "report", "zzzz"])
    assert unknown.exit_code == 2 and "no committed restore in production's journal has an id starting 'zzzz'" in \
        unknown.output and ran.run_id[:8] in unknown.output, unknown.output


def test_a_rerun_answers_from_the_journal_and_does_not_grow_it(tmp_path: Path) -> None:
    """Issue 40, item 6: after a committed restore, the same restore again answers from
    the journal (crashed, the snapshot, the decisions and the options unchanged) which run
    did it, and writes nothing: no run row, no journal entry, no report file. Once crashed
    changes, it reads everything again."""
    from sqlalchemy import create_engine, text

    env = build_demo(tmp_path)
    ran = restore(load_settings(env, environ={}), options=RestoreOptions(approve_pending=True))
    engine = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")

    def journal() -> tuple[int, int]:
        with engine.connect() as conn:
            return (conn.execute(text("SELECT COUNT(*) FROM gapmend_runs")).scalar_one(),
                    conn.execute(text("SELECT COUNT(*) FROM gapmend_id_map")).scalar_one())

    kept, reports = journal(), sorted((tmp_path / "gapmend-reports").glob("*"))
    result = CliRunner().invoke(cli, ["--env-file", str(env), "restore", "--yes", "--without-backup",
                                      "--approve-pending"])
    assert result.exit_code == 0, result.output
    said = result.output.strip().splitlines()[-1]
    assert said.startswith(f"already restored by run {ran.run_id[:8]}, at ") and \
        f"nothing to do, nothing written (its report: `gapmend report {ran.run_id[:8]}`)" in said, said
    assert journal() == kept and sorted((tmp_path / "gapmend-reports").glob("*")) == reports
    assert "nothing read again, nothing written" in (tmp_path / "gapmend.log").read_text()   # from the journal

    # Crashed written since (a row found later): the answer no longer holds; everything is read again.
    crashed = create_engine(f"sqlite:///{tmp_path / 'crashed.sqlite'}")
    with crashed.begin() as conn:
        conn.execute(text("INSERT INTO tags (id, name) VALUES (9001, 'found later')"))
    crashed.dispose()
    again = restore(load_settings(env, environ={}), options=RestoreOptions(approve_pending=True))
    assert again.totals()["inserted"] == 1 and not again.noop
    engine.dispose()


def test_a_restore_after_an_undo_in_the_same_second_is_not_answered(tmp_path: Path) -> None:
    """The journal stamps runs to the second: a restore and its undo within one second must
    not leave the next restore believing the restore was the last word (it would restore
    nothing)."""
    from gapmend.core.apply.undo import undo
    from gapmend.core.databases import journal
    from gapmend.core.plan.decisions import Decisions
    from sqlalchemy import create_engine, update

    env = build_demo(tmp_path)
    settings = load_settings(env, environ={})
    ran = restore(settings, options=RestoreOptions(approve_pending=True))
    taken = undo(settings, Decisions())
    assert taken.totals()["removed"]
    engine = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    with engine.begin() as conn:   # the undo stamped with the restore's own second
        started = conn.execute(journal.runs.select().where(journal.runs.c.run_id == ran.run_id)).one().started_at
        conn.execute(update(journal.runs).values(started_at=started))
    engine.dispose()
    again = restore(settings, options=RestoreOptions(approve_pending=True))
    assert not again.noop and again.totals()["inserted"] == ran.totals()["inserted"]
