"""One table's findings while it is inspected, kept in bounded memory."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..databases import journal
from ..plan.model import Conflict, Merge, RowClass
from .classify import Row

SAMPLES = 5
DETAIL_CAP = 500            # conflicts and merges kept per table in the plan (collisions, orphans: `preview`)


@dataclass
class Findings:
    """Accumulates one table's findings with bounded memory."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    conflicts: list[Conflict] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    truncated: bool = False
    ids_taken: int = 0
    restored: int = 0                                           # Friday rows a committed run restored
    restored_keys: set[str] = field(default_factory=set)       # their encoded keys (`gap._Inspector._restored`)
    written_keys: set[str] = field(default_factory=set)        # the production keys they were inserted under
    soft_deletes: int = 0                                       # Friday updates that set deleted_at

    def was_restored(self, key: Row) -> bool:
        if journal.encode(key) in self.restored_keys:
            self.restored += 1
            return True
        return False

    def add(self, cls: RowClass, key: Row, n: int = 1) -> None:
        self.counts[cls.value] += n
        if len(self.samples[cls.value]) < SAMPLES:
            self.samples[cls.value].append(key)

    def keep(self, bucket: list[Any], item: Any) -> None:
        if len(bucket) < DETAIL_CAP:
            bucket.append(item)
        else:
            self.truncated = True

