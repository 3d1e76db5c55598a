"""Steps 10 and 12: add the crashed database as a connection of the Laravel application,
and remove it again.

Both files are edited between marker lines, so removal takes out exactly what was added
and adding twice replaces the block instead of duplicating it:

- ``.env`` gets ``DB_CRASHED_*`` keys (the password written there, as Laravel expects;
  the file keeps its mode, and a copy of the original is kept 0600 beside it);
- ``config/database.php`` gets a ``'crashed'`` connection reading those keys, inserted at
  the top of the ``'connections' => [`` array and checked with ``php -l``.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from ..errors import GapmendError
from ..private_files import write_private

BEGIN_ENV = "# gapmend: crashed connection (remove with: gapmend connection remove)"
END_ENV = "# gapmend: end of crashed connection"
BEGIN_PHP = "// gapmend: crashed connection (remove with: gapmend connection remove)"
END_PHP = "// gapmend: end of crashed connection"

PHP_BLOCK = """        {begin}
        'crashed' => [
            'driver' => env('DB_CRASHED_CONNECTION', 'mysql'),
            'host' => env('DB_CRASHED_HOST', env('DB_HOST', '127.0.0.1')),
            'port' => env('DB_CRASHED_PORT', env('DB_PORT', '3306')),
            'database' => env('DB_CRASHED_DATABASE'),
            'username' => env('DB_CRASHED_USERNAME', env('DB_USERNAME')),
            'password' => env('DB_CRASHED_PASSWORD', env('DB_PASSWORD', '')),
            'charset' => 'utf8mb4',
            'collation' => 'utf8mb4_unicode_ci',
            'prefix' => '',
            'strict' => true,
        ],
        {end}
"""


class ConnectionError_(GapmendError):
    title = "Crashed connection"


def add(app: Path, crashed: URL) -> None:
    env, config = app / ".env", app / "config" / "database.php"
    for path in (env, config):
        if not path.is_file():
            raise ConnectionError_(f"{path} not found: is {app} a Laravel application?")
    driver = "sqlite" if crashed.get_backend_name() == "sqlite" else "mysql"
    lines = [BEGIN_ENV, f"DB_CRASHED_CONNECTION={driver}", f"DB_CRASHED_DATABASE={crashed.database or ''}"]
    if driver == "mysql":
        lines += [f"DB_CRASHED_HOST={crashed.host or '127.0.0.1'}", f"DB_CRASHED_PORT={crashed.port or 3306}",
                  f"DB_CRASHED_USERNAME={crashed.username or ''}"]
        if crashed.password:
            lines.append(f"DB_CRASHED_PASSWORD={_env_quote(crashed.password)}")
    lines.append(END_ENV)
    _keep_copy(env)
    _keep_copy(config)
    _rewrite(env, _without(env.read_text(), BEGIN_ENV, END_ENV).rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")
    text = _without(config.read_text(), BEGIN_PHP, END_PHP)
    match = re.search(r"(['\"])connections\1\s*=>\s*\[[^\n]*\n", text)
    if match is None:
        raise ConnectionError_(f"no 'connections' => [ array in {config}: add the crashed connection by hand")
    _rewrite(config, text[: match.end()] + PHP_BLOCK.format(begin=BEGIN_PHP, end=END_PHP) + text[match.end():])
    _php_lint(config)


def remove(app: Path) -> None:
    """Take the blocks out again. Where nothing else changed in a file since `add`, the
    file gets back its original bytes (from the copy `add` kept); otherwise only the
    marked block is cut, so the operator's own later edits survive."""
    env, config = app / ".env", app / "config" / "database.php"
    for path, begin, end in ((env, BEGIN_ENV, END_ENV), (config, BEGIN_PHP, END_PHP)):
        if not path.is_file():
            continue
        copy = path.with_name(path.name + ".gapmend-backup")
        stripped = _without(path.read_text(), begin, end)
        if copy.exists() and _same_but_whitespace(stripped, copy.read_text()):
            _rewrite(path, copy.read_bytes())
            copy.unlink()
        else:
            _rewrite(path, stripped)
    if config.is_file():
        _php_lint(config)


def present(app: Path) -> bool:
    env = app / ".env"
    return env.is_file() and BEGIN_ENV in env.read_text()


def _without(text: str, begin: str, end: str) -> str:
    pattern = re.compile(r"\n?[ \t]*" + re.escape(begin) + r".*?" + re.escape(end) + r"[ \t]*\n?", re.S)
    return pattern.sub("\n", text)


def _same_but_whitespace(a: str, b: str) -> bool:
    return a.split() == b.split()


def _env_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if re.search(r"[\s#\"'$\\]", value) else value


def _keep_copy(env: Path) -> None:
    """A 0600 copy of the file as it was before gapmend's first edit."""
    copy = env.with_name(env.name + ".gapmend-backup")
    if not copy.exists():   # the first add's copy is the original; a second add keeps it
        write_private(copy, env.read_bytes())


def _rewrite(path: Path, content: str | bytes) -> None:
    """Replace the file atomically, keeping its mode (a 0600 .env stays 0600)."""
    write_private(path, content, atomic=True, mode=stat.S_IMODE(path.stat().st_mode))


def _php_lint(path: Path) -> None:
    php = shutil.which("php")
    if php is None:
        return
    result = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise ConnectionError_(f"{path} no longer parses after the edit ({result.stdout.strip()[:160]}): "
                               "restore it from version control and add the connection by hand")
