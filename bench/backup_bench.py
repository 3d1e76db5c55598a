"""Step 8 inside the maintenance window: `gapmend backup` beside the shell pipelines an
operator would run instead, on the same generated production, in the same run.

    python bench/backup_bench.py --rows 300000

MariaDB only (SQLite's backup is a file copy). The trio of `scale.py` is generated (the
databases' names are this run's own) and production is backed up four ways, each timed:

- ``mariadb-dump | gzip > file``: the floor, a dump nobody proved;
- the same dump, then ``gunzip -c file | mariadb scratch``: dumped, then proved by loading
  it (the way `gapmend backup` worked before it loaded while dumping);
- ``mariadb-dump | mariadb scratch``: the load alone, no file;
- `gapmend backup` (dump, gzip, load into a scratch database as it is written, read the
  file back, compare row counts).

Prints seconds and gapmend's ratios to each; ``--json F`` writes them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import scale  # noqa: E402
from databases import empty_databases  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000, help="rows per big table")
    ap.add_argument("--gap", type=float, default=0.05)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    result = run(scale.Sizes(rows=args.rows, gap=args.gap))
    print_figures(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def run(sizes: scale.Sizes) -> dict[str, Any]:
    from gapmend.core.databases.dialects.mariadb_dump import client_options
    from gapmend.core.runbook.backup import backup

    work = Path(tempfile.mkdtemp(prefix="gapmend-backup-bench-"))
    engines, _lines = empty_databases("mariadb", work, ["snapshot", "crashed", "production"], "gm_bbench")
    scale.build("mariadb", engines, sizes)
    production = engines["production"]
    url = production.url
    database = str(url.database)
    result: dict[str, Any] = {"rows": sizes.rows, "gap": sizes.gap, "database_mb": _size_mb(production)}
    with client_options(url) as cnf:
        dump = f"mariadb-dump --defaults-extra-file={cnf} --single-transaction --routines --triggers --hex-blob {database}"
        client = f"mariadb --defaults-extra-file={cnf}"
        gz = work / "dump.sql.gz"
        result["dump_gzip"] = _timed(f"{dump} | gzip > {gz}")
        scratch = _scratch(production)
        result["dump_then_load"] = round(result["dump_gzip"] + _timed(f"gunzip -c {gz} | {client} {scratch}"), 2)
        _drop(production, scratch)
        scratch = _scratch(production)
        result["dump_into_load"] = _timed(f"{dump} | {client} {scratch}")
        _drop(production, scratch)
        result["dump_bytes"] = gz.stat().st_size
    started = time.monotonic()
    record = backup(url, work / "backups")
    result["gapmend_backup"] = round(time.monotonic() - started, 2)
    result["gapmend_bytes"] = record.bytes
    return result


def _timed(pipeline: str) -> float:
    started = time.monotonic()
    subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], check=True)
    return round(time.monotonic() - started, 2)


def _scratch(engine: Engine) -> str:
    name = f"gm_bbench_scratch_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}`"))
    return name


def _drop(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))


def _size_mb(engine: Engine) -> float:
    with engine.connect() as conn:
        size = conn.execute(text("SELECT SUM(data_length + index_length) FROM information_schema.tables "
                                 "WHERE table_schema = DATABASE()")).scalar()
    return round(int(size or 0) / 2**20, 1)


def print_figures(r: dict[str, Any]) -> None:
    g = r["gapmend_backup"]
    print(f"\nbackup of production ({r['rows']:,} rows per big table, {r['database_mb']} MB in InnoDB):")
    for label, key in (("mariadb-dump | gzip > file (not proved)", "dump_gzip"),
                       ("dump | gzip, then gunzip | mariadb scratch", "dump_then_load"),
                       ("mariadb-dump | mariadb scratch (no file)", "dump_into_load"),
                       ("gapmend backup (proved while dumping)", "gapmend_backup")):
        ratio = "" if key == "gapmend_backup" else f"   gapmend/it {g / r[key]:.2f}x"
        print(f"  {label:<46} {r[key]:>8.2f} s{ratio}")
    print(f"  files: {r['dump_bytes']:,} bytes (gzip -6), gapmend {r['gapmend_bytes']:,} bytes")


if __name__ == "__main__":
    main()
