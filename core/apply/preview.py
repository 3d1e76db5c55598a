"""The plan the operator reviews: the inspection (`inspect.gap`) and what the restore's
own rules decide for each Friday row, found before the window.

The rules run exactly as the restore runs them (`ServerCopy`: one work row per Friday
id, orphans, collisions on the key as written and skips along references until nothing
changes; the rows of tables without an integer key and Friday's updates staged and decided the same way), over
work tables that are TEMPORARY in production's read-only session
(`Dialect.create_scratch`): production's own tables are never written, and nothing
outlives the session. What they decided is read back as the plan's collisions (a Friday
row linked to the production row holding its unique value as written), orphans (a
reference to a snapshot-range parent production deleted) and the Friday rows kept
although their parent was soft-deleted.

The tables are those a restore with every pending table approved would write. A table
the operator skips afterwards can change a child's fate; the restore of a reviewed plan
finds that by its own statements and refuses (`plan.file.require_outcome`).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections import defaultdict
from typing import Any, Iterator

from sqlalchemy import Table, select
from sqlalchemy.exc import DBAPIError

from ..config import Settings
from ..databases import rows as rowio
from ..databases.engines import connect
from ..databases.schema import reflect
from ..errors import PlanError
from ..inspect import census
from ..inspect.findings import DETAIL_CAP
from ..inspect.gap import Reading, inspect_gaps
from ..inspect.graph import held_id
from ..inspect.trio import Trio
from ..inspect.unique import with_operator_keys
from ..plan.decisions import Decisions
from ..plan.model import Collision, Merge, Orphan, Plan, RowClass
from ..plan.selection import select_tables
from ..progress import Progress
from .classified import Classified
from .crashed_address import choose_address, staging_shapes
from .reports import Key, OnOrphan, RestoreOptions, TableReport
from .server_copy import ServerCopy
from .table_writes import TableWrites
from .work_context import WorkContext, WorkLayout, boundaries_of
from .work_tables import LINK, SKIP, fate_of, temporary_refused


def build_plan(settings: Settings, decisions: Decisions | None = None, progress: Progress | None = None,
               cancel: threading.Event | None = None, reading: Reading = Reading()) -> Plan:
    """Inspect every table's gap and decide each Friday row's fate by the restore's rules;
    return the plan. Writes nothing to any database's tables. `reading`'s `on_row`,
    `row_classes`, `joint`, `check_roles`, `delta` and `known` say how it reads
    (`inspect.gap.Reading`)."""
    with Trio.opened(settings, decisions, progress, cancel) as trio:
        return preview(trio, reading)


def preview(trio: Trio, reading: Reading = Reading()) -> Plan:
    """`build_plan` on an open trio."""
    started = time.monotonic()
    schema = with_operator_keys(reflect(trio.crashed, "crashed"), trio.decisions)
    classified = Classified.of(schema, trio.decisions)
    on_row, row_classes = reading.on_row, reading.row_classes

    def hear_both(table: str, cls: RowClass, key: Key, merge: Merge | None) -> None:
        if cls in Classified.CLASSES:
            classified.sink(table, cls, key, merge)
        if on_row is not None and cls in row_classes:
            on_row(table, cls, key, merge)

    # The server counts the integer-keyed tables' Friday inserts unless a caller hears each.
    hears_inserts = on_row is not None and RowClass.FRIDAY_INSERT in row_classes
    previewing = dataclasses.replace(
        reading, on_row=hear_both, row_classes=row_classes | Classified.CLASSES,
        heard=(row_classes if on_row is not None else frozenset()) | Classified.CLASSES,
        count_only=frozenset() if hears_inserts else frozenset(schema.tables) - classified.natural, hide_restored=on_row is None)
    try:
        plan, graph = inspect_gaps(trio.knowing(schema), previewing)
        plan = _Preview(trio.knowing(schema, graph), plan, classified).run()
        with connect(trio.crashed, "crashed") as c_conn, connect(trio.production, "production") as p_conn:
            found = census.plan_census(trio.knowing(schema, graph), plan,
                                       select_tables(plan, approve_pending=True).order, c_conn, p_conn)
        plan = dataclasses.replace(plan, id_columns=found)
        return dataclasses.replace(plan, elapsed_s=round(time.monotonic() - started, 3))
    finally:
        classified.close()


class _Preview:
    """The restore's rules over one plan, on scratch work tables, and what they decided."""

    def __init__(self, trio: Trio, plan: Plan, classified: Classified) -> None:
        assert trio.schema is not None and trio.graph is not None
        self.trio, self.plan, self.classified = trio, plan, classified
        self.schema, self.graph = trio.schema, trio.graph
        self.progress, self.cancel, self.decisions = trio.progress, trio.cancel, trio.decisions

    def run(self) -> Plan:
        order = select_tables(self.plan, approve_pending=True).order
        layout = WorkLayout.of(self.plan, self.classified, order, self.schema)
        if layout.empty:
            return self.plan
        production, crashed = self.trio.production, self.trio.crashed
        address, _ = choose_address(production, crashed, self.schema, staged=False)
        with connect(crashed, "crashed") as c_conn, connect(production, "production") as p_conn:
            context = WorkContext(
                production=p_conn, crashed=c_conn, address=address, schema=self.schema, graph=self.graph,
                boundaries=boundaries_of(self.plan, self.schema), run_id=str(uuid.uuid4()),
                execute=lambda stmt: int(p_conn.execute(stmt).rowcount), progress=self.progress, cancel=self.cancel,
                shapes=staging_shapes(production, crashed, address, self.schema), scratch=True)
            server = ServerCopy(context, layout)
            if address.staged:
                self.progress.start("copying Friday's rows beside production's, for the preview", sum(
                    self.plan.table(n).count(RowClass.FRIDAY_INSERT) for n in layout.surrogate))
            try:
                self._open(server)
                self._decide(server, order)
                return self._read(server, order)
            finally:
                server.close()

    def _open(self, server: ServerCopy) -> None:
        """The scratch work tables; a user that may not create them is told how to grant it."""
        try:
            server.open(self.progress.advance)
        except DBAPIError:
            refused = temporary_refused(self.trio.production)
            if refused is not None:
                raise PlanError(f"{refused} (the plan runs the restore's own rules on temporary tables, "
                                "without writing; the restore needs it too)") from None
            raise

    def _decide(self, server: ServerCopy, order: list[str]) -> None:
        """The restore's decisions, in its order and with its default options."""
        options = RestoreOptions()
        writes = TableWrites(server, self.classified, options, self.decisions, defaultdict(TableReport))
        writes.load_done(order)
        writes.stage_natural(order)
        self.progress.start("deciding each Friday row, as the restore will", len(server.tables) * 2)
        server.decide(options.collisions, options.orphans == OnOrphan.NULL, writes.staged_tables(order), self.cancel,
                      self.progress.advance)
        for name in order:
            if name in server.updates and writes.stage_updates(self.schema[name]) is not None:
                server.update_rules.decide_updates(name)

    def _read(self, server: ServerCopy, order: list[str]) -> Plan:
        """The plan with what the rules decided for the tables of `order`."""
        gaps = {}
        for name in order:
            collisions = list(self._collisions(server, name))
            orphans = list(self._orphans(server, name))
            soft = server.soft_parents(name)
            if not (collisions or orphans or soft):
                continue
            g = self.plan.table(name)
            truncated = g.truncated or len(collisions) > DETAIL_CAP or len(orphans) > DETAIL_CAP
            gaps[name] = dataclasses.replace(g, collisions=collisions[:DETAIL_CAP], orphans=orphans[:DETAIL_CAP],
                                             soft_deleted_parents=soft, truncated=truncated)
        return dataclasses.replace(self.plan, tables=[gaps.get(g.table, g) for g in self.plan.tables])

    def _collisions(self, server: ServerCopy, name: str) -> Iterator[Collision]:
        """The Friday rows linked to the production row holding their unique value as
        written, with that value (read from the production row)."""
        t = self.schema[name]
        if name in server.work:
            w = server.work[name]
            linked = [((old,), (new,), tuple(on.split(","))) for old, new, on in server.production.execute(
                select(w.c.old_id, w.c.new_id, w.c.met_on).where(w.c.action == LINK)
                .order_by(w.c.old_id).limit(DETAIL_CAP + 1))]
        elif name in server.rows_work:
            linked = [(key, holder, on)
                      for key, (holder, on) in server.natural_key_rules.linked(name).items()][: DETAIL_CAP + 1]
        else:
            return
        values: dict[tuple[Key, tuple[str, ...]], Key] = {}
        for on in {on for _, _, on in linked}:
            holders = sorted({holder for _, holder, met in linked if met == on}, key=rowio.sort_key)
            for row in rowio.fetch_keys(server.production, t, t.identity, holders, select_cols=[*t.identity, *on]):
                values[tuple(row[: len(t.identity)]), on] = tuple(row[len(t.identity):])
        for key, holder, on in linked:
            yield Collision(key, on, values.get((holder, on), ()), holder)

    def _orphans(self, server: ServerCopy, name: str) -> Iterator[Orphan]:
        """The Friday rows (inserts, then updates) skipped for a parent production deleted."""
        t = self.schema[name]
        tables: list[tuple[Table, list[Any]]] = []
        if name in server.work:
            tables.append((server.work[name], [server.work[name].c.old_id]))
        for staged in (server.rows_work.get(name), server.updates.get(name)):
            if staged is not None:
                tables.append((staged, [staged.c[k] for k in t.identity]))
        for table, key in tables:
            fate = fate_of(table)
            stmt = (select(*key, fate.orphan_edge, fate.orphan_id).where(fate.action == SKIP,
                                                                          fate.orphan_edge.is_not(None))
                    .order_by(*key).limit(DETAIL_CAP + 1))
            for row in server.production.execute(stmt):   # the parent's key as text: an integer id read back as one
                yield Orphan(tuple(row[:-2]), row[-2], held_id(row[-1]))
