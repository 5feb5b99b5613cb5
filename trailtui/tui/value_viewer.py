"""The value viewer: one value shown whole, wrapped, however long (a 200-character S3 key, a
2 KB user agent, a policy document).

Opened with ``v`` on a list cell or a JSON detail node. The text is attacker-controlled: each
line is shown through :func:`~trailtui.core.text.printable` (control characters and bidi
marks escaped) inside a ``rich.text.Text`` (never markup). ``c`` copies the value as logged.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from trailtui.core.text import plural, printable
from trailtui.tui.clipboard import copy_and_tell
from trailtui.tui.keys import bindings
from trailtui.tui.message_bar import MessageBar

#: Characters shown; longer values are cut with a note (the copy is whole).
MAX_SHOWN = 200_000


def viewer_text(value: str, *, wrap: bool) -> Text:
    """``value`` as the viewer shows it: line by line, each escaped; cut after
    :data:`MAX_SHOWN` characters with a note."""
    shown = value[:MAX_SHOWN]
    text = Text("\n".join(printable(line) for line in shown.split("\n")), no_wrap=not wrap,
                overflow="fold" if wrap else "ignore")
    if len(value) > MAX_SHOWN:
        text.append(f"\n… {len(value) - MAX_SHOWN:,} more characters (c copies the whole value)", "dim italic")
    return text


class ValueViewer(ModalScreen[None]):
    """``title`` (what the value is: ``requestParameters.key``) and the whole ``value``."""

    BINDINGS = bindings("viewer")

    def __init__(self, title: str, value: str) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.wrap = True

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="viewer-box") as box:
            box.border_title = Text(printable(self.title_text))
            box.border_subtitle = plural(len(self.value), "character")
            with ScrollableContainer(id="viewer-scroll"):
                yield Static(viewer_text(self.value, wrap=self.wrap), id="viewer-text")
            yield MessageBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#viewer-scroll").focus()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        body = self.query_one("#viewer-text", Static)
        body.set_class(not self.wrap, "-nowrap")
        body.update(viewer_text(self.value, wrap=self.wrap))

    def action_copy(self) -> None:
        copy_and_tell(self, self.value, what=self.title_text)

    def action_close(self) -> None:
        self.dismiss(None)
