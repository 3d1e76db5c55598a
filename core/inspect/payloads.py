"""Ids that travel inside values: JSON columns, and JSON held in text columns.

A Laravel notification's ``data`` (``{"thread_id": 12, "reply": 902}``), an activity
log's ``properties``, a model reference ``{"type": "App\\Models\\Reply", "id": 902}``:
restored unchanged, each id would name production's row that holds it now. gapmend
finds such paths in a sample of crashed's values and shows each as an inferred edge
with its evidence and counts, like an implied foreign key; the operator confirms it
(`gapmend edges --confirm ID`) and the restore then rewrites the ids through the id map,
the value staying JSON (`rewrite`), and `verify` expects the rewritten ids. An
unconfirmed path is reported for each restored row whose id it leaves naming a moved row.

A path is the keys from the document's root to the id, ``*`` standing for every element
of a list: ``("items", "*", "user_id")``. A model reference is the object holding the
id, with the key naming its model (``type_key``) and the model it must name.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import inflection
from sqlalchemy import JSON, ColumnElement, Connection, Text, func, or_, select

from ..databases import rows as rowio
from ..databases.schema import KeyKind, Schema, TableInfo
from ..laravel import app_guards
from ..laravel.app_guards import Guard
from . import php_payloads
from .graph import morph_table

SAMPLE = 1000                    # rows read per column to find paths: the first by key,
NEWEST = 2000                    # and the last (Friday's, where the key is an integer)
MAX_CHECKED = 1000               # ids per path looked up in the parent table
TYPE_KEYS = ("type", "class", "model", "model_type")


@dataclass(frozen=True)
class PayloadEdge:
    table: str
    column: str
    path: tuple[str, ...]
    parent: str
    type_key: str | None = None      # a model reference: the sibling key naming the model
    type_value: str | None = None    # ... and the value it holds for this parent
    format: str = "json"             # or a PHP-serialized payload (`php_payloads.JOB`, `SESSION`)

    @property
    def id(self) -> str:
        where = ".".join(self.path)
        if self.type_key is not None:
            where = f"{where}[{self.type_key}={self.type_value}]"
        return f"{self.table}.{self.column}${where}->{self.parent}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": list(self.path), "id": self.id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PayloadEdge":
        return cls(str(data["table"]), str(data["column"]), tuple(str(k) for k in data["path"]), str(data["parent"]),
                   data.get("type_key"), data.get("type_value"), str(data.get("format") or "json"))


def document(value: Any, fmt: str = "json") -> Any | None:
    """The document a column value holds (JSON, a text column's too, or a PHP-serialized
    payload of format `fmt`), or None."""
    if fmt != "json":
        return php_payloads.document(value, fmt) if value is not None else None
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str) or not value[:1] in ("{", "["):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _is_id(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _leaves(doc: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any, dict[str, Any] | None]]:
    """(path, value, the object holding it) of every scalar in `doc`."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, (dict, list)):
                yield from _leaves(v, path + (str(k),))
            else:
                yield path + (str(k),), v, doc
    elif isinstance(doc, list):
        for v in doc:
            if isinstance(v, (dict, list)):
                yield from _leaves(v, path + ("*",))


def _surrogate(schema: Schema, name: str) -> bool:
    t = schema.tables.get(name)
    return t is not None and t.key_kind == KeyKind.SURROGATE


def _parent_by_key(key: str, schema: Schema) -> tuple[str, str] | None:
    """The table a key names by Laravel's conventions: ``thread_id`` → threads, ``reply`` → replies."""
    stem = key[: -len("_id")] if key.endswith("_id") else key if key != "id" else ""
    if not stem:
        return None
    for name in (inflection.pluralize(stem), stem):
        if _surrogate(schema, name):
            how = f"'{key}' names table '{name}'" + (f" (plural of '{stem}')" if name != stem else "")
            return name, how
    return None


def _text_columns(t: TableInfo) -> list[str]:
    """Columns that can hold a document: JSON, and TEXT of any size (Laravel's `json()`
    is LONGTEXT on MariaDB, a notification's `data` is TEXT)."""
    return [c.name for c in t.table.c if c.name not in t.identity and isinstance(c.type, (JSON, Text))]


@dataclass
class Candidate:
    """A path found in crashed's values, with the data's own word on it."""

    edge: PayloadEdge
    evidence: str
    values: int = 0                              # sampled values holding the path
    ids: set[int] = field(default_factory=set)   # the ids they hold
    parents: int = 0                             # ... of which crashed's parent table has a row


