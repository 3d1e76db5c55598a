"""The benchmark on every layout in one run, with one JSON of all the figures.

    python bench/run_all.py --quick              # 100,000 rows per big table (under 2 minutes)
    python bench/run_all.py --json figures.json  # 1,000,000 rows per big table, gap 5 %
    python bench/run_all.py --rows 300000        # any size

Runs `trio_bench.py` on SQLite and, when `.ci/mariadb-up` has started one, on MariaDB with
CRASHED beside PRODUCTION and on a second server, then again restoring the plan's delta
(`--planned`, SQLite and MariaDB on one server; each same-server run times its peer,
`sqldiff` or `pt-table-sync --print`), and `many_tables.py` (200 small tables,
Friday in a tenth of them and in all, restoring the plan's delta) on each dialect, and
`backup_bench.py` (step 8 beside `mariadb-dump | gzip` and dump-then-load); prints
each table as it comes and writes every figure, with the sizes, the machine and the date,
to `--json` so that runs can be compared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 rows per big table instead of 1,000,000")
    ap.add_argument("--rows", type=int, help="rows per big table (instead of --quick's or the default)")
    ap.add_argument("--gap", type=float, default=0.05)
    ap.add_argument("--profile", action="store_true", help="profile every plan and restore (pyinstrument)")
    ap.add_argument("--buffer-pool", type=int, metavar="MB", help="MariaDB: InnoDB buffer pool for the run")
    ap.add_argument("--json", type=Path, default=Path("bench-figures.json"))
    args = ap.parse_args()
    from tests.conftest import mariadb_base_url

    rows = args.rows or (100_000 if args.quick else 1_000_000)
    dialects = ["sqlite"] + (["mariadb"] if mariadb_base_url() is not None else [])
    trio = [["--dialect", "sqlite"], ["--dialect", "sqlite", "--planned"]]
    if "mariadb" in dialects:
        trio += [["--dialect", "mariadb", "--layout", "same-server"], ["--dialect", "mariadb", "--layout", "two-servers"],
                 ["--dialect", "mariadb", "--layout", "same-server", "--planned"]]
    sized = ["--rows", str(rows), "--gap", str(args.gap)] + (["--profile"] if args.profile else [])
    runs = [("trio_bench.py", layout + sized + (["--buffer-pool", str(args.buffer_pool)]
                                               if args.buffer_pool and "mariadb" in layout else []))
            for layout in trio]
    # 200 tables with Friday in a tenth of them, the same 20 busy tables among 400, and Friday in all 200.
    runs += [("many_tables.py", ["--dialect", d, "--planned", "--tables", n, "--busy", busy]) for d in dialects
             for n, busy in (("200", "0.1"), ("400", "0.05"), ("200", "1"))]
    if "mariadb" in dialects:   # step 8 beside the shell pipelines (SQLite's backup is a file copy)
        runs.append(("backup_bench.py", ["--rows", str(rows), "--gap", str(args.gap)]))
    figures = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (script, argv) in enumerate(runs):
            out = Path(tmp) / f"{i}.json"
            proc = subprocess.run([sys.executable, str(HERE / script), *argv, "--json", str(out)],
                                  stdout=subprocess.PIPE, text=True)
            if proc.returncode != 0:
                sys.exit(f"{script} {' '.join(argv)} failed")
            print(proc.stdout)
            figures.append({"bench": script.removesuffix(".py"), "argv": argv, **json.loads(out.read_text())})
    took = round(time.monotonic() - started, 1)
    targets = issue_targets(figures)
    print("issue 18's targets, from this run:")
    for t in targets:
        print(f"  {t['what']:<58} {t['measured']:>8.2f}  target {t['target']:<8} {'met' if t['met'] else 'NOT met'}")
    print(f"all layouts in {took} s; figures in {args.json}")
    args.json.write_text(json.dumps({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                     "machine": _machine(), "rows": rows, "gap": args.gap, "seconds": took,
                                     "targets": targets, "runs": figures}, indent=2) + "\n")


def issue_targets(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ratios issue 18 sets targets for, as this run measured them."""
    out: list[dict[str, Any]] = []

    def target(what: str, measured: float, bound: float, most: bool = True) -> None:
        out.append({"what": what, "measured": round(measured, 3), "target": f"{'≤' if most else '≥'} {bound}",
                    "met": measured <= bound if most else measured >= bound})

    for f in figures:
        if f["bench"] == "trio_bench" and f.get("planned"):
            where = f"{f['dialect']} {f['rows']:,} rows"
            peer = f.get("peer", {})
            if "seconds" in peer:
                target(f"{where}: plan / {peer['what'].split(' ')[0]}", f["plan"]["seconds"] / peer["seconds"],
                       1.0 if f["dialect"] == "sqlite" else 0.3)
            copy = f["yardsticks"].get("insert_select", {})
            if copy.get("rows_per_s"):
                target(f"{where}: restore / INSERT … SELECT (rows/s)", f["restore"]["rows_per_s"] / copy["rows_per_s"],
                       0.25, most=False)
    many = {(f["dialect"], f["tables"], f["busy"]): f for f in figures if f["bench"] == "many_tables"}
    for (dialect, tables, busy), f in sorted(many.items()):
        # The issue's case: 200 tables of 55 rows, Friday's 5 new rows in every one (1,000 rows).
        friday = "Friday in all" if busy == 1.0 else f"Friday in {round(tables * busy)}"
        if tables == 200:
            target(f"{dialect} 200 tables, {friday}: plan (s)", f["plan"]["seconds"], 3.0)
            target(f"{dialect} 200 tables, {friday}: restore (s)", f["restore"]["seconds"], 5.0)
        double = many.get((dialect, 400, 0.05))
        if (tables, busy) == (200, 0.1) and double is not None:
            target(f"{dialect} tables doubled, the same 20 busy: restore growth",
                   double["restore"]["seconds"] / f["restore"]["seconds"] - 1, 0.2)
    return out


def _machine() -> dict[str, object]:
    """Where the figures were measured: they compare only with figures from the same."""
    import os
    import platform

    return {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform()}


if __name__ == "__main__":
    main()
