"""Strings compared the same way whatever the collations and character sets.

MariaDB refuses ``=`` between two columns of different collations ("Illegal mix of
collations", both IMPLICIT), and compares the bytes of two character sets differently
(``é`` is one byte in latin1, two in utf8mb4). Laravel creates ``utf8mb4_unicode_ci``,
the server defaults to ``utf8mb4_general_ci``, an old dump may be latin1 or utf8mb3, and
the crashed copy, production and gapmend's own tables may each differ. So every string
gapmend compares goes through one of three spellings:

- `Dialect.exact` (`dialects`): the value's UTF-8 bytes, for "did this value change" (case, accents and
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

from sqlalchemy import Connection, String
from sqlalchemy.sql.elements import ColumnElement

from .dialects import dialect_of
from .dialects.convert import Convert
from .dialects.own_tables import JOURNAL_COLLATION


def uniform(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """A string in one character set and collation, whichever database it comes from:
    the value unchanged, its comparisons by code point."""
    if not isinstance(expr.type, String):
        return expr
    return Convert(expr, "utf8mb4", JOURNAL_COLLATION)


class Collations:
    """Production's string columns' character sets and collations (MariaDB), read once."""

    def __init__(self, conn: Connection) -> None:
        self.columns = dialect_of(conn).column_collations(conn)

    def as_production(self, table: str, column: str, expr: ColumnElement[Any]) -> ColumnElement[Any]:
        """`expr` (a crashed value) as production's `table.column` compares it."""
        found = self.columns.get((table, column))
        if found is None or not isinstance(expr.type, String):
            return expr
        return Convert(expr, *found)
