"""Production's triggers on the tables a restore writes: listed, suspended, put back.

A ``BEFORE INSERT`` trigger stamping ``NOW()`` into a date would rewrite every restored
date; an ``AFTER INSERT`` trigger filling a shadow table (Sakila's ``film_text``) would
write a second copy of a row gapmend copies itself, and the restore would fail on a
duplicate key. Friday's rows already hold what Friday's own triggers wrote, shadow rows
included, so the restore writes Friday's rows as they are, and production's triggers on
the tables it writes are **suspended** for it:

1. before the restore's transaction each trigger's definition (``SHOW CREATE TRIGGER``
   on MariaDB, ``sqlite_master`` on SQLite), with its ``sql_mode``, is saved in
   ``gapmend_triggers`` and committed; then the trigger is dropped (DDL commits on MariaDB);
2. after the restore, whichever way it ends (commit, rollback, dry run, Ctrl-C), every
   saved trigger is created again from its definition, in its original order, and its
   row marked ``restored``;
3. a restore killed in between leaves rows marked ``suspended``: the next restore and
   ``gapmend put-back`` create those triggers again first, and ``verify`` fails
   until they are back, or when a restored trigger's definition is not the saved one.

While they are suspended, a write by anything else (the app must be in maintenance mode,
its workers stopped) would not fire them: that is what the operator must know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import URL

from .dialects import dialect_of
from .dialects.own_tables import TABLE_OPTIONS
from .engines import open_engine

TRIGGERS = "gapmend_triggers"
metadata = MetaData()
saved = Table(
    TRIGGERS, metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("trigger_name", String(64), nullable=False),
    Column("action_order", Integer, nullable=False),
    Column("sql_mode", String(512)),
    Column("definition", Text, nullable=False),
    Column("status", String(16), nullable=False),     # suspended | restored
    Column("saved_at", DateTime, nullable=False),
    **TABLE_OPTIONS,
)
ACTION = "suspended during the restore, then created again (Friday's rows already hold what it wrote)"


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    timing: str          # BEFORE | AFTER | INSTEAD OF
    event: str           # INSERT | UPDATE | DELETE
    statement: str       # the body
    definition: str      # the whole CREATE TRIGGER statement
    sql_mode: str | None
    order: int

    @property
    def writes(self) -> str:
        """What the body writes, in a few words: the columns it sets, the tables it fills."""
        body = self.statement
        sets = sorted(set(re.findall(r"\bNEW\.`?(\w+)`?\s*=", body, re.IGNORECASE)))
        tables = sorted(set(re.findall(r"\b(?:INSERT\s+(?:IGNORE\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+`?(\w+)`?",
                                       body, re.IGNORECASE)))
        parts = ([f"sets {', '.join(sets)}"] if sets else []) + ([f"writes {', '.join(tables)}"] if tables else [])
        return "; ".join(parts) or "writes nothing gapmend can name"


def on_tables(conn: Connection, tables: Iterable[str]) -> list[Trigger]:
    """The triggers defined on `tables`, in the order they fire."""
    return _all(conn, set(tables))


def _all(conn: Connection, tables: set[str] | None = None) -> list[Trigger]:
    """Every trigger (or those on `tables`), its definition read only for those."""
    return [Trigger(*row) for row in dialect_of(conn).triggers(conn) if tables is None or row[1] in tables]


def suspend(conn: Connection, run_id: str, triggers: list[Trigger]) -> None:
    """Save each trigger's definition (committed), then drop it. Outside any transaction."""
    if not triggers:
        return
    conn.rollback()
    metadata.create_all(conn)
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    conn.execute(insert(saved), [dict(run_id=run_id, table_name=t.table, trigger_name=t.name, action_order=t.order,
                                      sql_mode=t.sql_mode, definition=t.definition, status="suspended", saved_at=now)
                                 for t in triggers])
    conn.commit()
    q = conn.dialect.identifier_preparer.quote
    # Crashed may be ATTACHed to this connection: name production's own schema.
    schema = dialect_of(conn).own_schema
    for t in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {schema}{q(t.name)}")
        conn.commit()


