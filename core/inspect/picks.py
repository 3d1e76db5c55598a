"""Friday rows the operator picked one by one: a table restored for those rows only.

Friday's queued jobs are the case: replaying every one when the workers start (step 14)
sends Friday's mails and notifications, and some of them should not go out twice (or at
all, hours later). The operator reads the jobs (`gapmend jobs`, the wizard's jobs list),
picks the ones to replay, and the restore writes those and leaves the rest of the
table's Friday rows out, each counted in the report; the picked jobs' model ids are
remapped like any other id inside a payload (`payload_rewrite`).

A pick names a Friday insert by its integer id, so picking is for integer-keyed tables;
the ids are checked against crashed when picked and again when the restore runs (a
boundary set since can make a picked id a snapshot row).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import Connection

from ..databases import rows as rowio
from ..databases.schema import KeyKind, Schema
from ..errors import GapmendError
from ..plan.decisions import Decisions
from ..plan.model import Decision, Plan, RowClass, TableGap
from .payloads import PayloadEdge


class PickError(GapmendError):
    exit_code = 2


def pick(decisions: Decisions, plan: Plan, table: str, ids: Iterable[int]) -> list[str]:
    """Add `ids` to the table's picks; the table is then approved (for them only), and
    the paths of model ids inside its payloads the plan found are confirmed, so the
    replayed jobs act on Friday's rows under their new ids. Returns the paths confirmed now."""
    decisions.picked[table] = sorted(set(decisions.picked.get(table, [])) | set(ids))
    decisions.tables[table] = Decision.APPROVE.value
    known = {PayloadEdge.from_dict(d).id for d in decisions.payload_edges}
    new = [d for d in plan.payload_edges if d.table == table and d.id not in known]
    decisions.payload_edges += [d.as_decided() for d in new]
    return [d.id for d in new]


def unpick(decisions: Decisions, table: str, ids: Iterable[int]) -> None:
    """Take `ids` out of the table's picks. With none left the table stays approved for
    its picked rows, which are none: nothing of it is restored until one is picked
    again (or the whole table approved with `gapmend approve`, which clears the picks)."""
    decisions.picked[table] = sorted(set(decisions.picked.get(table, [])) - set(ids))


def applied(plan: Plan, decisions: Decisions, table: str) -> Plan:
    """`plan` after `pick` or `unpick` on `table`: approved, for the picked rows."""
    chosen = tuple(decisions.picked.get(table, ()))
    return replace(plan, tables=[replace(g, decision=Decision.APPROVE, picked=chosen, default_reason=None)
                                 if g.table == table else g for g in plan.tables])


def not_picked(gap: TableGap) -> int:
    """How many of the table's Friday rows with work a pick list leaves out."""
    if gap.picked is None:
        return 0
    work = sum(gap.count(c) for c in (RowClass.FRIDAY_INSERT, RowClass.FRIDAY_UPDATE, RowClass.FRIDAY_DELETE,
                                      RowClass.CONFLICT))
    return max(0, work - len(gap.picked))


def fate(gap: TableGap, row_id: int) -> str:
    """What the restore will do with one Friday row of a table that may have picks, in
    words for the plan and the wizard."""
    if gap.decision is not Decision.APPROVE:
        return f"not restored ({gap.decision.value}; pick it to replay it)"
    if gap.picked is None:
        return "restored (the whole table is approved)"
    return "restored (picked)" if row_id in gap.picked else "left out (not picked)"


def require_friday(conn: Connection, schema: Schema, plan: Plan, table: str, ids: Iterable[int]) -> None:
    """Each id a Friday insert of `table` in crashed (past the boundary), or one line
    naming the first that is not."""
    if table not in schema:
        raise PickError(f"no table {table!r} in the crashed database: check the name against `gapmend plan`")
    t, gap = schema[table], plan.table(table)
    if t.key_kind != KeyKind.SURROGATE or gap.boundary.value is None:
        raise PickError(f"{table} has no integer id: rows are picked by id in integer-keyed tables only; "
                        f"approve or skip the whole table instead")
    wanted = sorted(set(ids))
    found = {int(r[0]) for r in rowio.fetch_keys(conn, t, t.primary_key, [(v,) for v in wanted],
                                                 select_cols=t.primary_key)}
    for v in wanted:
        if v not in found:
            raise PickError(f"{table} {v} is not in the crashed database: pick one of Friday's rows (`gapmend jobs`)")
        if v <= gap.boundary.value:
            raise PickError(f"{table} {v} is a snapshot row (the snapshot ends at {gap.boundary.value}): "
                            "pick one of Friday's rows (`gapmend jobs`)")


def require_plan_picks(conn: Connection, schema: Schema, plan: Plan, tables: Iterable[str]) -> None:
    """The picks of the tables a restore writes, checked again: the world may have moved
    since they were made."""
    for name in tables:
        gap = plan.table(name)
        if gap.picked is not None:
            require_friday(conn, schema, plan, name, gap.picked)
