"""The trailtui Textual app: reads the config file, opens the main screen on one index, and
routes messages to the screen's own message line.

Everything a user sees and does lives in :class:`~trailtui.tui.main_screen.MainScreen` and the
screens it opens; this module only wires them up.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.message import Message

from trailtui.core.config import load_config, save_config
from trailtui.core.text import printable
from trailtui.tui.commands import TrailCommands
from trailtui.tui.keys import bindings
from trailtui.tui.main_screen import MainScreen
from trailtui.tui.message_bar import MessageBar

#: The stylesheets, one per part of the app, in ``trailtui/tui/styles/`` (absolute paths: a
#: subclass in another package, a test or a benchmark probe, finds them too).
STYLESHEETS = [str(Path(__file__).parent / "styles" / name)
               for name in ("app.tcss", "main_screen.tcss", "sheets.tcss", "dialogs.tcss")]


class TrailApp(App[int]):
    """Browse one trailtui index (``db_path``) while a loader process indexes ``paths`` into it
    (none when ``start_loader`` is False), starting with ``initial_filter``. ``config_path``
    overrides where the config file is read and written (default: ``core.config``'s)."""

    TITLE = "trailtui"
    CSS_PATH = STYLESHEETS
    BINDINGS = bindings("app")
    #: Ctrl+P: Textual's own commands (themes, ...) plus presets, columns, marks and export.
    COMMANDS = App.COMMANDS | {TrailCommands}

    class ShowMessage(Message):
        """A notification to show on the screen's message line (posted by :meth:`notify`,
        which may be called from any thread)."""

        def __init__(self, text: str, severity: str, timeout: float | None) -> None:
            super().__init__()
            self.text = text
            self.severity = severity
            self.timeout = timeout

    def __init__(self, *, db_path: Path, paths: list[str] | None = None, initial_filter: str = "",
                 start_loader: bool = True, config_path: Path | None = None, s3_options=None,
                 follow_interval: float | None = None, rules: list[str] | None = None) -> None:
        super().__init__()
        #: ``--rules`` paths: Sigma rules the loader runs besides the built-in pack.
        self.rules = list(rules or [])
        self.db_path = Path(db_path)
        self.paths = list(paths or [])
        #: How ``s3://`` paths are listed and fetched (a ``core.sources.s3.S3Options``), or None.
        self.s3_options = s3_options
        #: After the first load, follow new deliveries (S3 polled every that many seconds), or None.
        self.follow_interval = follow_interval
        self.initial_filter = initial_filter
        self.start_loader = start_loader and bool(self.paths)
        self.config_path = config_path
        self.config, self.config_problems = load_config(config_path, themes=list(self.available_themes))
        #: Every message shown this run, oldest first: ``(severity, text)``.
        self.messages: list[tuple[str, str]] = []

    def get_default_screen(self) -> MainScreen:
        """The main screen is the app's default screen: the bottom of the stack, never popped."""
        return MainScreen(self.db_path, paths=self.paths, initial_filter=self.initial_filter,
                          load=self.start_loader, config=self.config, s3_options=self.s3_options,
                          follow_interval=self.follow_interval, rules=self.rules)

    @property
    def main_screen(self) -> MainScreen:
        """The main screen (the bottom of the screen stack)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    # The main screen's panes, for scripts and tests: ``app.event_list.count``.
    @property
    def event_list(self):
        """The main screen's event list."""
        return self.main_screen.event_list

    @property
    def detail(self):
        """The main screen's JSON detail pane."""
        return self.main_screen.detail

    @property
    def identity(self):
        """The main screen's identity pane."""
        return self.main_screen.identity

    @property
    def filter_bar(self):
        """The main screen's filter bar."""
        return self.main_screen.filter_bar

    def set_filter(self, text: str) -> bool:
        """Make ``text`` the main screen's filter now, as one step of the history (for scripts
        and tests; the keys go through the same method). False when it is not a valid filter."""
        return self.main_screen.apply_filter(text, printable(text) or "all events")

    def on_mount(self) -> None:
        self.sub_title = printable(", ".join(self.paths) if self.paths else str(self.db_path))
        if self.config.theme and self.config.theme in self.available_themes:
            self.theme = self.config.theme
        for problem in self.config_problems:
            self.notify(problem, severity="warning", timeout=12, markup=False)

    def watch_theme(self, theme: str) -> None:
        if self.is_mounted and theme != self.config.theme:
            self.save_settings({"theme": theme})

    def save_settings(self, changes: dict) -> None:
        """Write ``changes`` (dotted config keys) to the config file; a failure is a message,
        never an exception (the session goes on with the settings in memory)."""
        try:
            save_config(changes, self.config_path)
        except (OSError, ValueError) as err:
            self.notify(f"Could not save the settings: {printable(err)}", severity="warning", markup=False)
            return
        self.config, _ = load_config(self.config_path, themes=list(self.available_themes))

    def action_help(self) -> None:
        from trailtui.tui.help_screen import HelpScreen  # imported when opened: a faster start

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ------------------------------------------------------------------ messages

    def notify(self, message: str, *, title: str = "", severity: str = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Show ``message`` on the active screen's message line (see ``tui/message_bar.py``),
        as plain text whatever ``markup`` says (messages quote log values); a screen without one
        gets Textual's toast. Thread-safe, like Textual's."""
        text = f"{title}: {message}" if title else message
        self.post_message(self.ShowMessage(str(text), severity, timeout))

    def on_trail_app_show_message(self, message: ShowMessage) -> None:
        self.messages.append((message.severity, message.text))
        del self.messages[:-500]
        bars = self.screen.query(MessageBar)
        if bars:
            bars.last().show_message(message.text, severity=message.severity, timeout=message.timeout)
        else:
            super().notify(str(Text(message.text)), severity=message.severity, timeout=message.timeout, markup=False)

    # ------------------------------------------------------------------ crash reports

    def _fatal_error(self) -> None:
        """Textual's crash report, without the local variables it shows by default: they hold
        event values (attacker text, the user's logs) in a traceback users paste into bug
        reports. Textual has no public switch for this (``App._fatal_error`` hard-codes
        ``show_locals=True``), so this overrides the private method; tests/test_app.py fails
        loudly if a Textual upgrade renames it or stops calling it."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()
