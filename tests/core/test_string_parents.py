"""Issue 44: parents keyed otherwise than by one integer. A media library keyed by
UUIDs (strings, and 16 bytes); production deleted one item; Friday had a playlist entry
(a pivot keyed by its references) and a play count (an integer-keyed row) naming it,
under declared foreign keys. Both are orphans like those of an integer-keyed parent:
the plan shows them, the restore skips them with the reason (or, with ``--orphans
null``, writes NULL where the column allows it), their dependants follow, and nothing
dangling is committed. The same for a parent keyed by two columns. A Friday parent
linked to production's row is named as production holds it; a rewrite that fails to
is refused before the commit. A pair nobody declared unique is proposed as a key and,
once confirmed, links. Both dialects, both copy paths."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreError, RestoreOptions, restore
from gapmend.core.apply.work_tables import WorkTables
from gapmend.core.config import load_settings
from gapmend.core.errors import ReferenceError_
from gapmend.core.plan.decisions import Decisions, load_decisions
from gapmend.core.plan.model import ORPHANED
from gapmend.core.runbook.verify import verify
from sqlalchemy import (
    BINARY,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    text,
    update,
)

from ..conftest import Databases
from ..dbstate import database_state, load_roles

M1, M2, M3 = "6f1c54d0-0000-4000-8000-000000000001", "6f1c54d0-0000-4000-8000-000000000002", \
    "6f1c54d0-0000-4000-8000-000000000003"


def _schema() -> MetaData:
    md = MetaData()
    Table("users", md, Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False))
    Table("media", md, Column("uuid", String(36), primary_key=True), Column("title", String(40), nullable=False))
    Table("playlists", md, Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False))
    Table("playlist_media", md, Column("playlist_id", Integer, ForeignKey("playlists.id"), primary_key=True),
          Column("media_uuid", String(36), ForeignKey("media.uuid"), primary_key=True))
    Table("plays", md, Column("id", Integer, primary_key=True), Column("user_id", Integer, nullable=False),
          Column("media_uuid", String(36), ForeignKey("media.uuid"), nullable=True), Column("count", Integer))
    # A note on a play: it travels with the play it names.
    Table("play_notes", md, Column("id", Integer, primary_key=True), Column("play_id", Integer, ForeignKey("plays.id")),
          Column("body", String(40)))
    return md


USERS = [dict(id=1, name="ann"), dict(id=2, name="bob")]
SNAPSHOT = {"users": USERS, "media": [dict(uuid=M1, title="song one"), dict(uuid=M2, title="song two")],
            "playlists": [dict(id=1, name="mix")],
            "playlist_media": [dict(playlist_id=1, media_uuid=M1)],
            "plays": [dict(id=1, user_id=1, media_uuid=M1, count=1)]}
FRIDAY = {"media": [dict(uuid=M3, title="friday song")],
          "playlist_media": [dict(playlist_id=1, media_uuid=M2), dict(playlist_id=1, media_uuid=M3)],
          "plays": [dict(id=2, user_id=1, media_uuid=M2, count=3), dict(id=3, user_id=1, media_uuid=M3, count=1)],
          "play_notes": [dict(id=1, play_id=2, body="on song two"), dict(id=2, play_id=3, body="on friday song")]}


PRODUCTION = {"plays": [dict(id=2, user_id=2, media_uuid=M1, count=7)]}   # production's own play took id 2


def _trio(dbs: Databases) -> None:
    production_snapshot = {**SNAPSHOT, "media": [dict(uuid=M1, title="song one")]}   # production deleted song two
    load_roles(dbs.engines, _schema(), {"snapshot": [SNAPSHOT], "crashed": [SNAPSHOT, FRIDAY],
                                        "production": [production_snapshot, PRODUCTION]})


def test_orphans_of_a_uuid_keyed_parent(dbs: Databases, staged: bool) -> None:
    _trio(dbs)
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    plan = build_plan(settings)
    assert [(o.key, o.edge, o.parent_key) for o in plan.table("playlist_media").orphans] == [
        ((1, M2), "playlist_media.media_uuid->media.uuid", M2)]
    assert [(o.key, o.parent_key) for o in plan.table("plays").orphans] == [((2,), M2)]

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert [why for _, why in report.tables["plays"].skipped] == [f"media_uuid={M2}: {ORPHANED}"]
    assert [k for k, _ in report.tables["play_notes"].skipped] == [(1,)]     # the skip travels
    md = _schema()
    t = md.tables
    with dbs.engines["production"].connect() as conn:
        pivot = sorted(conn.execute(select(t["playlist_media"].c.media_uuid)).scalars())
        plays = sorted(conn.execute(select(t["plays"].c.media_uuid)).scalars())
        notes = sorted(conn.execute(select(t["play_notes"].c.body)).scalars())
    assert pivot == [M1, M3] and plays == [M1, M1, M3] and notes == ["on friday song"]
    assert verify(settings)[0] == []


def test_orphans_null_where_the_column_allows(dbs: Databases) -> None:
    _trio(dbs)
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    report = restore(settings, options=RestoreOptions(approve_pending=True, orphans="null"))
    t = _schema().tables
    with dbs.engines["production"].connect() as conn:
        plays = dict(conn.execute(select(t["plays"].c.count, t["plays"].c.media_uuid)).all())
    assert plays[3] is None and plays[7] == M1                # the play of song two, its song gone: NULL
    assert [k for k, _ in report.tables["playlist_media"].skipped] == [(1, M2)]   # a key column: skipped


M4 = "6f1c54d0-0000-4000-8000-000000000004"


def _linked_trio(dbs: Databases) -> MetaData:
    """Production added its own "friday song" under M4; Friday's is M3, with a playlist
    entry, a play, and an update of play 1 naming it."""
    md = _schema()
    md.tables["media"].append_constraint(UniqueConstraint("title"))
    production = {**PRODUCTION, "media": [dict(uuid=M4, title="friday song")]}
    crashed = {**SNAPSHOT, "media": [*SNAPSHOT["media"], *FRIDAY["media"]],
               "plays": [dict(id=1, user_id=1, media_uuid=M3, count=6)]}   # Friday's update of play 1
    rest = {name: rows for name, rows in FRIDAY.items() if name != "media"}
    load_roles(dbs.engines, md, {"snapshot": [SNAPSHOT], "crashed": [crashed, rest],
                                 "production": [SNAPSHOT, production]})
    return md


def test_a_linked_uuid_parent_is_named_as_production_holds_it(dbs: Databases, staged: bool) -> None:
    """Production added its own "friday song" under another UUID (M4), so Friday's song
    (M3) is taken for production's (a unique title: linked). Every Friday row naming M3
    names M4 as written: the playlist entry (its key), the play, and Friday's update of a
    snapshot play that moved it to that song; verify agrees, references mapped."""
    md = _linked_trio(dbs)
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["media"].linked == [((M3,), (M4,))]
    t = md.tables
    with dbs.engines["production"].connect() as conn:
        pivot = sorted(conn.execute(select(t["playlist_media"].c.media_uuid)).scalars())
        plays = sorted(conn.execute(select(t["plays"].c.count, t["plays"].c.media_uuid)).all())
        media = conn.execute(select(func.count()).select_from(t["media"])).scalar_one()
    assert pivot == [M1, M2, M4] and media == 3
    assert plays == [(1, M4), (3, M2), (6, M4), (7, M1)]
    assert verify(settings)[0] == []


def test_a_broken_rewrite_is_refused_before_commit(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 44, item 2: the same restore with the rewrite of links deliberately broken
    (no reference to a linked UUID mapped), under declared foreign keys whose checks the
    restore turns off. The proof inside the transaction refuses and names the rows'
    values; production stays as it was, in a dry run too."""
    _linked_trio(dbs)
    monkeypatch.setattr(WorkTables, "linked_edges", lambda self, name: [])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    before = database_state(dbs.engines["production"])
    for dry in (dbs.workdir / "dry.sql", None):
        with pytest.raises(RestoreError, match=f"integrity check failed: .*media_uuid->media.uuid would point at "
                                               f"missing media .*{M3}"):
            restore(settings, options=RestoreOptions(approve_pending=True, dry_run=dry))
        assert database_state(dbs.engines["production"]) == before


