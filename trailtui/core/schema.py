"""The SQLite schema of a trailtui index.

An index file holds these tables (all times are UTC ISO-8601 strings, ``YYYY-MM-DDTHH:MM:SSZ``):

``events``
    One row per distinct CloudTrail event (deduplicated by ``eventID``). Column names are
    CloudTrail's record field names (see "CloudTrail record contents" in the AWS CloudTrail
    User Guide); a nested field's dots become underscores (``userIdentity.arn`` ->
    ``userIdentity_arn``). Text columns compare case-insensitively (``COLLATE NOCASE``) so the
    filter's case-insensitive equality and ``LIKE`` can use the indexes.
``event_raw``
    Original bytes of the events that are not a span of their file (the ``CloudTrailEvent``
    strings of lookup-events output), compressed (see :mod:`trailtui.core.rawstore`). Every
    other event is read back from its file (see :mod:`trailtui.core.originals`).
``events_fts``
    A contentless FTS5 table (``rowid`` = ``events.id``) over every string and number value of
    the event, for bare-word filters.
``files``
    One row per file seen: path, size (bytes), mtime (ns), outcome, reason, counts. What makes
    reopening a tree incremental.
``load_errors``
    One row per problem found while loading: a whole file (truncated gzip, invalid JSON, ...) or
    one record of it (a record that is not an object, ...). ``position`` is human text such as
    ``line 3, column 17`` or ``record 12``.
``meta``
    ``schema_version`` and the trailtui version that wrote the index.
"""

from __future__ import annotations

#: Bumped whenever the layout changes; an index with another version is rebuilt.
SCHEMA_VERSION = 2

#: Columns of ``events`` that come from the event, in insert order (``id`` is assigned by the
#: loader). Each is ``(column, SQL type)``.
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventID", "TEXT NOT NULL"),
    ("eventTime", "TEXT"),
    ("eventName", "TEXT COLLATE NOCASE"),
    ("eventSource", "TEXT COLLATE NOCASE"),
    ("awsRegion", "TEXT COLLATE NOCASE"),
    ("sourceIPAddress", "TEXT COLLATE NOCASE"),
    # IPv4 sourceIPAddress as an integer (NULL for IPv6, service host names, junk): CIDR filters
    # become an indexed BETWEEN.
    ("sourceIPv4", "INTEGER"),
    ("userAgent", "TEXT COLLATE NOCASE"),
    ("errorCode", "TEXT COLLATE NOCASE"),
    ("errorMessage", "TEXT COLLATE NOCASE"),
    ("readOnly", "INTEGER"),
    ("eventType", "TEXT COLLATE NOCASE"),
    ("eventCategory", "TEXT COLLATE NOCASE"),
    ("managementEvent", "INTEGER"),
    ("recipientAccountId", "TEXT COLLATE NOCASE"),
    ("userIdentity_type", "TEXT COLLATE NOCASE"),
    ("userIdentity_arn", "TEXT COLLATE NOCASE"),
    ("userIdentity_accountId", "TEXT COLLATE NOCASE"),
    ("userIdentity_principalId", "TEXT COLLATE NOCASE"),
    ("userIdentity_accessKeyId", "TEXT COLLATE NOCASE"),
    ("userIdentity_userName", "TEXT COLLATE NOCASE"),
    ("userIdentity_invokedBy", "TEXT COLLATE NOCASE"),
    ("sessionIssuer_arn", "TEXT COLLATE NOCASE"),
    ("requestParameters_bucketName", "TEXT COLLATE NOCASE"),
    ("requestParameters_key", "TEXT COLLATE NOCASE"),
    ("requestParameters_vaultName", "TEXT COLLATE NOCASE"),
    # Display columns computed at load time (see trailtui.core.extract).
    ("resource", "TEXT COLLATE NOCASE"),
    ("actor", "TEXT COLLATE NOCASE"),
    ("actorKey", "TEXT COLLATE NOCASE"),
    # Where the event came from: files.id, the record's 0-based position in that file, and its
    # byte span in the file's decompressed content (NULL when the original is kept in event_raw).
    ("file_id", "INTEGER"),
    ("record_index", "INTEGER"),
    ("raw_offset", "INTEGER"),
    ("raw_length", "INTEGER"),
)

EVENT_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in EVENT_COLUMNS)

#: Indexes kept on ``events`` while a loader writes: the list's sort order and dedupe by eventID.
LOAD_INDEXES: tuple[tuple[str, str], ...] = (("events_eventTime", "eventTime"),)

#: Indexes for the filter fields users reach for first. A load into an empty index builds them
#: after the bulk insert (cheaper than maintaining them row by row).
EVENT_INDEXES: tuple[tuple[str, str], ...] = (
    ("events_eventName", "eventName"),
    ("events_eventSource", "eventSource"),
    ("events_sourceIPAddress", "sourceIPAddress"),
    ("events_sourceIPv4", "sourceIPv4"),
    ("events_errorCode", "errorCode"),
    ("events_actorKey", "actorKey"),
    ("events_userIdentity_arn", "userIdentity_arn"),
    ("events_userIdentity_accessKeyId", "userIdentity_accessKeyId"),
    ("events_bucket", "requestParameters_bucketName"),
    ("events_file", "file_id"),
)


def schema_sql() -> list[str]:
    """Return the ``CREATE`` statements of a fresh index, in execution order."""
    cols = ",\n  ".join(f'"{name}" {decl}' for name, decl in EVENT_COLUMNS)
    statements = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
        """CREATE TABLE IF NOT EXISTS files (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  size INTEGER,
  mtime_ns INTEGER,
  outcome TEXT NOT NULL,
  reason TEXT,
  events INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  indexed_at TEXT
)""",
        """CREATE TABLE IF NOT EXISTS load_errors (
  id INTEGER PRIMARY KEY,
  file_id INTEGER,
  path TEXT NOT NULL,
  position TEXT,
  message TEXT NOT NULL
)""",
        "CREATE INDEX IF NOT EXISTS load_errors_file ON load_errors(file_id)",
        f"CREATE TABLE IF NOT EXISTS events (\n  id INTEGER PRIMARY KEY,\n  {cols}\n)",
        'CREATE UNIQUE INDEX IF NOT EXISTS events_eventID ON events("eventID")',
        "CREATE TABLE IF NOT EXISTS event_raw (id INTEGER PRIMARY KEY, raw BLOB NOT NULL)",
        # Contentless: the text lives compressed in event_raw, FTS keeps only its index.
        "CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(body, content='', "
        "tokenize='unicode61 remove_diacritics 2')",
    ]
    statements += [index_sql(name, column) for name, column in LOAD_INDEXES + EVENT_INDEXES]
    return statements


def index_sql(name: str, column: str) -> str:
    """The ``CREATE INDEX`` statement of one of :data:`LOAD_INDEXES` / :data:`EVENT_INDEXES`."""
    return f'CREATE INDEX IF NOT EXISTS {name} ON events("{column}")'
