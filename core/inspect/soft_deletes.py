"""Laravel's soft deletes: a ``deleted_at`` column (`SoftDeletes`) marks a row deleted
while it stays in the table.

So Friday's soft delete is an update (``deleted_at`` set), applied where production left
the row alone like any other; and a parent production soft-deleted is still a row: the
Friday rows referencing it are restored (the app hides them with their parent), where a
parent production deleted outright leaves them orphans. The plan counts both, so the
operator sees them said, not only done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import shown
from ..databases.schema import TableInfo

COLUMN = "deleted_at"


def index(t: TableInfo) -> int | None:
    """The position of the table's ``deleted_at`` column, if it has one."""
    return t.column_names.index(COLUMN) if COLUMN in t.column_names else None


def deletes(t: TableInfo, before: tuple[Any, ...] | None, after: tuple[Any, ...] | None) -> bool:
    """Whether the change from `before` to `after` is a soft delete."""
    i = index(t)
    return i is not None and before is not None and after is not None and before[i] is None and after[i] is not None


def lines(table: str, soft_deletes: int, soft_parents: Mapping[str, int]) -> list[str]:
    """The plan's words on a table's soft deletes."""
    out = []
    if soft_deletes:
        out.append(f"{table}: {shown.plural(soft_deletes, 'Friday update is a soft delete', 'Friday updates are soft deletes')} "
                   f"({COLUMN} set), applied as updates")
    for edge, n in sorted(soft_parents.items()):
        parent = edge.split("->", 1)[1].split(".", 1)[0]
        out.append(f"{table}: {shown.plural(n, 'Friday row references', 'Friday rows reference')} a {parent} row "
                   f"production soft-deleted ({edge}): restored, the parent row is still there (the app hides "
                   "them with it); a parent production deleted outright would make them orphans")
    return out
