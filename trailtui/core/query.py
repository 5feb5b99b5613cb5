"""Read the index: windows of the filtered event list, one event, one actor's totals, problems.

Every pane of the app and every CLI output asks this module for exactly what it shows; nothing
holds all events in memory. Filters come compiled from :mod:`trailtui.core.filter` (SQL text
from a whitelist, user values as bound parameters).
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from trailtui.core.filter import CompiledFilter
from trailtui.core.originals import original_event, original_events  # noqa: F401  (re-exported)

#: The event list's columns: ``(events column, title shown)``. Titles are CloudTrail's names
#: where the column is one field; ``actor`` and ``resource`` are trailtui's display columns.
LIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventTime", "eventTime"),
    ("eventName", "eventName"),
    ("eventSource", "eventSource"),
    ("actor", "actor"),
    ("sourceIPAddress", "sourceIPAddress"),
    ("awsRegion", "awsRegion"),
    ("resource", "resource"),
    ("errorCode", "errorCode"),
)

_LIST_SELECT = "id, " + ", ".join(f'"{column}"' for column, _ in LIST_COLUMNS)


@dataclass(frozen=True)
class EventRow:
    """One line of the event list: ``id`` (``events.id``) then the :data:`LIST_COLUMNS` values
    (text or None; ``eventTime`` is UTC ``YYYY-MM-DDTHH:MM:SSZ``)."""

    id: int
    eventTime: str | None
    eventName: str | None
    eventSource: str | None
    actor: str | None
    sourceIPAddress: str | None
    awsRegion: str | None
    resource: str | None
    errorCode: str | None


class EventQuery:
    """The events matching one filter, in time order (newest first unless ``newest_first=False``).

    Events without a time sort after the others when newest first.
    """

    def __init__(self, conn: sqlite3.Connection, compiled: CompiledFilter, *, newest_first: bool = True) -> None:
        self.conn = conn
        self.compiled = compiled
        self.newest_first = newest_first
        direction = "DESC" if newest_first else "ASC"
        self._order = f'ORDER BY "eventTime" {direction}, id {direction}'

    def count(self) -> int:
        """Number of matching events."""
        sql = f"SELECT count(*) FROM events WHERE {self.compiled.where}"
        return self.conn.execute(sql, self.compiled.params).fetchone()[0]

    def page(self, offset: int, limit: int, *, dense: bool = False) -> list[EventRow]:
        """Rows ``offset`` .. ``offset + limit - 1`` of the list (fewer at the end).

        ``dense``: the filter matches a large share of all events (see :meth:`is_dense`), so
        walking the time index and testing each event finds a screenful at once, where the
        planner's choice (the filter's own index) would sort every match first.
        """
        source = "events INDEXED BY events_eventTime" if dense else "events"
        sql = f"SELECT {_LIST_SELECT} FROM {source} WHERE {self.compiled.where} {self._order} LIMIT ? OFFSET ?"
        return [EventRow(*row) for row in self.conn.execute(sql, (*self.compiled.params, limit, max(0, offset)))]

    @staticmethod
    def is_dense(matches: int, total: int) -> bool:
        """True when ``matches`` of ``total`` events are enough (over 2%) that a walk of the
        time index meets a screenful of them within a few thousand events."""
        return total > 0 and matches * 50 > total

    def ordered_ids(self) -> array:
        """Every matching ``events.id`` in list order, as an ``array('q')`` (8 bytes per match).

        One sorted pass; afterwards :meth:`rows_for_ids` fetches any window in constant time,
        where ``LIMIT/OFFSET`` on a filter the index cannot order would sort all matches for
        every page.
        """
        return array("q", self.iter_ids())

    def rows_for_ids(self, ids) -> list[EventRow]:
        """The list rows of ``ids`` (``events.id`` values), in the order given (missing ids skipped)."""
        ids = list(ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        found = {row[0]: EventRow(*row) for row in self.conn.execute(f"SELECT {_LIST_SELECT} FROM events WHERE id IN ({marks})", ids)}
        return [found[event_id] for event_id in ids if event_id in found]

    def iter_ids(self, limit: int | None = None) -> Iterator[int]:
        """The matching ``events.id`` values in list order (at most ``limit``)."""
        sql = f"SELECT id FROM events WHERE {self.compiled.where} {self._order}"
        params: tuple = self.compiled.params
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, limit)
        for (event_id,) in self.conn.execute(sql, params):
            yield event_id

    def iter_rows(self, columns: list[str], limit: int | None = None) -> Iterator[tuple]:
        """Matching events as tuples of ``columns`` (names from ``schema.EVENT_COLUMNS``), in list
        order."""
        select = ", ".join(f'"{_checked(column)}"' for column in columns)
        sql = f"SELECT {select} FROM events WHERE {self.compiled.where} {self._order}"
        params: tuple = self.compiled.params
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, limit)
        yield from self.conn.execute(sql, params)

    def iter_originals(self, limit: int | None = None) -> Iterator[bytes]:
        """The original bytes of the matching events, in list order (each file read once per
        chunk of events). Raises :class:`trailtui.core.originals.OriginalUnavailable` if a file
        changed since it was indexed."""
        ids = list(self.iter_ids(limit))
        for _, original in original_events(self.conn, ids):
            yield original


def _checked(column: str) -> str:
    from trailtui.core.schema import EVENT_COLUMN_NAMES

    if column not in EVENT_COLUMN_NAMES and column != "id":
        raise ValueError(f"unknown events column {column!r}")
    return column


def total_events(conn: sqlite3.Connection) -> int:
    """Number of events in the index."""
    return conn.execute("SELECT count(*) FROM events").fetchone()[0]


@dataclass(frozen=True)
class EventFacts:
    """The indexed columns of one event (``columns`` maps ``schema.EVENT_COLUMNS`` names to
    values) and where it came from (``path``, 0-based ``record_index``)."""

    id: int
    columns: dict
    path: str | None
    record_index: int | None


def event_facts(conn: sqlite3.Connection, event_id: int) -> EventFacts | None:
    """The indexed columns and origin of one event, or None if it is not in the index."""
    cursor = conn.execute(
        "SELECT e.*, f.path FROM events e LEFT JOIN files f ON f.id = e.file_id WHERE e.id = ?", (event_id,)
    )
    row = cursor.fetchone()
    if row is None:
        return None
    names = [description[0] for description in cursor.description]
    columns = dict(zip(names, row))
    return EventFacts(event_id, columns, columns.pop("path"), columns.get("record_index"))


@dataclass(frozen=True)
class ActorTotals:
    """One actor's activity across the whole index.

    ``events`` and ``errors`` are counts; ``source_ips`` the number of distinct
    ``sourceIPAddress`` values; ``top_event_names`` up to five ``(eventName, count)`` pairs, most
    frequent first; ``first_seen``/``last_seen`` UTC ISO-8601 times (None if no event has a time).
    """

    actor_key: str
    events: int
    errors: int
    source_ips: int
    top_event_names: list[tuple[str, int]]
    first_seen: str | None
    last_seen: str | None


def actor_totals(conn: sqlite3.Connection, actor_key: str) -> ActorTotals:
    """Totals for the events whose ``actorKey`` is ``actor_key`` (see ``extract.actor_key``)."""
    events, errors, source_ips, first_seen, last_seen = conn.execute(
        "SELECT count(*), count(nullif(\"errorCode\", '')), count(DISTINCT \"sourceIPAddress\"), "
        'min("eventTime"), max("eventTime") FROM events WHERE "actorKey" = ?',
        (actor_key,),
    ).fetchone()
    top = conn.execute(
        'SELECT "eventName", count(*) AS n FROM events WHERE "actorKey" = ? GROUP BY "eventName" '
        "ORDER BY n DESC, \"eventName\" LIMIT 5",
        (actor_key,),
    ).fetchall()
    return ActorTotals(actor_key, events, errors, source_ips, [(name or "", n) for name, n in top], first_seen, last_seen)


@dataclass(frozen=True)
class LoadProblem:
    """One load error: the file's ``path``, a ``position`` in it (or None for the whole file)
    and the ``message``."""

    path: str
    position: str | None
    message: str


def load_problems(conn: sqlite3.Connection, limit: int = 10_000) -> list[LoadProblem]:
    """Every recorded load error (files that failed, bad records, unreadable directories)."""
    rows = conn.execute("SELECT path, position, message FROM load_errors ORDER BY path, id LIMIT ?", (limit,))
    return [LoadProblem(*row) for row in rows]


@dataclass(frozen=True)
class IndexCounts:
    """What the index holds: event count and files by outcome (``loaded``, ``partial``,
    ``failed``, ``skipped``), and the number of load errors."""

    events: int
    files: dict
    load_errors: int


def index_counts(conn: sqlite3.Connection) -> IndexCounts:
    """Counts for the status line and summaries."""
    files = dict(conn.execute("SELECT outcome, count(*) FROM files GROUP BY outcome").fetchall())
    errors = conn.execute("SELECT count(*) FROM load_errors").fetchone()[0]
    return IndexCounts(total_events(conn), files, errors)
