"""The restore plan as plain data: what each table's gap holds and what to do with it.

No SQLAlchemy object or widget crosses this boundary: screens and the CLI receive these
dataclasses, render them, and hand back new ones (`dataclasses.replace`). `to_dict`
gives the JSON form that `gapmend plan --json` prints and a later step can read.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .. import shown


class RowClass(str, enum.Enum):
    """What happened to a row after the snapshot, and so what the restore does with it."""

    FRIDAY_INSERT = "friday_insert"          # restore (under a new id if production took it)
    PRODUCTION_INSERT = "production_insert"  # keep
    FRIDAY_UPDATE = "friday_update"          # apply: production left the row alone
    PRODUCTION_UPDATE = "production_update"  # keep
    CONFLICT = "conflict"                    # both changed it, or gapmend cannot tell: report
    MERGE = "merge"                          # both changed other columns: Friday's applied, production's kept
    CONVERGED = "converged"                  # both made the same change: nothing to do
    FRIDAY_DELETE = "friday_delete"          # apply only if the operator opts in
    PRODUCTION_DELETE = "production_delete"  # never resurrected

    @property
    def label(self) -> str:
        """The class in the operator's words (the value is the plan file's)."""
        return {"friday_insert": "Friday's new rows", "production_insert": "production's new rows",
                "friday_update": "Friday's updates", "production_update": "production's updates",
                "conflict": "changed on both sides", "merge": "changed on both sides, other columns",
                "converged": "the same change on both sides", "friday_delete": "deleted on Friday",
                "production_delete": "deleted by production"}[self.value]


# Why a restore did not insert a Friday row as a new one (its report and journal say it;
# `plan_file` reads them back to compare with the reviewed plan).
COLLIDED = "unique key held by production"
ORPHANED = "parent deleted by production"


class Decision(str, enum.Enum):
    PENDING = "pending"
    APPROVE = "approve"
    SKIP = "skip"


@dataclass(frozen=True)
class Boundary:
    """Where the snapshot ends in a table with an integer key (``value`` is the last
    snapshot id), or how rows were attributed in any other table (``value`` None)."""

    value: int | None
    method: str        # "snapshot" | "snapshot_at" | "content" | "operator" | "by key"
    confidence: str    # "exact" | "high" | "medium" | "low" | "operator"
    evidence: str

    @property
    def unconfirmed(self) -> bool:
        """An id boundary gapmend only estimated: below "high", the restore will not
        write the table until the operator confirms or sets it (`gapmend boundary`)."""
        return self.value is not None and self.confidence not in ("exact", "high", "operator")


@dataclass(frozen=True)
class Conflict:
    key: tuple[Any, ...]
    reason: str
    # (column, snapshot's value, Friday's value, production's value) for differing columns
    values: tuple[tuple[str, Any, Any, Any], ...]
    # The cell merge of its other columns (`cell_merge`): what the restore writes by
    # default beside the clashing ones, which keep production's value.
    merge: Merge | None = None


@dataclass(frozen=True)
class Merge:
    """A row both sides changed in different columns (`cell_merge`): where each comes from."""

    key: tuple[Any, ...]
    friday: tuple[str, ...]        # Friday's value is written
    production: tuple[str, ...]    # production's value stays
    later: tuple[str, ...] = ()    # timestamps both changed: the later of the two


@dataclass(frozen=True)
class Collision:
    key: tuple[Any, ...]                 # Friday's row
    unique_columns: tuple[str, ...]
    value: tuple[Any, ...]
    production_key: tuple[Any, ...]      # the production row that holds the value


@dataclass(frozen=True)
class Orphan:
    key: tuple[Any, ...]                 # Friday's row
    edge: str                            # the reference whose parent is gone
    parent_key: Any


@dataclass(frozen=True)
class Target:
    """For one value of a discriminator column, the table a column's values name."""

    value: str
    parent: str
    parent_key: str
    named: int                # Friday values of this kind naming a row of `parent` in crashed
    moved: int                # ... naming a moved `parent` id


