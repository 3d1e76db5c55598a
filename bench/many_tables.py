"""gapmend on an app with many small tables: where the cost is per table, not per row.

    python bench/many_tables.py --dialect mariadb --tables 200 --rows 55
    python bench/many_tables.py --dialect sqlite --profile

Real Laravel apps have 60-200 tables, most of them small. This generates `--tables`
tables of `--rows` snapshot rows each, chained by declared foreign keys (table i points
at table i // 2, so the graph is a tree with shared parents), and after the snapshot:
Friday's `--friday` rows per table, some pointing at its own new parent rows (they move
with them), and production's `--production` rows under the same ids; one Friday update
per table. Then, each in a child process (`trio_bench.spawn`): `plan` three-way, `restore`
and `verify`. Prints the figures; `--json F` writes them. The databases' names are this
run's own (`databases.empty_databases`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, Engine, ForeignKey, Integer, MetaData, String, Table, insert, update

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from databases import empty_databases, write_env  # noqa: E402
from trio_bench import spawn  # noqa: E402  (its children time plan, restore and verify)

SNAPSHOT_AT = datetime(2026, 11, 26, 23, 0, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialect", choices=["sqlite", "mariadb"], default="sqlite")
    ap.add_argument("--tables", type=int, default=200)
    ap.add_argument("--rows", type=int, default=55, help="snapshot rows per table")
    ap.add_argument("--friday", type=int, default=5, help="Friday's new rows per table")
    ap.add_argument("--production", type=int, default=3, help="production's new rows per table, under the same ids")
    ap.add_argument("--busy", type=float, default=1.0,
                    help="the fraction of the tables Friday wrote to (the rest as the snapshot left them)")
    ap.add_argument("--profile", action="store_true", help="profile the plan and the restore (pyinstrument)")
    ap.add_argument("--planned", action="store_true", help="the plan keeps Friday's delta and the restore runs it")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    result = run(args.dialect, args.tables, args.rows, args.friday, args.production, args.profile, args.planned,
                 args.busy)
    print_figures(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def schema(n_tables: int) -> MetaData:
    md = MetaData()
    for i in range(n_tables):
        parent = [Column("parent_id", Integer, ForeignKey(f"t{i // 2:03d}.id"), nullable=True)] if i else []
        Table(f"t{i:03d}", md, Column("id", Integer, primary_key=True), Column("name", String(60), nullable=False),
              *parent, Column("created_at", DateTime), Column("updated_at", DateTime))
    return md


def build(engines: dict[str, Engine], n_tables: int, rows: int, friday: int, production: int,
          busy: float = 1.0) -> float:
    """Every table's snapshot rows on all three sides, then each side's writes after it
    (Friday's in every `1 / busy`-th table, the root's always)."""
    every = max(1, round(1 / busy)) if busy > 0 else n_tables + 1
    started = time.monotonic()
    md = schema(n_tables)
    before, fri, prod = SNAPSHOT_AT - timedelta(days=1), SNAPSHOT_AT + timedelta(hours=20), SNAPSHOT_AT + timedelta(days=2)
    for role, engine in engines.items():
        md.create_all(engine)
        with engine.begin() as conn:
            for i, t in enumerate(md.sorted_tables):
                i = int(t.name[1:])
                base = [dict(id=k, name=f"row {k}", created_at=before, updated_at=before,
                             **({"parent_id": 1 + k % rows} if i else {})) for k in range(1, rows + 1)]
                conn.execute(insert(t), base)
                if role == "crashed" and i % every == 0:   # Friday: new rows, half pointing at the parent's new rows
                    parent_busy = (i // 2) % every == 0   # its parent has Friday rows to point at
                    conn.execute(insert(t), [dict(id=rows + k, name=f"friday {k}", created_at=fri, updated_at=fri,
                                                  **({"parent_id": rows + k if k % 2 and parent_busy else 1} if i else {}))
                                             for k in range(1, friday + 1)])
                    conn.execute(update(t).where(t.c.id == 2).values(name="friday's update", updated_at=fri))
                elif role == "production":
                    conn.execute(insert(t), [dict(id=rows + k, name=f"production {k}", created_at=prod, updated_at=prod,
                                                  **({"parent_id": 1} if i else {})) for k in range(1, production + 1)])
    return time.monotonic() - started


def run(dialect: str, n_tables: int, rows: int, friday: int, production: int, profile: bool,
        planned: bool = False, busy: float = 1.0) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="gapmend-many-"))
    engines, lines = empty_databases(dialect, work, ["snapshot", "crashed", "production"], "gm_many")
    result: dict[str, Any] = {"dialect": dialect, "tables": n_tables, "rows_per_table": rows,
                              "friday_per_table": friday, "production_per_table": production, "planned": planned}
    result["busy"] = busy
    result["build_seconds"] = round(build(engines, n_tables, rows, friday, production, busy), 1)
    env = write_env(work / "three-way.env", lines)
    plan_file = work / "plan.json" if planned else None
    result["plan"] = spawn("plan", env, profile, plan_file)
    result["restore"] = spawn("restore", env, profile, plan_file)
    result["verify"] = spawn("verify", env)
    return result


def print_figures(r: dict[str, Any]) -> None:
    print(f"\n{r['dialect']}: {r['tables']} tables × {r['rows_per_table']} rows, Friday {r['friday_per_table']} "
          f"new rows and one update in {r['busy']:.0%} of them, production {r['production_per_table']} under the same ids"
          + (", the restore runs the plan's delta" if r.get("planned") else ""))
    for what in ("plan", "restore", "verify"):
        f = r[what]
        per = f"{f['seconds'] / r['tables'] * 1000:.0f} ms per table"
        print(f"{what:<8} {f['rows']:>7} rows {f['seconds']:>8.2f} s   {per}")
    if r["verify"]["problem_count"]:
        print(f"VERIFY FOUND {r['verify']['problem_count']} PROBLEMS: {r['verify']['problems']}")
    phases = r["restore"].get("phases", {})
    top = sorted(phases.items(), key=lambda kv: -kv[1])[:8]
    print("restore's slowest phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in top))
    for what in ("plan", "restore"):
        if "statements" in r[what]:
            print(f"\n{what}: the statements with the most wall time (seconds, calls, shape):")
            print("\n".join(r[what]["statements"][:15]))


if __name__ == "__main__":
    main()
