"""Numbers unique within a parent, renumbered where both sides used one (issue 38, item 4).

A comment's ``local_id`` counts within its page, an issue's number within its project;
a reply names its parent by that number (``parent_id``). Production's users went on
numbering after the snapshot, so Friday's comment 5 on a page can meet production's
comment 5 there. The restore's last writing step (after every table is written, so
each row's parent is already mapped to its new id) gives each such Friday row the next
numbers after the highest the parent holds, in Friday's order, and rewrites the Friday
rows that name it by number in the same parent. Production's rows never change.

Only this run's own rows are read (the journal names them); the colliding ones are
found by one statement per number, and written back in batches. Each change goes in
the journal (``renumbered``: the row, the column, Friday's number and the new one),
which `verify` reads to expect it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, select, update

from ..databases import journal
from ..plan.decisions import ScopedNumber
from .work_context import WorkContext

Execute = Callable[[Any, list[dict[str, Any]]], None]   # one statement for many rows, counted as a write batch


def renumber_run(context: WorkContext, numbers: Sequence[ScopedNumber], writer: journal.Writer,
                 execute: Execute) -> dict[str, int]:
    """Renumber the rows `context`'s run inserted whose number production's own rows hold
    in the same parent; returns how many rows changed per table."""
    run = _Renumbering(context.production, context.run_id, writer, execute)
    out: dict[str, int] = {}
    for n in numbers:
        t = context.schema.tables.get(n.table)
        if t is None or len(t.primary_key) != 1 or any(c not in t.column_names for c in (*n.within, *n.columns)):
            continue
        key = t.primary_key[0]
        moved = run.renumbered(t.table, key, n)
        if not moved:
            continue
        run.write(t.table, key, n.column, [(k, old, new) for k, _, old, new in moved])
        changed = {k for k, _, _, _ in moved}
        for column in n.named_by:
            changed |= run.follow(t.table, key, n, column, moved)
        out[n.table] = out.get(n.table, 0) + len(changed)
    return out


def _mine(rows: Any, name: str, key: str, run_id: str) -> Any:
    """The condition that a row of `rows` (table `name`, or an alias of it) is one this run inserted."""
    m = journal.id_map
    return rows.c[key].in_(select(journal.decode_id_sql(m.c.new_key)).where(
        m.c.run_id == run_id, m.c.table_name == name, m.c.action == "inserted", m.c.new_key.is_not(None)))


Moved = list[tuple[Any, tuple[Any, ...], Any, int]]   # (key, parent, Friday's number, new number)


@dataclass(frozen=True)
class _Renumbering:
    """One run's renumbering, on production's connection `p`."""

    p: Connection
    run_id: str
    writer: journal.Writer
    execute: Execute

    def renumbered(self, table: Any, key: str, n: ScopedNumber) -> Moved:
        """This run's rows whose number another row of the same parent holds: the new
        numbers follow the parent's highest, in Friday's order."""
        m, o, top = table.alias("m"), table.alias("o"), table.alias("top")
        scope = [m.c[c] for c in n.within]
        same = [o.c[c] == m.c[c] for c in n.within]
        held = exists().where(*same, o.c[n.column] == m.c[n.column], ~_mine(o, n.table, key, self.run_id))
        highest = select(func.max(top.c[n.column])).where(*(top.c[c] == m.c[c] for c in n.within)).scalar_subquery()
        rank = func.row_number().over(partition_by=scope, order_by=[m.c[n.column], m.c[key]])
        stmt = (select(m.c[key], *scope, m.c[n.column], highest + rank)
                .where(_mine(m, n.table, key, self.run_id), m.c[n.column].is_not(None), held))
        return [(r[0], tuple(r[1:1 + len(scope)]), r[1 + len(scope)], int(r[-1])) for r in self.p.execute(stmt)]

    def follow(self, table: Any, key: str, n: ScopedNumber, column: str, moved: Moved) -> set[Any]:
        """This run's rows naming, by `column`, a renumbered row of the same parent: they
        name its new number. Read only where the column holds one of the old numbers."""
        new_of = {(scope, old): new for _, scope, old, new in moved}
        olds = sorted({old for _, _, old, _ in moved})
        r = table.alias("r")
        stmt = select(r.c[key], *(r.c[c] for c in n.within), r.c[column]).where(
            _mine(r, n.table, key, self.run_id), r.c[column].in_(olds))
        found = []
        for row in self.p.execute(stmt):
            scope, old = tuple(row[1:1 + len(n.within)]), row[-1]
            if (scope, old) in new_of:
                found.append((row[0], old, new_of[scope, old]))
        self.write(table, key, column, found)
        return {key_ for key_, _, _ in found}

    def write(self, table: Any, key: str, column: str, changes: list[tuple[Any, Any, Any]]) -> None:
        """`column` of the rows keyed in `changes` (key, Friday's value, the new one) set to
        the new value in batches, each change journaled (``renumbered``) for `verify` to expect."""
        if not changes:
            return
        self.execute(update(table).where(table.c[key] == bindparam("k")).values({column: bindparam("v")}),
                     [{"k": k, "v": new} for k, _, new in changes])
        for k, old, new in changes:
            self.writer.add(table.name, (k, column, old), (k, column, new), journal.RENUMBERED)
