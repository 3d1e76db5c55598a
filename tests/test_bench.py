"""The benchmark runs end to end at a small size on every layout, and the trio it
generates restores as its generator says: every Friday insert inserted, linked to the
production row holding its e-mail, or skipped as an orphan, and `verify` clean."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, _require_mariadb

sys.path.insert(0, str(ROOT / "bench"))

from scale import Sizes  # noqa: E402

ROWS, GAP = 12_000, 0.05   # small: the test proves the script, the benchmark measures


# MariaDB's two-server layout runs every path the same-server one does (its plan, its
# peers) and the staged restore besides; the same-server restore is the suite's own.
@pytest.mark.parametrize("dialect, layout", [
    ("sqlite", "same-server"),
    pytest.param("mariadb", "two-servers", marks=pytest.mark.mariadb),
])
def test_benchmark_restores_what_it_generated(tmp_path, dialect: str, layout: str) -> None:  # type: ignore[no-untyped-def]
    if dialect == "mariadb":
        _require_mariadb()
    out = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "trio_bench.py"), "--dialect", dialect, "--layout", layout,
                           "--rows", str(ROWS), "--gap", str(GAP), "--json", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    friday = Sizes(ROWS, GAP).friday_rows()
    assert r["plan"]["friday_inserts"] == friday
    # The generator stamps updated_at on every change, so trusting it finds the same rows.
    assert (r["plan_trusting"]["rows"], r["plan_trusting"]["friday_inserts"]) == (r["plan"]["rows"], friday)
    totals = r["restore"]["totals"]
    assert totals["linked"] >= 1 and totals["skipped"] >= 1          # a collision and orphans are generated
    assert totals["inserted"] + totals["linked"] + totals["skipped"] == friday
    assert totals["updated"] > 0 and totals["conflicts_kept"] > 0
    assert r["verify"]["problem_count"] == 0, r["verify"]["problems"]
    assert "gapmend restore" in proc.stdout and "x" in proc.stdout    # the table with its ratios
