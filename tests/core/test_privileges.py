"""Step 9's database half: privileges read from the server itself."""

from __future__ import annotations

import uuid

import pytest
from gapmend.core.databases.engines import open_engine
from gapmend.core.runbook.privileges import missing_privileges
from sqlalchemy import create_engine, text

from ..conftest import Databases


def test_full_privileges_pass(dbs: Databases) -> None:
    for role in ("production", "crashed"):
        engine = open_engine(dbs.urls[role], role) if dbs.dialect == "mariadb" else dbs.engines[role]
        if dbs.dialect == "sqlite":
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)"))
        assert missing_privileges(engine, role) == []


@pytest.mark.mariadb
def test_a_read_only_production_user_is_told_what_to_grant(dbs: Databases) -> None:
    if dbs.dialect != "mariadb":
        pytest.skip("MariaDB grants")
    url = dbs.urls["production"]
    name, password = f"gm_ro_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY :pw"), {"pw": password})
        conn.execute(text(f"GRANT SELECT ON `{url.database}`.* TO '{name}'@'127.0.0.1'"))
    try:
        engine = open_engine(url.set(username=name, password=password), "production")
        problems = missing_privileges(engine, "production")
        engine.dispose()
        assert len(problems) == 1
        assert "lacks INSERT, UPDATE, DELETE, CREATE, CREATE TEMPORARY TABLES" in problems[0]
        assert "GRANT INSERT, UPDATE, DELETE" in problems[0] and password not in problems[0]
        crashed = open_engine(url.set(username=name, password=password), "crashed")
        assert missing_privileges(crashed, "crashed") == []
        crashed.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{name}'@'127.0.0.1'"))
        admin.dispose()