def test_a_key_nobody_declared_links_the_pair_production_holds(dbs: Databases, staged: bool) -> None:
    """Issue 44, item 3: one play count per (user, item), kept by the application with
    "first or create" and no index. Both sides created user 1's count for song one after
    the snapshot: the pair is proposed as a key from the data (unique on every side,
    each column repeating alone), the restore waits for the operator, and once taken
    (`--accept-suggestions`, as `gapmend edges --unique` would), Friday's is production's
    row (production's count stands) and a note on it names production's row."""
    snapshot = {"users": USERS, "media": [dict(uuid=M1, title="song one"), dict(uuid=M2, title="song two")],
                "plays": [dict(id=1, user_id=2, media_uuid=M1, count=40), dict(id=4, user_id=1, media_uuid=M2, count=10)]}
    friday = {"plays": [dict(id=5, user_id=1, media_uuid=M1, count=50), dict(id=6, user_id=2, media_uuid=M2, count=10)],
              "play_notes": [dict(id=1, play_id=5, body="friday's note on the count")]}
    production = {"plays": [dict(id=5, user_id=1, media_uuid=M1, count=20)]}
    load_roles(dbs.engines, _schema(), {"snapshot": [snapshot], "crashed": [snapshot, friday],
                                        "production": [snapshot, production]})
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})
    # The pair is proposed from the data, and the restore waits for the operator's word.
    (key,) = build_plan(settings).id_columns
    assert (key.id, key.named, key.friday_values) == ("plays(media_uuid,user_id)", 1, 2), key.evidence()
    with pytest.raises(ReferenceError_, match=r"plays\(media_uuid,user_id\) \(1 Friday rows hold a pair"):
        restore(settings, options=RestoreOptions(approve_pending=True))
    result = CliRunner().invoke(cli, ["--env-file", str(env), "edges", "--accept-suggestions"])
    assert result.exit_code == 0 and "accepted    added       plays(media_uuid,user_id)" in result.output, result.output
    decisions = load_decisions(settings.decisions_path) if settings.decisions_path else Decisions()

    plan = build_plan(settings, decisions)
    assert [(c.key, c.production_key) for c in plan.table("plays").collisions] == [((5,), (5,))]
    report = restore(settings, decisions, RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["plays"].linked == [((5,), (5,))]
    t = _schema().tables
    with dbs.engines["production"].connect() as conn:
        plays = sorted(conn.execute(select(t["plays"].c.user_id, t["plays"].c.media_uuid, t["plays"].c.count)).all())
        notes = conn.execute(select(t["play_notes"].c.play_id, t["play_notes"].c.body)).all()
    assert plays == sorted([(2, M1, 40), (1, M2, 10), (1, M1, 20), (2, M2, 10)])   # one (1, song one): production's
    assert notes == [(5, "friday's note on the count")]            # names production's row
    assert verify(settings)[0] == []


def test_orphans_of_a_binary_uuid_keyed_parent(dbs: Databases, staged: bool) -> None:
    """The same with the UUIDs stored as 16 bytes (``BINARY(16)``, as some Laravel apps
    keep them): the orphan is found, skipped and reported with its key in hex."""
    b1, b2 = uuid.UUID(M1).bytes, uuid.UUID(M2).bytes
    binary = LargeBinary(16).with_variant(BINARY(16), "mysql", "mariadb")   # Laravel's binary(): BLOB on SQLite
    md = MetaData()
    Table("media", md, Column("uuid", binary, primary_key=True), Column("title", String(40)))
    plays = Table("plays", md, Column("id", Integer, primary_key=True), Column("media_uuid", binary,
                                                                              ForeignKey("media.uuid")),
                  Column("hits", Integer))
    snapshot = {"media": [dict(uuid=b1, title="song one"), dict(uuid=b2, title="song two")],
                "plays": [dict(id=1, media_uuid=b1, hits=10)]}
    load_roles(dbs.engines, md, {"snapshot": [snapshot],
                                 "crashed": [snapshot, {"plays": [dict(id=2, media_uuid=b2, hits=30),
                                                                  dict(id=3, media_uuid=b1, hits=40)]}],
                                 "production": [{**snapshot, "media": [dict(uuid=b1, title="song one")]},
                                                {"plays": [dict(id=2, media_uuid=b1, hits=20)]}]})
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    assert [(o.key, o.parent_key) for o in build_plan(settings).table("plays").orphans] == [((2,), b2.hex())]
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert [k for k, _ in report.tables["plays"].skipped] == [(2,)]
    with dbs.engines["production"].connect() as conn:
        assert sorted(conn.execute(select(plays.c.hits)).scalars()) == [10, 20, 40]
    assert verify(settings)[0] == []


def _composite_schema() -> MetaData:
    """Codes keyed by (region, code), as an app keeps per-region catalogues; a shipment
    (integer-keyed) and a tag (keyed by its reference and a word) name one by both
    columns under a declared foreign key; a note travels with its shipment."""
    md = MetaData()
    Table("codes", md, Column("region", String(8), primary_key=True), Column("code", String(8), primary_key=True),
          Column("label", String(40), nullable=False, unique=True))
    Table("shipments", md, Column("id", Integer, primary_key=True), Column("region", String(8)),
          Column("code", String(8)), Column("qty", Integer),
          ForeignKeyConstraint(["region", "code"], ["codes.region", "codes.code"]))
    Table("code_tags", md, Column("region", String(8), primary_key=True), Column("code", String(8), primary_key=True),
          Column("tag", String(16), primary_key=True),
          ForeignKeyConstraint(["region", "code"], ["codes.region", "codes.code"]))
    Table("shipment_notes", md, Column("id", Integer, primary_key=True),
          Column("shipment_id", Integer, ForeignKey("shipments.id")), Column("body", String(40)))
    return md


CODES = [dict(region="eu", code="a", label="apples"), dict(region="eu", code="b", label="bananas")]
COMPOSITE_SNAPSHOT = {"codes": CODES, "shipments": [dict(id=1, region="eu", code="a", qty=10)]}
COMPOSITE_FRIDAY = {
    "codes": [dict(region="eu", code="c", label="cherries")],
    "shipments": [dict(id=2, region="eu", code="b", qty=20), dict(id=3, region="eu", code="c", qty=30),
                  dict(id=4, region="eu", code="a", qty=40)],
    "code_tags": [dict(region="eu", code="b", tag="yellow"), dict(region="eu", code="c", tag="red")],
    "shipment_notes": [dict(id=1, shipment_id=2, body="on bananas"), dict(id=2, shipment_id=3, body="on cherries")]}
COMPOSITE_EDGE = "shipments.region,code->codes.region,code"


def test_orphans_of_a_composite_keyed_parent(dbs: Databases, staged: bool) -> None:
    """Production deleted (eu, b); Friday's shipment and tag of it are orphans, shown by
    the plan with the key they name, skipped with the reason, the note on the shipment
    after them; Friday's own new code (eu, c) is no orphan for its children."""
    md = _composite_schema()
    production = {"codes": [CODES[0]], "shipments": [dict(id=1, region="eu", code="a", qty=10)]}
    load_roles(dbs.engines, md, {"snapshot": [COMPOSITE_SNAPSHOT], "crashed": [COMPOSITE_SNAPSHOT, COMPOSITE_FRIDAY],
                                 "production": [production, {"shipments": [dict(id=2, region="eu", code="a", qty=70)]}]})
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    plan = build_plan(settings)
    assert [(o.key, o.edge, o.parent_key) for o in plan.table("shipments").orphans] == [((2,), COMPOSITE_EDGE, "eu,b")]
    assert [(o.key, o.parent_key) for o in plan.table("code_tags").orphans] == [(("eu", "b", "yellow"), "eu,b")]

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert report.tables["shipments"].skipped == [((2,), f"region,code=eu,b: {ORPHANED}")]
    assert [k for k, _ in report.tables["shipment_notes"].skipped] == [(1,)]     # the skip travels
    t = md.tables
    with dbs.engines["production"].connect() as conn:
        shipments = sorted(conn.execute(select(t["shipments"].c.qty, t["shipments"].c.code)).all())
        tags = conn.execute(select(t["code_tags"].c.code, t["code_tags"].c.tag)).all()
        notes = conn.execute(select(t["shipment_notes"].c.body)).scalars().all()
    assert shipments == [(10, "a"), (30, "c"), (40, "a"), (70, "a")] and tags == [("c", "red")] and notes == ["on cherries"]
    assert verify(settings)[0] == []
    # verify catches a composite reference broken afterwards, whoever broke it: the
    # restored shipment of (eu, c) made to name the code production deleted.
    with dbs.engines["production"].begin() as conn:
        if conn.dialect.name != "sqlite":
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        conn.execute(update(t["shipments"]).where(t["shipments"].c.qty == 30).values(code="b"))
    problems = verify(settings)[0]
    assert f"shipments: a restored row's region,code = eu,b points at no codes row ({COMPOSITE_EDGE})" in problems, \
        problems


def test_a_dangling_composite_reference_is_refused_before_commit(dbs: Databases) -> None:
    """Production added its own "cherries" under (eu, z): Friday's (eu, c) is taken for
    it (a unique label: linked), and nothing maps a composite key, so Friday's shipment
    and tag of (eu, c) would name no row. The proof inside the transaction refuses and
    names the key; production stays as it was, in a dry run too."""
    md = _composite_schema()
    production = {"codes": [dict(region="eu", code="z", label="cherries")],
                  "shipments": [dict(id=2, region="eu", code="a", qty=70)]}
    load_roles(dbs.engines, md, {"snapshot": [COMPOSITE_SNAPSHOT], "crashed": [COMPOSITE_SNAPSHOT, COMPOSITE_FRIDAY],
                                 "production": [COMPOSITE_SNAPSHOT, production]})
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    before = database_state(dbs.engines["production"])
    for dry in (dbs.workdir / "dry.sql", None):
        with pytest.raises(RestoreError, match=r"integrity check failed: \S+\.region,code->codes\.region,code would "
                                               r"point at missing codes \['eu,c'\]"):
            restore(settings, options=RestoreOptions(approve_pending=True, dry_run=dry))
        assert database_state(dbs.engines["production"]) == before


def test_the_skip_of_a_uuid_keyed_row_travels_to_its_dependants(dbs: Databases, staged: bool) -> None:
    """Friday's song was uploaded by a user production deleted: the song is an orphan,
    and Friday's play of it (an integer-keyed row) and the note on that play follow it,
    in the plan as in the restore."""
    md = MetaData()
    Table("users", md, Column("id", Integer, primary_key=True), Column("name", String(40)))
    Table("media", md, Column("uuid", String(36), primary_key=True), Column("title", String(40)),
          Column("user_id", Integer, ForeignKey("users.id")))
    plays = Table("plays", md, Column("id", Integer, primary_key=True),
                  Column("media_uuid", String(36), ForeignKey("media.uuid")), Column("hits", Integer))
    Table("play_notes", md, Column("id", Integer, primary_key=True), Column("play_id", Integer, ForeignKey("plays.id")),
          Column("body", String(40)))
    snapshot = {"users": USERS, "media": [dict(uuid=M1, title="song one", user_id=1)],
                "plays": [dict(id=1, media_uuid=M1, hits=10)]}
    friday = {"media": [dict(uuid=M3, title="bob's song", user_id=2)],
              "plays": [dict(id=2, media_uuid=M3, hits=30), dict(id=3, media_uuid=M1, hits=40)],
              "play_notes": [dict(id=1, play_id=2, body="on bob's song"), dict(id=2, play_id=3, body="on song one")]}
    load_roles(dbs.engines, md, {"snapshot": [snapshot], "crashed": [snapshot, friday],
                                 "production": [{**snapshot, "users": USERS[:1]},
                                                {"plays": [dict(id=2, media_uuid=M1, hits=20)]}]})
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    plan = build_plan(settings)
    assert [(o.key, o.parent_key) for o in plan.table("media").orphans] == [((M3,), 2)]
    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert [k for k, _ in report.tables["media"].skipped] == [(M3,)]
    assert report.tables["plays"].skipped == [((2,), f"media_uuid={M3}: its media row is skipped")]
    assert [k for k, _ in report.tables["play_notes"].skipped] == [(1,)]
    with dbs.engines["production"].connect() as conn:
        assert sorted(conn.execute(select(plays.c.hits)).scalars()) == [10, 20, 40]
    assert verify(settings)[0] == []
