"""The operator's decisions, kept in a small JSON file between runs (mode 0600).

What the operator may say: a table's boundary, an implied edge dropped or an edge
added, a morph-map alias, approve/skip per table, rows picked one by one. Reading a missing file gives the
defaults, so a first run needs no file at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError
from ..private_files import write_private


def key_spec(spec: str) -> tuple[str, tuple[str, ...]]:
    """``table(a,b)`` as (table, its columns); the columns are empty when it is not so written."""
    spec = spec.strip()
    table, _, cols = spec.partition("(")
    if not spec.endswith(")"):
        return table.strip(), ()
    return table.strip(), tuple(c.strip() for c in cols[:-1].split(",") if c.strip())


@dataclass(frozen=True)
class ScopedNumber:
    """A number unique within a parent, not across the table (a comment's ``local_id``
    within its page: ``within`` = ``entity_id, entity_type``), and the columns of the same
    table that name a row by it (a reply's ``parent_id``). The restore renumbers a Friday
    row whose number production's own row holds in that parent (`scoped_numbers`)."""

    table: str
    column: str
    within: tuple[str, ...]
    named_by: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.table}.{self.column}[{','.join(self.within)}]"

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns this decides: the number and those naming rows by it."""
        return (self.column, *self.named_by)


@dataclass
class Decisions:
    boundaries: dict[str, int] = field(default_factory=dict)
    drop_edges: list[str] = field(default_factory=list)
    add_edges: list[str] = field(default_factory=list)
    confirm_edges: list[str] = field(default_factory=list)
    # Integer columns the operator says hold plain values, not ids ("table.column", `census`).
    plain_columns: list[str] = field(default_factory=list)
    # Keys nobody declared, unique by the operator's word: "table(a,b)" (`unique.with_operator_keys`).
    unique_keys: list[str] = field(default_factory=list)
    not_unique: list[str] = field(default_factory=list)   # proposed keys the operator said are none
    # Numbers unique within a parent (`ScopedNumber`): "table.column" -> {"within": [...], "named_by": [...]}.
    scoped: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # Proposals taken by `edges --accept-suggestions`: the edge added -> the evidence shown then.
    accepted: dict[str, str] = field(default_factory=dict)
    morph_map: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)   # table -> "approve" | "skip"
    # Conflicts resolved as "take Friday's value": table -> ["*"] (whole table) or JSON keys.
    take_friday: dict[str, list[str]] = field(default_factory=dict)
    # Rows both sides changed kept whole as production has them (the default, by the
    # mission's rule: a row production changed is not updated): table -> ["*"] or JSON keys.
    keep_production: dict[str, list[str]] = field(default_factory=dict)
    # Rows both sides changed merged by column (`cell_merge`), on the operator's word
    # (`gapmend resolve T [KEY] --take merge`): table -> ["*"] or JSON keys.
    merge_cells: dict[str, list[str]] = field(default_factory=dict)
    # `roles.Finding` ids the operator confirmed ("yes, the roles are right"), each naming the facts it saw.
    roles_confirmed: list[str] = field(default_factory=list)
    # Confirmed paths of ids inside JSON values (`payloads.PayloadEdge.as_dict`).
    payload_edges: list[dict[str, Any]] = field(default_factory=list)
    # Friday rows picked one by one (`picks`): table -> ids; only those rows are restored.
    picked: dict[str, list[int]] = field(default_factory=dict)

    def operator_keys(self) -> dict[str, list[tuple[str, ...]]]:
        """table -> the unique keys the operator declared on it (`unique_keys`)."""
        out: dict[str, list[tuple[str, ...]]] = {}
        for spec in self.unique_keys:
            table, columns = key_spec(spec)
            out.setdefault(table, []).append(columns)
        return out

    def scoped_numbers(self) -> list[ScopedNumber]:
        out = []
        for spec, how in sorted(self.scoped.items()):
            table, _, column = spec.partition(".")
            out.append(ScopedNumber(table, column, tuple(how.get("within", [])), tuple(how.get("named_by", []))))
        return out

    def decide(self, table: str, decision: str) -> None:
        """Approve or skip the whole table: a pick list of its rows (`picks`) goes."""
        self.tables[table] = decision
        self.picked.pop(table, None)

    def choice(self, table: str, key_json: str, merge_cells: bool = False) -> str:
        """What the restore does with a row both sides changed: "friday" (the whole row
        from Friday), "merge" (merged by column, the clashing columns kept as production
        has them) or "production" (the row stays as production has it).

        A row's own word wins over its table's ("*"). Without one, production's row
        stands: the mission's rule is that only rows production has not updated since the
        snapshot are updated; `merge_cells` (``--merge-cells``, ``GAPMEND_MERGE_CELLS``)
        makes the cell merge the default instead."""
        return self.chosen(table, key_json) or ("merge" if merge_cells else "production")

    def chosen(self, table: str, key_json: str) -> str | None:
        """The operator's own word on a row both sides changed (the row's, else its
        table's): "friday", "production" or "merge"; None where nobody decided."""
        for scope in (key_json, "*"):
            for take, chosen in (("friday", self.take_friday), ("production", self.keep_production),
                                 ("merge", self.merge_cells)):
                if scope in chosen.get(table, []):
                    return take
        return None

    def resolve(self, table: str, items: set[str], take: str) -> None:
        """Record `take` ("friday", "production" or "merge") for `items`: JSON keys, or
        "*", every row of the table both sides changed (the rows' own words go with it).
        A row's own word beside a table-wide one is kept: it wins (`chosen`)."""
        for side, chosen in (("friday", self.take_friday), ("production", self.keep_production),
                             ("merge", self.merge_cells)):
            now = set() if "*" in items else set(chosen.get(table, []))
            chosen[table] = sorted(now | items if take == side else now - items)

    def confirm_roles(self, ids: Iterable[str]) -> None:
        """The operator read what the contents suggest about the roles (`roles.Finding`) and
        confirms them: the restore goes ahead on them."""
        self.roles_confirmed = sorted(set(self.roles_confirmed) | set(ids))

    def set_boundary(self, table: str, value: int | None) -> None:
        """The snapshot's last id in `table`, by the operator's word; None: detected again."""
        if value is None:
            self.boundaries.pop(table, None)
        else:
            self.boundaries[table] = value

    def confirm_references(self, edges: Iterable[str], inside: Iterable[dict[str, Any]] = ()) -> None:
        """References the operator confirms: implied edges by id, and paths inside values
        (`PayloadEdge.as_dict`), kept whole so that the restore and verify need no sampling."""
        self.confirm_edges = sorted(set(self.confirm_edges) | set(edges))
        known = {e["id"] for e in self.payload_edges}
        self.payload_edges += [e for e in inside if e["id"] not in known]

    def to_json(self) -> dict[str, Any]:
        return {
            "boundaries": self.boundaries,
            "edges": {"drop": self.drop_edges, "add": self.add_edges, "confirm": self.confirm_edges,
                      "plain": self.plain_columns, "accepted": self.accepted, "scoped": self.scoped,
                      "unique": self.unique_keys, "not_unique": self.not_unique},
            "morph_map": self.morph_map,
            "tables": self.tables,
            "take_friday": self.take_friday,
            "keep_production": self.keep_production,
            "merge_cells": self.merge_cells,
            "roles_confirmed": self.roles_confirmed,
            "payload_edges": self.payload_edges,
            "picked": self.picked,
        }


