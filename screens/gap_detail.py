"""The words of step 1's detail pane for one table: what the plan found there, from the
boundary's evidence to the restore's collisions and orphans (a pure function of the plan)."""

from __future__ import annotations

from collections.abc import Collection

from gapmend.core import shown
from gapmend.core.inspect import soft_deletes
from gapmend.core.plan.model import Plan, RowClass, TableGap


def short(text: str, width: int = 18) -> str:
    return shown.cut(text, width)


def val(value: object, width: int = 40) -> str:
    """A data value as the database shows it, cut to `width`."""
    return shown.cut(shown.value(value), width)


def detail_lines(plan: Plan, g: TableGap, confirmed: Collection[str]) -> list[str]:
    """Table `g` of `plan` in words; `confirmed`: the role findings the operator confirmed."""
    lines = [*(facts.line() for facts in plan.roles),
             *(f"CHECK THE ROLES{' (confirmed)' if f.id in confirmed else ', then press w'}: {f.message}"
               for f in plan.role_findings),
             f"write order: {' → '.join(plan.order)}",
             *(f"cycle: {' ↔ '.join(c)} (ids allocated first)" for c in plan.cycles), "",
             f"{g.table}  (" + ("no key: rows compared whole" if g.key_kind == "none" else
                              f"{g.key_kind} key: {', '.join(g.identity)}") + ")",
             f"boundary: {g.boundary.evidence} [{g.boundary.method}, {g.boundary.confidence}]"]
    if g.default_reason:
        lines.append(f"decision: {g.decision.value}* (gapmend's default: {g.default_reason})")
    if any(j.table == g.table for j in plan.queued_jobs):
        lines.append("  Friday's queued jobs are listed above: Tab to them, j picks one to replay")
    if g.boundary.unconfirmed:
        lines.append(f"  only estimated: press o to confirm {g.boundary.value} (or `gapmend boundary {g.table} ID`); "
                     "the restore leaves this table alone until then")
    for t in (t for t in plan.triggers if t.table == g.table):
        lines.append(f"trigger {t.name}: {t.timing} {t.event}, {t.writes} — {t.action}")
    for cls, keys in g.samples.items():
        lines.append(f"  {RowClass(cls).label}: {', '.join(short(shown.key(k), 40) for k in keys)}")
    lines.extend(soft_deletes.lines(g.table, g.soft_deletes, g.soft_deleted_parents))
    if g.ids_taken:
        lines.append(f"  {shown.plural(g.ids_taken, 'Friday id is', 'Friday ids are')} taken by production: "
                     f"{'that row gets a new id' if g.ids_taken == 1 else 'those rows get new ids'}")
    for c in g.conflicts[:8]:
        lines.append(f"conflict {shown.key(c.key)}: {c.reason}")
        for col, s, f, p in c.values[:5]:
            lines.append(f"    {col}: snapshot {val(s)} | friday {val(f)} | production {val(p)}")
    for c in g.collisions[:5]:
        held = ", ".join(f"{col}={val(v)}" for col, v in zip(c.unique_columns, c.value))
        lines.append(f"collision: Friday {shown.key(c.key)} has {held}; production {shown.key(c.production_key)} holds it")
    for o in g.orphans[:5]:
        lines.append(f"orphan: Friday {shown.key(o.key)} → {shown.value(o.parent_key)} via {o.edge} (deleted by production)")
    edges = [e for e in plan.edges if g.table in (e.child, e.parent)]
    if edges:
        lines.append("references:")
        lines.extend(f"  {e.kind:<11} {e.id}  ({e.evidence})" for e in edges)
    inside = [e for e in plan.payload_edges if g.table in (e.table, e.parent)]
    if inside:
        lines.append("ids inside JSON values (confirm with `gapmend edges --confirm ID`):")
        lines.extend(f"  {'confirmed' if e.confirmed else 'unconfirmed':<11} {e.id}  ({e.evidence}; "
                     f"{e.sampled_said()})" for e in inside)
    return lines
