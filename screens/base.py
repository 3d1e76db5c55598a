"""`StepScreen`: the frame every step shares — the checklist on the left, the step on the
right, the keys in the footer. The app owns navigation; a screen only asks for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from gapmend.core.logfile import LOGGER
from gapmend.core.runbook.steps import STEPS, Step
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, ListItem, ListView, Static
from textual.worker import Worker, WorkerState

from .context import WizardContext
from .dialogs import ConfirmScreen, KeysScreen, NoticeScreen, ReasonScreen
from .messages import StepRequested, StepStateChanged

GLYPHS = {"pending": "[ ]", "done": "[x]", "skipped": "[-]", "failed": "[!]"}
# Work that runs in a worker thread: what it is, what quitting does to it, and whether it
# changes something (then a step is not ticked off or skipped under it) (`running_work`).
WORK = {
    "restore": ("the restore", "gapmend cancels it: production rolls back to as it was, then gapmend quits", True),
    "undo": ("the undo", "gapmend waits for it to commit or roll back, then quits", True),
    "backup": ("the backup", "gapmend waits for it to finish and records it, then quits", True),
    "laravel": ("artisan", "gapmend waits for the command to finish and records it, then quits", True),
    "workers": ("supervisorctl", "gapmend waits for the command to finish and records it, then quits", True),
    "verify": ("the investigation", "gapmend waits for its reads to end (it writes nothing), then quits", False),
    "db": ("a scan of the databases", "gapmend waits for its reads to end (it writes nothing), then quits", False),
}
# The screen before step 1 (which database is which): not a runbook step.
CONNECTIONS = 0

# The keys every step shares: on the line above the footer (`NAVIGATION_LINE`), so that
# the footer has the width for the step's own keys; `?` lists them all (`KeysScreen`).
NAVIGATION: list[Binding] = [
    Binding("n", "screen.next", "Next step", show=False),
    Binding("b", "screen.back", "Previous step", show=False),
    Binding("x", "screen.mark_done", "Tick the step off (done by hand)", show=False),
    Binding("k", "screen.skip_step", "Skip the step, with a reason", show=False),
    Binding("c", "screen.connections", "Connections", show=False),
    Binding("question_mark", "screen.keys", "Every key of this step", show=False),
    Binding("q", "quit", "Quit (asks while work runs)", show=False),
]
NAVIGATION_LINE = "n next · b back · x tick off · k skip · c connections · ? keys · q quit"


def running_work(app: App[Any], changing: bool = False) -> list[str]:
    """The worker groups of `WORK` still running (`changing`: those that change
    something), in `WORK`'s order."""
    busy = {w.group for w in app.workers if not w.is_finished}
    return [group for group, (_, _, changes) in WORK.items() if group in busy and (changes or not changing)]


class StepList(ListView):
    """The fifteen steps with their state; Enter on one goes there."""

    def __init__(self, context: WizardContext, current: int) -> None:
        self.context = context
        self.current = current
        super().__init__(*[ListItem(Label(self._text(s), markup=False), id=f"step-{s.number}") for s in STEPS],
                         initial_index=max(0, current - 1), id="steps")

    def _text(self, s: Step) -> str:
        state = self.context.checklist.get(s.number).state
        return f"{GLYPHS[state]} {s.number:>2}. {s.label}"

    def refresh_states(self) -> None:
        for s in STEPS:
            item = self.query_one(f"#step-{s.number}", ListItem)
            item.query_one(Label).update(self._text(s))
            item.set_class(self.context.checklist.get(s.number).state != "pending", "-settled")
            item.set_class(s.number == self.current, "-current")

    def on_mount(self) -> None:
        self.refresh_states()

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        if event.item.id:
            self.post_message(StepRequested(int(event.item.id.split("-")[1])))


