"""The restore's journal: what was restored, kept in PRODUCTION beside the rows.

Two tables, ``gapmend_runs`` and ``gapmend_id_map``. They live in production, written in
the same transaction as the restored rows, because that is the only place where "the
rows are in" and "we know the rows are in" commit or roll back together: a state file
written after the commit could be lost to a crash in between, and a second run would
then insert everything twice. The id map is what makes a second restore a no-op, lets
an interrupted per-table run resume, and lets `verify` find every restored row.
Keys are stored as JSON arrays so natural and composite keys fit too. A third table,
``gapmend_images``, keeps each restored row as the restore left it and, for the rows it
updated or deleted, as it was before (`row_images`): what ``gapmend undo`` puts back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from .collation import uniform
from .dialects.own_tables import LONG_TEXT, TABLE_OPTIONS

RUNS = "gapmend_runs"
ID_MAP = "gapmend_id_map"
IMAGES = "gapmend_images"

metadata = MetaData()
runs = Table(
    RUNS, metadata,
    Column("run_id", String(36), primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String(16), nullable=False),
    Column("summary", Text),
    **TABLE_OPTIONS,
)
id_map = Table(
    ID_MAP, metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("old_key", String(255), nullable=False),
    Column("new_key", String(255)),
    Column("action", String(16), nullable=False),   # inserted | linked | updated | deleted | skipped
    Column("detail", String(255)),
    Index("gapmend_id_map_lookup", "table_name", "old_key"),
    **TABLE_OPTIONS,
)

images = Table(
    IMAGES, metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("row_key", String(255), nullable=False),   # the row's key in production, encoded
    Column("kind", String(8), nullable=False),        # before | after | digest
    Column("image", LONG_TEXT, nullable=False),
    Index("gapmend_images_lookup", "run_id", "table_name", "kind"),
    **TABLE_OPTIONS,
)
BEFORE, AFTER, DIGEST = "before", "after", "digest"
# What each committed run was decided by, hashed (`apply.rerun`): a rerun with the same
# answers from the journal.
run_inputs = Table(
    "gapmend_run_inputs", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("digest", String(64), nullable=False),
    **TABLE_OPTIONS,
)

# Actions that mean "this Friday row is done": a later run must not touch it again.
FINAL_ACTIONS = ("inserted", "linked", "updated", "deleted")
# Runs whose entries count: finished ones, per-table runs that committed some tables
# before they stopped ("partial"), which the next run resumes, and such runs once a later
# run finished their work ("resumed": the ids inside their rows' values rewritten too).
STOPPED = "partial"
COUNTING = ("committed", STOPPED, "resumed")
UNDO = "undo"   # the status of an undo's own run: not a restore, never counted as one


def ensure(engine: Engine) -> bool:
    """Create the journal tables if missing; True if this created the journal (a journal
    from before undo existed only gains its images table). Runs before the restore's
    transaction, since DDL commits implicitly on MariaDB."""
    with engine.connect() as conn:
        missing = not all(conn.dialect.has_table(conn, t.name) for t in (runs, id_map))
    metadata.create_all(engine)
    return missing


def drop_if_empty(engine: Engine) -> None:
    """Drop the journal tables again when they hold nothing (a first run that failed)."""
    with engine.begin() as conn:
        if any(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables):
            return
    metadata.drop_all(engine)


def ensure_temporary(conn: Connection) -> None:
    """For a dry run: journal tables as TEMPORARY tables when production has none, so
    nothing persists (CREATE TEMPORARY TABLE does not commit implicitly on MariaDB)."""
    for table in metadata.sorted_tables:
        if not conn.dialect.has_table(conn, table.name):
            temp = MetaData()
            copy = table.to_metadata(temp)
            copy._prefixes = ["TEMPORARY"]
            copy.indexes.clear()
            copy.create(conn)


def encode(key: Iterable[Any]) -> str:
    """A key as JSON text; datetimes without microseconds, so both dialects spell them alike."""
    return json.dumps([v.replace(microsecond=0).isoformat(sep=" ") if isinstance(v, datetime) else v for v in key],
                      separators=(",", ":"), default=str)


# Marks a hole in `encode_template`: JSON never holds a raw control character.
_HOLE = "\x01{}\x01"


def encode_template(key: Sequence[Any], holes: Iterable[int]) -> str:
    """`encode(key)` with the values at `holes` left out, to be filled in SQL by
    `fill_template_sql` (a key whose references the server maps, beside strings the SQL
    could not spell as JSON does)."""
    gaps = set(holes)
    return "[" + ",".join(_HOLE.format(i) if i in gaps else encode([v])[1:-1] for i, v in enumerate(key)) + "]"


def fill_template_sql(template: ColumnElement[Any], values: dict[int, ColumnElement[Any]]) -> ColumnElement[str]:
    """`encode_template`'s holes filled with `values` (position -> an integer id, or a
    string column's spelling of one, which JSON quotes), in SQL."""
    # Every piece in the journal's collation: MariaDB refuses to mix the staged column's,
    # the connection's and the cast's in one REPLACE.
    out: ColumnElement[Any] = uniform(cast(template, String))
    for i, value in values.items():
        text_: ColumnElement[Any] = cast(value, String)
        if isinstance(value.type, String):   # digits only: nothing to escape
            text_ = literal('"', String) + text_ + literal('"', String)
        out = func.replace(out, uniform(literal(_HOLE.format(i), String)), uniform(text_))
    return out


