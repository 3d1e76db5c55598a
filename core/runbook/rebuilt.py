"""A restore's report, rebuilt from production's journal (``gapmend report [RUN]``).

The report file is written after the commit, into gapmend's own folder; the journal is
written inside the restore's transaction, beside the rows. When the file was lost (a full
disk, a machine gone) the journal still says, per table, what the run inserted (and under
which id), linked, updated, deleted and skipped, and why: everything but what it never
keeps (conflicts production kept, triggers, ids inside values), which the report says (`report.REBUILT`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from ..apply.reports import REPORT_CAP, RestoreReport, TableReport
from ..config import Settings
from ..databases import journal
from ..databases.engines import open_engine
from ..errors import GapmendError

_LISTED = 1_000   # linked and skipped rows listed per table


def rebuild(settings: Settings, run: str | None = None) -> RestoreReport:
    """The report of the run whose id starts with `run` (None: the last one that wrote rows)."""
    engine = open_engine(settings.production, "production")
    try:
        with engine.connect() as conn:
            run_id, started, finished = _the_run(conn, run)
            report = RestoreReport(run_id, started.replace(tzinfo=timezone.utc).isoformat(), _seconds(started, finished), {}, [], noop=False,
                                   rebuilt=True)
            for table in _tables(conn, run_id):
                report.tables[table] = _table(conn, run_id, table)
            return report
    finally:
        engine.dispose()


def _the_run(conn: Connection, run: str | None) -> tuple[str, datetime, datetime | None]:
    if not journal.kept(conn):
        raise GapmendError("production keeps no journal: no restore has committed there, so there is no report to "
                           "rebuild")
    runs = journal.runs
    if run is None:
        last = journal.last_writing_run(conn)
        if last is None:
            raise GapmendError("no restore that wrote rows is in production's journal: name a run (`gapmend report RUN`)")
        run = last.run_id
    found = conn.execute(select(runs.c.run_id, runs.c.started_at, runs.c.finished_at)
                         .where(runs.c.run_id.startswith(run), runs.c.status.in_(journal.COUNTING))
                         .order_by(runs.c.started_at)).all()
    if len(found) != 1:
        known = conn.execute(select(runs.c.run_id).where(runs.c.status.in_(journal.COUNTING))
                             .order_by(runs.c.started_at.desc()).limit(5)).scalars().all()
        what = "no committed restore" if not found else f"{len(found)} runs"
        raise GapmendError(f"{what} in production's journal has an id starting {run!r}: name one of "
                           f"{', '.join(r[:8] for r in known) or 'none'} (`gapmend report RUN`)")
    run_id, started, finished = found[0]
    return run_id, started, finished


def _seconds(started: datetime, finished: datetime | None) -> float:
    return round((finished - started).total_seconds(), 3) if finished else 0.0


def _tables(conn: Connection, run_id: str) -> list[str]:
    m = journal.id_map
    return list(conn.execute(select(m.c.table_name).where(m.c.run_id == run_id).group_by(m.c.table_name)
                             .order_by(func.min(m.c.id))).scalars())


def _table(conn: Connection, run_id: str, table: str) -> TableReport:
    m = journal.id_map
    mine = and_(m.c.run_id == run_id, m.c.table_name == table)
    counts: dict[str, int] = {a: n for a, n in conn.execute(select(m.c.action, func.count()).where(mine)
                                                             .group_by(m.c.action))}
    r = TableReport(inserted=counts.get("inserted", 0), updated=counts.get("updated", 0),
                    deleted=counts.get("deleted", 0), renumbered=counts.get(journal.RENUMBERED, 0))
    if _integer_keyed(conn, mine):   # elsewhere a key is the row's values, mapped references among them
        moved = and_(mine, m.c.action == "inserted", m.c.old_key != m.c.new_key)
        r.moved_count = conn.execute(select(func.count()).where(moved)).scalar_one()
        r.moved = [(_one(old), _one(new)) for old, new in
                   conn.execute(select(m.c.old_key, m.c.new_key).where(moved).order_by(m.c.id).limit(REPORT_CAP))]
        r.kept_ids = r.inserted - r.moved_count
    r.linked = [(journal.decode(old) or (), journal.decode(new) or ()) for old, new in conn.execute(
        select(m.c.old_key, m.c.new_key).where(mine, m.c.action == "linked").order_by(m.c.id).limit(_LISTED))]
    r.skipped = [(journal.decode(old) or (), why or "") for old, why in conn.execute(
        select(m.c.old_key, m.c.detail).where(mine, m.c.action == "skipped").order_by(m.c.id).limit(_LISTED))]
    return r


def _one(encoded: str | None) -> object:
    key = journal.decode(encoded) or ()
    return key[0] if len(key) == 1 else key


def _integer_keyed(conn: Connection, mine: ColumnElement[bool]) -> bool:
    """Whether the table's rows are named by one integer id (kept or moved means something)."""
    m = journal.id_map
    sample = conn.execute(select(m.c.old_key).where(mine, m.c.action == "inserted").limit(1)).scalar()
    key = journal.decode(sample) or ()
    return len(key) == 1 and isinstance(key[0], int)
