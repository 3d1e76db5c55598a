"""Property: the classifier never lets Friday overwrite a row production changed, never
resurrects a production delete, and calls a conflict exactly when both sides changed a
row differently (three-way), or when the timestamps cannot tell (snapshot time only)."""

from __future__ import annotations

from datetime import datetime, timedelta

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
