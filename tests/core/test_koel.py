"""Issue 44 on a real application nobody here wrote: Koel's own 35 migrations
(tests/core/laravel_apps/koel, MIT, its licence beside them), run by artisan on MariaDB.
Koel keys its songs by UUID strings (since its 2022 migration), and names them under
declared foreign keys from a playlist's entries (``playlist_song``) and from a per-user
play counter (``interactions``), which Koel keeps once per (user, song) with "first or
create" and no unique index.

Production was restored from the snapshot; its users deleted one song, added their own
song, playlist entry and play count, and Bob played song one, as he had on Friday: both
sides made his counter. The plan shows Friday's playlist entry and play count of the
deleted song as orphans; the census proposes (song, user) as the counter's key from the
data; once the operator takes it, the restore skips the orphans, links Bob's Friday
counter to production's (production's count stands), and every other Friday row is in
production once, each reference naming the row it named on Friday, checked by meaning;
verify agrees. In place only: the staged copy path of these rules is tried by
test_string_parents on both dialects (suite time).
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
from gapmend.core.config import load_settings
from gapmend.core.errors import ReferenceError_
from gapmend.core.plan.decisions import load_decisions
from gapmend.core.runbook.verify import verify
from sqlalchemy import Engine, MetaData, select, text

from ..conftest import Databases
from ..dbstate import copy_database, database_state, load_reflected, not_null_filled
from .test_laravel_schemas import migrate_app

pytestmark = pytest.mark.mariadb
KOEL = Path(__file__).parent / "laravel_apps" / "koel"
AT, FRIDAY_AT, SUNDAY_AT = datetime(2026, 11, 19, 9, 0), datetime(2026, 11, 20, 17, 0), datetime(2026, 11, 22, 10, 0)
S1, S2, S3, S4 = (f"0b6c1f7e-9d4a-4c1e-8a3b-00000000000{i}" for i in range(1, 5))


def _user(i: int, name: str, at: datetime = AT) -> dict[str, Any]:
    return dict(id=i, name=name, email=f"{name}@x", password="x", is_admin=0, created_at=at, updated_at=at)


def _song(uuid: str, title: str, at: datetime) -> dict[str, Any]:
    return dict(id=uuid, album_id=1, artist_id=1, title=title, length=200.5, lyrics="", path=f"/music/{title}.mp3",
                mtime=1_700_000_000, created_at=at, updated_at=at)


def _counter(i: int, user: int, song: str, plays: int, at: datetime) -> dict[str, Any]:
    return dict(id=i, user_id=user, song_id=song, liked=0, play_count=plays, created_at=at, updated_at=at,
                last_played_at=at)


SNAPSHOT = {
    "users": [_user(1, "ann"), _user(2, "bob")],
    "artists": [dict(id=1, name="Unknown Artist", created_at=AT, updated_at=AT)],
    "albums": [dict(id=1, artist_id=1, name="Unknown Album", cover="", created_at=AT, updated_at=AT)],
    "songs": [_song(S1, "song one", AT), _song(S2, "song two", AT)],
    "playlists": [dict(id=1, user_id=1, name="mix", created_at=AT, updated_at=AT)],
    "playlist_song": [dict(id=1, playlist_id=1, song_id=S1)],
    "interactions": [_counter(1, 1, S1, 30, AT)],
}
FRIDAY = {
    "songs": [_song(S3, "friday song", FRIDAY_AT)],
    "playlist_song": [dict(id=2, playlist_id=1, song_id=S2), dict(id=3, playlist_id=1, song_id=S3)],
    "interactions": [_counter(2, 1, S2, 20, FRIDAY_AT), _counter(3, 1, S3, 10, FRIDAY_AT),
                     _counter(4, 2, S1, 50, FRIDAY_AT)],
}
PRODUCTION = {   # and song two deleted (`_production`)
    "songs": [_song(S4, "sunday song", SUNDAY_AT)],
    "playlist_song": [dict(id=2, playlist_id=1, song_id=S4)],
    "interactions": [_counter(2, 2, S1, 90, SUNDAY_AT)],
}


def _load(engine: Engine, *parts: dict[str, list[dict[str, Any]]]) -> None:
    load_reflected(engine, *parts, fill=not_null_filled(AT))


@pytest.fixture
def koel(dbs: Databases, tmp_path: Path) -> Databases:
    migrate_app(KOEL, dbs, tmp_path / "koel", strict=False)   # as Koel's config sets it
    _load(dbs.engines["snapshot"], SNAPSHOT)
    for role in ("crashed", "production"):
        copy_database(dbs.engines[role], dbs.urls["snapshot"].database or "")
    _load(dbs.engines["crashed"], FRIDAY)
    with dbs.engines["production"].begin() as conn:   # production deleted song two (Koel cascades)
        conn.execute(text("DELETE FROM songs WHERE id = :id"), {"id": S2})
    _load(dbs.engines["production"], PRODUCTION)
    return dbs


def meaning(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """The tables by meaning: a song by its title, a playlist entry by its playlist's name
    and its song's title, a counter by its user's email, its song's title and its count."""
    md = MetaData()
    md.reflect(bind=engine, only=["users", "songs", "playlists", "playlist_song", "interactions"])
    t = md.tables
    with engine.connect() as conn:
        rows = {n: [r._asdict() for r in conn.execute(select(t[n]))] for n in t}
    users = {r["id"]: r["email"] for r in rows["users"]}
    songs = {r["id"]: r["title"] for r in rows["songs"]}
    playlists = {r["id"]: r["name"] for r in rows["playlists"]}
    return {
        "songs": {(r["title"],) for r in rows["songs"]},
        "playlist_song": {(playlists.get(r["playlist_id"], "?"), songs.get(r["song_id"], f"?{r['song_id']}"))
                          for r in rows["playlist_song"]},
        "interactions": {(users.get(r["user_id"], "?"), songs.get(r["song_id"], f"?{r['song_id']}"), r["play_count"])
                         for r in rows["interactions"]},
    }


