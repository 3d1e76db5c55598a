"""Which keys a Friday row can collide on, as the restore will write it.

A collision is a Friday row whose **written** values equal a production row's unique
key: judged on Friday's raw values, a key holding a reference column (a pivot's
``UNIQUE(team_id, user_id)``, ``stores.manager_staff_id``) would match production's row
of the same *number*, which names a different parent once Friday's parent has moved.

The written value of a reference column pointing past its parent's boundary is the
parent row's final key:

- the parent is **linked** (it collided) or was **restored by a committed run**: that
  production key, compared as it is;
- the parent is **inserted** now: an id production has never used (past its highest, and
  the restore holds the range), so the key can match no production row;
- the parent is **skipped** or not in this restore: the row is skipped too, for that
  reason; its key matches nothing.

Values at or below the boundary, and the polymorphic type column, are written as they
are. The restore's rules spell this in SQL over the parents' work tables (`apply`:
``mapped``, where an inserted parent's ``new_id`` is still NULL when collisions are
judged); the plan shows what they decide (`apply.preview`).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from ..databases.schema import KeyKind, Schema, TableInfo
from ..errors import PlanError
from ..plan.decisions import Decisions
from .graph import Edge


def with_operator_keys(schema: Schema, decisions: Decisions) -> Schema:
    """`schema` with the unique keys the operator declared (`gapmend edges --unique`):
    the application keeps them (a per-user counter read by "first or create") though no
    index says so. Every rule then treats them as declared ones: a Friday row whose key
    production holds is a collision, linked to production's row."""
    extra = decisions.operator_keys()
    if not extra:
        return schema
    tables = dict(schema.tables)
    for name, keys in extra.items():
        t = tables.get(name)
        if t is None or any(c not in t.column_names for key in keys for c in key) or any(not k for k in keys):
            raise PlanError(f"unique key {name}({', '.join(keys[0])}) in the decisions file names no such table or "
                            "column of crashed: fix it with `gapmend edges --unique 'TABLE(A,B)'`")
        added = tuple(k for k in keys if k not in t.unique_keys)
        tables[name] = dataclasses.replace(t, unique_keys=t.unique_keys + added)
    return dataclasses.replace(schema, tables=tables)


def collision_keys(t: TableInfo, edges: Sequence[Edge]) -> list[tuple[str, ...]]:
    """The keys a Friday row can collide on: every unique key, and the primary key of a
    table keyed by references (a pivot's ``(post_id, tag_id)``), whose written value
    changes with its parents' (a pivot without a primary key: its whole row, or Friday's
    row would be written a second time beside production's once its parent is linked)."""
    keys = list(t.unique_keys)
    ref_columns = {e.columns[0] for e in edges if len(e.columns) == 1}
    if t.key_kind != KeyKind.SURROGATE and ref_columns & set(t.identity):
        keys.append(tuple(t.identity))   # a key-less table's identity is its whole row
    return keys


def whole_row(t: TableInfo, cols: Sequence[str]) -> bool:
    """Whether `cols` is a key-less table's whole row (`collision_keys`): it collides only
    once a reference in it is mapped. Equal as it was, the gap scan has matched it with
    production's rows already, copy by copy: a Friday copy left over is one more row."""
    return t.key_kind == KeyKind.NONE and tuple(cols) == tuple(t.identity)
