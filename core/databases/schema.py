"""Reflect any schema into a small model, and compare two of them table by table.

Generic by construction: tables, keys and references come from SQLAlchemy's
reflection, never from code that names a table. The model is plain data so it can
be shown, saved as JSON and compared; the reflected `sqlalchemy.Table` rides along
for building queries but never leaves core.
"""

from __future__ import annotations

import difflib
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Collection, Iterable

from sqlalchemy import Engine, Integer, MetaData, Table
from sqlalchemy.exc import DBAPIError, SAWarning
from sqlalchemy.types import NullType, UserDefinedType

from ..errors import SchemaMismatch
from .dialects import Dialect, dialect_of
from .dialects.base import ForeignKeyRow, UniqueRow
from .engines import translate

JOURNAL_PREFIX = "gapmend_"


class KeyKind(StrEnum):
    """How a table's rows are identified. A plan file holds the value as a string."""

    SURROGATE = "surrogate"   # one auto-increment integer: a Friday row may move to a new id
    NATURAL = "natural"       # one column of any other kind (a UUID, a code): kept as it is
    COMPOSITE = "composite"   # several columns (a pivot): kept as they are
    NONE = "none"             # no primary key: rows are compared as whole values


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str          # as the database spells it, e.g. "BIGINT(20) UNSIGNED"
    affinity: str      # SQLAlchemy's generic type class, for cross-dialect comparison
    nullable: bool
    has_default: bool
    autoincrement: bool


@dataclass(frozen=True)
class ForeignKeyInfo:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKeyInfo, ...]
    unique_keys: tuple[tuple[str, ...], ...]
    table: Table = field(compare=False, repr=False, hash=False)

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)

    @cached_property
    def key_kind(self) -> KeyKind:
        """How rows are identified (`KeyKind`)."""
        if not self.primary_key:
            return KeyKind.NONE
        if len(self.primary_key) > 1:
            return KeyKind.COMPOSITE
        col = self.column(self.primary_key[0])
        return KeyKind.SURROGATE if col is not None and col.autoincrement else KeyKind.NATURAL

    @cached_property
    def identity(self) -> tuple[str, ...]:
        """The columns that identify a row: the primary key, else every column."""
        return self.primary_key or self.column_names


@dataclass(frozen=True)
class Schema:
    tables: dict[str, TableInfo]
    dialect: Dialect   # the kind of database it was reflected from
    # Reflected for a few tables only (`reflect`'s `only`, with the tables their declared
    # foreign keys name): the other roles are then reflected for the same tables.
    partial: bool = False

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> TableInfo:
        return self.tables[name]


def reflect(engine: Engine, role: str, only: Collection[str] | None = None) -> Schema:
    """Every table of the database behind `engine` (views are not restored), or those of
    `only` that it has and the tables their declared foreign keys name."""
    metadata = MetaData()
    dialect = dialect_of(engine)
    dialect.prepare_reflection(metadata)
    try:
        # gapmend's own journal tables are not application data.
        with warnings.catch_warnings():
            # Constraints SQLAlchemy's DDL parser cannot read (odd names): the catalogue
            # (PRAGMA on SQLite, information_schema on MariaDB) supplies them instead.
            warnings.filterwarnings("ignore", "Unknown schema content", SAWarning)
            warnings.filterwarnings("ignore", ".*SQL-parsed foreign key constraint", SAWarning)
            # Types SQLAlchemy has no class for (spatial ones): named from the catalogue
            # next (`_name_unknown_types`) and copied as the server's own bytes.
            warnings.filterwarnings("ignore", "Did not recognize type", SAWarning)
            wanted = frozenset(only) if only is not None else None
            metadata.reflect(bind=engine, only=lambda name, _md: not name.startswith(JOURNAL_PREFIX)
                             and (wanted is None or name in wanted))
        keys = _catalogue_keys(dialect.catalogue_keys(engine))
        _name_unknown_types(dialect, engine, metadata)
    except DBAPIError as exc:
        raise translate(exc, role, engine.url) from None
    tables = {name: _table_info(table, engine, keys) for name, table in sorted(metadata.tables.items())}
    return Schema(tables=tables, dialect=dialect, partial=only is not None)


