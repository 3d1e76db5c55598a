"""The id map, for the people who answer Friday's customers: Friday's e-mails, links and
order numbers carry Friday's ids, and after the restore some of those ids name other
rows. From production's journal, every committed run: each Friday row's table, its
Friday id, its new id and its fate, with the row's human key (its e-mail, title or name)
so that support can tell who it was. Read-only; read a page at a time."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Iterator

from sqlalchemy import Connection

from .. import shown
from ..config import Settings
from ..databases import journal
from ..databases import rows as rowio
from ..databases.engines import open_engine
from ..databases.schema import Schema, TableInfo, reflect
from ..private_files import open_private

# The columns that say who or what a row is, in the order tried (the first one a table has).
LABELS = ("email", "title", "name", "slug", "username", "code", "reference", "number")
COLUMNS = ("table", "friday_id", "new_id", "fate", "run_id", "label", "detail")


@dataclass(frozen=True)
class IdEntry:
    """One Friday row as the journal keeps it, and who or what it is."""

    table: str
    friday_id: str       # the key as the database shows it (several columns: comma-separated)
    new_id: str          # "" when the row is not in production (skipped)
    fate: str            # inserted (maybe under a new id) | linked (to production's row) | skipped
    run_id: str
    label: str           # the row's human key (`LABELS`), "" when its table has none
    detail: str          # why it was skipped or linked

    @property
    def moved(self) -> bool:
        return self.fate == "inserted" and self.new_id != self.friday_id


def entries(settings: Settings, table: str | None = None, key: list[Any] | None = None) -> Iterator[IdEntry]:
    """The id map (of `table`, or the rows naming `key` there as Friday's or new id)."""
    p, c = open_engine(settings.production, "production"), open_engine(settings.crashed, "crashed")
    try:
        schemas = {"production": reflect(p, "production"), "crashed": reflect(c, "crashed")}
        with p.connect() as pc, c.connect() as cc:
            if not journal.kept(pc):
                return
            for page in journal.fate_pages(pc, rowio.CHUNK, table, key):
                yield from _labelled(page, schemas, pc, cc)
    finally:
        p.dispose()
        c.dispose()


def _labelled(page: list[tuple[str, tuple[Any, ...], tuple[Any, ...] | None, str, str, str]],
              schemas: dict[str, Schema], p: Connection, c: Connection) -> Iterator[IdEntry]:
    """A journal page with each row's label: read in production by its new key (where it
    is now), else in crashed by its Friday key (a skipped row)."""
    labels: dict[tuple[str, str, tuple[Any, ...]], str] = {}
    wanted: dict[tuple[str, str], set[tuple[Any, ...]]] = {}
    for name, old, new, _, _, _ in page:
        side, k = ("production", new) if new is not None else ("crashed", old)
        wanted.setdefault((side, name), set()).add(k)
    for (side, name), keys in wanted.items():
        t = schemas[side].tables.get(name)
        label = _label_column(t)
        if t is None or label is None or len(t.identity) != len(next(iter(keys))):
            continue
        conn = p if side == "production" else c
        for row in rowio.fetch_keys(conn, t, t.identity, sorted(keys, key=rowio.sort_key),
                                    select_cols=[*t.identity, label]):
            labels[side, name, tuple(row[:-1])] = "" if row[-1] is None else str(row[-1])
    for name, old, new, fate, run, detail in page:
        side, k = ("production", new) if new is not None else ("crashed", old)
        yield IdEntry(name, _spelled(old), "" if new is None else _spelled(new), fate, run,
                      labels.get((side, name, k), ""), detail)


def _label_column(t: TableInfo | None) -> str | None:
    """The first of `LABELS` that `t` has."""
    return next((col for col in LABELS if t is not None and col in t.column_names), None)


def _spelled(key: tuple[Any, ...]) -> str:
    """A key as the database shows it: ``241``, ``a1b2…``; several columns comma-separated."""
    return ",".join(shown.bare(v) for v in key)


def look_up(settings: Settings, table: str, value: str) -> list[str]:
    """What `value` means in `table` now, both ways: Friday's row of that id and where it
    is, and the restored row that holds that id now (if any)."""
    keys: list[list[Any]] = [[value]] + ([[int(value)]] if value.lstrip("-").isdigit() else [])
    found = [e for key in keys for e in entries(settings, table, key)]
    lines = []
    for e in found:
        who = f" ({e.label})" if e.label else ""
        if e.friday_id == value:
            now = {"inserted": f"is new id {e.new_id} in production" if e.moved else "kept its id in production",
                   "linked": f"is production's row {e.new_id} ({e.detail or 'the same unique key'})",
                   "skipped": f"was not restored: {e.detail}"}[e.fate]
            lines.append(f"Friday's {table} {value}{who} {now} (run {e.run_id[:8]})")
        if e.new_id == value and e.friday_id != value:
            lines.append(f"{table} {value} in production now is Friday's {table} {e.friday_id}{who}, "
                         f"moved by run {e.run_id[:8]}")
    if not any(e.new_id == value for e in found):
        own = _production_label(settings, table, keys)
        lines.append(f"{table} {value} in production now: " + (
            "no row" if own is None else f"production's own row{f' ({own})' if own else ''}, not a restored one"))
    return lines


def _production_label(settings: Settings, table: str, keys: list[list[Any]]) -> str | None:
    """The label of production's row of `table` holding one of `keys` ("" without a
    label column), None when it holds none."""
    engine = open_engine(settings.production, "production")
    try:
        t = reflect(engine, "production").tables.get(table)
        if t is None or len(t.identity) != 1:
            return None
        label = _label_column(t)
        with engine.connect() as conn:
            for key in keys:
                row = next(rowio.fetch_keys(conn, t, t.identity, [tuple(key)], select_cols=[label or t.identity[0]]), None)
                if row is not None:
                    return "" if label is None or row[0] is None else str(row[0])
        return None
    finally:
        engine.dispose()


def export(settings: Settings, out: IO[str], fmt: str, table: str | None = None) -> int:
    """The whole map (or `table`'s) as CSV or JSON lines into `out`; returns the rows."""
    n = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(COLUMNS)
    for e in entries(settings, table):
        if writer is not None:
            writer.writerow([getattr(e, col) for col in COLUMNS])
        else:
            out.write(json.dumps(asdict(e)) + "\n")
        n += 1
    return n


def export_file(settings: Settings, path: Path, fmt: str = "csv") -> int:
    """`export` into `path`, readable by its owner only (it names customers), written as
    it is read."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open_private(path) as out:
        return export(settings, out, fmt)
