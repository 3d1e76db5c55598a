"""Property: the fast comparisons (MariaDB chunk checksums; a join by key across databases
on one server or ATTACHed SQLite files) name every id whose row differs between the sides,
and no id whose rows are equal, whatever the values (NULL versus '', case, unicode,
trailing spaces) and wherever the differences lie."""

from __future__ import annotations

from typing import Any

from gapmend.core.databases.schema import reflect
from gapmend.core.inspect import compare
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table, insert, text

from ..conftest import Databases

VALUES = st.one_of(st.none(), st.sampled_from(["", "a", "A", "é", "a ", "NULL", "0", "#"]), st.text(max_size=6))
ROWS = st.lists(st.tuples(VALUES, st.one_of(st.none(), st.integers(-3, 3))), min_size=0, max_size=120)
EDITS = st.lists(st.tuples(st.integers(1, 130), st.sampled_from(["update", "delete", "insert"]), VALUES), max_size=15)


def _apply(rows: dict[int, tuple[Any, Any]], edits: list[tuple[int, str, Any]]) -> dict[int, tuple[Any, Any]]:
    out = dict(rows)
    for i, op, value in edits:
        if op == "delete":
            out.pop(i, None)
        elif op == "update" and i in out:
            out[i] = (value, out[i][1])
        elif op == "insert" and i not in out:
            out[i] = (value, None)
    return out


def _load(engine: Any, rows: dict[int, tuple[Any, Any]]) -> None:
    md = MetaData()
    # Not AUTO_INCREMENT: MariaDB would store an inserted id 0 as the next id.
    t = Table("t", md, Column("id", Integer, primary_key=True, autoincrement=False), Column("s", String(20)),
              Column("n", Integer))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS t"))
        md.create_all(conn)
        if rows:
            conn.execute(insert(t), [{"id": i, "s": s, "n": n} for i, (s, n) in sorted(rows.items())])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=ROWS, edits=EDITS, third_edits=EDITS, shift=st.sampled_from([0, -70]))
def test_candidates_are_exactly_the_differing_ids(dbs: Databases, base: list[tuple[Any, Any]], edits: list[Any],
                                                  third_edits: list[Any], shift: int) -> None:
    """`shift` puts ids below zero too (a natural key may hold them): chunks must not fold
    -5 and 5 together. On SQLite a third side (the snapshot) is joined too, against both
    others in one statement: the ids differing from either come back."""
    a_rows = {i + 1 + shift: r for i, r in enumerate(base)}
    b_rows = _apply(a_rows, [(i + shift, op, v) for i, op, v in edits])
    _load(dbs.engines["crashed"], a_rows)
    _load(dbs.engines["production"], b_rows)
    truth = {i for i in set(a_rows) | set(b_rows) if a_rows.get(i) != b_rows.get(i)}
    table = reflect(dbs.engines["crashed"], "crashed")["t"]
    hi = max(truth | set(a_rows) | set(b_rows) | {0})
    lo = min(set(a_rows) | set(b_rows) | {1}) - 1
    if dbs.dialect == "sqlite":
        c_rows = {i: r for i, r in _apply(a_rows, [(i + shift, op, v) for i, op, v in third_edits]).items() if lo < i <= hi}
        _load(dbs.engines["snapshot"], c_rows)
        truth3 = truth | {i for i in set(a_rows) | set(c_rows) if lo < i <= hi and a_rows.get(i) != c_rows.get(i)}
        with dbs.engines["production"].connect() as conn:
            for alias in ("crashed", "snapshot"):
                conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                    f"ATTACH DATABASE ? AS {alias}", (str(dbs.urls[alias].database),))
            ranges = list(compare.attached_ranges(conn, ["crashed", "main"], table, lo, hi))
            three = list(compare.attached_ranges(conn, ["crashed", "main", "snapshot"], table, lo, hi))
            conn.rollback()
            for alias in ("crashed", "snapshot"):
                conn.connection.driver_connection.execute(f"DETACH DATABASE {alias}")  # type: ignore[union-attr]
        assert {i for r_lo, r_hi in three for i in range(r_lo + 1, r_hi + 1)} == truth3
    else:
        with dbs.engines["crashed"].connect() as c, dbs.engines["production"].connect() as p:
            c.exec_driver_sql("SET time_zone = '+00:00'")
            ranges = list(compare.checksum_ranges([compare.Side(c, table), compare.Side(p, table)], lo, hi))
            # The same databases on one server, joined by key from production's connection.
            joined = list(compare.attached_ranges(p, [str(dbs.urls["crashed"].database),
                                                      str(dbs.urls["production"].database)], table, lo, hi))
        assert {i for lo, r_hi in joined for i in range(lo + 1, r_hi + 1)} == truth
    named = {i for lo, r_hi in ranges for i in range(lo + 1, r_hi + 1)}
    assert truth <= named
    # Only the drilled-down rows: nothing equal is named (ranges end at single ids).
    assert named == truth


MULTISET = st.lists(st.tuples(VALUES, st.one_of(st.none(), st.integers(-2, 2))), max_size=40)


