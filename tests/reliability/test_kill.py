"""A real `gapmend restore` on MariaDB, killed at random moments: after each kill production
is exactly as before (every table compared row by row) or, for a --per-table run,
resumable; and the next restore ends in the same state as an uninterrupted run, nothing
duplicated or lost. Also Ctrl-C (SIGINT), the server killing the connection, and a
killed `gapmend undo`."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from gapmend.core.demo import build_trio
from sqlalchemy import MetaData, text
from sqlalchemy.exc import OperationalError

from ..conftest import Databases, _databases
from ..dbstate import database_state

pytestmark = pytest.mark.mariadb

# One per mode at random moments (the lost connection in each phase is its own test
# below); GAPMEND_KILL_TRIALS=60 for a longer run.
TRIALS = int(os.environ.get("GAPMEND_KILL_TRIALS", "3"))
MODES: tuple[list[str], ...] = ([], ["--per-table"], ["--staged"])
USERS = 1500


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Databases, Any]]:
    """The broken trio, a pristine copy of its production, and the state an uninterrupted
    restore of an identical trio ends in."""
    tmp = tmp_path_factory.mktemp("kill")
    with _databases("mariadb", tmp / "a") as a, _databases("mariadb", tmp / "b") as b:
        for d in (a, b):
            build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"], users=USERS, gap=0.3)
            _trigger(d)
        _restore(b, check=True)
        reference = database_state(b.engines["production"], journal=False)
        pristine = a.urls["production"].database + "_p"
        _copy_database(a, pristine)
        yield a, (pristine, database_state(a.engines["production"], journal=False), reference)
        with a.engines["production"].begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{pristine}`"))


def _restore(d: Databases, *flags: str, check: bool = False, start: bool = False) -> Any:
    """`gapmend restore --yes` on `d` as a child process (started, or run to its end)."""
    return _gapmend(d, "restore", "--yes", "--without-backup", "--approve-pending", *flags, check=check, start=start)


def _gapmend(d: Databases, *args: str, check: bool = False, start: bool = False) -> Any:
    """`gapmend ARGS` on `d` as a child process (started, or run to its end)."""
    env_file = d.env_file(snapshot=True, snapshot_at=None)
    argv = [sys.executable, "-c", "from gapmend.app.cli import main; main()", "--env-file", str(env_file), *args]
    if start:
        # Ctrl-C as an operator's terminal delivers it: a suite started in the background
        # (`cmd &` in a script) hands its children SIGINT ignored, and Python keeps it so.
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=d.workdir,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=d.workdir)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _app_tables(d: Databases) -> list[str]:
    md = MetaData()
    md.reflect(bind=d.engines["production"], only=lambda n, _m: not n.startswith("gapmend_"))
    return list(md.tables)


def _copy_database(d: Databases, target: str) -> None:
    db = d.urls["production"].database
    with d.engines["production"].begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{target}`"))
        for name in _app_tables(d):
            conn.execute(text(f"CREATE TABLE `{target}`.`{name}` LIKE `{db}`.`{name}`"))
            conn.execute(text(f"INSERT INTO `{target}`.`{name}` SELECT * FROM `{db}`.`{name}`"))


# Production's own trigger on a table the restore writes: it must be back after every fault.
TRIGGER = ("CREATE TRIGGER posts_title_kept BEFORE INSERT ON posts FOR EACH ROW "
           "SET NEW.title = COALESCE(NEW.title, '')")


def _trigger(d: Databases) -> None:
    with d.engines["production"].begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS posts_title_kept"))
        conn.execute(text(TRIGGER))


def _reset(d: Databases, pristine: str) -> None:
    """Production back to its state before any restore, its trigger in place; gapmend's tables gone."""
    db = d.urls["production"].database
    _trigger(d)
    with d.engines["production"].begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for (name,) in conn.execute(text("SHOW TABLES")).all():
            if name.startswith("gapmend_"):
                conn.execute(text(f"DROP TABLE `{name}`"))
            else:
                conn.execute(text(f"TRUNCATE TABLE `{db}`.`{name}`"))
                conn.execute(text(f"INSERT INTO `{db}`.`{name}` SELECT * FROM `{pristine}`.`{name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))


def _differences(got: dict[str, Any], want: dict[str, Any]) -> dict[str, int]:
    return {t: len(set(got.get(t, [])) ^ set(want[t])) for t in want if got.get(t) != want[t]}


def test_killed_restores_leave_production_whole_or_resumable(trio: tuple[Databases, Any]) -> None:
    d, (pristine, initial, reference) = trio
    rng = random.Random(int(os.environ.get("GAPMEND_KILL_SEED", "20261125")))
    # How long an uninterrupted restore takes here: the kills land anywhere inside it.
    _reset(d, pristine)
    started = time.monotonic()
    _restore(d, check=True)
    whole = time.monotonic() - started
    outcomes = {"untouched": 0, "resumed": 0, "finished": 0}
    for trial in range(TRIALS):
        mode = MODES[trial % len(MODES)]
        _reset(d, pristine)
        assert database_state(d.engines["production"], journal=False) == initial
        proc = _restore(d, *mode, start=True)
        if trial % 2:   # anywhere in the run, start-up and inspection included
            time.sleep(rng.uniform(0.05, whole))
        else:           # somewhere after the first row was written
            try:
                _wait_for_writes(d, proc)
            except _Finished:
                pass
            time.sleep(rng.uniform(0, whole / 3))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        after = database_state(d.engines["production"], journal=False)
        if after == initial:
            outcomes["untouched"] += 1
        elif after == reference:
            outcomes["finished"] += 1
        else:   # only a per-table run may stop half way, with whole tables committed
            assert mode == ["--per-table"], f"trial {trial} {mode}: half-written {_differences(after, initial)}"
            outcomes["resumed"] += 1
        again = _restore(d, *mode)
        assert again.returncode == 0, f"trial {trial} {mode}: {again.stderr}"
        final = database_state(d.engines["production"], journal=False)
        assert _differences(final, reference) == {}, f"trial {trial} {mode}"
    print(f"\n{TRIALS} SIGKILL trials survived: {outcomes}")
    assert sum(outcomes.values()) == TRIALS


@pytest.mark.parametrize("mode", [[], ["--per-table"]], ids=["atomic", "per-table"])
def test_ctrl_c_rolls_back_and_says_so(trio: tuple[Databases, Any], mode: list[str]) -> None:
    d, (pristine, initial, reference) = trio
    _reset(d, pristine)
    proc = _restore(d, *mode, start=True)
    _wait_for_writes(d, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    last = err.strip().splitlines()[-1]
    # Usually "interrupted; …"; a signal that lands inside the driver breaks the connection
    # instead, and the server rolls back when it closes: the line then names that error.
    assert last.startswith("gapmend: error:") and "the open transaction was rolled back" in last, err
    assert "Traceback" not in err
    after = database_state(d.engines["production"], journal=False)
    if mode == []:
        assert after == initial
    assert _restore(d).returncode == 0
    assert _differences(database_state(d.engines["production"], journal=False), reference) == {}


def test_connection_killed_by_the_server(trio: tuple[Databases, Any]) -> None:
    """KILL from another session while the restore writes: one clear line, a full
    rollback, and the next run finishes the job."""
    d, (pristine, initial, reference) = trio
    _reset(d, pristine)
    proc = _restore(d, "--staged", start=True)   # its staging INSERTs: a window to KILL in
    _wait_for_writes(d, proc, kill=True)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("gapmend: error: the restore stopped while ") and "rolled back" in lines[-1], err
    assert "lost the connection to the server" in lines[-1] and "are as they were" in lines[-1], err
    assert "Traceback" not in err
    assert database_state(d.engines["production"], journal=False) == initial
    assert _restore(d).returncode == 0
    assert _differences(database_state(d.engines["production"], journal=False), reference) == {}


def test_a_killed_undo_leaves_the_restore_whole(trio: tuple[Databases, Any]) -> None:
    """SIGKILL while `gapmend undo` writes: production (its journal included) as the restore
    left it; the next undo, nobody having written since, gives back production as it was
    before the restore, and one more finds nothing to do."""
    d, (pristine, initial, reference) = trio
    _reset(d, pristine)
    _restore(d, check=True)
    restored = database_state(d.engines["production"])
    proc = _gapmend(d, "undo", "--yes", start=True)
    try:
        _wait_for_writes(d, proc)
        proc.send_signal(signal.SIGKILL)
    except _Finished:
        pass
    proc.communicate()
    after = database_state(d.engines["production"])
    undone = after != restored
    finished = _gapmend(d, "undo", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert database_state(d.engines["production"], journal=False) == initial
    again = _gapmend(d, "undo", "--yes")
    assert again.returncode == 0 and "removed 0, put back 0" in again.stdout, again.stdout
    assert not undone or "removed 0" in finished.stdout, "a killed undo committed half its work"
    print(f"\nthe undo was {'finished' if undone else 'killed while it wrote'}; the next one took back the rest")


class _Finished(AssertionError):
    pass


_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+`?(\w+)", re.IGNORECASE)


def _writes_app_table(info: str | None) -> bool:
    """Whether a statement writes one of the application's tables: not gapmend's own work
    tables or journal, which a fast restore also writes in its last moments."""
    found = _WRITE.match(info or "")
    return found is not None and not found.group(1).lower().startswith("gapmend_")


def _wait_for_writes(d: Databases, proc: subprocess.Popen[str], kill: bool = False, timeout: float = 30) -> None:
    """Return once the restore writes to production; with `kill`, KILL its connections to
    production from this session (the test's own idle connections are closed first)."""
    db = d.urls["production"].database
    deadline = time.monotonic() + timeout
    d.engines["production"].dispose()
    with d.engines["production"].connect() as conn:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise _Finished("the restore finished before it could be interrupted: raise USERS")
            rows = conn.execute(text(
                "SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE DB = :db AND ID <> CONNECTION_ID()"),
                {"db": db}).all()
            conn.rollback()
            if any(_writes_app_table(info) for _, info in rows):
                for pid, _ in rows if kill else []:
                    try:
                        conn.execute(text(f"KILL CONNECTION {int(pid)}"))
                    except OperationalError as exc:   # it closed in between (1094): nothing to kill
                        assert "1094" in str(exc), exc
                return
            time.sleep(0.005)
    raise AssertionError("the restore never started writing")


# Where the connection to production is lost, by the label of the progress phase (or
# note) the restore has just begun: the server kills it from another session before the
# restore's next statement.
PHASES = {   # where: (the label it is killed at, the phase the paragraph names)
    "counters": ("suspending production's triggers", "suspending production's triggers"),   # counters moved
    "triggers": ("triggers suspended for the restore", "locking the ids past"),   # the trigger suspended (a note)
    "staging": ("staging Friday's rows in production's database", "staging Friday's rows"),
    "deciding": ("deciding each Friday row", "deciding each Friday row"),
    "writing": (": copying server-side", ": copying server-side"),
    "commit": ("committing", "committing"),
    "trigger re-create": ("putting back production's triggers", None),   # after the commit
}


# Where the next run is tried too (suite time): outside the transaction, while deciding, at COMMIT.
RERUN = ("counters", "deciding", "commit")


@pytest.mark.parametrize("phase", PHASES)
def test_a_connection_lost_in_each_phase_leaves_production_as_it_was(
        trio: tuple[Databases, Any], phase: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """KILL CONNECTION of the restore's connection to production in each phase: one
    paragraph naming the phase and what to run (no traceback), everything outside the
    transaction put back (counters, the trigger, work tables: the restore connects once
    more), production's rows as before (or, once committed, as the reference run's), and
    the next run finishes the job."""
    from gapmend.app.cli import cli
    from gapmend.app.cli.context import StderrProgress

    d, (pristine, initial, reference) = trio
    _reset(d, pristine)
    outside = _outside(d)
    killed: list[int] = []

    def kill_at(label: str) -> None:
        if PHASES[phase][0] in label and not killed:
            killed.extend(_kill_restore_connections(d))

    start, note = StderrProgress.start, StderrProgress.note
    monkeypatch.setattr(StderrProgress, "start", lambda self, label, total: (start(self, label, total), kill_at(label))[0])
    monkeypatch.setattr(StderrProgress, "note", lambda self, message: (note(self, message), kill_at(message))[0])
    env_file = d.env_file(snapshot=True, snapshot_at=None)
    flags = ["--staged"] if phase == "staging" else []
    result = CliRunner().invoke(cli, ["--env-file", str(env_file), "restore", "--yes", "--without-backup",
                                      "--approve-pending", *flags])
    assert killed, f"no connection to kill at {phase}"
    assert "Traceback" not in result.output, result.output
    after = database_state(d.engines["production"], journal=False)
    if phase == "trigger re-create":   # committed; the trigger put back on a new connection
        assert result.exit_code == 0, result.output
        assert _differences(after, reference) == {}
        assert _outside(d)["triggers"] == outside["triggers"] and not _outside(d)["gapmend"]
        return
    assert result.exit_code == 2, result.output
    said = result.stderr.strip().splitlines()[-1]
    print(f"\n{phase}: {said}")   # the paragraph, for whoever reads the run with -s
    phase_said = said.split(": production (")[0]
    assert phase_said.startswith("gapmend: error: the restore stopped while ") and PHASES[phase][1] in phase_said, said
    assert "Nothing was written: the open transaction was rolled back" in said, said
    assert "are as they were" in said and "Run the restore again" in said, said
    assert after == initial
    assert _outside(d) == outside   # counters, trigger and gapmend's tables as before the run
    if phase in RERUN:   # production as before the run: the reference restore's own start
        assert _restore(d).returncode == 0
        assert _differences(database_state(d.engines["production"], journal=False), reference) == {}


def _outside(d: Databases) -> dict[str, Any]:
    """What a restore changes outside its transaction: the id counters of the app's
    tables, production's triggers, and gapmend's work and counter tables."""
    with d.engines["production"].connect() as conn:
        tables = conn.execute(text("SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
                                   "WHERE TABLE_SCHEMA = DATABASE()")).all()
        triggers = conn.execute(text("SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS "
                                     "WHERE TRIGGER_SCHEMA = DATABASE()")).all()
    return {"counters": {n: c for n, c in tables if not n.startswith("gapmend_")},
            "triggers": sorted(triggers),
            "gapmend": sorted(n for n, _ in tables if n.startswith(("gapmend_w", "gapmend_counters")))}


def _kill_restore_connections(d: Databases) -> list[int]:
    """KILL CONNECTION every connection to production but this one and the restore's lock
    (the restore's own, idle between two statements)."""
    d.engines["production"].dispose()
    with d.engines["production"].connect() as conn:
        lock = f"gapmend-restore:{d.urls['production'].database}"
        ids = [pid for (pid,) in conn.execute(text(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() "
            "AND ID <> IFNULL(IS_USED_LOCK(:lock), 0)"), {"lock": lock})]
        for pid in ids:
            with contextlib.suppress(OperationalError):   # closed in between (1094)
                conn.execute(text(f"KILL CONNECTION {int(pid)}"))
    d.engines["production"].dispose()
    return ids
