"""Step 13: what the restore did, read back from production, and what is left to decide.

Combines `verify`'s verdict, the last restore report (rows before and after per table,
inserted, updated, linked, skipped), sample restored rows as production now holds them
with their old → new ids, and the conflicts a fresh inspection still finds (production's
values were kept; the operator decides whether to take Friday's).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .. import shown
from ..apply.preview import build_plan
from ..config import Settings
from ..databases import journal
from ..databases.engines import open_engine
from ..databases.schema import reflect
from ..plan.decisions import Decisions
from ..plan.model import Conflict
from ..private_files import write_private
from .report import latest_report
from .verify import verify

SAMPLES = 3


def investigate(settings: Settings, reports_dir: Path, decisions: Decisions | None = None) -> tuple[str, bool]:
    """(the readable investigation, whether verify passed). Read-only on every database."""
    problems, counts = verify(settings)
    lines = ["verify: " + ("OK" if not problems else shown.plural(len(problems), "problem")),
             f"  {counts.get('rows', 0)} restored rows present once, {counts.get('references', 0)} references resolve"]
    lines += [f"  problem: {p}" for p in problems]
    found = latest_report(reports_dir)
    report = found[1] if found else None
    if report is None:
        lines.append("no restore report found in " + str(reports_dir))
    else:
        width = max([5, *(len(name) for name in report["tables"])])
        lines += ["", f"last restore {report['run_id']} at {report['started_at']}:",
                  f"{'table':<{width}} {'before':>7} {'after':>7} {'ins':>6} {'upd':>6} {'linked':>6} {'skip':>5} {'confl':>5}"]
        for name, t in report["tables"].items():
            lines.append(f"{name:<{width}} {t['rows_before']:>7} {t['rows_after']:>7} {t['inserted']:>6} {t['updated']:>6} "
                         f"{len(t['linked']):>6} {len(t['skipped']):>5} {t['conflicts_kept']:>5}")
        lines += ["", "sample restored rows (old id → new id, as production holds them now):"]
        lines += _samples(settings, report)
    decisions = decisions or Decisions()
    plan = build_plan(settings, decisions)
    conflicts = [(g.table, c, decisions.chosen(g.table, journal.encode(c.key))) for g in plan.tables for c in g.conflicts]
    left = [(table, c) for table, c, chosen in conflicts if chosen is None]
    lines += ["", f"conflicts left to decide: {len(left)} (production's rows stand until you do)"]
    for table, c in left[:50]:
        lines.append(f"  {table} {shown.key(c.key)}: {c.reason} — {_values(c)}")
    if left:
        lines.append("  decide with: gapmend resolve TABLE KEY --take friday, then gapmend restore")
    decided = [(table, c, chosen) for table, c, chosen in conflicts if chosen is not None]
    if decided:
        lines += ["", f"conflicts you decided: {len(decided)}"]
    for table, c, chosen in decided[:50]:
        lines.append(f"  {table} {shown.key(c.key)}: {CHOSEN[chosen]} — {_values(c)}")
    return "\n".join(lines), not problems


# A decided conflict still found after the restore, by the operator's choice.
CHOSEN = {"production": "kept production's (your choice)",
          "friday": "Friday's chosen (your choice): not written yet, run gapmend restore",
          "merge": "merged (your choice): production's values kept where both sides changed the column"}


def _values(c: Conflict) -> str:
    return "; ".join(f"{col}: friday={shown.value(f)} production={shown.value(p)}" for col, _s, f, p in c.values[:3])


def save(text: str, reports_dir: Path) -> Path:
    reports_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = reports_dir / f"investigate-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.txt"
    write_private(path, text + "\n")
    return path


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
                    held = ", ".join(f"{k}={shown.value(v)}" for k, v in list(row._mapping.items())[1:4]) if row else "MISSING"
                    out.append(f"  {name} {old} → {new}: {held}")
        return out
    finally:
        engine.dispose()
