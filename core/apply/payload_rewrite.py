"""The restore's last writing step: ids inside the JSON values of the rows it wrote,
rewritten through the id map (`payloads`), in the restore's transaction.

It runs after every table's rows are in, so a path may name any table, whatever the
write order. A ``--per-table`` run that stopped never reached this step: the run that
resumes it rewrites the stopped run's rows too, and the journal marks the stopped run
resumed in the same transaction, so no row is rewritten twice (a second pass could map
an id that is production's already). Only those runs' rows are read back (a page of the journal at a time), and
only values holding a confirmed path's id past its parent's boundary change: a snapshot
row's id is production's too. An unconfirmed path is not rewritten; each restored row
where it names a Friday row that moved is reported, for the operator to confirm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from .. import shown
from ..databases import journal
from ..databases import rows as rowio
from ..databases.dialects import dialect_of
from ..inspect import payloads
from ..inspect.payloads import PayloadEdge
from .work_context import WorkContext

REPORT_CAP = 50


@dataclass
class Rewritten:
    ids: int = 0                                          # ids changed inside values
    rows: int = 0                                         # rows whose value changed
    unconfirmed: list[str] = field(default_factory=list)  # rows an unconfirmed path leaves naming a moved row
    unresolved: list[str] = field(default_factory=list)   # confirmed ids naming a Friday row not restored


def rewrite_run(context: WorkContext, runs: Sequence[str], confirmed: list[PayloadEdge],
                unconfirmed: list[PayloadEdge], execute: Callable[[Any, list[dict[str, Any]]], None]) -> dict[str, Rewritten]:
    """Rewrite the ids of `confirmed` paths in the rows `runs` wrote (`context`'s run the
    restore's own, not yet committed); report the rows `unconfirmed` paths leave naming
    moved rows. Per table."""
    p, schema, running, boundaries = context.production, context.schema, context.run_id, context.boundaries
    out: dict[str, Rewritten] = {}
    paths = payloads.by_table(confirmed + unconfirmed)
    sure = set(confirmed)
    for table, columns in paths.items():
        t = schema.tables.get(table)
        if t is None or not t.primary_key:
            continue
        result = out.setdefault(table, Rewritten())
        for page in (page for run_id in runs
                     for page in journal.run_keys(p, table, run_id, ("inserted", "updated"), rowio.CHUNK)):
            rows = {tuple(r[:len(t.identity)]): r for r in rowio.fetch_keys(
                p, t, t.identity, [new for _, new in page], select_cols=[*t.identity, *columns])}
            docs = {key: {c: payloads.document(r[len(t.identity) + i], columns[c][0].format)
                          for i, c in enumerate(columns)}
                    for key, r in rows.items()}
            maps = _maps(p, running, [e for cs in columns.values() for e in cs], docs, boundaries)
            changed: list[dict[str, Any]] = []
            for key, row in rows.items():
                values: dict[str, Any] = {}
                for i, (col, edges) in enumerate(columns.items()):
                    doc = docs[key][col]
                    if doc is None:
                        continue
                    n = 0
                    for e in edges:
                        if e in sure:
                            n += payloads.rewrite(doc, e, _Mapper(e, maps, boundaries, result, table, key))
                        else:
                            _note_unconfirmed(doc, e, maps, result, table, key)
                    if n:
                        result.ids += n
                        values[col] = payloads.dumps_like(doc, row[len(t.identity) + i], edges[0].format)
                if values:
                    result.rows += 1
                    changed.append({**dict(zip(t.identity, key)), **values})
            for col in columns:
                batch = [r for r in changed if col in r]
                dialect_of(p).update_rows(p, t.table, t.identity, [col], [{k: r[k] for k in (*t.identity, col)} for r in batch], execute)
    return out


def _maps(p: Connection, run_id: str, edges: list[PayloadEdge], docs: Mapping[Any, Mapping[str, Any]],
          boundaries: Mapping[str, int | None]) -> dict[str, dict[int, int]]:
    """Parent table -> Friday id -> the id it was restored as, for the ids these
    documents hold past their parent's boundary."""
    wanted: dict[str, set[int]] = {}
    for per_col in docs.values():
        for e in edges:
            doc = per_col.get(e.column)
            if doc is None:
                continue
            b = boundaries.get(e.parent)
            wanted.setdefault(e.parent, set()).update(v for v in payloads.ids_at(doc, e) if b is None or v > b)
    return {parent: {old[0]: new[0] for old, new in journal.mapped_keys(p, parent, [(v,) for v in ids],
                                                                         run_id=run_id).items()}
            for parent, ids in wanted.items() if ids}


@dataclass
class _Mapper:
    """One confirmed path's ids in one row: a snapshot row's id stays, a restored
    Friday row's becomes its production id, any other is reported and stays."""

    edge: PayloadEdge
    maps: Mapping[str, Mapping[int, int]]
    boundaries: Mapping[str, int | None]
    result: Rewritten
    table: str
    key: tuple[Any, ...]

    def __call__(self, v: int) -> int:
        e = self.edge
        b = self.boundaries.get(e.parent)
        if b is not None and v <= b:
            return v
        new = self.maps.get(e.parent, {}).get(v)
        if new is None:
            if len(self.result.unresolved) < REPORT_CAP:
                self.result.unresolved.append(
                    f"{self.table} {shown.key(self.key)}: {e.id} names {e.parent} {v}, which was not restored")
            return v
        return new


def _note_unconfirmed(doc: Any, e: PayloadEdge, maps: Mapping[str, Mapping[int, int]], result: Rewritten,
                      table: str, key: tuple[Any, ...]) -> None:
    for v in payloads.ids_at(doc, e):
        new = maps.get(e.parent, {}).get(v)
        if new is not None and new != v and len(result.unconfirmed) < REPORT_CAP:
            result.unconfirmed.append(f"{table} {shown.key(key)}: {e.id} holds {v}, but Friday's {e.parent} {v} is "
                                      f"production's {new} now (not rewritten: confirm with `gapmend edges --confirm "
                                      f"'{e.id}'`)")