@dataclass(frozen=True)
class IdColumn:
    """One integer column nobody declared as a reference, whose Friday values name moved ids."""

    table: str
    column: str
    parent: str               # the proposal: the table most of its moved-id values name
    parent_key: str
    friday_values: int        # Friday rows holding a value other than NULL and 0
    named: int                # ... naming a row of `parent` in crashed
    moved: int                # ... naming a Friday-only `parent` id production took (left as is: the wrong row)
    # When another column chooses the target (an upload's `type`): its name, and the
    # table each of its values names; the proposal is then one edge per value.
    discriminator: str | None = None
    targets: tuple[Target, ...] = ()
    # A path of ids inside the column's JSON or serialized values (`payloads`), not yet
    # confirmed: its id; `friday_values` are then the ids sampled, `named` those finding a row.
    payload: str | None = None
    # A reference implied by naming alone that the data contradicts (some Friday values
    # name no parent row), not yet confirmed: its edge id.
    implied: str | None = None
    # The values are unique within these columns (a parent) and repeat across parents:
    # the proposal is a number within its parent (`ScopedNumber`), not a reference.
    within: tuple[str, ...] = ()
    # The values name a row of the same parent (`within`) by this number column, not by
    # its id (a reply's parent by its number in the thread): `named` of `friday_values`
    # do, `moved` name one by id. The proposal: `--scoped-ref`.
    names_number: str | None = None
    # A pair of references no row repeats though each does alone (a per-user counter's
    # (user, item)), which a Friday row holds as production's row does: the proposal is
    # a key the application keeps (`gapmend edges --unique`). `column` is "a,b".
    unique: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        if self.unique:
            return f"{self.table}({','.join(self.unique)})"
        return self.payload or self.implied or f"{self.table}.{self.column}"

    @property
    def inferred(self) -> bool:
        """An edge gapmend inferred, decided by confirming or dropping it (not by adding one)."""
        return (self.payload is not None or self.implied is not None) and self.names_number is None

    @property
    def edges(self) -> list[str]:
        """The edges `--accept-suggestions` adds (`graph`'s spelling), or the inferred
        edge it confirms."""
        if self.unique:
            return [self.id]
        if self.names_number is not None:
            return [f"{self.table}.{self.column}->{self.table}.{self.names_number}"]
        if self.inferred:
            return [self.id]
        if self.within:
            return [f"{self.table}.{self.column}[{','.join(self.within)}]"]
        if self.discriminator is None:
            return [f"{self.table}.{self.column}->{self.parent}.{self.parent_key}"]
        return [f"{self.table}.{self.column}[{self.discriminator}={t.value}]->{t.parent}.{t.parent_key}"
                for t in self.targets]

    def proposal(self) -> str:
        """The proposal in words."""
        if self.unique:
            return f"a key the application keeps: {self.id}"
        if self.names_number is not None:
            return f"names a row by its {self.names_number} within its {', '.join(self.within)}: {self.edges[0]}"
        if self.inferred:
            return "confirm: the restore rewrites these ids"
        if self.within:
            return f"a number within its {', '.join(self.within)}: {self.edges[0]}"
        return ", ".join(self.edges)

    def command(self) -> str:
        """The console command that takes the proposal."""
        if self.unique:
            return f"gapmend edges --unique '{self.id}'"
        if self.names_number is not None:
            scoped = f"{self.table}.{self.names_number}[{','.join(self.within)}]"
            return f"gapmend edges --scoped '{scoped}' --scoped-ref '{self.edges[0]}'"
        if self.inferred:
            return f"gapmend edges --confirm '{self.id}'"
        if self.within:
            return f"gapmend edges --scoped '{self.edges[0]}'"
        return "gapmend edges " + " ".join(f"--add '{e}'" for e in self.edges)

    def reject_command(self) -> str:
        """The console command that says the proposal is wrong: not a key, not a
        reference (an inferred edge dropped), or a plain value."""
        if self.unique:
            return f"gapmend edges --not-unique '{self.id}'"
        if self.inferred:
            return f"gapmend edges --drop '{self.id}'"
        return f"gapmend edges --plain {self.id}"

    def evidence(self) -> str:
        if self.unique:
            return (f"({', '.join(self.unique)}): no row of crashed or production holds a pair twice, though each "
                    f"column repeats alone; {self.named} of {self.friday_values} Friday rows hold a pair a production "
                    "row holds (inserted, the application would find two)")
        if self.names_number is not None:
            return (f"{self.column}: implied as a {self.table} id, but {self.named} of {self.friday_values} Friday "
                    f"values are the {self.names_number} of a row of the same {', '.join(self.within)} "
                    f"({self.moved} the id of one)")
        if self.implied is not None:
            return (f"{self.column}: implied by its name, but only {self.named} of {self.friday_values} Friday values "
                    f"name a {self.parent} row; {self.moved} name Friday-only {self.parent} ids the restore would rewrite")
        if self.within:
            parent = ", ".join(self.within)
            return (f"{self.column}: unique within {parent} in crashed, repeated across them: a number within its "
                    f"{parent}, not an id ({self.moved} of {self.friday_values} Friday values equal moved {self.parent} ids)")
        if self.payload is not None:
            return (f"ids inside {self.column}: {self.named} of {self.friday_values} sampled ids are {self.parent} ids; "
                    f"{self.moved} name Friday-only {self.parent} ids that production's rows took")
        if self.discriminator is None:
            return (f"{self.column}: {self.named} of {self.friday_values} Friday values are {self.parent} ids; "
                    f"{self.moved} name Friday-only {self.parent} ids that production's rows took")
        kinds = ", ".join(f"{self.discriminator} = {t.value!r}: {t.named} are {t.parent} ids, {t.moved} moved ones"
                          for t in self.targets)
        return f"{self.column}: {self.friday_values} Friday values, their table chosen by {self.discriminator} ({kinds})"