def resume(conn: Connection) -> list[str]:
    """Create again every trigger a restore suspended and did not put back (this run's,
    or a killed run's), in the order they fired; returns their names. Outside any transaction."""
    conn.rollback()
    if not conn.dialect.has_table(conn, TRIGGERS):
        return []
    pending = conn.execute(select(saved).where(saved.c.status == "suspended")
                           .order_by(saved.c.table_name, saved.c.action_order, saved.c.id)).all()
    conn.rollback()
    present = {t.name for t in _all(conn)}
    conn.rollback()
    for row in pending:
        if row.trigger_name not in present:
            _create(conn, row.definition, row.sql_mode)
        conn.execute(update(saved).where(saved.c.id == row.id).values(status="restored"))
        conn.commit()
    return [row.trigger_name for row in pending]


def suspended(conn: Connection) -> list[tuple[str, list[str], str, datetime]]:
    """Per table, the triggers a restore suspended and nobody put back: (table, trigger
    names, the run that suspended them, when, UTC)."""
    conn.rollback()
    if not conn.dialect.has_table(conn, TRIGGERS):
        return []
    by_table: dict[str, tuple[list[str], str, datetime]] = {}
    for row in conn.execute(select(saved).where(saved.c.status == "suspended")
                            .order_by(saved.c.table_name, saved.c.action_order, saved.c.id)):
        by_table.setdefault(row.table_name, ([], row.run_id, row.saved_at))[0].append(row.trigger_name)
    conn.rollback()
    return [(table, names, run_id, since) for table, (names, run_id, since) in by_table.items()]


def forget(conn: Connection, run_id: str) -> None:
    """A dry run's rows, once its triggers are back: it leaves no table of its own."""
    conn.rollback()
    if not conn.dialect.has_table(conn, TRIGGERS):
        return
    conn.execute(saved.delete().where(saved.c.run_id == run_id, saved.c.status == "restored"))
    left = conn.execute(select(saved.c.id).limit(1)).first()
    conn.commit()
    if left is None:
        metadata.drop_all(conn)
        conn.commit()


def listed(production: URL) -> tuple[list[Trigger], list[str]]:
    """Production's triggers, and verify's lines about the ones a restore suspended."""
    engine = open_engine(production, "production")
    try:
        with engine.connect() as conn:
            return _all(conn), problems(conn)
    finally:
        engine.dispose()


def _create(conn: Connection, definition: str, sql_mode: str | None) -> None:
    """Run a saved CREATE TRIGGER as it was written: through the driver's own cursor, so
    a ``%`` in its body is not taken for a parameter, under the sql_mode it was made in."""
    raw: Any = conn.connection.driver_connection
    cursor = raw.cursor()
    try:
        if sql_mode is not None:
            cursor.execute("SET @gapmend_sql_mode = @@SESSION.sql_mode")
            cursor.execute("SET SESSION sql_mode = %s", (sql_mode,))
        try:
            cursor.execute(definition)
        finally:   # the restore's own statements keep the session's mode, even after a failure
            if sql_mode is not None:
                cursor.execute("SET SESSION sql_mode = @gapmend_sql_mode")
    finally:
        cursor.close()
    conn.commit()


def problems(conn: Connection) -> list[str]:
    """verify's check: no trigger left suspended, and each one put back as it was saved."""
    if not conn.dialect.has_table(conn, TRIGGERS):
        return []
    current = {t.name: t.definition for t in _all(conn)}
    out = []
    latest: dict[str, Any] = {}
    for row in conn.execute(select(saved).order_by(saved.c.id)):
        latest[row.trigger_name] = row
    for name, row in sorted(latest.items()):
        if row.status == "suspended":
            out.append(f"trigger {name} on {row.table_name} is still suspended by a restore that stopped: "
                       "run `gapmend put-back`")
        elif current.get(name) != row.definition:
            out.append(f"trigger {name} on {row.table_name} is not as it was before the restore "
                       f"({'missing' if name not in current else 'its definition differs'})")
    return out
