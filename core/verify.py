"""Check production after a restore, from the journal: exits non-zero on any problem.

What it proves: every row the journal says was inserted is in production exactly once
under its new key; every reference those rows hold (declared, implied, polymorphic)
finds its parent; no old key was restored twice; auto-increment counters lie past every
used id, so the application's next insert cannot collide with a restored row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Connection, func, select, text

from . import journal, rows as rowio
from .gap import Sources
from .config import Settings
from .db import is_mysql
from .graph import build_graph
from .schema import Schema, reflect


def verify(settings: Settings) -> tuple[list[str], dict[str, int]]:
    """(problems, counts checked). Read-only."""
    sources = Sources.open(settings)
    try:
        schema = reflect(sources.production, "production")
        with sources.production.connect() as p:
            if not p.dialect.has_table(p, journal.ID_MAP):
                return ["no gapmend journal in production: nothing was restored yet (run gapmend restore)"], {}
            return _verify(p, schema)
    finally:
        sources.dispose()


def _verify(p: Connection, schema: Schema) -> tuple[list[str], dict[str, int]]:
    problems: list[str] = []
    inserted: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    olds: Counter[tuple[str, str]] = Counter()
    for table, old, new, action in journal.iter_entries(p):
        if action == "inserted" and new is not None:
            inserted[table].append(new)
            olds[(table, journal.encode(old))] += 1
    for (table, old_key), n in olds.items():
        if n > 1:
            problems.append(f"{table}: Friday row {old_key} was restored {n} times")
    graph = build_graph(schema, [p])
    counts = {"rows": 0, "references": 0}
    for table, keys in inserted.items():
        if table not in schema:
            problems.append(f"{table}: in the journal but not in production")
            continue
        t = schema[table]
        if not t.primary_key:
            counts["rows"] += len(keys)
            continue
        dupes = [k for k, n in Counter(keys).items() if n > 1]
        problems.extend(f"{table}: new key {k} given to more than one Friday row" for k in dupes[:5])
        found = {tuple(r) for r in rowio.fetch_keys(p, t, t.identity, keys)}
        key_idx = [t.column_names.index(c) for c in t.identity]
        present = {tuple(r[i] for i in key_idx) for r in found}
        missing = [k for k in keys if tuple(k) not in present]
        problems.extend(f"{table}: restored row {k} is missing from production" for k in missing[:5])
        counts["rows"] += len(present)
        for edge in graph.edges_from(table):
            if len(edge.columns) != 1:
                continue
            i = t.column_names.index(edge.columns[0])
            ti = t.column_names.index(edge.type_column) if edge.type_column else None
            values = {r[i] for r in found if r[i] is not None and (ti is None or r[ti] == edge.type_value)}
            if not values:
                continue
            parent = schema[edge.parent]
            have = {r[0] for r in rowio.fetch_keys(p, parent, edge.parent_columns, [(v,) for v in values],
                                                   select_cols=edge.parent_columns)}
            counts["references"] += len(values)
            for v in sorted(values - have, key=str)[:5]:
                problems.append(f"{table}: a restored row's {edge.columns[0]} = {v} points at no {edge.parent} row ({edge.id})")
    problems.extend(_counters(p, schema, inserted))
    return problems, counts


def _counters(p: Connection, schema: Schema, inserted: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    out = []
    for table in inserted:
        t = schema.tables.get(table)
        if t is None or t.key_kind != "surrogate":
            continue
        top = p.execute(select(func.max(t.table.c[t.primary_key[0]]))).scalar() or 0
        if is_mysql(p.engine):
            nxt = p.execute(text("SELECT AUTO_INCREMENT FROM information_schema.TABLES "
                                 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"), {"t": table}).scalar()
            if nxt is not None and int(nxt) <= int(top):
                out.append(f"{table}: AUTO_INCREMENT {nxt} is not past the highest id {top}")
        elif p.dialect.has_table(p, "sqlite_sequence"):
            seq = p.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}).scalar()
            if seq is not None and int(seq) < int(top):
                out.append(f"{table}: sqlite_sequence {seq} is behind the highest id {top}")
    return out
