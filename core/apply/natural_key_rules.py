"""The rules for tables without an integer key (pivots; string, date and UUID keys; a
morph pivot's key of references beside a type; none at all): their staged Friday rows
are decided, copied and journaled by set-based statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, case, cast, insert, literal, null, or_, select, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from ..databases import journal
from ..inspect import unique
from ..inspect.graph import Edge
from ..plan.model import COLLIDED
from .reports import OnCollision
from .work_tables import INSERT, LINK, SKIP, KeyMatch, WorkTables, holds_text, integer_key, key_holes


class NaturalKeyRules:
    """Fates and copies of the staged rows of tables without an integer key (a natural,
    composite or no primary key), over one restore's work tables."""

    def __init__(self, session: WorkTables) -> None:
        self.session = session

    def decide(self, name: str, nullable_ok: bool, collisions: OnCollision = OnCollision.LINK) -> None:
        """Skip the staged rows that point at a snapshot-range parent production deleted
        (or NULL that reference, under ``--orphans null`` on a nullable column) or at a
        Friday parent that is skipped or not in this restore; then link (or skip) those
        whose key as written production already holds (a pivot row of a linked parent).
        No row depends on these rows' fates, so one pass decides them (after every
        integer-keyed table's)."""
        r = self.session.rows_work[name]
        for ref in [*self.session.refs(name), *self.session.natural_refs(name)]:
            self.session.skip_broken(name, r, INSERT, ref, nullable_ok)
        self.session.staged_composite_orphans(name, r, INSERT)
        self._collisions(name, collisions)

    def _collisions(self, name: str, mode: OnCollision) -> None:
        """Staged rows whose unique values as written (references mapped: `unique`)
        production holds: a unique key's, or a pivot's primary key once its parents are
        linked. Linked to that row, or skipped."""
        t, r = self.session.schema[name], self.session.rows_work[name]
        key = list(t.identity)
        values = ({"gapmend_action": LINK} if mode == OnCollision.LINK else
                  {"gapmend_action": SKIP, "gapmend_reason": literal(COLLIDED)})
        source, mapped = self.session.mapped(name, r, r.c.gapmend_nulled, r)
        for meets in self._meets(name, mapped):
            # Through a derived table: MySQL will not update a table its subquery reads.
            held = (select(*(r.c[k] for k in key)).select_from(source.join(meets.table, meets.condition))
                    .where(r.c.gapmend_action == INSERT).subquery("held"))
            self.session.execute(update(r).values(**values, gapmend_met_on=",".join(meets.columns)).where(
                r.c.gapmend_action == INSERT, tuple_(*(r.c[k] for k in key)).in_(select(*held.c))))
            if mode == OnCollision.LINK:
                self.session.keep_links(name, meets, source)

    def _meets(self, name: str, mapped: dict[str, ColumnElement[Any]]) -> list[KeyMatch]:
        """Per key a staged row can collide on (`unique.collision_keys`): production's
        table, and the condition that its row holds the staged row's values as written
        (`mapped`: the staged rows' columns from `mapped`, whose joins the statement holds)."""
        t, r = self.session.schema[name], self.session.rows_work[name]
        out = []
        for cols in unique.collision_keys(t, self.session.edges_from(name)):
            p = t.table.alias("p")
            meets = [self.session.collations.as_production(name, c, mapped[c]) == p.c[c] for c in cols]
            if unique.whole_row(t, cols):   # only once a reference in it is mapped
                meets.append(or_(*(and_(ref.value(r) > ref.boundary, *ref.edge.type_filter(r))
                                   for ref in self.session.refs(name) if ref.column in cols)))
            out.append(KeyMatch(p, and_(*meets), tuple(cols)))
        return out

    def copy(self, name: str) -> int:
        """The staged rows to insert into production, references mapped; then their
        journal lines (old key → key as written), skipped rows' too. Returns rows inserted."""
        t, r = self.session.schema[name], self.session.rows_work[name]
        source, mapped = self.session.mapped(name, r, r.c.gapmend_nulled, r)
        key = list(t.identity)
        inserted = self.session.execute(insert(t.table).from_select(
            t.column_names, select(*(mapped[n] for n in t.column_names)).select_from(source)
            .where(r.c.gapmend_action == INSERT).order_by(*(r.c[k] for k in key))))
        live, linked = r.c.gapmend_action == INSERT, r.c.gapmend_action == LINK
        # The key as written: its references mapped. Integers are spelled in SQL; any other
        # key was spelled by gapmend while staging, its references' holes filled here.
        holes = key_holes(t, self.session.edges_from(name))
        if integer_key(t):
            friday, written = journal.encode_key_sql([r.c[k] for k in key]), journal.encode_key_sql([mapped[k] for k in key])
        else:
            friday = r.c.gapmend_key
            spelled = {i: cast(mapped[k], String) if holds_text(t, k) else mapped[k]
                       for i, k in holes.items()}   # a string column's id is quoted in JSON
            written = (journal.fill_template_sql(r.c.gapmend_written, spelled)
                       if holes else r.c.gapmend_key)
        journaled = select(
            literal(self.session.run_id), literal(name), friday,
            case((live, written), else_=null()),
            case((live, literal("inserted")), else_=literal("skipped")),
            case((live, literal("")), else_=r.c.gapmend_reason),
        ).select_from(source).where(~linked)   # linked rows: journaled by the restore (`linked`)
        self.session.execute(insert(journal.id_map).from_select(
            ["run_id", "table_name", "old_key", "new_key", "action", "detail"], journaled))
        return inserted

    def linked(self, name: str) -> dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[str, ...]]]:
        """Friday key -> the key of the production row it is linked to (journaled by the
        restore: a production key is spelled as gapmend spells it) and the key met on."""
        r = self.session.rows_work[name]
        key = list(self.session.schema[name].identity)
        out: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[str, ...]]] = {}
        source, mapped = self.session.mapped(name, r, r.c.gapmend_nulled, r)
        for meets in self._meets(name, mapped):
            stmt = (select(*(r.c[k] for k in key), *(meets.table.c[k] for k in key))
                    .select_from(source.join(meets.table, meets.condition))
                    .where(r.c.gapmend_action == LINK).order_by(*(r.c[k] for k in key)))
            for row in self.session.production.execute(stmt):
                out.setdefault(tuple(row[: len(key)]), (tuple(row[len(key):]), meets.columns))
        return out

    def broken_reference(self, name: str, edge: Edge) -> list[Any]:
        """Mapped reference values of the rows inserted from `name`'s work table that find
        no parent in production (at most 5)."""
        r = self.session.rows_work[name]
        source, mapped = self.session.mapped(name, r, r.c.gapmend_nulled, r)
        return self.session.broken(name, edge, r, INSERT, source, mapped)
