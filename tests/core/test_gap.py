"""Gap inspection against the truth: every row's class, boundary, collision and orphan,
on SQLite and MariaDB, with the snapshot (three-way) and with the snapshot time only."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from gapmend.core.apply.preview import build_plan
from gapmend.core.config import load_settings
from gapmend.core.demo import CONFLICT, CONVERGED, MERGE, PRODUCTION_DELETE, SNAPSHOT_AT, build_trio, demo_metadata
from gapmend.core.inspect.gap import Reading
from gapmend.core.plan.model import RowClass
from sqlalchemy import text

from ..conftest import Databases


def _observe(settings: Any, **kw: Any) -> tuple[Any, dict[str, dict[tuple[Any, ...], str]]]:
    seen: dict[str, dict[tuple[Any, ...], str]] = defaultdict(dict)

    def sink(table: str, cls: RowClass, key: tuple[Any, ...], merge: Any = None) -> None:
        tagged = ("C", *key) if cls is RowClass.FRIDAY_INSERT else ("P", *key) if cls is RowClass.PRODUCTION_INSERT else key
        assert tagged not in seen[table], f"{table} {tagged} classified twice"
        seen[table][tagged] = cls.value

    plan = build_plan(settings, reading=Reading(on_row=sink, **kw))
    return plan, seen


def _normalise(value: Any) -> Any:
    return value.replace(microsecond=0) if hasattr(value, "microsecond") else value


@pytest.mark.parametrize("with_snapshot", [True, False], ids=["three-way", "snapshot-time"])
@pytest.mark.parametrize("joint", [True, False], ids=["in-server", "in-gapmend"])
@pytest.mark.parametrize("trust", [False, True], ids=["whole-overlap", "changed-since"])
def test_every_row_is_classified_as_the_operations_made_it(dbs: Databases, with_snapshot: bool, joint: bool,
                                                           trust: bool) -> None:
    """`trust`: only rows whose updated_at is after the snapshot time are compared (every
    change the demo makes stamps updated_at, as Eloquent does), plus the ids a side lacks."""
    e = dbs.engines
    ledger = build_trio(e["crashed"], e["production"], e["snapshot"] if with_snapshot else None)
    env = dbs.env_file(snapshot=with_snapshot, snapshot_at=SNAPSHOT_AT.isoformat())
    environ = {"GAPMEND_TRUST_UPDATED_AT": "yes"} if trust else {}
    plan, seen = _observe(load_settings(env, environ=environ), joint=joint)
    assert plan.mode.endswith("by updated_at") == trust

    tables_without_created_at = {"post_tag", "taggables"}
    for table in demo_metadata().tables:
        expected = dict(ledger.classes.get(table, {}))
        if not with_snapshot:
            # Without the base, "both made the same change" looks like "unchanged", and a
            # row only one side has, in a table with no timestamps, is honestly ambiguous.
            expected = {k: v for k, v in expected.items() if v != CONVERGED}
            # ... and which side changed which column is unknown: no merge by column.
            expected = {k: (CONFLICT if v == MERGE else v) for k, v in expected.items()}
            if table in tables_without_created_at:
                expected = {k: (CONFLICT if v == PRODUCTION_DELETE else v) for k, v in expected.items()}
        got = {tuple(_normalise(v) for v in k): c for k, c in seen.get(table, {}).items()}
        assert got == expected, table

    for table, b in ledger.boundaries.items():
        gap = plan.table(table)
        assert gap.boundary.value == b, table
        assert gap.boundary.confidence == ("exact" if with_snapshot else "high")
    for table, keys in ledger.collisions.items():
        assert {c.key for c in plan.table(table).collisions} == keys, table
    for table, keys in ledger.orphans.items():
        assert {o.key for o in plan.table(table).orphans} == keys, table
    assert all(not plan.table(t).orphans for t in plan.order if t not in ledger.orphans)
    assert ["teams", "users"] in plan.cycles


def test_trusting_updated_at_misses_a_change_that_did_not_stamp_it(dbs: Databases) -> None:
    """The contract of GAPMEND_TRUST_UPDATED_AT, both ways: a Friday update that left
    updated_at alone (a query-builder UPDATE) is found by the whole comparison and
    missed by the trusting one, which is why it is opt-in."""
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    with e["crashed"].begin() as conn:
        conn.execute(text("UPDATE users SET name = 'renamed quietly' WHERE id = 10"))
    env = dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat())
    _, whole = _observe(load_settings(env, environ={}))
    _, trusting = _observe(load_settings(env, environ={"GAPMEND_TRUST_UPDATED_AT": "yes"}))
    assert whole["users"].get((10,)) == RowClass.FRIDAY_UPDATE.value
    assert (10,) not in trusting["users"]
    assert {k: v for k, v in whole["users"].items() if k != (10,)} == trusting["users"]


def test_conflicts_carry_all_three_values(dbs: Databases) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    plan = build_plan(load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={}))
    conflict = next(c for c in plan.table("users").conflicts if c.key == (6,))
    name = next(v for v in conflict.values if v[0] == "name")
    assert name == ("name", "user 6", "friday's name", "production's name")


def test_content_boundary_without_snapshot_or_time(dbs: Databases) -> None:
    e = dbs.engines
    ledger = build_trio(e["crashed"], e["production"], None)
    plan = build_plan(load_settings(dbs.env_file(snapshot=False, snapshot_at=None), environ={}))
    for table, b in ledger.boundaries.items():
        gap = plan.table(table)
        assert gap.boundary.method == "content"
        assert gap.boundary.value == b, (table, gap.boundary)
        assert gap.boundary.confidence == "medium"


def test_plan_is_read_only(dbs: Databases) -> None:
    from tests.dbstate import database_state

    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    before = {r: database_state(e[r]) for r in ("snapshot", "crashed", "production")}
    build_plan(load_settings(dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat()), environ={}))
    assert {r: database_state(e[r]) for r in before} == before


@pytest.mark.parametrize("stamped", [False, True], ids=["no-created_at", "a-created_at-missing"])
def test_an_estimated_boundary_uses_what_snapshot_era_children_reference(dbs: Databases, stamped: bool) -> None:
    """Staff 3 was in the snapshot, but nothing about staff says so: without created_at,
    Friday's updates of staff 2 and 3 leave only staff 1 alike on both sides; with a
    created_at that staff 3 lacks, the snapshot time says 2 (high). Rentals from before
    the snapshot (their created_at says so) name staff 3 on both sides, so the boundary is
    raised to 3, low, to be confirmed (issue 14, item 4: a boundary of 1 inserted second
    copies of staff 2 and 3 and pointed Friday's rows at them)."""
    from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, insert, update

    md = MetaData()
    at = datetime(2026, 11, 26, 23, 0)
    staff = Table("staff", md, Column("id", Integer, primary_key=True), Column("name", String(20)),
                  *([Column("created_at", DateTime)] if stamped else []))
    rentals = Table("rentals", md, Column("id", Integer, primary_key=True), Column("staff_id", Integer, ForeignKey("staff.id")),
                    Column("created_at", DateTime))
    stamps = {1: at - timedelta(days=9), 2: at - timedelta(days=8), 3: None, 4: at + timedelta(hours=1)}
    for role in ("crashed", "production"):
        md.create_all(dbs.engines[role])
        with dbs.engines[role].begin() as conn:
            for i in (1, 2, 3, 4):
                row = dict(id=i, name=f"s{i}" if i < 4 else f"{role} 4")
                conn.execute(insert(staff).values(**row, **({"created_at": stamps[i]} if stamped else {})))
            conn.execute(insert(rentals), [dict(id=i, staff_id=1 + i % 3, created_at=at - timedelta(days=i)) for i in range(1, 11)])
    with dbs.engines["crashed"].begin() as conn:
        conn.execute(update(staff).where(staff.c.id.in_([2, 3])).values(name="renamed on Friday"))
        conn.execute(insert(rentals).values(id=11, staff_id=4, created_at=at + timedelta(hours=5)))
    settings = load_settings(dbs.env_file(snapshot=False, snapshot_at=at.isoformat()), environ={})
    boundary = build_plan(settings).table("staff").boundary
    assert (boundary.value, boundary.confidence) == (3, "low")
    assert boundary.unconfirmed and "rentals.staff_id" in boundary.evidence
    assert ("the evidence disagrees" in boundary.evidence) == stamped
