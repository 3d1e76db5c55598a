"""The application's own morph map: `Relation::morphMap([...])` and
`Relation::enforceMorphMap([...])` in its service providers.

An app that maps `'article' => Post::class` stores `article` in every `*_type` column;
without the map gapmend cannot tell which table `article` names and asks for
`--morph article=posts`. With the app's folder known (`--laravel`, or
``GAPMEND_APP_PATH``), the aliases are read from its service providers (`layout`), each with the
file and line it came from; the operator's own `--morph` still wins.

PHP source is read, not run: the array literal after the call, its
``'alias' => Model::class`` and ``'alias' => 'App\\Models\\Model'`` entries, with
`Model` resolved through the file's `use` imports (or its namespace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import layout
from .php_source import array_body, qualify
from .php_source import imports as php_imports

_CALL = re.compile(r"(?:Relation::)?(?:enforceMorphMap|morphMap)\s*\(\s*\[")
_ENTRY = re.compile(r"""(['"])(?P<alias>[^'"]+)\1\s*=>\s*(?:(?P<cls>\\?[A-Za-z_][\w\\]*)::class|(['"])(?P<name>[^'"]+)\4)""")
_NAMESPACE = re.compile(r"^\s*namespace\s+(?P<ns>[\w\\]+)\s*;", re.M)


@dataclass(frozen=True)
class Alias:
    alias: str
    model: str      # the model's class, fully qualified
    where: str      # file:line, relative to the app


def read(app: Path) -> list[Alias]:
    """Every alias the app's service providers map (found where the app registers them,
    `layout`), in the order found."""
    found = layout.find(app)
    out: list[Alias] = []
    for path in found.providers:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.extend(_aliases(source, found.relative(path)))
    return out


def _aliases(source: str, name: str) -> list[Alias]:
    imports = php_imports(source)
    ns = _NAMESPACE.search(source)
    out = []
    for call in _CALL.finditer(source):
        body = array_body(source, call.end())
        for entry in _ENTRY.finditer(body):
            model = entry["name"] or qualify(entry["cls"], imports, ns["ns"] if ns else "")
            line = source.count("\n", 0, call.end() + entry.start()) + 1
            out.append(Alias(entry["alias"], model.replace("\\\\", "\\"), f"{name}:{line}"))
    return out
