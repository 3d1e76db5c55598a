"""Every side's versions of the rows that may differ: per key, the (snapshot, crashed,
production) rows the three-way rule classifies, read without bringing equal rows into
Python.

Tables with one integer key: only the ranges of ids up to the boundary whose rows may
differ are read, found by chunk checksums on MariaDB or a join across ATTACHed SQLite
files (`compare`); with ``GAPMEND_TRUST_UPDATED_AT``, only the rows stamped after the
snapshot time and the ids a side lacks. Other tables are merged by key (or, without any
key, as multisets of whole rows): grouped inside the server when one connection sees
every side (joined by key instead for the restore, `compare.keyed_versions`), compared
by chunk checksums over an integer first key column across MariaDB servers, else over
streamed, ordered reads. A row whose key references a parent row from past that
parent's boundary belongs to the side it was read from: pivot row ``(101, 5)`` in
Friday's data means Friday's post 101, not production's."""

from __future__ import annotations

import contextlib
import heapq
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import Connection, DateTime, Engine, Integer, MetaData, String, Table, and_, or_, select, table
from sqlalchemy.sql.elements import ColumnElement

from ..databases import rows as rowio
from ..databases.dialects import Address, dialect_of
from ..databases.engines import unreadable
from ..databases.schema import Schema, TableInfo
from ..errors import GapmendError
from ..plan.model import Boundary, RowClass
from ..progress import check_cancel
from . import compare
from .classify import Evidence, Row, key_of
from .graph import ReferenceGraph
from .sources import Sources

Versions = tuple[Row | None, Row | None, Row | None]   # (snapshot, crashed, production)
SIDE_BY_SIDE_IDS = 20_000   # an overlap of fewer ids is compared one statement at a time
# Classes only production's own writes produce (a row crashed holds as the snapshot did).
PRODUCTION_SIDE = frozenset({RowClass.PRODUCTION_INSERT, RowClass.PRODUCTION_UPDATE, RowClass.PRODUCTION_DELETE,
                             RowClass.CONVERGED})


