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
from trailtui.core.s3 import s3_level_sql

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

#: Columns a list or an export can show besides the ``events`` table's own (``schema.EVENT_COLUMNS``):
#: name -> SQL expression over ``events``. ``s3Level`` is the S3 user guide's level of the call
#: (``account``/``bucket``/``object``, see :mod:`trailtui.core.s3`); ``bucketName``, ``object``
#: and ``userArn`` are the column names of the guide's Athena examples ("Identifying Amazon S3
#: requests using CloudTrail") for ``requestParameters.bucketName``, ``requestParameters.key``
#: and ``userIdentity.arn``.
EXTRA_COLUMNS: dict[str, str] = {
    "s3Level": s3_level_sql(),
    "bucketName": '"requestParameters_bucketName"',
    "object": '"requestParameters_key"',
    "userArn": '"userIdentity_arn"',
}

#: The names of :data:`LIST_COLUMNS`: what the list fetches unless told otherwise.
DEFAULT_LIST_COLUMNS: tuple[str, ...] = tuple(column for column, _ in LIST_COLUMNS)


def column_sql(name: str) -> str:
    """The SELECT expression of a column name: an ``events`` column (``schema.EVENT_COLUMNS``),
    ``id``, or one of :data:`EXTRA_COLUMNS` (``<expr> AS "name"``). Raises ValueError for any
    other name (names never come from user text unchecked)."""
    if name in EXTRA_COLUMNS:
        return f'{EXTRA_COLUMNS[name]} AS "{name}"'
    return f'"{_checked(name)}"'


def is_known_column(name: str) -> bool:
    """True if :func:`column_sql` accepts ``name``."""
    from trailtui.core.schema import EVENT_COLUMN_NAMES

    return name in EXTRA_COLUMNS or name in EVENT_COLUMN_NAMES


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


@dataclass(frozen=True)
class SortOrder:
    """The list's order: by ``column`` (a ``core.columns`` name), descending or not.
    (Interim: only ``eventTime`` is served until the sorted query engine lands.)"""

    column: str = "eventTime"
    descending: bool = True