class Opaque(UserDefinedType[Any]):
    """A column type SQLAlchemy does not know (``POINT``, ``GEOMETRY``): its values pass
    through as the driver gives them (the server's own bytes) and DDL names it as the
    server spelled it, so a staging table holds the same type."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **_kw: Any) -> str:
        return self.name


def _name_unknown_types(dialect: Dialect, engine: Engine, metadata: MetaData) -> None:
    unknown = {(t.name, c.name): c for t in metadata.tables.values() for c in t.columns if isinstance(c.type, NullType)}
    if not unknown:
        return
    for (table, column), spelled in dialect.spelled_types(engine).items():
        if (table, column) in unknown:
            unknown[table, column].type = Opaque(spelled)


_CatalogueKeys = tuple["dict[str, list[ForeignKeyInfo]] | None", "dict[str, set[tuple[str, ...]]] | None"]


def _catalogue_keys(found: tuple[list[ForeignKeyRow] | None, list[UniqueRow] | None]) -> _CatalogueKeys:
    """The catalogue's foreign and unique keys per table (`Dialect.catalogue_keys`), each
    None where SQLAlchemy's reading is the one to use."""
    fk_rows, unique_rows = found
    fks: dict[str, dict[str, ForeignKeyInfo]] = defaultdict(dict)
    for table, name, col, ref_table, ref_col in fk_rows or ():
        fk = fks[table].get(name) or ForeignKeyInfo((), ref_table, (), name)
        fks[table][name] = ForeignKeyInfo(fk.columns + (col,), ref_table, fk.ref_columns + (ref_col,), name)
    uniques: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for table, index, col in unique_rows or ():
        uniques[table][index].append(col)
    return (None if fk_rows is None else {t: sorted(v.values(), key=lambda f: f.columns) for t, v in fks.items()},
            None if unique_rows is None else {t: {tuple(cols) for cols in v.values()} for t, v in uniques.items()})


def _table_info(table: Table, engine: Engine, catalogue: _CatalogueKeys = (None, None)) -> TableInfo:
    pk = tuple(c.name for c in table.primary_key.columns)
    columns = []
    for col in table.columns:
        is_int = isinstance(col.type, Integer)
        auto = False
        if pk == (col.name,) and is_int:
            auto = dialect_of(engine).numbers_itself(col)
        columns.append(
            ColumnInfo(
                name=col.name,
                type=_type_name(col, engine),
                affinity=_affinity(col.type),
                nullable=bool(col.nullable),
                has_default=col.server_default is not None,
                autoincrement=auto,
            )
        )
    fks = tuple(
        ForeignKeyInfo(
            columns=tuple(e.parent.name for e in fk.elements),
            ref_table=fk.elements[0].column.table.name,
            ref_columns=tuple(e.column.name for e in fk.elements),
            name=fk.name if isinstance(fk.name, str) else None,
        )
        for fk in sorted(table.foreign_key_constraints, key=lambda f: [e.parent.name for e in f.elements])
    )
    uniques: set[tuple[str, ...]] = set()
    for cons in table.constraints:
        if cons.__class__.__name__ == "UniqueConstraint":
            uniques.add(tuple(c.name for c in cons.columns))  # type: ignore[attr-defined]
    for index in table.indexes:
        if index.unique:
            uniques.add(tuple(c.name for c in index.columns))
    if catalogue[0] is not None:
        fks = tuple(catalogue[0].get(table.name, []))
    if catalogue[1] is not None:
        uniques = set(catalogue[1].get(table.name, set()))
    uniques.discard(pk)
    return TableInfo(
        name=table.name,
        columns=tuple(columns),
        primary_key=pk,
        foreign_keys=fks,
        unique_keys=tuple(sorted(uniques)),
        table=table,
    )


def _affinity(type_: object) -> str:
    """The generic type family ("Integer", "String", ...), equal across dialects."""
    affinity = getattr(type_, "_type_affinity", None)
    return affinity.__name__ if isinstance(affinity, type) else type(type_).__name__


def _type_name(col: object, engine: Engine) -> str:
    try:
        return str(col.type.compile(dialect=engine.dialect)).upper()  # type: ignore[attr-defined]
    except Exception:  # a type the dialect cannot render (rare, e.g. reflected NullType)
        return str(col.type).upper()  # type: ignore[attr-defined]


# --- comparison -----------------------------------------------------------------

