"""The event list: a virtual table on Textual's line API.

Its virtual height is the match count; :meth:`EventList.render_line` asks the index only for the
page of rows under the viewport (``LIMIT/OFFSET`` through :class:`trailtui.core.query.EventQuery`)
and keeps a few pages cached, so a million matches scroll like a hundred.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trailtui.core.query import EventQuery, EventRow
from trailtui.core.text import printable

_PAGE_ROWS = 128
_CACHED_PAGES = 16


@dataclass(frozen=True)
class ListColumn:
    """One column of the list: the ``EventRow`` attribute, its title, its width in cells, and
    its priority (lower shows first when the terminal is narrow)."""

    attribute: str
    title: str
    width: int
    priority: int


#: Columns in display order. ``resource`` (else ``actor``) takes whatever width is left.
COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("eventTime", "eventTime (UTC)", 19, 0),
    ListColumn("eventName", "eventName", 21, 1),
    ListColumn("eventSource", "eventSource", 12, 6),
    ListColumn("actor", "actor", 21, 2),
    ListColumn("sourceIPAddress", "sourceIPAddress", 15, 3),
    ListColumn("awsRegion", "awsRegion", 12, 7),
    ListColumn("resource", "resource", 18, 5),
    ListColumn("errorCode", "errorCode", 14, 4),
)

#: Every column a preset or the palette can ask for, by name (``EventRow`` attribute): the
#: default :data:`COLUMNS` plus the S3 columns (``s3Level``: the S3 user guide's account / bucket /
#: object level; ``bucketName``/``object``/``userArn``: the Athena examples' names) and a few
#: more CloudTrail fields. Priority decides what stays when the terminal is narrow.
COLUMN_CATALOGUE: dict[str, ListColumn] = {
    column.attribute: column
    for column in (
        *COLUMNS,
        ListColumn("s3Level", "s3Level", 7, 3),
        ListColumn("bucketName", "bucketName", 14, 3),
        ListColumn("object", "object", 14, 4),
        ListColumn("userArn", "userArn", 24, 5),
        ListColumn("userAgent", "userAgent", 16, 7),
        ListColumn("eventCategory", "eventCategory", 10, 7),
        ListColumn("recipientAccountId", "recipientAccountId", 12, 8),
    )
}

#: The palette's "S3 columns": level, bucket and key of each S3 call.
S3_COLUMN_NAMES: tuple[str, ...] = (
    "eventTime", "eventName", "s3Level", "actor", "sourceIPAddress", "bucketName", "object", "errorCode",
)


def list_columns(names) -> tuple[ListColumn, ...]:
    """The :data:`COLUMN_CATALOGUE` entries of ``names``, in that order; a name without an
    entry gets a plain 16-cell column titled with the name, shown after the known ones when the
    terminal is narrow (catalogue priorities decide: ``userAgent`` and ``eventSource`` go first)."""
    names = list(names)
    chosen = []
    for rank, name in enumerate(names):
        known = COLUMN_CATALOGUE.get(name)
        if name == "eventName" and known is not None:
            # Narrower than the default list's: at 80 columns the Athena columns then keep the
            # source IP, bucket and key (S3 names fit; longer ones end in an ellipsis).
            chosen.append(ListColumn(known.attribute, known.title, 15, known.priority))
        elif known is not None:
            chosen.append(known)
        else:
            chosen.append(ListColumn(name, name, 16, 10 + rank))
    return tuple(chosen)


def layout_columns(width: int, columns: tuple[ListColumn, ...] = COLUMNS) -> list[tuple[ListColumn, int]]:
    """Choose the ``columns`` (default :data:`COLUMNS`) that fit ``width`` cells, by priority,
    and their widths.

    Spare cells go to ``actor`` (up to 16) and then ``resource`` (else to ``actor``, else to the
    last column). Under 100 cells the time drops its year (``MM-DD HH:MM:SS``) so
    ``sourceIPAddress`` still fits in 80 columns.
    """
    if width < 100:
        columns = tuple(
            ListColumn(c.attribute, "eventTime UTC", 14, c.priority) if c.attribute == "eventTime" else c
            for c in columns
        )
    chosen: list[ListColumn] = []
    used = 0
    for column in sorted(columns, key=lambda c: c.priority):
        need = column.width + (1 if chosen else 0)
        if used + need <= width or not chosen:
            chosen.append(column)
            used += need
    ordered = [column for column in columns if column in chosen]
    shown = {column.attribute for column in ordered}
    spare = max(0, width - used)
    extra = {column.attribute: 0 for column in ordered}
    if "resource" in shown and "actor" in shown:
        extra["actor"] = min(spare, 16)  # role/session names are long; give them room first
        extra["resource"] = spare - extra["actor"]
    elif "actor" in shown:
        extra["actor"] = spare
    else:
        extra[ordered[-1].attribute] = spare
    return [(column, column.width + extra[column.attribute]) for column in ordered]


_CELL_CHARS = 1024  # wider than any list column


def cell_text(attribute: str, value: str | None, width: int = 19) -> str:
    """How a value shows in the list: escaped, times without ``T``/``Z`` (and without the year
    when ``width`` is under 19), services without ``.amazonaws.com``."""
    if value is None:
        return ""
    # A cell shows a few dozen characters: escape only those (a value can be megabytes long).
    value = value[:_CELL_CHARS]
    if attribute == "eventTime":
        shown = value.replace("T", " ").rstrip("Z")
        return shown[5:] if width < 19 and len(shown) == 19 else shown
    if attribute == "eventSource" and value.endswith(".amazonaws.com"):
        return printable(value[: -len(".amazonaws.com")])
    return printable(value)


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


class EventList(ScrollView, can_focus=True):
    """The scrolling list of matching events; one line per event, a cursor row.

    Posts :class:`EventList.Highlighted` when the cursor lands on another event and
    :class:`EventList.Activated` on Enter or a double click.
    """

    COMPONENT_CLASSES = {"event-list--cursor", "event-list--error", "event-list--dim", "event-list--current-cell"}

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("home,g", "first", "First", show=False, id="list.first"),
        Binding("end,G", "last", "Last", show=False, id="list.last"),
        Binding("enter", "activate", "Open", id="list.open"),
        Binding("left,h", "column(-1)", "Column left", show=False, id="list.column_left"),
        Binding("right,l", "column(1)", "Column right", show=False, id="list.column_right"),
    ]

    DEFAULT_CSS = """
    EventList {
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    EventList > .event-list--cursor { background: $accent 40%; }
    EventList:focus > .event-list--cursor { background: $accent; color: $text; text-style: bold; }
    EventList > .event-list--error { color: $error; }
    EventList > .event-list--dim { color: $text-muted; }
    EventList:focus > .event-list--current-cell { text-style: bold reverse; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """Position of the cursor row in the list (0 = first row shown)."""

    class Highlighted(Message):
        """The cursor moved to another event (``event_id`` is ``events.id``, None if the list is empty)."""

        def __init__(self, event_id: int | None) -> None:
            super().__init__()
            self.event_id = event_id

    class Activated(Message):
        """Enter (or a double click) on an event."""

        def __init__(self, event_id: int) -> None:
            super().__init__()
            self.event_id = event_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._query: EventQuery | None = None
        self._ids = None  # array('q') of the matches in order, once materialised
        self._dense = False
        self._count = 0
        self._pages: OrderedDict[int, list[EventRow]] = OrderedDict()
        self._columns: tuple[ListColumn, ...] = COLUMNS
        self._layout: list[tuple[ListColumn, int]] = layout_columns(80)
        self._last_highlighted: int | None = -1
        self._current = "eventName"  # the current column (F counts it), moved with left/right

    # ------------------------------------------------------------------ data

    @property
    def count(self) -> int:
        """Number of rows (matching events)."""
        return self._count

    def set_query(self, query: EventQuery, count: int, *, keep_cursor: bool = False, dense: bool = False) -> None:
        """Show ``query``'s ``count`` matches (the cursor goes to the top unless ``keep_cursor``);
        ``dense`` as in ``EventQuery.page``."""
        self._query = query
        self._dense = dense
        self._count = count
        self._ids = None
        self._pages.clear()
        self.virtual_size = Size(self.size.width, count)
        if not keep_cursor:
            self.scroll_to(y=0, animate=False)
            self.cursor = 0
        else:
            self.cursor = min(self.cursor, max(0, count - 1))
        self.refresh()

    def use_ids(self, query: EventQuery, ids) -> None:
        """Page through ``ids`` (``query``'s matches in list order, see
        ``EventQuery.ordered_ids``) from now on, if ``query`` is still the one shown."""
        if query is not self._query:
            return
        self._ids = ids
        self._count = len(ids)
        self._pages.clear()
        self.virtual_size = Size(self.size.width, self._count)
        self.cursor = min(self.cursor, max(0, self._count - 1))
        self.refresh()

    def row_at(self, position: int) -> EventRow | None:
        """The row at ``position`` (0-based), fetching its page from the index if needed."""
        if self._query is None or not 0 <= position < self._count:
            return None
        page_number, offset = divmod(position, _PAGE_ROWS)
        page = self._pages.get(page_number)
        if page is None:
            start = page_number * _PAGE_ROWS
            if self._ids is not None:
                page = self._query.rows_for_ids(self._ids[start : start + _PAGE_ROWS])
            else:
                page = self._query.page(start, _PAGE_ROWS, dense=self._dense, total=self._count)
            self._pages[page_number] = page
            if len(self._pages) > _CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_number)
        return page[offset] if offset < len(page) else None

    @property
    def selected_event_id(self) -> int | None:
        """``events.id`` of the cursor row, or None when the list is empty."""
        row = self.row_at(self.cursor)
        return row.id if row else None

    # ------------------------------------------------------------------ rendering

    def header_text(self) -> Text:
        """The column titles for the current width, as a Text for the header line above; the
        current column's title is highlighted."""
        current = self.current_attribute
        text = Text(no_wrap=True)
        for index, (column, width) in enumerate(self._layout):
            if index:
                text.append(" ")
            text.append(_fit(column.title, width), "reverse" if column.attribute == current else "")
        return text

    @property
    def current_attribute(self) -> str:
        """The current column (an ``EventRow`` attribute such as ``eventName``): the one chosen
        with left/right, or the first shown after the time when that one is not shown."""
        shown = [column.attribute for column, _ in self._layout]
        if self._current in shown or not shown:
            return self._current
        return shown[1] if len(shown) > 1 else shown[0]

    def action_column(self, step: int) -> None:
        """Make the column ``step`` places right (negative: left) the current one."""
        shown = [column.attribute for column, _ in self._layout]
        if not shown:
            return
        index = shown.index(self.current_attribute) if self.current_attribute in shown else 0
        self._current = shown[max(0, min(len(shown) - 1, index + step))]
        self.post_message(self.LayoutChanged())
        self.refresh()

    @property
    def column_names(self) -> tuple[str, ...]:
        """The names of the columns the list shows when wide enough (what its query must fetch)."""
        return tuple(column.attribute for column in self._columns)

    def set_columns(self, columns: tuple[ListColumn, ...] | None) -> bool:
        """Show ``columns`` (None: the default :data:`COLUMNS`). The caller then gives the list a
        query fetching :attr:`column_names` (:meth:`set_query`). Returns True if they changed."""
        columns = columns or COLUMNS
        if columns == self._columns:
            return False
        self._columns = columns
        self._pages.clear()
        self._layout = layout_columns(max(20, self.scrollable_content_region.width or 80), columns)
        self.post_message(self.LayoutChanged())
        self.refresh()
        return True

    def on_resize(self, event: events.Resize) -> None:
        self._layout = layout_columns(max(20, self.scrollable_content_region.width), self._columns)
        self.virtual_size = Size(self.scrollable_content_region.width, self._count)
        self.post_message(self.LayoutChanged())

    class LayoutChanged(Message):
        """The columns shown changed (the header must be redrawn)."""

    def render_line(self, y: int) -> Strip:
        position = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        row = self.row_at(position)
        if row is None:
            return Strip.blank(width, self.rich_style)
        base = self.rich_style
        if row.get("errorCode"):
            base = base + self.get_component_rich_style("event-list--error")
        if position == self.cursor:
            base = base + self.get_component_rich_style("event-list--cursor")
        # One segment per row (every cell shares the row's style): cheaper to render, and SVG
        # exports cannot drop a cell's leading separator space.
        cells = [
            _fit(cell_text(column.attribute, row.get(column.attribute), column.width), column_width)
            for column, column_width in self._layout
        ]
        if position == self.cursor and self.has_focus:
            # The cursor row marks the current column's cell; separators end the segment before.
            current = self.current_attribute
            index = next((i for i, (column, _) in enumerate(self._layout) if column.attribute == current), None)
            if index is not None:
                cell_style = base + self.get_component_rich_style("event-list--current-cell")
                before = "".join(cell + " " for cell in cells[:index])
                after = "".join(" " + cell for cell in cells[index + 1 :])
                segments = [Segment(before, base), Segment(cells[index], cell_style), Segment(after, base)]
                return Strip([segment for segment in segments if segment.text]).crop_extend(0, width, base)
        return Strip([Segment(" ".join(cells), base)]).crop_extend(0, width, base)

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

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor += max(1, self.scrollable_content_region.height - 1)

    def action_page_up(self) -> None:
        self.cursor -= max(1, self.scrollable_content_region.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(0, self._count - 1)

    def action_activate(self) -> None:
        event_id = self.selected_event_id
        if event_id is not None:
            self.post_message(self.Activated(event_id))

    def on_click(self, event: events.Click) -> None:
        position = self.scroll_offset.y + event.y
        if 0 <= position < self._count:
            self.cursor = position
            if event.chain >= 2:
                self.action_activate()
