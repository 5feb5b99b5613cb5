"""Small dialogs: a one-line prompt (find, go to time, note, file name) and the column picker.

Both are modal, centred, with a :class:`~trailtui.tui.message_bar.MessageBar` as their last
line so a message never covers their text. Esc closes them with None.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, SelectionList, Static
from textual.widgets.input import Selection
from textual.widgets.selection_list import Selection as Choice

from trailtui.core.columns import COLUMNS
from trailtui.core.text import printable
from trailtui.tui.filter_bar import ControlPictures
from trailtui.tui.keys import bindings
from trailtui.tui.message_bar import MessageBar


class PromptScreen(ModalScreen["str | None"]):
    """Ask for one line of text: ``title``, a ``hint`` under the box, the box prefilled with
    ``value`` (selected with ``select``, so typing replaces it). Enter dismisses with the text
    (``check``, if given, returns an error message to show instead, or None to accept); Esc
    with None."""

    BINDINGS = bindings("dialog")

    def __init__(self, title: str, *, hint: str = "", value: str = "", placeholder: str = "",
                 check: Callable[[str], str | None] | None = None, select: bool = False) -> None:
        super().__init__()
        self.select = select
        self.title_text = title
        self.hint = hint
        self.value = value
        self.placeholder = placeholder
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="prompt-box") as box:
            box.border_title = Text(self.title_text)
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input",
                        highlighter=ControlPictures())
            yield Static(Text(self.hint), id="prompt-hint")
            yield MessageBar()

    def on_mount(self) -> None:
        box = self.query_one("#prompt-input", Input)
        self.set_focus(box)
        box.selection = Selection(0, len(box.value)) if self.select else Selection.cursor(len(box.value))

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.check(event.value) if self.check is not None else None
        if problem:
            self.query_one(MessageBar).show_message(printable(problem), severity="warning")
            return
        self.dismiss(event.value)

    def action_close(self) -> None:
        self.dismiss(None)


class ColumnPicker(ModalScreen["list[str] | None"]):
    """Every column of :data:`trailtui.core.columns.COLUMNS` with a check box: Space or Enter
    shows or hides one. Esc closes, returning the shown columns in order (those already shown
    keep their order; newly shown ones come after ``after``, the list's current column)."""

    BINDINGS = bindings("dialog")

    def __init__(self, shown: list[str], after: str | None = None) -> None:
        super().__init__()
        self.shown = list(shown)
        self.after = after

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="columns-box") as box:
            box.border_title = "Columns: Space shows / hides · Esc done"
            yield SelectionList[str](
                *(Choice(f"{column.title}  ({column.description})", column.name, column.name in self.shown)
                  for column in COLUMNS),
                id="columns-list",
            )
            yield MessageBar()

    def on_mount(self) -> None:
        self.query_one("#columns-list").focus()

    def action_close(self) -> None:
        chosen = set(self.query_one("#columns-list", SelectionList).selected)
        kept = [name for name in self.shown if name in chosen]
        new = [column.name for column in COLUMNS if column.name in chosen and column.name not in self.shown]
        if not kept and not new:
            self.query_one(MessageBar).show_message("Keep at least one column.", severity="warning")
            return
        at = kept.index(self.after) + 1 if self.after in kept else len(kept)
        self.dismiss(kept[:at] + new + kept[at:])
