"""Issue 39, item 5: the id map for the people who answer Friday's customers. After the
demo's restore, `gapmend ids` looks an id up both ways, with who the row is, and exports
every Friday row (table, Friday id, new id, fate, label) readable by its owner only."""

from __future__ import annotations

import csv
import stat
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.demo import build_demo


def _ids(env: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--env-file", str(env), "ids", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_id_map_both_ways_and_exported(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    assert "nothing was restored yet" in _ids(env)
    restore(load_settings(env, environ={}), options=RestoreOptions(approve_pending=True))

    # Friday's user 44 moved to 48; production's own user 44 is someone else.
    assert _ids(env, "users", "44").splitlines() == [
        "Friday's users 44 (friday4@example.test) is new id 48 in production (run " + _run(env)[:8] + ")",
        "users 44 in production now: production's own row (prod4@example.test), not a restored one"]
    assert "users 48 in production now is Friday's users 44 (friday4@example.test)" in _ids(env, "users", "48")
    assert "is production's row 41 (unique key held by production)" in _ids(env, "users", "41")
    assert "users: 0 kept their Friday id, 3 have a new id, 1 are production's rows, 0 not restored" in _ids(env)

    out = tmp_path / "friday-ids.csv"
    said = _ids(env, "--csv", "--output", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "readable by you only" in said
    rows = list(csv.DictReader(out.open()))
    (user,) = [r for r in rows if (r["table"], r["friday_id"]) == ("users", "44")]
    assert (user["new_id"], user["fate"], user["label"]) == ("48", "inserted", "friday4@example.test")
    skipped = [r for r in rows if r["fate"] == "skipped"]
    assert skipped and all(r["new_id"] == "" and r["detail"] for r in skipped)
    assert len(rows) == len({(r["table"], r["friday_id"]) for r in rows})   # each Friday row once


def _run(env: Path) -> str:
    from gapmend.core.databases import journal
    from sqlalchemy import create_engine

    with create_engine(f"sqlite:///{env.parent / 'production.sqlite'}").connect() as conn:
        run = journal.last_writing_run(conn)
    assert run is not None
    return run.run_id


def test_verify_says_when_nothing_restored_is_there(tmp_path: Path) -> None:
    """Issue 40, item 8: verify said "verified: 0 restored rows", exit 0, after a restore
    killed before its commit and after an undo took the only restore back."""
    from gapmend.core.apply.undo import undo
    from gapmend.core.databases import journal
    from gapmend.core.plan.decisions import Decisions
    from sqlalchemy import create_engine, insert

    env = build_demo(tmp_path)
    settings = load_settings(env, environ={})
    engine = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    journal.ensure(engine)
    with engine.begin() as conn:   # what a restore killed before its commit leaves: its run, never committed
        conn.execute(insert(journal.runs).values(run_id="killed", started_at=datetime(2026, 12, 7, 2, 0), status="running"))
    result = CliRunner().invoke(cli, ["--env-file", str(env), "verify"])
    assert result.exit_code == 1 and "no committed restore wrote a row to production" in result.output, result.output

    report = restore(settings, options=RestoreOptions(approve_pending=True))
    assert CliRunner().invoke(cli, ["--env-file", str(env), "verify"]).exit_code == 0
    taken = undo(settings, Decisions())
    result = CliRunner().invoke(cli, ["--env-file", str(env), "verify"])
    assert result.exit_code == 1, result.output
    assert f"restore {report.run_id[:8]} was taken back by undo {taken.undo_id[:8]} at " in result.output
