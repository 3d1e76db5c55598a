"""Step 9, the database half: do the configured users have the privileges the restore needs?

CRASHED and SNAPSHOT are only read: SELECT. PRODUCTION is written: SELECT, INSERT, UPDATE,
DELETE, plus CREATE (the journal tables) and CREATE TEMPORARY TABLES (the dry run, and the
plan's preview of what the restore decides, `apply.preview`).
MariaDB answers from ``SHOW GRANTS FOR CURRENT_USER()``; for SQLite the question is the
file's (and its folder's, for the journal) read and write permission.
"""

from __future__ import annotations

from sqlalchemy import Engine

from ..databases.dialects import dialect_of

NEEDS = {
    "production": ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "CREATE TEMPORARY TABLES"),
    "crashed": ("SELECT",),
    "snapshot": ("SELECT",),
}


def missing_privileges(engine: Engine, role: str) -> list[str]:
    """One line per missing privilege, each saying how to grant it."""
    return dialect_of(engine).missing_privileges(engine, role, NEEDS[role])
