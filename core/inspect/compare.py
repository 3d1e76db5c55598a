"""Find where two (or three) copies of a table differ without pulling equal rows into Python.

Applies to tables with one integer key, over the key range the snapshot covers. Each
strategy yields *candidate ranges* ``(lo, hi]`` of ids that may differ; the caller reads
just those rows from every side and classifies them. Strategies:

- `checksum_ranges` (MariaDB/MySQL, any servers): per id range, one ``GROUP BY`` query per
  side returns a CRC32 ``BIT_XOR`` and a row count for each chunk of ids, the way
  pt-table-checksum does; chunks whose figures differ are candidates. The row text is
  built so that NULL differs from '' (``CONCAT_WS`` skips NULLs, so a NULL-flag string is
  appended) and so it does not depend on the client (values cast to binary, sessions in
  UTC: see `dialects.mariadb`).
- `attached_ranges` (one connection sees every side: SQLite files ATTACHed read-only,
  or databases on one MariaDB server): a join by key names the differing ids directly.
- `whole_range` (anything else): the whole range is a candidate.

Trusting ``updated_at`` (`changed_ids`): the ids whose ``updated_at`` is after the
snapshot time, plus the ids some side lacks, from `checksum_ranges` or
`attached_ranges` with ``keys_only`` (only the key summed or joined).

Tables without one integer key (natural, composite, none): when one connection sees
every side, `joint_differences` groups all sides' rows inside the server and returns
only the rows that are not alike everywhere, and `keyed_versions` (a primary key without
strings) joins two sides by key and returns the versions of the keys that differ. Across
MariaDB servers `checksum_ranges` also serves a key whose first column is an integer:
the chunks are of that column's values (the caller merges the rows by the whole key).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql import column as sql_column
from sqlalchemy.sql import table as sql_table
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import TableClause

from ..databases.collation import uniform
from ..databases.dialects import dialect_of
from ..databases.schema import TableInfo

CHECKSUM_LEVELS = (128, 8, 1)   # ids per chunk at each level (measured best of 9 shapes at 200k rows, 1 % scattered)
CHECKSUM_SPAN = 256_000             # ids per top-level pass: bounds what is held in memory


@dataclass(frozen=True)
class Side:
    """One copy of a table: a connection and its reflected table."""

    conn: Connection
    table: TableInfo


def in_schema(table: TableInfo, schema: str | None) -> TableClause:
    """`table` as another schema names it (an ATTACHed file, another database on the
    server): its name and typed columns only, much cheaper to build than
    ``Table.to_metadata``, which copies every constraint and index (200 tables × 3 sides)."""
    return sql_table(table.name, *(sql_column(c.name, c.type) for c in table.table.c), schema=schema)


def merge_ranges(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def whole_range(lo: int, hi: int) -> Iterator[tuple[int, int]]:
    if hi > lo:
        yield (lo, hi)


# --- MariaDB / MySQL chunk checksums ---------------------------------------------

def _row_text(side: Side, keys_only: bool = False) -> str:
    q = side.conn.dialect.identifier_preparer.quote
    columns = side.table.primary_key if keys_only else side.table.column_names
    names = [q(c) for c in columns]
    exact = dialect_of(side.conn).checksum_text
    values = ", ".join(exact(q(c), isinstance(side.table.table.c[c].type, String)) for c in columns)
    nulls = ", ".join(f"ISNULL({n})" for n in names)
    return f"CRC32(CONCAT_WS('#', {values}, CONCAT({nulls})))"


def _chunk_sums(side: Side, size: int, ranges: Sequence[tuple[int, int]], keys_only: bool = False) -> dict[int, tuple[int, int]]:
    """{chunk number: (rows, BIT_XOR of row CRCs)} for chunks of `size` ids within `ranges`."""
    q = side.conn.dialect.identifier_preparer.quote
    key = q(side.table.primary_key[0])
    where = " OR ".join(f"({key} > {int(lo)} AND {key} <= {int(hi)})" for lo, hi in ranges)
    # DIV truncates toward zero, which would put -5 and 5 in one chunk: below zero, FLOOR.
    chunk = f"FLOOR({key} / {size})" if min(lo for lo, _ in ranges) < 0 else f"{key} DIV {size}"
    sql = (f"SELECT {chunk}, COUNT(*), BIT_XOR({_row_text(side, keys_only)}) "
           f"FROM {q(side.table.name)} WHERE {where} GROUP BY 1")
    return {int(ch): (int(n), int(crc)) for ch, n, crc in side.conn.execute(text(sql))}


def _differing(sides: Sequence[Side], size: int, ranges: Sequence[tuple[int, int]],
               pool: ThreadPoolExecutor, keys_only: bool) -> list[tuple[int, int]]:
    """The chunks of `size` ids within `ranges` whose figures differ between any sides."""
    out: list[tuple[int, int]] = []
    for start in range(0, len(ranges), 500):
        batch = ranges[start : start + 500]
        # One query per side, run side by side: each side has its own connection (and
        # often its own server), and the driver releases the GIL while it waits.
        sums = list(pool.map(lambda s: _chunk_sums(s, size, batch, keys_only), sides))
        for ch in sorted(set().union(*sums)):
            if len({s.get(ch) for s in sums}) > 1:
                out.append((ch * size - 1, (ch + 1) * size - 1))
    return merge_ranges(out)


def checksum_ranges(sides: Sequence[Side], lo: int, hi: int, keys_only: bool = False) -> Iterator[tuple[int, int]]:
    """Candidate ranges where any side differs from another, narrowed level by level.

    As pt-table-sync drills down: checksums over chunks of `CHECKSUM_LEVELS[0]` ids,
    then over smaller chunks inside the ones that differ, down to single rows; only
    rows whose CRC differs are read in full. Each level moves a few integers per chunk
    instead of whole rows, which is what makes scattered differences cheap. With
    `keys_only` only the key is summed: the ids one side has and another lacks.
    """
    with ThreadPoolExecutor(max_workers=len(sides)) as pool:
        span_lo = lo
        while span_lo < hi:
            span_hi = min(hi, span_lo + CHECKSUM_SPAN)
            ranges = [(span_lo, span_hi)]
            for size in CHECKSUM_LEVELS:
                ranges = [(max(a, span_lo), min(b, span_hi)) for a, b in _differing(sides, size, ranges, pool, keys_only)]
                if not ranges:
                    break
            yield from ranges
            span_lo = span_hi


# --- one connection, every side: join by key ------------------------------------------

def attached_ranges(conn: Connection, schemas: Sequence[str], table: TableInfo, lo: int, hi: int,
                    engine: Engine | None = None, keys_only: bool = False) -> Iterator[tuple[int, int]]:
    """Ids in ``(lo, hi]`` whose row differs between `schemas[0]` and any other schema (or
    exists in only one), found by a join inside the server: SQLite files ATTACHed to one
    connection, or databases on one MariaDB server. Joins by primary key, exact: NULL
    counts as a value (``IS NOT`` / ``<=>``, like the checksum's NULL flags) and MariaDB
    compares strings as bytes, so case and trailing spaces count. Ids only another side
    has take an anti-join as costly as the join; it runs only when the sides' row counts
    in the range say there are some (a restore's overlap rarely has any). With `engine`
    (MariaDB) one join per other side and each count run side by side on connections of
    their own; without, one join against every other side (the first side read once)
    and one statement of every count. With `keys_only` only the ids one side lacks are
    named.
    """
    first = in_schema(table, schemas[0]).alias("a")
    key = table.primary_key[0]
    others = [in_schema(table, name).alias(f"b{i}") for i, name in enumerate(schemas[1:])]

    def count(t: Any) -> Any:
        return select(func.count()).select_from(t).where(t.c[key] > lo, t.c[key] <= hi)

    def only_in(other: Any) -> Any:
        return (select(other.c[key]).select_from(other.outerjoin(first, first.c[key] == other.c[key]))
                .where(other.c[key] > lo, other.c[key] <= hi, first.c[key].is_(None)))

    def differs(other: Any) -> ColumnElement[bool]:   # a row of `first` missing or different in `other`
        exact = [] if keys_only else [
            dialect_of(conn).differs(first.c[n], other.c[n]) for n in table.column_names if n != key]
        return or_(other.c[key].is_(None), *exact)

    def join(group: Sequence[Any]) -> Any:
        source: Any = first
        for other in group:
            source = source.outerjoin(other, other.c[key] == first.c[key])
        return (select(first.c[key], *(o.c[key] for o in group)).select_from(source)
                .where(first.c[key] > lo, first.c[key] <= hi, or_(*(differs(o) for o in group))))

    sides = [first, *others]
    if engine is not None:   # the joins first: the counts then run beside them
        groups = [[o] for o in others]
        found = _each([*(join(g) for g in groups), *(count(t) for t in sides)], conn, engine)
        joins, counts = found[: len(groups)], [f[0][0] for f in found[len(groups):]]
    else:
        groups = [others]
        joins = [list(conn.execute(join(others)))]
        counts = list(conn.execute(select(*(count(t).scalar_subquery() for t in sides))).one())
    n_first, n_others = counts[0], counts[1:]
    ids: set[int] = {int(r[0]) for rows in joins for r in rows}
    per_other = [(rows, 1 + g.index(o)) for rows, g in zip(joins, groups) for o in g]
    extra: list[Any] = []
    for other, n_other, (rows, col) in zip(others, n_others, per_other):
        # Rows only `other` has need an anti-join as costly as the join; the counts say
        # whether there are any: `other` holds n_first - missing of `first`'s ids.
        missing = sum(1 for r in rows if r[col] is None)
        if n_other != n_first - missing:
            extra.append(only_in(other))
    for rows in _each(extra, conn, engine):
        ids |= {int(r[0]) for r in rows}
    yield from merge_ranges([(i - 1, i) for i in sorted(ids)])


# --- rows that say they changed -------------------------------------------------------

def changed_ids(conn: Connection, table: Table, key: str, column: str, since: datetime, lo: int, hi: int) -> set[int]:
    """Ids in ``(lo, hi]`` whose `column` (``updated_at``) is after `since`, or empty (a
    row that does not say when it changed is compared like any other). Proportional to
    the rows changed when the column is indexed; one pass over the table when not. The
    id range is applied here, not in SQL: with it, SQLite's planner walks the key
    instead of the ``updated_at`` index (the rows past `hi` it returns are the gap's
    own inserts, no more than the restore reads anyway)."""
    k, col = table.c[key], table.c[column]
    stmt = select(k).where(or_(col > since, col.is_(None)))
    return {int(i) for (i,) in conn.execute(stmt) if lo < i <= hi}


# --- one connection, every side: join by a composite key -----------------------------

KEYED_PIECES = 32      # at least this many ranges of the first key column per table,
KEYED_STEP = 10_000    # each of at most this many of its values: bounds what one range returns

Versions = tuple["tuple[Any, ...] | None", ...]


def keyed_versions(conn: Connection, sides: Sequence[Table], table: TableInfo, engine: Engine | None = None,
                   compared: int = 2) -> Iterator[list[Versions]]:
    """Every side's version of each key whose row differs between ``sides[0]`` and any of
    ``sides[1:compared]`` (or exists in only one of them), found by joins on the primary
    key inside the server; the other sides' rows of the same key come along in the same
    joins, and each key comes once.

    For tables with a primary key of non-string columns (pivots, composite keys):
    equal rows never leave the server, and unlike `joint_differences` nothing is
    grouped, so no temporary table grows with the data; each row is one index lookup.
    The first key column is cut into value ranges when it is an integer (`KEYED_PIECES`
    at least, `KEYED_STEP` values at most: memory does not grow with the table), and
    each range's versions come as one list sorted by key. With `engine` (MariaDB)
    the joins of a range run two at a time on connections of their own.
    """
    key = list(table.primary_key)
    names = table.column_names
    dialect = dialect_of(conn)
    al = [t.alias(f"t{i}") for i, t in enumerate(sides)]
    base = al[0]

    def on(x: Any, y: Any) -> ColumnElement[bool]:
        return and_(*(x.c[k] == y.c[k] for k in key))

    columns = [x.c[n].label(f"v{i}_{j}") for i, x in enumerate(al) for j, n in enumerate(names)]
    k0 = names.index(key[0])
    ranges: list[tuple[int, int] | None] = [None]
    if isinstance(table.table.c[key[0]].type, Integer):
        span = key_span(min_max(conn, t.c[key[0]]) for t in al[:compared])
        if span is None:
            return
        lo, hi = span
        step = max(1, min(-(-(hi - lo) // KEYED_PIECES), KEYED_STEP))
        ranges = [(x, min(x + step, hi)) for x in range(lo, hi, step)]

    def joined(first: Any, second: Any) -> Any:
        j = first.outerjoin(second, on(second, first))
        for x in al:
            if x is not first and x is not second:
                j = j.outerjoin(x, on(x, first))
        return j

    def statements(r: tuple[int, int] | None) -> list[Any]:
        def within(x: Any) -> list[ColumnElement[bool]]:
            return [] if r is None else [x.c[key[0]] > r[0], x.c[key[0]] <= r[1]]
        def differs(other: Any) -> ColumnElement[bool]:   # a row of the base missing or different in `other`
            return or_(other.c[key[0]].is_(None), *(dialect.differs(base.c[n], other.c[n]) for n in names if n not in key))

        compared_sides = al[1:compared]
        # Side by side (MariaDB), one join per compared side; else one join against them all
        # reads the base once.
        groups = [[o] for o in compared_sides] if engine is not None else [compared_sides]
        out = [select(*columns).select_from(joined(base, g[0])).where(*within(base), or_(*(differs(o) for o in g)))
               for g in groups]
        return out + [   # rows only `other` has
            select(*columns).select_from(joined(other, base)).where(*within(other), base.c[key[0]].is_(None))
            for other in compared_sides]

    n = len(names)
    key_idx = [names.index(k) for k in key]

    def versions(row: Any) -> Versions:
        parts = (tuple(row[i * n : (i + 1) * n]) for i in range(len(al)))
        return tuple(None if part[k0] is None else part for part in parts)

    def key_of(v: Versions) -> tuple[Any, ...]:
        row = next(x for x in v if x is not None)
        return tuple(row[i] for i in key_idx)

    for r in ranges:
        found: dict[tuple[Any, ...], Versions] = {}
        for rows in _each(statements(r), conn, engine):
            for row in rows:
                v = versions(row)
                found.setdefault(key_of(v), v)   # a key differing from several sides comes once
        yield [found[k] for k in sorted(found)]


def min_max(conn: Connection, col: Any) -> tuple[Any, Any]:
    """A column's lowest and highest value, as two subqueries: SQLite answers ``min()``
    or ``max()`` alone from the index, but both in one SELECT by reading every row."""
    low, high = conn.execute(select(select(func.min(col)).scalar_subquery(), select(func.max(col)).scalar_subquery())).one()
    return low, high


def key_span(bounds: Iterable[tuple[Any, Any]]) -> tuple[int, int] | None:
    """The range ``(lo, hi]`` covering every side's (min, max) of a key column, or None
    when every side is empty."""
    pairs = [(lo, hi) for lo, hi in bounds if lo is not None]
    if not pairs:
        return None
    return min(lo for lo, _ in pairs) - 1, max(hi for _, hi in pairs)


def _each(statements: Sequence[Any], conn: Connection, engine: Engine | None) -> list[list[Any]]:
    """Each statement's rows: one after another on `conn`, or with `engine` (MariaDB) two
    at a time on connections of their own (the driver waits for the server without the GIL)."""
    if engine is None:
        return [list(conn.execute(stmt)) for stmt in statements]

    def own(stmt: Any) -> list[Any]:
        with engine.connect() as c:
            return list(c.execute(stmt))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(own, statements))


# --- one connection that sees every side: GROUP BY across a UNION ALL ------------------

def joint_differences(conn: Connection, sides: dict[int, Table], table: TableInfo, columns: Sequence[str],
                      past: Callable[[Table], ColumnElement[bool] | None],
                      order: Sequence[str] = ()) -> Iterator[tuple[tuple[Any, ...], dict[int, int]]]:
    """Rows that are not alike on every side, found inside the server.

    `sides` maps a side's tag to its table as `conn` names it (an ATTACHed SQLite file,
    or a database on the same MariaDB server). Every side's rows are stacked with a
    UNION ALL and grouped by their exact values (strings compared as bytes on MariaDB,
    so case and trailing spaces count, as in the checksums); a group whose row count
    differs between the sides, or whose rows `past` marks (a key naming a row created
    after its parent's boundary, which is a new row whatever the other side holds), is
    yielded as (the values of `columns`, {tag: rows}). Equal rows never leave the server.
    With `order` (columns among `columns`) they come sorted by those columns' bytes, so
    the caller can stream them key by key instead of holding them all.
    """
    dialect = dialect_of(conn)
    names = table.column_names
    hashed = False
    parts = []
    for tag, t in sides.items():
        flag = past(t)
        digest = dialect.row_digest([t.c[n] for n in names])
        hashed = digest is not None
        if digest is not None:   # grouped by one value standing for the row's bytes
            exacts = [digest.label("x0")]
        else:
            exacts = [dialect.exact(t.c[n]).label(f"x{i}") for i, n in enumerate(names)]
        # One collation for every side's strings: a UNION refuses two (utf8mb4_unicode_ci
        # production beside a utf8mb4_general_ci crashed copy).
        originals = [uniform(t.c[n]).label(f"v{i}") for i, n in enumerate(names) if n in columns]
        parts.append(select(literal(tag).label("side"), (case((flag, 1), else_=0) if flag is not None else literal(0)).label("past"),
                            *exacts, *originals))
    u = union_all(*parts).subquery("u")
    counts = [func.sum(case((u.c.side == tag, 1), else_=0)) for tag in sides]
    differs = or_(*(a != b for a, b in zip(counts, counts[1:]))) if len(counts) > 1 else literal(True)
    wanted = [names.index(c) for c in columns]
    stmt = (select(*(func.min(u.c[f"v{i}"]) for i in wanted), *counts)
            .group_by(*(u.c[f"x{i}"] for i in range(1 if hashed else len(names))))
            .having(or_(differs, func.max(u.c.past) == 1)))
    if order:   # bytes, not the collation: 'a' and 'A' are different keys and must not interleave
        stmt = stmt.order_by(*(dialect.exact(func.min(u.c[f"v{names.index(c)}"])) for c in order))
    for row in conn.execute(stmt):
        values, n = tuple(row[: len(wanted)]), row[len(wanted):]
        yield values, {tag: int(k or 0) for tag, k in zip(sides, n)}
