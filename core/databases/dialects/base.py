"""What gapmend needs of a database that SQLite and MariaDB/MySQL do differently.

One implementation per kind of database (`sqlite.SQLite`, `mariadb.MariaDB`); the rest
of gapmend asks `dialect_of(engine)` and never the dialect's name. Adding PostgreSQL
means writing one more subclass.
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

from sqlalchemy import Column, Connection, Engine, MetaData, Table
from sqlalchemy.engine import URL
from sqlalchemy.sql.elements import ColumnElement

from ..dumps import DumpProgress

# The longest id a string is read as (a BIGINT holds 18 digits whatever they are).
ID_DIGITS = 18

# Execution option marking the connection a restore writes through (it takes the
# write lock at once where the database has one to take).
WRITER = "gapmend_writer"

# A trigger as the catalogue holds it: name, table, timing, event, body, the whole
# CREATE statement, the sql_mode it was made in (None where there is none), its order.
TriggerRow = tuple[str, str, str, str, str, str, "str | None", int]
# Declared foreign keys (table, constraint, column, referenced table, referenced
# column, in column order) and unique keys (table, index, column) from a catalogue.
ForeignKeyRow = tuple[str, str, str, str, str]
UniqueRow = tuple[str, str, str]
# `update_rows`'s writer: runs one batch statement with its rows (the restore counts them).
Execute = Callable[[Any, list[dict[str, Any]]], None]


def free_in(folder: str) -> tuple[int, str] | None:
    """`Dialect.free_bytes` of a folder this machine sees (None: it may not be read)."""
    try:
        return shutil.disk_usage(folder).free, folder
    except OSError:
        return None


class LockHeld(Exception):
    """The restore lock is held by someone else: `where` says who or what."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


@dataclass(frozen=True)
class Address:
    """How production's connection names another database's tables: a schema name on
    the same server, or a SQLite file ATTACHed under `schema` (`attach_uri`)."""

    schema: str
    attach_uri: str | None = None


@dataclass(frozen=True)
class Description:
    """What the operator is shown to tell the databases apart (`roles`)."""

    server: str
    database: str
    size_bytes: int | None


