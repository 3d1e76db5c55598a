"""Engines for the three roles, opened so that a mistake cannot damage anything.

- SQLite files open read-only through a `file:...?mode=ro` URI when the caller only
  reads, so a wrong path is an error instead of a new empty database.
- MariaDB/MySQL sessions run in UTC (TIMESTAMP values and checksums must not depend on
  the client's time zone) with utf8mb4, and in a read-only transaction mode when reading.
- Driver errors become `SourceUnavailable` with one line saying what to do.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from sqlalchemy import Engine, create_engine, event, literal, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from .errors import SourceUnavailable

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

# MariaDB/MySQL error codes (server and client) and what to tell the operator.
_MYSQL_HINTS = {
    1044: "the user may not use this database: grant it access or fix the user",
    1045: "access denied: check the user and password (GAPMEND_{ROLE}_PASSWORD or the URL)",
    1049: "unknown database: create it or fix the database name in the URL",
    2003: "cannot connect: is the server running, and are the host and port right?",
    2005: "unknown host: fix the host name in the URL",
    2006: "the server went away: check that it is running and retry",
    2013: "lost the connection to the server: check that it is running and retry",
    1205: "another session holds a lock on these rows: stop the writers (maintenance mode, workers) and retry",
    1213: "a deadlock with another session: stop the writers (maintenance mode, workers) and retry",
    1142: "this user may not do that here: grant the privileges `gapmend permissions` lists",
    1062: "a row breaks a unique key: resolve it in the plan (`gapmend plan`, --collisions) or skip the table",
    1927: "the connection was killed (KILL, or the server shutting down): check the server and retry",
}


# Execution option marking the connection a restore writes through (see `_sqlite_engine`).
WRITER = "gapmend_writer"


def is_mysql(engine: Engine) -> bool:
    return engine.dialect.name in ("mysql", "mariadb")


def open_engine(url: URL, role: str, *, readonly: bool = True) -> Engine:
    """An engine for `role`, connected once so that a bad URL fails here, in one line."""
    backend = url.get_backend_name()
    try:
        if backend == "sqlite":
            engine = _sqlite_engine(url, role, readonly)
        elif backend in ("mysql", "mariadb"):
            engine = _mysql_engine(url, readonly)
        else:
            raise SourceUnavailable(f"{role}: {backend} databases are not supported: use sqlite:/// or mysql+pymysql://")
    except NoSuchModuleError:
        raise SourceUnavailable(f"{role}: no driver for {url.drivername}: use mysql+pymysql:// or sqlite:///") from None
    with connect(engine, role):
        pass
    return engine


@contextmanager
def connect(engine: Engine, role: str) -> Iterator["Connection"]:
    """A connection whose driver errors are translated to `SourceUnavailable`."""
    try:
        with engine.connect() as conn:
            yield conn
    except DBAPIError as exc:
        raise translate(exc, role, engine.url) from None


def translate(exc: DBAPIError, role: str, url: URL) -> SourceUnavailable:
    where = url.render_as_string(hide_password=True)
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None
    detail = str(orig).splitlines()[0] if orig is not None else str(exc).splitlines()[0]
    if code in _MYSQL_HINTS:
        hint = _MYSQL_HINTS[code].replace("{ROLE}", role.upper())
        # Which key, which command: the server's own words say it best.
        said = f" ({orig.args[1]})" if code in (1062, 1142) and orig is not None and len(orig.args) > 1 else ""
        return SourceUnavailable(f"{role} ({where}): {hint}{said} [MariaDB error {code}]", code=code)
    if "database is locked" in detail:   # SQLite: another connection holds the write lock
        detail += ": another program is writing to it; stop the writers (maintenance mode, workers, cron) and retry"
    return SourceUnavailable(f"{role} ({where}): {detail}", code=code)


def _sqlite_engine(url: URL, role: str, readonly: bool) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:"):
        raise SourceUnavailable(f"{role}: an in-memory SQLite database has nothing to restore: give a file path")
    path = Path(database)
    if not path.exists():
        raise SourceUnavailable(f"{role}: SQLite file {path} does not exist: fix the path in the URL")
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"

    def creator() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    engine = create_engine(url, creator=creator)
    # pysqlite's own transaction handling defers BEGIN; we want real transactions.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys = OFF")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: "Connection") -> None:
        # The restore's writing connection takes the write lock at once, so another writer
        # (a cron job the operator forgot) cannot commit in the middle of it: it waits or fails.
        immediate = conn.get_execution_options().get(WRITER, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# The gap scan groups the sides' rows of key-less and pivot tables in one GROUP BY, and the
# restore joins work tables: past the server's default in-memory temporary table size
# (16 MB) those spill to disk and run 3x slower (measured: 400,000 pivot rows, 4.3 s against
# 1.3 s). A session setting, allocated only as used; beyond it the server spills as before.
SESSION_TMP_TABLE_BYTES = 256 * 1024 * 1024


def _mysql_engine(url: URL, readonly: bool) -> Engine:
    url = url.update_query_dict({"charset": "utf8mb4"})
    engine = create_engine(url, connect_args={"connect_timeout": 10}, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: object) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute(f"SET SESSION tmp_table_size = {SESSION_TMP_TABLE_BYTES}, "
                        f"max_heap_table_size = {SESSION_TMP_TABLE_BYTES}")
            if readonly:
                # A read-only session: the server itself refuses any write from this engine.
                cur.execute("SET SESSION TRANSACTION READ ONLY")

    return engine


def sqlite_file_uri(engine: Engine) -> str | None:
    """A read-only ``file:`` URI of the SQLite file behind `engine`, for ATTACH; None when
    the database is not a file."""
    raw = engine.raw_connection()
    try:
        row = raw.driver_connection.execute("PRAGMA database_list").fetchone()  # type: ignore[union-attr]
    finally:
        raw.close()
    return f"file:{row[2]}?mode=ro" if row and row[2] else None


def unreadable(conn: "Connection", tables: "Iterable[Table]") -> str | None:
    """Why `conn` may not SELECT from the first of `tables` it cannot read (the server's
    own words), or None when it may read them all. Reads no row."""
    for table in tables:
        try:
            conn.execute(select(literal(1)).select_from(table).where(literal(1) == 0)).all()
        except DBAPIError as exc:
            return f"cannot read {table.fullname} ({str(exc.orig).splitlines()[0]})"
        finally:
            conn.rollback()
    return None


def server_identity(engine: Engine) -> str | None:
    """A string that is equal for two engines on the same server (for same-server fast paths)."""
    if not is_mysql(engine):
        return None
    with engine.connect() as conn:
        ident = conn.execute(text(f"SELECT {_SERVER}")).scalar()
    return str(ident)


_SERVER = "CONCAT(@@hostname, ':', @@port, ':', @@datadir)"   # one MariaDB server, whatever the URL


def database_identity(engine: Engine, role: str) -> str | None:
    """What names one database whatever the URL says: the server and the schema on
    MariaDB, the file's device and inode on SQLite (a relative path, a symlink and an
    absolute path to one file are one database); None for an in-memory one."""
    with connect(engine, role) as conn:
        if is_mysql(engine):
            row = conn.execute(text(f"SELECT {_SERVER}, DATABASE()")).one()
            return f"mysql:{row[0]}:{row[1]}"
        path = conn.exec_driver_sql("PRAGMA database_list").fetchone()
    if not path or not path[2]:
        return None
    st = Path(path[2]).stat()
    return f"sqlite:{st.st_dev}:{st.st_ino}"
