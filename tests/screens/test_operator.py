"""Issue 39, item 1: a wizard that never misleads about what happened to production.
A second restore says it was done already and by which run; `q` during a restore asks
and says what happens to it; ticking off or skipping a step waits for the work, which
records its own outcome; an empty reason skips nothing; step 13 knows the conflicts
the operator decided; the closing summary's title says what is true; and the demo is
not built over a demo's state."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.app.wizard import GapmendApp
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.databases import journal
from gapmend.core.demo import build_demo
from gapmend.core.logfile import close_log, open_log
from gapmend.core.plan.decisions import load_decisions, save_decisions
from gapmend.core.runbook.steps import Checklist
from gapmend.screens.base import StepScreen
from gapmend.screens.dialogs import ConfirmScreen, NoticeScreen, ReasonScreen, SummaryScreen
from gapmend.screens.messages import StepRequested
from gapmend.screens.restore import RestoreScreen
from sqlalchemy import create_engine
from textual.widgets import Static

from ..dbstate import database_state
from ..pilot import scanned_step_one, settle
from .test_wizard import _approve_all


def _app(env: Path, tmp_path: Path) -> GapmendApp:
    return GapmendApp(load_settings(env, environ={}), tmp_path, Path(str(env) + ".decisions.json"))


async def _restore_pressed(app: GapmendApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """Step 1 scanned, step 8 skipped (a throwaway demo), r pressed at step 11."""
    await scanned_step_one(app, pilot)
    app.context.checklist.mark("backup", "skipped", "test: a throwaway demo")
    app.post_message(StepRequested(11))
    await settle(app, pilot)
    await pilot.press("r")
    await settle(app, pilot)


def _said(screen: StepScreen, selector: str) -> str:
    return " ".join(str(screen.query_one(selector, Static).render()).split())


async def test_a_second_restore_says_it_was_done_and_by_which_run(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    _approve_all(env)
    app = _app(env, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _restore_pressed(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"production.sqlite", "enter")
        await settle(app, pilot)
        assert app.context.checklist.get(11).state == "done"
        with create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}").connect() as conn:
            run = journal.last_writing_run(conn)
        assert run is not None
        # Again, from the same scan: no dialog, no failure; what happened, and by which run.
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, RestoreScreen)
        said = _said(app.screen, "#restore-what")
        assert said.startswith(f"Already restored by run {run.run_id[:8]}, at ") and "nothing to do" in said, said
        assert app.context.checklist.get(11).state == "done"

    # A new session, no scan: the restore itself finds nothing left, and says so; step 13
    # shows the run that wrote the rows, not the empty one. (Steps 1-4 ticked off: the
    # wizard opens past step 1, whose scan would otherwise run.)
    checklist = Checklist(tmp_path / "gapmend.steps.json")
    for number in range(1, 5):
        checklist.mark(number, "done")
    app = _app(env, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(11))
        await settle(app, pilot)
        assert isinstance(app.screen, RestoreScreen) and app.context.plan is None
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)   # no scan in this session: the restore looks itself
        await pilot.press(*"production.sqlite", "enter")
        await settle(app, pilot)
        said = _said(app.screen, "#restore-what")
        assert said == f"nothing to do: every Friday row is already restored (by run {run.run_id[:8]}, at " \
                       f"{run.finished_at:%Y-%m-%d %H:%M} UTC ({run.summary}))", said
        assert app.context.checklist.get(11).state == "done"
        app.post_message(StepRequested(13))
        await settle(app, pilot)
        assert f"last restore {run.run_id} at" in _said(app.screen, "#last-report")


async def test_q_during_a_restore_asks_and_the_restore_rolls_back(tmp_path: Path) -> None:
    """While the restore runs, x is refused in a dialog (the keys after it stay there)
    and q asks, saying the restore will be cancelled; yes: it rolls back, the wizard quits
    and the log says so."""
    env = build_demo(tmp_path, users=6000)
    _approve_all(env)
    prod = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    before = database_state(prod, journal=False)
    app = _app(env, tmp_path)
    log = open_log(tmp_path / "gapmend.log")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.context.checklist.mark(8, "skipped", "test: production is a throwaway demo")
        app.post_message(StepRequested(11))
        await pilot.pause()
        await pilot.press("r")
        await _until(lambda: isinstance(app.screen, ConfirmScreen))
        app.screen.query_one("#typed").value = "production.sqlite"
        app.screen.dismiss(True)          # confirmed as the typed name would (the restore starts)
        while not any(w.group == "restore" for w in app.workers):
            await asyncio.sleep(0.01)
        # `pilot.press` waits for an idle app, which a restore flooding it with progress is
        # not: keys are posted as the terminal posts them, their effects polled for.
        app.simulate_key("x")
        await _until(lambda: isinstance(app.screen, NoticeScreen))
        assert app.screen.title_text == "Not now: the restore is running"
        app.simulate_key("enter")
        await _until(lambda: isinstance(app.screen, RestoreScreen))
        app.simulate_key("q")
        await _until(lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.title_text == "Quit while the restore runs?"
        assert "cancels it: production rolls back to as it was" in app.screen.detail
        app.screen.dismiss(True)
        await _until(lambda: app.return_code is not None, seconds=60)
    close_log(log)
    assert database_state(prod, journal=False) == before
    assert Checklist(tmp_path / "gapmend.steps.json").get(11).state == "pending"
    logged = (tmp_path / "gapmend.log").read_text()
    assert "wizard: quit asked while the restore runs" in logged and "restore cancelled, rolled back" in logged


async def _until(condition, seconds: float = 5) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within the time")


async def test_an_empty_reason_skips_nothing(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    app = _app(env, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(7))
        await settle(app, pilot)
        await pilot.press("k", "enter", "n", "r")    # Enter with no reason: the keys after it stay here
        assert isinstance(app.screen, ReasonScreen)
        assert "a reason is needed" in str(app.screen.query_one("#reason-hint", Static).render())
        assert app.context.checklist.get(7).state == "pending"
        await pilot.press("ctrl+u", *"no app here", "enter")
        assert app.context.checklist.get(7).state == "skipped"


async def test_step_13_knows_the_conflicts_the_operator_decided(tmp_path: Path) -> None:
    """The demo's user 6 and setting mail.from were changed on both sides; the operator
    kept production's rows (`p`, recorded as `gapmend resolve users 6 --take production`
    records it)."""
    env = build_demo(tmp_path)
    settings = load_settings(env, environ={})
    assert settings.decisions_path is not None
    decisions = load_decisions(settings.decisions_path)
    decisions.resolve("users", {journal.encode([6])}, "production")
    decisions.resolve("settings", {journal.encode(["mail.from"])}, "production")
    save_decisions(settings.decisions_path, decisions)
    restore(settings, decisions, RestoreOptions(approve_pending=True))
    app = _app(env, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(13))
        await settle(app, pilot)
        text = _said(app.screen, "#last-report")
    assert "conflicts left to decide: 0" in text and "users 6: kept production's (your choice)" in text, text
    assert "settings 'mail.from': kept production's (your choice)" in text


async def test_the_closing_summary_says_what_is_true(tmp_path: Path) -> None:
    env = build_demo(tmp_path)
    app = _app(env, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(15))
        await settle(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert app.screen.title_text == "The run ended with 14 steps not done"
        await pilot.press("e")                 # the id map, for support: written, and named
        await settle(app, pilot)
        said = str(app.screen.query_one("#export", Static).render())
        assert said.startswith("id map: 0 Friday rows in ") and "readable by you only" in said, said


def test_a_demo_is_not_built_over_a_demo(tmp_path: Path) -> None:
    """Built again over its own folder, the demo kept its step file: `steps` said step 11
    was done while verify said nothing was restored. Refused, unless --fresh, which
    forgets the old run's state with the old databases."""
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--dir", str(tmp_path), "--plan"])
    assert first.exit_code == 0, first.output
    Checklist(tmp_path / "gapmend.steps.json").mark(11, "done")
    again = runner.invoke(cli, ["demo", "--dir", str(tmp_path), "--plan"])
    assert again.exit_code != 0
    assert f"holds a demo already: reopen it with `gapmend --env-file {tmp_path / 'demo.env'} wizard`" in again.output
    assert Checklist(tmp_path / "gapmend.steps.json").get(11).state == "done"
    fresh = runner.invoke(cli, ["demo", "--dir", str(tmp_path), "--plan", "--fresh"])
    assert fresh.exit_code == 0, fresh.output
    assert Checklist(tmp_path / "gapmend.steps.json").get(11).state == "pending"


