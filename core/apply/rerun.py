"""A rerun answered from the journal, without reading every table again.

After a committed restore, the same restore again has nothing to do: every Friday row it
could write is journaled as done, and what it left (conflicts, orphans, tables skipped)
is left by the same rules. It used to find that out the long way, reading and classifying
every table again. The journal now keeps, per committed run, a digest of what the run
was decided by: crashed's and the snapshot's fingerprints (every table's last write, as
the plan file's check), the operator's decisions, and the options and settings that
choose rows. A run whose digest is the newest committed run's, with no undo since,
answers at once: already restored by that run, nothing to do. Anything different (a
table approved since, a decision changed, a source written to) reads everything again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, insert, select

from ..config import Settings
from ..databases import journal
from ..plan.decisions import Decisions
from ..plan.delta import fingerprints
from .reports import RestoreOptions


def digest(settings: Settings, decisions: Decisions, options: RestoreOptions, sources: Any) -> str:
    """What a restore is decided by, hashed (`sources`: the run's `Sources`)."""
    chosen = {k: getattr(options, k) for k in ("tables", "approve_pending", "collisions", "orphans", "apply_deletes",
                                               "merge_cells")}
    chose = {f.name: getattr(settings, f.name) for f in fields(settings)
             if f.name not in ("source", "decisions_path", "app_path")}
    facts = {"sources": fingerprints(sources.crashed, sources.snapshot), "decisions": decisions.to_json(),
             "options": chosen, "settings": chose}
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=repr).encode()).hexdigest()


def record(conn: Connection, run_id: str, inputs_digest: str) -> None:
    """Keep the run's digest, in its own transaction (before its commit)."""
    conn.execute(insert(journal.run_inputs).values(run_id=run_id, digest=inputs_digest))


def answered(conn: Connection, inputs_digest: str) -> journal.Run | None:
    """The newest committed run, when it was decided by the same digest and no undo came
    after it: what a rerun answers with (None: read everything again)."""
    if not journal.kept(conn) or not conn.dialect.has_table(conn, journal.run_inputs.name):
        return None
    runs = journal.runs
    last = conn.execute(select(runs.c.run_id, runs.c.status, runs.c.started_at, runs.c.finished_at, runs.c.summary)
                        .order_by(runs.c.started_at.desc()).limit(2)).all()
    if not last or last[0].status != "committed":   # an undo, a stopped per-table run: not answered
        return None
    if len(last) == 2 and last[1].started_at == last[0].started_at:
        return None   # two runs in one second (a restore and its undo): which came last is unknown, so read again
    newest = last[0]
    same = conn.execute(select(journal.run_inputs.c.digest).where(journal.run_inputs.c.run_id == newest.run_id)).scalar()
    return journal.Run(newest.run_id, newest.finished_at, newest.summary or "") if same == inputs_digest else None
