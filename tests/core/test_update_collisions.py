"""A Friday update whose unique value production's own rows took since the snapshot.

Friday renamed user 2's e-mail to ``taken@x``; after the restore from the snapshot,
production registered a new user 4 with that e-mail. Writing Friday's update would break
production's unique key (the database refuses, and the whole restore with it), and
overwriting user 4 is not ours to do: the update is skipped and reported, the rest of
Friday's work goes in. A pivot row Friday moved onto a pair production now holds is the
same case on a key of references.
"""

from __future__ import annotations

from typing import Any

from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.runbook.verify import verify
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    insert,
    select,
    update,
)

from ..conftest import Databases

md = MetaData()
USERS = Table("users", md, Column("id", Integer, primary_key=True),
              Column("email", String(60), nullable=False, unique=True), Column("name", String(60)))
TEAMS = Table("teams", md, Column("id", Integer, primary_key=True), Column("name", String(60), nullable=False))
TEAM_USER = Table("team_user", md, Column("id", Integer, primary_key=True),
                  Column("team_id", Integer, ForeignKey("teams.id"), nullable=False),
                  Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
                  UniqueConstraint("team_id", "user_id"))

SNAPSHOT: dict[Table, list[dict[str, Any]]] = {
    USERS: [dict(id=i, email=f"s{i}@x", name=f"user {i}") for i in (1, 2, 3)],
    TEAMS: [dict(id=1, name="red")],
    TEAM_USER: [dict(id=1, team_id=1, user_id=1), dict(id=2, team_id=1, user_id=2)],
}


def _load(engine: Engine, rows: dict[Table, list[dict[str, Any]]]) -> None:
    md.create_all(engine)
    with engine.begin() as conn:
        for table, part in rows.items():
            conn.execute(insert(table), part)


def _users(engine: Engine) -> dict[int, tuple[str, str | None]]:
    with engine.connect() as conn:
        return {r.id: (r.email, r.name) for r in conn.execute(select(USERS))}


def test_an_update_onto_a_unique_value_production_took_is_skipped(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    for role in ("snapshot", "crashed", "production"):
        _load(e[role], SNAPSHOT)
    with e["crashed"].begin() as conn:
        conn.execute(update(USERS).where(USERS.c.id == 2).values(email="taken@x", name="friday's 2"))
        conn.execute(update(USERS).where(USERS.c.id == 3).values(name="friday's 3"))
        conn.execute(update(TEAM_USER).where(TEAM_USER.c.id == 2).values(user_id=3))   # onto (1, 3)
    with e["production"].begin() as conn:
        conn.execute(insert(USERS), [dict(id=4, email="taken@x", name="production's 4")])
        conn.execute(insert(TEAM_USER), [dict(id=3, team_id=1, user_id=3)])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))

    assert _users(e["production"]) == {1: ("s1@x", "user 1"), 2: ("s2@x", "user 2"), 3: ("s3@x", "friday's 3"),
                                       4: ("taken@x", "production's 4")}
    users = report.tables["users"]
    assert users.updated == 1
    assert [(key, why.startswith("update not applied") and "email" in why) for key, why in users.skipped] == [((2,), True)]
    pivot = report.tables["team_user"]
    assert pivot.updated == 0 and [key for key, _ in pivot.skipped] == [(2,)]
    with e["production"].connect() as conn:
        assert sorted(conn.execute(select(TEAM_USER.c.id, TEAM_USER.c.user_id))) == [(1, 1), (2, 2), (3, 3)]
    assert verify(settings)[0] == []
