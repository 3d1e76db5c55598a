"""Where the databases are: a dotenv file of SQLAlchemy URLs, or a Laravel app's own `.env`.

Keys (see `.env.example`):

- ``GAPMEND_PRODUCTION_URL``, ``GAPMEND_CRASHED_URL``: required.
- ``GAPMEND_SNAPSHOT_URL``: optional; the snapshot loaded into a scratch database.
- ``GAPMEND_SNAPSHOT_AT``: optional ISO-8601 time the snapshot was taken.
- ``GAPMEND_TRUST_UPDATED_AT``: ``yes`` to compare, in tables with ``updated_at``, only
  the rows whose ``updated_at`` is after the snapshot time (and the ids one side lacks):
  faster, but a row changed without touching ``updated_at`` is missed. Needs
  ``GAPMEND_SNAPSHOT_AT``.
- ``GAPMEND_<ROLE>_PASSWORD``: a password kept out of the URL.
- ``GAPMEND_DECISIONS``: the operator's decisions file (default beside the env file).

Real environment variables win over the file, as python-dotenv does by default,
so a password can come from a secret store without touching the file.
Passwords live only inside `sqlalchemy.URL` objects, which render masked.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from dotenv.parser import parse_stream
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .errors import ConfigError
from .laravel import app_guards, morph_map
from .laravel.app_guards import Guard
from .laravel.morph_map import Alias

ROLES = ("production", "crashed", "snapshot")
# Runbook settings (steps 6-15), passed through to the runbook modules as they are.
RUNBOOK_KEYS = ("GAPMEND_SUPERVISORCTL", "GAPMEND_SUPERVISOR_CONF", "GAPMEND_WORKERS", "GAPMEND_APP_PATH", "GAPMEND_PHP")


@dataclass(frozen=True)
class Settings:
    """The connections and knobs one gapmend run works with."""

    production: URL
    crashed: URL
    snapshot: URL | None = None
    snapshot_at: datetime | None = None
    trust_updated_at: bool = False
    # Columns an app stamps on every save: where both sides changed one, the later stands
    # instead of a conflict (`cell_merge`). GAPMEND_STAMP_COLUMNS=updated_at,synced_at
    stamp_columns: tuple[str, ...] = ("updated_at",)
    # Rows both sides changed merged by column unless the operator said otherwise of
    # them (GAPMEND_MERGE_CELLS=yes); by default production's row stands (`Decisions.choice`).
    merge_cells: bool = False
    decisions_path: Path | None = None
    source: str = ""  # where the settings came from, for messages
    extra: Mapping[str, str] = field(default_factory=dict)
    # The Laravel app's own morph map (`--laravel` or GAPMEND_APP_PATH), read from its providers.
    app_aliases: tuple[Alias, ...] = ()
    # ... and its session guards, each with the model it logs in (`app_guards`, config/auth.php).
    app_guards: tuple[Guard, ...] = ()
    # The app's folder those were read from, when known.
    app_path: Path | None = None

    def url(self, role: str) -> URL | None:
        return {"production": self.production, "crashed": self.crashed, "snapshot": self.snapshot}[role]

    def masked(self) -> dict[str, str | None]:
        """URLs with passwords masked: the only form that may be printed or logged."""
        return {role: mask(self.url(role)) for role in ROLES}


def mask(url: URL | None) -> str | None:
    return None if url is None else url.render_as_string(hide_password=True)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a dotenv file strictly: a line it cannot parse is an error, not a warning."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"env file {path} not found: pass --env-file PATH, or copy .env.example to .env and fill it in"
        ) from None
    except (PermissionError, IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read env file {path} ({exc.__class__.__name__}): check its path and permissions") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(
                f"env file {path} line {binding.original.line}: cannot parse "
                f"{binding.original.string.splitlines()[0][:40]!r}: write it as KEY=value"
            )
        if binding.key is not None:
            values[binding.key] = binding.value or ""
    return values


def load_settings(env_file: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a gapmend env file, with the process environment taking precedence."""
    environ = os.environ if environ is None else environ
    values = read_env_file(env_file)
    values.update({k: v for k, v in environ.items() if k.startswith("GAPMEND_")})
    urls: dict[str, URL | None] = {}
    for role in ROLES:
        raw = values.get(f"GAPMEND_{role.upper()}_URL", "").strip()
        if not raw:
            if role != "snapshot":
                raise ConfigError(f"{env_file}: GAPMEND_{role.upper()}_URL is not set: add it (a SQLAlchemy URL)")
            urls[role] = None
            continue
        url = _parse_url(raw, f"GAPMEND_{role.upper()}_URL in {env_file}")
        password = values.get(f"GAPMEND_{role.upper()}_PASSWORD")
        if password:
            url = url.set(password=password)
        urls[role] = _anchor_sqlite(url, env_file.parent)
    decisions = values.get("GAPMEND_DECISIONS")
    decisions_path = (env_file.parent / decisions) if decisions else env_file.with_name(env_file.name + ".decisions.json")
    production, crashed = urls["production"], urls["crashed"]
    assert production is not None and crashed is not None
    snapshot_at, trust = _snapshot_time(values)
    return Settings(
        production=production,
        crashed=crashed,
        snapshot=urls["snapshot"],
        snapshot_at=snapshot_at,
        trust_updated_at=trust,
        stamp_columns=_stamp_columns(values),
        merge_cells=_parse_flag(values.get("GAPMEND_MERGE_CELLS", ""), "GAPMEND_MERGE_CELLS"),
        decisions_path=decisions_path,
        source=str(env_file),
        extra={k: v for k, v in values.items() if k in RUNBOOK_KEYS},
        **_app_facts(values.get("GAPMEND_APP_PATH"), env_file.parent),
    )


