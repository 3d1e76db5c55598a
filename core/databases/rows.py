"""Reading rows in key order, in chunks, the same way on SQLite and MariaDB.

Two readers, chosen by the table's key:

- tables with one integer key page by key (``WHERE id > :last ORDER BY id LIMIT :n``):
  an index range scan per page, restartable, and able to read just a key range;
- every other table (natural, composite, no key) is one ordered query streamed with a
  server-side cursor on a connection of its own, so memory stays flat.

Both order strings by code point (``CAST(... AS BINARY)`` on MariaDB, SQLite's default
BINARY collation), which is how Python compares `str`, so a merge in Python agrees with
the database's order even under a case-insensitive collation.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from sqlalchemy import Connection, Engine, and_, func, select, tuple_
from sqlalchemy.exc import DBAPIError

from ..errors import GapmendError
from .dialects import dialect_of
from .schema import TableInfo

Row = tuple[Any, ...]
CHUNK = 5000


class RowTooLarge(GapmendError):
    """A row larger than the server accepts in one packet."""


def execute_rows(conn: Connection, stmt: Any, rows: list[dict[str, Any]], table: str | None = None) -> None:
    """Run `stmt` (an INSERT or UPDATE of `stmt.table`) for `rows` in one batch; when the
    server drops the connection over it, say which row of `table` (default: the one
    written; a staging table names the table its rows are of) was too large, and what to do."""
    try:
        conn.execute(stmt, rows)
    except DBAPIError as exc:
        too_big = _larger_than_packet(conn, stmt.table, table or stmt.table.name, rows, exc)
        if too_big is not None:
            raise RowTooLarge(too_big) from None
        raise


def _larger_than_packet(conn: Connection, table: Any, name: str, rows: list[dict[str, Any]],
                        exc: DBAPIError) -> str | None:
    """When MariaDB dropped the connection over a batch ("the server went away"): the row
    that exceeds its ``max_allowed_packet``, said with its size and what to do. Only on
    that error path: the rows are not measured otherwise."""
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    packet = dialect_of(conn).packet_limit(conn.engine, code)
    if packet is None:
        return None

    def size(row: dict[str, Any]) -> int:
        return sum(len(v) if isinstance(v, (bytes, str)) else 8 for v in row.values())

    biggest = max(rows, key=size)
    if size(biggest) < packet * 0.9:
        return None
    key = {c.name: biggest[c.name] for c in table.primary_key.columns if c.name in biggest}
    return (f"{name}: a Friday row ({key or 'no key'}) holds {size(biggest):,} bytes, more than production's "
            f"max_allowed_packet ({packet:,}): raise it on the server (SET GLOBAL max_allowed_packet = "
            f"{1 << (size(biggest) * 2).bit_length()}; and in its configuration) and run the restore again; "
            "nothing was written")


def sort_key(values: Sequence[Any]) -> tuple[Any, ...]:
    """A Python sort key that orders like the database: NULL first, then by value."""
    return tuple((0, 0) if v is None else (1, v) for v in values)


def page_by_id(conn: Connection, table: TableInfo, lo: int | None = None, hi: int | None = None,
               chunk: int = CHUNK) -> Iterator[list[Row]]:
    """Chunks of whole rows with `lo < id <= hi`, in id order (single integer key)."""
    t = table.table
    key = t.c[table.primary_key[0]]
    last = lo
    while True:
        stmt = select(*t.c).order_by(key).limit(chunk)
        if last is not None:
            stmt = stmt.where(key > last)
        if hi is not None:
            stmt = stmt.where(key <= hi)
        rows = [tuple(r) for r in conn.execute(stmt)]
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        last = rows[-1][_key_index(table)]


def _key_index(table: TableInfo) -> int:
    return table.column_names.index(table.primary_key[0])


def stream_ordered(engine: Engine, table: TableInfo, chunk: int = CHUNK) -> Iterator[list[Row]]:
    """Chunks of whole rows ordered by the table's identity, over one streamed query."""
    t = table.table
    stmt = select(*t.c).order_by(*(dialect_of(engine).byte_order(t.c[n]) for n in table.identity))
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for part in result.partitions(chunk):
            yield [tuple(r) for r in part]


