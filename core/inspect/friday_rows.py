"""Friday's rows to write, as the plan previews them: checked in batches against
production for unique-key collisions and for orphans (a parent production deleted).

The restore decides the same questions itself, by set-based statements inside its
transaction (`apply.server_copy`); what this module finds is what the operator reviews."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from sqlalchemy import Connection

from ..databases import rows as rowio
from ..databases.schema import Schema, TableInfo
from ..plan.model import Boundary, Collision, Orphan
from . import soft_deletes, unique
from .classify import Row, key_of
from .findings import Findings
from .graph import ReferenceGraph, held_id

LOOKUP_BATCH = 2000


class FridayRows:
    """Friday rows to write, checked in batches against production: does production hold
    their unique values (collision)? Does a parent they reference still exist (orphan)?"""

    def __init__(self, production: Connection, schema: Schema, graph: ReferenceGraph,
                 boundaries: dict[str, Boundary], linked: dict[str, dict[Any, Any]],
                 t: TableInfo, acc: Findings) -> None:
        self.p, self.schema, self.graph, self.t, self.acc = production, schema, graph, t, acc
        self.boundaries = boundaries   # every table's, parents' included
        self.linked = linked           # Friday ids that collide with a production row, per table
        self.rows: list[tuple[Row, bool]] = []
        self.key_idx = [t.column_names.index(c) for c in t.identity]

    def append(self, row: Row, check_unique: bool) -> None:
        self.rows.append((row, check_unique))
        if len(self.rows) >= LOOKUP_BATCH:
            self.flush()

    def extend(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.append(row, True)

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        self._collisions([r for r, unique in rows if unique])
        self._orphans([r for r, _ in rows])

    def _collisions(self, rows: list[Row]) -> None:
        """Friday rows whose unique values as written (`unique`) production holds. A
        linked row's id is remembered: its children's references are written as the
        production row's (parents are inspected first; within a cycle, the restore's
        fixpoint may find a few more than the plan)."""
        t, names = self.t, self.t.column_names
        edges = self.graph.edges_from(t.name)
        refs = unique.key_refs(t, edges, lambda parent: self.boundaries[parent].value)
        linked = self.linked[t.name]
        for cols in unique.collision_keys(t, edges):
            idx = [names.index(c) for c in cols]
            values: unique.WrittenKeys[Row] = unique.WrittenKeys()
            moved_only = unique.whole_row(t, cols)
            for r in rows:
                written = unique.written_key(r, idx, refs, lambda parent, v: self.linked[parent].get(v), moved_only)
                if written is not None:
                    values.add(written, r)
            if not values.exact:
                continue
            ident = list(t.identity)
            for found in rowio.fetch_keys(self.p, t, cols, list(values.exact), select_cols=list(cols) + ident):
                value = tuple(found[: len(cols)])
                row = values.get(value)
                if row is None:
                    continue
                key, holder = key_of(row, self.key_idx), tuple(found[len(cols):])
                if t.key_kind == "surrogate":
                    linked.setdefault(key[0], holder[0])
                self.acc.keep(self.acc.collisions, Collision(key, tuple(cols), value, holder))

    def _orphans(self, rows: list[Row]) -> None:
        names = self.t.column_names
        for edge in self.graph.edges_from(self.t.name):
            parent_b = self.boundaries.get(edge.parent)
            if parent_b is None or parent_b.value is None or len(edge.columns) != 1:
                continue
            i = names.index(edge.columns[0])
            ti = names.index(edge.type_column) if edge.type_column else None
            wanted: dict[Any, list[Row]] = defaultdict(list)
            for r in rows:
                v = held_id(r[i])
                if v is None or (ti is not None and r[ti] != edge.type_value):
                    continue
                if isinstance(v, int) and v <= parent_b.value:
                    wanted[v].append(r)
            if not wanted:
                continue
            parent = self.schema[edge.parent]
            soft = [soft_deletes.COLUMN] if soft_deletes.index(parent) is not None else []
            present = {row[0]: row[1:] for row in rowio.fetch_keys(
                self.p, parent, parent.primary_key, [(v,) for v in wanted], select_cols=[*parent.primary_key, *soft])}
            for v in sorted(set(wanted) - set(present)):
                for r in wanted[v]:
                    self.acc.keep(self.acc.orphans, Orphan(key_of(r, self.key_idx), edge.id, v))
            # A parent production soft-deleted is still a row: its Friday children are restored.
            gone_soft = sum(len(wanted[v]) for v, rest in present.items() if soft and rest[0] is not None)
            if gone_soft:
                self.acc.soft_parents[edge.id] += gone_soft
