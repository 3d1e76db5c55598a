"""Friday's queued jobs picked one by one (issue 16, item 1): the operator reads each
job (its class, the models it names, when it is due) and picks the ones to replay; the
restore writes those, with the model ids inside their serialized payloads remapped, and
leaves the table's other Friday rows out, counted in the report. The payloads are
written by Debian's Laravel 8 itself (`SerializesModels`), and read back by PHP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import Settings, load_settings
from gapmend.core.plan.decisions import load_decisions
from gapmend.core.runbook.report import render
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select

from ..conftest import Databases
from ..dbstate import database_state, load_roles
from .test_laravel_schemas import JOB_USER, _php, _php_reads

md = MetaData()
users = Table("users", md, Column("id", Integer, primary_key=True), Column("email", String(50)))
jobs = Table("jobs", md, Column("id", Integer, primary_key=True), Column("queue", String(50)),
             Column("payload", Text), Column("attempts", Integer), Column("reserved_at", Integer),
             Column("available_at", Integer), Column("created_at", Integer))


def _job(n: int, user: int) -> dict[str, Any]:
    return dict(id=n, queue="default", payload=_php("queued_job.php", str(user)), attempts=0, reserved_at=None,
                available_at=1763640000 + n, created_at=1763640000)


def _trio(dbs: Databases) -> tuple[Path, Settings]:
    """Snapshot job 1; Friday's jobs 2-4 naming Friday's users 4 and 5, whose ids
    production's own users (and production's job 2) hold now."""
    e = dbs.engines
    snapshot = {"users": [dict(id=i, email=f"thu-{i}@x") for i in (1, 2, 3)], "jobs": [_job(1, 2)]}
    friday = {"users": [dict(id=4, email="fri-4@x"), dict(id=5, email="fri-5@x")],
              "jobs": [_job(2, 4), _job(3, 5), _job(4, 4)]}
    production = {"users": [dict(id=4, email="prod-4@x"), dict(id=5, email="prod-5@x")], "jobs": [_job(2, 5)]}
    load_roles(e, md, {"snapshot": [snapshot], "crashed": [snapshot, friday],
                       "production": [{"users": snapshot["users"]}, production]})
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    return env, load_settings(env, environ={})


@pytest.mark.parametrize("dbs", ["sqlite"], indirect=True)
def test_picked_jobs_are_replayed_and_the_rest_left_out(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    env, settings = _trio(dbs)
    run = CliRunner()

    listed = run.invoke(cli, ["--env-file", str(env), "jobs"])
    assert listed.exit_code == 0, listed.output
    assert "jobs 3: App\\Jobs\\SendWelcome, naming App\\Models\\User 5, due" in listed.output
    assert listed.output.count("not restored (skip; pick it to replay it)") == 3, listed.output
    # A pick must name one of Friday's jobs: a snapshot job, or one crashed never held, is refused.
    for wrong, said in (("1", "jobs 1 is a snapshot row"), ("9", "jobs 9 is not in the crashed database"),
                        ("--table=users", "users holds no Friday job to pick: pick in jobs")):
        args = ["--pick", "4", wrong] if wrong.startswith("--") else ["--pick", wrong]
        refused = run.invoke(cli, ["--env-file", str(env), "jobs", *args])
        assert refused.exit_code == 2 and said in refused.output, refused.output
    assert not load_decisions(settings.decisions_path).picked

    chosen = run.invoke(cli, ["--env-file", str(env), "jobs", "--pick", "2", "--pick", "4"])
    assert chosen.exit_code == 0, chosen.output
    assert "confirmed the ids inside its payloads: jobs.payload$data.command[class=App\\Models\\User]->users" \
        in chosen.output
    assert chosen.output.count("restored (picked)") == 2 and "jobs 3:" in chosen.output \
        and "left out (not picked)" in chosen.output
    plan = run.invoke(cli, ["--env-file", str(env), "plan"]).output
    assert "Friday's queued jobs (`gapmend jobs --pick ID`" in plan and "restored (picked)" in plan

    before = database_state(e["production"])
    report = restore(settings, load_decisions(settings.decisions_path),
                     RestoreOptions(approve_pending=True, staged=staged))
    r = report.tables["jobs"]
    assert (r.inserted, r.not_picked, r.payload_ids) == (2, 1, 2), r
    assert "left out: 1 Friday row the operator did not pick" in render(report)
    with e["production"].connect() as conn:
        new_users = dict(conn.execute(select(users.c.email, users.c.id).where(users.c.email.like("fri-%"))).all())
        new_jobs = conn.execute(select(jobs.c.available_at, jobs.c.payload).where(jobs.c.id > 2)
                                .order_by(jobs.c.available_at)).all()
    # Jobs 2 and 4 (both naming Friday's user 4), under new ids; job 3 stays out.
    assert [at for at, _ in new_jobs] == [1763640002, 1763640004]
    assert [_php_reads(JOB_USER, payload) for _, payload in new_jobs] == [str(new_users["fri-4@x"])] * 2
    after = database_state(e["production"])
    assert after["jobs"][:1] == before["jobs"]                      # production's own job untouched
    assert verify(settings)[0] == []

    # Unpicked down to none: the table stays out entirely on the next plan's terms.
    run.invoke(cli, ["--env-file", str(env), "jobs", "--unpick", "2", "--unpick", "4"])
    assert load_decisions(settings.decisions_path).picked == {"jobs": []}
    assert build_plan(settings, load_decisions(settings.decisions_path)).table("jobs").picked == ()


async def test_the_wizard_picks_jobs_one_by_one(tmp_path: Path) -> None:
    """Key j on the jobs list at step 1 picks the highlighted job (and again leaves it
    out), as `gapmend jobs --pick/--unpick` does; the table's decision shows the count."""
    from gapmend.app.wizard import GapmendApp
    from textual.widgets import DataTable

    from ..conftest import _databases
    from ..pilot import scanned_step_one

    with _databases("sqlite", tmp_path) as dbs:
        _, settings = _trio(dbs)
        app = GapmendApp(settings, tmp_path, settings.decisions_path)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await scanned_step_one(app, pilot)
            await pilot.press(*["down"] * screen.plan.order.index("jobs"), "j")   # not on the list yet
            await pilot.pause()
            assert not load_decisions(settings.decisions_path).picked
            listed = screen.query_one("#jobs", DataTable)
            assert listed.row_count == 3
            await pilot.press("tab", "j", "down", "j", "down", "j", "up", "j")   # jobs 2, 3, 4 in; 3 out again
            await pilot.pause()
            gaps = screen.query_one("#gaps", DataTable)
            assert gaps.get_cell_at((screen.plan.order.index("jobs"), 1)) == "2 picked"
            assert [listed.get_cell_at((row, 4)) for row in range(3)] == [
                "restored (picked)", "left out (not picked)", "restored (picked)"]
        decisions = load_decisions(settings.decisions_path)
        assert decisions.picked == {"jobs": [2, 4]} and decisions.tables["jobs"] == "approve"
        assert [d["table"] for d in decisions.payload_edges] == ["jobs"]
