"""gapmend's gap scan and restore on a generated Laravel-like trio, side by side with the
database's own bulk paths on the same data, in one run.

    python bench/trio_bench.py --dialect sqlite --rows 1000000 --gap 0.05
    python bench/trio_bench.py --dialect mariadb --layout same-server --rows 100000
    python bench/trio_bench.py --dialect mariadb --layout two-servers --profile

The trio is generated inside the database (`scale.py`): users, teams, posts, comments,
tags, post_tag and images, `--rows` per big table, the last `--gap` of them Friday's.
In order, each in a child process so time and peak RSS are its own:
1. `plan` three-way (snapshot loaded), with only the snapshot time (`updated_at`), and
   three-way trusting `updated_at` (only rows stamped after the snapshot time compared);
2. the peer a user would run instead of the plan (`peers.py`: `sqldiff --primarykey` on
   SQLite, `pt-table-sync --print` on MariaDB; same-server layout), and the checksum floor
   over the overlap of the big tables;
3. `restore` (gap scan included), then `verify`;
4. yardsticks copying as many rows of the same tables: `INSERT … SELECT`, and on MariaDB
   `mariadb-dump --where … | mariadb` (from the second server with `--layout two-servers`,
   which starts a throw-away mariadbd on port 3307 and loads CRASHED there);
5. the same restore run again (after a commit it finds nothing to do), and `undo`.
`--trust-updated-at` runs the restore that way too; `--index-updated-at` indexes
`updated_at` first (Laravel does not), which makes the trusting scan's cost follow the
rows changed rather than the table. `--profile` runs the restore under pyinstrument
and prints the functions with the most time of their own. Prints a table of figures
and ratios; `--json F` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import peers  # noqa: E402
import scale  # noqa: E402
import yardsticks  # noqa: E402
from databases import empty_databases, peak_rss_mb, write_env  # noqa: E402

PROFILE_LINES = 25
PLAN_FILE = "GAPMEND_BENCH_PLAN_FILE"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialect", choices=["sqlite", "mariadb"], default="sqlite")
    ap.add_argument("--layout", choices=["same-server", "two-servers"], default="same-server",
                    help="MariaDB: CRASHED beside PRODUCTION, or on a second mariadbd")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per big table in CRASHED")
    ap.add_argument("--gap", type=float, default=0.05, help="the fraction of them written on Friday")
    ap.add_argument("--profile", action="store_true", help="profile the plan, the restore and verify (pyinstrument)")
    ap.add_argument("--buffer-pool", type=int, metavar="MB",
                    help="MariaDB: resize the InnoDB buffer pool for the run (SET GLOBAL; put back after)")
    ap.add_argument("--trust-updated-at", action="store_true",
                    help="restore with GAPMEND_TRUST_UPDATED_AT (compare only rows stamped after the snapshot time)")
    ap.add_argument("--index-updated-at", action="store_true",
                    help="index updated_at in the big tables of every database (Laravel does not by default)")
    ap.add_argument("--planned", action="store_true",
                    help="the three-way plan writes a plan file with Friday's delta, and the restore runs it")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--child", nargs=2, metavar=("WHAT", "ENV"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], profile=args.profile)
    if args.dialect == "sqlite" and args.layout != "same-server":
        ap.error("--layout two-servers needs --dialect mariadb")
    options = {"trust_updated_at": args.trust_updated_at, "index_updated_at": args.index_updated_at,
               "planned": args.planned}
    result = run(args.dialect, args.layout, scale.Sizes(args.rows, args.gap), args.profile, args.buffer_pool, options)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def run(dialect: str, layout: str, sizes: scale.Sizes, profile: bool, buffer_pool: int | None,
        options: dict[str, bool] | None = None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="gapmend-tbench-"))
    os.chmod(work, 0o755)     # the second server (user mysql) keeps its data directory here
    engines, lines = empty_databases(dialect, work, ["snapshot", "crashed", "production"], "gm_tbench")
    result: dict[str, Any] = {"dialect": dialect, "layout": layout if dialect == "mariadb" else "files",
                              "rows": sizes.rows, "gap": sizes.gap, **(options or {})}
    if dialect != "mariadb":
        return _run(dialect, layout, sizes, profile, work, engines, lines, result)
    with _buffer_pool(engines["production"], buffer_pool) as pool_mb:
        result["buffer_pool_mb"] = pool_mb
        return _run(dialect, layout, sizes, profile, work, engines, lines, result)


@contextmanager
def _buffer_pool(engine: Engine, mb: int | None) -> Iterator[int]:
    """The server's InnoDB buffer pool, resized to `mb` for the run and put back after."""
    with engine.connect() as conn:
        before = int(conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one())
        if mb is not None:
            conn.exec_driver_sql(f"SET GLOBAL innodb_buffer_pool_size = {int(mb) * 1024 * 1024}")
        now = int(conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one())
    try:
        yield now // (1024 * 1024)
    finally:
        if mb is not None:
            with engine.connect() as conn:
                conn.exec_driver_sql(f"SET GLOBAL innodb_buffer_pool_size = {before}")


