"""Which database is which, and whether their contents tell the story a crash leaves.

A one-line slip in the env file (the snapshot URL pointing at production, production
and crashed swapped) made gapmend overwrite production's own new rows, or write the
gap into the crashed copy. Two roles naming one database are refused earlier
(`sources.Sources.require_distinct`); this module reads each role's facts (server, name,
size, latest write) and checks them against the shape of a crash:

- the snapshot predates the crash, so it holds no write later than crashed's last one;
- crashed holds something the snapshot does not (else there is no gap, or the snapshot
  is a copy of crashed);
- production has been live since it was restored, so its latest write is after
  crashed's last one, it has inserted rows since the snapshot, and it does not already
  hold Friday's rows (unless gapmend's journal says it restored them).

A contradiction of the first two is refused (`refuse`): the operator fixes the env file.
The last two may have an innocent reading (a quiet night; clocks of two app servers),
so they are shown and the restore waits until the operator confirms them with
`gapmend roles --confirm` (or key w at wizard step 1), never by ``--yes`` alone. A
confirmation names the facts it saw: when they change it no longer counts.

The latest write is the newest ``created_at``/``updated_at`` of each integer-keyed
table's last row by id (one index lookup per table, not a scan).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import Connection, DateTime, literal, null, select, type_coerce, union_all

from ..databases import journal
from ..databases.dialects import dialect_of
from ..databases.schema import KeyKind, Schema, TableInfo
from ..errors import GapmendError
from ..plan.delta import LatestWrite
from ..plan.model import Plan, RoleFacts, RoleFinding, RowClass, TableGap
from .graph import ReferenceGraph

STAMPS = ("updated_at", "created_at")
REFUSE, CONFIRM = "refuse", "confirm"


class RolesError(GapmendError):
    title = "The databases do not look like their roles"

    def __init__(self, message: str, findings: list["RoleFinding"] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []   # what refused it: a caller may show them, or confirm the confirmable


def read_facts(role: str, conn: Connection, schema: Schema, known: LatestWrite | None = None) -> RoleFacts:
    """One role's server, name, size and latest write (read-only, a lookup per table);
    `known` is its latest write as read before from a database unchanged since."""
    described = dialect_of(conn).describe(conn)
    latest, where = known if known is not None else _latest_write(conn, schema, is_production=role == "production")
    return RoleFacts(role, described.server, described.database, described.size_bytes, latest, where)


def _latest_write(conn: Connection, schema: Schema, is_production: bool) -> tuple[datetime | None, str | None]:
    """The newest stamp of each integer-keyed table's last row; in production, the last row
    that is not one a gapmend run restored (those carry Friday's times)."""
    # Every role has crashed's tables by now (`schema.require_compatible`, the snapshot's check).
    journaled = is_production and journal.has_runs(conn)
    stamped = [(t, [c for c in STAMPS if c in t.table.c and isinstance(t.table.c[c].type, DateTime)])
               for t in schema.tables.values() if t.key_kind == KeyKind.SURROGATE]
    stamped = [(t, cols) for t, cols in stamped if cols]
    best: tuple[datetime, str] | None = None
    for t, row in _last_rows(conn, stamped, journaled):
        for col, value in zip(STAMPS, row):
            if isinstance(value, datetime) and (best is None or value > best[0]):
                best = (value, f"{t.name}.{col}")
    return (best[0], best[1]) if best else (None, None)


LAST_ROWS_BATCH = 50   # tables per statement


def _last_rows(conn: Connection, stamped: list[tuple[TableInfo, list[str]]],
               journaled: bool) -> Iterator[tuple[TableInfo, tuple[Any, ...]]]:
    """Each table's last row's `STAMPS` (None where it has no such column). Without a
    journal, one UNION ALL per `LAST_ROWS_BATCH` tables (an app has 60-200 of them and
    each lookup is one round trip); with one, table by table, paging past the rows a
    restore wrote."""
    if journaled:
        for t, cols in stamped:
            restored = {new[0] for action, new in journal.done_keys(conn, t.name, ("inserted",)).values()
                        if new is not None}
            key = t.table.c[t.primary_key[0]]
            row = _last_row(conn, key, [t.table.c[c] for c in cols], restored)
            if row is not None:
                yield t, tuple(row[cols.index(c)] if c in cols else None for c in STAMPS)
        return
    for start in range(0, len(stamped), LAST_ROWS_BATCH):
        batch = stamped[start : start + LAST_ROWS_BATCH]
        members = []
        for i, (t, cols) in enumerate(batch):
            key = t.table.c[t.primary_key[0]]
            values = [t.table.c[c] if c in cols else type_coerce(null(), DateTime) for c in STAMPS]
            last = select(literal(i).label("n"), *(v.label(c) for v, c in zip(values, STAMPS))).order_by(
                key.desc()).limit(1).subquery(f"l{i}")
            members.append(select(*last.c))
        # In the schema's order, whatever order the server returns them in: of two equal
        # stamps the first table's is named, as a confirmation of these facts expects.
        for n, *stamps in sorted(conn.execute(union_all(*members)).all(), key=lambda r: int(r[0])):
            yield batch[int(n)][0], tuple(stamps)


def _last_row(conn: Connection, key: Any, stamps: list[Any], skip: set[Any]) -> tuple[Any, ...] | None:
    """The stamps of the row with the highest key not in `skip` (paged down from the top:
    the rows skipped are a restore's, as many as its gap at most)."""
    below = None
    while True:
        stmt = select(key, *stamps).order_by(key.desc()).limit(1000)
        page = conn.execute(stmt if below is None else stmt.where(key < below)).all()
        for row in page:
            if row[0] not in skip:
                return tuple(row[1:])
        if len(page) < 1000:
            return None
        below = page[-1][0]


def check_facts(facts: dict[str, RoleFacts]) -> list[RoleFinding]:
    """What the latest writes say, before the gap is inspected."""
    crashed, production, snapshot = facts["crashed"], facts["production"], facts.get("snapshot")
    findings: list[RoleFinding] = []
    if snapshot is not None and snapshot.latest_write and crashed.latest_write \
            and snapshot.latest_write > crashed.latest_write:
        findings.append(RoleFinding(REFUSE, "snapshot-newer", (
            f"the snapshot holds a write at {snapshot.latest_write:%Y-%m-%d %H:%M:%S} ({snapshot.latest_at}), later than "
            f"crashed's last at {crashed.latest_write:%Y-%m-%d %H:%M:%S}: a snapshot taken before the crash cannot; GAPMEND_SNAPSHOT_URL names "
            f"{snapshot.database}, which looks like production or a newer dump: point it at the restored snapshot")))
    if production.latest_write and crashed.latest_write and production.latest_write < crashed.latest_write:
        findings.append(RoleFinding(CONFIRM, _id("production-older", production, crashed), (
            f"production's latest write ({production.latest_write:%Y-%m-%d %H:%M:%S}, {production.latest_at}) is "
            f"older than crashed's ({crashed.latest_write:%Y-%m-%d %H:%M:%S}, {crashed.latest_at}): if production has been live since it was "
            f"restored, GAPMEND_PRODUCTION_URL ({production.database}) and GAPMEND_CRASHED_URL ({crashed.database}) "
            "are swapped")))
    return findings


def check_plan(plan: Plan, facts: dict[str, RoleFacts]) -> list[RoleFinding]:
    """What the inspected gap says: with a snapshot, each side must have changed
    something. Friday's changes are what every plan counts; production's are judged by
    its integer-keyed tables holding ids past the snapshot's (the restore's own plan
    does not classify rows only production changed, and both must agree)."""
    if "snapshot" not in facts:
        return []
    friday = sum(g.count(c) for g in plan.tables
                 for c in (RowClass.FRIDAY_INSERT, RowClass.FRIDAY_UPDATE, RowClass.FRIDAY_DELETE, RowClass.CONFLICT))
    integer_keyed = [g for g in plan.tables if g.key_kind == KeyKind.SURROGATE and g.boundary.value is not None]
    inserted = sum(1 for g in integer_keyed if (g.production_max_id or 0) > (g.boundary.value or 0))
    findings: list[RoleFinding] = []
    if friday == 0 and inserted:
        findings.append(RoleFinding(REFUSE, "snapshot-is-crashed", (
            f"the snapshot ({facts['snapshot'].database}) holds everything crashed ({facts['crashed'].database}) holds: "
            "either nothing was lost, or GAPMEND_SNAPSHOT_URL names a copy of crashed: point it at the restored "
            "snapshot (or leave it out and set GAPMEND_SNAPSHOT_AT)")))
    elif friday and integer_keyed and not inserted:
        findings.append(RoleFinding(CONFIRM, _id("snapshot-is-production", facts["snapshot"], facts["production"]), (
            f"production ({facts['production'].database}) has inserted no row since the snapshot (no table holds an id "
            "past the snapshot's): if production has taken writes since it was restored, GAPMEND_SNAPSHOT_URL names a "
            "copy of production and the restore would overwrite them")))
    return findings


def check_friday_rows(c: Connection, p: Connection, schema: Schema, graph: ReferenceGraph, gaps: list[TableGap],
                      skipped: set[str]) -> list[RoleFinding]:
    """Crashed's rows past a boundary are Friday's, which production, restored from the
    snapshot, cannot hold: a few of each integer-keyed table's (the plan's samples) are
    looked up in production by id. When every table's are there, identical, production
    holds Friday's rows already (it names a copy of crashed, or they were copied): a
    restore would insert each a second time. Only the columns that are neither key nor
    reference count (a pivot row (5, team 2, user 7) on both sides may mean two pairs),
    and one table alike is not enough (both sides stamping a row alike, or seeding the
    same lookup rows, happens)."""
    alike: list[tuple[str, list[Any]]] = []
    checked = 0
    for g in gaps:
        keys = g.samples.get(RowClass.FRIDAY_INSERT.value, [])
        if g.key_kind != KeyKind.SURROGATE or not keys or g.table in skipped:
            continue
        t = schema[g.table]
        key = t.table.c[t.primary_key[0]]
        refs = {col for e in graph.edges_from(g.table) for col in (*e.columns, e.type_column) if col}
        meaning = [col for col in t.table.c if col.name not in refs and col.name not in t.primary_key]
        restored = journal.done_keys(p, g.table, ("inserted", "linked"))
        ids = [k[0] for k in keys if journal.encode(k) not in restored]
        if not ids or not meaning:
            continue
        checked += 1
        friday = {r[0]: tuple(r) for r in c.execute(select(key, *meaning).where(key.in_(ids)))}
        held = {r[0]: tuple(r) for r in p.execute(select(key, *meaning).where(key.in_(ids)))}
        same = [i for i in ids if i in friday and held.get(i) == friday[i]]
        if len(same) == len(ids):
            alike.append((g.table, same))
    if checked < 2 or len(alike) < checked:
        return []
    table, same = alike[0]
    return [RoleFinding(REFUSE, "friday-rows-in-production", (
        f"crashed's rows past the snapshot are in production already, identical, in every table ({table}: ids "
        f"{', '.join(map(str, same))}; {len(alike)} tables), and gapmend's journal did not put them there: a restore "
        f"would insert them a second time; GAPMEND_PRODUCTION_URL ({p.engine.url.database}) looks like a copy of "
        "crashed: point it at the live database"))]


def require_settled(findings: list[RoleFinding], confirmed: list[str]) -> None:
    """Refuse on a contradiction, and on a suggestion the operator has not confirmed."""
    for f in findings:
        if f.kind == REFUSE:
            raise RolesError(f.message, [f])
    open_ = [f for f in findings if f.id not in confirmed]
    if open_:
        raise RolesError(f"{open_[0].message}: check `gapmend roles`, then confirm with `gapmend roles --confirm` "
                         "(or key w at wizard step 1) if the roles are right", open_)


def _id(check: str, *facts: RoleFacts) -> str:
    seen = "|".join(f"{f.role}:{f.database}:{f.latest_write}" for f in facts)
    return f"{check}:{hashlib.sha256(seen.encode()).hexdigest()[:12]}"


def findings_of(plan: Plan) -> list[RoleFinding]:
    return list(plan.role_findings)
