"""Cell-level three-way merge: a row both sides changed, merged column by column.

When Friday and production changed **different columns** of a row, both changes stand:
the merged row takes Friday's value where only Friday changed the column, production's
where only production did. Only a column both changed to different values is a
conflict. The timestamp columns an app stamps on every save (Laravel's ``updated_at``,
and any the operator names: ``GAPMEND_STAMP_COLUMNS``) are not compared that way: when
both sides changed one, the later of the two stands.

A reference column whose value points past its parent's boundary names a different row
on each side (`classify._same`), so the same number written by both is a clash, not an
agreement. Without a snapshot nothing says which side changed which column: rows both
sides may have changed stay conflicts there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

Row = tuple[Any, ...]


@dataclass(frozen=True)
class CellMerge:
    """Which side each changed column of a merged row comes from."""

    friday: tuple[str, ...]       # only Friday changed it: Friday's value
    production: tuple[str, ...]   # only production changed it: production's value stays
    later: tuple[str, ...]        # a timestamp both changed: the later value

    @property
    def written(self) -> tuple[str, ...]:
        """The columns the restore writes (Friday's, and the timestamps it compares)."""
        return self.friday + self.later

    def describe(self) -> str:
        parts = [f"Friday's {', '.join(self.friday)}" if self.friday else "",
                 f"production's {', '.join(self.production)}" if self.production else "",
                 f"the later {', '.join(self.later)}" if self.later else ""]
        return "merged by column: " + "; ".join(p for p in parts if p)


def merge_cells(names: Sequence[str], s: Row, c: Row, p: Row, stamps: frozenset[int],
                new_refs: Mapping[int, Callable[[Row], bool]]) -> tuple[CellMerge | None, tuple[str, ...]]:
    """The merge of a row both sides changed, or None and the columns that clash."""
    friday: list[str] = []
    production: list[str] = []
    later: list[str] = []
    clashing: list[str] = []
    for i, name in enumerate(names):
        c_changed, p_changed = c[i] != s[i], p[i] != s[i]
        if c_changed and p_changed:
            if i in stamps:
                later.append(name)
            elif c[i] != p[i] or (i in new_refs and new_refs[i](c)):
                clashing.append(name)
            # changed alike (and not a reference to a new row): nothing to write
        elif c_changed:
            friday.append(name)
        elif p_changed:
            production.append(name)
    if clashing:
        return None, tuple(clashing)
    return CellMerge(tuple(friday), tuple(production), tuple(later)), ()


def stamp_indices(names: Sequence[str], stamp_columns: Sequence[str]) -> frozenset[int]:
    return frozenset(i for i, n in enumerate(names) if n in stamp_columns)
