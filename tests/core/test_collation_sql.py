"""The conversions of `collation` are part of the statement cache's key: one engine
compiling a comparison in two collations must not reuse the first one's SQL."""

from __future__ import annotations

from gapmend.core.databases.collation import uniform
from gapmend.core.databases.dialects.convert import Convert as _Convert
from gapmend.core.databases.dialects.mariadb import MariaDB
from sqlalchemy import String, column, select
from sqlalchemy.dialects import mysql


def test_two_collations_of_one_column_are_two_statements() -> None:
    c = column("email", String)
    bin_, ci = _Convert(c, "utf8mb4", "utf8mb4_bin"), _Convert(c, "utf8mb4", "utf8mb4_unicode_ci")
    assert bin_._generate_cache_key() != ci._generate_cache_key()
    assert _Convert(c, "utf8mb4", "utf8mb4_bin")._generate_cache_key() == bin_._generate_cache_key()
    sql = [str(select(x).compile(dialect=mysql.dialect())) for x in (bin_, ci, uniform(c), MariaDB().exact(c))]
    assert "COLLATE utf8mb4_bin" in sql[0] and "COLLATE utf8mb4_unicode_ci" in sql[1]
    assert sql[2] == sql[0] and "CAST(CONVERT(email USING utf8mb4) AS BINARY)" in sql[3]
