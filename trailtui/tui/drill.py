"""Drilling in and backing out, VisiData style: the path of filters a view narrowed, its
breadcrumbs, and the base of the table screens (frequency table, actors view).

A *drill* adds one term to the filter (``eventName:GetObject``) from a row of a view. The app
keeps the drills in a :class:`DrillPath`; Esc on the event list undoes the last one: the filter
goes back to what it was and the view the drill came from opens again. Once the filter is
edited by hand the path no longer describes it and is forgotten.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from trailtui.core.filter import CompiledFilter
from trailtui.core.index import connect
from trailtui.core.text import printable

#: Shown as the first breadcrumb when the drills started from an empty filter.
ALL_EVENTS = "all events"
#: Breadcrumb separator.
SEPARATOR = " › "
#: Longest breadcrumb, in characters (a value may be a 2 KB user agent).
CRUMB_WIDTH = 48


def crumb(label: str, value: str | None) -> str:
    """One breadcrumb: ``label: value``, the value escaped (:func:`printable`) and shortened to
    :data:`CRUMB_WIDTH`; None or ``""`` shows as ``(missing)``."""
    shown = printable(value) if value else "(missing)"
    if len(shown) > CRUMB_WIDTH:
        shown = shown[: CRUMB_WIDTH - 1] + "…"
    return f"{printable(label)}: {shown}"


@dataclass(frozen=True)
class DrillStep:
    """One drill: the filter text ``before`` and ``after`` it, its breadcrumb, and ``restore``,
    which reopens the view it was made from (called after the filter is back to ``before``)."""

    before: str
    after: str
    crumb: str
    restore: Callable[[], object] | None = None


class DrillPath:
    """The drills that led to the current filter, oldest first."""

    def __init__(self) -> None:
        self.steps: list[DrillStep] = []

    def __len__(self) -> int:
        return len(self.steps)

    def push(self, step: DrillStep) -> None:
        """Record a drill (the filter is now ``step.after``)."""
        self.steps.append(step)

    def pop(self) -> DrillStep | None:
        """Remove and return the last drill, or None when there is none."""
        return self.steps.pop() if self.steps else None

    def sync(self, text: str) -> None:
        """Forget the path when the filter is no longer the last drill's (edited by hand)."""
        if self.steps and self.steps[-1].after != text:
            self.steps.clear()

    def labels(self, text: str) -> list[str]:
        """The breadcrumbs for filter ``text``: where the drills started (the filter then, or
        :data:`ALL_EVENTS`), then one per drill."""
        base = self.steps[0].before if self.steps else text
        return [printable(base) if base.strip() else ALL_EVENTS, *(step.crumb for step in self.steps)]


def breadcrumbs(labels: list[str], current: str | None = None, *, width: int | None = None) -> Text:
    """``labels`` joined by :data:`SEPARATOR`, then ``current`` (what the view shows) in bold;
    the labels must already be escaped (see :func:`crumb`). Longer than ``width`` cells, the
    oldest crumbs give way to ``…``: the end of the path is what the user is looking at."""
    # No part starts with a space: SVG screenshots stretch each part over its cells.
    text = Text(no_wrap=True, overflow="ellipsis")
    last = len(labels) - 1
    parts = [(label, "bold" if current is None and index == last else "") for index, label in enumerate(labels)]
    if current is not None:
        parts.append((printable(current), "bold"))
    while width is not None and len(parts) > 1 and len(SEPARATOR.join(label for label, _ in parts)) > width:
        parts = [("…", "dim"), *parts[2:]] if parts[0][0] == "…" else [("…", "dim"), *parts[1:]]
    for index, (label, style) in enumerate(parts):
        text.append(label + (" " if index < len(parts) - 1 else ""), style)
        if index < len(parts) - 1:
            text.append(SEPARATOR.lstrip(), "dim")
    return text


@dataclass(frozen=True)
class DrillRequest:
    """What a table screen asks the app when the user drills into a row: add ``term`` to the
    filter, remember ``crumb``, and on Esc reopen the screen ``reopen()`` builds. ``then``, if
    given, runs once the filtered list is shown (the actors view opens a frequency table)."""

    term: str
    crumb: str
    reopen: Callable[[], ModalScreen] | None = None
    then: Callable[[], object] | None = None


