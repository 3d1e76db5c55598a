"""What an undo did, table by table, and the rows it left because production uses them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Key = tuple[Any, ...]
KEPT_CAP = 200   # kept rows listed per table in the report (all of them are counted)


@dataclass(frozen=True)
class UndoOptions:
    run_id: str | None = None                 # default: the latest committed restore
    tables: frozenset[str] | None = None      # default: every table the restore wrote
    force_tables: frozenset[str] = frozenset()   # take back rows production changed since, here
    dry_run: Path | None = None               # write the SQL here and change nothing


@dataclass
class UndoTable:
    removed: int = 0      # rows the restore inserted, deleted again
    reverted: int = 0     # rows it updated, put back as they were before it
    reinserted: int = 0   # rows it deleted (--apply-deletes), inserted again
    gone: int = 0         # rows it inserted that production has deleted since
    forced: int = 0       # of the above, rows production had changed (--force-table)
    kept: int = 0         # rows left as they are, for the reasons listed
    kept_rows: list[tuple[Key, str]] = field(default_factory=list)

    def keep(self, key: Key, why: str) -> None:
        self.kept += 1
        if len(self.kept_rows) < KEPT_CAP:
            self.kept_rows.append((key, why))


@dataclass
class UndoReport:
    undo_id: str
    run_id: str          # the restore taken back
    started_at: str
    tables: dict[str, UndoTable]
    seconds: float = 0.0
    dry_run: str | None = None

    def totals(self) -> dict[str, int]:
        names = ("removed", "reverted", "reinserted", "gone", "forced", "kept")
        return {n: sum(getattr(t, n) for t in self.tables.values()) for n in names}

    @property
    def noop(self) -> bool:
        t = self.totals()
        return not (t["removed"] or t["reverted"] or t["reinserted"] or t["gone"])

    def to_dict(self) -> dict[str, Any]:
        return {"undo_id": self.undo_id, "run_id": self.run_id, "started_at": self.started_at,
                "seconds": self.seconds, "dry_run": self.dry_run, "noop": self.noop, "totals": self.totals(),
                "tables": {name: {**asdict(t), "kept_rows": [[list(k), why] for k, why in t.kept_rows]}
                           for name, t in self.tables.items()}}


def render(report: UndoReport) -> str:
    """The undo as the operator reads it: one line per table, then every row it left."""
    t = report.totals()
    head = "dry run: " if report.dry_run else ""
    lines = [f"{head}undo of restore {report.run_id}: removed {t['removed']}, put back {t['reverted']}, "
             f"inserted again {t['reinserted']}, already gone {t['gone']}, left {t['kept']}"
             + (f" (forced {t['forced']})" if t["forced"] else "")]
    if report.noop and not t["kept"]:
        lines.append("nothing to undo: this restore was already taken back")
    for name, r in report.tables.items():
        lines.append(f"  {name:<24} removed {r.removed:>6}  put back {r.reverted:>6}  inserted again {r.reinserted:>5}"
                     f"  gone {r.gone:>5}  left {r.kept:>5}")
    for name, r in report.tables.items():
        for key, why in r.kept_rows:
            lines.append(f"  left {name} {list(key)}: {why}")
        if r.kept > len(r.kept_rows):
            lines.append(f"  left {r.kept - len(r.kept_rows)} more rows of {name} (the JSON report counts them)")
    if t["kept"]:
        lines.append("the rows left are production's now; to take one table's back anyway: "
                     "gapmend undo --force-table TABLE (rows production rows reference are never removed)")
    return "\n".join(lines)
