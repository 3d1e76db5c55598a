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
from gapmend.core.demo import build_trio
from gapmend.core.runbook import backup as backup_module
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

    monkeypatch.setattr(backup_module.subprocess, "Popen", recording_popen)
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
        assert [p for p in phases if " of " in p] == [
            f"dumping production: table {i} of {tables} ({name}), bytes" for i, name in enumerate(sorted(record.row_counts), 1)]
    assert sum(done for label, _, done in progress.phases if not label.startswith("proving")) > 0
    proof = [(total, done) for label, total, done in progress.phases if label.startswith("proving")]
    assert len(proof) == 1 and proof[0][0] == proof[0][1] > 0   # every byte of the dump loaded back


class _Recorded:
    """A `Progress` that keeps (label, total, units done) per phase."""

    def __init__(self) -> None:
        self.phases: list[list[Any]] = []

    def start(self, label: str, total: int | None) -> None:
        self.phases.append([label, total, 0])

    def advance(self, done: int) -> None:
        self.phases[-1][2] += done

    def note(self, message: str) -> None:
        pass


def test_tampered_backup_is_not_trusted(tmp_path: Path) -> None:
    from gapmend.core.demo import build_demo

    env = build_demo(tmp_path)
    record = backup(load_settings(env, environ={}).production, tmp_path / "b")
    Path(record.path).write_bytes(b"not a backup")
    assert latest_verified(tmp_path / "b") is None


def test_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    """The backup folder on a 8 KiB tmpfs: the dump cannot fit."""
    import os

    from gapmend.core.demo import build_demo

    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root (CI runs as root)")
    env = build_demo(tmp_path, users=400)
    folder = tmp_path / "tiny"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(folder)], check=True)
    try:
        with pytest.raises(BackupError, match="free some space"):
            backup(load_settings(env, environ={}).production, folder)
        assert not any(p.suffix == ".gz" for p in folder.iterdir())     # no partial backup left
        assert latest_verified(folder) is None
    finally:
        subprocess.run(["umount", str(folder)], check=True)
