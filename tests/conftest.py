"""Fixtures: real databases only. SQLite files in tmp_path, and MariaDB databases created
(and dropped) on the server `.ci/mariadb-up` starts. Under CI a missing MariaDB fails the
run; on a laptop its tests skip and say why."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from gapmend.core.progress import NullProgress
from sqlalchemy import URL, Engine, create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("snapshot", "crashed", "production")


class Notes(NullProgress):
    """A progress that keeps the notes a run made (what it told the operator it did)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def note(self, message: str) -> None:
        self.lines.append(message)


def mariadb_base_url() -> URL | None:
    values = dict(os.environ)
    env = Path("/var/lib/gapmend-test/mariadb.env")   # written by .ci/mariadb-up
    if "GAPMEND_TEST_MARIADB_URL" not in values and env.exists():
        for line in env.read_text().splitlines():
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), value.strip())
    raw = values.get("GAPMEND_TEST_MARIADB_URL")
    if not raw:
        return None
    url = make_url(raw)
    if values.get("GAPMEND_TEST_MARIADB_PASSWORD"):
        url = url.set(password=values["GAPMEND_TEST_MARIADB_PASSWORD"])
    return url


def _require_mariadb() -> URL:
    url = mariadb_base_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("MariaDB is part of the suite: .ci/mariadb-up must have run first")
        pytest.skip("no MariaDB: run `bash .ci/mariadb-up` (installs and starts one) to include these tests")
    return url


@dataclass
class Databases:
    """URLs (with password, for writing fixtures) and write engines for each role."""

    dialect: str
    urls: dict[str, URL]
    engines: dict[str, Engine]
    workdir: Path

    def env_file(self, *, snapshot: bool, snapshot_at: str | None, name: str = "test.env") -> Path:
        """A gapmend env file for these databases; the MariaDB password goes in its own key."""
        lines = []
        for role in ROLES:
            if role == "snapshot" and not snapshot:
                continue
            url = self.urls[role]
            lines.append(f"GAPMEND_{role.upper()}_URL={url.set(password=None).render_as_string(hide_password=False)}")
            if url.password:
                lines.append(f"GAPMEND_{role.upper()}_PASSWORD={url.password}")
        if snapshot_at:
            lines.append(f"GAPMEND_SNAPSHOT_AT={snapshot_at}")
        path = self.workdir / name
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        return path


@contextmanager
def _databases(dialect: str, workdir: Path, collations: dict[str, str] | None = None) -> Iterator[Databases]:
    """Three empty databases (snapshot, crashed, production) of one dialect, dropped after;
    on MariaDB each in `collations[role]` when given (its character set the collation's)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if dialect == "sqlite":
        urls = {r: make_url(f"sqlite:///{workdir / (r + '.sqlite')}") for r in ROLES}
        engines = {r: create_engine(u) for r, u in urls.items()}
        try:
            yield Databases("sqlite", urls, engines, workdir)
        finally:
            for e in engines.values():
                e.dispose()
        return
    base = _require_mariadb()
    tag = uuid.uuid4().hex[:10]
    names = {r: f"gm_test_{tag}_{r}" for r in ROLES}
    admin = create_engine(base)
    with admin.begin() as conn:
        for role, name in names.items():
            collation = (collations or {}).get(role)
            spec = f"CHARACTER SET {collation.split('_')[0]} COLLATE {collation}" if collation else "CHARACTER SET utf8mb4"
            conn.execute(text(f"CREATE DATABASE `{name}` {spec}"))
    urls = {r: base.set(database=n) for r, n in names.items()}
    engines = {r: create_engine(u) for r, u in urls.items()}
    try:
        yield Databases("mariadb", urls, engines, workdir)
    finally:
        for e in engines.values():
            e.dispose()
        with admin.begin() as conn:
            for name in names.values():
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


DIALECTS = ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)]


@pytest.fixture(params=DIALECTS)
def dbs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    with _databases(request.param, tmp_path) as d:
        yield d


@pytest.fixture(params=DIALECTS)
def dbs_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Databases, Databases]]:
    """Two independent trios of the same dialect: one to break, one for reference."""
    with _databases(request.param, tmp_path / "a") as a, _databases(request.param, tmp_path / "b") as b:
        yield a, b
