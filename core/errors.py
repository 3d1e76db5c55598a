"""Errors core raises; each carries a one-line message that says what to do.

The CLI prints `message` and exits with code 2; the wizard shows it in a modal.
Core never notifies anyone itself.
"""

from __future__ import annotations


class GapmendError(Exception):
    """Base class: `message` is one line, ends with what the operator should do."""

    title = "gapmend error"

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title


class ConfigError(GapmendError):
    title = "Configuration error"


class SourceUnavailable(GapmendError):
    """A database could not be reached, opened or logged into."""

    title = "Database unavailable"

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class BackupError(GapmendError):
    title = "Backup failed"


class SchemaMismatch(GapmendError):
    title = "Schema differs between the databases"


class ReferenceError_(GapmendError):
    """A reference gapmend cannot resolve (e.g. a polymorphic type naming no table)."""

    title = "Unresolved reference"


class DecisionError(GapmendError):
    """The operator's word refused: it names what crashed's schema does not hold, or is misspelt."""

    title = "Decision refused"


class PlanError(GapmendError):
    title = "Cannot plan"
