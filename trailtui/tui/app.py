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

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from trailtui import __version__
from trailtui.core.extract import ANONYMOUS_PRINCIPAL
from trailtui.core.filter import CompiledFilter, FilterError, compile_filter
from trailtui.core.index import connect
from trailtui.core.loader import BackgroundLoader, LoadProgress
from trailtui.core.originals import OriginalUnavailable
from trailtui.core.query import (
    EventQuery,
    actor_totals,
    event_facts,
    index_counts,
    load_problems,
    original_event,
    total_events,
)
from trailtui.core.text import printable
from trailtui.tui.detail import EventDetail
from trailtui.tui.event_list import EventList
from trailtui.tui.identity import IdentityPane, identity_facts
from trailtui.tui.screens import HelpScreen, LoadErrorsScreen

#: Keystrokes typed faster than this (seconds) run one query, not one each.
FILTER_DEBOUNCE = 0.15
#: While the loader runs, the list's counts refresh at most this often (seconds).
LOADING_REFRESH = 1.0
#: Filters with more matches than this get their ids listed in order for deep scrolling.
MATERIALIZE_MATCHES = 2_000
#: Terminals narrower than this (columns) stack the panes.
NARROW_WIDTH = 120

_SAFE_VALUE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@+=-")


def filter_term(field: str, value: str) -> str:
    """A filter term ``field:value`` for ``value``, quoted when it holds spaces, commas or quotes."""
    if value and set(value) <= _SAFE_VALUE_CHARS:
        return f"{field}:{value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field}:"{escaped}"'


class TrailApp(App[int]):
    """Browse one trailtui index while a background loader fills it.

    ``db_path`` is the index file (created by the caller), ``paths`` the inputs the loader
    indexes (ignored when ``start_loader`` is False), ``initial_filter`` the filter text to start
    with.
    """

    TITLE = "trailtui"
    CSS_PATH = "app.tcss"

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="app.filter"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        Binding("tab", "cycle_pane(1)", "Next pane", show=False, id="app.next_pane", priority=True),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False, id="app.prev_pane", priority=True),
        Binding("s", "toggle_order", "Order", id="app.order"),
        Binding("a", "filter_identity('actor')", "Actor", id="app.filter_actor"),
        Binding("K", "filter_identity('akid')", "Key", id="app.filter_key"),
        Binding("i", "filter_identity('ip')", "IP", id="app.filter_ip"),
        Binding("exclamation_mark", "show_errors", "Errors", id="app.errors"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
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
            )
            yield Static("", id="filter-info")
        yield Static("", id="filter-error")
        with Horizontal(id="main"):
            with Vertical(id="list-pane"):
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
        query = EventQuery(self._conn, compiled, newest_first=newest_first)
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
        self.detail.border_subtitle = printable(origin)
        details = identity_facts(facts, original)
        self.identity.show(details, None)
        if columns.get("actorKey"):
            self._count_actor(event_id, columns["actorKey"], details)

    @work(thread=True, exclusive=True, group="actor", exit_on_error=False)
    def _count_actor(self, event_id: int, actor_key: str, details) -> None:
        conn = connect(self.db_path, readonly=True)
        try:
            totals = actor_totals(conn, actor_key)
        finally:
            conn.close()
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_actor_totals, event_id, details, totals)

    def _show_actor_totals(self, event_id: int, details, totals) -> None:
        if event_id == self._selected_id:
            self.identity.show(details, totals)

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
            if columns.get("userIdentity_accountId") == ANONYMOUS_PRINCIPAL:
                term = "is:anonymous"
            elif columns.get("userIdentity_arn"):
                term = filter_term("actor", columns["userIdentity_arn"])
            elif columns.get("actor"):
                term = filter_term("actor", columns["actor"])
        elif what == "akid" and columns.get("userIdentity_accessKeyId"):
            term = filter_term("akid", columns["userIdentity_accessKeyId"])
        elif what == "ip" and columns.get("sourceIPAddress"):
            term = filter_term("ip", columns["sourceIPAddress"])
        if term is None:
            names = {"actor": "actor", "akid": "accessKeyId", "ip": "sourceIPAddress"}
            self.notify(f"The selected event has no {names[what]}.", severity="warning")
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
