"""core must stay headless: importing it may not load Textual, Rich, Click or the UI."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

CORE_MODULES = ["config", "databases.engines", "databases.schema", "inspect.graph", "inspect.gap", "plan.model",
                "inspect.compare", "databases.rows", "plan.decisions", "apply.restore", "runbook.steps", "demo", "progress",
                "logfile", "private_files"]


def test_core_imports_no_ui() -> None:
    code = (
        "import sys\n"
        + "".join(f"import gapmend.core.{m}\n" for m in CORE_MODULES)
        + "bad = [m for m in ('textual', 'rich', 'click', 'gapmend.app', 'gapmend.screens') if m in sys.modules]\n"
        + "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# Forbidden imports per layer, checked statically over every import statement,
# deferred ones inside functions included. (import-linter cannot see the package:
# `gapmend` is assembled from top-level folders by setuptools' package-dir mapping.)
FORBIDDEN = {
    "core": ("textual", "rich", "click", "gapmend.app", "gapmend.screens"),
    "screens": ("gapmend.app",),
}


@pytest.mark.parametrize("layer", list(FORBIDDEN))
def test_layer_imports(layer: str) -> None:
    root = Path(__file__).resolve().parent.parent / layer
    offences = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                    offences.append(f"{path.name}:{node.lineno} imports {name}")
    assert not offences


# A step named by its number outside the registry (`core/steps.py`): `tick(6)`,
# `checklist.get(8)`, `step_number == 5`, `{7: ...}` keyed tables of steps.
STEP_NUMBER = re.compile(r"\b(?:tick|checklist\.mark|checklist\.get)\(\s*\d+\b|step_number\s*(?:==|!=|in)\s*[(\d]|^\s*\d+:\s*\(\"", re.M)


def test_steps_are_named_by_their_registry_keys() -> None:
    """Issue 17, item 4: each of the 15 steps is one registry entry that the console
    commands and the wizard screens are built from; code names a step by its key."""
    root = Path(__file__).resolve().parent.parent
    offences = [f"{path.relative_to(root)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group().strip()}"
                for layer in ("core", "app", "screens") for path in sorted((root / layer).rglob("*.py"))
                if path.name != "steps.py"
                for text in [path.read_text()] for m in STEP_NUMBER.finditer(text)]
    assert not offences, offences


# A database told apart by its name outside `core/dialects`: `is_mysql(...)`,
# `dialect.name == "sqlite"`, `get_backend_name() in ("mysql", ...)`.
# Also a dialect's name read or used as a key (`_TOOLS[dialect_of(engine).name]`), its
# table options picked by prefix (`k.startswith("mysql_")`), its types or its driver.
DIALECT_TEST = re.compile(
    r"\bis_mysql\b|dialect\.name\b|dialect_of\([^()]*\)\.name\b|get_backend_name\(\)\s*(?:==|!=|in)"
    r"|[\"'](?:mysql|mariadb|sqlite)_[\"']|[\"'](?:mysql|mariadb)_\w+[\"']\s*:"
    r"|\bsqlalchemy\.dialects\b|^\s*(?:import|from)\s+(?:sqlite3|pymysql)\b", re.M)
# URLs and Laravel's own connection names are parsed where the config is read.
DIALECT_TEST_ALLOWED = {"config.py", "connection.py"}


def test_databases_differ_only_behind_the_dialect() -> None:
    """Issue 17, item 3: every SQLite / MariaDB difference lives in one implementation
    per dialect (`core/dialects`); the rest asks the dialect, never its name."""
    root = Path(__file__).resolve().parent.parent
    offences = [f"{path.relative_to(root)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group().strip()}"
                for layer in ("core", "app", "screens") for path in sorted((root / layer).rglob("*.py"))
                if "dialects" not in path.parts and path.name not in DIALECT_TEST_ALLOWED
                for text in [path.read_text()] for m in DIALECT_TEST.finditer(text)]
    assert not offences, offences


# The pipeline's packages, each importing only those before it (`docs/layout.md`); the
# modules at core's top (config, errors, progress, ...) serve them all.
PIPELINE = ["laravel", "databases", "plan", "inspect", "apply", "runbook"]


def test_core_packages_import_only_the_stages_before_them() -> None:
    """Issue 17, item 5: core laid out as the pipeline it is."""
    core = Path(__file__).resolve().parent.parent / "core"
    offences = []
    for stage, package in enumerate(PIPELINE):
        for path in sorted((core / package).rglob("*.py")):
            depth = len(path.relative_to(core).parts) - 1   # packages between core and the module
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.ImportFrom) or node.level == 0:
                    continue
                if node.level <= depth - (len(path.relative_to(core / package).parts) - 1):
                    continue   # inside its own package
                target = (node.module or "").split(".")[0]
                if target in PIPELINE and PIPELINE.index(target) > stage:
                    offences.append(f"{path.relative_to(core)}:{node.lineno} imports {target}")
    assert not offences, offences
