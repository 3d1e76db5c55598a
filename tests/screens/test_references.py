"""Issue 38, item 3: wizard step 2 is the references review. Every undecided column that
can carry an id the restore moves is listed with its evidence and a few of Friday's rows
it decides; `d` calls one plain, `A` takes every proposal shown after a dialog (No by
default), each decision saved and the gap scanned again; the step is done once nothing
is undecided, and the restore that follows puts every reference right."""

from __future__ import annotations

import pytest
from gapmend.app.wizard import GapmendApp
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.plan.decisions import load_decisions
from gapmend.screens.dialogs import ConfirmScreen
from gapmend.screens.references import ReferencesScreen
from textual.widgets import DataTable, Static

from ..conftest import Databases
from ..core.test_id_census import FRIDAY, PRODUCTION, SNAPSHOT, _pages, _schema
from ..dbstate import load_roles
from .test_wizard import _settle


def _rows(screen: ReferencesScreen) -> list[str]:
    table = screen.query_one("#census", DataTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


@pytest.mark.parametrize("dbs", ["sqlite"], indirect=True)
async def test_step_2_reviews_the_references(dbs: Databases) -> None:
    load_roles(dbs.engines, _schema(), {"snapshot": [SNAPSHOT], "crashed": [SNAPSHOT, FRIDAY],
                                        "production": [SNAPSHOT, PRODUCTION]})
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})
    assert settings.decisions_path is not None
    app = GapmendApp(settings, dbs.workdir, settings.decisions_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        await pilot.press("n", "n")            # connections → step 1 (scans) → step 2
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReferencesScreen)
        assert _rows(screen) == ["pages.created_by", "pages.updated_by", "pages.views"]
        assert app.context.checklist.get(2).state == "pending"
        detail = str(screen.query_one("#reference-detail", Static).render())
        assert "created_by: 2 of 2 Friday values are users ids" in detail and "pages.created_by->users.id" in detail
        assert "pages 2: created_by = 3: Friday's users 3" in str(screen.query_one("#reference-rows", Static).render())

        screen.query_one("#census", DataTable).move_cursor(row=2)
        await pilot.press("d")                 # views: plain values, not ids
        await _settle(app, pilot)
        assert _rows(screen) == ["pages.created_by", "pages.updated_by"]

        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")             # No is the default: nothing taken
        await _settle(app, pilot)
        assert _rows(screen) == ["pages.created_by", "pages.updated_by"]
        await pilot.press("A", "y")
        await _settle(app, pilot)
        assert _rows(screen) == [] and app.context.checklist.get(2).state == "done"

    decisions = load_decisions(settings.decisions_path)
    assert decisions.plain_columns == ["pages.views"]
    assert sorted(decisions.accepted) == ["pages.created_by->users.id", "pages.updated_by->users.id"]
    restore(settings, decisions, RestoreOptions(approve_pending=True))
    assert _pages(dbs)["page 2"] == ("friday-3@x", "friday-4@x", 3)