def fetch_keys(conn: Connection, table: TableInfo, columns: Sequence[str], keys: Sequence[Row],
               select_cols: Sequence[str] | None = None, chunk: int = 500) -> Iterator[Row]:
    """Rows whose `columns` equal one of `keys`, looked up in batches of `chunk`."""
    t = table.table
    cols = [t.c[c] for c in columns]
    out = [t.c[c] for c in (select_cols or table.column_names)]
    for start in range(0, len(keys), chunk):
        cond = key_condition(cols, list(keys[start : start + chunk]))
        yield from (tuple(r) for r in conn.execute(select(*out).where(cond)))


def key_condition(cols: Sequence[Any], batch: Sequence[Row]) -> Any:
    """`cols` equal one of the keys in `batch` (a few hundred at most)."""
    firsts = cols[0].in_(list(dict.fromkeys(k[0] for k in batch)))
    # SQLite scans the whole table for a row-value IN; the IN on the first column lets
    # it (and MariaDB) look the rows up by an index that starts with that column.
    return firsts if len(cols) == 1 else and_(firsts, tuple_(*cols).in_(list(batch)))


PER_TABLE_BATCH = 100   # tables per statement


def repeated(conn: Connection, columns: Sequence[Any], where: Sequence[Any] = (), limit: int = 10) -> list[Row]:
    """Values of `columns` (with their count, last) that more than one row holds, among
    the rows `where` picks: one grouped count, at most `limit` values."""
    stmt = select(*columns, func.count()).where(*where).group_by(*columns).having(func.count() > 1).limit(limit)
    return [tuple(r) for r in conn.execute(stmt)]


def highest_ids(conn: Connection, tables: Sequence[TableInfo]) -> dict[str, int]:
    """Each integer-keyed table's highest id (0 when empty), each answered from the key's index."""
    return {name: int(v or 0) for name, v in _per_table(
        conn, tables, lambda t: select(func.max(t.table.c[t.primary_key[0]]))).items()}


def row_counts(conn: Connection, tables: Sequence[TableInfo]) -> dict[str, int]:
    """Each table's number of rows."""
    return {name: int(v or 0) for name, v in _per_table(
        conn, tables, lambda t: select(func.count()).select_from(t.table)).items()}


def counts_past(conn: Connection, tables: Sequence[TableInfo], boundaries: Mapping[str, int],
                upto: Mapping[str, int] | None = None) -> dict[str, int]:
    """Each integer-keyed table's number of rows with an id past its boundary (and, with
    `upto`, not past ``upto[table]`` either), answered from the key's index."""
    def one(t: TableInfo) -> Any:
        key = t.table.c[t.primary_key[0]]
        where = [key > boundaries[t.name], *([key <= upto[t.name]] if upto is not None else [])]
        return select(func.count()).select_from(t.table).where(*where)
    return {name: int(v or 0) for name, v in _per_table(conn, tables, one).items()}


def _per_table(conn: Connection, tables: Sequence[TableInfo], one: Any) -> dict[str, Any]:
    """`one(table)` (a one-value SELECT) of every table, as one statement of scalar
    subqueries per `PER_TABLE_BATCH` tables: an app has 60-200 tables, and a statement
    per table is a round trip and a compile each."""
    out: dict[str, Any] = {}
    for start in range(0, len(tables), PER_TABLE_BATCH):
        batch = tables[start : start + PER_TABLE_BATCH]
        row = conn.execute(select(*(one(t).scalar_subquery() for t in batch))).one()
        out.update((t.name, v) for t, v in zip(batch, row))
    return out
