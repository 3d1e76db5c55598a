"""Production's triggers neither change nor block restored rows (issue 14, item 2).

The tables and triggers follow the Sakila sample database (BSD licence, Oracle; see
tests/fixtures/sakila/LICENSE): ``customer_create_date`` stamps ``NOW()`` into
``customer.create_date`` before every insert, ``ins_film``/``upd_film``/``del_film`` keep
the shadow table ``film_text`` in step with ``film``, and ``film.rating`` is an ENUM.
Friday's rows in the crashed copy already hold what Friday's triggers wrote (its
customers' dates, its films' ``film_text`` rows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreError, RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.databases import triggers
from gapmend.core.runbook.verify import verify
from sqlalchemy import Engine, text

from ..conftest import Databases
from ..dbstate import database_state

FRIDAY = datetime(2026, 11, 27, 18, 30)
TABLES = {
    "mariadb": [
        "CREATE TABLE customer (customer_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "first_name VARCHAR(45) NOT NULL, email VARCHAR(50), create_date DATETIME NOT NULL)",
        "CREATE TABLE film (film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, title VARCHAR(128) NOT NULL, "
        "description TEXT, rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G', "
        "special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes'))",
        "CREATE TABLE film_text (film_id SMALLINT UNSIGNED NOT NULL PRIMARY KEY, title VARCHAR(255) NOT NULL, description TEXT)",
    ],
    "sqlite": [
        "CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, first_name VARCHAR(45) NOT NULL, email VARCHAR(50), "
        "create_date DATETIME NOT NULL)",
        "CREATE TABLE film (film_id INTEGER PRIMARY KEY, title VARCHAR(128) NOT NULL, description TEXT, "
        "rating VARCHAR(5) DEFAULT 'G', special_features VARCHAR(80))",
        "CREATE TABLE film_text (film_id SMALLINT NOT NULL PRIMARY KEY, title VARCHAR(255) NOT NULL, description TEXT)",
    ],
}
TRIGGERS = {
    "mariadb": [
        "CREATE TRIGGER customer_create_date BEFORE INSERT ON customer FOR EACH ROW SET NEW.create_date = NOW()",
        "CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW BEGIN\n"
        "  INSERT INTO film_text (film_id, title, description) VALUES (new.film_id, new.title, new.description);\nEND",
        "CREATE TRIGGER upd_film AFTER UPDATE ON film FOR EACH ROW BEGIN\n"
        "  IF (old.title != new.title) OR (old.description != new.description) OR (old.film_id != new.film_id) THEN\n"
        "    UPDATE film_text SET title=new.title, description=new.description, film_id=new.film_id "
        "WHERE film_id=old.film_id;\n  END IF;\nEND",
        "CREATE TRIGGER del_film AFTER DELETE ON film FOR EACH ROW BEGIN\n"
        "  DELETE FROM film_text WHERE film_id = old.film_id;\nEND",
    ],
    "sqlite": [
        "CREATE TRIGGER customer_create_date AFTER INSERT ON customer BEGIN\n"
        "  UPDATE customer SET create_date = datetime('now') WHERE customer_id = NEW.customer_id;\nEND",
        "CREATE TRIGGER ins_film AFTER INSERT ON film BEGIN\n"
        "  INSERT INTO film_text (film_id, title, description) VALUES (new.film_id, new.title, new.description);\nEND",
        "CREATE TRIGGER upd_film AFTER UPDATE ON film BEGIN\n"
        "  UPDATE film_text SET title=new.title, description=new.description, film_id=new.film_id "
        "WHERE film_id=old.film_id;\nEND",
        "CREATE TRIGGER del_film AFTER DELETE ON film BEGIN\n  DELETE FROM film_text WHERE film_id = old.film_id;\nEND",
    ],
}
SNAPSHOT_ROWS = [
    "INSERT INTO customer (customer_id, first_name, email, create_date) VALUES "
    "(1, 'MARY', 'MARY.SMITH@sakilacustomer.org', '2006-02-14 22:04:36'), "
    "(2, 'PATRICIA', 'PATRICIA.JOHNSON@sakilacustomer.org', '2006-02-14 22:04:36')",
    "INSERT INTO film (film_id, title, description, rating, special_features) VALUES "
    "(1, 'ACADEMY DINOSAUR', 'A Epic Drama of a Feminist And a Mad Scientist', 'PG', 'Deleted Scenes,Behind the Scenes'), "
    "(2, 'ACE GOLDFINGER', 'A Astounding Epistle of a Database Administrator', 'G', 'Trailers,Deleted Scenes')",
    "INSERT INTO film_text (film_id, title, description) VALUES "
    "(1, 'ACADEMY DINOSAUR', 'A Epic Drama of a Feminist And a Mad Scientist'), "
    "(2, 'ACE GOLDFINGER', 'A Astounding Epistle of a Database Administrator')",
]
# Friday's rows as its triggers left them: the dates stamped on Friday, film_text filled.
FRIDAY_ROWS = [
    "INSERT INTO customer (customer_id, first_name, email, create_date) VALUES "
    f"(3, 'LINDA', 'LINDA.WILLIAMS@sakilacustomer.org', '{FRIDAY}'), (4, 'BARBARA', 'BARBARA.JONES@sakilacustomer.org', '{FRIDAY}')",
    "INSERT INTO film (film_id, title, description, rating) VALUES (3, 'ADAPTATION HOLES', 'A Astounding Reflection', 'NC-17')",
    "INSERT INTO film_text (film_id, title, description) VALUES (3, 'ADAPTATION HOLES', 'A Astounding Reflection')",
]
# Production's own, written through its triggers.
PRODUCTION_ROWS = [
    "INSERT INTO customer (first_name, email, create_date) VALUES ('ELIZABETH', 'ELIZABETH.BROWN@sakilacustomer.org', "
    "'2000-01-01 00:00:00')",
    "INSERT INTO film (title, description, rating) VALUES ('AFFAIR PREJUDICE', 'A Fanciful Documentary', 'G')",
]


def _build(engine: Engine, dialect: str, *parts: list[str], with_triggers: bool) -> None:
    with engine.begin() as conn:
        for stmt in TABLES[dialect]:
            conn.exec_driver_sql(stmt)
        for part in parts:
            for stmt in part:
                conn.exec_driver_sql(stmt)
    if with_triggers:
        with engine.begin() as conn:
            for stmt in TRIGGERS[dialect]:
                conn.exec_driver_sql(stmt)


def _definitions(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {t.name: t.definition for t in triggers.on_tables(conn, ["customer", "film", "film_text"])}


def _trio(dbs: Databases) -> Any:
    e = dbs.engines
    _build(e["snapshot"], dbs.dialect, SNAPSHOT_ROWS, with_triggers=False)
    _build(e["crashed"], dbs.dialect, SNAPSHOT_ROWS, FRIDAY_ROWS, with_triggers=True)
    _build(e["production"], dbs.dialect, SNAPSHOT_ROWS, with_triggers=True)
    with e["production"].begin() as conn:
        for stmt in PRODUCTION_ROWS:
            conn.exec_driver_sql(stmt)
    return load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})


def test_restored_rows_end_as_fridays_whatever_the_triggers_do(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    settings = _trio(dbs)
    before = _definitions(e["production"])

    plan = build_plan(settings)
    listed = {t.name: t for t in plan.triggers}
    assert set(listed) == {"customer_create_date", "ins_film", "upd_film", "del_film"}
    assert "create_date" in listed["customer_create_date"].writes or dbs.dialect == "sqlite"
    assert "film_text" in listed["ins_film"].writes and "suspended" in listed["ins_film"].action

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert sorted(report.triggers) == sorted(before)
    with e["production"].connect() as conn:
        dates = dict(conn.execute(text("SELECT email, create_date FROM customer")).all())
        shadow = conn.execute(text("SELECT f.title, t.title FROM film f LEFT JOIN film_text t ON t.film_id = f.film_id "
                                   "ORDER BY f.film_id")).all()
        texts = conn.execute(text("SELECT COUNT(*) FROM film_text")).scalar()
    for email in ("LINDA.WILLIAMS@sakilacustomer.org", "BARBARA.JONES@sakilacustomer.org"):
        assert str(dates[email])[:19] == str(FRIDAY), email          # not the restore's NOW()
    assert [a for a, b in shadow if a != b] == [] and texts == len(shadow) == 4   # each film's text once
    assert _definitions(e["production"]) == before                   # the triggers are back as they were
    assert verify(settings)[0] == []
    with e["production"].begin() as conn:   # and they work again
        conn.exec_driver_sql("INSERT INTO film (title, description) VALUES ('AFTER THE RESTORE', 'x')")
        assert conn.execute(text("SELECT COUNT(*) FROM film_text WHERE title = 'AFTER THE RESTORE'")).scalar() == 1
        # What a trigger left active would have done: verify names the row and the column.
        conn.exec_driver_sql("UPDATE customer SET create_date = '2030-01-01 00:00:00' "
                             "WHERE email = 'LINDA.WILLIAMS@sakilacustomer.org'")
        linda = conn.execute(text("SELECT customer_id FROM customer WHERE email = 'LINDA.WILLIAMS@sakilacustomer.org'")).scalar()
    assert any(p.startswith(f"customer {linda}: create_date is ") for p in verify(settings)[0])


def test_a_stopped_restore_leaves_triggers_that_verify_and_the_next_run_put_back(dbs: Databases) -> None:
    e = dbs.engines
    settings = _trio(dbs)
    before = _definitions(e["production"])
    state = database_state(e["production"])
    restore(settings, options=RestoreOptions(approve_pending=True, dry_run=dbs.workdir / "dry.sql"))
    assert database_state(e["production"]) == state and _definitions(e["production"]) == before   # a dry run
    with pytest.raises(RestoreError, match="injected failure"):
        restore(settings, options=RestoreOptions(approve_pending=True, fail_after_batches=1))
    assert _definitions(e["production"]) == before                   # a failure puts them back too
    # A run killed between suspending and putting back (what SIGKILL leaves).
    with e["production"].connect() as conn:
        triggers.suspend(conn, "killed-run", triggers.on_tables(conn, ["customer", "film"]))
    assert _definitions(e["production"]) == {}
    assert any("ins_film on film is still suspended" in p for p in verify(settings)[0])
    notes = _Notes()
    restore(settings, options=RestoreOptions(approve_pending=True), progress=notes)   # puts them back first
    assert any(n.startswith("triggers created again: ") and "(a stopped restore had left them)" in n
               for n in notes.lines), notes.lines
    assert verify(settings)[0] == [] and _definitions(e["production"]) == before


class _Notes:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def start(self, label: str, total: int | None) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def note(self, message: str) -> None:
        self.lines.append(message)


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_sigkill_while_triggers_are_suspended(dbs: Databases) -> None:
    """A real `gapmend restore`, killed (SIGKILL) while production's triggers are dropped:
    production keeps none of its rows, verify and every later command say what is left
    (the triggers; on MariaDB the moved counters and the work tables too), and
    `gapmend put-back` or the next restore put it back as it was."""
    import signal
    import subprocess
    import sys
    import time

    from click.testing import CliRunner
    from gapmend.app.cli import cli

    e = dbs.engines
    settings = _trio(dbs)
    with e["crashed"].begin() as conn:   # enough Friday rows for the restore to take a while
        conn.execute(text("INSERT INTO customer (customer_id, first_name, email, create_date) VALUES (:i, 'F', :m, :d)"),
                     [dict(i=i, m=f"f{i}@x", d=FRIDAY) for i in range(5, 10_005)])
    before = _definitions(e["production"])
    counter = _counter(e["production"], "customer")
    env_file = dbs.env_file(snapshot=True, snapshot_at=None)
    child = subprocess.Popen([sys.executable, "-c", "from gapmend.app.cli import main; main()", "--env-file",
                              str(env_file), "restore", "--yes", "--without-backup", "--approve-pending", "--staged"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=dbs.workdir)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and child.poll() is None:
            with e["production"].connect() as conn:
                if conn.dialect.has_table(conn, triggers.TRIGGERS) and conn.execute(
                        text("SELECT COUNT(*) FROM gapmend_triggers WHERE status = 'suspended'")).scalar():
                    break
            time.sleep(0.01)
        assert child.poll() is None, "the restore ended before its triggers were seen suspended"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    with e["production"].connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM customer WHERE first_name = 'F'")).scalar() == 0
    assert _definitions(e["production"]) != before
    assert any("still suspended" in p for p in verify(settings)[0])
    # Every later command says first what the killed run left, and what to run.
    listed = CliRunner().invoke(cli, ["--env-file", str(env_file), "triggers"])
    first = listed.stderr.splitlines()[0]
    assert first.startswith("gapmend: warning: production's trigger") and "is suspended since" in first, listed.stderr
    assert first.endswith("run `gapmend put-back`"), first
    if dbs.dialect == "mariadb":   # the counters moved and the staged rows' work tables, named too
        assert "id counters of customer, " in listed.stderr and "are moved ahead" in listed.stderr, listed.stderr
        assert "work table" in listed.stderr, listed.stderr
    done = CliRunner().invoke(cli, ["--env-file", str(env_file), "put-back"])
    assert done.exit_code == 0 and "triggers created again" in done.output, done.output
    if dbs.dialect == "mariadb":
        assert "counters put back: customer" in done.output and "work tables dropped" in done.output, done.output
        assert _counter(e["production"], "customer") == counter
    assert _definitions(e["production"]) == before
    again = CliRunner().invoke(cli, ["--env-file", str(env_file), "put-back"])
    assert again.exit_code == 0 and "nothing to put back" in again.output and not again.stderr, again.output
    restore(settings, options=RestoreOptions(approve_pending=True))
    assert verify(settings)[0] == [] and _definitions(e["production"]) == before


def _counter(engine: Any, table: str) -> int | None:
    """The table's next id (MariaDB's AUTO_INCREMENT; None on SQLite, whose counter is transactional)."""
    if engine.dialect.name == "sqlite":
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                 "AND TABLE_NAME = :t"), {"t": table}).scalar()
