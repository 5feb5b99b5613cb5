"""Read the index: windows of the filtered event list, one event, one actor's totals, problems.

Every pane of the app and every CLI output asks this module for exactly what it shows; nothing
holds all events in memory. Filters come compiled from :mod:`trailtui.core.filter` (SQL text
from a whitelist, user values as bound parameters); columns come from the catalogue
(:mod:`trailtui.core.columns`).

The list's order (:class:`SortOrder`) is read from an index wherever one serves it
(``Column.sort_index``): the first screen, the last one (``G``), an event's position, the next
match of a search and the position of a time are each a walk or a count over an index range
(keyset), never a sort of every match. Columns without an index (``EventQuery.needs_listing``)
get their first and last screens from one ``ORDER BY ... LIMIT`` (SQLite keeps only the top
rows) and the app lists the ids once (:meth:`EventQuery.ordered_ids`) to page in between.
"""

from __future__ import annotations

import random
import sqlite3
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from trailtui.core.columns import BY_NAME, DEFAULT_LIST_COLUMNS, column
from trailtui.core.filter import CompiledFilter
from trailtui.core.store.originals import original_event, original_events  # noqa: F401  (re-exported)
from trailtui.core.store.schema import (
    ACTOR_COLUMNS,
    EVENTS_WITH_LOOKUPS,
    LOOKUP_COLUMNS,
    RECORD_COLUMNS,
    joined_column_sql,
)
from trailtui.core.times import epoch_seconds, event_time_text_of, event_time_text_sql

#: The index that serves time order (``schema.LOAD_INDEXES``).
TIME_INDEX = "events_eventTime"


@dataclass(frozen=True)
class SortOrder:
    """The order of the event list: by ``column`` (a name of ``columns.BY_NAME``), descending
    (``descending=True``: Z to A, newest first) or ascending.

    Rows whose column is empty sort after the others in both directions: first those holding
    ``''``, then those holding nothing (NULL). Ties are broken by ``eventTime`` in the same
    direction (an event without a time counts as older than every other), then by ``events.id``
    in the same direction. In time order (``column="eventTime"``) events without a time come last
    in both directions. Raises ``columns.UnknownColumn`` (a ValueError) for an unknown column.
    """

    column: str = "eventTime"
    descending: bool = True

    def __post_init__(self) -> None:
        column(self.column)  # raises UnknownColumn

    @property
    def by_time(self) -> bool:
        """True for time order (``eventTime``)."""
        return self.column == "eventTime"

    def reversed(self) -> SortOrder:
        """The same column in the other direction."""
        return SortOrder(self.column, not self.descending)


class EventRow:
    """One line of the event list: ``id`` (``events.id``) and the values of the columns the
    query fetched (text or None; ``eventTime`` is UTC ``YYYY-MM-DDTHH:MM:SSZ``), readable as
    attributes (``row.eventName``) or with :meth:`get`. ``errorCode`` is always fetched (error
    rows show in red). An attribute that was not fetched raises AttributeError."""

    __slots__ = ("id", "values")

    def __init__(self, id: int, values: dict[str, object]) -> None:  # noqa: A002
        self.id = id
        self.values = values

    def __getattr__(self, name: str) -> object:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: object = None) -> object:
        """The value of column ``name``, or ``default`` if it was not fetched."""
        return self.values.get(name, default)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EventRow) and (self.id, self.values) == (other.id, other.values)

    def __repr__(self) -> str:
        return f"EventRow(id={self.id!r}, {self.values!r})"


# Qualified: the list's SELECT names its shown text of the time "eventTime" too, and ORDER BY
# would take that alias (text, no index) over the stored epoch seconds.
_TIME_SQL = 'events."eventTime"'
#: The first and last ``eventTime`` of the rows a query groups, as UTC ISO-8601 text (SQL).
FIRST_TIME_SQL = event_time_text_sql('min("eventTime")')
LAST_TIME_SQL = event_time_text_sql('max("eventTime")')
_AT_OR_AFTER = f"{_TIME_SQL} >= ?"

#: Rows :meth:`EventQuery.find_next` walks along the order's index before it asks the planner
#: to start from the search term's own index (a few milliseconds of walking at most).
_WALK = 4000

#: Events sampled to guess which side of an event is shorter to count (see ``position_of``).
_SAMPLE = 64

#: The declared type of each record column (``TEXT COLLATE NOCASE``, ...).
_DECLARED: dict[str, str] = dict(RECORD_COLUMNS)

# The keys a segment is ordered by: the sort column's value, eventTime, events.id, and where
# no index serves the order, the value's rank (0 filled, 1 '', 2 NULL).
_VALUE, _TIME, _ID, _RANK = "value", "time", "id", "rank"


def _rank(value: object) -> int:
    return 2 if value is None else 1 if value == "" else 0


