"""What a restore changes in production outside its transaction, and what is left of it.

Three things cannot live inside the restore's transaction, since each is DDL and commits
on MariaDB: the counters (`id_guard`: ``ALTER TABLE … AUTO_INCREMENT``), production's
triggers (`triggers`: ``DROP TRIGGER``) and the work tables of staged rows
(``CREATE TABLE``). Each is recorded in production **before** it is changed (the
counters here, in ``gapmend_counters``; the triggers in ``gapmend_triggers``; the work
tables by their ``gapmend_w`` names) and put back on every way out: commit, rollback,
dry run, Ctrl-C, and a connection the server dropped (the restore connects once more to
put back). What even that cannot put back (the server gone) stays recorded, and every
later command, console and wizard, says so first (`found`) and names `gapmend put-back`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .. import shown
from ..databases import triggers
from ..databases.dialects import LockHeld, dialect_of
from ..databases.dialects.own_tables import TABLE_OPTIONS
from ..databases.engines import WRITER, open_engine
from ..errors import GapmendError
from .work_tables import WORK_PREFIX

COUNTERS = "gapmend_counters"
PUT_BACK = "gapmend put-back"
NOTHING = "nothing to put back: no trigger suspended, no counter moved, no work table left"
metadata = MetaData()
moved = Table(
    COUNTERS, metadata,
    Column("run_id", String(36), primary_key=True),
    Column("table_name", String(64), primary_key=True),
    Column("next_id", BigInteger, nullable=False),   # the counter before the restore moved it
    Column("moved_at", DateTime, nullable=False),
    **TABLE_OPTIONS,
)


@dataclass(frozen=True)
class Leftover:
    """One thing a stopped restore changed outside its transaction and did not put back."""

    what: str                  # "triggers on users are suspended"
    run_id: str | None
    since: datetime | None     # UTC

    def said(self) -> str:
        when = f" since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else ""
        run = f" (run {self.run_id[:8]})" if self.run_id else ""
        return f"{self.what}{when}{run}"

    def line(self) -> str:
        """What every later command says first."""
        return f"production's {self.said()}: run `{PUT_BACK}`"


def record_counters(conn: Connection, run_id: str, before: dict[str, int]) -> None:
    """Keep each counter's value before the restore moves it (committed first)."""
    if not before:
        return
    conn.rollback()
    metadata.create_all(conn)
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    conn.execute(insert(moved), [dict(run_id=run_id, table_name=name, next_id=counter, moved_at=now)
                                 for name, counter in before.items()])
    conn.commit()


def release_counters(conn: Connection, run_id: str | None = None) -> list[str]:
    """Put back the counters recorded by `run_id` (None: by any run), then forget them;
    returns the tables. InnoDB raises a value below a table's highest id to the next free
    one, so after a commit the next insert lands right after the restored rows."""
    conn.rollback()
    if not conn.dialect.has_table(conn, COUNTERS):
        return []
    where = [] if run_id is None else [moved.c.run_id == run_id]
    rows = conn.execute(select(moved.c.run_id, moved.c.table_name, moved.c.next_id).where(*where)).all()
    conn.rollback()
    for run, name, counter in rows:
        if conn.dialect.has_table(conn, name):   # a table dropped since needs no counter
            dialect_of(conn).set_next_id(conn, name, counter)
        conn.execute(delete(moved).where(moved.c.run_id == run, moved.c.table_name == name))
        conn.commit()
    if conn.execute(select(moved.c.run_id).limit(1)).first() is None:
        metadata.drop_all(conn)   # no trace of a restore that put everything back
    conn.commit()
    return sorted({name for _, name, _ in rows})


def work_tables(conn: Connection, run_id: str | None = None) -> list[str]:
    """The work tables in production's database (of `run_id`'s run, or of any)."""
    prefix = WORK_PREFIX + (run_id[:8] + "_" if run_id else "")
    return sorted(n for n in conn.dialect.get_table_names(conn) if n.startswith(prefix))


