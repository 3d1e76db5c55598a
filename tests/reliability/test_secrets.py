"""Secrets: while a real backup and a real restore run, no process on the machine shows the
password in its command line (every /proc/*/cmdline is read, over and over); afterwards no
log, report, plan or backup holds it, and every file gapmend wrote is its owner's only."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gapmend.core.demo import build_trio

from ..conftest import Databases
from ..pilot import settle

pytestmark = pytest.mark.mariadb


class CmdlineWatch(threading.Thread):
    """Reads every process's command line until stopped; remembers any that holds `secret`
    and which programs it saw, to prove it looked while the children ran."""

    def __init__(self, secret: str) -> None:
        super().__init__(daemon=True)
        self.secret = secret.encode()
        self.leaks: list[str] = []
        self.seen: set[str] = set()
        self.done = threading.Event()

    def run(self) -> None:
        me = str(os.getpid())
        while not self.done.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid == me:
                    continue
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if not cmdline:
                    continue
                self.seen.add(Path(cmdline.split(b"\0")[0].decode(errors="replace")).name)
                if self.secret in cmdline:
                    self.leaks.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
            time.sleep(0.002)


def _gapmend(env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", "from gapmend.app.cli import main; main()", "--env-file", str(env), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=env.parent)


def test_no_password_in_any_command_line_log_or_file(dbs_mariadb: Databases) -> None:
    d = dbs_mariadb
    build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"], users=1500, gap=0.3)
    password = d.urls["production"].password
    assert password, "the test user needs a password for this test to mean anything"
    env = d.env_file(snapshot=True, snapshot_at=None)
    watch = CmdlineWatch(password)
    watch.start()
    try:
        outputs = [_gapmend(env, "plan", "--output", str(d.workdir / "plan.json")),
                   _gapmend(env, "backup"),
                   _gapmend(env, "restore", "--yes", "--approve-pending"),
                   _gapmend(env, "investigate")]
    finally:
        watch.done.set()
        watch.join()
    for out in outputs:
        assert out.returncode == 0, out.stderr
        assert password not in out.stdout + out.stderr
    assert watch.leaks == []
    # The scan really saw the children that hold credentials: the dump and the client.
    assert {"mariadb-dump", "mariadb"} <= watch.seen or {"mysqldump", "mysql"} <= watch.seen, sorted(watch.seen)

    written = [p for p in d.workdir.rglob("*") if p.is_file() and p.name != "test.env"]
    kinds = {p.suffix for p in written}
    assert {".log", ".json", ".txt", ".gz"} <= kinds, sorted(kinds)
    for path in written:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others: {oct(path.stat().st_mode)}"
        if path.suffix != ".gz":
            assert password.encode() not in path.read_bytes(), path
    for folder in {p.parent for p in written}:
        assert folder.stat().st_mode & 0o077 == 0 or folder == d.workdir, f"{folder} is open to others"


@pytest.fixture
def dbs_mariadb(tmp_path: Path) -> Databases:
    from ..conftest import _databases

    with _databases("mariadb", tmp_path) as d:
        yield d  # type: ignore[misc]


async def test_the_wizard_never_shows_the_password(dbs_mariadb: Databases) -> None:
    """The connections screen, the gap scan and its log, rendered: the password is masked."""
    from gapmend.app.wizard import GapmendApp
    from gapmend.core.config import load_settings
    from textual.widgets import Log

    d = dbs_mariadb
    build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
    password = d.urls["production"].password
    assert password
    env = d.env_file(snapshot=True, snapshot_at=None)
    app = GapmendApp(load_settings(env, environ={}), d.workdir, Path(str(env) + ".decisions.json"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        shown = [app.export_screenshot()]
        assert "***" in shown[0]                      # a URL is on screen, masked
        await pilot.press("n")                        # step 1: the scan
        await settle(app, pilot)
        shown.append(app.export_screenshot())
        shown += ["\n".join(log.lines) for log in app.screen.query(Log)]
    assert all(password not in page for page in shown)
