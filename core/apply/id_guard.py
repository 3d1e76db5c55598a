"""Keeping a forgotten writer (a cron job, a worker left running) from colliding with a
restore: nothing it commits is lost, and no id is handed out twice.

- `reserve_ids` (MariaDB, before the transaction, since it is DDL): each table's
  AUTO_INCREMENT moves past every id the restore may use, so a writer draws ids past ours;
  the counters `counters` read first are recorded and put back on every way out, commit,
  rollback or dry run (`leftovers`).
- `check_unchanged` (inside the transaction): production's highest ids must still be what
  the plan saw. On MariaDB the read locks the range past them until the commit, so a writer
  that comes later waits instead of slipping in; SQLite's writing connection takes the
  write lock at ``BEGIN IMMEDIATE`` (`dialects.sqlite`).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from ..databases import journal
from ..databases import rows as rowio
from ..databases.dialects import dialect_of
from ..databases.schema import KeyKind, Schema
from ..errors import GapmendError
from ..plan.model import Plan, RowClass


class ConcurrentWrite(GapmendError):
    title = "Production changed during the restore"


def counters(conn: Connection, schema: Schema, tables: list[str]) -> dict[str, int]:
    """Each integer-keyed table's AUTO_INCREMENT as it is now (MariaDB; SQLite's
    ``sqlite_sequence`` is transactional and needs no care). InnoDB never takes back an
    id it handed out, not even when the transaction that took it rolls back: a dry run
    or a failed restore would leave every counter moved past Friday's ids. The journal's
    own tables too: a restore that rolls back leaves no trace, not even there."""
    dialect = dialect_of(conn)
    if dialect.counters_transactional:
        return {}
    out: dict[str, int] = {}
    for name in [*(n for n in tables if schema[n].key_kind == KeyKind.SURROGATE), journal.ID_MAP, journal.RUNS]:
        counter = dialect.next_id(conn, name)
        if counter is not None:
            out[name] = counter
    conn.rollback()
    return out


def reserve_ids(conn: Connection, plan: Plan, schema: Schema, tables: list[str], before: dict[str, int]) -> None:
    """Move the counters of `before` (from `counters`) past every id the restore may use."""
    for name in tables:
        gap = plan.table(name)
        inserts = gap.counts.get(RowClass.FRIDAY_INSERT.value, 0)
        if name not in before or not inserts:
            continue
        reserve = max(gap.production_max_id or 0, gap.crashed_max_id or 0) + inserts + 1
        if before[name] < reserve:
            dialect_of(conn).set_next_id(conn, name, reserve)


def check_unchanged(conn: Connection, plan: Plan, schema: Schema, tables: list[str]) -> None:
    """Refuse when production's integer-keyed tables gained or lost rows at the top since
    the plan read their highest ids; the ids past it are locked first (``FOR UPDATE``), so
    no writer can add one before the commit."""
    guarded = [(plan.table(name), schema[name]) for name in tables]
    guarded = [(gap, t) for gap, t in guarded if t.key_kind == KeyKind.SURROGATE and gap.production_max_id is not None]
    newer = {}
    for gap, t in guarded:   # each its own locking read: the lock is what keeps writers out
        key = t.table.c[t.primary_key[0]]
        newer[t.name] = conn.execute(select(func.count()).where(key > gap.production_max_id).with_for_update()).scalar()
    now = rowio.highest_ids(conn, [t for _, t in guarded])
    for gap, t in guarded:
        if newer[t.name] or now[t.name] != gap.production_max_id:
            raise ConcurrentWrite(
                f"production's {t.name} was written since the plan (max id {gap.production_max_id} → {now[t.name]}): "
                "stop the writers (maintenance mode, workers, cron) and run the restore again")
