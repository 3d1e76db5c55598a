"""Bad input, one case at a time, against real MariaDB databases: each ends in one line
that says what to do, exit code 2, and no change to any database or file (the operator's
log aside, which records the failure)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.demo import build_trio
from sqlalchemy import Engine, text

from ..conftest import Databases, mariadb_base_url
from ..dbstate import database_state

pytestmark = pytest.mark.mariadb

# A case gets the databases and the env file and returns the command line to run.
Case = Callable[[Databases, Path], list[str]]
CLEANUP: list[str] = []   # statements that undo what a case created outside its databases


def _env(d: Databases, path: Path, **override: Any) -> Path:
    """The env file with some roles' URLs replaced (a URL, with its password in its own key)."""
    lines = []
    for line in path.read_text().splitlines():
        key = line.split("=", 1)[0]
        role = key.removeprefix("GAPMEND_").removesuffix("_URL").removesuffix("_PASSWORD").lower()
        if role in override:
            continue
        lines.append(line)
    for role, url in override.items():
        lines.append(f"GAPMEND_{role.upper()}_URL={url.set(password=None).render_as_string(hide_password=False)}")
        if url.password:
            lines.append(f"GAPMEND_{role.upper()}_PASSWORD={url.password}")
    out = path.with_name("case.env")
    out.write_text("\n".join(lines) + "\n")
    out.chmod(0o600)
    return out


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for s in statements:
            conn.execute(text(s))


def _restore(env: Path, *more: str) -> list[str]:
    return ["--env-file", str(env), "restore", "--yes", "--without-backup", "--approve-pending", *more]


def wrong_password(d: Databases, env: Path) -> list[str]:
    return _restore(_env(d, env, production=d.urls["production"].set(password="not-the-password")))


def unknown_host(d: Databases, env: Path) -> list[str]:
    return _restore(_env(d, env, crashed=d.urls["crashed"].set(host="no-such-host.invalid")))


def refused_port(d: Databases, env: Path) -> list[str]:
    return _restore(_env(d, env, production=d.urls["production"].set(port=1)))


def missing_database(d: Databases, env: Path) -> list[str]:
    return _restore(_env(d, env, crashed=d.urls["crashed"].set(database="gm_test_no_such_db")))


def missing_table(d: Databases, env: Path) -> list[str]:
    _sql(d.engines["production"], "DROP TABLE taggables")
    return _restore(env)


def column_type_drift(d: Databases, env: Path) -> list[str]:
    _sql(d.engines["production"], "ALTER TABLE activity_log DROP COLUMN action",
         "ALTER TABLE activity_log ADD COLUMN action INT NULL")
    return _restore(env)


def crashed_schema_newer(d: Databases, env: Path) -> list[str]:
    # Friday ran a migration production never saw: a column production cannot hold.
    _sql(d.engines["crashed"], "ALTER TABLE users ADD COLUMN nickname VARCHAR(50) NOT NULL DEFAULT ''")
    return _restore(env)


def snapshot_mismatch(d: Databases, env: Path) -> list[str]:
    _sql(d.engines["snapshot"], "DROP TABLE post_tag")
    return _restore(env)


def boundary_past_the_end(d: Databases, env: Path) -> list[str]:
    Path(str(env) + ".decisions.json").write_text('{"boundaries": {"users": 99999999}}')
    return _restore(env)


def corrupt_decisions(d: Databases, env: Path) -> list[str]:
    Path(str(env) + ".decisions.json").write_text('{"boundaries": ')
    return _restore(env)


def env_not_utf8(d: Databases, env: Path) -> list[str]:
    bad = env.with_name("binary.env")
    bad.write_bytes(b"GAPMEND_PRODUCTION_URL=\xff\xfe\n")
    return _restore(bad)


def env_syntax_error(d: Databases, env: Path) -> list[str]:
    bad = env.with_name("syntax.env")
    bad.write_text('GAPMEND_PRODUCTION_URL="never closed\n')
    return _restore(bad)


def env_is_a_directory(d: Databases, env: Path) -> list[str]:
    folder = env.with_name("a-folder.env")
    folder.mkdir()
    return _restore(folder)


