"""The application's session guards: which model each one logs in (``config/auth.php``).

A database session names its user as ``login_<guard>_<hash> => id``; which table that id
is a row of depends on the guard: ``web`` logs in ``App\\Models\\User`` by Laravel's
default, an ``admin`` guard may log in ``App\\Models\\Admin``. With the app's folder known
(`--laravel`, ``GAPMEND_APP_PATH``) each session guard's provider is read from
``config/auth.php``: an Eloquent provider's ``model`` (``env('AUTH_MODEL', X::class)``
too) or a database provider's ``table``. Without it, the ``web`` guard's user is taken
to be ``App\\Models\\User``, and the evidence says so; another guard's logins are not
taken for any table's ids.

PHP source is read, not run (`php_source`), as for the morph map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import layout
from .php_source import array_body, qualify, without_comments
from .php_source import imports as php_imports

DEFAULT_GUARD, DEFAULT_MODEL = "web", "App\\Models\\User"
_KEY = re.compile(r"""(['"])(?P<key>[\w.-]+)\1\s*=>\s*\[""")
_VALUE = r"""(['"]){key}\1\s*=>\s*(?:env\(\s*['"][^'"]*['"]\s*,\s*)?(?:(?P<cls>\\?[A-Za-z_][\w\\]*)::class|(['"])(?P<text>[^'"]+)\3)"""


@dataclass(frozen=True)
class Guard:
    name: str
    model: str | None      # the Eloquent model's class, fully qualified ...
    table: str | None      # ... or a database provider's table
    where: str             # file:line of the provider, relative to the app


def read(app: Path) -> list[Guard]:
    """The session guards of ``config/auth.php`` with what each logs in; empty when the
    file is missing or unreadable."""
    found = layout.find(app)
    if found.config is None:
        return []
    path = found.config / "auth.php"
    shown = found.relative(path)
    try:
        source = without_comments(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []
    imports = php_imports(source)
    guards, providers = _section(source, "guards"), _section(source, "providers")
    out = []
    for name, (body, _) in guards.items():
        if _value(body, "driver") != "session":
            continue
        provider = providers.get(_value(body, "provider") or "")
        if provider is None:
            continue
        text, offset = provider
        where = f"{shown}:{source.count(chr(10), 0, offset) + 1}"
        model = _value(text, "model", imports)
        out.append(Guard(name, model, None if model else _value(text, "table"), where))
    return out


def _section(source: str, key: str) -> dict[str, tuple[str, int]]:
    """The entries of the top-level array ``'key' => [...]``: name -> (body, offset)."""
    found = re.search(rf"""(['"]){key}\1\s*=>\s*\[""", source)
    if found is None:
        return {}
    body = array_body(source, found.end())
    out: dict[str, tuple[str, int]] = {}
    pos = 0
    while (entry := _KEY.search(body, pos)) is not None:
        inner = array_body(body, entry.end())
        out.setdefault(entry["key"], (inner, found.end() + entry.start()))
        pos = entry.end() + len(inner) + 1
    return out


def _value(body: str, key: str, imports: dict[str, str] | None = None) -> str | None:
    found = re.search(_VALUE.format(key=re.escape(key)), body)
    if found is None:
        return None
    if found["cls"]:
        return qualify(found["cls"], imports or {}, "").replace("\\\\", "\\")
    return found["text"].replace("\\\\", "\\")