def _run(dialect: str, layout: str, sizes: scale.Sizes, profile: bool, work: Path, engines: dict[str, Engine],
         lines: list[str], result: dict[str, Any]) -> dict[str, Any]:
    took = scale.build(dialect, engines, sizes)
    result["build_seconds"] = {k: round(v, 1) for k, v in took.items()}
    say(f"built the trio ({sizes.rows:,} rows per big table) in {sum(took.values()):.1f} s")
    if result.get("index_updated_at"):
        started = time.monotonic()
        for engine in engines.values():
            with engine.begin() as conn:
                for table in scale.BIG:
                    conn.exec_driver_sql(f"CREATE INDEX {table}_updated_at ON {table} (updated_at)")
        result["index_seconds"] = round(time.monotonic() - started, 1)
    second: scale.SecondServer | None = None
    try:
        crashed = engines["crashed"]
        if layout == "two-servers":
            second = _start_second(work, engines["production"], crashed)
            crashed, lines, result["copy_crashed_seconds"] = _load_crashed(second, crashed, lines)
        three_way = write_env(work / "three-way.env", lines)
        snap_time = write_env(work / "snapshot-time.env",
                              [ln for ln in lines if not ln.startswith("GAPMEND_SNAPSHOT_")]
                              + [f"GAPMEND_SNAPSHOT_AT={scale.SNAPSHOT_AT}"])
        trusting = write_env(work / "trusting.env", lines + [f"GAPMEND_SNAPSHOT_AT={scale.SNAPSHOT_AT}",
                                                             "GAPMEND_TRUST_UPDATED_AT=yes"])
        plan_file = work / "plan.json" if result.get("planned") else None
        result["plan"] = spawn("plan", three_way, profile, plan_file)
        result["plan_snapshot_time"] = spawn("plan", snap_time)
        result["plan_trusting"] = spawn("plan", trusting)
        sides = {"crashed": crashed, "production": engines["production"], "snapshot": engines["snapshot"]}
        if layout == "same-server":
            result["peer"] = _peer(dialect, crashed, engines["production"], result["plan"]["rows"])
            result["checksum_floor"] = yardsticks.checksum_floor(dialect, sides, list(scale.BIG), sizes.snapshot)
        result["restore"] = spawn("restore", trusting if result.get("trust_updated_at") else three_way, profile,
                                  plan_file)
        result["restore"]["apply"] = _apply(result["restore"])
        # The same restore again: a committed run answers from the journal (issue 40, item 6).
        result["rerun"] = spawn("restore", trusting if result.get("trust_updated_at") else three_way)
        result["verify"] = spawn("verify", three_way, profile)
        counts = result["restore"]["tables"]
        yard: dict[str, Any] = {}
        if layout == "same-server":
            yard["insert_select"] = yardsticks.insert_select(dialect, engines["crashed"], engines["production"],
                                                             counts, work)
        if dialect == "mariadb":
            yard["dump_pipe"] = yardsticks.dump_pipe(crashed, engines["production"], counts, layout == "two-servers")
        result["yardsticks"] = yard
        result["undo"] = spawn("undo", three_way)   # last: it takes the restore back
    finally:
        if second is not None:
            second.stop()
    return result


def _peer(dialect: str, crashed: Engine, production: Engine, rows: int) -> dict[str, Any]:
    """The peer a user would reach for instead of the plan, on the same data (or why not)."""
    why = peers.missing(dialect)
    if why is not None:
        say(f"no peer: {why}")
        return {"what": "peer", "skipped": why}
    say("peer …")
    return peers.sqldiff(crashed, production, rows) if dialect == "sqlite" else peers.pt_table_sync(
        crashed, production, rows)


def _start_second(work: Path, production: Engine, crashed: Engine) -> scale.SecondServer:
    """A second mariadbd with the first one's buffer pool and the benchmark's user."""
    with production.connect() as conn:
        pool = int(conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one())
    url = crashed.url
    return scale.start_second_server(work, scale.free_port(), str(url.username), str(url.password), pool)


