"""The console commands: the demo's plan, and bad input → one line, exit code 2, nothing written."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.demo import SNAPSHOT_AT, build_demo, build_trio
from sqlalchemy import create_engine, text

from ..conftest import Databases, mariadb_base_url
from ..dbstate import database_state


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_demo_plan_text_and_json(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    code, out, _ = run("--env-file", str(env), "plan")
    assert code == 0
    assert "cycle: teams ↔ users" in out
    assert "orphan: Friday row 265" in out
    assert re.search(r"\nusers +surrogate +40 +exact +4 ", out) and "\n'users'" not in out   # a name, not a value
    code, out, _ = run("--env-file", str(env), "plan", "--json")
    data = json.loads(out)
    users = next(t for t in data["tables"] if t["table"] == "users")
    assert users["counts"]["friday_insert"] == 4 and users["counts"]["conflict"] == 1
    assert users["boundary"]["value"] == 40 and users["boundary"]["confidence"] == "exact"
    assert (env.parent / "gapmend.log").stat().st_mode & 0o777 == 0o600


def test_plan_trusting_updated_at_says_so(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    env.write_text(env.read_text() + f"GAPMEND_SNAPSHOT_AT={SNAPSHOT_AT.isoformat()}\nGAPMEND_TRUST_UPDATED_AT=yes\n")
    code, out, _ = run("--env-file", str(env), "plan")
    assert code == 0 and "mode: three-way (snapshot), rows changed since by updated_at" in out
    assert "orphan: Friday row 265" in out


def test_every_command_has_help() -> None:
    for name, command in cli.commands.items():
        assert command.help and "Example" in command.help, name
        code, out, _ = run(name, "--help")
        assert code == 0 and "Usage" in out


def test_every_steps_hint_names_a_gapmend_command() -> None:
    """The step table (`gapmend steps`, the wizard's step screens) tells the operator the
    console command that does each step, not the tool underneath it (issue 16, item 5)."""
    from gapmend.core.runbook.steps import STEPS

    for step in STEPS:
        for part in step.command.split(";"):
            words = part.split()
            assert words[0] == "gapmend" and words[1] in cli.commands, (step.number, step.command)


def test_decisions_round_trip(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    assert run("--env-file", str(env), "skip", "activity_log")[0] == 0
    assert run("--env-file", str(env), "boundary", "users", "39")[0] == 0
    assert run("--env-file", str(env), "edges", "--drop", "comments.user_id->users.id")[0] == 0
    data = json.loads(run("--env-file", str(env), "plan", "--json")[1])
    assert next(t for t in data["tables"] if t["table"] == "activity_log")["decision"] == "skip"
    users = next(t for t in data["tables"] if t["table"] == "users")
    assert users["boundary"] == {**users["boundary"], "value": 39, "method": "operator"}
    assert "comments.user_id->users.id" not in {e["id"] for e in data["edges"]}
    decisions = Path(str(env) + ".decisions.json")
    assert decisions.stat().st_mode & 0o777 == 0o600


def _files_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.sqlite"))}


SQLITE_BAD = {
    "missing env file": (lambda d, env: d / "nope.env", "not found"),
    "env syntax error": (lambda d, env: _write(d / "bad.env", 'GAPMEND_PRODUCTION_URL="unterminated\n'), "cannot parse"),
    "url not a url": (lambda d, env: _write(d / "u.env", "GAPMEND_PRODUCTION_URL=::nope\nGAPMEND_CRASHED_URL=sqlite:///x\n"), "not a SQLAlchemy URL"),
    "crashed url missing": (lambda d, env: _write(d / "m.env", "GAPMEND_PRODUCTION_URL=sqlite:///production.sqlite\n"), "GAPMEND_CRASHED_URL is not set"),
    "missing sqlite file": (lambda d, env: _write(d / "f.env", "GAPMEND_PRODUCTION_URL=sqlite:///production.sqlite\nGAPMEND_CRASHED_URL=sqlite:///gone.sqlite\n"), "does not exist"),
    "bad snapshot time": (lambda d, env: _write(d / "t.env", env.read_text() + "GAPMEND_SNAPSHOT_AT=friday\n"), "not an ISO-8601"),
    "trusting updated_at without a time": (lambda d, env: _write(d / "n.env", "".join(
        ln for ln in env.read_text().splitlines(keepends=True) if not ln.startswith("GAPMEND_SNAPSHOT_AT"))
        + "GAPMEND_TRUST_UPDATED_AT=yes\n"), "needs GAPMEND_SNAPSHOT_AT"),
    "trusting updated_at, not yes or no": (lambda d, env: _write(
        d / "y.env", env.read_text() + "GAPMEND_TRUST_UPDATED_AT=sure\n"), "is not yes or no"),
}


def _write(path: Path, content: str) -> Path:
    path.write_text(content)
    path.chmod(0o600)   # it may hold a password: readable by others it is warned about
    return path


@pytest.mark.parametrize("case", list(SQLITE_BAD))
def test_bad_input_sqlite(tmp_path: Path, case: str) -> None:
    env = build_demo(tmp_path)
    make, needle = SQLITE_BAD[case]
    bad_env = make(tmp_path, env)
    before = _files_digest(tmp_path)
    code, out, err = run("--env-file", str(bad_env), "plan")
    assert code == 2
    assert needle in err and err.count("\n") == 1 and err.startswith("gapmend: error: ")
    assert _files_digest(tmp_path) == before


def test_schema_drift_is_refused(dbs: Databases) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], None)
    with e["production"].begin() as conn:
        conn.execute(text("DROP TABLE activity_log"))
        conn.execute(text("CREATE TABLE activity_log (user_id INTEGER, action INTEGER NOT NULL, created_at DATETIME)"))
    env = dbs.env_file(snapshot=False, snapshot_at=SNAPSHOT_AT.isoformat())
    before = database_state(e["production"])
    code, _, err = run("--env-file", str(env), "plan")
    assert code == 2 and "activity_log: column action is" in err and "migrate" in err
    assert database_state(e["production"]) == before


def test_missing_table_is_refused(dbs: Databases) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], None)
    with e["production"].begin() as conn:
        conn.execute(text("DROP TABLE taggables"))
    code, _, err = run("--env-file", str(dbs.env_file(snapshot=False, snapshot_at=None)), "plan")
    assert code == 2 and "taggables: table exists in crashed but not in production" in err


def test_boundary_past_the_end_is_refused(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    run("--env-file", str(env), "boundary", "users", "100000")
    code, _, err = run("--env-file", str(env), "plan")
    assert code == 2 and "past the end of the table" in err


def test_unmapped_morph_type_is_refused(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    import sqlite3

    with sqlite3.connect(tmp_path / "crashed.sqlite") as conn:
        conn.execute("INSERT INTO images (imageable_type, imageable_id, url) VALUES ('App\\Models\\Gizmo', 1, 'x')")
    code, _, err = run("--env-file", str(env), "plan")
    assert code == 2 and "names no table" in err and "morph_map" in err


@pytest.mark.mariadb
@pytest.mark.parametrize(
    "case, change, needle",
    [
        ("wrong password", lambda u: u.set(password="not-the-password"), "access denied"),
        ("refused port", lambda u: u.set(port=1), "cannot connect"),
        ("unknown host", lambda u: u.set(host="no-such-host.invalid"), "cannot connect"),
        ("missing database", lambda u: u.set(database="gm_test_does_not_exist"), "unknown database"),
    ],
)
def test_bad_connection_mariadb(tmp_path: Path, case: str, change, needle: str) -> None:  # type: ignore[no-untyped-def]
    base = mariadb_base_url()
    if base is None:
        pytest.skip("no MariaDB")
    env = build_demo(tmp_path)
    url = change(base.set(database=base.database or "mysql"))
    text_env = (f"GAPMEND_PRODUCTION_URL={url.set(password=None).render_as_string(hide_password=False)}\n"
                f"GAPMEND_PRODUCTION_PASSWORD={url.password}\n"
                f"GAPMEND_CRASHED_URL=sqlite:///{tmp_path / 'crashed.sqlite'}\n")
    bad = _write(tmp_path / "bad.env", text_env)
    code, out, err = run("--env-file", str(bad), "plan")
    assert code == 2 and needle in err and err.count("\n") == 1
    assert url.password not in err and url.password not in out
    assert url.password not in (tmp_path / "gapmend.log").read_text()
    assert env.exists()


def test_restore_needs_a_verified_backup(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    code, _, err = run("--env-file", str(env), "restore", "--yes")
    assert code == 2 and "no verified backup" in err and "gapmend backup" in err
    # Issue 40, item 5: a backup written elsewhere (`--dir`) is found where it was written,
    # and the restore names the one it relies on.
    elsewhere = tmp_path / "elsewhere"
    assert run("--env-file", str(env), "backup", "--dir", str(elsewhere))[0] == 0
    (backup_file,) = elsewhere.glob("production-*.sqlite.gz")
    code, out, _ = run("--env-file", str(env), "restore", "--yes", "--approve-pending")
    assert code == 0 and "restore committed" in out and f"backup: {backup_file} (taken " in out
    code, out, _ = run("--env-file", str(env), "verify")
    assert code == 0 and "verified" in out
    steps = json.loads((tmp_path / "gapmend.steps.json").read_text())["steps"]
    assert {k: v["state"] for k, v in steps.items()} == {"8": "done", "11": "done", "13": "done"}


def test_investigate_after_a_restore(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    assert run("--env-file", str(env), "restore", "--yes", "--without-backup", "--approve-pending")[0] == 0
    code, out, _ = run("--env-file", str(env), "investigate")
    assert code == 0 and "verify: OK" in out
    assert "users             45      48      3      2" in out       # before, after, inserted, updated (none merged)
    assert "users 42 → 46: name='friday user 2'" in out                 # a restored row as production holds it
    assert "conflicts left to decide: 2" in out and "users 6: both sides changed" in out
    assert "datetime.datetime(" not in out
    saved = next((tmp_path / "gapmend-reports").glob("investigate-*.txt"))
    assert saved.stat().st_mode & 0o777 == 0o600


def test_a_mistyped_table_name_is_an_error_naming_the_closest(tmp_path: Path) -> None:
    """`gapmend skip image` (meant images) exited 0, and images was then restored."""
    env = build_demo(tmp_path)
    decisions = Path(str(env) + ".decisions.json")
    before = decisions.read_bytes() if decisions.exists() else None
    for argv in (["skip", "image"], ["approve", "users", "nosuchtable"], ["boundary", "post", "3"],
                 ["resolve", "user", "6", "--take", "friday"]):
        result = CliRunner().invoke(cli, ["--env-file", str(env), *argv])
        assert result.exit_code == 2, (argv, result.output)
        assert len(result.output.strip().splitlines()) == 1 and "no table" in result.output, result.output
    assert "did you mean 'images'?" in CliRunner().invoke(cli, ["--env-file", str(env), "skip", "image"]).output
    assert (decisions.read_bytes() if decisions.exists() else None) == before


def test_version_and_a_restore_without_a_terminal_to_ask_on(tmp_path: Path) -> None:
    """`--version` answers; `restore` without --yes and without a terminal says to pass
    --yes (it printed a bare "Aborted!") and writes nothing."""
    env = build_demo(tmp_path)
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "version" in result.output
    before = (tmp_path / "production.sqlite").read_bytes()
    result = CliRunner().invoke(cli, ["--env-file", str(env), "restore", "--without-backup"])
    assert result.exit_code == 2 and "pass --yes" in result.output and "Aborted" not in result.output
    assert (tmp_path / "production.sqlite").read_bytes() == before


def test_the_restore_writes_approved_tables_only(tmp_path: Path) -> None:
    """With every table pending, `restore --yes` restored everything (issue 15, item 2).
    Now pending tables with work are named and refused, production untouched; a skipped
    table keeps production's rows exactly, and the report says what was left out."""
    env = build_demo(tmp_path)
    production = tmp_path / "production.sqlite"
    before = production.read_bytes()
    code, out, err = run("--env-file", str(env), "restore", "--yes", "--without-backup")
    assert code == 2 and "still pending" in err and "users" in err and "--approve-pending" in err
    assert err.count("\n") == 1 and production.read_bytes() == before
    assert "pending (" in run("--env-file", str(env), "plan")[1]

    plan = json.loads(run("--env-file", str(env), "plan", "--json")[1])
    with_work = [t["table"] for t in plan["tables"] if any(t["counts"].get(c) for c in
                                                          ("friday_insert", "friday_update", "friday_delete", "conflict"))]
    assert "images" in with_work
    engine = create_engine(f"sqlite:///{production}")
    images_before = database_state(engine)["images"]
    assert run("--env-file", str(env), "skip", "images")[0] == 0
    code, _, err = run("--env-file", str(env), "restore", "--yes", "--without-backup")
    assert code == 2 and "still pending" in err and "images" not in err.split(":")[1]
    assert run("--env-file", str(env), "approve", *[t for t in with_work if t != "images"])[0] == 0
    code, out, _ = run("--env-file", str(env), "restore", "--yes", "--without-backup")
    assert code == 0 and "restore committed" in out
    assert "left out: images (skipped by the operator)" in out
    assert database_state(engine)["images"] == images_before
    report = json.loads(next((tmp_path / "gapmend-reports").glob("restore-*.json")).read_text())
    assert report["left_out"] == {"images": "skipped by the operator"} and report["approved_now"] == []


def test_the_wizard_without_a_terminal_refuses(tmp_path: Path) -> None:
    """`gapmend wizard` in a pipe hung writing escape codes: one line naming the console."""
    env = build_demo(tmp_path)
    code, _, err = run("--env-file", str(env), "wizard")
    assert code == 2 and "needs a terminal" in err and "gapmend plan" in err and err.count("\n") == 1
    assert re.search(r"command: \S+ wizard\n", (tmp_path / "gapmend.log").read_text())   # the subcommand, not --env-file


def test_plan_after_a_restore_says_what_is_already_restored(tmp_path: Path) -> None:
    """`plan` after a restore showed the restored rows as still to do (`friday ins 4`,
    their collisions with themselves repeated): it reads the journal (issue 15, item 2)."""
    env = build_demo(tmp_path)
    before = json.loads(run("--env-file", str(env), "plan", "--json")[1])
    assert run("--env-file", str(env), "restore", "--yes", "--without-backup", "--approve-pending")[0] == 0
    report = json.loads(next((tmp_path / "gapmend-reports").glob("restore-*.json")).read_text())
    code, out, _ = run("--env-file", str(env), "plan")
    assert code == 0 and "already restored by a committed gapmend run" in out
    after = json.loads(run("--env-file", str(env), "plan", "--json")[1])
    tables = {t["table"]: t for t in after["tables"]}
    assert sum(t["restored"] for t in tables.values()) == report["totals"]["inserted"] + report["totals"]["linked"]
    for name, t in tables.items():
        skipped = len(report["tables"].get(name, {}).get("skipped", []))
        assert t["counts"].get("friday_insert", 0) <= skipped, name         # only what the restore left out
        assert not [c for c in t["collisions"] if c["key"] in [k for k, _ in report["tables"].get(name, {}).get("linked", [])]]
        was = next(b for b in before["tables"] if b["table"] == name)
        assert t["counts"].get("production_insert", 0) == was["counts"].get("production_insert", 0), name
    assert tables["users"]["counts"].get("friday_insert", 0) == 0 and tables["users"]["collisions"] == []


def test_an_env_file_with_a_password_readable_by_others_is_warned_about(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    env.write_text(env.read_text() + "DB_PASSWORD=not-used-by-sqlite\n")   # a key gapmend ignores, still a secret
    env.chmod(0o644)
    code, _, err = run("--env-file", str(env), "check")
    assert code == 0 and err.count("warning:") == 1 and "holds a password and others can read it" in err
    assert "not-used-by-sqlite" not in err
    code, out, err = run("--env-file", str(env), "check", "--fix-permissions")
    assert code == 0 and "warning" not in err and env.stat().st_mode & 0o777 == 0o600


def test_a_reports_folder_that_cannot_be_written_after_the_commit(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The restore has committed when the report is written: a folder that fails then
    (proven before the restore, a disk filled during it: here the proof finds it fine and
    the folder is a file by the end) is one line saying so and where the report went (it
    was a traceback)."""
    from gapmend.app.cli import restoring

    env = build_demo(tmp_path)
    proven: list[object] = []
    monkeypatch.setattr(restoring, "require_room", lambda *folders: proven.append(folders))   # fine then
    (tmp_path / "gapmend-reports").write_text("a file where the folder should be\n")
    code, out, err = run("--env-file", str(env), "restore", "--yes", "--without-backup", "--approve-pending")
    assert proven   # the restore did prove its folders first
    assert code == 0 and "restore committed" in out and "Traceback" not in out + err
    assert "the restore committed; the reports folder" in err and "report went to" in err
    moved = Path(err.split("report went to ")[1].split(" instead")[0])
    assert moved.exists() and moved.stat().st_mode & 0o777 == 0o600


def test_undo_from_the_console(tmp_path: Path) -> None:
    """`gapmend undo`: refused in one line where nothing was restored; a dry run that
    changes nothing; the undo itself with its report (0600); the demo as it was before."""
    env = build_demo(tmp_path)
    production = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    pristine = database_state(production)
    code, _, err = run("--env-file", str(env), "undo", "--yes")
    assert code == 2 and err.count("\n") == 1 and "no gapmend journal" in err
    code, out, _ = run("--env-file", str(env), "restore", "--yes", "--without-backup", "--approve-pending")
    assert code == 0, out
    restored = database_state(production)
    code, out, _ = run("--env-file", str(env), "undo", "--dry-run", str(tmp_path / "undo.sql"))
    assert code == 0 and "dry run: undo of restore" in out and database_state(production) == restored
    assert (tmp_path / "undo.sql").stat().st_mode & 0o777 == 0o600
    code, out, err = run("--env-file", str(env), "undo")   # no terminal to ask on
    assert code == 2 and "pass --yes" in err and database_state(production) == restored
    code, out, _ = run("--env-file", str(env), "undo", "--yes")
    assert code == 0 and "left 0" in out, out
    assert database_state(production, journal=False) == {k: v for k, v in pristine.items()
                                                          if not k.startswith("gapmend_")}
    report = Path(out.split("report: ")[1].split(" (and")[0])
    assert report.stat().st_mode & 0o777 == 0o600 and "undo of restore" in report.read_text()
    code, out, _ = run("--env-file", str(env), "undo", "--yes")
    assert code == 0 and "nothing to undo" in out


def test_the_plan_fits_an_80_column_terminal(tmp_path: Path) -> None:
    """Issue 39, item 4: the counts were one 166-column table. At 80 columns each table is
    a block of lines that fit, the zeros left out; not a terminal, the whole table; colour
    only when asked (a terminal without NO_COLOR)."""
    from gapmend.app.render import render_plan
    from gapmend.core.apply.preview import build_plan
    from gapmend.core.config import load_settings

    env = build_demo(tmp_path)
    plan = build_plan(load_settings(env, environ={}))
    text = render_plan(plan, detail=False, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80   # prose wrapped at words, the counts in blocks
    block = text[text.index("\nsettings "):text.index("\npending (")].strip("\n").splitlines()
    at = block.index(next(line for line in block if line.startswith("users ")))
    assert block[at:at + 3] == ["users  surrogate key, boundary 40 (exact) · pending",
                                "  Friday 4 new, 2 updated · production 5 new, 2 updated",
                                "  1 conflict, 1 mergeable row, 1 collision, 4 Friday ids taken"]
    assert "\x1b[" not in text and "\x1b[" in render_plan(plan, detail=False, width=80, color=True)
    assert re.search(r"\nusers +surrogate", render_plan(plan, detail=False))   # a file or a pipe: the table


def test_no_room_for_gapmends_own_record_writes_nothing(tmp_path: Path) -> None:
    """Issue 40, item 3: the restore committed, then could not write its report. Now the
    folders of the report, the step file and the log are proven before production's
    first write: where the report's cannot be made, one line, exit 2, production as it
    was, and no file left behind."""
    from gapmend.core.runbook.steps import Checklist
    from sqlalchemy import create_engine

    from ..dbstate import database_state

    env = build_demo(tmp_path)
    (tmp_path / "gapmend-reports").write_text("a file where the reports folder goes\n")
    before = database_state(create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}"))
    code, _, err = run("--env-file", str(env), "restore", "--yes", "--without-backup", "--approve-pending")
    assert code == 2 and f"cannot write the restore's report in {tmp_path / 'gapmend-reports'}" in err, err
    assert database_state(create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")) == before
    assert not list(tmp_path.glob("**/.gapmend-room-probe"))
    assert Checklist(tmp_path / "gapmend.steps.json").get("restore").state == "pending"


def test_a_full_filesystem_for_gapmends_own_folder_writes_nothing(tmp_path: Path) -> None:
    """Issue 40, item 3: the env file's folder (its log, step file and reports) on a full
    filesystem, a small tmpfs filled to the last byte: one line naming the folder and
    what to do, exit 2, production as it was, no logging error, and no empty file left."""
    import subprocess

    from sqlalchemy import create_engine

    from ..dbstate import database_state

    env = build_demo(tmp_path / "demo")
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        demo = tmp_path / "demo"
        (full / env.name).write_text(env.read_text().replace("sqlite:///", f"sqlite:///{demo}/"))
        filler = full / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as fh:
            while True:
                fh.write(bytes(4096))
                fh.flush()
        before = database_state(create_engine(f"sqlite:///{tmp_path / 'demo' / 'production.sqlite'}"))
        listed = sorted(p.name for p in full.iterdir())
        code, _, err = run("--env-file", str(full / env.name), "restore", "--yes", "--without-backup",
                           "--approve-pending")
        assert code == 2, err
        assert err.strip().splitlines()[-1].startswith(f"gapmend: error: gapmend cannot write the restore's report in "
                                                       f"{full / 'gapmend-reports'} (No space left on device)"), err
        assert "Logging error" not in err and "Traceback" not in err, err
        assert database_state(create_engine(f"sqlite:///{tmp_path / 'demo' / 'production.sqlite'}")) == before
        assert sorted(p.name for p in full.iterdir() if p.name != "gapmend-reports") == listed   # no empty log
        assert not any((full / "gapmend-reports").iterdir())
    finally:
        subprocess.run(["umount", str(full)], check=True)


def test_the_plan_says_what_the_restore_writes_and_the_room_production_has(tmp_path: Path) -> None:
    """Issue 40, item 4: the plan estimates what the restore writes into production and
    says how much room its disk has; on a disk nearly full (a tmpfs holding the demo,
    filled but for 32 kB) it says that is not enough."""
    import subprocess

    code, out, _ = run("--env-file", str(build_demo(tmp_path / "roomy")), "plan")
    last = out.strip().splitlines()[-1]
    assert code == 0 and re.match(r"writes about [\d.]+ kB into production: 73 Friday rows \([\d.]+ kB\), work tables "
                                  r"and journal \([\d.]+ kB\), estimated from the plan; [\d.]+ [GMk]B free in ", last), last
    assert "LESS THAN" not in last
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        env = build_demo(disk)
        filler = disk / "filler"
        with filler.open("wb") as fh:
            fh.write(bytes(max(0, shutil.disk_usage(disk).free - 32 * 1024)))
        code, out, _ = run("--env-file", str(env), "plan")
        last = out.strip().splitlines()[-1]
        assert code == 0 and f"free in {disk}: LESS THAN 2x THE ESTIMATE: make room before restoring" in last, last
    finally:
        subprocess.run(["umount", str(disk)], check=True)
