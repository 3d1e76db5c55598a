"""Issue 38, item 5: without a snapshot, rows from before it that reference an id on
both sides raise the estimate of the parent's boundary (Sakila's shape: Friday changed
staff 2's password, so no content comparison holds staff 2 alike, yet the snapshot-era
rentals on both sides name staff 2); and the rows a committed restore wrote are no
evidence, so the estimates after a restore are the ones before it and a rerun is a no-op.
Both dialects."""

from __future__ import annotations

from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.plan.decisions import Decisions
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from ..conftest import Databases
from ..dbstate import load_roles


def _schema() -> MetaData:
    md = MetaData()
    Table("staff", md, Column("staff_id", Integer, primary_key=True), Column("name", String(40), nullable=False),
          Column("password", String(40), nullable=False))
    Table("rental", md, Column("rental_id", Integer, primary_key=True), Column("staff_id", Integer, nullable=False),
          Column("amount", Integer, nullable=False))
    return md


def _rentals(*rows: tuple[int, int, int]) -> list[dict[str, int]]:
    return [dict(rental_id=i, staff_id=s, amount=a * 100) for i, s, a in rows]   # cents: no look-alike ids


SNAPSHOT = {"staff": [dict(staff_id=1, name="Mike", password="m1"), dict(staff_id=2, name="Jon", password="j1")],
            "rental": _rentals((1, 1, 3), (2, 2, 4), (3, 1, 5), (4, 2, 2), (5, 2, 1), (6, 1, 7))}
FRIDAY = {"staff": [dict(staff_id=3, name="Friday's Ann", password="a1")],
          "rental": _rentals((7, 2, 9), (8, 3, 8), (9, 3, 6))}
PRODUCTION = {"staff": [dict(staff_id=3, name="Sunday's Bo", password="b1")],
              "rental": _rentals((7, 1, 2), (8, 3, 5))}


def _staff_by_rental(dbs: Databases) -> list[tuple[int, str]]:
    t = _schema().tables
    with dbs.engines["production"].connect() as conn:
        names = dict(conn.execute(select(t["staff"].c.staff_id, t["staff"].c.name)).all())
        return sorted((amount // 100, names[s]) for s, amount in conn.execute(select(t["rental"].c.staff_id, t["rental"].c.amount)))


def test_snapshot_era_references_raise_the_estimate(dbs: Databases) -> None:
    crashed_snapshot = {**SNAPSHOT, "staff": [SNAPSHOT["staff"][0], dict(staff_id=2, name="Jon", password="j2")]}
    load_roles(dbs.engines, _schema(), {"crashed": [crashed_snapshot, FRIDAY], "production": [SNAPSHOT, PRODUCTION]})
    settings = load_settings(dbs.env_file(snapshot=False, snapshot_at=None), environ={})

    plan = build_plan(settings)
    staff, rental = plan.table("staff").boundary, plan.table("rental").boundary
    assert (staff.value, staff.confidence) == (2, "low"), staff
    assert "raised to 2" in staff.evidence and "rental.staff_id" in staff.evidence
    assert rental.value == 6

    # The operator confirms both estimates; Jon stays one person, his rentals his.
    decisions = Decisions(boundaries={"staff": 2, "rental": 6})
    restore(settings, decisions, RestoreOptions(approve_pending=True))
    with dbs.engines["production"].connect() as conn:
        names = sorted(conn.execute(select(_schema().tables["staff"].c.name)).scalars())
    assert names == ["Friday's Ann", "Jon", "Mike", "Sunday's Bo"]
    assert _staff_by_rental(dbs) == sorted([(3, "Mike"), (4, "Jon"), (5, "Mike"), (2, "Jon"), (1, "Jon"), (7, "Mike"),
                                            (2, "Mike"), (5, "Sunday's Bo"),                        # production's
                                            (9, "Jon"), (8, "Friday's Ann"), (6, "Friday's Ann")])  # Friday's

    # Rental 9 went in under its own id, alike on both sides now: it is no evidence.
    again = build_plan(settings)
    assert (again.table("staff").boundary.value, again.table("rental").boundary.value) == (2, 6)
    rerun = restore(settings, decisions, RestoreOptions(approve_pending=True))
    assert sum(r.inserted for r in rerun.tables.values()) == 0
