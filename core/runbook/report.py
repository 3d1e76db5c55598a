"""The restore report: readable text and JSON, written 0600 (it holds row keys and values)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import shown
from ..apply.reports import RestoreReport
from ..apply.undo_report import UndoReport
from ..apply.undo_report import render as render_undo
from ..plan.model import jsonable
from ..private_files import write_private
from .steps import STEPS, Checklist


def to_dict(report: RestoreReport) -> dict[str, Any]:
    data = jsonable(asdict(report))
    data["totals"] = report.totals()
    return data  # type: ignore[no-any-return]


def render_totals(report: RestoreReport) -> str:
    """The run's totals in one line, as the report and the log say them."""
    t = report.totals()
    return (f"inserted {t['inserted']}, linked {t['linked']}, updated {t['updated']}, deleted {t['deleted']}, "
            f"skipped {t['skipped']}, conflicts kept {t['conflicts_kept']}, already restored {t['already_done']}")


def render(report: RestoreReport) -> str:
    head = ("dry run, rolled back" if report.dry_run else
            "nothing to do: every Friday row is already restored" if report.noop else "restore committed")
    lines = [f"gapmend restore {report.run_id} — {head} in {report.seconds:.2f} s", render_totals(report)]
    if report.rebuilt:
        lines.append(REBUILT)
    if report.path:
        lines.append(f"rows travelled {report.path}")
    if report.triggers:
        lines.append("production's triggers suspended for the restore and created again (Friday's rows hold what "
                     "its own triggers wrote): " + ", ".join(report.triggers))
    if report.pulled_in:
        lines.append("pulled in as parents of approved tables: " + ", ".join(report.pulled_in))
    if report.approved_now:
        lines.append("restored while pending, on --approve-pending: " + ", ".join(report.approved_now))
    lines.extend(f"left out: {name} ({why})" for name, why in report.left_out.items())
    for name, r in report.tables.items():
        if not (r.inserted or r.updated or r.deleted or r.skipped or r.linked or r.conflicts_kept or r.conflicts_taken
                or r.payload_notes or r.not_picked):
            continue
        lines.append("")
        # Ids are kept or moved only in tables with a surrogate id; a pivot's keys are its rows.
        ids = f" ({r.kept_ids} kept their id, {r.moved_count} moved)" if r.kept_ids or r.moved_count else ""
        lines.append(f"{name}: inserted {r.inserted}{ids}, "
                     f"updated {r.updated}, deleted {r.deleted}, conflicts kept {r.conflicts_kept}, taken {r.conflicts_taken}")
        if r.moved:
            lines.append("  moved (Friday id → new id): " + ", ".join(f"{a}→{b}" for a, b in r.moved[:20])
                         + (" …" if len(r.moved) > 20 else ""))
        differ = dict(r.linked_values)
        for key, target in r.linked[:20]:
            lines.append(f"  linked: Friday id {shown.key(key)} → production's id {shown.key(target)} (same unique key)")
            if key in differ:
                friday = ", ".join(f"{c}={shown.value(f)} (production's {shown.value(p)})" for c, f, p in differ[key][:6])
                lines.append(f"    production's row stands; Friday had {friday}")
        for key, why in r.skipped[:20]:
            lines.append(f"  skipped: Friday id {shown.key(key)}: {why}")
        if r.not_picked:
            lines.append(f"  left out: {shown.plural(r.not_picked, 'Friday row')} the operator did not pick "
                         "(`gapmend jobs`)")
        if r.payload_ids:
            lines.append(f"  ids inside JSON values rewritten: {r.payload_ids} in {r.payload_rows} rows")
        lines.extend(f"  inside a value: {note}" for note in r.payload_notes[:20])
    lines += ["", *LEGEND]
    return "\n".join(lines)


REBUILT = ("rebuilt from production's journal after the run: conflicts production kept, triggers, row counts and "
           "ids inside values are not kept there")

# The report's words, said once at its end.
LEGEND = [
    "words: inserted: Friday's row written (moved: under a new id, production having taken its own); "
    "linked: production already held that row (the same unique key): Friday's references to it name production's; "
    "skipped: not written, and why; conflicts kept: rows both sides changed, production's standing; "
    "taken: Friday's values written where you chose them (`gapmend resolve`); "
    "already restored: written by an earlier run, not again.",
]


