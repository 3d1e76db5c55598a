"""Every difference between the databases gapmend works on, behind one interface:
`dialect_of(engine)` gives the `Dialect` (`base`) for an engine, a connection or a URL."""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from .base import WRITER, Address, Description, Dialect, LockHeld
from .mariadb import MariaDB
from .sqlite import SQLite

__all__ = ["WRITER", "Address", "Description", "Dialect", "LockHeld", "dialect_of", "supported"]

_BY_NAME: dict[str, Dialect] = {"sqlite": SQLite(), "mysql": MariaDB(), "mariadb": MariaDB()}


def supported(backend: str) -> bool:
    return backend in _BY_NAME


def dialect_of(bind: Engine | Connection | URL) -> Dialect:
    """The dialect of `bind` (SQLAlchemy names MariaDB "mysql" or "mariadb")."""
    name = bind.get_backend_name() if isinstance(bind, URL) else bind.dialect.name
    return _BY_NAME[name]
