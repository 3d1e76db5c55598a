"""The restore, judged by whole database states on SQLite and MariaDB: every Friday row in
production exactly once under its mapped key, every reference pointing at the same logical
row it pointed at in the crashed database, production's own writes untouched, conflicts
kept, collisions linked, orphans skipped, a second run a no-op, a failure a full rollback."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreError, RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.databases import journal
from gapmend.core.demo import FRIDAY_INSERT, FRIDAY_UPDATE, MERGE, SNAPSHOT_AT, build_trio
from gapmend.core.inspect.gap import Reading
from gapmend.core.inspect.roles import RolesError
from gapmend.core.plan.decisions import Decisions
from gapmend.core.plan.delta import Delta
from gapmend.core.plan.file import Reviewed, facts_of
from gapmend.core.plan.selection import SelectionError
from gapmend.core.runbook.verify import verify
from sqlalchemy import MetaData, select, text

from ..conftest import Databases, Notes
from ..dbstate import database_state

# The demo's references, written down by hand so the check does not trust gapmend's graph.
REFS = {
    "users": [("current_team_id", "teams", None)],
    "teams": [("user_id", "users", None)],
    "posts": [("user_id", "users", None)],
    "comments": [("post_id", "posts", None), ("user_id", "users", None), ("parent_id", "comments", None)],
    "post_tag": [("post_id", "posts", None), ("tag_id", "tags", None)],
    "images": [("imageable_id", "posts", ("imageable_type", "App\\Models\\Post")),
               ("imageable_id", "users", ("imageable_type", "App\\Models\\User"))],
    "taggables": [("tag_id", "tags", None), ("taggable_id", "posts", ("taggable_type", "post"))],
    "activity_log": [("user_id", "users", None)],
}
# What identifies a row as "the same logical row" across the databases.
IDENTITY = {"users": "email", "teams": "name", "posts": "title", "comments": "body", "tags": "name"}


def _rows(engine: Any) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    md = MetaData()
    md.reflect(bind=engine, only=lambda n, _m: not n.startswith("gapmend_"))
    out: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name, t in md.tables.items():
            pk = [c.name for c in t.primary_key.columns] or [c.name for c in t.columns]
            out[name] = {tuple(r._mapping[c] for c in pk): dict(r._mapping) for r in conn.execute(select(*t.c))}
    return out


def _journal(engine: Any) -> dict[str, dict[str, tuple[str, Any]]]:
    """table -> encoded Friday key -> (action, new key)."""
    out: dict[str, dict[str, tuple[str, Any]]] = {}
    with engine.connect() as conn:
        for table, old, new, action in journal.iter_entries(conn):
            out.setdefault(table, {})
            if action in ("inserted", "linked", "skipped"):
                assert journal.encode(old) not in out[table] or action == "skipped", f"{table} {old} journaled twice"
                out[table][journal.encode(old)] = (action, new)
    return out


@pytest.mark.parametrize("with_snapshot", [True, False], ids=["three-way", "snapshot-time"])
def test_restore_whole_state(dbs: Databases, with_snapshot: bool, staged: bool) -> None:
    e = dbs.engines
    ledger = build_trio(e["crashed"], e["production"], e["snapshot"] if with_snapshot else None)
    settings = load_settings(dbs.env_file(snapshot=with_snapshot, snapshot_at=SNAPSHOT_AT.isoformat()), environ={})
    crashed, before = _rows(e["crashed"]), _rows(e["production"])

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert report.path.startswith("server-side")
    assert ("staged in production's database" in report.path) == staged
    after = _rows(e["production"])
    jmap = _journal(e["production"])

    inserted_total = 0
    for table, classes in ledger.classes.items():
        for key, cls in classes.items():
            if cls != FRIDAY_INSERT:
                continue
            old = tuple(key[1:])
            entry = jmap[table][journal.encode(old)]
            if old in ledger.orphans.get(table, set()):
                assert entry[0] == "skipped"
                continue
            if old in ledger.collisions.get(table, set()):
                action, target = entry
                assert action == "linked"
                col = IDENTITY[table]
                assert after[table][tuple(target)][col] == crashed[table][old][col]
                continue
            action, new = entry
            assert action == "inserted", (table, old)
            inserted_total += 1
            src = crashed[table][old]
            dst = after[table][tuple(new)] if table != "activity_log" else next(
                r for r in after[table].values() if r["action"] == src["action"] and r["created_at"] == src["created_at"]
                and after["users"][(r["user_id"],)]["email"] == crashed["users"][(src["user_id"],)]["email"])
            for col, value in src.items():
                ref = next((r for r in REFS.get(table, []) if r[0] == col and (r[2] is None or src[r[2][0]] == r[2][1])), None)
                if ref is None or value is None:
                    if col not in ("id",):
                        assert dst[col] == value, (table, old, col)
                    continue
                parent = ref[1]
                # The parent the restored row points at is the same logical row as in crashed.
                if IDENTITY.get(parent):
                    assert after[parent][(dst[col],)][IDENTITY[parent]] == crashed[parent][(value,)][IDENTITY[parent]], (table, old, col)

    # Production's own rows: unchanged, except Friday's updates where production left the row
    # alone. A row both changed, even in different columns, keeps production's values: the
    # mission's rule (a cell merge is the operator's choice, `test_cell_merge`).
    for table, rows in before.items():
        for key, row in rows.items():
            if ledger.classes.get(table, {}).get(key) == FRIDAY_UPDATE:
                assert after[table][key] == {**crashed[table][key]}, (table, key)
            else:
                assert after[table][key] == row, (table, key)
        assert len(after[table]) == len(rows) + report.tables.get(table, type("R", (), {"inserted": 0})).inserted
    assert after["users"][(6,)]["name"] == "production's name"       # the conflict kept production's value
    assert ledger.classes["users"][(8,)] == MERGE and after["users"][(8,)]["name"] != "renamed on friday"
    assert inserted_total == report.totals()["inserted"]

    problems, _ = verify(settings)
    assert problems == []

    # A second run changes nothing and says so.
    state = database_state(e["production"], journal=False)
    again = restore(settings, options=RestoreOptions(approve_pending=True))
    assert again.noop and database_state(e["production"], journal=False) == state

    # The application's next insert lands past every restored id.
    with e["production"].begin() as conn:
        conn.execute(text("INSERT INTO posts (user_id, title) VALUES (1, 'after the restore')"))
        new_id = conn.execute(text("SELECT MAX(id) FROM posts")).scalar()
    assert new_id == max(k[0] for k in after["posts"]) + 1


def test_verify_fails_on_a_broken_reference(dbs: Databases) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    restore(settings, options=RestoreOptions(approve_pending=True))
    assert verify(settings)[0] == []
    with e["production"].begin() as conn:
        target = conn.execute(text("SELECT MAX(id) FROM comments")).scalar()
        # an implied reference (no declared FK, so the server lets it break)
        conn.execute(text("UPDATE comments SET user_id = 999999 WHERE id = :i"), {"i": target})
    problems, _ = verify(settings)
    assert any("user_id" in p and "999999" in p for p in problems)
    # A restored row gone from an integer-keyed table (checked in the server) and from
    # the pivot (checked chunk by chunk): both found.
    with e["production"].begin() as conn:
        entries = list(journal.iter_entries(conn))
        image = next(new for table, _, new, action in entries if table == "images" and action == "inserted")
        pivot = next(new for table, _, new, action in entries if table == "post_tag" and action == "inserted")
        conn.execute(text("DELETE FROM images WHERE id = :i"), {"i": image[0]})
        conn.execute(text("DELETE FROM post_tag WHERE post_id = :p AND tag_id = :t"), {"p": pivot[0], "t": pivot[1]})
    problems, _ = verify(settings)
    assert f"images: restored row ({image[0]},) is missing from production" in problems
    assert f"post_tag: restored row {tuple(pivot)} is missing from production" in problems


@pytest.mark.parametrize("nth", [1, 6])   # the first write batch, and one after several tables
def test_failure_mid_restore_rolls_everything_back(dbs: Databases, nth: int, staged: bool) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    from gapmend.core.databases.journal import ensure

    ensure(e["production"])   # the journal tables exist before the transaction (DDL commits on MariaDB)
    before, counters = database_state(e["production"]), _counters(e["production"])
    with pytest.raises(RestoreError, match="injected failure"):
        restore(settings, options=RestoreOptions(approve_pending=True, fail_after_batches=nth, staged=staged))
    assert database_state(e["production"]) == before
    assert _counters(e["production"]) == counters      # AUTO_INCREMENT is not transactional: put back


def _counters(engine: Any) -> dict[str, int]:
    """Each table's next auto-increment id as the server will hand it out."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return dict(conn.execute(text("SELECT name, seq FROM sqlite_sequence")).all()) if \
                conn.dialect.has_table(conn, "sqlite_sequence") else {}
        return {t: int(n) for t, n in conn.execute(text(
            "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT IS NOT NULL"))}