@dataclass(frozen=True)
class TableGap:
    table: str
    key_kind: str                                   # surrogate | natural | composite | none
    identity: tuple[str, ...]
    boundary: Boundary
    counts: dict[str, int]                          # RowClass value -> rows
    samples: dict[str, list[tuple[Any, ...]]]       # RowClass value -> a few keys
    conflicts: list[Conflict] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    collisions: list[Collision] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    references_out: list[str] = field(default_factory=list)   # edges from this table
    references_in: list[str] = field(default_factory=list)    # edges into it
    production_max_id: int | None = None
    crashed_max_id: int | None = None
    decision: Decision = Decision.PENDING
    truncated: bool = False                         # conflicts/collisions/orphans lists capped

    ids_taken: int = 0                              # Friday inserts whose id production holds
    restored: int = 0                               # Friday rows a committed run already restored (journal)
    default_reason: str | None = None               # the decision is gapmend's default (`framework`), and why
    default_fixed: bool = False                     # ... and the operator cannot change it (`migrations`)
    picked: tuple[int, ...] | None = None           # only these Friday rows are restored (`picks`)
    soft_deletes: int = 0                           # Friday updates that are soft deletes (`soft_deletes`)
    soft_deleted_parents: dict[str, int] = field(default_factory=dict)   # edge -> Friday rows whose parent
                                                    # production soft-deleted (restored, not orphans)

    def count(self, cls: RowClass) -> int:
        return self.counts.get(cls.value, 0)

    @property
    def has_work(self) -> bool:
        return any(self.count(c) for c in (RowClass.FRIDAY_INSERT, RowClass.FRIDAY_UPDATE, RowClass.FRIDAY_DELETE,
                                           RowClass.CONFLICT, RowClass.MERGE))


@dataclass(frozen=True)
class PlanEdge:
    """A reference of the graph as the plan shows it (`graph.Edge`), with the operator's word."""

    id: str                    # "child.col->parent.col"
    child: str
    columns: list[str]
    parent: str
    parent_columns: list[str]
    kind: str                  # declared | implied | polymorphic (VALUE) | …, in words
    evidence: str
    confirmed: bool


@dataclass(frozen=True)
class FoundPayloadEdge:
    """A path of ids inside crashed's JSON or serialized values (`payloads.PayloadEdge`'s
    fields), with what a sample of the values says of it and the operator's word."""

    table: str
    column: str
    path: list[str]
    parent: str
    type_key: str | None
    type_value: str | None
    format: str
    id: str
    evidence: str
    sampled: int               # sampled values holding the path
    ids: int                   # the ids they hold
    ids_found: int             # ... of which crashed's parent table has a row
    confirmed: bool
    moved: int                 # ... Friday-only ids the restore moves

    def sampled_said(self) -> str:
        """How many sampled values hold the path, and how many of their ids find a row."""
        return (f"in {shown.plural(self.sampled, 'sampled value')}, {self.ids_found} of "
                f"{shown.plural(self.ids, 'id')} finding a row in {self.parent}")

    def as_decided(self) -> dict[str, Any]:
        """The path as the decisions file keeps a confirmed one (`PayloadEdge.as_dict`)."""
        return {"table": self.table, "column": self.column, "path": list(self.path), "parent": self.parent,
                "type_key": self.type_key, "type_value": self.type_value, "format": self.format, "id": self.id}


