"""The load-errors view (``!``): files and records that could not be loaded, each with its
path, position and reason, then the files skipped (digests, not CloudTrail) with theirs
(escaped: paths and messages can quote log text)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from trailtui.core.query import LoadProblem
from trailtui.core.text import plural, printable
from trailtui.tui.keys import bindings
from trailtui.tui.message_bar import MessageBar


class LoadErrorsScreen(ModalScreen[None]):
    """``problems`` in a table; the selected one's whole path and reason wrap below it, so
    nothing needs sideways scrolling in 80 columns."""

    BINDINGS = bindings("errors")

    def __init__(self, problems: list[LoadProblem], skipped: list[LoadProblem] | None = None) -> None:
        super().__init__()
        self.errors = len(problems)
        self.skipped = len(skipped or [])
        #: The rows: problems first, then skipped files (``position`` ``"skipped"``).
        self.problems = problems + list(skipped or [])

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="errors-box") as box:
            skipped = f" · {plural(self.skipped, 'file')} skipped" if self.skipped else ""
            box.border_title = f"Load errors: {plural(self.errors, 'problem')}{skipped} — Esc to close"
            if not self.problems:
                yield Static("Every file loaded. Nothing to report.", id="errors-empty")
            else:
                table: DataTable = DataTable(cursor_type="row", zebra_stripes=True, id="errors-table")
                table.add_columns("file", "position", "problem")
                for problem in self.problems:
                    # Text cells, never str: DataTable would read a str as Rich markup.
                    table.add_row(Text(printable(Path(problem.path).name)),
                                  Text(printable(problem.position or "whole file")), Text(printable(problem.message)))
                yield table
                yield Static(self._selected_text(0), id="errors-selected")
            yield MessageBar()
        yield Footer()

    def _selected_text(self, row: int) -> Text:
        problem = self.problems[row]
        text = Text(printable(problem.path), "bold")
        text.append(f"\n{printable(problem.position or 'whole file')}: ", "dim")
        text.append(printable(problem.message))
        return text

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.problems):
            self.query_one("#errors-selected", Static).update(self._selected_text(event.cursor_row))

    def action_close(self) -> None:
        self.dismiss(None)
