"""Steps 7, 9 and 15 in the Laravel application itself: maintenance mode through the app's
own ``php artisan down`` / ``up``, and the OS user's access to the app folder.

Maintenance mode is confirmed by what artisan leaves behind, not by its exit code alone:
Laravel 8+ writes ``storage/framework/down`` (and ``maintenance.php``), 5.x a ``down`` file
in the same folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

from ..errors import GapmendError


class LaravelError(GapmendError):
    title = "Laravel application"


def app_path(extra: Mapping[str, str], laravel: Path | None) -> Path:
    raw = str(laravel) if laravel is not None else extra.get("GAPMEND_APP_PATH")
    if not raw:
        raise LaravelError("no application folder: pass --laravel PATH or set GAPMEND_APP_PATH in the env file")
    return Path(raw)


def is_down(app: Path) -> bool:
    return (app / "storage" / "framework" / "down").exists()


def _artisan(app: Path, php: str, *args: str) -> str:
    exe = shutil.which(php)
    if exe is None:
        raise LaravelError(f"{php} is not installed: install PHP (apt-get install php-cli) or set GAPMEND_PHP")
    if not (app / "artisan").is_file():
        raise LaravelError(f"no artisan in {app}: point GAPMEND_APP_PATH (or --laravel) at the Laravel application")
    result = subprocess.run([exe, "artisan", *args], cwd=app, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise LaravelError(f"php artisan {' '.join(args)} failed: {lines[-1] if lines else 'no message'}")
    return result.stdout.strip()


def maintenance_on(app: Path, php: str = "php") -> str:
    output = _artisan(app, php, "down")
    if not is_down(app):
        raise LaravelError(f"artisan down ran but {app}/storage/framework/down is missing: check the app's storage folder")
    return output


def maintenance_off(app: Path, php: str = "php") -> str:
    output = _artisan(app, php, "up")
    if is_down(app):
        raise LaravelError(f"artisan up ran but {app}/storage/framework/down is still there: remove it by hand")
    return output


def check_permissions(app: Path) -> list[str]:
    """What the current OS user cannot do in the app folder (empty: everything needed).

    Reads: the folder, ``.env``, ``artisan``, ``config/``. Writes: ``.env`` and
    ``config/database.php`` (step 10 edits them), ``storage/`` and ``bootstrap/cache``
    (artisan writes there), each proven by creating and removing a file, not by mode bits.
    """
    problems: list[str] = []
    if not app.is_dir():
        return [f"{app} is not a folder"]
    for rel in (".env", "artisan", "config"):
        if not os.access(app / rel, os.R_OK):
            problems.append(f"cannot read {app / rel}")
    for rel in (".env", "config/database.php"):
        path = app / rel
        if path.exists() and not os.access(path, os.W_OK):
            problems.append(f"cannot write {path}")
    for rel in ("storage/framework", "storage/logs", "bootstrap/cache", "config"):
        folder = app / rel
        try:
            fd, probe = tempfile.mkstemp(prefix=".gapmend-probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            problems.append(f"cannot create files in {folder} ({exc.strerror})")
    return problems