def _load_crashed(server: scale.SecondServer, crashed: Engine, lines: list[str]) -> tuple[Engine, list[str], float]:
    """CRASHED copied to `server`; its engine there, and the env lines pointing at it."""
    from sqlalchemy import create_engine

    url = crashed.url
    target = server.url(str(url.username), str(url.password))
    seconds = scale.copy_database(url, target, str(url.database))
    say(f"copied CRASHED to the second server in {seconds:.1f} s")
    lines = [ln for ln in lines if not ln.startswith("GAPMEND_CRASHED_URL=")] + [
        f"GAPMEND_CRASHED_URL={target.set(database=url.database, password=None).render_as_string(False)}"]
    return create_engine(target.set(database=url.database)), lines, round(seconds, 1)


def spawn(what: str, env: Path, profile: bool = False, plan_file: Path | None = None) -> dict[str, Any]:
    """Time `what` (plan, restore, verify) in a child process; with `plan_file`, the plan
    writes it (Friday's delta kept) and the restore runs it."""
    say(f"{what} …")
    argv = [sys.executable, __file__, "--child", what, str(env)] + (["--profile"] if profile else [])
    environ = {**os.environ, **({PLAN_FILE: str(plan_file)} if plan_file is not None else {})}
    proc = subprocess.run(argv, capture_output=True, text=True, env=environ)
    if proc.returncode != 0:
        sys.exit(f"{what} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def child(what: str, env: str, profile: bool) -> None:
    from gapmend.core.config import load_settings

    settings = load_settings(Path(env), environ={})
    profiler = statements = None
    if profile:
        from pyinstrument import Profiler

        statements = _time_statements()
        profiler = Profiler(interval=0.002)
        profiler.start()
    t = time.monotonic()
    out: dict[str, Any] = {}
    planned = os.environ.get(PLAN_FILE)   # the plan file the three-way plan writes and the restore runs
    if what == "plan":
        from gapmend.core.apply.preview import build_plan
        from gapmend.core.inspect.gap import Reading
        from gapmend.core.plan.decisions import Decisions
        from gapmend.core.plan.delta import Delta
        from gapmend.core.plan.file import write_plan_file

        delta = Delta() if planned else None
        plan = build_plan(settings, reading=Reading(delta=delta))
        if planned:
            write_plan_file(Path(planned), plan, Decisions(), delta)
        out["rows"] = sum(sum(g.counts.values()) for g in plan.tables)
        out["friday_inserts"] = sum(g.counts.get("friday_insert", 0) for g in plan.tables)
    elif what == "restore":
        from gapmend.core.apply.restore import RestoreOptions, restore
        from gapmend.core.plan.file import read_plan_file

        phases = _Phases()
        reviewed = read_plan_file(Path(planned)) if planned else None
        report = restore(settings, options=RestoreOptions(approve_pending=True, reviewed=reviewed),   # generated tables: all approved
                         progress=phases)
        out["phases"] = phases.seconds()
        out.update(totals=report.totals(), path=report.path,
                   tables={n: r.inserted for n, r in report.tables.items()})
        out["rows"] = report.totals()["inserted"] + report.totals()["updated"]
    elif what == "undo":
        from gapmend.core.apply.undo import undo
        from gapmend.core.inspect.gap import Reading
        from gapmend.core.plan.decisions import Decisions

        phases = _Phases()
        undone = undo(settings, Decisions(), progress=phases)
        out["phases"] = phases.seconds()
        out["rows"] = undone.totals()["removed"] + undone.totals()["reverted"] + undone.totals()["reinserted"]
        out["totals"] = undone.totals()
    else:
        from gapmend.core.runbook.verify import verify

        problems, counts = verify(settings)
        out.update(problems=problems[:10], problem_count=len(problems), rows=sum(counts.values()))
    out["seconds"] = round(time.monotonic() - t, 3)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if profiler is not None and statements is not None:
        profiler.stop()
        out["profile"] = profiler.output_text(flat=True, show_all=False).splitlines()[6:PROFILE_LINES + 6]
        out["statements"] = [f"{s:7.3f} s {n:>5}× {sql}" for sql, (s, n) in
                             sorted(statements.items(), key=lambda kv: -kv[1][0])[:PROFILE_LINES]]
    out["rows_per_s"] = round(out["rows"] / out["seconds"]) if out["seconds"] else 0
    print(json.dumps(out, default=str))


class _Phases:
    """A `Progress` that keeps how long each phase the restore announced took."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def start(self, label: str, total: int | None) -> None:
        self.marks.append((label, time.monotonic()))

    def advance(self, done: int) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def seconds(self) -> dict[str, float]:
        ends = [t for _, t in self.marks[1:]] + [time.monotonic()]
        totals: dict[str, float] = {}
        for (label, t0), t1 in zip(self.marks, ends):
            phase = label.split(":")[0].split(" (")[0]
            totals[phase] = round(totals.get(phase, 0) + t1 - t0, 3)
        return totals


SCAN_PHASES = ("reflecting schemas", "finding boundaries", "inspecting tables")


def _apply(restore: dict[str, Any]) -> dict[str, Any]:
    """The restore without its gap scan: what compares with a copy of rows already known."""
    scan = sum(v for k, v in restore.get("phases", {}).items() if k in SCAN_PHASES)
    seconds = max(restore["seconds"] - scan, 0.001)
    return {"rows": restore["rows"], "seconds": round(seconds, 3), "rows_per_s": round(restore["rows"] / seconds)}


def _time_statements() -> dict[str, list[float]]:
    """Wall time per statement shape (its first line, numbers blanked), summed."""
    import re

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    totals: dict[str, list[float]] = {}
    shape = re.compile(r"\b\d+\b")

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info.setdefault("t0", []).append(time.monotonic())

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        took = time.monotonic() - conn.info["t0"].pop()
        key = shape.sub("N", " ".join(statement.split()))[:150]
        entry = totals.setdefault(key, [0.0, 0])
        entry[0] += took
        entry[1] += 1

    return totals  # type: ignore[return-value]


def print_table(r: dict[str, Any]) -> None:
    where = f"{r['dialect']} ({r['layout']})"
    pool = f", InnoDB buffer pool {r['buffer_pool_mb']:,} MB" if "buffer_pool_mb" in r else ""
    print(f"\n{where}: {r['rows']:,} rows per big table, gap {r['gap']:.0%}{pool}")
    print(f"{'what':<58} {'rows':>9} {'s':>8} {'rows/s':>9} {'peak RSS MB':>11} {'gapmend/it':>16}")

    def line(what: str, f: dict[str, Any], ratio: str = "") -> None:
        rss = f"{f['peak_rss_mb']:.0f}" if "peak_rss_mb" in f else ""
        print(f"{what[:58]:<58} {f['rows']:>9} {f['seconds']:>8.2f} {f['rows_per_s']:>9} {rss:>11} {ratio:>16}")

    line("gapmend plan, three-way", r["plan"])
    line("gapmend plan, snapshot time", r["plan_snapshot_time"])
    indexed = " (indexed)" if r.get("index_updated_at") else ""
    line(f"gapmend plan, three-way, trusting updated_at{indexed}", r["plan_trusting"])
    peer = r.get("peer", {})
    if "seconds" in peer:
        line(peer["what"], peer, f"{r['plan']['seconds'] / peer['seconds']:.2f}x")
        kinds = ", ".join(f"{n:,} {k}" for k, n in peer["statements"].items())
        print(f"  its output: {kinds or 'nothing'}; {peer['overwrites']:,} of them overwrite or delete a row "
              "production holds")
    elif peer:
        print(f"peer: {peer['skipped']}")
    if "checksum_floor" in r:
        floor = r["checksum_floor"]
        line(floor["what"], floor, f"{floor['seconds'] / r['plan']['seconds']:.2f}x / "
                                   f"{floor['seconds'] / r['plan_trusting']['seconds']:.2f}x")
    path = "server-side" if r["restore"]["path"].startswith("server-side") else "through gapmend"
    trust = ", trusting" if r.get("trust_updated_at") else ""
    planned = ", the plan's delta" if r.get("planned") else ""
    line(f"gapmend restore ({path}{trust}{planned}, scan included)", r["restore"])
    apply = r["restore"]["apply"]
    line("  of which applying the plan (after the scan)", apply)
    if "rerun" in r:   # its time against the restore's (issue 40: at most half)
        line("gapmend restore again (committed: nothing to do)", r["rerun"],
             f"{r['rerun']['seconds'] / r['restore']['seconds']:.2f}x restore")
    line("gapmend verify", r["verify"])
    if "undo" in r:   # issue 40: at most 1.5x the restore
        line("gapmend undo", r["undo"], f"{r['undo']['seconds'] / r['restore']['seconds']:.2f}x restore")
    for y in r["yardsticks"].values():
        ratios = [f"{f['rows_per_s'] / y['rows_per_s']:.2f}" for f in (r["restore"], apply)] if y["rows_per_s"] else []
        line(y["what"], y, "x / ".join(ratios) + "x" if ratios else "")
    if r["verify"]["problem_count"]:
        print(f"VERIFY FOUND {r['verify']['problem_count']} PROBLEMS: {r['verify']['problems']}")
    for run in ("restore", "rerun", "undo"):
        if r.get(run, {}).get("phases"):
            print(f"\n{run} phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in r[run]["phases"].items()))
    for what in ("plan", "restore", "verify"):
        if "profile" in r[what]:
            print(f"\n{what}: the functions with the most time of their own (pyinstrument):")
            print("\n".join(r[what]["profile"]))
            print(f"\n{what}: the statements with the most wall time (seconds, calls, shape):")
            print("\n".join(r[what]["statements"]))


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
