"""Where a benchmark's databases live: empty SQLite files or MariaDB databases, and the
gapmend env file (0600) that names them."""

from __future__ import annotations

import atexit
import os
import sys
import uuid
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def empty_databases(dialect: str, work: Path, roles: list[str], prefix: str) -> tuple[dict[str, Engine], list[str]]:
    """Fresh, empty databases for `roles`, and the env-file lines that point gapmend at them.
    On MariaDB each run's names are its own (two runs on one server never share one) and
    are dropped when the run ends."""
    engines: dict[str, Engine] = {}
    lines: list[str] = []
    if dialect == "sqlite":
        for role in roles:
            engines[role] = create_engine(f"sqlite:///{work / role}.sqlite")
            lines.append(f"GAPMEND_{role.upper()}_URL=sqlite:///{work / role}.sqlite")
        return engines, lines
    from tests.conftest import mariadb_base_url

    base = mariadb_base_url()
    if base is None:
        sys.exit("no MariaDB: run bash .ci/mariadb-up first")
    admin = create_engine(base)
    run = uuid.uuid4().hex[:8]
    for role in roles:
        db = f"{prefix}_{run}_{role}"
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {db}"))
        atexit.register(_drop, base, db)
        engines[role] = create_engine(base.set(database=db))
        # The URL without the password (`URL.set` keeps a password set to None): it goes on the line after.
        bare = URL.create(base.drivername, base.username, None, base.host, base.port, db, base.query)
        lines.append(f"GAPMEND_{role.upper()}_URL={bare.render_as_string(False)}")
        lines.append(f"GAPMEND_{role.upper()}_PASSWORD={base.password}")
    admin.dispose()
    return engines, lines


def _drop(base: URL, db: str) -> None:
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {db}"))
    admin.dispose()


def write_env(path: Path, lines: list[str]) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB, from /proc (VmHWM). Unlike getrusage's
    ru_maxrss, it is not inherited across fork+exec, so a child's figure is its own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