def read_only_user(d: Databases, env: Path) -> list[str]:
    user = f"gm_ro_{uuid.uuid4().hex[:8]}"
    pw = uuid.uuid4().hex
    grants = [f"CREATE USER '{user}'@'%' IDENTIFIED BY '{pw}'"]
    grants += [f"GRANT SELECT ON `{d.urls[r].database}`.* TO '{user}'@'%'" for r in ("production", "crashed", "snapshot")]
    _sql(d.engines["production"], *grants)
    CLEANUP.append(f"DROP USER IF EXISTS '{user}'@'%'")
    return _restore(_env(d, env, production=d.urls["production"].set(username=user, password=pw)))


def read_only_plan(d: Databases, env: Path) -> list[str]:
    # The plan runs the restore's rules on temporary tables: a SELECT-only user is told
    # which grant it needs instead of a bare "access denied".
    argv = read_only_user(d, env)
    return [*argv[:2], "plan"]


def no_temporary_tables(d: Databases, env: Path) -> list[str]:
    # Every privilege a restore writes with but CREATE TEMPORARY TABLES, which its work
    # tables need: told which grant, before anything is written.
    user = f"gm_nt_{uuid.uuid4().hex[:8]}"
    pw = uuid.uuid4().hex
    grants = [f"CREATE USER '{user}'@'%' IDENTIFIED BY '{pw}'",
              f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, TRIGGER ON "
              f"`{d.urls['production'].database}`.* TO '{user}'@'%'"]
    grants += [f"GRANT SELECT ON `{d.urls[r].database}`.* TO '{user}'@'%'" for r in ("crashed", "snapshot")]
    _sql(d.engines["production"], *grants)
    CLEANUP.append(f"DROP USER IF EXISTS '{user}'@'%'")
    return _restore(_env(d, env, production=d.urls["production"].set(username=user, password=pw)))


def unknown_morph_type(d: Databases, env: Path) -> list[str]:
    _sql(d.engines["crashed"], "INSERT INTO images (imageable_type, imageable_id, url) VALUES ('App\\\\Models\\\\Gizmo', 1, 'x')")
    return _restore(env)


def unique_key_only_production_has(d: Databases, env: Path) -> list[str]:
    # Production added a unique key crashed does not declare, so no collision rule knows
    # it, and one of Friday's posts has a title a production post already uses.
    crashed, snapshot = (f"`{d.urls[r].database}`" for r in ("crashed", "snapshot"))
    _sql(d.engines["production"],
         f"UPDATE posts SET title = (SELECT title FROM {crashed}.posts WHERE id = "
         f"(SELECT MAX(id) + 1 FROM {snapshot}.posts)) ORDER BY id LIMIT 1",
         "ALTER TABLE posts ADD UNIQUE KEY posts_title_unique (title)")
    return _restore(env)


def unknown_table_in_tables(d: Databases, env: Path) -> list[str]:
    return _restore(env, "--tables", "users,no_such_table")


CASES: dict[str, tuple[Case, str]] = {
    "wrong password": (wrong_password, "access denied"),
    "unknown host": (unknown_host, "cannot connect"),
    "refused port": (refused_port, "cannot connect"),
    "missing database": (missing_database, "unknown database"),
    "missing table on one side": (missing_table, "taggables"),
    "column type drift": (column_type_drift, "activity_log"),
    "crashed schema newer than production": (crashed_schema_newer, "nickname exists in crashed but not in production"),
    "snapshot matches neither side": (snapshot_mismatch, "snapshot does not match"),
    "boundary past the end": (boundary_past_the_end, "past the end"),
    "corrupt decisions file": (corrupt_decisions, "decisions file"),
    "env file not UTF-8": (env_not_utf8, "env"),
    "env file syntax error": (env_syntax_error, "cannot parse"),
    "env file is a directory": (env_is_a_directory, "env"),
    "read-only production user": (read_only_user, "production"),
    "plan by a read-only production user": (read_only_plan, "GRANT CREATE TEMPORARY TABLES"),
    "restore without CREATE TEMPORARY TABLES": (no_temporary_tables, "GRANT CREATE TEMPORARY TABLES"),
    "polymorphic type naming no table": (unknown_morph_type, "names no table"),
    "unique key only production declares": (unique_key_only_production_has, "posts_title_unique"),
    "unknown table in --tables": (unknown_table_in_tables, "no_such_table"),
}


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".log"}


