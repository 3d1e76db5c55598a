"""Friday's updates: staged rows checked by the shared rules, mapped in place, and
applied by one ``UPDATE … FROM`` per table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Table, and_, case, exists, func, insert, literal, null, or_, select, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from ..databases import journal, row_images
from ..databases.collation import uniform
from ..inspect import cell_merge
from ..inspect.graph import Edge
from ..plan.model import COLLIDED
from .work_tables import SKIP, UPDATE, WorkTables, integer_key


class UpdateRules:
    """Friday's updated rows, applied where nothing they name is lost, over one restore's
    work tables."""

    def __init__(self, session: WorkTables) -> None:
        self.session = session

    def decide_updates(self, name: str) -> None:
        """Friday's staged updates of `name` where nothing they name is lost: skipped where
        a reference finds no parent (`skip_broken`), the rest mapped in place (a reference
        past its parent's boundary becomes the parent's new id), skipped where another
        production row holds a unique value they write (`_skip_unique_held`)."""
        t, r = self.session.schema[name], self.session.updates[name]
        for ref in [*self.session.refs(name), *self.session.natural_refs(name)]:   # an update never writes a reference NULL
            self.session.skip_broken(name, r, UPDATE, ref, False, only=[self.session.writes(r, ref.column)])
        self.session.staged_composite_orphans(name, r, UPDATE)
        for ref in self.session.refs(name):
            if ref.work is None or ref.column in t.identity:   # past the boundary: skipped above
                continue
            wp = ref.work.alias("wp")
            new_id = select(wp.c.new_id).where(wp.c.old_id == ref.value(r)).scalar_subquery()
            self.session.execute(update(r).values({ref.column: ref.written(new_id)}).where(
                r.c.gapmend_action == UPDATE, ref.value(r) > ref.boundary, *ref.edge.type_filter(r),
                self.session.writes(r, ref.column), *self.session.not_sentinel(name, ref.edge, ref.value(r))))
        for edge in self.session.linked_edges(name):   # a Friday parent linked to production's row: that row's key
            lk, column = self.session.links[edge.parent].alias("lk"), edge.columns[0]
            meets = uniform(lk.c.friday) == uniform(r.c[column])
            self.session.execute(update(r).values({column: select(lk.c.production).where(meets).scalar_subquery()}).where(
                r.c.gapmend_action == UPDATE, *edge.type_filter(r), self.session.writes(r, column), exists().where(meets)))
        self._skip_unique_held(name)

    def apply_updates(self, name: str, later: frozenset[str] = frozenset()) -> int:
        """Friday's staged updates of `name`, decided (`decide_updates`), written by one
        ``UPDATE … FROM`` and journaled by one ``INSERT … SELECT``. Rows merged by column
        write only their columns, and the timestamps in `later` only where Friday's is the
        later (`_written`). Returns the rows updated."""
        self.decide_updates(name)
        t, r = self.session.schema[name], self.session.updates[name]
        live = r.c.gapmend_action == UPDATE
        columns = [c for c in t.column_names if c not in t.identity]
        same_row = [t.table.c[k] == self.session.collations.as_production(name, k, r.c[k]) for k in t.identity]
        # Production's rows as they were, for `undo`: in the same transaction as the change.
        row_images.keep_selected(self.session.production, self.session.run_id, t, journal.BEFORE, select(
            *(t.table.c[c] for c in t.column_names)).select_from(t.table.join(r, and_(*same_row))).where(live))
        self.session.execute(update(t.table).values({c: self._written(t.table, r, c, c in later) for c in columns})
                     .where(live, *same_row))
        key = journal.encode_key_sql([r.c[k] for k in t.identity]) if integer_key(t) else r.c.gapmend_key
        detail = func.substr(literal("update: ", String) + r.c.gapmend_reason, 1, 255)
        merged = func.substr(literal(journal.MERGED, String) + r.c.gapmend_columns, 1, 255)   # what verify compares
        self.session.execute(insert(journal.id_map).from_select(
            ["run_id", "table_name", "old_key", "new_key", "action", "detail"],
            select(literal(self.session.run_id), literal(name), key, case((live, key), else_=null()),
                   case((live, literal("updated")), else_=literal("skipped")), case((live, merged), else_=detail))))
        return int(self.session.production.execute(select(func.count()).select_from(r).where(live)).scalar_one())

    def _written(self, table: Table, r: Table, column: str, stamp: bool) -> ColumnElement[Any]:
        """What a staged update writes into `column`: Friday's value, unless it is merged by
        column (`cell_merge`): then only where Friday changed it, and a timestamp (`stamp`)
        both sides changed only where Friday's is the later."""
        mine, theirs, mask = r.c[column], table.c[column], r.c.gapmend_columns
        friday, later_mark = cell_merge.marks(column)
        whens: list[Any] = [(mask.is_(None), mine), (mask.contains(friday, autoescape=True), mine)]
        if stamp:
            later = case((or_(theirs.is_(None), mine > theirs), mine), else_=theirs)
            whens.append((mask.contains(later_mark, autoescape=True), later))
        return case(*whens, else_=theirs)

    def _skip_unique_held(self, name: str) -> None:
        """The staged updates that write, into a unique key besides the row's own, a value
        another production row holds (production took it since the snapshot): skipped.
        Written, the database would refuse the whole restore; and that row is production's."""
        t, r = self.session.schema[name], self.session.updates[name]
        own = [r.c[k] for k in t.identity]
        for cols in t.unique_keys:
            if set(cols) <= set(t.identity):
                continue
            held = t.table.alias("held")
            meets = and_(*(self.session.collations.as_production(name, c, r.c[c]) == held.c[c] for c in cols),
                         or_(*(held.c[k] != self.session.collations.as_production(name, k, r.c[k]) for k in t.identity)),
                         or_(*(self.session.writes(r, c) for c in cols)))   # a merge may leave the key production's
            # Through a derived table: MySQL will not update a table its subquery reads.
            doomed = (select(*own).select_from(r.join(held, meets))
                      .where(r.c.gapmend_action == UPDATE).subquery("doomed"))
            self.session.execute(update(r).values(gapmend_action=SKIP, gapmend_reason=f"{', '.join(cols)}: {COLLIDED}",
                                          gapmend_met_on=",".join(cols))
                         .where(r.c.gapmend_action == UPDATE, tuple_(*own).in_(select(*doomed.c))))

    def broken_update(self, name: str, edge: Edge) -> list[Any]:
        """Reference values Friday's applied updates of `name` wrote (mapped in place by
        `apply_updates`) that find no parent in production (at most 5)."""
        r = self.session.updates[name]
        return self.session.broken(name, edge, r, UPDATE, r, {c: r.c[c] for c in edge.columns},
                           only=self.session._writes_any(r, edge.columns))
