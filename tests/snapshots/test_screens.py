"""Snapshot tests of the main screens at 80×24 and 120×40, on the demo built at a fixed
path (paths show on screen) with the scan's clock frozen (its time shows too).

Update with `pytest tests/snapshots --snapshot-update` only after looking at the report."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from gapmend.app.wizard import GapmendApp
from gapmend.core import gap
from gapmend.core.config import load_settings
from gapmend.core.demo import build_demo
from gapmend.screens.messages import StepRequested

DEMO = Path(tempfile.gettempdir()) / "gapmend-snapshot-demo"
SIZES = [(80, 24), (120, 40)]


class _FrozenClock:
    @staticmethod
    def monotonic() -> float:
        return 0.0


@pytest.fixture
def demo_app(monkeypatch: pytest.MonkeyPatch) -> GapmendApp:
    shutil.rmtree(DEMO, ignore_errors=True)
    env = build_demo(DEMO)
    monkeypatch.setattr(gap, "time", _FrozenClock)
    return GapmendApp(load_settings(env, environ={}), DEMO, Path(str(env) + ".decisions.json"))


async def _settled(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class TestWizardScreens:
    @pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
    def test_connections(self, snap_compare: Any, demo_app: GapmendApp, size: tuple[int, int]) -> None:
        """The first screen: the checklist and the three connections, tested (passwords never shown)."""
        assert snap_compare(demo_app, terminal_size=size, run_before=_settled)

    @pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
    def test_gap_inspection(self, snap_compare: Any, demo_app: GapmendApp, size: tuple[int, int]) -> None:
        """Step 1: every table's gap, with the detail of the users table (a conflict, a collision)."""
        async def run_before(pilot: Any) -> None:
            await _settled(pilot)
            await pilot.press("n")
            await _settled(pilot)
            await pilot.press("down", "down", "down")
            await _settled(pilot)           # the sample rows load in a worker

        assert snap_compare(demo_app, terminal_size=size, run_before=run_before)

    def test_restore_confirmation(self, snap_compare: Any, demo_app: GapmendApp) -> None:
        """Step 11: the confirmation says what will happen where, focus on No."""
        async def run_before(pilot: Any) -> None:
            await _settled(pilot)
            pilot.app.context.checklist.mark(8, "skipped", "a throwaway demo: no backup needed")
            pilot.app.post_message(StepRequested(11))
            await pilot.pause()
            await pilot.press("r")
            await pilot.pause()

        assert snap_compare(demo_app, terminal_size=(120, 40), run_before=run_before)
