"""Unique keys are judged on the row as it will be written (issue 14, item 1).

Three shapes seen on real schemas, each with a unique key holding a reference column:

- ``team_user``: a pivot with a surrogate id and ``UNIQUE(team_id, user_id)`` (Jetstream);
- ``subscriptions``: a UUID key and ``UNIQUE(user_id, subscribable_id, subscribable_type)``
  (a polymorphic pair inside the unique key);
- ``team_member``: a pivot keyed by its two references, whose key is a unique key too;
- ``staff`` ↔ ``stores``: a cycle where ``stores.manager_staff_id`` is unique (Sakila).

Friday's user 4 and production's user 4 are different people: Friday's moves, so
Friday's ``(team 1, user 4)`` is written ``(team 1, user 6)`` and collides with nothing.
Friday's user 6 (``both@x``) is production's user 6 (same e-mail): it is linked, and its
pivot row ``(team 2, user 6)``, equal to production's after the remap, is linked too.
Judged on Friday's raw values, the first kind were "linked" to production's rows and lost.
"""

from __future__ import annotations

from typing import Any

from gapmend.core.apply.preview import build_plan
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
    text,
)

from ..conftest import Databases

md = MetaData()
USERS = Table("users", md, Column("id", Integer, primary_key=True), Column("email", String(60), nullable=False, unique=True))
TEAMS = Table("teams", md, Column("id", Integer, primary_key=True), Column("name", String(60), nullable=False))
TEAM_USER = Table("team_user", md, Column("id", Integer, primary_key=True),
                  Column("team_id", Integer, ForeignKey("teams.id"), nullable=False),
                  Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
                  Column("role", String(20)), UniqueConstraint("team_id", "user_id"))
SUBS = Table("subscriptions", md, Column("id", String(36), primary_key=True),
             Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
             Column("subscribable_type", String(60), nullable=False), Column("subscribable_id", Integer, nullable=False),
             UniqueConstraint("user_id", "subscribable_id", "subscribable_type"))
STAFF = Table("staff", md, Column("id", Integer, primary_key=True), Column("name", String(60), nullable=False),
              Column("store_id", Integer, ForeignKey("stores.id", use_alter=True, name="fk_staff_store")))
STORES = Table("stores", md, Column("id", Integer, primary_key=True), Column("name", String(60), nullable=False),
               Column("manager_staff_id", Integer, ForeignKey("staff.id"), nullable=False, unique=True))
MEMBERS = Table("team_member", md, Column("team_id", Integer, ForeignKey("teams.id"), primary_key=True),
                Column("user_id", Integer, ForeignKey("users.id"), primary_key=True))
TEAM = "App\\Models\\Team"

SNAPSHOT: dict[Table, list[dict[str, Any]]] = {
    USERS: [dict(id=i, email=f"s{i}@x") for i in (1, 2, 3)],
    TEAMS: [dict(id=1, name="red"), dict(id=2, name="blue")],
    TEAM_USER: [dict(id=1, team_id=1, user_id=1, role="owner")],
    MEMBERS: [dict(team_id=1, user_id=1)],
    SUBS: [dict(id="s-1", user_id=1, subscribable_type=TEAM, subscribable_id=1)],
    STAFF: [dict(id=1, name="mike", store_id=1), dict(id=2, name="jon", store_id=2)],
    STORES: [dict(id=1, name="store one", manager_staff_id=1), dict(id=2, name="store two", manager_staff_id=2)],
}
FRIDAY: dict[Table, list[dict[str, Any]]] = {
    USERS: [dict(id=4, email="f4@x"), dict(id=5, email="f5@x"), dict(id=6, email="both@x")],
    TEAM_USER: [dict(id=2, team_id=1, user_id=4, role="f"), dict(id=3, team_id=2, user_id=5, role="f"),
                dict(id=4, team_id=2, user_id=6, role="f"), dict(id=5, team_id=1, user_id=2, role="f")],
    MEMBERS: [dict(team_id=1, user_id=4), dict(team_id=2, user_id=6)],
    SUBS: [dict(id="f-1", user_id=4, subscribable_type=TEAM, subscribable_id=1),
           dict(id="f-2", user_id=5, subscribable_type=TEAM, subscribable_id=2),
           dict(id="f-3", user_id=6, subscribable_type=TEAM, subscribable_id=2)],
    STAFF: [dict(id=3, name="friday staff", store_id=3), dict(id=4, name="friday clerk", store_id=3)],
    STORES: [dict(id=3, name="friday store", manager_staff_id=3)],
}
PRODUCTION: dict[Table, list[dict[str, Any]]] = {
    USERS: [dict(id=4, email="p4@x"), dict(id=5, email="p5@x"), dict(id=6, email="both@x")],
    TEAM_USER: [dict(id=2, team_id=1, user_id=4, role="p"), dict(id=3, team_id=2, user_id=5, role="p"),
                dict(id=4, team_id=2, user_id=6, role="p")],
    MEMBERS: [dict(team_id=1, user_id=4), dict(team_id=2, user_id=6)],
    SUBS: [dict(id="p-1", user_id=4, subscribable_type=TEAM, subscribable_id=1),
           dict(id="p-2", user_id=5, subscribable_type=TEAM, subscribable_id=2),
           dict(id="p-3", user_id=6, subscribable_type=TEAM, subscribable_id=2)],
    STAFF: [dict(id=3, name="prod staff", store_id=3)],
    STORES: [dict(id=3, name="prod store", manager_staff_id=3)],
}


