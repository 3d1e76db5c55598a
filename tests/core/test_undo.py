"""`gapmend undo`, by whole database states: restore, production writes on top, undo.

What undo must leave is computed here from the states and the journal alone, with the
demo's references written down by hand (`REFS`): production as it was before the
restore, plus everything production wrote since, plus the restored rows production
changed or references (and, travelling along references, the restored rows those
reference), with Friday's updates put back only where production left the row alone.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.apply.undo import UndoError, UndoOptions, undo
from gapmend.core.config import load_settings
from gapmend.core.databases import journal
from gapmend.core.demo import SNAPSHOT_AT, build_trio
from gapmend.core.plan.decisions import Decisions
from gapmend.core.runbook.verify import verify
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, MetaData, select, text

from ..conftest import Databases, _databases
from .test_restore import REFS, _rows

Key = tuple[Any, ...]
State = dict[str, dict[Key, dict[str, Any]]]


def _effects(engine: Engine, state: State) -> dict[str, dict[str, set[Key]]]:
    """table -> action -> keys of `state` (production's, just after the restore; or just
    before it, for the rows it deleted), as the journal of the (one) restore says."""
    out: dict[str, dict[str, set[Key]]] = defaultdict(lambda: defaultdict(set))
    with engine.connect() as conn:
        for table, old, new, action in journal.iter_entries(conn):
            if action in ("inserted", "updated", "deleted"):
                key = tuple(old if action == "deleted" else new or ())
                out[table][action].add(_spelled(state[table], key))
    return out


def _spelled(rows: dict[Key, Any], key: Key) -> Key:
    """`key` as `rows` spell it: the journal writes dates as text."""
    def text_(k: Key) -> Key:
        return tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in k)
    return next((k for k in rows if text_(k) == text_(key)), key)


def _pk(state: State, table: str, row: dict[str, Any]) -> Key:
    return next(k for k, r in state[table].items() if r == row)


def _expected(before: State, restored: State, since: State, effects: dict[str, dict[str, set[Key]]]) -> State:
    """What undo must leave (see the module docstring)."""
    inserted = {(t, k) for t, a in effects.items() for k in a["inserted"] if k in since[t]}
    kept = {(t, k) for t, k in inserted if since[t][k] != restored[t][k]}   # changed since
    reverted = {(t, k) for t, a in effects.items() for k in a["updated"]
                if k in since[t] and since[t][k] == restored[t][k]}

    def refs_of(table: str, key: Key) -> list[tuple[str, Key]]:
        row = before[table][key] if (table, key) in reverted else since[table][key]
        out = []
        for col, parent, morph in REFS.get(table, []):
            if row.get(col) is not None and (morph is None or row[morph[0]] == morph[1]):
                out.append((parent, (int(row[col]),)))
        return out

    changed = True
    while changed:   # a row that stays keeps the restored rows it references
        changed = False
        for table, rows in since.items():
            for key in rows:
                if (table, key) in inserted and (table, key) not in kept:
                    continue   # removed itself
                for parent in refs_of(table, key):
                    if parent in inserted and parent not in kept:
                        kept.add(parent)
                        changed = True
    out: State = {t: dict(rows) for t, rows in since.items()}
    for table, key in inserted - kept:
        del out[table][key]
    for table, key in reverted:
        out[table][key] = before[table][key]
    for table, actions in effects.items():
        for key in actions["deleted"]:
            if key not in since[table]:
                out[table][key] = before[table][key]
    return out


def _same(got: State, want: State) -> None:
    """`got == want`, failing with the rows that differ."""
    diffs = [f"{t} {k}: {got.get(t, {}).get(k)} != {want.get(t, {}).get(k)}"
             for t in sorted(set(got) | set(want))
             for k in sorted(set(got.get(t, {})) | set(want.get(t, {})), key=str)
             if got.get(t, {}).get(k) != want.get(t, {}).get(k)]
    assert not diffs, "\n".join(diffs[:20])


def _restore(dbs: Databases) -> Any:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    settings_ = load_settings(dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat()), environ={})
    before = _rows(e["production"])
    restore(settings_, options=RestoreOptions(approve_pending=True, apply_deletes=True))
    restored = _rows(e["production"])
    effects = _effects(e["production"], restored)
    for table, keys in _effects(e["production"], before).items():   # deleted rows: keys of `before`
        effects[table]["deleted"] = keys["deleted"]
    return settings_, before, restored, effects


def _table(engine: Engine, name: str) -> Any:
    md = MetaData()
    md.reflect(bind=engine, only=[name])
    return md.tables[name]


def test_undo_takes_back_exactly_what_production_left_alone(dbs: Databases) -> None:
    e = dbs.engines
    settings_, before, restored, effects = _restore(dbs)
    posts = sorted(effects["posts"]["inserted"])
    users = sorted(effects["users"]["updated"])
    assert len(posts) >= 3 and users and effects["comments"]["deleted"], "the demo restores all three kinds"
    edited, referenced, deleted = posts[0], posts[1], posts[2]
    with e["production"].begin() as conn:   # production, live again, writes on top
        conn.execute(text("UPDATE posts SET title = 'edited since' WHERE id = :id"), {"id": edited[0]})
        conn.execute(text("INSERT INTO comments (post_id, user_id, body) VALUES (:p, 1, 'written since')"),
                     {"p": referenced[0]})
        conn.execute(text("DELETE FROM post_tag WHERE post_id = :id"), {"id": deleted[0]})
        conn.execute(text("DELETE FROM images WHERE imageable_type = 'App\\\\Models\\\\Post' AND imageable_id = :id"),
                     {"id": deleted[0]})
        conn.execute(text("DELETE FROM comments WHERE post_id = :id"), {"id": deleted[0]})
        conn.execute(text("DELETE FROM posts WHERE id = :id"), {"id": deleted[0]})
        conn.execute(text("UPDATE users SET name = 'renamed since' WHERE id = :id"), {"id": users[0][0]})
        conn.execute(text("INSERT INTO tags (name) VALUES ('tagged since')"))
    since = _rows(e["production"])

    dry = undo(settings_, Decisions(), UndoOptions(dry_run=dbs.workdir / "undo.sql"))
    assert _rows(e["production"]) == since and "DELETE" in (dbs.workdir / "undo.sql").read_text()
    report = undo(settings_, Decisions())
    assert report.to_dict()["totals"] == dry.to_dict()["totals"]
    _same(_rows(e["production"]), _expected(before, restored, since, effects))
    kept = {(name, k): why for name, r in report.tables.items() for k, why in r.kept_rows}
    assert kept[("posts", edited)] == "production changed it since the restore"
    assert "comments" in kept[("posts", referenced)] and "references it" in kept[("posts", referenced)]
    assert kept[("users", users[0])] == "production changed it since the restore"
    assert report.totals()["gone"] >= 1 and report.totals()["reinserted"] == len(effects["comments"]["deleted"])

    # verify: what the restore left in production is Friday's, except the two rows production changed.
    problems, _ = verify(settings_)
    assert len(problems) == 2 and f"posts {edited[0]}: title" in problems[0] and f"users {users[0][0]}: name" in problems[1]

    # A second undo does nothing; a restore after it brings Friday's rows back again.
    state = _rows(e["production"])
    again = undo(settings_, Decisions())
    assert again.noop and _rows(e["production"]) == state
    redo = restore(settings_, options=RestoreOptions(approve_pending=True, apply_deletes=True))
    assert redo.totals()["inserted"] == report.totals()["removed"] + report.totals()["gone"]
    assert redo.totals()["updated"] == report.totals()["reverted"]
    assert verify(settings_)[0] == problems


def test_undo_refuses_bad_input_and_changes_nothing(dbs: Databases) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    settings_ = load_settings(dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat()), environ={})
    with pytest.raises(UndoError, match="no gapmend journal"):
        undo(settings_, Decisions())
    restore(settings_, options=RestoreOptions(approve_pending=True))
    state = _rows(e["production"])
    for options, message in [(UndoOptions(run_id="not-a-run"), "no committed restore not-a-run"),
                             (UndoOptions(tables=frozenset({"nowhere"})), "wrote nothing in nowhere"),
                             (UndoOptions(force_tables=frozenset({"nowhere"})), "--force-table nowhere")]:
        with pytest.raises(UndoError, match=message):
            undo(settings_, Decisions(), options)
        assert _rows(e["production"]) == state


def test_force_table_takes_back_what_production_changed(dbs: Databases) -> None:
    e = dbs.engines
    settings_, before, restored, effects = _restore(dbs)
    edited = sorted(effects["posts"]["inserted"])[0]
    with e["production"].begin() as conn:
        conn.execute(text("UPDATE posts SET title = 'edited since' WHERE id = :id"), {"id": edited[0]})
    report = undo(settings_, Decisions(), UndoOptions(tables=frozenset({"posts", "post_tag", "images", "comments"}),
                                                      force_tables=frozenset({"posts"})))
    assert report.tables["posts"].forced == 1
    posts = _table(e["production"], "posts")
    with e["production"].connect() as conn:
        assert conn.execute(select(posts.c.id).where(posts.c.id == edited[0])).first() is None
        # users were not asked for: their restored rows stay.
        assert {k for k in restored["users"]} <= {k for k in _rows(e["production"])["users"]}
    assert set(report.tables) == {"posts", "post_tag", "images", "comments"}


# Production's writes after the restore, drawn at random: (what, which restored row).
ACTION = st.tuples(st.sampled_from(["edit", "reference", "delete_leaf", "edit_updated", "unrelated"]),
                   st.integers(min_value=0, max_value=10_000))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTION, min_size=0, max_size=8))
def test_undo_after_random_production_writes(tmp_path_factory: pytest.TempPathFactory,
                                             actions: list[tuple[str, int]]) -> None:
    with _databases("sqlite", tmp_path_factory.mktemp("undo")) as dbs:
        e = dbs.engines
        settings_, before, restored, effects = _restore(dbs)
        rng = random.Random(len(actions))
        with e["production"].begin() as conn:
            for what, pick in actions:
                _production_writes(conn, restored, effects, what, pick, rng)
        since = _rows(e["production"])
        undo(settings_, Decisions())
        _same(_rows(e["production"]), _expected(before, restored, since, effects))
        state = _rows(e["production"])
        assert undo(settings_, Decisions()).noop and _rows(e["production"]) == state


def _production_writes(conn: Any, restored: State, effects: dict[str, dict[str, set[Key]]], what: str, pick: int,
                       rng: random.Random) -> None:
    comments = sorted(effects["comments"]["inserted"])
    posts = sorted(effects["posts"]["inserted"])
    if what == "edit" and posts:
        conn.execute(text("UPDATE posts SET title = title || ' (edited)' WHERE id = :id"),
                     {"id": posts[pick % len(posts)][0]})
    elif what == "reference" and posts:
        conn.execute(text("INSERT INTO comments (post_id, user_id, body) VALUES (:p, 1, :b)"),
                     {"p": posts[pick % len(posts)][0], "b": f"since {pick}"})
    elif what == "delete_leaf" and comments:
        leaf = comments[pick % len(comments)][0]   # a restored comment nothing else points at
        conn.execute(text("DELETE FROM comments WHERE id = :id AND id NOT IN "
                          "(SELECT parent_id FROM comments WHERE parent_id IS NOT NULL)"), {"id": leaf})
    elif what == "edit_updated" and effects["users"]["updated"]:
        users = sorted(effects["users"]["updated"])
        conn.execute(text("UPDATE users SET name = :n WHERE id = :id"),
                     {"n": f"renamed {rng.random()}", "id": users[pick % len(users)][0]})
    elif what == "unrelated":
        conn.execute(text("INSERT INTO tags (name) VALUES (:n)"), {"n": f"since {pick} {rng.random()}"})


def test_undo_takes_back_the_latest_restore_that_wrote_something(dbs: Databases) -> None:
    """A second restore that found nothing to do is not the one undo takes back."""
    e = dbs.engines
    settings_, before, restored, effects = _restore(dbs)
    assert restore(settings_, options=RestoreOptions(approve_pending=True, apply_deletes=True)).noop
    report = undo(settings_, Decisions())
    assert report.totals()["removed"] > 0 and report.totals()["kept"] == 0
    _same(_rows(e["production"]), before)