class EventQuery:
    """The events matching one filter, in time order (newest first unless ``newest_first=False``).

    Events without a time sort after the others, in both orders.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        compiled: CompiledFilter,
        *,
        newest_first: bool = True,
        columns: tuple[str, ...] | list[str] | None = None,
        sort: SortOrder | None = None,
    ) -> None:
        if sort is not None:
            if sort.column != "eventTime":
                raise NotImplementedError("sorting by other columns than eventTime")
            newest_first = sort.descending
        self.sort = sort or SortOrder("eventTime", newest_first)
        self.needs_listing = False
        self.conn = conn
        self.compiled = compiled
        self.newest_first = newest_first
        #: The columns :meth:`page` and :meth:`rows_for_ids` fetch (default :data:`DEFAULT_LIST_COLUMNS`).
        self.columns: tuple[str, ...] = tuple(columns) if columns else DEFAULT_LIST_COLUMNS
        fetched = self.columns if "errorCode" in self.columns else (*self.columns, "errorCode")
        self._fetched = fetched
        self._list_select = "id, " + ", ".join(column_sql(name) for name in fetched)
        # The list's order as segments read one after the other: (extra condition, ORDER BY,
        # the same order reversed). Events without a time sort last both ways: newest first,
        # SQLite's NULLs (lowest) come last by themselves; oldest first they are a second
        # segment, because "NULLS LAST" on an ascending time index costs a sort (368 ms at 1M).
        if newest_first:
            self._segments: tuple[tuple[str, str, str], ...] = (
                ("", 'ORDER BY "eventTime" DESC, id DESC', 'ORDER BY "eventTime" ASC, id ASC'),
            )
        else:
            self._segments = (
                ('"eventTime" IS NOT NULL', 'ORDER BY "eventTime" ASC, id ASC', 'ORDER BY "eventTime" DESC, id DESC'),
                ('"eventTime" IS NULL', "ORDER BY id ASC", "ORDER BY id DESC"),
            )
        self._untimed: int | None = None  # matches without a time (oldest first), counted once

    def position_of(self, event_id: int) -> int | None:
        """0-based position of ``event_id`` in the list, None if it does not match (interim)."""
        row = self.conn.execute(
            f'SELECT "eventTime" FROM events WHERE id = ? AND ({self.compiled.where})', (event_id, *self.compiled.params)
        ).fetchone()
        if row is None:
            return None
        (time_value,) = row
        where, params = self.compiled.where, self.compiled.params
        if self.newest_first:
            if time_value is None:
                sql = (f'SELECT (SELECT count(*) FROM events WHERE ({where}) AND "eventTime" IS NOT NULL) + '
                       f'(SELECT count(*) FROM events WHERE ({where}) AND "eventTime" IS NULL AND id > ?)')
                return self.conn.execute(sql, (*params, *params, event_id)).fetchone()[0]
            sql = (f'SELECT count(*) FROM events WHERE ({where}) AND ("eventTime" > ? OR ("eventTime" = ? AND id > ?))')
            return self.conn.execute(sql, (*params, time_value, time_value, event_id)).fetchone()[0]
        if time_value is None:
            sql = (f'SELECT (SELECT count(*) FROM events WHERE ({where}) AND "eventTime" IS NOT NULL) + '
                   f'(SELECT count(*) FROM events WHERE ({where}) AND "eventTime" IS NULL AND id < ?)')
            return self.conn.execute(sql, (*params, *params, event_id)).fetchone()[0]
        sql = f'SELECT count(*) FROM events WHERE ({where}) AND ("eventTime" < ? OR ("eventTime" = ? AND id < ?))'
        return self.conn.execute(sql, (*params, time_value, time_value, event_id)).fetchone()[0]

    def count(self) -> int:
        """Number of matching events."""
        sql = f"SELECT count(*) FROM events WHERE {self.compiled.where}"
        return self.conn.execute(sql, self.compiled.params).fetchone()[0]

    def page(self, offset: int, limit: int, *, dense: bool = False, total: int | None = None) -> list[EventRow]:
        """Rows ``offset`` .. ``offset + limit - 1`` of the list (fewer at the end).

        ``dense``: the filter matches a large share of all events (see :meth:`is_dense`), so
        walking the time index and testing each event finds a screenful at once, where the
        planner's choice (the filter's own index) would sort every match first.
        ``total``: the number of matches, if known (:meth:`count`). A page in the second half is
        then read from the other end of the order and reversed: ``OFFSET`` walks every row it
        skips, so ``G`` (the last page of a million) skips none instead of 999,950.
        """
        offset = max(0, offset)
        if len(self._segments) == 1:
            return self._segment_page(self._segments[0], offset, limit, dense, total)
        timed, untimed = self._segments
        untimed_count = self._untimed_count()
        timed_count = total - untimed_count if total is not None else self._count_where(timed[0])
        rows: list[EventRow] = []
        if offset < timed_count:
            rows = self._segment_page(timed, offset, min(limit, timed_count - offset), dense, timed_count)
        if offset + limit > timed_count:
            start = max(0, offset - timed_count)
            rows += self._segment_page(untimed, start, offset + limit - max(offset, timed_count), False, untimed_count)
        return rows

    def _where(self, extra: str) -> str:
        return f"({self.compiled.where}) AND {extra}" if extra else self.compiled.where

    def _count_where(self, extra: str) -> int:
        sql = f"SELECT count(*) FROM events WHERE {self._where(extra)}"
        return self.conn.execute(sql, self.compiled.params).fetchone()[0]

    def _untimed_count(self) -> int:
        if self._untimed is None:
            self._untimed = self._count_where('"eventTime" IS NULL')
        return self._untimed

    def _segment_page(
        self, segment: tuple[str, str, str], offset: int, limit: int, dense: bool, total: int | None
    ) -> list[EventRow]:
        extra, order, reverse_order = segment
        if limit <= 0:
            return []
        source = "events INDEXED BY events_eventTime" if dense else "events"
        where = self._where(extra)
        if total is not None and offset < total and 2 * offset + limit > total:
            limit = min(limit, total - offset)
            sql = f"SELECT {self._list_select} FROM {source} WHERE {where} {reverse_order} LIMIT ? OFFSET ?"
            rows = self.conn.execute(sql, (*self.compiled.params, limit, total - offset - limit)).fetchall()
            return [self._row(row) for row in reversed(rows)]
        sql = f"SELECT {self._list_select} FROM {source} WHERE {where} {order} LIMIT ? OFFSET ?"
        return [self._row(row) for row in self.conn.execute(sql, (*self.compiled.params, limit, offset))]

    def _row(self, row: tuple) -> EventRow:
        return EventRow(row[0], dict(zip(self._fetched, row[1:])))

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
        rows = self.conn.execute(f"SELECT {self._list_select} FROM events WHERE id IN ({marks})", ids)
        found = {row[0]: self._row(row) for row in rows}
        return [found[event_id] for event_id in ids if event_id in found]

    def iter_ids(self, limit: int | None = None) -> Iterator[int]:
        """The matching ``events.id`` values in list order (at most ``limit``)."""
        for (event_id,) in self._iter_select("id", limit):
            yield event_id

    def iter_rows(self, columns: list[str], limit: int | None = None) -> Iterator[tuple]:
        """Matching events as tuples of ``columns`` (names from ``schema.EVENT_COLUMNS`` or
        :data:`EXTRA_COLUMNS`), in list order."""
        yield from self._iter_select(", ".join(column_sql(column) for column in columns), limit)

    def _iter_select(self, select: str, limit: int | None) -> Iterator[tuple]:
        """``select`` over the matches, segment after segment, at most ``limit`` rows."""
        left = limit
        for extra, order, _ in self._segments:
            if left is not None and left <= 0:
                return
            sql = f"SELECT {select} FROM events WHERE {self._where(extra)} {order}"
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


#: The three ways trailtui keys an actor (issue: principal, session, credential), plus the
#: session-level ``actor`` key of the list's actor column: name -> ``events`` column. The
#: meanings are those of :func:`trailtui.core.extract.principal_key` and ``session_key``, and of
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
    from trailtui.core.schema import ACTOR_COLUMNS

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
        f'min("eventTime"), max("eventTime") FROM events WHERE {condition}',
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


_GRANT_SELECT = (
    'SELECT g.id, g."eventName", g."eventTime", g."actor", g."principalKey", g."userIdentity_accessKeyId", '
    'g."issuedAccessKeyId", '
    '(SELECT count(*) FROM events u WHERE u."userIdentity_accessKeyId" = g."issuedAccessKeyId"), '
    '(SELECT u."principalKey" FROM events u WHERE u."userIdentity_accessKeyId" = g."issuedAccessKeyId" LIMIT 1), '
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
