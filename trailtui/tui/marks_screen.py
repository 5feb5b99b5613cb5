"""The marks view (``'``): the marked events in time order with their notes, the incident
timeline a responder hands over.

Marks and notes live beside the index (``core.userstate``, ``core.marks``), keyed by
``eventID``, so they survive re-indexing. ``Enter`` shows the marked events in the list (the
filter ``is:marked``) with this one selected; ``M`` edits the note; ``x`` unmarks; ``Ctrl+S``
exports the timeline as Markdown and CSV with the original events as NDJSON
(``core.incident.export_timeline``).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from rich.text import Text
from textual import on
from textual.widgets import DataTable

from trailtui.core.filter import compile_filter
from trailtui.core.incident import TIMELINE_COLUMNS, export_timeline
from trailtui.core.marks import TimelineEntry, incident_timeline, set_note, unmark
from trailtui.core.text import fit, plural, printable
from trailtui.core.times import shown_time
from trailtui.tui.dialogs import PromptScreen
from trailtui.tui.keys import bindings
from trailtui.tui.query_worker import QueryRunner
from trailtui.tui.sheet import SheetScreen
from trailtui.tui.value_viewer import ValueViewer

#: The marks table's columns, in order (the note third: the user's own words first), with
#: their widths (0: what the others leave); titles are the incident timeline's.
MARK_COLUMNS: tuple[tuple[str, int], ...] = (
    ("eventTime", 19), ("eventName", 18), ("note", 0), ("actor", 24), ("sourceIPAddress", 15), ("resource", 32),
)
_TITLES = dict(TIMELINE_COLUMNS)


def default_timeline_base(now: datetime | None = None, directory: Path | str = ".") -> Path:
    """``./incident-timeline-<UTC time>``: the export's files get ``.md``, ``.csv``, ``.ndjson``."""
    moment = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return Path(directory) / f"incident-timeline-{moment}"


class MarksScreen(SheetScreen):
    """The incident timeline of the index ``db_path``; ``user_conn`` is the open user-state
    connection notes and unmarks are written through. Dismissed with the :class:`TimelineEntry`
    to show in the list (Enter), or None (Esc)."""

    BINDINGS = [*bindings("sheet"), *bindings("marks")]

    def __init__(self, db_path: Path, user_conn: sqlite3.Connection) -> None:
        super().__init__(db_path, compile_filter("is:marked"), [])
        self.user_conn = user_conn
        self.entries: list[TimelineEntry] = []
        self.exporter = QueryRunner(self, self.db_path, "export")
        self._select: str | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#sheet").border_title = "Marks and notes: the incident timeline (UTC)"
        self.show_crumbs("incident timeline")
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """Read the timeline again (after an edit), the cursor on eventID ``select``."""
        self._select = select
        self.load(incident_timeline)

    def loaded(self, result: object, elapsed_ms: float) -> None:
        assert isinstance(result, list)
        self._show(result)

    def other_done(self, message: QueryRunner.Done) -> None:
        if message.error is not None:
            self.notify(f"The export failed: {printable(message.error)}", severity="error", markup=False)
            return
        paths = [Path(path) for path in message.result]
        base = printable(str(paths[0].with_suffix(""))) if paths else ""
        suffixes = ", ".join(path.suffix for path in paths)
        self.notify(f"Exported the incident timeline: {base} ({suffixes})", markup=False, timeout=12)

    def _show(self, entries: list[TimelineEntry]) -> None:
        self.entries = entries
        table = self.table
        table.clear(columns=True)
        # The note (the user's own words) gets what the others leave, at least 30 cells; wider
        # than the screen, the table scrolls sideways.
        spare = max(30, self.size.width - 4 - sum(width + 2 for _, width in MARK_COLUMNS if width))
        for name, width in MARK_COLUMNS:
            table.add_column(Text(_TITLES[name], "bold"), width=width or spare, key=name)
        select_row = 0
        for index, entry in enumerate(entries):
            cells = []
            for name, width in MARK_COLUMNS:
                value = getattr(entry, name)
                shown = shown_time(value) if name == "eventTime" else value
                text = printable(shown or ("(not in the index)" if name == "eventName" else ""))
                cells.append(Text(fit(text, width or spare).rstrip()))  # an ellipsis, never a silent cut
            table.add_row(*cells, key=str(index))
            if entry.eventID == self._select:
                select_row = index
        if entries:
            table.move_cursor(row=select_row)
        notes = sum(1 for entry in entries if entry.note)
        info = Text(f"{plural(len(entries), 'marked event')} · {plural(notes, 'note')}")
        if not entries:
            info.append(" · m on the list marks the selected event, M adds a note")
        self.show_info(info)

    def _current(self) -> TimelineEntry | None:
        if not self.entries:
            return None
        return self.entries[min(self.table.cursor_row, len(self.entries) - 1)]

    # ------------------------------------------------------------------ actions

    def action_go_to_mark(self) -> None:
        entry = self._current()
        if entry is None:
            return
        if entry.id is None:
            self.notify("That event is no longer in the index (its file changed or is gone).", severity="warning",
                        markup=False)
            return
        self.dismiss(entry)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_go_to_mark()

    def action_view_mark(self) -> None:
        """``v``: the mark's event and whole note, wrapped."""
        entry = self._current()
        if entry is None:
            return
        lines = [f"eventTime: {shown_time(entry.eventTime)} UTC", f"eventName: {entry.eventName or '(not in the index)'}",
                 f"actor: {entry.actor or ''}", f"sourceIPAddress: {entry.sourceIPAddress or ''}",
                 f"resource: {entry.resource or ''}", f"eventID: {entry.eventID}", "", entry.note or "(no note)"]
        self.app.push_screen(ValueViewer("marked event", "\n".join(lines)))

    def action_edit_note(self) -> None:
        entry = self._current()
        if entry is None:
            return

        def save(note: str | None) -> None:
            if note is not None:
                try:
                    set_note(self.user_conn, entry.eventID, note)
                except sqlite3.Error as err:  # a full disk, a read-only file: say so, keep going
                    self.notify(f"The note could not be saved: {printable(err)}", severity="error", markup=False)
                    return
                self.reload(select=entry.eventID)

        self.app.push_screen(PromptScreen("Note on this event", value=entry.note or "",
                                          hint="Enter saves (kept between runs) · Esc cancels"), save)

    def action_unmark(self) -> None:
        entry = self._current()
        if entry is None:
            return
        try:
            unmark(self.user_conn, entry.eventID)
        except sqlite3.Error as err:
            self.notify(f"The mark could not be removed: {printable(err)}", severity="error", markup=False)
            return
        self.notify("Unmarked (its note is gone too).", markup=False)
        following = self.entries[self.entries.index(entry) + 1] if entry is not self.entries[-1] else None
        self.reload(select=following.eventID if following else None)

    def action_export_timeline(self) -> None:
        if not self.entries:
            self.notify("Nothing to export: mark events first (m on the list).", severity="warning", markup=False)
            return

        def export(base: str | None) -> None:
            if base:
                target = Path(base.strip()).expanduser()
                self.exporter.run(lambda conn: export_timeline(conn, target))

        self.app.push_screen(
            PromptScreen("Export the incident timeline", value=str(default_timeline_base()),
                         hint="Writes <name>.md and <name>.csv (time, eventName, actor, source IP, resource, note) "
                              "and <name>.ndjson (the original events)"),
            export,
        )
