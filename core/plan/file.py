"""The reviewed plan as a file the restore executes, and the check that it still holds.

`gapmend plan --output plan.json` writes what the operator reviewed: the plan itself
(for people and other tools), the operator's decisions it was made with, which
databases it inspected, and its *facts*: per table, what the restore will do (the
boundary, the decision, how many Friday rows of each kind, which conflicts, collisions
and orphans). `gapmend restore --plan plan.json` runs with exactly those decisions and,
once it holds the restore lock and has looked again, refuses in one line when a fact
moved: production changed a row Friday's update was to go into, took a unique value,
deleted a parent, or the databases are not the ones inspected. Rows production only
added since (new ids, new rows nobody Friday touched) are no such change: the restore
gives Friday's rows new ids past them, as it would have.

The wizard checks the same facts between its step 1 scan and step 11's restore.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..databases.schema import SchemaFinding
from ..errors import ConfigError, GapmendError
from ..private_files import write_private
from .decisions import Decisions, decisions_from_json
from .delta import Delta, changed_sources
from .model import Plan, RoleFinding, RowClass, TableGap, jsonable, to_dict

FORMAT = "gapmend-plan/1"

# Rows a committed gapmend run restored are classed "restored" by `gapmend plan` and as
# Friday inserts (or converged rows) by the restore itself: their sum is one fact.
_INSERTED = (RowClass.FRIDAY_INSERT, RowClass.CONVERGED)
_CHANGED = (RowClass.FRIDAY_UPDATE, RowClass.FRIDAY_DELETE, RowClass.CONFLICT, RowClass.MERGE)


class PlanOutrun(GapmendError):
    title = "The world moved under the plan"


@dataclass(frozen=True)
class Reviewed:
    """A plan the operator reviewed: its facts, and the decisions it was made with."""

    facts: dict[str, Any]
    decisions: Decisions
    path: Path | None = None     # the file it came from (None: the wizard's own scan)
    delta: Delta | None = None   # Friday's delta, found by the plan (`delta`): None, the restore compares again
    # What the plan's look at every table found of the roles (`inspect.roles`): a restore
    # that reads only some tables (`apply.scope`) holds to these.
    role_findings: list[RoleFinding] = field(default_factory=list)

    @classmethod
    def of(cls, plan: Plan, decisions: Decisions, delta: Delta | None = None) -> "Reviewed":
        return cls(facts_of(plan), decisions, delta=delta if delta is not None and delta.fingerprints else None,
                   role_findings=list(plan.role_findings))

    def where(self) -> str:
        return str(self.path) if self.path is not None else "the plan scanned in step 1"


def facts_of(plan: Plan, detailed: frozenset[str] | None = None) -> dict[str, Any]:
    """What the restore of `plan` will do, as plain data compared key by key. Tables
    outside `detailed` (None: all) have no collision and orphan lists (the server-side
    restore finds those with its own statements)."""
    facts: dict[str, Any] = jsonable({
        "databases": plan.identities,
        "order": plan.order,
        "edges": sorted(e.id for e in plan.edges),
        "payload_edges": sorted(e.id for e in plan.payload_edges if e.confirmed),
        "schema": plan.schema_findings,
        "tables": {g.table: _table_facts(g, detailed is None or g.table in detailed) for g in plan.tables},
    })
    return facts


def _table_facts(gap: TableGap, detailed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "boundary": [gap.boundary.value, gap.boundary.method],
        "decision": gap.decision.value,
        "picked": list(gap.picked) if gap.picked is not None else None,
        "friday_inserts": sum(gap.count(c) for c in _INSERTED) + gap.restored,
        **{c.value: gap.count(c) for c in _CHANGED},
        "soft_deletes": gap.soft_deletes,
    }
    if not gap.truncated:
        out["conflict_keys"] = _ordered(c.key for c in gap.conflicts)
        if detailed:
            out["collisions"] = _ordered([c.key, c.production_key] for c in gap.collisions)
            out["orphans"] = _ordered([o.key, o.edge] for o in gap.orphans)
    return out


def _ordered(items: Iterable[Any]) -> list[Any]:
    """`items` as JSON values in one order whatever they hold (a key with a NULL beside
    one with a string cannot be compared in Python)."""
    return sorted((jsonable(i) for i in items), key=lambda i: json.dumps(i, default=str))


def write_plan_file(path: Path, plan: Plan, decisions: Decisions, delta: Delta | None = None) -> None:
    """`plan` with its decisions, facts and Friday's delta, readable by the owner only."""
    data = {"format": FORMAT, "facts": facts_of(plan), "decisions": decisions.to_json(), "plan": to_dict(plan)}
    if delta is not None and delta.fingerprints:
        data["delta"] = delta.to_json()
    write_private(path, json.dumps(data, indent=2, default=str) + "\n", atomic=True)


