"""The work tables of a server-side restore, and the rules every table kind shares.

A work table per table holds each Friday row's fate; staged rows (tables without an
integer key, and Friday's updates) carry theirs in ``gapmend_`` columns beside the row.
The rule classes (`surrogate_rules`, `natural_key_rules`, `update_rules`) decide and write
through them; `server_copy.ServerCopy` is all of them together."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

from sqlalchemy import (
    BINARY,
    VARBINARY,
    BigInteger,
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from ..databases import journal
from ..databases import rows as rowio
from ..databases.collation import Collations, uniform
from ..databases.dialects import Dialect, dialect_of
from ..databases.schema import Schema, TableInfo
from ..inspect import cell_merge, soft_deletes
from ..inspect.graph import Edge
from ..plan.model import ORPHANED
from .crashed_address import attach, detach
from .work_context import WorkContext, WorkLayout

WORK_PREFIX = "gapmend_w"


class Action(StrEnum):
    """What becomes of a Friday row: a work table's `action`, a staged row's
    ``gapmend_action`` (the SQL holds the value, a string)."""

    INSERT = "insert"   # written, under its new id where production took the old one
    UPDATE = "update"   # a staged Friday update still to apply
    LINK = "link"       # production holds its unique key: what names it names production's row
    SKIP = "skip"       # left out, with the reason (an orphan, a collision skipped, a dependant)
    DONE = "done"       # a committed run restored it already


INSERT, UPDATE, LINK, SKIP, DONE = Action.INSERT, Action.UPDATE, Action.LINK, Action.SKIP, Action.DONE
WRITTEN = (INSERT, LINK)   # a row the restore writes or links: what names it is mapped
LIVE = (INSERT, LINK, DONE)   # a row that leaves an id children may point at


def integer_key(t: TableInfo) -> bool:
    """Whether every column of `t`'s key is an integer (its journal spelling is made in SQL)."""
    return all(isinstance(t.table.c[k].type, Integer) for k in t.identity)


def key_holes(t: TableInfo, edges: list[Edge]) -> dict[int, str]:
    """Position in `t`'s primary key -> the column there that holds a reference (its
    value is written mapped, so its journal spelling is filled in SQL)."""
    refs = {e.columns[0] for e in edges if len(e.columns) == 1}
    return {i: k for i, k in enumerate(t.identity) if k in refs}


def holds_text(t: TableInfo, column: str) -> bool:
    """Whether reference `column` of `t` holds its ids as strings (`graph.held_id`)."""
    return isinstance(t.table.c[column].type, String)


def spells_id(schema: Schema, edge: Edge) -> bool:
    """Whether `edge`'s child column spells its parent's integer ids in a string: read
    through `Dialect.held_id`. A string naming a string key (a UUID) is read as it is."""
    parent = schema[edge.parent]
    key = parent.table.c[edge.parent_columns[0]]
    return holds_text(schema[edge.child], edge.columns[0]) and isinstance(key.type, Integer)


