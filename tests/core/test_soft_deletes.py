"""Soft deletes (issue 16, item 4), on tables artisan migrated with `softDeletes()`:
Friday's soft delete of a thread is an update, applied; a Friday reply on a thread
production soft-deleted is restored (the thread is still a row; the app hides the reply
with it), and the plan says so; a Friday reply on a thread production deleted outright
is an orphan, left out. On every copy path."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.plan.model import RowClass
from gapmend.core.runbook.verify import verify
from sqlalchemy import MetaData, select

from ..conftest import Databases
from ..dbstate import database_state, load_reflected
from .test_laravel_schemas import AT, _users, laravel_trio  # noqa: F401  (the fixture)

pytestmark = pytest.mark.mariadb
FRIDAY_AT, PROD_AT = datetime(2026, 11, 20, 18, 0), datetime(2026, 11, 21, 9, 0)


def _thread(i: int, user: int, deleted: datetime | None = None) -> dict[str, object]:
    return dict(id=i, user_id=user, title=f"thread {i}", created_at=AT, updated_at=deleted or AT, deleted_at=deleted)


def _reply(i: int, thread: int, user: int, body: str) -> dict[str, object]:
    return dict(id=i, thread_id=thread, user_id=user, body=body, created_at=AT, updated_at=AT, deleted_at=None)


SNAPSHOT = {"users": _users((1, "ann@x"), (2, "bob@x"), (3, "cy@x")),
            "threads": [_thread(1, 1), _thread(2, 2), _thread(3, 3)],
            "replies": [_reply(1, 1, 2, "thursday")]}


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_soft_deletes(laravel_trio: Databases, staged: bool) -> None:  # noqa: F811
    e = laravel_trio.engines
    friday = {"users": _users((4, "friday-4@x")),
              "replies": [_reply(2, 2, 4, "on a thread production soft-deleted"),
                          _reply(3, 3, 4, "on a thread production deleted"), _reply(4, 1, 4, "on thread 1")]}
    load_reflected(e["snapshot"], SNAPSHOT)
    load_reflected(e["crashed"], {**SNAPSHOT, "threads": [_thread(1, 1, FRIDAY_AT), _thread(2, 2), _thread(3, 3)]}, friday)
    load_reflected(e["production"], {**SNAPSHOT, "threads": [_thread(1, 1), _thread(2, 2, PROD_AT)]},
          {"users": _users((4, "prod-4@x"))})
    env = laravel_trio.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})

    plan = build_plan(settings)
    threads, replies = plan.table("threads"), plan.table("replies")
    assert threads.soft_deletes == 1 and threads.count(RowClass.FRIDAY_UPDATE) == 1
    assert replies.soft_deleted_parents == {"replies.thread_id->threads.id": 1}
    assert [(o.key, o.parent_key) for o in replies.orphans] == [((3,), 3)]
    text = CliRunner().invoke(cli, ["--env-file", str(env), "plan"]).output
    assert "threads: 1 Friday update is a soft delete (deleted_at set), applied as updates" in text
    assert "replies: 1 Friday row references a threads row production soft-deleted" in text

    before = database_state(e["production"])
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["threads"].updated == 1 and report.tables["replies"].inserted == 2
    assert [why for _, why in report.tables["replies"].skipped] == ["thread_id=3: parent deleted by production"]
    md = MetaData()
    md.reflect(bind=e["production"], only=["threads", "replies", "users"])
    t = md.tables
    with e["production"].connect() as conn:
        deleted = dict(conn.execute(select(t["threads"].c.id, t["threads"].c.deleted_at)).all())
        restored = {body: (thread, deleted_at) for body, thread, deleted_at in conn.execute(
            select(t["replies"].c.body, t["replies"].c.thread_id, t["replies"].c.deleted_at))}
    assert deleted == {1: FRIDAY_AT, 2: PROD_AT}                 # Friday's soft delete, production's kept
    assert restored == {"thursday": (1, None), "on a thread production soft-deleted": (2, None),
                        "on thread 1": (1, None)}               # the orphan stays out
    after = database_state(e["production"])
    assert after["users"][:4] == before["users"]                 # production's own rows untouched
    assert verify(settings)[0] == []
