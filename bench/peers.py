"""The tools a user would reach for instead of gapmend, timed on the same data in the same run.

- ``sqldiff``: ``sqldiff --primarykey PRODUCTION CRASHED`` (Debian's ``sqlite3-tools``), the
  SQL that makes production's file look like crashed's.
- ``pt_table_sync``: ``pt-table-sync --print`` (Debian's ``percona-toolkit``), one table at a
  time, CRASHED the source and PRODUCTION the destination; a dry run: it only prints.

Neither knows the snapshot, so neither can tell Friday's rows from production's: both make
production a copy of crashed. Each figure counts the statements the peer printed by kind,
and how many of them write a row production holds (an UPDATE, a DELETE, or a REPLACE
of a key production has): what applying its output would have done to production.
Install the peers with ``bash bench/setup`` (never in the test suite's setup).

Every peer returns ``{"what", "rows", "seconds", "rows_per_s", "statements", "overwrites"}``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from typing import IO, Any

from sqlalchemy import Engine, inspect, text

STATEMENT = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
REPLACED_KEY = re.compile(r"^\s*REPLACE INTO `[^`]+`\.`([^`]+)`\(`?(\w+)`?[,)].*VALUES\s*\('?(\d+)", re.IGNORECASE)


def missing(dialect: str) -> str | None:
    """Why the peer for `dialect` cannot run here, or None."""
    tool = "sqldiff" if dialect == "sqlite" else "pt-table-sync"
    if shutil.which(tool) is None:
        return f"{tool} is not installed (bash bench/setup installs it)"
    return None


def sqldiff(crashed: Engine, production: Engine, rows: int) -> dict[str, Any]:
    """`sqldiff --primarykey production crashed`, its output counted as it streams."""
    argv = ["sqldiff", "--primarykey", str(production.url.database), str(crashed.url.database)]
    t = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    kinds = _count(proc.stdout)
    if proc.wait() != 0:
        raise RuntimeError("sqldiff failed")
    seconds = time.monotonic() - t
    overwrites = kinds["UPDATE"] + kinds["DELETE"]
    return _figure("sqldiff --primarykey production crashed", rows, seconds, kinds, overwrites)


def pt_table_sync(crashed: Engine, production: Engine, rows: int) -> dict[str, Any]:
    """`pt-table-sync --print` of every table from crashed to production (a dry run)."""
    from gapmend.core.databases.dialects.mariadb_dump import client_options

    tables = [t for t in inspect(crashed).get_table_names() if not t.startswith("gapmend_")]
    kinds: Counter[str] = Counter()
    replaced: dict[str, list[int]] = {}
    with client_options(crashed.url) as cnf:
        t = time.monotonic()
        for table in tables:
            argv = ["pt-table-sync", "--print", "--no-check-slave", "--no-check-triggers",
                    f"F={cnf},D={crashed.url.database},t={table}", f"D={production.url.database},t={table}"]
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            kinds += _count(proc.stdout, replaced)
            if proc.wait() not in (0, 2):  # 2: the table differed, which is the point
                assert proc.stderr is not None
                raise RuntimeError(f"pt-table-sync failed on {table}: {proc.stderr.read().strip()}")
        seconds = time.monotonic() - t
    overwrites = kinds["UPDATE"] + kinds["DELETE"] + _held(production, replaced)
    return _figure("pt-table-sync --print crashed production", rows, seconds, kinds, overwrites)


def _count(stream: IO[str] | None, replaced: dict[str, list[int]] | None = None) -> Counter[str]:
    """The statements in `stream` by kind; the REPLACEd integer keys noted in `replaced`."""
    kinds: Counter[str] = Counter()
    assert stream is not None
    for line in stream:
        match = STATEMENT.match(line)
        if match is None:
            continue
        kinds[match.group(1).upper()] += 1
        key = REPLACED_KEY.match(line) if replaced is not None else None
        if key is not None and key.group(2) == "id":
            replaced.setdefault(key.group(1), []).append(int(key.group(3)))
    return kinds


def _held(production: Engine, replaced: dict[str, list[int]]) -> int:
    """How many of the REPLACEd ids production holds: REPLACE deletes production's row first."""
    held = 0
    with production.connect() as conn:
        for table, ids in replaced.items():
            for i in range(0, len(ids), 1000):
                chunk = ",".join(str(n) for n in ids[i:i + 1000])
                held += int(conn.execute(text(f"SELECT COUNT(*) FROM `{table}` WHERE id IN ({chunk})")).scalar_one())
    return held


def _figure(what: str, rows: int, seconds: float, kinds: Counter[str], overwrites: int) -> dict[str, Any]:
    return {"what": what, "rows": rows, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds) if seconds else 0,
            "statements": dict(sorted(kinds.items())), "overwrites": overwrites}
