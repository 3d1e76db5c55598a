"""Steps 10 and 12 in the real Laravel app: the crashed connection is added so that Laravel
itself reaches the crashed MariaDB database through it, then removed without a trace."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.runbook import connection
from sqlalchemy import create_engine, text

from ..conftest import _require_mariadb
from .test_laravel import laravel_app  # noqa: F401  (fixture)


def _artisan_status(app: Path) -> str:
    result = subprocess.run(["php", "artisan", "migrate:status", "--database=crashed"], cwd=app,
                            capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


@pytest.mark.mariadb
def test_add_then_remove_round_trip_through_laravel(laravel_app: Path) -> None:  # noqa: F811
    base = _require_mariadb()
    name = f"gm_test_{uuid.uuid4().hex[:10]}_crashed"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}`"))
    env, config = laravel_app / ".env", laravel_app / "config/database.php"
    env.chmod(0o600)
    original_env, original_config = env.read_bytes(), config.read_bytes()
    try:
        assert "not configured" in _artisan_status(laravel_app)
        connection.add(laravel_app, base.set(database=name))
        connection.add(laravel_app, base.set(database=name))          # twice: replaced, not duplicated
        assert env.read_text().count("DB_CRASHED_DATABASE=") == 1
        assert env.stat().st_mode & 0o777 == 0o600                     # the .env keeps its mode
        # Laravel itself resolves the connection and reaches the crashed database through it.
        status = _artisan_status(laravel_app)
        assert "Migration table not found" in status, status
        connection.remove(laravel_app)
        assert env.read_bytes() == original_env and config.read_bytes() == original_config   # byte for byte
        assert not list(laravel_app.rglob("*.gapmend-backup"))
        assert "not configured" in _artisan_status(laravel_app)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def test_console_commands_tick_steps_10_and_12(laravel_app: Path, tmp_path: Path) -> None:  # noqa: F811
    env = laravel_app / ".env"
    env.write_text(env.read_text() + "DB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_DATABASE=shop\nDB_USERNAME=shop\n")
    runner = CliRunner()
    added = runner.invoke(cli, ["--laravel", str(laravel_app), "connection", "add", "--database", "shop_crashed", "--yes"])
    assert added.exit_code == 0, added.output
    assert "DB_CRASHED_DATABASE=shop_crashed" in env.read_text()
    removed = runner.invoke(cli, ["--laravel", str(laravel_app), "connection", "remove", "--yes"])
    assert removed.exit_code == 0 and "DB_CRASHED" not in env.read_text()
    import json

    steps = json.loads((laravel_app / "storage" / "gapmend.steps.json").read_text())["steps"]
    assert steps["10"]["state"] == "done" and steps["12"]["state"] == "done"
