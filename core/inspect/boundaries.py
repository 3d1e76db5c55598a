"""Where the snapshot ends in each table with one integer key: its boundary, and the
evidence for it.

The snapshot's last id, from the SNAPSHOT database when given (exact); else the highest
id created at or before ``GAPMEND_SNAPSHOT_AT`` (high); else the highest id both sides
hold with the same content (medium with ``created_at``, low without); or the operator's
override. A boundary not read from the snapshot is then checked against the rows of
child tables that reference it (`BoundaryFinder.confirmed`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select

from ..databases import journal
from ..databases import rows as rowio
from ..databases.schema import KeyKind, Schema, TableInfo
from ..errors import PlanError
from ..plan.decisions import Decisions
from ..plan.model import Boundary
from ..progress import Progress, check_cancel
from .graph import ReferenceGraph


@dataclass
class BoundaryFinder:
    """Reads every side's ids (and, without a snapshot, their content) to place each boundary."""

    schema: Schema
    graph: ReferenceGraph
    crashed: Connection
    production: Connection
    snapshot: Connection | None   # when there is one
    snapshot_at: datetime | None
    decisions: Decisions
    # Each integer-keyed table's highest id in crashed and in production, as `find` read them.
    maxima: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Crashed's and the snapshot's highest ids as a plan read them from databases
    # unchanged since (`plan.delta`), by role; read again where one lacks a table.
    known: dict[str, dict[str, int]] = field(default_factory=dict)
    _highest: dict[str, dict[str, int]] = field(default_factory=dict, init=False)   # side -> table -> highest id
    _journaled: bool | None = field(default=None, init=False)   # whether a counted restore wrote to production

    def find_all(self, tables: list[TableInfo], progress: Progress,
                 cancel: threading.Event | None) -> dict[str, Boundary]:
        """Every table's boundary, parents first (a child's rows confirm its parents')."""
        boundaries: dict[str, Boundary] = {}
        progress.start("finding boundaries", len(tables))
        integer_keyed = [t for t in tables if t.key_kind == KeyKind.SURROGATE]
        self._highest = {side: self._read_highest(side, conn, integer_keyed)
                         for side, conn in (("c", self.crashed), ("p", self.production), ("s", self.snapshot)) if conn is not None}
        for t in tables:
            check_cancel(cancel)
            boundaries[t.name] = self.find(t)
            progress.advance(1)
        for t in tables:   # children write after parents: their boundaries are all known now
            b = boundaries[t.name]
            if b.unconfirmed or b.method == "snapshot_at":
                boundaries[t.name] = self.confirmed(t, b, boundaries)
        return boundaries

    def highest(self, side: str) -> dict[str, int]:
        """One side's ("c", "p" or "s") highest id per integer-keyed table, as read."""
        return dict(self._highest.get(side, {}))

    def _read_highest(self, side: str, conn: Connection, integer_keyed: list[TableInfo]) -> dict[str, int]:
        known = self.known.get({"c": "crashed", "s": "snapshot"}.get(side, ""), {})
        if all(t.name in known for t in integer_keyed):
            return {t.name: known[t.name] for t in integer_keyed}
        return rowio.highest_ids(conn, integer_keyed)

    def find(self, t: TableInfo) -> Boundary:
        if t.key_kind != KeyKind.SURROGATE:
            return Boundary(None, "by key", "exact" if self.snapshot is not None else ("high" if self.snapshot_at else "low"),
                            "rows matched by key" + (" across the snapshot" if self.snapshot is not None else ""))
        key = t.table.c[t.primary_key[0]]
        c_max, p_max = self._max_id("c", t), self._max_id("p", t)
        self.maxima[t.name] = (c_max, p_max)
        if t.name in self.decisions.boundaries:
            value = self.decisions.boundaries[t.name]
            if value > max(c_max, p_max) or value < 0:
                raise PlanError(
                    f"boundary {value} for {t.name} is past the end of the table (max id {max(c_max, p_max)}): fix the override")
            return Boundary(value, "operator", "operator", f"set by the operator (crashed max {c_max}, production max {p_max})")
        if self.snapshot is not None:
            value = self._max_id("s", t)
            return Boundary(value, "snapshot", "exact", f"the snapshot's last id is {value}")
        created = t.table.c.get("created_at")
        if self.snapshot_at is not None and created is not None:
            at = self.snapshot_at
            c_b = self.crashed.execute(select(func.max(key)).where(created <= at)).scalar() or 0
            p_b = self.production.execute(select(func.max(key)).where(created <= at)).scalar() or 0
            c_next = self.crashed.execute(select(func.min(key)).where(created > at)).scalar()
            value = max(c_b, p_b)
            evidence = (f"last id created at or before {at:%Y-%m-%d %H:%M:%S}: crashed {c_b}, production {p_b}; "
                        f"first Friday id after it: {c_next if c_next is not None else 'none'}")
            confidence = "high" if c_next is None or c_next > value else "medium"
            return Boundary(int(value), "snapshot_at", confidence, evidence)
        return self._content_boundary(t, int(c_max), int(p_max))

    def _max_id(self, side: str, t: TableInfo) -> int:
        """`t`'s highest id on one side (0 when empty), as `find_all` read them all at once."""
        highest = self._highest.get(side, {})
        if t.name not in highest:   # `find` asked alone
            conn = {"c": self.crashed, "p": self.production, "s": self.snapshot}[side]
            assert conn is not None
            highest.update(rowio.highest_ids(conn, [t]))
        return highest[t.name]

    def confirmed(self, t: TableInfo, estimate: Boundary, boundaries: dict[str, Boundary]) -> Boundary:
        """More evidence for a boundary not read from the snapshot: rows of a child table
        from before the snapshot (within its own boundary, estimated or not) that reference
        an id of `t` on both sides say that id existed at the snapshot. A higher one raises
        the boundary (Friday's updates of early rows hide them from the content
        comparison; a clock or a missing created_at can mislead the snapshot time) to low
        confidence: the operator confirms it."""
        assert estimate.value is not None
        best: tuple[int, str] | None = None
        for edge in self.graph.edges_to(t.name):
            child_b = boundaries.get(edge.child)
            # A child's own estimate serves too: what its rows say only proposes a boundary
            # (low confidence) that the operator confirms.
            if len(edge.columns) != 1 or edge.child == t.name or child_b is None or child_b.value is None:
                continue
            child = self.schema[edge.child]
            col, key = child.table.c[edge.columns[0]], child.table.c[child.primary_key[0]]
            where = [key <= child_b.value, *edge.type_filter(child.table)]
            highest = [conn.execute(select(func.max(col)).where(*where)).scalar() for conn in (self.crashed, self.production)]
            ints = [h for h in highest if isinstance(h, int)]
            if len(ints) != len(highest):
                continue
            value = min(ints)
            if best is None or value > best[0]:
                best = (value, f"{edge.child}.{edge.columns[0]} (rows up to {edge.child} id {child_b.value})")
        if best is None:
            return estimate
        value, where_seen = best
        seen = f"; rows from before the snapshot reference {t.name} {value} on both sides: {where_seen}"
        if value <= estimate.value:
            return Boundary(estimate.value, estimate.method, estimate.confidence, estimate.evidence + seen)
        top = min(int(self.crashed.execute(select(func.max(t.table.c[t.primary_key[0]]))).scalar() or 0),
                  int(self.production.execute(select(func.max(t.table.c[t.primary_key[0]]))).scalar() or 0))
        if value > top:
            return estimate
        disagrees = "" if estimate.unconfirmed else "the evidence disagrees: "
        return Boundary(value, estimate.method, "low", f"{estimate.evidence}; {disagrees}raised to {value}{seen}")

    def _restored(self, t: TableInfo, low: int, high: int) -> set[int]:
        """Production's ids in (`low`, `high`] that a committed gapmend run wrote (none
        before the first restore): left out of the evidence, so that a rerun after a
        restore estimates the boundary it estimated before, and has nothing to do."""
        if self._journaled is None:
            self._journaled = journal.has_runs(self.production)
        return journal.restored_ids(self.production, t.name, low, high) if self._journaled else set()

    def _content_boundary(self, t: TableInfo, c_max: int, p_max: int) -> Boundary:
        """The highest id whose row both sides hold alike, searched downward from the top."""
        key = t.table.c[t.primary_key[0]]
        idx = t.column_names.index("created_at") if "created_at" in t.column_names else None
        hi = min(c_max, p_max)
        scanned = 0
        while hi > 0:
            lo = max(0, hi - rowio.CHUNK)
            c_rows = {r[0]: r for r in self.crashed.execute(select(key, *t.table.c).where(key > lo, key <= hi))}
            p_rows = {r[0]: r for r in self.production.execute(select(key, *t.table.c).where(key > lo, key <= hi))}
            for k in self._restored(t, lo, hi):   # Friday's rows a restore wrote: alike, yet not the snapshot's
                p_rows.pop(k, None)
            for k in sorted(set(c_rows) & set(p_rows), reverse=True):
                a, b = c_rows[k][1:], p_rows[k][1:]
                same = (a[idx] == b[idx] and a[idx] is not None) if idx is not None else a == b
                if same:
                    how = "created_at" if idx is not None else "whole row"
                    return Boundary(int(k), "content", "medium" if idx is not None else "low",
                                    f"highest id with the same {how} on both sides ({scanned + hi - k} ids from the top checked)")
            scanned += hi - lo
            hi = lo
        return Boundary(0, "content", "low", "no id holds the same row on both sides: every row counts as after the snapshot")
