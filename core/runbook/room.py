"""How much the restore will write into production, and how much room its server has.

A full disk on production's server while the restore decides each Friday row rolls the
restore back, but the live application had only the last megabyte left meanwhile. The
plan and step 11 say beforehand what the restore will write, estimated from the plan
(the rows it inserts and updates, at crashed's bytes per row, indexes included; the
staged copies of Friday's rows; the work rows and the journal, per Friday row), and,
where this machine can see the server's data folder, how much room it has.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..databases.dialects import dialect_of
from ..databases.engines import open_engine
from ..plan.model import Plan, RowClass

# Per Friday row: its work row, its journal entry and its image for undo (a digest for
# integer keys), measured on MariaDB and SQLite; a row gapmend cannot size counts this much.
OWN_BYTES = 400
UNKNOWN_ROW_BYTES = 1_000
# Room to spare beyond the estimate: the estimate is one, and the live application writes too.
MARGIN = 2


@dataclass(frozen=True)
class Room:
    rows: int                     # Friday rows the restore inserts or updates
    row_bytes: int                # their estimated size in production
    work_bytes: int               # staged copies, work rows and the journal
    free: int | None              # bytes free where production keeps its data (None: not seen from here)
    where: str                    # that folder

    @property
    def needed(self) -> int:
        return self.row_bytes + self.work_bytes

    @property
    def short(self) -> bool:
        """Less room than the estimate's `MARGIN` times."""
        return self.free is not None and self.free < MARGIN * self.needed

    def line(self) -> str:
        said = (f"writes about {_size(self.needed)} into production: {self.rows:,} Friday rows "
                f"({_size(self.row_bytes)}), work tables and journal ({_size(self.work_bytes)}), estimated from the plan")
        if self.free is None:
            return said + "; production's free space cannot be seen from this machine: check it on the server"
        said += f"; {_size(self.free)} free in {self.where}"
        if self.short:
            said += f": LESS THAN {MARGIN}x THE ESTIMATE: make room before restoring"
        return said


def room(settings: Settings, plan: Plan, tables: list[str] | None = None, staged: bool = False) -> Room:
    """The estimate for `tables` of `plan` (default every table with Friday work)."""
    names = tables if tables is not None else [g.table for g in plan.tables]
    inserts = {n: plan.table(n).count(RowClass.FRIDAY_INSERT) for n in names}
    rows = {n: inserts[n] + plan.table(n).count(RowClass.FRIDAY_UPDATE) for n in names}
    busy = [n for n, r in rows.items() if r]
    crashed = open_engine(settings.crashed, "crashed")
    try:
        with crashed.connect() as conn:
            per_row = dialect_of(crashed).row_bytes(conn, busy)
    finally:
        crashed.dispose()
    row_bytes = int(sum(rows[n] * per_row.get(n, UNKNOWN_ROW_BYTES) for n in busy))
    staged_bytes = int(sum(inserts[n] * per_row.get(n, UNKNOWN_ROW_BYTES) for n in busy)) if staged else 0
    production = open_engine(settings.production, "production")
    try:
        with production.connect() as conn:
            free = dialect_of(production).free_bytes(conn)
    finally:
        production.dispose()
    return Room(sum(rows.values()), row_bytes, staged_bytes + OWN_BYTES * (sum(inserts.values()) + sum(rows.values())),
                free[0] if free else None, free[1] if free else "")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
