"""A Friday row's unique keys as the restore will write them.

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
are. This module is the rule for the plan's preview (`gap`); the restore spells the
same rule in SQL (`server_copy`,
``_mapped`` over the parents' work tables, where an inserted parent's ``new_id`` is
still NULL when collisions are judged).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

from ..databases.schema import TableInfo
from .graph import Edge, as_held, held_id

Row = tuple[Any, ...]
# (parent table, Friday's id) -> the production key it is written as, or None for "matches nothing"
Target = Callable[[str, Any], Any | None]
T = TypeVar("T")


@dataclass(frozen=True)
class KeyRef:
    """One reference edge through a column of a unique key."""

    index: int                 # the column's position in the row
    type_index: int | None     # the polymorphic type column's position
    type_value: str | None
    parent: str
    boundary: int

    def covers(self, row: Row) -> bool:
        return self.type_index is None or row[self.type_index] == self.type_value


def collision_keys(t: TableInfo, edges: Sequence[Edge]) -> list[tuple[str, ...]]:
    """The keys a Friday row can collide on: every unique key, and the primary key of a
    table keyed by references (a pivot's ``(post_id, tag_id)``), whose written value
    changes with its parents' (a pivot without a primary key: its whole row, or Friday's
    row would be written a second time beside production's once its parent is linked)."""
    keys = list(t.unique_keys)
    ref_columns = {e.columns[0] for e in edges if len(e.columns) == 1}
    if t.key_kind != "surrogate" and ref_columns & set(t.identity):
        keys.append(tuple(t.identity))   # a key-less table's identity is its whole row
    return keys


def key_refs(t: TableInfo, edges: Sequence[Edge], boundaries: Callable[[str], int | None]) -> dict[int, list[KeyRef]]:
    """Column position -> the edges through it whose parent has an integer boundary."""
    out: dict[int, list[KeyRef]] = {}
    names = t.column_names
    for e in edges:
        b = boundaries(e.parent)
        if len(e.columns) != 1 or b is None:
            continue
        i = names.index(e.columns[0])
        ti = names.index(e.type_column) if e.type_column else None
        out.setdefault(i, []).append(KeyRef(i, ti, e.type_value, e.parent, b))
    return out


def whole_row(t: TableInfo, cols: Sequence[str]) -> bool:
    """Whether `cols` is a key-less table's whole row (`collision_keys`): it collides only
    once a reference in it is mapped. Equal as it was, the gap scan has matched it with
    production's rows already, copy by copy: a Friday copy left over is one more row."""
    return t.key_kind == "none" and tuple(cols) == tuple(t.identity)


def written_key(row: Row, idx: Sequence[int], refs: dict[int, list[KeyRef]], target: Target,
                moved_only: bool = False) -> Row | None:
    """The key's values as written, or None when they can match no production row (a
    NULL in it, a reference to a parent that is inserted, skipped or missing, or, with
    `moved_only`, no reference to a parent past its boundary)."""
    out = []
    moved = False
    for i in idx:
        v = row[i]
        if v is None:
            return None
        for ref in refs.get(i, ()):
            held = held_id(v)
            if ref.covers(row) and isinstance(held, int) and held > ref.boundary:
                mapped = target(ref.parent, held)
                if mapped is None:
                    return None
                v, moved = as_held(mapped, v), True
                break
        out.append(v)
    return None if moved_only and not moved else tuple(out)


@dataclass
class WrittenKeys(Generic[T]):
    """Friday's unique values as written -> the Friday row they belong to, looked up the
    way the database compared them with production's: exactly, else blind to case,
    accents and trailing spaces (a ``*_ci`` collation matched another spelling, or the
    production row would not have come back)."""

    exact: dict[Row, T] = field(default_factory=dict)
    _loose: dict[Row, T] | None = None

    def add(self, key: Row, item: T) -> None:
        self.exact.setdefault(key, item)

    def get(self, found: Row) -> T | None:
        hit = self.exact.get(found)
        if hit is not None:
            return hit
        if self._loose is None:
            self._loose = {}
            for key, item in self.exact.items():
                self._loose.setdefault(_loose(key), item)
        return self._loose.get(_loose(found))


def _loose(key: Row) -> Row:
    return tuple(_fold(v) if isinstance(v, str) else v for v in key)


def _fold(text: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bare.casefold().rstrip(" ")
