"""Ids inside JSON values (issue 16, item 2): a Laravel notification's ``data`` names a
thread, a reply and a user (``{"type": "App\\Models\\User", "id": 5}``) that Friday
created and production's own rows now hold the ids of. gapmend shows each path as an
inferred edge; unconfirmed while it holds ids the restore moves, the restore refuses; confirmed,
it rewrites them so that every id names Friday's row, the value staying JSON, and
`verify` catches a payload id that names another row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.errors import ReferenceError_
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select

from ..conftest import Databases

md = MetaData()
users = Table("users", md, Column("id", Integer, primary_key=True), Column("name", String(50)))
threads = Table("threads", md, Column("id", Integer, primary_key=True), Column("user_id", Integer),
                Column("title", String(50)))
replies = Table("replies", md, Column("id", Integer, primary_key=True), Column("thread_id", Integer),
                Column("user_id", Integer), Column("body", String(50)))
notifications = Table("notifications", md, Column("id", String(36), primary_key=True), Column("type", String(100)),
                      Column("notifiable_type", String(100)), Column("notifiable_id", Integer), Column("data", Text))

USER = "App\\Models\\User"
EDGES = ("notifications.data$thread_id->threads", "notifications.data$reply->replies",
         f"notifications.data$replier.id[type={USER}]->users")


def _note(nid: str, thread: int, reply: int, replier: int) -> dict[str, Any]:
    data = {"thread_id": thread, "reply": reply, "replier": {"type": USER, "id": replier}, "title": "New reply"}
    return dict(id=nid, type="App\\Notifications\\ThreadReplied", notifiable_type=USER, notifiable_id=1,
                data=json.dumps(data, separators=(",", ":")))


SNAPSHOT = {
    "users": [dict(id=i, name=f"thursday user {i}") for i in (1, 2, 3)],
    "threads": [dict(id=1, user_id=1, title="thursday thread")],
    "replies": [dict(id=1, thread_id=1, user_id=2, body="thursday reply")],
    "notifications": [_note("n-thu", 1, 1, 2)],
}
FRIDAY = {
    "users": [dict(id=4, name="friday user 4"), dict(id=5, name="friday user 5")],
    "threads": [dict(id=2, user_id=4, title="friday thread")],
    "replies": [dict(id=2, thread_id=2, user_id=5, body="friday reply 2"),
                dict(id=3, thread_id=1, user_id=4, body="friday reply 3")],
    "notifications": [_note("n-fri-1", 2, 2, 5), _note("n-fri-2", 1, 3, 4)],
}
PRODUCTION = {
    "users": [dict(id=4, name="production user 4"), dict(id=5, name="production user 5")],
    "threads": [dict(id=2, user_id=5, title="production thread")],
    "replies": [dict(id=2, thread_id=2, user_id=4, body="production reply")],
    "notifications": [_note("n-prod", 2, 2, 4)],
}


def _load(engine: Any, *parts: dict[str, list[dict[str, Any]]]) -> None:
    md.create_all(engine)
    with engine.begin() as conn:
        for part in parts:
            for name, rows in part.items():
                conn.execute(insert(md.tables[name]), rows)


def _meaning(engine: Any, nid: str) -> tuple[str, str, str]:
    """What notification `nid`'s ids name: the thread's title, the reply's body, the user's name."""
    with engine.connect() as conn:
        data = json.loads(conn.execute(select(notifications.c.data).where(notifications.c.id == nid)).scalar_one())
        title = conn.execute(select(threads.c.title).where(threads.c.id == data["thread_id"])).scalar_one()
        body = conn.execute(select(replies.c.body).where(replies.c.id == data["reply"])).scalar_one()
        name = conn.execute(select(users.c.name).where(users.c.id == data["replier"]["id"])).scalar_one()
    return title, body, name


def _trio(dbs: Databases) -> tuple[Path, Any]:
    """The three databases loaded; the env file and its settings."""
    e = dbs.engines
    _load(e["snapshot"], SNAPSHOT)
    _load(e["crashed"], SNAPSHOT, FRIDAY)
    _load(e["production"], SNAPSHOT, PRODUCTION)
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    return env, load_settings(env, environ={})


def test_ids_inside_json_values(dbs: Databases) -> None:
    e = dbs.engines
    env, settings = _trio(dbs)
    crashed = {nid: _meaning(e["crashed"], nid) for nid in ("n-fri-1", "n-fri-2")}

    plan = build_plan(settings)
    found = {p.id: p for p in plan.payload_edges}
    assert set(EDGES) <= set(found) and not any(found[i].confirmed for i in EDGES), sorted(found)
    assert "thread_id' names table 'threads'" in found[EDGES[0]].evidence
    # The data's own word on each path: how many of its ids find a row in the parent table.
    assert (found[EDGES[1]].sampled, found[EDGES[1]].ids, found[EDGES[1]].ids_found) == (3, 3, 3)

    # Unconfirmed, a path holding ids the restore moves is undecided: the census names
    # it and the restore refuses, a dry run too (issue 38, item 2).
    undecided = {f.id: f for f in plan.id_columns if f.payload is not None}
    assert set(undecided) <= set(EDGES) and undecided, sorted(undecided)
    assert "name Friday-only" in next(iter(undecided.values())).evidence()
    with pytest.raises(ReferenceError_, match="undecided columns can carry ids the restore moves: notifications.data"):
        restore(settings, options=RestoreOptions(approve_pending=True, dry_run=dbs.workdir / "dry.sql"))

    result = CliRunner().invoke(cli, ["--env-file", str(env), "edges", *[a for i in EDGES for a in ("--confirm", i)]])
    assert result.exit_code == 0, result.output
    assert all(f"payload     confirmed   {i}" in result.output for i in EDGES), result.output
    from gapmend.core.plan.decisions import load_decisions

    report = restore(settings, load_decisions(settings.decisions_path), RestoreOptions(approve_pending=True))
    assert report.tables["notifications"].payload_ids >= 4
    for nid, meaning in crashed.items():
        assert _meaning(e["production"], nid) == meaning, nid       # every id names Friday's row
    assert _meaning(e["production"], "n-prod") == ("production thread", "production reply", "production user 4")
    assert _meaning(e["production"], "n-thu") == ("thursday thread", "thursday reply", "thursday user 2")
    with e["production"].connect() as conn:
        raw = conn.execute(select(notifications.c.data).where(notifications.c.id == "n-fri-1")).scalar_one()
    assert ": " not in raw and json.loads(raw)["title"] == "New reply"     # still compact JSON, the rest as it was
    assert verify(settings)[0] == []

    # verify catches a payload id that names another row, whoever changed it.
    with e["production"].begin() as conn:
        data = json.loads(raw)
        data["reply"] = 2                                               # production's reply, not Friday's
        conn.execute(notifications.update().where(notifications.c.id == "n-fri-1").values(data=json.dumps(data)))
    problems = verify(settings)[0]
    assert any("notifications 'n-fri-1': data" in p for p in problems), problems


async def test_the_wizard_confirms_a_tables_inferred_references(tmp_path: Path) -> None:
    """Key e at step 1 confirms the highlighted table's inferred references, the ids
    inside its values among them, as `gapmend edges --confirm` does."""
    from gapmend.app.wizard import GapmendApp
    from gapmend.core.plan.decisions import load_decisions
    from gapmend.screens.dialogs import ConfirmScreen

    from ..conftest import _databases
    from ..pilot import scanned_step_one

    with _databases("sqlite", tmp_path) as dbs:
        _, settings = _trio(dbs)
        app = GapmendApp(settings, tmp_path, settings.decisions_path)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await scanned_step_one(app, pilot)
            await pilot.press(*["down"] * screen.plan.order.index("notifications"), "e")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and all(i in app.screen.detail for i in EDGES)
            await pilot.press("y")
            await pilot.pause()
        confirmed = {d["table"] + "." + d["column"] + "$" for d in load_decisions(settings.decisions_path).payload_edges}
        assert confirmed == {"notifications.data$"} and len(load_decisions(settings.decisions_path).payload_edges) >= 3


def test_a_path_only_fridays_rows_hold_is_found(tmp_path: Path) -> None:
    """Discovery reads the newest rows of an integer-keyed table too: the rows a restore
    writes. A path only the last rows hold (past the first ones sampled) was missed."""
    from gapmend.core.databases.schema import reflect
    from gapmend.core.inspect.payloads import find
    from sqlalchemy import create_engine

    events = Table("events", md, Column("id", Integer, primary_key=True), Column("data", Text))
    engine = create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    try:
        md.create_all(engine, tables=[users, events])
        with engine.begin() as conn:
            conn.execute(insert(users), [dict(id=i, name=f"u{i}") for i in (1, 2)])
            conn.execute(insert(events), [dict(id=i, data=json.dumps({"n": i})) for i in range(1, 1300)]
                         + [dict(id=1300, data=json.dumps({"user_id": 2})), dict(id=1301, data=json.dumps({"user_id": 9}))])
        with engine.connect() as conn:
            found = {c.edge.id: c for c in find(conn, reflect(engine, "crashed"), {})}
    finally:
        md.remove(events)
        engine.dispose()
    c = found["events.data$user_id->users"]
    assert (c.values, sorted(c.ids), c.parents) == (2, [2, 9], 1)


def test_a_stopped_per_table_run_has_its_payload_ids_rewritten_when_resumed(tmp_path: Path) -> None:
    """A ``--per-table`` run commits table by table and rewrites ids inside values last:
    stopped before that step, its notifications kept Friday's ids for good (the resumed
    run rewrote only its own rows). Stopped at every batch, then resumed: every id names
    Friday's row, once (a second rewrite would map an id twice)."""
    from gapmend.core.apply.restore import RestoreError
    from gapmend.core.plan.decisions import load_decisions

    from ..conftest import _databases

    stopped_at = []
    for nth in range(1, 7):
        with _databases("sqlite", tmp_path / str(nth)) as dbs:
            env, settings = _trio(dbs)
            crashed = {nid: _meaning(dbs.engines["crashed"], nid) for nid in ("n-fri-1", "n-fri-2")}
            confirm = [a for i in EDGES for a in ("--confirm", i)]
            assert CliRunner().invoke(cli, ["--env-file", str(env), "edges", *confirm]).exit_code == 0
            decisions = load_decisions(settings.decisions_path)
            try:
                restore(settings, decisions, RestoreOptions(approve_pending=True, per_table=True, fail_after_batches=nth))
            except RestoreError:
                stopped_at.append(nth)
            restore(settings, decisions, RestoreOptions(approve_pending=True, per_table=True))
            again = restore(settings, decisions, RestoreOptions(approve_pending=True, per_table=True))
            assert again.noop
            for nid, meaning in crashed.items():
                assert _meaning(dbs.engines["production"], nid) == meaning, (nth, nid)
            assert verify(settings)[0] == [], nth
    assert len(stopped_at) >= 4, stopped_at   # stops in the tables' writes and in the rewrite itself
