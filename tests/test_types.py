"""core is checked with mypy --strict (STYLE.md): a type error fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_core_is_strictly_typed() -> None:
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports", "core"],
        cwd=root, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
