"""A Laravel-like trio (snapshot, crashed, production) at any scale, generated inside the
database: the sequence engine on MariaDB, a recursive CTE on SQLite, so a million rows per
table take seconds, not the minutes that rows sent from Python would.

The schema is `gapmend.core.demo.demo_metadata()`: users/teams (a cycle), posts, comments
(self-reference), tags, the post_tag pivot, polymorphic images. Every big table holds
`rows` rows in CRASHED; the snapshot ends at ``S = rows × (1 - gap)``. Friday (CRASHED)
appends ids S+1…rows, updates 1 % of users and posts, deletes 0.1 % of comments;
production appends half as many rows under the same ids (so every one of them takes an id
Friday used), updates 0.67 % of users and posts (half of them also changed by Friday:
conflicts), and deletes 0.05 % of the posts with their comments, tags and images (Friday
rows pointing at them are orphans). Every 500th Friday user whose id production took has
production's user's e-mail: a unique-key collision.

References are a deterministic scatter (``(n × k) mod limit + 1``) over the rows that side
can see, so Friday's rows point at snapshot rows and at each other, never at production's.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from gapmend.core.demo import demo_metadata
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

OLD = "2026-11-01 12:00:00"        # snapshot rows' timestamps (the snapshot is 2026-11-19 23:00)
FRIDAY = "2026-11-20 09:00:00"
PRODUCTION = "2026-11-21 09:00:00"
SNAPSHOT_AT = "2026-11-19T23:00:00"
BIG = ("users", "posts", "comments", "images")
TAGS = 500


@dataclass(frozen=True)
class Sizes:
    rows: int
    gap: float

    @property
    def snapshot(self) -> int:
        return round(self.rows * (1 - self.gap))

    @property
    def production(self) -> int:
        """Where production's own appends end: half as many as Friday's, from the same id."""
        return self.snapshot + (self.rows - self.snapshot) // 2

    @staticmethod
    def teams(upto: int) -> int:
        """Teams a side holds when its users end at `upto`: one per 20 users."""
        return upto // 20

    def friday_rows(self) -> int:
        """Rows Friday appended, all tables (the pivot has 4/3 of a row per post)."""
        gap = self.rows - self.snapshot
        posts = range(self.snapshot + 1, self.rows + 1)
        return len(BIG) * gap + self.teams(self.rows) - self.teams(self.snapshot) + sum(
            1 + (n % 3 == 0) for n in posts)


class _Sql:
    """The few spellings that differ between the two dialects."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def seq(self, lo: int, hi: int) -> str:
        """A derived table `q(n)` of the integers lo…hi."""
        if hi < lo:
            return "(SELECT 1 AS n WHERE 1 = 0) q"
        if self.dialect == "sqlite":
            return f"(WITH RECURSIVE s(n) AS (SELECT {lo} UNION ALL SELECT n + 1 FROM s WHERE n < {hi}) SELECT n FROM s) q"
        return f"(SELECT seq AS n FROM seq_{lo}_to_{hi}) q"

    def cat(self, *parts: str) -> str:
        return " || ".join(parts) if self.dialect == "sqlite" else "CONCAT(" + ", ".join(parts) + ")"


def _ref(n: str, k: int, limit: int) -> str:
    return f"(({n}) * {k} % {limit} + 1)"