def find(conn: Connection, schema: Schema, morph_map: Mapping[str, str],
         guards: Sequence[Guard] = ()) -> list[Candidate]:
    """Paths of ids inside JSON values, from a sample of each text column's values in
    `conn` (crashed): the oldest rows and the newest (Friday's, in an integer-keyed
    table), each path with its evidence and how many of its ids find a parent row."""
    found: dict[PayloadEdge, Candidate] = {}
    for t in schema.tables.values():
        for name in _text_columns(t):
            for value in _sampled(conn, t, name, json_only=True):
                doc = document(value)
                if doc is None:
                    continue
                per_doc: dict[PayloadEdge, tuple[str, set[int]]] = {}
                for path, v, holder in _leaves(doc):
                    if not _is_id(v):
                        continue
                    key = path[-1]
                    if key == "id" and holder is not None:
                        type_key = next((k for k in TYPE_KEYS if isinstance(holder.get(k), str)), None)
                        if type_key is None:
                            continue
                        parent = morph_table(str(holder[type_key]), schema, morph_map)
                        if parent is None or not _surrogate(schema, parent):
                            continue
                        edge = PayloadEdge(t.name, name, path, parent, type_key, str(holder[type_key]))
                        _hold(per_doc, edge, f"'{type_key}': {holder[type_key]!s} → table '{parent}'", v)
                        continue
                    named = _parent_by_key(key, schema)
                    if named is not None:
                        edge = PayloadEdge(t.name, name, path, named[0])
                        _hold(per_doc, edge, f"naming: {named[1]}", v)
                _tally(found, per_doc)
    php = _find_php(conn, schema, morph_map, guards)
    serialized = {e.table for e in php}   # their payloads are not plain JSON: what JSON found there is noise
    found = {e: v for e, v in found.items() if not (e.table in serialized and e.column == "payload")}
    found.update(php)
    for c in found.values():
        c.parents = _existing(conn, schema[c.edge.parent], c.ids)
    return [found[e] for e in sorted(found, key=lambda e: e.id)]


def _sampled(conn: Connection, t: TableInfo, column: str, json_only: bool) -> Iterator[Any]:
    """`column`'s values in the first `SAMPLE` and the last `NEWEST` rows by key, each
    once (`json_only`: those that can be a JSON document). Only those rows are read, by
    the key's index, however large the table: in an integer-keyed table the last rows
    are Friday's, the ones a restore writes."""
    key = [t.table.c[k] for k in t.primary_key]
    orders: list[tuple[list[Any], int]] = (
        [(list(key), SAMPLE), ([k.desc() for k in key], NEWEST)] if key else [([], SAMPLE + NEWEST)])
    seen: set[tuple[Any, ...]] = set()
    for order, n in orders:
        rows = select(*key, t.table.c[column]).order_by(*order).limit(n).subquery("sampled")
        value = rows.c[column]
        cond: list[ColumnElement[bool]] = [value.is_not(None)]
        if json_only and not isinstance(t.table.c[column].type, JSON):
            first = func.substr(value, 1, 1)
            cond.append(or_(first == "{", first == "["))
        for row in conn.execute(select(*rows.c).where(*cond)):
            if tuple(row[:-1]) not in seen or not key:
                seen.add(tuple(row[:-1]))
                yield row[-1]


def _hold(per_doc: dict[PayloadEdge, tuple[str, set[int]]], edge: PayloadEdge, why: str, v: int) -> None:
    """One document holds `edge` (for the reason `why`) with id `v`."""
    per_doc.setdefault(edge, (why, set()))[1].add(v)


def _tally(found: dict[PayloadEdge, Candidate], per_doc: Mapping[PayloadEdge, tuple[str, set[int]]]) -> None:
    for edge, (why, ids) in per_doc.items():
        c = found.setdefault(edge, Candidate(edge, why))
        c.values += 1
        if len(c.ids) < MAX_CHECKED:
            c.ids |= ids


def _existing(conn: Connection, parent: TableInfo, ids: set[int]) -> int:
    """How many of `ids` crashed's `parent` table holds."""
    return sum(1 for _ in rowio.fetch_keys(conn, parent, parent.primary_key, [(v,) for v in sorted(ids)],
                                           select_cols=parent.primary_key))


def ids_at(doc: Any, edge: PayloadEdge) -> list[int]:
    """The ids `edge` finds in `doc`."""
    if edge.format != "json":
        return php_payloads.ids_at(doc, edge.format, edge.type_value)
    out: list[int] = []

    def take(holder: dict[str, Any], key: str) -> None:
        out.append(holder[key])

    _walk(doc, edge, list(edge.path), take)
    return out


def rewrite(doc: Any, edge: PayloadEdge, mapping: Callable[[int], int]) -> int:
    """Replace, in place, each id `edge` finds in `doc` by `mapping(id)`; returns how
    many changed."""
    if edge.format != "json":
        return php_payloads.rewrite(doc, edge.format, edge.type_value, mapping)
    changed = 0

    def put(holder: dict[str, Any], key: str) -> None:
        nonlocal changed
        new = mapping(holder[key])
        if new != holder[key]:
            holder[key] = new
            changed += 1

    _walk(doc, edge, list(edge.path), put)
    return changed


