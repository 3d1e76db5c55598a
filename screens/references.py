"""Step 2: the references review. Every column that can carry an id the restore moves
and nobody decided (`census`): its evidence in figures, a few of Friday's rows it would
rewrite, and the proposal. `a` takes the highlighted proposal, `d` says it is no
reference, `A` takes every proposal shown; each decision is saved and the gap scanned
again, so that the plan the restore holds to has the references decided. Below: the
write order, parents first, and the cycles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gapmend.core.databases.engines import open_engine
from gapmend.core.databases.schema import reflect
from gapmend.core.inspect import census
from gapmend.core.logfile import LOGGER
from gapmend.core.plan.model import IdColumn
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual.worker import Worker

from .dialogs import ConfirmScreen
from .gap_detail import short
from .plan_scan import RESCAN, PlanScreen


@dataclass(frozen=True)
class _Rows:
    """The rows `census.rewritten` read for one column, for the detail."""

    id: str
    lines: list[str]


class ReferencesScreen(PlanScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept"),
        Binding("d", "reject", "Not an id"),
        Binding("A", "accept_all", "Accept all"),
        RESCAN,
    ]

    def compose_body(self) -> ComposeResult:
        yield from self.compose_scan()
        table: DataTable[str] = DataTable(id="census", cursor_type="row", zebra_stripes=True)
        table.add_columns("column", "moved", "proposed")
        yield table
        with VerticalScroll(id="detail-scroll"):
            yield Static("", id="reference-detail")
            yield Static("", id="reference-rows")
            yield Static("", id="order")

    def _show_plan(self, when: str) -> None:
        assert self.plan is not None
        found = self.plan.id_columns
        table = self.query_one("#census", DataTable)
        table.clear()
        for f in found:
            table.add_row(short(f.id, 40), str(f.moved), short(f.proposal(), 40), key=f.id)
        table.display = bool(found)
        status = (f"{len(found)} undecided column{'s' if len(found) != 1 else ''} can carry ids the restore moves: "
                  "the restore waits for each" if found else "every column that can carry a moved id is decided")
        self.query_one("#scan-status", Static).update(Text(f"{status} · {when}"))
        self.query_one("#order", Static).update(Text("\n".join(_order_lines(self.plan.order, self.plan.cycles))))
        if found:
            table.focus()
            self._show_detail(found[0].id)
        else:
            self.query_one("#reference-detail", Static).update("")
            self.query_one("#reference-rows", Static).update("")
        # The step is done once nothing is undecided (the restore refuses before that).
        if not found:
            self.mark("done")

    @on(DataTable.RowHighlighted, "#census")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self._show_detail(event.row_key.value)

    def _show_detail(self, column_id: str) -> None:
        f = self._found(column_id)
        if f is None:
            return
        how = ("a: confirm it · d: drop it" if f.inferred else
               "a: take it as a key · d: not a key" if f.unique else
               "a: take the proposal · d: the values are plain, not ids")
        lines = [f.id, f"  {f.evidence()}", f"  proposed: {f.proposal()}", f"  {how}"]
        self.query_one("#reference-detail", Static).update(Text("\n".join(lines)))
        self.query_one("#reference-rows", Static).update("")
        self.load_rows(f)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rows", description="rows a decision rewrites")
    def load_rows(self, f: IdColumn) -> _Rows:
        assert self.plan is not None
        engine = open_engine(self.context.settings.crashed, "crashed")
        try:
            schema = reflect(engine, "crashed")
            with engine.connect() as conn:
                return _Rows(f.id, census.rewritten(conn, schema, self.plan, f))
        finally:
            engine.dispose()

    @on(Worker.StateChanged)
    def _rows_loaded(self, event: Worker.StateChanged) -> None:
        done = self.outcome(event, "rows")
        if done is None or not done[0]:
            return
        rows: _Rows = done[1]
        if rows.lines and self._selected() == rows.id:
            text = "\n".join(["", "Friday's rows it decides (in crashed):", *(f"  {line}" for line in rows.lines)])
            self.query_one("#reference-rows", Static).update(Text(text))

    def _found(self, column_id: str | None) -> IdColumn | None:
        if self.plan is None or column_id is None:
            return None
        return next((f for f in self.plan.id_columns if f.id == column_id), None)

    def _selected(self) -> str | None:
        table = self.query_one("#census", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _decided(self, what: str) -> None:
        LOGGER.info("wizard: references: %s", what)
        self.notify(what)
        self.action_rescan()   # the plan the restore holds to has the new references

    def action_accept(self) -> None:
        f = self._found(self._selected())
        if f is None or self.plan is None:
            self.notify("no undecided column")
            return
        decisions = self.context.decisions()
        taken = census.accept(decisions, self.plan, [f])
        self.context.save_decisions(decisions)
        self._decided(f"accepted {', '.join(taken)}")

    def action_reject(self) -> None:
        f = self._found(self._selected())
        if f is None:
            self.notify("no undecided column")
            return
        decisions = self.context.decisions()
        what = census.reject(decisions, f)
        self.context.save_decisions(decisions)
        self._decided(what)

    def action_accept_all(self) -> None:
        """Every proposal shown, after the operator has read them, as `gapmend edges --accept-suggestions`."""
        if self.plan is None or not self.plan.id_columns:
            self.notify("no undecided column")
            return
        found = list(self.plan.id_columns)

        def confirmed(yes: bool | None) -> None:
            if not yes or self.plan is None:
                return
            decisions = self.context.decisions()
            taken = census.accept(decisions, self.plan, found)
            self.context.save_decisions(decisions)
            self._decided(f"accepted {len(taken)} reference{'s' if len(taken) != 1 else ''}")

        self.app.push_screen(ConfirmScreen(
            f"Take all {len(found)} proposals?",
            "\n".join(f"{f.id}: {f.proposal()}\n  {f.evidence()}" for f in found)
            + "\n\nA look-alike taken as a reference is rewritten: d on it first if its values are plain.",
            yes_label="Take them"), confirmed)


def _order_lines(order: list[str], cycles: list[list[str]]) -> list[str]:
    lines = ["", f"write order, parents first ({len(order)} tables):", "  " + " → ".join(order)]
    lines += [f"  cycle, written together: {' ↔ '.join(c)}" for c in cycles]
    return lines
