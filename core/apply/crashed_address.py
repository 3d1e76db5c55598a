"""Where production's connection finds crashed's tables: ATTACHed (SQLite), another
database on the same server (MariaDB), or nowhere (staged: copied beside production's)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, table

from ..databases.dialects import dialect_of
from ..databases.engines import unreadable as unreadable_tables
from ..databases.schema import Schema

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


def unreadable(engine: Engine, address: CrashedAddress, schema: Schema, tables: list[str]) -> str | None:
    """None when production's connection may read every crashed table in `tables`, else why not."""
    crashed = address.schema
    if crashed is None:   # staged: production reads only its own tables
        return None
    with engine.connect() as conn:
        attach(conn, address)
        try:
            why = unreadable_tables(conn, (table(schema[n].name, schema=crashed) for n in tables))
        finally:
            detach(conn, address)
    return None if why is None else f"production's user {why}"


def attach(conn: Connection, address: CrashedAddress) -> None:
    """ATTACH the crashed SQLite file to `conn` (outside any transaction); nothing on MariaDB."""
    if address.attach_uri is not None:
        conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            f"ATTACH DATABASE ? AS {ATTACHED}", (address.attach_uri,))


def detach(conn: Connection, address: CrashedAddress) -> None:
    if address.attach_uri is not None:
        conn.connection.driver_connection.execute(f"DETACH DATABASE {ATTACHED}")  # type: ignore[union-attr]