@dataclass(frozen=True)
class SchemaFinding:
    """One difference between two schemas; `blocking` ones stop the plan."""

    table: str
    what: str
    blocking: bool

    def line(self) -> str:
        return f"{'BLOCKING' if self.blocking else 'allowed '} {self.table}: {self.what}"

    @staticmethod
    def table_of(line: str) -> str:
        """The table a `line` names."""
        return line[len("BLOCKING "):].split(": ", 1)[0]


def compare(source: Schema, target: Schema, source_role: str = "crashed", target_role: str = "production") -> list[SchemaFinding]:
    """What differs between `source` (whose rows we restore) and `target` (where they go).

    Like Alembic's autogenerate: set differences on table names, then column by column on
    the intersection. A column only the target has is allowed when it is nullable or has a
    default (a later migration on production); everything that could lose or mangle a
    source value is blocking.
    """
    findings: list[SchemaFinding] = []
    same_dialect = source.dialect.same_kind(target.dialect)
    for name in sorted(set(source.tables) - set(target.tables)):
        findings.append(SchemaFinding(name, f"table exists in {source_role} but not in {target_role}", True))
    for name in sorted(set(target.tables) - set(source.tables)):
        findings.append(SchemaFinding(name, f"table exists only in {target_role} (nothing to restore)", False))
    for name in sorted(set(source.tables) & set(target.tables)):
        findings.extend(_compare_table(source[name], target[name], same_dialect, source_role, target_role))
    return findings


def _compare_table(s: TableInfo, t: TableInfo, same_dialect: bool, s_role: str, t_role: str) -> Iterable[SchemaFinding]:
    s_cols = {c.name: c for c in s.columns}
    t_cols = {c.name: c for c in t.columns}
    for name in s.column_names:
        if name not in t_cols:
            yield SchemaFinding(s.name, f"column {name} exists in {s_role} but not in {t_role}", True)
    for name in t.column_names:
        if name in s_cols:
            continue
        col = t_cols[name]
        if col.nullable or col.has_default or col.autoincrement:
            yield SchemaFinding(s.name, f"column {name} exists only in {t_role} (nullable or has a default: restored rows get it)", False)
        else:
            yield SchemaFinding(s.name, f"column {name} exists only in {t_role} and is NOT NULL without a default", True)
    for name in s.column_names:
        if name not in t_cols:
            continue
        a, b = s_cols[name], t_cols[name]
        differs = a.type != b.type if same_dialect else a.affinity != b.affinity
        if differs:
            yield SchemaFinding(s.name, f"column {name} is {a.type} in {s_role} but {b.type} in {t_role}", True)
        if a.nullable and not b.nullable:
            yield SchemaFinding(s.name, f"column {name} is nullable in {s_role} but NOT NULL in {t_role}", True)
    if s.primary_key != t.primary_key:
        yield SchemaFinding(s.name, f"primary key is ({', '.join(s.primary_key)}) in {s_role} but ({', '.join(t.primary_key)}) in {t_role}", True)
    if set(s.foreign_keys) != set(t.foreign_keys):
        yield SchemaFinding(s.name, "declared foreign keys differ (references are taken from both)", False)
    if set(s.unique_keys) != set(t.unique_keys):
        only_t = set(t.unique_keys) - set(s.unique_keys)
        if only_t:
            yield SchemaFinding(s.name, f"unique keys only in {t_role}: {sorted(only_t)} (collisions are checked against them)", False)


def require_compatible(findings: list[SchemaFinding]) -> None:
    blocking = [f for f in findings if f.blocking]
    if blocking:
        first = blocking[0]
        more = f" (and {len(blocking) - 1} more; see `gapmend schema`)" if len(blocking) > 1 else ""
        raise SchemaMismatch(f"{first.table}: {first.what}{more}: migrate the databases to the same schema first")


def require_known(names: Iterable[str], known: Iterable[str], role: str = "crashed") -> None:
    """A table name the operator typed must name a table: one line naming the closest
    one otherwise (``skip image`` meant ``images``, and a silent no-op restored it)."""
    tables = sorted(t for t in known if not t.startswith(JOURNAL_PREFIX))
    for name in names:
        if name not in tables:
            close = difflib.get_close_matches(name, tables, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "`gapmend plan` lists the tables"
            raise SchemaMismatch(f"no table {name!r} in the {role} database: {hint}")
