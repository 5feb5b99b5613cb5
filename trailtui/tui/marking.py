"""Marks and notes on the main screen: ``m`` marks the selected event, ``M`` writes its note,
``'`` opens the incident timeline (:class:`~trailtui.tui.marks_screen.MarksScreen`).

:class:`Marking` belongs to the main screen, whose actions call it. Marks live in the user
state file (``core.userstate``, ``core.marks``), keyed by CloudTrail's ``eventID``; the list's
gutter shows them (``●``, ``✎`` with a note).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from trailtui.core.marks import get_mark, marks as all_marks, set_note, toggle_mark
from trailtui.core.text import plural, printable
from trailtui.tui.dialogs import PromptScreen

if TYPE_CHECKING:
    from trailtui.tui.main_screen import MainScreen

#: What the user is told when the user state file could not be opened.
NO_USER_STATE = "Marks cannot be kept: the user state file could not be opened."


class Marking:
    """Marks and notes of ``screen``'s selected event (see the module docstring)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def show_in_list(self) -> None:
        """Give the list's gutter the marks (after any change, or the loader's end)."""
        screen = self.screen
        if screen.user_conn is None:
            return
        screen.event_list.marks = {mark.eventID: mark.note for mark in all_marks(screen.user_conn)}
        screen.event_list.refresh()

    def _selected_event_id(self) -> str | None:
        screen = self.screen
        row = screen.event_list.selected_row
        if row is None:
            screen.notify("No event selected.", severity="warning", markup=False)
            return None
        if screen.user_conn is None:
            screen.notify(NO_USER_STATE, severity="warning", markup=False)
            return None
        return str(row.get("eventID"))

    def toggle(self) -> None:
        """``m``: mark or unmark the selected event (unmarking drops its note)."""
        event_id = self._selected_event_id()
        if event_id is None or self.screen.user_conn is None:
            return
        try:
            marked = toggle_mark(self.screen.user_conn, event_id)
        except sqlite3.Error as err:  # a full disk, a read-only file: say so, keep going
            self.screen.notify(f"The mark could not be saved: {printable(err)}", severity="error", markup=False)
            return
        self.show_in_list()
        total = len(self.screen.event_list.marks)
        self.screen.notify(f"Marked ({plural(total, 'mark')}; ' lists them, M adds a note)." if marked
                           else f"Unmarked ({plural(total, 'mark')} left).", markup=False)

    def edit_note(self) -> None:
        """``M``: write the selected event's note (marking it)."""
        event_id = self._selected_event_id()
        user_conn = self.screen.user_conn
        if event_id is None or user_conn is None:
            return
        mark = get_mark(user_conn, event_id)

        def save(note: str | None) -> None:
            if note is not None:
                try:
                    set_note(user_conn, event_id, note)
                except sqlite3.Error as err:
                    self.screen.notify(f"The note could not be saved: {printable(err)}", severity="error",
                                       markup=False)
                    return
                self.show_in_list()
                self.screen.notify("Note saved; the event is marked.", markup=False)

        self.screen.app.push_screen(PromptScreen(
            "Note on the selected event", value=mark.note if mark else "",
            hint="Enter saves (kept between runs; in the incident timeline export)"), save)

    def show_timeline(self) -> None:
        """``'``: the marks view; Enter there shows the marked events, that one selected."""
        from trailtui.tui.marks_screen import MarksScreen  # imported when opened: a faster start

        screen = self.screen
        if screen.user_conn is None:
            screen.notify(NO_USER_STATE, severity="warning", markup=False)
            return

        def closed(entry) -> None:
            self.show_in_list()
            if entry is not None:
                if screen.compiled.text.strip() != "is:marked":
                    screen.apply_filter("is:marked", "marked events", restore=self.show_timeline)
                screen.run_count(keep=entry.id)
            screen.set_focus(screen.event_list)

        screen.app.push_screen(MarksScreen(screen.db_path, screen.user_conn), closed)
