"""Take a restore back after the app is live again, leaving what production did since.

Step 13 may find a problem only after step 15, when users have written again; the backup
would throw their writes away. The journal knows what the restore did and keeps each row
as the restore left it and, for the rows it updated or deleted, as it was before
(`row_images`). ``gapmend undo`` puts that back, one transaction, in four moves:

1. **Judge each row by its image.** A row the restore inserted is removed, one it updated
   is put back, one it deleted is inserted again, only where production has not touched
   it since: its current values equal the image of what the restore wrote (and, for a
   delete, no row holds its key again). A row production changed is left and listed,
   unless the operator forces its table (``--force-table``).
2. **Keep what production uses.** A row to remove that a production row references (by
   any edge of the reference graph: declared, implied, polymorphic) is left, with who
   references it; the restore's own rows removed together do not count. Repeated until
   nothing changes, so a left child keeps its parent too. Forcing never removes these.
3. **Write**, with foreign-key checks off for the session (cycles), then check that no
   reference points at a removed row; any failure rolls everything back.
4. **Journal**: the entries taken back become ``undone`` / ``reverted`` / ``reinserted``
   (not final: a later restore brings those Friday rows back, so an undo of an undo is a
   restore again), and the undo is a run of its own. A second undo finds nothing to do.

Rows are read with ``FOR UPDATE`` on MariaDB, so a user's edit of a row undo is judging
waits for its commit; SQLite's writer lock does the same for the whole file.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from ..config import Settings
from ..databases import journal, row_images
from ..databases import rows as rowio
from ..databases.dialects import dialect_of
from ..databases.engines import WRITER, open_engine, translate
from ..databases.schema import KeyKind, Schema, TableInfo, reflect
from ..errors import GapmendError
from ..inspect.graph import Edge, ReferenceGraph, build_graph, graph_decisions
from ..plan.decisions import Decisions
from ..progress import NullProgress, Progress
from .exclusive import only_restore
from .sql_recorder import SqlRecorder
from .undo_report import Key, UndoOptions, UndoReport, UndoTable

CHUNK = 500   # keys per lookup, DELETE and UPDATE
UNDONE = {"inserted": "undone", "updated": "reverted", "deleted": "reinserted"}


class UndoError(GapmendError):
    title = "Undo failed"


_ROLLED_BACK = "the undo was rolled back: production is as it was"


def undo(settings: Settings, decisions: Decisions, options: UndoOptions = UndoOptions(),
         progress: Progress | None = None) -> UndoReport:
    """Take back restore `options.run_id` (default the latest); see the module docstring."""
    started = time.monotonic()
    engine = open_engine(settings.production, "production", readonly=False)
    try:
        with only_restore(engine), engine.connect() as conn:
            conn.execution_options(**{WRITER: True})
            report = _Undo(conn, settings, decisions, options, progress or NullProgress()).run()
    except DBAPIError as exc:
        raise UndoError(f"{translate(exc, 'production', settings.production).message}; {_ROLLED_BACK}") from None
    except KeyboardInterrupt:
        raise UndoError(f"interrupted; {_ROLLED_BACK}") from None
    finally:
        engine.dispose()
    report.seconds = round(time.monotonic() - started, 3)
    return report


@dataclass
class _Table:
    """One table's part of the undo: encoded key -> what to do with that row."""

    remove: dict[str, Key] = field(default_factory=dict)          # inserted rows to delete
    revert: dict[str, dict[str, Any]] = field(default_factory=dict)   # updated rows: their before-image
    reinsert: dict[str, dict[str, Any]] = field(default_factory=dict)  # deleted rows: their before-image
    taken: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # action -> keys taken back


