"""Step 8 against the real tools: mariadb-dump / SQLite's backup API, a 0600 compressed
and checksummed file that provably restores; no password on any command line."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gapmend.core.config import load_settings
from gapmend.core.databases.dialects import mariadb_dump
from gapmend.core.demo import build_trio
from gapmend.core.runbook.backup import BackupError, backup, latest_verified

from ..conftest import Databases
from ..dbstate import database_state


def test_backup_is_private_checksummed_and_restorable(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], None)
    settings = load_settings(dbs.env_file(snapshot=False, snapshot_at=None), environ={})
    argvs: list[list[str]] = []
    real_popen = subprocess.Popen

    def recording_popen(args: Any, *a: Any, **kw: Any) -> Any:   # the real tool runs; its argv is kept
        argvs.append(list(args))
        assert "env" not in kw                                      # no password through the environment
        return real_popen(args, *a, **kw)

    monkeypatch.setattr(mariadb_dump.subprocess, "Popen", recording_popen)
    before = database_state(e["production"])
    folder = dbs.workdir / "backups"
    progress = _Recorded()
    record = backup(settings.production, folder, progress)

    path = Path(record.path)
    assert path.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256
    assert record.verified and record.row_counts["users"] == len(before["users"])
    assert latest_verified(folder) == record
    assert database_state(e["production"]) == before
    with gzip.open(path) as fh:
        head = fh.read(200)
    if dbs.dialect == "mariadb":
        assert b"MariaDB dump" in head or b"MySQL dump" in head
        password = dbs.urls["production"].password
        assert argvs and all(password not in " ".join(a) for a in argvs)
        assert all(any(x.startswith("--defaults-extra-file=") for x in a) for a in argvs)
        assert any("--single-transaction" in a and "--routines" in a and "--triggers" in a for a in argvs)
    else:
        assert head.startswith(b"SQLite format 3")
    # It said what it was doing: each table as it was dumped (MariaDB), the bytes, the proof.
    phases = [label for label, _, _ in progress.phases]
    if dbs.dialect == "mariadb":
        tables = len(record.row_counts)
        dumped = [p for p in phases if " of " in p]   # the largest table first: the parallel loads end together
        assert [p.split(" (")[0] for p in dumped] == [f"dumping production: table {i} of {tables}" for i in range(1, tables + 1)]
        assert sorted(p.split(" (")[1].split(")")[0] for p in dumped) == sorted(record.row_counts)
    assert sum(done for label, _, done in progress.phases if not label.startswith("proving")) > 0
    proof = [(total, done) for label, total, done in progress.phases if label.startswith("proving")]
    assert len(proof) == 1 and proof[0][0] == proof[0][1] > 0   # every byte of the dump loaded back


class _Recorded:
    """A `Progress` that keeps (label, total, units done) per phase."""

    def __init__(self) -> None:
        self.phases: list[list[Any]] = []
        self.notes: list[str] = []

    def start(self, label: str, total: int | None) -> None:
        self.phases.append([label, total, 0])

    def advance(self, done: int) -> None:
        self.phases[-1][2] += done

    def note(self, message: str) -> None:
        self.notes.append(message)


def test_tampered_backup_is_not_trusted(tmp_path: Path) -> None:
    from gapmend.core.demo import build_demo

    env = build_demo(tmp_path)
    record = backup(load_settings(env, environ={}).production, tmp_path / "b")
    Path(record.path).write_bytes(b"not a backup")
    assert latest_verified(tmp_path / "b") is None


def test_full_disk_is_a_clear_error_and_leaves_nothing(dbs: Databases) -> None:
    """The backup folder on a 8 KiB tmpfs: the dump cannot fit. No partial file is left,
    and on MariaDB the scratch database the dump was being loaded into is dropped too."""
    import os

    from sqlalchemy import text

    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root (CI runs as root)")
    e = dbs.engines
    build_trio(e["crashed"], e["production"], None)
    with e["production"].begin() as conn:   # more than 8 KiB once compressed
        conn.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, junk VARCHAR(200))"))
        conn.execute(text("INSERT INTO filler VALUES (:i, :j)"), [{"i": i, "j": os.urandom(60).hex()} for i in range(400)])
    settings = load_settings(dbs.env_file(snapshot=False, snapshot_at=None), environ={})
    folder = dbs.workdir / "tiny"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(folder)], check=True)
    try:
        with pytest.raises(BackupError, match="free some space"):
            backup(settings.production, folder)
        assert not any(p.suffix == ".gz" for p in folder.iterdir())     # no partial backup left
        assert latest_verified(folder) is None
    finally:
        subprocess.run(["umount", str(folder)], check=True)
    if dbs.dialect == "mariadb":
        prefix = str(dbs.urls["production"].database)[:40] + "_gmverify_"
        with e["production"].connect() as conn:
            assert conn.execute(text("SHOW DATABASES LIKE :p"), {"p": prefix.replace("_", "\\_") + "%"}).all() == []


@pytest.mark.parametrize("dies", ["while dumping", "always"])
def test_a_load_that_dies(dbs: Databases, monkeypatch: pytest.MonkeyPatch, dies: str) -> None:
    """The scratch database's loaders are killed (SIGKILL, as the OOM killer would) while
    the dump is being written. The file is loaded again by one client as it is read
    back: when that load stands, the backup is proved and taken; when it is killed too,
    the backup is refused, no process it started is left running, and neither the file,
    its spooled parts nor the scratch databases are left."""
    import os
    import signal

    from sqlalchemy import text

    if dbs.dialect != "mariadb":
        pytest.skip("SQLite's backup is a file copy: nothing loads it while it is written")
    e = dbs.engines
    build_trio(e["crashed"], e["production"], None)
    with e["production"].begin() as conn:   # a dump of several blocks (1 MiB each)
        conn.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, junk TEXT)"))
        conn.execute(text("INSERT INTO filler VALUES (:i, :j)"), [{"i": i, "j": os.urandom(500).hex()} for i in range(6000)])
    started: list[Any] = []
    real_popen = subprocess.Popen

    def recording_popen(args: Any, *a: Any, **kw: Any) -> Any:
        started.append(real_popen(args, *a, **kw))
        return started[-1]

    class KillsTheLoaders(_Recorded):
        def advance(self, done: int) -> None:
            super().advance(done)
            if dies == "while dumping" and not self.phases[-1][0].startswith("dumping"):
                return
            for proc in started:
                if Path(proc.args[0]).name in ("mariadb", "mysql") and proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)

    monkeypatch.setattr(mariadb_dump.subprocess, "Popen", recording_popen)
    settings = load_settings(dbs.env_file(snapshot=False, snapshot_at=None), environ={})
    folder = dbs.workdir / "backups"
    progress = KillsTheLoaders()
    if dies == "always":
        with pytest.raises(BackupError, match="does not load into a scratch database"):
            backup(settings.production, folder, progress)
        assert not any(folder.iterdir()) and latest_verified(folder) is None
    else:
        record = backup(settings.production, folder, progress)
        assert record.verified and record.row_counts["filler"] == 6000 and latest_verified(folder) == record
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [Path(record.path).name, Path(record.path).name + ".sha256", "manifest.json"])   # no spooled part left
    assert any("loading the backup again with one client" in n for n in progress.notes)
    assert len(started) > 2 and all(proc.poll() is not None for proc in started)
    prefix = str(dbs.urls["production"].database)[:40] + "_gmverify_"
    with e["production"].connect() as conn:
        assert conn.execute(text("SHOW DATABASES LIKE :p"), {"p": prefix.replace("_", "\\_") + "%"}).all() == []
