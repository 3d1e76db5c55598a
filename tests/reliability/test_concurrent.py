"""Production written while gapmend works (maintenance mode forgotten by a cron job): a
writer thread inserts users the whole time. Writes that land after the plan stop the
restore with one clear line and nothing of it kept; writes that arrive while the restore
writes wait for its commit and then land on ids nobody else holds. Every row the writer
committed is there exactly once, whatever happened."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from gapmend.core.apply.restore import ConcurrentWrite, RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.databases import journal
from gapmend.core.demo import build_trio
from gapmend.core.errors import GapmendError
from gapmend.core.progress import NullProgress
from gapmend.core.runbook.verify import verify
from sqlalchemy import create_engine, text

from ..conftest import DIALECTS, Databases, _databases
from ..dbstate import database_state


class Writer(threading.Thread):
    """Inserts a user every few milliseconds until stopped; remembers what committed."""

    def __init__(self, d: Databases, tag: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(d.urls["production"])
        self.tag, self.committed, self.failed = tag, [], []   # type: tuple[str, list[str], list[str]]
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            email = f"{self.tag}-{n}@cron.example"
            try:
                with self.engine.begin() as conn:
                    conn.execute(text("INSERT INTO users (name, email) VALUES ('cron', :e)"), {"e": email})
                self.committed.append(email)
            except Exception as exc:   # noqa: BLE001 - the test wants to know about any failure
                self.failed.append(f"{email}: {exc}")
            n += 1
            time.sleep(0.005)
        self.engine.dispose()


@pytest.fixture(params=DIALECTS)
def trio(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    with _databases(request.param, tmp_path) as d:
        build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"], users=1500, gap=0.3)
        yield d


def _writer_rows(d: Databases, tag: str) -> list[tuple[Any, ...]]:
    with d.engines["production"].connect() as conn:
        return list(conn.execute(text("SELECT id, email FROM users WHERE email LIKE :t"), {"t": f"{tag}-%"}))


def _without(state: dict[str, list[tuple[Any, ...]]], tag: str) -> dict[str, list[tuple[Any, ...]]]:
    return {**state, "users": [r for r in state["users"] if not str(r[2]).startswith(f"{tag}-")]}


def test_writes_after_the_plan_stop_the_restore(trio: Databases) -> None:
    d = trio
    settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
    before = database_state(d.engines["production"], journal=False)
    writer = Writer(d, "early")
    writer.start()
    try:
        # SQLite may already refuse the scan: its ATTACH meets the writer's lock.
        with pytest.raises(ConcurrentWrite if d.dialect == "mariadb" else GapmendError) as caught:
            restore(settings, options=RestoreOptions(approve_pending=True))
    finally:
        writer.stop.set()
        writer.join()
    message = caught.value.message
    assert "\n" not in message and "stop the writers" in message
    rows = _writer_rows(d, "early")
    assert sorted(e for _, e in rows) == sorted(writer.committed)
    _only_visible_waits(d, writer)
    assert _without(database_state(d.engines["production"], journal=False), "early") == before
    restore(settings, options=RestoreOptions(approve_pending=True))   # the writer stopped: the restore goes through
    assert verify(settings)[0] == []
    assert sorted(e for _, e in _writer_rows(d, "early")) == sorted(writer.committed)


class StartWriterWhenCopying(NullProgress):
    """Starts the writer the moment the restore begins writing rows."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def start(self, label: str, total: int | None) -> None:
        if ("copying" in label or "inserting" in label) and not self.writer.is_alive():
            self.writer.start()
            time.sleep(0.3)   # let it try a few inserts while the transaction is open


