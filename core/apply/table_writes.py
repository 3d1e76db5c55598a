"""One table's writes in a restore: Friday's inserts (staged and decided by the server
for tables without an integer key), its updates, its deletes on request, and the journal
lines for linked and skipped rows. `restore._Restoring` calls them in write order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import delete, select

from ..databases import journal, row_images
from ..databases import rows as rowio
from ..databases.schema import KeyKind, TableInfo
from ..inspect import cell_merge
from ..plan.decisions import Decisions
from ..plan.model import COLLIDED, RowClass
from ..progress import check_cancel
from .classified import Classified
from .reports import LINKED_CAP, Key, RestoreOptions, TableReport
from .server_copy import ServerCopy
from .work_tables import LINK, SKIP, UPDATE

DELETE_BATCH = 500   # keys per DELETE (and per reference lookup before it)


@dataclass
class TableWrites:
    """The writes of one restore, table by table, through its `server` (`ServerCopy`),
    of what the inspection found (`classified`)."""

    server: ServerCopy
    classified: Classified
    options: RestoreOptions
    decisions: Decisions
    reports: Mapping[str, TableReport]
    done_natural: dict[str, set[str]] = field(default_factory=dict)   # encoded keys a committed run restored
    staged: dict[str, int] = field(default_factory=dict)   # natural-keyed table -> Friday inserts staged (`stage_natural`)

    def __post_init__(self) -> None:
        context = self.server.context
        self.schema, self.graph, self.progress, self.cancel = context.schema, context.graph, context.progress, context.cancel
        self.crashed, self.production = context.crashed, context.production
        self.execute_set = context.execute   # one set-based statement, counted as a write batch

    def load_done(self, tables: list[str]) -> None:
        """Take out what a committed run already restored: Friday's updates and deletes it
        applied, and a keyed table's inserts (an integer-keyed table's: `SurrogateRules.fill`)."""
        if not journal.has_runs(self.production):
            return   # no committed run: nothing restored yet (asked once, not per table)
        for name in tables:
            done = journal.done_keys(self.production, name, None if name in self.classified.natural else ("updated", "deleted"))
            if not done:
                continue
            if name in self.classified.natural:   # its inserts are filtered as they are staged
                self.done_natural[name] = set(done)
            for bucket in (self.classified.updates, self.classified.deletes, self.classified.conflicts, self.classified.merges):
                keep = [k for k in bucket.get(name, []) if journal.encode(k) not in done]
                self.reports[name].already_done += len(bucket.get(name, [])) - len(keep)
                if name in bucket:
                    bucket[name] = keep

    def write_inserts(self, t: TableInfo, writer: journal.Writer) -> None:
        report = self.reports[t.name]
        if t.name in self.server.work:
            self.progress.start(f"{t.name}: copying server-side", None)
            report.inserted = self.server.surrogate_rules.copy(t.name)
            return
        if not self.has_staged(t):
            return
        report.inserted = self.server.natural_key_rules.copy(t.name)
        report.skipped += list(self.server.staged_skipped(t.name))
        for key, (holder, _) in self.server.natural_key_rules.linked(t.name).items():
            report.linked.append((key, holder))
            writer.add(t.name, key, holder, "linked", COLLIDED)
        report.linked_values = self._linked_values(t, report.linked)

    def staged_tables(self, order: Iterable[str]) -> list[str]:
        """The natural-keyed tables of `order` with Friday inserts staged, in that order."""
        return [name for name in order if self.staged.get(name)]

    def stage_natural(self, names: Iterable[str]) -> None:
        """The natural-keyed tables' spooled Friday inserts staged, before any fate is decided: a
        row naming a string-keyed parent is an orphan unless production or these rows
        hold that parent (`WorkTables.natural_parent_gone`)."""
        for name in names:
            if name in self.server.rows_work and name not in self.staged:
                self.staged[name] = 0
                for chunk in self._spooled_rows(self.schema[name]):
                    self.server.stage_rows(name, chunk)
                    self.staged[name] += len(chunk)

    def has_staged(self, t: TableInfo) -> bool:
        """Whether a natural-keyed table has staged Friday inserts (`stage_natural`), decided by the
        server with every other Friday row (`ServerCopy.decide`); False when there were
        none (then no statement runs for it: apps have many small tables)."""
        self.stage_natural([t.name])
        return bool(self.staged.get(t.name, 0))

    def _spooled_rows(self, t: TableInfo) -> Iterator[list[tuple[Any, ...]]]:
        """Friday's rows of `t`'s spooled keys, chunk by chunk, without those a committed
        run already restored (counted as already done)."""
        spool = self.classified.spools.get(t.name)
        if spool is None or not len(spool):
            return
        self.progress.start(f"{t.name}: staging", len(spool))
        done = self.done_natural.get(t.name, set())
        for keys in spool.chunks():
            check_cancel(self.cancel)
            pending = [k for k in keys if journal.encode(k) not in done] if done else keys
            self.reports[t.name].already_done += len(keys) - len(pending)
            yield from self._friday_rows(t, pending)
            self.progress.advance(len(keys))

    def _friday_rows(self, t: TableInfo, keys: list[Key]) -> Iterator[list[tuple[Any, ...]]]:
        """Friday's rows for `keys`, chunk by chunk: read from crashed in key order (each
        chunk a range of the index), or, where the key is the whole row (pivots, keyless
        tables), the keys themselves as they came (a work table's order is its key's)."""
        if tuple(t.identity) == tuple(t.column_names):
            for start in range(0, len(keys), rowio.CHUNK):
                yield [tuple(k) for k in keys[start : start + rowio.CHUNK]]
            return
        ordered = sorted(keys, key=rowio.sort_key)
        key_idx = [t.column_names.index(c) for c in t.identity]
        for start in range(0, len(ordered), rowio.CHUNK):
            chunk = ordered[start : start + rowio.CHUNK]
            found = {tuple(r[i] for i in key_idx): r for r in rowio.fetch_keys(self.crashed, t, t.identity, chunk)}
            yield [found[tuple(k)] for k in chunk if tuple(k) in found]

    def write_changes(self, t: TableInfo, writer: journal.Writer) -> None:
        """Updates, deletes (on request) and the journal lines for linked and skipped rows."""
        self._write_updates(t)
        if self.options.apply_deletes:
            self._write_deletes(t, writer)
        if t.name in self.server.work:
            report = self.reports[t.name]
            self.server.surrogate_rules.write_journal(t.name)
            for action, old, new, reason in self.server.fates(t.name, (SKIP, LINK)):
                if action == SKIP:
                    report.skipped.append(((old,), reason or ""))
                else:
                    report.linked.append(((old,), (new,)))
            report.linked_values = self._linked_values(t, report.linked)

    def _linked_values(self, t: TableInfo, linked: list[tuple[Key, Key]]) -> list[tuple[Key, list[tuple[str, Any, Any]]]]:
        """Of the first linked rows of `t`, those whose values besides the key and the
        references differ from the production row they are linked to: production's row
        stands (a conflict under the rule), and the report lists Friday's values."""
        pairs = linked[:LINKED_CAP]
        if not pairs:
            return []
        references = {c for e in self.graph.edges_from(t.name) for c in e.columns}
        columns = [(i, c) for i, c in enumerate(t.column_names) if c not in t.identity and c not in references]
        key_idx = [t.column_names.index(k) for k in t.identity]
        friday = {tuple(r[i] for i in key_idx): r for r in rowio.fetch_keys(self.crashed, t, t.identity, [k for k, _ in pairs])}
        held = {tuple(r[i] for i in key_idx): r for r in rowio.fetch_keys(self.production, t, t.identity, [p for _, p in pairs])}
        out = []
        for old, new in pairs:
            f, p = friday.get(tuple(old)), held.get(tuple(new))
            if f is None or p is None:
                continue
            differ = [(c, f[i], p[i]) for i, c in columns if f[i] != p[i]]
            if differ:
                out.append((old, differ))
        return out

    def _write_updates(self, t: TableInfo) -> None:
        """Friday's updates (and the conflicts the operator took Friday's side of), staged
        and then decided, mapped and applied by the server (`UpdateRules.apply_updates`)."""
        later = self.stage_updates(t)
        if later is None:
            return
        report = self.reports[t.name]
        report.updated = self.server.update_rules.apply_updates(t.name, later)
        report.skipped += [(key, "update not applied: " + why) for key, why in self.server.staged_skipped(t.name, UPDATE)]

    def stage_updates(self, t: TableInfo) -> frozenset[str] | None:
        """Friday's updates of `t` and the rows both sides changed that the operator's
        choice (or the cell merge) writes, staged in its work table; returns the
        timestamp columns written only where Friday's is the later (`cell_merge`), or
        None when there is nothing to stage."""
        report = self.reports[t.name]
        keys = list(self.classified.updates.get(t.name, []))
        columns: dict[Key, str] = {}   # merged by column: the columns written
        for cls, key in self._both_changed(t.name):
            choice = self.decisions.choice(t.name, journal.encode(key), self.options.merge_cells)
            merge = self.classified.columns[t.name].get(key)
            if choice == "friday":   # the whole row from Friday
                keys.append(key)
                report.conflicts_taken += 1
            elif choice == "production" or merge is None:
                report.conflicts_kept += cls is RowClass.CONFLICT
                report.merges_kept += cls is RowClass.MERGE
            else:
                keys.append(key)
                columns[key] = merge
                report.merged += cls is RowClass.MERGE
                report.conflicts_merged += cls is RowClass.CONFLICT
        if not keys or t.name not in self.server.updates:   # no column to write (`Classified.has_updates`)
            return None
        self.progress.start(f"{t.name}: applying Friday's updates", len(keys))
        if self.server.stages_by_key(t.name):
            self.server.stage_by_key(t.name, keys, columns, self.progress.advance)
        else:
            for chunk in self._friday_rows(t, keys):
                check_cancel(self.cancel)
                self.server.stage_rows(t.name, chunk, UPDATE, columns)
                self.progress.advance(len(chunk))
        return frozenset().union(*(cell_merge.later_columns(mask) for mask in columns.values()))

    def _both_changed(self, table: str) -> Iterator[tuple[RowClass, Key]]:
        """The rows both sides changed: conflicts, and rows merged by column."""
        for cls, bucket in ((RowClass.CONFLICT, self.classified.conflicts), (RowClass.MERGE, self.classified.merges)):
            for key in bucket.get(table, []):
                yield cls, key

    def _write_deletes(self, t: TableInfo, writer: journal.Writer) -> None:
        """Friday's deletes of rows no production row references, by one ``DELETE`` per
        batch of keys; the referenced ones are skipped and said so."""
        keys = self.classified.deletes.get(t.name, [])
        if not keys or not t.primary_key:
            return
        report = self.reports[t.name]
        cols = [t.table.c[c] for c in t.identity]
        for start in range(0, len(keys), DELETE_BATCH):
            check_cancel(self.cancel)
            batch = keys[start : start + DELETE_BATCH]
            referenced = self._referenced(t, batch)
            doomed = [key for key in batch if key not in referenced]
            for key in batch:
                if key in referenced:
                    report.skipped.append((key, "delete not applied: production rows reference it"))
                    writer.add(t.name, key, None, "skipped", "delete: referenced by production rows")
            if not doomed:
                continue
            before = list(rowio.fetch_keys(self.production, t, t.identity, doomed))   # for `undo`
            row_images.keep(self.production, writer.run_id, t, journal.BEFORE, before)
            report.deleted += self.execute_set(delete(t.table).where(rowio.key_condition(cols, doomed)))
            for key in doomed:
                writer.add(t.name, key, None, "deleted")

    def _referenced(self, t: TableInfo, keys: list[Key]) -> set[Key]:
        """The keys of `keys` some production row references (only integer keys are referenced)."""
        if t.key_kind != KeyKind.SURROGATE:
            return set()
        ids = [k[0] for k in keys]
        out: set[Key] = set()
        for edge in self.graph.edges_to(t.name):
            child = self.schema[edge.child].table
            col = child.c[edge.columns[0]]
            cond = [col.in_(ids), *edge.type_filter(child)]
            out |= {(v,) for v in self.production.execute(select(col).distinct().where(*cond)).scalars()}
        return out
