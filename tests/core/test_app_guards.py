"""A session's user by its guard (issue 16, item 2): ``login_admin_<hash>`` is a row of
the table the ``admin`` guard's provider names in ``config/auth.php``, not of ``users``.
Without the app's config a Friday admin's session was rewritten through the users' id
map (or, without the map, left naming production's admin). The sessions are written by
Debian's Laravel 8 and read back by PHP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from gapmend.app.cli import cli
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.laravel.app_guards import Guard, read
from gapmend.core.plan.decisions import load_decisions
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select

from ..conftest import Databases
from ..dbstate import load_roles
from .test_laravel_schemas import _php, _php_reads

# Shaped like Laravel's own config/auth.php, with a second session guard as apps add one.
AUTH = r"""<?php

use App\Models\Admin;

return [
    'defaults' => [
        'guard' => 'web',
        'passwords' => 'users',
    ],

    'guards' => [
        'web' => [
            'driver' => 'session',
            'provider' => 'users',
        ],

        'admin' => [
            'driver' => 'session',
            'provider' => 'admins',
        ],

        'api' => [
            'driver' => 'token',
            'provider' => 'users',
            'hash' => false,
        ],
    ],

    'providers' => [
        'users' => [
            'driver' => 'eloquent',
            'model' => env('AUTH_MODEL', App\Models\User::class),
        ],

        // 'users' => [
        //     'driver' => 'database',
        //     'table' => 'users',
        // ],

        'admins' => [
            'driver' => 'eloquent',
            'model' => Admin::class,
        ],
    ],

    'password_timeout' => 10800,
];
"""

md = MetaData()
users = Table("users", md, Column("id", Integer, primary_key=True), Column("email", String(50)))
admins = Table("admins", md, Column("id", Integer, primary_key=True), Column("email", String(50)))
sessions = Table("sessions", md, Column("id", String(40), primary_key=True), Column("user_id", Integer),
                 Column("payload", Text), Column("last_activity", Integer))

LOGIN = ("$a = unserialize(base64_decode($argv[1])); foreach ($a as $k => $v) "
         "{ if (strpos($k, 'login_') === 0) echo substr($k, 6, strrpos($k, '_') - 6), '=', $v; }")


def _session(sid: str, user: int, guard: str = "web") -> dict[str, Any]:
    return dict(id=sid, user_id=user if guard == "web" else None, payload=_php("session.php", str(user), guard),
                last_activity=1763640000)


def test_the_guards_of_config_auth_php(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "auth.php").write_text(AUTH)
    assert read(tmp_path) == [Guard("web", "App\\Models\\User", None, "config/auth.php:30"),
                              Guard("admin", "App\\Models\\Admin", None, "config/auth.php:40")]
    assert read(tmp_path / "elsewhere") == []


@pytest.mark.parametrize("dbs", ["sqlite"], indirect=True)
def test_a_sessions_user_follows_its_guard(dbs: Databases, tmp_path: Path) -> None:
    e = dbs.engines
    snapshot = {"users": [dict(id=i, email=f"thu-{i}@x") for i in (1, 2)], "admins": [dict(id=1, email="boss@x")]}
    friday = {"users": [dict(id=3, email="fri-3@x")], "admins": [dict(id=2, email="fri-admin@x")],
              "sessions": [_session("fri-web", 3), _session("fri-admin", 2, "admin")]}
    production = {"users": [dict(id=3, email="prod-3@x")], "admins": [dict(id=2, email="prod-admin@x")]}
    load_roles(e, md, {"snapshot": [snapshot], "crashed": [snapshot, friday], "production": [snapshot, production]})
    app = tmp_path / "app"
    (app / "config").mkdir(parents=True)
    (app / "config" / "auth.php").write_text(AUTH)
    env = dbs.env_file(snapshot=True, snapshot_at=None)

    # Without the app: the web guard is Laravel's default; the admin guard names no table.
    plain = {p.id: p for p in build_plan(load_settings(env, environ={})).payload_edges}
    assert list(plain) == ["sessions.payload$login_*[guard=web]->users"]
    assert "Laravel's default provider" in plain["sessions.payload$login_*[guard=web]->users"].evidence

    env.write_text(env.read_text() + f"GAPMEND_APP_PATH={app}\n")
    settings = load_settings(env, environ={})
    found = {p.id: p for p in build_plan(settings).payload_edges}
    assert set(found) == {"sessions.payload$login_*[guard=web]->users",
                          "sessions.payload$login_*[guard=admin]->admins"}
    assert "App\\Models\\Admin by config/auth.php:40 → table 'admins'" in \
        found["sessions.payload$login_*[guard=admin]->admins"].evidence
    confirm = [a for i in sorted(found) for a in ("--confirm", i)]
    assert CliRunner().invoke(cli, ["--env-file", str(env), "approve", "sessions"]).exit_code == 0
    assert CliRunner().invoke(cli, ["--env-file", str(env), "edges", *confirm]).exit_code == 0

    report = restore(settings, load_decisions(settings.decisions_path), RestoreOptions(approve_pending=True))
    assert report.tables["sessions"].payload_ids == 2
    with e["production"].connect() as conn:
        new_user = conn.execute(select(users.c.id).where(users.c.email == "fri-3@x")).scalar_one()
        new_admin = conn.execute(select(admins.c.id).where(admins.c.email == "fri-admin@x")).scalar_one()
        payloads = dict(conn.execute(select(sessions.c.id, sessions.c.payload)).all())
    assert (new_user, new_admin) == (4, 3)                       # both moved past production's own
    assert _php_reads(LOGIN, payloads["fri-web"]) == f"web={new_user}"
    assert _php_reads(LOGIN, payloads["fri-admin"]) == f"admin={new_admin}"
    assert verify(settings)[0] == []
