"""Issue 40: production's server runs out of disk while the restore works. A private
mariadbd keeps production and the snapshot on a small tmpfs, crashed stays on the
suite's server (two servers: Friday's rows are staged in production's database, as in
the report), and the tmpfs is filled but for a little room. The restore stops in one
paragraph, production's rows, counters, trigger and tables are as before (no work table
left to hold the last of the disk), and once room is made the next run restores and
`verify` passes."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.demo import build_trio
from sqlalchemy import create_engine, text

from ..conftest import Databases, _databases
from ..dbstate import database_state
from .test_kill import TRIGGER, _outside

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import scale  # noqa: E402

pytestmark = pytest.mark.mariadb
ROOM = 3 << 20   # bytes left free: enough for gapmend's own tables, not for Friday's staged rows
# A datadir that fits a small tmpfs: InnoDB's redo log and system tablespace kept small.
SMALL = ["--innodb-log-file-size=4M", "--innodb-data-file-path=ibdata1:4M:autoextend",
         "--innodb-temp-data-file-path=ibtmp1:4M:autoextend", "--innodb-undo-tablespaces=0"]


def test_a_full_disk_on_productions_server_leaves_it_as_it_was(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not Path("/usr/sbin/mariadbd").exists():
        pytest.skip("a private mariadbd on a tmpfs needs root and the server (CI has both)")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        with _databases("mariadb", tmp_path / "main") as main:
            server = scale.start_second_server(disk, _free_port(), "gapmend_full", "full-disk-pw", 16 << 20, SMALL)
            try:
                _fill_and_restore(main, server, disk, tmp_path)
            finally:
                server.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill_and_restore(main: Databases, server: scale.SecondServer, disk: Path, tmp_path: Path) -> None:
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
        build_trio(engines["crashed"], engines["production"], engines["snapshot"], users=3000, gap=0.5)
        with engines["production"].begin() as conn:
            conn.execute(text(TRIGGER))
        initial, outside = database_state(engines["production"]), _outside(d)
        filler = disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as fh:
            while shutil.disk_usage(disk).free > ROOM:
                fh.write(bytes(min(1 << 20, shutil.disk_usage(disk).free - ROOM) or 4096))
                fh.flush()
        env = d.env_file(snapshot=True, snapshot_at=None)
        args = ["--env-file", str(env), "restore", "--yes", "--without-backup", "--approve-pending"]
        result = CliRunner().invoke(cli, args)
        said = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        print(f"\n{said}")
        assert result.exit_code == 2 and said.startswith("gapmend: error: the restore stopped while "), result.output
        assert "Nothing was written: the open transaction was rolled back" in said, said
        assert "Traceback" not in result.output, result.output
        assert database_state(engines["production"]) == initial   # journal included: none was left
        assert _outside(d) == outside   # counters, trigger, no work table holding the disk
        filler.unlink()   # room made: the next run does the job
        again = CliRunner().invoke(cli, args)
        assert again.exit_code == 0, again.output
        checked = CliRunner().invoke(cli, ["--env-file", str(env), "verify"])
        assert checked.exit_code == 0 and checked.output.startswith("verified: "), checked.output
    finally:
        for e in engines.values():
            e.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
