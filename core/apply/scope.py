"""Which tables a restore of a reviewed plan reads: those Friday wrote, and their neighbours.

An app has 60-200 tables and Friday writes to a few; reading every table made a restore
inside the maintenance window cost about 5 ms per table it had nothing to do in. While
crashed and the snapshot are as the plan read them (`plan.file.require_sources_unchanged`),
Friday's delta (`plan.delta`) says which tables hold a change of Friday's: its keys, and
crashed's rows past a boundary. A table without one has nothing to restore, whatever
production did to it since, so the restore reflects and inspects only:

- the tables Friday wrote, those the delta does not cover (compared in full), and those
  the operator named (a boundary, picked rows, ``--tables``);
- the tables their rows name (`Delta.references`): the orphans, the moved ids and the
  reference check read them;
- the tables whose rows name one where Friday deleted rows (or may, by a conflict): a
  delete that production's rows still reference is not applied.

What the plan read of the others stays as it read it: the roles' checks (the databases are
the ones it inspected, and the sources unchanged) and their gaps (production's own rows,
which a restore never touches). The references found among the tables read must be the
plan's (`references_moved`); when they are not, the restore reads every table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Engine

from ..databases import journal
from ..plan.decisions import Decisions
from ..plan.delta import Delta, references_of
from ..plan.file import Reviewed
from ..plan.model import Plan, RowClass

# A Friday change of one of these may delete a row (a conflict resolved as Friday's).
_DELETING = (RowClass.FRIDAY_DELETE.value, RowClass.CONFLICT.value)


def restore_scope(production: Engine, delta: Delta | None, reviewed: Reviewed | None, decisions: Decisions,
                  named: Iterable[str] = ()) -> frozenset[str] | None:
    """The tables a restore of `reviewed` reads, or None for every one: without a delta
    that holds (`delta`), and when a stopped ``--per-table`` run is to be finished (its
    last step reads the tables it wrote)."""
    if delta is None or reviewed is None:
        return None
    with production.connect() as conn:
        if journal.kept(conn) and journal.stopped_runs(conn, ""):
            return None
    return tables_to_read(delta, reviewed.facts, decisions, named)


def tables_to_read(delta: Delta, facts: dict[str, Any], decisions: Decisions,
                   named: Iterable[str] = ()) -> frozenset[str] | None:
    """The tables a restore of the plan with `facts` and `delta` reads (None: every one;
    a plan file written before the delta kept its references has no scope)."""
    if not delta.references:
        return None
    refs = delta.references
    crashed_highest = delta.highest.get("crashed", {})
    wrote = {t for t, keys in delta.keys.items() if keys}
    wrote |= {t for t, b in delta.boundaries.items() if b is not None and crashed_highest.get(t, 0) > b}
    wrote |= set(refs) - set(delta.boundaries)   # not covered: compared in full
    wrote |= {*decisions.boundaries, *decisions.picked, *named}
    parents = {parent for t in wrote for _, parent in refs.get(t, ())}
    tables = facts.get("tables", {})
    deleting = {t for t in wrote if t not in tables or any(tables[t].get(c) for c in _DELETING)}
    children = {child for child, out in refs.items() if any(parent in deleting for _, parent in out)}
    return frozenset(wrote | parents | children)


def references_moved(delta: Delta, plan: Plan) -> str | None:
    """Why the references among the tables `plan` read are not those the plan of `delta`
    found (None: they are): between the tables read, the restore must see every edge
    and path inside JSON the reviewed plan saw, and no other."""
    read = {g.table for g in plan.tables}
    now = references_of(read, plan.edges, plan.payload_edges)
    for table in sorted(read):
        then = _among(delta.references.get(table, ()), read)
        seen = _among(now.get(table, ()), read)
        if then != seen:
            changed = sorted(then ^ seen)[0][0]
            return f"{table}'s references are not the plan's ({changed})"
    return None


def _among(refs: Collection[tuple[str, str]], tables: Collection[str]) -> set[tuple[str, str]]:
    return {(ref, parent) for ref, parent in refs if parent in tables}