class StepScreen(Screen[None]):
    """Base for every step's screen. Subclasses set `STEP` (or pass `step`) and compose
    their body in `compose_body`."""

    STEP: ClassVar[int] = 1
    # The navigation every step shares is bound on the app (`NAVIGATION`), so that the
    # footer shows the step's own keys first and these after them.

    def __init__(self, context: WizardContext, step: int | None = None) -> None:
        super().__init__()
        self.context = context
        self.step_number = step if step is not None else self.STEP
        self.step = STEPS[self.step_number - 1] if self.step_number >= 1 else None
        self.sub_title = f"step {self.step_number}: {self.step.title}" if self.step else "connections"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield StepList(self.context, self.step_number)
            with Vertical(id="body"):
                if self.step is not None:
                    yield Static(f"Step {self.step.number} — {self.step.title}", classes="step-title")
                    yield Static(f"console: {self.step.command}", classes="step-command")
                yield from self.compose_body()
        yield Static(NAVIGATION_LINE, id="navigation")
        yield Footer()

    @property
    def key(self) -> str:
        """The step's key in the registry (`steps.STEPS`); the connections screen's is its own."""
        return self.step.key if self.step is not None else "connections"

    def ask(self, on_yes: Callable[[], object], type_to_confirm: str | None = None, **facts: str) -> None:
        """The step's own question (`steps.Step.asks`, the words the console asks too) with
        these facts; `on_yes` runs when the operator says yes."""
        assert self.step is not None and self.step.asks is not None, self.key
        question, detail = self.step.asks.worded(**facts)
        self.app.push_screen(ConfirmScreen(question, detail, yes_label=self.step.asks.button,
                                           type_to_confirm=type_to_confirm),
                             lambda ok: on_yes() if ok else self.notify(f"step {self.step_number}: not run"))

    def compose_body(self) -> ComposeResult:
        yield from ()

    def outcome(self, event: Worker.StateChanged, group: str) -> tuple[bool, Any] | None:
        """When `group`'s worker has finished: (True, its result) or (False, the error's
        one-line message). None for any other worker or state."""
        if event.worker.group != group:
            return None
        if event.state == WorkerState.SUCCESS:
            return True, event.worker.result
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            return False, getattr(error, "message", str(error))
        return None

    def mark(self, state: str, reason: str | None = None) -> None:
        """The step's state, in the checklist file and the log; the app redraws the list.
        Safe from a worker's thread: work records its own outcome, so it is kept whichever
        screen shows when it ends."""
        if self.step is None:
            return
        self.context.checklist.mark(self.step.number, state, reason)
        LOGGER.info("wizard: step %d (%s) %s%s", self.step.number, self.step.title, state, f": {reason}" if reason else "")
        self.app.post_message(StepStateChanged(self.step.number))

    def refuse(self, title: str, text: str) -> None:
        """A refusal, shown in a dialog the operator dismisses (the keys typed after it
        stay there), and logged."""
        LOGGER.info("wizard: step %d: %s: %s", self.step_number, title, text)
        self.app.push_screen(NoticeScreen(title, text))

    def action_next(self) -> None:
        self.post_message(StepRequested(min(len(STEPS), self.step_number + 1)))

    def action_back(self) -> None:
        self.post_message(StepRequested(max(0, self.step_number - 1)))

    def action_connections(self) -> None:
        self.post_message(StepRequested(CONNECTIONS))

    def action_keys(self) -> None:
        """Every key of this step and the ones all steps share, with what each does."""
        own = [b for bindings in self._bindings.key_to_bindings.values() for b in bindings if b.show]   # not Tab, ^c
        shown_ = [(self.app.get_key_display(b), b.description) for b in own]
        shared = [(self.app.get_key_display(b), b.description) for b in NAVIGATION]
        self.app.push_screen(KeysScreen(f"Keys: {self.sub_title}", shown_, shared))

    def _work_refused(self, what: str) -> bool:
        """Whether work is running, so that `what` is refused (with why)."""
        running = running_work(self.app, changing=True)
        if running:
            self.refuse(f"Not now: {WORK[running[0]][0]} is running",
                        f"{what} waits until it has finished: it records its own outcome in the checklist.")
        return bool(running)

    def action_mark_done(self) -> None:
        if self._work_refused(f"Ticking off step {self.step_number}"):
            return
        self.mark("done")
        self.notify(f"step {self.step_number} ticked off")

    def action_skip_step(self) -> None:
        if self._work_refused(f"Skipping step {self.step_number}"):
            return

        def skipped(reason: str | None) -> None:
            if reason:
                self.mark("skipped", reason)
                self.notify(f"step {self.step_number} skipped: {reason}")

        self.app.push_screen(ReasonScreen(f"Why skip step {self.step_number}?"), skipped)
