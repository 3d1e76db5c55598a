"""Find where two (or three) copies of a table differ without pulling equal rows into Python.

Applies to tables with one integer key, over the key range the snapshot covers. Each
strategy yields *candidate ranges* ``(lo, hi]`` of ids that may differ; the caller reads
just those rows from every side and classifies them. Strategies:

- `checksum_ranges` (MariaDB/MySQL, any servers): per id range, one ``GROUP BY`` query per
  side returns a CRC32 ``BIT_XOR`` and a row count for each chunk of ids, the way
  pt-table-checksum does; chunks whose figures differ are candidates. The row text is
  built so that NULL differs from '' (``CONCAT_WS`` skips NULLs, so a NULL-flag string is
  appended) and so it does not depend on the client (values cast to binary, sessions in
  UTC: see `db.py`).
- `attached_ranges` (all sides SQLite files): the files are ATTACHed read-only to one
  connection and a join names the differing ids directly.
- `whole_range` (anything else): the whole range is a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from sqlalchemy import Connection, text

from .schema import TableInfo

CHECKSUM_CHUNK = 32          # ids per checksum chunk: small, so scattered differences drill little
CHECKSUM_SPAN = 200_000      # ids per GROUP BY query: bounds the result held in memory


@dataclass(frozen=True)
class Side:
    """One copy of a table: a connection and its reflected table."""

    conn: Connection
    table: TableInfo


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

def _checksum_sql(side: Side) -> str:
    q = side.conn.dialect.identifier_preparer.quote
    names = [q(c) for c in side.table.column_names]
    key = q(side.table.primary_key[0])
    values = ", ".join(f"CAST({n} AS BINARY)" for n in names)
    nulls = ", ".join(f"ISNULL({n})" for n in names)
    return (
        f"SELECT {key} DIV {CHECKSUM_CHUNK} AS chunk, COUNT(*) AS n, "
        f"BIT_XOR(CRC32(CONCAT_WS('#', {values}, CONCAT({nulls})))) AS crc "
        f"FROM {q(side.table.name)} WHERE {key} > :lo AND {key} <= :hi GROUP BY chunk"
    )


def checksum_ranges(sides: Sequence[Side], lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """Candidate ranges where any side's chunk checksum differs from the first side's."""
    span_lo = lo
    while span_lo < hi:
        span_hi = min(hi, span_lo + CHECKSUM_SPAN)
        sums = [
            {int(r.chunk): (int(r.n), int(r.crc)) for r in s.conn.execute(text(_checksum_sql(s)), {"lo": span_lo, "hi": span_hi})}
            for s in sides
        ]
        chunks = set().union(*sums)
        differing = sorted(ch for ch in chunks if len({s.get(ch) for s in sums}) > 1)
        ranges = [(max(span_lo, ch * CHECKSUM_CHUNK - 1), min(span_hi, (ch + 1) * CHECKSUM_CHUNK - 1)) for ch in differing]
        yield from merge_ranges(ranges)
        span_lo = span_hi


# --- SQLite: ATTACH and join ---------------------------------------------------------

def attached_ranges(conn: Connection, schemas: Sequence[str], table: TableInfo, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """Ids in ``(lo, hi]`` whose row differs between `schemas[0]` and any other attached
    schema (or exists in only one), found by a join inside SQLite.

    `conn` has every schema attached (see `attach_sqlite`). Comparison uses ``IS NOT``,
    which treats NULL as a value, like the checksum's NULL flags.
    """
    q = conn.dialect.identifier_preparer.quote
    key = q(table.primary_key[0])
    tname = q(table.name)
    first = schemas[0]
    ids: set[int] = set()
    for other in schemas[1:]:
        differs = " OR ".join(f"a.{q(c)} IS NOT b.{q(c)}" for c in table.column_names if c != table.primary_key[0]) or "0"
        sql = (
            f"SELECT a.{key} FROM {first}.{tname} a LEFT JOIN {other}.{tname} b ON b.{key} = a.{key} "
            f"WHERE a.{key} > :lo AND a.{key} <= :hi AND (b.{key} IS NULL OR {differs}) "
            f"UNION "
            f"SELECT b.{key} FROM {other}.{tname} b LEFT JOIN {first}.{tname} a ON a.{key} = b.{key} "
            f"WHERE b.{key} > :lo AND b.{key} <= :hi AND a.{key} IS NULL"
        )
        ids.update(int(r[0]) for r in conn.execute(text(sql), {"lo": lo, "hi": hi}))
    yield from merge_ranges([(i - 1, i) for i in sorted(ids)])
