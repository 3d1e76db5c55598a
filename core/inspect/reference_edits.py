"""The operator's word on the references, checked against crashed's schema and recorded
in the decisions; and the references as they then stand, with the data's word on each.

``gapmend edges`` is this module's console face. The wizard's references screen takes or
rejects the census's proposals (`census.accept`, `census.reject`) and confirms through
the same `Decisions.confirm_references`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..config import Settings
from ..databases.engines import connect, open_engine
from ..databases.schema import Schema, reflect
from ..errors import DecisionError
from ..plan.decisions import Decisions, key_spec
from ..plan.model import FoundPayloadEdge
from .gap import payload_candidates
from .graph import Edge, ReferenceGraph, build_graph, column_spec, edge_counts, graph_decisions
from .payloads import PayloadEdge


@dataclass(frozen=True)
class ReferenceEdits:
    """What the operator says of the references (each a spec as ``gapmend edges`` takes it)."""

    drop: tuple[str, ...] = ()         # edge ids that are no reference
    confirm: tuple[str, ...] = ()      # implied edges and paths inside values that are
    add: tuple[str, ...] = ()          # references nothing declared
    morph: tuple[str, ...] = ()        # VALUE=TABLE: a polymorphic type's table
    plain: tuple[str, ...] = ()        # TABLE.COLUMN[D=V]: plain values, not ids
    scoped: tuple[str, ...] = ()       # TABLE.COLUMN[PARENT,...]: a number within a parent
    scoped_ref: tuple[str, ...] = ()   # TABLE.COLUMN->TABLE.NUMBER: naming a row by that number
    unique: tuple[str, ...] = ()       # TABLE(A,B): a key the application keeps
    not_unique: tuple[str, ...] = ()   # TABLE(A,B): a proposed key that is none

    @property
    def any(self) -> bool:
        return any(dataclasses.astuple(self))


@dataclass(frozen=True)
class ListedEdge:
    """One reference as it stands, for the operator."""

    edge_kind: str           # declared, implied, polymorphic, added, self
    state: str               # declared, operator's, confirmed, unconfirmed
    id: str
    evidence: str
    found: tuple[int, int] | None = None   # an inferred edge's values in crashed, and those finding a parent


@dataclass(frozen=True)
class References:
    """The reference graph as the decisions make it, and the paths of ids inside values."""

    graph: ReferenceGraph
    edges: list[ListedEdge]
    inside: list[FoundPayloadEdge] = field(default_factory=list)


def edit_references(settings: Settings, decisions: Decisions, edits: ReferenceEdits) -> References:
    """Record `edits` in `decisions` (each checked against crashed's schema first: a
    refused one raises `DecisionError` and the caller saves nothing), then read the
    references as they stand."""
    crashed = open_engine(settings.crashed, "crashed")
    production = open_engine(settings.production, "production")
    try:
        schema = reflect(crashed, "crashed")
        with connect(crashed, "crashed") as conn:
            inside = {e.id: e for e in payload_candidates(conn, schema, decisions, settings)}
        if edits.any:
            record(edits, decisions, schema, inside)
            inside = {i: dataclasses.replace(e, confirmed=e.confirmed or i in edits.confirm)
                      for i, e in inside.items() if i not in edits.drop}
        with connect(crashed, "crashed") as cc, connect(production, "production") as pc:
            graph = build_graph(schema, [cc, pc], graph_decisions(decisions, settings.app_aliases))
            listed = [_listed(e, decisions, edge_counts(cc, schema, e) if e.kind != "declared" else None)
                      for e in graph.edges]
        return References(graph, listed, list(inside.values()))
    finally:
        crashed.dispose()
        production.dispose()


def _listed(e: Edge, decisions: Decisions, counts: tuple[int, int] | None) -> ListedEdge:
    """`e` with the operator's word on it and (inferred) the data's: its values in crashed
    and how many find a parent row."""
    state = ("declared" if e.kind == "declared" else "operator's" if e.kind == "added" else
             "confirmed" if e.id in decisions.confirm_edges else "unconfirmed")
    found = None if counts is None else (counts[0], counts[0] - counts[1])
    return ListedEdge(e.describe_kind(), state, e.id, e.evidence, found)


def record(edits: ReferenceEdits, decisions: Decisions, schema: Schema,
           inside: dict[str, FoundPayloadEdge]) -> None:
    """`edits` into `decisions`, each checked against `schema` (crashed's); `inside` are
    the paths of ids inside values found, which a confirmation may name."""
    unknown = [p for p in edits.plain if not _known_column(schema, p)]
    if unknown:
        raise DecisionError(f"--plain {unknown[0]}: no such column in crashed; write it as TABLE.COLUMN "
                            "(or TABLE.COLUMN[DISCRIMINATOR=VALUE])")
    for spec in edits.scoped:
        _scope(decisions, schema, spec)
    for spec in edits.scoped_ref:
        _scope_ref(decisions, spec)
    for spec in edits.unique:
        _unique(decisions, schema, spec)
    for spec in edits.not_unique:
        _unique(decisions, schema, spec, key=False)
    decisions.confirm_references(set(edits.confirm) - set(inside), [inside[i].as_decided() for i in edits.confirm
                                                                    if i in inside and not inside[i].confirmed])
    dropped = set(edits.drop)
    decisions.payload_edges = [d for d in decisions.payload_edges if PayloadEdge.from_dict(d).id not in dropped]
    decisions.drop_edges = sorted(set(decisions.drop_edges) | dropped)
    decisions.add_edges = sorted(set(decisions.add_edges) | set(edits.add))
    decisions.plain_columns = sorted(set(decisions.plain_columns) | set(edits.plain))
    for item in edits.morph:
        value, sep, table = item.partition("=")
        if not sep:
            raise DecisionError(f"--morph {item!r}: write it as VALUE=TABLE")
        decisions.morph_map[value] = table


def _scope(decisions: Decisions, schema: Schema, spec: str) -> None:
    """``--scoped T.col[parent,...]``: recorded, once every column is one crashed has."""
    table, column, within = "", "", ""
    if spec.endswith("]") and "[" in spec:
        head, _, within = spec[:-1].partition("[")
        table, _, column = head.partition(".")
    t = schema.tables.get(table)
    parents = [c.strip() for c in within.split(",") if c.strip()]
    if t is None or column not in t.column_names or not parents or any(c not in t.column_names for c in parents):
        raise DecisionError(f"--scoped {spec!r}: write it as TABLE.COLUMN[PARENT_COLUMN,...], with columns "
                            "crashed's table has")
    named = decisions.scoped.get(f"{table}.{column}", {}).get("named_by", [])
    decisions.scoped[f"{table}.{column}"] = {"within": parents, "named_by": list(named)}


def _unique(decisions: Decisions, schema: Schema, spec: str, key: bool = True) -> None:
    """``--unique T(a,b)`` (`key`) or ``--not-unique T(a,b)``: recorded, once every column
    is one crashed's table has; the one undoes the other."""
    table, columns = key_spec(spec)
    t = schema.tables.get(table)
    if t is None or not columns or any(c not in t.column_names for c in columns):
        option = "--unique" if key else "--not-unique"
        raise DecisionError(f"{option} {spec!r}: write it as TABLE(COLUMN,COLUMN), with columns crashed's table has")
    said = {f"{table}({','.join(columns)})"}
    keys, not_keys = set(decisions.unique_keys), set(decisions.not_unique)
    decisions.unique_keys = sorted(keys | said if key else keys - said)
    decisions.not_unique = sorted(not_keys - said if key else not_keys | said)


def _scope_ref(decisions: Decisions, spec: str) -> None:
    """``--scoped-ref T.col->T.number``: a column of the same table naming a row by its scoped number."""
    left, sep, right = spec.partition("->")
    table, _, column = left.strip().partition(".")
    number = right.strip()
    if not sep or number not in decisions.scoped or not number.startswith(f"{table}.") or not column:
        raise DecisionError(f"--scoped-ref {spec!r}: write it as TABLE.COLUMN->TABLE.NUMBER, the number declared "
                            "with --scoped first")
    how = decisions.scoped[number]
    how["named_by"] = sorted(set(how.get("named_by", [])) | {column})


def _known_column(schema: Schema, spec: str) -> bool:
    """Whether `spec` (``T.col`` or ``T.col[d=value]``) names columns `schema` has."""
    try:
        table, column, discriminator, _ = column_spec(spec)
    except ValueError:
        return False
    t = schema.tables.get(table)
    return t is not None and column in t.column_names and (discriminator is None or discriminator in t.column_names)
