"""Step 13: what the restore did, read back from production, and what is left to decide.

Combines `verify`'s verdict, the last restore report (rows before and after per table,
inserted, updated, linked, skipped), sample restored rows as production now holds them
with their old → new ids, and the conflicts a fresh inspection still finds (production's
values were kept; the operator decides whether to take Friday's).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .config import Settings
from .db import open_engine
from .decisions import Decisions
from .gap import build_plan
from .private_files import write_private
from .schema import reflect
from .verify import verify

SAMPLES = 3


def investigate(settings: Settings, reports_dir: Path, decisions: Decisions | None = None) -> tuple[str, bool]:
    """(the readable investigation, whether verify passed). Read-only on every database."""
    problems, counts = verify(settings)
    lines = ["verify: " + ("OK" if not problems else f"{len(problems)} problems"),
             f"  {counts.get('rows', 0)} restored rows present once, {counts.get('references', 0)} references resolve"]
    lines += [f"  problem: {p}" for p in problems]
    report = _latest_report(reports_dir)
    if report is None:
        lines.append("no restore report found in " + str(reports_dir))
    else:
        lines += ["", f"last restore {report['run_id']} at {report['started_at']}:",
                  f"{'table':<16} {'before':>8} {'after':>8} {'inserted':>9} {'updated':>8} {'linked':>7} {'skipped':>8} {'conflicts':>9}"]
        for name, t in report["tables"].items():
            lines.append(f"{name:<16} {t['rows_before']:>8} {t['rows_after']:>8} {t['inserted']:>9} {t['updated']:>8} "
                         f"{len(t['linked']):>7} {len(t['skipped']):>8} {t['conflicts_kept']:>9}")
        lines += ["", "sample restored rows (old id → new id, as production holds them now):"]
        lines += _samples(settings, report)
    plan = build_plan(settings, decisions)
    left = [(g.table, c) for g in plan.tables for c in g.conflicts]
    lines += ["", f"conflicts left to decide: {len(left)}"]
    for table, c in left[:50]:
        cols = "; ".join(f"{col}: friday={f!r} production={p!r}" for col, _s, f, p in c.values[:3])
        lines.append(f"  {table} {c.key}: {c.reason} — {cols}")
    if left:
        lines.append("  decide with: gapmend resolve TABLE KEY --take friday, then gapmend restore")
    return "\n".join(lines), not problems


def save(text: str, reports_dir: Path) -> Path:
    reports_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = reports_dir / f"investigate-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.txt"
    write_private(path, text + "\n")
    return path


def _latest_report(folder: Path) -> dict[str, Any] | None:
    reports = sorted(folder.glob("restore-*.json")) if folder.exists() else []
    for path in reversed(reports):
        data = json.loads(path.read_text())
        if not data.get("dry_run"):
            return data  # type: ignore[no-any-return]
    return None


def _samples(settings: Settings, report: dict[str, Any]) -> list[str]:
    engine = open_engine(settings.production, "production")
    try:
        schema = reflect(engine, "production")
        out = []
        with engine.connect() as conn:
            for name, t in report["tables"].items():
                if name not in schema or not t["moved"]:
                    continue
                info = schema[name]
                key = info.table.c[info.primary_key[0]]
                for old, new in t["moved"][:SAMPLES]:
                    row = conn.execute(select(info.table).where(key == new)).first()
                    shown = ", ".join(f"{k}={v}" for k, v in list(row._mapping.items())[1:4]) if row else "MISSING"
                    out.append(f"  {name} {old} → {new}: {shown}")
        return out
    finally:
        engine.dispose()
