"""Every benchmark on both dialects in one run, with one JSON of all the figures.

    python bench/run_all.py --quick              # a laptop-sized run (about 2 minutes)
    python bench/run_all.py --json figures.json  # the default sizes

Runs `plan_bench.py` (three-way and snapshot time) and `restore_bench.py` on SQLite and,
when `.ci/mariadb-up` has started one, MariaDB; prints each benchmark's table as it comes
and writes every figure, with the sizes and the date, to `--json` so that runs can be
compared over time.
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
    ap.add_argument("--quick", action="store_true", help="small sizes: 50,000 rows per table, 5,000 users")
    ap.add_argument("--json", type=Path, default=Path("bench-figures.json"))
    args = ap.parse_args()
    from tests.conftest import mariadb_base_url

    dialects = ["sqlite"] + (["mariadb"] if mariadb_base_url() is not None else [])
    rows, users = (50_000, 5_000) if args.quick else (200_000, 25_000)
    runs = []
    for dialect in dialects:
        for snapshot in (True, False):
            runs.append(("plan", dialect, [str(HERE / "plan_bench.py"), "--dialect", dialect, "--rows", str(rows)]
                         + (["--snapshot"] if snapshot else [])))
        runs.append(("restore", dialect, [str(HERE / "restore_bench.py"), "--dialect", dialect, "--users", str(users)]))
    figures = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (what, dialect, argv) in enumerate(runs):
            out = Path(tmp) / f"{i}.json"
            proc = subprocess.run([sys.executable, *argv, "--json", str(out)], capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"{what} on {dialect} failed:\n{proc.stderr[-2000:]}")
            print("\n".join(line for line in proc.stdout.splitlines() if not line.startswith("{")))
            figures.append({"benchmark": what, **json.loads(out.read_text())})
    took = round(time.monotonic() - started, 1)
    print(f"\nall benchmarks in {took} s; figures in {args.json}")
    args.json.write_text(json.dumps({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                     "quick": args.quick, "seconds": took, "runs": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