def drop_work_tables(conn: Connection, run_id: str | None = None) -> list[str]:
    """Drop the work tables `work_tables` finds; returns them."""
    conn.rollback()
    names = work_tables(conn, run_id)
    q = conn.dialect.identifier_preparer.quote
    for name in names:
        conn.execute(text(f"DROP TABLE IF EXISTS {dialect_of(conn).own_schema}{q(name)}"))
        conn.commit()
    return names


def put_back(conn: Connection, run_id: str | None = None) -> list[str]:
    """Everything `found` names (of `run_id`'s run, or of any), put back; returns a
    sentence per kind. Outside any transaction; the caller holds the restore lock."""
    done = []
    created = triggers.resume(conn)
    if created:
        done.append(f"triggers created again: {', '.join(created)}")
    released = release_counters(conn, run_id)
    if released:
        done.append(f"counters put back: {', '.join(released)}")
    dropped = drop_work_tables(conn, run_id)
    if dropped:
        done.append(f"work tables dropped: {len(dropped)}")
    return done


def found(conn: Connection) -> list[Leftover]:
    """What stopped restores left in production (`left_in` asks only while no restore
    runs: a running one's changes are its own work, not leftovers)."""
    out = []
    for table, names, run_id, since in triggers.suspended(conn):
        out.append(Leftover(f"trigger{'s' if len(names) > 1 else ''} {', '.join(names)} on {table} "
                            f"{'are' if len(names) > 1 else 'is'} suspended", run_id, since))
    conn.rollback()
    if conn.dialect.has_table(conn, COUNTERS):
        by_run: dict[str, tuple[list[str], datetime]] = {}
        for run_id, name, at in conn.execute(select(moved.c.run_id, moved.c.table_name, moved.c.moved_at)
                                             .order_by(moved.c.moved_at, moved.c.table_name)):
            by_run.setdefault(run_id, ([], at))[0].append(name)
        for run_id, (names, at) in by_run.items():
            out.append(Leftover(f"id counters of {', '.join(names)} are moved ahead", run_id, at))
        conn.rollback()
    tables = work_tables(conn)
    if tables:
        runs = sorted({n[len(WORK_PREFIX):].split("_")[0] for n in tables})
        named = f"{WORK_PREFIX}{runs[0]}_*" if len(runs) == 1 else f"{WORK_PREFIX}*"
        out.append(Leftover(f"database holds {shown.plural(len(tables), 'work table')} of a stopped restore "
                            f"({named})", None, None))
    return out


def left_in(engine: Engine) -> list[Leftover] | None:
    """`found` in production, on a connection of its own; None while a restore runs
    (what it changed is its own work, not a leftover)."""
    try:
        with dialect_of(engine).restore_lock(engine), engine.connect() as conn:
            return found(conn)
    except LockHeld:
        return None


def left_behind(production: URL) -> list[str]:
    """What every command says first (`Leftover.line`): nothing when production cannot be
    reached or read (the command itself says why, if it needs production)."""
    try:
        engine = open_engine(production, "production")
    except GapmendError:
        return []
    try:
        return [x.line() for x in left_in(engine) or []]
    except (DBAPIError, GapmendError, OSError):
        return []
    finally:
        engine.dispose()


def put_back_in(production: URL) -> list[str]:
    """`put_back` of everything any stopped restore left, holding the restore lock
    (``gapmend put-back``, and the wizard's answer to what it says on opening); refused
    while a restore runs, which puts back what it changed when it ends."""
    engine = open_engine(production, "production", readonly=False)
    try:
        with dialect_of(engine).restore_lock(engine), engine.connect() as conn:
            conn.execution_options(**{WRITER: True})
            return put_back(conn)
    except LockHeld as held:
        raise GapmendError(f"a restore is running on production ({held.where}): it puts back what it changed "
                           "when it ends; put back again if it is killed") from held
    finally:
        engine.dispose()
