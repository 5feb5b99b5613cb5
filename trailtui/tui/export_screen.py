"""The export dialog (Ctrl+S): write the current filter's events to a CSV, JSON or NDJSON file.

The file is written by :func:`trailtui.core.export.export_to_file` in a thread worker with its
own read-only connection, so the app stays responsive; a progress bar counts the events. Esc
while it runs cancels: the partial file (``<path>.partial``) is removed and nothing is left under
the chosen name. When done, a notification names the file and the number of events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from trailtui.core.export import (
    FILE_FORMATS,
    ExportCancelled,
    default_export_path,
    export_to_file,
    partial_path,
)
from trailtui.core.filter import CompiledFilter
from trailtui.core.store.index import connect
from trailtui.core.store.originals import OriginalUnavailable
from trailtui.core.query import EventQuery, SortOrder
from trailtui.core.text import plural, printable
from trailtui.tui.keys import bindings
from trailtui.tui.message_bar import MessageBar

#: How the formats are named on screen.
FORMAT_LABELS = {"csv": "CSV", "json": "JSON", "ndjson": "NDJSON"}


@dataclass(frozen=True)
class ExportRequest:
    """What to export: the index file, the compiled filter and the list's order (``sort``), the
    CSV columns (None: ``columns.OUTPUT_COLUMNS``) and the number of matches (for the progress
    bar)."""

    db_path: Path
    compiled: CompiledFilter
    sort: SortOrder
    columns: tuple[str, ...] | None
    matches: int


class ExportScreen(ModalScreen[Path | None]):
    """Choose a format (Up/Down) and a file, Enter exports, Esc cancels (or closes).

    Dismisses with the written file's path, or None when cancelled or closed.
    """

    BINDINGS = bindings("export")

    def __init__(self, request: ExportRequest, *, directory: Path | str = ".") -> None:
        super().__init__()
        self.request = request
        self.fmt = FILE_FORMATS[0]
        self._directory = Path(directory)
        self._default = str(default_export_path(self.fmt, directory=self._directory))
        self._confirm_overwrite: Path | None = None
        self._worker: Worker | None = None
        self._target: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box", classes="dialog") as box:
            box.border_title = f"Export {plural(self.request.matches, 'event')}"
            yield Static(self._formats_text(), id="export-formats")
            yield Input(value=self._default, id="export-path", select_on_focus=False)
            yield ProgressBar(total=max(1, self.request.matches), show_eta=False, id="export-progress")
            yield Static(self._hint(), id="export-status")
            yield MessageBar()

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    # ------------------------------------------------------------------ format and path

    def _formats_text(self) -> Text:
        text = Text("Format  ")
        for fmt in FILE_FORMATS:
            mark = "(•)" if fmt == self.fmt else "( )"
            text.append(f"{mark} {FORMAT_LABELS[fmt]}   ", "bold" if fmt == self.fmt else "")
        text.append("Up/Down to change", "dim")
        return text

    def _hint(self) -> Text:
        columns = "the list's columns" if self.request.columns else "12 CloudTrail columns"
        what = columns if self.fmt == "csv" else "each original event, unchanged"
        return Text(f"{FORMAT_LABELS[self.fmt]}: {what}.  Enter exports · Esc cancels")

    def action_format(self, step: int) -> None:
        if self._worker is not None:
            return
        old = self.fmt
        self.fmt = FILE_FORMATS[(FILE_FORMATS.index(old) + step) % len(FILE_FORMATS)]
        path_input = self.query_one("#export-path", Input)
        if path_input.value.endswith("." + old):  # keep the user's name, change the extension
            path_input.value = path_input.value[: -len(old)] + self.fmt
            path_input.cursor_position = len(path_input.value)
        self._confirm_overwrite = None
        self.query_one("#export-formats", Static).update(self._formats_text())
        self._status(self._hint())

    def _status(self, text: Text, *, error: bool = False) -> None:
        status = self.query_one("#export-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    # ------------------------------------------------------------------ running

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        self.start(event.value)

    def start(self, path_text: str) -> None:
        """Export to ``path_text`` (``~`` expanded); an existing file needs a second Enter."""
        if self._worker is not None:
            return
        if not path_text.strip():
            self._status(Text("Type a file name."), error=True)
            return
        target = Path(path_text.strip()).expanduser().absolute()
        if target.is_dir():
            self._status(Text("That is a directory: type a file name."), error=True)
            return
        if target.exists() and self._confirm_overwrite != target:
            self._confirm_overwrite = target
            self._status(Text.assemble(printable(str(target)), " exists: Enter again to overwrite it."), error=True)
            return
        self._target = target
        self._status(Text.assemble("Writing ", printable(str(target)), " …  Esc cancels"))
        self.query_one("#export-path", Input).disabled = True
        self._worker = self.run_worker(
            lambda: self._export(target), thread=True, exclusive=True, group="export", exit_on_error=False
        )

    def _export(self, target: Path) -> int:
        """The worker: write the file; progress goes to the bar, cancellation stops it."""
        worker = get_current_worker()
        request = self.request
        conn = connect(request.db_path, readonly=True)

        def progress(written: int) -> None:
            if worker.is_cancelled:
                raise ExportCancelled
            self.app.call_from_thread(self._progress, written)

        try:
            query = EventQuery(conn, request.compiled, sort=request.sort)
            columns = request.columns if self.fmt == "csv" else None
            return export_to_file(query, self.fmt, target, columns=columns, progress=progress)
        finally:
            conn.close()

    def _progress(self, written: int) -> None:
        self.query_one("#export-progress", ProgressBar).update(progress=written)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        target = self._target
        if event.state == WorkerState.SUCCESS and target is not None:
            count = event.worker.result or 0
            self.app.notify(f"Exported {plural(count, 'event')} to {printable(str(target))}", markup=False, timeout=8)
            self.dismiss(target)
        elif event.state == WorkerState.CANCELLED:
            self.app.notify("Export cancelled: no file was written.", markup=False)
            self.dismiss(None)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self._worker = None
            self.query_one("#export-path", Input).disabled = False
            if isinstance(error, ExportCancelled):
                self.app.notify("Export cancelled: no file was written.", markup=False)
                self.dismiss(None)
                return
            reason = "a log file changed since it was indexed" if isinstance(error, OriginalUnavailable) else str(error)
            self._status(Text.assemble("Export failed: ", printable(reason)), error=True)

    def action_cancel(self) -> None:
        """Esc: stop a running export (its partial file is removed), else close."""
        if self._worker is not None and self._worker.is_running:
            self._status(Text("Cancelling…"))
            self._worker.cancel()
            return
        if self._worker is None:
            self.dismiss(None)

    @property
    def partial_file(self) -> Path | None:
        """Where the running export writes until it is complete (None when idle)."""
        return partial_path(self._target) if self._target is not None else None