def _load(engine: Engine, *parts: dict[Table, list[dict[str, Any]]]) -> None:
    md.create_all(engine)
    with engine.begin() as conn:
        if engine.dialect.name != "sqlite":
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))   # the staff/stores cycle
        for part in parts:
            for table, rows in part.items():
                conn.execute(insert(table), rows)


def _logical(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every row by what identifies it to a person, references followed to their target."""
    with engine.connect() as conn:
        users = dict(conn.execute(select(USERS.c.id, USERS.c.email)).all())
        teams = dict(conn.execute(select(TEAMS.c.id, TEAMS.c.name)).all())
        staff = {r.id: r for r in conn.execute(select(STAFF))}
        stores = {r.id: r for r in conn.execute(select(STORES))}
        return {
            "users": set((e,) for e in users.values()),
            "team_user": {(teams[r.team_id], users[r.user_id]) for r in conn.execute(select(TEAM_USER))},
            "team_member": {(teams[r.team_id], users[r.user_id]) for r in conn.execute(select(MEMBERS))},
            "subscriptions": {(users[r.user_id], teams[r.subscribable_id]) for r in conn.execute(select(SUBS))},
            "staff": {(s.name, stores[s.store_id].name) for s in staff.values()},
            "stores": {(s.name, staff[s.manager_staff_id].name) for s in stores.values()},
        }


def test_unique_keys_are_judged_after_the_remap(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    _load(e["snapshot"], SNAPSHOT)
    _load(e["crashed"], SNAPSHOT, FRIDAY)
    _load(e["production"], SNAPSHOT, PRODUCTION)
    crashed, before = _logical(e["crashed"]), _logical(e["production"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})

    # The plan reports only the collisions the restore will find: after the remap.
    plan = build_plan(settings)
    collided = {g.table: sorted(c.key for c in g.collisions) for g in plan.tables if g.collisions}
    assert collided == {"users": [(6,)], "team_user": [(4,)], "subscriptions": [("f-3",)], "team_member": [(2, 6)]}

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    after = _logical(e["production"])
    for table in after:
        # Production's rows, and every Friday row by what it means, each exactly once.
        assert after[table] == before[table] | crashed[table], table
    assert sorted(report.tables["team_user"].linked) == [((4,), (4,))]
    assert sorted(report.tables["users"].linked) == [((6,), (6,))]
    assert sorted(report.tables["subscriptions"].linked) == [(("f-3",), ("p-3",))]
    assert sorted(report.tables["team_member"].linked) == [((2, 6), (2, 6))]
    with e["production"].connect() as conn:
        roles = conn.execute(select(TEAM_USER.c.role, TEAM_USER.c.user_id).order_by(TEAM_USER.c.id)).all()
        # Friday's three pivot rows that collide with nothing, under the users' new ids.
        assert sorted(r.user_id for r in roles if r.role == "f") == [2, 7, 8]
        assert conn.execute(select(SUBS.c.id).where(SUBS.c.id.like("f-%")).order_by(SUBS.c.id)).scalars().all() == ["f-1", "f-2"]
    assert verify(settings)[0] == []


def test_a_case_blind_unique_key_is_a_collision_on_every_path(dbs: Databases, staged: bool) -> None:
    """MariaDB's default collations compare ``Case@X`` and ``case@x`` as one value: the
    unique index refuses both, so the plan and every copy path call it a collision
    (judged in Python, a dict lookup missed it and the insert failed). SQLite's BINARY
    collation holds both."""
    e = dbs.engines
    snapshot = {USERS: SNAPSHOT[USERS]}
    _load(e["snapshot"], snapshot)
    _load(e["crashed"], snapshot, {USERS: [dict(id=4, email="Case@X"), dict(id=5, email="Zoë@x ")]})
    _load(e["production"], snapshot, {USERS: [dict(id=4, email="case@x"), dict(id=5, email="other@x")]})
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    blind = dbs.dialect == "mariadb"
    assert [c.key for c in build_plan(settings).table("users").collisions] == ([(4,)] if blind else [])
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["users"].linked == ([((4,), (4,))] if blind else [])
    with e["production"].connect() as conn:
        emails = sorted(conn.execute(select(USERS.c.email)).scalars())
    assert emails == sorted(["s1@x", "s2@x", "s3@x", "case@x", "other@x", "Zoë@x "] + ([] if blind else ["Case@X"]))
    assert verify(settings)[0] == []