def test_take_fridays_value_and_skip_collisions(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    ledger = build_trio(e["crashed"], e["production"], e["snapshot"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    decisions = Decisions(take_friday={"users": [journal.encode([6])]})
    report = restore(settings, decisions, RestoreOptions(approve_pending=True, collisions="skip", staged=staged))
    after = _rows(e["production"])
    assert after["users"][(6,)]["name"] == "friday's name"
    assert report.tables["users"].conflicts_taken == 1
    skipped = {k for k, _ in report.tables["users"].skipped}
    assert skipped == ledger.collisions["users"]
    # Friday's team owned by the skipped user is skipped with it (a dependant).
    assert any("skipped" in why for _, why in report.tables["teams"].skipped)


def test_dry_run_writes_sql_and_changes_nothing(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    before, counters = database_state(e["production"]), _counters(e["production"])
    sql = dbs.workdir / "restore.sql"
    report = restore(settings, options=RestoreOptions(approve_pending=True, dry_run=sql, staged=staged))
    assert database_state(e["production"]) == before            # not even the journal tables
    assert _counters(e["production"]) == counters               # nor the auto-increment counters
    assert report.totals()["inserted"] > 0 and report.dry_run == str(sql)
    script = sql.read_text()
    assert sql.stat().st_mode & 0o777 == 0o600
    assert script.count("INSERT INTO") >= 10 and "UPDATE" in script
    # The real restore afterwards does the same work.
    assert restore(settings, options=RestoreOptions(approve_pending=True)).totals()["inserted"] == report.totals()["inserted"]


# One stop point per path here (half way); `test_payloads` stops a per-table run at every
# batch, and the kill trials at random points.
@pytest.mark.parametrize("nth", [6])
def test_per_table_mode_resumes_to_the_same_state(dbs_pair: tuple[Databases, Databases], nth: int,
                                                  staged: bool) -> None:
    broken, reference = dbs_pair
    for d in dbs_pair:
        build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
    ref_settings = load_settings(reference.env_file(snapshot=True, snapshot_at=None), environ={})
    restore(ref_settings, options=RestoreOptions(approve_pending=True))   # one uninterrupted, atomic run
    settings = load_settings(broken.env_file(snapshot=True, snapshot_at=None), environ={})
    initial = database_state(broken.engines["production"], journal=False)
    with pytest.raises(RestoreError, match="injected failure"):
        restore(settings, options=RestoreOptions(approve_pending=True, per_table=True, fail_after_batches=nth, staged=staged))
    # Some tables were committed before the failure: the run stopped half way.
    assert database_state(broken.engines["production"], journal=False) != initial
    restore(settings, options=RestoreOptions(approve_pending=True, per_table=True))
    got = database_state(broken.engines["production"], journal=False)
    want = database_state(reference.engines["production"], journal=False)
    assert {t: sorted(set(got[t]) ^ set(want[t]), key=str) for t in want if got[t] != want[t]} == {}
    assert verify(settings)[0] == []
    assert restore(settings, options=RestoreOptions(approve_pending=True)).noop


def test_identical_rows_in_a_table_without_key_are_all_restored(dbs: Databases) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    with e["crashed"].begin() as conn:   # Friday logged the same event twice
        for _ in range(2):
            conn.execute(text("INSERT INTO activity_log (user_id, action, created_at) "
                              "VALUES (2, 'double click', '2026-11-20 10:00:00')"))
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    restore(settings, options=RestoreOptions(approve_pending=True))
    with e["production"].connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM activity_log WHERE action = 'double click'")).scalar() == 2
    assert restore(settings, options=RestoreOptions(approve_pending=True)).noop


def test_in_place_and_staged_end_in_the_same_state(dbs_pair: tuple[Databases, Databases]) -> None:
    """Friday's rows read where they lie or staged first: the same statements decide
    them, so production must end identical, orphans under --orphans null included."""
    states = []
    for d, staged in zip(dbs_pair, (False, True)):
        build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
        settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
        report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged, orphans="null"))
        assert ("staged in production's database" in report.path) == staged
        states.append((database_state(d.engines["production"], journal=False), report.totals(),
                       {n: (sorted(k for k, _ in r.skipped), sorted(r.linked), r.moved[:50], r.moved_count, r.kept_ids) for n, r in report.tables.items()}))
    assert states[0] == states[1]


def test_restoring_in_two_goes_ends_where_one_go_does(dbs_pair: tuple[Databases, Databases], staged: bool) -> None:
    """`--tables posts` first (users and teams are pulled in as parents), the rest later:
    the second run maps references to the rows the first one moved, through the journal."""
    states = []
    for d, goes in zip(dbs_pair, ([frozenset({"posts"}), None], [None])):
        build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
        settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
        for tables in goes:
            report = restore(settings, options=RestoreOptions(approve_pending=True, tables=tables, staged=staged))
            if tables is not None:
                assert {"users", "teams"} <= set(report.pulled_in) and "comments" not in report.tables
                # what was pulled in is written, so not "left out"; what was not asked for is
                assert report.left_out.get("comments") == "not among --tables" and "users" not in report.left_out
        assert verify(settings)[0] == []
        states.append(database_state(d.engines["production"], journal=False))
    assert states[0] == states[1]


def test_the_plans_delta_ends_in_the_same_state(dbs_pair: tuple[Databases, Databases]) -> None:
    """A restore of a reviewed plan compares only the keys of Friday's delta (kept by the
    plan) and must end where one that compares every table ends, on both dialects."""
    states = []
    for d, planned in zip(dbs_pair, (False, True)):
        build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
        settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
        reviewed = None
        if planned:
            delta = Delta()
            plan = build_plan(settings, reading=Reading(delta=delta))
            assert delta.keys["users"] and set(delta.fingerprints) == {"crashed", "snapshot"}
            reviewed = Reviewed(facts_of(plan), Decisions(), delta=delta)
        notes = Notes()
        report = restore(settings, options=RestoreOptions(approve_pending=True, reviewed=reviewed), progress=notes)
        assert any(n.startswith("Friday's delta from") for n in notes.lines) == planned
        assert verify(settings)[0] == []
        states.append((database_state(d.engines["production"], journal=False), report.totals()))
    assert states[0] == states[1]


def test_the_plans_delta_keeps_what_it_read_of_the_sources(dbs: Databases) -> None:
    """Crashed's and the snapshot's latest writes are read by the plan, kept in its delta
    (through the plan file's JSON) and not looked up again, table by table, by a restore
    whose fingerprints show both unchanged: the role facts it checks are the plan's."""
    build_trio(dbs.engines["crashed"], dbs.engines["production"], dbs.engines["snapshot"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    delta = Delta()
    plan = build_plan(settings, reading=Reading(delta=delta))
    kept = Delta.from_json(json.loads(json.dumps(delta.to_json())))
    assert kept is not None
    assert kept.latest_writes == {f.role: (f.latest_write, f.latest_at) for f in plan.roles if f.role != "production"}
    assert build_plan(settings, reading=Reading(known=kept)).roles == plan.roles
    keyed = [g.table for g in plan.tables if g.key_kind == "surrogate"]
    assert keyed and kept.highest == {role: _highest_ids(dbs.engines[role], keyed) for role in ("crashed", "snapshot")}
    kept.highest["crashed"]["posts"] += 5   # the plan's word is the one read, while the fingerprints hold
    assert build_plan(settings, reading=Reading(known=kept)).table("posts").crashed_max_id == kept.highest["crashed"]["posts"]
    crashed_at = kept.latest_writes["crashed"][0]
    assert crashed_at is not None
    kept.latest_writes["snapshot"] = (crashed_at + timedelta(days=1), "posts.updated_at")
    with pytest.raises(RolesError, match="snapshot"):   # the plan's word, not a new lookup
        build_plan(settings, reading=Reading(known=kept))


def test_a_delta_found_under_another_boundary_is_not_trusted(dbs_pair: tuple[Databases, Databases]) -> None:
    """The wizard's step 1 finds Friday's delta under the snapshot's boundary; an operator
    who then moves a boundary up (`boundary posts N`) puts rows in the overlap that the
    delta never compared: that table is compared in full, and the restore ends as one
    planned under the moved boundary from the start."""
    states = []
    for d, stale in zip(dbs_pair, (False, True)):
        ledger = build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
        settings = load_settings(d.env_file(snapshot=True, snapshot_at=None), environ={})
        moved = Decisions(boundaries={"posts": ledger.boundaries["posts"] + 2})
        delta = Delta()
        build_plan(settings, moved if not stale else Decisions(), reading=Reading(delta=delta))
        reviewed = Reviewed(facts_of(build_plan(settings, moved)), moved, delta=delta)
        report = restore(settings, moved, options=RestoreOptions(approve_pending=True, reviewed=reviewed))
        assert report.tables["posts"].conflicts_kept >= 2   # the two ids both sides wrote, now in the overlap
        states.append((database_state(d.engines["production"], journal=False), report.totals()))
    assert states[0] == states[1]


def _highest_ids(engine: Any, tables: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {name}")).scalar_one() for name in tables}


def test_trusting_updated_at_ends_in_the_same_state(dbs_pair: tuple[Databases, Databases]) -> None:
    """Comparing only the rows stamped after the snapshot time (and the ids a side lacks)
    restores what comparing the whole overlap restores, when every change stamps
    updated_at, as the demo's (like Eloquent's) do."""
    states = []
    for d, trust in zip(dbs_pair, ("no", "yes")):
        build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
        settings = load_settings(d.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat()),
                                 environ={"GAPMEND_TRUST_UPDATED_AT": trust})
        assert settings.trust_updated_at == (trust == "yes")
        report = restore(settings, options=RestoreOptions(approve_pending=True))
        states.append((database_state(d.engines["production"], journal=False), report.totals()))
    assert states[0] == states[1]


def test_verify_compares_every_restored_row_with_fridays(dbs: Databases) -> None:
    """A changed value, a reference moved to another existing row, and an applied update
    undone are each found by `verify`, naming table, key and column (issue 14, item 5)."""
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    restore(settings, options=RestoreOptions(approve_pending=True))
    problems, counts = verify(settings)
    assert problems == [] and counts["compared"] > 0
    with e["production"].begin() as conn:
        entries = list(journal.iter_entries(conn))
        post = next(new[0] for table, _, new, action in entries if table == "posts" and action == "inserted")
        comments = [new[0] for table, _, new, action in entries if table == "comments" and action == "inserted"]
        comment = conn.execute(text(f"SELECT MIN(id) FROM comments WHERE user_id <> 1 AND id IN ({','.join(map(str, comments))})")).scalar()
        updated = next(new[0] for table, _, new, action in entries if table == "users" and action == "updated")
        conn.execute(text("UPDATE posts SET title = 'not Friday''s' WHERE id = :i"), {"i": post})
        # Still a row that exists, so only the comparison with the mapping can tell.
        conn.execute(text("UPDATE comments SET user_id = 1 WHERE id = :i"), {"i": comment})
        conn.execute(text("UPDATE users SET name = 'before Friday' WHERE id = :i"), {"i": updated})
    problems, _ = verify(settings)
    assert any(p.startswith(f"posts {post}: title is 'not Friday''s'") for p in problems), problems
    assert any(p.startswith(f"comments {comment}: user_id is 1 but") for p in problems), problems
    assert any(p.startswith(f"users {updated}: name is 'before Friday' but the updated Friday row") for p in problems)


def test_verify_in_the_server_is_byte_exact_and_maps_references(dbs: Databases) -> None:
    """The server's comparison of every restored row (`outcome_sql`, used where production's
    connection reads crashed's tables) passes a clean restore and lets through no
    difference the column-by-column check would name: case, a trailing space, a NULL, and
    a polymorphic reference moved to another row of the same type (issue 42, item 2)."""
    from gapmend.core.apply.crashed_address import attached, choose_address
    from gapmend.core.databases.schema import reflect
    from gapmend.core.inspect.graph import build_graph
    from gapmend.core.runbook.outcome_sql import sql_suspects

    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    restore(settings, options=RestoreOptions(approve_pending=True))
    crashed, production = reflect(e["crashed"], "crashed"), reflect(e["production"], "production")
    address, _ = choose_address(e["production"], e["crashed"], crashed, staged=False)
    assert not address.staged
    with e["production"].connect() as conn, attached(conn, address):
        graph = build_graph(production, [conn])
        for table in ("posts", "comments", "images", "users"):
            found = sql_suspects(conn, address, production, crashed, graph, table, 100)
            assert found is not None and found[0] > 0, table
            assert [entry for page in found[1] for entry in page] == [], table
    with e["production"].begin() as conn:
        entries = list(journal.iter_entries(conn))
        posts = [new[0] for table, _, new, action in entries if table == "posts" and action == "inserted"]
        images = [new[0] for table, _, new, action in entries if table == "images" and action == "inserted"]
        image = conn.execute(text(f"SELECT MIN(id) FROM images WHERE imageable_type = :type "
                                  f"AND id IN ({','.join(map(str, images))})"), {"type": "App\\Models\\Post"}).scalar()
        other = conn.execute(text("SELECT imageable_id FROM images WHERE id = :i"), {"i": image}).scalar()
        first = conn.execute(text("SELECT MIN(id) FROM posts")).scalar()   # another post, there to be pointed at
        conn.execute(text("UPDATE posts SET title = UPPER(title) WHERE id = :i"), {"i": posts[0]})
        conn.execute(text("UPDATE posts SET title = title || ' ' WHERE id = :i" if dbs.dialect == "sqlite" else
                          "UPDATE posts SET title = CONCAT(title, ' ') WHERE id = :i"), {"i": posts[1]})
        conn.execute(text("UPDATE posts SET body = NULL WHERE id = :i"), {"i": posts[2]})
        conn.execute(text("UPDATE images SET imageable_id = :p WHERE id = :i"), {"p": first, "i": image})
    assert other != first
    problems, _ = verify(settings)
    assert any(p.startswith(f"posts {posts[0]}: title is 'FRIDAY POST") for p in problems), problems
    assert any(p.startswith(f"posts {posts[1]}: title is ") and "' but" in p for p in problems), problems
    assert any(p.startswith(f"posts {posts[2]}: body is NULL but") for p in problems), problems
    assert any(p.startswith(f"images {image}: imageable_id is {first} but") for p in problems), problems


def test_an_estimated_boundary_is_not_restored_until_the_operator_confirms_it(dbs: Databases) -> None:
    """Without the snapshot or its time, boundaries come from content alone (medium or low
    confidence): the restore refuses, naming the table and the command, and changes
    nothing; once the operator confirms each value it goes ahead (issue 14, item 4)."""
    e = dbs.engines
    build_trio(e["crashed"], e["production"], None)
    settings = load_settings(dbs.env_file(snapshot=False, snapshot_at=None), environ={})
    before = database_state(e["production"])
    with pytest.raises(SelectionError, match=r"only estimated .* confirm it with `gapmend boundary \w+ \d+`") as err:
        restore(settings, options=RestoreOptions(approve_pending=True))
    assert "\n" not in str(err.value)
    assert database_state(e["production"]) == before
    from gapmend.core.apply.preview import build_plan

    plan = build_plan(settings)
    unconfirmed = {g.table: g.boundary.value for g in plan.tables if g.has_work and g.boundary.unconfirmed}
    assert unconfirmed
    decisions = Decisions(boundaries={t: int(v) for t, v in unconfirmed.items() if v is not None})
    report = restore(settings, decisions, RestoreOptions(approve_pending=True))
    assert report.totals()["inserted"] > 0
