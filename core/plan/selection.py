"""Which tables a restore writes: the operator's decisions, made true.

One rule for the plan, the wizard and the console: a table with work is written only
when the operator approved it (`gapmend approve`, key `a` at step 1), or when the
restore is told to take the still-pending ones as approved (`--approve-pending`, said
in the report). A skipped table stays out; so does a table left out of ``--tables``.
A parent that approved tables' Friday rows need is pulled in, and must itself be
approved: writing a pending parent is writing a table nobody looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import GapmendError
from .model import Decision, Plan, RowClass


class SelectionError(GapmendError):
    exit_code = 2


@dataclass(frozen=True)
class Selection:
    order: list[str]                                    # the tables to write, in write order
    pulled_in: list[str] = field(default_factory=list)  # parents approved tables need
    approved_now: list[str] = field(default_factory=list)   # pending, taken as approved by the flag
    left_out: dict[str, str] = field(default_factory=dict)  # table with work -> why it is not written


def select_tables(plan: Plan, only: frozenset[str] | None = None, approve_pending: bool = False) -> Selection:
    """The tables to write, by the decisions the plan carries (the operator's, else
    gapmend's default for a framework table), or `SelectionError` naming the pending
    ones (nothing written)."""
    def decision(name: str) -> str:
        return plan.table(name).decision.value

    with_work = {g.table for g in plan.tables if g.has_work}
    left_out: dict[str, str] = {}
    wanted: set[str] = set()
    for name in plan.order:
        if decision(name) == Decision.SKIP.value:
            if name in with_work:
                why = plan.table(name).default_reason
                left_out[name] = f"gapmend's default: {why}" if why else "skipped by the operator"
        elif only is not None and name not in only:
            if name in with_work:
                left_out[name] = "not among --tables"
        else:
            wanted.add(name)
    unknown = sorted((only or set()) - set(plan.order))
    if unknown:
        raise SelectionError(f"no table {unknown[0]!r}: check --tables against `gapmend plan`")
    pulled = _pull_parents(plan, wanted, decision)
    for parent in pulled:   # outside --tables, but written after all: not left out
        left_out.pop(parent, None)
    pending = [n for n in plan.order if n in wanted and n in with_work and decision(n) == Decision.PENDING.value]
    if pending and not approve_pending:
        needed = {p: child for p, child in pulled.items() if p in pending}
        named = ", ".join(n + (f" (needed by {needed[n]})" if n in needed else "") for n in pending[:8])
        more = f" and {len(pending) - 8} more" if len(pending) > 8 else ""
        noun = "table is" if len(pending) == 1 else "tables are"
        raise SelectionError(
            f"{len(pending)} {noun} still pending: {named}{more}: approve or skip each (`gapmend approve TABLE`, "
            "`gapmend skip TABLE`, or keys a/s at wizard step 1), or pass --approve-pending to restore them too")
    return Selection(order=[n for n in plan.order if n in wanted], pulled_in=sorted(pulled),
                     approved_now=pending, left_out=left_out)


def _pull_parents(plan: Plan, wanted: set[str], decision: Callable[[str], str]) -> dict[str, str]:
    """Parents with Friday inserts that wanted tables reference, added to `wanted`:
    parent -> the table that needed it first. A skipped parent stays out (its children's
    rows that need it are then skipped as having an unrestored parent)."""
    parents: dict[str, set[str]] = {}
    for e in plan.edges:
        parents.setdefault(e.child, set()).add(e.parent)
    pulled: dict[str, str] = {}
    frontier = sorted(wanted)
    while frontier:
        child = frontier.pop()
        for parent in sorted(parents.get(child, ())):
            if parent in wanted or decision(parent) == Decision.SKIP.value:
                continue
            if plan.table(parent).count(RowClass.FRIDAY_INSERT):
                wanted.add(parent)
                pulled[parent] = child
                frontier.append(parent)
    return pulled


def require_confirmed(plan: Plan, tables: list[str]) -> None:
    """No table is written on a boundary gapmend only estimated: a wrong one inserts a
    second copy of snapshot rows (too low) or drops Friday's (too high). `--yes` does
    not confirm it; the operator does, with the value they checked."""
    for name in tables:
        g = plan.table(name)
        if g.has_work and g.boundary.unconfirmed:
            raise SelectionError(
                f"{name}: the snapshot's last id is only estimated ({g.boundary.value}, {g.boundary.confidence} confidence: "
                f"{g.boundary.evidence}): check it, then confirm it with `gapmend boundary {name} {g.boundary.value}` "
                "(or set the right id), or skip the table")
