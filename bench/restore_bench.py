"""Time and peak memory of `gapmend restore` on the demo schema at scale, side by side
with the database's own bulk paths copying the same number of rows of the same tables.

    python bench/restore_bench.py --dialect sqlite --users 25000 --gap 0.3
    python bench/restore_bench.py --dialect mariadb --users 25000 --gap 0.3 --json out.json

With those figures the gap is about 100,000 Friday rows across users, teams, posts,
comments (self-referencing) and the post_tag pivot, plus the polymorphic tables. The
restore runs in a child process so its peak RSS is its own. Yardsticks, in the same run
on the same data (each copies, per table, as many of crashed's newest rows as the restore
inserted, into an empty copy of the schema, without any remapping):

- ``INSERT … SELECT`` inside the server (MariaDB: across databases; SQLite: from an
  ATTACHed file): the physical limit of a copy;
- MariaDB only: ``mariadb-dump --where … | mariadb``, what an operator does by hand.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from databases import empty_databases, peak_rss_mb, write_env  # noqa: E402
from sqlalchemy import Engine, MetaData, create_engine, text  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialect", choices=["sqlite", "mariadb"], default="sqlite")
    ap.add_argument("--users", type=int, default=25_000)
    ap.add_argument("--gap", type=float, default=0.3)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(Path(args.child))
    from gapmend.core.demo import build_trio

    work = Path(tempfile.mkdtemp(prefix="gapmend-rbench-"))
    engines, lines = empty_databases(args.dialect, work, ["snapshot", "crashed", "production"], "gm_rbench")
    t = time.monotonic()
    build_trio(engines["crashed"], engines["production"], engines["snapshot"], users=args.users, gap=args.gap)
    print(f"built the trio in {time.monotonic() - t:.1f} s", file=sys.stderr)
    env = write_env(work / "bench.env", lines)
    out = subprocess.run([sys.executable, __file__, "--child", str(env)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    result.update(dialect=args.dialect, users=args.users, gap=args.gap)
    rows = result["totals"]["inserted"] + result["totals"]["updated"]
    result["rows_per_s"] = round(rows / result["seconds"])
    yard = yardsticks(args.dialect, engines, result["tables"], work)
    result["yardsticks"] = yard
    print(f"{'dialect':<8} {'what':<28} {'rows':>8} {'s':>7} {'rows/s':>8} {'gapmend/it':>10} {'peak RSS MB':>11}")
    print(f"{args.dialect:<8} {'gapmend restore (' + result['path'].split(' ')[0] + ')':<28} {rows:>8} "
          f"{result['seconds']:>7.2f} {result['rows_per_s']:>8} {'':>10} {result['peak_rss_mb']:>11.1f}")
    for name, y in yard.items():
        ratio = result["rows_per_s"] / y["rows_per_s"] if y["rows_per_s"] else 0
        print(f"{args.dialect:<8} {name:<28} {y['rows']:>8} {y['seconds']:>7.2f} {y['rows_per_s']:>8} {ratio:>9.2f}x {'':>11}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def _identity(engine: Engine, table: str) -> list[str]:
    md = MetaData()
    md.reflect(bind=engine, only=[table])
    t = md.tables[table]
    return [c.name for c in t.primary_key.columns]


def _newest(engine: Engine, table: str, n: int) -> str:
    """`… ORDER BY key DESC LIMIT n`: crashed's newest rows, as many as the restore wrote."""
    q = engine.dialect.identifier_preparer.quote
    key = _identity(engine, table)
    order = f"ORDER BY {', '.join(q(k) + ' DESC' for k in key)} " if key else ""
    return f"{order}LIMIT {int(n)}"


def yardsticks(dialect: str, engines: dict[str, Engine], counts: dict[str, int], work: Path) -> dict[str, dict]:
    from gapmend.core.demo import demo_metadata

    counts = {t: n for t, n in counts.items() if n}
    total = sum(counts.values())
    out: dict[str, dict] = {}
    if dialect == "sqlite":
        yard = create_engine(f"sqlite:///{work / 'yard.sqlite'}")
        demo_metadata().create_all(yard)
        with yard.connect() as conn:
            conn.exec_driver_sql(f"ATTACH DATABASE '{engines['crashed'].url.database}' AS crashed")
            t = time.monotonic()
            for table, n in counts.items():
                conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM crashed.{table} "
                                     f"{_newest(engines['crashed'], table, n)}")
            conn.commit()
            seconds = time.monotonic() - t
        out["INSERT ... SELECT (ATTACH)"] = dict(rows=total, seconds=round(seconds, 3), rows_per_s=round(total / seconds))
        return out
    from gapmend.core.backup import client_options

    crashed_url = engines["crashed"].url
    yard_db = f"{crashed_url.database.rsplit('_', 1)[0]}_yard"
    admin = engines["production"]
    prod_db = admin.url.database

    def fresh_yard() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {yard_db}"))
            conn.execute(text(f"CREATE DATABASE {yard_db}"))
            for table in counts:
                conn.execute(text(f"CREATE TABLE {yard_db}.{table} LIKE {prod_db}.{table}"))

    fresh_yard()
    with admin.begin() as conn:
        t = time.monotonic()
        for table, n in counts.items():
            conn.execute(text(f"INSERT INTO {yard_db}.{table} SELECT * FROM {crashed_url.database}.{table} "
                              f"{_newest(engines['crashed'], table, n)}"))
    seconds = time.monotonic() - t
    out["INSERT ... SELECT"] = dict(rows=total, seconds=round(seconds, 3), rows_per_s=round(total / seconds))

    fresh_yard()
    with client_options(crashed_url) as cnf:
        t = time.monotonic()
        for table, n in counts.items():
            dump = subprocess.Popen(["mariadb-dump", f"--defaults-extra-file={cnf}", "--no-create-info", "--skip-triggers",
                                     "--single-transaction", f"--where=1 {_newest(engines['crashed'], table, n)}",
                                     crashed_url.database, table], stdout=subprocess.PIPE)
            subprocess.run(["mariadb", f"--defaults-extra-file={cnf}", yard_db], stdin=dump.stdout, check=True)
            assert dump.wait() == 0
        seconds = time.monotonic() - t
    out["mariadb-dump | mariadb"] = dict(rows=total, seconds=round(seconds, 3), rows_per_s=round(total / seconds))
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {yard_db}"))
    return out


def child(env: Path) -> None:
    from gapmend.core.config import load_settings
    from gapmend.core.restore import restore

    t = time.monotonic()
    report = restore(load_settings(env, environ={}))
    seconds = time.monotonic() - t
    rss = peak_rss_mb()
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mb": round(rss, 1), "totals": report.totals(),
                      "tables": {n: r.inserted for n, r in report.tables.items()}, "path": report.path}))


if __name__ == "__main__":
    main()
