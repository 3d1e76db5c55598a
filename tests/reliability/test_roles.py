"""Two roles naming one database are refused before anything is read or written
(issue 15, item 1): production = crashed (a restore hung on a metadata lock and left its
work tables), snapshot = production (production's own new rows were overwritten with
Friday's), snapshot = crashed; on SQLite also one file under two spellings. Each ends in
one line naming both keys, exit code 2, and every database exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.demo import SNAPSHOT_AT, build_trio
from sqlalchemy import URL, Engine, MetaData, select

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


def _copy(source: Engine, target: Engine) -> None:
    """`target` becomes a copy of `source`'s tables and rows (a dump loaded elsewhere)."""
    md = MetaData()
    md.reflect(bind=source)
    old = MetaData()
    old.reflect(bind=target)
    old.drop_all(target)
    md.create_all(target)
    with source.connect() as s, target.begin() as t:
        for table in md.sorted_tables:
            rows = [dict(r._mapping) for r in s.execute(select(table))]
            if rows:
                t.execute(table.insert(), rows)


# The content mistakes: each database of its own, but not the one its role names.
CONTENT = {
    # snapshot loaded from a dump of production taken now: the restore overwrote production's rows
    "snapshot-is-a-copy-of-production": ("refused", "later than crashed's last"),
    # snapshot loaded from the crashed copy: nothing would be restored, silently
    "snapshot-is-a-copy-of-crashed": ("refused", "holds everything crashed"),
    # production and crashed swapped: the gap was written into the crashed copy
    "production-and-crashed-swapped": ("to confirm", "are swapped"),
    # production loaded from the crashed copy: the restore inserted every Friday row a second time
    "production-is-a-copy-of-crashed": ("refused", "are in production already, identical, in every table"),
}


@pytest.mark.parametrize("mistake", list(CONTENT))
def test_roles_whose_contents_contradict_them_are_refused(dbs: Databases, mistake: str) -> None:
    """Issue 15, item 1: the contents are checked against the shape a crash leaves. A
    contradiction is refused in one line by plan and restore alike; a suggestion (the
    swap: production's latest write older than crashed's) is shown by plan and `roles`,
    and the restore waits for `gapmend roles --confirm` (never `--yes` alone). Every
    database is exactly as it was after each refusal."""
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"])
    urls = dict(dbs.urls)
    if mistake == "snapshot-is-a-copy-of-production":
        _copy(e["production"], e["snapshot"])
    elif mistake == "snapshot-is-a-copy-of-crashed":
        _copy(e["crashed"], e["snapshot"])
    elif mistake == "production-is-a-copy-of-crashed":
        _copy(e["crashed"], e["production"])
    else:
        urls["production"], urls["crashed"] = dbs.urls["crashed"], dbs.urls["production"]
    before = {role: database_state(e[role]) for role in ROLES}
    env = _env(dbs, urls)
    state, needle = CONTENT[mistake]

    def gapmend(*argv: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--env-file", str(env), *argv], catch_exceptions=False)
        return result.exit_code, result.output

    restore = ["restore", "--yes", "--without-backup", "--approve-pending"]
    code, out = gapmend(*restore)
    assert code == 2 and len(out.strip().splitlines()) == 1 and needle in out, out
    code, out = gapmend("roles", "--confirm") if state == "refused" else gapmend("roles")
    assert f"{state}: " in out and needle in out, out
    assert "production " in out and "latest write" in out        # which database is which, at a glance
    if state == "refused":
        assert code == 2                                           # a contradiction cannot be confirmed
    code, out = gapmend("plan")
    if state == "refused":
        assert code == 2 and len(out.strip().splitlines()) == 1 and needle in out, out
    else:
        assert code == 0 and "check the roles: " in out and needle in out
        assert gapmend("restore", "--dry-run", str(dbs.workdir / "dry.sql"))[0] == 2
    assert {role: database_state(e[role]) for role in ROLES} == before
    if state == "to confirm":   # the operator's word, given after reading what gapmend saw
        assert gapmend("roles", "--confirm")[0] == 0
        code, out = gapmend("restore", "--dry-run", str(dbs.workdir / "dry.sql"), "--approve-pending")
        assert code == 0, out
