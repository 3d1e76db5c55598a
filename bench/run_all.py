"""The benchmark on every layout in one run, with one JSON of all the figures.

    python bench/run_all.py --quick              # 100,000 rows per big table (under 2 minutes)
    python bench/run_all.py --json figures.json  # 1,000,000 rows per big table, gap 5 %

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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 rows per big table instead of 1,000,000")
    ap.add_argument("--gap", type=float, default=0.05)
    ap.add_argument("--profile", action="store_true", help="profile every plan and restore (pyinstrument)")
    ap.add_argument("--buffer-pool", type=int, metavar="MB", help="MariaDB: InnoDB buffer pool for the run")
    ap.add_argument("--json", type=Path, default=Path("bench-figures.json"))
    args = ap.parse_args()
    from tests.conftest import mariadb_base_url

    rows = 100_000 if args.quick else 1_000_000
    dialects = ["sqlite"] + (["mariadb"] if mariadb_base_url() is not None else [])
    trio = [["--dialect", "sqlite"], ["--dialect", "sqlite", "--planned"]]
    if "mariadb" in dialects:
        trio += [["--dialect", "mariadb", "--layout", "same-server"], ["--dialect", "mariadb", "--layout", "two-servers"],
                 ["--dialect", "mariadb", "--layout", "same-server", "--planned"]]
    sized = ["--rows", str(rows), "--gap", str(args.gap)] + (["--profile"] if args.profile else [])
    runs = [("trio_bench.py", layout + sized + (["--buffer-pool", str(args.buffer_pool)]
                                               if args.buffer_pool and "mariadb" in layout else []))
            for layout in trio]
    runs += [("many_tables.py", ["--dialect", d, "--planned", "--busy", busy]) for d in dialects for busy in ("0.1", "1")]
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
    print(f"all layouts in {took} s; figures in {args.json}")
    args.json.write_text(json.dumps({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                     "machine": _machine(), "rows": rows, "gap": args.gap, "seconds": took,
                                     "runs": figures}, indent=2) + "\n")


def _machine() -> dict[str, object]:
    """Where the figures were measured: they compare only with figures from the same."""
    import os
    import platform

    return {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform()}


if __name__ == "__main__":
    main()
