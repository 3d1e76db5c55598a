"""Messages shared across screens (past tense for facts, "Requested" for asks)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class StepRequested(Message):
    """The operator asked to go to step `number` (0 is the connections screen)."""

    number: int


@dataclass
class StepStateChanged(Message):
    """A step's state was written to the checklist file; the checklist redraws."""

    number: int
