"""What one restore's work runs with, and which tables it works on.

Like Alembic's ``AutogenContext``, one value carries what every statement of a restore
(or of the plan's preview of it) needs — production's connection, crashed's, where the
one finds the other's rows, the schema and its references, each table's boundary, the
run, how a statement is executed, progress and cancel — so that the work tables, the
rules over them and the table writes take it instead of a dozen parameters each.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from sqlalchemy import Connection

from ..databases.schema import KeyKind, Schema
from ..inspect.graph import ReferenceGraph
from ..plan.model import Plan, RowClass
from ..progress import NullProgress, Progress
from .crashed_address import CrashedAddress

if TYPE_CHECKING:
    from .classified import Classified


def boundaries_of(plan: Plan, schema: Schema) -> dict[str, int | None]:
    """Each table's boundary as the plan found it; None for a table without an integer key."""
    return {name: plan.table(name).boundary.value if t.key_kind == KeyKind.SURROGATE else None
            for name, t in schema.tables.items()}


@dataclass(frozen=True)
class WorkContext:
    """What the work tables of one restore (or preview) and every statement over them run with."""

    production: Connection         # the session the work tables live in, and every rule runs in
    crashed: Connection            # crashed's own: staged rows and Friday's values read by key
    address: CrashedAddress        # how production's connection names crashed's tables
    schema: Schema                 # crashed's
    graph: ReferenceGraph
    boundaries: Mapping[str, int | None]
    run_id: str
    execute: Callable[[Any], int]  # one set-based statement; returns the rows it touched
    progress: Progress = field(default_factory=NullProgress)
    cancel: threading.Event | None = None
    shapes: Schema | None = None   # the staging tables' column types, when not crashed's (`staging_shapes`)
    # Scratch: a session that may write nothing else (the plan's preview), so every work
    # table TEMPORARY. TEMPORARY work tables are the session's own and gone with it, and
    # cost no data dictionary change to create and drop (an app with 200 busy tables has 400).
    scratch: bool = False
    temporary: bool = False


@dataclass(frozen=True)
class WorkLayout:
    """Which tables of a restore get which work tables, each list in write order."""

    surrogate: tuple[str, ...]     # integer-keyed, with Friday inserts past the boundary: a fate table each
    staged: tuple[str, ...] = ()   # without an integer key, with spooled Friday inserts: staged rows
    updated: tuple[str, ...] = ()  # with Friday updates (or conflicts) to stage and apply
    picks: Mapping[str, frozenset[int]] = field(default_factory=dict)   # restored for the picked ids only

    @classmethod
    def of(cls, plan: Plan, classified: Classified, order: list[str], schema: Schema) -> WorkLayout:
        """The layout of a restore of `order`: integer-keyed tables whose Friday inserts the
        server counted (the others need no work table and no statement: apps have many)."""
        return cls(
            surrogate=tuple(n for n in order if n not in classified.natural
                            and plan.table(n).count(RowClass.FRIDAY_INSERT)),
            staged=tuple(n for n in order if n in classified.spools),
            updated=tuple(n for n in order if classified.has_updates(schema[n])),
            picks=classified.picks)

    @property
    def empty(self) -> bool:
        return not (self.surrogate or self.staged or self.updated)