@dataclass(frozen=True)
class PlanTrigger:
    """One of production's triggers on a table the restore writes (`databases.triggers`)."""

    name: str
    table: str
    timing: str     # BEFORE | AFTER
    event: str      # INSERT | UPDATE | DELETE
    writes: str     # what its body writes, in words
    action: str     # what the restore does about it


@dataclass(frozen=True)
class QueuedJob:
    """One of Friday's queued jobs (a row of a table shaped like Laravel's ``jobs``)."""

    table: str
    id: Any
    job: str                   # the job's class, or "(not a Laravel job)"
    models: list[str]          # the models its payload names
    available_at: Any          # when it is due (UTC), as the row holds it


@dataclass(frozen=True)
class RoleFacts:
    """What tells one role's database apart (`roles.read_facts`)."""

    role: str
    server: str                     # "SQLite file" or "MariaDB 11.x at host:port"
    database: str
    size_bytes: int | None
    latest_write: datetime | None   # the newest stamp found
    latest_at: str | None = None    # where: table.column

    def line(self) -> str:
        size = "size unknown" if self.size_bytes is None else _size(self.size_bytes)
        latest = f"latest write {self.latest_write:%Y-%m-%d %H:%M:%S} ({self.latest_at})" if self.latest_write \
            else "no timestamps read"
        return f"{self.role:<10} {self.server}, {self.database}, {size}, {latest}"


@dataclass(frozen=True)
class RoleFinding:
    """What the databases' contents say against the shape of a crash (`roles`)."""

    kind: str           # roles.REFUSE | roles.CONFIRM
    id: str             # what a confirmation names: the check and the facts it saw
    message: str


def _size(n: int) -> str:
    value: float = n
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


@dataclass(frozen=True)
class Plan:
    """Everything gapmend knows before writing: per table gaps, the reference graph, the order."""

    tables: list[TableGap]
    order: list[str]
    cycles: list[list[str]]
    edges: list[PlanEdge]
    schema_findings: list[str]
    unmatched_columns: list[str]
    mode: str                 # "three-way (snapshot)" | "snapshot time" | "content"
    created_at: str
    connections: dict[str, str | None]   # masked URLs
    # Role -> what names its database whatever the URL says (a plan file's restore
    # refuses other databases, `plan_file`).
    identities: dict[str, str | None] = field(default_factory=dict)
    elapsed_s: float = 0.0
    # Production's triggers on the tables with work: name, table, timing, event, what it
    # writes and what the restore does about it (`triggers`).
    triggers: list[PlanTrigger] = field(default_factory=list)
    # Which database is which (`roles.RoleFacts`: server, name, size, latest write), and
    # what their contents say against the shape of a crash (`roles.Finding`).
    roles: list[RoleFacts] = field(default_factory=list)
    # Paths of ids inside JSON values found in crashed (`payloads`): the edge's fields,
    # its evidence, how many sampled values hold it, and whether the operator confirmed it.
    payload_edges: list[FoundPayloadEdge] = field(default_factory=list)
    # Friday's queued jobs, one by one (table, id, job, models named, when), so the
    # operator can judge them before letting any be restored (`queued_jobs`).
    queued_jobs: list[QueuedJob] = field(default_factory=list)
    role_findings: list[RoleFinding] = field(default_factory=list)
    # Integer columns nobody declared as references whose Friday values name moved ids
    # (`census`): the restore refuses until each is decided.
    id_columns: list[IdColumn] = field(default_factory=list)

    def table(self, name: str) -> TableGap:
        return next(t for t in self.tables if t.table == name)


def jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def to_dict(plan: Plan) -> dict[str, Any]:
    return jsonable(asdict(plan))  # type: ignore[no-any-return]
