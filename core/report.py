"""The restore report: readable text and JSON, written 0600 (it holds row keys and values)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .plan import jsonable
from .private_files import write_private
from .restore import RestoreReport


def to_dict(report: RestoreReport) -> dict[str, Any]:
    data = jsonable(asdict(report))
    data["totals"] = report.totals()
    return data  # type: ignore[no-any-return]


def render(report: RestoreReport) -> str:
    t = report.totals()
    head = ("dry run, rolled back" if report.dry_run else
            "nothing to do: every Friday row is already restored" if report.noop else "restore committed")
    lines = [
        f"gapmend restore {report.run_id} — {head} in {report.seconds:.2f} s",
        f"inserted {t['inserted']}, linked {t['linked']}, updated {t['updated']}, deleted {t['deleted']}, "
        f"skipped {t['skipped']}, conflicts kept {t['conflicts_kept']}, already restored {t['already_done']}",
    ]
    if report.path:
        lines.append(f"rows travelled {report.path}")
    if report.triggers:
        lines.append("production's triggers suspended for the restore and created again (Friday's rows hold what "
                     "its own triggers wrote): " + ", ".join(report.triggers))
    if report.pulled_in:
        lines.append("pulled in as parents of approved tables: " + ", ".join(report.pulled_in))
    for name, r in report.tables.items():
        if not (r.inserted or r.updated or r.deleted or r.skipped or r.linked or r.conflicts_kept or r.conflicts_taken):
            continue
        lines.append("")
        # Ids are kept or moved only in tables with a surrogate id; a pivot's keys are its rows.
        ids = f" ({r.kept_ids} kept their id, {r.moved_count} moved)" if r.kept_ids or r.moved_count else ""
        lines.append(f"{name}: inserted {r.inserted}{ids}, "
                     f"updated {r.updated}, deleted {r.deleted}, conflicts kept {r.conflicts_kept}, taken {r.conflicts_taken}")
        if r.moved:
            lines.append("  moved: " + ", ".join(f"{a}→{b}" for a, b in r.moved[:20]) + (" …" if len(r.moved) > 20 else ""))
        for key, target in r.linked[:20]:
            lines.append(f"  linked: Friday {key} → production {target} (same unique key)")
        for key, why in r.skipped[:20]:
            lines.append(f"  skipped: {key}: {why}")
    return "\n".join(lines)


def write_report(report: RestoreReport, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = folder / f"restore-{report.started_at.replace(':', '').replace('+0000', 'Z')}-{report.run_id[:8]}"
    paths = (stem.with_suffix(".json"), stem.with_suffix(".txt"))
    for path, content in zip(paths, (json.dumps(to_dict(report), indent=2), render(report))):
        write_private(path, content + "\n")
    return paths
