"""Snapshot tests of every screen at 80×24 and 120×40, on the demo built at a fixed
path (paths show on screen) with the scan's clock frozen (its time shows too), the
disk's free space fixed, and the runbook tools pointed at nothing (their messages would
depend on this machine).

Update with `pytest tests/snapshots --snapshot-update` only after looking at the report."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from gapmend.app.wizard import GapmendApp
from gapmend.core.apply import preview
from gapmend.core.config import load_settings
from gapmend.core.databases.dialects.sqlite import SQLite
from gapmend.core.demo import build_demo
from gapmend.core.inspect import gap
from gapmend.core.plan.decisions import Decisions
from gapmend.screens.messages import StepRequested
from textual.widgets import Input

from ..pilot import settle

DEMO = Path(tempfile.gettempdir()) / "gapmend-snapshot-demo"
SIZES = [(80, 24), (120, 40)]
SIZE_IDS = ["80x24", "120x40"]


class _FrozenClock:
    @staticmethod
    def monotonic() -> float:
        return 0.0


@pytest.fixture
def demo_app(monkeypatch: pytest.MonkeyPatch) -> GapmendApp:
    shutil.rmtree(DEMO, ignore_errors=True)
    env = build_demo(DEMO)
    monkeypatch.setattr(gap, "time", _FrozenClock)
    monkeypatch.setattr(preview, "time", _FrozenClock)   # the plan's time includes the restore's decisions
    # Step 11 says how much room production's disk has: this machine's figure, fixed here.
    monkeypatch.setattr(SQLite, "free_bytes", lambda self, conn: (50 << 30, str(DEMO)))
    environ = {"GAPMEND_SUPERVISORCTL": "gapmend-no-supervisorctl"}
    return GapmendApp(load_settings(env, environ=environ), DEMO, Path(str(env) + ".decisions.json"))


async def _settled(pilot: Any) -> None:
    await settle(pilot.app, pilot)
    # A blinking cursor is drawn or not by the clock: shown steadily, every run draws the same.
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False


def _at_step(number: int, *keys: str, scan: bool = True) -> Callable[[Any], Awaitable[None]]:
    """Scan at step 1 (steps 1-4 and the restore check share it) unless `scan` is
    False, then go to `number` and press `keys` there."""
    async def run_before(pilot: Any) -> None:
        await _settled(pilot)
        if scan:
            await pilot.press("n")
            await _settled(pilot)
        if number != 1:
            pilot.app.post_message(StepRequested(number))
            await _settled(pilot)
        for key in keys:
            await pilot.press(key)
            await _settled(pilot)
    return run_before


async def _pending_refused(pilot: Any) -> None:
    """Step 11 with step 8 skipped and every table still pending: refused, naming them."""
    await _at_step(1)(pilot)
    pilot.app.context.checklist.mark(8, "skipped", "a throwaway demo: no backup needed")
    pilot.app.post_message(StepRequested(11))
    await _settled(pilot)
    await pilot.press("r")
    await _settled(pilot)


async def _approved_restore_dialog(pilot: Any) -> None:
    """Step 11 with every table decided (activity_log skipped) and step 8 skipped: the
    typed confirmation, the cursor in its input, what it writes and leaves out."""
    tables = ("settings", "tags", "teams", "users", "posts", "comments", "images", "post_tag", "taggables")
    pilot.app.context.save_decisions(Decisions(tables={"activity_log": "skip", **{t: "approve" for t in tables}}))
    await _at_step(1)(pilot)
    pilot.app.context.checklist.mark(8, "skipped", "a throwaway demo: no backup needed")
    pilot.app.post_message(StepRequested(11))
    await _settled(pilot)
    await pilot.press("r")
    await pilot.pause()


SCREENS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "connections": _settled,
    "step1-gaps": _at_step(1, "down", "down", "down"),   # users: a conflict, a collision
    "step5-dry-run": _at_step(5, scan=False),
    "step6-workers-unavailable": _at_step(6, scan=False),
    "step7-app-not-configured": _at_step(7, "r", scan=False),
    "step8-backup": _at_step(8, scan=False),
    "step11-pending-refused": _pending_refused,
    "step11-confirmation": _approved_restore_dialog,
    "step13-investigate": _at_step(13, scan=False),
    "step1-keys": _at_step(1, "question_mark"),       # ?: every key of the step, and the shared ones
    "step7-skip-reason": _at_step(7, "k", "enter", scan=False),   # an empty reason: asked again, not closed
    "step15-summary": _at_step(15, "x", scan=False),  # the run's end: what is true, the id map offered
}


class TestWizardScreens:
    @pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
    @pytest.mark.parametrize("screen", list(SCREENS))
    def test_screen(self, snap_compare: Any, demo_app: GapmendApp, screen: str, size: tuple[int, int]) -> None:
        assert snap_compare(demo_app, terminal_size=size, run_before=SCREENS[screen])