def load_decisions(path: Path | None) -> Decisions:
    if path is None or not path.exists():
        return Decisions()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"decisions file {path} is unreadable ({exc.__class__.__name__}): fix or delete it") from None
    return decisions_from_json(data, f"decisions file {path}")


def decisions_from_json(data: Any, where: str) -> Decisions:
    """`Decisions.to_json`'s form read back; a wrong shape is one line naming `where`."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a JSON object of decisions: fix or delete it")
    edges = data.get("edges", {})
    try:
        return Decisions(
            boundaries={str(k): int(v) for k, v in data.get("boundaries", {}).items()},
            drop_edges=[str(e) for e in edges.get("drop", [])],
            add_edges=[str(e) for e in edges.get("add", [])],
            confirm_edges=[str(e) for e in edges.get("confirm", [])],
            plain_columns=[str(e) for e in edges.get("plain", [])],
            accepted={str(k): str(v) for k, v in edges.get("accepted", {}).items()},
            scoped={str(k): {str(a): [str(c) for c in b] for a, b in v.items()} for k, v in edges.get("scoped", {}).items()},
            unique_keys=[str(e) for e in edges.get("unique", [])],
            not_unique=[str(e) for e in edges.get("not_unique", [])],
            morph_map={str(k): str(v) for k, v in data.get("morph_map", {}).items()},
            tables={str(k): str(v) for k, v in data.get("tables", {}).items()},
            take_friday={str(k): [str(x) for x in v] for k, v in data.get("take_friday", {}).items()},
            keep_production={str(k): [str(x) for x in v] for k, v in data.get("keep_production", {}).items()},
            merge_cells={str(k): [str(x) for x in v] for k, v in data.get("merge_cells", {}).items()},
            roles_confirmed=[str(x) for x in data.get("roles_confirmed", [])],
            payload_edges=[dict(x) for x in data.get("payload_edges", [])],
            picked={str(k): [int(x) for x in v] for k, v in data.get("picked", {}).items()},
        )
    except (TypeError, ValueError, AttributeError):
        raise ConfigError(f"{where} has a value of the wrong type: fix or delete it") from None


def save_decisions(path: Path, decisions: Decisions) -> None:
    """Write atomically, readable by the owner only."""
    write_private(path, json.dumps(decisions.to_json(), indent=2, sort_keys=True) + "\n", atomic=True)
