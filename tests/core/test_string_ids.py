"""Ids held in string columns: a ``user_id VARCHAR`` no key declares, and a polymorphic
``subject_id VARCHAR(36)`` that holds integer ids for one type and UUIDs for another
(a Laravel app whose models mix both). The first was no edge at all, so Friday's note
kept pointing at id 3, production's user since, and `verify` agreed; the second stopped
the restore with a failed integrity check. Now both are mapped as the integer columns
are, written back as strings, UUIDs left alone, and `verify` catches a mis-link."""

from __future__ import annotations

from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update

from ..conftest import ROLES, Databases
from ..dbstate import database_state

md = MetaData()
users = Table("users", md, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("email", String(50), nullable=False, unique=True))
tokens = Table("tokens", md, Column("id", String(36), primary_key=True), Column("name", String(20)))
notes = Table("notes", md, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("user_id", String(20)), Column("body", String(40)))
roles = Table("roles", md, Column("id", Integer, primary_key=True, autoincrement=True), Column("name", String(20)))
# spatie's pivot, its model id a string for models keyed by UUIDs beside integers: a key
# holding a reference in a string column, journaled with the mapped id quoted.
model_roles = Table("model_has_roles", md, Column("role_id", Integer, primary_key=True),
                    Column("model_type", String(60), primary_key=True), Column("model_id", String(36), primary_key=True))
activity = Table("activity_log", md, Column("id", Integer, primary_key=True, autoincrement=True),
                 Column("subject_type", String(60)), Column("subject_id", String(36)), Column("what", String(40)))
USER, TOKEN = "App\\Models\\User", "App\\Models\\Token"
UUID = "0b9a4c1e-5f7d-4c2b-9a51-2f3e6d7c8b90"

SNAPSHOT = {"users": [dict(id=1, email="a@x"), dict(id=2, email="b@x")], "roles": [dict(id=1, name="admin")],
            "model_has_roles": [dict(role_id=1, model_type=USER, model_id="1")],
            "tokens": [dict(id=UUID, name="api")],
            "notes": [dict(id=1, user_id="1", body="thursday")],
            "activity_log": [dict(id=1, subject_type=USER, subject_id="1", what="thursday"),
                             dict(id=2, subject_type=TOKEN, subject_id=UUID, what="token made")]}
FRIDAY = {"users": [dict(id=3, email="friday@x")],
          "model_has_roles": [dict(role_id=1, model_type=USER, model_id="3"), dict(role_id=1, model_type=TOKEN, model_id=UUID)],
          "notes": [dict(id=2, user_id="3", body="friday's note"), dict(id=3, user_id="2", body="friday on b")],
          "activity_log": [dict(id=3, subject_type=USER, subject_id="3", what="friday user made"),
                           dict(id=4, subject_type=TOKEN, subject_id=UUID, what="token used")]}
PRODUCTION = {"users": [dict(id=3, email="saturday@x")],
              "notes": [dict(id=2, user_id="3", body="saturday's note")],
              "activity_log": [dict(id=3, subject_type=USER, subject_id="3", what="saturday user made")]}


def _load(dbs: Databases) -> None:
    for role in ROLES:
        md.create_all(dbs.engines[role])
        with dbs.engines[role].begin() as conn:
            for part in (SNAPSHOT, FRIDAY if role == "crashed" else PRODUCTION if role == "production" else {}):
                for name, rows in part.items():
                    conn.execute(insert(md.tables[name]), rows)


def test_ids_in_string_columns_are_mapped_and_verified(dbs: Databases, staged: bool) -> None:
    _load(dbs)
    before = database_state(dbs.engines["production"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["users"].moved == [(3, 4)]
    assert report.path.startswith("server-side")
    after = database_state(dbs.engines["production"], journal=False)
    with dbs.engines["production"].connect() as conn:
        by_body = {body: user for user, body in conn.execute(select(notes.c.user_id, notes.c.body))}
        logged = {what: (kind, sid) for kind, sid, what in conn.execute(
            select(activity.c.subject_type, activity.c.subject_id, activity.c.what))}
    assert by_body == {"thursday": "1", "saturday's note": "3", "friday's note": "4", "friday on b": "2"}
    assert logged["friday user made"] == (USER, "4") and logged["saturday user made"] == (USER, "3")
    assert logged["token used"] == (TOKEN, UUID)                    # a UUID is no integer id
    with dbs.engines["production"].connect() as conn:
        assigned = set(conn.execute(select(model_roles.c.model_type, model_roles.c.model_id)))
    assert assigned == {(USER, "1"), (USER, "4"), (TOKEN, UUID)}
    for name in ("users", "tokens"):                               # production's rows as they were
        assert set(before[name]) <= set(after[name])
    assert verify(settings)[0] == []

    # A mis-link, whoever made it: Friday's restored note pointed back at production's user 3.
    with dbs.engines["production"].begin() as conn:
        conn.execute(update(notes).where(notes.c.body == "friday's note").values(user_id="3"))
    problems = verify(settings)[0]
    assert any("notes" in p and "user_id" in p and "'4'" in p for p in problems), problems
