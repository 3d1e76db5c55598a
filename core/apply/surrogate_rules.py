"""The rules for tables with one integer key, as set-based statements over their work
tables: each Friday id past the boundary gets a fate (insert, link, skip, done), a new
id, and then its row is copied with its references mapped."""

from __future__ import annotations

import threading
from typing import Any, Callable

from sqlalchemy import BigInteger, and_, case, exists, func, insert, literal, null, select, update

from ..databases import journal
from ..errors import GapmendError
from ..inspect import unique
from ..inspect.graph import Edge
from ..plan.model import COLLIDED
from ..progress import check_cancel
from .reports import OnCollision
from .work_tables import DONE, INSERT, LINK, SKIP, WRITTEN, FridayRows, WorkTables, text_of, tuple_text


class SurrogateRules:
    """Fates, ids and copies of the integer-keyed tables, over one restore's work tables."""

    def __init__(self, session: WorkTables) -> None:
        self.session = session

    # -- fates --

    def start(self, orphans_null: bool, cancel: threading.Event | None = None,
              advance: Callable[[int], None] = lambda n: None) -> dict[str, int]:
        """One work row per Friday id of `tables`, then the orphans (first: a reference
        written NULL under ``--orphans null`` collides with nothing). `advance` hears two
        steps per table. Returns per table the rows a committed run restored already."""
        done = {}
        for name in self.session.tables:
            done[name] = self.fill(name)
            advance(1)
        for name in self.session.tables:
            check_cancel(cancel)
            self.orphans(name, orphans_null)
            advance(1)
        return done

    def settle(self, collisions: OnCollision, changed: set[str] | None, cancel: threading.Event | None = None) -> None:
        """Collisions (``link`` or ``skip``) and skips along references until a pass
        changes nothing: collisions are judged on the keys as written, so a parent's link
        or skip can change a child's. `changed`: the tables whose fates changed last (None:
        look along every reference)."""
        for _ in range(50):
            check_cancel(cancel)
            changed = {name for name in self.session.tables
                       if self.collisions(name, collisions, changed) + self.propagate(name, changed)}
            if not changed:
                return
        raise GapmendError("skips kept changing after 50 passes: report this as a bug", "Restore failed")

    def skip_for_staged_parents(self, name: str) -> int:
        """Friday rows of `name` naming a staged Friday row (of a table keyed otherwise
        than by one integer) that this restore skips: skipped too, with why. Returns how
        many changed."""
        w, pk = self.session.work[name], self.session.schema[name].primary_key[0]
        changed = 0
        for ref in self.session.natural_refs(name):
            if ref.edge.parent not in self.session.rows_work:
                continue
            w2, o = w.alias("w2"), self.session.crashed[name].alias("o")
            doomed = (select(w2.c.old_id).select_from(w2.join(o, o.c[pk] == w2.c.old_id))
                      .where(w2.c.action.in_(WRITTEN), *ref.edge.type_filter(o),
                             *self.session.staged_parent_skipped(ref, ref.value(o)))
                      .subquery("doomed"))
            why = self._friday_value(name, lambda rows: text_of(f"{ref.column}=", ref.value(rows),
                                                                f": its {ref.edge.parent} row is skipped"), w)
            changed += self.session.execute(update(w).values(action=SKIP, reason=why).where(
                w.c.action.in_(WRITTEN), w.c.old_id.in_(select(doomed.c.old_id))))
        return changed + self._composite_skips(name, orphans=False)

    def fill(self, name: str) -> int:
        """One work row per Friday id past the boundary (the picked ones, in a table
        restored for picked rows only); rows a committed run restored are 'done' with the
        id it gave them. Returns how many were done."""
        t, w = self.session.schema[name], self.session.work[name]
        c = self.session.crashed[name].alias("c")
        key = c.c[t.primary_key[0]]
        if not self.session.journaled:   # no restore ever ran here (a plan's preview): every row is to insert
            sel = select(key, literal(INSERT.value), null()).where(key > self.session.boundaries[name])
        else:
            ids, runs = journal.id_map, journal.runs
            # Joined on the decoded integer, not on the key's text: an expression over
            # crashed's id left MariaDB scanning crashed once per journal row (a rerun of
            # 160,000 rows took minutes); an integer meets crashed's primary key.
            done = (select(journal.decode_id_sql(ids.c.old_key).label("old_id"),
                           func.max(ids.c.new_key).label("new_key"))
                    .join(runs, runs.c.run_id == ids.c.run_id)
                    .where(ids.c.table_name == name, ids.c.action.in_(("inserted", "linked")),
                           runs.c.status.in_(journal.COUNTING))
                    .group_by(ids.c.old_key).subquery("j"))
            sel = (select(key, case((done.c.new_key.is_(None), literal(INSERT.value)), else_=literal(DONE.value)),
                          journal.decode_id_sql(done.c.new_key))
                   .select_from(c.outerjoin(done, done.c.old_id == key))
                   .where(key > self.session.boundaries[name]))
        if name in self.session.picks:
            sel = sel.where(key.in_(sorted(self.session.picks[name])))
        self.session.execute(insert(w).from_select(["old_id", "action", "new_id"], sel))
        if not self.session.journaled:
            return 0
        self._keep_promises(name)
        return int(self.session.production.execute(select(func.count()).select_from(w).where(w.c.action == DONE)).scalar_one())

    def _keep_promises(self, name: str) -> None:
        """Rows a stopped ``--per-table`` run promised an id (`journal.allocations`) get
        that id again: the rows it did write may point at it."""
        if self.session.production.execute(journal.allocations(name).limit(1)).first() is None:
            return   # nothing promised: no statement over every work row
        w = self.session.work[name]
        a = journal.allocations(name).subquery("a")
        promised = select(func.min(journal.decode_id_sql(a.c.new_key))).where(
            a.c.old_key == journal.encode_id_sql(w.c.old_id)).scalar_subquery()
        self.session.execute(update(w).values(new_id=promised, promised=1).where(
            w.c.action == INSERT, exists().where(a.c.old_key == journal.encode_id_sql(w.c.old_id))))

    def collisions(self, name: str, mode: OnCollision, parents: set[str] | None = None) -> int:
        """Friday rows whose unique values *as written* (`unique`: references mapped
        through the parents' work tables, an inserted parent's still-NULL ``new_id``
        matching nothing) production already holds: linked to that row, or skipped.
        `parents`: judge again only keys holding a reference into these tables (their
        fates changed last pass); None: every key. Returns the rows whose fate changed."""
        t, w = self.session.schema[name], self.session.work[name]
        pk = t.primary_key[0]
        refs = {ref.column: ref for ref in self.session.refs(name)}
        keys = [cols for cols in unique.collision_keys(t, self.session.edges_from(name))
                if parents is None or any(c in refs and refs[c].edge.parent in parents for c in cols)]
        if not keys:
            return 0
        # Each colliding Friday id and the production row it meets, gathered in the
        # allocation's scratch table first: MySQL will not update a table that the
        # statement's own joins read, and a self-reference joins this work table.
        self.session.execute(self.session.alloc.delete())
        for cols in keys:
            c, wi, p, seen = self.session.crashed[name].alias("c"), w.alias("wi"), t.table.alias("p"), self.session.alloc.alias("seen")
            source, mapped = self.session.mapped(name, c, wi.c.nulled, c.join(
                wi, and_(wi.c.old_id == c.c[pk], wi.c.action == INSERT)))
            source = source.join(p, and_(*(self.session.collations.as_production(name, col, mapped[col]) == p.c[col]
                                           for col in cols)))
            met = (select(c.c[pk], func.min(p.c[pk]), literal(",".join(cols))).select_from(source)
                   .where(~exists().where(seen.c.old_id == c.c[pk])).group_by(c.c[pk]))
            self.session.execute(insert(self.session.alloc).from_select(["old_id", "new_id", "met_on"], met))
        a = self.session.alloc.alias("a")
        values: dict[str, Any] = (
            {"action": LINK, "new_id": a.c.new_id, "met_on": a.c.met_on} if mode == OnCollision.LINK else
            {"action": SKIP, "reason": text_of(f"{COLLIDED} row ", a.c.new_id), "met_on": a.c.met_on})
        return self.session.execute(update(w).values(**values).where(w.c.old_id == a.c.old_id, w.c.action == INSERT))

    def orphans(self, name: str, nullable_ok: bool) -> None:
        """Friday rows pointing at a snapshot-range parent production deleted: skipped, or
        (``--orphans null`` on a nullable column) the reference set to NULL."""
        t, w = self.session.schema[name], self.session.work[name]
        pk = t.primary_key[0]
        for ref in self.session.refs(name):
            parent = self.session.schema[ref.edge.parent]
            # The orphans found by an anti-join (MariaDB reads the parent's key and stops:
            # 2-3x faster than NOT EXISTS at 50,000 Friday rows), through a derived table
            # because MySQL will not update a table its subquery reads.
            w2, o, par = w.alias("w2"), self.session.crashed[name].alias("o"), parent.table.alias("par")
            par_key, value = par.c[parent.primary_key[0]], ref.value(o)
            doomed = (select(w2.c.old_id)
                      .select_from(w2.join(o, o.c[pk] == w2.c.old_id).outerjoin(par, par_key == value))
                      .where(w2.c.action.in_(WRITTEN), value.is_not(None),
                             value <= ref.boundary, par_key.is_(None), *ref.edge.type_filter(o))
                      .subquery("doomed"))
            self.session.orphaned(t, ref, nullable_ok, w, self._friday_value(name, ref.value, w),
                          [w.c.old_id.in_(select(doomed.c.old_id))])
        for ref in self.session.natural_refs(name):   # parents keyed by a string: their staged rows are known by now
            w2, o = w.alias("w2"), self.session.crashed[name].alias("o")
            doomed = (select(w2.c.old_id).select_from(w2.join(o, o.c[pk] == w2.c.old_id))
                      .where(w2.c.action.in_(WRITTEN), *ref.edge.type_filter(o),
                             *self.session.natural_parent_gone(ref, ref.value(o)))
                      .subquery("doomed"))
            self.session.orphaned(t, ref, nullable_ok, w, self._friday_value(name, ref.value, w),
                          [w.c.old_id.in_(select(doomed.c.old_id))])
        self._composite_skips(name)

    def _composite_skips(self, name: str, orphans: bool = True) -> int:
        """`composite_orphans` for `name`'s Friday rows in crashed, their fates in its work table."""
        w, pk = self.session.work[name], self.session.schema[name].primary_key[0]
        w2, o = w.alias("w2"), self.session.crashed[name].alias("o")
        friday = FridayRows(o, w2.join(o, o.c[pk] == w2.c.old_id), [w2.c.old_id], w2.c.action.in_(WRITTEN),
                            w2.c.nulled)
        return self.session.composite_orphans(name, w, [w.c.old_id], friday, lambda columns: self._friday_value(
            name, lambda rows: tuple_text([rows.c[c] for c in columns]), w), orphans=orphans)

    def propagate(self, name: str, parents: set[str] | None = None) -> int:
        """Skip the Friday rows whose Friday parent is skipped or not restored; returns how
        many rows changed (the caller repeats until a pass changes none). `parents`: only
        the references into these tables (those whose fates changed last pass); None: all."""
        t, w = self.session.schema[name], self.session.work[name]
        pk = t.primary_key[0]
        changed = 0
        for ref in self.session.refs(name):
            if parents is not None and ref.edge.parent not in parents:
                continue
            c = self.session.crashed[name].alias("c")
            cond, why = ref.unrestored(c)
            # The rows to skip, read through a derived table: MySQL refuses an UPDATE whose
            # subquery reads the table being updated unless it is materialized first.
            w2 = w.alias("w2")
            cond += self.session.past_sentinels(name, ref, w2.join(c, c.c[pk] == w2.c.old_id), c,
                                        [w2.c.action.in_(WRITTEN)])
            doomed = (select(w2.c.old_id).select_from(w2.join(c, c.c[pk] == w2.c.old_id))
                      .where(w2.c.action.in_(WRITTEN), *cond).subquery("doomed"))
            held = self._friday_value(name, lambda rows: rows.c[ref.column], w)
            changed += self.session.execute(
                update(w).values(action=SKIP, reason=text_of(f"{ref.column}=", held, why))
                .where(w.c.action.in_(WRITTEN), w.c.old_id.in_(select(doomed.c.old_id))))
        return changed

    def _friday_value(self, name: str, value: Callable[[Any], Any], w: Any) -> Any:
        """`value` of the Friday row a work row stands for, read by a subquery: an UPDATE
        of a work table names no other table (MariaDB refuses a multi-table UPDATE naming
        one of production's tables in a READ ONLY transaction, as the plan's preview is)."""
        c = self.session.crashed[name].alias("co")
        return select(value(c)).where(c.c[self.session.schema[name].primary_key[0]] == w.c.old_id).scalar_subquery()

    def allocate(self, name: str, cap: int) -> tuple[int, int, list[tuple[int, int]]]:
        """New ids: kept past production's highest, else next after both sides' highest,
        in id order. Returns (ids kept, ids moved, the first `cap` moves old → new)."""
        t, w = self.session.schema[name], self.session.work[name]
        key = t.table.c[t.primary_key[0]]
        p_max = int(self.session.production.execute(select(func.max(key))).scalar() or 0)
        f_max = int(self.session.production.execute(select(func.max(func.coalesce(w.c.new_id, w.c.old_id)))
                                   .where(w.c.action == INSERT)).scalar() or 0)
        nxt = max(p_max, f_max) + 1
        fresh = [w.c.action == INSERT, w.c.promised == 0]   # not promised by a stopped run (`_keep_promises`)
        kept = self.session.execute(update(w).values(new_id=w.c.old_id).where(*fresh, w.c.old_id > p_max))
        self.session.execute(self.session.alloc.delete())
        ranked = select(w.c.old_id, literal(nxt - 1, BigInteger) + func.row_number().over(order_by=w.c.old_id)).where(
            *fresh, w.c.old_id <= p_max)
        moved = self.session.execute(insert(self.session.alloc).from_select(["old_id", "new_id"], ranked))
        a = self.session.alloc.alias("a")
        self.session.execute(update(w).values(new_id=a.c.new_id).where(w.c.old_id == a.c.old_id))
        return kept, moved, [(int(o), int(n)) for o, n in self.session.production.execute(
            select(self.session.alloc.c.old_id, self.session.alloc.c.new_id).order_by(self.session.alloc.c.old_id).limit(cap))]

    # -- writes --

    def copy(self, name: str) -> int:
        """Friday's rows into production with their new ids and mapped references."""
        t, w = self.session.schema[name], self.session.work[name].alias("w")
        pk = t.primary_key[0]
        c = self.session.crashed[name].alias("c")
        source, mapped = self.session.mapped(name, c, w.c.nulled, c.join(w, and_(w.c.old_id == c.c[pk], w.c.action == INSERT)))
        exprs = [w.c.new_id if n == pk else mapped[n] for n in t.column_names]
        stmt = insert(t.table).from_select(t.column_names, select(*exprs).select_from(source).order_by(c.c[pk]))
        return self.session.execute(stmt)

    def write_journal(self, name: str) -> None:
        w = self.session.work[name]
        action = case((w.c.action == INSERT, literal("inserted")), (w.c.action == LINK, literal("linked")),
                      else_=literal("skipped"))
        detail = case((w.c.action == LINK, literal(COLLIDED)), else_=w.c.reason)
        new_key = case((w.c.new_id.is_(None), null()), else_=journal.encode_id_sql(w.c.new_id))
        sel = select(literal(self.session.run_id), literal(name), journal.encode_id_sql(w.c.old_id), new_key, action, detail).where(
            w.c.action.in_((*WRITTEN, SKIP)))
        self.session.execute(insert(journal.id_map).from_select(
            ["run_id", "table_name", "old_key", "new_key", "action", "detail"], sel))

    def write_allocated(self, name: str) -> None:
        """Journal the ids promised to the rows still to insert (`--per-table`: committed
        first, so a run that stops resumes with the same ids)."""
        w = self.session.work[name]
        sel = select(literal(self.session.run_id), literal(name), journal.encode_id_sql(w.c.old_id), journal.encode_id_sql(w.c.new_id),
                     literal("allocated")).where(w.c.action == INSERT, w.c.promised == 0)
        self.session.execute(insert(journal.id_map).from_select(["run_id", "table_name", "old_key", "new_key", "action"], sel))

    def broken_reference(self, name: str, edge: Edge) -> list[Any]:
        """Values `edge` names in the rows this run inserted that find no parent (at most 5)."""
        t, w = self.session.schema[name], self.session.work[name].alias("w")
        child = t.table.alias("ch")
        values, named = self.session.named_parent(edge, {c: child.c[c] for c in edge.columns})
        shown = values[0] if len(values) == 1 else tuple_text(values)
        # Every id this run inserted lies past the table's boundary: the range keeps the
        # server from reading the whole table (a full scan per reference at 1M rows).
        key = child.c[t.primary_key[0]]
        stmt = (select(shown).select_from(
                    child.join(w, and_(w.c.new_id == key, w.c.action == INSERT)).outerjoin(named.parent, named.held))
                .where(key > self.session.boundaries[name], *named.named, *edge.type_filter(child),
                       *self.session.not_sentinel(name, edge, values[0]))
                .limit(5))
        return list(self.session.production.execute(stmt).scalars())
