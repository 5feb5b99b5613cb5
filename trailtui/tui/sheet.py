"""The full-screen tables over the current filter (frequency table, actors view), VisiData style.

A :class:`SheetScreen` shows the breadcrumbs, an info line and a :class:`SheetTable`; a
subclass fills the table from a query run by its :class:`~trailtui.tui.query_worker.QueryRunner`.
``Enter`` on a row dismisses the screen with a :class:`DrillRequest` (a term for the filter);
``Esc`` dismisses it with None.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from trailtui.core.filter import CompiledFilter
from trailtui.core.text import printable
from trailtui.tui.filter_history import breadcrumbs
from trailtui.tui.keys import bindings
from trailtui.tui.message_bar import MessageBar
from trailtui.tui.query_worker import QueryRunner


@dataclass(frozen=True)
class DrillRequest:
    """What a sheet asks the main screen when the user drills into a row: add ``term`` to the
    filter, with ``crumb`` as the step's breadcrumb, and on Esc reopen the sheet ``reopen()``
    builds. ``then_frequency``, if given, is a field whose frequency table opens once the
    filtered list is shown (the actors view's ``i``: the actor's source IPs)."""

    term: str
    crumb: str
    reopen: Callable[[], Screen] | None = None
    then_frequency: str | None = None


class SheetTable(DataTable):
    """A DataTable with the list's vertical keys (``j``/``k``, ``g``/``G``)."""

    BINDINGS = bindings("table")


class SheetScreen(Screen["DrillRequest | None"]):
    """Base of the full-screen tables over ``compiled`` (see the module docstring).

    ``crumbs`` are the breadcrumbs of the filter (escaped). Subclasses call :meth:`load` with a
    function of a connection and implement :meth:`loaded`.
    """

    BINDINGS = bindings("sheet")

    def __init__(self, db_path: Path, compiled: CompiledFilter, crumbs: list[str]) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.compiled = compiled
        self.crumbs = list(crumbs)
        self.runner = QueryRunner(self, self.db_path, "sheet")

    def compose(self) -> ComposeResult:
        with Vertical(id="sheet"):
            yield Static("", id="sheet-crumbs")
            yield Static("", id="sheet-info")
            yield SheetTable(id="sheet-table", cursor_type="row", zebra_stripes=True)
        with Vertical(id="bottom"):
            yield MessageBar()
            yield Footer()

    @property
    def table(self) -> SheetTable:
        return self.query_one(SheetTable)

    def on_mount(self) -> None:
        self.table.focus()

    def on_unmount(self) -> None:
        self.runner.cancel()

    def show_crumbs(self, current: str) -> None:
        """Show the breadcrumbs ending with ``current`` (what this sheet counts)."""
        line = self.query_one("#sheet-crumbs", Static)
        line.update(breadcrumbs(self.crumbs, current, width=max(20, (line.size.width or self.size.width) - 4)))

    def show_info(self, text: Text | str) -> None:
        """Replace the info line under the breadcrumbs (a str is plain text)."""
        self.query_one("#sheet-info", Static).update(text if isinstance(text, Text) else Text(text))

    def load(self, compute: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``compute(connection)`` in the runner (a previous one is interrupted), then
        :meth:`loaded` with its result and the milliseconds it took."""
        self.show_info(Text("counting…", "italic"))
        self.runner.run(compute)

    @on(QueryRunner.Done)
    def _done(self, message: QueryRunner.Done) -> None:
        message.stop()
        if not message.current or not self.is_attached:
            return
        if message.runner is not self.runner:
            self.other_done(message)
        elif message.error is not None:
            self.show_info(Text(f"Query failed: {printable(message.error)}"))
        else:
            self.loaded(message.result, message.elapsed_ms)

    def loaded(self, result: object, elapsed_ms: float) -> None:
        """Show a finished query's ``result`` (subclasses)."""
        raise NotImplementedError

    def recount(self) -> None:
        """Run the sheet's query again (subclasses), the rows shown staying until the new ones
        replace them, the cursor on the same row's value."""
        raise NotImplementedError

    def index_grew(self) -> None:
        """New events joined the index (following new deliveries): count again."""
        if self.is_attached:
            self.recount()

    def other_done(self, message: QueryRunner.Done) -> None:
        """A subclass's other runner finished (the current run's ``message``); nothing here."""

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit_filter(self) -> None:
        """Back to the list with the filter bar focused."""
        app = self.app
        self.dismiss(None)
        app.call_after_refresh(app.run_action, "screen.focus_filter")


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of ``width`` cells filled to ``fraction`` (0..1) with eighth blocks;
    anything above zero shows at least one eighth."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    return "█" * full + ("" if part == 0 else " ▏▎▍▌▋▊▉"[part])
