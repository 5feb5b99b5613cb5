"""The main screen: filter bar, event list (with its timeline), JSON detail, identity pane, status.

:class:`MainScreen` owns the panes and everything that acts on the selected event (pivots,
marks, copy, find, go to time), the filter and its history (every change is a step ``Esc``
undoes), and the list's query: it counts a filter's matches in a
:class:`~trailtui.tui.query_worker.QueryRunner`, hands the list a query for the rows on screen,
and, while the loader indexes, recounts once a second keeping the selected event selected.

Layout follows Textual's breakpoints: under :data:`NARROW_WIDTH` columns the panes stack (list
above, one side pane below; Tab switches), under :data:`SHORT_HEIGHT` rows the timeline folds
away until ``t``. The config file can put the side pane right, below or away.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Static

from trailtui.core.columns import BY_NAME, DEFAULT_LIST_COLUMNS
from trailtui.core.config import Config
from trailtui.core.detect.runner import detections_of_event
from trailtui.core.facets import facet_field, with_time_range
from trailtui.core.filter import CompiledFilter, FilterError, compile_filter
from trailtui.core.filter.terms import and_text
from trailtui.core.history import filter_history, push_filter
from trailtui.core.store.index import connect
from trailtui.core.store.originals import OriginalUnavailable
from trailtui.core.presets import Preset, time_span_terms
from trailtui.core.query import (
    EventQuery,
    SortOrder,
    actor_totals,
    credential_chain,
    event_facts,
    grant_by_event,
    grants_made,
    load_problems,
    skipped_files,
    original_event,
    time_span,
    total_events,
)
from trailtui.core.summary import empty_explanation, index_summary
from trailtui.core.text import plural, printable
from trailtui.core.times import shown_time
from trailtui.core.userstate import UserStateError, open_user_state
from trailtui.tui.detail import EventDetail
from trailtui.tui.dialogs import ColumnPicker
from trailtui.tui.event_list import EventList
from trailtui.tui.filter_bar import FilterBar
from trailtui.tui.filter_history import FilterHistory, FilterStep, breadcrumbs, crumb
from trailtui.tui.identity import IdentityLinks, IdentityPane, identity_facts
from trailtui.tui.keys import bindings, key_for
from trailtui.tui.loader_link import LoaderLink
from trailtui.tui.list_search import ListSearch
from trailtui.tui.marking import Marking
from trailtui.tui.message_bar import MessageBar
from trailtui.tui.pivots import chain_pivot, identity_pivot
from trailtui.tui.query_worker import QueryRunner
from trailtui.tui.sheet import DrillRequest, SheetScreen
from trailtui.tui.status_line import StatusLine
from trailtui.tui.timeline import Timeline

#: Terminals narrower than this (columns) stack the panes: at 120 columns the list, beside a
#: side pane, would show three columns.
NARROW_WIDTH = 140
#: Terminals shorter than this (rows) fold the timeline away (``t`` shows it).
SHORT_HEIGHT = 30
#: While the loader runs, the list is recounted at most this often (seconds).
LOADING_REFRESH = 1.0
#: Filters with more matches than this get their ids listed once for deep scrolling.
LISTING_THRESHOLD = 2_000
#: Holding j should not parse every event it passes: the panes follow after this pause (seconds).
SELECT_DELAY = 0.05


@dataclass(frozen=True)
class Counted:
    """A count of the filter: ``matches``, ``total`` events in the index, and ``position``, where
    the event to keep selected now sits (None: not asked, or it no longer matches)."""

    matches: int
    total: int
    position: int | None


class ListPane(Vertical):
    """The event list with its timeline; ``z`` zooms it whole (header included)."""

    ALLOW_MAXIMIZE = True


class MainScreen(Screen):
    """The main screen over the index ``db_path`` (see the module docstring).

    ``paths``: what the loader indexes (nothing when ``load`` is False: the index is read as it
    is); ``initial_filter``: the filter to start with; ``config``: the user's config file;
    ``s3_options``: how the loader lists and fetches ``s3://`` paths; ``follow_interval``: after
    the first load, follow new deliveries, polling S3 every that many seconds (None: do not).
    """

    BINDINGS = bindings("main")
    #: The list has the focus when the screen shows, unless a key already moved it (a / typed
    #: at once): Textual auto-focuses only a screen with nothing focused.
    AUTO_FOCUS = "#events"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_WIDTH, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_HEIGHT, "-tall")]

    def __init__(self, db_path: Path, *, paths: list[str] | None = None, initial_filter: str = "",
                 load: bool = True, config: Config | None = None, s3_options=None,
                 follow_interval: float | None = None, rules: list[str] | None = None) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.paths = list(paths or [])
        self.s3_options = s3_options
        self.follow_interval = follow_interval
        self.rules = list(rules or [])  # --rules paths, for the loader's detection run
        self._rule_problems: set[tuple[str, str]] = set()
        self._follow_errors: set[str] = set()
        self._listing_noted = ""  # the listing notes shown so far
        self._load_failure = ""  # why the loader stopped, if it did
        self.config = config or Config()
        self.compiled: CompiledFilter = compile_filter("")
        self.initial_filter = initial_filter
        self.sort = SortOrder()
        self.matches = 0
        self.total = 0
        self.history = FilterHistory()
        self.indexing = load and bool(self.paths)
        self.loader: LoaderLink | None = None
        self.conn: sqlite3.Connection | None = None
        self.user_conn: sqlite3.Connection | None = None
        self._select_timer: Timer | None = None
        self._selected_id: int | None = None
        self._links: IdentityLinks | None = None
        self._last_refresh = 0.0
        self._events_arrived = False  # the loader reported its first events (refreshed at once)
        self._edit_start: str | None = None  # the filter when the filter bar got the focus
        self._edit_selected: int | None = None  # the event selected then
        self._then_frequency: str | None = None
        self._type_ahead: list[str] | None = None  # keys typed behind a / before the bar existed
        self._subtitles: dict[Widget, str] = {}  # each pane's subtitle, without the zoom hint
        self._size_when_covered = None  # the terminal's size when a view opened over this screen
        self._preset: Preset | None = None  # the preset whose columns the list shows
        self._columns_before_preset: list[str] = []
        self.counter = QueryRunner(self, self.db_path, "count")
        self.lister = QueryRunner(self, self.db_path, "listing")
        self.search = ListSearch(self)
        self.marking = Marking(self)
        self.identity_counter = QueryRunner(self, self.db_path, "identity")
        self.summarizer = QueryRunner(self, self.db_path, "summary")

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield FilterBar(self.initial_filter, id="filter-bar")
        yield Static("", id="breadcrumbs")
        with Horizontal(id="main"):
            with ListPane(id="list-pane"):
                yield Timeline(self.db_path, id="timeline")
                yield EventList(columns=self.config.columns, hidden=self.config.hidden,
                                widths=dict(self.config.widths), id="events")
            with Vertical(id="side"):
                detail = EventDetail("event", id="detail")
                detail.border_title = "JSON detail"
                yield detail
                identity = IdentityPane(id="identity")
                identity.border_title = "Identity"
                yield identity
        with Vertical(id="bottom"):
            yield StatusLine(id="status")
            yield MessageBar()
            yield Footer()

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    @property
    def event_list(self) -> EventList:
        return self.query_one(EventList)

    @property
    def detail(self) -> EventDetail:
        return self.query_one(EventDetail)

    @property
    def identity(self) -> IdentityPane:
        return self.query_one(IdentityPane)

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.conn = connect(self.db_path, readonly=True)
        self._open_user_state()
        self._apply_layout_config(starting=True)
        self.watch(self, "maximized", self._zoom_changed, init=False)
        try:
            self.compiled = compile_filter(self.initial_filter)
        except FilterError as err:
            self.filter_bar.show_error(self.initial_filter, err)
        self.filter_bar.set_text(self.compiled.text)
        self.status.indexing = self.indexing
        if self.indexing:
            self.loader = LoaderLink(self, self.db_path, self.paths, self.s3_options, self.follow_interval, self.rules)
            self.loader.start()
        else:
            self._show_summary()
        self.run_count()

    def on_unmount(self) -> None:
        if self.loader is not None:
            self.loader.stop()
        for runner in (self.counter, self.lister, self.search.runner, self.identity_counter, self.summarizer):
            runner.cancel()

    def _open_user_state(self) -> None:
        """Marks, notes and the filter history live beside the index; without them (a read-only
        cache) the app still works and says why they are not kept."""
        try:
            self.user_conn = open_user_state(self.db_path)
        except UserStateError as err:
            self.user_conn = None
            self.app.call_after_refresh(self.notify, f"Marks and history will not be kept: {err}",
                                        severity="warning", markup=False)
            return
        self.filter_bar.history = filter_history(self.user_conn)
        self.marking.show_in_list()

    def _apply_layout_config(self, *, starting: bool = False) -> None:
        """The config file's layout: ``side_pane`` ``right`` / ``below`` pin the breakpoints
        (side by side / stacked at any width), ``hidden`` leaves the list alone; the side pane's
        width (tens of percent) and whether the timeline shows."""
        layout = self.config.side_pane
        self.HORIZONTAL_BREAKPOINTS = {"right": [(0, "-wide")], "below": [(0, "-narrow")]}.get(
            layout, type(self).HORIZONTAL_BREAKPOINTS)
        tens = max(20, min(80, round(self.config.side_width / 10) * 10))
        # 40% is the stylesheet's own width: no class for it.
        classes = {"-side-hidden": layout == "hidden", "-no-timeline": not self.config.timeline,
                   **{f"-side-{width}": width == tens for width in range(20, 90, 10) if width != 40}}
        if not starting:
            classes.update({"-wide": False, "-narrow": False})
        # Only what changes, in one batch: each change restyles the whole screen (17 ms at start).
        changes = {name: on for name, on in classes.items() if self.has_class(name) != on}
        if changes:
            self.update_classes(changes, animate=False)
        if layout != "auto" or not starting:
            # New breakpoints take effect on a resize (at start, "auto" is the class's own).
            self.post_message(events.Resize(self.app.size, self.app.size))

    def set_side_pane(self, layout: str) -> None:
        """Put the side pane (JSON detail, identity) ``auto``, ``right``, ``below`` or
        ``hidden``, and remember it in the config file."""
        self.config = replace(self.config, side_pane=layout)
        self._apply_layout_config()
        self.app.save_settings({"layout.side_pane": layout})

    def on_screen_suspend(self) -> None:
        self._size_when_covered = self.app.size

    def on_screen_resume(self) -> None:
        """Textual updates breakpoint classes only on the screen that gets the resize: a resize
        while a view was on top left this screen with the old layout. Resize it now (only then:
        a resize relayouts the whole screen, and most views close at the size they opened)."""
        if self._size_when_covered is not None and self.app.size != self._size_when_covered:
            self.post_message(events.Resize(self.app.size, self.app.size))
        self._size_when_covered = None

    # ------------------------------------------------------------------ the filter

    def action_focus_filter(self) -> None:
        """``/``: the filter bar, the whole filter selected (typing replaces it, End extends)."""
        self._edit_start = self.compiled.text
        self._edit_selected = self._selected_id  # restored by Esc, whatever the typing selects
        if not self.filter_bar.input_ready:
            # Typed in the app's first instant, before the bar exists: keep the keys for it.
            self._type_ahead = []
            self.call_after_refresh(self._flush_type_ahead)
            return
        self.filter_bar.focus_for_edit()

    def on_key(self, event: events.Key) -> None:
        """Keys typed behind a ``/`` pressed before the filter bar existed go to it, in order."""
        if self._type_ahead is None:
            return
        if event.key == "enter" or event.is_printable:
            self._type_ahead.append("\r" if event.key == "enter" else (event.character or ""))
            event.stop()
            event.prevent_default()

    def _flush_type_ahead(self) -> None:
        if not self.filter_bar.input_ready:
            self.call_after_refresh(self._flush_type_ahead)
            return
        typed, self._type_ahead = "".join(self._type_ahead or ()), None
        self.filter_bar.focus_for_edit()
        text, enter, after = typed.partition("\r")
        if text:
            self.filter_bar.input.replace(text, 0, len(self.filter_bar.text))
        if enter:
            self.action_filter_done()
            for character in after.replace("\r", ""):  # typed behind the Enter: the list's keys
                self.app.post_message(events.Key(key_for(character), character))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``/`` is a priority key (see ``keys.PRIORITY_WHY``): inside a text box it is just a
        character; Enter leaves the filter bar only from the filter bar. Tab moves between panes
        only when none is zoomed."""
        if action == "focus_filter" and self.focused is not None and self.focused.id in ("filter-input", "prompt-input"):
            return False
        if action == "filter_done":  # Enter elsewhere is the focused widget's (and not in the footer)
            return self.filter_bar.input_ready and self.focused is self.filter_bar.input
        if action == "cycle_pane" and self.maximized is not None:
            return False
        return True

    @on(FilterBar.Applied)
    def _typed(self, message: FilterBar.Applied) -> None:
        message.stop()
        self.compiled = message.compiled
        self.run_count()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # Leaving the filter bar ends a typing session: it becomes one step of the history.
        if event.widget.id == "filter-input":
            self._end_edit()
        elif event.widget is self.timeline:
            self.remove_class("-timeline-open")

    def _end_edit(self) -> None:
        """Leaving the filter bar: its text is applied now (not after the debounce or a message),
        and the visit becomes one step of the history."""
        compiled = self.filter_bar.apply_now(post=False)
        if compiled is not None and compiled.text != self.compiled.text:
            self.compiled = compiled
            self.run_count()
        start, self._edit_start = self._edit_start, None
        text = self.compiled.text
        if start is not None and start != text:
            self.history.push(FilterStep(start, text, printable(text) or "all events", self._edit_selected))
            self._remember(text)
            self._show_breadcrumbs()

    def apply_filter(self, text: str, crumb_text: str, *, restore=None, select: tuple[int, int] | None = None,
                     keep: int | None = None) -> bool:
        """Make ``text`` the filter now as one step of the history (``Esc`` undoes it):
        ``crumb_text`` is its breadcrumb, ``restore`` reopens the view it came from on undo,
        ``select`` selects that span of the text in the filter bar, ``keep`` is an ``events.id``
        to keep selected when it matches. Returns False (and shows why) when ``text`` is not a
        valid filter."""
        try:
            compiled = compile_filter(text)
        except FilterError as err:
            self.filter_bar.set_text(text)
            self.filter_bar.show_error(text, err)
            return False
        self.history.push(FilterStep(self.compiled.text, text, crumb_text, self._selected_id, restore))
        self._remember(text)
        self.compiled = compiled
        self.filter_bar.set_text(text, select=select)
        self.filter_bar.show_hint(compiled)
        self._show_breadcrumbs()
        self.run_count(keep=keep)
        return True

    def _remember(self, text: str) -> None:
        if self.user_conn is not None and text.strip():
            try:
                push_filter(self.user_conn, text)
                self.filter_bar.history = filter_history(self.user_conn)
            except sqlite3.Error as err:  # a full disk, a read-only file: the session goes on
                self.notify(f"The filter history could not be saved: {printable(err)}", severity="warning",
                            markup=False)

    def action_filter_done(self) -> None:
        """Enter in the filter bar: apply the text now and give the list the focus at once, so
        keys typed right behind the Enter act on the list (see ``keys.PRIORITY_WHY``)."""
        self.set_focus(self.event_list)  # the blur ends the edit: applied now, one step of the history

    def action_back(self) -> None:
        """Esc / Backspace: back to the list from another pane; on the list, undo one step."""
        if self.focused is not self.event_list:
            self.set_class(False, "-show-identity")
            self.set_focus(self.event_list)  # now: keys right behind the Esc are the list's
            return
        step = self.history.pop()
        if step is None:
            self.notify("This is the first filter: nothing to go back to.", markup=False)
            return
        compiled = compile_filter(step.before)
        self.compiled = compiled
        self.filter_bar.set_text(step.before)
        self.filter_bar.show_hint(compiled)
        self._show_breadcrumbs()
        self.run_count(keep=step.selected_before)
        if step.restore is not None:
            step.restore()

    def _show_breadcrumbs(self) -> None:
        bar = self.query_one("#breadcrumbs", Static)
        if not self.history:
            bar.set_class(False, "-visible")
            return
        hint = "Esc: back one step"
        width = (bar.size.width or self.size.width) - 5 - len(hint)
        text = breadcrumbs(self.history.labels(self.compiled.text), width=max(20, width))
        text.append("   ")  # a run of its own, for librsvg (see event_list.split_leading_spaces)
        text.append(hint, "dim")
        bar.update(text)
        bar.set_class(True, "-visible")

    # ------------------------------------------------------------------ counting and listing

    def run_count(self, *, keep: int | None = None, keep_row: bool = False) -> None:
        """Count the filter's matches in the counter (a count still running is interrupted).
        ``keep``: an ``events.id`` to keep selected (its new position is counted too)."""
        if self._preset is not None and self._preset.filter not in self.compiled.text:
            # The preset's filter was edited away: so are its columns.
            self._preset = None
            self.event_list.set_columns(self._columns_before_preset)
        compiled, sort, indexing = self.compiled, self.sort, self.indexing
        known_total = self.total if not indexing and self.total else None

        keep_event_id = self._event_id_text(keep)

        def count(conn: sqlite3.Connection) -> Counted:
            query = EventQuery(conn, compiled, sort=sort)
            matches = query.count()
            total = matches if compiled.where == "1" else (known_total if known_total is not None else total_events(conn))
            position = query.position_of(keep) if keep is not None else None
            if position is None and keep_event_id:
                # The loader merged duplicate eventIDs and kept another copy of this event.
                row = conn.execute('SELECT id FROM events WHERE "eventID" = ?', (keep_event_id,)).fetchone()
                position = query.position_of(row[0]) if row else None
            return Counted(matches, total, position)

        self.counter.run(count, tag=(compiled, sort, keep, keep_row))
        self.timeline.show_filter(compiled, throttle=indexing)

    @on(QueryRunner.Done)
    def _query_done(self, message: QueryRunner.Done) -> None:
        message.stop()
        if not message.current:
            return
        if message.runner is self.counter:
            self._counted(message)
        elif message.runner is self.lister:
            self.status.note = ""
            if message.error is None:
                query, ids = message.result
                self.event_list.use_ids(query, ids)
            else:  # the list still pages without the listing, only slower deep down
                self.notify(f"Could not list the matches in order: {printable(message.error)}",
                            severity="warning", markup=False)
        elif message.runner is self.search.runner:
            self.search.done(message)
        elif message.runner is self.identity_counter:
            self._identity_counted(message)
        elif message.runner is self.summarizer:
            self._summarized(message)

    def _counted(self, message: QueryRunner.Done) -> None:
        compiled, sort, keep, keep_row = message.tag
        if message.error is not None:
            self.notify(f"Query failed: {printable(message.error)}", severity="error", markup=False)
            return
        if compiled is not self.compiled or sort != self.sort:
            return
        counted: Counted = message.result
        if keep_row and keep is not None and self.event_list.selected_event_id != keep:
            # The user moved while this count ran: count again around the event selected now,
            # rather than pull the cursor back to the one selected when the count started.
            self.run_count(keep=self.event_list.selected_event_id, keep_row=True)
            return
        self.matches, self.total = counted.matches, counted.total
        assert self.conn is not None
        event_list = self.event_list
        query = EventQuery(self.conn, compiled, sort=sort, columns=event_list.fetch_columns)
        dense = EventQuery.is_dense(counted.matches, counted.total)
        old_position = event_list.cursor
        event_list.sort = sort  # before the rows: the columns are fitted to the first page with it
        select = counted.position
        if keep_row and select is None and counted.matches:
            select = min(old_position, counted.matches - 1)  # gone: stay where it was, not at the top
        event_list.set_query(query, counted.matches, select=select, keep_row=keep_row, dense=dense)
        if keep_row and counted.position is not None:
            # Rows that arrived above the selection, less those gone since (the loader merges
            # duplicate eventIDs at the end of a bulk load); never more than the rows above.
            arrived = self.status.new_above + counted.position - old_position
            self.status.new_above = max(0, min(arrived, counted.position))
        if compiled.where != "1" or sort != SortOrder():
            needs_listing = query.needs_listing
            if (needs_listing or counted.matches > LISTING_THRESHOLD) and not self.indexing:
                self._list_ids(compiled, sort, query)
        self._show_counts(message.elapsed_ms)
        self._show_empty()
        if counted.matches == 0:
            self._show_event(None)
        if self._then_frequency is not None:
            field, self._then_frequency = self._then_frequency, None
            self.action_frequency(field)

    def _event_id_text(self, event_id: int | None) -> str | None:
        """The CloudTrail ``eventID`` of the shown row with ``events.id`` ``event_id``, if any."""
        row = self.event_list.selected_row
        if event_id is None or row is None or row.id != event_id:
            return None
        value = row.get("eventID")
        return str(value) if value else None

    def _list_ids(self, compiled: CompiledFilter, sort: SortOrder, shown: EventQuery) -> None:
        """List the matches' ids in order once, so scrolling deep into a filter (or a sort) the
        index cannot order does not sort every match again for each page."""
        if shown.needs_listing:
            self.status.note = f"sorting {plural(self.matches, 'match', 'matches')} by {BY_NAME[sort.column].title}…"
        self.lister.run(lambda conn: (shown, EventQuery(conn, compiled, sort=sort).ordered_ids()))

    def _show_counts(self, elapsed_ms: float) -> None:
        pane = self.query_one("#list-pane")
        pane.border_title = f"Events {self.matches:,} / {self.total:,}"
        self._set_subtitle(pane, self._order_text())
        self.filter_bar.show_count(f"{self.matches:,} / {self.total:,} · {elapsed_ms:,.0f} ms")

    def _order_text(self) -> str:
        if self.sort.column == "eventTime":
            return "newest first" if self.sort.descending else "oldest first"
        arrow = "▼" if self.sort.descending else "▲"
        return f"sorted by {BY_NAME[self.sort.column].title} {arrow}"

    def _show_empty(self) -> None:
        """What the list says when it is empty: why the index is empty (what was looked for,
        --demo), or that the filter matches nothing (and how to go back)."""
        event_list = self.event_list
        if self.matches:
            event_list.empty_text = Text("")
        elif not self.total and self.indexing:
            event_list.empty_text = Text("Indexing… events appear here as files are read.")
        elif not self.total and self._load_failure:
            event_list.empty_text = Text(f"Indexing stopped: {self._load_failure}")
        elif not self.total and self.conn is not None:
            explanation = empty_explanation(index_summary(self.conn), self.paths) or "The index holds no events."
            event_list.empty_text = Text(explanation)
        elif self.indexing:
            event_list.empty_text = Text("No event matches this filter yet: still indexing. "
                                         "Esc goes back one step; / edits the filter.")
        else:
            event_list.empty_text = Text("No event matches this filter. Esc goes back one step; / edits the filter.")
        event_list.refresh()

    def action_reverse_order(self) -> None:
        """``s``: reverse the order (time, or the sort column), from the top."""
        self.sort = replace(self.sort, descending=not self.sort.descending)
        self.run_count()

    # ------------------------------------------------------------------ the loader

    @on(LoaderLink.Progress)
    def _loader_progress(self, message: LoaderLink.Progress) -> None:
        message.stop()
        self.status.progress = message.progress  # a reactive: the line redraws itself
        fresh = message.progress.listing_note_after(self._listing_noted)
        if fresh:
            self._listing_noted = message.progress.listing_note
            self.notify(printable(fresh), severity="warning", timeout=15, markup=False)
        now = time.monotonic()
        # The first events refresh at once: a progress report without any (listing S3) must not
        # hold them back for a second.
        first_events = not self._events_arrived and message.progress.events_added > 0
        if now - self._last_refresh >= LOADING_REFRESH or first_events:
            self._last_refresh = now
            self._events_arrived = self._events_arrived or first_events
            self._refresh_while_loading()
        ready = self._free_text_ready()
        if ready != self.filter_bar.free_text_ready:
            self.filter_bar.free_text_ready = ready
            if self.compiled.free_text:
                self.filter_bar.show_hint(self.compiled)

    def _free_text_ready(self) -> float | None:
        """The share (0.0 to 1.0) of the index's events that free text can find while a load
        has not filled it for all of them yet (a bulk load fills it last; a load may also pick
        up what an interrupted one left); None when it finds every event."""
        progress = self.status.progress
        if not self.indexing or progress is None or not progress.fts_waiting:
            return None
        events = max(self.total, progress.events_added, progress.fts_waiting)
        return 1 - progress.fts_waiting / events

    @on(LoaderLink.Finished)
    def _loader_finished(self, message: LoaderLink.Finished) -> None:
        message.stop()
        self.indexing = False
        self.status.indexing = False
        self.status.progress = message.progress
        self.filter_bar.free_text_ready = None
        if self.compiled.free_text:
            self.filter_bar.show_hint(self.compiled)
        for notice in message.notices:
            self.notify(printable(notice), timeout=8, markup=False)
        problems = len(message.failures) + len(message.record_problems)
        if problems:
            self.notify(f"{plural(problems, 'load problem')}: ! lists them.", severity="warning", timeout=8,
                        markup=False)
        self.total = 0  # counted again: a total counted while loading is short
        self._show_summary()
        self._refresh_while_loading()
        self.marking.show_in_list()
        self.status.following = self.follow_interval is not None

    @on(LoaderLink.Delivered)
    def _delivered(self, message: LoaderLink.Delivered) -> None:
        """A follow round ended: new events join the list (the selection and its screen line
        stay; see :meth:`_refresh_while_loading`), and counts, the timeline and open views
        count again."""
        message.stop()
        if message.error is not None:
            if message.error not in self._follow_errors:  # each reason once, not every poll
                self._follow_errors.add(message.error)
                self.notify(f"Following: {printable(message.error)}", severity="warning", timeout=10, markup=False)
            return
        problems = len(message.failures) + len(message.record_problems)
        if problems:
            self.notify(f"{plural(problems, 'load problem')} in new deliveries: ! lists them.", severity="warning",
                        timeout=8, markup=False)
        progress = message.progress
        if not (progress.events_added or progress.files_removed or progress.files_read or problems):
            return
        if progress.events_added:
            self.status.last_delivery = time.monotonic()
            self.status.delivered += progress.events_added
        self.total = 0  # counted again: the index grew
        self._show_summary()
        self._refresh_while_loading()
        for screen in self.app.screen_stack:
            if isinstance(screen, SheetScreen):
                screen.index_grew()

    @on(LoaderLink.Detecting)
    def _detecting(self, message: LoaderLink.Detecting) -> None:
        message.stop()
        from trailtui.tui.detections import DetectionsScreen

        if isinstance(self.app.screen, DetectionsScreen):
            self.app.screen.set_running(f"{message.done}/{message.total}")
            if message.done == 1 or message.done % 10 == 0:
                self.app.screen.reload()  # the highest levels run first: show them as they come

    @on(LoaderLink.Detected)
    def _detected(self, message: LoaderLink.Detected) -> None:
        """A detection run ended: the list's markers, the detail pane's rule names and an open
        Detections view are read again; rule files that could not be used are named."""
        message.stop()
        from trailtui.tui.detections import DetectionsScreen

        from trailtui.core.detect.rules import RuleProblem, problem_lines

        fresh = [RuleProblem(str(path), str(reason)) for path, reason in message.problems
                 if (path, reason) not in self._rule_problems]  # each once, not after every follow round
        self._rule_problems.update((problem.path, problem.reason) for problem in fresh)
        for line in problem_lines(fresh):
            self.notify(printable(line[:1].upper() + line[1:]), severity="warning", timeout=10, markup=False)
        for title, reason in message.failed:
            if (title, reason) not in self._rule_problems:
                self._rule_problems.add((title, reason))
                self.notify(f"Rule {printable(title)} failed: {printable(reason)}", severity="warning", markup=False)
        if message.error is not None and ("", message.error) not in self._rule_problems:
            self._rule_problems.add(("", message.error))
            self.notify(printable(message.error[:1].upper() + message.error[1:]), severity="warning", timeout=10,
                        markup=False)
        self.event_list.forget_detections()
        if self._selected_id is not None:
            self._show_event(self._selected_id)
        for screen in self.app.screen_stack:
            if isinstance(screen, DetectionsScreen):
                screen.set_running("")
                screen.reload()
        if message.hits:
            self.notify(f"Detections: {plural(message.hits, 'new hit')} (D lists the rules).", timeout=6,
                        markup=False)

    @on(LoaderLink.Failed)
    def _loader_failed(self, message: LoaderLink.Failed) -> None:
        message.stop()
        self.indexing = False
        self.status.indexing = False
        self.notify(f"Indexing stopped: {printable(message.reason)}", severity="error", timeout=15, markup=False)
        self._load_failure = printable(message.reason)  # an empty list says it whole (the message may not fit)
        self._show_summary()
        self._refresh_while_loading()  # what was indexed before it stopped is there to read
        self.marking.show_in_list()

    def _refresh_while_loading(self) -> None:
        """Recount the filter. Once the user has moved in the list, the selected event stays
        selected and on the same screen line; before, the list follows its top (like ``less +F``),
        so a list opened on a tree being indexed shows the newest events."""
        if self.event_list.count == 0 or not self.event_list.moved_by_user:
            self.run_count()
        else:
            self.run_count(keep=self._selected_id, keep_row=True)

    def _show_summary(self) -> None:
        """Count what the index holds for the status line (in a worker: a million events take
        15 ms to count, which the first screen must not wait for)."""
        self.summarizer.run(index_summary)

    def _summarized(self, message: QueryRunner.Done) -> None:
        if message.error is not None:
            return
        summary = message.result
        parts = [plural(summary.events, "event"), plural(summary.files_total, "file")]
        if summary.files.get("skipped"):
            parts.append(f"{summary.files['skipped']:,} skipped")
        if summary.duplicates:
            parts.append(f"{plural(summary.duplicates, 'duplicate eventID')} merged")
        if summary.load_errors:
            parts.append(f"{plural(summary.load_errors, 'load error')} (! lists them)")
        self.status.summary = " · ".join(parts)

    # ------------------------------------------------------------------ selection

    @on(EventList.Highlighted)
    def _highlighted(self, message: EventList.Highlighted) -> None:
        message.stop()
        if self.event_list.cursor == 0:
            self.status.new_above = 0  # at the top: the events that arrived above are in view
        if self._select_timer is not None:
            self._select_timer.stop()
        event_id = message.event_id
        self._select_timer = self.set_timer(SELECT_DELAY, lambda: self._show_event(event_id))

    @on(EventList.Activated)
    def _activated(self, message: EventList.Activated) -> None:
        message.stop()
        self._show_event(message.event_id)
        if self.config.side_pane == "hidden":
            self.detail.focus()
            self.maximize(self.detail)
            return
        self.set_class(False, "-show-identity")
        self.detail.focus()

    def _show_event(self, event_id: int | None) -> None:
        """Fill the detail and identity panes for ``event_id`` (None: nothing selected)."""
        assert self.conn is not None
        self._selected_id = event_id
        self._links = None  # the previous event's chain must not be walked
        if event_id is None:
            self.detail.show_event(None)
            self.identity.show(None, None)
            return
        try:
            original = original_event(self.conn, event_id)
        except OriginalUnavailable as err:
            original = None
            self.notify(f"Cannot show the event's JSON: {printable(err)}", severity="warning", markup=False)
        facts = event_facts(self.conn, event_id)
        if facts is None:
            return
        columns = facts.columns
        title = " · ".join(part for part in (printable(columns.get("eventName") or ""),
                                               shown_time(columns.get("eventTime"))) if part)
        try:
            hit_by = [(found.level, found.title) for found in detections_of_event(self.conn, event_id)]
        except sqlite3.Error:  # an index written before detections existed
            hit_by = []
        self.detail.show_event(original, title=title or "event", detections=hit_by)
        origin = f"{Path(facts.path).name}, record {facts.record_index}" if facts.path else ""
        self._set_subtitle(self.detail, printable(origin))
        details = identity_facts(facts, original)
        self.identity.show(details, None)
        if columns.get("principalKey") or columns.get("userIdentity_accessKeyId"):
            self.identity_counter.run(lambda conn: _identity_links(conn, event_id, details), tag=(event_id, details))

    def _identity_counted(self, message: QueryRunner.Done) -> None:
        event_id, details = message.tag
        if message.error is not None or event_id != self._selected_id:
            return
        totals, links = message.result
        self.identity.show(details, totals, links)
        self._links = links

    # ------------------------------------------------------------------ pivots

    def _selected_columns(self) -> dict | None:
        event_id = self.event_list.selected_event_id
        if event_id is None or self.conn is None:
            self.notify("No event selected.", severity="warning", markup=False)
            return None
        facts = event_facts(self.conn, event_id)
        return facts.columns if facts is not None else None

    def action_pivot(self, what: str) -> None:
        """``a``, ``S``, ``K``, ``i``: filter to the selected event's principal, session,
        access key or source IP."""
        columns = self._selected_columns()
        if columns is None:
            return
        pivot = identity_pivot(what, columns)
        if pivot.problem:
            self.notify(pivot.problem, severity="warning", markup=False)
            return
        self.apply_filter(pivot.text, pivot.crumb, keep=self.event_list.selected_event_id)
        self.event_list.focus()

    def action_chain(self, direction: str) -> None:
        """``u`` / ``d``: walk the selected event's credential chain."""
        columns = self._selected_columns()
        if columns is None:
            return
        pivot = chain_pivot(direction, columns, self._links)
        if pivot.problem:
            self.notify(pivot.problem, severity="warning", markup=False)
            return
        self.apply_filter(pivot.text, pivot.crumb)
        self.event_list.focus()

    # ------------------------------------------------------------------ panes

    def action_cycle_pane(self, step: int) -> None:
        """Tab / Shift+Tab: list → JSON detail → identity (one side pane at a time when stacked)."""
        panes: list[Widget] = [self.event_list, self.detail, self.identity]
        focused = self.focused
        current = panes.index(focused) if focused in panes else 0
        target = panes[(current + step) % len(panes)]
        self.set_class(target is self.identity, "-show-identity")
        # The pane shown by this Tab may need a layout pass before it can take the focus.
        self.call_after_refresh(target.focus)

    def _set_subtitle(self, pane: Widget, text: str) -> None:
        """A pane's border subtitle: ``text`` (escaped already), and how to leave while the pane
        is zoomed (the footer is hidden then). A Text: a str subtitle is read as markup."""
        self._subtitles[pane] = text
        hint = "z or Esc: back" if self.maximized is pane else ""
        pane.border_subtitle = Text(" · ".join(part for part in (text, hint) if part))

    def _zoom_changed(self, old: Widget | None, new: Widget | None) -> None:
        for pane in (old, new):
            if pane is not None:
                self._set_subtitle(pane, self._subtitles.get(pane, ""))

    def action_zoom(self) -> None:
        """``z``: the focused pane fills the screen (the list with its header); again: back."""
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if focused is None or focused.id == "filter-input":
            focused = self.event_list
        self.maximize(focused)

    def action_focus_timeline(self) -> None:
        """``t``: pick a bar of the timeline (shown even where it is folded away)."""
        timeline = self.timeline
        if timeline.histogram is None:
            self.notify("The timeline has nothing to show for this filter.", severity="warning", markup=False)
            return
        self.set_class(False, "-show-identity")
        self.add_class("-timeline-open")  # where the timeline is folded away (short terminals)
        self.set_focus(timeline)

    # ------------------------------------------------------------------ views

    def _crumbs(self) -> list[str]:
        return self.history.labels(self.compiled.text)

    # The views and dialogs below are imported when first opened: reopening an index must show its
    # first rows in under half a second, and each module costs a few milliseconds to import.

    def action_frequency(self, field_name: str = "") -> None:
        """``F``: the frequency table of ``field_name`` (default: the list's current column)."""
        from trailtui.tui.frequency import FrequencyScreen

        name = field_name or self.event_list.current
        if name == "eventTime":
            self.action_focus_timeline()
            return
        field = facet_field(name)
        if field is None:
            self.notify(f"No frequency table for {printable(name)}; press f in one to pick a field.",
                        severity="warning", markup=False)
            return
        self.app.push_screen(FrequencyScreen(self.db_path, self.compiled, self._crumbs(), field), self._drilled)

    def action_actors(self) -> None:
        """``A``: the actors view of the filter."""
        from trailtui.tui.actors import ActorsScreen

        self.app.push_screen(ActorsScreen(self.db_path, self.compiled, self._crumbs()), self._drilled)

    def _drilled(self, request: DrillRequest | None) -> None:
        if request is None:
            self.event_list.focus()
            return
        reopen = request.reopen

        def restore() -> None:
            if reopen is not None:
                self.app.push_screen(reopen(), self._drilled)

        after = and_text(self.compiled.text, request.term)
        if self.apply_filter(after, request.crumb, restore=restore):
            self._then_frequency = request.then_frequency  # opens once the filtered list is counted
        self.event_list.focus()

    def on_timeline_narrow(self, message: Timeline.Narrow) -> None:
        """Enter on a timeline bar: the filter's time range becomes that bar's."""
        message.stop()
        timeline, start = self.timeline, message.start

        def restore() -> None:
            timeline.select_time(start)
            self.set_focus(timeline)

        self.apply_filter(with_time_range(self.compiled.text, message.since, message.until),
                          f"time: {message.label}", restore=restore)
        self.event_list.focus()

    def action_show_load_errors(self) -> None:
        from trailtui.tui.load_errors_screen import LoadErrorsScreen

        if self.conn is not None:
            self.app.push_screen(LoadErrorsScreen(load_problems(self.conn), skipped_files(self.conn)))

    def action_export(self) -> None:
        """``Ctrl+S``: the export dialog for the filter shown, in the list's order."""
        from trailtui.tui.export_screen import ExportRequest, ExportScreen

        columns = tuple(self.event_list.columns) if self._custom_columns() else None
        self.app.push_screen(ExportScreen(ExportRequest(self.db_path, self.compiled, self.sort, columns, self.matches)))

    def _custom_columns(self) -> bool:
        return tuple(self.event_list.columns) != tuple(DEFAULT_LIST_COLUMNS)

    # ------------------------------------------------------------------ presets and columns

    def apply_preset(self, preset: Preset) -> None:
        """Put ``preset``'s filter in the filter bar (editable) and show its columns, if any.
        A preset that wants a time range (the S3 user guide's Athena examples) gets
        ``since:``/``until:`` prefilled with the index's span, the ``since:`` value selected so
        typing replaces it."""
        text = preset.filter
        span = ""
        if preset.time_range and self.conn is not None:
            first, last = time_span(self.conn)
            span = time_span_terms(first, last)
            if span:
                text = and_text(text, span)
        if preset.columns:
            if self._preset is None:
                self._columns_before_preset = list(self.event_list.columns)
            self._preset = preset
            self.event_list.set_columns(preset.columns)
        select = None
        if span:
            start = len(text) - len(span) + len("since:")  # the span is last
            select = (start, text.index(" until:", start))
        self.apply_filter(text, crumb("preset", preset.title), select=select)
        if span:
            self.set_focus(self.filter_bar.input)
            self._edit_start = self.compiled.text
            self.notify("Type the time range: since: and until: are prefilled with the index's span (UTC).",
                        markup=False)
        else:
            self.event_list.focus()

    def set_list_columns(self, names: tuple[str, ...] | list[str] | None) -> None:
        """Show the columns ``names`` (None: the default), saved in the config file."""
        self.event_list.set_columns(names or DEFAULT_LIST_COLUMNS, announce=True)
        self.run_count(keep=self._selected_id)

    @on(EventList.ColumnsChanged)
    def _columns_changed(self, message: EventList.ColumnsChanged) -> None:
        message.stop()
        event_list = self.event_list
        self.app.save_settings({"list.columns": list(event_list.order),
                                "list.hidden": [name for name in event_list.order if name in event_list.hidden],
                                "list.widths": dict(event_list.widths)})
        if any(name not in (event_list.event_query.columns if event_list.event_query else ()) for name in event_list.columns):
            self.run_count(keep=self._selected_id)

    @on(EventList.Request)
    def _list_request(self, message: EventList.Request) -> None:
        message.stop()
        if message.what == "sort":
            self._sort(message.descending)
        elif message.what == "pick":
            self._pick_columns()

    def _sort(self, descending: bool) -> None:
        """``[`` / ``]``: sort by the current column (by the index; see ``EventQuery``)."""
        column = self.event_list.current
        if column not in BY_NAME:
            return
        self.sort = SortOrder(column, descending)
        self.run_count()  # the top of the new order: what sorting is for

    def _pick_columns(self) -> None:
        event_list = self.event_list

        def chosen(names: list[str] | None) -> None:
            if names:
                self.set_list_columns(names)

        self.app.push_screen(ColumnPicker(event_list.columns, after=event_list.current), chosen)

    # ------------------------------------------------------------------ find, errors, go to time, marks

    def action_find(self) -> None:
        """``f``: find a term in the list (the filter stays)."""
        self.search.find()

    def action_find_next(self, forward: bool) -> None:
        """``n`` / ``N``: the next / previous match of the find term."""
        self.search.next_match(forward)

    def action_next_error(self, forward: bool) -> None:
        """``e`` / ``E``: the next / previous event with an errorCode."""
        self.search.next_error(forward)

    def action_goto_time(self) -> None:
        """``:``: the first event at or after a time."""
        self.search.goto_time()

    def action_toggle_mark(self) -> None:
        """``m``: mark or unmark the selected event."""
        self.marking.toggle()

    def action_edit_note(self) -> None:
        """``M``: write the selected event's note."""
        self.marking.edit_note()

    def action_show_marks(self) -> None:
        """``'``: the incident timeline."""
        self.marking.show_timeline()

    def action_show_detections(self, select: str | None = None) -> None:
        """``D``: the Detections view (the cursor on rule id ``select``); Enter there shows a
        rule's events."""
        from trailtui.tui.detections import DetectionsScreen

        self.app.push_screen(DetectionsScreen(self.db_path, select), self._detection_chosen)

    def _detection_chosen(self, detection) -> None:
        if detection is None:
            self.event_list.focus()
            return
        # The rule's filter replaces the filter, as a preset does; Esc brings the previous filter
        # back and reopens the view on this rule.
        self.apply_filter(detection.filter, crumb("detection", detection.title),
                          restore=lambda: self.action_show_detections(detection.id))
        self.event_list.focus()

def _identity_links(conn: sqlite3.Connection, event_id: int, details) -> tuple:
    """The principal's totals and the credential chain of one event (run in a worker)."""
    columns = details.columns
    principal = columns.get("principalKey")
    totals = actor_totals(conn, principal, by="principal") if principal else None
    issued = grant_by_event(conn, event_id)
    links = IdentityLinks(
        credential_chain(conn, columns.get("userIdentity_accessKeyId")),
        issued,
        0 if issued is not None or not principal else grants_made(conn, "principal", principal, limit=0)[0],
    )
    return totals, links

