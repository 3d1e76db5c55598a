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

from typing import Any, Callable, Mapping, Sequence

from ..plan.model import Merge

Row = tuple[Any, ...]


def merge_cells(key: Row, names: Sequence[str], s: Row, c: Row, p: Row, stamps: frozenset[int],
                new_refs: Mapping[int, Callable[[Row], bool]]) -> tuple[Merge, tuple[str, ...]]:
    """The merge of a row both sides changed, and the columns that clash (both changed
    them to different values): none, and the row is merged; some, and it is a conflict
    whose other columns merge all the same (the clashing ones keep production's value)."""
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
    return Merge(key, tuple(friday), tuple(production), tuple(later)), tuple(clashing)


def written(merge: Merge) -> str:
    """The columns a merge writes, as the restore's staged row carries them: ``,a,b,^t,``
    (``^``: a timestamp, written only where Friday's is the later)."""
    return "," + "".join(f"{n}," for n in merge.friday) + "".join(f"^{n}," for n in merge.later)


def marks(column: str) -> tuple[str, str]:
    """How `written` spells `column` among the columns written: Friday's value, or the later."""
    return f",{column},", f",^{column},"


def friday_columns(mask: str) -> frozenset[str]:
    """The columns `written` spelled as taking Friday's value."""
    return frozenset(c for c in mask.split(",") if c and not c.startswith("^"))


def later_columns(mask: str) -> frozenset[str]:
    """The timestamps `written` spelled as taking the later value."""
    return frozenset(c[1:] for c in mask.split(",") if c.startswith("^"))


def describe(merge: Merge) -> str:
    parts = [f"Friday's {', '.join(merge.friday)}" if merge.friday else "",
             f"production's {', '.join(merge.production)}" if merge.production else "",
             f"the later {', '.join(merge.later)}" if merge.later else ""]
    return "; ".join(p for p in parts if p) or "nothing to write"


def stamp_indices(names: Sequence[str], stamp_columns: Sequence[str]) -> frozenset[int]:
    return frozenset(i for i, n in enumerate(names) if n in stamp_columns)
