"""Issue 40: production's server runs out of disk while the restore decides Friday's rows.
A private mariadbd keeps production and the snapshot on a small loop-mounted ext4
filesystem, crashed stays on the suite's server (two servers: Friday's rows are staged in
production's database, as in the report), and the filesystem fills once they are staged.

MariaDB meets a full disk in one of two ways: the statement fails ("table is full") and
the server lives, or the server aborts (10.11 does, on a work table it could not extend).
Either way the restore ends in one paragraph and no traceback; once room is made (and the
server started again) production's rows, counters, trigger and tables are as they were
(after `gapmend put-back` where the server died before gapmend could put them back, which
every command says first), and the next run restores and `verify` passes."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.app.cli.context import StderrProgress
from gapmend.core.demo import build_trio
from sqlalchemy import create_engine, text

from ..conftest import Databases, _databases
from ..dbstate import database_state
from .test_kill import TRIGGER, _outside

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import scale  # noqa: E402

pytestmark = pytest.mark.mariadb
ROOM = 256 << 10   # bytes left free once Friday's rows are staged: not enough to decide them
# Tablespaces grow a megabyte at a time, so the disk fills on a work table and not on a
# system file. The filesystem leaves room for InnoDB's redo log at its default size (a
# smaller log aborts the server on a transaction of this size, full disk or not).
SERVER = ["--innodb-autoextend-increment=1"]
DISK = "384M"


def test_a_full_disk_on_productions_server_leaves_it_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0 or not Path("/usr/sbin/mariadbd").exists() or not shutil.which("mkfs.ext4"):
        pytest.skip("a private mariadbd on its own filesystem needs root, the server and mkfs.ext4 (CI has them)")
    # A small ext4 filesystem, loop-mounted where the server's own user can reach it
    # (pytest's folders are root's only); InnoDB cannot create tables on a tmpfs.
    image = tmp_path / "disk.img"
    subprocess.run(["truncate", "-s", DISK, str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    disk = Path(tempfile.mkdtemp(prefix="gapmend-full-disk-"))
    if subprocess.run(["mount", "-o", "loop", str(image), str(disk)], capture_output=True).returncode:
        disk.rmdir()
        pytest.skip("loop-mounting a filesystem needs root (CI runs as root)")
    disk.chmod(0o755)
    try:
        with _databases("mariadb", tmp_path / "main") as main:
            # The error log off the full disk, so that an abort's report is whole.
            server = scale.start_second_server(disk, scale.free_port(), "gapmend_full", "full-disk-pw", 64 << 20, SERVER,
                                               error_log=tmp_path / "mariadb2.err")
            try:
                _fill_and_restore(main, server, disk, tmp_path, monkeypatch)
            finally:
                server.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)
        disk.rmdir()


def _fill_and_restore(main: Databases, server: scale.SecondServer, disk: Path, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    private = server.url("gapmend_full", "full-disk-pw")
    admin = create_engine(private)
    with admin.begin() as conn:
        for role in ("production", "snapshot"):
            conn.execute(text(f"CREATE DATABASE full_{role} CHARACTER SET utf8mb4"))
    admin.dispose()
    urls = {**main.urls, "production": private.set(database="full_production"),
            "snapshot": private.set(database="full_snapshot")}
    engines = {r: create_engine(u) for r, u in urls.items()}
    d = Databases("mariadb", urls, engines, tmp_path / "main")
    try:
        build_trio(engines["crashed"], engines["production"], engines["snapshot"], users=1000, gap=0.5)
        with engines["production"].begin() as conn:
            conn.execute(text(TRIGGER))
        initial, outside = database_state(engines["production"], journal=False), _outside(d)
        filler = disk / "filler"

        def fill_at(label: str) -> None:
            # The disk fills once Friday's rows are staged, as in the report: while deciding.
            if "deciding each Friday row" in label and not filler.exists():
                _fill(filler)

        start = StderrProgress.start
        monkeypatch.setattr(StderrProgress, "start", lambda self, label, total: (start(self, label, total), fill_at(label))[0])
        env = ["--env-file", str(d.env_file(snapshot=True, snapshot_at=None))]
        restore = [*env, "restore", "--yes", "--without-backup", "--approve-pending"]
        result = CliRunner().invoke(cli, restore)
        monkeypatch.undo()
        assert filler.exists(), "the restore never reached deciding"
        said = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        print(f"\n{said}")   # the paragraph, for whoever reads the run with -s
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert said.startswith("gapmend: error: the restore stopped while deciding each Friday row"), said
        filler.unlink()   # room made
        assert server.process is not None
        if server.process.poll() is None:   # the statement failed, the server lived
            assert "Nothing was written: the open transaction was rolled back" in said, said
            assert "are as they were" in said and "Run the restore again" in said, said
        else:   # the server aborted: the transaction rolls back as it starts again
            assert "Production could not be asked again" in said and "run `gapmend put-back`" in said, said
            server.start()
            first = CliRunner().invoke(cli, [*env, "check"]).stderr.splitlines()
            print("\n".join(first))
            assert any(line.startswith("gapmend: warning: ") and "run `gapmend put-back`" in line for line in first), first
            for what in ("trigger posts_title_kept on posts is suspended", "id counters of ", "work tables"):
                assert what in " ".join(first), first
            put = CliRunner().invoke(cli, [*env, "put-back"])
            print(put.output)
            assert put.exit_code == 0 and "put back" in put.output, put.output
        assert database_state(engines["production"], journal=False) == initial
        assert not database_state(engines["production"]).get("gapmend_runs")   # no run recorded
        assert _outside(d) == outside   # counters, trigger, no work table holding the disk
        again = CliRunner().invoke(cli, restore)
        assert again.exit_code == 0, again.output
        checked = CliRunner().invoke(cli, [*env, "verify"])
        assert checked.exit_code == 0 and checked.output.startswith("verified: "), checked.output
    finally:
        for e in engines.values():
            e.dispose()


def _fill(filler: Path) -> None:
    """Fills the filesystem holding `filler` but for ROOM bytes."""
    with contextlib.suppress(OSError), filler.open("wb") as fh:
        while (free := shutil.disk_usage(filler.parent).free) > ROOM:
            fh.write(bytes(min(1 << 20, free - ROOM)))
            fh.flush()
