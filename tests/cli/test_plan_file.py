"""`plan --output` writes the reviewed plan; `restore --plan` runs exactly it, and refuses
in one line, production untouched, when the databases moved under it (issue 17, item 2)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from gapmend.core.demo import build_demo
from sqlalchemy import create_engine

from ..dbstate import database_state
from .test_cli import run


def _planned(tmp_path: Path, *decide: str) -> tuple[Path, Path]:
    """The demo with every table approved (or as `decide` says), and its plan file."""
    env = build_demo(tmp_path)
    for args in decide:
        assert run("--env-file", str(env), *args.split())[0] == 0
    plan = tmp_path / "plan.json"
    code, _, err = run("--env-file", str(env), "plan", "--output", str(plan))
    assert code == 0 and f"gapmend restore --plan {plan}" in err
    return env, plan


def _restore(env: Path, plan: Path, *more: str) -> tuple[int, str, str]:
    return run("--env-file", str(env), "restore", "--plan", str(plan), "--yes", "--without-backup",
               "--approve-pending", *more)


def _production(env: Path, sql: str) -> None:
    with sqlite3.connect(env.parent / "production.sqlite") as conn:
        conn.executescript(sql)


def test_the_plan_file_is_what_the_restore_runs(tmp_path: Path) -> None:
    """Its decisions are the plan's, not the decisions file's as it is now; rows production
    only added since (a new user, no value of Friday's) do not stop it."""
    env, plan = _planned(tmp_path, "skip images")
    assert plan.stat().st_mode & 0o777 == 0o600
    data = json.loads(plan.read_text())
    assert data["format"] == "gapmend-plan/1" and data["decisions"]["tables"] == {"images": "skip"}
    assert data["facts"]["tables"]["users"]["friday_update"] == 2
    assert run("--env-file", str(env), "approve", "images")[0] == 0     # after the review: not in the plan
    _production(env, "INSERT INTO users (id, name, email, created_at, updated_at) "
                     "VALUES (90, 'Saturday', 'saturday@example.test', '2026-01-03', '2026-01-03');")
    code, out, _ = _restore(env, plan)
    assert code == 0 and "restore committed" in out and "left out: images (skipped by the operator)" in out


@pytest.mark.parametrize("change, said", [
    # production edited a row Friday's update was to go into: now a conflict
    ("UPDATE users SET name = 'Edited Saturday' WHERE id = 2;",
     "users: Friday's updates to apply 2 → 1; users: conflicts 1 → 2"),
    # production renamed the user whose name Friday changed beside production's new e-mail:
    # the row both changed in different columns now clashes on name
    ("UPDATE users SET name = 'Edited Saturday' WHERE id = 8;",
     "users: conflicts 1 → 2; users: rows both sides changed in different columns 1 → 0"),
    # production took a unique value of a Friday row (found by the restore's own statements)
    ("INSERT INTO users (id, name, email, created_at, updated_at) "
     "VALUES (90, 'Saturday', 'friday3@example.test', '2026-01-03', '2026-01-03');", "users: collisions 1 → 2"),
    # production deleted a parent a Friday row points at: an orphan more
    ("DELETE FROM comments WHERE post_id = 21; DELETE FROM post_tag WHERE post_id = 21; "
     "DELETE FROM posts WHERE id = 21;", "orphans"),
])
def test_a_plan_production_outran_is_refused(tmp_path: Path, change: str, said: str) -> None:
    env, plan = _planned(tmp_path)
    _production(env, change)
    engine = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    before = database_state(engine)
    code, _, err = _restore(env, plan)
    assert code != 0 and err.count("\n") == 1, err
    assert f"{plan} no longer holds (" in err and said in err and "nothing was written" in err, err
    assert f"gapmend plan --output {plan}" in err
    assert database_state(engine) == before      # no row, no journal table
    code, _, _ = run("--env-file", str(env), "plan", "--output", str(plan))   # looked at again: it holds
    assert code == 0 and _restore(env, plan)[0] == 0


def test_a_plan_of_other_databases_is_refused(tmp_path: Path) -> None:
    """The env file now names another production (a copy at another path): the plan's
    facts were read from the first one."""
    env, plan = _planned(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    for name in ("production", "crashed", "snapshot"):
        shutil.copy(tmp_path / f"{name}.sqlite", other / f"{name}.sqlite")
    moved = other / "demo.env"
    moved.write_text(env.read_text().replace(str(tmp_path / "production.sqlite"), str(other / "production.sqlite")))
    before = (other / "production.sqlite").read_bytes()
    code, _, err = _restore(moved, plan)
    assert code != 0 and "production is not the database the plan inspected" in err and err.count("\n") == 1
    assert (other / "production.sqlite").read_bytes() == before


def test_a_file_that_is_not_a_plan_file(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    code, _, err = run("--env-file", str(env), "restore", "--plan", str(tmp_path / "absent.json"), "--yes")
    assert code == 2 and "does not exist" in err and "gapmend plan --output" in err and err.count("\n") == 1
    printed = tmp_path / "printed.json"
    printed.write_text(run("--env-file", str(env), "plan", "--json")[1])   # for reading, not for restoring
    code, _, err = run("--env-file", str(env), "restore", "--plan", str(printed), "--yes")
    assert code == 2 and "is not a plan file gapmend wrote" in err and err.count("\n") == 1


def test_the_restore_compares_only_fridays_delta_and_ends_as_a_full_scan_does(tmp_path: Path) -> None:
    """`plan --output` keeps the keys where crashed differs from the snapshot; the restore
    of that plan compares only those again (the log says how many) and leaves production
    exactly as a restore that compared every table (journal aside: run ids, times)."""
    env, plan = _planned(tmp_path / "planned")
    delta = json.loads(plan.read_text())["delta"]
    assert set(delta["fingerprints"]) == {"crashed", "snapshot"}
    assert sorted(delta["keys"]["users"]) == [[2], [3], [6], [7], [8]]   # two updates, a conflict, a converged and a merged row
    full = build_demo(tmp_path / "full")
    assert _restore(env, plan)[0] == 0
    assert "Friday's delta from" in (tmp_path / "planned" / "gapmend.log").read_text()
    assert run("--env-file", str(full), "restore", "--yes", "--without-backup", "--approve-pending")[0] == 0
    planned_state, full_state = (database_state(create_engine(f"sqlite:///{d / 'production.sqlite'}"), journal=False)
                                 for d in (tmp_path / "planned", tmp_path / "full"))
    assert planned_state == full_state


@pytest.mark.parametrize("source", ["crashed", "snapshot"])
def test_a_source_that_changed_since_the_plan_voids_it(tmp_path: Path, source: str) -> None:
    """Friday's delta was read from crashed and the snapshot as they were: a row changed
    in either since (a dump loaded again, a hand edit) and the restore refuses in one line."""
    env, plan = _planned(tmp_path)
    with sqlite3.connect(tmp_path / f"{source}.sqlite") as conn:
        conn.execute("UPDATE users SET name = 'edited by hand' WHERE id = 9")
    engine = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    before = database_state(engine)
    code, _, err = _restore(env, plan)
    assert code != 0 and err.count("\n") == 1 and f"{source} changed since the plan read it" in err, err
    assert database_state(engine) == before
