"""Driving the wizard in tests: the steps every Pilot test takes to reach a screen."""

from __future__ import annotations

from typing import Any

from gapmend.screens.inspect_gaps import InspectGapsScreen


async def settle(app: Any, pilot: Any) -> None:
    """Let the screen's workers finish and the messages they post arrive."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def scanned_step_one(app: Any, pilot: Any) -> InspectGapsScreen:
    """From the connections screen to step 1, its scan finished."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.press("n")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, InspectGapsScreen) and screen.plan is not None
    return screen