@dataclass
class VersionReader:
    """Reads the versions of one table at a time, over the connections of one inspection."""

    schema: Schema
    graph: ReferenceGraph
    sources: Sources   # the engines behind the connections
    crashed: Connection
    production: Connection
    snapshot: Connection | None   # when there is one
    boundaries: dict[str, Boundary]
    snapshot_at: datetime | None
    row_classes: frozenset[RowClass]
    trust_updated_at: bool
    cancel: threading.Event | None
    # Friday's delta from the reviewed plan (`plan.delta`): per table it covers, the only
    # keys whose crashed row can differ from the snapshot's.
    known: Mapping[str, list[Row]] | None = None
    # The one connection that names every side's tables (tag -> schema; None = its own),
    # when there is one, found when first asked for (`joint`).
    _joint_allowed: bool = field(default=False, init=False)
    _found: tuple[tuple[Connection, dict[int, str | None]] | None] | None = field(default=None, init=False)
    _attached: Connection | None = field(default=None, init=False)

    @contextlib.contextmanager
    def opened(self, joint_allowed: bool) -> Iterator[VersionReader]:
        """Read within this: the one connection that sees every side is found (and, for
        SQLite files, opened) when a comparison first needs it, and closed after."""
        self._joint_allowed, self._found = joint_allowed, None
        try:
            yield self
        finally:
            self._joint_allowed, self._found = False, None
            if self._attached is not None:
                self._attached.close()
                self._attached = None

    @property
    def joint(self) -> tuple[Connection, dict[int, str | None]] | None:
        """The connection that sees every side, asked for once and only when a table is
        compared: reading only the keys of Friday's delta needs none, and asking whether
        production's connection may read every table costs a statement per hundred."""
        if self._found is None:
            found = None
            if self._joint_allowed:
                addresses = self._addresses()   # asked once: on MariaDB each answer takes two connections
                self._attached = self._attach_files(addresses)
                found = self._joint(self._attached, addresses)
            self._found = (found,)
        return self._found[0]

    def overlap(self, t: TableInfo, b: int) -> Iterator[Versions]:
        """(snapshot, crashed, production) versions of every id ≤ b that may differ."""
        known = self.known.get(t.name) if self.known is not None else None
        ranges: Iterable[tuple[int, int]] | None = None
        if known is not None:   # the delta's ids, each its own range
            ranges = [(k - 1, k) for k in sorted({key[0] for key in known}) if k <= b]
        if ranges is None:
            ranges = self._changed_since(t, b)
        if ranges is None:
            ranges = self._differing(t, b)
        for batch in _batched_ranges(ranges):
            yield from self._read_ranges(t, batch)

    def _differing(self, t: TableInfo, b: int) -> Iterable[tuple[int, int]]:
        """Ranges of ids ≤ b whose rows may differ, the whole overlap compared."""
        if self.joint is not None:   # one connection sees every side: one join by key
            return compare.attached_ranges(*self._joint_schemas(), t, 0, b, self._pool_engine(b))
        checksummed = self._checksum_sides()
        if checksummed is not None:
            return compare.checksum_ranges([compare.Side(conn, t) for conn in checksummed], 0, b)
        return compare.whole_range(0, b)

    def _changed_since(self, t: TableInfo, b: int) -> Iterable[tuple[int, int]] | None:
        """With ``GAPMEND_TRUST_UPDATED_AT``: the ids whose ``updated_at`` on some side is
        after the snapshot time, and the ids some side lacks (a delete leaves no
        ``updated_at``), found by key checksums on MariaDB or a key join where one
        connection sees every side. None where the table has no ``updated_at`` time (it
        is compared whole)."""
        since, col = self.snapshot_at, t.table.c.get("updated_at")
        if not self.trust_updated_at or since is None or col is None or not isinstance(col.type, DateTime):
            return None
        lacking: Iterable[tuple[int, int]]
        if self._checksum_sides() is not None:
            lacking = compare.checksum_ranges([compare.Side(conn, t) for conn in self._compared()], 0, b, keys_only=True)
        elif self.joint is not None:
            lacking = compare.attached_ranges(*self._joint_schemas(), t, 0, b, self._pool_engine(b), keys_only=True)
        else:
            return None
        key = t.primary_key[0]
        changed = set().union(*(compare.changed_ids(conn, t.table, key, "updated_at", since, 0, b)
                                for conn in self._compared()))
        return compare.merge_ranges([*lacking, *((i - 1, i) for i in changed)])

    def _joint_schemas(self) -> tuple[Connection, list[str]]:
        """The joint connection and the schemas it names the compared sides by."""
        assert self.joint is not None
        conn, names = self.joint
        own = self.sources.production.url.database or "main"
        return conn, [names[tag] or own for tag in sorted(names) if not (self._friday_only() and tag == 2)]

    def _pool_engine(self, ids: int | None = None) -> Engine | None:
        """An engine to run statements side by side on (MariaDB), or None (one at a time).
        Over fewer than `SIDE_BY_SIDE_IDS` ids one at a time: each statement side by side
        takes a thread and a pooled connection, which cost more than a small table's join
        (200 tables of 55 rows: 2.2 s of a 6.8 s plan)."""
        if ids is not None and ids < SIDE_BY_SIDE_IDS:
            return None
        return self.sources.production if dialect_of(self.sources.production).side_by_side else None

    def _friday_only(self) -> bool:
        """Asked only for what Friday did (the restore), with the snapshot at hand: a row
        crashed holds as the snapshot did needs nothing, so production is read only for
        the keys where crashed differs (half the comparisons)."""
        return self.snapshot is not None and not (self.row_classes & PRODUCTION_SIDE)

    def _read_ranges(self, t: TableInfo, ranges: list[tuple[int, int]]) -> Iterator[Versions]:
        """Every side's rows whose first key column lies in `ranges`, as (snapshot,
        crashed, production) versions per key (the whole key), in key order."""
        check_cancel(self.cancel)
        cond = _ranges_condition(t.table.c[t.primary_key[0]], ranges)
        key_idx = [t.column_names.index(k) for k in t.primary_key]
        def read(conn: Connection | None) -> dict[Row, Row]:
            if conn is None:
                return {}
            return {key_of(tuple(r), key_idx): tuple(r) for r in conn.execute(select(*t.table.c).where(cond))}
        s_rows, c_rows, p_rows = read(self.snapshot), read(self.crashed), read(self.production)
        for k in sorted(set(s_rows) | set(c_rows) | set(p_rows), key=rowio.sort_key):
            yield s_rows.get(k), c_rows.get(k), p_rows.get(k)

    def merge_keyed(self, t: TableInfo, ev: Evidence, key_idx: list[int]) -> Iterator[Versions]:
        """Merge the sides' ordered streams by key; rows whose key points past a parent's
        boundary stand alone (they are that side's insert, whatever the other side holds)."""
        key_refs = [fn for i, fn in ev.ref_columns.items() if i in key_idx]
        known = self.known.get(t.name) if self.known is not None else None
        if known is not None:
            yield from self._known_keyed(t, known, key_refs)
            return
        if self.joint is not None:
            yield from self._joint_keyed(t, ev, key_idx)
            return
        if self._checksummed_keyed(t):
            yield from self._checksum_keyed(t, key_idx, key_refs)
            return
        streams = []
        for tag, engine in ((0, self.sources.snapshot), (1, self.sources.crashed), (2, self.sources.production)):
            if engine is None:
                continue
            streams.append(_tagged(tag, rowio.stream_ordered(engine, t), key_idx, multiset=not t.primary_key))
        group: list[tuple[int, Row]] = []
        current: Any = object()
        for sk, tag, row in heapq.merge(*streams, key=lambda x: x[0]):
            if sk != current:
                yield from _emit(group, key_refs)
                group, current = [], sk
            group.append((tag, row))
        yield from _emit(group, key_refs)

    def _known_keyed(self, t: TableInfo, keys: list[Row], key_refs: list[Callable[[Row], bool]]) -> Iterator[Versions]:
        """`merge_keyed` over the keys of Friday's delta only: each side's row of each key,
        looked up by key (a string key's lookup may match by collation: only the rows
        whose key equals a wanted one exactly are kept, as the grouping by bytes would)."""
        key_idx = [t.column_names.index(k) for k in t.primary_key]
        ordered = sorted(set(keys), key=rowio.sort_key)
        for start in range(0, len(ordered), rowio.CHUNK):
            check_cancel(self.cancel)
            batch = ordered[start : start + rowio.CHUNK]
            sides = [{} if conn is None else
                     {key_of(row, key_idx): row for row in rowio.fetch_keys(conn, t, t.primary_key, batch)}
                     for conn in (self.snapshot, self.crashed, self.production)]
            for key in batch:
                yield from _emit(_tagged_versions([side.get(key) for side in sides]), key_refs)

    def _compared(self) -> list[Connection]:
        """The connections of the sides compared: snapshot (when loaded), crashed, and
        production unless only Friday's work is asked for."""
        return [conn for conn in ((self.snapshot, self.crashed) if self._friday_only() else (self.snapshot, self.crashed, self.production))
                if conn is not None]

    def _checksum_sides(self) -> list[Connection] | None:
        """The connections whose tables chunk checksums compare (all MariaDB), or None."""
        engines = [self.sources.snapshot, self.sources.crashed] if self._friday_only() else [
            self.sources.snapshot, self.sources.crashed, self.sources.production]
        if not all(dialect_of(e).checksums for e in engines if e is not None):
            return None
        return self._compared()

    def _checksummed_keyed(self, t: TableInfo) -> bool:
        """A keyed table the chunk checksums can compare across servers: its key starts
        with an integer column, whose values cut the table into chunks."""
        return bool(t.primary_key) and isinstance(t.table.c[t.primary_key[0]].type, Integer) and (
            self._checksum_sides() is not None)

    def _checksum_keyed(self, t: TableInfo, key_idx: list[int],
                        key_refs: list[Callable[[Row], bool]]) -> Iterator[Versions]:
        """`merge_keyed` by chunk checksums over the key's first column (a pivot's post
        ids): only the first-column values whose rows differ are read, from every side,
        and merged by the whole key; the rest never leave the servers."""
        sides = self._checksum_sides()
        assert sides is not None
        col = t.table.c[t.primary_key[0]]
        span = compare.key_span(compare.min_max(conn, col) for conn in sides)
        if span is None:
            return
        ranges: Iterable[tuple[int, int]] = compare.checksum_ranges([compare.Side(conn, t) for conn in sides], *span)
        # Rows whose key names a parent past its boundary are new whatever the other side
        # holds (Friday's pivot row (101, 5) and production's are different rows with equal
        # bytes, which checksums cannot tell apart): their first-column values are read too.
        past = self._past_sql(t, key_idx)(t.table)
        if past is not None:
            values = set().union(*({v for (v,) in conn.execute(select(col).distinct().where(past))} for conn in sides))
            ranges = compare.merge_ranges([*ranges, *((v - 1, v) for v in values)])
        for batch in _batched_ranges(ranges):
            for versions in self._read_ranges(t, batch):
                yield from _emit(_tagged_versions(versions), key_refs)

    def _joint(self, attached: Connection | None,
               addresses: dict[int, Address | None]) -> tuple[Connection, dict[int, str | None]] | None:
        """A connection that sees every side: the ATTACHed SQLite one, or production's
        when every side is a database on production's MariaDB server it may read."""
        if attached is not None:
            return attached, {0: "snap", 1: "crashed", 2: "main"} if self.snapshot is not None else {1: "crashed", 2: "main"}
        schemas: dict[int, str | None] = {2: None}
        for tag, address in addresses.items():
            if address is None or address.attach_uri is not None:
                return None
            schemas[tag] = address.schema
        others = (table(name, schema=schema) for name in self.schema.tables for schema in schemas.values()
                  if schema is not None)
        return None if unreadable(self.production, others) is not None else (self.production, schemas)

    def _joint_keyed(self, t: TableInfo, ev: Evidence, key_idx: list[int]) -> Iterator[Versions]:
        """`merge_keyed` done by the server: only rows not alike on every side come back."""
        assert self.joint is not None
        conn, schemas = self.joint
        md = MetaData()
        sides = {tag: t.table if schema is None else t.table.to_metadata(md, schema=schema)
                 for tag, schema in schemas.items()}
        key_refs = [fn for i, fn in ev.ref_columns.items() if i in key_idx]
        if 0 in sides and t.primary_key and not any(isinstance(t.table.c[k].type, String) for k in t.primary_key):
            # Joined by key against the snapshot rather than grouped: no temporary table as
            # big as the sides. Only crashed is compared when only Friday's work is asked
            # for. (String keys stay grouped by their bytes: a join would match them by
            # collation. Without a snapshot, rows alike on both sides may still be two
            # different inserts, which only the grouping's `past` flag finds.)
            engine = self._pool_engine()
            compared = 2 if self._friday_only() else 3
            for part in compare.keyed_versions(conn, [sides[0], sides[1], sides[2]], t, engine, compared):
                for found_versions in part:
                    yield from _emit(_tagged_versions(found_versions), key_refs)
            return
        past = self._past_sql(t, key_idx)
        # Sorted by the key's bytes and consumed as they come: memory holds one key's versions.
        order = t.primary_key or t.column_names
        found = compare.joint_differences(conn, sides, t, t.column_names, past, order=order)
        if not t.primary_key:   # a multiset: the counts say how many copies each side holds
            for row, counts in found:
                for d in range(max(counts.values())):
                    yield from _emit([(tag, row) for tag, n in counts.items() if d < n], key_refs)
            return
        # Each group is one exact row version; the sides counting it hold it.
        current: Row | None = None
        versions: dict[int, Row] = {}
        for row, counts in found:
            key = key_of(row, key_idx)
            if key != current:
                yield from _emit(sorted(versions.items()), key_refs)
                current, versions = key, {}
            versions.update((tag, row) for tag, n in counts.items() if n)
        yield from _emit(sorted(versions.items()), key_refs)

    def _past_sql(self, t: TableInfo, key_idx: list[int]) -> Callable[[Table], ColumnElement[bool] | None]:
        """The SQL form of the key references in `Evidence.ref_columns`: a key column naming
        a parent row past that parent's boundary."""
        edges = []
        for edge in self.graph.edges_from(t.name):
            b = self.boundaries.get(edge.parent)
            if b is None or b.value is None or len(edge.columns) != 1:
                continue
            if t.column_names.index(edge.columns[0]) in key_idx:
                edges.append((edge, b.value))

        def past(table: Table) -> ColumnElement[bool] | None:
            conds = [and_(table.c[e.columns[0]] > v, *e.type_filter(table))
                     for e, v in edges]
            return or_(*conds) if conds else None
        return past

    def _addresses(self) -> dict[int, Address | None]:
        """How production's connection names the snapshot's (0) and crashed's (1) tables."""
        production = self.sources.production
        sides = ((0, "snapshot", "snap", self.sources.snapshot), (1, "crashed", "crashed", self.sources.crashed))
        return {tag: dialect_of(production).locate(production, engine, role, alias)[0]
                for tag, role, alias, engine in sides if engine is not None}

    def _attach_files(self, addresses: dict[int, Address | None]) -> Connection | None:
        """One connection with crashed (and snapshot) ATTACHed read-only beside production,
        for joins across the files; None unless every side is a file to attach (SQLite)."""
        if any(a is None or a.attach_uri is None for a in addresses.values()):
            return None
        conn = self.sources.production.connect()
        try:
            for address in addresses.values():
                assert address is not None
                dialect_of(conn).attach(conn, address.schema, address.attach_uri)
        except GapmendError:
            conn.close()
            raise
        return conn