@pytest.fixture
def trio(tmp_path: Path) -> Any:
    from ..conftest import _databases

    with _databases("mariadb", tmp_path / "db") as d:
        build_trio(d.engines["crashed"], d.engines["production"], d.engines["snapshot"])
        yield d
        while CLEANUP:
            _sql(d.engines["production"], CLEANUP.pop())


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_changes_nothing(trio: Databases, case: str) -> None:
    d = trio
    env = d.env_file(snapshot=True, snapshot_at=None)
    make, needle = CASES[case]
    argv = make(d, env)
    before_dbs = {role: database_state(e) for role, e in d.engines.items()}
    before_files = _files(d.workdir)
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    err = result.stderr
    assert result.exit_code == 2, (case, result.stdout, err)
    assert err.startswith("gapmend: error: ") and err.count("\n") == 1, err
    assert needle in err, err
    assert ":" in err.removeprefix("gapmend: error: "), f"no advice in {err!r}"
    assert "Traceback" not in err and (d.urls["production"].password or "\0") not in err
    for role, e in d.engines.items():
        assert database_state(e) == before_dbs[role], f"{case}: {role} changed"
    assert _files(d.workdir) == before_files, f"{case}: a file changed"


@pytest.mark.mariadb
def test_a_row_larger_than_max_allowed_packet_is_named(tmp_path: Path) -> None:
    """Staging (crashed on SQLite, production on MariaDB) a Friday row larger than the
    server's max_allowed_packet said "the server went away". It says which row (by
    Friday's id), its size and the setting, and production is unchanged."""
    from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, create_engine, text

    from ..conftest import _databases

    md = MetaData()
    files = Table("files", md, Column("id", Integer, primary_key=True), Column("body", LargeBinary(2**32 - 1)))
    # A row past the server's own setting, which stays as it is: the suite's other tests
    # run beside this one on the same server (a lowered global would be theirs too).
    admin = create_engine(mariadb_base_url())
    with admin.connect() as conn:
        packet = int(conn.execute(text("SELECT @@global.max_allowed_packet")).scalar_one())
    admin.dispose()
    big = b"x" * (packet + (1 << 20))
    with _databases("mariadb", tmp_path) as d:
        sqlite = {r: create_engine(f"sqlite:///{tmp_path / (r + '.sqlite')}") for r in ("crashed", "snapshot")}
        for role, engine in (*sqlite.items(), ("production", d.engines["production"])):
            md.create_all(engine)
            with engine.begin() as conn:
                conn.execute(files.insert(), [{"id": 1, "body": b"thursday"}])
                if role != "snapshot":   # Friday's big row, and production's own under the same id
                    conn.execute(files.insert(), [{"id": 2, "body": big if role == "crashed" else b"p"}])
        env = tmp_path / "mixed.env"
        prod = d.urls["production"]
        env.write_text(f"GAPMEND_PRODUCTION_URL={prod.set(password=None).render_as_string(hide_password=False)}\n"
                       f"GAPMEND_PRODUCTION_PASSWORD={prod.password}\n"
                       f"GAPMEND_CRASHED_URL=sqlite:///{tmp_path / 'crashed.sqlite'}\n"
                       f"GAPMEND_SNAPSHOT_URL=sqlite:///{tmp_path / 'snapshot.sqlite'}\n")
        env.chmod(0o600)
        before = database_state(d.engines["production"])
        result = CliRunner().invoke(cli, ["--env-file", str(env), "restore", "--yes", "--without-backup",
                                          "--approve-pending"])
        assert result.exit_code == 2, (result.output, CliRunner().invoke(cli, ["--env-file", str(env), "plan"]).output)
        line = result.output.strip()
        assert "\n" not in line and "files: a Friday row ({'id': 2})" in line and f"max_allowed_packet ({packet:,})" in line
        assert database_state(d.engines["production"], journal=False) == {
            k: v for k, v in before.items() if not k.startswith("gapmend_")}
