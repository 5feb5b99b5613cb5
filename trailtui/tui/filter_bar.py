"""The filter bar: type a filter, see it applied as you type, walk the history with Up/Down.

:class:`FilterBar` owns the text box, the debounce (a burst of keystrokes runs one query), the
error caret (an invalid filter says why and where, and the last good result stays), the
whole-words hint of free text, and the history walk. It compiles the text itself and posts
:class:`FilterBar.Applied` with the compiled filter; the screen runs it.
"""

from __future__ import annotations

from rich.highlighter import Highlighter
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.widgets.input import Selection

from trailtui.core.filter import CompiledFilter, FilterError, compile_filter
from trailtui.core.text import printable, visible_controls
from trailtui.tui.keys import bindings

#: Characters of the filter shown on each side of an error's caret.
ERROR_CONTEXT = 20
#: Keystrokes typed faster than this (seconds) run one query, not one each.
DEBOUNCE_SECONDS = 0.15

PLACEHOLDER = "no filter: press / and type one, e.g. name:GetObject is:anonymous  (? for help)"


class ControlPictures(Highlighter):
    """Shows control characters and bidi marks as one visible character each (the value keeps
    them): text pasted from a log must not reach the terminal raw."""

    def highlight(self, text: Text) -> None:
        text.plain = visible_controls(text.plain)


class FilterInput(Input):
    """The filter's text box: an Input whose Up/Down walk the filter history."""

    BINDINGS = bindings("filter")

    def action_history(self, step: int) -> None:
        bar = next((node for node in self.ancestors if isinstance(node, FilterBar)), None)
        if bar is not None:
            bar.walk_history(step)


