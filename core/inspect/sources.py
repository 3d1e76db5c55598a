"""The databases an inspection or a restore reads: one engine per role, each known to
be a database of its own before anything is read."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from ..config import Settings
from ..databases.engines import database_identity, open_engine
from ..errors import ConfigError


@dataclass
class Sources:
    """Open engines for the roles taking part."""

    production: Engine
    crashed: Engine
    snapshot: Engine | None = None
    # Role -> what names its database whatever the URL says (`db.database_identity`).
    identities: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, *, readonly: bool = True) -> "Sources":
        """The roles' engines, once each is known to be a database of its own."""
        snap = open_engine(settings.snapshot, "snapshot") if settings.snapshot is not None else None
        sources = cls(
            production=open_engine(settings.production, "production", readonly=readonly),
            crashed=open_engine(settings.crashed, "crashed"),
            snapshot=snap,
        )
        try:
            sources.require_distinct()
        except BaseException:
            sources.dispose()
            raise
        return sources

    def require_distinct(self) -> None:
        """Two roles naming one database would have gapmend read production as the
        snapshot (and overwrite production's rows with Friday's) or write into the
        crashed copy: refused before anything is read."""
        seen: dict[str, str] = {}
        for role, engine in (("production", self.production), ("crashed", self.crashed), ("snapshot", self.snapshot)):
            if engine is None:
                continue
            ident = self.identities[role] = database_identity(engine, role)
            if ident is None:
                continue
            if ident in seen:
                raise ConfigError(
                    f"GAPMEND_{seen[ident].upper()}_URL and GAPMEND_{role.upper()}_URL name the same database "
                    f"({engine.url.render_as_string(hide_password=True)}): each role needs its own (production the "
                    "live one, crashed the recovered copy, snapshot the restored dump); fix the env file")
            seen[ident] = role

    def dispose(self) -> None:
        for e in (self.production, self.crashed, self.snapshot):
            if e is not None:
                e.dispose()
