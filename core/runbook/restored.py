"""What production's journal says the restore already wrote: the wizard asks before it
would run the restore again, so that a second run is never mistaken for a failure."""

from __future__ import annotations

from ..config import Settings
from ..databases import journal
from ..databases.engines import open_engine


def last_restore(settings: Settings) -> journal.Run | None:
    """The newest committed restore that wrote rows into production (read-only)."""
    engine = open_engine(settings.production, "production")
    try:
        with engine.connect() as conn:
            return journal.last_writing_run(conn)
    finally:
        engine.dispose()


def describe(run: journal.Run) -> str:
    """``run b36e0c1a, at 2026-12-07 05:18 UTC (inserted 3, updated 1, deleted 0)``."""
    at = f", at {run.finished_at:%Y-%m-%d %H:%M} UTC" if run.finished_at else ""
    return f"run {run.run_id[:8]}{at}" + (f" ({run.summary})" if run.summary else "")