def _load_keyless(engine: Any, rows: list[tuple[Any, Any]]) -> None:
    md = MetaData()
    t = Table("k", md, Column("s", String(20)), Column("n", Integer))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS k"))
        md.create_all(conn)
        if rows:
            conn.execute(insert(t), [{"s": s, "n": n} for s, n in rows])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=MULTISET, b=MULTISET, shared=MULTISET)
def test_joint_differences_are_exactly_the_rows_not_alike(dbs: Databases, a: list[Any], b: list[Any],
                                                          shared: list[Any]) -> None:
    """Grouped inside the server, a keyless table's rows come back with each side's count
    exactly where the counts differ: duplicates, NULLs, case and trailing spaces included."""
    from collections import Counter

    _load_keyless(dbs.engines["crashed"], shared + a)
    _load_keyless(dbs.engines["production"], b + shared)
    want = {row: (n_a, n_b) for row in set(a) | set(b)
            if (n_a := Counter(shared + a)[row]) != (n_b := Counter(b + shared)[row])}
    table = reflect(dbs.engines["crashed"], "crashed")["k"]
    md = MetaData()
    with dbs.engines["production"].connect() as conn:
        if dbs.dialect == "sqlite":
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "ATTACH DATABASE ? AS crashed", (str(dbs.urls["crashed"].database),))
        schema = "crashed" if dbs.dialect == "sqlite" else dbs.urls["crashed"].database
        sides = {1: table.table.to_metadata(md, schema=schema), 2: table.table}
        got = {values: (n[1], n[2]) for values, n in
               compare.joint_differences(conn, sides, table, table.column_names, lambda _t: None)}
        conn.rollback()
        if dbs.dialect == "sqlite":
            conn.connection.driver_connection.execute("DETACH DATABASE crashed")  # type: ignore[union-attr]
    assert got == want


KEYED = st.dictionaries(st.tuples(st.integers(-3, 70), st.integers(0, 3)),
                        st.tuples(VALUES, st.one_of(st.none(), st.integers(-2, 2))), max_size=50)


def _load_keyed(engine: Any, rows: dict[tuple[int, int], tuple[Any, Any]]) -> None:
    md = MetaData()
    t = Table("kv", md, Column("b", Integer, nullable=False), Column("s", String(20)),
              Column("a", Integer, nullable=False), Column("n", Integer), PrimaryKeyConstraint("a", "b"))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS kv"))
        md.create_all(conn)
        if rows:
            conn.execute(insert(t), [{"a": a, "b": b, "s": s, "n": n} for (a, b), (s, n) in rows.items()])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=KEYED, edits=KEYED, third=KEYED, dropped=st.sets(st.tuples(st.integers(-3, 70), st.integers(0, 3))))
def test_keyed_versions_are_exactly_the_keys_that_differ(dbs: Databases, base: dict[Any, Any], edits: dict[Any, Any],
                                                        third: dict[Any, Any], dropped: set[Any]) -> None:
    """Joined by a composite key (declared in another order than the columns), every key
    whose row differs between the base and one side (or either of two) comes back once,
    with all three sides' versions, in key order: NULL versus '', case and trailing
    spaces count as differences."""
    other = {k: v for k, v in {**base, **edits}.items() if k not in dropped}
    _load_keyed(dbs.engines["crashed"], base)
    _load_keyed(dbs.engines["production"], other)
    _load_keyed(dbs.engines["snapshot"], third)

    def row(rows: dict[Any, Any], key: tuple[int, int]) -> tuple[Any, ...] | None:
        return None if key not in rows else (key[1], rows[key][0], key[0], rows[key][1])

    def versions(keys: set[Any]) -> list[tuple[Any, ...]]:
        return [(row(base, k), row(other, k), row(third, k)) for k in sorted(keys)]
    # Against one side (the restore: crashed against the snapshot), and against two (the
    # plan: both against the snapshot), where a key differing from both comes once.
    want = versions({k for k in set(base) | set(other) if base.get(k) != other.get(k)})
    want_both = versions({k for k in set(base) | set(other) | set(third)
                          if base.get(k) != other.get(k) or base.get(k) != third.get(k)})
    table = reflect(dbs.engines["crashed"], "crashed")["kv"]
    assert table.primary_key[0] == "a"   # the key's order, not the columns'
    md = MetaData()
    with dbs.engines["production"].connect() as conn:
        if dbs.dialect == "sqlite":
            for alias in ("crashed", "snapshot"):
                conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                    f"ATTACH DATABASE ? AS {alias}", (str(dbs.urls[alias].database),))
            names = {"crashed": "crashed", "snapshot": "snapshot"}
        else:
            names = {role: str(dbs.urls[role].database) for role in ("crashed", "snapshot")}
        crashed, snapshot = (table.table.to_metadata(md, schema=names[role]) for role in ("crashed", "snapshot"))
        engine = dbs.engines["production"] if dbs.dialect != "sqlite" else None
        sides = [crashed, table.table, snapshot]
        got = [v for part in compare.keyed_versions(conn, sides, table, engine) for v in part]
        got_both = [v for part in compare.keyed_versions(conn, sides, table, engine, compared=3) for v in part]
        conn.rollback()
        if dbs.dialect == "sqlite":
            for alias in ("crashed", "snapshot"):
                conn.connection.driver_connection.execute(f"DETACH DATABASE {alias}")  # type: ignore[union-attr]
    assert got == want
    assert got_both == want_both
