"""A runbook step the operator carries out by hand (its automation is not built yet):
the screen says what to do and from where, and the operator ticks it off or skips it
with a reason. The state goes to the same file `gapmend steps` reads."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from .base import StepScreen


class ManualStepScreen(StepScreen):
    def compose_body(self) -> ComposeResult:
        state = self.context.checklist.get(self.step_number)
        yield Static(f"state: {state.state}" + (f" at {state.at} by {state.by}" if state.at else "")
                     + (f" — {state.reason}" if state.reason else ""), id="state")
        yield Static("Carry this step out from a shell with the command above, then press x to tick it "
                     "off, or k to skip it with a reason.", classes="hint")
