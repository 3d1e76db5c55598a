"""The whole runbook from the console alone, on SQLite and on MariaDB, against the real
components: supervisord, a Laravel 8 app's artisan, mariadb-dump / SQLite's backup API,
the app's .env and config/database.php. At the end `gapmend steps` shows all fifteen done."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.demo import SNAPSHOT_AT, build_trio
from gapmend.core.runbook.artisan import is_down
from gapmend.core.runbook.workers import Supervisor
from sqlalchemy import text

from ..conftest import Databases
from .test_laravel import laravel_app  # noqa: F401  (fixture)
from .test_workers import supervisor  # noqa: F401  (fixture)


def test_fifteen_steps_from_the_console(dbs: Databases, laravel_app: Path, supervisor: Supervisor) -> None:  # noqa: F811
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    env = dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat())
    env.write_text(env.read_text() + f"GAPMEND_APP_PATH={laravel_app}\nGAPMEND_SUPERVISOR_CONF={supervisor.config}\n")
    runner = CliRunner()

    def gapmend(*args: str) -> str:
        result = runner.invoke(cli, ["--env-file", str(env), *args], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output, result.stderr)
        return result.output

    assert "cycle: teams ↔ users" in gapmend("plan")                          # 1-2
    gapmend("approve", "settings", "tags", "teams", "users", "posts", "comments", "images", "post_tag", "taggables")
    gapmend("skip", "activity_log")
    gapmend("steps", "done", "3")
    gapmend("resolve", "users", "6", "--take", "friday")
    gapmend("steps", "done", "4")
    gapmend("restore", "--dry-run", str(dbs.workdir / "dry.sql"))             # 5
    assert "stopped: queue-default, queue-mail" in gapmend("workers", "stop", "--yes")   # 6
    gapmend("maintenance", "on", "--yes")                                        # 7
    assert is_down(laravel_app)
    assert "verified" in gapmend("backup")                                       # 8
    gapmend("permissions")                                                       # 9
    gapmend("connection", "add", "--yes")                                        # 10
    assert "DB_CRASHED_DATABASE" in (laravel_app / ".env").read_text()
    assert "restore committed" in gapmend("restore", "--yes")                    # 11
    gapmend("connection", "remove", "--yes")                                     # 12
    assert "DB_CRASHED" not in (laravel_app / ".env").read_text()
    assert "verify: OK" in gapmend("investigate")                                # 13
    assert "started: queue-default, queue-mail" in gapmend("workers", "start", "--yes")  # 14
    gapmend("maintenance", "off", "--yes")                                       # 15
    assert not is_down(laravel_app)

    listing = gapmend("steps")
    assert listing.count("[x]") == 15, listing
    steps = json.loads((env.parent / "gapmend.steps.json").read_text())["steps"]
    assert sorted(int(k) for k, v in steps.items() if v["state"] == "done") == list(range(1, 16))
    with e["production"].connect() as conn:   # the restore happened as decided
        assert conn.execute(text("SELECT name FROM users WHERE id = 6")).scalar() == "friday's name"
        assert conn.execute(text("SELECT COUNT(*) FROM gapmend_id_map WHERE table_name = 'activity_log'")).scalar() == 0