def _walk(node: Any, edge: PayloadEdge, rest: list[str], visit: Callable[[dict[str, Any], str], object]) -> None:
    if not rest:
        return
    head, tail = rest[0], rest[1:]
    if head == "*":
        if isinstance(node, list):
            for item in node:
                _walk(item, edge, tail, visit)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if tail:
        _walk(node[head], edge, tail, visit)
        return
    if not _is_id(node[head]):
        return
    if edge.type_key is not None and node.get(edge.type_key) != edge.type_value:
        return
    visit(node, head)


def dumps_like(doc: Any, original: Any, fmt: str = "json") -> Any:
    """`doc` in the form `original` had: a parsed value stays parsed; text is written
    compact as Laravel's json_encode writes it, or spaced if the original was."""
    if fmt != "json":
        return php_payloads.dumps_like(doc, original, fmt)
    if not isinstance(original, (str, bytes, bytearray)):
        return doc
    text = original if isinstance(original, str) else bytes(original).decode("utf-8", "replace")
    spaced = '": ' in text or '", "' in text
    out = json.dumps(doc, ensure_ascii="\\u" in text or text.isascii(),
                     separators=(", ", ": ") if spaced else (",", ":"))
    return out if isinstance(original, str) else out.encode()


def canonical(doc: Any, fmt: str) -> Any:
    """A form in which two parsed documents compare equal."""
    return doc if fmt == "json" else php_payloads.canonical(doc, fmt)


def _guard_table(guard: str, guards: Sequence[Guard], schema: Schema,
                 morph_map: Mapping[str, str]) -> tuple[str, str] | None:
    """The table a session guard's logged-in id is a row of, and the evidence; None when
    the app's config names no such session guard, or its table is not integer-keyed."""
    how = f"the session's user of guard '{guard}' (login_{guard}_<hash>)"
    if not guards:   # Laravel's default: guard web logs in App\Models\User; another guard is the app's own
        if guard != app_guards.DEFAULT_GUARD:
            return None
        model, source = app_guards.DEFAULT_MODEL, "Laravel's default provider (`--laravel` reads config/auth.php)"
        table = morph_table(model, schema, morph_map)
    else:
        found = next((g for g in guards if g.name == guard), None)
        if found is None:
            return None
        model, source = found.model or f"table {found.table}", found.where
        table = morph_table(found.model, schema, morph_map) if found.model else found.table
    if table is None or not _surrogate(schema, table):
        return None
    return table, f"{how}: {model} by {source} → table '{table}'"


def _find_php(conn: Connection, schema: Schema, morph_map: Mapping[str, str],
              guards: Sequence[Guard] = ()) -> dict[PayloadEdge, Candidate]:
    """Models named inside Laravel's queued jobs (tables with ``queue`` and ``payload``:
    jobs, failed_jobs) and the user of each database session (``payload`` and
    ``last_activity``), from a sample of crashed's payloads."""
    found: dict[PayloadEdge, Candidate] = {}
    for t in schema.tables.values():
        names = set(t.column_names)
        if "payload" not in names:
            continue
        fmt = php_payloads.JOB if "queue" in names else php_payloads.SESSION if "last_activity" in names else None
        if fmt is None:
            continue
        for value in _sampled(conn, t, "payload", json_only=False):
            doc = php_payloads.document(value, fmt)
            if doc is None:
                continue
            per_doc: dict[PayloadEdge, tuple[str, set[int]]] = {}
            if fmt == php_payloads.SESSION:
                for guard, v in php_payloads.logins(doc):
                    named = _guard_table(guard, guards, schema, morph_map)
                    if named is not None:
                        edge = PayloadEdge(t.name, "payload", ("login_*",), named[0], "guard", guard, fmt)
                        _hold(per_doc, edge, named[1], v)
            for cls, v in php_payloads.models(doc) if fmt == php_payloads.JOB else ():
                parent = morph_table(cls, schema, morph_map)
                if parent is not None and _surrogate(schema, parent):
                    edge = PayloadEdge(t.name, "payload", ("data", "command"), parent, "class", cls, fmt)
                    _hold(per_doc, edge, f"a ModelIdentifier of {cls} in the serialized job → table '{parent}'", v)
            _tally(found, per_doc)
    return found


def by_table(edges: list[PayloadEdge]) -> dict[str, dict[str, list[PayloadEdge]]]:
    """table -> column -> its payload edges."""
    out: dict[str, dict[str, list[PayloadEdge]]] = defaultdict(lambda: defaultdict(list))
    for e in edges:
        out[e.table][e.column].append(e)
    return out
