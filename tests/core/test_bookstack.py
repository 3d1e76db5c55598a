"""Issue 38 on a real application nobody here wrote: BookStack's own 85 migrations
(tests/core/laravel_apps/bookstack, MIT, its licence beside them), run by artisan on
MariaDB. No declared foreign key on its content tables; ``created_by``/``updated_by``/
``owned_by`` name users; an image's ``uploaded_to`` names a page, a book or a user
depending on its ``type`` (and is 0 for a ``system`` image); ``chapter_id = 0`` is a page
directly in its book, ``image_id = 0`` a user without an avatar; activities and tags name
entities by morph alias (``page``, ``book``); a comment's ``local_id`` numbers it within its
page and a reply's ``parent_id`` holds its parent's number, not its id.

Production was restored from the snapshot and its users wrote users 4-5, book 2, pages
3-4, image 2 and comment #3 on page 1: Friday's rows with those ids must move, every
reference to them follow, and Friday's comment #3 there take the next number, its reply
following. The census finds the columns nobody declared, proposes their targets from the
data (one per image type for ``uploaded_to``), and the restore refuses until they are
decided; once the operator has called the look-alike plain and taken the proposals, every
Friday row is in production once and every reference names the row it named on Friday,
checked by meaning (each row by its content, each reference by the content of the row it
names), on both copy paths; verify agrees.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import Settings, load_settings
from gapmend.core.errors import ReferenceError_
from gapmend.core.plan.decisions import load_decisions
from gapmend.core.runbook.verify import verify
from sqlalchemy import Engine, MetaData, select, text

from ..conftest import Databases
from ..dbstate import copy_database, database_state, load_reflected, not_null_filled
from .test_laravel_schemas import migrate_app

pytestmark = pytest.mark.mariadb
BOOKSTACK = Path(__file__).parent / "laravel_apps" / "bookstack"
AT, FRIDAY_AT, SUNDAY_AT = datetime(2026, 11, 19, 9, 0), datetime(2026, 11, 20, 17, 0), datetime(2026, 11, 22, 10, 0)


def _user(i: int, name: str, image_id: int = 0, at: datetime = AT) -> dict[str, Any]:
    return dict(id=i, name=name, email=f"{name}@x", password="x", slug=name, image_id=image_id, created_at=at, updated_at=at)


def _entity(i: int, name: str, by: int, at: datetime, **more: Any) -> dict[str, Any]:
    return dict(id=i, name=name, slug=name, created_by=by, updated_by=by, owned_by=by, created_at=at, updated_at=at, **more)


def _image(i: int, name: str, kind: str, to: int, by: int, at: datetime) -> dict[str, Any]:
    return dict(id=i, name=name, url=f"/uploads/{name}", path=f"/uploads/{name}", type=kind, uploaded_to=to,
                created_by=by, updated_by=by, created_at=at, updated_at=at)


def _comment(i: int, page: int, local: int, parent: int | None, text: str, by: int, at: datetime) -> dict[str, Any]:
    """A comment on a page: ``local_id`` numbers it within the page, ``parent_id`` holds
    the number of the comment it replies to (BookStack's CommentRepo)."""
    return dict(id=i, entity_id=page, entity_type="page", local_id=local, parent_id=parent, text=text, html=text,
                created_by=by, updated_by=by, created_at=at, updated_at=at)


SNAPSHOT = {
    "users": [_user(3, "ann")],
    "books": [_entity(1, "handbook", 1, AT)],
    "chapters": [_entity(1, "basics", 3, AT, book_id=1, priority=0)],
    "pages": [_entity(1, "welcome", 3, AT, book_id=1, chapter_id=1, priority=0, revision_count=1),
              _entity(2, "loose-page", 3, AT, book_id=1, chapter_id=0, priority=1, revision_count=1)],
    "images": [_image(1, "diagram.png", "gallery", 1, 3, AT)],
    "comments": [_comment(1, 1, 1, None, "looks good", 3, AT), _comment(2, 1, 2, 1, "thanks", 1, AT)],
}
FRIDAY = {
    "users": [_user(4, "fay", at=FRIDAY_AT), _user(5, "gil", image_id=3, at=FRIDAY_AT), _user(6, "hal", at=FRIDAY_AT)],
    "books": [_entity(2, "friday-book", 4, FRIDAY_AT, image_id=4) | dict(updated_by=5)],
    "chapters": [_entity(2, "friday-chapter", 5, FRIDAY_AT, book_id=2, priority=0)],
    "pages": [_entity(3, "friday-page", 4, FRIDAY_AT, book_id=2, chapter_id=2, priority=0, revision_count=1)
              | dict(updated_by=5),
              _entity(4, "friday-loose", 6, FRIDAY_AT, book_id=2, chapter_id=0, priority=5, revision_count=1),
              _entity(5, "friday-in-basics", 3, FRIDAY_AT, book_id=1, chapter_id=1, priority=1, revision_count=1)],
    "images": [_image(2, "friday-shot.png", "gallery", 3, 4, FRIDAY_AT),
               _image(3, "gil-avatar.png", "user", 5, 5, FRIDAY_AT),
               _image(4, "friday-cover.png", "cover_book", 2, 4, FRIDAY_AT),
               _image(5, "logo.png", "system", 0, 1, FRIDAY_AT),
               _image(6, "welcome-shot.png", "gallery", 1, 6, FRIDAY_AT)],
    "page_revisions": [dict(id=1, page_id=3, name="friday-page", slug="friday-page", book_slug="friday-book",
                            created_by=4, revision_number=1, summary="first draft", created_at=FRIDAY_AT)],
    "activities": [dict(id=1, type="page_create", detail="fay made friday-page", user_id=4, ip="10.0.0.4",
                        loggable_id=3, loggable_type="page", created_at=FRIDAY_AT),
                   dict(id=2, type="book_create", detail="fay made friday-book", user_id=4, ip="10.0.0.4",
                        loggable_id=2, loggable_type="book", created_at=FRIDAY_AT)],
    "tags": [dict(id=1, entity_id=4, entity_type="page", name="status", value="friday", order=0, created_at=FRIDAY_AT)],
    # Both sides numbered a new comment 3 on page 1; Friday's reply names its own #3.
    "comments": [_comment(3, 1, 3, 1, "friday: a typo here", 4, FRIDAY_AT),
                 _comment(4, 1, 4, 3, "friday: fixed it", 5, FRIDAY_AT),
                 _comment(5, 3, 1, None, "friday: on friday-page", 4, FRIDAY_AT)],
}
PRODUCTION = {
    "users": [_user(4, "pat", at=SUNDAY_AT), _user(5, "quinn", at=SUNDAY_AT)],
    "books": [_entity(2, "sunday-book", 4, SUNDAY_AT)],
    "pages": [_entity(3, "sunday-page", 4, SUNDAY_AT, book_id=2, chapter_id=0, priority=0, revision_count=1),
              _entity(4, "sunday-in-basics", 5, SUNDAY_AT, book_id=1, chapter_id=1, priority=2, revision_count=1)],
    "images": [_image(2, "sunday-shot.png", "gallery", 3, 4, SUNDAY_AT)],
    "comments": [_comment(3, 1, 3, 2, "sunday: agreed", 4, SUNDAY_AT), _comment(4, 3, 1, None, "sunday: hello", 4, SUNDAY_AT)],
}


def _load(engine: Engine, *parts: dict[str, list[dict[str, Any]]]) -> None:
    load_reflected(engine, *parts, fill=not_null_filled(AT))


@pytest.fixture
def bookstack(dbs: Databases, tmp_path: Path) -> Databases:
    migrate_app(BOOKSTACK, dbs, tmp_path / "bookstack", strict=False)
    _load(dbs.engines["snapshot"], SNAPSHOT)
    for role in ("crashed", "production"):
        copy_database(dbs.engines[role], dbs.urls["snapshot"].database or "")
    _load(dbs.engines["crashed"], FRIDAY)
    _load(dbs.engines["production"], PRODUCTION)
    return dbs


def meaning(engine: Engine) -> dict[str, dict[str, tuple[Any, ...]]]:
    """The content tables by meaning: each row by its name, each reference by the name of
    the row it names (``?N`` where it names none, 0 kept as 0)."""
    md = MetaData()
    md.reflect(bind=engine, only=["users", "books", "chapters", "pages", "images", "page_revisions", "activities", "tags",
                                  "comments"])
    t = md.tables
    with engine.connect() as conn:
        rows = {n: [r._asdict() for r in conn.execute(select(t[n]))] for n in t}
    names = {n: {r["id"]: r.get("email") or r["name"] for r in rows[n]} for n in ("users", "books", "chapters", "pages", "images")}
    names["bookshelves"] = {}
    numbered = {(r["entity_type"], r["entity_id"], r["local_id"]): r["text"] for r in rows["comments"]}

    def of(table: str, value: Any) -> Any:
        return 0 if value == 0 else names[table].get(value, f"?{value}")

    owner = {"gallery": "pages", "drawio": "pages", "cover_book": "books", "user": "users"}
    alias = {"page": "pages", "book": "books", "chapter": "chapters"}
    out = {
        "users": [(r["email"], of("images", r["image_id"])) for r in rows["users"]],
        "books": [(r["name"], of("users", r["created_by"]), of("users", r["updated_by"]), of("users", r["owned_by"]),
                   None if r["image_id"] is None else of("images", r["image_id"])) for r in rows["books"]],
        "chapters": [(r["name"], of("books", r["book_id"]), of("users", r["created_by"])) for r in rows["chapters"]],
        "pages": [(r["name"], of("books", r["book_id"]), of("chapters", r["chapter_id"]), of("users", r["created_by"]),
                   of("users", r["updated_by"]), of("users", r["owned_by"]), r["priority"]) for r in rows["pages"]],
        "images": [(r["name"], r["type"], of(owner[r["type"]], r["uploaded_to"]) if r["type"] in owner else r["uploaded_to"],
                    of("users", r["created_by"])) for r in rows["images"]],
        "page_revisions": [(r["summary"], of("pages", r["page_id"]), of("users", r["created_by"]))
                           for r in rows["page_revisions"]],
        "activities": [(r["detail"], of("users", r["user_id"]), of(alias[r["loggable_type"]], r["loggable_id"]))
                       for r in rows["activities"]],
        "tags": [(r["value"], of(alias[r["entity_type"]], r["entity_id"])) for r in rows["tags"]],
        "comments": [(r["text"], of(alias[r["entity_type"]], r["entity_id"]), of("users", r["created_by"]),
                      None if r["parent_id"] is None else numbered.get((r["entity_type"], r["entity_id"], r["parent_id"]),
                                                                         f"?{r['parent_id']}"))
                     for r in rows["comments"]],
    }
    by_name: dict[str, dict[str, tuple[Any, ...]]] = {}
    for name, found in out.items():
        by_name[name] = {str(f[0]): f[1:] for f in found}
        assert len(by_name[name]) == len(found), f"{name}: two rows with one content: {sorted(found)}"
    return by_name


def _cli(env: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--env-file", str(env), *args])
    return result.exit_code, result.output


def _census_and_refusal(settings: Settings, env: Path, dbs: Databases) -> None:
    """The census lists every column nobody declared that holds a moved id, with a
    proposal from the data; the restore refuses while any is undecided, writing nothing."""
    production_before = database_state(dbs.engines["production"])
    found = {f.id: f for f in build_plan(settings).id_columns}
    assert {"pages.created_by", "pages.updated_by", "pages.owned_by", "books.created_by", "books.updated_by",
            "images.created_by", "images.uploaded_to", "page_revisions.created_by"} <= set(found), sorted(found)
    uploads = found["images.uploaded_to"]
    assert sorted(uploads.edges) == ["images.uploaded_to[type=cover_book]->books.id",
                                     "images.uploaded_to[type=gallery]->pages.id",
                                     "images.uploaded_to[type=user]->users.id"], uploads.evidence()
    assert found["pages.priority"].parent == "users"   # a look-alike: priority 5 is a moved user's id
    # A comment's local_id is a number within its page, and a reply names its parent by it.
    assert found["comments.local_id"].within == ("entity_id", "entity_type"), found["comments.local_id"].evidence()
    reply = found["comments.parent_id->comments.id"]
    assert reply.edges == ["comments.parent_id->comments.local_id"], reply.evidence()
    code, out = _cli(env, "edges")
    assert code == 0 and "census      undecided   images.uploaded_to  — uploaded_to: " in out, out
    with pytest.raises(ReferenceError_, match="undecided columns can carry ids the restore moves"):
        restore(settings, options=RestoreOptions(approve_pending=True))
    assert database_state(dbs.engines["production"]) == production_before


# In place only (suite time): the staged path of the same rules is `test_string_parents`'s
# and `test_restore`'s, on both dialects.
@pytest.mark.parametrize("staged", [False], ids=["in-place"])
@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_bookstack_ids_nobody_declared(bookstack: Databases, staged: bool) -> None:
    dbs = bookstack
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})
    assert settings.decisions_path is not None
    friday, before = meaning(dbs.engines["crashed"]), meaning(dbs.engines["production"])

    if not staged:   # what the plan and the console say does not depend on the copy path
        _census_and_refusal(settings, env, dbs)

    # The operator calls the look-alike plain and takes the proposals after reading them
    # (a comment's number within its page, a reply's parent by that number among them).
    code, out = _cli(env, "edges", "--plain", "pages.priority")
    assert code == 0, out
    code, out = _cli(env, "edges", "--accept-suggestions")
    assert code == 0 and "accepted    added       images.uploaded_to[type=user]->users.id" in out, out
    decisions = load_decisions(settings.decisions_path)

    restore(settings, decisions, RestoreOptions(approve_pending=True, staged=staged))
    after = meaning(dbs.engines["production"])
    expected = {name: {**friday[name], **before[name]} for name in friday}
    assert after == expected, {n: (sorted(set(after[n].items()) ^ set(expected[n].items()))) for n in after}
    assert after["images"]["gil-avatar.png"] == ("user", "gil@x", "gil@x")
    assert after["pages"]["friday-loose"][1] == 0          # chapter_id 0: in its book directly, not an orphan
    assert after["users"]["hal@x"] == (0,)                 # image_id 0: no avatar
    assert after["comments"]["friday: fixed it"] == ("welcome", "gil@x", "friday: a typo here")
    with dbs.engines["production"].connect() as conn:
        numbers = sorted(conn.execute(text("SELECT local_id FROM comments WHERE entity_id = 1")).scalars())
    assert numbers == [1, 2, 3, 4, 5]                      # Friday's #3 renumbered after its own #4
    assert verify(settings)[0] == []
