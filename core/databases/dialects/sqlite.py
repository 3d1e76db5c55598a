"""SQLite: files opened read-only unless written, real transactions, ATTACH for joins
across files, text compared by bytes, and a file lock for the restore."""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    create_engine,
    event,
    func,
    literal,
    not_,
    null,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from ...errors import SourceUnavailable
from ..dumps import DumpProgress
from .base import (
    ID_DIGITS,
    WRITER,
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


class SQLite(Dialect):
    name = "sqlite"
    counters_transactional = True
    checksums = False
    side_by_side = False
    backup_suffix = ".sqlite.gz"
    own_schema = "main."   # crashed may be ATTACHed to the same connection

    def open(self, url: URL, role: str, readonly: bool) -> Engine:
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

        # pysqlite's own transaction handling defers BEGIN; gapmend wants real transactions.
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA foreign_keys = OFF")

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # The restore's writing connection takes the write lock at once, so another writer
            # (a cron job the operator forgot) cannot commit in the middle of it: it waits or fails.
            immediate = conn.get_execution_options().get(WRITER, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def explain(self, code: int | None, detail: str, args: Sequence[Any]) -> str | None:
        if "database is locked" in detail:   # another connection holds the write lock
            return detail + ": another program is writing to it; stop the writers (maintenance mode, workers, cron) and retry"
        return None

    def short_name(self, url: URL) -> str:
        return Path(url.database or "production").name   # the file's name, not its whole path

    def database_identity(self, conn: Connection) -> str | None:
        path = self._file(conn)
        if path is None:
            return None
        st = Path(path).stat()
        return f"sqlite:{st.st_dev}:{st.st_ino}"   # a relative path, a symlink and an absolute one: one file

    def fingerprint(self, conn: Connection) -> dict[str, str]:
        # Any write changes the file's size or its modification time (to the nanosecond);
        # a non-empty write-ahead log beside it holds writes not yet in the file (an
        # empty one comes and goes with readers).
        path = self._file(conn)
        if path is None:
            return {}
        st = os.stat(path)
        out = {"file": f"{st.st_size}:{st.st_mtime_ns}"}
        wal = path + "-wal"
        if os.path.exists(wal) and os.path.getsize(wal) > 0:
            out["wal"] = str(os.path.getsize(wal))
        return out

    def row_bytes(self, conn: Connection, tables: Sequence[str]) -> dict[str, float]:
        try:   # each table's pages and its indexes' (the dbstat table, where SQLite has it)
            pages = conn.exec_driver_sql(
                "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name "
                "WHERE d.schema = 'main' GROUP BY m.tbl_name").all()
        except DBAPIError:
            return {}
        q = conn.dialect.identifier_preparer.quote
        by_table = {str(n): int(b) for n, b in pages}
        out = {}
        for name in tables:
            count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM main.{q(name)}").scalar() if name in by_table else 0
            if count:
                out[name] = by_table[name] / count
        return out

    def free_bytes(self, conn: Connection) -> tuple[int, str] | None:
        path = self._file(conn)
        if path is None:
            return None
        return free_in(os.path.dirname(path) or ".")

    def describe(self, conn: Connection) -> Description:
        database = conn.engine.url.database or ":memory:"
        size = os.path.getsize(database) if database != ":memory:" and os.path.exists(database) else None
        return Description("SQLite file", database, size)

    def locate(self, production: Engine, other: Engine, role: str, alias: str) -> tuple[Address | None, str]:
        if other.dialect.name != self.name:
            return None, f"{role} and production are different kinds of database"
        with other.connect() as conn:
            path = self._file(conn)
        if path is None:
            return None, f"the {role} SQLite database is not a file"
        return Address(alias, f"file:{path}?mode=ro"), f"{role} ATTACHed to production's connection"

    @staticmethod
    def _file(conn: Connection) -> str | None:
        row = conn.exec_driver_sql("PRAGMA database_list").fetchone()
        return str(row[2]) if row and row[2] else None

    def attach(self, conn: Connection, schema: str, uri: str | None) -> None:
        if uri is None:
            return
        try:   # ATTACH must run outside a transaction: on the driver's connection
            conn.connection.driver_connection.execute(f"ATTACH DATABASE ? AS {schema}", (uri,))  # type: ignore[union-attr]
        except sqlite3.OperationalError as exc:
            raise SourceUnavailable(f"cannot read production beside {schema} ({exc}): another program is writing "
                                    "to it; stop the writers (maintenance mode, workers, cron) and retry") from None

    def detach(self, conn: Connection, schema: str, uri: str | None) -> None:
        if uri is not None:
            conn.connection.driver_connection.execute(f"DETACH DATABASE {schema}")  # type: ignore[union-attr]

    def exact(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        # BINARY: a column declared NOCASE would compare case-blind.
        return col.collate("BINARY") if isinstance(col.type, String) else col

    def row_fingerprint(self, cols: Sequence[ColumnElement[Any]]) -> ColumnElement[str]:
        # quote() spells each value as the SQL literal it is (text quoted, blobs as X'…',
        # NULL as NULL): the row's exact values, joined.
        out: ColumnElement[str] = func.quote(cols[0], type_=String)
        for col in cols[1:]:
            out = out + literal(",", String) + func.quote(col, type_=String)
        return out

    def catalogue_keys(self, engine: Engine) -> tuple[list[ForeignKeyRow] | None, list[UniqueRow] | None]:
        # SQLAlchemy reads no column's inline ``UNIQUE`` (SQLite's sqlite_autoindex_*), and
        # takes a partial unique index for a key. Every unique index that holds for every
        # row, from the catalogue:
        uniques: list[UniqueRow] = []
        with engine.connect() as conn:
            tables = [r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                for _seq, index, unique, origin, partial in conn.exec_driver_sql(f"PRAGMA index_list({_quoted(table)})"):
                    if not unique or partial or origin == "pk":
                        continue
                    columns = [name for _n, _cid, name in conn.exec_driver_sql(f"PRAGMA index_info({_quoted(index)})")]
                    if columns and all(columns):   # an index on an expression names no column
                        uniques.extend((table, index, c) for c in columns)
        return None, uniques

    def held_id(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        glob = col.op("GLOB", is_comparison=True)
        digits = and_(glob("[1-9]*"), not_(glob("*[^0-9]*")), func.length(col) <= ID_DIGITS)
        return case((digits, cast(col, BigInteger)), else_=null())

    def numbers_itself(self, col: Column[Any]) -> bool:
        return col.autoincrement is True or col.autoincrement == "auto"   # INTEGER PRIMARY KEY is the rowid

    def next_id(self, conn: Connection, table: str) -> int | None:
        if not conn.dialect.has_table(conn, "sqlite_sequence"):
            return None
        seq = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}).scalar()
        return None if seq is None else int(seq) + 1

    def drop_scratch(self, conn: Connection, metadata: MetaData) -> None:
        for table in reversed(metadata.sorted_tables):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{conn.dialect.identifier_preparer.quote(table.name)}")

    def update_rows(self, conn: Connection, table: Table, key: Sequence[str], columns: Sequence[str],
                    rows: list[dict[str, Any]], execute: Execute) -> None:
        # executemany runs inside the process: no round trip per row to save.
        stmt = (update(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in key))
                .values({c: bindparam(f"v_{c}") for c in columns}))
        execute(stmt, [{**{f"k_{k}": r[k] for k in key}, **{f"v_{c}": r[c] for c in columns}} for r in rows])

    @contextmanager
    def restore_lock(self, engine: Engine) -> Iterator[None]:
        path = Path(f"{engine.url.database}.gapmend-lock")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockHeld(f"lock {path}") from None
            try:
                yield
            finally:
                path.unlink(missing_ok=True)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def triggers(self, conn: Connection) -> list[TriggerRow]:
        out: list[TriggerRow] = []
        for order, (name, table, sql) in enumerate(conn.execute(text(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY tbl_name, name"))):
            m = re.search(r"\b(BEFORE|AFTER|INSTEAD\s+OF)?\s*(INSERT|UPDATE|DELETE)\b", sql, re.IGNORECASE)
            timing = " ".join((m.group(1) or "BEFORE").upper().split()) if m else "?"
            begin = re.search(r"\bBEGIN\b", sql, re.IGNORECASE)
            out.append((name, table, timing, m.group(2).upper() if m else "?", sql[begin.start():] if begin else sql,
                        sql, None, order))
        return out

    def missing_privileges(self, engine: Engine, role: str, needs: Sequence[str]) -> list[str]:
        # The file's permissions (and its folder's, for the journal) are SQLite's grants.
        path = Path(engine.url.database or "")
        problems = []
        if not os.access(path, os.R_OK):
            problems.append(f"{role}: cannot read {path}: chmod u+r it or run gapmend as its owner")
        if "INSERT" in needs:
            if not os.access(path, os.W_OK):
                problems.append(f"{role}: cannot write {path}: chmod u+w it or run gapmend as its owner")
            if not os.access(path.parent, os.W_OK):
                problems.append(f"{role}: cannot create the journal beside {path} (folder not writable)")
        return problems

    def take_backup(self, url: URL, path: Path, progress: DumpProgress) -> dict[str, int]:
        from . import sqlite_copy  # the backup's tools load only for a backup, not for every command

        return sqlite_copy.take(url, path, progress)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
