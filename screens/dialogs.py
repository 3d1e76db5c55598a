"""Modal dialogs. `ConfirmScreen` confirms an action that changes something: it says
exactly what will happen and where, defaults to No, and Escape means No. A typed
confirmation opens with the cursor in its input (the keys an operator types go there,
and Enter confirms once they match)."""

from __future__ import annotations

from typing import Callable, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState


class ConfirmScreen(ModalScreen[bool]):
    """Yes/No, No by default. With `type_to_confirm`, the most destructive steps also want
    the target's name typed: the Yes button stays disabled until it matches."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "no", "No"), Binding("y", "yes", "Yes")]
    AUTO_FOCUS = "#no"

    def __init__(self, title: str, detail: str, yes_label: str = "Yes, do it", type_to_confirm: str | None = None) -> None:
        super().__init__()
        self.title_text, self.detail, self.yes_label = title, detail, yes_label
        self.type_to_confirm = type_to_confirm
        if type_to_confirm is not None:
            self.AUTO_FOCUS = "#typed"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text), classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):   # a long detail scrolls; the input and buttons stay
                yield Static(Text(self.detail), classes="dialog-detail")
            if self.type_to_confirm is not None:
                yield Static(Text(f"Type {self.type_to_confirm} to enable {self.yes_label}:"))
                # The placeholder must not look like the name already typed.
                yield Input(placeholder="type the name here", id="typed")
            with Horizontal(classes="dialog-buttons"):
                yield Button("No", id="no", variant="primary")
                yield Button(self.yes_label, id="yes", variant="error", disabled=self.type_to_confirm is not None)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#yes", Button).disabled = event.value != self.type_to_confirm

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value == self.type_to_confirm:
            self.dismiss(True)
        else:
            self.notify(f"type {self.type_to_confirm} exactly, or press Escape for No", severity="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_no(self) -> None:
        self.dismiss(False)

    def action_yes(self) -> None:
        if self.type_to_confirm is None:   # a typed confirmation cannot be skipped with a key
            self.dismiss(True)


class ReasonScreen(ModalScreen["str | None"]):
    """Asks for a one-line reason (skipping a step); Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, classes="dialog-title")
            yield Input(placeholder="e.g. no supervisor on this host", id="reason")
            yield Static("Enter records it; Escape cancels", id="reason-hint", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:   # an empty Enter closes nothing: the keys after it stay in this dialog
            self.query_one("#reason-hint", Static).update("a reason is needed to skip a step (Escape cancels)")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoticeScreen(ModalScreen[None]):
    """A refusal or a failure, shown until the operator dismisses it (Enter or Escape):
    a toast fades while the keys typed after it reach the screen behind."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", "Close")]
    AUTO_FOCUS = "#ok"

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text), classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(Text(self.text), classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class SummaryScreen(ModalScreen[None]):
    """A closing statement (the end of the run): Enter or Escape closes it. With `export`
    (which writes the id map and says where), `e` runs it: for the people who answer
    Friday's customers."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", "Close"), Binding("q", "app.quit", "Quit"),
                                             Binding("e", "export", "Export the id map")]

    def __init__(self, title: str, text: str, export: Callable[[], str] | None = None) -> None:
        super().__init__()
        self.title_text, self.text, self.export = title, text, export

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text), classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(Text(self.text), id="summary")
            if self.export is not None:
                yield Static("e writes the id map (Friday id → new id, who) for whoever answers Friday's customers",
                             id="export", classes="hint")
            yield Static("Enter closes; q quits gapmend", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        if self.export is not None:
            self.query_one("#export", Static).update("writing the id map…")
            self._export()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ids", description="writing the id map")
    def _export(self) -> str:
        assert self.export is not None
        return self.export()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "ids" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            error = event.worker.error
            said = event.worker.result if error is None else f"the id map was not written: {error}"
            self.query_one("#export", Static).update(Text(str(said)))


class KeysScreen(ModalScreen[None]):
    """`?`: the current step's keys and the keys every step shares; any of Escape, Enter
    or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,question_mark", "close", "Close")]

    def __init__(self, title: str, own: list[tuple[str, str]], shared: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text, self.own, self.shared = title, own, shared

    def compose(self) -> ComposeResult:
        lines = [f"{key:>7}  {what}" for key, what in self.own] or ["(none of its own)"]
        lines += ["", "every step:"] + [f"{key:>7}  {what}" for key, what in self.shared]
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text), classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll", id="keys-scroll"):
                yield Static(Text("\n".join(lines)), id="keys")
            yield Static("↓ scrolls; Escape closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
