"""A whole database's content as one comparable value (tables → sorted rows)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, MetaData, Table, insert, select


def database_state(engine: Engine, *, journal: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted; `journal=False` leaves gapmend's own tables out."""
    md = MetaData()
    md.reflect(bind=engine, only=lambda name, _md: journal or not name.startswith("gapmend_"))
    state: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(md.tables.items()):
            rows = [tuple(r) for r in conn.execute(select(*table.c))]
            state[name] = sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))
    return state


Rows = Mapping[str, Sequence[Mapping[str, Any]]]


def load_roles(engines: Mapping[str, Engine], md: MetaData, parts: Mapping[str, Sequence[Rows]]) -> None:
    """Create `md`'s tables in each role's database and insert its parts' rows, in order."""
    for role, role_parts in parts.items():
        md.create_all(engines[role])
        with engines[role].begin() as conn:
            for part in role_parts:
                for name, rows in part.items():
                    conn.execute(insert(md.tables[name]), list(rows))


def load_reflected(engine: Engine, *parts: Rows,
                   fill: Callable[[Table, Mapping[str, Any]], Mapping[str, Any]] | None = None) -> None:
    """Insert `parts`' rows into the tables `engine`'s database already has (made by
    artisan, say); `fill` completes a row for its table first."""
    md = MetaData()
    md.reflect(bind=engine)
    with engine.begin() as conn:
        for part in parts:
            for name, rows in part.items():
                table = md.tables[name]
                conn.execute(insert(table), [fill(table, r) if fill else r for r in rows])
