"""Driving the wizard in tests: the steps every Pilot test takes to reach a screen."""

from __future__ import annotations

import asyncio
from typing import Any

from gapmend.screens.inspect_gaps import InspectGapsScreen


async def settle(app: Any, pilot: Any) -> None:
    """Let the screen's workers finish and the messages they post arrive. A worker an
    exclusive one replaced ends cancelled, which is how it should end: waited for, not
    raised (`WorkerManager.wait_for_complete` raises it)."""
    await pilot.pause()
    while running := [w for w in app.workers if not w.is_finished]:
        await asyncio.gather(*(w.wait() for w in running), return_exceptions=True)
        await pilot.pause()
    await pilot.pause()


async def scanned_step_one(app: Any, pilot: Any) -> InspectGapsScreen:
    """From the connections screen to step 1, its scan finished."""
    await settle(app, pilot)
    await pilot.press("n")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, InspectGapsScreen) and screen.plan is not None
    return screen
