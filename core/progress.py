"""How core reports progress and learns it should stop, without knowing who listens.

The CLI renders `Progress` as a line on stderr, the wizard as progress bars; tests
record the calls. Core checks the cancel token between chunks, never inside one.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Progress(Protocol):
    def start(self, label: str, total: int | None) -> None:
        """A new phase begins; `total` is in the phase's own units, None if unknown."""

    def advance(self, done: int) -> None:
        """`done` more units of the current phase are finished."""

    def note(self, message: str) -> None:
        """A line worth keeping in the operator's log."""


class NullProgress:
    """Progress that goes nowhere, for callers that do not care."""

    def start(self, label: str, total: int | None) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def note(self, message: str) -> None:
        pass


class Cancelled(Exception):
    """Raised between chunks when the caller's cancel token is set."""


def check_cancel(token: threading.Event | None) -> None:
    if token is not None and token.is_set():
        raise Cancelled("cancelled by the operator")