def _app_facts(app: str | None, base: Path) -> dict[str, Any]:
    """What gapmend reads from the Laravel app's source: its morph map and session guards."""
    if not app:
        return {}
    path = Path(app) if Path(app).is_absolute() else base / app
    return {"app_aliases": tuple(morph_map.read(path)), "app_guards": tuple(app_guards.read(path)), "app_path": path}


def _stamp_columns(values: Mapping[str, str]) -> tuple[str, ...]:
    """``GAPMEND_STAMP_COLUMNS`` (default ``updated_at``): the columns merged by "the later"."""
    raw = values.get("GAPMEND_STAMP_COLUMNS")
    if raw is None:
        return ("updated_at",)
    return tuple(c.strip() for c in raw.split(",") if c.strip())


def _snapshot_time(values: Mapping[str, str]) -> tuple[datetime | None, bool]:
    """``GAPMEND_SNAPSHOT_AT`` and ``GAPMEND_TRUST_UPDATED_AT``, which needs it."""
    snapshot_at = parse_snapshot_at(values.get("GAPMEND_SNAPSHOT_AT", ""))
    trust = _parse_flag(values.get("GAPMEND_TRUST_UPDATED_AT", ""), "GAPMEND_TRUST_UPDATED_AT")
    if trust and snapshot_at is None:
        raise ConfigError("GAPMEND_TRUST_UPDATED_AT needs GAPMEND_SNAPSHOT_AT: set the time the snapshot was taken")
    return snapshot_at, trust


def parse_snapshot_at(raw: str) -> datetime | None:
    """An ISO-8601 time; naive times are taken as UTC (how Laravel stores timestamps by default)."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"GAPMEND_SNAPSHOT_AT={raw!r} is not an ISO-8601 time: write it like 2026-11-19T23:00:00") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _parse_flag(raw: str, key: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "0", "no", "false", "off"):
        return False
    if value in ("1", "yes", "true", "on"):
        return True
    raise ConfigError(f"{key}={raw!r} is not yes or no: write {key}=yes or leave it out")


def _parse_url(raw: str, where: str) -> URL:
    try:
        return make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{where} is not a SQLAlchemy URL: write it like sqlite:///path or mysql+pymysql://user@host:3306/db") from None


def _anchor_sqlite(url: URL, base: Path) -> URL:
    """Relative SQLite paths are read relative to the env file, not the working directory."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            return url.set(database=str((base / path).resolve()))
    return url


def password_exposure(path: Path) -> str | None:
    """A warning when `path` holds a password (a ``*_PASSWORD`` key or a URL with one) and
    others than its owner may read it; None when it is private or holds none."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o077:
        return None
    values = read_env_file(path)
    holds = any(k.endswith("PASSWORD") and v for k, v in values.items()) or any(
        k.endswith("_URL") and "://" in v and _parse_url(v, k).password for k, v in values.items())
    if not holds:
        return None
    return (f"{path} holds a password and others can read it (mode {mode:o}): run chmod 600 {path}, "
            "or gapmend check --fix-permissions")


# --- Laravel -----------------------------------------------------------------

CRASHED_PREFIX = "DB_CRASHED_"


def load_laravel_settings(app_path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a Laravel application's `.env`.

    Its ``DB_*`` keys are PRODUCTION. The crashed connection is the same keys with the
    ``DB_CRASHED_`` prefix (``DB_CRASHED_DATABASE``, ...), the connection that step 10 of the
    runbook adds; a key it leaves out falls back to production's value, since the crashed
    copy is usually a second database on the same server. Before step 10 and after step 12
    ``GAPMEND_CRASHED_DATABASE`` names it (`_laravel_crashed`). ``GAPMEND_*`` keys in the
    same file or the environment still apply (snapshot URL and time, trusting
    ``updated_at``, the runbook's supervisor and PHP); the app's folder is known to every step.
    """
    environ = os.environ if environ is None else environ
    env_file = app_path / ".env"
    values = read_env_file(env_file)
    if not values.get("DB_CONNECTION") and not values.get("DB_DATABASE"):
        raise ConfigError(f"{env_file} has no DB_CONNECTION/DB_DATABASE: is {app_path} a Laravel application?")
    production = _laravel_url(values, "DB_", app_path)
    gm = {k: v for k, v in values.items() if k.startswith("GAPMEND_")}
    gm.update({k: v for k, v in environ.items() if k.startswith("GAPMEND_")})
    crashed = _laravel_crashed(app_path, values, gm)
    snapshot = None
    if gm.get("GAPMEND_SNAPSHOT_URL"):
        snapshot = _anchor_sqlite(_parse_url(gm["GAPMEND_SNAPSHOT_URL"], f"GAPMEND_SNAPSHOT_URL in {env_file}"), app_path)
        if gm.get("GAPMEND_SNAPSHOT_PASSWORD"):
            snapshot = snapshot.set(password=gm["GAPMEND_SNAPSHOT_PASSWORD"])
    snapshot_at, trust = _snapshot_time(gm)
    return Settings(
        production=production,
        crashed=crashed,
        snapshot=snapshot,
        snapshot_at=snapshot_at,
        trust_updated_at=trust,
        stamp_columns=_stamp_columns(gm),
        merge_cells=_parse_flag(gm.get("GAPMEND_MERGE_CELLS", ""), "GAPMEND_MERGE_CELLS"),
        decisions_path=app_path / "storage" / "gapmend.decisions.json",
        source=f"{env_file} (Laravel)",
        # Every step finds the app where the operator said it is (`laravel.app_path`).
        extra={**{k: v for k, v in gm.items() if k in RUNBOOK_KEYS}, "GAPMEND_APP_PATH": str(app_path)},
        **_app_facts(str(app_path), app_path),
    )


