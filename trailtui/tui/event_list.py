"""The event list: a virtual table on Textual's line API, as tall as the matches and as wide as
its columns.

:meth:`EventList.render_line` asks the index only for the page of rows under the viewport
(through :class:`trailtui.core.query.EventQuery`) and keeps a few pages in an LRU cache, so a
million matches scroll like a hundred. Line 0 is the header (column titles, the sort column's
arrow, the current column highlighted); it stays when the rows scroll. The columns scroll
sideways: ``h``/``l`` move the current column and the view follows it, past the terminal's edge.

Columns come from :mod:`trailtui.core.columns`: each starts fitted to the values of the first
page (between its title and ``Column.max_width``), unless the user set its width (``<``/``>``,
``_``), which the screen saves in the config file. A mark gutter on the left shows marked
events (``●``) and events with a note (``✎``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trailtui.core.columns import BY_NAME, COLUMN_WIDTH_RANGE, DEFAULT_LIST_COLUMNS, Column
from trailtui.core.store.originals import OriginalUnavailable, original_event
from trailtui.core.query import EventQuery, EventRow, SortOrder
from trailtui.core.text import fit, printable
from trailtui.core.times import shown_time
from trailtui.tui.clipboard import copy_and_tell
from trailtui.tui.keys import bindings
from trailtui.tui.value_viewer import ValueViewer

#: The component class of a detection marker, by the highest level of the rules that hit it.
_DETECTION_STYLES = {"low": "event-list--detection-low", "medium": "event-list--detection-medium",
                     "high": "event-list--detection-high", "critical": "event-list--detection-high"}

PAGE_ROWS = 128
CACHED_PAGES = 16
#: Cells of the gutter at the left of every row: the mark (● or ✎), then a detection (▲ or △).
GUTTER = 2
MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH = COLUMN_WIDTH_RANGE
#: Characters of a value the list ever looks at (a value can be megabytes; a cell is narrower).
CELL_CHARS = MAX_COLUMN_WIDTH
_SOURCE_SUFFIX = ".amazonaws.com"
#: Fewest cells left for the scrolling columns beside the pinned first column; a narrower list
#: pins nothing.
MIN_SCROLLED_WIDTH = 24
#: Columns that take the spare width when the columns are narrower than the list, first found.
ELASTIC = ("resource", "object", "userAgent", "actor", "eventName")


def cell_text(column: Column, value: object) -> str:
    """How a value shows in a cell: escaped (:func:`printable`), a time in the one format of
    :mod:`trailtui.core.times`, an ``eventSource`` without ``.amazonaws.com``, a flag as
    ``true``/``false``; ``""`` for a missing value."""
    if value is None or value == "":
        return ""
    if column.kind == "flag":
        return "true" if value in (1, "1", True) else "false"
    text = str(value)[:CELL_CHARS]
    if column.kind == "time":
        return printable(shown_time(text))
    if column.kind == "service" and text.endswith(_SOURCE_SUFFIX):
        return printable(text[: -len(_SOURCE_SUFFIX)])
    return printable(text)


def split_leading_spaces(segments) -> list[Segment]:
    """``segments`` with each one that starts with spaces and then has text split in two. The
    terminal draws both forms alike; in an SVG export (screenshots, snapshot tests) librsvg —
    rsvg-convert and most image viewers — draws a text run from its first visible character,
    pulling a cell left by its leading spaces (browsers draw it right). Cheap: a few segments a
    row."""
    result = []
    for segment in segments:
        text = segment.text
        stripped = text.lstrip(" ")
        if stripped and len(stripped) < len(text):
            result.append(Segment(text[: len(text) - len(stripped)], segment.style))
            result.append(Segment(stripped, segment.style))
        else:
            result.append(segment)
    return result


@dataclass(frozen=True)
class ColumnSpan:
    """Where a shown column sits: its :class:`Column`, first cell ``x`` (after the gutter, in
    the scrolled content) and ``width`` in cells."""

    column: Column
    x: int
    width: int


class EventList(ScrollView, can_focus=True):
    """The list of matching events: one line per event, a header line, a cursor row and a
    current column.

    Posts :class:`Highlighted` when the cursor lands on another event, :class:`Activated` on
    Enter or a double click, and :class:`ColumnsChanged` when the user shows, hides, moves or
    resizes a column. Actions the list cannot do alone (sort, pick columns) are the screen's:
    the list posts :class:`Request` for them.
    """

    BINDINGS = bindings("list")
    COMPONENT_CLASSES = {
        "event-list--header",
        "event-list--header-current",
        "event-list--cursor",
        "event-list--cursor-blurred",
        "event-list--current-cell",
        "event-list--error",
        "event-list--mark",
        "event-list--detection-high",
        "event-list--detection-medium",
        "event-list--detection-low",
        "event-list--empty",
        "event-list--more",
    }

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """Position of the cursor row among the matches (0 = first)."""

    class Highlighted(Message):
        """The cursor moved to another event (``event_id``: ``events.id``; None: list empty)."""

        def __init__(self, event_id: int | None) -> None:
            super().__init__()
            self.event_id = event_id

    class Activated(Message):
        """Enter (or a double click) on an event."""

        def __init__(self, event_id: int) -> None:
            super().__init__()
            self.event_id = event_id

    class ColumnsChanged(Message):
        """The user changed the columns (shown, order, widths): the screen saves them."""

    class Request(Message):
        """A key the screen acts on: ``what`` is ``"sort"`` (``descending`` set: the screen
        queries the index in the new order) or ``"pick"`` (the column picker)."""

        def __init__(self, what: str, *, descending: bool = False) -> None:
            super().__init__()
            self.what = what
            self.descending = descending

    def __init__(self, *, columns: Iterable[str] | None = None, hidden: Iterable[str] = (),
                 widths: dict[str, int] | None = None, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        hidden = set(hidden)
        self._query: EventQuery | None = None
        self._ids = None  # array('q') of the matches in order, once listed
        self._dense = False
        self._count = 0
        self._pages: LRUCache[int, list[EventRow]] = LRUCache(CACHED_PAGES)
        #: Every column the user placed, shown or hidden, in order (hiding keeps a column's place).
        self.order: list[str] = [name for name in (columns or DEFAULT_LIST_COLUMNS) if name in BY_NAME]
        #: The columns of :attr:`order` not shown.
        self.hidden: set[str] = {name for name in hidden if name in self.order}
        if not self.columns:
            self.order, self.hidden = list(DEFAULT_LIST_COLUMNS), set()
        #: Widths the user set, by column name (kept across filters and saved by the screen).
        self.widths: dict[str, int] = {k: v for k, v in (widths or {}).items() if k in BY_NAME}
        self._fitted: dict[str, int] = {}
        self._fit_pending = True
        self._spans: list[ColumnSpan] = []  # the columns that scroll sideways
        self._pinned: ColumnSpan | None = None  # the first column, when it stays put
        self._content_width = 0
        self.current = "eventName" if "eventName" in self.columns else (self.columns[0] if self.columns else "")
        self.sort = SortOrder()
        #: Marked events shown in the gutter: eventID -> note ('' for a mark without a note).
        self.marks: dict[str, str] = {}
        #: Events of the fetched pages that a detection rule hit: events.id -> highest level.
        self._detected: dict[int, str] = {}
        #: What the list says when it has no rows.
        self.empty_text: Text = Text("")
        self._last_highlighted: int | None = -1
        #: False until the user moves the cursor in this list: while indexing, an untouched list
        #: follows its top (the newest events); a moved one keeps its selected event.
        self.moved_by_user = False
        self._relayout()

    # ------------------------------------------------------------------ data

    @property
    def count(self) -> int:
        """Number of rows (matching events)."""
        return self._count

    @property
    def event_query(self) -> EventQuery | None:
        """The query shown (None before the first)."""
        return self._query

    @property
    def columns(self) -> list[str]:
        """The shown columns, in order."""
        return [name for name in self.order if name not in self.hidden]

    @property
    def fetch_columns(self) -> tuple[str, ...]:
        """The column names a query for this list must fetch: the shown ones, plus ``eventID``
        (marks) and ``errorCode`` (error rows are coloured)."""
        names = list(self.columns)
        for extra in ("eventID", "errorCode"):
            if extra not in names:
                names.append(extra)
        return tuple(names)

    def set_query(self, query: EventQuery, count: int, *, select: int | None = None, keep_row: bool = False,
                  dense: bool = False) -> None:
        """Show ``query``'s ``count`` matches. ``select``: the position to put the cursor on
        (None: the first row); ``keep_row``: keep the cursor on the same screen line (rows that
        arrived above it push the view, not the cursor). ``dense`` as in ``EventQuery.page``."""
        old_cursor, old_top = self.cursor, self.scroll_offset.y
        self._query = query
        self._dense = dense
        self._count = count
        self._ids = None
        self._pages.clear()
        self._detected.clear()
        self._fit_pending = not keep_row  # a refresh of the same filter keeps its widths
        self.virtual_size = Size(self._virtual_width(), count + 1)
        target = 0 if select is None else max(0, min(select, count - 1))
        if not keep_row:
            self.moved_by_user = select is not None  # a new list follows its top until moved
        if keep_row and select is not None:
            top = max(0, target - (old_cursor - old_top))
            self.scroll_to(y=top, animate=False, immediate=True, force=True)
        elif select is None:
            self.scroll_to(x=None, y=0, animate=False, immediate=True, force=True)
        self.cursor = target
        self.refresh()

    def use_ids(self, query: EventQuery, ids) -> None:
        """Page through ``ids`` (``query``'s matches in list order, ``EventQuery.ordered_ids``)
        from now on, if ``query`` is still the one shown."""
        if query is not self._query:
            return
        self._ids = ids
        self._count = len(ids)
        self._pages.clear()
        self.virtual_size = Size(self._virtual_width(), self._count + 1)
        self.cursor = min(self.cursor, max(0, self._count - 1))
        self.refresh()

    @property
    def ids(self):
        """The listed ids (``array('q')``) when the matches were listed, else None."""
        return self._ids

    def row_at(self, position: int) -> EventRow | None:
        """The row at ``position`` (0-based), fetching its page from the index if needed."""
        if self._query is None or not 0 <= position < self._count:
            return None
        page_number, offset = divmod(position, PAGE_ROWS)
        page = self._pages.get(page_number)
        if page is None:
            start = page_number * PAGE_ROWS
            if self._ids is not None:
                page = self._query.rows_for_ids(self._ids[start:start + PAGE_ROWS])
            else:
                page = self._query.page(start, PAGE_ROWS, dense=self._dense, total=self._count)
            self._pages[page_number] = page
            self._detected.update(self._hit_levels(page))
            if self._fit_pending:
                self._fit_pending = False
                self._fit(page)
        return page[offset] if offset < len(page) else None

    def _hit_levels(self, page: list[EventRow]) -> dict[int, str]:
        from trailtui.core.detect.runner import hit_levels

        if self._query is None or not page:
            return {}
        try:
            return hit_levels(self._query.conn, [row.id for row in page])
        except sqlite3.Error:  # an index from before detections, or busy: no markers
            return {}

    def forget_detections(self) -> None:
        """Read the detection markers again (a detection run ended)."""
        self._detected.clear()
        self._pages.clear()
        self.refresh()

    @property
    def selected_row(self) -> EventRow | None:
        """The cursor row, or None when the list is empty."""
        return self.row_at(self.cursor)

    @property
    def selected_event_id(self) -> int | None:
        """``events.id`` of the cursor row, or None when the list is empty."""
        row = self.selected_row
        return row.id if row else None

    def current_value(self) -> object:
        """The current column's value in the cursor row (as indexed; None when missing)."""
        row = self.selected_row
        return row.get(self.current) if row is not None else None

    # ------------------------------------------------------------------ columns

    @property
    def spans(self) -> list[ColumnSpan]:
        """The shown columns and where they sit (the pinned one first, at 0; the others at
        their place in the part that scrolls)."""
        return ([self._pinned] if self._pinned is not None else []) + list(self._spans)

    def column_width(self, name: str) -> int:
        """The width of column ``name``: the user's, else fitted to the values, else the
        catalogue's starting width."""
        column = BY_NAME[name]
        return self.widths.get(name) or self._fitted.get(name) or column.width

    def _fit(self, rows: list[EventRow]) -> None:
        """Fit the columns without a user width to ``rows``: as wide as their longest value or
        title, at least ``Column.width`` and at most ``Column.max_width``."""
        for name in self.columns:
            column = BY_NAME[name]
            longest = max((len(cell_text(column, row.get(name))) for row in rows), default=0)
            title = len(column.title) + (2 if name == self.sort.column else 0)  # the sort arrow
            # Never under the catalogue's width (errorCode is empty on most first pages, and
            # must still hold an AccessDenied met further down) nor under the title.
            self._fitted[name] = max(MIN_COLUMN_WIDTH, column.width, title, min(column.max_width, longest))
        self._relayout()
        self._scroll_current_into_view()  # widths changed: the current column must stay in view
        self.refresh()

    def _relayout(self) -> None:
        """Place the shown columns: the first one pinned at the left (the time stays in view
        while the others scroll sideways, VisiData's key column), the others after it; spare
        width goes to the first elastic column."""
        names = self.columns
        view = self.scrollable_content_region.width if self.is_mounted else 0
        pinned = names[0] if len(names) > 1 else None
        if pinned is not None and view and view - GUTTER - self.column_width(pinned) - 1 < MIN_SCROLLED_WIDTH:
            pinned = None  # too narrow to pin: everything scrolls
        self._pinned = ColumnSpan(BY_NAME[pinned], 0, self.column_width(pinned)) if pinned else None
        rest = names[1:] if pinned else names
        spans = []
        x = 0
        for name in rest:
            width = self.column_width(name)
            spans.append(ColumnSpan(BY_NAME[name], x, width))
            x += width + 1
        content = max(0, x - 1)
        spare = max(0, view - self._fixed_width) - content if view else 0
        if spare > 0 and spans:
            grow = next((name for name in ELASTIC if name in rest and name not in self.widths), None)
            if grow is not None:
                index = rest.index(grow)
                adjusted, x = [], 0
                for position, span in enumerate(spans):
                    width = span.width + (spare if position == index else 0)
                    adjusted.append(ColumnSpan(span.column, x, width))
                    x += width + 1
                spans, content = adjusted, max(0, x - 1)
        self._spans = spans
        self._content_width = content
        if self.is_mounted:
            self.virtual_size = Size(self._virtual_width(), self._count + 1)

    @property
    def _fixed_width(self) -> int:
        """Cells that do not scroll sideways: the mark gutter and the pinned column."""
        return GUTTER + (self._pinned.width + 1 if self._pinned is not None else 0)

    def _virtual_width(self) -> int:
        return self._fixed_width + self._content_width

    def set_columns(self, names: Iterable[str], *, announce: bool = False) -> None:
        """Show exactly the columns ``names`` (catalogue names, in order); the others of
        :attr:`order` become hidden, keeping their places after the shown ones. The caller gives
        the list a new query fetching :attr:`fetch_columns`. ``announce``: post
        :class:`ColumnsChanged` (the user's choice, to be saved)."""
        shown = [name for name in names if name in BY_NAME] or list(DEFAULT_LIST_COLUMNS)
        self.order = shown + [name for name in self.order if name not in shown]
        self.hidden = set(self.order) - set(shown)
        if self.current not in self.columns:
            self.current = self.columns[1] if len(self.columns) > 1 else self.columns[0]
        self._pages.clear()
        self._fit_pending = True
        self._relayout()
        self.refresh()
        if announce:
            self.post_message(self.ColumnsChanged())

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()
        self._scroll_cursor_into_view()

    # ------------------------------------------------------------------ column actions

    def action_column(self, step: int) -> None:
        """Make the column ``step`` places right (negative: left) the current one; the view
        scrolls sideways to show it."""
        if not self.columns:
            return
        index = self.columns.index(self.current) if self.current in self.columns else 0
        self.current = self.columns[max(0, min(len(self.columns) - 1, index + step))]
        self._scroll_current_into_view()
        self.refresh()

    def _scroll_current_into_view(self) -> None:
        span = next((span for span in self._spans if span.column.name == self.current), None)
        if span is None:
            return  # the pinned column is always in view
        view = max(1, self.scrollable_content_region.width - self._fixed_width)
        left = self.scroll_offset.x
        if span.x < left or span.width >= view:
            self.scroll_to(x=span.x, animate=False, immediate=True, force=True)
        elif span.x + span.width > left + view:
            self.scroll_to(x=span.x + span.width - view, animate=False, immediate=True, force=True)

    def action_hide_column(self) -> None:
        """Hide the current column (``+`` shows it again)."""
        if len(self.columns) <= 1:
            self.notify("The last column cannot be hidden.", severity="warning", markup=False)
            return
        index = self.columns.index(self.current)
        hidden = BY_NAME[self.current].title
        self.hidden.add(self.current)
        names = self.columns
        self.current = names[min(index, len(names) - 1)]
        self._pages.clear()
        self._relayout()
        self.refresh()
        self.post_message(self.ColumnsChanged())
        self._scroll_current_into_view()
        self.notify(f"Column {hidden} hidden: + shows it again.", markup=False)

    def action_resize_column(self, step: int) -> None:
        """Make the current column ``step`` cells wider (negative: narrower)."""
        if not self.current:
            return
        width = max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, self.column_width(self.current) + step))
        self.widths[self.current] = width
        self._relayout()
        self._scroll_current_into_view()
        self.refresh()
        self.post_message(self.ColumnsChanged())

    def action_fit_column(self) -> None:
        """VisiData's ``_``: widen the current column to its longest value on screen (up to
        :data:`MAX_COLUMN_WIDTH`); again, back to its fitted width."""
        if not self.current:
            return
        column = BY_NAME[self.current]
        if self.current in self.widths:
            del self.widths[self.current]
        else:
            top = self.scroll_offset.y
            rows = [self.row_at(position) for position in range(top, min(self._count, top + self.size.height))]
            longest = max((len(cell_text(column, row.get(column.name))) for row in rows if row), default=0)
            self.widths[self.current] = max(len(column.title) + 2, min(MAX_COLUMN_WIDTH, longest))
        self._relayout()
        self._scroll_current_into_view()
        self.refresh()
        self.post_message(self.ColumnsChanged())

    def action_pick_columns(self) -> None:
        self.post_message(self.Request("pick"))

    def action_sort(self, descending: bool) -> None:
        self.post_message(self.Request("sort", descending=descending))

    def _cell(self) -> tuple[str, str] | None:
        """``(value as logged, column title)`` of the current cell, or None (after saying why)."""
        row = self.selected_row
        if row is None:
            self.notify("No event selected.", severity="warning", markup=False)
            return None
        column = BY_NAME[self.current]
        value = row.get(column.name)
        if value is None or value == "":
            self.notify(f"{column.title} is empty in this event.", severity="warning", markup=False)
            return None
        text = str(value)
        return (shown_time(text) + " UTC" if column.kind == "time" else text), column.title

    def action_view_cell(self) -> None:
        """``v``: the current cell's value whole, wrapped (the index keeps up to 4,096
        characters of a value; the JSON detail has the event whole)."""
        cell = self._cell()
        if cell is not None:
            text, title = cell
            self.app.push_screen(ValueViewer(title, text))

    def action_copy_cell(self) -> None:
        """``c``: copy the current cell's value, as logged (a time as the list shows it, UTC)."""
        cell = self._cell()
        if cell is not None:
            text, title = cell
            copy_and_tell(self, text, what=title)

    def action_copy_event(self) -> None:
        """``y``: copy the selected event's original JSON, exactly as logged."""
        event_id = self.selected_event_id
        if event_id is None or self._query is None:
            self.notify("No event selected.", severity="warning", markup=False)
            return
        try:
            original = original_event(self._query.conn, event_id)
        except OriginalUnavailable as err:
            self.notify(f"Cannot copy the event: {printable(err)}", severity="warning", markup=False)
            return
        if original is not None:
            copy_and_tell(self, original.decode("utf-8", errors="replace"), what="the whole event")

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header_strip(width)
        position = self.scroll_offset.y + y - 1
        if self._count == 0:
            return self._empty_strip(y - 1, width)
        row = self.row_at(position)
        if row is None:
            return Strip.blank(width, self.rich_style)
        base = self.rich_style
        if row.get("errorCode"):
            base = base + self.get_component_rich_style("event-list--error")
        is_cursor = position == self.cursor
        if is_cursor:
            name = "event-list--cursor" if self.has_focus else "event-list--cursor-blurred"
            base = base + self.get_component_rich_style(name)
        note = self.marks.get(str(row.get("eventID") or ""))
        mark = ("✎" if note else "●") if note is not None else " "
        segments = [Segment(mark, base + self.get_component_rich_style("event-list--mark") if note is not None else base)]
        level = self._detected.get(row.id)
        if level is None:
            segments.append(Segment(" ", base))
        else:
            # The second gutter cell: a detection rule hit this event (▲ medium and above).
            shown = _DETECTION_STYLES.get(level, "event-list--detection-low")
            segments.append(Segment("△" if level == "low" else "▲", base + self.get_component_rich_style(shown)))
        cells = [fit(cell_text(span.column, row.get(span.column.name)), span.width) for span in self._spans]
        mark_current = is_cursor and self.has_focus
        cell_style = base + self.get_component_rich_style("event-list--current-cell")
        fixed: list[Segment] = []
        if self._pinned is not None:
            pinned = self._pinned
            text = fit(cell_text(pinned.column, row.get(pinned.column.name)), pinned.width)
            current = mark_current and pinned.column.name == self.current
            fixed = [Segment(text, cell_style if current else base), Segment(" ", base)]
        names = [span.column.name for span in self._spans]
        if mark_current and self.current in names:
            index = names.index(self.current)
            before = "".join(cell + " " for cell in cells[:index])
            after = "".join(" " + cell for cell in cells[index + 1:])
            body = [Segment(before, base), Segment(cells[index], cell_style), Segment(after, base)]
        else:
            # One segment per row: cheaper, and SVG exports keep every cell separator.
            body = [Segment(" ".join(cells), base)]
        content = Strip([segment for segment in body if segment.text]).crop_extend(
            self.scroll_offset.x, self.scroll_offset.x + width - self._fixed_width, base
        )
        return Strip(split_leading_spaces([*segments, *fixed, *content]), width)

    def header_text(self) -> Text:
        """Every shown column's title, as the header line holds them (the view shows the part
        scrolled to); the sort column has its arrow."""
        return Text(" ".join(fit(self._title(span), span.width) for span in self.spans))

    def visible_header(self) -> str:
        """The header line as it is on screen now (scrolled, cut at the list's width)."""
        strip = self._header_strip(self.scrollable_content_region.width)
        return "".join(segment.text for segment in strip)

    def _title(self, span: ColumnSpan) -> str:
        title = span.column.title
        if span.column.name == self.sort.column:
            title += " ▼" if self.sort.descending else " ▲"
        if span.column.kind == "time" and len(title) + 4 <= span.width:
            title += " UTC"
        return title

    def _header_strip(self, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("event-list--header")
        current_style = style + self.get_component_rich_style("event-list--header-current")
        more = style + self.get_component_rich_style("event-list--more")
        segments = []
        for index, span in enumerate(self._spans):
            title = self._title(span)
            if index:
                segments.append(Segment(" ", style))
            segments.append(Segment(fit(title, span.width), current_style if span.column.name == self.current else style))
        content = Strip(segments).crop_extend(self.scroll_offset.x, self.scroll_offset.x + width - self._fixed_width, style)
        fixed: list[Segment] = []
        if self._pinned is not None:
            pinned = self._pinned
            title_style = current_style if pinned.column.name == self.current else style
            fixed = [Segment(fit(self._title(pinned), pinned.width), title_style), Segment(" ", style)]
        if self.scroll_offset.x > 0:  # columns scrolled out on the left, after the pinned one
            content = Strip([Segment("‹", more), *content.crop(1, content.cell_length)])
        strip = Strip(split_leading_spaces([Segment("  ", style), *fixed, *content]), width)
        if self.scroll_offset.x + width - self._fixed_width < self._content_width:
            strip = Strip([*strip.crop(0, width - 1), Segment("›", more)], width)
        return strip

    def _empty_strip(self, line: int, width: int) -> Strip:
        lines = self.empty_text.wrap(self.app.console, max(10, width - 2)) if self.empty_text else []
        if line >= len(lines):
            return Strip.blank(width, self.rich_style)
        style = self.rich_style + self.get_component_rich_style("event-list--empty")
        text = lines[line]
        segments = [Segment("  ", style), *(Segment(s.text, style + s.style if s.style else style)
                                           for s in text.render(self.app.console))]
        return Strip(segments).crop_extend(0, width, style)

    # ------------------------------------------------------------------ cursor

    def watch_cursor(self, old: int, new: int) -> None:
        clamped = max(0, min(new, self._count - 1)) if self._count else 0
        if clamped != new:
            self.cursor = clamped
            return
        self._scroll_cursor_into_view()
        self.refresh()
        event_id = self.selected_event_id
        if event_id != self._last_highlighted:
            self._last_highlighted = event_id
            self.post_message(self.Highlighted(event_id))

    @property
    def visible_rows(self) -> int:
        """Event rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    # Every scroll_to here is forced: Textual ignores a scroll of a widget whose scrollbar is not
    # shown yet, which is the case in the refresh where a list of one event becomes thousands.
    def _scroll_cursor_into_view(self) -> None:
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + self.visible_rows:
            self.scroll_to(y=self.cursor - self.visible_rows + 1, animate=False, immediate=True, force=True)

    def move_to(self, position: int) -> None:
        """Put the cursor on ``position`` (a find, a go to time: the user's move), the row shown
        a third down when it was off screen."""
        self.moved_by_user = True
        top = self.scroll_offset.y
        if not top <= position < top + self.visible_rows:
            self.scroll_to(y=max(0, position - self.visible_rows // 3), animate=False, immediate=True, force=True)
        self.cursor = position

    def action_cursor_down(self) -> None:
        self.moved_by_user = True
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.moved_by_user = True
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.moved_by_user = True
        self.cursor += max(1, self.visible_rows - 1)

    def action_page_up(self) -> None:
        self.moved_by_user = True
        self.cursor -= max(1, self.visible_rows - 1)

    def action_first(self) -> None:
        self.moved_by_user = True
        self.cursor = 0

    def action_last(self) -> None:
        self.moved_by_user = True
        self.cursor = max(0, self._count - 1)

    def action_open(self) -> None:
        event_id = self.selected_event_id
        if event_id is not None:
            self.post_message(self.Activated(event_id))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        position = self.scroll_offset.y + event.y - 1
        if 0 <= position < self._count:
            self.moved_by_user = True
            self.cursor = position
            if event.chain >= 2:
                self.action_open()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
