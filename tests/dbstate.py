"""A whole database's content as one comparable value (tables → sorted rows)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Float, Integer, MetaData, String, Table, Text, insert, inspect, select, text


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


def not_null_filled(at: Any) -> Callable[[Table, Mapping[str, Any]], dict[str, Any]]:
    """A `load_reflected` fill: every NOT NULL column a row leaves out and its table gives
    no default, as an app's non-strict connection would store it: text '', numbers 0,
    times `at`."""
    def fill(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for c in table.columns:
            if c.name in out or c.nullable or c.server_default is not None or c.autoincrement is True and c.primary_key:
                continue
            out[c.name] = "" if isinstance(c.type, (String, Text)) else 0 if isinstance(c.type, (Integer, Float)) else at
        return out
    return fill


def copy_database(engine: Engine, source: str) -> None:
    """Every table of `engine`'s MariaDB database holding the rows of database `source`
    on the same server (production as it is after the restore from the snapshot)."""
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for name in inspect(conn).get_table_names():
            conn.execute(text(f"DELETE FROM `{name}`"))
            conn.execute(text(f"INSERT INTO `{name}` SELECT * FROM `{source}`.`{name}`"))
