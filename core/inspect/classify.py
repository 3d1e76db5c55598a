"""The three-way rule: the class of one key's rows from its snapshot, crashed and
production versions (`classify`), and the evidence it may use beyond the rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from ..databases.schema import TableInfo
from ..plan.model import Boundary, RowClass
from .cell_merge import describe, merge_cells, stamp_indices
from .graph import Edge, held_id

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Evidence:
    """What the classifier may use for one table, beyond the rows themselves."""

    has_snapshot: bool
    snapshot_at: datetime | None
    updated_at: int | None      # column index
    created_at: int | None
    ref_columns: dict[int, Callable[[Row], bool]]   # column index -> "value points past the parent's boundary"
    names: tuple[str, ...] = ()                     # the columns, for merging by column (`cell_merge`)
    stamps: frozenset[int] = frozenset()            # column indices merged by "the later"


def classify(s: Row | None, c: Row | None, p: Row | None, ev: Evidence,
             in_snapshot: bool = False) -> tuple[RowClass | None, str]:
    """The class of one key's rows (None when nothing happened to it) and why.

    With the snapshot it is a three-way merge: a side changed the row if its version
    differs from the snapshot's; one side changed → that side's change stands; both
    changed alike → converged; both changed differently → conflict. Production's
    deletes are never undone; Friday's are applied only on request.
    Without the snapshot, `updated_at` against the snapshot time says who changed a
    row; when nothing can tell, the row is a conflict, never a guess. `in_snapshot`
    says the key is known to predate the snapshot (an id up to the table's boundary).
    """
    if ev.has_snapshot:
        if s is None:
            if c is not None and p is not None:
                return (RowClass.CONVERGED, "inserted alike on both sides") if _same(c, p, ev) else (
                    RowClass.CONFLICT, "both sides inserted this key with different values")
            if c is None and p is None:
                return None, ""
            return (RowClass.FRIDAY_INSERT, "") if c is not None else (RowClass.PRODUCTION_INSERT, "")
        c_changed = c != s
        p_changed = p != s
        if not c_changed and not p_changed:
            return None, ""
        if c_changed and not p_changed:
            return (RowClass.FRIDAY_DELETE, "") if c is None else (RowClass.FRIDAY_UPDATE, "")
        if p_changed and not c_changed:
            return (RowClass.PRODUCTION_DELETE, "") if p is None else (RowClass.PRODUCTION_UPDATE, "")
        if c is None and p is None:
            return RowClass.CONVERGED, "deleted on both sides"
        if c is None:
            return RowClass.CONFLICT, "Friday deleted a row production updated"
        if p is None:
            return RowClass.CONFLICT, "Friday updated a row production deleted (not resurrected)"
        if _same(c, p, ev):
            return RowClass.CONVERGED, "changed alike on both sides"
        if not ev.names:
            return RowClass.CONFLICT, "both sides changed the row"
        merge, clashing = merge_cells((), ev.names, s, c, p, ev.stamps, ev.ref_columns)
        if not clashing:
            return RowClass.MERGE, "both sides changed the row, in different columns: " + describe(merge)
        return RowClass.CONFLICT, f"both sides changed the row ({', '.join(clashing)} differently)"
    # Without the snapshot: c and p are versions of a snapshot row, or one side's insert.
    if c is not None and p is not None:
        if _same(c, p, ev):
            return None, ""
        cu, pu = _after(c, ev.updated_at, ev), _after(p, ev.updated_at, ev)
        if cu is None or pu is None:
            return RowClass.CONFLICT, "the rows differ and no updated_at tells which side changed"
        if cu and not pu:
            return RowClass.FRIDAY_UPDATE, "Friday's updated_at is after the snapshot time"
        if pu and not cu:
            return RowClass.PRODUCTION_UPDATE, "production's updated_at is after the snapshot time"
        if cu and pu:
            return RowClass.CONFLICT, "both updated_at are after the snapshot time"
        return RowClass.CONFLICT, "the rows differ but neither updated_at is after the snapshot time"
    only = c if c is not None else p
    if only is None:
        return None, ""
    created = False if in_snapshot else _after(only, ev.created_at, ev)
    updated = _after(only, ev.updated_at, ev)
    if c is not None:
        if created:
            return RowClass.FRIDAY_INSERT, "created after the snapshot time"
        if created is None:
            return RowClass.CONFLICT, "only Friday has this row and nothing tells a Friday insert from a production delete"
        if updated:
            return RowClass.CONFLICT, "Friday updated a row production deleted (not resurrected)"
        return RowClass.PRODUCTION_DELETE, "created before the snapshot, gone from production"
    if created:
        return RowClass.PRODUCTION_INSERT, "created after the snapshot time"
    if created is None:
        return RowClass.CONFLICT, "only production has this row and nothing tells a production insert from a Friday delete"
    if updated:
        return RowClass.CONFLICT, "Friday deleted a row production updated"
    if updated is None:
        return RowClass.CONFLICT, "Friday deleted this row; nothing tells whether production changed it"
    return RowClass.FRIDAY_DELETE, "created before the snapshot, gone from Friday's data"


def _after(row: Row, index: int | None, ev: Evidence) -> bool | None:
    if index is None or ev.snapshot_at is None:
        return None
    value = row[index]
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value > ev.snapshot_at


def _same(c: Row, p: Row, ev: Evidence) -> bool:
    """Equal as data *and* as meaning: a reference past its parent's boundary names a
    different row on each side, so `current_team_id = 51` on both is not agreement."""
    if c != p:
        return False
    return not any(is_new(c) for is_new in ev.ref_columns.values())


def evidence(t: TableInfo, edges: Sequence[Edge], boundaries: Mapping[str, Boundary],
             has_snapshot: bool, snapshot_at: datetime | None, stamp_columns: Sequence[str] = ()) -> Evidence:
    """What `classify` may use for table `t`: its timestamps and, per reference column,
    whether a value points past its parent's boundary."""
    names = t.column_names
    refs: dict[int, Callable[[Row], bool]] = {}
    for edge in edges:
        b = boundaries.get(edge.parent)
        if b is None or b.value is None or len(edge.columns) != 1:
            continue
        i = names.index(edge.columns[0])
        ti = names.index(edge.type_column) if edge.type_column else None
        refs[i] = _past_boundary(i, ti, edge.type_value, b.value, refs.get(i))
    return Evidence(
        has_snapshot=has_snapshot,
        snapshot_at=snapshot_at,
        updated_at=names.index("updated_at") if "updated_at" in names else None,
        created_at=names.index("created_at") if "created_at" in names else None,
        ref_columns=refs,
        names=tuple(names),
        stamps=stamp_indices(names, stamp_columns),
    )


def _past_boundary(i: int, ti: int | None, type_value: str | None, b: int,
                   previous: Callable[[Row], bool] | None) -> Callable[[Row], bool]:
    def check(row: Row) -> bool:
        if previous is not None and previous(row):
            return True
        if ti is not None and (row[ti] is None or str(row[ti]) != type_value):
            return False
        v = held_id(row[i])
        return isinstance(v, int) and v > b
    return check


def key_of(row: Row, key_idx: list[int]) -> Row:
    """The key of `row`: its values at `key_idx`."""
    return tuple(row[i] for i in key_idx)


def diff(names: Sequence[str], s: Row | None, c: Row | None, p: Row | None) -> tuple[tuple[str, Any, Any, Any], ...]:
    """The columns a conflict's versions disagree on: (name, snapshot, crashed, production)."""
    out: list[tuple[str, Any, Any, Any]] = []
    for i, name in enumerate(names):
        sv, cv, pv = (r[i] if r is not None else None for r in (s, c, p))
        if c is None or p is None or cv != pv or (s is not None and sv != cv):
            out.append((name, sv, cv, pv))
    return tuple(out)