def write_report(report: RestoreReport, folder: Path) -> tuple[Path, Path, str | None]:
    """The report as JSON and text (0600) in `folder`; when that cannot be written (the
    restore has committed by now, so this must not fail) in a private folder under the
    temporary directory instead, with a line saying so as the third value."""
    return _write_pair(folder, f"restore-{_stamp(report.started_at)}-{report.run_id[:8]}",
                       json.dumps(to_dict(report), indent=2), render(report))


def write_undo_report(report: UndoReport, folder: Path) -> tuple[Path, Path, str | None]:
    """An undo's report, as `write_report` writes a restore's."""
    return _write_pair(folder, f"undo-{_stamp(report.started_at)}-{report.undo_id[:8]}",
                       json.dumps(report.to_dict(), indent=2), render_undo(report))


def _stamp(started_at: str) -> str:
    return started_at.replace(":", "").replace("+0000", "Z")


def _write_pair(folder: Path, stem: str, as_json: str, as_text: str) -> tuple[Path, Path, str | None]:
    try:
        return (*_write(folder, stem, as_json, as_text), None)
    except OSError as exc:
        fallback = Path(tempfile.gettempdir()) / f"gapmend-reports-{os.getuid()}"
        json_path, text_path = _write(fallback, stem, as_json, as_text)
        return json_path, text_path, (f"the reports folder {folder} cannot be written ({exc.strerror or exc}): "
                                      f"the report went to {text_path} instead")


def _write(folder: Path, stem: str, as_json: str, as_text: str) -> tuple[Path, Path]:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = ((folder / stem).with_suffix(".json"), (folder / stem).with_suffix(".txt"))
    for path, content in zip(paths, (as_json, as_text)):
        write_private(path, content + "\n")
    return paths


def latest_report(folder: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest report in `folder` of a restore that wrote rows (its name starts with
    the time)."""
    for path in sorted(folder.glob("restore-*.json"), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        # A dry run committed nothing, and a run that found nothing to do wrote nothing:
        # the restore to show is the one that wrote the rows.
        if not data.get("dry_run") and not data.get("noop"):
            return path.with_suffix(".txt"), data
    return None


def _ranges(numbers: list[int]) -> str:
    """``1-10, 12, 14``: sorted step numbers, runs joined."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def summary_title(checklist: Checklist) -> str:
    """The end of the run's title, true to the checklist: complete only when every step
    is done or skipped with a reason."""
    open_ = [s.number for s in STEPS if checklist.get(s.number).state in ("pending", "failed")]
    if not open_:
        return "The run is complete: every step done or skipped"
    return f"The run ended with {shown.plural(len(open_), 'step')} not done"


def run_summary(checklist: Checklist, reports: Path, log: Path) -> str:
    """The whole run in a few lines, for its end: the steps, what the restore did and
    left out, and where the report and the log are."""
    states = {s.number: checklist.get(s.number) for s in STEPS}
    done = [n for n, st in states.items() if st.state == "done"]
    lines = [f"{len(done)} of {len(STEPS)} steps done"]
    lines.extend(f"step {n} skipped: {st.reason}" for n, st in states.items() if st.state == "skipped")
    lines.extend(f"step {n} FAILED{': ' + st.reason if st.reason else ''}" for n, st in states.items() if st.state == "failed")
    pending = [n for n, st in states.items() if st.state == "pending"]
    if pending:
        lines.append(f"not done: {'step' if len(pending) == 1 else 'steps'} {_ranges(pending)}")
    found = latest_report(reports)
    if found is None:
        lines.append("no restore was committed in this run")
    else:
        text, data = found
        t = data["totals"]
        lines.append(f"restore {data['run_id'][:8]}: inserted {t['inserted']}, linked {t['linked']}, updated {t['updated']}, "
                     f"deleted {t['deleted']}, skipped {t['skipped']}, conflicts left as production's {t['conflicts_kept']}")
        lines.extend(f"left out: {name} ({why})" for name, why in data.get("left_out", {}).items())
        lines.append(f"report: {text}")
    lines.append(f"log: {log}")
    return "\n".join(lines)