@dataclass(frozen=True)
class _Segment:
    """A run of the list read with one ``ORDER BY``: the rows meeting ``where`` (SQL, ``""`` for
    all), ordered by ``keys`` (of ``_VALUE``/``_TIME``/``_ID``/``_RANK``) all in the list's direction.
    ``nullable`` says which keys may be NULL inside the segment (SQLite sorts NULL lowest);
    ``holds(value, time)`` says in Python whether a row with those values belongs here.
    ``floor``: ``where`` is only a lower bound on the first key (``> ''``, ``IS NOT NULL``),
    implied by any range above or equal to a row of the segment, and left out of those: given
    two lower bounds, SQLite starts the index range at either and may walk from the bottom."""

    where: str
    keys: tuple[str, ...]
    nullable: tuple[bool, ...]
    holds: Callable[[object, object], bool]
    floor: bool = False


def _segments(sort: SortOrder, value_sql: str, time_sql: str, *, text: bool, indexed: bool) -> tuple[_Segment, ...]:
    """The list's order as segments read one after the other (see :class:`SortOrder`), for the
    sort column's SQL ``value_sql`` and eventTime's ``time_sql``.

    Where SQLite's own order already puts the empty rows last (descending: NULL is the lowest
    value, ``''`` the lowest text) one segment is read; ascending, the empty rows are segments of
    their own, because ``NULLS LAST`` on an ascending index costs a sort (368 ms at 1M events).
    An order no index serves is a sort anyway: one segment, empty rows ranked last by ``_RANK``.
    """
    anything = lambda value, time: True  # noqa: E731
    if sort.by_time:
        if sort.descending:
            return (_Segment("", (_TIME, _ID), (True, False), anything),)
        return (
            _Segment(
                f"likely({time_sql} IS NOT NULL)", (_TIME, _ID), (False, False), lambda value, time: time is not None,
                floor=True,
            ),
            _Segment(f"{time_sql} IS NULL", (_ID,), (False,), lambda value, time: time is None),
        )
    if sort.descending:
        return (_Segment("", (_VALUE, _TIME, _ID), (True, True, False), anything),)
    if not indexed:
        return (_Segment("", (_RANK, _VALUE, _TIME, _ID), (False, True, True, False), anything),)
    # Text: "> ''" is one index range (neither NULL nor ''); a flag column holds numbers.
    # likely(): the floor still starts the range, but the planner counts it as keeping nearly
    # every row, so a filter's equality on the same column (eventName:X sorted by eventName)
    # stays the cheaper plan; else a planner's estimate could pick the floor and sort.
    filled = f"likely({value_sql} > '')" if text else f"{value_sql} IS NOT NULL AND {value_sql} <> ''"
    return (
        _Segment(
            filled, (_VALUE, _TIME, _ID), (False, True, False), lambda value, time: value is not None and value != "",
            floor=text,
        ),
        _Segment(f"{value_sql} = ''", (_TIME, _ID), (True, False), lambda value, time: value == ""),
        _Segment(f"{value_sql} IS NULL", (_TIME, _ID), (True, False), lambda value, time: value is None),
    )


