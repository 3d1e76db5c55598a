"""Issue 38, items 1, 2 and 6: integer columns nobody declared (``created_by``,
``updated_by``) whose Friday values name ids the restore moves are found in the data,
with their evidence and a proposal; the restore refuses while one is undecided (``--yes``
decides nothing); verify lists every restored row holding such a value in an undecided
column, whoever made the restore; after the operator takes the proposals and calls the
look-alike count plain, the whole state is right. Both dialects."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.errors import ReferenceError_
from gapmend.core.plan.decisions import Decisions, load_decisions, save_decisions
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select

from ..conftest import Databases
from ..dbstate import database_state, load_roles

AT = datetime(2026, 11, 1, 8, 0)


def _schema() -> MetaData:
    md = MetaData()
    Table("users", md, Column("id", Integer, primary_key=True), Column("email", String(40), nullable=False, unique=True))
    Table("pages", md, Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False),
          Column("created_by", Integer, nullable=False), Column("updated_by", Integer),
          Column("views", Integer, nullable=False), Column("created_at", DateTime))
    return md


def _page(i: int, by: int, views: int, updated_by: int | None = None) -> dict[str, object]:
    return dict(id=i, name=f"page {i}", created_by=by, updated_by=updated_by, views=views, created_at=AT)


SNAPSHOT = {"users": [dict(id=1, email="ann@x"), dict(id=2, email="bob@x")], "pages": [_page(1, 1, 3)]}
FRIDAY = {"users": [dict(id=3, email="friday-3@x"), dict(id=4, email="friday-4@x")],
          "pages": [_page(2, 3, 3, updated_by=4), _page(3, 1, 4)]}
PRODUCTION = {"users": [dict(id=3, email="prod-3@x"), dict(id=4, email="prod-4@x")]}


def _cli(env: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--env-file", str(env), *args])
    return result.exit_code, result.output


def _pages(dbs: Databases) -> dict[str, tuple[str, str | None, int]]:
    """Each page by name: its creator's and updater's e-mail, and its views."""
    md = _schema()
    users, pages = md.tables["users"], md.tables["pages"]
    with dbs.engines["production"].connect() as conn:
        emails = dict(conn.execute(select(users.c.id, users.c.email)).all())
        return {n: (emails[c], emails.get(u), v) for n, c, u, v in conn.execute(
            select(pages.c.name, pages.c.created_by, pages.c.updated_by, pages.c.views))}


def test_columns_nobody_declared_are_decided_before_the_restore(dbs: Databases) -> None:
    load_roles(dbs.engines, _schema(), {"snapshot": [SNAPSHOT], "crashed": [SNAPSHOT, FRIDAY],
                                        "production": [SNAPSHOT, PRODUCTION]})
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})

    # The census: evidence in figures, and a proposal per column.
    found = {f.id: f for f in build_plan(settings).id_columns}
    assert sorted(found) == ["pages.created_by", "pages.updated_by", "pages.views"]
    assert found["pages.created_by"].evidence() == (
        "created_by: 2 of 2 Friday values are users ids; 1 name Friday-only users ids that production's rows took")
    assert found["pages.created_by"].edges == ["pages.created_by->users.id"]
    code, out = _cli(env, "edges")
    assert code == 0 and "census      undecided   pages.updated_by  — updated_by: 1 of 1 Friday values" in out

    # Refused while undecided, --yes or not: one line, exit 2, nothing written.
    before = database_state(dbs.engines["production"])
    with pytest.raises(ReferenceError_, match="undecided columns can carry ids the restore moves: pages.created_by"):
        restore(settings, options=RestoreOptions(approve_pending=True))
    code, out = _cli(env, "restore", "--yes", "--approve-pending", "--without-backup")
    assert code == 2 and "undecided columns" in out and "--accept-suggestions" in out
    assert database_state(dbs.engines["production"]) == before

    # A restore made without the census (the operator called every column plain):
    # verify finds each restored value naming a moved id, independently of the census.
    wrong = Decisions(plain_columns=["pages.created_by", "pages.updated_by", "pages.views"])
    restore(settings, wrong, RestoreOptions(approve_pending=True))
    problems, _ = verify(settings)
    assert any("created_by = 3: Friday's users 3 is production's 5 now; created_by is undecided" in p
               for p in problems), problems
    assert any("updated_by = 4: Friday's users 4 is production's 6 now" in p for p in problems)
    assert any("views = 4: Friday's users 4" in p for p in problems)   # a look-alike is listed until called plain


def test_accepted_suggestions_restore_every_reference_right(dbs: Databases) -> None:
    load_roles(dbs.engines, _schema(), {"snapshot": [SNAPSHOT], "crashed": [SNAPSHOT, FRIDAY],
                                        "production": [SNAPSHOT, PRODUCTION]})
    # Friday also updated the snapshot's page 1: its updater is Friday's user 4. A moved id
    # in a row from before the boundary is Friday's writing: the census counts it too.
    pages = _schema().tables["pages"]
    with dbs.engines["crashed"].begin() as conn:
        conn.execute(pages.update().where(pages.c.id == 1).values(updated_by=4))
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})
    assert settings.decisions_path is not None
    save_decisions(settings.decisions_path, Decisions(plain_columns=["pages.views"]))   # the look-alike: plain

    code, out = _cli(env, "edges", "--accept-suggestions")
    assert code == 0 and "accepted    added       pages.created_by->users.id" in out
    decisions = load_decisions(settings.decisions_path)
    assert set(decisions.accepted) == {"pages.created_by->users.id", "pages.updated_by->users.id"}
    assert "updated_by: 2 of 2 Friday values are users ids; 2 name" in decisions.accepted["pages.updated_by->users.id"]
    assert build_plan(settings, decisions).id_columns == []

    restore(settings, decisions, RestoreOptions(approve_pending=True))
    assert _pages(dbs) == {"page 1": ("ann@x", "friday-4@x", 3),    # Friday's update, its user followed
                           "page 2": ("friday-3@x", "friday-4@x", 3),   # the moved users, followed
                           "page 3": ("ann@x", None, 4)}                 # views copied as they were
    assert verify(settings)[0] == []


def _threads() -> MetaData:
    """BookStack's comments: ``parent_id`` holds the parent's number within its page
    (``local_id``), not its id, though its name implies a self-reference."""
    md = MetaData()
    Table("comments", md, Column("id", Integer, primary_key=True), Column("entity_id", Integer, nullable=False),
          Column("local_id", Integer, nullable=False), Column("parent_id", Integer), Column("text", String(40)))
    return md


def _comment(i: int, page: int, local: int, parent: int | None) -> dict[str, object]:
    return dict(id=i, entity_id=page, local_id=local, parent_id=parent, text=f"page {page} #{local}")


def test_an_implied_reference_the_data_contradicts_is_undecided(dbs: Databases) -> None:
    snapshot = {"comments": [_comment(1, 1, 1, None), _comment(2, 1, 2, 1)]}
    friday = {"comments": [_comment(3, 2, 1, None), _comment(4, 2, 2, 1), _comment(5, 2, 3, 2), _comment(6, 2, 4, 3),
                           _comment(7, 3, 9, 8)]}       # a reply to #8 of page 3: comment id 8 exists nowhere
    production = {"comments": [_comment(3, 1, 3, 2)]}
    load_roles(dbs.engines, _threads(), {"snapshot": [snapshot], "crashed": [snapshot, friday],
                                         "production": [snapshot, production]})
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})

    found = {f.id: f for f in build_plan(settings).id_columns}
    edge = "comments.parent_id->comments.id"
    assert sorted(found) == ["comments.entity_id", "comments.local_id", edge]   # the numbers look like ids too
    assert found[edge].evidence() == ("parent_id: implied by its name, but only 3 of 4 Friday values name a comments "
                                      "row; 1 name Friday-only comments ids the restore would rewrite")
    with pytest.raises(ReferenceError_, match=f"undecided columns can carry ids .*; {edge} \\(1 Friday values"):
        restore(settings, options=RestoreOptions(approve_pending=True))

    # The operator reads it: a number within the page, not an id.
    code, out = _cli(env, "edges", "--drop", edge, "--plain", "comments.parent_id", "--plain", "comments.local_id",
                     "--plain", "comments.entity_id")
    assert code == 0, out
    decisions = load_decisions(settings.decisions_path) if settings.decisions_path else Decisions()
    assert build_plan(settings, decisions).id_columns == []
    restore(settings, decisions, RestoreOptions(approve_pending=True))
    comments = _threads().tables["comments"]
    with dbs.engines["production"].connect() as conn:
        replies = {text: parent for text, parent in conn.execute(select(comments.c.text, comments.c.parent_id))}
    assert replies == {"page 1 #1": None, "page 1 #2": 1, "page 1 #3": 2, "page 2 #1": None, "page 2 #2": 1,
                       "page 2 #3": 2, "page 2 #4": 3, "page 3 #9": 8}   # Friday's numbers, as Friday wrote them


def _forum() -> MetaData:
    md = MetaData()
    Table("pages", md, Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False))
    Table("comments", md, Column("id", Integer, primary_key=True), Column("page_id", Integer, nullable=False),
          Column("local_id", Integer, nullable=False), Column("parent_id", Integer), Column("text", String(40)))
    return md


def _numbered(i: int, page: int, local: int, parent: int | None, text: str) -> dict[str, object]:
    return dict(id=i, page_id=page, local_id=local, parent_id=parent, text=text)


def _thread(dbs: Databases) -> dict[str, tuple[str, int, int | None]]:
    """Each comment by its text: its page's name, its number, and the text of the comment
    of the same page its reply number names."""
    t = _forum().tables
    with dbs.engines["production"].connect() as conn:
        pages = dict(conn.execute(select(t["pages"].c.id, t["pages"].c.name)).all())
        rows = conn.execute(select(t["comments"].c.text, t["comments"].c.page_id, t["comments"].c.local_id,
                                   t["comments"].c.parent_id)).all()
    by_number = {(page, local): text for text, page, local, _ in rows}
    return {text: (pages[page], local, None if parent is None else by_number.get((page, parent), f"?{parent}"))
            for text, page, local, parent in rows}


def test_numbers_within_a_parent_are_renumbered_and_followed(dbs: Databases, staged: bool) -> None:
    snapshot = {"pages": [dict(id=1, name="welcome")],
                "comments": [_numbered(1, 1, 1, None, "first"), _numbered(2, 1, 2, 1, "re first")]}
    friday = {"pages": [dict(id=2, name="friday page")],
              "comments": [_numbered(3, 1, 3, 1, "friday on welcome"), _numbered(4, 1, 4, 3, "re friday on welcome"),
                           _numbered(5, 2, 1, None, "friday page #1"), _numbered(6, 2, 2, 1, "re friday page #1")]}
    production = {"pages": [dict(id=2, name="sunday page")],
                  "comments": [_numbered(3, 1, 3, 2, "sunday on welcome"), _numbered(4, 2, 1, None, "sunday page #1")]}
    load_roles(dbs.engines, _forum(), {"snapshot": [snapshot], "crashed": [snapshot, friday],
                                       "production": [snapshot, production]})
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})
    # local_id counts within its page; parent_id, implied as a comment id, more often
    # names a comment of the same page by its number than by its id.
    number, reply = build_plan(settings).id_columns
    assert (number.id, number.within, number.command()) == (
        "comments.local_id", ("page_id",), "gapmend edges --scoped 'comments.local_id[page_id]'")
    assert (reply.column, reply.names_number, reply.named, reply.moved) == ("parent_id", "local_id", 3, 2)
    assert reply.command() == ("gapmend edges --scoped 'comments.local_id[page_id]' "
                               "--scoped-ref 'comments.parent_id->comments.local_id'")

    code, out = _cli(env, "edges", "--scoped", "comments.local_id[page_id]",
                     "--scoped-ref", "comments.parent_id->comments.local_id")
    assert code == 0 and "scoped                  comments.local_id[page_id]  — a number within its parent; named by " \
                         "parent_id" in out, out
    decisions = load_decisions(settings.decisions_path) if settings.decisions_path else Decisions()
    assert build_plan(settings, decisions).id_columns == []
    report = restore(settings, decisions, RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["comments"].renumbered == 2      # friday's #3 on welcome, and the reply naming it

    assert _thread(dbs) == {
        "first": ("welcome", 1, None), "re first": ("welcome", 2, "first"),
        "sunday on welcome": ("welcome", 3, "re first"), "sunday page #1": ("sunday page", 1, None),
        "friday on welcome": ("welcome", 5, "first"),              # production took #3 there: the next after #4
        "re friday on welcome": ("welcome", 4, "friday on welcome"),   # its reply number followed
        "friday page #1": ("friday page", 1, None),                # a page of its own: nothing to renumber
        "re friday page #1": ("friday page", 2, "friday page #1")}
    assert verify(settings)[0] == []

    # verify catches two comments of one page sharing a number, whoever wrote them.
    comments = _forum().tables["comments"]
    with dbs.engines["production"].begin() as conn:
        conn.execute(comments.update().where(comments.c.text == "sunday on welcome").values(local_id=5))
    assert any("2 rows with page_id = 1 hold local_id 5" in p for p in verify(settings)[0])


def test_ids_spelled_in_a_string_column_are_decided(dbs: Databases) -> None:
    """A short string column holding ids spelled out ('3'), nobody's reference."""
    md = MetaData()
    Table("users", md, Column("id", Integer, primary_key=True), Column("email", String(40), nullable=False))
    notes = Table("notes", md, Column("id", Integer, primary_key=True), Column("body", String(40), nullable=False),
                  Column("author", String(20)))
    load_roles(dbs.engines, md, {
        "snapshot": [{"users": [dict(id=1, email="ann@x")], "notes": [dict(id=1, body="old", author="1")]}],
        "crashed": [{"users": [dict(id=1, email="ann@x"), dict(id=2, email="fay@x")],
                     "notes": [dict(id=1, body="old", author="1"), dict(id=2, body="friday", author="2"),
                               dict(id=3, body="by name", author="fay")]}],
        "production": [{"users": [dict(id=1, email="ann@x"), dict(id=2, email="pat@x")],
                        "notes": [dict(id=1, body="old", author="1")]}]})
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})

    (found,) = build_plan(settings).id_columns
    assert (found.id, found.edges) == ("notes.author", ["notes.author->users.id"]), found.evidence()
    assert _cli(env, "edges", "--accept-suggestions")[0] == 0
    decisions = load_decisions(settings.decisions_path) if settings.decisions_path else Decisions()
    restore(settings, decisions, RestoreOptions(approve_pending=True))
    with dbs.engines["production"].connect() as conn:
        emails = dict(conn.execute(select(md.tables["users"].c.id, md.tables["users"].c.email)).all())
        authors = dict(conn.execute(select(notes.c.body, notes.c.author)).all())
    assert authors["by name"] == "fay"                          # not an id: as Friday wrote it
    assert emails[int(authors["friday"])] == "fay@x" and isinstance(authors["friday"], str)
    assert verify(settings)[0] == []
