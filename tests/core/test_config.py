"""Settings from a gapmend env file and from a Laravel application's .env."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from gapmend.core.config import load_laravel_settings, load_settings
from gapmend.core.errors import ConfigError


def test_password_from_its_own_key_is_never_rendered(tmp_path: Path) -> None:
    env = tmp_path / "a.env"
    env.write_text(
        "GAPMEND_PRODUCTION_URL=mysql+pymysql://app@db:3306/shop\n"
        "GAPMEND_PRODUCTION_PASSWORD=s3cr3t-pw\n"
        "GAPMEND_CRASHED_URL=sqlite:///crashed.sqlite\n"
        "GAPMEND_SNAPSHOT_AT=2026-11-19T23:00:00+01:00\n"
    )
    s = load_settings(env, environ={})
    assert s.production.password == "s3cr3t-pw"
    assert "s3cr3t-pw" not in str(s.masked()) and "s3cr3t-pw" not in repr(s.production)
    assert s.crashed.database == str(tmp_path / "crashed.sqlite")     # relative to the env file
    assert s.snapshot_at == datetime(2026, 11, 19, 22, 0, 0)           # stored as naive UTC


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    env = tmp_path / "a.env"
    env.write_text("GAPMEND_PRODUCTION_URL=sqlite:///p.sqlite\nGAPMEND_CRASHED_URL=sqlite:///c.sqlite\n")
    s = load_settings(env, environ={"GAPMEND_CRASHED_URL": "sqlite:///other.sqlite"})
    assert s.crashed.database.endswith("other.sqlite")


def _laravel(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / ".env").write_text(
        "APP_NAME=Shop\nDB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_PORT=3306\nDB_DATABASE=shop\n"
        "DB_USERNAME=shop\nDB_PASSWORD=\"pa ss\"\n" + extra
    )
    return tmp_path


def test_laravel_env_gives_production_and_crashed(tmp_path: Path) -> None:
    app = _laravel(tmp_path, "DB_CRASHED_DATABASE=shop_crashed\nGAPMEND_SNAPSHOT_AT=2026-11-19 23:00:00\n")
    s = load_laravel_settings(app, environ={})
    assert (s.production.database, s.production.username, s.production.password) == ("shop", "shop", "pa ss")
    assert (s.crashed.database, s.crashed.host, s.crashed.password) == ("shop_crashed", "127.0.0.1", "pa ss")
    assert s.snapshot_at == datetime(2026, 11, 19, 23, 0, 0)
    assert not s.trust_updated_at
    assert load_laravel_settings(app, environ={"GAPMEND_TRUST_UPDATED_AT": "yes"}).trust_updated_at


def test_laravel_without_crashed_connection_says_which_step(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="step 10"):
        load_laravel_settings(_laravel(tmp_path), environ={})


def test_laravel_crashed_database_named_before_step_10(tmp_path: Path) -> None:
    """Before step 10 adds the connection (and after step 12 removes it) the crashed
    database is named by GAPMEND_CRASHED_DATABASE, in the .env or the environment; with
    both, they must agree. The app's folder is known to every step."""
    app = _laravel(tmp_path, "GAPMEND_SUPERVISOR_CONF=/etc/supervisor/supervisord.conf\n")
    s = load_laravel_settings(app, environ={"GAPMEND_CRASHED_DATABASE": "shop_crashed"})
    assert (s.crashed.database, s.crashed.password) == ("shop_crashed", "pa ss")
    assert s.extra == {"GAPMEND_SUPERVISOR_CONF": "/etc/supervisor/supervisord.conf", "GAPMEND_APP_PATH": str(app)}
    (app / ".env").write_text((app / ".env").read_text() + "DB_CRASHED_DATABASE=shop_old\n")
    with pytest.raises(ConfigError, match="DB_CRASHED_DATABASE=shop_old but GAPMEND_CRASHED_DATABASE=shop_crashed"):
        load_laravel_settings(app, environ={"GAPMEND_CRASHED_DATABASE": "shop_crashed"})


def test_unreadable_env_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path, environ={})   # a directory


@pytest.mark.parametrize("values, message", [
    ({"GAPMEND_TRUST_UPDATED_AT": "yes"}, "needs GAPMEND_SNAPSHOT_AT"),
    ({"GAPMEND_TRUST_UPDATED_AT": "maybe", "GAPMEND_SNAPSHOT_AT": "2026-11-19T23:00:00"}, "is not yes or no"),
])
def test_trust_updated_at_is_checked(tmp_path: Path, values: dict[str, str], message: str) -> None:
    env = tmp_path / "x.env"
    env.write_text("GAPMEND_PRODUCTION_URL=sqlite:///p.sqlite\nGAPMEND_CRASHED_URL=sqlite:///c.sqlite\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(env, environ=values)
