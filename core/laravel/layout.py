"""Where a Laravel app as deployed keeps its config and its service providers.

Today's skeleton keeps them in ``config/`` and ``app/Providers/``, but apps move them:
one keeps its providers in ``app/App/Providers`` (namespace ``BookStack\\App\\Providers``,
its composer autoload mapping ``BookStack\\`` to ``app/``) and its config in
``app/Config``; Laravel 5.x apps register providers in ``config/app.php``; Laravel 11
lists them in ``bootstrap/providers.php``. gapmend finds them the way the app does:

- the config directory: ``config/``, or the one the bootstrap names
  (``useConfigPath(...)``, a ``configPath()`` override), or else a ``Config`` folder under
  a PSR-4 root holding ``app.php``;
- the providers: the classes ``<config>/app.php``'s ``'providers'`` and
  ``bootstrap/providers.php`` register, each resolved to its file through
  composer.json's PSR-4 map, and every file in ``app/Providers/``.

PHP source is read, not run (`php_source`); what was read and where it looked is kept,
for `gapmend edges` to say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .php_source import array_body, qualify, without_comments
from .php_source import imports as php_imports

_CLASS = re.compile(r"(?P<cls>\\?[A-Za-z_][\w\\]*)::class")
_PROVIDERS = re.compile(r"""(['"])providers\1\s*=>[^\[]*\[""")
_RETURN = re.compile(r"return\s*\[")
_CONFIG_PATH = re.compile(r"""(?:useConfigPath\s*\(|function\s+configPath\s*\([^)]*\)[^{]*\{)(?P<body>[^;]*);""", re.S)
_WORD = re.compile(r"""['"](?P<word>[\w./-]+)['"]""")


@dataclass(frozen=True)
class Layout:
    root: Path
    config: Path | None             # the config directory, when found
    providers: tuple[Path, ...]     # provider source files, in the order found
    looked: tuple[str, ...]         # where gapmend looked, relative to the app

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


def find(app: Path) -> Layout:
    """The app's config directory and provider files (see the module docstring)."""
    psr4 = _psr4(app)
    config = _config_dir(app, psr4)
    looked = ["composer.json", "bootstrap/app.php", "config/"]
    providers: list[Path] = []
    registered: list[tuple[Path, str]] = [(app / "bootstrap" / "providers.php", "return")]
    if config is not None:
        registered.insert(0, (config / "app.php", "providers"))
        looked.append(str((config / "app.php").relative_to(app)))
    looked.append("bootstrap/providers.php")
    for path, how in registered:
        for cls in _registered(path, how):
            found = _file_of(app, cls, psr4)
            if found is not None and found not in providers:
                providers.append(found)
    looked.append("app/Providers/")
    providers += [p for p in sorted((app / "app" / "Providers").glob("*.php")) if p not in providers]
    return Layout(app, config, tuple(providers), tuple(looked))


def _psr4(app: Path) -> dict[str, str]:
    """composer.json's PSR-4 autoload map: namespace prefix -> folder (relative to the app)."""
    try:
        data = json.loads((app / "composer.json").read_text(encoding="utf-8"))
        mapping = data.get("autoload", {}).get("psr-4", {})
    except (OSError, ValueError, AttributeError):
        return {"App\\": "app/"}
    out = {}
    for prefix, folders in mapping.items():
        folder = folders[0] if isinstance(folders, list) and folders else folders
        if isinstance(prefix, str) and isinstance(folder, str):
            out[prefix] = folder
    return out or {"App\\": "app/"}


def _config_dir(app: Path, psr4: dict[str, str]) -> Path | None:
    bootstrap = _read(app / "bootstrap" / "app.php")
    candidates = [app / "config"]
    for source in [bootstrap, *(_read(p) for p in _application_classes(app, bootstrap, psr4))]:
        for m in _CONFIG_PATH.finditer(source):
            words = [w["word"].strip("/") for w in _WORD.finditer(m["body"])]
            if words:
                candidates.insert(0, app.joinpath(*"/".join(words).split("/")))
    for folder in psr4.values():
        candidates += sorted(p.parent for p in (app / folder).glob("**/Config/app.php"))
    return next((c for c in candidates if (c / "app.php").is_file() or (c / "auth.php").is_file()), None)


def _application_classes(app: Path, bootstrap: str, psr4: dict[str, str]) -> list[Path]:
    """The files of the classes ``bootstrap/app.php`` instantiates (an Application
    subclass may override ``configPath()``)."""
    out = []
    for m in re.finditer(r"new\s+(?P<cls>\\?[A-Za-z_][\w\\]*)\s*\(", bootstrap):
        found = _file_of(app, qualify(m["cls"], php_imports(bootstrap), ""), psr4)
        if found is not None:
            out.append(found)
    return out


def _registered(path: Path, how: str) -> list[str]:
    """The classes a config array registers: ``'providers' => [...]`` or ``return [...]``."""
    source = without_comments(_read(path))
    opener = (_PROVIDERS if how == "providers" else _RETURN).search(source)
    if opener is None:
        return []
    body = array_body(source, opener.end())
    imports = php_imports(source)
    return [qualify(m["cls"], imports, "") for m in _CLASS.finditer(body)]


def _file_of(app: Path, cls: str, psr4: dict[str, str]) -> Path | None:
    """The file composer's PSR-4 map loads `cls` from, when it exists."""
    cls = cls.lstrip("\\")
    for prefix, folder in sorted(psr4.items(), key=lambda kv: -len(kv[0])):
        if cls.startswith(prefix):
            path = app / folder / (cls[len(prefix):].replace("\\", "/") + ".php")
            return path if path.is_file() else None
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def reading(app: Path, aliases: Sequence[Any], guards: Sequence[Any]) -> list[str]:
    """What gapmend read from the app (`Alias` and `Guard` carry ``where``), and where it
    looked when it found nothing: the lines `gapmend edges` prints."""
    found = find(app)
    files = sorted({a.where.rsplit(":", 1)[0] for a in aliases})
    lines = [f"morph map: {len(aliases)} aliases from {', '.join(files)}" if aliases else
             f"morph map: none found in {len(found.providers)} provider files; looked in {', '.join(found.looked)}"]
    where = sorted({g.where.rsplit(":", 1)[0] for g in guards})
    lines.append(f"session guards: {', '.join(g.name for g in guards)} from {', '.join(where)}" if guards else
                 "session guards: none found; looked for auth.php in "
                 + (found.relative(found.config) if found.config else "config/ and the folder the bootstrap names"))
    return lines
