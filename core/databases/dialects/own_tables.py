"""How gapmend's own tables (the journal, saved triggers, moved counters) are declared on
every database: one character set and collation where the database has them, whatever
the database's default, and a text column wide enough for a row's image."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text
from sqlalchemy.dialects import mysql

JOURNAL_COLLATION = "utf8mb4_bin"
TABLE_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": JOURNAL_COLLATION}
# A row's image in the journal: TEXT holds 64 KB on MariaDB, a row may hold more.
LONG_TEXT = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
