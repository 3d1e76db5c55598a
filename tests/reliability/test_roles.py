"""Two roles naming one database are refused before anything is read or written
(issue 15, item 1): production = crashed (a restore hung on a metadata lock and left its
work tables), snapshot = production (production's own new rows were overwritten with
Friday's), snapshot = crashed; on SQLite also one file under two spellings. Each ends in
one line naming both keys, exit code 2, and every database exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import URL

from gapmend.app.cli import cli
from gapmend.core.demo import SNAPSHOT_AT, build_trio

from ..conftest import ROLES, Databases
from ..dbstate import database_state

MISTAKES = {
    "production-is-crashed": ("production", "crashed"),
    "snapshot-is-production": ("snapshot", "production"),
    "snapshot-is-crashed": ("snapshot", "crashed"),
}


def _env(dbs: Databases, urls: dict[str, URL]) -> Path:
    lines = [f"GAPMEND_SNAPSHOT_AT={SNAPSHOT_AT.isoformat()}"]
    for role, url in urls.items():
        lines.append(f"GAPMEND_{role.upper()}_URL={url.set(password=None).render_as_string(hide_password=False)}")
        if url.password:
            lines.append(f"GAPMEND_{role.upper()}_PASSWORD={url.password}")
    path = dbs.workdir / "mistake.env"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_two_roles_on_one_database_are_refused(dbs: Databases, mistake: str) -> None:
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    before = {role: database_state(e[role]) for role in ROLES}
    wrong, right = MISTAKES[mistake]
    urls = dict(dbs.urls)
    urls[wrong] = dbs.urls[right]
    if dbs.dialect == "sqlite" and mistake == "production-is-crashed":
        # The same file spelled another way: a relative path from the env file's folder.
        urls[wrong] = URL.create("sqlite", database=str(Path(dbs.urls[right].database or "").name))
    env = _env(dbs, urls)
    for argv in (["plan"], ["restore", "--yes", "--without-backup"], ["verify"]):
        result = CliRunner().invoke(cli, ["--env-file", str(env), *argv], catch_exceptions=False)
        assert result.exit_code == 2, (argv, result.output)
        message = result.output.strip().splitlines()
        assert len(message) == 1 and "name the same database" in message[0], (argv, result.output)
        assert f"GAPMEND_{wrong.upper()}_URL" in message[0] or f"GAPMEND_{right.upper()}_URL" in message[0]
    assert {role: database_state(e[role]) for role in ROLES} == before
