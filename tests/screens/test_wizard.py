"""Drive the whole demo through the wizard, step 1 to 15, with the keyboard only, then
check the databases and the step file: the restore really happened as approved."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from gapmend.app.wizard import GapmendApp
from gapmend.core.config import load_settings
from gapmend.core.demo import build_demo
from gapmend.core.logfile import close_log, open_log
from gapmend.core.runbook.steps import Checklist
from gapmend.screens.base import StepScreen
from gapmend.screens.dialogs import ConfirmScreen, NoticeScreen, ReasonScreen, SummaryScreen
from gapmend.screens.inspect_gaps import InspectGapsScreen
from textual.widgets import DataTable, Static

from ..pilot import settle


async def _settle(app: GapmendApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(app, pilot)


async def _scanned(app: GapmendApp, pilot) -> InspectGapsScreen:  # type: ignore[no-untyped-def]
    """From the connections screen to step 1 with its scan finished."""
    await _settle(app, pilot)
    await pilot.press("n")
    await _settle(app, pilot)
    assert isinstance(app.screen, InspectGapsScreen) and app.screen.plan is not None
    return app.screen


def _approve_all(env: Path) -> None:
    from gapmend.core.plan.decisions import Decisions, save_decisions
    from sqlalchemy import create_engine, inspect

    tables = inspect(create_engine(f"sqlite:///{env.parent / 'crashed.sqlite'}")).get_table_names()
    save_decisions(Path(str(env) + ".decisions.json"), Decisions(tables={t: "approve" for t in tables}))


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_walk_all_fifteen_steps(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    settings = load_settings(env, environ={})
    prod = tmp_path / "production.sqlite"
    log_rows_before = _count(prod, "SELECT COUNT(*) FROM activity_log")
    app = GapmendApp(settings, tmp_path, Path(str(env) + ".decisions.json"))
    log = open_log(tmp_path / "gapmend.log")   # as `gapmend wizard` opens it
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "ConnectionsScreen"
        await pilot.press("n")                      # step 1: the gap scan runs in a worker
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, InspectGapsScreen) and screen.plan is not None
        table = screen.query_one("#gaps", DataTable)
        assert table.row_count == 10
        for name in screen.plan.order:              # approve every table but activity_log
            await pilot.press("s" if name == "activity_log" else "a")
            if name == "users":
                await pilot.press("f")              # users' conflicts: take Friday's values
            await pilot.press("down")
        await pilot.press("n", "x", "n", "x", "n", "x", "n")   # steps 2-4 ticked off, on to 5
        await pilot.press("r")                      # step 5: dry run (no confirmation: writes nothing)
        await _settle(app, pilot)
        assert (tmp_path / "gapmend-reports" / "dry-run.sql").exists()
        await pilot.press("n", "k")                 # step 6: skip, with a reason
        assert isinstance(app.screen, ReasonScreen)
        await pilot.press(*"no supervisor here", "enter")
        await pilot.press("n", "x")                 # step 7 by hand
        await pilot.press("n", "r")                 # step 8: the backup, confirmed
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await _settle(app, pilot)
        for _ in range(9, 11):                      # steps 9-10 done by hand, ticked off
            await pilot.press("n", "x")
        await pilot.press("n")                      # step 11: restore
        assert isinstance(app.screen, StepScreen) and app.screen.step_number == 11
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        # The cursor is in the name's input (it was on No, and typed keys went nowhere).
        assert app.screen.focused is not None and app.screen.focused.id == "typed"
        await pilot.press("y", "enter")             # not the name: still asking
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("backspace", *"production.sqlite", "enter")
        await _settle(app, pilot)
        await pilot.press("n", "x", "n")            # step 12 ticked; step 13 verifies
        await _settle(app, pilot)
        await pilot.press("n", "x", "n", "x")       # steps 14, 15
        await pilot.pause()
        # The run ends with its summary: what was restored and left out, where the report is.
        assert isinstance(app.screen, SummaryScreen)
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "14 of 15 steps done" in summary and "step 6 skipped: no supervisor here" in summary
        assert "left out: activity_log (skipped by the operator)" in summary and "report: " in summary
    close_log(log)
    logged = (tmp_path / "gapmend.log").read_text()
    for line in ("wizard: step 8 (Back up production) done", "wizard: restore ", "wizard: step 15"):
        assert line in logged, line

    checklist = Checklist(tmp_path / "gapmend.steps.json")
    states = {n: checklist.get(n).state for n in range(1, 16)}
    assert states == {n: ("skipped" if n == 6 else "done") for n in range(1, 16)}
    assert checklist.get(6).reason == "no supervisor here"
    # The restore happened as approved: Friday's users are in, the conflict took Friday's
    # value, and the skipped table got nothing.
    assert _count(prod, "SELECT COUNT(*) FROM users WHERE name LIKE 'friday user %'") == 3
    assert _count(prod, "SELECT COUNT(*) FROM users WHERE id = 6 AND name = 'friday''s name'") == 1
    assert _count(prod, "SELECT COUNT(*) FROM activity_log") == log_rows_before
    assert _count(prod, "SELECT COUNT(*) FROM gapmend_id_map WHERE table_name = 'activity_log'") == 0
    assert list((tmp_path / "gapmend-reports").glob("restore-*.txt"))
    assert list((tmp_path / "gapmend-backups").glob("production-*.sqlite.gz"))


async def test_keys_answer_during_a_large_restore_and_cancel_rolls_back(tmp_path: Path) -> None:
    """While a restore of ~9,000 rows runs in its worker, Escape is handled at once (the
    worker is still running when its effect shows) and the cancel leaves production as it was."""
    from gapmend.screens.messages import StepRequested
    from gapmend.screens.restore import RestoreScreen
    from sqlalchemy import create_engine
    from textual.widgets import RichLog

    from ..dbstate import database_state

    env = build_demo(tmp_path, users=6000)
    _approve_all(env)
    prod = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    before = database_state(prod, journal=False)
    app = GapmendApp(load_settings(env, environ={}), tmp_path, Path(str(env) + ".decisions.json"))
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        app.context.checklist.mark(8, "skipped", "test: production is a throwaway demo")
        app.post_message(StepRequested(11))
        await pilot.pause()
        assert isinstance(app.screen, RestoreScreen)
        screen = app.screen
        await pilot.press("r")
        await pilot.pause()
        log = screen.query_one("#log", RichLog)
        # `pilot.press` waits for the app to go idle, which it is not while a restore floods
        # it with progress; so the keys are posted as the terminal driver posts them, and
        # their effects polled for.
        app.screen.query_one("#typed").value = "production.sqlite"
        app.screen.dismiss(True)          # confirmed as the typed name would (the restore starts)
        while not any(w.group == "restore" for w in app.workers):
            await asyncio.sleep(0.01)
        worker = next(w for w in app.workers if w.group == "restore")
        await asyncio.sleep(0.2)
        assert not worker.is_finished
        sent = time.monotonic()
        app.simulate_key("escape")
        while not any("cancel requested" in str(line.text) for line in log.lines):
            assert time.monotonic() - sent < 2, "the key was not answered within 2 s"
            await asyncio.sleep(0.01)
        answered = time.monotonic() - sent
        assert answered < 1.0                  # generous: CI machines are busy
        await _settle(app, pilot)
        # The handler writes "cancel requested" only while the restore runs, and the restore
        # ended cancelled, not completed: the key was answered in the middle of the work.
        from textual.worker import WorkerState

        assert worker.state == WorkerState.ERROR
        assert any("cancelled: rolled back" in str(line.text) for line in log.lines)
    assert database_state(prod, journal=False) == before
    assert Checklist(tmp_path / "gapmend.steps.json").get(11).state == "pending"


async def test_resolve_one_conflict_row(tmp_path: Path) -> None:
    """Tab to the conflicts list of a table and take Friday's value for that row only."""
    from gapmend.core.databases.journal import encode
    from gapmend.core.plan.decisions import load_decisions

    env = build_demo(tmp_path)
    decisions_path = Path(str(env) + ".decisions.json")
    app = GapmendApp(load_settings(env, environ={}), tmp_path, decisions_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _scanned(app, pilot)
        assert screen.plan is not None
        await pilot.press(*["down"] * screen.plan.order.index("users"))
        await pilot.press("tab")                         # to the users table's conflicts
        assert screen.focused is not None and screen.focused.id == "conflicts"
        await pilot.press("f")
        await pilot.pause()
        conflicts = screen.query_one("#conflicts", DataTable)
        assert conflicts.get_row_at(0)[2] == "Friday's"
    assert load_decisions(decisions_path).take_friday == {"users": [encode([6])]}


async def test_an_estimated_boundary_is_confirmed_on_the_detail_screen(tmp_path: Path) -> None:
    """Without the snapshot, boundaries are estimates: the detail says so, `o` asks (No by
    default) and, confirmed, records the value the restore then accepts (issue 14, item 4)."""
    env = build_demo(tmp_path)
    env.write_text("".join(line + "\n" for line in env.read_text().splitlines()
                           if not line.startswith(("GAPMEND_SNAPSHOT_URL", "GAPMEND_SNAPSHOT_AT"))))
    settings = load_settings(env, environ={})
    decisions_path = Path(str(env) + ".decisions.json")
    app = GapmendApp(settings, tmp_path, decisions_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _scanned(app, pilot)
        assert screen.plan is not None
        estimated = [n for n in screen.plan.order if screen.plan.table(n).boundary.unconfirmed]
        assert estimated
        table = screen.query_one("#gaps", DataTable)
        table.move_cursor(row=screen.plan.order.index(estimated[0]))
        await pilot.pause()
        assert "only estimated: press o" in str(screen.query_one("#detail").render())
        await pilot.press("o")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")                 # No: nothing recorded
        assert not decisions_path.exists() or estimated[0] not in decisions_path.read_text()
        await pilot.press("o", "y")
        await pilot.pause()
        value = screen.plan.table(estimated[0]).boundary.value
        assert f'"{estimated[0]}": {value}' in decisions_path.read_text()
        assert screen.plan.table(estimated[0]).boundary.confidence == "operator"


async def test_unconfigured_steps_say_what_is_missing(tmp_path: Path) -> None:
    """Steps 7 and 9 marked [!] with no message, and step 10's dialog said "Turn add the
    crashed connection…" with a "Run artisan" button (issue 15, item 3). Unconfigured,
    r says which env key to set and leaves the step pending; configured, each changing
    step's dialog names its own action."""
    from gapmend.screens.messages import StepRequested

    env = build_demo(tmp_path)
    app = GapmendApp(load_settings(env, environ={}), tmp_path, Path(str(env) + ".decisions.json"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        for number in (7, 9, 10):
            app.post_message(StepRequested(number))
            await _settle(app, pilot)
            status = str(app.screen.query_one("#app-status", Static).render())
            assert "GAPMEND_APP_PATH" in status and "skip this step (k)" in status, status
            await pilot.press("r")
            await _settle(app, pilot)
            assert isinstance(app.screen, NoticeScreen) and "GAPMEND_APP_PATH" in app.screen.text, app.screen
            await pilot.press("escape")
            assert app.context.checklist.get(number).state == "pending"
    settings = load_settings(env, environ={"GAPMEND_APP_PATH": str(tmp_path)})
    app = GapmendApp(settings, tmp_path, Path(str(env) + ".decisions.json"))
    titles = {7: "Turn maintenance mode on?", 10: "Add the crashed connection?", 12: "Remove the crashed connection?",
              15: "Turn maintenance mode off?"}
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        for number, title in titles.items():
            app.post_message(StepRequested(number))
            await _settle(app, pilot)
            await pilot.press("r")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and app.screen.title_text == title
            assert "Turn add" not in app.screen.detail
            await pilot.press("escape")
            await pilot.pause()


async def test_the_wizard_restores_approved_tables_only(tmp_path: Path) -> None:
    """With every table pending the wizard restored everything while its dialog said
    "approved tables only" (issue 15, item 2): r at step 11 names the pending tables,
    opens no dialog, and production is unchanged."""
    from gapmend.screens.messages import StepRequested
    from sqlalchemy import create_engine

    from ..dbstate import database_state

    env = build_demo(tmp_path)
    prod = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    before = database_state(prod)
    app = GapmendApp(load_settings(env, environ={}), tmp_path, Path(str(env) + ".decisions.json"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _scanned(app, pilot)
        app.context.checklist.mark(8, "skipped", "test: a throwaway demo")
        app.post_message(StepRequested(11))
        await _settle(app, pilot)
        await pilot.press("r")
        await _settle(app, pilot)
        # The refusal stays until dismissed, and the keys typed blind after it stay there
        # (issue 39): the name and a `q` neither quit nor reach the step behind.
        assert isinstance(app.screen, NoticeScreen) and "10 tables are still pending" in app.screen.text
        await pilot.press(*"production.sqlite", "q", "n")
        assert isinstance(app.screen, NoticeScreen) and app.is_running
        await pilot.press("enter")
        assert isinstance(app.screen, StepScreen) and app.screen.step_number == 11
    assert database_state(prod) == before


async def test_the_wizard_refuses_a_restore_production_outran_since_step_1(tmp_path: Path) -> None:
    """Step 11 runs what step 1 showed (issue 17, item 2): production edited a row
    Friday's update was to go into after the scan, so the restore refuses in the log,
    says to scan again, and production is unchanged."""
    from gapmend.screens.messages import StepRequested
    from sqlalchemy import create_engine
    from textual.widgets import RichLog

    from ..dbstate import database_state

    env = build_demo(tmp_path)
    _approve_all(env)
    prod = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    app = GapmendApp(load_settings(env, environ={}), tmp_path, Path(str(env) + ".decisions.json"))
    async with app.run_test(size=(120, 40)) as pilot:
        await _scanned(app, pilot)
        with sqlite3.connect(tmp_path / "production.sqlite") as conn:
            conn.execute("UPDATE users SET name = 'edited after the scan' WHERE id = 2")
        before = database_state(prod)
        app.context.checklist.mark("backup", "skipped", "test: a throwaway demo")
        app.post_message(StepRequested(11))
        await _settle(app, pilot)
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"production.sqlite", "enter")
        await _settle(app, pilot)
        assert isinstance(app.screen, NoticeScreen) and app.screen.title_text == "Restore failed"
        await pilot.press("enter")
        logged = " ".join(" ".join(line.text for line in app.screen.query_one("#log", RichLog).lines).split())
        assert "the plan scanned in step 1 no longer holds (users: Friday's updates to apply 2 → 1" in logged
        assert "run step 1's scan again" in logged
    assert database_state(prod) == before


async def test_the_wizard_takes_a_restore_back_from_step_13(tmp_path: Path) -> None:
    """Issue 19: `u` on the investigate screen runs undo's dry run, shows what it would take
    back, and after the production database's name is typed takes the restore back; the
    restored tag production renamed since stays, and everything else is as
    it was before the restore."""
    from gapmend.core.apply.restore import RestoreOptions, restore
    from gapmend.core.runbook.steps import step
    from gapmend.screens.messages import StepRequested
    from sqlalchemy import create_engine

    from ..dbstate import database_state

    env = build_demo(tmp_path)
    prod = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    pristine = database_state(prod, journal=False)
    settings = load_settings(env, environ={})
    restore(settings, options=RestoreOptions(approve_pending=True))
    edited = _count(tmp_path / "production.sqlite",
                    "SELECT MIN(CAST(substr(new_key, 2, length(new_key) - 2) AS INTEGER)) FROM gapmend_id_map "
                    "WHERE table_name = 'tags' AND action = 'inserted'")
    with sqlite3.connect(tmp_path / "production.sqlite") as conn:
        conn.execute("UPDATE tags SET name = 'edited since the restore' WHERE id = ?", (edited,))
    restored = database_state(prod)
    app = GapmendApp(settings, tmp_path, Path(str(env) + ".decisions.json"))
    log = open_log(tmp_path / "gapmend.log")
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        app.post_message(StepRequested(step("investigate").number))
        await _settle(app, pilot)
        await pilot.press("u")
        await _settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert database_state(prod) == restored          # the dry run changed nothing
        await pilot.press("y", "enter")                  # not the name: still asking
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("backspace", *"production.sqlite", "enter")
        await _settle(app, pilot)
        shown = str(app.screen.query_one("#last-report", Static).render())
        assert "undo of restore" in shown and f"left tags [{edited}]: production changed it" in shown
    close_log(log)
    after = database_state(prod, journal=False)
    assert _count(tmp_path / "production.sqlite", f"SELECT COUNT(*) FROM tags WHERE id = {edited}") == 1
    assert {t: rows for t, rows in after.items() if t != "tags"} == \
        {t: rows for t, rows in pristine.items() if t != "tags"}
    assert len(after["tags"]) == len(pristine["tags"]) + 1
    assert "wizard: undo " in (tmp_path / "gapmend.log").read_text()
    assert list((tmp_path / "gapmend-reports").glob("undo-*.txt"))