def _append(conn: Connection, sql: _Sql, side: str, lo: int, hi: int, sizes: Sizes, ts: str) -> None:
    """Rows lo…hi of every table for one side; references scatter over 1…hi (what that side holds)."""
    t_lo, t_hi = sizes.teams(lo - 1) + 1, sizes.teams(hi)
    q = sql.seq(lo, hi)
    tag = "u" if side == "snapshot" else side[0]
    p = {"ts": ts}
    conn.execute(text(
        "INSERT INTO teams (id, user_id, name, created_at, updated_at) "
        f"SELECT n, {_ref('n', 7919, hi)}, {sql.cat(repr(side + ' team '), 'n')}, :ts, :ts FROM {sql.seq(t_lo, t_hi)}"), p)
    # Every 500th Friday user whose id production also used carries production's e-mail.
    email = sql.cat("'u'", "n", "'@x.test'") if side == "snapshot" else (
        f"CASE WHEN n % 500 = 0 AND n <= {sizes.production} THEN {sql.cat(repr('p'), 'n', repr('@x.test'))} "
        f"ELSE {sql.cat(repr(tag), 'n', repr('@x.test'))} END" if side == "crashed"
        else sql.cat(repr(tag), "n", "'@x.test'"))
    conn.execute(text(
        "INSERT INTO users (id, name, email, current_team_id, created_at, updated_at) "
        f"SELECT n, {sql.cat(repr(side + ' user '), 'n')}, {email}, "
        f"CASE WHEN n % 4 = 0 THEN {_ref('n', 31, max(t_hi, 1))} END, :ts, :ts FROM {q}"), p)
    conn.execute(text(
        "INSERT INTO posts (id, user_id, title, body, created_at, updated_at) "
        f"SELECT n, {_ref('n', 7919, hi)}, {sql.cat(repr(side + ' post '), 'n')}, "
        f"'Lorem ipsum dolor sit amet, consectetur adipiscing elit.', :ts, :ts FROM {q}"), p)
    # Ten comments in a row share a post; every tenth answers the one before it.
    group = "((n + 1) - (n + 1) % 10)"
    conn.execute(text(
        "INSERT INTO comments (id, post_id, user_id, parent_id, body, created_at, updated_at) "
        f"SELECT n, {_ref(group, 104729, hi)}, {_ref('n', 7907, hi)}, CASE WHEN n % 10 = 0 THEN n - 1 END, "
        f"{sql.cat(repr(side + ' comment '), 'n')}, :ts, :ts FROM {q}"), p)
    conn.execute(text(
        f"INSERT INTO post_tag (post_id, tag_id) SELECT n, n % {TAGS} + 1 FROM {q} "
        f"UNION ALL SELECT n, (n % {TAGS} + {TAGS // 2}) % {TAGS} + 1 FROM {q} WHERE n % 3 = 0"))
    conn.execute(text(
        "INSERT INTO images (id, imageable_type, imageable_id, url, created_at, updated_at) "
        f"SELECT n, CASE WHEN n % 2 = 0 THEN :post ELSE :user END, {_ref('n', 7883, hi)}, "
        f"{sql.cat(repr('https://img.x.test/' + tag), 'n', repr('.jpg'))}, :ts, :ts FROM {q}"),
        {**p, "post": "App\\Models\\Post", "user": "App\\Models\\User"})


def _snapshot(conn: Connection, sql: _Sql, sizes: Sizes) -> None:
    conn.execute(text(
        f"INSERT INTO tags (id, name, created_at, updated_at) SELECT n, {sql.cat(repr('tag '), 'n')}, :ts, :ts "
        f"FROM {sql.seq(1, TAGS)}"), {"ts": OLD})
    _append(conn, sql, "snapshot", 1, sizes.snapshot, sizes, OLD)


def _update_every(conn: Connection, sql: _Sql, side: str, step: int, upto: int, ts: str) -> None:
    """One snapshot user and post in `step` renamed by `side` (every 300th by both: conflicts)."""
    for table, column in (("users", "name"), ("posts", "title")):
        conn.execute(text(f"UPDATE {table} SET {column} = {sql.cat(column, repr(f' ({side})'))}, updated_at = :ts "
                          f"WHERE id % {step} = 0 AND id <= {upto}"), {"ts": ts})


def _friday(conn: Connection, sql: _Sql, sizes: Sizes) -> None:
    _append(conn, sql, "crashed", sizes.snapshot + 1, sizes.rows, sizes, FRIDAY)
    _update_every(conn, sql, "friday", 100, sizes.snapshot, FRIDAY)
    conn.execute(text(f"DELETE FROM comments WHERE id % 1000 = 5 AND id <= {sizes.snapshot}"))


def _production(conn: Connection, sql: _Sql, sizes: Sizes) -> None:
    _append(conn, sql, "production", sizes.snapshot + 1, sizes.production, sizes, PRODUCTION)
    _update_every(conn, sql, "production", 150, sizes.snapshot, PRODUCTION)
    s = sizes.snapshot
    doomed = f"% 2000 = 1 AND {{c}} <= {s}"
    conn.execute(text("DELETE FROM comments WHERE post_id " + doomed.format(c="post_id")))
    conn.execute(text("DELETE FROM post_tag WHERE post_id " + doomed.format(c="post_id")))
    conn.execute(text("DELETE FROM images WHERE imageable_type = :post AND imageable_id " + doomed.format(c="imageable_id")),
                 {"post": "App\\Models\\Post"})
    conn.execute(text("DELETE FROM posts WHERE id " + doomed.format(c="id")))


def build(dialect: str, engines: dict[str, Engine], sizes: Sizes) -> dict[str, float]:
    """Fill the empty databases `engines` (snapshot, crashed, production); seconds per role."""
    sql = _Sql(dialect)
    took: dict[str, float] = {}
    for engine in engines.values():
        demo_metadata().create_all(engine)
    t = time.monotonic()
    with _writer(engines["snapshot"], dialect) as conn:
        _snapshot(conn, sql, sizes)
    took["snapshot"] = time.monotonic() - t
    for role, change in (("crashed", _friday), ("production", _production)):
        t = time.monotonic()
        _copy_snapshot(dialect, engines, role)
        with _writer(engines[role], dialect) as conn:
            change(conn, sql, sizes)
        took[role] = time.monotonic() - t
    return took


