"""The wizard drives a real Laravel 8 application end to end (issue 16): its tables
made by `php artisan migrate` into MariaDB (`utf8mb4_unicode_ci`, as Laravel creates
them), its workers under a real supervisord, maintenance mode through its own artisan,
the backup by mariadb-dump, the crashed connection added to and removed from its .env
and config/database.php. Keys only, step 1 to 15; then the databases and the files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import Context, cli, wizard_app
from gapmend.app.wizard import GapmendApp
from gapmend.core.runbook.artisan import is_down
from gapmend.core.runbook.steps import Checklist
from gapmend.core.runbook.verify import verify
from gapmend.core.runbook.workers import Supervisor
from gapmend.screens.dialogs import ConfirmScreen, SummaryScreen
from gapmend.screens.inspect_gaps import InspectGapsScreen
from sqlalchemy import text
from textual.widgets import Static

from ..conftest import Databases
from ..core.test_laravel_schemas import FRIDAY, PRODUCTION, SNAPSHOT, _meaning, laravel_app_trio  # noqa: F401
from ..dbstate import load_reflected
from ..pilot import settle
from ..runbook.test_workers import supervisor  # noqa: F401  (fixture)

pytestmark = pytest.mark.mariadb


async def _settle(app: GapmendApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(app, pilot)


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
async def test_the_wizard_restores_a_laravel_app(laravel_app_trio: Databases, supervisor: Supervisor,  # noqa: F811
                                                 tmp_path: Path) -> None:
    e = laravel_app_trio.engines
    load_reflected(e["snapshot"], SNAPSHOT)
    load_reflected(e["crashed"], SNAPSHOT, FRIDAY)
    load_reflected(e["production"], SNAPSHOT, PRODUCTION)
    crashed, before = _meaning(e["crashed"]), _meaning(e["production"])
    # `gapmend --laravel APP`: production is the app's own DB_* connection; the crashed
    # database is named beside it until step 10 adds the connection (and after step 12).
    app_path = tmp_path / "app"
    urls = laravel_app_trio.urls
    prod, snap = urls["production"], urls["snapshot"]
    (app_path / ".env").write_text(
        (app_path / ".env").read_text().replace("DB_CONNECTION=sqlite\n", "")
        + f"DB_CONNECTION=mysql\nDB_HOST={prod.host}\nDB_PORT={prod.port or 3306}\nDB_DATABASE={prod.database}\n"
        f"DB_USERNAME={prod.username}\nDB_PASSWORD={prod.password or ''}\n"
        f"GAPMEND_CRASHED_DATABASE={urls['crashed'].database}\n"
        f"GAPMEND_SNAPSHOT_URL={snap.set(password=None).render_as_string(hide_password=False)}\n"
        f"GAPMEND_SNAPSHOT_PASSWORD={snap.password or ''}\nGAPMEND_SUPERVISOR_CONF={supervisor.config}\n")
    ctx = Context(env_file=tmp_path / "absent.env", laravel=app_path)
    app = wizard_app(ctx)
    settings = app.context.settings
    assert settings.crashed.database == urls["crashed"].database

    async def confirm(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen), type(app.screen)
        await pilot.press("y")
        await _settle(app, pilot)

    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("n")                                   # 1: the scan
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, InspectGapsScreen) and screen.plan is not None
        for name in screen.plan.order:                           # approve what is pending (defaults kept)
            g = screen.plan.table(name)
            if g.decision.value == "pending":
                await pilot.press("a")
            await pilot.press("down")
        await pilot.press("n", "n", "n", "n")                    # 2-4 tick themselves on the way to 5
        await pilot.press("r")                                   # 5: the dry run
        await _settle(app, pilot)
        for step in (6, 7, 8):                                   # workers stop, artisan down, backup
            await pilot.press("n")
            await _settle(app, pilot)
            await confirm(pilot)
            assert app.context.checklist.get(step).state == "done", (step, app.context.checklist.get(step))
        assert is_down(app_path)
        await pilot.press("n", "r")                              # 9: permissions (asks nothing)
        await _settle(app, pilot)
        await pilot.press("n")                                   # 10: the crashed connection
        await _settle(app, pilot)
        await confirm(pilot)
        assert "DB_CRASHED_DATABASE" in (app_path / ".env").read_text()
        await pilot.press("n", "r")                              # 11: the restore, its name typed
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.focused.id == "typed"
        await pilot.press(*(settings.production.database or ""), "enter")
        await _settle(app, pilot)
        await pilot.press("n")                                   # 12: the connection removed
        await _settle(app, pilot)
        await confirm(pilot)
        await pilot.press("n")                                   # 13: investigate (verifies)
        await _settle(app, pilot)
        for _ in (14, 15):                                       # workers start, artisan up
            await pilot.press("n")
            await _settle(app, pilot)
            await confirm(pilot)
        assert isinstance(app.screen, SummaryScreen)
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "15 of 15 steps done" in summary and "report: " in summary

    # One step file for the wizard and the console: `gapmend --laravel APP steps` reads the run.
    checklist = Checklist(app_path / "storage" / "gapmend.steps.json")
    assert {n: checklist.get(n).state for n in range(1, 16)} == {n: "done" for n in range(1, 16)}
    listed = CliRunner().invoke(cli, ["--laravel", str(app_path), "steps"])
    assert listed.exit_code == 0 and listed.output.count("[x]") == 15, listed.output
    assert not is_down(app_path) and "DB_CRASHED" not in (app_path / ".env").read_text()
    assert supervisor.status() and all(s == "RUNNING" for n, s in supervisor.status().items() if n.startswith("queue-"))
    after = _meaning(e["production"])
    for table in after:
        assert after[table] == before[table] | crashed[table], table
    with e["production"].connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM migrations")).scalar() > 0
    assert verify(settings)[0] == []
