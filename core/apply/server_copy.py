"""The restore done by the database server: every rule is a set-based statement.

When production's connection can read the crashed tables itself — SQLite files
(crashed ATTACHed to production's connection) or two databases on one MariaDB server
(the common case: the crashed dump loaded beside production) — every table with an
integer key is restored with a handful of set-based statements:

1. a **work table** per table holds each Friday row's fate: ``old_id``, ``new_id``,
   ``action`` (insert, link, skip, done) and why; it is filled with one
   ``INSERT … SELECT`` of Friday's ids past the boundary, joined to the journal so rows
   an earlier run restored are ``done``;
2. collisions (a production row holding a Friday row's unique value) and orphans (a
   snapshot-range parent production deleted) are multi-table ``UPDATE``s; skips then
   travel along references (cycles, self-references) until an ``UPDATE`` pass changes
   nothing;
3. new ids come from ``ROW_NUMBER()`` in id order, after production's and Friday's
   highest id; ids past production's highest are kept (see `restore`);
4. the rows are copied with one ``INSERT … SELECT`` per table that joins the work
   tables of every referenced table (``CASE`` picks the mapped id where a reference
   points past its parent's boundary), and the journal lines with another;
5. every written reference is checked with an anti-join before the commit.

Tables with any other key (pivots; string, date and UUID keys; a morph pivot's key of
references beside a type; other unique keys beside it; none at all) follow the same
way one step later: their Friday rows, found by the scan and spooled by the restore,
are staged in a work table of their own with a fate column and the key's journal
spelling (`journal.encode_template`: made by gapmend, its references left as holes
that SQL fills once mapped); orphans, unrestored parents and collisions on every key
as written are ``UPDATE``s, the rows go in with one ``INSERT … SELECT`` that maps their
references like step 4, and their journal and reference check are SQL too. A
reference held in a string column is read as the id it spells (`Dialect.held_id`) and
written back as a string. Tables without a primary key are staged the same way, their
whole row standing for the key.

When production's connection cannot name crashed's tables (another server, or no
``SELECT`` grant), Friday's rows past each boundary are first **staged**: copied in id
order, in chunks of multi-row INSERTs, into staging tables beside production's, which
then stand in for crashed's in every statement above.

Friday's **updates** take the same road: their rows (read by key from crashed, so they
pass through Python in chunks) are staged in a work table whose fate starts as
``update``; the orphan and unrestored-parent rules skip them, references past a
boundary are mapped in place from the parent's work table, and one ``UPDATE … FROM``
writes them, one ``INSERT … SELECT`` journals them (`ServerCopy.apply_updates`).

Memory is therefore flat in the size of the gap. The work tables are real tables (a
MariaDB TEMPORARY table cannot be opened twice in one statement, and a self-reference
needs exactly that), created before the transaction because DDL commits on MariaDB,
named ``gapmend_w<run>_<n>`` (``reflect`` ignores ``gapmend_*``) and dropped afterwards;
the rows in them are written inside the restore's transaction and roll back with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from ..databases import journal
from ..databases import rows as rowio
from ..databases.collation import Collations
from ..databases.dialects import Dialect, dialect_of
from ..databases.engines import unreadable as unreadable_tables
from ..databases.schema import Schema, TableInfo
from ..inspect import unique
from ..inspect.graph import Edge
from ..plan.model import COLLIDED, ORPHANED

ATTACHED = "gapmend_crashed"
WORK_PREFIX = "gapmend_w"
# Actions of a Friday row that leave it with an id children may point at.
LIVE = ("insert", "link", "done")
INSERT, UPDATE = "insert", "update"   # a staged row still to write, as its table's rows are written


@dataclass(frozen=True)
class CrashedAddress:
    """How production's connection names the crashed database's tables."""

    schema: str | None               # ATTACHED (SQLite) or the crashed database's name (MariaDB); None: STAGED
    attach_uri: str | None = None    # SQLite: the file to ATTACH read-only

    @property
    def staged(self) -> bool:
        """Production's connection cannot name crashed's tables: Friday's rows are first
        copied into staging tables beside production's (see `ServerCopy.open`)."""
        return self.schema is None


STAGED = CrashedAddress(None)


def locate_crashed(production: Engine, crashed: Engine) -> tuple[CrashedAddress | None, str]:
    """Where production's connection finds crashed's tables, or None and why not."""
    address, why = dialect_of(production).locate(production, crashed, "crashed", ATTACHED)
    return (None if address is None else CrashedAddress(address.schema, address.attach_uri)), why


def unreadable(engine: Engine, address: CrashedAddress, schema: Schema, tables: list[str]) -> str | None:
    """None when production's connection may read every crashed table in `tables`, else why not."""
    crashed = address.schema
    if crashed is None:   # staged: production reads only its own tables
        return None
    md = MetaData()
    with engine.connect() as conn:
        attach(conn, address)
        try:
            why = unreadable_tables(conn, (schema[n].table.to_metadata(md, schema=crashed) for n in tables))
        finally:
            detach(conn, address)
    return None if why is None else f"production's user {why}"