def _tagged(tag: int, chunks: Iterator[list[Row]], key_idx: list[int], multiset: bool) -> Iterator[tuple[Any, int, Row]]:
    last: Any = None
    dup = 0
    for chunk in chunks:
        for row in chunk:
            sk = rowio.sort_key([row[i] for i in key_idx])
            if multiset:
                dup = dup + 1 if sk == last else 0
                last = sk
                yield (sk, dup), tag, row
            else:
                yield sk, tag, row


def _emit(group: list[tuple[int, Row]], key_refs: list[Callable[[Row], bool]]) -> Iterator[Versions]:
    """The (snapshot, crashed, production) versions of one key. A version whose key names
    a parent from past that parent's boundary is its side's insert by meaning, so it is
    yielded alone and the other side's same-looking key is matched without it."""
    if not group:
        return
    by = {tag: row for tag, row in group}
    s, c, p = by.get(0), by.get(1), by.get(2)
    c_new = c is not None and any(fn(c) for fn in key_refs)
    p_new = p is not None and any(fn(p) for fn in key_refs)
    if c_new:
        yield None, c, None
        c = None
    if p_new:
        yield None, None, p
        p = None
    if s is not None or c is not None or p is not None:
        yield s, c, p


def _tagged_versions(versions: Sequence[Row | None]) -> list[tuple[int, Row]]:
    """(snapshot, crashed, production) versions as `_emit` takes them: (side tag, row)."""
    return [(tag, row) for tag, row in enumerate(versions) if row is not None]


def _batched_ranges(ranges: Iterable[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    """Candidate ranges grouped for reading: up to `rowio.CHUNK` ids or 500 ranges a
    batch, a wider range cut into pieces (a block of 50,000 new ids is not read at once)."""
    batch: list[tuple[int, int]] = []
    width = 0
    for lo, hi in ranges:
        for start in range(lo, hi, rowio.CHUNK):
            batch.append((start, min(hi, start + rowio.CHUNK)))
            width += batch[-1][1] - start
            if width >= rowio.CHUNK or len(batch) >= 500:
                yield batch
                batch, width = [], 0
    if batch:
        yield batch


def _ranges_condition(col: Any, ranges: list[tuple[int, int]]) -> Any:
    """Single ids (the usual drill-down result) as one expanding IN, which SQLAlchemy
    caches; wider ranges as BETWEEN-style pairs."""
    singles = [hi for lo, hi in ranges if hi - lo == 1]
    wide = [(lo, hi) for lo, hi in ranges if hi - lo != 1]
    parts = ([col.in_(singles)] if singles else []) + [and_(col > lo, col <= hi) for lo, hi in wide]
    return or_(*parts)
