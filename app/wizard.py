"""The Textual wizard: the fifteen runbook steps as screens over the same core and the
same step file the console commands use. The app owns navigation; screens ask for it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from gapmend.core.apply.leftovers import NOTHING, left_behind, put_back_in
from gapmend.core.config import Settings
from gapmend.core.errors import GapmendError
from gapmend.core.logfile import LOGGER
from gapmend.core.runbook.report import run_summary, summary_title
from gapmend.core.runbook.steps import STEPS, Checklist
from gapmend.screens.backup import BackupScreen
from gapmend.screens.base import CONNECTIONS, NAVIGATION, WORK, StepList, StepScreen, running_work
from gapmend.screens.connections import ConnectionsScreen
from gapmend.screens.context import WizardContext
from gapmend.screens.dialogs import ConfirmScreen, NoticeScreen, SummaryScreen
from gapmend.screens.inspect_gaps import InspectGapsScreen
from gapmend.screens.investigate import InvestigateScreen
from gapmend.screens.laravel_app import LaravelAppScreen
from gapmend.screens.manual_step import ManualStepScreen
from gapmend.screens.messages import StepRequested, StepStateChanged
from gapmend.screens.references import ReferencesScreen
from gapmend.screens.restore import RestoreScreen
from gapmend.screens.workers import WorkersScreen
from textual import work
from textual.app import App
from textual.binding import BindingType

# Which screen carries which step (by the registry's keys); every other step is ticked off by hand.
SCREENS: dict[str, type[StepScreen]] = {
    "inspect": InspectGapsScreen, "order": ReferencesScreen, "decide": InspectGapsScreen,
    "conflicts": InspectGapsScreen, "dry-run": RestoreScreen, "workers-stop": WorkersScreen,
    "maintenance-on": LaravelAppScreen, "backup": BackupScreen, "permissions": LaravelAppScreen,
    "connection-add": LaravelAppScreen, "restore": RestoreScreen, "connection-remove": LaravelAppScreen,
    "investigate": InvestigateScreen, "workers-start": WorkersScreen, "maintenance-off": LaravelAppScreen,
}


class GapmendApp(App[None]):
    TITLE = "gapmend"
    CSS_PATH = "gapmend.tcss"
    BINDINGS: ClassVar[list[BindingType]] = NAVIGATION
    # Below 110 columns the checklist shrinks to its step numbers (`gapmend.tcss`).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (110, "-wide")]

    def __init__(self, settings: Settings, state_dir: Path, decisions_path: Path, steps_path: Path | None = None) -> None:
        """`state_dir` holds the log, reports and backups; `steps_path` the step file the
        console commands share (`cli.Context.steps_path`), by default in `state_dir`."""
        super().__init__()
        self.context = WizardContext(
            settings=settings,
            checklist=Checklist(steps_path or state_dir / "gapmend.steps.json"),
            decisions_path=decisions_path,
            reports_dir=state_dir / "gapmend-reports",
            backups_dir=state_dir / "gapmend-backups",
            log_path=state_dir / "gapmend.log",
        )

    def on_mount(self) -> None:
        current = self.context.checklist.current().number
        first = CONNECTIONS if all(self.context.checklist.get(s.number).state == "pending" for s in STEPS) else current
        self.push_screen(self._screen(first))
        self._say_leftovers()

    @work(thread=True, exit_on_error=False, group="leftovers")
    def _say_leftovers(self) -> None:
        """What a stopped restore left in production, said first (as every console command
        does), with the offer to put it back; asked in a worker, since an unreachable
        server answers slowly."""
        lines = left_behind(self.context.settings.production)
        if not lines:
            return
        LOGGER.warning("wizard: %s", "; ".join(lines))

        def decided(yes: bool | None) -> None:
            if yes:
                self._put_back()

        self.call_from_thread(self.push_screen, ConfirmScreen(
            "A stopped restore left production changed",
            "\n".join(lines) + "\n\nPut it back now? (The restore at step 11 also puts it back before it starts.)",
            yes_label="Put it back"), decided)

    @work(thread=True, exit_on_error=False, group="leftovers")
    def _put_back(self) -> None:
        """`gapmend put-back`, said in a dialog and logged."""
        try:
            done = put_back_in(self.context.settings.production)
        except GapmendError as exc:
            LOGGER.error("wizard: put-back: %s", exc)
            self.call_from_thread(self.push_screen, NoticeScreen("Nothing was put back", str(exc)))
            return
        except Exception as exc:   # the server's own error: the traceback goes to the log, one line on screen
            LOGGER.exception("wizard: put-back failed")
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.call_from_thread(self.push_screen, NoticeScreen(
                "Nothing was put back", f"{first}\n\nThe log ({self.context.log_path}) has the details; "
                "`gapmend put-back` tries again."))
            return
        for said in done:
            LOGGER.info("wizard: put-back: %s", said)
        self.call_from_thread(self.push_screen, NoticeScreen("Production is put back", "\n".join(done) or NOTHING))

    def _screen(self, number: int) -> StepScreen:
        if number == CONNECTIONS:
            return ConnectionsScreen(self.context, number)
        return SCREENS.get(STEPS[number - 1].key, ManualStepScreen)(self.context, number)

    def on_step_requested(self, message: StepRequested) -> None:
        if isinstance(self.screen, StepScreen) and self.screen.step_number == message.number:
            return
        if "restore" in running_work(self) or "undo" in running_work(self):
            self.push_screen(NoticeScreen("Not now: the restore is running",
                                          "Stay on this step until it has committed or rolled back "
                                          "(Escape cancels it: production rolls back to as it was)."))
            return
        self.switch_screen(self._screen(message.number))

    def action_quit(self) -> None:
        """Quit; while work runs, ask first and say what happens to it."""
        running = running_work(self)
        if not running:
            self.exit()
            return
        what, then, _ = WORK[running[0]]

        def decided(yes: bool | None) -> None:
            if not yes:
                return
            LOGGER.info("wizard: quit asked while %s runs: %s", what, then)
            self.context.cancel.set()   # the restore rolls back at its next chunk; the rest finish
            self.notify(f"quitting once {what} has stopped…", timeout=30)
            self.set_interval(0.2, self._quit_when_idle)

        self.push_screen(ConfirmScreen(f"Quit while {what} runs?", f"If you quit now, {then}.",
                                       yes_label="Quit when it has stopped"), decided)

    def _quit_when_idle(self) -> None:
        if not running_work(self):
            self.exit()

    def on_step_state_changed(self, message: StepStateChanged) -> None:
        """A step settled (perhaps by work that ended on another screen): the checklist
        redraws; the last step settled ends the run with what it did and where that is."""
        for screen in self.screen_stack:
            if isinstance(screen, StepScreen) and screen.is_mounted:
                screen.query_one(StepList).refresh_states()
        last = STEPS[-1].number
        if message.number == last and self.context.checklist.get(last).state in ("done", "skipped"):
            c = self.context
            self.push_screen(SummaryScreen(summary_title(c.checklist), run_summary(c.checklist, c.reports_dir, c.log_path),
                                           export=self._export_ids))

    def _export_ids(self) -> str:
        """The id map into the reports folder (from the summary's `e`, in a worker): where it is."""
        from datetime import datetime, timezone

        from gapmend.core.runbook import id_map

        path = self.context.reports_dir / f"ids-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.csv"
        n = id_map.export_file(self.context.settings, path)
        LOGGER.info("wizard: id map of %d Friday rows written to %s", n, path)
        return f"id map: {n} Friday rows in {path} (readable by you only)"
