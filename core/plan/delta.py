"""Friday's delta: the keys where crashed differs from the snapshot, found once.

Crashed and the snapshot never change once recovered, yet comparing them is most of a
restore's own scan (it grows with the tables, not with the gap). `gapmend plan
--output` runs while production is still live: it keeps, per table, the keys whose
crashed row differs from the snapshot's (Friday's updates, deletes and, for tables
without an integer key, inserts), with fingerprints of both databases
(`Dialect.fingerprint`). `gapmend restore --plan` inside the maintenance window reads
only those keys, on every side, and classifies them again against production as it
is then; rows past the boundaries the server finds itself. A source whose fingerprint
changed makes the plan void (`require_sources_unchanged`).

Kept only with a snapshot: without one, what Friday changed is read from production's
side too, which goes on changing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Engine, Integer, String

from ..databases.dialects import dialect_of
from ..databases.engines import connect
from ..databases.schema import TableInfo
from .model import FoundPayloadEdge, PlanEdge, jsonable

Key = tuple[Any, ...]
SOURCES = ("crashed", "snapshot")
LatestWrite = tuple[datetime | None, str | None]   # the newest stamp, and where (`roles.RoleFacts`)


@dataclass
class Delta:
    """Per table, the keys crashed's row differs from the snapshot's, and the
    fingerprints of both databases when they were read."""

    keys: dict[str, list[Key]] = field(default_factory=lambda: defaultdict(list))
    fingerprints: dict[str, dict[str, str]] = field(default_factory=dict)
    # Each covered table's boundary when its keys were found: Friday's changes up to it
    # (a boundary moved later, by the operator, leaves the rows between uncompared).
    boundaries: dict[str, int | None] = field(default_factory=dict)
    # Found trusting ``updated_at`` (only rows stamped after the snapshot time compared):
    # a restore that does not trust it compares in full.
    trusting: bool = False
    # Each source's latest write (`roles`), read with the rows: as true as the keys while
    # the fingerprints hold, so the restore does not look it up again table by table.
    latest_writes: dict[str, LatestWrite] = field(default_factory=dict)
    # Each source's highest id per integer-keyed table (`boundaries.BoundaryFinder`), alike.
    highest: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per table of crashed, what its rows name: (the reference's id, the parent table), by
    # every edge and confirmed-or-not path inside JSON the plan found; which tables a
    # restore of the plan must read besides those Friday wrote (`apply.scope`).
    references: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def cover(self, table: str, boundary: int | None) -> None:
        """`table`'s keys are being found, under `boundary`: covered even if none is added."""
        self.keys.setdefault(table, [])
        self.boundaries[table] = boundary

    def add(self, table: str, key: Key) -> None:
        self.keys[table].append(key)

    def valid_keys(self, boundaries: dict[str, int | None]) -> dict[str, list[Key]]:
        """The keys of the tables whose boundary is still the one they were found under."""
        return {t: k for t, k in self.keys.items() if t in self.boundaries and self.boundaries[t] == boundaries.get(t)}

    def to_json(self) -> dict[str, Any]:
        return {"fingerprints": self.fingerprints, "boundaries": self.boundaries, "trusting": self.trusting,
                "latest_writes": {r: [None if at is None else at.isoformat(), where]
                                  for r, (at, where) in self.latest_writes.items()},
                "highest": self.highest, "references": self.references,
                "keys": {t: jsonable(k) for t, k in self.keys.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Delta | None:
        if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
            return None
        keys = {str(t): [tuple(k) for k in ks] for t, ks in data["keys"].items()}
        latest = {str(r): (None if at is None else datetime.fromisoformat(at), where)
                  for r, (at, where) in data.get("latest_writes", {}).items()}
        highest = {str(r): {str(t): int(i) for t, i in ids.items()} for r, ids in data.get("highest", {}).items()}
        references = {str(t): [(str(i), str(p)) for i, p in refs] for t, refs in data.get("references", {}).items()}
        return cls(defaultdict(list, keys), {str(r): dict(f) for r, f in data.get("fingerprints", {}).items()},
                   {str(t): b for t, b in data.get("boundaries", {}).items()}, bool(data.get("trusting")), latest,
                   highest, references)


def references_of(tables: Iterable[str], edges: Iterable[PlanEdge],
                  payload_edges: Iterable[FoundPayloadEdge]) -> dict[str, list[tuple[str, str]]]:
    """Per table, every reference out of its rows as a plan lists them (its edges, and
    its paths inside JSON): (id, parent table)."""
    out: dict[str, list[tuple[str, str]]] = {name: [] for name in tables}
    for e in edges:
        out[e.child].append((e.id, e.parent))
    for d in payload_edges:
        out[d.table].append((d.id, d.parent))
    return {name: sorted(refs) for name, refs in out.items()}


def usable(t: TableInfo) -> bool:
    """Whether `t`'s keys can be kept and looked up again exactly: a primary key of
    integers and strings (JSON spells other types, dates among them, as text)."""
    return bool(t.primary_key) and all(isinstance(t.table.c[k].type, (Integer, String)) for k in t.primary_key)


def fingerprints(crashed: Engine, snapshot: Engine | None) -> dict[str, dict[str, str]]:
    """The fingerprint of each source database (the snapshot's when there is one)."""
    out = {}
    for role, engine in zip(SOURCES, (crashed, snapshot)):
        if engine is not None:
            with connect(engine, role) as conn:
                out[role] = dialect_of(engine).fingerprint(conn)
    return out


def changed_sources(delta: Delta, now: dict[str, dict[str, str]]) -> list[str]:
    """The source databases whose fingerprint differs from the one `delta` was read under."""
    return [role for role in SOURCES if delta.fingerprints.get(role) != now.get(role)]
