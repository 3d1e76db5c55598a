"""Row images: a row's values as the journal keeps them, for ``gapmend undo``.

A restored row is kept as the restore left it (``after``; for a table keyed by one or two
integer columns, only the server's fingerprint of it, ``digest``: `Dialect.row_fingerprint`) and, when the restore changed or
deleted a row production had, as it was before (``before``), in ``gapmend_images`` in the
same transaction as the change. Undo compares a row's current image with its ``after``
one (production has not touched it since when they are equal) and writes ``before`` back.

The image is JSON of the values as the driver returns them, tagged where JSON has no type
of its own (decimals, dates, times, bytes, sets), so that writing it back gives the column
the value it had and two images of one row compare equal exactly when the values are.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Integer, Select, and_, insert, literal, select

from . import journal
from . import rows as rowio
from .dialects import dialect_of
from .schema import TableInfo

BATCH = 1000   # images per INSERT, and rows per read of the rows they show


def encode(names: Sequence[str], values: Sequence[Any]) -> str:
    """The image of a row whose columns `names` hold `values`."""
    return json.dumps({n: _tag(v) for n, v in zip(names, values)}, sort_keys=True, separators=(",", ":"))


def decode(image: str) -> dict[str, Any]:
    """Column -> value, as `encode` was given them (booleans as integers)."""
    return {name: _untag(v) for name, v in json.loads(image).items()}


def _tag(v: Any) -> Any:
    if v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, bool):   # SQLite reflects TINYINT(1) as BOOLEAN, MariaDB as an integer
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, Decimal):
        return {"decimal": str(v)}
    if isinstance(v, datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, date):
        return {"date": v.isoformat()}
    if isinstance(v, time):
        return {"time": v.isoformat()}
    if isinstance(v, timedelta):   # MariaDB's TIME
        return {"timedelta": [v.days, v.seconds, v.microseconds]}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"bytes": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, (set, frozenset)):   # MariaDB's SET
        return {"set": sorted(v)}
    return {"text": str(v)}


def _untag(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    (kind, value), = v.items()
    if kind == "decimal":
        return Decimal(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return time.fromisoformat(value)
    if kind == "timedelta":
        return timedelta(days=value[0], seconds=value[1], microseconds=value[2])
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "set":
        return set(value)
    return value


def typed_key(t: TableInfo, key: Sequence[Any]) -> tuple[Any, ...]:
    """A key decoded from the journal with its dates as dates again: the journal spells
    them as text (`journal.encode`), which SQLite compares as text with its own spelling."""
    return tuple(_as_date(t.table.c[c].type, v) for c, v in zip(t.identity, key))


def _as_date(type_: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        python = type_.python_type
    except NotImplementedError:
        return value
    try:
        if python is datetime:
            return datetime.fromisoformat(value)
        if python is date:
            return date.fromisoformat(value)
    except ValueError:
        return value
    return value


def integer_keys(t: TableInfo) -> bool:
    """Whether `t`'s rows are named by one or two integer columns (a pivot's): the server
    finds them from the journal's keys itself (`keep_digests`)."""
    return len(t.identity) in (1, 2) and all(isinstance(t.table.c[c].type, Integer) for c in t.identity)


def fingerprint(conn: Connection, t: TableInfo) -> Any:
    """The SQL fingerprint of a row of `t` (`Dialect.row_fingerprint`)."""
    return dialect_of(conn).row_fingerprint([t.table.c[c] for c in t.column_names])


def keep_digests(conn: Connection, run_id: str, t: TableInfo, actions: Sequence[str]) -> int:
    """The fingerprint of every row of `t` that `run_id` journaled with one of `actions`,
    as it is now, by one ``INSERT … SELECT`` (a table keyed by one or two integer columns)."""
    m, key = journal.id_map, [t.table.c[c] for c in t.identity]
    values = [journal.decode_id_sql(m.c.new_key)] if len(key) == 1 else journal.decode_pair_sql(m.c.new_key)
    rows = (select(literal(run_id), literal(t.name), m.c.new_key, literal(journal.DIGEST), fingerprint(conn, t))
            .select_from(m.join(t.table, and_(*(k == v for k, v in zip(key, values)))))
            .where(m.c.run_id == run_id, m.c.table_name == t.name, m.c.action.in_(list(actions))))
    done = conn.execute(insert(journal.images).from_select(["run_id", "table_name", "row_key", "kind", "image"], rows))
    return int(done.rowcount)


def keep(conn: Connection, run_id: str, t: TableInfo, kind: str, rows: Iterable[Sequence[Any]]) -> None:
    """Journal `rows` (whole rows of `t`, in its column order) as images of `kind`, `BATCH`
    to a multi-row INSERT (one past MariaDB's packet limit is said in one line, naming
    the row of `t`: `rows.execute_rows`)."""
    names, at = t.column_names, [t.column_names.index(c) for c in t.identity]
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append({"run_id": run_id, "table_name": t.name, "row_key": journal.encode([row[i] for i in at]),
                      "kind": kind, "image": encode(names, row)})
        if len(batch) >= BATCH:
            rowio.execute_rows(conn, insert(journal.images), batch, t.name)
            batch = []
    if batch:
        rowio.execute_rows(conn, insert(journal.images), batch, t.name)


def keep_selected(conn: Connection, run_id: str, t: TableInfo, kind: str, stmt: Select[Any]) -> None:
    """Journal as images of `kind` the rows of `t` that `stmt` (its columns, in order) selects."""
    keep(conn, run_id, t, kind, [tuple(r) for r in conn.execute(stmt)])   # read before writing: one connection


def read(conn: Connection, run_id: str, table: str, kind: str) -> Iterator[list[tuple[str, str]]]:
    """(encoded key, image) of `run_id`'s images of `kind` in `table`, `BATCH` at a time."""
    im = journal.images
    after = 0
    while True:
        page = conn.execute(select(im.c.id, im.c.row_key, im.c.image)
                            .where(im.c.run_id == run_id, im.c.table_name == table, im.c.kind == kind,
                                   im.c.id > after).order_by(im.c.id).limit(BATCH)).all()
        if not page:
            return
        after = page[-1][0]
        yield [(key, image) for _, key, image in page]
