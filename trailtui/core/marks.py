"""Marks and notes on events, and the incident timeline they make.

A responder marks the events that tell the story (``m`` in the app) and may attach a note to
each. Marks live in the user state file beside the index (:mod:`trailtui.core.userstate`), keyed
by CloudTrail's ``eventID``, so they survive an index rebuild; the filter ``is:marked`` selects
them. The incident timeline lists them in ``eventTime`` order with what the index knows of each
event; :mod:`trailtui.core.incident` writes it out (Markdown, CSV, the originals as NDJSON).

Functions taking ``user_conn`` want the connection of
:func:`trailtui.core.userstate.open_user_state` (each write is committed when it returns);
:func:`incident_timeline` wants an index connection (``index.connect``), whose ``user`` schema is
that file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from trailtui.core.times import event_time_text_sql, utc_now_text
from trailtui.core.userstate import USER_SCHEMA


@dataclass(frozen=True)
class Mark:
    """One marked event: its CloudTrail ``eventID``, the user's ``note`` ('' for none) and
    ``marked_at``, when it was first marked (UTC ISO-8601, ``2026-03-14T10:00:00Z``)."""

    eventID: str  # noqa: N815 - CloudTrail's name
    note: str
    marked_at: str


def toggle_mark(user_conn: sqlite3.Connection, event_id: str) -> bool:
    """Mark the event with CloudTrail ``eventID`` ``event_id``, or unmark it (dropping its note)
    if it is marked. Returns True when it is marked now. Raises sqlite3.Error when the file
    cannot be written (read-only, disk full)."""
    with _transaction(user_conn):
        deleted = user_conn.execute("DELETE FROM marks WHERE eventID = ?", (event_id,)).rowcount
        if deleted:
            return False
        user_conn.execute("INSERT INTO marks (eventID, note, marked_at) VALUES (?, '', ?)", (event_id, utc_now_text()))
        return True


def set_note(user_conn: sqlite3.Connection, event_id: str, note: str) -> None:
    """Set the note of the event with ``eventID`` ``event_id`` to ``note`` (as typed; it is
    escaped wherever it is shown or written), marking the event if it was not marked. An empty
    note clears the note and keeps the mark. Raises sqlite3.Error when the file cannot be
    written."""
    user_conn.execute(
        "INSERT INTO marks (eventID, note, marked_at) VALUES (?, ?, ?) "
        "ON CONFLICT (eventID) DO UPDATE SET note = excluded.note",
        (event_id, note, utc_now_text()),
    )
    _commit(user_conn)


def unmark(user_conn: sqlite3.Connection, event_id: str) -> None:
    """Remove the mark (and note) of the event with ``eventID`` ``event_id``; nothing happens if
    it is not marked. Raises sqlite3.Error when the file cannot be written."""
    user_conn.execute("DELETE FROM marks WHERE eventID = ?", (event_id,))
    _commit(user_conn)


def get_mark(user_conn: sqlite3.Connection, event_id: str) -> Mark | None:
    """The mark of the event with ``eventID`` ``event_id``, or None if it is not marked."""
    row = user_conn.execute("SELECT eventID, note, marked_at FROM marks WHERE eventID = ?", (event_id,)).fetchone()
    return Mark(*row) if row else None


def marks(user_conn: sqlite3.Connection) -> list[Mark]:
    """Every mark, in the order they were made (``marked_at``, then ``eventID``)."""
    rows = user_conn.execute("SELECT eventID, note, marked_at FROM marks ORDER BY marked_at, eventID")
    return [Mark(*row) for row in rows]


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the incident timeline.

    ``id`` is the event's ``events.id`` in the index, or None when the marked event is no longer
    in the index (its file was removed, or the index is being rebuilt): then only ``eventID``
    and ``note`` are known and the other fields are None. ``eventTime`` is CloudTrail's UTC
    ISO-8601 text; ``actor`` and ``resource`` are trailtui's display columns (see
    :mod:`trailtui.core.ingest.extract`); ``eventName`` and ``sourceIPAddress`` are CloudTrail's fields.
    Every field but ``id`` and ``note`` is log text an attacker may have chosen.
    """

    id: int | None
    eventID: str  # noqa: N815
    eventTime: str | None  # noqa: N815
    eventName: str | None  # noqa: N815
    actor: str | None
    sourceIPAddress: str | None  # noqa: N815
    resource: str | None
    note: str


_TIMELINE_SQL = f"""
SELECT e.id, m.eventID, {event_time_text_sql("e.eventTime")}, e.eventName, e.actor, e.sourceIPAddress, e.resource, m.note
FROM {USER_SCHEMA}.marks AS m LEFT JOIN events AS e ON e.eventID = m.eventID
ORDER BY e.id IS NULL, e.eventTime, e.id, m.marked_at, m.eventID
"""


def incident_timeline(index_conn: sqlite3.Connection) -> list[TimelineEntry]:
    """The marked events, oldest ``eventTime`` first (ties in index order), then the marks whose
    event is not in the index, in the order they were made, with what is known (``eventID``,
    note). ``index_conn`` is an index connection (``index.connect``): its ``user`` schema is the
    marks file. One query; each mark is looked up through the ``events_eventID`` unique index.
    """
    return [TimelineEntry(*row) for row in index_conn.execute(_TIMELINE_SQL)]


class _transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` on an autocommit connection (rollback on an exception),
    so a read-then-write (toggle) cannot interleave with another process's write."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        if self.conn.in_transaction:
            self.nested = True
            return
        self.nested = False
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback) -> None:
        if self.nested:
            return
        self.conn.execute("ROLLBACK" if kind is not None else "COMMIT")


def _commit(conn: sqlite3.Connection) -> None:
    """Commit a connection not opened in autocommit mode (a caller's own connection)."""
    if conn.in_transaction:
        conn.commit()
