"""The filtered events as a whole: value counts of a field, actors ranked, events over time.

Three headless views over the events one :class:`~trailtui.core.filter.CompiledFilter` matches,
each one SQL query (``GROUP BY`` over ``WHERE {compiled.where}``) returning a small result, so
the app's frequency table, actors view and timeline never hold the events themselves:

- :func:`value_counts`: the values of one field with their counts (VisiData's frequency table).
- :func:`actor_ranking`: one row per actor (principal, session or credential) with its events,
  errors, distinct source IPs and user agents, first and last seen.
- :func:`time_histogram`: the events per time bucket, the bucket size chosen from the span.

And the filter text that drills into one row: :func:`value_term`, :func:`actor_term`,
:func:`with_time_range`. Values are quoted so the grammar reads them back exactly
(:func:`trailtui.core.filter.terms.quote_value`); attacker-controlled text never becomes SQL (values are bound parameters,
column names come from the fixed tables below).

Field meanings: "CloudTrail record contents" and "CloudTrail userIdentity element" (AWS CloudTrail
User Guide).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass

from trailtui.core.columns import COLUMNS
from trailtui.core.ingest.extract import ANONYMOUS_PRINCIPAL, principal_name
from trailtui.core.filter import FIELDS, CompiledFilter
from trailtui.core.filter.terms import field_term as term
from trailtui.core.filter.terms import quote_value
from trailtui.core.query import FIRST_TIME_SQL, IDENTITY_KEYS, LAST_TIME_SQL
from trailtui.core.store.schema import EVENTS_WITH_LOOKUPS, LOOKUP_COLUMNS, RECORD_COLUMN_NAMES, joined_column_sql
from trailtui.core.times import epoch_seconds, event_time_text_of

# ----------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class FacetField:
    """A field the frequency table can count.

    ``name`` is its CloudTrail name as shown (``userIdentity.arn``); ``column`` the record
    column counted (``schema.RECORD_COLUMNS``); ``filter_field`` the grammar field of the term
    that selects one value (``eventName:GetObject``).
    """

    name: str
    column: str
    filter_field: str


#: The fields worth counting (the catalogue's ``facet`` columns), in the order the frequency
#: screen cycles through them: the catalogue's.
FACET_FIELDS: tuple[FacetField, ...] = tuple(
    FacetField(column.title, column.reads, column.field)
    for column in COLUMNS
    if column.facet and column.reads is not None and column.field is not None
)

#: Other names list columns go by (the catalogue's columns that read another ``events``
#: column: the S3 user guide's Athena names ``bucketName``, ``object``, ``userArn``), lowercase.
_COLUMN_ALIASES: dict[str, str] = {
    catalogued.name.lower(): catalogued.reads
    for catalogued in COLUMNS
    if catalogued.reads is not None and catalogued.reads != catalogued.name
}

_FACETS_BY_KEY: dict[str, FacetField] = {
    **{facet.column.lower(): facet for facet in FACET_FIELDS},
    **{facet.name.lower(): facet for facet in FACET_FIELDS},
}


def facet_field(name: str) -> FacetField | None:
    """The :data:`FACET_FIELDS` entry whose CloudTrail name or ``events`` column is ``name``
    (any case; also the list's ``bucketName``, ``object``, ``userArn``), or None."""
    key = name.lower()
    return _FACETS_BY_KEY.get(_COLUMN_ALIASES.get(key, key).lower())


def value_term(field: FacetField, value: str | None) -> str:
    """The filter term selecting the events whose ``field`` is ``value``.

    ``None`` or ``""`` (missing) gives ``-field:*`` (the grammar's "field absent or empty"). A
    ``sourceIPAddress`` holding a ``/`` or an ``eventSource`` without a ``.`` cannot be written
    as an exact value (the grammar reads them as a CIDR network / adds ``.amazonaws.com``): they
    get a trailing ``*``, which may also match longer values.
    """
    if not value:
        return f"-{field.filter_field}:*"
    kind = FIELDS[field.filter_field].kind if field.filter_field in FIELDS else "text"
    if (kind == "ip" and "/" in value) or (kind == "source" and "." not in value):
        quoted = quote_value(value)
        body = quoted[1:-1] if quoted.startswith('"') else quoted
        return f'{field.filter_field}:"{body}*"'
    return term(field.filter_field, value)


# ----------------------------------------------------------------------------- value counts

#: How many values :func:`value_counts` returns unless told otherwise.
VALUE_COUNT_LIMIT = 500


@dataclass(frozen=True)
class ValueCount:
    """One value of a field and the number of matching events that have it; ``value`` None
    stands for "missing" (the field absent, null or empty)."""

    value: str | None
    count: int


@dataclass(frozen=True)
class ValueCounts:
    """The frequency table of one field over a filter.

    ``rows``: at most ``limit`` values, most frequent first (ties by value, case-insensitive);
    ``distinct``: how many different values there are in all (missing counts as one);
    ``total``: the number of matching events (the sum over every value, shown or not).
    """

    field: FacetField
    rows: list[ValueCount]
    distinct: int
    total: int


def value_counts(
    conn: sqlite3.Connection, compiled: CompiledFilter, field: FacetField, *, limit: int = VALUE_COUNT_LIMIT
) -> ValueCounts:
    """Count the values of ``field`` among the events ``compiled`` matches.

    Values compare as the column does (case-insensitively), as the filter's ``field:value`` does,
    so a row's count is the number of events its :func:`value_term` adds to the filter. NULL and
    ``""`` are one "missing" row (value None). One query: a ``GROUP BY`` of the column (over its
    index when the filter is empty); on a synthetic table of 1M events (this project's 2-core
    machine) about 50 ms for an indexed column, 0.5 s for ``userAgent``. Raises
    ``sqlite3.OperationalError`` when interrupted.
    """
    column = _checked_column(field.column)
    lookup = LOOKUP_COLUMNS.get(column)
    if lookup is not None:
        # Kept once per combination in actors or contexts: count per id, then per value.
        table, id_column = lookup
        counted = (
            f'SELECT t."{column}" AS v, g.n AS n FROM (SELECT "{id_column}", count(*) AS n FROM events '
            f'WHERE {compiled.where} GROUP BY "{id_column}") g LEFT JOIN {table} t ON t.id = g."{id_column}"'
        )
    else:
        counted = f'SELECT "{column}" AS v, count(*) AS n FROM events WHERE {compiled.where} GROUP BY "{column}"'
    sql = (
        "SELECT value, n, count(*) OVER (), sum(n) OVER () FROM ("
        "  SELECT nullif(v, '') AS value, sum(n) AS n FROM ("
        f"    {counted}"
        "  ) GROUP BY nullif(v, '')"
        ") ORDER BY n DESC, value COLLATE NOCASE LIMIT ?"
    )
    rows = conn.execute(sql, (*compiled.params, max(1, limit))).fetchall()
    if not rows:
        return ValueCounts(field, [], 0, 0)
    return ValueCounts(field, [ValueCount(value, n) for value, n, _, _ in rows], rows[0][2], rows[0][3])


# ---------------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class ActorGrouping:
    """One way to tell actors apart: the ``events`` ``column`` whose values are the actors, the
    grammar ``filter_field`` that selects one of them, and a ``description`` for the screen."""

    name: str
    column: str
    filter_field: str
    description: str


#: The groupings the actors view switches between, in that order: the three ways trailtui keys
#: an actor (``query.IDENTITY_KEYS``). ``principal``: the IAM user, root, the role behind a
#: session, the service...; ``session``: one assumed-role or federated session; ``credential``:
#: one access key (``userIdentity.accessKeyId``).
ACTOR_GROUPINGS: dict[str, ActorGrouping] = {
    name: ActorGrouping(name, IDENTITY_KEYS[name], field, description)
    for name, field, description in (
        ("principal", "principal", "who: user, root, role behind a session, service"),
        ("session", "session", "one session (role session, federated, console)"),
        ("credential", "userIdentity.accessKeyId", "one access key (AKIA…, ASIA…)"),
    )
}

#: Orders of :func:`actor_ranking`: name -> SQL ``ORDER BY`` over its result columns.
ACTOR_SORTS: dict[str, str] = {
    "events": "events DESC, key COLLATE NOCASE",
    "errors": "errors DESC, events DESC, key COLLATE NOCASE",
    "source_ips": "source_ips DESC, events DESC, key COLLATE NOCASE",
    "user_agents": "user_agents DESC, events DESC, key COLLATE NOCASE",
    "first_seen": "first_seen IS NULL, first_seen, key COLLATE NOCASE",
    "last_seen": "last_seen DESC, key COLLATE NOCASE",
    "actor": "actor IS NULL, actor COLLATE NOCASE, key COLLATE NOCASE",
}

#: How many actors :func:`actor_ranking` returns unless told otherwise.
ACTOR_LIMIT = 500


@dataclass(frozen=True)
class ActorRow:
    """One actor of the filtered events.

    ``key``: the grouping column's value (None: events without one); ``actor``: the display
    name (``events.actor``) of its events (None when they have several); ``events`` and ``errors`` (events with an
    ``errorCode``) are counts; ``source_ips`` / ``user_agents`` the numbers of distinct
    ``sourceIPAddress`` / ``userAgent`` values (missing ones not counted); ``first_seen`` /
    ``last_seen`` UTC ISO-8601 ``eventTime`` (None when no event has a time); ``account`` the
    ``userIdentity.accountId`` of its events (None when they have several).
    """

    key: str | None
    actor: str | None
    events: int
    errors: int
    source_ips: int
    user_agents: int
    first_seen: str | None
    last_seen: str | None
    account: str | None


@dataclass(frozen=True)
class ActorRanking:
    """The result of :func:`actor_ranking`: ``rows`` in the asked order (at most ``limit``),
    ``actors`` the number of actors in all, ``total`` the number of matching events."""

    grouping: ActorGrouping
    sort: str
    rows: list[ActorRow]
    actors: int
    total: int


def actor_ranking(
    conn: sqlite3.Connection,
    compiled: CompiledFilter,
    grouping: ActorGrouping,
    *,
    sort: str = "events",
    limit: int = ACTOR_LIMIT,
) -> ActorRanking:
    """Rank the actors of the events ``compiled`` matches, grouped by ``grouping.column``.

    ``sort`` is a key of :data:`ACTOR_SORTS` (default: most events first); the top ``limit``
    rows in that order are returned. One ``GROUP BY`` query over the events joined to their
    actors and contexts; on the benchmark corpus of 1M events (2 cores) 2.6 s unfiltered by
    principal, 4.3 s by session, 6.5 s by credential (the distinct counts sort each group),
    0.5-0.9 s for ``actor:*alice*``'s 115k matches. Raises
    ValueError for an unknown ``sort``, ``sqlite3.OperationalError`` when interrupted.
    """
    order = ACTOR_SORTS.get(sort)
    if order is None:
        raise ValueError(f"unknown sort {sort!r}: one of {', '.join(ACTOR_SORTS)}")
    key = joined_column_sql(_checked_column(grouping.column))
    account, agent = joined_column_sql("userIdentity_accountId"), joined_column_sql("userAgent")
    sql = (
        "SELECT key, actor, events, errors, source_ips, user_agents, first_seen, last_seen, account, "
        "count(*) OVER (), sum(events) OVER () FROM ("
        f"  SELECT {key} AS key, "
        # The display name, unless the group holds several (events without a session, ...).
        '  CASE WHEN min(events."actor") = max(events."actor") THEN max(events."actor") END AS actor, '
        "  count(*) AS events, count(nullif(events.\"errorCode\", '')) AS errors, "
        "  count(DISTINCT nullif(events.\"sourceIPAddress\", '') COLLATE NOCASE) AS source_ips, "
        f"  count(DISTINCT nullif({agent}, '') COLLATE NOCASE) AS user_agents, "
        f"  {FIRST_TIME_SQL} AS first_seen, {LAST_TIME_SQL} AS last_seen, "
        # The account, unless the group spans several (events without a session, ...).
        f"  CASE WHEN min({account}) = max({account}) THEN max({account}) END AS account "
        f"  FROM {EVENTS_WITH_LOOKUPS} WHERE {compiled.where} GROUP BY key"
        f") ORDER BY {order} LIMIT ?"
    )
    rows = conn.execute(sql, (*compiled.params, max(1, limit))).fetchall()
    if not rows:
        return ActorRanking(grouping, sort, [], 0, 0)
    actors = [ActorRow(*row[:9]) for row in rows]
    if grouping.name == "principal":
        actors = [_named_principal(row) for row in actors]
    return ActorRanking(grouping, sort, actors, rows[0][9], rows[0][10])


def _named_principal(row: ActorRow) -> ActorRow:
    """A principal's display name: a role (or a federated user's issuer) by its ARN's resource
    (``role/DataPipeline``), not by the one session that happened to match; unsigned requests
    in words. Other principals keep their events' shared display name."""
    key = row.key or ""
    if key == ANONYMOUS_PRINCIPAL or (key.startswith("arn:") and (":role/" in key or row.actor is None)):
        return dataclasses.replace(row, actor=principal_name(key))
    return row


def actor_term(grouping: ActorGrouping, row: ActorRow) -> str:
    """The filter term selecting ``row``'s events (``principal:…``, ``session:…``,
    ``userIdentity.accessKeyId:…``); events without the key give ``-field:*``."""
    return f"-{grouping.filter_field}:*" if not row.key else term(grouping.filter_field, row.key)


# -------------------------------------------------------------------------------- timeline

#: Bucket sizes :func:`time_histogram` chooses from, in seconds: 1, 2, 5, 10, 15, 30 minutes;
#: 1, 2, 3, 6, 12 hours; 1, 2 days; 1, 2 weeks; 30, 91, 365 days.
BUCKET_SECONDS: tuple[int, ...] = (
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400,
)

_DAY = 86400
_MONDAY = 4 * _DAY  # 1970-01-05, the first Monday after the epoch


@dataclass(frozen=True)
class TimeHistogram:
    """Matching events per time bucket.

    Bucket ``i`` covers ``[start + i * bucket_seconds, start + (i + 1) * bucket_seconds)``, in
    seconds since the epoch (UTC); ``counts[i]`` is its number of events. ``first``/``last`` are
    the earliest and latest ``eventTime`` (UTC ISO-8601) among the matches. Events without a
    time are not counted.
    """

    start: int
    bucket_seconds: int
    counts: tuple[int, ...]
    first: str
    last: str

    @property
    def total(self) -> int:
        """Events counted (the matches that have a time)."""
        return sum(self.counts)

    def bucket_start(self, index: int) -> int:
        """Start of bucket ``index``, seconds since the epoch (UTC)."""
        return self.start + index * self.bucket_seconds

    def bucket_range(self, index: int) -> tuple[str, str]:
        """The ``(since, until)`` times (UTC ``YYYY-MM-DDTHH:MM:SSZ``; since included, until
        excluded) that hold exactly the matches of bucket ``index``: the bucket, narrowed to the
        matches' first and last event (so the filter's own time bounds still hold)."""
        low = max(self.bucket_start(index), epoch_seconds(self.first))
        high = min(self.bucket_start(index + 1), epoch_seconds(self.last) + 1)
        return event_time_text_of(low), event_time_text_of(high)

    def index_of(self, moment: int) -> int | None:
        """The bucket holding ``moment`` (seconds since the epoch), or None if outside."""
        if moment < self.start:
            return None
        index = (moment - self.start) // self.bucket_seconds
        return index if index < len(self.counts) else None


def choose_buckets(first: int, last: int, max_buckets: int) -> tuple[int, int, int]:
    """``(start, bucket_seconds, buckets)`` for events from ``first`` to ``last`` (seconds since
    the epoch): the smallest of :data:`BUCKET_SECONDS` that needs at most ``max_buckets``
    buckets (the largest if none does). Buckets up to a day start at multiples of their size
    (hours on the hour, days at midnight UTC), weeks on Monday, longer ones at ``first``'s
    midnight."""
    max_buckets = max(1, max_buckets)
    for size in BUCKET_SECONDS:
        start = _align(first, size)
        buckets = (last - start) // size + 1
        if buckets <= max_buckets or size == BUCKET_SECONDS[-1]:
            return start, size, buckets
    raise AssertionError("unreachable")


def _align(moment: int, size: int) -> int:
    if size <= _DAY:
        return moment - moment % size
    if size % (7 * _DAY) == 0:
        return moment - (moment - _MONDAY) % size
    return moment - moment % _DAY


def time_histogram(conn: sqlite3.Connection, compiled: CompiledFilter, max_buckets: int) -> TimeHistogram | None:
    """The events ``compiled`` matches, counted per time bucket, at most ``max_buckets`` of them
    (see :func:`choose_buckets`). None when no match has a time.

    Two statements: the first and last ``eventTime`` (index lookups for most filters), then the
    counts. Without a filter, one index range count per bucket (about 40 ms on a synthetic table
    of 1M events); otherwise one ``GROUP BY`` of the time cut to the minute, hour or day (cost
    proportional to the matches: about 0.26 s for a filter matching 900k). Raises ``sqlite3.OperationalError``
    when interrupted.
    """
    where, params = compiled.where, compiled.params
    first, last = conn.execute(
        f'SELECT (SELECT min("eventTime") FROM events WHERE {where}), '
        f'(SELECT max("eventTime") FROM events WHERE {where})',
        (*params, *params),
    ).fetchone()
    if first is None or last is None:
        return None
    start, size, buckets = choose_buckets(first, last, max_buckets)
    counts = [0] * buckets
    if where == "1":
        edges = [start + i * size for i in range(buckets + 1)]
        pairs = ",".join("(?, ?)" for _ in range(buckets))
        values = [edge for i in range(buckets) for edge in (edges[i], edges[i + 1])]
        sql = (
            f"WITH b(lo, hi) AS (VALUES {pairs}) SELECT "
            '(SELECT count(*) FROM events WHERE "eventTime" >= b.lo AND "eventTime" < b.hi) FROM b'
        )
        for index, (n,) in enumerate(conn.execute(sql, values)):
            counts[index] = n
    else:
        # eventTime is epoch seconds: the bucket is arithmetic (floor division, start <= times).
        sql = (
            f'SELECT ("eventTime" - {start:d}) / {size:d} AS bucket, count(*) FROM events '
            f'WHERE ({where}) AND "eventTime" >= {start:d} GROUP BY bucket'
        )
        for index, n in conn.execute(sql, params):
            if 0 <= index < buckets:  # a loader may add events between the two statements
                counts[index] += n
    return TimeHistogram(start, size, tuple(counts), event_time_text_of(first), event_time_text_of(last))


def with_time_range(text: str, since: str, until: str) -> str:
    """Filter ``text`` with its top-level ``since:``/``until:`` terms (negated ones too) replaced
    by ``since:<since> until:<until>``; every other term kept as written (a text whose top level
    is an OR is kept whole, in parentheses, and the range ANDed to it)."""
    from trailtui.core.filter.terms import and_text, has_top_level_or

    if has_top_level_or(text):  # its time terms belong to one arm: the range is ANDed to the whole
        return and_text(text, f"since:{since}", f"until:{until}")
    kept = [token for token in split_terms(text) if not _is_time_term(token)]
    return and_text(" ".join(kept), f"since:{since}", f"until:{until}")


def _is_time_term(token: str) -> bool:
    bare = token[1:] if token.startswith("-") else token
    return bare.lower().startswith(("since:", "until:"))


def split_terms(text: str) -> list[str]:
    """The whitespace-separated terms of filter ``text``, quoted parts kept whole
    (``bucket:"a b" x`` -> ``['bucket:"a b"', 'x']``), as the grammar splits them."""
    terms: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        if quoted:
            current.append(char)
            if char == "\\" and index + 1 < len(text) and text[index + 1] in '"\\*':
                current.append(text[index + 1])
                index += 1
            elif char == '"':
                quoted = False
        elif char.isspace():
            if current:
                terms.append("".join(current))
                current = []
        else:
            current.append(char)
            quoted = char == '"'
        index += 1
    if current:
        terms.append("".join(current))
    return terms


def _checked_column(column: str) -> str:
    if column not in RECORD_COLUMN_NAMES:
        raise ValueError(f"unknown record column {column!r}")
    return column
