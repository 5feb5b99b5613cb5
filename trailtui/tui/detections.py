"""The Detections view (``D``, and the palette): the rules that hit something in the index.

One row per rule with hits, highest level first, then most hits (``core.detect.runner``):
level, hits, ATT&CK tactics, title, first and last hit. ``Enter`` puts the rule's filter in the
filter bar (where it stays editable) and shows its events; from there the identity keys (``a``,
``S``, ``K``) and the credential chain (``u``, ``d``) walk from the hit to the principal, its
session and everything else that session signed. ``v`` shows the rule whole: its description,
tags, file and filter. The rules run in the loader process after indexing and after each
follow round; the view reads what it kept in the index, and reads again when a run ends.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.widgets import DataTable

from trailtui.core.detect.rules import LEVELS
from trailtui.core.detect.runner import MARKED_LEVEL, Detection, detections
from trailtui.core.filter import compile_filter
from trailtui.core.text import fit, plural, printable
from trailtui.core.times import shown_time
from trailtui.tui.keys import bindings
from trailtui.tui.sheet import SheetScreen
from trailtui.tui.value_viewer import ValueViewer

#: The table's columns: (title, width; 0 takes what the others leave, at least
#: :data:`MIN_RULE_WIDTH`: on a narrow screen the rule's title comes before its tactics and times,
#: which scroll into view sideways).
DETECTION_COLUMNS: tuple[tuple[str, int], ...] = (
    ("level", 13), ("hits", 9), ("rule", 0), ("tactics", 22), ("first seen", 19), ("last seen", 19),
)
MIN_RULE_WIDTH = 40
#: The level column's style, by level.
LEVEL_STYLES = {"critical": "bold reverse red", "high": "bold red", "medium": "yellow", "low": "", "informational": "dim"}


class DetectionsScreen(SheetScreen):
    """The detections of the index ``db_path``, the cursor on the rule whose id is ``select``
    (the first row without). Dismissed with the :class:`Detection` whose events to show
    (Enter), or None (Esc)."""

    BINDINGS = [*bindings("sheet"), *bindings("detections")]

    def __init__(self, db_path: Path, select: str | None = None) -> None:
        super().__init__(db_path, compile_filter(""), [])
        self.found: list[Detection] = []
        self._select = select
        self.running: str = ""  # "12/80 rules" while the loader runs them

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#sheet").border_title = "Detections: rules with hits, highest level first (UTC)"
        self.show_crumbs("detections")
        self.reload()

    def reload(self) -> None:
        """Read the detections again (a run ended)."""
        self.load(lambda conn: detections(conn))

    def loaded(self, result: object, elapsed_ms: float) -> None:
        assert isinstance(result, list)
        self._show(result)

    def _show(self, found: list[Detection]) -> None:
        chosen = self._current()
        wanted = chosen.id if chosen is not None else self._select
        self.found = found
        table = self.table
        table.clear(columns=True)
        spare = max(MIN_RULE_WIDTH, self.size.width - 4 - sum(width + 2 for _, width in DETECTION_COLUMNS if width))
        for title, width in DETECTION_COLUMNS:
            table.add_column(Text(title, "bold"), width=width or spare, key=title)
        select_row = 0
        for index, detection in enumerate(found):
            tactics = ", ".join(detection.tactics) or "-"
            cells = [
                Text(detection.level, LEVEL_STYLES.get(detection.level, "")),
                Text(f"{detection.hits:,}".rjust(DETECTION_COLUMNS[1][1])),
                Text(fit(printable(detection.title), spare).rstrip()),
                Text(fit(printable(tactics), DETECTION_COLUMNS[3][1]).rstrip()),
                Text(shown_time(detection.first_seen)),
                Text(shown_time(detection.last_seen)),
            ]
            table.add_row(*cells, key=str(index))
            if detection.id == wanted:
                select_row = index
        if found:
            table.move_cursor(row=select_row)
        self._show_info()

    def _show_info(self) -> None:
        found = self.found
        marked = sum(1 for detection in found if detection.level_rank >= LEVELS.index(MARKED_LEVEL))
        info = Text(f"{plural(len(found), 'rule')} with hits ({marked} low or above: ▲ in the list) · "
                    "Enter: its events · v: the rule")
        if self.running:
            info.append(f" · running rules: {self.running}")
        elif not found:
            info.append(" · no rule hit anything yet (trailtui detect --rules DIR adds rules)")
        self.show_info(info)

    def set_running(self, text: str) -> None:
        """Say that the loader is running the rules (``text``: "12/80"; empty when done)."""
        self.running = text
        self._show_info()

    def _current(self) -> Detection | None:
        if not self.found:
            return None
        return self.found[min(self.table.cursor_row, len(self.found) - 1)]

    # ------------------------------------------------------------------ actions

    def action_show_hits(self) -> None:
        detection = self._current()
        if detection is not None:
            self.dismiss(detection)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show_hits()

    def action_view_rule(self) -> None:
        """``v``: the rule whole, wrapped (rule files are text from elsewhere: shown as text)."""
        detection = self._current()
        if detection is None:
            return
        lines = [
            detection.title, "",
            f"level: {detection.level}", f"hits: {detection.hits:,}",
            f"first seen: {shown_time(detection.first_seen)} UTC", f"last seen: {shown_time(detection.last_seen)} UTC",
            f"tags: {', '.join(detection.tags) or '-'}", f"id: {detection.id}", f"file: {detection.path}", "",
            detection.description or "(no description)", "", "filter:", detection.filter,
        ]
        self.app.push_screen(ValueViewer("detection rule", "\n".join(lines)))