class _writer:
    """A transaction with foreign-key checks off, as a dump's loader has them."""

    def __init__(self, engine: Engine, dialect: str) -> None:
        self.engine, self.dialect = engine, dialect

    def __enter__(self) -> Connection:
        self.conn = self.engine.connect()
        if self.dialect != "sqlite":
            self.conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        return self.conn

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.conn.commit()
        self.conn.close()


def _copy_snapshot(dialect: str, engines: dict[str, Engine], role: str) -> None:
    if dialect == "sqlite":
        engines[role].dispose()
        shutil.copyfile(str(engines["snapshot"].url.database), str(engines[role].url.database))
        return
    source = engines["snapshot"].url.database
    with _writer(engines[role], dialect) as conn:
        for table in demo_metadata().sorted_tables:
            conn.execute(text(f"INSERT INTO `{table.name}` SELECT * FROM `{source}`.`{table.name}`"))


# --- a second MariaDB server, for CRASHED on another machine ---------------------------

@dataclass
class SecondServer:
    datadir: Path
    port: int
    command: list[str]
    error_log: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self, user: str, password: str) -> URL:
        return URL.create("mysql+pymysql", username=user, password=password, host="127.0.0.1", port=self.port)

    def start(self) -> None:
        """Starts the server on its data directory (again, after a crash or `stop(keep=True)`)
        and waits until it answers."""
        with self.error_log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log)
        for _ in range(120):
            ping = subprocess.run(["mariadb-admin", f"--socket={self.datadir / 'mysqld.sock'}", "ping", "--silent"],
                                  capture_output=True)
            if ping.returncode == 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the second mariadbd on port {self.port} did not answer in 60 s")

    def stop(self, keep: bool = False) -> None:
        """Stops the server; its data directory goes too unless `keep`."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)
        if not keep:
            shutil.rmtree(self.datadir, ignore_errors=True)


def free_port() -> int:
    """A TCP port nothing on this host listens on now: two runs side by side (the suite's
    workers, two benchmarks) never start their second servers on the same one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_second_server(base: Path, port: int, user: str, password: str, buffer_pool: int,
                        extra: Sequence[str] = (), error_log: Path | None = None) -> SecondServer:
    """A throw-away mariadbd on `port` with its own data directory, configured like the
    first (same InnoDB buffer pool) and by `extra` server options, with `user` allowed in
    over TCP. Its error log is `error_log`, by default `mariadb2.err` beside the data
    directory."""
    datadir = base / "mariadb2"
    datadir.mkdir(parents=True)
    shutil.chown(datadir, "mysql", "mysql")
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", "--user=mysql",
                    "--skip-test-db", *extra], check=True, capture_output=True)
    server = SecondServer(datadir, port, [
        "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={datadir}", f"--port={port}",
        f"--socket={datadir / 'mysqld.sock'}", "--bind-address=127.0.0.1", "--user=mysql",
        f"--innodb-buffer-pool-size={buffer_pool}", f"--pid-file={datadir / 'mysqld.pid'}", "--skip-log-bin", *extra],
        error_log or base / "mariadb2.err")
    server.start()
    # The password goes through stdin, never a command line.
    sql = (f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';\n"
           f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'127.0.0.1';\n")
    subprocess.run(["mariadb", f"--socket={datadir / 'mysqld.sock'}", "-uroot"], input=sql.encode(), check=True,
                   env={**os.environ, "MYSQL_PWD": ""})
    return server


def copy_database(source: URL, target: URL, database: str) -> float:
    """`mariadb-dump | mariadb` of one database from one server to another; seconds."""
    from gapmend.core.databases.dialects.mariadb_dump import client_options

    t = time.monotonic()
    with client_options(source) as src, client_options(target) as dst:
        subprocess.run(["mariadb", f"--defaults-extra-file={dst}", "-e", f"CREATE DATABASE `{database}`"], check=True)
        dump = subprocess.Popen(["mariadb-dump", f"--defaults-extra-file={src}", "--single-transaction",
                                 "--skip-triggers", database], stdout=subprocess.PIPE)
        subprocess.run(["mariadb", f"--defaults-extra-file={dst}", database], stdin=dump.stdout, check=True)
        if dump.wait() != 0:
            raise RuntimeError("mariadb-dump failed")
    return time.monotonic() - t

