"""What the inspection found each table needs, as the restore and the plan's preview
collect it row by row (`Classified.sink`) and then write it (`table_writes`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping

from ..databases.schema import KeyKind, Schema, TableInfo
from ..inspect import cell_merge
from ..plan.decisions import Decisions
from ..plan.model import Merge, RowClass
from .reports import Key
from .spool import KeySpool


@dataclass
class Classified:
    """What the classification said each table needs: the keys of Friday's updates,
    deletes, conflicts and merges, and the spooled inserts of the tables without an
    integer key (an integer-keyed table's are found by the server past its boundary)."""

    updates: dict[str, list[Key]] = field(default_factory=lambda: defaultdict(list))
    deletes: dict[str, list[Key]] = field(default_factory=lambda: defaultdict(list))
    conflicts: dict[str, list[Key]] = field(default_factory=lambda: defaultdict(list))
    merges: dict[str, list[Key]] = field(default_factory=lambda: defaultdict(list))
    # The cell merge of each merged or conflicting row with something of Friday's to write
    # (`cell_merge.written`): table -> key -> the columns written.
    columns: dict[str, dict[Key, str]] = field(default_factory=lambda: defaultdict(dict))

    # Tables without an integer key: the server cannot find their Friday inserts past a
    # boundary, so the inspection's keys are spooled to disk and their rows staged from
    # it chunk by chunk (`ServerCopy.stage_rows`). The integer-keyed tables' inserts are
    # found by the server itself: their keys are not collected, so memory does not grow
    # with the gap.
    natural: frozenset[str] = frozenset()   # tables without an integer key
    spools: dict[str, KeySpool] = field(default_factory=dict)
    # Tables restored for some Friday rows only (`picks`): table -> the picked ids.
    picks: Mapping[str, frozenset[int]] = field(default_factory=dict)

    # The classes the restore acts on; the inspection need not stream the others.
    CLASSES = frozenset({RowClass.FRIDAY_INSERT, RowClass.FRIDAY_UPDATE, RowClass.FRIDAY_DELETE, RowClass.CONFLICT,
                         RowClass.MERGE})

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()

    def sink(self, table: str, cls: RowClass, key: Key, merge: Merge | None = None) -> None:
        chosen = self.picks.get(table)
        if chosen is not None and key[0] not in chosen:
            return
        if merge is not None:
            self.columns[table][key] = cell_merge.written(merge)
        if cls is RowClass.FRIDAY_INSERT:
            if table in self.natural:
                if table not in self.spools:   # not setdefault: a spool opens a file
                    self.spools[table] = KeySpool()
                self.spools[table].append(key)
            return
        bucket = {RowClass.FRIDAY_UPDATE: self.updates, RowClass.FRIDAY_DELETE: self.deletes,
                  RowClass.CONFLICT: self.conflicts, RowClass.MERGE: self.merges}[cls]
        bucket[table].append(key)

    def has_updates(self, t: TableInfo) -> bool:
        """Whether `t` has Friday updates (or conflicts) to stage: rows with a key and a
        column besides it (what `UpdateRules.apply_updates` writes)."""
        wanted = self.updates.get(t.name) or self.conflicts.get(t.name) or self.merges.get(t.name)
        return bool(t.primary_key and wanted and set(t.column_names) - set(t.identity))

    @classmethod
    def of(cls, schema: Schema, decisions: Decisions) -> Classified:
        """Empty buckets for `schema`'s tables, restored for the operator's picks only where
        there are picks."""
        surrogate = {n for n, t in schema.tables.items() if t.key_kind == KeyKind.SURROGATE}
        return cls(natural=frozenset(schema.tables) - surrogate,
                   picks={name: frozenset(ids) for name, ids in decisions.picked.items()})