def attach(conn: Connection, address: CrashedAddress) -> None:
    """ATTACH the crashed SQLite file to `conn` (outside any transaction); nothing on MariaDB."""
    if address.attach_uri is not None:
        conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            f"ATTACH DATABASE ? AS {ATTACHED}", (address.attach_uri,))


def detach(conn: Connection, address: CrashedAddress) -> None:
    if address.attach_uri is not None:
        conn.connection.driver_connection.execute(f"DETACH DATABASE {ATTACHED}")  # type: ignore[union-attr]


def _integer_key(t: TableInfo) -> bool:
    return all(isinstance(t.table.c[k].type, Integer) for k in t.identity)


def _key_holes(t: TableInfo, edges: list[Edge]) -> dict[int, str]:
    """Position in `t`'s primary key -> the column there that holds a reference (its
    value is written mapped, so its journal spelling is filled in SQL)."""
    refs = {e.columns[0] for e in edges if len(e.columns) == 1}
    return {i: k for i, k in enumerate(t.identity) if k in refs}


def _holds_text(t: TableInfo, column: str) -> bool:
    """Whether reference `column` of `t` holds its ids as strings (`graph.held_id`)."""
    return isinstance(t.table.c[column].type, String)


def _as_id(dialect: Dialect, text: bool, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A reference's `value` as the id it names: a string's through `Dialect.held_id`."""
    return dialect.held_id(value) if text else value


@dataclass(frozen=True)
class _Meets:
    table: Any                          # production's table, aliased
    condition: ColumnElement[bool]      # its row holds a staged row's key as written


@dataclass
class _Ref:
    edge: Edge
    column: str
    index: int              # the column's position (for the nulled list)
    boundary: int           # the parent's boundary
    work: Table | None      # the parent's work table; None when the parent is not in this restore
    dialect: Dialect
    string: bool = False    # the column is a string holding ids (`graph.held_id`)

    def value(self, rows: Any) -> ColumnElement[Any]:
        """The id a row of `rows` names through this reference (NULL for a string that
        spells no id)."""
        return _as_id(self.dialect, self.string, rows.c[self.column])

    def written(self, new_id: ColumnElement[Any]) -> ColumnElement[Any]:
        """A new id as this column holds it."""
        return cast(new_id, String) if self.string else new_id

    def unrestored(self, rows: Any) -> tuple[list[ColumnElement[bool]], str]:
        """The condition that a row of `rows` points past the parent's boundary at a row
        this restore does not give an id (skipped, missing, or its table left out), and
        the reason to record."""
        col = self.value(rows)
        cond: list[ColumnElement[bool]] = [col > self.boundary, *self.edge.type_filter(rows)]
        if self.work is None:
            return cond, f": {self.edge.parent} is not in this restore"
        wp = self.work.alias("wp")
        cond.append(~exists().where(wp.c.old_id == col, wp.c.action.in_(LIVE)))
        return cond, f": its {self.edge.parent} row is skipped or missing"


class ServerCopy:
    """The set-based restore of `tables` (all integer-keyed, in write order)."""

    def __init__(self, conn: Connection, address: CrashedAddress, schema: Schema, tables: list[str],
                 boundaries: dict[str, int | None], edges_from: Callable[[str], list[Edge]],
                 run_id: str, execute: Callable[[Any], int], source: Connection | None = None,
                 keyed: Sequence[str] = (), picks: Mapping[str, frozenset[int]] | None = None,
                 shapes: Schema | None = None, updated: Sequence[str] = ()) -> None:
        self.p, self.address, self.schema, self.tables = conn, address, schema, tables
        self.dialect = dialect_of(conn)
        self.picks = picks or {}   # tables restored for the operator's picked ids only (`picks`)
        self.boundaries, self.edges_from, self.execute = boundaries, edges_from, execute
        self.run_id, self.source = run_id, source
        self.metadata = MetaData()
        self.collations: Collations   # production's, read by `open`
        shapes = shapes or schema     # the tables whose column types the staging tables take
        prefix = f"{WORK_PREFIX}{run_id[:8]}_"
        self.work = {name: _work_table(self.metadata, f"{prefix}{i}") for i, name in enumerate(tables)}
        # Tables without an integer key: Friday's rows themselves, each
        # with its fate, staged by the restore as it reads them from its key spool.
        self.rows_work = {name: _rows_table(self.metadata, f"{prefix}k{i}", shapes[name])
                          for i, name in enumerate(keyed)}
        # Friday's updated rows of every table that has any, each with its fate: decided,
        # mapped and applied by the same kind of statements as the inserts.
        self.updates = {name: _rows_table(self.metadata, f"{prefix}u{i}", shapes[name], UPDATE)
                        for i, name in enumerate(updated)}
        self.alloc = Table(f"{prefix}alloc", self.metadata,
                           Column("old_id", BigInteger, primary_key=True, autoincrement=False),
                           Column("new_id", BigInteger, nullable=False))
        # Crashed's tables as production's connection names them: the crashed database's
        # own, or (staged) copies of Friday's rows in production's database.
        self.crashed: dict[str, Table]
        if address.schema is None:
            self.crashed = {name: _staging_table(self.metadata, f"{prefix}s{i}", shapes[name])
                            for i, name in enumerate(tables)}
        else:
            crashed_md, crashed = MetaData(), address.schema
            self.crashed = {name: schema[name].table.to_metadata(crashed_md, schema=crashed)
                            for name in schema.tables}

    # -- setup --

    def open(self, progress: Callable[[int], None] = lambda n: None) -> None:
        """ATTACH crashed (SQLite) and create the work tables: before the transaction.
        Staged: copy crashed's rows past each boundary into the staging tables, in
        id-ordered chunks of multi-row INSERTs (`progress` hears each chunk's size).
        Rows before a boundary are never read from crashed by these statements."""
        attach(self.p, self.address)
        self.metadata.create_all(self.p)
        self.collations = Collations(self.p)
        self.p.commit()
        if not self.address.staged:
            return
        assert self.source is not None
        for name in self.tables:
            stage, t = self.crashed[name], self.schema[name]
            stmt = insert(stage)
            for chunk in rowio.page_by_id(self.source, t, lo=self.boundaries[name]):
                rowio.execute_rows(self.p, stmt, [dict(zip(t.column_names, row)) for row in chunk], name)
                progress(len(chunk))
            self.p.commit()

    def close(self) -> None:
        try:
            self.p.rollback()
            self.metadata.drop_all(self.p)
            self.p.commit()
        finally:
            detach(self.p, self.address)

    # -- fates --

    def fill(self, name: str) -> int:
        """One work row per Friday id past the boundary (the picked ones, in a table
        restored for picked rows only); rows a committed run restored are 'done' with the
        id it gave them. Returns how many were done."""
        t, w = self.schema[name], self.work[name]
        c = self.crashed[name].alias("c")
        key = c.c[t.primary_key[0]]
        ids, runs = journal.id_map, journal.runs
        done = (select(ids.c.old_key, func.max(ids.c.new_key).label("new_key"))
                .join(runs, runs.c.run_id == ids.c.run_id)
                .where(ids.c.table_name == name, ids.c.action.in_(("inserted", "linked")),
                       runs.c.status.in_(journal.COUNTING))
                .group_by(ids.c.old_key).subquery("j"))
        sel = (select(key, case((done.c.new_key.is_(None), literal("insert")), else_=literal("done")),
                      journal.decode_id_sql(done.c.new_key))
               .select_from(c.outerjoin(done, done.c.old_key == journal.encode_id_sql(key)))
               .where(key > self.boundaries[name]))
        if name in self.picks:
            sel = sel.where(key.in_(sorted(self.picks[name])))
        self.execute(insert(w).from_select(["old_id", "action", "new_id"], sel))
        self._keep_promises(name)
        return int(self.p.execute(select(func.count()).select_from(w).where(w.c.action == "done")).scalar_one())

    def _keep_promises(self, name: str) -> None:
        """Rows a stopped ``--per-table`` run promised an id (`journal.allocations`) get
        that id again: the rows it did write may point at it."""
        if self.p.execute(journal.allocations(name).limit(1)).first() is None:
            return   # nothing promised: no statement over every work row
        w = self.work[name]
        a = journal.allocations(name).subquery("a")
        promised = select(func.min(journal.decode_id_sql(a.c.new_key))).where(
            a.c.old_key == journal.encode_id_sql(w.c.old_id)).scalar_subquery()
        self.execute(update(w).values(new_id=promised, promised=1).where(
            w.c.action == "insert", exists().where(a.c.old_key == journal.encode_id_sql(w.c.old_id))))

    def collisions(self, name: str, mode: str, parents: set[str] | None = None) -> int:
        """Friday rows whose unique values *as written* (`unique`: references mapped
        through the parents' work tables, an inserted parent's still-NULL ``new_id``
        matching nothing) production already holds: linked to that row, or skipped.
        `parents`: judge again only keys holding a reference into these tables (their
        fates changed last pass); None: every key. Returns the rows whose fate changed."""
        t, w = self.schema[name], self.work[name]
        pk = t.primary_key[0]
        refs = {ref.column: ref for ref in self._refs(name)}
        keys = [cols for cols in unique.collision_keys(t, self.edges_from(name))
                if parents is None or any(c in refs and refs[c].edge.parent in parents for c in cols)]
        if not keys:
            return 0
        # Each colliding Friday id and the production row it meets, gathered in the
        # allocation's scratch table first: MySQL will not update a table that the
        # statement's own joins read, and a self-reference joins this work table.
        self.execute(self.alloc.delete())
        for cols in keys:
            c, wi, p, seen = self.crashed[name].alias("c"), w.alias("wi"), t.table.alias("p"), self.alloc.alias("seen")
            source, mapped = self._mapped(name, c, wi.c.nulled, c.join(
                wi, and_(wi.c.old_id == c.c[pk], wi.c.action == "insert")))
            source = source.join(p, and_(*(self.collations.as_production(name, col, mapped[col]) == p.c[col]
                                           for col in cols)))
            met = (select(c.c[pk], func.min(p.c[pk])).select_from(source)
                   .where(~exists().where(seen.c.old_id == c.c[pk])).group_by(c.c[pk]))
            self.execute(insert(self.alloc).from_select(["old_id", "new_id"], met))
        a = self.alloc.alias("a")
        values: dict[str, Any] = (
            {"action": "link", "new_id": a.c.new_id} if mode == "link" else
            {"action": "skip", "reason": _text(f"{COLLIDED} row ", a.c.new_id)})
        return self.execute(update(w).values(**values).where(w.c.old_id == a.c.old_id, w.c.action == "insert"))

    def orphans(self, name: str, nullable_ok: bool) -> None:
        """Friday rows pointing at a snapshot-range parent production deleted: skipped, or
        (``--orphans null`` on a nullable column) the reference set to NULL."""
        t, w = self.schema[name], self.work[name]
        pk = t.primary_key[0]
        c = self.crashed[name].alias("c")
        for ref in self._refs(name):
            parent = self.schema[ref.edge.parent]
            # The orphans found by an anti-join (MariaDB reads the parent's key and stops:
            # 2-3x faster than NOT EXISTS at 50,000 Friday rows), through a derived table
            # because MySQL will not update a table its subquery reads.
            w2, o, par = w.alias("w2"), self.crashed[name].alias("o"), parent.table.alias("par")
            par_key, value = par.c[parent.primary_key[0]], ref.value(o)
            doomed = (select(w2.c.old_id)
                      .select_from(w2.join(o, o.c[pk] == w2.c.old_id).outerjoin(par, par_key == value))
                      .where(w2.c.action.in_(("insert", "link")), value.is_not(None),
                             value <= ref.boundary, par_key.is_(None), *ref.edge.type_filter(o))
                      .subquery("doomed"))
            cond = [w.c.old_id == c.c[pk], w.c.old_id.in_(select(doomed.c.old_id))]
            self._orphaned(t, ref, nullable_ok, w, (w.c.action, w.c.nulled, w.c.reason), c.c[ref.column], cond)

    def propagate(self, name: str, parents: set[str] | None = None) -> int:
        """Skip the Friday rows whose Friday parent is skipped or not restored; returns how
        many rows changed (the caller repeats until a pass changes none). `parents`: only
        the references into these tables (those whose fates changed last pass); None: all."""
        t, w = self.schema[name], self.work[name]
        pk = t.primary_key[0]
        changed = 0
        for ref in self._refs(name):
            if parents is not None and ref.edge.parent not in parents:
                continue
            c = self.crashed[name].alias("c")
            cond, why = ref.unrestored(c)
            # The rows to skip, read through a derived table: MySQL refuses an UPDATE whose
            # subquery reads the table being updated unless it is materialized first.
            w2 = w.alias("w2")
            doomed = (select(w2.c.old_id).select_from(w2.join(c, c.c[pk] == w2.c.old_id))
                      .where(w2.c.action.in_(("insert", "link")), *cond).subquery("doomed"))
            c_out = self.crashed[name].alias("co")
            changed += self.execute(
                update(w).values(action="skip", reason=_text(f"{ref.column}=", c_out.c[ref.column], why))
                .where(w.c.old_id == c_out.c[pk], w.c.action.in_(("insert", "link")),
                       w.c.old_id.in_(select(doomed.c.old_id))))
        return changed

    def allocate(self, name: str, cap: int) -> tuple[int, int, list[tuple[int, int]]]:
        """New ids: kept past production's highest, else next after both sides' highest,
        in id order. Returns (ids kept, ids moved, the first `cap` moves old → new)."""
        t, w = self.schema[name], self.work[name]
        key = t.table.c[t.primary_key[0]]
        p_max = int(self.p.execute(select(func.max(key))).scalar() or 0)
        f_max = int(self.p.execute(select(func.max(func.coalesce(w.c.new_id, w.c.old_id)))
                                   .where(w.c.action == "insert")).scalar() or 0)
        nxt = max(p_max, f_max) + 1
        fresh = [w.c.action == "insert", w.c.promised == 0]   # not promised by a stopped run (`_keep_promises`)
        kept = self.execute(update(w).values(new_id=w.c.old_id).where(*fresh, w.c.old_id > p_max))
        self.execute(self.alloc.delete())
        ranked = select(w.c.old_id, literal(nxt - 1, BigInteger) + func.row_number().over(order_by=w.c.old_id)).where(
            *fresh, w.c.old_id <= p_max)
        moved = self.execute(insert(self.alloc).from_select(["old_id", "new_id"], ranked))
        a = self.alloc.alias("a")
        self.execute(update(w).values(new_id=a.c.new_id).where(w.c.old_id == a.c.old_id))
        return kept, moved, [(int(o), int(n)) for o, n in self.p.execute(
            select(self.alloc.c.old_id, self.alloc.c.new_id).order_by(self.alloc.c.old_id).limit(cap))]

    # -- writes --

    def copy(self, name: str) -> int:
        """Friday's rows into production with their new ids and mapped references."""
        t, w = self.schema[name], self.work[name].alias("w")
        pk = t.primary_key[0]
        c = self.crashed[name].alias("c")
        source, mapped = self._mapped(name, c, w.c.nulled, c.join(w, and_(w.c.old_id == c.c[pk], w.c.action == "insert")))
        exprs = [w.c.new_id if n == pk else mapped[n] for n in t.column_names]
        stmt = insert(t.table).from_select(t.column_names, select(*exprs).select_from(source).order_by(c.c[pk]))
        return self.execute(stmt)

    def _mapped(self, name: str, rows: Any, nulled: ColumnElement[Any],
                source: Any) -> tuple[Any, dict[str, ColumnElement[Any]]]:
        """Each column of `rows` (Friday's rows of `name`) as written: a reference past its
        parent's boundary becomes the parent's new id (an outer join to the parent's work
        table, added to `source`), a column listed in `nulled` NULL, the rest as it is."""
        whens: dict[str, list[tuple[ColumnElement[bool], ColumnElement[Any]]]] = {}
        for k, ref in enumerate(self._refs(name)):
            if ref.work is None:   # rows pointing past its boundary were skipped
                continue
            wp = ref.work.alias(f"r{k}")
            col = ref.value(rows)
            types = ref.edge.type_filter(rows)
            source = source.outerjoin(wp, and_(wp.c.old_id == col, *types))
            is_nulled = func.instr(func.coalesce(nulled, literal("")), literal(f",{ref.index},")) > 0
            whens.setdefault(ref.column, [(is_nulled, null())]).append(
                (and_(col > ref.boundary, *types), ref.written(wp.c.new_id)))
        return source, {n: case(*whens[n], else_=rows.c[n]) if n in whens else rows.c[n]
                        for n in self.schema[name].column_names}

    def write_journal(self, name: str) -> None:
        w = self.work[name]
        action = case((w.c.action == "insert", literal("inserted")), (w.c.action == "link", literal("linked")),
                      else_=literal("skipped"))
        detail = case((w.c.action == "link", literal(COLLIDED)), else_=w.c.reason)
        new_key = case((w.c.new_id.is_(None), null()), else_=journal.encode_id_sql(w.c.new_id))
        sel = select(literal(self.run_id), literal(name), journal.encode_id_sql(w.c.old_id), new_key, action, detail).where(
            w.c.action.in_(("insert", "link", "skip")))
        self.execute(insert(journal.id_map).from_select(
            ["run_id", "table_name", "old_key", "new_key", "action", "detail"], sel))

    def write_allocated(self, name: str) -> None:
        """Journal the ids promised to the rows still to insert (`--per-table`: committed
        first, so a run that stops resumes with the same ids)."""
        w = self.work[name]
        sel = select(literal(self.run_id), literal(name), journal.encode_id_sql(w.c.old_id), journal.encode_id_sql(w.c.new_id),
                     literal("allocated")).where(w.c.action == "insert", w.c.promised == 0)
        self.execute(insert(journal.id_map).from_select(["run_id", "table_name", "old_key", "new_key", "action"], sel))

    def broken_reference(self, name: str, edge: Edge) -> list[Any]:
        """Reference values of the rows this run inserted that find no parent (at most 5)."""
        t, w = self.schema[name], self.work[name].alias("w")
        parent = self.schema[edge.parent]
        child, par = t.table.alias("ch"), parent.table.alias("par")
        col = _as_id(self.dialect, _holds_text(t, edge.columns[0]), child.c[edge.columns[0]])
        # Every id this run inserted lies past the table's boundary: the range keeps the
        # server from reading the whole table (a full scan per reference at 1M rows).
        key = child.c[t.primary_key[0]]
        stmt = (select(col).select_from(
                    child.join(w, and_(w.c.new_id == key, w.c.action == "insert"))
                    .outerjoin(par, par.c[edge.parent_columns[0]] == col))
                .where(key > self.boundaries[name], col.is_not(None), par.c[edge.parent_columns[0]].is_(None),
                       *edge.type_filter(child))
                .limit(5))
        return list(self.p.execute(stmt).scalars())

    # -- tables without an integer key --

    def stage_rows(self, name: str, rows: list[tuple[Any, ...]], action: str = INSERT) -> None:
        """Friday's rows of `name` into its work table (one multi-row INSERT): rows to
        insert (a keyed table's) or Friday's updated rows (`action` UPDATE)."""
        if not rows:
            return
        t, work = self.schema[name], (self.rows_work if action == INSERT else self.updates)[name]
        names = t.column_names
        if _integer_key(t):   # its journal spelling is made in SQL (`copy_keyed`)
            rowio.execute_rows(self.p, insert(work), [dict(zip(names, row)) for row in rows], name)
            return
        key = [names.index(k) for k in t.identity]
        holes = _key_holes(t, self.edges_from(name))
        rowio.execute_rows(self.p, insert(work), [
            {**dict(zip(names, row)), "gapmend_key": journal.encode(row[i] for i in key),
             "gapmend_written": journal.encode_template([row[i] for i in key], holes) if holes else None}
            for row in rows], name)

    def _orphaned(self, t: TableInfo, ref: _Ref, nullable_ok: bool, work: Table,
                  fate: tuple[Column[Any], Column[Any], Column[Any]], value: ColumnElement[Any],
                  where: list[ColumnElement[bool]]) -> None:
        """The `where` rows of `work` point at a parent production deleted: under
        ``--orphans null`` on a nullable column the reference is marked to be written NULL,
        else the row is skipped. `fate` is `work`'s (action, nulled, reason) columns."""
        action, nulled, reason = fate
        column = t.column(ref.column)
        if nullable_ok and column is not None and column.nullable:
            marked = func.coalesce(nulled, literal(",")) + literal(f"{ref.index},")
            self.execute(update(work).values({nulled: marked}).where(*where))
        else:
            why = _text(f"{ref.column}=", value, f": {ORPHANED}")
            self.execute(update(work).values({action: "skip", reason: why}).where(*where))

    def decide_keyed(self, name: str, nullable_ok: bool, collisions: str = "link") -> None:
        """Skip the staged rows that point at a snapshot-range parent production deleted
        (or NULL that reference, under ``--orphans null`` on a nullable column) or at a
        Friday parent that is skipped or not in this restore; then link (or skip) those
        whose key as written production already holds (a pivot row of a linked parent).
        No row depends on these rows' fates, so one pass decides them (after every
        integer-keyed table's)."""
        for ref in self._refs(name):
            self._skip_broken(name, self.rows_work[name], INSERT, ref, nullable_ok)
        self._keyed_collisions(name, collisions)

    def _skip_broken(self, name: str, r: Table, live: str, ref: _Ref, nullable_ok: bool) -> None:
        """The rows of `r` still to write (`live`) whose `ref` names a snapshot-range parent
        production deleted (`_orphaned`), or points past the boundary at a row this restore
        gives no id: skipped, with why."""
        t, col, types = self.schema[name], ref.value(r), ref.edge.type_filter(r)
        parent = self.schema[ref.edge.parent]
        par = parent.table.alias("par")
        gone = [r.c.gapmend_action == live, col.is_not(None), col <= ref.boundary, *types,
                ~exists().where(par.c[parent.primary_key[0]] == col)]
        fate = (r.c.gapmend_action, r.c.gapmend_nulled, r.c.gapmend_reason)
        self._orphaned(t, ref, nullable_ok, r, fate, col, gone)
        unrestored, why = ref.unrestored(r)
        self.execute(update(r).values(gapmend_action="skip", gapmend_reason=_text(f"{ref.column}=", col, why))
                     .where(r.c.gapmend_action == live, *unrestored))

    def _keyed_collisions(self, name: str, mode: str) -> None:
        """Staged rows whose unique values as written (references mapped: `unique`)
        production holds: a unique key's, or a pivot's primary key once its parents are
        linked. Linked to that row, or skipped."""
        t, r = self.schema[name], self.rows_work[name]
        key = list(t.identity)
        values = ({"gapmend_action": "link"} if mode == "link" else
                  {"gapmend_action": "skip", "gapmend_reason": literal(COLLIDED)})
        source, mapped = self._mapped(name, r, r.c.gapmend_nulled, r)
        for meets in self._meets(name, mapped):
            # Through a derived table: MySQL will not update a table its subquery reads.
            held = (select(*(r.c[k] for k in key)).select_from(source.join(meets.table, meets.condition))
                    .where(r.c.gapmend_action == "insert").subquery("held"))
            self.execute(update(r).values(**values).where(
                r.c.gapmend_action == "insert", tuple_(*(r.c[k] for k in key)).in_(select(*held.c))))

    def _meets(self, name: str, mapped: dict[str, ColumnElement[Any]]) -> list[_Meets]:
        """Per key a staged row can collide on (`unique.collision_keys`): production's
        table, and the condition that its row holds the staged row's values as written
        (`mapped`: the staged rows' columns from `_mapped`, whose joins the statement holds)."""
        t, r = self.schema[name], self.rows_work[name]
        out = []
        for cols in unique.collision_keys(t, self.edges_from(name)):
            p = t.table.alias("p")
            meets = [self.collations.as_production(name, c, mapped[c]) == p.c[c] for c in cols]
            if unique.whole_row(t, cols):   # only once a reference in it is mapped
                meets.append(or_(*(and_(ref.value(r) > ref.boundary, *ref.edge.type_filter(r))
                                   for ref in self._refs(name) if ref.column in cols)))
            out.append(_Meets(p, and_(*meets)))
        return out

    def copy_keyed(self, name: str) -> int:
        """The staged rows to insert into production, references mapped; then their
        journal lines (old key → key as written), skipped rows' too. Returns rows inserted."""
        t, r = self.schema[name], self.rows_work[name]
        source, mapped = self._mapped(name, r, r.c.gapmend_nulled, r)
        key = list(t.identity)
        inserted = self.execute(insert(t.table).from_select(
            t.column_names, select(*(mapped[n] for n in t.column_names)).select_from(source)
            .where(r.c.gapmend_action == "insert").order_by(*(r.c[k] for k in key))))
        live, linked = r.c.gapmend_action == "insert", r.c.gapmend_action == "link"
        # The key as written: its references mapped. Integers are spelled in SQL; any other
        # key was spelled by gapmend while staging, its references' holes filled here.
        holes = _key_holes(t, self.edges_from(name))
        if _integer_key(t):
            friday, written = journal.encode_key_sql([r.c[k] for k in key]), journal.encode_key_sql([mapped[k] for k in key])
        else:
            friday = r.c.gapmend_key
            spelled = {i: cast(mapped[k], String) if _holds_text(t, k) else mapped[k]
                       for i, k in holes.items()}   # a string column's id is quoted in JSON
            written = (journal.fill_template_sql(r.c.gapmend_written, spelled)
                       if holes else r.c.gapmend_key)
        journaled = select(
            literal(self.run_id), literal(name), friday,
            case((live, written), else_=null()),
            case((live, literal("inserted")), else_=literal("skipped")),
            case((live, literal("")), else_=r.c.gapmend_reason),
        ).select_from(source).where(~linked)   # linked rows: journaled by the restore (`keyed_linked`)
        self.execute(insert(journal.id_map).from_select(
            ["run_id", "table_name", "old_key", "new_key", "action", "detail"], journaled))
        return inserted

    def keyed_skipped(self, name: str, action: str = INSERT) -> Iterator[tuple[tuple[Any, ...], str]]:
        """The staged rows (to insert, or `action` UPDATE: Friday's updates) skipped, and why."""
        r = (self.rows_work if action == INSERT else self.updates)[name]
        key = [r.c[k] for k in self.schema[name].identity]
        for row in self.p.execute(select(*key, r.c.gapmend_reason).where(r.c.gapmend_action == "skip").order_by(*key)):
            yield tuple(row[:-1]), row[-1] or ""

    def keyed_linked(self, name: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """Friday key -> the key of the production row it is linked to (journaled by the
        restore: a production key is spelled as gapmend spells it)."""
        r = self.rows_work[name]
        key = list(self.schema[name].identity)
        out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        source, mapped = self._mapped(name, r, r.c.gapmend_nulled, r)
        for meets in self._meets(name, mapped):
            stmt = (select(*(r.c[k] for k in key), *(meets.table.c[k] for k in key))
                    .select_from(source.join(meets.table, meets.condition))
                    .where(r.c.gapmend_action == "link").order_by(*(r.c[k] for k in key)))
            for row in self.p.execute(stmt):
                out.setdefault(tuple(row[: len(key)]), tuple(row[len(key):]))
        return out

    def broken_keyed(self, name: str, edge: Edge) -> list[Any]:
        """Mapped reference values of the rows inserted from `name`'s work table that find
        no parent in production (at most 5)."""
        r = self.rows_work[name]
        source, mapped = self._mapped(name, r, r.c.gapmend_nulled, r)
        return self._broken(name, edge, r, INSERT, source, mapped[edge.columns[0]])

    def broken_update(self, name: str, edge: Edge) -> list[Any]:
        """Reference values Friday's applied updates of `name` wrote (mapped in place by
        `apply_updates`) that find no parent in production (at most 5)."""
        r = self.updates[name]
        return self._broken(name, edge, r, UPDATE, r, r.c[edge.columns[0]])

    def _broken(self, name: str, edge: Edge, r: Table, live: str, source: Any,
                written: ColumnElement[Any]) -> list[Any]:
        parent = self.schema[edge.parent]
        par = parent.table.alias("par")
        value = _as_id(self.dialect, _holds_text(self.schema[name], edge.columns[0]), written)
        par_key = par.c[edge.parent_columns[0]]
        stmt = (select(value).select_from(source.outerjoin(par, par_key == value))
                .where(r.c.gapmend_action == live, value.is_not(None), par_key.is_(None), *edge.type_filter(r))
                .limit(5))
        return list(self.p.execute(stmt).scalars())

    # -- Friday's updates --

    def apply_updates(self, name: str) -> int:
        """Friday's staged updates of `name` where nothing they name is lost: skipped where
        a reference finds no parent (`_skip_broken`), the rest mapped in place (a reference
        past its parent's boundary becomes the parent's new id) and written by one
        ``UPDATE … FROM``, journaled by one ``INSERT … SELECT``. Returns the rows updated."""
        t, r = self.schema[name], self.updates[name]
        for ref in self._refs(name):
            self._skip_broken(name, r, UPDATE, ref, False)   # an update never writes a reference NULL
        for ref in self._refs(name):
            if ref.work is None or ref.column in t.identity:   # past the boundary: skipped above
                continue
            wp = ref.work.alias("wp")
            new_id = select(wp.c.new_id).where(wp.c.old_id == ref.value(r)).scalar_subquery()
            self.execute(update(r).values({ref.column: ref.written(new_id)}).where(
                r.c.gapmend_action == UPDATE, ref.value(r) > ref.boundary, *ref.edge.type_filter(r)))
        live = r.c.gapmend_action == UPDATE
        columns = [c for c in t.column_names if c not in t.identity]
        self.execute(update(t.table).values({c: r.c[c] for c in columns}).where(
            live, *(t.table.c[k] == self.collations.as_production(name, k, r.c[k]) for k in t.identity)))
        key = journal.encode_key_sql([r.c[k] for k in t.identity]) if _integer_key(t) else r.c.gapmend_key
        detail = func.substr(literal("update: ", String) + r.c.gapmend_reason, 1, 255)
        self.execute(insert(journal.id_map).from_select(
            ["run_id", "table_name", "old_key", "new_key", "action", "detail"],
            select(literal(self.run_id), literal(name), key, case((live, key), else_=null()),
                   case((live, literal("updated")), else_=literal("skipped")), case((live, null()), else_=detail))))
        return int(self.p.execute(select(func.count()).select_from(r).where(live)).scalar_one())

    # -- reading back --

    def rows(self, name: str, action: str) -> Iterator[tuple[int, int | None, str | None]]:
        w = self.work[name]
        yield from self.p.execute(select(w.c.old_id, w.c.new_id, w.c.reason)
                                  .where(w.c.action == action).order_by(w.c.old_id))

    # -- helpers --

    def _refs(self, name: str) -> list[_Ref]:
        t = self.schema[name]
        out = []
        for edge in self.edges_from(name):
            b = self.boundaries.get(edge.parent)
            if len(edge.columns) != 1 or b is None:
                continue
            out.append(_Ref(edge, edge.columns[0], t.column_names.index(edge.columns[0]), b, self.work.get(edge.parent),
                            self.dialect, _holds_text(t, edge.columns[0])))
        return out




def drop_leftovers(engine: Engine) -> None:
    """Work tables of a run that was killed before it could drop them."""
    with engine.begin() as conn:
        for name in engine.dialect.get_table_names(conn):
            if name.startswith(WORK_PREFIX):
                conn.execute(text(f"DROP TABLE {engine.dialect.identifier_preparer.quote(name)}"))


def _staging_table(metadata: MetaData, name: str, t: TableInfo) -> Table:
    """An empty copy of `t` to hold Friday's rows: the same columns and types (and, on
    MariaDB, character set), the primary key, no other index, no constraint, no default."""
    columns = [Column(c.name, c.type, primary_key=c.name in t.primary_key, autoincrement=False,
                      nullable=c.name not in t.primary_key) for c in t.table.columns]
    options = {k: v for k, v in t.table.dialect_kwargs.items() if k.startswith(("mysql_", "mariadb_"))}
    return Table(name, metadata, *columns, **options)


def _rows_table(metadata: MetaData, name: str, t: TableInfo, action: str = INSERT) -> Table:
    """Staged Friday rows of `t` and the fate of each (the ``gapmend_`` columns): `action`
    until a rule skips or links the row."""
    stage = _staging_table(metadata, name, t)
    stage.append_column(Column("gapmend_action", String(8), nullable=False, server_default=action))
    stage.append_column(Column("gapmend_nulled", String(255)))
    stage.append_column(Column("gapmend_reason", String(255)))
    stage.append_column(Column("gapmend_key", Text))   # the journal's encoding of the Friday key (not integers)
    stage.append_column(Column("gapmend_written", Text))   # ... of the key as written, its references' holes open
    return stage


def _work_table(metadata: MetaData, name: str) -> Table:
    return Table(name, metadata,
                 Column("old_id", BigInteger, primary_key=True, autoincrement=False),
                 Column("new_id", BigInteger),
                 Column("action", String(8), nullable=False),     # insert | link | skip | done
                 Column("nulled", String(255)),                    # ",3,7," column positions set to NULL
                 Column("reason", String(255)),
                 Column("promised", Integer, nullable=False, server_default="0"))   # 1: new_id from a stopped run


def _text(prefix: str, value: ColumnElement[Any], suffix: str = "") -> ColumnElement[str]:
    out = literal(prefix, String) + cast(value, String)
    return out + literal(suffix, String) if suffix else out
