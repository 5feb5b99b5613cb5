"""Moving through the main screen's list without changing the filter: find a term (``f``,
then ``n``/``N``), the next error (``e``/``E``), go to a time (``:``), like less and lnav.

:class:`ListSearch` belongs to the main screen, whose actions call it; it asks the index in
its own :class:`~trailtui.tui.query_worker.QueryRunner` (``EventQuery.find_next`` and
``position_at_time``: keyset counts through the sort's index, or the list's listed ids) and
moves the list's cursor to what it found, or says why there is nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trailtui.core.filter import CompiledFilter, FilterError, compile_filter, parse_time
from trailtui.core.query import EventQuery
from trailtui.core.text import printable
from trailtui.core.times import shown_time
from trailtui.tui.dialogs import PromptScreen
from trailtui.tui.query_worker import QueryRunner

if TYPE_CHECKING:
    from trailtui.tui.main_screen import MainScreen


@dataclass(frozen=True)
class Seek:
    """Where a find, error search or go-to-time landed: the list ``position``, or None with
    ``problem`` (for the user)."""

    position: int | None
    problem: str = ""


def _filter_problem(text: str) -> str | None:
    """Why ``text`` is not a term of the filter grammar, or None."""
    try:
        compile_filter(text)
    except FilterError as err:
        return str(err)
    return None if text.strip() else "Type a term to find."


def _time_problem(text: str) -> str | None:
    """Why ``text`` is not a time ``parse_time`` reads, or None."""
    try:
        parse_time(text)
    except FilterError as err:
        return str(err)
    return None


class ListSearch:
    """Find, next error and go to time on ``screen``'s list (see the module docstring)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        #: The last term found with ``f`` (``n``/``N`` look for it again).
        self.term: CompiledFilter | None = None
        self.runner = QueryRunner(screen, screen.db_path, "seek")

    def find(self) -> None:
        """``f``: ask for a term (the filter grammar, the last one selected), then go to the
        next event matching it."""

        def found(text: str | None) -> None:
            if text:
                self.term = compile_filter(text)
                self.next_match(True)

        self.screen.app.push_screen(PromptScreen(
            "Find in the list (the filter stays)", value=self.term.text if self.term else "",
            placeholder="error:AccessDenied   name:PutObject   198.51.100.7",
            hint="Filter grammar. Enter goes to the next match; then n / N: next / previous.",
            check=_filter_problem, select=True), found)

    def next_match(self, forward: bool) -> None:
        """``n`` / ``N``: the next / previous event matching the term (asks for one first)."""
        if self.term is None:
            self.find()
            return
        self._seek(self.term, forward, f"matching {printable(self.term.text)}")

    def next_error(self, forward: bool) -> None:
        """``e`` / ``E``: the next / previous event with an errorCode."""
        self._seek(compile_filter("is:error"), forward, "with an error")

    def _seek(self, term: CompiledFilter, forward: bool, what: str) -> None:
        screen = self.screen
        if screen.event_list.event_query is None or not screen.matches:
            screen.notify("The list is empty.", severity="warning", markup=False)
            return
        compiled, sort, after = screen.compiled, screen.sort, screen.event_list.selected_event_id
        listing = screen.event_list.ids  # the listed matches, when there are: no count of the table
        direction = "below" if forward else "above"

        def seek(conn: sqlite3.Connection) -> Seek:
            found = EventQuery(conn, compiled, sort=sort).find_next(after, term, forward=forward, listing=listing)
            if found is None:
                return Seek(None, f"No event {what} {direction} this one.")
            return Seek(found[0])

        self.runner.run(seek, tag=(compiled, sort))

    def goto_time(self) -> None:
        """``:``: ask for a time (UTC), then go to the first event at or after it (time order)."""
        screen = self.screen
        if screen.sort.column != "eventTime":
            screen.notify("Go to time works in time order: ] on eventTime sorts by time again.",
                          severity="warning", markup=False)
            return

        def go(text: str | None) -> None:
            if not text:
                return
            when = parse_time(text)
            compiled, sort = screen.compiled, screen.sort

            def seek(conn: sqlite3.Connection) -> Seek:
                position = EventQuery(conn, compiled, sort=sort).position_at_time(when)
                if position is None:
                    return Seek(None, f"No event at or after {shown_time(when)} UTC.")
                return Seek(position)

            self.runner.run(seek, tag=(compiled, sort))

        screen.app.push_screen(PromptScreen(
            "Go to time (UTC)", placeholder="2026-03-14T10:00   2026-03-14   -2h",
            hint="ISO-8601 date or time, UTC unless it has an offset; or -30m, -2h, -7d", check=_time_problem), go)

    def done(self, message: QueryRunner.Done) -> None:
        """A seek finished: move the cursor there, or say why not (stale results are dropped)."""
        screen = self.screen
        compiled, sort = message.tag
        if compiled is not screen.compiled or sort != screen.sort:
            return
        if message.error is not None:
            screen.notify(f"Search failed: {printable(message.error)}", severity="error", markup=False)
            return
        seek: Seek = message.result
        if seek.position is None:
            screen.notify(seek.problem, severity="warning", markup=False)
            return
        screen.event_list.move_to(seek.position)
        screen.set_focus(screen.event_list)
