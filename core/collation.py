"""Strings compared the same way whatever the collations and character sets.

MariaDB refuses ``=`` between two columns of different collations ("Illegal mix of
collations", both IMPLICIT), and compares the bytes of two character sets differently
(``é`` is one byte in latin1, two in utf8mb4). Laravel creates ``utf8mb4_unicode_ci``,
the server defaults to ``utf8mb4_general_ci``, an old dump may be latin1 or utf8mb3, and
the crashed copy, production and gapmend's own tables may each differ. So every string
gapmend compares goes through one of three spellings here:

- `exact`: the value's UTF-8 bytes, for "did this value change" (case, accents and
  trailing spaces count; latin1 ``é`` equals utf8mb4 ``é``);
- `uniform`: a string in ``utf8mb4_bin`` (an explicit COLLATE wins over any column's):
  gapmend's encoded keys (its journal tables are created in the same collation), and
  values stacked from several databases with a UNION;
- `Collations.as_production`: a crashed value judged as production's own unique index
  judges it (converted to that column's character set, in its collation), for collisions.

SQLite compares text by bytes (its BINARY collation) unless a column says otherwise.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, LargeBinary, String, cast, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

JOURNAL_COLLATION = "utf8mb4_bin"
# Table options for gapmend's own tables: one collation, whatever the database's default.
TABLE_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": JOURNAL_COLLATION}


def _is_mysql(dialect: str) -> bool:
    return dialect in ("mysql", "mariadb")


class _Convert(FunctionElement[Any]):
    """``CONVERT(expr USING charset)`` [``COLLATE collation``] on MariaDB; `expr` elsewhere.
    The character set and collation are part of the statement cache's key: two
    conversions of one column into different collations are different SQL."""

    inherit_cache = True
    _traverse_internals = [*FunctionElement._traverse_internals,
                           ("charset", InternalTraversal.dp_string), ("collation", InternalTraversal.dp_string)]

    def __init__(self, expr: ColumnElement[Any], charset: str, collation: str | None = None) -> None:
        self.charset, self.collation = charset, collation
        super().__init__(expr)
        self.type = expr.type


@compiles(_Convert)
def _convert_default(element: _Convert, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(list(element.clauses)[0], **kw))


@compiles(_Convert, "mysql")
@compiles(_Convert, "mariadb")
def _convert_mysql(element: _Convert, compiler: Any, **kw: Any) -> str:
    out = f"CONVERT({compiler.process(list(element.clauses)[0], **kw)} USING {element.charset})"
    return f"{out} COLLATE {element.collation}" if element.collation else out


def exact(col: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """`col` as something compared by exact value: a string's UTF-8 bytes."""
    if not isinstance(col.type, String):
        return col
    if _is_mysql(dialect):
        return cast(_Convert(col, "utf8mb4"), LargeBinary)
    if dialect == "sqlite":
        return col.collate("BINARY")   # a column declared NOCASE would compare case-blind
    return col


def exact_sql(quoted: str, is_string: bool) -> str:
    """`exact` for hand-written MariaDB SQL (the chunk checksums)."""
    return f"CAST(CONVERT({quoted} USING utf8mb4) AS BINARY)" if is_string else f"CAST({quoted} AS BINARY)"


def uniform(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """A string in one character set and collation, whichever database it comes from:
    the value unchanged, its comparisons by code point."""
    if not isinstance(expr.type, String):
        return expr
    return _Convert(expr, "utf8mb4", JOURNAL_COLLATION)


class Collations:
    """Production's string columns' character sets and collations (MariaDB), read once."""

    def __init__(self, conn: Connection) -> None:
        self.columns: dict[tuple[str, str], tuple[str, str]] = {}
        if _is_mysql(conn.dialect.name):
            rows = conn.execute(text(
                "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME IS NOT NULL"))
            self.columns = {(t, c): (cs, coll) for t, c, cs, coll in rows}

    def as_production(self, table: str, column: str, expr: ColumnElement[Any]) -> ColumnElement[Any]:
        """`expr` (a crashed value) as production's `table.column` compares it."""
        found = self.columns.get((table, column))
        if found is None or not isinstance(expr.type, String):
            return expr
        return _Convert(expr, *found)
