"""Property: the classifier never lets Friday overwrite a row production changed, never
resurrects a production delete, and calls a conflict exactly when both sides changed a
row differently (three-way), or when the timestamps cannot tell (snapshot time only)."""

from __future__ import annotations

from datetime import datetime, timedelta

from gapmend.core.inspect.cell_merge import merge_cells
from gapmend.core.inspect.classify import Evidence, classify
from gapmend.core.plan.model import RowClass
from hypothesis import given
from hypothesis import strategies as st

T = datetime(2026, 11, 19, 23, 0)
VERSION = st.one_of(st.none(), st.tuples(st.integers(1, 1), st.sampled_from(["x", "y", "z"]),
                                         st.sampled_from([T - timedelta(days=1), T + timedelta(hours=5)])))
THREE_WAY = Evidence(has_snapshot=True, snapshot_at=T, updated_at=2, created_at=None, ref_columns={})
TIME_ONLY = Evidence(has_snapshot=False, snapshot_at=T, updated_at=2, created_at=None, ref_columns={})
FRIDAY_WRITES = {RowClass.FRIDAY_UPDATE, RowClass.FRIDAY_DELETE}


@given(s=VERSION, c=VERSION, p=VERSION)
def test_three_way_rules(s, c, p) -> None:  # type: ignore[no-untyped-def]
    cls, _ = classify(s, c, p, THREE_WAY)
    if cls in FRIDAY_WRITES:
        assert p == s and c != s                      # production left it alone
    if s is not None and p is None:
        assert cls not in FRIDAY_WRITES | {RowClass.FRIDAY_INSERT}   # never resurrected
    if s is None:   # a key both sides inserted
        expected_conflict = c is not None and p is not None and c != p
    else:           # both changed the snapshot's row, and not alike
        expected_conflict = c != s and p != s and c != p
    assert (cls is RowClass.CONFLICT) == expected_conflict
    if c == s and p == s:
        assert cls is None


@given(c=VERSION, p=VERSION)
def test_snapshot_time_rules(c, p) -> None:  # type: ignore[no-untyped-def]
    cls, _ = classify(None, c, p, TIME_ONLY, in_snapshot=True)
    if cls is RowClass.FRIDAY_UPDATE:
        assert c is not None and p is not None and c[2] > T >= p[2]
    if cls is RowClass.FRIDAY_DELETE:
        assert c is None and p is not None and p[2] <= T
    if c is not None and p is None:
        assert cls in (RowClass.PRODUCTION_DELETE, RowClass.CONFLICT)
    if c is not None and p is not None and c != p and c[2] > T and p[2] > T:
        assert cls is RowClass.CONFLICT


# Rows of (id, title, body, updated_at): title and body are the app's columns, updated_at
# the timestamp an app stamps on every save (merged by "the later", `cell_merge`).
NAMES = ("id", "title", "body", "updated_at")
CELLS = st.tuples(st.just(1), st.sampled_from(["a", "b", "c"]), st.sampled_from(["x", "y"]),
                  st.sampled_from([T - timedelta(days=1), T + timedelta(hours=5), T + timedelta(hours=6)]))
BY_COLUMN = Evidence(has_snapshot=True, snapshot_at=T, updated_at=3, created_at=None, ref_columns={}, names=NAMES,
                     stamps=frozenset({3}))


@given(s=CELLS, c=CELLS, p=CELLS)
def test_cell_merge_rules(s, c, p) -> None:  # type: ignore[no-untyped-def]
    """Per column: a change only one side made stands, a timestamp both changed takes the
    later value, and only an app column both changed to different values is a conflict;
    the merged row keeps every change either side made."""
    cls, _ = classify(s, c, p, BY_COLUMN)
    both_changed = c != s and p != s and c != p
    clash = [n for i, n in enumerate(NAMES[:3]) if c[i] != s[i] and p[i] != s[i] and c[i] != p[i]]
    assert (cls is RowClass.CONFLICT) == (both_changed and bool(clash))
    assert (cls is RowClass.MERGE) == (both_changed and not clash)
    if cls not in (RowClass.MERGE, RowClass.CONFLICT):
        return
    merge, clashing = merge_cells((1,), NAMES, s, c, p, BY_COLUMN.stamps, {})
    assert list(clashing) == clash
    merged = {n: c[i] if n in merge.friday else max(c[i], p[i]) if n in merge.later else p[i]
              for i, n in enumerate(NAMES)}
    for i, n in enumerate(NAMES):
        if n in clash:
            assert merged[n] == p[i]                 # a clash keeps production's value, reported
        elif n == "updated_at" and c[i] != s[i] and p[i] != s[i]:
            assert merged[n] == max(c[i], p[i])      # the later timestamp
        elif c[i] != s[i]:
            assert merged[n] == c[i]                 # Friday's change stands
        elif p[i] != s[i]:
            assert merged[n] == p[i]                 # production's change stands
        else:
            assert merged[n] == s[i]
    assert set(merge.friday) | set(merge.production) | set(merge.later) | set(clash) == {
        n for i, n in enumerate(NAMES) if c[i] != s[i] or p[i] != s[i]} - {
        n for i, n in enumerate(NAMES) if c[i] != s[i] and c[i] == p[i] and n not in merge.later}
