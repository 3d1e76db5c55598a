"""Any collation, any character set (issue 14, item 3): Laravel creates databases and
tables ``utf8mb4_unicode_ci``, the server's default is ``utf8mb4_general_ci``, and an old
dump may be ``utf8mb3`` or ``latin1``. Crashed and production in different ones, every
copy path must plan, restore and verify, and end in the same state as a restore between
databases of one collation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.demo import SNAPSHOT_AT, build_trio, demo_metadata
from gapmend.core.runbook.verify import verify
from sqlalchemy import insert, update

from ..conftest import ROLES, Databases, _databases
from ..dbstate import database_state

pytestmark = pytest.mark.mariadb

# (crashed's and the snapshot's database, production's database)
PAIRS = [
    ("utf8mb4_general_ci", "utf8mb4_unicode_ci"),    # the server's default beside a Laravel database
    ("utf8mb4_unicode_ci", "utf8mb4_general_ci"),
    ("utf8mb4_bin", "utf8mb4_unicode_ci"),
    ("utf8mb3_general_ci", "utf8mb4_unicode_ci"),
    ("latin1_swedish_ci", "utf8mb4_bin"),
    ("utf8mb4_unicode_ci", "latin1_swedish_ci"),
]
# A row whose string key and text are not ASCII (both encodable in latin1).
ACCENTED = {"key": "café.über", "value": "crème brûlée"}


def _trio(workdir: Path, crashed: str, production: str) -> Any:
    return _databases("mariadb", workdir, {"snapshot": crashed, "crashed": crashed, "production": production})


def _restored(dbs: Databases, staged: bool) -> tuple[object, ...]:
    """The plan's counts, and production's state after a restore, a verify and a second run."""
    e = dbs.engines
    build_trio(e["crashed"], e["production"], e["snapshot"], users=15)
    tables = demo_metadata().tables
    with e["crashed"].begin() as conn:   # a Friday row with a string key that is not ASCII
        conn.execute(insert(tables["settings"]).values(**ACCENTED))
    for role in ROLES:   # a snapshot row, alike everywhere, whose bytes differ by character set
        with e[role].begin() as conn:
            conn.execute(update(tables["users"]).where(tables["users"].c.id == 1).values(name="Zoë Ångström"))
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=SNAPSHOT_AT.isoformat()), environ={})
    counts = {g.table: g.counts for g in build_plan(settings).tables}
    restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    assert verify(settings)[0] == []
    assert restore(settings, options=RestoreOptions(approve_pending=True)).noop
    return counts, database_state(e["production"], journal=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, ...]:
    """The same restore between databases of the server's default collation."""
    with _trio(tmp_path_factory.mktemp("plain"), "utf8mb4_general_ci", "utf8mb4_general_ci") as plain:
        return _restored(plain, False)


# Every pair with Friday's rows read in place (crashed's own tables beside production's);
# the reported pair and a character-set change staged too (staging tables take
# production's collations).
CASES = [pytest.param(c, p, False, id=f"in-place-{c}-to-{p}") for c, p in PAIRS] + [
    pytest.param(*PAIRS[i], True, id=f"staged-{PAIRS[i][0]}-to-{PAIRS[i][1]}") for i in (0, 4)]


@pytest.mark.parametrize("crashed, production, staged", CASES)
def test_restore_across_collations(tmp_path: Path, crashed: str, production: str, staged: bool,
                                   reference: tuple[object, ...]) -> None:
    with _trio(tmp_path, crashed, production) as mixed:
        assert _restored(mixed, staged) == reference
