"""The three databases by role, and what every stage reads them with.

A look at the gaps, the plan's preview and the restore all read production, crashed and
the snapshot with the same settings and the operator's decisions, report to the same
progress and stop on the same cancel; once crashed's schema and reference graph are
read, the later stages take them from here instead of reading them again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import Engine

from ..config import Settings
from ..databases.schema import Schema
from ..plan.decisions import Decisions
from ..progress import NullProgress, Progress
from .graph import ReferenceGraph
from .sources import Sources


@dataclass(frozen=True)
class Trio:
    """Production, crashed and (optionally) the snapshot, with what reads them."""

    settings: Settings
    sources: Sources
    decisions: Decisions = dataclasses.field(default_factory=Decisions)
    progress: Progress = dataclasses.field(default_factory=NullProgress)
    cancel: threading.Event | None = None
    schema: Schema | None = None            # crashed's, once reflected
    graph: ReferenceGraph | None = None     # the references among its tables, once read

    @classmethod
    @contextlib.contextmanager
    def opened(cls, settings: Settings, decisions: Decisions | None = None, progress: Progress | None = None,
               cancel: threading.Event | None = None, *, readonly: bool = True) -> Iterator[Trio]:
        """The trio of `settings`, its engines open (each known to be a database of its
        own) for the block and disposed after it."""
        sources = Sources.open(settings, readonly=readonly)
        try:
            yield cls(settings, sources, decisions or Decisions(), progress or NullProgress(), cancel)
        finally:
            sources.dispose()

    @property
    def production(self) -> Engine:
        return self.sources.production

    @property
    def crashed(self) -> Engine:
        return self.sources.crashed

    @property
    def snapshot(self) -> Engine | None:
        return self.sources.snapshot

    def knowing(self, schema: Schema, graph: ReferenceGraph | None = None) -> Trio:
        """This trio with crashed's schema (and graph) read."""
        return dataclasses.replace(self, schema=schema, graph=graph)
