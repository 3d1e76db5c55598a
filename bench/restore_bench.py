"""Time and peak memory of `gapmend restore` on the demo schema at scale.

    python bench/restore_bench.py --dialect sqlite --users 25000 --gap 0.3
    python bench/restore_bench.py --dialect mariadb --users 25000 --gap 0.3

With those figures the gap is about 100,000 Friday rows across users, teams, posts,
comments (self-referencing) and the post_tag pivot, plus the polymorphic tables. The
restore runs in a child process so its peak RSS is its own.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialect", choices=["sqlite", "mariadb"], default="sqlite")
    ap.add_argument("--users", type=int, default=25_000)
    ap.add_argument("--gap", type=float, default=0.3)
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
    print(f"{'dialect':<8} {'rows written':>12} {'restore s':>9} {'rows/s':>8} {'peak RSS MB':>11}")
    print(f"{args.dialect:<8} {rows:>12} {result['seconds']:>9.2f} {result['rows_per_s']:>8} {result['peak_rss_mb']:>11.1f}")
    print(json.dumps(result))


def child(env: Path) -> None:
    from gapmend.core.config import load_settings
    from gapmend.core.restore import restore

    t = time.monotonic()
    report = restore(load_settings(env, environ={}))
    seconds = time.monotonic() - t
    rss = peak_rss_mb()
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mb": round(rss, 1), "totals": report.totals(),
                      "tables": {n: r.inserted for n, r in report.tables.items()}}))


if __name__ == "__main__":
    main()
