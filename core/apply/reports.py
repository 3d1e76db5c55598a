"""What a restore is asked to do (`RestoreOptions`) and what it did, per table and in
all (`TableReport`, `RestoreReport`): the data the console, the wizard and the report
file show."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..plan.file import Reviewed

Key = tuple[Any, ...]
REPORT_CAP = 10_000   # moved ids listed per table
LINKED_CAP = 50       # linked rows per table whose other values are compared for the report


class OnCollision(StrEnum):
    """A Friday row whose unique key production holds (``--collisions``)."""

    LINK = "link"   # linked to production's row: what names the Friday row names it
    SKIP = "skip"   # left out with what names it


class OnOrphan(StrEnum):
    """A Friday row naming a snapshot-range row production deleted (``--orphans``)."""

    SKIP = "skip"   # left out with what names it
    NULL = "null"   # the reference written NULL where the column allows it


@dataclass(frozen=True)
class RestoreOptions:
    tables: frozenset[str] | None = None      # restrict to these (their parents are pulled in)
    approve_pending: bool = False             # restore tables still pending as if approved (`selection`)
    collisions: OnCollision = OnCollision.LINK
    orphans: OnOrphan = OnOrphan.SKIP
    apply_deletes: bool = False
    dry_run: Path | None = None               # write the SQL here and roll back instead of committing
    per_table: bool = False                   # commit table by table (resumable) instead of once
    fail_after_batches: int | None = None     # tests: raise after the Nth write batch
    # Stage Friday's rows in production's database even where its connection could read
    # crashed's tables in place (`server_copy`).
    staged: bool = False
    # The plan the operator reviewed (`plan_file`): the restore refuses when what it
    # finds now differs from it.
    reviewed: Reviewed | None = None
    # With a reviewed plan whose delta holds, read only the tables Friday wrote and their
    # neighbours (`apply.scope`); False reads every table, as without a plan.
    scoped: bool = True
    # Rows both sides changed are merged by column where the operator said nothing of them
    # (``--merge-cells``); by default production's row stands (`Decisions.choice`).
    merge_cells: bool = False

    def __post_init__(self) -> None:   # the console passes its choices' words
        object.__setattr__(self, "collisions", OnCollision(self.collisions))
        object.__setattr__(self, "orphans", OnOrphan(self.orphans))


@dataclass
class TableReport:
    rows_before: int = 0
    rows_after: int = 0
    inserted: int = 0
    moved: list[tuple[Any, Any]] = field(default_factory=list)   # (old id, new id), the first REPORT_CAP
    moved_count: int = 0
    kept_ids: int = 0
    linked: list[tuple[Key, Key]] = field(default_factory=list)   # Friday key -> production key
    # Linked rows whose other columns differ (the first LINKED_CAP linked rows compared):
    # production's row stands, and these are Friday's values, (column, Friday's, production's).
    linked_values: list[tuple[Key, list[tuple[str, Any, Any]]]] = field(default_factory=list)
    updated: int = 0
    deleted: int = 0
    skipped: list[tuple[Key, str]] = field(default_factory=list)
    conflicts_kept: int = 0
    conflicts_taken: int = 0
    conflicts_merged: int = 0                 # conflicts whose other columns were merged (`cell_merge`)
    merged: int = 0                           # rows both sides changed in different columns, merged
    merges_kept: int = 0                      # ... kept as production has them (the operator's choice)
    already_done: int = 0
    payload_ids: int = 0                      # ids inside JSON values rewritten (`payload_rewrite`)
    payload_rows: int = 0                     # ... in this many rows
    payload_notes: list[str] = field(default_factory=list)   # ids left as they were, and why
    not_picked: int = 0                       # Friday rows left out: the operator picked others (`picks`)
    renumbered: int = 0                       # rows given a new number within a parent (`scoped_numbers`)


@dataclass
class RestoreReport:
    run_id: str
    started_at: str
    seconds: float
    tables: dict[str, TableReport]
    pulled_in: list[str]
    noop: bool
    dry_run: str | None = None        # the SQL file, when nothing was committed
    path: str = ""                    # where the server read Friday's rows: in place, or staged
    triggers: list[str] = field(default_factory=list)   # production's, suspended for the restore
    approved_now: list[str] = field(default_factory=list)   # pending tables restored on --approve-pending
    left_out: dict[str, str] = field(default_factory=dict)  # tables with work not written, and why
    rebuilt: bool = False             # from the journal after the run (`runbook.rebuilt`), not by the run

    def totals(self) -> dict[str, int]:
        t = self.tables.values()
        return {
            "inserted": sum(r.inserted for r in t), "linked": sum(len(r.linked) for r in t),
            "updated": sum(r.updated for r in t), "deleted": sum(r.deleted for r in t),
            "skipped": sum(len(r.skipped) for r in t), "conflicts_kept": sum(r.conflicts_kept for r in t),
            "merged": sum(r.merged for r in t), "conflicts_merged": sum(r.conflicts_merged for r in t),
            "already_done": sum(r.already_done for r in t),
        }
