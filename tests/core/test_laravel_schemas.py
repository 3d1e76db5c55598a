"""A schema made the way users' databases are made: Laravel 8's artisan (Debian's
php-laravel-framework) migrates three MariaDB databases with the published migrations of
public packages (tests/core/laravel_packages, each with its licence: Jetstream's users,
teams and team_user, spatie/laravel-permission's tables and config, Sanctum's
personal_access_tokens, the Laravel 8 skeleton's password_resets), the framework's own
tables as artisan generates them, and the suite's own UUID-keyed table with a
polymorphic unique key and soft-deleted forum tables (tests/core/laravel_migrations).
Laravel creates every table ``utf8mb4_unicode_ci`` inside a database of the server's
default collation.

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
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.plan.model import QueuedJob
from gapmend.core.runbook.verify import verify
from sqlalchemy import Engine, MetaData, select

from ..conftest import Databases
from ..dbstate import load_reflected
from ..runbook.test_laravel import make_app

pytestmark = pytest.mark.mariadb
MIGRATIONS = Path(__file__).parent / "laravel_migrations"
PACKAGES = Path(__file__).parent / "laravel_packages"


def install_migrations(app: Path) -> None:
    """The app's migrations: the packages' own, as published (tests/core/laravel_packages,
    their licences beside them; a package's config into config/), and the suite's own."""
    folder = app / "database" / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    for package in sorted(p for p in PACKAGES.iterdir() if p.is_dir()):
        for path in package.glob("*.php"):
            shutil.copy(path, folder / path.name if path.name[:4].isdigit() else app / "config" / path.name)
USER, TEAM = "App\\Models\\User", "App\\Models\\Team"
AT = datetime(2026, 11, 20, 12, 0)


def migrate(app: Path, dbs: Databases, role: str, *, strict: bool = True) -> None:
    """`php artisan migrate` into the role's database; the password travels in the
    environment, never on the command line. `strict=False` as apps that ask for it
    (BookStack) configure their connection."""
    url = dbs.urls[role]
    env = {**os.environ, "DB_CONNECTION": "mysql", "DB_HOST": url.host or "127.0.0.1", "DB_PORT": str(url.port or 3306),
           "DB_DATABASE": url.database or "", "DB_USERNAME": url.username or "", "DB_PASSWORD": url.password or "",
           "DB_STRICT": "true" if strict else "false"}
    done = subprocess.run(["php", "artisan", "migrate", "--force", "--no-interaction"], cwd=app, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def migrate_app(source: Path, dbs: Databases, folder: Path, *, strict: bool = True) -> None:
    """An application's own migrations (`source`/migrations, with the least stand-ins of
    its classes they call in `source`/support) run by artisan into all three roles."""
    app = make_app(folder)
    shutil.rmtree(app / "database" / "migrations", ignore_errors=True)
    shutil.copytree(source / "migrations", app / "database" / "migrations")
    if (source / "support").is_dir():
        shutil.copytree(source / "support", app / "support")
    for role in ("snapshot", "crashed", "production"):
        migrate(app, dbs, role, strict=strict)


@pytest.fixture
def laravel_trio(dbs: Databases, tmp_path: Path) -> Databases:
    app = make_app(tmp_path / "app")
    install_migrations(app)
    for role in ("snapshot", "crashed", "production"):
        migrate(app, dbs, role)
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
    # Friday's user 4 switched to Friday's team 2 (Jetstream's users.current_team_id): a
    # cycle users ↔ teams that no declared key states.
    "users": [dict(u, current_team_id=2 if u["id"] == 4 else None)
              for u in _users((4, "friday-4@x"), (5, "friday-5@x"), (6, "both@x"))],
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
        "users": {(r["email"], teams.get(r["current_team_id"])) for r in rows["users"]},
        "teams": {(r["name"], users[r["user_id"]]) for r in rows["teams"]},
        "team_user": {(teams[r["team_id"]], users[r["user_id"]]) for r in rows["team_user"]},
        "roles": {(r["name"],) for r in rows["roles"]},
        "model_has_roles": {(roles[r["role_id"]], users[r["model_id"]]) for r in rows["model_has_roles"]},
        "subscriptions": {(users[r["user_id"]], teams[r["subscribable_id"]]) for r in rows["subscriptions"]},
        "personal_access_tokens": {(r["name"], users[r["tokenable_id"]], r["token"]) for r in rows["personal_access_tokens"]},
    }


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_laravel_tables_restore_by_meaning(laravel_trio: Databases, staged: bool) -> None:
    e = laravel_trio.engines
    load_reflected(e["snapshot"], SNAPSHOT)
    load_reflected(e["crashed"], SNAPSHOT, FRIDAY)
    load_reflected(e["production"], SNAPSHOT, PRODUCTION)
    crashed, before = _meaning(e["crashed"]), _meaning(e["production"])
    settings = load_settings(laravel_trio.env_file(snapshot=True, snapshot_at=None), environ={})

    plan = build_plan(settings)
    collided = {g.table: sorted(c.key for c in g.collisions) for g in plan.tables if g.collisions}
    # Only the rows that mean the same once mapped: both@x, and what both sides gave that person.
    assert collided == {"users": [(6,)], "team_user": [(4,)], "model_has_roles": [(2, 6, USER)],
                        "subscriptions": [("3f-friday",)]}

    report = restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert ("staged" in report.path) == staged
    after = _meaning(e["production"])
    for table in after:
        assert after[table] == before[table] | crashed[table], table
    assert verify(settings)[0] == []


# The framework's own tables, their migrations generated by Debian's Laravel 8 artisan.
FRAMEWORK_COMMANDS = ("session:table", "queue:table", "queue:failed-table", "queue:batches-table", "cache:table",
                      "notifications:table")
OPERATIONAL = ("sessions", "jobs", "failed_jobs", "cache", "password_resets", "migrations")


@pytest.fixture
def laravel_app_trio(dbs: Databases, tmp_path: Path) -> Databases:
    app = make_app(tmp_path / "app")
    install_migrations(app)
    for command in FRAMEWORK_COMMANDS:
        done = subprocess.run(["php", "artisan", command], cwd=app, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
    for role in ("snapshot", "crashed", "production"):
        migrate(app, dbs, role)
    return dbs


PAYLOADS = Path(__file__).parent / "laravel_payloads"


def _php(script: str, *args: str) -> str:
    """What a PHP script of ours prints, run on Debian's Laravel 8 (its real serializer)."""
    done = subprocess.run(["php", str(PAYLOADS / script), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _session(sid: str, user: int) -> dict[str, Any]:
    return dict(id=sid, user_id=user, ip_address="10.0.0.1", user_agent="Firefox",
                payload=_php("session.php", str(user)), last_activity=1763640000)


def _job(n: int, user: int) -> dict[str, Any]:
    return dict(id=n, queue="default", payload=_php("queued_job.php", str(user)),
                attempts=0, available_at=1763640000, created_at=1763640000)


def _php_reads(script: str, value: str) -> str:
    """The user id PHP itself finds in a payload gapmend wrote (it must still unserialize)."""
    done = subprocess.run(["php", "-r", script, value], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


SESSION_USER = ("$a = unserialize(base64_decode($argv[1])); foreach ($a as $k => $v) "
                "{ if (strpos($k, 'login_web_') === 0) echo $v; }")
JOB_USER = ("$p = json_decode($argv[1], true); $o = unserialize($p['data']['command'], ['allowed_classes' => false]);"
            " $v = (array) $o; $m = (array) $v['user']; echo $m['id'];")


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_laravel_operational_tables_are_left_out_by_default(laravel_app_trio: Databases, tmp_path: Path) -> None:
    """Issue 16, item 1: a Friday session, queued job, cache entry, failed job, password
    reset token and migration row were restored as plain data (a session then logs a
    browser in as the production user holding its user's id). By default they stay out,
    each with its reason in the plan and the report; the operator can restore one
    (`approve sessions`), never `migrations`."""
    from click.testing import CliRunner
    from gapmend.app.cli import cli

    from ..dbstate import database_state

    e = laravel_app_trio.engines
    friday = {"users": [dict(u, current_team_id=None) for u in FRIDAY["users"][:2]], "sessions": [_session("fri-4", 4)], "jobs": [_job(1, 4)],
              "cache": [dict(key="gm:page", value="friday's page", expiration=1763640000)],
              "failed_jobs": [dict(uuid="f-1", connection="database", queue="default", payload="{}", exception="x")],
              "password_resets": [dict(email="friday-4@x", token="t", created_at=AT)],
              "migrations": [dict(migration="2026_11_20_000000_friday_data_fix", batch=2)]}
    production = {"users": PRODUCTION["users"][:2], "sessions": [_session("prod-4", 4)], "jobs": [_job(1, 5)],
                  "cache": [dict(key="gm:page", value="production's page", expiration=1763650000)]}
    load_reflected(e["snapshot"], {"users": SNAPSHOT["users"], "sessions": [_session("thu-1", 1)]})
    load_reflected(e["crashed"], {"users": SNAPSHOT["users"], "sessions": [_session("thu-1", 1)]}, friday)
    load_reflected(e["production"], {"users": SNAPSHOT["users"], "sessions": [_session("thu-1", 1)]}, production)
    env = laravel_app_trio.env_file(snapshot=True, snapshot_at=None)
    settings = load_settings(env, environ={})

    plan = build_plan(settings)
    for name in OPERATIONAL:
        g = plan.table(name)
        assert g.has_work and g.decision.value == "skip" and g.default_reason, name
    assert plan.table("users").default_reason is None
    # The framework's and packages' data tables stay the operator's to decide, with a note.
    for name, note in (("notifications", "Laravel's database notifications"), ("personal_access_tokens", "Sanctum's")):
        g = plan.table(name)
        assert g.decision.value == "pending" and (g.default_reason or "").startswith(note), name
    text = CliRunner().invoke(cli, ["--env-file", str(env), "plan"]).output
    assert "Laravel's operational tables, skipped by default" in text and "sessions: Laravel's sessions" in text
    # Friday's queued job, one by one: what it would do if replayed.
    assert QueuedJob(table="jobs", id=1, job="App\\Jobs\\SendWelcome", models=["App\\Models\\User 4"],
                     available_at="2025-11-20 12:00:00") in plan.queued_jobs
    assert "jobs 1: App\\Jobs\\SendWelcome, naming App\\Models\\User 4, due 2025-11-20 12:00:00" in text
    refused = CliRunner().invoke(cli, ["--env-file", str(env), "approve", "migrations"])
    assert refused.exit_code == 2 and "migrations cannot be approved" in refused.output

    before = database_state(e["production"])
    report = restore(settings, options=RestoreOptions(approve_pending=True))
    after = database_state(e["production"])
    for name in OPERATIONAL:
        assert after[name] == before[name], name                        # untouched
        assert report.left_out[name].startswith("gapmend's default: ")
    assert len(after["users"]) == len(before["users"]) + 2

    # The operator restores Friday's sessions and queued jobs anyway, having confirmed the
    # ids inside their PHP-serialized payloads (issue 16, item 2).
    inside = {p.id for p in plan.payload_edges}
    assert {"sessions.payload$login_*[guard=web]->users", "jobs.payload$data.command[class=App\\Models\\User]->users"} <= inside
    assert CliRunner().invoke(cli, ["--env-file", str(env), "approve", "sessions", "jobs"]).exit_code == 0
    confirm = [a for i in sorted(inside) if i.startswith(("sessions.", "jobs.")) for a in ("--confirm", i)]
    assert CliRunner().invoke(cli, ["--env-file", str(env), "edges", *confirm]).exit_code == 0
    from gapmend.core.plan.decisions import load_decisions

    again = restore(settings, load_decisions(settings.decisions_path), RestoreOptions(approve_pending=True))
    assert again.tables["sessions"].inserted == 1 and again.tables["jobs"].inserted == 1
    assert again.tables["sessions"].payload_ids == 1 and again.tables["jobs"].payload_ids == 1
    with e["production"].connect() as conn:
        from sqlalchemy import text as sql

        friday4 = conn.execute(sql("SELECT id FROM users WHERE email = 'friday-4@x'")).scalar_one()
        session = conn.execute(sql("SELECT user_id, payload FROM sessions WHERE id = 'fri-4'")).one()
        job = conn.execute(sql("SELECT payload FROM jobs WHERE id <> 1 OR payload LIKE '%u-4%' ORDER BY id DESC")).first()
    assert friday4 != 4 and session.user_id == friday4                 # its user, not production's user 4
    assert _php_reads(SESSION_USER, session.payload) == str(friday4)   # the browser logs in as Friday's user
    assert _php_reads(JOB_USER, job.payload) == str(friday4)          # the job acts on Friday's user
    assert verify(settings)[0] == []
