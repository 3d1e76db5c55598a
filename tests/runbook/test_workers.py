"""Steps 6 and 14 against a real supervisord, started by the test with a throwaway config."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
from gapmend.core.runbook.workers import NoSupervisor, Supervisor, start, stop


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    if shutil.which("supervisord") is None:
        pytest.fail("supervisor is part of the suite: .ci/run installs it (apt-get install supervisor)")
    conf = tmp_path / "supervisord.conf"
    sock = tmp_path / "supervisor.sock"
    conf.write_text(f"""
[unix_http_server]
file={sock}
[supervisord]
logfile={tmp_path}/supervisord.log
pidfile={tmp_path}/supervisord.pid
childlogdir={tmp_path}
nodaemon=false
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{sock}
[program:queue-default]
command=/bin/sleep 3600
startsecs=0
[program:queue-mail]
command=/bin/sleep 3600
startsecs=0
[program:paused-report]
command=/bin/sleep 3600
autostart=false
startsecs=0
""")
    subprocess.run(["supervisord", "-c", str(conf)], check=True)
    sup = Supervisor(config=conf)
    for _ in range(50):
        try:
            if sup.status().get("queue-mail") == "RUNNING":
                break
        except NoSupervisor:
            pass
        time.sleep(0.1)
    try:
        yield sup
    finally:
        subprocess.run(["supervisorctl", "-c", str(conf), "shutdown"], capture_output=True)


def test_stop_then_start_restores_exactly_what_ran(supervisor: Supervisor, tmp_path: Path) -> None:
    state = tmp_path / "workers.json"
    assert supervisor.status() == {"paused-report": "STOPPED", "queue-default": "RUNNING", "queue-mail": "RUNNING"}
    assert stop(supervisor, state) == ["queue-default", "queue-mail"]
    assert set(supervisor.status().values()) == {"STOPPED"}
    assert state.stat().st_mode & 0o777 == 0o600
    assert stop(supervisor, state) == []          # a second stop keeps the first one's record
    assert start(supervisor, state) == ["queue-default", "queue-mail"]
    assert supervisor.status() == {"paused-report": "STOPPED", "queue-default": "RUNNING", "queue-mail": "RUNNING"}


def test_no_supervisor_here_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(NoSupervisor, match="skip steps 6 and 14"):
        Supervisor(ctl="supervisorctl-not-installed").status()
    conf = tmp_path / "none.conf"
    conf.write_text(f"[supervisorctl]\nserverurl=unix://{tmp_path}/nothing.sock\n")
    with pytest.raises(NoSupervisor, match="not running"):
        Supervisor(config=conf).status()


def test_console_commands_tick_steps_6_and_14(supervisor: Supervisor, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner
    from gapmend.app.cli import cli
    from gapmend.core.demo import build_demo

    env = build_demo(tmp_path / "demo")
    env.write_text(env.read_text() + f"GAPMEND_SUPERVISOR_CONF={supervisor.config}\n")
    runner = CliRunner()
    stopped = runner.invoke(cli, ["--env-file", str(env), "workers", "stop", "--yes"])
    assert stopped.exit_code == 0 and "stopped: queue-default, queue-mail" in stopped.output
    started = runner.invoke(cli, ["--env-file", str(env), "workers", "start", "--yes"])
    assert started.exit_code == 0 and "started: queue-default, queue-mail" in started.output
    steps = json.loads((env.parent / "gapmend.steps.json").read_text())["steps"]
    assert steps["6"]["state"] == "done" and steps["14"]["state"] == "done"
