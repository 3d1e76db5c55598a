"""Issue 38, item 4: a reference value that names no row in crashed either ("0 means
none": a page directly in its book has ``chapter_id = 0``, a user without an avatar
``image_id = 0``; past the boundary, an id Friday already left dangling) is written as Friday had it, like NULL, never an orphan; an orphan is a
Friday row naming a row crashed holds and production deleted. Whole states on both
dialects and both copy paths, with production holding Friday's ids."""

from __future__ import annotations

from datetime import datetime

from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.plan.decisions import Decisions
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select

from ..conftest import Databases
from ..dbstate import load_roles

AT = datetime(2026, 11, 1, 8, 0)


def _schema() -> MetaData:
    """BookStack's shape (its migrations declare no foreign keys; ``0`` means none)."""
    md = MetaData()
    Table("images", md, Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False))
    Table("users", md, Column("id", Integer, primary_key=True), Column("email", String(40), nullable=False, unique=True),
          Column("image_id", Integer, nullable=False, server_default="0"))
    Table("books", md, Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False))
    Table("chapters", md, Column("id", Integer, primary_key=True), Column("book_id", Integer, nullable=False),
          Column("name", String(40), nullable=False))
    Table("pages", md, Column("id", Integer, primary_key=True), Column("book_id", Integer, nullable=False),
          Column("chapter_id", Integer, nullable=False, server_default="0"), Column("name", String(40), nullable=False),
          Column("created_at", DateTime))
    return md


def _page(i: int, chapter: int, name: str) -> dict[str, object]:
    return dict(id=i, book_id=1, chapter_id=chapter, name=name, created_at=AT)


SNAPSHOT = {"images": [dict(id=1, name="avatar 1")],
            "users": [dict(id=1, email="ann@x", image_id=1), dict(id=2, email="bob@x", image_id=0)],
            "books": [dict(id=1, name="handbook")],
            "chapters": [dict(id=1, book_id=1, name="intro")],
            "pages": [_page(1, 1, "welcome"), _page(2, 0, "loose page")]}
FRIDAY = {"users": [dict(id=3, email="friday@x", image_id=0)],
          "chapters": [dict(id=2, book_id=1, name="friday chapter")],
          "pages": [_page(3, 0, "friday loose page"), _page(4, 2, "in friday's chapter"),
                    _page(5, 1, "in the intro production deleted"),
                    _page(6, 99, "dangling on friday")]}   # past the boundary, names no row anywhere
PRODUCTION = {"users": [dict(id=3, email="prod@x", image_id=0)],
              "chapters": [dict(id=2, book_id=1, name="production chapter")],
              "pages": [_page(3, 0, "production page")]}


def test_zero_means_none_is_written_as_friday_had_it(dbs: Databases, staged: bool) -> None:
    md = _schema()
    # Production deleted chapter 1 and its page: Friday's page 5 there is the one orphan.
    production_snapshot = {k: v for k, v in SNAPSHOT.items() if k != "chapters"} | {"pages": [_page(2, 0, "loose page")]}
    load_roles(dbs.engines, md, {"snapshot": [SNAPSHOT], "crashed": [SNAPSHOT, FRIDAY],
                                 "production": [production_snapshot, PRODUCTION]})
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})

    plan = build_plan(settings)
    assert [(o.key, o.edge, o.parent_key) for o in plan.table("pages").orphans] == [
        ((5,), "pages.chapter_id->chapters.id", 1)]
    assert plan.table("users").orphans == []

    # A value naming no row makes the name's implied reference one the data contradicts:
    # the operator, having read it, confirms it (issue 38, item 2).
    assert [f.id for f in plan.id_columns] == ["pages.chapter_id->chapters.id"]
    decisions = Decisions(confirm_edges=["pages.chapter_id->chapters.id"])
    assert build_plan(settings, decisions).id_columns == []
    report = restore(settings, decisions, RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["users"].inserted == 1 and report.tables["pages"].inserted == 3
    assert [why for _, why in report.tables["pages"].skipped] == ["chapter_id=1: parent deleted by production"]
    t = md.tables
    with dbs.engines["production"].connect() as conn:
        chapters = {name: i for i, name in conn.execute(select(t["chapters"].c.id, t["chapters"].c.name))}
        pages = {name: chapter for name, chapter in conn.execute(select(t["pages"].c.name, t["pages"].c.chapter_id))}
        users = dict(conn.execute(select(t["users"].c.email, t["users"].c.image_id)).all())
    assert pages == {"loose page": 0, "production page": 0, "friday loose page": 0,
                     "in friday's chapter": chapters["friday chapter"], "dangling on friday": 99}
    assert chapters["friday chapter"] != 2            # production took id 2: the reference followed it
    assert users == {"ann@x": 1, "bob@x": 0, "prod@x": 0, "friday@x": 0}
    assert verify(settings)[0] == []
