"""The checks before a restore writes, in one place. The console and the wizard run them
on the plan they show, before asking the operator; the restore runs them again on its
own look at the databases, with production locked, before its first write.

In the order the operator meets them:

1. the roles are settled (`roles.require_settled`): no contradiction, every suggestion
   confirmed;
2. the tables are chosen (`selection.select_tables`): none pending unless approved;
3. their boundaries are confirmed (`selection.require_confirmed`);
4. every column that can carry a moved id is decided (`census.require_decided`);
5. a reviewed plan file still holds for the databases (`file.require_unmoved`).

Each refusal is one `GapmendError` line saying what to do; nothing is written.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..inspect import census, roles
from ..plan.decisions import Decisions
from ..plan.file import require_unmoved
from ..plan.model import IdColumn, Plan, RoleFinding
from ..plan.selection import Selection, require_confirmed, select_tables
from .reports import RestoreOptions

# The columns of the chosen tables that can carry a moved id, by the tables' names.
Census = Callable[[list[str]], Sequence[IdColumn]]


def require_ready(plan: Plan, decisions: Decisions, asked: RestoreOptions = RestoreOptions(), *,
                  findings: Sequence[RoleFinding] | None = None, id_columns: Census | None = None,
                  detailed: frozenset[str] | None = None, partial: bool = False) -> Selection:
    """The tables the restore writes, once every check holds (else the first refusal).
    `asked`: what the operator asked of the restore (its tables, approvals, plan file).

    `findings`: the role findings to settle (by default the plan's own); `id_columns`:
    the census of the chosen tables (by default the plan's); `detailed` and `partial`:
    how much of a reviewed plan this look can compare (`file.require_unmoved`)."""
    roles.require_settled(list(findings if findings is not None else roles.findings_of(plan)),
                          decisions.roles_confirmed)
    selection = select_tables(plan, asked.tables, asked.approve_pending)
    require_confirmed(plan, selection.order)
    found = id_columns(selection.order) if id_columns is not None else plan.id_columns
    census.require_decided([f for f in found if f.table in selection.order])
    if asked.reviewed is not None:
        require_unmoved(asked.reviewed, plan, selection.order, detailed=detailed, partial=partial)
    return selection