def test_writes_during_the_restore_wait_and_land_on_fresh_ids(trio: Databases) -> None:
    d = trio
    settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
    writer = Writer(d, "late")
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["report"] = restore(settings, options=RestoreOptions(approve_pending=True), progress=StartWriterWhenCopying(writer))
        except Exception as exc:   # noqa: BLE001
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    time.sleep(0.2)
    writer.stop.set()
    writer.join()
    assert "error" not in result, result.get("error")
    report = result["report"]
    assert report.totals()["inserted"] > 0
    rows = _writer_rows(d, "late")
    assert sorted(e for _, e in rows) == sorted(writer.committed) and rows
    _only_visible_waits(d, writer)
    with d.engines["production"].connect() as conn:
        restored = [new[0] for table, _, new, action in journal.iter_entries(conn)
                    if table == "users" and action == "inserted" and new]
    # The writer's inserts waited for the commit and drew ids past every restored one.
    assert min(i for i, _ in rows) > max(restored), "a writer's row took an id the restore gave out"
    assert verify(settings)[0] == []


def _only_visible_waits(d: Databases, writer: Writer) -> None:
    """MariaDB's writer waits and then succeeds; SQLite's may be told the database is
    locked (its own busy rule), an error the writer sees: never a silent loss."""
    if d.dialect == "mariadb":
        assert writer.failed == []
    else:
        assert all("database is locked" in f for f in writer.failed), writer.failed


class PauseWhenWriting(NullProgress):
    """Holds the restore at its first writing phase until told to go on."""

    def __init__(self) -> None:
        self.writing, self.go_on = threading.Event(), threading.Event()

    def start(self, label: str, total: int | None) -> None:
        if ("copying" in label or "inserting" in label) and not self.writing.is_set():
            self.writing.set()
            assert self.go_on.wait(60)


def test_a_second_restore_says_another_is_running(trio: Databases) -> None:
    """Two restores at once ended in a raw deadlock or "Table 'gapmend_runs' already
    exists" (issue 15, item 4). The second one now stops before reading anything, in one
    line, and the first one finishes as if alone."""
    d = trio
    settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
    first = PauseWhenWriting()
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["report"] = restore(settings, options=RestoreOptions(approve_pending=True), progress=first)
        except Exception as exc:   # noqa: BLE001
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert first.writing.wait(120), result
        with pytest.raises(GapmendError, match="another gapmend restore is writing") as caught:
            restore(settings, options=RestoreOptions(approve_pending=True))
        assert "\n" not in caught.value.message
    finally:
        first.go_on.set()
        thread.join()
    assert "error" not in result, result.get("error")
    assert verify(settings)[0] == []
    assert restore(settings, options=RestoreOptions(approve_pending=True)).noop   # the lock was let go


@pytest.mark.parametrize("trio", ["mariadb"], indirect=True)
def test_a_lock_the_application_holds_is_named_while_the_restore_waits(trio: Databases) -> None:
    """Issue 40, item 9: the application's transaction left open on a table the restore
    writes: the restore waits, and says while it waits on what, held by which
    connection, for how long; once that transaction ends, the restore commits."""
    d = trio
    notes: list[str] = []

    class Noted(NullProgress):
        def note(self, message: str) -> None:
            notes.append(message)

    settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
    app = create_engine(d.urls["production"])
    done: list[Any] = []
    with app.connect() as conn:
        holder = conn.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        conn.execute(text("INSERT INTO users (id, name, email) VALUES (900000, 'app', 'open@app.example')"))
        worker = threading.Thread(target=lambda: done.append(
            restore(settings, options=RestoreOptions(approve_pending=True), progress=Noted())), daemon=True)
        worker.start()
        deadline = time.monotonic() + 30
        while not any(n.startswith("waiting") for n in notes) and time.monotonic() < deadline and worker.is_alive():
            time.sleep(0.1)
        conn.rollback()   # the application's transaction ends
    worker.join(timeout=60)
    app.dispose()
    waits = [n for n in notes if n.startswith("waiting")]
    assert waits and f"server connection {holder} (" in waits[0] and f"KILL {holder}" in waits[0], notes
    print("\n" + waits[0])
    assert done and done[0].totals()["inserted"], "the restore did not commit once the lock was gone"
