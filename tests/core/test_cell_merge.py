"""Cell-level three-way merge, by whole database states on both dialects: one row where
all three outcomes meet (Friday's column, production's column, a conflict), a row merged
outright, the operator's "whole row" choices, the plan saying which column comes from
which side, verify clean after, and undo putting production's rows back."""

from __future__ import annotations

from datetime import datetime

from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.apply.undo import undo
from gapmend.core.config import load_settings
from gapmend.core.databases import journal
from gapmend.core.plan.decisions import Decisions
from gapmend.core.plan.model import RowClass
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select, update

from ..conftest import Databases
from ..dbstate import load_roles

SNAPSHOT_AT = datetime(2026, 11, 19, 23, 0)
OLD, FRIDAY, LATER = datetime(2026, 11, 1, 8, 0), datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 21, 5, 0)


def _schema() -> tuple[MetaData, Table]:
    md = MetaData()
    articles = Table("articles", md, Column("id", Integer, primary_key=True, autoincrement=True),
                     Column("title", String(50), nullable=False), Column("body", String(50), nullable=False),
                     Column("status", String(10), nullable=False), Column("updated_at", DateTime))
    return md, articles


def _row(i: int, title: str = "t", body: str = "b", status: str = "draft", at: datetime = OLD) -> dict[str, object]:
    return {"id": i, "title": f"{title}{i}", "body": f"{body}{i}", "status": status, "updated_at": at}


SNAPSHOT = [_row(i) for i in range(1, 7)]
CRASHED = {   # Friday's changes
    1: dict(title="friday title", status="published", updated_at=FRIDAY),
    2: dict(title="friday title", updated_at=FRIDAY),
    3: dict(title="friday title", updated_at=FRIDAY),
    5: dict(title="friday title", updated_at=FRIDAY),
    6: dict(title="friday title", updated_at=FRIDAY),
}
PRODUCTION = {   # production's, since the restore from the snapshot
    1: dict(body="production body", status="archived", updated_at=LATER),
    2: dict(body="production body", updated_at=LATER),
    4: dict(body="production body", updated_at=LATER),
    5: dict(body="production body", updated_at=LATER),
    6: dict(body="production body", updated_at=FRIDAY.replace(hour=8)),   # Friday's stamp is the later here
}
NEW_IN_PRODUCTION = _row(7, title="written since", at=LATER)   # production has been live since


def _load(dbs: Databases) -> Table:
    md, articles = _schema()
    load_roles(dbs.engines, md, {"snapshot": [{"articles": SNAPSHOT}], "crashed": [{"articles": SNAPSHOT}],
                                 "production": [{"articles": SNAPSHOT + [NEW_IN_PRODUCTION]}]})
    for role, changes in (("crashed", CRASHED), ("production", PRODUCTION)):
        with dbs.engines[role].begin() as conn:
            for i, values in changes.items():
                conn.execute(update(articles).where(articles.c.id == i).values(**values))
    return articles


def _state(dbs: Databases, articles: Table) -> dict[int, tuple[object, ...]]:
    with dbs.engines["production"].connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(select(articles).order_by(articles.c.id))}


def test_each_side_keeps_its_columns_and_only_a_clash_is_a_conflict(dbs: Databases) -> None:
    """Production's row stands unless the operator merges it (one row, or `merge_cells`)."""
    articles = _load(dbs)
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat()), environ={})
    decisions = Decisions()
    decisions.resolve("articles", {journal.encode([5])}, "production")   # whole row as production has it
    decisions.resolve("articles", {journal.encode([6])}, "friday")       # whole row from Friday

    plan = build_plan(settings, decisions)
    gap = plan.table("articles")
    assert gap.count(RowClass.CONFLICT) == 1 and gap.count(RowClass.MERGE) == 3 and gap.count(RowClass.FRIDAY_UPDATE) == 1
    conflict = gap.conflicts[0]
    assert conflict.key == (1,) and "status differently" in conflict.reason
    assert conflict.merge is not None and conflict.merge.friday == ("title",) and conflict.merge.production == ("body",)
    assert conflict.merge.later == ("updated_at",)
    merged = {m.key: m for m in gap.merges}
    assert merged[(2,)].friday == ("title",) and merged[(2,)].production == ("body",)

    before = _state(dbs, articles)
    # The mission's rule by default: a row production changed since the snapshot is not
    # updated; the operator merges one row by column (`resolve --take merge`).
    decisions.resolve("articles", {journal.encode([2])}, "merge")
    report = restore(settings, decisions, RestoreOptions(approve_pending=True))
    t = report.tables["articles"]
    assert (t.merged, t.conflicts_merged, t.merges_kept, t.conflicts_kept, t.conflicts_taken, t.updated) == (
        1, 0, 1, 1, 1, 3)
    assert _state(dbs, articles) == {**before,
                                     2: ("friday title", "production body", "draft", LATER),   # merged, as told
                                     3: ("friday title", "b3", "draft", FRIDAY),
                                     6: ("friday title", "b6", "draft", FRIDAY)}
    assert verify(settings)[0] == []
    assert undo(settings, decisions).totals()["reverted"] == 3 and _state(dbs, articles) == before

    # `--merge-cells`: every row both changed that the operator said nothing of is merged.
    decisions.resolve("articles", {journal.encode([2])}, "production")
    report = restore(settings, decisions, RestoreOptions(approve_pending=True, merge_cells=True))
    t = report.tables["articles"]
    assert (t.merged, t.conflicts_merged, t.merges_kept, t.conflicts_taken, t.updated) == (0, 1, 2, 1, 3)
    assert _state(dbs, articles) == {
        # Friday's title, production's body, the clashing status kept as production has it, the later stamp
        1: ("friday title", "production body", "archived", LATER),
        2: ("t2", "production body", "draft", LATER),                 # the operator kept production's row
        3: ("friday title", "b3", "draft", FRIDAY),                   # Friday's update, production left it alone
        4: ("t4", "production body", "draft", LATER),                 # production's own
        5: ("t5", "production body", "draft", LATER),                 # the operator kept production's row
        6: ("friday title", "b6", "draft", FRIDAY),                   # the operator took Friday's whole row
        7: ("written since7", "b7", "draft", LATER),
    }
    assert verify(settings)[0] == []

    taken = undo(settings, decisions)
    assert taken.totals()["reverted"] == 3, (taken.totals(), taken)
    assert _state(dbs, articles) == before