def as_id(dialect: Dialect, text: bool, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A reference's `value` as the id it names: a string's through `Dialect.held_id`."""
    return dialect.held_id(value) if text else value


@dataclass(frozen=True)
class KeyMatch:
    """How a staged row meets the production row that holds its key as written."""

    table: Any                          # production's table, aliased
    condition: ColumnElement[bool]      # its row holds a staged row's key as written
    columns: tuple[str, ...]            # the key met on


class Fate(NamedTuple):
    """The columns of a work table that say what becomes of each Friday row: a work
    table's own, or the ``gapmend_`` ones beside a staged row (`fate_of`)."""

    action: Column[Any]        # insert | link | skip | done (a staged row: insert | update | link | skip)
    nulled: Column[Any]        # ",3,7,": positions of references written NULL (``--orphans null``)
    reason: Column[Any]        # why it is skipped, in words
    orphan_edge: Column[Any]   # the reference whose snapshot-range parent production deleted
    orphan_id: Column[Any]     # ... and the id it names
    met_on: Column[Any]        # the unique key production holds its value of ("a,b"), when linked or skipped for it


def fate_of(work: Table) -> Fate:
    prefix = "gapmend_" if "gapmend_action" in work.c else ""
    return Fate(*(work.c[prefix + name] for name in Fate._fields))


class Named(NamedTuple):
    """Production's parent of a reference, outer-joined to the rows naming it."""

    parent: Any                          # production's parent table, aliased
    held: ColumnElement[bool]            # the join: it holds the values named
    named: list[ColumnElement[bool]]     # a row names values (none NULL) and no parent holds them


class FridayRows(NamedTuple):
    """Friday's rows of a table as a rule reads them beside their fates."""

    rows: Any                             # Friday's rows: crashed's table or a staged one, aliased
    source: Any                           # the FROM joining them to their fates
    key: Sequence[ColumnElement[Any]]     # names each row's fate in `source`
    live: ColumnElement[bool]             # the row is still to write
    nulled: ColumnElement[Any]            # its references written NULL (`Fate.nulled`)


@dataclass
class Ref:
    """One single-column reference of a restored table, as the rules read and write it."""

    edge: Edge
    column: str
    index: int              # the column's position (for the nulled list)
    boundary: int           # the parent's boundary
    work: Table | None      # the parent's work table; None when this restore inserts none of its rows
    dialect: Dialect
    string: bool = False    # the column is a string holding ids (`graph.held_id`)

    def value(self, rows: Any) -> ColumnElement[Any]:
        """The id a row of `rows` names through this reference (NULL for a string that
        spells no id)."""
        return as_id(self.dialect, self.string, rows.c[self.column])

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
            return cond, f": this restore inserts no {self.edge.parent} row"
        wp = self.work.alias("wp")
        cond.append(~exists().where(wp.c.old_id == col, wp.c.action.in_(LIVE)))
        return cond, f": its {self.edge.parent} row is skipped or missing"


class _Named(dict[str, Table]):
    """Crashed's tables as production's connection names them (in crashed's database),
    each copied when a statement first names it: an app has a few hundred tables and a
    restore names only those it writes and their parents."""

    def __init__(self, schema: Schema, database: str) -> None:
        super().__init__()
        self._schema, self._database, self._metadata = schema, database, MetaData()

    def __missing__(self, name: str) -> Table:
        table = self[name] = self._schema[name].table.to_metadata(self._metadata, schema=self._database)
        return table


class WorkTables:
    """The work tables of one restore (`WorkContext`) of the tables of `layout`, with the
    statements every rule class builds on."""

    def __init__(self, context: WorkContext, layout: WorkLayout) -> None:
        self.context, self.layout = context, layout
        self.production, self.address, self.schema = context.production, context.address, context.schema
        self.source = context.crashed   # crashed's own connection (`self.crashed`: its tables, as production names them)
        self.tables = list(layout.surrogate)
        self.scratch = context.scratch
        self.temporary = context.scratch or context.temporary
        self.journaled = False   # whether production keeps gapmend's journal (read by `open`)
        self.dialect = dialect_of(context.production)
        self.picks = layout.picks   # tables restored for the operator's picked ids only (`picks`)
        self.boundaries, self.edges_from, self.execute = context.boundaries, context.graph.edges_from, context.execute
        self.run_id = context.run_id
        # (table, edge id) -> reference values naming no row in crashed either (`orphaned`).
        self.sentinels: dict[tuple[str, str], set[Any]] = {}
        self._past_read: set[tuple[str, str]] = set()   # (table, edge) whose `past_sentinels` were read
        self.metadata = MetaData()
        prefixes = ["TEMPORARY"] if self.temporary else []
        self.collations: Collations   # production's, read by `open`
        shapes = context.shapes or context.schema   # the tables whose column types the staging tables take
        prefix = f"{WORK_PREFIX}{context.run_id[:8]}_"
        self.work = {name: work_table(self.metadata, f"{prefix}{i}", prefixes) for i, name in enumerate(self.tables)}
        # Tables without an integer key: Friday's rows themselves, each
        # with its fate, staged by the restore as it reads them from its key spool.
        self.rows_work = {name: rows_table(self.metadata, f"{prefix}k{i}", shapes[name], self.dialect,
                                               prefixes=prefixes)
                          for i, name in enumerate(layout.staged)}
        # Per staged table keyed by one column (a UUID, a string) that a restored row may
        # name: Friday's keys linked to the production row holding their unique value, and
        # that row's key, for the references to them (`mapped`).
        named = {e.parent for n in (*self.tables, *layout.staged) for e in self.edges_from(n)}
        self.links = {name: link_table(self.metadata, f"{prefix}l{i}", shapes[name], self.dialect, prefixes)
                      for i, name in enumerate(layout.staged) if name in named and len(shapes[name].identity) == 1}
        # Friday's updated rows of every table that has any, each with its fate: decided,
        # mapped and applied by the same kind of statements as the inserts.
        self.updates = {name: rows_table(self.metadata, f"{prefix}u{i}", shapes[name], self.dialect, UPDATE,
                                   prefixes)
                        for i, name in enumerate(layout.updated)}
        # The keys of Friday's updated rows (and the columns each writes), for the server to
        # copy those rows from crashed's table itself (`stage_by_key`).
        self.keys = Table(f"{prefix}keys", self.metadata,
                          Column("id", BigInteger, primary_key=True, autoincrement=False),
                          Column("columns", Text), prefixes=prefixes)
        self.alloc = Table(f"{prefix}alloc", self.metadata,
                           Column("old_id", BigInteger, primary_key=True, autoincrement=False),
                           Column("new_id", BigInteger, nullable=False),
                           Column("met_on", String(255)), prefixes=prefixes)
        # Crashed's tables as production's connection names them: the crashed database's
        # own, or (staged) copies of Friday's rows in production's database.
        self.crashed: dict[str, Table]
        if context.address.schema is None:
            self.crashed = {name: staging_table(self.metadata, f"{prefix}s{i}", shapes[name], self.dialect, prefixes)
                            for i, name in enumerate(self.tables)}
        else:
            self.crashed = _Named(context.schema, context.address.schema)

    # -- setup --

    def open(self, progress: Callable[[int], None] = lambda n: None) -> None:
        """ATTACH crashed (SQLite) and create the work tables: before the transaction.
        Staged: copy crashed's rows past each boundary into the staging tables, in
        id-ordered chunks of multi-row INSERTs (`progress` hears each chunk's size).
        Rows before a boundary are never read from crashed by these statements."""
        attach(self.production, self.address)
        if self.temporary:
            self.dialect.create_scratch(self.production, self.metadata)
        else:
            self.metadata.create_all(self.production)
        self.production.commit()
        self.collations = Collations(self.production)
        self.journaled = journal.kept(self.production)
        self.production.commit()
        if not self.address.staged:
            return
        for name in self.tables:
            stage, t = self.crashed[name], self.schema[name]
            stmt = insert(stage)
            for chunk in rowio.page_by_id(self.source, t, lo=self.boundaries[name]):
                rowio.execute_rows(self.production, stmt, [dict(zip(t.column_names, row)) for row in chunk], name)
                progress(len(chunk))
            self.production.commit()

    def close(self) -> None:
        try:
            if self.scratch:
                # Only the scratch tables were written (the session refuses anything else):
                # ending the transaction by a commit spares InnoDB undoing their rows.
                self.production.commit()
            else:
                self.production.rollback()
            if self.temporary:
                self.dialect.drop_scratch(self.production, self.metadata)
            else:
                self.metadata.drop_all(self.production)
            self.production.commit()
        finally:
            detach(self.production, self.address)

    # -- staged rows --

    def stage_rows(self, name: str, rows: list[tuple[Any, ...]], action: str = INSERT,
                   columns: Mapping[tuple[Any, ...], str] | None = None) -> None:
        """Friday's rows of `name` into its work table (one multi-row INSERT): rows to
        insert (a natural-keyed table's) or Friday's updated rows (`action` UPDATE), those merged by
        column with the `columns` they write (by key)."""
        if not rows:
            return
        t, work = self.schema[name], (self.rows_work if action == INSERT else self.updates)[name]
        names = t.column_names
        key = [names.index(k) for k in t.identity]
        masks = columns or {}
        if integer_key(t):   # its journal spelling is made in SQL (`NaturalKeyRules.copy`)
            rowio.execute_rows(self.production, insert(work), [
                {**dict(zip(names, row)), "gapmend_columns": masks.get(tuple(row[i] for i in key))} for row in rows], name)
            return
        holes = key_holes(t, self.edges_from(name))
        rowio.execute_rows(self.production, insert(work), [
            {**dict(zip(names, row)), "gapmend_key": journal.encode(row[i] for i in key),
             "gapmend_written": journal.encode_template([row[i] for i in key], holes) if holes else None,
             "gapmend_columns": masks.get(tuple(row[i] for i in key))}
            for row in rows], name)

    def stages_by_key(self, name: str) -> bool:
        """Whether Friday's updated rows of `name` can be copied by the server itself
        (`stage_by_key`): production's connection reads crashed's tables in place (staged
        copies hold only the rows past a boundary) and the key is one integer."""
        t = self.schema[name]
        return not self.address.staged and len(t.identity) == 1 and integer_key(t)

    def stage_by_key(self, name: str, keys: Sequence[tuple[Any, ...]],
                     columns: Mapping[tuple[Any, ...], str], progress: Callable[[int], None]) -> None:
        """Friday's updated rows of `name` for `keys` into its work table, copied by the
        server from crashed's table: the keys (with the columns a row merged by column
        writes) go into the key table in multi-row INSERTs, then one ``INSERT … SELECT``
        joins them with crashed's rows; no row passes through Python."""
        t, r, k = self.schema[name], self.updates[name], self.keys
        self.execute(k.delete())
        for start in range(0, len(keys), rowio.CHUNK):
            chunk = keys[start : start + rowio.CHUNK]
            rowio.execute_rows(self.production, insert(k), [{"id": key[0], "columns": columns.get(tuple(key))} for key in chunk])
            progress(len(chunk))
        c = self.crashed[name].alias("c")
        self.execute(insert(r).from_select([*t.column_names, "gapmend_columns"], select(
            *(c.c[n] for n in t.column_names), k.c.columns).select_from(c.join(k, k.c.id == c.c[t.identity[0]]))))

    def _writes_any(self, rows: Any, columns: Sequence[str]) -> list[ColumnElement[bool]]:
        """For staged rows (`rows` with fate columns beside them), that one writes a column
        of `columns`; crashed's own rows write them all."""
        return [or_(*(self.writes(rows, c) for c in columns))] if "gapmend_columns" in rows.c else []

    def writes(self, r: Table, column: str) -> ColumnElement[bool]:
        """Whether a staged update of `r` writes `column` (all do unless merged by column)."""
        friday, later = cell_merge.marks(column)
        return or_(r.c.gapmend_columns.is_(None), r.c.gapmend_columns.contains(friday, autoescape=True),
                   r.c.gapmend_columns.contains(later, autoescape=True))

    def staged_skipped(self, name: str, action: str = INSERT) -> Iterator[tuple[tuple[Any, ...], str]]:
        """The staged rows (to insert, or `action` UPDATE: Friday's updates) skipped, and why."""
        r = (self.rows_work if action == INSERT else self.updates)[name]
        key = [r.c[k] for k in self.schema[name].identity]
        for row in self.production.execute(select(*key, r.c.gapmend_reason).where(r.c.gapmend_action == SKIP).order_by(*key)):
            yield tuple(row[:-1]), row[-1] or ""

    # -- reading back --

    def fates(self, name: str, actions: Sequence[str]) -> Iterator[tuple[str, int, int | None, str | None]]:
        """(action, old id, new id, reason) of the Friday rows of `name` with one of `actions`."""
        w = self.work[name]
        yield from self.production.execute(select(w.c.action, w.c.old_id, w.c.new_id, w.c.reason)
                                  .where(w.c.action.in_(actions)).order_by(w.c.old_id))

    # -- shared rules --

    def refs(self, name: str) -> list[Ref]:
        t = self.schema[name]
        out = []
        for edge in self.edges_from(name):
            b = self.boundaries.get(edge.parent)
            if len(edge.columns) != 1 or b is None:
                continue
            out.append(Ref(edge, edge.columns[0], t.column_names.index(edge.columns[0]), b, self.work.get(edge.parent),
                            self.dialect, holds_text(t, edge.columns[0])))
        return out

    def natural_refs(self, name: str) -> list[Ref]:
        """`name`'s single-column references into tables keyed otherwise than by one
        integer (a UUID, a string): no id of theirs moves, so only their orphans matter."""
        t = self.schema[name]
        out = []
        for edge in self.edges_from(name):
            parent = self.schema.tables.get(edge.parent)
            # A self-reference is left to the check before the commit: MySQL will not
            # update a work table its own subquery reads.
            if (len(edge.columns) != 1 or parent is None or self.boundaries.get(edge.parent) is not None
                    or len(parent.primary_key) != 1 or edge.parent_columns != parent.primary_key or edge.is_self):
                continue
            out.append(Ref(edge, edge.columns[0], t.column_names.index(edge.columns[0]), 0, None, self.dialect))
        return out

    def linked_edges(self, name: str) -> list[Edge]:
        """`name`'s single-column references to the key of a staged table keyed by one
        column (`links`): a Friday row naming a Friday parent linked to production's row
        names production's row as written."""
        return [e for e in self.edges_from(name) if len(e.columns) == 1 and e.parent in self.links
                and e.parent_columns == self.schema[e.parent].identity]

    def keep_links(self, name: str, meets: KeyMatch, source: Any) -> None:
        """The staged rows of `name` linked on `meets` (read from `source`) and the key of
        the production row each is linked to, for the references to them (`linked_edges`)."""
        links, r = self.links.get(name), self.rows_work[name]
        if links is None:
            return
        key, kept = self.schema[name].identity[0], links.alias("kept")
        self.execute(insert(links).from_select(["friday", "production"], select(r.c[key], meets.table.c[key])
                     .select_from(source.join(meets.table, meets.condition))
                     .where(r.c.gapmend_action == LINK, r.c.gapmend_met_on == ",".join(meets.columns),
                            ~exists().where(kept.c.friday == r.c[key]))))   # decided again: kept once

    def natural_parent_gone(self, ref: Ref, value: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """The condition that `value` (a reference by `ref` into a table keyed by a string)
        names no row production holds, nor a Friday row of the parent this restore stages."""
        parent = self.schema[ref.edge.parent]
        key = parent.primary_key[0]
        par = parent.table.alias("kp")
        held = par.c[key] == self.collations.as_production(parent.name, key, value)
        cond: list[ColumnElement[bool]] = [value.is_not(None), ~exists().where(held)]
        staged = self.rows_work.get(ref.edge.parent)
        if staged is not None:
            sp = staged.alias("ks")
            cond.append(~exists().where(sp.c[key] == value, sp.c.gapmend_action.in_(WRITTEN)))
        return cond

    def composite_refs(self, name: str) -> list[Edge]:
        """`name`'s references of more than one column (a foreign key onto a composite
        key). The restore maps none of them as a whole (a column of one that is a
        reference of its own is mapped as that), so what it decides for them is whether
        the row they name is there. A self-reference is left to the check before the
        commit, as in `natural_refs`."""
        return [e for e in self.edges_from(name) if len(e.columns) > 1 and not e.is_self
                and e.parent in self.schema.tables]

    def composite_gone(self, edge: Edge, friday: Any, written: Mapping[str, ColumnElement[Any]],
                       skipped: bool = False) -> list[ColumnElement[bool]]:
        """The condition that a Friday row of `friday` (its columns `written` as the
        restore writes them: `mapped`) names by `edge` a row production does not hold,
        nor a Friday row this restore writes. `skipped`: and a Friday row it does not
        write holds that key (its parent is skipped); else none does (production
        deleted it: an orphan)."""
        pairs = list(zip(edge.columns, edge.parent_columns))
        par = self.schema[edge.parent].table.alias("cpar")
        held = [par.c[pc] == self.collations.as_production(edge.parent, pc, written[c]) for c, pc in pairs]
        cond = [*(friday.c[c].is_not(None) for c, _ in pairs), *edge.type_filter(friday), ~exists().where(*held)]
        parent_rows = self._friday_parent_rows(edge, friday)
        if parent_rows is None:
            return cond if not skipped else [false()]
        rows, live = parent_rows
        cond.append(~exists().where(*rows, live))
        return [*cond, exists().where(*rows)] if skipped else [*cond, ~exists().where(*rows)]

    def _friday_parent_rows(self, edge: Edge, friday: Any) -> tuple[list[ColumnElement[bool]], ColumnElement[bool]] | None:
        """The condition that a Friday row of `edge`'s parent holds the key a row of
        `friday` names, and that it is written (or linked); None when this restore writes
        no row of that parent."""
        pairs = list(zip(edge.columns, edge.parent_columns))
        staged = self.rows_work.get(edge.parent)
        if staged is not None:
            sp = staged.alias("cst")
            return [sp.c[pc] == friday.c[c] for c, pc in pairs], sp.c.gapmend_action.in_(WRITTEN)
        work = self.work.get(edge.parent)
        if work is None:
            return None
        parent = self.schema[edge.parent]
        cp, wp = self.crashed[edge.parent].alias("ccp"), work.alias("cwp")
        return ([cp.c[pc] == friday.c[c] for c, pc in pairs] + [wp.c.old_id == cp.c[parent.primary_key[0]]],
                wp.c.action.in_(LIVE))

    def composite_orphans(self, name: str, work: Table, work_key: Sequence[ColumnElement[Any]], friday: FridayRows,
                          named: Callable[[Sequence[str]], ColumnElement[Any]], orphans: bool = True) -> int:
        """Skip the rows of `work` (`work_key` naming each) whose Friday row names by a
        composite reference no row production holds or this restore writes: first those
        whose Friday parent is skipped, then the orphans (never written NULL: a column of
        the key may be part of another reference). `named(columns)`: the Friday values
        of `columns` as text, seen from `work`'s row. `orphans`: False for the first kind
        only. Through a derived table: MySQL will not update a table its subquery reads.
        Returns the rows skipped."""
        edges = self.composite_refs(name)
        if not edges:
            return 0
        fate = fate_of(work)
        target = tuple_(*work_key) if len(work_key) > 1 else work_key[0]
        joined, written = self.mapped(name, friday.rows, friday.nulled, friday.source)
        changed = 0
        for edge in edges:
            shown = named(edge.columns)
            for skipped in (True, False) if orphans else (True,):
                doomed = (select(*friday.key).select_from(joined)
                          .where(friday.live, *self._writes_any(friday.rows, edge.columns),
                                 *self.composite_gone(edge, friday.rows, written, skipped))
                          .subquery("doomed"))
                values: dict[Any, Any] = {fate.action: SKIP}
                if skipped:
                    values[fate.reason] = text_of(f"{','.join(edge.columns)}=", shown, f": its {edge.parent} row is skipped")
                else:
                    values |= {fate.reason: text_of(f"{','.join(edge.columns)}=", shown, f": {ORPHANED}"),
                               fate.orphan_edge: literal(edge.id), fate.orphan_id: shown}
                changed += self.execute(update(work).values(values).where(target.in_(select(*doomed.c))))
        return changed

    def staged_composite_orphans(self, name: str, r: Table, live: str) -> None:
        """`composite_orphans` for the staged rows of `r` (to insert, or Friday's updates)
        still `live`: their fates beside them."""
        key = [r.c[k] for k in self.schema[name].identity]
        self.composite_orphans(name, r, key, FridayRows(r, r, key, r.c.gapmend_action == live, r.c.gapmend_nulled),
                               lambda columns: tuple_text([r.c[c] for c in columns]))

    def mapped(self, name: str, rows: Any, nulled: ColumnElement[Any],
                source: Any) -> tuple[Any, dict[str, ColumnElement[Any]]]:
        """Each column of `rows` (Friday's rows of `name`) as written: a reference past its
        parent's boundary becomes the parent's new id (an outer join to the parent's work
        table, added to `source`), a column listed in `nulled` NULL, the rest as it is."""
        whens: dict[str, list[tuple[ColumnElement[bool], ColumnElement[Any]]]] = {}
        for k, ref in enumerate(self.refs(name)):
            if ref.work is None:   # rows pointing past its boundary were skipped
                continue
            wp = ref.work.alias(f"r{k}")
            col = ref.value(rows)
            types = ref.edge.type_filter(rows)
            source = source.outerjoin(wp, and_(wp.c.old_id == col, *types))
            is_nulled = func.instr(func.coalesce(nulled, literal("")), literal(f",{ref.index},")) > 0
            # No work row: a sentinel past the boundary (`past_sentinels`), kept as it is.
            whens.setdefault(ref.column, [(is_nulled, null())]).append(
                (and_(col > ref.boundary, wp.c.old_id.is_not(None), *types), ref.written(wp.c.new_id)))
        for ref in self.natural_refs(name):   # no id moves there: a reference nulled (``--orphans null``) ...
            is_nulled = func.instr(func.coalesce(nulled, literal("")), literal(f",{ref.index},")) > 0
            whens.setdefault(ref.column, [(is_nulled, null())])
        for k, edge in enumerate(self.linked_edges(name)):   # ... or naming a Friday row linked to production's
            lk = self.links[edge.parent].alias(f"lk{k}")
            column = edge.columns[0]
            source = source.outerjoin(lk, and_(uniform(lk.c.friday) == uniform(rows.c[column]), *edge.type_filter(rows)))
            whens.setdefault(column, []).append((lk.c.friday.is_not(None), lk.c.production))
        return source, {n: case(*whens[n], else_=rows.c[n]) if n in whens else rows.c[n]
                        for n in self.schema[name].column_names}

    def orphaned(self, t: TableInfo, ref: Ref, nullable_ok: bool, work: Table, value: ColumnElement[Any],
                  where: list[ColumnElement[bool]]) -> None:
        """The `where` rows of `work` name, by `value`, a snapshot-range id production
        holds no row for. Where crashed holds that row, production deleted it: an orphan.
        Under ``--orphans null`` on a nullable column the reference is marked to be
        written NULL, else the row is skipped; either way the reference and the id are
        kept (`Fate`), for the plan to show. Where crashed holds no such row either
        (``0`` for "none", ``-1``, an id Friday already left dangling) the value is a
        sentinel, written as Friday had it (`sentinels`)."""
        sentinels = self._sentinels(t.name, ref, work, value, where)
        if sentinels:
            where = [*where, value.not_in(sorted(sentinels))]
        fate = fate_of(work)
        column = t.column(ref.column)
        found = {fate.orphan_edge: literal(ref.edge.id), fate.orphan_id: as_text(value)}
        if nullable_ok and column is not None and column.nullable:
            marked = func.coalesce(fate.nulled, literal(",")) + literal(f"{ref.index},")
            self.execute(update(work).values({fate.nulled: marked, **found}).where(*where))
        else:
            why = text_of(f"{ref.column}=", value, f": {ORPHANED}")
            self.execute(update(work).values({fate.action: SKIP, fate.reason: why, **found}).where(*where))

    def _sentinels(self, name: str, ref: Ref, work: Table, value: ColumnElement[Any],
                   where: list[ColumnElement[bool]]) -> frozenset[Any]:
        """The values `orphaned`'s rows name that no row of crashed's parent holds: read
        in crashed itself, since a staged copy holds only the rows past a boundary. Only
        the few values production lacks are looked up, a chunk at a time; they are kept
        per reference so the check before the commit lets them be."""
        parent = self.schema[ref.edge.parent]
        key = parent.primary_key[:1]
        named = [(v,) for v in self.production.execute(select(value).distinct().select_from(work).where(*where)).scalars()]
        held = {row[0] for row in rowio.fetch_keys(self.source, parent, key, named, select_cols=key)}
        found = {v for (v,) in named} - held
        out = self.sentinels.setdefault((name, ref.edge.id), set())
        out |= found
        return frozenset(found)

    def past_sentinels(self, name: str, ref: Ref, source: Any, rows: Any,
                       where: Sequence[ColumnElement[bool]] = ()) -> list[ColumnElement[bool]]:
        """The condition that a row of `rows` (read from `source`, `where`) does not hold,
        past the parent's boundary, a sentinel: a value no Friday row of the parent has
        (its work table holds one row per Friday id, whatever its fate), so crashed holds
        no such row either: a dangling id Friday already had, written as Friday had it.
        Read once per reference; a parent restored for picked ids only has none (a row
        not picked is still a row)."""
        if ref.work is not None and ref.edge.parent not in self.picks and (name, ref.edge.id) not in self._past_read:
            self._past_read.add((name, ref.edge.id))
            col, wp = ref.value(rows), ref.work.alias("wps")
            found = self.production.execute(select(col).distinct().select_from(source).where(
                col > ref.boundary, *ref.edge.type_filter(rows), *where, ~exists().where(wp.c.old_id == col))).scalars()
            self.sentinels.setdefault((name, ref.edge.id), set()).update(found)
        return self.not_sentinel(name, ref.edge, ref.value(rows))

    def not_sentinel(self, name: str, edge: Edge, value: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """The condition that `value` (`edge` of `name`) is none of the sentinels found."""
        found = self.sentinels.get((name, edge.id))
        return [value.not_in(sorted(found))] if found else []

    def skip_broken(self, name: str, r: Table, live: str, ref: Ref, nullable_ok: bool,
                    only: Sequence[ColumnElement[bool]] = ()) -> None:
        """The rows of `r` still to write (`live`; and `only`) whose `ref` names a
        snapshot-range parent production deleted (`orphaned`), or points past the boundary
        at a row this restore gives no id: skipped, with why."""
        t, col, types = self.schema[name], ref.value(r), [*ref.edge.type_filter(r), *only]
        parent = self.schema[ref.edge.parent]
        par = parent.table.alias("par")
        if self.boundaries.get(ref.edge.parent) is None:   # keyed by a string (`natural_refs`)
            self._skip_for_skipped_parent(r, live, ref, col, types)
            gone = [r.c.gapmend_action == live, *types, *self.natural_parent_gone(ref, col)]
        else:
            gone = [r.c.gapmend_action == live, col.is_not(None), col <= ref.boundary, *types,
                    ~exists().where(par.c[parent.primary_key[0]] == col)]
        self.orphaned(t, ref, nullable_ok, r, col, gone)
        if ref.work is None and self.boundaries.get(ref.edge.parent) is None:
            return   # a parent keyed by a string (`natural_refs`): its orphans are all
        unrestored, why = ref.unrestored(r)
        unrestored += self.past_sentinels(name, ref, r, r, [r.c.gapmend_action == live, *only])
        self.execute(update(r).values(gapmend_action=SKIP, gapmend_reason=text_of(f"{ref.column}=", col, why))
                     .where(r.c.gapmend_action == live, *unrestored, *only))

    def _skip_for_skipped_parent(self, r: Table, live: str, ref: Ref, col: ColumnElement[Any],
                                 types: Sequence[ColumnElement[bool]]) -> None:
        """The rows of `r` naming a staged Friday row of a string-keyed parent that this
        restore skips (decided before them: parents first): skipped too, with why."""
        if ref.edge.parent not in self.rows_work:
            return
        self.execute(update(r).values(gapmend_action=SKIP, gapmend_reason=text_of(
            f"{ref.column}=", col, f": its {ref.edge.parent} row is skipped")).where(
            r.c.gapmend_action == live, *types, *self.staged_parent_skipped(ref, col)))

    def staged_parent_skipped(self, ref: Ref, value: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """The condition that `value` (a reference by `ref`) names a staged Friday row of
        its string-keyed parent that this restore skips, and no row production holds."""
        parent = self.schema[ref.edge.parent]
        key = parent.primary_key[0]
        sp, par = self.rows_work[ref.edge.parent].alias("kx"), parent.table.alias("kq")
        return [exists().where(sp.c[key] == value, sp.c.gapmend_action == SKIP),
                ~exists().where(par.c[key] == self.collations.as_production(parent.name, key, value))]

    def soft_parents(self, name: str) -> dict[str, int]:
        """Per reference, Friday's rows of `name` still to write (inserts and updates) that
        name a snapshot-range parent production soft-deleted: restored all the same, since
        the parent is still a row (`soft_deletes`), and counted for the plan to say so."""
        t = self.schema[name]
        rows: list[tuple[Any, Any, ColumnElement[bool]]] = []   # (Friday's rows, joined to their fates, live)
        if name in self.work:
            w, c = self.work[name], self.crashed[name].alias("c")
            rows.append((c, c.join(w, w.c.old_id == c.c[t.primary_key[0]]), w.c.action.in_(WRITTEN)))
        for staged, actions in ((self.rows_work.get(name), WRITTEN), (self.updates.get(name), (UPDATE,))):
            if staged is not None:
                rows.append((staged, staged, staged.c.gapmend_action.in_(actions)))
        out: dict[str, int] = {}
        for ref in self.refs(name):
            parent = self.schema[ref.edge.parent]
            if soft_deletes.index(parent) is None:
                continue
            par = parent.table.alias("par")
            for friday, source, live in rows:
                value = ref.value(friday)
                n = self.production.execute(select(func.count()).select_from(
                    source.join(par, par.c[parent.primary_key[0]] == value)).where(
                    live, value <= ref.boundary, par.c[soft_deletes.COLUMN].is_not(None),
                    *ref.edge.type_filter(friday))).scalar_one()
                if n:
                    out[ref.edge.id] = out.get(ref.edge.id, 0) + int(n)
        return out

    def broken(self, name: str, edge: Edge, r: Table, live: str, source: Any,
               written: Mapping[str, ColumnElement[Any]], only: Sequence[ColumnElement[bool]] = ()) -> list[Any]:
        """Values `edge` names in the `live` rows of `r` (read from `source`, their
        columns `written` as the restore wrote them) that find no parent row (at most 5;
        a composite reference's as ``a,b``)."""
        values, cond = self.named_parent(edge, written)
        shown = values[0] if len(values) == 1 else tuple_text(values)
        stmt = (select(shown).select_from(source.outerjoin(cond.parent, cond.held))
                .where(r.c.gapmend_action == live, *cond.named, *edge.type_filter(r), *only,
                       *self.not_sentinel(name, edge, values[0]))
                .limit(5))
        return list(self.production.execute(stmt).scalars())

    def named_parent(self, edge: Edge, written: Mapping[str, ColumnElement[Any]]) -> tuple[list[ColumnElement[Any]], Named]:
        """What a row names by `edge` (its columns `written` as production holds them; a
        string spelling an integer id read as that id), and how production's parent is
        joined to it (`Named`)."""
        par = self.schema[edge.parent].table.alias("par")
        if len(edge.columns) == 1:
            values = [as_id(self.dialect, spells_id(self.schema, edge), written[edge.columns[0]])]
        else:
            values = [self.collations.as_production(edge.parent, pc, written[c])
                      for c, pc in zip(edge.columns, edge.parent_columns)]
        held = and_(*(par.c[pc] == v for pc, v in zip(edge.parent_columns, values)))
        return values, Named(par, held, [*(v.is_not(None) for v in values), par.c[edge.parent_columns[0]].is_(None)])


def temporary_refused(engine: Engine) -> str | None:
    """The grant production's user lacks to create TEMPORARY work tables (one line that
    names it), or None."""
    lacking = dialect_of(engine).missing_privileges(engine, "production", ("CREATE TEMPORARY TABLES",))
    return lacking[0] if lacking else None


def staging_table(metadata: MetaData, name: str, t: TableInfo, dialect: Dialect, prefixes: Sequence[str] = ()) -> Table:
    """An empty copy of `t` to hold Friday's rows in a `dialect` database: the same columns
    and types (and the table options the dialect keeps: `Dialect.copied_options`), the
    primary key, no other index, no constraint, no default."""
    columns = [Column(c.name, c.type, primary_key=c.name in t.primary_key, autoincrement=False,
                      nullable=c.name not in t.primary_key) for c in t.table.columns]
    return Table(name, metadata, *columns, prefixes=list(prefixes), **dialect.copied_options(t.table))


def rows_table(metadata: MetaData, name: str, t: TableInfo, dialect: Dialect, action: str = INSERT,
               prefixes: Sequence[str] = ()) -> Table:
    """Staged Friday rows of `t` and the fate of each (the ``gapmend_`` columns, `Fate`):
    `action` until a rule skips or links the row."""
    stage = staging_table(metadata, name, t, dialect, prefixes)
    stage.append_column(Column("gapmend_action", String(8), nullable=False, server_default=action))
    stage.append_column(Column("gapmend_nulled", String(255)))
    stage.append_column(Column("gapmend_reason", String(255)))
    stage.append_column(Column("gapmend_orphan_edge", String(255)))
    stage.append_column(Column("gapmend_orphan_id", String(255)))   # an integer id or a string key, as text
    stage.append_column(Column("gapmend_met_on", String(255)))
    stage.append_column(Column("gapmend_key", Text))   # the journal's encoding of the Friday key (not integers)
    stage.append_column(Column("gapmend_written", Text))   # ... of the key as written, its references' holes open
    # Friday's updates merged by column (`cell_merge.written`): the columns written; NULL: all of them.
    stage.append_column(Column("gapmend_columns", Text))
    return stage


def link_table(metadata: MetaData, name: str, t: TableInfo, dialect: Dialect, prefixes: Sequence[str] = ()) -> Table:
    """Friday's keys of `t` (keyed by one column) linked to a production row, and that
    row's key (`WorkTables.links`)."""
    key = t.table.c[t.identity[0]]
    return Table(name, metadata, Column("friday", key.type, primary_key=True, autoincrement=False),
                 Column("production", key.type, nullable=False), prefixes=list(prefixes),
                 **dialect.copied_options(t.table))


def work_table(metadata: MetaData, name: str, prefixes: Sequence[str] = ()) -> Table:
    """One integer-keyed table's Friday ids and the fate of each (`Fate`)."""
    return Table(name, metadata,
                 Column("old_id", BigInteger, primary_key=True, autoincrement=False),
                 Column("new_id", BigInteger),
                 Column("action", String(8), nullable=False),
                 Column("nulled", String(255)),
                 Column("reason", String(255)),
                 Column("orphan_edge", String(255)),
                 Column("orphan_id", String(255)),   # an integer id or a string key, as text
                 Column("met_on", String(255)),
                 Column("promised", Integer, nullable=False, server_default="0"),   # 1: new_id from a stopped run
                 prefixes=list(prefixes))


def text_of(prefix: str, value: ColumnElement[Any], suffix: str = "") -> ColumnElement[str]:
    out = literal(prefix, String) + as_text(value)
    return out + literal(suffix, String) if suffix else out


def tuple_text(values: Sequence[ColumnElement[Any]]) -> ColumnElement[str]:
    """The values of a composite reference as text, comma-separated: ``eu,b``."""
    out = as_text(values[0])
    for value in values[1:]:
        out = out + literal(",", String) + as_text(value)
    return out


def as_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    """`value` as text for a reason or an orphan's key: bytes (a BINARY(16) UUID) in hex,
    which every server spells the same and any text column holds."""
    if isinstance(value.type, (LargeBinary, BINARY, VARBINARY)):
        return func.lower(func.hex(value))
    return cast(value, String)