class FilterBar(Widget):
    """The filter text box with its prompt, match count and message line.

    Posts :class:`Applied` when the text, after :data:`DEBOUNCE_SECONDS` of quiet, compiles to
    a filter other than the one last applied. Enter and Esc are the screen's (priority keys that
    move the focus at once); leaving the bar, the screen applies the text with :meth:`apply_now`.
    """

    COMPONENT_CLASSES = {"filter-bar--problem", "filter-bar--caret", "filter-bar--suggestion"}

    class Applied(Message):
        """A typed filter compiled: ``compiled`` (its ``text`` is what was typed)."""

        def __init__(self, compiled: CompiledFilter) -> None:
            super().__init__()
            self.compiled = compiled

    def __init__(self, text: str = "", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._initial = text
        self._timer: Timer | None = None
        self._applied_text: str | None = None
        #: Filters to walk with Up/Down, newest first (set by the screen).
        self.history: list[str] = []
        self._history_index = -1  # -1: the text being typed, not a history entry
        self._draft = ""
        #: The share (0.0 to 1.0) of events a running load has put in the full-text index so far,
        #: None when it holds them all (set by the screen from the loader's progress).
        self.free_text_ready: float | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Static("/", id="filter-prompt")
            yield FilterInput(
                value=self._initial,
                placeholder=PLACEHOLDER,
                id="filter-input",
                select_on_focus=False,  # focus_for_edit selects itself (typing replaces)
                highlighter=ControlPictures(),
            )
            yield Static("", id="filter-info")
        yield Static("", id="filter-message")

    @property
    def input(self) -> FilterInput:
        """The text box."""
        return self.query_one(FilterInput)

    @property
    def input_ready(self) -> bool:
        """True once the text box exists (the bar composes it after the screen mounts)."""
        return bool(self.query(FilterInput))

    @property
    def text(self) -> str:
        """The text in the box."""
        return self.input.value

    # ------------------------------------------------------------------ editing

    def focus_for_edit(self) -> None:
        """Focus the text box now (not after a refresh: keys typed right behind must land
        here) with the whole filter selected, so typing replaces it and End keeps it."""
        box = self.input
        self.screen.set_focus(box)
        box.selection = Selection(0, len(box.value))
        self._history_index = -1  # Up starts from the newest filter again

    def set_text(self, text: str, *, select: tuple[int, int] | None = None) -> None:
        """Show ``text`` (a filter applied from elsewhere: pivot, preset, history) without
        posting :class:`Applied`; ``select`` selects that span of it."""
        self._cancel_timer()
        box = self.input
        with box.prevent(Input.Changed):
            box.value = text
        # The start in view (a long preset's first terms say what it is); End reaches the rest.
        box.selection = Selection(*select) if select else Selection.cursor(0)
        self._applied_text = text
        self._history_index = -1
        self.clear_message()

    def walk_history(self, step: int) -> None:
        """Up (``step`` -1: older) / Down (+1: newer) through :attr:`history`; past the newest
        entry the text being typed comes back. The shown entry is applied as it appears."""
        if not self.history:
            return
        if self._history_index == -1:
            self._draft = self.text
        index = self._history_index + (1 if step < 0 else -1)
        # An entry equal to what the box holds would look like Up did nothing: pass it.
        while 0 <= index < len(self.history) and self.history[index] == self.text:
            index += 1 if step < 0 else -1
        index = max(-1, min(len(self.history) - 1, index))
        if index == self._history_index:
            return
        self._history_index = index
        text = self._draft if index == -1 else self.history[index]
        box = self.input
        box.value = text  # Input.Changed: applied after the debounce like typing
        box.cursor_position = len(text)

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._cancel_timer()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.apply_now)

    def apply_now(self, *, post: bool = True) -> CompiledFilter | None:
        """Compile the text now (a pending debounce is dropped) and return it, or None (after
        showing why) when it is not valid. With ``post``, :class:`Applied` is posted when it
        differs from what was last applied; without, the caller applies it itself (leaving the
        bar must not wait for a message: keys typed behind are already on their way)."""
        self._cancel_timer()
        text = self.text
        try:
            compiled = compile_filter(text)
        except FilterError as err:
            self.show_error(text, err)
            return None
        self.show_hint(compiled)
        if text != self._applied_text:
            self._applied_text = text
            if post:
                self.post_message(self.Applied(compiled))
        return compiled

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # ------------------------------------------------------------------ messages

    def show_error(self, text: str, err: FilterError) -> None:
        """Say why ``text`` is not a filter, with a caret at the position (escaped text)."""
        message = Text(f"✗ {err}", style=self.get_component_rich_style("filter-bar--problem"))
        message.append("   ")
        # The filter around the problem (not all of it: a long filter would fill the screen).
        start = max(0, err.position - ERROR_CONTEXT)
        message.append(("…" if start else "") + printable(text[start: err.position]))
        message.append("▸", self.get_component_rich_style("filter-bar--caret"))
        tail = text[err.position:]
        message.append(printable(tail[:ERROR_CONTEXT]) + ("…" if len(tail) > ERROR_CONTEXT else ""))
        line = self.query_one("#filter-message", Static)
        line.update(message)
        line.set_class(True, "-error")
        line.set_class(True, "-visible")

    def show_hint(self, compiled: CompiledFilter) -> None:
        """Show a hint about ``compiled``, or nothing: that its free text is searched in only
        part of the events (see :attr:`free_text_ready`), and which free-text words match as
        whole words."""
        free_text_ready = self.free_text_ready
        words = [word for word in compiled.whole_words if word]
        line = self.query_one("#filter-message", Static)
        line.set_class(False, "-error")
        partial = compiled.free_text and free_text_ready is not None
        if not words and not partial:
            line.set_class(False, "-visible")
            return
        hint = Text()
        if partial:
            hint.append(f"free text searches the {free_text_ready:.0%} of events indexed so far (field filters see all)",
                        self.get_component_rich_style("filter-bar--problem"))
            if words:
                hint.append(" · ")
        if words:
            shown = ", ".join(printable(word) for word in words[:3])
            first = printable(words[0]).strip('"')
            hint.append(f"free text matches whole words: {shown} · ")
            hint.append(f"{first}*", self.get_component_rich_style("filter-bar--suggestion"))
            hint.append(" matches words starting with it")
        line.update(hint)
        line.set_class(True, "-visible")

    def clear_message(self) -> None:
        """Hide the error or hint line."""
        line = self.query_one("#filter-message", Static)
        line.set_class(False, "-visible")
        line.set_class(False, "-error")

    def show_count(self, text: str) -> None:
        """The right-hand info: matches, total and query time."""
        self.query_one("#filter-info", Static).update(Text(text))
