"""The trailtui Textual app: filter bar, event list, JSON detail, identity drill-down, status.

The app is a reader of the index. A :class:`~trailtui.core.loader.BackgroundLoader` process
writes it; a thread worker relays the loader's progress. Filters run in an exclusive thread
worker with their own connection, so a newer keystroke supersedes an older query and the
keyboard never waits on SQLite.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from rich.highlighter import Highlighter
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.widgets.input import Selection
from textual.worker import get_current_worker

from trailtui import __version__
from trailtui.core.extract import ANONYMOUS_PRINCIPAL
from trailtui.core.facets import term as facet_term
from trailtui.core.filter import CompiledFilter, FilterError, compile_filter
from trailtui.core.index import connect
from trailtui.core.loader import BackgroundLoader, LoadProgress
from trailtui.core.originals import OriginalUnavailable
from trailtui.core.query import (
    EventQuery,
    actor_totals,
    credential_chain,
    grant_by_event,
    grants_made,
    event_facts,
    index_counts,
    load_problems,
    original_event,
    total_events,
)
from trailtui.core.presets import Preset, time_span_terms
from trailtui.core.text import printable, visible_controls
from trailtui.tui.clipboard import copy_text
from trailtui.tui.commands import TrailCommands
from trailtui.tui.detail import EventDetail
from trailtui.tui.drill import DrillPath
from trailtui.tui.event_list import EventList, list_columns
from trailtui.tui.export_screen import ExportRequest, ExportScreen
from trailtui.tui.identity import IdentityLinks, IdentityPane, identity_facts
from trailtui.tui.screens import HelpScreen, LoadErrorsScreen
from trailtui.tui.timeline import Timeline
from trailtui.tui.views import ViewsMixin

#: Keystrokes typed faster than this (seconds) run one query, not one each.
FILTER_DEBOUNCE = 0.15
#: While the loader runs, the list's counts refresh at most this often (seconds).
LOADING_REFRESH = 1.0
#: Filters with more matches than this get their ids listed in order for deep scrolling.
MATERIALIZE_MATCHES = 2_000
#: Terminals narrower than this (columns) stack the panes.
NARROW_WIDTH = 120


class ControlPictures(Highlighter):
    """Shows control characters and bidi marks in an Input as one visible character each (the
    value keeps them): a value pasted from a log must not reach the terminal raw."""

    def highlight(self, text: Text) -> None:
        text.plain = visible_controls(text.plain)


def filter_term(field: str, value: str) -> str:
    """A filter term ``field:value`` for ``value``, quoted when it holds spaces, commas, quotes or
    stars (see :func:`trailtui.core.facets.quote_value`)."""
    return facet_term(field, value)


class TrailApp(ViewsMixin, App[int]):
    """Browse one trailtui index while a background loader fills it.

    ``db_path`` is the index file (created by the caller), ``paths`` the inputs the loader
    indexes (ignored when ``start_loader`` is False), ``initial_filter`` the filter text to start
    with.
    """

    TITLE = "trailtui"
    CSS_PATH = "app.tcss"
    #: Ctrl+P: Textual's own commands plus presets, export and columns (tui/commands.py).
    COMMANDS = App.COMMANDS | {TrailCommands}

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="app.filter"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        Binding("tab", "cycle_pane(1)", "Next pane", show=False, id="app.next_pane", priority=True),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False, id="app.prev_pane", priority=True),
        Binding("s", "toggle_order", "Order", id="app.order"),
        Binding("a", "filter_identity('actor')", "Principal", id="app.filter_actor"),
        Binding("S", "filter_identity('session')", "Session", show=False, id="app.filter_session"),
        Binding("K", "filter_identity('akid')", "Key", id="app.filter_key"),
        Binding("u", "chain('up')", "Chain up", show=False, id="app.chain_up"),
        Binding("d", "chain('down')", "Chain down", show=False, id="app.chain_down"),
        Binding("i", "filter_identity('ip')", "IP", id="app.filter_ip"),
        Binding("F", "frequency", "Frequency", id="app.frequency"),
        Binding("A", "actors", "Actors", id="app.actors"),
        Binding("t", "focus_timeline", "Timeline", show=False, id="app.timeline"),
        Binding("exclamation_mark", "show_errors", "Errors", id="app.errors"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("ctrl+s", "export", "Export", id="app.export"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        *,
        db_path: Path,
        paths: list[str] | None = None,
        initial_filter: str = "",
        start_loader: bool = True,
    ) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.paths = list(paths or [])
        self.initial_filter = initial_filter
        self.start_loader = start_loader and bool(self.paths)
        self.newest_first = True
        self.loader: BackgroundLoader | None = None
        self.loading = False
        self._conn: sqlite3.Connection | None = None
        self._query_conn: sqlite3.Connection | None = None  # the filter worker's, while it runs
        self._compiled: CompiledFilter = compile_filter("")
        self._filter_timer: Timer | None = None
        self._select_timer: Timer | None = None
        self._last_refresh = 0.0
        self._total = 0
        self._matches = 0
        self._query_ms = 0.0
        self._progress: LoadProgress | None = None
        self._load_note = ""
        self._selected_id: int | None = None
        self._pending_pane = None
        self.drill_path = DrillPath()  # the drills from the frequency, actors and timeline views
        self._preset: Preset | None = None  # the preset whose columns the list shows, if any
        self._pinned_columns: tuple[str, ...] | None = None  # columns chosen in the palette

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-bar"):
            yield Static("/", id="filter-prompt")
            yield Input(
                value=self.initial_filter,
                placeholder="filter: name:GetObject is:anonymous  actor:*alice*  ip:203.0.113.0/24  (? for help)",
                id="filter",
                # / goes back to the filter to refine it: keep the text, cursor at the end
                # (Ctrl+U clears it).
                select_on_focus=False,
                highlighter=ControlPictures(),
            )
            yield Static("", id="filter-info")
        yield Static("", id="filter-error")
        yield Static("", id="breadcrumbs")
        with Horizontal(id="main"):
            with Vertical(id="list-pane"):
                yield Timeline(self.db_path, id="timeline")
                yield Static("", id="list-header")
                yield EventList(id="events")
            with Vertical(id="side"):
                detail = EventDetail("event", id="detail")
                detail.border_title = "JSON detail"
                yield detail
                identity = IdentityPane(id="identity")
                identity.border_title = "Identity"
                yield identity
        yield Static("", id="status")
        yield Footer()

    @property
    def event_list(self) -> EventList:
        return self.query_one("#events", EventList)

    @property
    def detail(self) -> EventDetail:
        return self.query_one("#detail", EventDetail)

    @property
    def identity(self) -> IdentityPane:
        return self.query_one("#identity", IdentityPane)

    def on_mount(self) -> None:
        self.sub_title = printable(", ".join(self.paths)) if self.paths else printable(str(self.db_path))
        self._conn = connect(self.db_path, readonly=True)
        self._apply_layout_class(self.size.width)
        self.event_list.focus()
        self._start_filter(self.initial_filter, keep_cursor=False)
        if self.start_loader:
            self.loader = BackgroundLoader(self.db_path, self.paths)
            self.loader.start()
            self.loading = True
            self._watch_loader()
        else:
            self._load_note = self._index_summary()
        self._update_status()

    def _fatal_error(self) -> None:
        """Textual's crash report, without the local variables it shows by default: they would
        hold event values (attacker text, and the user's logs) in a traceback users paste into
        bug reports. Overrides a private Textual method (8.2.8); the rest is Textual's."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    def on_unmount(self) -> None:
        if self.loader is not None:
            self.loader.stop()

    def on_resize(self, event) -> None:
        self._apply_layout_class(event.size.width)

    def _apply_layout_class(self, width: int) -> None:
        self.screen.set_class(width < NARROW_WIDTH, "-narrow")

    @on(EventList.LayoutChanged)
    def _redraw_header(self) -> None:
        self.query_one("#list-header", Static).update(self.event_list.header_text())

    # ------------------------------------------------------------------ filtering

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        text = event.value
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE, lambda: self._start_filter(text, keep_cursor=False))

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.event_list.focus()

    def _start_filter(self, text: str, *, keep_cursor: bool) -> None:
        """Compile ``text``; on success query in a worker, on error show why (results stay)."""
        error_bar = self.query_one("#filter-error", Static)
        try:
            compiled = compile_filter(text)
        except FilterError as err:
            message = Text(f"✗ {err}   ", style="bold")
            message.append(printable(text[: err.position]))
            message.append("▸", "reverse")
            message.append(printable(text[err.position :]))
            error_bar.update(message)
            error_bar.add_class("-visible")
            return
        error_bar.remove_class("-visible")
        self._compiled = compiled
        if self._preset is not None and self._preset.filter not in text:
            self._preset = None  # the preset's filter was edited away: so are its columns
            self.event_list.set_columns(list_columns(self._pinned_columns) if self._pinned_columns else None)
        self._run_query(compiled, self.newest_first, keep_cursor)

    def _run_query(self, compiled: CompiledFilter, newest_first: bool, keep_cursor: bool) -> None:
        """Count ``compiled``'s matches in a worker; a query still running for an older
        keystroke is interrupted inside SQLite, not just ignored."""
        running = self._query_conn
        if running is not None:
            running.interrupt()
        self._count_matches(compiled, newest_first, keep_cursor)

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def _count_matches(self, compiled: CompiledFilter, newest_first: bool, keep_cursor: bool) -> None:
        worker = get_current_worker()
        started = time.perf_counter()
        conn = connect(self.db_path, readonly=True)
        self._query_conn = conn
        try:
            query = EventQuery(conn, compiled, newest_first=newest_first)
            matches = query.count()
            if compiled.where == "1":
                total = matches
            elif self.loading or not self._total:
                total = total_events(conn)
            else:
                total = self._total  # unchanged since the loader finished; counting costs ~15 ms at 1M
        except sqlite3.OperationalError as err:
            if "interrupt" not in str(err):  # else a newer filter interrupted this one
                self.call_from_thread(self.notify, f"Query failed: {err}", severity="error", markup=False)
            return
        finally:
            if self._query_conn is conn:
                self._query_conn = None
            conn.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if not worker.is_cancelled:
            self.call_from_thread(self._show_results, compiled, newest_first, matches, total, elapsed_ms, keep_cursor)

    def _show_results(
        self, compiled: CompiledFilter, newest_first: bool, matches: int, total: int, elapsed_ms: float, keep_cursor: bool
    ) -> None:
        if compiled is not self._compiled or newest_first != self.newest_first:
            return  # a newer filter or order superseded this result
        self._matches, self._total, self._query_ms = matches, total, elapsed_ms
        assert self._conn is not None
        query = EventQuery(self._conn, compiled, newest_first=newest_first, columns=self.event_list.column_names)
        dense = EventQuery.is_dense(matches, total)
        self.event_list.set_query(query, matches, keep_cursor=keep_cursor, dense=dense)
        # Not while loading: the list is refreshed every second then, and would list ids each time.
        if compiled.where != "1" and matches > MATERIALIZE_MATCHES and not self.loading:
            self._materialize(query)
        order = "newest first" if newest_first else "oldest first"
        pane = self.query_one("#list-pane")
        pane.border_title = f"Events {matches:,} / {total:,}"
        pane.border_subtitle = order
        self.query_one("#filter-info", Static).update(f"{matches:,} / {total:,} · {elapsed_ms:,.0f} ms")
        if matches == 0:
            self._show_event(None)
        self.views_results_shown(compiled, loading=self.loading)

    @work(thread=True, exclusive=True, group="materialize", exit_on_error=False)
    def _materialize(self, shown: EventQuery) -> None:
        """List the matches' ids in order once, so scrolling deep into a filter the index cannot
        order does not sort every match again for each page."""
        conn = connect(self.db_path, readonly=True)
        try:
            ids = EventQuery(conn, shown.compiled, newest_first=shown.newest_first).ordered_ids()
        except sqlite3.OperationalError:
            return
        finally:
            conn.close()
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self.event_list.use_ids, shown, ids)

    def action_focus_filter(self) -> None:
        # Focus now, not after a refresh (Widget.focus): keys typed right behind the / must
        # reach the filter bar, not the list's bindings (a would filter to the actor).
        self.set_focus(self.query_one("#filter", Input))

    def action_back(self) -> None:
        if self.focused is self.event_list and self.drill_back():
            return  # Esc on the list undoes the last drill (frequency, actors, timeline)
        self.screen.remove_class("-identity")
        self.event_list.focus()

    def action_toggle_order(self) -> None:
        self.newest_first = not self.newest_first
        self._run_query(self._compiled, self.newest_first, False)

    def set_filter(self, text: str) -> None:
        """Replace the filter bar's text and run it now (used by the identity keys)."""
        filter_input = self.query_one("#filter", Input)
        with filter_input.prevent(Input.Changed):
            filter_input.value = text
        filter_input.cursor_position = len(text)
        self._start_filter(text, keep_cursor=False)

    # ------------------------------------------------------------------ selection

    @on(EventList.Highlighted)
    def _highlighted(self, message: EventList.Highlighted) -> None:
        # Holding j should not parse every event it passes: show the one the cursor rests on.
        if self._select_timer is not None:
            self._select_timer.stop()
        event_id = message.event_id
        self._select_timer = self.set_timer(0.05, lambda: self._show_event(event_id))

    @on(EventList.Activated)
    def _activated(self, message: EventList.Activated) -> None:
        self._show_event(message.event_id)
        self.screen.remove_class("-identity")
        self.detail.focus()

    def _show_event(self, event_id: int | None) -> None:
        assert self._conn is not None
        self._selected_id = event_id
        self._identity_links = None  # the previous event's chain must not be walked
        if event_id is None:
            self.detail.show_event(None)
            self.identity.show(None, None)
            return
        try:
            original = original_event(self._conn, event_id)
        except OriginalUnavailable as err:
            original = None
            self.notify(f"Cannot show the event's JSON: {err}", severity="warning", markup=False)
        facts = event_facts(self._conn, event_id)
        if facts is None:
            return
        columns = facts.columns
        title = " · ".join(
            printable(part) for part in (columns.get("eventName"), columns.get("eventTime")) if part
        )
        self.detail.show_event(original, title=title or "event")
        origin = f"{Path(facts.path).name}, record {facts.record_index}" if facts.path else ""
        # Text, not str: Textual reads a str title as markup, and a file name may hold "[...]".
        self.detail.border_subtitle = Text(printable(origin))
        details = identity_facts(facts, original)
        self.identity.show(details, None)
        if columns.get("principalKey") or columns.get("userIdentity_accessKeyId"):
            self._count_actor(event_id, details)

    @work(thread=True, exclusive=True, group="actor", exit_on_error=False)
    def _count_actor(self, event_id: int, details) -> None:
        """The principal's totals and the credential chain of the selected event."""
        columns = details.columns
        conn = connect(self.db_path, readonly=True)
        try:
            principal = columns.get("principalKey")
            totals = actor_totals(conn, principal, by="principal") if principal else None
            issued = grant_by_event(conn, event_id)
            links = IdentityLinks(
                credential_chain(conn, columns.get("userIdentity_accessKeyId")),
                issued,
                0 if issued is not None or not principal else grants_made(conn, "principal", principal, limit=0)[0],
            )
        finally:
            conn.close()
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_actor_totals, event_id, details, totals, links)

    def _show_actor_totals(self, event_id: int, details, totals, links=None) -> None:
        if event_id == self._selected_id:
            self.identity.show(details, totals, links)
            self._identity_links = links

    def action_filter_identity(self, what: str) -> None:
        event_id = self.event_list.selected_event_id
        if event_id is None or self._conn is None:
            self.notify("No event selected.", severity="warning")
            return
        facts = event_facts(self._conn, event_id)
        if facts is None:
            return
        columns = facts.columns
        term = None
        if what == "actor":
            if columns.get("principalKey") == ANONYMOUS_PRINCIPAL:
                term = "is:anonymous"
            elif columns.get("principalKey"):
                term = filter_term("principal", columns["principalKey"])
            elif columns.get("actor"):
                term = filter_term("actor", columns["actor"])
        elif what == "session" and columns.get("sessionKey"):
            term = filter_term("session", columns["sessionKey"])
        elif what == "akid" and columns.get("userIdentity_accessKeyId"):
            term = filter_term("akid", columns["userIdentity_accessKeyId"])
        elif what == "ip" and columns.get("sourceIPAddress"):
            term = filter_term("ip", columns["sourceIPAddress"])
        if term is None:
            names = {"actor": "principal", "session": "session", "akid": "accessKeyId", "ip": "sourceIPAddress"}
            self.notify(f"The selected event has no {names[what]}.", severity="warning")
            return
        self.set_filter(term)
        self.event_list.focus()

    def action_chain(self, direction: str) -> None:
        """Walk the selected event's credential chain: ``up`` to the event that issued its access
        key, ``down`` to the events signed with the key it issued (or, on any other event, to the
        key-issuing events of its principal)."""
        links = getattr(self, "_identity_links", None)
        event_id = self.event_list.selected_event_id
        if event_id is None or self._conn is None:
            self.notify("Select an event first (its identity pane shows the chain).", severity="warning")
            return
        if links is None:
            self.notify("Still following this event's keys; try again in a moment.", severity="information")
            return
        facts = event_facts(self._conn, event_id)
        if facts is None:
            return
        if direction == "up":
            if not links.chain:
                self.notify("No event in these logs issued this event's access key.", severity="warning")
                return
            term = filter_term("issued", links.chain[0].access_key_id)
        elif links.issued is not None:
            term = filter_term("akid", links.issued.access_key_id)
        elif links.grants_total and facts.columns.get("principalKey"):
            term = filter_term("principal", facts.columns["principalKey"]) + " issued:*"
        else:
            self.notify("This event handed out no access key, and its principal none either.", severity="warning")
            return
        self.set_filter(term)
        self.event_list.focus()

    # ------------------------------------------------------------------ panes

    def action_cycle_pane(self, step: int) -> None:
        panes = [self.event_list, self.detail, self.identity]
        # A pane shown by the previous Tab may not hold focus yet (it needed a refresh first).
        focused = self._pending_pane or self.focused
        current = panes.index(focused) if focused in panes else 0
        target = panes[(current + step) % len(panes)]
        self.screen.set_class(target is self.identity, "-identity")
        self._pending_pane = target

        def focus_target() -> None:
            target.focus()
            if self._pending_pane is target:
                self._pending_pane = None

        self.call_after_refresh(focus_target)

    # ------------------------------------------------------------------ presets, columns, export, copy

    def apply_preset(self, preset: Preset) -> None:
        """Put ``preset``'s filter in the filter bar (editable) and show its columns, if any.

        A preset that wants a time range (the S3 user guide's Athena examples) gets
        ``since:``/``until:`` terms prefilled with the index's time span, and the filter bar is
        focused with the ``since:`` value selected, so typing replaces it.
        """
        text = preset.filter
        span = ""
        if preset.time_range and self._conn is not None:
            first, last = self._conn.execute('SELECT min("eventTime"), max("eventTime") FROM events').fetchone()
            span = time_span_terms(first, last)
            if span:
                text = f"{text} {span}"
        self._preset = preset
        pinned = list_columns(self._pinned_columns) if self._pinned_columns else None
        self.event_list.set_columns(list_columns(preset.columns) if preset.columns else pinned)
        self.set_filter(text)
        if span:
            filter_input = self.query_one("#filter", Input)
            self.set_focus(filter_input)
            start = len(preset.filter) + len(" since:")
            filter_input.selection = Selection(start, text.index(" until:", start))
            self.notify(
                "Type the time range: since: and until: are prefilled with the index's span (UTC).",
                markup=False,
            )
        else:
            self.event_list.focus()

    def set_list_columns(self, names: tuple[str, ...] | None) -> None:
        """Show the columns ``names`` in the event list (None: the default), until changed
        again; a preset chosen later shows its own columns while its filter is in the bar."""
        self._pinned_columns = tuple(names) if names else None
        self._preset = None
        if self.event_list.set_columns(list_columns(names) if names else None):
            self._run_query(self._compiled, self.newest_first, True)

    def export_columns(self) -> tuple[str, ...] | None:
        """The CSV columns of an export: the list's when a preset or the palette chose them,
        else None (``export.OUTPUT_COLUMNS``)."""
        if (self._preset is not None and self._preset.columns) or self._pinned_columns:
            return self.event_list.column_names
        return None

    def action_export(self) -> None:
        """Ctrl+S: the export dialog for the filter shown (see ``tui/export_screen.py``)."""
        if isinstance(self.screen, ExportScreen):
            return
        request = ExportRequest(self.db_path, self._compiled, self.newest_first, self.export_columns(), self._matches)
        self.push_screen(ExportScreen(request))

    def copy_to_clipboard(self, text: str) -> None:
        """Copy through :mod:`trailtui.tui.clipboard`: OSC 52 wrapped for tmux / GNU screen,
        refused with a notice over its size cap."""
        result = copy_text(self, text)
        if not result.copied:
            self.notify(result.message, severity="warning", markup=False)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_show_errors(self) -> None:
        if self._conn is not None:
            self.push_screen(LoadErrorsScreen(load_problems(self._conn)))

    # ------------------------------------------------------------------ loader

    @work(thread=True, group="loader", exit_on_error=False)
    def _watch_loader(self) -> None:
        worker = get_current_worker()
        assert self.loader is not None
        while not worker.is_cancelled:
            message = self.loader.next_message(timeout=0.5)
            if message is None:
                continue
            kind, payload = message
            self.call_from_thread(self._on_loader_message, kind, payload)
            if kind in ("done", "error"):
                return

    def _on_loader_message(self, kind: str, payload) -> None:
        if kind == "progress":
            self._progress = LoadProgress(**payload)
            now = time.monotonic()
            if now - self._last_refresh >= LOADING_REFRESH:
                self._last_refresh = now
                self._run_query(self._compiled, self.newest_first, True)
        elif kind == "done":
            self.loading = False
            fields = {name: payload[name] for name in LoadProgress.__dataclass_fields__}
            self._progress = LoadProgress(**fields)
            failures = len(payload.get("failures", ())) + len(payload.get("record_problems", ()))
            for notice in payload.get("notices", ()):
                self.notify(printable(notice), timeout=8)
            if failures:
                self.notify(f"{failures} load problems — press ! to list them.", severity="warning", timeout=8)
            self._load_note = self._index_summary()
            self._run_query(self._compiled, self.newest_first, True)
        elif kind == "error":
            self.loading = False
            self.notify(f"Indexing stopped: {printable(payload)}", severity="error", timeout=15)
        self._update_status()

    def _index_summary(self) -> str:
        assert self._conn is not None
        counts = index_counts(self._conn)
        files = sum(counts.files.values())
        failed = counts.files.get("failed", 0)
        skipped = counts.files.get("skipped", 0)
        text = f"{counts.events:,} events · {files:,} files"
        if skipped:
            text += f" · {skipped:,} skipped"
        if counts.load_errors:
            text += f" · {counts.load_errors:,} load errors (! to list)"
        elif failed:
            text += f" · {failed:,} failed"
        return text

    def _update_status(self) -> None:
        status = self.query_one("#status", Static)
        progress = self._progress
        if self.loading and progress is not None and progress.phase == "building indexes":
            text = f"{progress.events_added:,} events read · building the filter indexes…"
        elif self.loading and progress is not None:
            remaining = ""
            if progress.files_done and progress.files_total > progress.files_done and progress.elapsed > 0:
                per_file = progress.elapsed / progress.files_done
                remaining = f" · ~{per_file * (progress.files_total - progress.files_done):,.0f} s left"
            text = (
                f"indexing {progress.files_done:,}/{progress.files_total:,} files · "
                f"{progress.events_added:,} events · {progress.rate:,.0f}/s{remaining}"
            )
            if progress.problems:
                text += f" · {progress.problems:,} errors (! to list)"
        elif self.loading:
            text = "indexing: finding files…"
        else:
            text = self._load_note
        status.update(Text(text + f"   trailtui {__version__}"))
