"""Engines for the three roles, opened so that a mistake cannot damage anything.

- SQLite files open read-only through a `file:...?mode=ro` URI when the caller only
  reads, so a wrong path is an error instead of a new empty database; MariaDB/MySQL
  sessions run in UTC with utf8mb4, read-only when reading (`dialects`).
- Driver errors become `SourceUnavailable` with one line saying what to do.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterable, Iterator

from sqlalchemy import Engine, literal, select, union_all
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from ..errors import SourceUnavailable
from .dialects import WRITER, dialect_of, supported

if TYPE_CHECKING:
    from sqlalchemy import Connection, Select
    from sqlalchemy.sql import Executable, FromClause

__all__ = ["WRITER", "connect", "database_identity", "open_engine", "translate", "unreadable"]


def open_engine(url: URL, role: str, *, readonly: bool = True) -> Engine:
    """An engine for `role`, connected once so that a bad URL fails here, in one line."""
    backend = url.get_backend_name()
    if not supported(backend):
        raise SourceUnavailable(f"{role}: {backend} databases are not supported: use sqlite:/// or mysql+pymysql://")
    try:
        engine = dialect_of(url).open(url, role, readonly)
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
    code, said = explained(exc, url, role)
    return SourceUnavailable(f"{role} ({where}): {said}", code=code)


def explained(exc: DBAPIError, url: URL, role: str) -> tuple[int | None, str]:
    """The driver's error code and the error in words the operator of `role` can act on
    (the dialect's hint, else the driver's first line)."""
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None
    detail = str(orig).splitlines()[0] if orig is not None else str(exc).splitlines()[0]
    said = dialect_of(url).explain(code, detail, orig.args if orig is not None else ()) or detail
    return code, said.replace("{ROLE}", role.upper())


UNREADABLE_BATCH = 100   # tables asked about in one statement


def unreadable(conn: "Connection", tables: "Iterable[FromClause]") -> str | None:
    """Why `conn` may not SELECT from the first of `tables` it cannot read (the server's
    own words), or None when it may read them all. Reads no row: one UNION ALL asks about
    `UNREADABLE_BATCH` tables at once (an app has 60-200), and only a batch that fails is
    asked again table by table, to name the table."""
    listed = list(tables)
    for start in range(0, len(listed), UNREADABLE_BATCH):
        batch = listed[start : start + UNREADABLE_BATCH]
        if _refused(conn, union_all(*(_nothing_from(t) for t in batch))) is None:
            continue
        for table in batch:
            why = _refused(conn, _nothing_from(table))
            if why is not None:
                return f"cannot read {table.fullname} ({why})"  # type: ignore[attr-defined]
    return None


def _nothing_from(table: "FromClause") -> "Select[int]":
    return select(literal(1)).select_from(table).where(literal(1) == 0)


def _refused(conn: "Connection", stmt: "Executable") -> str | None:
    """The server's first line of why `stmt` failed, or None when it ran."""
    try:
        conn.execute(stmt).all()
    except DBAPIError as exc:
        return str(exc.orig).splitlines()[0]
    finally:
        conn.rollback()
    return None


def database_identity(engine: Engine, role: str) -> str | None:
    """What names one database whatever the URL says: the server and the schema on
    MariaDB, the file's device and inode on SQLite (a relative path, a symlink and an
    absolute path to one file are one database); None for an in-memory one."""
    with connect(engine, role) as conn:
        return dialect_of(engine).database_identity(conn)
