"""Steps 6 and 14: stop the queue workers before the restore, start them again after.

Talks to supervisord through its own ``supervisorctl``. `stop` records which programs
were running (in a 0600 state file) before stopping them, and `start` starts exactly
those again: a worker the operator had stopped on purpose stays stopped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import GapmendError
from ..private_files import write_private


class WorkersError(GapmendError):
    title = "Workers"


class NoSupervisor(WorkersError):
    """No supervisor on this host (or none running): the steps are skipped with a reason."""


@dataclass(frozen=True)
class Supervisor:
    """How to reach supervisord: the ``supervisorctl`` binary, an optional config file and
    which programs (``all``, or a group name as ``group:*``)."""

    ctl: str = "supervisorctl"
    config: Path | None = None
    programs: str = "all"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        exe = shutil.which(self.ctl)
        if exe is None:
            raise NoSupervisor(f"{self.ctl} is not installed: no supervisor on this host; skip steps 6 and 14 "
                               "with that reason (gapmend steps skip 6 --reason ...)")
        cmd = [exe] + (["-c", str(self.config)] if self.config else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def status(self) -> dict[str, str]:
        """program name (``group:name`` for groups) → state (RUNNING, STOPPED, ...)."""
        result = self._run("status")
        out = result.stdout + result.stderr
        if "refused connection" in out or "no such file" in out.lower() or "SHUTDOWN_STATE" in out:
            raise NoSupervisor("supervisord is not running here: start it, or skip steps 6 and 14 with that reason")
        states: dict[str, str] = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isupper():
                states[parts[0]] = parts[1]
        return states

    def _selected(self, states: dict[str, str]) -> list[str]:
        if self.programs == "all":
            return sorted(states)
        group = self.programs.removesuffix(":*")
        return sorted(n for n in states if n == group or n.startswith(group + ":"))


def from_settings(extra: Mapping[str, str]) -> Supervisor:
    conf = extra.get("GAPMEND_SUPERVISOR_CONF")
    return Supervisor(ctl=extra.get("GAPMEND_SUPERVISORCTL") or "supervisorctl",
                      config=Path(conf) if conf else None, programs=extra.get("GAPMEND_WORKERS") or "all")


def stop(sup: Supervisor, state_file: Path) -> list[str]:
    """Stop the running workers; remember which they were. Returns the names stopped."""
    states = sup.status()
    running = [n for n in sup._selected(states) if states[n] in ("RUNNING", "STARTING")]
    previous = _load(state_file)
    # A second `stop` must not forget what the first one stopped.
    remembered = sorted(set(running) | set(previous))
    _save(state_file, remembered)
    if running:
        result = sup._run("stop", *running)
        if result.returncode != 0 and "ERROR" in result.stdout + result.stderr:
            raise WorkersError(f"supervisorctl stop failed: {(result.stdout + result.stderr).strip()[:200]}")
    after = sup.status()
    still = [n for n in running if after.get(n) in ("RUNNING", "STARTING", "STOPPING")]
    if still:
        raise WorkersError(f"still running after stop: {', '.join(still)}: check supervisorctl status")
    return running


def start(sup: Supervisor, state_file: Path) -> list[str]:
    """Start exactly the workers `stop` recorded. Returns their names."""
    wanted = _load(state_file)
    if not wanted:
        return []
    result = sup._run("start", *wanted)
    after = sup.status()
    failed = [n for n in wanted if after.get(n) != "RUNNING"]
    if failed:
        detail = (result.stdout + result.stderr).strip()[:200]
        raise WorkersError(f"did not start: {', '.join(failed)} ({detail}): check supervisorctl status")
    state_file.unlink(missing_ok=True)
    return wanted


def _load(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [str(n) for n in json.loads(path.read_text()).get("stopped_by_gapmend", [])]


def _save(path: Path, names: list[str]) -> None:
    write_private(path, json.dumps({"stopped_by_gapmend": names}))
