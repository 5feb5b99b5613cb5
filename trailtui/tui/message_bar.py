"""Where the app's messages appear: a line of the screen's own, never over other text.

Textual's toasts float over whatever is below them (a dialog's text, the status line). trailtui
shows each message in a :class:`MessageBar` instead: on the main screen and the full-screen
views it takes the footer's row for a few seconds; in a dialog it is the dialog's last line.
``TrailApp.notify`` routes every notification here (see ``tui/app.py``); a screen without a
message bar (Textual's own, such as the command palette) still gets a toast.
"""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

#: Seconds a message stays, by severity, unless the caller gives a timeout.
DEFAULT_SECONDS = {"information": 5.0, "warning": 8.0, "error": 12.0}


class MessageBar(Static):
    """One line showing the latest message; hidden (``display: none``) when there is none.

    While a message shows, the bar's parent gets the class ``-message`` so a stylesheet can hide
    what shares the bar's place (the footer).
    """

    COMPONENT_CLASSES = {"message-bar--information", "message-bar--warning", "message-bar--error"}

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self._timer: Timer | None = None

    def show_message(self, message: str, *, severity: str = "information", timeout: float | None = None) -> None:
        """Show ``message`` (plain text: never read as markup) for ``timeout`` seconds."""
        style = self.get_component_rich_style(f"message-bar--{severity}", partial=True)
        prefix = {"warning": "! ", "error": "✗ "}.get(severity, "")
        # Wrapped (the stylesheet allows three lines): a message's end, such as the command that
        # fixes a clipboard problem or the last file written, must not be cut.
        self.update(Text(prefix + message, style=style))
        self.display = True
        if self.parent is not None:
            self.parent.set_class(True, "-message")
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(timeout or DEFAULT_SECONDS.get(severity, 5.0), self.clear)

    @property
    def message(self) -> str:
        """The text shown now ('' when hidden)."""
        return str(self.render()) if self.display else ""

    def clear(self) -> None:
        """Hide the bar (and give its place back)."""
        self.display = False
        self.update("")
        if self.parent is not None:
            self.parent.set_class(False, "-message")
