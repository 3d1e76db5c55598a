"""A restore of a reviewed plan reads only the tables Friday wrote and their neighbours
(`apply.scope`), and ends exactly where a restore that reads every table ends: Friday's
authors moved past production's, their books pointing at them, a booking whose room
production deleted skipped as an orphan (rooms, which Friday never wrote, read as the
parent), a delete of a label production's stickers (a table Friday never wrote) still name
left alone, and production's own writes to the tables it did not read, before and after
the plan, untouched."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import pytest
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.inspect import roles
from gapmend.core.inspect.gap import Reading
from gapmend.core.plan.decisions import Decisions
from gapmend.core.plan.delta import Delta
from gapmend.core.plan.file import Reviewed
from gapmend.core.plan.model import ORPHANED, RoleFinding
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, Engine, ForeignKey, Integer, MetaData, String, Table, insert, update

from ..conftest import ROLES, Databases, Notes
from ..dbstate import database_state

md = MetaData()
Table("authors", md, Column("id", Integer, primary_key=True), Column("name", String(20), nullable=False))
Table("books", md, Column("id", Integer, primary_key=True), Column("author_id", Integer, ForeignKey("authors.id")),
      Column("title", String(20)))
Table("labels", md, Column("id", Integer, primary_key=True), Column("name", String(20)))
Table("stickers", md, Column("id", Integer, primary_key=True), Column("label_id", Integer, ForeignKey("labels.id")))
Table("rooms", md, Column("id", Integer, primary_key=True), Column("name", String(20)))
Table("bookings", md, Column("id", Integer, primary_key=True), Column("room_id", Integer, ForeignKey("rooms.id")))
Table("shelves", md, Column("id", Integer, primary_key=True), Column("label", String(20)))
Table("ledger", md, Column("id", Integer, primary_key=True), Column("shelf_id", Integer, ForeignKey("shelves.id")),
      Column("note", String(20)))

SNAPSHOT = {"authors": [dict(id=1, name="ann"), dict(id=2, name="bob")], "books": [dict(id=1, author_id=1, title="a")],
            "labels": [dict(id=1, name="red"), dict(id=2, name="green"), dict(id=3, name="blue")],
            "stickers": [dict(id=1, label_id=1)], "shelves": [dict(id=1, label="top")],
            "rooms": [dict(id=1, name="blue"), dict(id=2, name="red")], "bookings": [dict(id=1, room_id=2)],
            "ledger": [dict(id=1, shelf_id=1, note="thursday")]}
FRIDAY = {"authors": [dict(id=3, name="cat"), dict(id=4, name="dan")],
          "books": [dict(id=2, author_id=3, title="b"), dict(id=3, author_id=4, title="c")],
          "bookings": [dict(id=2, room_id=1), dict(id=3, room_id=2)]}
PRODUCTION = {"authors": [dict(id=3, name="eve")], "stickers": [dict(id=2, label_id=2)],
              "shelves": [dict(id=2, label="low")], "ledger": [dict(id=2, shelf_id=2, note="saturday")]}
# Friday's tables, the parents they name (rooms: Friday wrote none), the child of a delete.
READ = {"authors", "books", "labels", "stickers", "bookings", "rooms"}


def _load(engines: Mapping[str, Engine]) -> None:
    for role in ROLES:
        md.create_all(engines[role])
        with engines[role].begin() as conn:
            for part in (SNAPSHOT, FRIDAY if role == "crashed" else PRODUCTION if role == "production" else {}):
                for name, rows in part.items():
                    conn.execute(insert(md.tables[name]), rows)
            if role == "crashed":   # Friday deletes a label production's sticker names, and one nobody names
                conn.execute(md.tables["labels"].delete().where(md.tables["labels"].c.id.in_([2, 3])))
            if role == "production":   # the room of one of Friday's bookings: it is an orphan
                conn.execute(md.tables["rooms"].delete().where(md.tables["rooms"].c.id == 1))


def _restore_planned(d: Databases, scoped: bool, tamper: bool = False) -> tuple[Any, ...]:
    _load(d.engines)
    settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
    delta = Delta()
    plan = build_plan(settings, reading=Reading(delta=delta))
    if tamper:   # a reference the restore will not find among the tables it reads
        delta.references["books"] = sorted([*delta.references["books"], ("books.title->shelves.id", "shelves")])
    with d.engines["production"].begin() as conn:   # production goes on writing where Friday did not
        conn.execute(insert(md.tables["shelves"]), [dict(id=3, label="new")])
        conn.execute(update(md.tables["ledger"]).where(md.tables["ledger"].c.id == 1).values(note="sunday"))
    notes = Notes()
    report = restore(settings, options=RestoreOptions(approve_pending=True, apply_deletes=True, scoped=scoped,
                                                      reviewed=Reviewed.of(plan, Decisions(), delta)), progress=notes)
    assert verify(settings)[0] == []
    state = database_state(d.engines["production"], journal=False)
    assert state["shelves"] == [(1, "top"), (2, "low"), (3, "new")] and (1, 1, "sunday") in state["ledger"]
    labels = report.tables["labels"]
    assert labels.deleted == 1 and [k for k, _ in labels.skipped] == [(2,)]   # stickers' label kept
    bookings = report.tables["bookings"]
    assert bookings.inserted == 1 and [(k, ORPHANED in why) for k, why in bookings.skipped] == [((2,), True)]
    return state, report.totals(), set(report.tables), notes.lines


def test_a_planned_restore_reads_only_the_tables_it_needs(dbs_pair: tuple[Databases, Databases]) -> None:
    full, scoped = _restore_planned(dbs_pair[0], scoped=False), _restore_planned(dbs_pair[1], scoped=True)
    assert scoped[:2] == full[:2]
    assert scoped[2] == READ and full[2] == set(md.tables)
    assert any(n.startswith(f"reading {len(READ)} tables") for n in scoped[3])


def test_references_the_plan_did_not_see_make_it_read_every_table(dbs: Databases) -> None:
    state, totals, tables, notes = _restore_planned(dbs, scoped=True, tamper=True)
    assert any("references are not the plan's" in n and n.endswith("reading every table") for n in notes)
    assert tables == set(md.tables) and totals["inserted"] == 5


def test_it_holds_to_the_roles_the_plan_found_on_every_table(dbs: Databases) -> None:
    """The roles' checks read every table's latest write: a restore that reads a few
    takes the plan's findings, and one the operator has not confirmed still refuses."""
    _load(dbs.engines)
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    delta = Delta()
    plan = build_plan(settings, reading=Reading(delta=delta))
    quiet = RoleFinding(kind=roles.CONFIRM, id="production-older:0123456789ab", message="production looks older")
    reviewed = dataclasses.replace(Reviewed.of(plan, Decisions(), delta), role_findings=[quiet])
    before = database_state(dbs.engines["production"])
    with pytest.raises(roles.RolesError, match="production looks older"):
        restore(settings, options=RestoreOptions(approve_pending=True, reviewed=reviewed))
    assert database_state(dbs.engines["production"]) == before
    report = restore(settings, Decisions(roles_confirmed=[quiet.id]),
                     RestoreOptions(approve_pending=True, reviewed=reviewed))
    assert set(report.tables) == READ and report.totals()["inserted"] == 5