def read_plan_file(path: Path) -> Reviewed:
    """The plan file at `path`, or one line saying why it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"plan file {path} does not exist: write it with `gapmend plan --output {path}`") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"plan file {path} is unreadable ({exc.__class__.__name__}): "
                          f"write it again with `gapmend plan --output {path}`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a plan file gapmend wrote (no format {FORMAT!r}; `plan --json` prints "
                          f"the plan for reading only): write one with `gapmend plan --output {path}`")
    decisions = decisions_from_json(data.get("decisions"), f"plan file {path}")
    plan = data.get("plan")
    plan = plan if isinstance(plan, dict) else {}
    return Reviewed(facts=data["facts"], decisions=decisions, path=path, delta=Delta.from_json(data.get("delta")),
                    role_findings=_role_findings(plan.get("role_findings"), path))


def _role_findings(found: Any, path: Path) -> list[RoleFinding]:
    try:
        return [RoleFinding(str(f["kind"]), str(f["id"]), str(f["message"])) for f in found or []]
    except (KeyError, TypeError):
        raise ConfigError(f"plan file {path} holds role findings gapmend cannot read: write it again with "
                          f"`gapmend plan --output {path}`") from None


def require_unmoved(reviewed: Reviewed, now: Plan, tables: list[str], detailed: frozenset[str] | None = None,
                    partial: bool = False) -> None:
    """Raise `PlanOutrun` naming what differs between the reviewed plan and `now` (the
    restore's own look, with production locked), for the tables the restore writes.
    A `partial` look read only some tables (`apply.scope`, which compared their
    references): their schema findings are compared with the plan's of the same tables."""
    then, seen = reviewed.facts, facts_of(now, detailed)
    moved = _moved_databases(then["databases"], seen["databases"])
    if partial:
        read = {g.table for g in now.tables}
        if _about(then.get("schema", []), read) != _about(seen["schema"], read):
            moved.append("the schema changed")
    for what in ("order", "edges", "payload_edges", "schema") if not partial else ():
        if then.get(what) != seen[what]:
            moved.append(f"the {what.replace('_', ' ')} changed")
    for name in tables:
        before, after = then["tables"].get(name), seen["tables"].get(name)
        if before is None or after is None:
            moved.append(f"{name}: not in {'the reviewed plan' if before is None else 'the databases now'}")
            continue
        moved.extend(f"{name}: {line}" for line in _moved_table(before, after))
    _refuse(reviewed, moved)


def _about(findings: list[str], tables: set[str]) -> list[str]:
    """The schema findings (`SchemaFinding.line`) about `tables`."""
    return [line for line in findings if SchemaFinding.table_of(line) in tables]


def require_sources_unchanged(reviewed: Reviewed, identities: dict[str, str | None],
                              now: dict[str, dict[str, str]]) -> None:
    """Raise `PlanOutrun` when the databases are not the ones the plan inspected, or
    crashed or the snapshot is not as the plan read it: the delta of Friday's changes
    no longer says what they hold."""
    _refuse(reviewed, _moved_databases(reviewed.facts["databases"], identities))
    if reviewed.delta is not None:
        _refuse(reviewed, [f"{role} changed since the plan read it" for role in changed_sources(reviewed.delta, now)])


def _refuse(reviewed: Reviewed, moved: list[str], written: str = "nothing was written") -> None:
    if not moved:
        return
    shown = "; ".join(moved[:4]) + (f"; and {len(moved) - 4} more" if len(moved) > 4 else "")
    again = f"`gapmend plan --output {reviewed.path}`" if reviewed.path is not None else "step 1's scan"
    raise PlanOutrun(f"{reviewed.where()} no longer holds ({shown}): {written}; run {again} again, "
                     "review it, and restore that")


@dataclass(frozen=True)
class Outcome:
    """Which Friday rows a restore, about to commit, found colliding and orphaned."""

    collided: list[Any]
    orphaned: list[Any]


def require_outcome(reviewed: Reviewed, outcomes: dict[str, Outcome], orphans_skipped: bool,
                    written: str = "nothing was written") -> None:
    """Raise `PlanOutrun` (the restore rolls back) when the rows the restore's own
    statements found colliding or orphaned are not the ones the reviewed plan showed.
    Orphans are compared only when they are skipped (``--orphans null`` restores them)."""
    moved = []
    for name, outcome in outcomes.items():
        planned = reviewed.facts["tables"].get(name, {})
        found = {"collisions": outcome.collided, "orphans": outcome.orphaned if orphans_skipped else None}
        for what, keys in found.items():
            if keys is None or what not in planned:
                continue
            then, now = _ordered(k for k, *_ in planned[what]), _ordered(list(k) for k in keys)
            if then != now:
                moved.append(f"{name}: {what} {len(then)} → {len(now)}" if len(then) != len(now)
                             else f"{name}: {what} are other rows")
    _refuse(reviewed, moved, written)


def _moved_databases(then: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [f"{role} is not the database the plan inspected" for role in sorted(set(then) | set(now))
            if then.get(role) != now.get(role)]


_SAID = {"boundary": "the boundary", "decision": "the decision", "picked": "the rows picked",
         "friday_inserts": "Friday's inserts", "friday_update": "Friday's updates to apply",
         "friday_delete": "Friday's deletes", "conflict": "conflicts", "merge": "rows both sides changed in different columns",
         "soft_deletes": "soft deletes",
         "conflict_keys": "the conflicting rows", "collisions": "collisions", "orphans": "orphans"}


def _moved_table(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    for key, said in _SAID.items():
        if key not in before or key not in after or before[key] == after[key]:
            continue
        if key == "conflict_keys" and before["conflict"] != after["conflict"]:
            continue   # the count said it
        if isinstance(before[key], list) and key not in ("boundary", "picked"):
            out.append(f"{said} {len(before[key])} → {len(after[key])}" if len(before[key]) != len(after[key])
                       else f"{said} are other rows")
        elif isinstance(before[key], list):
            out.append(f"{said} {before[key][0] if key == 'boundary' else before[key]} → "
                       f"{after[key][0] if key == 'boundary' else after[key]}")
        else:
            out.append(f"{said} {before[key]} → {after[key]}")
    return out
