"""SQL safety: table and column names with backticks, quotes, spaces and unicode go
through the plan, both restore paths and verify, because every identifier is quoted by
SQLAlchemy and every value is bound. A value that looks like SQL stays a value."""

from __future__ import annotations

from typing import Any

from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, insert, select

from ..conftest import Databases

PARENT = "Üsers `x` \"q\""
CHILD = "pöst's table"
md = MetaData()
parents = Table(PARENT, md,
                Column("id", Integer, primary_key=True),
                Column("e-mail 'addr'", String(100), unique=True, nullable=False),
                Column("créé", DateTime))
children = Table(CHILD, md,
                 Column("id", Integer, primary_key=True),
                 Column("owner `id`", Integer, ForeignKey(parents.c.id), nullable=True),
                 Column("body; DROP TABLE x", String(100)))


def _load(engine: Any, rows: list[tuple[Table, dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        for table, row in rows:
            conn.execute(insert(table).values(**row))


def test_odd_identifiers_survive_plan_restore_and_verify(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    base = [(parents, {"id": i, "e-mail 'addr'": f"u{i}@x"}) for i in (1, 2)]
    base += [(children, {"id": 1, "owner `id`": 1, "body; DROP TABLE x": "snapshot"})]
    for role in ("snapshot", "crashed", "production"):
        md.create_all(e[role])
        _load(e[role], base)
    _load(e["crashed"], [(parents, {"id": 3, "e-mail 'addr'": "friday'); DROP TABLE x; --"}),
                         (children, {"id": 2, "owner `id`": 3, "body; DROP TABLE x": "friday's `post`"})])
    _load(e["production"], [(parents, {"id": 3, "e-mail 'addr'": "production@x"}),
                            (children, {"id": 2, "owner `id`": 3, "body; DROP TABLE x": "production"})])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert ("staged" in report.path) == staged
    assert report.totals()["inserted"] == 2

    with e["production"].connect() as conn:
        owners = {r[0]: r[1] for r in conn.execute(select(parents.c.id, parents.c["e-mail 'addr'"]))}
        posts = {r[2]: owners[r[1]] for r in conn.execute(select(*children.c))}
    assert posts == {"snapshot": "u1@x", "production": "production@x", "friday's `post`": "friday'); DROP TABLE x; --"}
    assert verify(settings)[0] == []
    assert restore(settings, options=RestoreOptions(approve_pending=True)).noop
