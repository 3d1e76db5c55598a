"""Time and peak memory of `gapmend plan` on two large related tables.

Builds PRODUCTION and CRASHED (and optionally SNAPSHOT) with `--rows` users and as many
posts, changes `--diff` of the snapshot rows on each side (scattered), appends a
`--gap` of new rows on both sides, then runs the plan in a child process and reports
wall time, rows/s over the rows compared, and the child's peak RSS.

    python bench/plan_bench.py --dialect sqlite --rows 200000
    python bench/plan_bench.py --dialect mariadb --rows 200000   # needs .ci/mariadb-up

Data is generated inside the database (a recursive CTE on SQLite, the sequence engine
on MariaDB), so building 200,000 rows takes seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from databases import empty_databases, peak_rss_mb, write_env  # noqa: E402

DDL = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY {ai}, name VARCHAR(100) NOT NULL, email VARCHAR(190) NOT NULL, "
    "created_at DATETIME, updated_at DATETIME, UNIQUE (email))",
    "CREATE TABLE posts (id INTEGER PRIMARY KEY {ai}, user_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL, "
    "body TEXT, created_at DATETIME, updated_at DATETIME)",
]


def seq(dialect: str, n: int, start: int = 1) -> str:
    if dialect == "sqlite":
        return (f"WITH RECURSIVE s(n) AS (SELECT {start} UNION ALL SELECT n + 1 FROM s WHERE n < {start + n - 1}) "
                "SELECT n FROM s")
    return f"SELECT seq AS n FROM seq_{start}_to_{start + n - 1}"


def populate(engine, dialect: str, rows: int, diff: float, gap: float, side: str) -> None:  # type: ignore[no-untyped-def]
    ai = "AUTO_INCREMENT" if dialect != "sqlite" else ""

    def cat(*parts: str) -> str:
        return " || ".join(parts) if dialect == "sqlite" else "CONCAT(" + ", ".join(parts) + ")"

    def lit(s: str) -> str:
        return "'" + s + "'"

    base_ts = lit("2026-06-01 00:00:00")
    with engine.begin() as conn:
        for ddl in DDL:
            conn.execute(text(ddl.format(ai=ai)))
        conn.execute(text(
            "INSERT INTO users (id, name, email, created_at, updated_at) "
            f"SELECT n, {cat(lit('user '), 'n')}, {cat(lit('u'), 'n', lit('@x.test'))}, {base_ts}, {base_ts} "
            f"FROM ({seq(dialect, rows)}) q"))
        conn.execute(text(
            "INSERT INTO posts (id, user_id, title, body, created_at, updated_at) "
            f"SELECT n, (n % {rows}) + 1, {cat(lit('post '), 'n')}, 'lorem ipsum dolor sit amet', {base_ts}, {base_ts} "
            f"FROM ({seq(dialect, rows)}) q"))
        if side == "snapshot":
            return
        step = max(1, int(1 / diff)) if diff else 0
        offset = 3 if side == "crashed" else 7        # each side changes different, scattered rows
        ts = lit("2026-11-20 09:00:00" if side == "crashed" else "2026-11-21 09:00:00")
        if step:
            for table, col in (("users", "name"), ("posts", "title")):
                conn.execute(text(f"UPDATE {table} SET {col} = {cat(lit(side + ' '), col)}, updated_at = {ts} "
                                  f"WHERE id % {step} = {offset % step}"))
        n_gap = int(rows * gap)
        conn.execute(text(
            "INSERT INTO users (id, name, email, created_at, updated_at) "
            f"SELECT n, {cat(lit(side + ' user '), 'n')}, {cat(lit(side), 'n', lit('@x.test'))}, {ts}, {ts} "
            f"FROM ({seq(dialect, n_gap, rows + 1)}) q"))
        conn.execute(text(
            "INSERT INTO posts (id, user_id, title, body, created_at, updated_at) "
            f"SELECT n, n, {cat(lit(side + ' post '), 'n')}, 'new', {ts}, {ts} "
            f"FROM ({seq(dialect, n_gap, rows + 1)}) q"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialect", choices=["sqlite", "mariadb"], default="sqlite")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--diff", type=float, default=0.01)
    ap.add_argument("--gap", type=float, default=0.01)
    ap.add_argument("--snapshot", action="store_true", help="also load the snapshot (three-way mode)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return run_child(Path(args.child))

    work = Path(tempfile.mkdtemp(prefix="gapmend-bench-"))
    roles = ["crashed", "production"] + (["snapshot"] if args.snapshot else [])
    engines, lines = empty_databases(args.dialect, work, roles, "gm_bench")
    for role, engine in engines.items():
        t = time.monotonic()
        populate(engine, args.dialect, args.rows, args.diff, args.gap, role)
        print(f"built {role} in {time.monotonic() - t:.1f} s", file=sys.stderr)
    lines.append("GAPMEND_SNAPSHOT_AT=2026-11-19T23:00:00")
    env = write_env(work / "bench.env", lines)
    out = subprocess.run([sys.executable, __file__, "--child", str(env)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    compared = 2 * args.rows
    result.update(dialect=args.dialect, rows_per_table=args.rows, diff=args.diff, gap=args.gap,
                  mode="three-way" if args.snapshot else "snapshot time",
                  rows_per_s=round(compared / result["seconds"]))
    floor = diff_floor(args.dialect, engines, args.rows)
    result["floor"] = floor
    ratio = floor["seconds"] / result["seconds"]
    print(f"{'dialect':<8} {'mode':<14} {'rows/table':>10} {'diff':>5} {'plan s':>7} {'rows/s':>9} {'peak RSS MB':>11} "
          f"{'floor s':>7} {'gapmend/floor':>13}")
    print(f"{args.dialect:<8} {result['mode']:<14} {args.rows:>10} {args.diff:>5} {result['seconds']:>7.2f} "
          f"{result['rows_per_s']:>9} {result['peak_rss_mb']:>11.1f} {floor['seconds']:>7.2f} {ratio:>12.2f}x")
    print(f"floor: {floor['what']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def diff_floor(dialect: str, engines: dict, rows: int) -> dict:  # type: ignore[type-arg]
    """The bare cost of finding where the sides differ over the overlapping range, timed on
    the same tables: MariaDB, one chunk-checksum GROUP BY per side and table (chunks of 128
    ids, sides in parallel, no drilling down); SQLite, the ATTACH join that names the ids."""
    from concurrent.futures import ThreadPoolExecutor

    from gapmend.core import compare
    from gapmend.core.schema import reflect

    schema = reflect(engines["crashed"], "crashed")
    t = time.monotonic()
    if dialect == "sqlite":
        with engines["production"].connect() as conn:
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "ATTACH DATABASE ? AS crashed", (str(engines["crashed"].url.database),))
            for name in ("users", "posts"):
                list(compare.attached_ranges(conn, ["crashed", "main"], schema[name], 0, rows))
        what = "ATTACH join naming the differing ids of users and posts over the overlap"
    else:
        conns = {role: engines[role].connect() for role in engines}
        for conn in conns.values():
            conn.exec_driver_sql("SET time_zone = '+00:00'")
        t = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(conns)) as pool:
            for name in ("users", "posts"):
                sides = [compare.Side(conn, schema[name]) for conn in conns.values()]
                list(pool.map(lambda s: compare._chunk_sums(s, compare.CHECKSUM_LEVELS[0], [(0, rows)]), sides))
        for conn in conns.values():
            conn.close()
        what = "one CRC32 chunk-checksum pass (128 ids) per side over the overlap of users and posts, sides in parallel"
    seconds = time.monotonic() - t
    return {"what": what, "seconds": round(seconds, 3), "rows_per_s": round(2 * rows / seconds)}


def run_child(env: Path) -> None:
    from gapmend.core.config import load_settings
    from gapmend.core.gap import build_plan

    settings = load_settings(env, environ={})
    t = time.monotonic()
    plan = build_plan(settings)
    seconds = time.monotonic() - t
    rss = peak_rss_mb()
    counts = {g.table: g.counts for g in plan.tables}
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mb": round(rss, 1), "counts": counts}))


if __name__ == "__main__":
    main()
