"""Step 9, the database half: do the configured users have the privileges the restore needs?

CRASHED and SNAPSHOT are only read: SELECT. PRODUCTION is written: SELECT, INSERT, UPDATE,
DELETE, plus CREATE (the journal tables) and CREATE TEMPORARY TABLES (the dry run).
MariaDB answers from ``SHOW GRANTS FOR CURRENT_USER()``; for SQLite the question is the
file's (and its folder's, for the journal) read and write permission.
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase
from pathlib import Path

from sqlalchemy import Engine, text

from .db import is_mysql

NEEDS = {
    "production": ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "CREATE TEMPORARY TABLES"),
    "crashed": ("SELECT",),
    "snapshot": ("SELECT",),
}
_GRANT = re.compile(r"^GRANT (.+?) ON (\S+)\.(\S+) TO (.+?)(?: IDENTIFIED BY.*?)?(?: WITH GRANT OPTION)?$")


def missing_privileges(engine: Engine, role: str) -> list[str]:
    """One line per missing privilege, each saying how to grant it."""
    needs = NEEDS[role]
    if not is_mysql(engine):
        return _sqlite(engine, role)
    database = engine.url.database or ""
    with engine.connect() as conn:
        user = conn.execute(text("SELECT CURRENT_USER()")).scalar() or "?"
        grants = [str(r[0]) for r in conn.execute(text("SHOW GRANTS FOR CURRENT_USER()"))]
    have: set[str] = set()
    for grant in grants:
        m = _GRANT.match(grant)
        if m is None:
            continue
        privs, db, _table = m.group(1), m.group(2).strip("`"), m.group(3)
        if db != "*" and not fnmatchcase(database, db.replace("\\_", "_").replace("%", "*")):
            continue
        for p in (x.strip().upper() for x in privs.split(",")):
            have |= set(needs) if p == "ALL PRIVILEGES" or p == "ALL" else {p}
    lacking = [p for p in needs if p not in have]
    if not lacking:
        return []
    name, host = (user.split("@", 1) + ["%"])[:2]
    return [f"{role}: {user} lacks {', '.join(lacking)} on `{database}`: "
            f"GRANT {', '.join(lacking)} ON `{database}`.* TO '{name}'@'{host}';"]


def _sqlite(engine: Engine, role: str) -> list[str]:
    path = Path(engine.url.database or "")
    problems = []
    if not os.access(path, os.R_OK):
        problems.append(f"{role}: cannot read {path}: chmod u+r it or run gapmend as its owner")
    if role == "production":
        if not os.access(path, os.W_OK):
            problems.append(f"{role}: cannot write {path}: chmod u+w it or run gapmend as its owner")
        if not os.access(path.parent, os.W_OK):
            problems.append(f"{role}: cannot create the journal beside {path} (folder not writable)")
    return problems