def decode(text: str | None) -> tuple[Any, ...] | None:
    return None if text is None else tuple(json.loads(text))


def encode_id_sql(key: ColumnElement[Any]) -> ColumnElement[str]:
    """`encode` of an integer key, in SQL: ``[42]``."""
    return encode_key_sql([key])


def encode_key_sql(values: Sequence[ColumnElement[Any]]) -> ColumnElement[str]:
    """`encode` of a key of integers, in SQL: ``[4,7]``."""
    out: ColumnElement[str] = literal("[", String)
    for i, v in enumerate(values):
        out = out + (literal(",", String) if i else literal("", String)) + cast(v, String)
    # In the journal's own collation, whatever the connection's or the database's is.
    return uniform(out + literal("]", String))


def decode_id_sql(text_: ColumnElement[Any]) -> ColumnElement[Any]:
    """The integer inside an encoded one-integer key, in SQL."""
    return cast(func.substr(text_, 2, func.length(text_) - 2), BigInteger)


def decode_pair_sql(text_: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The two integers inside an encoded two-integer key (``[4,7]``: a pivot's), in SQL."""
    comma = func.instr(text_, ",")
    return (cast(func.substr(text_, 2, comma - 2), BigInteger),
            cast(func.substr(text_, comma + 1, func.length(text_) - comma - 1), BigInteger))


def counted_keys(table: str, width: int, actions: Sequence[str]) -> Any:
    """`table`'s counted entries with one of `actions` and a new key, as a subquery: each
    key (of `width` integers: one, or a pivot's two) decoded into columns ``old_0``,
    ``new_0``, …, with the entry's own id (``entry``) and its ``action``."""
    if width == 1:
        olds, news = [decode_id_sql(id_map.c.old_key)], [decode_id_sql(id_map.c.new_key)]
    else:
        olds, news = list(decode_pair_sql(id_map.c.old_key)), list(decode_pair_sql(id_map.c.new_key))
    return (select(id_map.c.id.label("entry"), *(v.label(f"old_{i}") for i, v in enumerate(olds)),
                   *(v.label(f"new_{i}") for i, v in enumerate(news)), id_map.c.action)
            .join(runs, runs.c.run_id == id_map.c.run_id)
            .where(id_map.c.table_name == table, id_map.c.action.in_(actions), id_map.c.new_key.is_not(None),
                   runs.c.status.in_(COUNTING))).subquery("e")


def mapped_id_sql(parent: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """`mapped_keys` in SQL, for one integer id: the id a counted run inserted or linked
    Friday's `parent` row `value` as (NULL when none: a snapshot row, kept as it is)."""
    m, r = id_map.alias("jm"), runs.alias("jr")
    return (select(decode_id_sql(m.c.new_key))
            .where(m.c.table_name == parent, m.c.old_key == encode_id_sql(value),
                   m.c.action.in_(("inserted", "linked")), m.c.new_key.is_not(None),
                   exists().where(r.c.run_id == m.c.run_id, r.c.status.in_(COUNTING)))
            .limit(1).scalar_subquery())


def done_keys(conn: Connection, table: str,
              actions: tuple[str, ...] | None = None) -> dict[str, tuple[str, tuple[Any, ...] | None]]:
    """Friday keys of `table` a committed run already handled (with one of `actions`,
    default any final one): encoded old key → (action, new key)."""
    if not conn.dialect.has_table(conn, ID_MAP):
        return {}
    stmt = (select(id_map.c.old_key, id_map.c.action, id_map.c.new_key)
            .join(runs, runs.c.run_id == id_map.c.run_id)
            .where(id_map.c.table_name == table, id_map.c.action.in_(actions or FINAL_ACTIONS),
                   runs.c.status.in_(COUNTING)))
    return {old: (action, decode(new)) for old, action, new in conn.execute(stmt)}


def allocations(table: str) -> Select[Any]:
    """The ids stopped ``--per-table`` runs promised rows of `table`: (encoded old key,
    encoded new key). A resume gives each row the same id, so rows already written by
    that run keep pointing at the right ones."""
    return (select(id_map.c.old_key, id_map.c.new_key).join(runs, runs.c.run_id == id_map.c.run_id)
            .where(id_map.c.table_name == table, id_map.c.action == "allocated", runs.c.status.in_(COUNTING)))


def allocated_keys(conn: Connection, table: str) -> dict[str, tuple[Any, ...]]:
    """Ids a per-table run allocated (and committed) for rows it had not written yet:
    encoded old key → new key. Resuming reuses them, so rows already written by that run
    keep pointing at the right ids."""
    if not conn.dialect.has_table(conn, ID_MAP):
        return {}
    out = {}
    for old, new in conn.execute(allocations(table)):
        key = decode(new)
        if key is not None:
            out[old] = key
    return out


def iter_entries(conn: Connection) -> Iterator[tuple[str, tuple[Any, ...], tuple[Any, ...] | None, str]]:
    stmt = (select(id_map.c.table_name, id_map.c.old_key, id_map.c.new_key, id_map.c.action)
            .join(runs, runs.c.run_id == id_map.c.run_id).where(runs.c.status.in_(COUNTING))
            .order_by(id_map.c.id))
    for table, old, new, action in conn.execute(stmt):
        key = decode(old)
        assert key is not None
        yield table, key, decode(new), action


# The fates of Friday's rows a person looks an id up by (`runbook.id_map`).
FRIDAY_FATES = ("inserted", "linked", "skipped")


def fate_pages(conn: Connection, chunk: int, table: str | None = None, key: Sequence[Any] | None = None,
               ) -> Iterator[list[tuple[str, tuple[Any, ...], tuple[Any, ...] | None, str, str, str]]]:
    """(table, Friday key, new key, fate, run id, detail) of the counted runs' Friday rows
    (`FRIDAY_FATES`), of `table` only, and naming `key` as Friday's or as new only, when
    given; `chunk` at a time, paged by the journal's own id (memory stays flat)."""
    after = 0
    where: list[ColumnElement[bool]] = [id_map.c.action.in_(FRIDAY_FATES), runs.c.status.in_(COUNTING)]
    if table is not None:
        where.append(id_map.c.table_name == table)
    if key is not None:
        where.append(or_(id_map.c.old_key == encode(key), id_map.c.new_key == encode(key)))
    while True:
        stmt = (select(id_map.c.id, id_map.c.table_name, id_map.c.old_key, id_map.c.new_key, id_map.c.action,
                       id_map.c.run_id, id_map.c.detail)
                .join(runs, runs.c.run_id == id_map.c.run_id).where(*where, id_map.c.id > after)
                .order_by(id_map.c.id).limit(chunk))
        page = conn.execute(stmt).all()
        if not page:
            return
        after = page[-1][0]
        yield [(t, decode(old) or (), decode(new), action, run, detail or "")
               for _, t, old, new, action, run, detail in page]


def repeated(conn: Connection, column: str, limit: int = 50) -> list[tuple[str, str, int]]:
    """(table, key, times) of `column` ("old_key" or "new_key") values that more than one
    counted insert holds: a Friday row restored twice, or a new key given twice."""
    col = id_map.c[column]
    n = func.count().label("n")
    stmt = (select(id_map.c.table_name, col, n)
            .join(runs, runs.c.run_id == id_map.c.run_id)
            .where(id_map.c.action == "inserted", col.is_not(None), runs.c.status.in_(COUNTING))
            .group_by(id_map.c.table_name, col).having(func.count() > 1).limit(limit))
    return [(t, k, int(c)) for t, k, c in conn.execute(stmt)]


def inserted_tables(conn: Connection, actions: tuple[str, ...] = ("inserted",)) -> list[str]:
    """Tables with counted entries of one of `actions`."""
    stmt = (select(id_map.c.table_name).distinct().join(runs, runs.c.run_id == id_map.c.run_id)
            .where(id_map.c.action.in_(actions), runs.c.status.in_(COUNTING)))
    return sorted(conn.execute(stmt).scalars())


def inserted_keys(conn: Connection, table: str, chunk: int) -> Iterator[list[tuple[Any, ...]]]:
    """The new keys of `table`'s counted inserts, `chunk` at a time."""
    for page in entries(conn, table, ("inserted",), chunk):
        yield [new for _, new, _ in page]


def entries(conn: Connection, table: str, actions: tuple[str, ...],
            chunk: int) -> Iterator[list[tuple[tuple[Any, ...], tuple[Any, ...], str]]]:
    """(old key, new key, action) of `table`'s counted entries with one of `actions` and a
    new key, `chunk` at a time (paged by the journal's own id, so memory stays flat and
    `conn` stays free between pages)."""
    after = 0
    while True:
        stmt = (select(id_map.c.id, id_map.c.old_key, id_map.c.new_key, id_map.c.action)
                .join(runs, runs.c.run_id == id_map.c.run_id)
                .where(id_map.c.table_name == table, id_map.c.action.in_(actions), id_map.c.new_key.is_not(None),
                       runs.c.status.in_(COUNTING), id_map.c.id > after)
                .order_by(id_map.c.id).limit(chunk))
        page = conn.execute(stmt).all()
        if not page:
            return
        after = page[-1][0]
        yield [(decode(old) or (), decode(new) or (), action) for _, old, new, action in page]


def restored_ids(conn: Connection, table: str, low: int, high: int) -> set[int]:
    """The ids in (`low`, `high`] that counted runs gave the Friday rows they inserted
    into `table`: rows gapmend wrote, not evidence of what the snapshot held."""
    new = decode_id_sql(id_map.c.new_key)
    stmt = (select(new).join(runs, runs.c.run_id == id_map.c.run_id)
            .where(id_map.c.table_name == table, id_map.c.action == "inserted", id_map.c.new_key.is_not(None),
                   runs.c.status.in_(COUNTING), new > low, new <= high))
    return {int(v) for v in conn.execute(stmt).scalars()}


RENUMBERED = "renumbered"   # a number within a parent a run changed (`apply.scoped_numbers`)


def renumbered(p: Connection, table: str) -> dict[tuple[Any, str], tuple[Any, Any]]:
    """(row key, column) -> (Friday's number, the number counted runs gave it) for `table`."""
    m = id_map
    stmt = (select(m.c.old_key, m.c.new_key).join(runs, runs.c.run_id == m.c.run_id)
            .where(m.c.table_name == table, m.c.action == RENUMBERED, runs.c.status.in_(COUNTING))
            .order_by(m.c.id))
    out: dict[tuple[Any, str], tuple[Any, Any]] = {}
    for old_key, new_key in p.execute(stmt):
        old, new = decode(old_key), decode(new_key)
        if old and new and len(old) == 3 and len(new) == 3:
            out[(old[0], str(old[1]))] = (old[2], new[2])
    return out


MERGED = "columns: "   # the detail of an update merged by column, before the columns it wrote (`cell_merge.written`)


def merged_columns(conn: Connection, table: str) -> dict[str, str]:
    """Encoded key -> the columns it wrote (`cell_merge.written`), for `table`'s counted
    updates merged by column."""
    stmt = (select(id_map.c.new_key, id_map.c.detail).join(runs, runs.c.run_id == id_map.c.run_id)
            .where(id_map.c.table_name == table, id_map.c.action == "updated", runs.c.status.in_(COUNTING),
                   id_map.c.detail.like(MERGED + "%")))
    return {key: detail[len(MERGED):] for key, detail in conn.execute(stmt)}


def irregular_tables(conn: Connection) -> frozenset[str]:
    """Tables whose counted runs wrote rows other than as Friday had them: updates merged
    by column, numbers renumbered within a parent (one statement for every table)."""
    stmt = (select(id_map.c.table_name).distinct().join(runs, runs.c.run_id == id_map.c.run_id)
            .where(runs.c.status.in_(COUNTING),
                   or_(id_map.c.action == RENUMBERED,
                       and_(id_map.c.action == "updated", id_map.c.detail.like(MERGED + "%")))))
    return frozenset(conn.execute(stmt).scalars())


def kept(conn: Connection) -> bool:
    """Whether this database holds gapmend's journal (a restore made it; a plan reads without it)."""
    return bool(conn.dialect.has_table(conn, RUNS))


def has_runs(conn: Connection) -> bool:
    """Whether a counted gapmend run ever wrote to this database."""
    if not kept(conn):
        return False
    return conn.execute(select(runs.c.run_id).where(runs.c.status.in_(COUNTING)).limit(1)).first() is not None


def mapped_keys(conn: Connection, table: str, old_keys: Sequence[tuple[Any, ...]],
                chunk: int = 500, run_id: str | None = None) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Friday key -> the production key a counted run (or the running `run_id`) inserted
    or linked it as, for the `old_keys` that have one."""
    out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    encoded = sorted({encode(k) for k in old_keys})
    counted = runs.c.status.in_(COUNTING) if run_id is None else or_(runs.c.status.in_(COUNTING),
                                                                      runs.c.run_id == run_id)
    for start in range(0, len(encoded), chunk):
        stmt = (select(id_map.c.old_key, id_map.c.new_key).join(runs, runs.c.run_id == id_map.c.run_id)
                .where(id_map.c.table_name == table, id_map.c.old_key.in_(encoded[start : start + chunk]),
                       id_map.c.action.in_(("inserted", "linked")), id_map.c.new_key.is_not(None), counted))
        for old, new in conn.execute(stmt):
            out[decode(old) or ()] = decode(new) or ()
    return out


class Writer:
    """Buffers journal rows and writes them in batches on the restore's connection."""

    def __init__(self, conn: Connection, run_id: str, batch: int = 2000) -> None:
        self.conn, self.run_id, self.batch = conn, run_id, batch
        self.rows: list[dict[str, Any]] = []

    def start(self, status: str = "running") -> None:
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        self.conn.execute(insert(runs).values(run_id=self.run_id, started_at=now, status=status))

    def add(self, table: str, old: Iterable[Any], new: Iterable[Any] | None, action: str, detail: str = "") -> None:
        self.rows.append(dict(run_id=self.run_id, table_name=table, old_key=encode(old),
                              new_key=None if new is None else encode(new), action=action, detail=detail[:255] or None))
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.conn.execute(insert(id_map), self.rows)
            self.rows = []

    def finish(self, summary: str, resumed: Sequence[str] = ()) -> None:
        """Mark the run committed, and the stopped runs it finished (`stopped_runs`) resumed."""
        self.flush()
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        self.conn.execute(runs.update().where(runs.c.run_id == self.run_id)
                          .values(status="committed", finished_at=now, summary=summary))
        if resumed:
            self.conn.execute(runs.update().where(runs.c.run_id.in_(list(resumed)), runs.c.status == STOPPED)
                              .values(status="resumed"))


@dataclass(frozen=True)
class Run:
    """A restore run as the journal keeps it."""

    run_id: str
    finished_at: datetime | None   # UTC
    summary: str


def last_writing_run(conn: Connection) -> Run | None:
    """The newest counting run whose rows are in production (inserted, updated or
    deleted one, and no undo took them all back); None when there is none, or production
    keeps no journal."""
    if not kept(conn):
        return None
    wrote = exists().where(id_map.c.run_id == runs.c.run_id, id_map.c.action.in_(("inserted", "updated", "deleted")))
    return _last_run(conn, runs.c.status.in_(COUNTING), wrote)


def last_undo(conn: Connection) -> Run | None:
    """The newest undo (its summary names the run it took back); None without one."""
    if not kept(conn):
        return None
    return _last_run(conn, runs.c.status == UNDO)


def _last_run(conn: Connection, *where: ColumnElement[bool]) -> Run | None:
    # Times are kept to the second: of two runs started in one, the later finished is the newer.
    row = conn.execute(select(runs.c.run_id, runs.c.finished_at, runs.c.summary)
                       .where(*where).order_by(runs.c.started_at.desc(), runs.c.finished_at.desc()).limit(1)).first()
    return None if row is None else Run(row[0], row[1], row[2] or "")


def status(conn: Connection, run_id: str) -> str | None:
    """A run's status as committed (None: the run committed nothing, or there is no journal)."""
    if not kept(conn):
        return None
    return conn.execute(select(runs.c.status).where(runs.c.run_id == run_id)).scalar()


def repeats_only(conn: Connection, run_id: str) -> bool:
    """Whether every entry `run_id` wrote so far repeats one an earlier counting run wrote
    (the same row, the same fate), there being one: a rerun that found nothing new, whose
    journal need not be kept (a rerun must not grow the journal)."""
    earlier = id_map.alias("e")
    repeated = (select(literal(1)).select_from(earlier.join(runs, runs.c.run_id == earlier.c.run_id))
                .where(earlier.c.table_name == id_map.c.table_name, earlier.c.old_key == id_map.c.old_key,
                       earlier.c.action == id_map.c.action, earlier.c.run_id != run_id,
                       runs.c.status.in_(COUNTING)))
    earlier_run = conn.execute(select(runs.c.run_id).where(runs.c.run_id != run_id, runs.c.status.in_(COUNTING))
                               .limit(1)).first()
    if earlier_run is None:   # the first run: kept, so that `verify` knows a restore ran and found nothing
        return False
    new = conn.execute(select(id_map.c.id).where(id_map.c.run_id == run_id, ~repeated.exists()).limit(1)).first()
    return new is None


def stopped_runs(conn: Connection, running: str) -> list[str]:
    """The per-table runs that stopped before their last step, oldest first (not the
    `running` one): the next run to finish does that step for their rows too."""
    return [r[0] for r in conn.execute(select(runs.c.run_id).where(runs.c.status == STOPPED,
                                                                   runs.c.run_id != running)
                                       .order_by(runs.c.started_at, runs.c.run_id))]


def run_keys(conn: Connection, table: str, run_id: str, actions: tuple[str, ...],
             chunk: int) -> Iterator[list[tuple[tuple[Any, ...], tuple[Any, ...]]]]:
    """(old key, new key) of the rows `run_id` wrote in `table` with one of `actions`,
    `chunk` at a time (paged by the journal's id)."""
    last = 0
    while True:
        stmt = (select(id_map.c.id, id_map.c.old_key, id_map.c.new_key)
                .where(id_map.c.run_id == run_id, id_map.c.table_name == table, id_map.c.action.in_(actions),
                       id_map.c.new_key.is_not(None), id_map.c.id > last).order_by(id_map.c.id).limit(chunk))
        page = conn.execute(stmt).all()
        if not page:
            return
        last = page[-1][0]
        yield [(decode(old) or (), decode(new) or ()) for _, old, new in page]