def _laravel_crashed(app_path: Path, values: Mapping[str, str], gm: Mapping[str, str]) -> URL:
    """The crashed database of a Laravel app: the ``DB_CRASHED_*`` connection step 10
    adds, or, before step 10 and after step 12, ``GAPMEND_CRASHED_DATABASE`` (a database
    beside production's, reached as production is) in the app's .env or the environment;
    both given, they must agree."""
    env_file = app_path / ".env"
    crashed_values = {k: v for k, v in values.items() if k.startswith(CRASHED_PREFIX)}
    named = gm.get("GAPMEND_CRASHED_DATABASE")
    if crashed_values.get("DB_CRASHED_DATABASE"):
        if named and named != crashed_values["DB_CRASHED_DATABASE"]:
            raise ConfigError(f"{env_file} has DB_CRASHED_DATABASE={crashed_values['DB_CRASHED_DATABASE']} but "
                              f"GAPMEND_CRASHED_DATABASE={named}: make them name the same database")
        merged = dict(values)
        merged.update({"DB_" + k[len(CRASHED_PREFIX):]: v for k, v in crashed_values.items()})
        return _laravel_url(merged, "DB_", app_path)
    if not named:
        raise ConfigError(
            f"{env_file} names no crashed database: set GAPMEND_CRASHED_DATABASE=NAME (beside production's, same "
            "user) there or in the environment, or add the crashed connection (runbook step 10: gapmend --laravel "
            f"{app_path} connection add --database NAME)")
    return _sibling_url(app_path, values, named, gm.get("GAPMEND_CRASHED_PASSWORD"))


def laravel_sibling_url(app_path: Path, database: str, environ: Mapping[str, str] | None = None) -> URL:
    """The URL of `database` on the Laravel app's own server, as its own user: where the
    crashed copy usually lives before step 10 names it in the app's configuration. A
    password for it may come from ``GAPMEND_CRASHED_PASSWORD`` in the environment."""
    environ = os.environ if environ is None else environ
    return _sibling_url(app_path, read_env_file(app_path / ".env"), database, environ.get("GAPMEND_CRASHED_PASSWORD"))


def _sibling_url(app_path: Path, values: Mapping[str, str], database: str, password: str | None) -> URL:
    """`database` reached as the app's production connection is, its own password if given."""
    url = _laravel_url({**values, "DB_DATABASE": database}, "DB_", app_path)
    return url.set(password=password) if password else url


def _laravel_url(values: Mapping[str, str], prefix: str, app_path: Path) -> URL:
    driver = values.get(prefix + "CONNECTION", "mysql")
    database = values.get(prefix + "DATABASE", "")
    if driver == "sqlite":
        path = Path(database or "database/database.sqlite")
        if not path.is_absolute():
            path = app_path / path
        return URL.create("sqlite", database=str(path))
    if driver not in ("mysql", "mariadb"):
        raise ConfigError(f"DB_CONNECTION={driver} is not supported yet: gapmend reads mysql, mariadb and sqlite connections")
    port = values.get(prefix + "PORT") or "3306"
    if not port.isdigit():
        raise ConfigError(f"{prefix}PORT={port!r} is not a number: fix it in the Laravel .env")
    return URL.create(
        "mysql+pymysql",
        username=values.get(prefix + "USERNAME") or None,
        password=values.get(prefix + "PASSWORD") or None,
        host=values.get(prefix + "HOST") or "127.0.0.1",
        port=int(port),
        database=database or None,
    )