class Dialect(ABC):
    name: ClassVar[str]
    # Whether a rolled-back transaction gives back the ids it took (SQLite's
    # sqlite_sequence is transactional; InnoDB's AUTO_INCREMENT never goes back).
    counters_transactional: ClassVar[bool]
    # Whether chunk checksums (CRC32 and BIT_XOR, `compare.checksum_ranges`) exist.
    checksums: ClassVar[bool]
    # How a statement on a connection with other databases ATTACHed names its own.
    own_schema: ClassVar[str] = ""
    # Whether independent statements are worth running side by side on connections of
    # their own (a server works on them in parallel; a file in one process does not).
    side_by_side: ClassVar[bool]
    # The file a backup is written to ends so (`take_backup`).
    backup_suffix: ClassVar[str]

    # -- connecting --

    @abstractmethod
    def open(self, url: URL, role: str, readonly: bool) -> Engine:
        """An engine for `role`; `readonly` ones cannot write."""

    @abstractmethod
    def explain(self, code: int | None, detail: str, args: Sequence[Any]) -> str | None:
        """A driver error in words the operator can act on (None: the driver's own)."""

    def server_identity(self, conn: Connection) -> str | None:
        """Equal for two connections to one server (None: every database is its own)."""
        return None

    def short_name(self, url: URL) -> str:
        """The database's name as the operator would say it (typed to confirm a restore)."""
        return url.database or "production"

    @abstractmethod
    def database_identity(self, conn: Connection) -> str | None:
        """What names one database whatever the URL says (None: an in-memory one)."""

    @abstractmethod
    def fingerprint(self, conn: Connection) -> dict[str, str]:
        """What changes whenever the database's rows do, read without reading them (a
        plan's delta is reused only while crashed's and the snapshot's stay equal)."""

    @abstractmethod
    def describe(self, conn: Connection) -> Description: ...

    @abstractmethod
    def locate(self, production: Engine, other: Engine, role: str, alias: str) -> tuple[Address | None, str]:
        """How production's connection can name the tables of `other` (the database of
        `role`; ATTACHed under `alias` where files are), or None and why it cannot."""

    # -- comparing values --

    def attach(self, conn: Connection, schema: str, uri: str | None) -> None:
        """Make the database at `uri` readable on `conn` as `schema` (outside any
        transaction); nothing where `uri` is None: the server sees it already."""
        return None

    def detach(self, conn: Connection, schema: str, uri: str | None) -> None:
        """Undo `attach`."""
        return None

    @abstractmethod
    def exact(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        """`col` compared by exact value: a string's UTF-8 bytes (case, accents and
        trailing spaces count)."""

    def differs(self, x: ColumnElement[Any], y: ColumnElement[Any]) -> ColumnElement[bool]:
        """True when two values differ, NULL counting as a value, strings as bytes."""
        return x.is_not(y)

    @abstractmethod
    def held_id(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        """The id a string column's value spells exactly ('42'; not '042', ' 42' or a
        UUID: `graph.held_id`), as an integer; NULL for any other value. Never casts a
        value that is not one (MariaDB's strict mode makes that an error in a write)."""

    def byte_order(self, col: Column[Any]) -> ColumnElement[Any]:
        """`col` as ORDER BY sorts it by bytes (two keys differing only in case stay apart)."""
        return col

    def row_digest(self, cols: Sequence[ColumnElement[Any]]) -> ColumnElement[Any] | None:
        """One value standing for a row's exact values, where grouping by them would be
        slow (None: group by the values)."""
        return None

    @abstractmethod
    def row_fingerprint(self, cols: Sequence[ColumnElement[Any]]) -> ColumnElement[str]:
        """One string standing for a row's exact values (NULL counting as a value, strings
        as bytes), the same whenever the row is: what `undo` compares a row by."""

    def checksum_text(self, quoted: str, is_string: bool) -> str:
        """`exact` for hand-written SQL (the chunk checksums, where `checksums`)."""
        raise NotImplementedError(f"{self.name} has no chunk checksums")

    def column_collations(self, conn: Connection) -> dict[tuple[str, str], tuple[str, str]]:
        """(table, column) -> (character set, collation) of every string column, where
        the database has them per column."""
        return {}

    # -- reflecting --

    def prepare_reflection(self, metadata: MetaData) -> None:
        """Hooks into SQLAlchemy's reflection before it runs."""

    def catalogue_keys(self, engine: Engine) -> tuple[list[ForeignKeyRow] | None, list[UniqueRow] | None]:
        """Declared foreign keys and unique keys from the catalogue, where SQLAlchemy's
        own reading misses some (None: SQLAlchemy's are right)."""
        return None, None

    def spelled_types(self, engine: Engine) -> dict[tuple[str, str], str]:
        """(table, column) -> the type as the server spells it, for types SQLAlchemy
        has no class for."""
        return {}

    @abstractmethod
    def numbers_itself(self, col: Column[Any]) -> bool:
        """Whether a reflected single integer primary key is numbered by the database."""

    # -- writing --

    @abstractmethod
    def next_id(self, conn: Connection, table: str) -> int | None:
        """The id the table's counter hands out next (None: no counter)."""

    def set_next_id(self, conn: Connection, table: str, value: int) -> None:
        """Move the counter (outside any transaction)."""

    def foreign_key_checks(self, conn: Connection, enabled: bool) -> None:
        """Turn the session's foreign key checks on or off (the restore writes cycles
        with their final ids in one pass and checks references itself)."""

    def copied_options(self, table: Table) -> dict[str, Any]:
        """The options of reflected `table` a copy of it in this database keeps (its
        character set and collation, where the database has them)."""
        return {}

    def create_scratch(self, conn: Connection, metadata: MetaData) -> None:
        """Create `metadata`'s tables, all TEMPORARY: this session's own, gone with it,
        and writable even where the session may write nothing else (the plan's)."""
        metadata.create_all(conn)

    def reopens_temporary(self, conn: Connection) -> bool:
        """Whether one statement may name a TEMPORARY table twice, as the restore's rules
        do: then its work tables may be TEMPORARY."""
        return True

    @abstractmethod
    def drop_scratch(self, conn: Connection, metadata: MetaData) -> None:
        """Drop the TEMPORARY tables `create_scratch` made (never a table of that name
        the database holds)."""

    @abstractmethod
    def update_rows(self, conn: Connection, table: Table, key: Sequence[str], columns: Sequence[str],
                    rows: list[dict[str, Any]], execute: Execute) -> None:
        """Set `columns` of the rows named by `key` from `rows`, without a statement per row."""

    @abstractmethod
    def restore_lock(self, engine: Engine) -> AbstractContextManager[None]:
        """Hold the database's restore lock for the block, or raise `LockHeld`."""

    def packet_limit(self, engine: Engine, code: int | None) -> int | None:
        """The largest statement the server takes, when error `code` says a batch was larger."""
        return None

    def row_bytes(self, conn: Connection, tables: Sequence[str]) -> dict[str, float]:
        """Each table's bytes per row, its indexes included, as the database keeps them
        (estimated where the database keeps statistics); tables it cannot tell are left out."""
        return {}

    def free_bytes(self, conn: Connection) -> tuple[int, str] | None:
        """Bytes free on the filesystem holding the database, and that folder, when this
        machine can see it (None: a server elsewhere, or a folder it may not read)."""
        return None

    def connection_id(self, conn: Connection) -> int | None:
        """The server's id of this connection, for another to ask what it waits on (None: no server)."""
        return None

    def lock_wait(self, conn: Connection, waiter: int) -> str | None:
        """What connection `waiter` waits on, asked on `conn`: the lock's table, the
        connection holding it and what that one is doing, and for how long (None: not waiting)."""
        return None

    @abstractmethod
    def triggers(self, conn: Connection) -> list[TriggerRow]:
        """Every trigger, in the order they fire per table and event."""

    @abstractmethod
    def missing_privileges(self, engine: Engine, role: str, needs: Sequence[str]) -> list[str]:
        """One line per privilege of `needs` the connection lacks, saying how to grant it."""

    # -- the runbook --

    @abstractmethod
    def take_backup(self, url: URL, path: Path, progress: DumpProgress) -> dict[str, int]:
        """Back up `url`'s database into `path` with the database's own tool and prove it
        restores: the proof's row count per table (compared with production's)."""

    def same_kind(self, other: Dialect) -> bool:
        """Whether `other` is this kind of database (types mean the same on both)."""
        return type(self) is type(other)