@dataclass
class _Undo:
    conn: Connection
    settings: Settings
    decisions: Decisions
    options: UndoOptions
    progress: Progress
    # (table, action, encoded key) -> the journal entries' own ids: marked undone by them,
    # since no index of the journal leads from a production key to its entries.
    entries: dict[tuple[str, str, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    def run(self) -> UndoReport:
        run_id = self._pick_run()
        schema = reflect(self.conn.engine, "production")
        graph = build_graph(schema, [self.conn], graph_decisions(self.decisions, self.settings.app_aliases))
        tables = self._tables(run_id, schema)
        self.conn.rollback()
        report = UndoReport(str(uuid.uuid4()), run_id, _now().isoformat(), {n: UndoTable() for n in tables},
                            dry_run=str(self.options.dry_run) if self.options.dry_run else None)
        dialect = dialect_of(self.conn)
        dialect.foreign_key_checks(self.conn, False)   # before the transaction: MariaDB commits here
        recorder = SqlRecorder(self.conn, self.options.dry_run, "undo") if self.options.dry_run else None
        try:
            with self.conn.begin() as trans:
                if recorder is not None:
                    recorder.start()
                try:
                    work = {name: self._judge(run_id, schema[name], report.tables[name]) for name in tables}
                    self.progress.start("leaving the rows production's rows reference", None)
                    self._keep_referenced(schema, graph, work, report)
                    for name in tables:
                        self.progress.start(f"{name}: taking the restore's rows back", None)
                        self._write(schema[name], work[name], report.tables[name])
                    self.progress.start("checking no row references a removed one", None)
                    self._check_unreferenced(schema, graph, work)
                    self.progress.start("marking the journal's entries undone", None)
                    self._journal(run_id, report, work)
                finally:
                    if recorder is not None:
                        recorder.stop()
                if recorder is not None:
                    trans.rollback()
        finally:
            self.conn.rollback()
            dialect.foreign_key_checks(self.conn, True)
        return report

    # -- which restore, which tables --

    def _pick_run(self) -> str:
        if not self.conn.dialect.has_table(self.conn, journal.RUNS):
            raise UndoError("production has no gapmend journal: no restore wrote to this database "
                            "(check --env-file: is this the production you restored?)")
        runs = journal.runs
        stmt = select(runs.c.run_id, runs.c.status).where(runs.c.status.in_(journal.COUNTING))
        if self.options.run_id is not None:
            found = self.conn.execute(stmt.where(runs.c.run_id == self.options.run_id)).first()
            if found is None:
                raise UndoError(f"no committed restore {self.options.run_id} in this database's journal: "
                                "`gapmend investigate` lists the runs; leave out --run for the latest")
        else:   # the latest restore that wrote a row (one that found nothing to do is no candidate);
            # its rows already taken back count, so that a second undo does nothing
            m = journal.id_map
            wrote = select(m.c.id).where(m.c.run_id == runs.c.run_id,
                                         m.c.action.in_([*UNDONE, *UNDONE.values()])).exists()
            # Two runs started in one second (the journal keeps whole seconds): the later
            # journal lines are the later run's.
            last_line = select(func.max(m.c.id)).where(m.c.run_id == runs.c.run_id).scalar_subquery()
            found = self.conn.execute(stmt.where(wrote).order_by(runs.c.started_at.desc(), last_line.desc())
                                      .limit(1)).first()
            if found is None:
                raise UndoError("no restore in this database's journal wrote a row: nothing to undo")
        run_id = str(found[0])
        if not self.conn.dialect.has_table(self.conn, journal.IMAGES) or self.conn.execute(
                select(journal.images.c.id).where(journal.images.c.run_id == run_id).limit(1)).first() is None:
            if self._entries_of(run_id):
                raise UndoError(f"restore {run_id} kept no row images (a gapmend before undo existed wrote it): "
                                "it cannot be taken back row by row; the backup taken before it can")
        return run_id

    def _entries_of(self, run_id: str) -> list[str]:
        m = journal.id_map
        return sorted(self.conn.execute(select(m.c.table_name).distinct().where(
            m.c.run_id == run_id, m.c.action.in_(list(UNDONE)))).scalars())

    def _tables(self, run_id: str, schema: Schema) -> list[str]:
        written = self._entries_of(run_id)
        missing = [n for n in written if n not in schema]
        if missing:
            raise UndoError(f"restore {run_id} wrote {', '.join(missing)}, which production no longer has: "
                            "undo the other tables with --tables")
        wanted = self.options.tables
        if wanted is not None:
            unknown = sorted(wanted - set(written))
            if unknown:
                raise UndoError(f"restore {run_id} wrote nothing in {', '.join(unknown)}: "
                                f"it wrote {', '.join(written) or 'no table'}")
        unknown_forced = sorted(self.options.force_tables - set(written))
        if unknown_forced:
            raise UndoError(f"--force-table {', '.join(unknown_forced)}: restore {run_id} wrote nothing there")
        return [n for n in written if wanted is None or n in wanted]

    # -- 1. judging each row by its image --

    def _judge(self, run_id: str, t: TableInfo, report: UndoTable) -> _Table:
        """What to take back in `t`: the rows whose current image is the restore's."""
        actions = self._actions(run_id, t.name)
        after = self._images(run_id, t.name, journal.AFTER)
        digests = self._images(run_id, t.name, journal.DIGEST)
        before = self._images(run_id, t.name, journal.BEFORE)
        force = t.name in self.options.force_tables
        work = _Table()
        # Looked up by the images' own values where there are some: the journal's keys
        # spell dates as text. A table keyed by integers has its digests' keys.
        typed = {key: journal.decode(key) or () for key in digests}
        typed |= {key: tuple(values[c] for c in t.identity)
                  for key, values in ((k, row_images.decode(i)) for k, i in (after | before).items())}
        current, copies, prints = self._current(t, list(typed.values()))
        restored_copies = Counter(k for k, action in actions.items() if action == "inserted")
        self.progress.start(f"{t.name}: judging the restore's rows", len(actions))
        for key, action in actions.items():
            row = current.get(key)
            decoded = typed.get(key) or journal.decode(key) or ()
            if key not in typed:
                report.keep(decoded, "no image of it in the journal")
                continue
            if t.key_kind == KeyKind.NONE and copies[key] > restored_copies[key]:
                report.keep(decoded, "production holds an identical row (a table without a key): "
                                     "undo cannot tell the restore's copy from production's")
                continue
            if action == "deleted":
                if row is not None:
                    report.keep(decoded, "production holds a row under this key again")
                elif key not in before:
                    report.keep(decoded, "no image of the row as it was (it cannot be inserted again)")
                else:
                    work.reinsert[key] = row_images.decode(before[key])
                continue
            if row is None:
                if action == "inserted":
                    report.gone += 1
                    work.taken[action].append(key)
                else:
                    report.keep(decoded, "production deleted it since")
                continue
            if (key not in after and key not in digests) or (action == "updated" and key not in before):
                report.keep(decoded, "no image of it as the restore left it")
                continue
            changed = (prints[key] != digests[key] if key in digests
                       else row_images.encode(t.column_names, row) != after[key])
            if changed and not force:
                report.keep(decoded, "production changed it since the restore")
                continue
            report.forced += changed
            if action == "inserted":
                work.remove[key] = decoded
            else:
                work.revert[key] = row_images.decode(before[key])
        self.progress.advance(len(actions))
        return work

    def _actions(self, run_id: str, table: str) -> dict[str, str]:
        """Encoded production key -> what `run_id` did there (inserted, updated, deleted)."""
        m = journal.id_map
        rows = self.conn.execute(select(m.c.id, m.c.old_key, m.c.new_key, m.c.action).where(
            m.c.run_id == run_id, m.c.table_name == table, m.c.action.in_(list(UNDONE))))
        out = {}
        for entry, old, new, action in rows:
            key = new if action != "deleted" else old
            out[key] = action
            self.entries[(table, action, key)].append(entry)
        return out

    def _images(self, run_id: str, table: str, kind: str) -> dict[str, str]:
        return {key: image for page in row_images.read(self.conn, run_id, table, kind) for key, image in page}

    def _current(self, t: TableInfo, keys: Sequence[Key]) -> tuple[dict[str, tuple[Any, ...]], Counter[str],
                                                                      dict[str, str]]:
        """The rows of `t` under `keys` as production holds them now, locked until the
        commit, by encoded key; how many rows hold each key (a table without one may hold
        identical rows); and each row's fingerprint (`row_images.fingerprint`)."""
        cols = [t.table.c[c] for c in t.identity]
        at = [t.column_names.index(c) for c in t.identity]
        out: dict[str, tuple[Any, ...]] = {}
        copies: Counter[str] = Counter()
        prints: dict[str, str] = {}
        fingerprint = row_images.fingerprint(self.conn, t)
        for start in range(0, len(keys), CHUNK):
            stmt = (select(*(t.table.c[c] for c in t.column_names), fingerprint)
                    .where(rowio.key_condition(cols, list(keys[start:start + CHUNK]))).with_for_update())
            for *row, digest in self.conn.execute(stmt):
                key = journal.encode([row[i] for i in at])
                copies[key] += 1
                out[key], prints[key] = tuple(row), digest
        return out, copies, prints

    # -- 2. keeping what production uses --

    def _keep_referenced(self, schema: Schema, graph: ReferenceGraph, work: dict[str, _Table],
                         report: UndoReport) -> None:
        """Leave every row to remove that a row staying in production references."""
        changed = True
        while changed:
            changed = False
            for name, part, edge in _edges_into_removed(schema, graph, work):
                child = work.get(edge.child, _Table())
                for parent_id, child_key in self._referencing(schema[edge.child], edge, list(part.remove.values())):
                    encoded_child = journal.encode(child_key)
                    if encoded_child in child.remove:   # removed together
                        continue
                    image = child.revert.get(encoded_child)
                    if image is not None and _as_id(image.get(edge.columns[0])) != parent_id:
                        continue   # put back as it was, it no longer points here
                    if part.remove.pop(journal.encode((parent_id,)), None) is not None:
                        report.tables[name].keep((parent_id,), f"{edge.child} {list(child_key)} references it "
                                                 f"({edge.id})")
                        changed = True

    def _referencing(self, child: TableInfo, edge: Edge, keys: list[Key]) -> Iterator[tuple[Any, Key]]:
        """(parent id, child key) of the rows of `child` whose `edge` points at one of `keys`."""
        col = child.table.c[edge.columns[0]]
        ident = [child.table.c[c] for c in child.identity]
        ids = [k[0] for k in keys]
        for start in range(0, len(ids), CHUNK):
            stmt = select(col, *ident).where(col.in_(ids[start:start + CHUNK]), *edge.type_filter(child.table))
            for value, *key in self.conn.execute(stmt):
                yield _as_id(value), tuple(key)

    # -- 3. writing --

    def _write(self, t: TableInfo, part: _Table, report: UndoTable) -> None:
        cols = [t.table.c[c] for c in t.identity]
        removed = list(part.remove.items())
        for start in range(0, len(removed), CHUNK):
            batch = removed[start:start + CHUNK]
            report.removed += int(self.conn.execute(
                delete(t.table).where(rowio.key_condition(cols, [k for _, k in batch]))).rowcount)
        part.taken["inserted"] += [k for k, _ in removed]
        columns = [c for c in t.column_names if c not in t.identity]
        reverted = list(part.revert.items())
        if reverted and columns:
            dialect = dialect_of(self.conn)
            for start in range(0, len(reverted), CHUNK):
                rows = [image for _, image in reverted[start:start + CHUNK]]
                dialect.update_rows(self.conn, t.table, t.identity, columns, rows, self._execute)
        report.reverted += len(reverted)
        part.taken["updated"] += [k for k, _ in reverted]
        reinserted = list(part.reinsert.items())
        for start in range(0, len(reinserted), CHUNK):
            self._execute(insert(t.table), [image for _, image in reinserted[start:start + CHUNK]])
        report.reinserted += len(reinserted)
        part.taken["deleted"] += [k for k, _ in reinserted]

    def _execute(self, stmt: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            rowio.execute_rows(self.conn, stmt, rows)

    def _check_unreferenced(self, schema: Schema, graph: ReferenceGraph, work: dict[str, _Table]) -> None:
        """No reference may point at a removed row (a user's insert since step 2 included)."""
        for name, part, edge in _edges_into_removed(schema, graph, work):
            found = next(self._referencing(schema[edge.child], edge, list(part.remove.values())), None)
            if found is not None:
                raise UndoError(f"{edge.child} {list(found[1])} points at {name} {found[0]}, which undo removed "
                                f"({edge.id}): nothing was changed; run undo again")

    # -- 4. the journal --

    def _journal(self, run_id: str, report: UndoReport, work: dict[str, _Table]) -> None:
        m = journal.id_map
        for name, part in work.items():
            for action, keys in part.taken.items():
                ids = [entry for key in keys for entry in self.entries[(name, action, key)]]
                for start in range(0, len(ids), CHUNK):
                    self.conn.execute(update(m).where(m.c.id.in_(ids[start:start + CHUNK])).values(
                        action=UNDONE[action], detail=func.substr(f"undone by {report.undo_id}", 1, 255)))
        t = report.totals()
        summary = (f"undo of {run_id}: removed {t['removed']}, reverted {t['reverted']}, "
                   f"reinserted {t['reinserted']}, gone {t['gone']}, left {t['kept']}")
        self.conn.execute(insert(journal.runs).values(run_id=report.undo_id, started_at=_now(), finished_at=_now(),
                                                      status=journal.UNDO, summary=summary))


def _edges_into_removed(schema: Schema, graph: ReferenceGraph,
                        work: dict[str, _Table]) -> Iterator[tuple[str, _Table, Edge]]:
    """(table, its part, an edge into it) for every table with rows to remove: only
    integer-keyed rows are referenced, by one column."""
    for name, part in work.items():
        if part.remove and schema[name].key_kind == KeyKind.SURROGATE:
            yield from ((name, part, edge) for edge in graph.edges_to(name) if len(edge.columns) == 1)


def _as_id(value: Any) -> Any:
    """A reference value as the parent's integer id (implied edges may hold '42')."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
