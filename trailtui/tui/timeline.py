"""The timeline: a histogram of the matching events over time, above the event list.

One bar per time bucket (the size chosen from the span and the width: minutes to a year, see
:func:`trailtui.core.facets.choose_buckets`), drawn with eighth blocks over one or two rows,
and an axis line in UTC. ``t`` focuses it; ``←``/``→`` (``h``/``l``) move the selected bar and
Enter narrows the filter to that bar with ``since:``/``until:`` (:class:`Timeline.Narrow`).

The counts are one query run by a :class:`~trailtui.tui.query_worker.QueryRunner`, restarted
(and the old one interrupted inside SQLite) when the filter changes; a count that takes longer than :data:`TIMELINE_BUDGET` is
abandoned and the timeline says so, so the list never waits for it.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from trailtui.core.facets import TimeHistogram, time_histogram
from trailtui.core.filter import CompiledFilter
from trailtui.core.text import plural
from trailtui.tui.keys import bindings
from trailtui.tui.query_worker import QueryRunner

#: Seconds a timeline count may take before it is abandoned ("skipped").
TIMELINE_BUDGET = 2.0
#: While the loader runs, the same filter's timeline is recounted at most this often (seconds).
THROTTLE_SECONDS = 5.0

_EIGHTHS = " ▁▂▃▄▅▆▇█"


def size_label(seconds: int) -> str:
    """A bucket size in words: ``5 min``, ``2 h``, ``1 day``, ``2 weeks``."""
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    if seconds % (7 * 86400) == 0:
        weeks = seconds // (7 * 86400)
        return f"{weeks} week{'s' if weeks > 1 else ''}"
    days = seconds // 86400
    return f"{days} day{'s' if days > 1 else ''}"


def _utc(seconds: int, fmt: str) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime(fmt)


def bucket_label(histogram: TimeHistogram, index: int) -> str:
    """The span of bucket ``index`` in UTC: ``2021-07-29 14:00–16:00`` within a day (``22:00–24:00``
    up to midnight),
    ``2021-07-29`` for a day, ``2021-07-26 – 2021-08-01`` (last day included) for longer."""
    start = histogram.bucket_start(index)
    end = start + histogram.bucket_seconds
    if histogram.bucket_seconds < 86400:
        same_day = _utc(start, "%Y-%m-%d") == _utc(end - 1, "%Y-%m-%d")
        end_text = _utc(end, "%H:%M") if same_day else _utc(end, "%Y-%m-%d %H:%M")
        if same_day and end % 86400 == 0:
            end_text = "24:00"  # the end of that day
        return f"{_utc(start, '%Y-%m-%d %H:%M')}–{end_text}"
    if histogram.bucket_seconds == 86400:
        return _utc(start, "%Y-%m-%d")
    return f"{_utc(start, '%Y-%m-%d')} – {_utc(end - 86400, '%Y-%m-%d')}"


def count_over_time(conn: sqlite3.Connection, compiled: CompiledFilter, max_buckets: int) -> tuple[TimeHistogram | None, str]:
    """The histogram of ``compiled``'s matches (at most ``max_buckets`` bars) and the timeline's
    state: ``"ready"``, ``"empty"`` (no match has a time) or ``"skipped"`` (counting took over
    :data:`TIMELINE_BUDGET` seconds, or an ``eventTime`` is not a time). Raises
    ``sqlite3.OperationalError`` when interrupted by a newer count."""
    deadline = time.perf_counter() + TIMELINE_BUDGET
    expired = False

    def over_budget() -> int:
        nonlocal expired
        expired = time.perf_counter() > deadline
        return 1 if expired else 0

    conn.set_progress_handler(over_budget, 10_000)
    try:
        histogram = time_histogram(conn, compiled, max_buckets)
    except sqlite3.OperationalError:
        if expired:
            return None, "skipped"
        raise
    except ValueError:  # an eventTime that is not a time (an index from before times were validated)
        return None, "skipped"
    finally:
        conn.set_progress_handler(None, 0)
    return histogram, ("ready" if histogram is not None else "empty")


class Timeline(Widget, can_focus=True):
    """The matching events per time bucket (see the module docstring).

    Posts :class:`Timeline.Narrow` on Enter (or a double click) on a bar.
    """

    COMPONENT_CLASSES = {"timeline--bar", "timeline--selected", "timeline--axis", "timeline--note"}

    BINDINGS = bindings("timeline")

    class Narrow(Message):
        """Enter on a bar: keep the events from ``since`` to ``until`` (UTC
        ``YYYY-MM-DDTHH:MM:SSZ``, until excluded). ``label`` names the bucket for breadcrumbs,
        ``start`` is its start (seconds since the epoch, for :meth:`Timeline.select_time`)."""

        def __init__(self, since: str, until: str, label: str, start: int) -> None:
            super().__init__()
            self.since = since
            self.until = until
            self.label = label
            self.start = start

    def __init__(self, db_path: Path, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.db_path = Path(db_path)
        self.histogram: TimeHistogram | None = None
        #: "idle", "counting", "ready", "empty" (no match has a time) or "skipped" (too slow).
        self.state = "idle"
        self.selected = 0
        self._compiled: CompiledFilter | None = None
        self._counted_at = 0.0
        self._counted_width = 0
        self.runner = QueryRunner(self, self.db_path, "timeline")
        #: True while the loader adds events (counts are throttled, and may be empty for now).
        self.indexing = False
        self._pending_time: int | None = None
        self._resize_timer: Timer | None = None

    # ------------------------------------------------------------------ data

    def show_filter(self, compiled: CompiledFilter, *, throttle: bool = False) -> None:
        """Count ``compiled``'s matches over time (in a worker). With ``throttle`` (the loader is
        adding events), the same filter is recounted at most every :data:`THROTTLE_SECONDS`."""
        previous = self._compiled
        same = previous is not None and (compiled.where, compiled.params) == (previous.where, previous.params)
        self.indexing = throttle
        if throttle and same and time.monotonic() - self._counted_at < THROTTLE_SECONDS:
            return
        self._compiled = compiled
        self._start()

    def select_time(self, moment: int) -> None:
        """Select the bar holding ``moment`` (seconds since the epoch), now or once counted."""
        self._pending_time = moment
        if self.histogram is not None and self.state == "ready":
            self._apply_pending()

    def _max_buckets(self) -> int:
        return max(10, self.size.width)

    def _start(self) -> None:
        if self._compiled is None:
            return
        self._counted_at = time.monotonic()
        self._counted_width = self._max_buckets()
        if self.state != "ready":
            self.state = "counting"
        self.refresh()
        compiled, max_buckets = self._compiled, self._counted_width
        self.runner.run(lambda conn: count_over_time(conn, compiled, max_buckets))

    @on(QueryRunner.Done)
    def _done(self, message: QueryRunner.Done) -> None:
        message.stop()
        if not message.current:
            return
        if message.error is not None:
            histogram, state = None, "skipped"  # the list reports query errors; no endless "counting…"
        else:
            histogram, state = message.result
        previous = self.histogram
        previous_start = previous.bucket_start(self.selected) if previous is not None and previous.counts else None
        self.histogram, self.state = histogram, state
        if histogram is not None:
            index = histogram.index_of(previous_start) if previous_start is not None else None
            if index is None or not histogram.counts[index]:
                index = max(range(len(histogram.counts)), key=lambda i: histogram.counts[i])  # the busiest
            self.selected = index
            self._apply_pending()
        self.refresh()

    def _apply_pending(self) -> None:
        histogram = self.histogram
        if self._pending_time is None or histogram is None:
            return
        index = histogram.index_of(self._pending_time)
        if index is not None:
            self.selected = index
        self._pending_time = None
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if self._compiled is None or self._max_buckets() == self._counted_width:
            return
        if self._resize_timer is not None:
            self._resize_timer.stop()
        self._resize_timer = self.set_timer(0.3, self._start)

    def on_unmount(self) -> None:
        self.runner.cancel()

    # ------------------------------------------------------------------ rendering

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        histogram = self.histogram
        note_style = self.get_component_rich_style("timeline--note")
        if histogram is None or not histogram.counts:
            note = {
                "counting": "timeline: counting…",
                "empty": "timeline: counted again as events arrive" if self.indexing
                else "timeline: no matching event has a time",
                "skipped": f"timeline skipped: counting the matches over time took over {TIMELINE_BUDGET:g} s",
            }.get(self.state, "")
            return Text(note, note_style, no_wrap=True, overflow="ellipsis")
        rows = max(1, height - 1)
        counts = histogram.counts
        column = max(1, width // len(counts))
        peak = max(counts) or 1
        bar_style = self.get_component_rich_style("timeline--bar")
        selected_style = self.get_component_rich_style("timeline--selected")
        levels = [0 if n == 0 else max(1, round(n / peak * rows * 8)) for n in counts]
        lines: list[Text] = []
        for row in range(rows):
            floor = (rows - 1 - row) * 8
            line = Text(no_wrap=True, overflow="crop")
            for index, level in enumerate(levels):
                eighths = max(0, min(8, level - floor))
                cell = _EIGHTHS[eighths] * column
                line.append(cell, selected_style if index == self.selected else bar_style)
            lines.append(line)
        lines.append(self._axis(histogram, width))
        result = Text("\n", no_wrap=True).join(lines)
        return result

    def _axis(self, histogram: TimeHistogram, width: int) -> Text:
        axis_style = self.get_component_rich_style("timeline--axis")
        selected = min(self.selected, len(histogram.counts) - 1)
        if self.has_focus:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"▲ {bucket_label(histogram, selected)} UTC", "bold")
            text.append(f" · {plural(histogram.counts[selected], 'event')}", "bold")
            text.append("   ←/→ move · Enter narrow to it · Esc back", axis_style)
            return text
        fmt = "%Y-%m-%d %H:%M" if histogram.bucket_seconds < 86400 else "%Y-%m-%d"
        left = _utc(histogram.start, fmt)
        right = _utc(histogram.bucket_start(len(histogram.counts)), fmt) + " UTC"
        middle = f" {size_label(histogram.bucket_seconds)} per bar · {plural(histogram.total, 'event')} · t to pick a bar "
        if len(left) + len(middle) + len(right) > width:
            middle = f" {size_label(histogram.bucket_seconds)}/bar "
        gap = width - len(left) - len(right) - len(middle)
        if gap < 0:
            return Text(left + middle, axis_style, no_wrap=True, overflow="ellipsis")
        pad_left = gap // 2
        return Text(left + "─" * pad_left + middle + "─" * (gap - pad_left) + right, axis_style, no_wrap=True)

    # ------------------------------------------------------------------ keys

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.histogram is not None and self.histogram.counts:
            self.selected = max(0, min(len(self.histogram.counts) - 1, self.selected + step))
            self.refresh()

    def action_move_to(self, index: int) -> None:
        if self.histogram is not None and self.histogram.counts:
            self.selected = index % len(self.histogram.counts)
            self.refresh()

    def action_narrow(self) -> None:
        histogram = self.histogram
        if histogram is None or not histogram.counts or self.state != "ready":
            return
        index = min(self.selected, len(histogram.counts) - 1)
        if not histogram.counts[index]:
            self.app.notify("No matching events in that bar.", severity="warning")
            return
        since, until = histogram.bucket_range(index)
        self.post_message(self.Narrow(since, until, bucket_label(histogram, index), histogram.bucket_start(index)))

    def on_click(self, event: events.Click) -> None:
        histogram = self.histogram
        if histogram is None or not histogram.counts:
            return
        column = max(1, self.size.width // len(histogram.counts))
        index = event.x // column
        if 0 <= index < len(histogram.counts):
            self.selected = index
            self.refresh()
            if event.chain >= 2:
                self.action_narrow()