class EventQuery:
    """The events matching one filter, in one order (:class:`SortOrder`; default newest first).

    ``sort``: the order; ``newest_first``: shorthand for time order in one direction (giving
    both raises ValueError). ``columns``: what :meth:`page` and :meth:`rows_for_ids` fetch, names
    of ``columns.BY_NAME`` (default ``columns.DEFAULT_LIST_COLUMNS``; unknown names raise
    ``columns.UnknownColumn``). Positions are 0-based places in this order among the matches.

    A query reads the index as it is when asked: while a loader adds events, positions and
    counts move, and the app makes a new query for each refresh. Segment counts are cached.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        compiled: CompiledFilter,
        *,
        sort: SortOrder | None = None,
        columns: tuple[str, ...] | list[str] | None = None,
        newest_first: bool | None = None,
    ) -> None:
        if sort is not None and newest_first is not None:
            raise ValueError("give sort or newest_first, not both")
        self.conn = conn
        self.compiled = compiled
        #: The list's order.
        self.sort: SortOrder = sort if sort is not None else SortOrder("eventTime", newest_first is not False)
        #: The columns :meth:`page` and :meth:`rows_for_ids` fetch.
        self.columns: tuple[str, ...] = tuple(columns) if columns else DEFAULT_LIST_COLUMNS
        fetched = self.columns if "errorCode" in self.columns else (*self.columns, "errorCode")
        self._fetched = fetched
        self._list_select = "id, " + ", ".join(column(name).select_sql for name in fetched)
        sorted_by = BY_NAME[self.sort.column]
        self._value_sql = sorted_by.sql
        index = TIME_INDEX if self.sort.by_time else sorted_by.sort_index
        # While a first load runs, only the time index exists (``schema.LOAD_INDEXES``).
        self._index: str | None = index if index and _has_index(conn, index) else None
        text, indexed = sorted_by.kind != "flag", self._index is not None
        self._segments = _segments(self.sort, self._value_sql, _TIME_SQL, text=text, indexed=indexed)
        # The same with "+" before each key: SQLite then cannot use the order's index for them
        # (the column's collation still applies), so the planner starts from another one.
        self._off_index = _segments(self.sort, "+" + self._value_sql, "+" + _TIME_SQL, text=text, indexed=indexed)
        self._nocase = "NOCASE" in _DECLARED.get(sorted_by.reads or "", "")
        # Counted or sampled when first needed, then kept: a query reads the index as it was.
        self._counts: dict[int, int] = {}  # matches per segment
        self._matches: int | None = None
        self._sampled: list[tuple[int, tuple]] | None = None

    @property
    def newest_first(self) -> bool:
        """The direction (True: descending). Kept for callers that only know time order."""
        return self.sort.descending

    @property
    def needs_listing(self) -> bool:
        """True when no index serves the order (``Column.sort_index`` is None, or its index is
        not built yet: a first load builds them at its end): the first and the last pages still
        come from one ``ORDER BY ... LIMIT`` each (about 0.4 s at 1M events: every event is
        read), but paging in between should go through :meth:`ordered_ids` (listed once, in a
        worker: 1.5-2.5 s at 1M) and :meth:`rows_for_ids`, and positions come from that listing
        (the ``listing`` argument of :meth:`position_of` and :meth:`find_next`): counted, each
        would read every event again."""
        return self._index is None

    # ------------------------------------------------------------------------------ counting

    def count(self) -> int:
        """Number of matching events."""
        return self._count()

    def _where(self, *extra: str) -> str:
        parts = [f"({self.compiled.where})", *(f"({part})" for part in extra if part)]
        return " AND ".join(parts)

    def _count(self, *extra: str, params: tuple = ()) -> int:
        """Matches that also meet the ``extra`` conditions (an order's index range, usually)."""
        if self.compiled.where == "1" and not any(extra):
            # No WHERE at all: SQLite then counts the smallest index's entries without reading
            # them (3 ms at 1M events, 27 ms as "WHERE 1").
            return self.conn.execute("SELECT count(*) FROM events").fetchone()[0]
        # Unfiltered, the range is one of the order's index: the planner's statistics (sampled)
        # sometimes prefer a skip-scan of another index, twice as slow.
        source = self._source(self.compiled.where == "1")
        sql = f"SELECT count(*) FROM {source} WHERE {self._where(*extra)}"
        return self.conn.execute(sql, (*self.compiled.params, *params)).fetchone()[0]

    def _total(self) -> int:
        if self._matches is None:
            self._matches = self.count()
        return self._matches

    def _segment_count(self, number: int) -> int:
        """Matches in segment ``number``. The one segment (or the one the sample says is largest)
        is the total less the others: ``count(*)`` of everything is a fast path, a range is not."""
        if number not in self._counts:
            others = [other for other in range(len(self._segments)) if other != number]
            if not others:
                self._counts[number] = self._total()
            elif number == self._largest_segment():
                self._counts[number] = self._total() - sum(self._segment_count(other) for other in others)
            else:
                self._counts[number] = self._count(self._segments[number].where)
        return self._counts[number]

    def _sample(self) -> list[tuple[int, tuple]]:
        """Up to :data:`_SAMPLE` events picked at random (seeded: the same each time), as
        ``(segment, sort key)`` pairs: what the guesses of which side to count come from."""
        if self._sampled is None:
            top = self.conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0
            ids = random.Random(top).sample(range(1, top + 1), min(top, _SAMPLE))
            marks = ",".join("?" * len(ids))
            sql = f"SELECT {self._value_sql}, {_TIME_SQL}, id FROM events WHERE id IN ({marks})"
            self._sampled = []
            for value, time, event_id in self.conn.execute(sql, ids):
                number = self._segment_of(value, time)
                keys = {_VALUE: value, _TIME: time, _ID: event_id, _RANK: _rank(value)}
                self._sampled.append((number, self._sort_key(number, keys)))
        return self._sampled

    def _largest_segment(self) -> int:
        sizes = [0] * len(self._segments)
        for number, _ in self._sample():
            sizes[number] += 1
        return sizes.index(max(sizes))

    def _sort_key(self, number: int, keys: dict[str, object]) -> tuple:
        """A Python key that orders rows of segment ``number`` (ascending) roughly as SQLite does:
        NULL lowest, numbers before text, text case-folded where the column is NOCASE."""
        ordered = []
        for key in self._segments[number].keys:
            value = keys[key]
            if value is None:
                ordered.append((0, 0))
            elif isinstance(value, (int, float)):
                ordered.append((1, value))
            elif isinstance(value, str):
                ordered.append((2, value.lower() if key == _VALUE and self._nocase else value))
            else:
                ordered.append((3, bytes(value)))
        return tuple(ordered)

    # -------------------------------------------------------------------------------- paging

    def page(self, offset: int, limit: int, *, dense: bool = False, total: int | None = None) -> list[EventRow]:
        """Rows ``offset`` .. ``offset + limit - 1`` of the list (fewer at the end).

        ``dense``: the filter matches a large share of all events (see :meth:`is_dense`), so
        walking the order's index and testing each event finds a screenful at once, where the
        planner's choice (the filter's own index) would sort every match first. Ignored when no
        index serves the order (:attr:`needs_listing`).
        ``total``: the number of matches, if known (:meth:`count`). A page in the second half is
        then read from the other end of the order and reversed: ``OFFSET`` walks every row it
        skips, so ``G`` (the last page of a million) skips none instead of 999,950.
        """
        offset = max(0, offset)
        if limit <= 0:
            return []
        if total is not None and offset < total and 2 * offset + limit > total:
            limit = min(limit, total - offset)
            return self._read(total - offset - limit, limit, dense, backwards=True)[::-1]
        return self._read(offset, limit, dense, backwards=False)

    def _read(self, skip: int, limit: int, dense: bool, *, backwards: bool) -> list[EventRow]:
        """``limit`` rows after skipping ``skip``, from the start of the list (or from its end,
        in reverse order), segment after segment. A segment is counted only when a page starts
        past its end."""
        numbers = list(range(len(self._segments)))
        if backwards:
            numbers.reverse()
        rows: list[EventRow] = []
        for step, number in enumerate(numbers):
            got = self._segment_rows(number, skip, limit - len(rows), dense, backwards)
            rows += got
            if len(rows) >= limit or step == len(numbers) - 1:
                break
            skip = 0 if got else max(0, skip - self._segment_count(number))
        return rows

    def _source(self, dense: bool) -> str:
        if self._index is None:
            # Everything, in an order no index serves: read the table as stored. Left to itself
            # the planner may scan another index and fetch every row through it (1.7 s instead
            # of 0.43 s for a first screen at 1M events).
            return "events NOT INDEXED" if self.compiled.where == "1" else "events"
        return f"events INDEXED BY {self._index}" if dense else "events"

    def _order(self, segment: _Segment, descending: bool, *, off_index: bool = False) -> str:
        direction = "DESC" if descending else "ASC"
        return "ORDER BY " + ", ".join(f"{self._key_sql(key, off_index)} {direction}" for key in segment.keys)

    def _key_sql(self, key: str, off_index: bool = False) -> str:
        if key == _RANK:
            value = self._key_sql(_VALUE, off_index)
            return f"(CASE WHEN {value} IS NULL THEN 2 WHEN {value} = '' THEN 1 ELSE 0 END)"
        sql = {_VALUE: self._value_sql, _TIME: _TIME_SQL, _ID: "id"}[key]
        return "+" + sql if off_index else sql

    def _segment_rows(self, number: int, skip: int, limit: int, dense: bool, backwards: bool) -> list[EventRow]:
        segment = self._segments[number]
        order = self._order(segment, self.sort.descending != backwards)
        # The ids first, then their columns: where the plan sorts, the sorter holds one integer
        # per match instead of every shown column (lookups into actors and contexts included):
        # type:Root at 10M events, 200k matches, 373 -> 117 ms.
        sql = f"SELECT id FROM {self._source(dense)} WHERE {self._where(segment.where)} {order} LIMIT ? OFFSET ?"
        return self.rows_for_ids(row[0] for row in self.conn.execute(sql, (*self.compiled.params, limit, skip)))

    def _row(self, row: tuple) -> EventRow:
        return EventRow(row[0], dict(zip(self._fetched, row[1:])))

    @staticmethod
    def is_dense(matches: int, total: int) -> bool:
        """True when ``matches`` of ``total`` events are enough (over 2%) that a walk of the
        order's index meets a screenful of them within a few thousand events."""
        return total > 0 and matches * 50 > total

    # ------------------------------------------------------------------------------ listing

    def ordered_ids(self) -> array:
        """Every matching ``events.id`` in list order, as an ``array('q')`` (8 bytes per match).

        One sorted pass; afterwards :meth:`rows_for_ids` fetches any window in constant time,
        where ``LIMIT/OFFSET`` on an order no index serves would sort all matches for every page.
        """
        return array("q", self.iter_ids())

    def rows_for_ids(self, ids) -> list[EventRow]:
        """The list rows of ``ids`` (``events.id`` values), in the order given (missing ids skipped)."""
        ids = list(ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(f"SELECT {self._list_select} FROM events WHERE id IN ({marks})", ids)
        found = {row[0]: self._row(row) for row in rows}
        return [found[event_id] for event_id in ids if event_id in found]

    def iter_ids(self, limit: int | None = None) -> Iterator[int]:
        """The matching ``events.id`` values in list order (at most ``limit``)."""
        for (event_id,) in self._iter_select("id", limit):
            yield event_id

    def iter_rows(self, columns: list[str], limit: int | None = None) -> Iterator[tuple]:
        """Matching events as tuples of ``columns`` (names of ``columns.BY_NAME``; unknown names
        raise ``columns.UnknownColumn``), in list order."""
        yield from self._iter_select(", ".join(column(name).select_sql for name in columns), limit)

    def _iter_select(self, select: str, limit: int | None) -> Iterator[tuple]:
        """``select`` over the matches, segment after segment, at most ``limit`` rows."""
        left = limit
        for segment in self._segments:
            if left is not None and left <= 0:
                return
            order = self._order(segment, self.sort.descending)
            sql = f"SELECT {select} FROM {self._source(False)} WHERE {self._where(segment.where)} {order}"
            params: tuple = self.compiled.params
            if left is not None:
                sql += " LIMIT ?"
                params = (*params, left)
            for row in self.conn.execute(sql, params):
                if left is not None:
                    left -= 1
                yield row

    def iter_originals(self, limit: int | None = None) -> Iterator[bytes]:
        """The original bytes of the matching events, in list order (each file read once per
        chunk of events). Raises :class:`trailtui.core.store.originals.OriginalUnavailable` if a file
        changed since it was indexed."""
        ids = list(self.iter_ids(limit))
        for _, original in original_events(self.conn, ids):
            yield original

    # ------------------------------------------------------------------ positions and seeking

    def _anchor(self, event_id: int, *, matching: bool) -> tuple[int, dict[str, object]] | None:
        """The segment number and sort keys of event ``event_id`` (None if it is not in the
        index, or with ``matching`` if it does not match the filter)."""
        where = f"id = ? AND ({self.compiled.where})" if matching else "id = ?"
        params = (event_id, *self.compiled.params) if matching else (event_id,)
        row = self.conn.execute(f"SELECT {self._value_sql}, {_TIME_SQL} FROM events WHERE {where}", params).fetchone()
        if row is None:
            return None
        value, time = row
        return self._segment_of(value, time), {_VALUE: value, _TIME: time, _ID: event_id, _RANK: _rank(value)}

    def _segment_of(self, value: object, time: object) -> int:
        return next(number for number, segment in enumerate(self._segments) if segment.holds(value, time))

    def _earlier(
        self, number: int, keys: dict[str, object], descending: bool, *, off_index: bool = False
    ) -> list[tuple[str, tuple]]:
        """The rows of segment ``number`` that come before the row with ``keys`` in the order of
        ``descending``, as conditions each covering one range of the segment's index (its
        ``where`` included where needed), nearest range last: for keys (a, b, c), ``a before``;
        ``a equal, b before``; ``a, b equal, c before``. NULLs count as lowest (SQLite's order)."""
        segment = (self._off_index if off_index else self._segments)[number]
        where = segment.where
        ranges: list[tuple[str, tuple]] = []
        equal: list[str] = []
        equal_params: list[object] = []
        for key, nullable in zip(segment.keys, segment.nullable):
            sql, value = self._key_sql(key, off_index), keys[key]
            before: list[tuple[str, tuple]] = []  # farthest first
            if value is None:
                if descending:
                    before.append((f"{sql} IS NOT NULL", ()))
            elif descending:
                before.append((f"{sql} > ?", (value,)))
            else:
                if nullable:  # a range of its own: "x < ? OR x IS NULL" would walk the whole index
                    before.append((f"{sql} IS NULL", ()))
                before.append((f"{sql} < ?", (value,)))
            for condition, params in before:
                # Past an equal first key, or above it, the segment's floor holds by itself.
                implied = segment.floor and (equal or descending)
                parts = [*equal, condition] if implied or not where else [where, *equal, condition]
                ranges.append((" AND ".join(parts), (*equal_params, *params)))
            if value is None:
                equal.append(f"{sql} IS NULL")
            else:
                equal.append(f"{sql} = ?")
                equal_params.append(value)
        return ranges

    def position_of(self, event_id: int, *, listing: array | None = None) -> int | None:
        """The 0-based position of event ``event_id`` (``events.id``) in the list, or None if it
        does not match the filter (or is not in the index). ``listing``: this query's
        :meth:`ordered_ids`, if the caller holds them (an order no index serves): the position
        is then looked up in it (a few ms at 1M) instead of counted.

        Counted, not listed: the matches in the segments before its own, plus those before it
        (or, when a sample of the index says that side is shorter, the segment's matches less
        those after it) in its segment, each a count over one index range (keyset). The cost
        grows with the shorter side, up to half the list: about 10-60 ms at a million events
        unfiltered, a filter's own count cost with a filter. Without an index for the order each
        count reads every event: use the listing (:meth:`ordered_ids`) there.
        """
        if listing is not None:
            try:
                return listing.index(event_id)
            except ValueError:
                return None
        anchor = self._anchor(event_id, matching=True)
        if anchor is None:
            return None
        number, keys = anchor
        start = sum(self._segment_count(earlier) for earlier in range(number))
        # Count the side of the event that the sample says is smaller: at 1M events a count
        # walks about 25-70 ns per index entry, so the far side of a deep event costs ~50 ms.
        mine = self._sort_key(number, keys)
        peers = [key for other, key in self._sample() if other == number]
        later = sum(1 for key in peers if (key < mine if self.sort.descending else key > mine))
        if 2 * later >= len(peers):
            return start + self._count_ranges(self._earlier(number, keys, self.sort.descending))
        after = self._count_ranges(self._earlier(number, keys, not self.sort.descending))
        return start + self._segment_count(number) - 1 - after

    def _count_ranges(self, ranges: list[tuple[str, tuple]]) -> int:
        """Matches within any of ``ranges`` (disjoint, from :meth:`_earlier`)."""
        if not ranges:
            return 0
        if self.compiled.where == "1":
            return sum(self._count(condition, params=params) for condition, params in ranges)
        # Filtered: one statement, so a costly filter (a common word's full-text matches) is
        # evaluated once; the planner starts from the filter's index or walks the ranges.
        either = " OR ".join(f"({condition})" for condition, _ in ranges)
        return self._count(either, params=tuple(value for _, params in ranges for value in params))

    def find_next(
        self, after_event_id: int | None, term: CompiledFilter, *, forward: bool = True, listing: array | None = None
    ) -> tuple[int, int] | None:
        """The nearest event after (``forward``) or before event ``after_event_id`` in list order
        that matches both this query's filter and ``term`` (a search that leaves the filter as
        it is: ``n``/``N``, ``e``/``E``), as ``(position, events.id)``; None when there is none
        that way (no wrap-around). ``after_event_id`` None: from the top (forward) or the bottom
        of the list. The given event need not match the filter (its place in the order is used);
        raises ValueError if it is not in the index.

        The order's index is walked from the event for up to :data:`_WALK` rows (a common term is
        met at once); past that the planner starts from the filter's or the term's own index
        (``error:AccessDenied``, a word) and takes the nearest match. Then :meth:`position_of`
        (``listing`` as there).
        """
        hit = f"({self.compiled.where}) AND ({term.where})"
        hit_params = (*self.compiled.params, *term.params)
        walk_descending = self.sort.descending == forward
        numbers = list(range(len(self._segments)))
        if not forward:
            numbers.reverse()
        # (segment, the range on the order's keys, the same off the index, its parameters),
        # nearest first; then whole segments.
        ranges: list[tuple[int, str, str, tuple]] = []
        if after_event_id is not None:
            anchor = self._anchor(after_event_id, matching=False)
            if anchor is None:
                raise ValueError(f"no event with id {after_event_id} in the index")
            start, keys = anchor
            numbers = numbers[numbers.index(start) + 1 :]
            later = self._earlier(start, keys, not walk_descending)
            later_off = self._earlier(start, keys, not walk_descending, off_index=True)
            ranges += [(start, on[0], off[0], on[1]) for on, off in zip(reversed(later), reversed(later_off))]
        ranges += [(number, self._segments[number].where, self._off_index[number].where, ()) for number in numbers]
        for number, condition, off_condition, params in ranges:
            found = self._nearest(number, condition, off_condition, params, hit, hit_params, walk_descending)
            if found is not None:
                position = self.position_of(found, listing=listing)
                assert position is not None  # it matches the filter
                return position, found
        return None

    def _nearest(
        self, number: int, condition: str, off_condition: str, params: tuple, hit: str, hit_params: tuple,
        descending: bool,
    ) -> int | None:
        """The first event of segment ``number`` within ``condition`` (in the order of
        ``descending``) for which ``hit`` holds, or None."""
        if self._index is not None:
            # Walk the order's index testing each event: a common term (is:error) is met
            # within a few rows. Stop after _WALK rows, a rare one is cheaper found from its index.
            segment = self._segments[number]
            where = condition or "1"
            sql = (
                f"SELECT id, {hit} FROM events INDEXED BY {self._index} WHERE {where} "
                f"{self._order(segment, descending)}"
            )
            cursor = self.conn.execute(sql, (*hit_params, *params))
            try:
                for walked, (event_id, matched) in enumerate(cursor, 1):
                    if matched:
                        return event_id
                    if walked >= _WALK:
                        break
                else:
                    return None  # the range ended without a match
            finally:
                cursor.close()
        # The keys written "+key" keep the planner off the order's index: it starts from the
        # filter's or the term's own index (error:AccessDenied, a word) and sorts what it finds.
        segment = self._off_index[number]
        where = " AND ".join(f"({part})" for part in (hit, off_condition) if part)
        sql = f"SELECT id FROM events WHERE {where} {self._order(segment, descending, off_index=True)} LIMIT 1"
        row = self.conn.execute(sql, (*hit_params, *params)).fetchone()
        return row[0] if row else None

    def position_at_time(self, when: str) -> int | None:
        """In time order, the position of the earliest event at or after ``when`` (UTC ISO-8601
        text, ``2026-03-14T10:00:00Z``; see ``filter.parse_time``): newest first, the
        last of the rows at or after it; oldest first, the first of them. None when no matching
        event is at or after ``when``. Raises ValueError when the list is not in time order or
        ``when`` is not in that form. A count over the time index (or the filter's)."""
        if not self.sort.by_time:
            raise ValueError(f"go to time needs time order; the list is sorted by {self.sort.column}")
        at = epoch_seconds(when)  # the index's form
        # The events with a time before ``when`` and those at or after it: count the side the
        # sample says is smaller, the other is the rest of the timed matches.
        times = [key[0][1] for number, key in self._sample() if number == 0 and key[0][0]]
        if 2 * sum(1 for time in times if time >= at) <= len(times):
            at_or_after = self._count(_AT_OR_AFTER, params=(at,))
            before = None
        else:
            before = self._count(f"{_TIME_SQL} < ?", params=(at,))
            at_or_after = self._timed() - before
        if not at_or_after:
            return None
        if self.sort.descending:
            return at_or_after - 1
        return before if before is not None else self._timed() - at_or_after

    def _timed(self) -> int:
        """Matches with a time."""
        if self.sort.descending:  # one segment: the untimed are its end
            return self._total() - self._count(f"{_TIME_SQL} IS NULL")
        return self._segment_count(0)


def _has_index(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone() is not None


def time_span(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """The first and last ``eventTime`` in the index, UTC ISO-8601 text (None, None when no
    event has a time). Two ends of the time index."""
    return conn.execute(f"SELECT {FIRST_TIME_SQL}, {LAST_TIME_SQL} FROM events").fetchone()


def total_events(conn: sqlite3.Connection) -> int:
    """Number of events in the index."""
    return conn.execute("SELECT count(*) FROM events").fetchone()[0]


# The record columns kept in actors and contexts, as event_facts reads them.
_LOOKED_UP_SELECT = ", ".join(f'{joined_column_sql(name)} AS "{name}"' for name in LOOKUP_COLUMNS)


@dataclass(frozen=True)
class EventFacts:
    """The indexed columns of one event (``columns`` maps ``schema.EVENT_COLUMNS`` and
    ``schema.LOOKUP_COLUMNS`` names to values) and where it came from (``path``, 0-based ``record_index``)."""

    id: int
    columns: dict
    path: str | None
    record_index: int | None


def event_facts(conn: sqlite3.Connection, event_id: int) -> EventFacts | None:
    """The indexed columns and origin of one event, or None if it is not in the index."""
    cursor = conn.execute(
        f"SELECT events.*, {_LOOKED_UP_SELECT}, f.path FROM {EVENTS_WITH_LOOKUPS} "
        "LEFT JOIN files f ON f.id = events.file_id WHERE events.id = ?",
        (event_id,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    names = [description[0] for description in cursor.description]
    columns = dict(zip(names, row))
    columns["eventTime"] = event_time_text_of(columns["eventTime"])
    return EventFacts(event_id, columns, columns.pop("path"), columns.get("record_index"))


#: The three ways trailtui keys an actor (issue: principal, session, credential), plus the
#: session-level ``actor`` key of the list's actor column: name -> ``events`` column. The
#: meanings are those of :func:`trailtui.core.ingest.extract.principal_key` and ``session_key``, and of
#: ``userIdentity.accessKeyId`` ("CloudTrail userIdentity element", AWS CloudTrail User Guide).
IDENTITY_KEYS: dict[str, str] = {
    "principal": "principalKey",
    "session": "sessionKey",
    "credential": "userIdentity_accessKeyId",
    "actor": "actorKey",
}


def identity_condition(by: str, value: str) -> tuple[str, tuple]:
    """SQL condition (on ``events``) and parameters for "the events of this identity".

    ``by`` is a key of :data:`IDENTITY_KEYS`; identity columns are looked up in the small
    ``actors`` table and reached through the ``events_actorId`` index. Raises ValueError for an
    unknown ``by``.
    """
    column = IDENTITY_KEYS.get(by)
    if column is None:
        raise ValueError(f"unknown identity key {by!r}: one of {', '.join(IDENTITY_KEYS)}")
    if column in ACTOR_COLUMNS:
        return f'"actorId" IN (SELECT id FROM actors WHERE "{column}" = ?)', (value,)
    return f'"{column}" = ?', (value,)


@dataclass(frozen=True)
class ActorTotals:
    """One identity's activity across the whole index.

    ``by`` says how it is keyed (a key of :data:`IDENTITY_KEYS`) and ``actor_key`` is the key's
    value. ``events`` and ``errors`` are counts; ``source_ips`` the number of distinct
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
    by: str = "actor"


def actor_totals(conn: sqlite3.Connection, actor_key: str, *, by: str = "actor") -> ActorTotals:
    """Totals for the events of one identity: ``actor_key`` is the value of the
    :data:`IDENTITY_KEYS` column named by ``by`` (default: ``actorKey``, see
    ``extract.actor_key``). Read from the ``events_actorId`` index alone for identity columns.
    Raises ValueError for an unknown ``by``."""
    condition, params = identity_condition(by, actor_key)
    events, errors, source_ips, first_seen, last_seen = conn.execute(
        "SELECT count(*), count(nullif(\"errorCode\", '')), count(DISTINCT \"sourceIPAddress\"), "
        f"{FIRST_TIME_SQL}, {LAST_TIME_SQL} FROM events WHERE {condition}",
        params,
    ).fetchone()
    top = conn.execute(
        f'SELECT "eventName", count(*) AS n FROM events WHERE {condition} GROUP BY "eventName" '
        "ORDER BY n DESC, \"eventName\" LIMIT 5",
        params,
    ).fetchall()
    return ActorTotals(
        actor_key, events, errors, source_ips, [(name or "", n) for name, n in top], first_seen, last_seen, by
    )


@dataclass(frozen=True)
class CredentialGrant:
    """An event that handed out an access key, and what that key did afterwards.

    ``event_id`` is the granting event (``events.id``); ``eventName`` (AssumeRole, GetSessionToken,
    CreateAccessKey, ...) and ``eventTime`` (UTC ISO-8601) are its own; ``grantor`` is the
    display name of who called it and ``grantor_principal``/``grantor_key`` its principal and the
    access key it signed with. ``access_key_id`` is the key it handed out; ``used_events`` counts
    the indexed events signed with that key, whose principal and session (of the first such
    event) are ``principal`` and ``session`` (None when the key was never seen in use).
    """

    event_id: int
    eventName: str | None
    eventTime: str | None
    grantor: str | None
    grantor_principal: str | None
    grantor_key: str | None
    access_key_id: str
    used_events: int
    principal: str | None
    session: str | None


_GRANT_TIME = event_time_text_sql('g."eventTime"')
_GRANT_SELECT = (
    f'SELECT g.id, g."eventName", {_GRANT_TIME}, g."actor", '
    '(SELECT a."principalKey" FROM actors a WHERE a.id = g."actorId"), g."userIdentity_accessKeyId", '
    'g."issuedAccessKeyId", '
    '(SELECT count(*) FROM events u WHERE u."userIdentity_accessKeyId" = g."issuedAccessKeyId"), '
    '(SELECT a."principalKey" FROM events u JOIN actors a ON a.id = u."actorId" '
    ' WHERE u."userIdentity_accessKeyId" = g."issuedAccessKeyId" LIMIT 1), '
    '(SELECT u."sessionKey" FROM events u WHERE u."userIdentity_accessKeyId" = g."issuedAccessKeyId" LIMIT 1) '
    "FROM events g"
)


def grant_of_key(conn: sqlite3.Connection, access_key_id: str) -> CredentialGrant | None:
    """The event that handed out ``access_key_id`` (the chain one step up), or None when no
    indexed event did (a key created before the logs begin, or by an unlogged path)."""
    row = conn.execute(
        f'{_GRANT_SELECT} WHERE g."issuedAccessKeyId" = ? ORDER BY g."eventTime" LIMIT 1', (access_key_id,)
    ).fetchone()
    return CredentialGrant(*row) if row else None


def grant_by_event(conn: sqlite3.Connection, event_id: int) -> CredentialGrant | None:
    """What event ``event_id`` handed out, if it handed out a key (the chain one step down)."""
    row = conn.execute(f'{_GRANT_SELECT} WHERE g.id = ? AND g."issuedAccessKeyId" IS NOT NULL', (event_id,)).fetchone()
    return CredentialGrant(*row) if row else None


def credential_chain(conn: sqlite3.Connection, access_key_id: str | None, *, limit: int = 8) -> list[CredentialGrant]:
    """The grants behind ``access_key_id``, nearest first: the event that issued it, then the
    event that issued the key that event was signed with, and so on (role chaining), up to
    ``limit`` steps and stopping at a key already seen. Empty when no indexed event issued it."""
    chain: list[CredentialGrant] = []
    seen: set[str] = set()
    key = access_key_id
    while key and key not in seen and len(chain) < limit:
        seen.add(key)
        grant = grant_of_key(conn, key)
        if grant is None:
            break
        chain.append(grant)
        key = grant.grantor_key
    return chain


def grants_made(conn: sqlite3.Connection, by: str, value: str, *, limit: int = 50) -> tuple[int, list[CredentialGrant]]:
    """The key-issuing events made by one identity (the chain's steps down from it): the total
    number and up to ``limit`` of them, newest first. ``by``/``value`` as in :func:`actor_totals`."""
    condition, params = identity_condition(by, value)
    # The condition's bare column names are g's: the partial index of issuing events is scanned.
    where = f'g."issuedAccessKeyId" IS NOT NULL AND {condition}'
    total = conn.execute(f"SELECT count(*) FROM events g WHERE {where}", params).fetchone()[0]
    rows = conn.execute(f'{_GRANT_SELECT} WHERE {where} ORDER BY g."eventTime" DESC LIMIT ?', (*params, limit)).fetchall()
    return total, [CredentialGrant(*row) for row in rows]


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


def skipped_files(conn: sqlite3.Connection, limit: int = 10_000) -> list[LoadProblem]:
    """The files read and skipped (digest files, files that are not CloudTrail), each as a
    LoadProblem whose ``position`` is ``"skipped"`` and ``message`` the reason."""
    rows = conn.execute(
        "SELECT path, IFNULL(reason, 'skipped') FROM files WHERE outcome = 'skipped' ORDER BY path LIMIT ?", (limit,)
    )
    return [LoadProblem(path, "skipped", reason) for path, reason in rows]


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
