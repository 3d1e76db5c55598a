"""A pivot without a primary key (Laravel's `foreignId('post_id'); foreignId('user_id');`
with no `->primary()`), whose Friday row names a user Friday and production both
registered: once the user is linked to production's, Friday's row is production's row,
and it was written a second time beside it. And SQLite's inline column `UNIQUE`, which
SQLAlchemy does not reflect: the plan saw no collision and the restore died on the
unique index."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Mapping

from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, Engine, ForeignKey, Integer, MetaData, String, Table, create_engine, insert

from ..conftest import ROLES, Databases
from ..dbstate import database_state

md = MetaData()
users = Table("users", md, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("email", String(50), nullable=False, unique=True))
posts = Table("posts", md, Column("id", Integer, primary_key=True, autoincrement=True), Column("title", String(20)))
post_user = Table("post_user", md, Column("post_id", Integer, ForeignKey("posts.id"), nullable=False),
                  Column("user_id", Integer, ForeignKey("users.id"), nullable=False))

SNAPSHOT = {"users": [dict(id=1, email="a@x"), dict(id=2, email="b@x")], "posts": [dict(id=1, title="p1")],
            "post_user": [dict(post_id=1, user_id=1)]}
FRIDAY = {"users": [dict(id=3, email="both@x"), dict(id=5, email="friday@x")],
          "post_user": [dict(post_id=1, user_id=3), dict(post_id=1, user_id=5)]}
PRODUCTION = {"users": [dict(id=3, email="saturday@x"), dict(id=4, email="both@x")],
              "post_user": [dict(post_id=1, user_id=4)]}


def _load(engines: Mapping[str, Engine], ddl: MetaData | None) -> None:
    for role in ROLES:
        engine = engines[role]
        if ddl is not None:
            ddl.create_all(engine)
        with engine.begin() as conn:
            for part in (SNAPSHOT, FRIDAY if role == "crashed" else PRODUCTION if role == "production" else {}):
                for name, rows in part.items():
                    conn.execute(insert(md.tables[name]), rows)


def test_a_keyless_pivot_row_meeting_production_is_linked_not_written_twice(dbs: Databases,
                                                                           staged: bool) -> None:
    _load(dbs.engines, md)
    before = database_state(dbs.engines["production"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    plan = build_plan(settings)
    assert [c.key for c in plan.table("post_user").collisions] == [(1, 3)]
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["post_user"].linked == [((1, 3), (1, 4))]
    after = database_state(dbs.engines["production"], journal=False)
    friday = next(i for i, e in after["users"] if e == "friday@x")
    assert after["post_user"] == sorted([*before["post_user"], (1, friday)])   # once each
    assert verify(settings)[0] == []


def test_an_inline_unique_column_of_sqlite_is_a_unique_key(tmp_path: Path) -> None:
    ddl = ("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email VARCHAR(50) NOT NULL UNIQUE);"
           "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, title VARCHAR(20));"
           "CREATE TABLE post_user (post_id INTEGER NOT NULL REFERENCES posts(id), "
           "user_id INTEGER NOT NULL REFERENCES users(id));")
    engines = {}
    for role in ROLES:
        with sqlite3.connect(tmp_path / f"{role}.sqlite") as conn:
            conn.executescript(ddl)
        engines[role] = create_engine(f"sqlite:///{tmp_path / role}.sqlite")
    _load(engines, None)
    env = tmp_path / "test.env"
    env.write_text("".join(f"GAPMEND_{r.upper()}_URL=sqlite:///{tmp_path / r}.sqlite\n" for r in ROLES))
    env.chmod(0o600)
    settings = load_settings(env, environ={})
    assert [c.key for c in build_plan(settings).table("users").collisions] == [(3,)]
    report = restore(settings, options=RestoreOptions(approve_pending=True))
    assert report.tables["users"].linked == [((3,), (4,))]
    assert verify(settings)[0] == []


logs_md = MetaData()
log_users = Table("users", logs_md, Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("email", String(50), nullable=False))
logs = Table("logs", logs_md, Column("user_id", Integer, ForeignKey("users.id")), Column("message", String(20)))


def test_a_row_friday_wrote_twice_and_production_once_is_kept_twice(dbs: Databases, staged: bool) -> None:
    """The whole-row collision above is for a row whose reference was mapped: equal as
    it was, the scan matched it copy by copy, and Friday's second copy is one more row."""
    for role in ROLES:
        logs_md.create_all(dbs.engines[role])
        with dbs.engines[role].begin() as conn:
            conn.execute(insert(log_users), [dict(id=1, email="a@x")])
            conn.execute(insert(logs), [dict(user_id=1, message="thursday")])
            if role == "crashed":
                conn.execute(insert(log_users), [dict(id=2, email="fri@x")])
                conn.execute(insert(logs), [dict(user_id=1, message="hi"), dict(user_id=1, message="hi"),
                                            dict(user_id=2, message="new user"), dict(user_id=None, message="anon")])
            if role == "production":
                conn.execute(insert(log_users), [dict(id=2, email="sat@x")])
                conn.execute(insert(logs), [dict(user_id=1, message="hi"), dict(user_id=2, message="sat user")])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert ("staged" in report.path) == staged
    got = database_state(dbs.engines["production"], journal=False)["logs"]
    assert sorted(got, key=str) == sorted([(1, "thursday"), (1, "hi"), (1, "hi"), (2, "sat user"), (3, "new user"),
                                           (None, "anon")], key=str)
    assert verify(settings)[0] == []