class SheetTable(DataTable):
    """A DataTable with the list's vertical keys (``j``/``k``, ``g``/``G``)."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "First", show=False),
        Binding("G", "scroll_bottom", "Last", show=False),
    ]


class SheetScreen(ModalScreen["DrillRequest | None"]):
    """Base of the full-screen tables over the current filter (frequency table, actors view).

    It shows the breadcrumbs, an info line and a :class:`SheetTable`; subclasses fill the table
    from a query run in a thread worker (:meth:`load`) with its own connection, interrupted when
    a newer one starts or the screen closes. Esc or ``q`` dismisses it with None; a subclass
    dismisses with a :class:`DrillRequest` to drill.
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="sheet.back"),
        Binding("slash", "edit_filter", "Filter", id="sheet.filter"),
        Binding("question_mark,f1", "app.help", "Help", id="sheet.help"),
    ]

    DEFAULT_CSS = """
    SheetScreen { background: $background; }
    SheetScreen > #sheet { height: 1fr; border: round $accent; border-title-color: $text; }
    SheetScreen #sheet-crumbs { height: 1; padding: 0 1; background: $panel; }
    SheetScreen #sheet-info { height: 1; padding: 0 1; color: $text-muted; }
    SheetScreen SheetTable { height: 1fr; }
    """

    def __init__(self, db_path: Path, compiled: CompiledFilter, crumbs: list[str]) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.compiled = compiled
        self.crumbs = list(crumbs)
        self._conn: sqlite3.Connection | None = None
        self._generation = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="sheet"):
            yield Static("", id="sheet-crumbs")
            yield Static("", id="sheet-info")
            yield SheetTable(id="sheet-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    @property
    def table(self) -> SheetTable:
        return self.query_one(SheetTable)

    def on_mount(self) -> None:
        self.table.focus()

    def on_unmount(self) -> None:
        self._interrupt()

    def show_crumbs(self, current: str) -> None:
        """Show the breadcrumbs ending with ``current`` (what this screen counts)."""
        line = self.query_one("#sheet-crumbs", Static)
        line.update(breadcrumbs(self.crumbs, current, width=max(20, (line.size.width or self.size.width) - 4)))

    def show_info(self, text: Text | str) -> None:
        """Replace the info line under the breadcrumbs."""
        self.query_one("#sheet-info", Static).update(text if isinstance(text, Text) else Text(text))

    # ------------------------------------------------------------------ queries

    def load(self, compute: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``compute(connection)`` in a worker, then :meth:`loaded` with its result and the
        time it took (ms). A previous load still running is interrupted inside SQLite."""
        self._interrupt()
        self._generation += 1
        self.show_info(Text("counting…", "italic"))
        self._run(self._generation, compute)

    def _interrupt(self) -> None:
        running = self._conn
        if running is not None:
            running.interrupt()

    @work(thread=True, exclusive=True, group="sheet", exit_on_error=False)
    def _run(self, generation: int, compute: Callable[[sqlite3.Connection], object]) -> None:
        started = time.perf_counter()
        conn = connect(self.db_path, readonly=True)
        self._conn = conn
        try:
            result = compute(conn)
        except sqlite3.OperationalError as err:
            if "interrupt" not in str(err) and not get_current_worker().is_cancelled:
                self.app.call_from_thread(self.show_info, Text(f"Query failed: {err}", "bold red"))
            return
        finally:
            if self._conn is conn:
                self._conn = None
            conn.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._deliver, generation, result, elapsed_ms)

    def _deliver(self, generation: int, result: object, elapsed_ms: float) -> None:
        if generation == self._generation and self.is_attached:
            self.loaded(result, elapsed_ms)

    def loaded(self, result: object, elapsed_ms: float) -> None:
        """Show a finished query's ``result`` (subclasses)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ actions

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit_filter(self) -> None:
        """Back to the list with the filter bar focused."""
        app = self.app
        self.dismiss(None)
        focus_filter = getattr(app, "action_focus_filter", None)
        if focus_filter is not None:
            app.call_after_refresh(focus_filter)


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of ``width`` cells filled to ``fraction`` (0..1) with eighth blocks;
    anything above zero shows at least one eighth."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    return "█" * full + ("" if part == 0 else " ▏▎▍▌▋▊▉"[part])
