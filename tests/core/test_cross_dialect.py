"""Crashed on one kind of database, production on another (issue 17, item 1): Friday's rows
are staged beside production's tables, in tables of production's own column types, and
the server decides and copies them as it does between databases of one kind. The end
state is the one a restore between databases of production's kind reaches, and verify
finds nothing."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.demo import SNAPSHOT_AT, build_trio
from gapmend.core.runbook.verify import verify

from ..conftest import Databases, _databases
from ..dbstate import database_state

pytestmark = pytest.mark.mariadb


def _mixed(stack: ExitStack, workdir: Path, friday: str, production: str) -> Databases:
    """Snapshot and crashed of dialect `friday`, production of dialect `production`."""
    sides = {d: stack.enter_context(_databases(d, workdir / d)) for d in {friday, production}}
    role = {"snapshot": friday, "crashed": friday, "production": production}
    return Databases("mixed", {r: sides[d].urls[r] for r, d in role.items()},
                     {r: sides[d].engines[r] for r, d in role.items()}, workdir)


@pytest.mark.parametrize("friday, production", [("sqlite", "mariadb"), ("mariadb", "sqlite")])
def test_a_restore_across_dialects_is_staged_and_ends_as_within_one(tmp_path: Path, friday: str,
                                                                    production: str) -> None:
    states, paths = [], []
    with ExitStack() as stack:
        for crashed in (friday, production):   # across dialects, then all three of production's
            dbs = _mixed(stack, tmp_path / crashed, crashed, production)
            e = dbs.engines
            build_trio(e["crashed"], e["production"], e["snapshot"], users=20)
            settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat()), environ={})
            report = restore(settings, options=RestoreOptions(approve_pending=True))
            assert verify(settings)[0] == []
            assert restore(settings, options=RestoreOptions(approve_pending=True)).noop
            states.append(database_state(e["production"], journal=False))
            paths.append(report.path)
    assert paths[0].startswith("server-side, Friday's rows staged in production's database first"), paths[0]
    assert "different kinds of database" in paths[0]
    assert "staged" not in paths[1]
    assert states[0] == states[1]
