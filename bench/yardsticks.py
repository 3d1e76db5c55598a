"""The database's own bulk paths, timed on the same data as gapmend, as yardsticks.

- ``insert_select``: ``INSERT INTO … SELECT`` of the given rows into an empty copy of the
  schema (MariaDB across databases of one server; SQLite from an ATTACHed file): the
  physical limit of a copy, with no remapping.
- ``dump_pipe``: ``mariadb-dump --where … | mariadb`` of the same rows, what an operator
  does by hand (also from another server).
- ``checksum_floor``: one bare chunk-checksum pass per side over the overlapping range
  (MariaDB, sides in parallel; SQLite, the ATTACH join that names differing ids): the
  floor of a diff.

Every yardstick returns ``{"what", "rows", "seconds", "rows_per_s"}``.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, text


def _figure(what: str, rows: int, seconds: float) -> dict[str, Any]:
    return {"what": what, "rows": rows, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds) if seconds else 0}


def _key(engine: Engine, table: str) -> list[str]:
    md = MetaData()
    md.reflect(bind=engine, only=[table])
    return [c.name for c in md.tables[table].primary_key.columns]


def newest(engine: Engine, table: str, n: int) -> str:
    """`ORDER BY key DESC LIMIT n`: crashed's newest rows, as many as the restore wrote."""
    q = engine.dialect.identifier_preparer.quote
    order = ", ".join(q(k) + " DESC" for k in _key(engine, table))
    return f"{'ORDER BY ' + order + ' ' if order else ''}LIMIT {int(n)}"


def insert_select(dialect: str, crashed: Engine, admin: Engine, counts: dict[str, int], work: Path) -> dict[str, Any]:
    """Copy `counts[table]` of crashed's newest rows per table into an empty schema copy."""
    from gapmend.core.demo import demo_metadata

    counts = {t: n for t, n in counts.items() if n}
    total = sum(counts.values())
    if dialect == "sqlite":
        yard = create_engine(f"sqlite:///{work / 'yard.sqlite'}")
        demo_metadata().create_all(yard)
        with yard.connect() as conn:
            conn.exec_driver_sql(f"ATTACH DATABASE '{crashed.url.database}' AS crashed")
            t = time.monotonic()
            for table, n in counts.items():
                conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM crashed.{table} {newest(crashed, table, n)}")
            conn.commit()
            seconds = time.monotonic() - t
        yard.dispose()
        return _figure("INSERT … SELECT from an ATTACHed file", total, seconds)
    yard_db = _fresh_yard(admin, counts)
    with admin.begin() as conn:
        t = time.monotonic()
        for table, n in counts.items():
            conn.execute(text(f"INSERT INTO {yard_db}.{table} SELECT * FROM {crashed.url.database}.{table} "
                              f"{newest(crashed, table, n)}"))
    seconds = time.monotonic() - t
    _drop_yard(admin, yard_db)
    return _figure("INSERT … SELECT across databases", total, seconds)


def dump_pipe(crashed: Engine, admin: Engine, counts: dict[str, int], across: bool) -> dict[str, Any]:
    """`mariadb-dump --where … | mariadb` of the same rows from crashed (on its own server
    when `across`) into an empty schema copy beside production."""
    from gapmend.core.databases.dialects.mariadb_dump import client_options

    counts = {t: n for t, n in counts.items() if n}
    yard_db = _fresh_yard(admin, counts)
    with client_options(crashed.url) as src, client_options(admin.url) as dst:
        t = time.monotonic()
        for table, n in counts.items():
            dump = subprocess.Popen(["mariadb-dump", f"--defaults-extra-file={src}", "--no-create-info", "--skip-triggers",
                                     "--single-transaction", f"--where=1 {newest(crashed, table, n)}",
                                     str(crashed.url.database), table], stdout=subprocess.PIPE)
            subprocess.run(["mariadb", f"--defaults-extra-file={dst}", yard_db], stdin=dump.stdout, check=True)
            if dump.wait() != 0:
                raise RuntimeError("mariadb-dump failed")
        seconds = time.monotonic() - t
    _drop_yard(admin, yard_db)
    return _figure("mariadb-dump --where … | mariadb" + (" (from the other server)" if across else ""),
                   sum(counts.values()), seconds)


def _fresh_yard(admin: Engine, counts: dict[str, int]) -> str:
    """An empty copy of production's tables (`CREATE TABLE … LIKE`: no foreign keys, as a
    bulk load would have them off) in a database of its own."""
    yard_db, prod_db = f"{admin.url.database}_yard", admin.url.database
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {yard_db}"))
        conn.execute(text(f"CREATE DATABASE {yard_db}"))
        for table in counts:
            conn.execute(text(f"CREATE TABLE {yard_db}.{table} LIKE {prod_db}.{table}"))
    return yard_db


def _drop_yard(admin: Engine, yard_db: str) -> None:
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {yard_db}"))


def checksum_floor(dialect: str, engines: dict[str, Engine], tables: list[str], upto: int) -> dict[str, Any]:
    """The bare cost of finding where the sides differ over ids 1…upto of `tables`."""
    from gapmend.core.databases.schema import reflect
    from gapmend.core.inspect import compare

    schema = reflect(engines["crashed"], "crashed")
    rows = len(tables) * upto * len(engines)
    if dialect == "sqlite":
        with engines["production"].connect() as conn:
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "ATTACH DATABASE ? AS crashed", (str(engines["crashed"].url.database),))
            t = time.monotonic()
            for name in tables:
                list(compare.attached_ranges(conn, ["crashed", "main"], schema[name], 0, upto))
            seconds = time.monotonic() - t
        return _figure(f"ATTACH join naming the differing ids of {', '.join(tables)} over the overlap",
                       2 * len(tables) * upto, seconds)
    conns = {role: engine.connect() for role, engine in engines.items()}
    for conn in conns.values():
        conn.exec_driver_sql("SET time_zone = '+00:00'")
    t = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(conns)) as pool:
        for name in tables:
            sides = [compare.Side(conn, schema[name]) for conn in conns.values()]
            list(pool.map(lambda s: compare._chunk_sums(s, compare.CHECKSUM_LEVELS[0], [(0, upto)]), sides))
    seconds = time.monotonic() - t
    for conn in conns.values():
        conn.close()
    return _figure(f"one CRC32 chunk-checksum pass (128 ids) per side over the overlap of {', '.join(tables)}, "
                   "sides in parallel", rows, seconds)