async def test_the_undo_dialog_fits_80_by_24(tmp_path: Path) -> None:
    """Its input and buttons were off-screen: the totals are in the dialog, the detail in
    the pane behind, and a long text scrolls."""
    env = build_demo(tmp_path)
    restore(load_settings(env, environ={}), options=RestoreOptions(approve_pending=True))
    app = _app(env, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(13))
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.title_text == "Take the restore back?"
        visible = app.screen.region
        for widget in ("#typed", "#no", "#yes"):
            region = app.screen.query_one(widget).region
            assert visible.contains_region(region), (widget, region, visible)


async def test_no_room_for_the_report_is_refused_before_the_restore(tmp_path: Path) -> None:
    """Issue 40, item 3, in the wizard: the report's folder is proven before the
    confirmation; where it cannot be made, a dialog says so and nothing runs."""
    env = build_demo(tmp_path)
    _approve_all(env)
    (tmp_path / "gapmend-reports").write_text("a file where the reports folder goes\n")
    prod = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    before = database_state(prod)
    app = _app(env, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _restore_pressed(app, pilot)
        assert isinstance(app.screen, NoticeScreen) and app.screen.title_text == "No room for gapmend's own files"
        assert "cannot write the restore's report" in app.screen.text
    assert database_state(prod) == before


async def test_the_wizard_says_first_what_a_stopped_restore_left(tmp_path: Path) -> None:
    """Issue 40, item 2: a restore killed with production's triggers suspended: the wizard
    opens on what is left, before anything else (as every command does), and puts it back
    on the operator's word, as `gapmend put-back` does."""
    from gapmend.core.databases import triggers

    env = build_demo(tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path / 'production.sqlite'}")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TRIGGER posts_touch AFTER INSERT ON posts BEGIN SELECT 1; END")
        triggers.suspend(conn, "0badc0de-killed-run", triggers.on_tables(conn, ["posts"]))
    app = _app(env, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for _ in range(50):   # asked in a worker
            if isinstance(app.screen, ConfirmScreen):
                break
            await asyncio.sleep(0.05)
        assert isinstance(app.screen, ConfirmScreen), type(app.screen)
        said = " ".join(str(app.screen.query_one(".dialog-detail", Static).render()).split())
        assert said.startswith("production's trigger posts_touch on posts is suspended since ") and \
            "(run 0badc0de): run `gapmend put-back`" in said, said
        await pilot.click("#yes")
        for _ in range(50):
            if isinstance(app.screen, NoticeScreen):
                break
            await asyncio.sleep(0.05)
        assert isinstance(app.screen, NoticeScreen) and app.screen.title_text == "Production is put back", app.screen
        assert app.screen.text == "triggers created again: posts_touch", app.screen.text
    with engine.connect() as conn:
        assert [t.name for t in triggers.on_tables(conn, ["posts"])] == ["posts_touch"]
    engine.dispose()
