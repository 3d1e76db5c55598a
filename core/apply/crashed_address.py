"""Where production's connection finds crashed's tables: ATTACHed (SQLite), another
database on the same server (MariaDB), or nowhere (staged: copied beside production's)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import Connection, Engine, table

from ..databases.dialects import dialect_of
from ..databases.engines import unreadable as unreadable_tables
from ..databases.schema import KeyKind, Schema, reflect

ATTACHED = "gapmend_crashed"


@dataclass(frozen=True)
class CrashedAddress:
    """How production's connection names the crashed database's tables."""

    schema: str | None               # ATTACHED (SQLite) or the crashed database's name (MariaDB); None: STAGED
    attach_uri: str | None = None    # SQLite: the file to ATTACH read-only

    @property
    def staged(self) -> bool:
        """Production's connection cannot name crashed's tables: Friday's rows are first
        copied into staging tables beside production's (see `ServerCopy.open`)."""
        return self.schema is None


STAGED = CrashedAddress(None)


def locate_crashed(production: Engine, crashed: Engine) -> tuple[CrashedAddress | None, str]:
    """Where production's connection finds crashed's tables, or None and why not."""
    address, why = dialect_of(production).locate(production, crashed, "crashed", ATTACHED)
    return (None if address is None else CrashedAddress(address.schema, address.attach_uri)), why


def choose_address(production: Engine, crashed: Engine, schema: Schema, staged: bool) -> tuple[CrashedAddress, str]:
    """Where production's connection reads Friday's rows (crashed's own tables, or
    staging tables filled first, `staged` asks for them anywhere; see `server_copy`),
    and a line saying which and why."""
    address, why = locate_crashed(production, crashed)
    if address is not None and not staged:
        surrogate = [n for n, t in schema.tables.items() if t.key_kind == KeyKind.SURROGATE]
        problem = unreadable(production, address, schema, surrogate)
        if problem is None:
            return address, f"server-side ({why})"
        why = problem
    if staged:
        why = "as asked"
    return STAGED, f"server-side, Friday's rows staged in production's database first ({why})"


def staging_shapes(production: Engine, crashed: Engine, address: CrashedAddress, schema: Schema) -> Schema | None:
    """Production's own tables of `schema` (crashed's), when Friday's rows are staged beside
    them from another kind of database: the staging tables take production's column types
    (crashed's, reflected from SQLite, would not mean the same in MariaDB's CREATE TABLE,
    nor the other way)."""
    if not address.staged or dialect_of(production).same_kind(dialect_of(crashed)):
        return None
    return reflect(production, "production", only=schema.tables)


def unreadable(engine: Engine, address: CrashedAddress, schema: Schema, tables: list[str]) -> str | None:
    """None when production's connection may read every crashed table in `tables`, else why not."""
    crashed = address.schema
    if crashed is None:   # staged: production reads only its own tables
        return None
    with engine.connect() as conn, attached(conn, address):
        why = unreadable_tables(conn, (table(schema[n].name, schema=crashed) for n in tables))
    return None if why is None else f"production's user {why}"


def attach(conn: Connection, address: CrashedAddress) -> None:
    """ATTACH the crashed SQLite file to `conn` (outside any transaction); nothing on MariaDB."""
    dialect_of(conn).attach(conn, ATTACHED, address.attach_uri)


def detach(conn: Connection, address: CrashedAddress) -> None:
    dialect_of(conn).detach(conn, ATTACHED, address.attach_uri)


@contextlib.contextmanager
def attached(conn: Connection, address: CrashedAddress) -> Iterator[None]:
    """Crashed readable on production's connection `conn` for the block (`attach`)."""
    attach(conn, address)
    try:
        yield
    finally:
        conn.rollback()   # DETACH runs outside a transaction, as ATTACH does
        detach(conn, address)
