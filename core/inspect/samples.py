"""A few whole rows from each side, for the operator to look at (the plan carries keys only)."""

from __future__ import annotations

from typing import Any, Sequence

from ..config import Settings
from ..databases.engines import open_engine
from ..databases.rows import fetch_keys
from ..databases.schema import reflect


def sample_rows(settings: Settings, table: str, crashed_keys: Sequence[tuple[Any, ...]],
                production_keys: Sequence[tuple[Any, ...]]) -> dict[str, list[dict[str, Any]]]:
    """{"crashed": [...], "production": [...]}: the rows with these keys, as dicts. Read-only."""
    out: dict[str, list[dict[str, Any]]] = {}
    for role, url, keys in (("crashed", settings.crashed, crashed_keys), ("production", settings.production, production_keys)):
        engine = open_engine(url, role)
        try:
            schema = reflect(engine, role)
            info = schema.tables.get(table)
            if info is None or not keys:
                out[role] = []
                continue
            with engine.connect() as conn:
                rows = list(fetch_keys(conn, info, info.identity, list(keys)))
            out[role] = [dict(zip(info.column_names, r)) for r in rows]
        finally:
            engine.dispose()
    return out
