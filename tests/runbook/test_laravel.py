"""Steps 7, 9 and 15 in a real Laravel 8 application (Debian's php-laravel-framework, in a
hand-made skeleton under tests/runbook/laravel_skeleton)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.runbook.artisan import LaravelError, check_permissions, is_down, maintenance_off, maintenance_on

SKELETON = Path(__file__).parent / "laravel_skeleton"


def make_app(app: Path) -> Path:
    """A Laravel 8 application at `app`, from the skeleton, with the folders artisan writes."""
    if shutil.which("php") is None or not Path("/usr/share/php/Illuminate/autoload.php").exists():
        pytest.fail("PHP and Laravel are part of the suite: .ci/setup installs php-cli php-laravel-framework")
    shutil.copytree(SKELETON, app)
    shutil.copy(app / ".env.testing-template", app / ".env")
    for rel in ("storage/framework/cache/data", "storage/framework/sessions", "storage/framework/views",
                "storage/logs", "bootstrap/cache", "resources/views", "database"):
        (app / rel).mkdir(parents=True, exist_ok=True)
    return app


@pytest.fixture
def laravel_app(tmp_path: Path) -> Path:
    return make_app(tmp_path / "shop")


def test_artisan_down_and_up(laravel_app: Path) -> None:
    assert not is_down(laravel_app)
    assert "maintenance mode" in maintenance_on(laravel_app)
    assert is_down(laravel_app)
    down = json.loads((laravel_app / "storage/framework/down").read_text())
    assert "retry" in down or "time" in down or down is not None
    maintenance_off(laravel_app)
    assert not is_down(laravel_app)


def test_console_commands_tick_steps(laravel_app: Path, tmp_path: Path) -> None:
    from gapmend.core.demo import build_demo

    env = build_demo(tmp_path / "demo")
    env.write_text(env.read_text() + f"GAPMEND_APP_PATH={laravel_app}\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["--env-file", str(env), "maintenance", "on", "--yes"]).exit_code == 0
    assert is_down(laravel_app)
    assert runner.invoke(cli, ["--env-file", str(env), "permissions"]).exit_code == 0
    assert runner.invoke(cli, ["--env-file", str(env), "maintenance", "off", "--yes"]).exit_code == 0
    steps = json.loads((env.parent / "gapmend.steps.json").read_text())["steps"]
    assert {k: v["state"] for k, v in steps.items()} == {"7": "done", "9": "done", "15": "done"}


def test_missing_artisan_and_php_are_clear(tmp_path: Path, laravel_app: Path) -> None:
    with pytest.raises(LaravelError, match="no artisan"):
        maintenance_on(tmp_path)
    with pytest.raises(LaravelError, match="not installed"):
        maintenance_on(laravel_app, php="php-that-is-not-here")


def test_permissions_name_what_is_missing(laravel_app: Path) -> None:
    """As root everything is writable, so the negative case runs in a forked child that
    has become `nobody`, on a copy of the app that nobody may read but not write."""
    import pwd
    import tempfile

    assert check_permissions(laravel_app) == []
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user (CI runs as root)")
    public = Path(tempfile.mkdtemp(prefix="gapmend-perm-"))
    try:
        app = public / "shop"
        shutil.copytree(laravel_app, app)
        for path in [public, *app.rglob("*"), app]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        nobody = pwd.getpwnam("nobody").pw_uid
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:   # the child: drop to nobody, check, report through the pipe
            os.close(read_end)
            os.setuid(nobody)
            os.write(write_end, json.dumps(check_permissions(app)).encode())
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as fh:
            problems = json.loads(fh.read())
        os.waitpid(pid, 0)
    finally:
        shutil.rmtree(public, ignore_errors=True)
    assert any("cannot write" in p and ".env" in p for p in problems)
    assert any("cannot create files in" in p and "storage/framework" in p for p in problems)


def test_changes_need_confirmation(laravel_app: Path, tmp_path: Path) -> None:
    from gapmend.core.demo import build_demo

    env = build_demo(tmp_path / "demo")
    env.write_text(env.read_text() + f"GAPMEND_APP_PATH={laravel_app}\n")
    result = CliRunner().invoke(cli, ["--env-file", str(env), "maintenance", "on"])
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    assert not is_down(laravel_app)
