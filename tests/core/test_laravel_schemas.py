"""A schema made the way users' databases are made: Laravel 8's artisan (Debian's
php-laravel-framework) migrates three MariaDB databases with migrations shaped like the
framework's users table, Jetstream's teams and team_user, spatie/laravel-permission's
roles and model_has_roles, Sanctum's personal_access_tokens and a UUID-keyed table with
a polymorphic unique key (tests/core/laravel_migrations). Laravel creates every table
``utf8mb4_unicode_ci`` inside a database of the server's default collation.

Friday's users 4 and 5 are not production's users 4 and 5; Friday's user 6 is
production's (same e-mail). Every Friday row must end in production once, pointing at
the right people, on every copy path; the genuine collisions only (issue 14, items 1, 3).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, insert, select

from gapmend.core.config import load_settings
from gapmend.core.gap import build_plan
from gapmend.core.restore import RestoreOptions, restore
from gapmend.core.verify import verify

from ..conftest import Databases
from ..runbook.test_laravel import make_app

pytestmark = pytest.mark.mariadb
MIGRATIONS = Path(__file__).parent / "laravel_migrations"
USER, TEAM = "App\\Models\\User", "App\\Models\\Team"
AT = datetime(2026, 11, 20, 12, 0)


def _migrate(app: Path, dbs: Databases, role: str) -> None:
    """`php artisan migrate` into the role's database; the password travels in the
    environment, never on the command line."""
    url = dbs.urls[role]
    env = {**os.environ, "DB_CONNECTION": "mysql", "DB_HOST": url.host or "127.0.0.1", "DB_PORT": str(url.port or 3306),
           "DB_DATABASE": url.database or "", "DB_USERNAME": url.username or "", "DB_PASSWORD": url.password or ""}
    done = subprocess.run(["php", "artisan", "migrate", "--force", "--no-interaction"], cwd=app, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def laravel_trio(dbs: Databases, tmp_path: Path) -> Databases:
    app = make_app(tmp_path / "app")
    shutil.copytree(MIGRATIONS, app / "database" / "migrations")
    for role in ("snapshot", "crashed", "production"):
        _migrate(app, dbs, role)
    return dbs


def _users(*rows: tuple[int, str]) -> list[dict[str, Any]]:
    return [dict(id=i, name=email.split("@")[0], email=email, password="x", created_at=AT, updated_at=AT) for i, email in rows]


SNAPSHOT = {
    "users": _users((1, "ann@x"), (2, "bob@x"), (3, "cy@x")),
    "teams": [dict(id=1, user_id=1, name="ann's team", personal_team=1)],
    "team_user": [dict(id=1, team_id=1, user_id=2, role="editor")],
    "roles": [dict(id=1, name="admin", guard_name="web"), dict(id=2, name="editor", guard_name="web")],
    "model_has_roles": [dict(role_id=1, model_type=USER, model_id=1)],
    "subscriptions": [dict(id="0a-snapshot", user_id=2, subscribable_type=TEAM, subscribable_id=1)],
    "personal_access_tokens": [dict(id=1, tokenable_type=USER, tokenable_id=1, name="cli", token="t" * 64)],
}
FRIDAY = {
    "users": _users((4, "friday-4@x"), (5, "friday-5@x"), (6, "both@x")),
    "teams": [dict(id=2, user_id=4, name="friday's team", personal_team=1)],
    "team_user": [dict(id=2, team_id=1, user_id=4, role="f"), dict(id=3, team_id=2, user_id=5, role="f"),
                  dict(id=4, team_id=1, user_id=6, role="f")],
    "roles": [dict(id=3, name="writer", guard_name="web")],
    "model_has_roles": [dict(role_id=2, model_type=USER, model_id=4), dict(role_id=3, model_type=USER, model_id=5),
                        dict(role_id=2, model_type=USER, model_id=6)],
    "subscriptions": [dict(id="1f-friday", user_id=4, subscribable_type=TEAM, subscribable_id=1),
                      dict(id="2f-friday", user_id=5, subscribable_type=TEAM, subscribable_id=2),
                      dict(id="3f-friday", user_id=6, subscribable_type=TEAM, subscribable_id=1)],
    "personal_access_tokens": [dict(id=2, tokenable_type=USER, tokenable_id=4, name="phone", token="f" * 64)],
}
PRODUCTION = {
    "users": _users((4, "prod-4@x"), (5, "prod-5@x"), (6, "both@x")),
    "teams": [dict(id=2, user_id=4, name="production's team", personal_team=1)],
    "team_user": [dict(id=2, team_id=1, user_id=4, role="p"), dict(id=3, team_id=1, user_id=6, role="p")],
    "roles": [dict(id=3, name="moderator", guard_name="web")],
    "model_has_roles": [dict(role_id=2, model_type=USER, model_id=4), dict(role_id=2, model_type=USER, model_id=6)],
    "subscriptions": [dict(id="1p-prod", user_id=4, subscribable_type=TEAM, subscribable_id=1),
                      dict(id="3p-prod", user_id=6, subscribable_type=TEAM, subscribable_id=1)],
    "personal_access_tokens": [dict(id=2, tokenable_type=USER, tokenable_id=4, name="laptop", token="p" * 64)],
}


def _load(engine: Engine, *parts: dict[str, list[dict[str, Any]]]) -> None:
    md = MetaData()
    md.reflect(bind=engine)
    with engine.begin() as conn:
        for part in parts:
            for name, rows in part.items():
                conn.execute(insert(md.tables[name]), rows)


def _meaning(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every row by what it means: references followed to e-mails, team and role names."""
    md = MetaData()
    md.reflect(bind=engine, only=lambda n, _m: not n.startswith("gapmend_"))
    t = md.tables
    with engine.connect() as conn:
        users = dict(conn.execute(select(t["users"].c.id, t["users"].c.email)).all())
        teams = dict(conn.execute(select(t["teams"].c.id, t["teams"].c.name)).all())
        roles = dict(conn.execute(select(t["roles"].c.id, t["roles"].c.name)).all())
        rows = {name: conn.execute(select(table)).mappings().all() for name, table in t.items()}
    return {
        "users": {(r["email"],) for r in rows["users"]},
        "teams": {(r["name"], users[r["user_id"]]) for r in rows["teams"]},
        "team_user": {(teams[r["team_id"]], users[r["user_id"]]) for r in rows["team_user"]},
        "roles": {(r["name"],) for r in rows["roles"]},
        "model_has_roles": {(roles[r["role_id"]], users[r["model_id"]]) for r in rows["model_has_roles"]},
        "subscriptions": {(users[r["user_id"]], teams[r["subscribable_id"]]) for r in rows["subscriptions"]},
        "personal_access_tokens": {(r["name"], users[r["tokenable_id"]], r["token"]) for r in rows["personal_access_tokens"]},
    }


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_laravel_tables_restore_by_meaning(laravel_trio: Databases, server_side: bool | str) -> None:
    e = laravel_trio.engines
    _load(e["snapshot"], SNAPSHOT)
    _load(e["crashed"], SNAPSHOT, FRIDAY)
    _load(e["production"], SNAPSHOT, PRODUCTION)
    crashed, before = _meaning(e["crashed"]), _meaning(e["production"])
    settings = load_settings(laravel_trio.env_file(snapshot=True, snapshot_at=None), environ={})

    plan = build_plan(settings)
    collided = {g.table: sorted(c.key for c in g.collisions) for g in plan.tables if g.collisions}
    # Only the rows that mean the same once mapped: both@x, and what both sides gave that person.
    assert collided == {"users": [(6,)], "team_user": [(4,)], "model_has_roles": [(2, 6, USER)],
                        "subscriptions": [("3f-friday",)]}

    restore(settings, options=RestoreOptions(approve_pending=True, server_side=server_side))
    after = _meaning(e["production"])
    for table in after:
        assert after[table] == before[table] | crashed[table], table
    assert verify(settings)[0] == []