def _cli(env: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--env-file", str(env), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_koel_uuid_songs_and_a_counter_kept_once(koel: Databases) -> None:
    dbs = koel
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})
    assert settings.decisions_path is not None
    before = meaning(dbs.engines["production"])

    plan = build_plan(settings)
    assert [(o.key, o.edge, o.parent_key) for o in plan.table("playlist_song").orphans] == [
        ((2,), "playlist_song.song_id->songs.id", S2)]
    assert [(o.key, o.parent_key) for o in plan.table("interactions").orphans] == [((2,), S2)]
    (key,) = [f for f in plan.id_columns if f.unique]
    assert key.id == "interactions(song_id,user_id)", key.evidence()
    code, out = _cli(env, "plan", "--wide")
    assert "or not a key: `gapmend edges --not-unique 'interactions(song_id,user_id)'`" in out, out
    assert f"orphan: Friday row 2 references '{S2}' via playlist_song.song_id->songs.id, which production " \
           "deleted" in out, out   # a key whole, however wide
    state = database_state(dbs.engines["production"])
    with pytest.raises(ReferenceError_, match=r"interactions\(song_id,user_id\)"):
        restore(settings, options=RestoreOptions(approve_pending=True))
    assert database_state(dbs.engines["production"]) == state

    # The operator's word either way, and the later word stands.
    code, out = _cli(env, "edges", "--not-unique", "interactions(song_id,user_id)")
    assert code == 0 and not build_plan(settings, load_decisions(settings.decisions_path)).id_columns, out
    code, out = _cli(env, "edges", "--unique", "interactions(song_id,user_id)")
    assert code == 0 and "unique                  interactions(song_id,user_id)" in out, out
    report = restore(settings, load_decisions(settings.decisions_path), RestoreOptions(approve_pending=True))
    assert [k for k, _ in report.tables["playlist_song"].skipped] == [(2,)]
    assert [k for k, _ in report.tables["interactions"].skipped] == [(2,)]
    assert report.tables["interactions"].linked == [((4,), (2,))]
    # Its other values differ: production's row stands, the report lists Friday's.
    ((key, differ),) = report.tables["interactions"].linked_values
    assert key == (4,) and ("play_count", 50, 90) in differ and ("created_at", FRIDAY_AT, SUNDAY_AT) in differ, differ
    after = meaning(dbs.engines["production"])
    assert after == {
        "songs": before["songs"] | {("friday song",)},
        "playlist_song": before["playlist_song"] | {("mix", "friday song")},
        "interactions": before["interactions"] | {("ann@x", "friday song", 10)},   # bob's song one: production's 90
    }, after
    assert ("bob@x", "song one", 90) in after["interactions"] and ("mix", "song two") not in after["playlist_song"]
    assert verify(settings)[0] == []
