"""MariaDB/MySQL: sessions in UTC and utf8mb4, read-only sessions for the roles only read,
strings compared by their UTF-8 bytes whatever the collation, databases on one server
named across, AUTO_INCREMENT counters outside transactions, a named lock for the restore."""

from __future__ import annotations

import re
from contextlib import contextmanager, suppress
from fnmatch import fnmatchcase
from itertools import count
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    create_engine,
    event,
    func,
    insert,
    not_,
    null,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from ..dumps import DumpProgress
from .base import (
    ID_DIGITS,
    Address,
    Description,
    Dialect,
    Execute,
    ForeignKeyRow,
    LockHeld,
    TriggerRow,
    UniqueRow,
    free_in,
)
from .convert import Convert

# Error codes (server and client) and what to tell the operator; {ROLE} is the role's name.
HINTS = {
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
_QUOTED = (1062, 1142)           # errors whose own words (which key, which command) say it best
_PACKET = (1153, 2006, 2013)     # a statement larger than max_allowed_packet ends like this

# The gap scan groups the sides' rows of key-less and pivot tables in one GROUP BY, and the
# restore joins work tables: past the server's default in-memory temporary table size
# (16 MB) those spill to disk and run 3x slower (measured: 400,000 pivot rows, 4.3 s against
# 1.3 s). A session setting, allocated only as used; beyond it the server spills as before.
SESSION_TMP_TABLE_BYTES = 256 * 1024 * 1024

_SERVER = "CONCAT(@@hostname, ':', @@port, ':', @@datadir)"   # one server, whatever the URL
_GRANT = re.compile(r"^GRANT (.+?) ON (\S+)\.(\S+) TO (.+?)(?: IDENTIFIED BY.*?)?(?: WITH GRANT OPTION)?$")
_names = count(1)


class MariaDB(Dialect):
    name = "mariadb"
    counters_transactional = False
    checksums = True
    side_by_side = True
    backup_suffix = ".sql.gz"

    # -- connecting --

    def open(self, url: URL, role: str, readonly: bool) -> Engine:
        url = url.update_query_dict({"charset": "utf8mb4"})
        engine = create_engine(url, connect_args={"connect_timeout": 10}, pool_pre_ping=True)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: object) -> None:
            with dbapi_conn.cursor() as cur:
                # TIMESTAMP values and checksums must not depend on the client's time zone.
                cur.execute("SET time_zone = '+00:00'")
                cur.execute(f"SET SESSION tmp_table_size = {SESSION_TMP_TABLE_BYTES}, "
                            f"max_heap_table_size = {SESSION_TMP_TABLE_BYTES}")
                if readonly:
                    # A read-only session: the server itself refuses any write from this engine.
                    cur.execute("SET SESSION TRANSACTION READ ONLY")

        return engine

    def explain(self, code: int | None, detail: str, args: Sequence[Any]) -> str | None:
        if code not in HINTS:
            return None
        said = f" ({args[1]})" if code in _QUOTED and len(args) > 1 else ""
        return f"{HINTS[code]}{said} [MariaDB error {code}]"

    def server_identity(self, conn: Connection) -> str | None:
        return str(conn.execute(text(f"SELECT {_SERVER}")).scalar())

    def database_identity(self, conn: Connection) -> str | None:
        row = conn.execute(text(f"SELECT {_SERVER}, DATABASE()")).one()
        return f"mysql:{row[0]}:{row[1]}"

    def fingerprint(self, conn: Connection) -> dict[str, str]:
        # InnoDB stamps UPDATE_TIME on every write (to the second; kept in memory, so a
        # restart empties it: the plan is then made again, never trusted wrongly).
        rows = conn.execute(text("SELECT TABLE_NAME, CREATE_TIME, UPDATE_TIME FROM information_schema.TABLES "
                                 "WHERE TABLE_SCHEMA = DATABASE()"))
        return {str(name): f"{created}|{updated}" for name, created, updated in rows}

    def describe(self, conn: Connection) -> Description:
        url = conn.engine.url
        version = conn.execute(text("SELECT VERSION()")).scalar()
        size = conn.execute(text("SELECT SUM(data_length + index_length) FROM information_schema.tables "
                                 "WHERE table_schema = DATABASE()")).scalar()
        return Description(f"MariaDB/MySQL {version} at {url.host or 'localhost'}:{url.port or 3306}",
                           str(conn.execute(text("SELECT DATABASE()")).scalar()), None if size is None else int(size))

    def locate(self, production: Engine, other: Engine, role: str, alias: str) -> tuple[Address | None, str]:
        if other.dialect.name not in ("mysql", "mariadb"):
            return None, f"{role} and production are different kinds of database"
        with production.connect() as p, other.connect() as o:
            if self.server_identity(p) != self.server_identity(o):
                return None, f"{role} is on another server"
        name = other.url.database
        if not name or name == production.url.database:
            return None, f"{role} has no database name of its own"
        return Address(name), f"{role} is database {name!r} on production's server"

    # -- comparing values --

    def exact(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        # The value's UTF-8 bytes: latin1 'é' equals utf8mb4 'é', 'a' is not 'A' nor 'a '.
        return cast(Convert(col, "utf8mb4"), LargeBinary) if isinstance(col.type, String) else col

    def differs(self, x: ColumnElement[Any], y: ColumnElement[Any]) -> ColumnElement[bool]:
        same: ColumnElement[bool] = self.exact(x).op("<=>", is_comparison=True)(self.exact(y))
        return not_(same)

    def held_id(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((col.regexp_match(f"^[1-9][0-9]{{0,{ID_DIGITS - 1}}}$"), cast(col, BigInteger)), else_=null())

    def byte_order(self, col: Column[Any]) -> ColumnElement[Any]:
        return cast(col, LargeBinary) if isinstance(col.type, String) else col

    def row_digest(self, cols: Sequence[ColumnElement[Any]]) -> ColumnElement[Any] | None:
        # MariaDB groups strings by their collation ('a' = 'A' = 'a '); grouping by the bytes
        # (CAST AS BINARY) is exact but spills the grouping to disk, so rows with strings
        # are grouped by one MD5 of their bytes instead, NULL flags included.
        if not any(isinstance(c.type, String) for c in cols):
            return None
        return self.row_fingerprint(cols)

    def row_fingerprint(self, cols: Sequence[ColumnElement[Any]]) -> ColumnElement[str]:
        return func.md5(func.concat_ws("#", *(self.exact(c) for c in cols), func.concat(*(func.isnull(c) for c in cols))),
                        type_=String)

    def checksum_text(self, quoted: str, is_string: bool) -> str:
        return f"CAST(CONVERT({quoted} USING utf8mb4) AS BINARY)" if is_string else f"CAST({quoted} AS BINARY)"

    def column_collations(self, conn: Connection) -> dict[tuple[str, str], tuple[str, str]]:
        rows = conn.execute(text(
            "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME IS NOT NULL"))
        return {(t, c): (cs, coll) for t, c, cs, coll in rows}

    # -- reflecting --

    def prepare_reflection(self, metadata: MetaData) -> None:
        event.listen(metadata, "column_reflect", _unescape_backticks)

    def catalogue_keys(self, engine: Engine) -> tuple[list[ForeignKeyRow] | None, list[UniqueRow] | None]:
        # SQLAlchemy reads keys from SHOW CREATE TABLE with a parser that skips any constraint
        # naming a column or table with a backtick in it (a warning nobody sees): a missed
        # foreign key would leave a reference unmapped, so the server's catalogue is the source.
        with engine.connect() as conn:
            fks = conn.execute(text(
                "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
                "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() "
                "AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION")).all()
            uniques = conn.execute(text(
                "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX")).all()
        return [tuple(r) for r in fks], [tuple(r) for r in uniques]

    def spelled_types(self, engine: Engine) -> dict[tuple[str, str], str]:
        with engine.connect() as conn:
            return {(t, c): str(spelled).upper() for t, c, spelled in conn.execute(text(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE()"))}

    def numbers_itself(self, col: Column[Any]) -> bool:
        return col.autoincrement is True   # reflected AUTO_INCREMENT

    # -- writing --

    def next_id(self, conn: Connection, table: str) -> int | None:
        counter = conn.execute(text("SELECT AUTO_INCREMENT FROM information_schema.TABLES "
                                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"), {"t": table}).scalar()
        return None if counter is None else int(counter)

    def set_next_id(self, conn: Connection, table: str, value: int) -> None:
        conn.rollback()
        conn.exec_driver_sql(f"ALTER TABLE {conn.dialect.identifier_preparer.quote(table)} AUTO_INCREMENT = {int(value)}")
        conn.commit()

    def foreign_key_checks(self, conn: Connection, enabled: bool) -> None:
        conn.exec_driver_sql(f"SET FOREIGN_KEY_CHECKS = {1 if enabled else 0}")
        conn.commit()

    def copied_options(self, table: Table) -> dict[str, Any]:
        return {k: v for k, v in table.dialect_kwargs.items() if k.startswith(("mysql_", "mariadb_"))}

    def create_scratch(self, conn: Connection, metadata: MetaData) -> None:
        # A READ ONLY session's transactions may write TEMPORARY tables but not create
        # them: this one transaction, which creates nothing else, may.
        conn.exec_driver_sql("SET TRANSACTION READ WRITE")
        metadata.create_all(conn)

    def reopens_temporary(self, conn: Connection) -> bool:
        # MariaDB has since 10.2; MySQL refuses "Can't reopen table" to this day.
        return bool(getattr(conn.dialect, "is_mariadb", False))

    def drop_scratch(self, conn: Connection, metadata: MetaData) -> None:
        conn.exec_driver_sql("SET TRANSACTION READ WRITE")
        for table in reversed(metadata.sorted_tables):
            conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {conn.dialect.identifier_preparer.quote(table.name)}")

    def update_rows(self, conn: Connection, table: Table, key: Sequence[str], columns: Sequence[str],
                    rows: list[dict[str, Any]], execute: Execute) -> None:
        # PyMySQL sends an executemany UPDATE as one statement per row (only INSERT … VALUES
        # is folded into multi-row statements): 9,500 updated posts took 2 s that way. The new
        # values go into a temporary table by multi-row INSERTs, and one UPDATE … JOIN applies them.
        wanted = [c for c in table.c if c.name in key or c.name in columns]
        values = Table(f"gapmend_updates_{next(_names)}", MetaData(), *(Column(c.name, c.type) for c in wanted))
        q = conn.dialect.identifier_preparer.quote
        # Created from the table itself, so every column keeps its exact type and collation
        # (a string key compared across two collations is an error).
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {q(values.name)} AS SELECT {', '.join(q(c.name) for c in wanted)} "
                             f"FROM {q(table.name)} WHERE 1 = 0")
        try:
            execute(insert(values), rows)
            conn.execute(update(table)
                         .where(and_(*(table.c[k] == values.c[k] for k in key)))
                         .values({c: values.c[c] for c in columns}))
        finally:
            # DROP TABLE commits the open transaction; DROP TEMPORARY TABLE does not.
            conn.exec_driver_sql(f"DROP TEMPORARY TABLE {q(values.name)}")

    @contextmanager
    def restore_lock(self, engine: Engine) -> Iterator[None]:
        with engine.connect() as conn:
            name = conn.execute(text("SELECT CONCAT('gapmend-restore:', DATABASE())")).scalar_one()
            if conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar() != 1:
                holder = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar()
                raise LockHeld(f"server connection {holder}")
            try:
                yield
            finally:
                with suppress(DBAPIError):   # a connection the server dropped took its lock with it
                    conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})

    def row_bytes(self, conn: Connection, tables: Sequence[str]) -> dict[str, float]:
        rows = conn.execute(text("SELECT TABLE_NAME, (DATA_LENGTH + INDEX_LENGTH) / TABLE_ROWS FROM "
                                 "information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_ROWS > 0"))
        wanted = set(tables)
        return {str(n): float(b) for n, b in rows if n in wanted and b is not None}

    def free_bytes(self, conn: Connection) -> tuple[int, str] | None:
        if (conn.engine.url.host or "localhost") not in ("localhost", "127.0.0.1", "::1"):
            return None   # another machine's disk: this one cannot see it
        datadir = str(conn.execute(text("SELECT @@datadir")).scalar_one())
        return free_in(datadir)

    def connection_id(self, conn: Connection) -> int | None:
        return int(conn.execute(text("SELECT CONNECTION_ID()")).scalar_one())

    def lock_wait(self, conn: Connection, waiter: int) -> str | None:
        row = conn.execute(text(
            "SELECT TIMESTAMPDIFF(SECOND, w.trx_wait_started, NOW()), l.lock_table, b.trx_mysql_thread_id, "
            "p.USER, p.HOST, p.COMMAND, p.TIME, LEFT(COALESCE(b.trx_query, p.INFO, ''), 80) "
            "FROM information_schema.INNODB_TRX w "
            "JOIN information_schema.INNODB_LOCK_WAITS lw ON lw.requesting_trx_id = w.trx_id "
            "JOIN information_schema.INNODB_LOCKS l ON l.lock_id = lw.requested_lock_id "
            "JOIN information_schema.INNODB_TRX b ON b.trx_id = lw.blocking_trx_id "
            "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = b.trx_mysql_thread_id "
            "WHERE w.trx_mysql_thread_id = :me AND w.trx_state = 'LOCK WAIT' LIMIT 1"), {"me": waiter}).first()
        if row is not None:
            seconds, table, holder, user, host, command, idle, query = row
            doing = f"running {query}" if query else f"{(command or 'idle').lower()} for {idle} s, its transaction open"
            return (f"waiting {seconds} s for a row lock on {table} held by server connection {holder} "
                    f"({user}@{host}, {doing}): commit or end that transaction, or KILL {holder}")
        state = conn.execute(text("SELECT STATE, TIME, DB FROM information_schema.PROCESSLIST WHERE ID = :me"),
                             {"me": waiter}).first()
        if state is None or not state[0] or "lock" not in state[0].lower():
            return None
        # A table's metadata lock: held by a transaction left open on it (the server does
        # not name it without a plugin); the open transactions in the same database are named.
        holders = conn.execute(text(
            "SELECT p.ID, p.USER, p.HOST, p.COMMAND, p.TIME FROM information_schema.INNODB_TRX t "
            "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
            "WHERE p.ID <> :me AND p.DB = :db ORDER BY t.trx_started LIMIT 3"), {"me": waiter, "db": state[2]}).all()
        named = ", ".join(f"server connection {i} ({u}@{h}, {(c or 'idle').lower()} for {t} s)"
                          for i, u, h, c, t in holders)
        return (f"waiting {state[1]} s: {state[0].lower()}"
                + (f", held by a transaction left open: {named}: commit or end it, or KILL {holders[0][0]}"
                   if holders else ": a connection holds the table in an open transaction: end it"))

    def packet_limit(self, engine: Engine, code: int | None) -> int | None:
        if code not in _PACKET:
            return None
        with engine.connect() as fresh:   # the failed connection is gone
            return int(fresh.execute(text("SELECT @@max_allowed_packet")).scalar_one())

    def triggers(self, conn: Connection) -> list[TriggerRow]:
        rows = conn.execute(text(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT, "
            "ACTION_ORDER, SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() "
            "ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER")).all()
        q = conn.dialect.identifier_preparer.quote
        return [(name, table, timing, event_, body, conn.execute(text(f"SHOW CREATE TRIGGER {q(name)}")).one()[2],
                 mode, int(order)) for name, table, timing, event_, body, order, mode in rows]

    def missing_privileges(self, engine: Engine, role: str, needs: Sequence[str]) -> list[str]:
        database = engine.url.database or ""
        with engine.connect() as conn:
            user = conn.execute(text("SELECT CURRENT_USER()")).scalar() or "?"
            grants = [str(r[0]) for r in conn.execute(text("SHOW GRANTS FOR CURRENT_USER()"))]
        have: set[str] = set()
        for grant in grants:
            m = _GRANT.match(grant)
            if m is None:
                continue
            privs, db = m.group(1), m.group(2).strip("`")
            if db != "*" and not fnmatchcase(database, db.replace("\\_", "_").replace("%", "*")):
                continue
            for p in (x.strip().upper() for x in privs.split(",")):
                have |= set(needs) if p in ("ALL PRIVILEGES", "ALL") else {p}
        lacking = [p for p in needs if p not in have]
        if not lacking:
            return []
        name, host = (user.split("@", 1) + ["%"])[:2]
        return [f"{role}: {user} lacks {', '.join(lacking)} on `{database}`: "
                f"GRANT {', '.join(lacking)} ON `{database}`.* TO '{name}'@'{host}';"]

    def take_backup(self, url: URL, path: Path, progress: DumpProgress) -> dict[str, int]:
        from . import mariadb_dump  # the backup's tools load only for a backup, not for every command

        return mariadb_dump.take(url, path, progress)


def _unescape_backticks(_inspector: object, _table: Table, info: dict[str, object]) -> None:
    """SQLAlchemy parses SHOW CREATE TABLE and keeps a column named ``a`b`` as ``a``b``:
    undo the escaping, or every statement would name a column that is not there."""
    name = info["name"]
    if isinstance(name, str) and "``" in name:
        info["name"] = info["key"] = name.replace("``", "`")
