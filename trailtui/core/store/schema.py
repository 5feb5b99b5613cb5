"""The SQLite schema of a trailtui index.

An index file holds these tables (all times are UTC ISO-8601 strings, ``YYYY-MM-DDTHH:MM:SSZ``,
except ``events.eventTime``: whole seconds since the Unix epoch, see :mod:`trailtui.core.times`):

``events``
    One row per distinct CloudTrail event (deduplicated by ``eventID``). Column names are
    CloudTrail's record field names (see "CloudTrail record contents" in the AWS CloudTrail
    User Guide); a nested field's dots become underscores (``userIdentity.arn`` ->
    ``userIdentity_arn``). Text columns compare case-insensitively (``COLLATE NOCASE``) so the
    filter's case-insensitive equality and ``LIKE`` can use the indexes. The identity columns
    (:data:`ACTOR_ONLY_COLUMNS`) and the call's setting (:data:`CONTEXT_COLUMNS`) are not stored
    here but once per combination in ``actors`` and ``contexts`` (``events.actorId``,
    ``events.contextId``); :func:`column_sql` reads any record column wherever it lives.
``event_raw``
    Original bytes of the events that are not a span of their file (the ``CloudTrailEvent``
    strings of lookup-events output), compressed (see :mod:`trailtui.core.store.rawstore`). Every
    other event is read back from its file (see :mod:`trailtui.core.store.originals`).
``events_fts``
    A contentless FTS5 table (``rowid`` = ``events.id``) over every string and number value of
    the event, for bare-word filters.
``actors``
    Each distinct combination of :data:`ACTOR_COLUMNS` once (``events.actorId`` points here),
    keyed by its ``digest``: where ``userIdentity.arn``, ``.type``, ``.accountId``, ... live.
``contexts``
    Each distinct combination of :data:`CONTEXT_COLUMNS` (``userAgent``, ``awsRegion``,
    ``recipientAccountId``, ``eventType``, ``eventCategory``) once (``events.contextId``), keyed
    by its ``digest``.
``fts_todo``
    The loader's shards whose free-text bodies are still to go into ``events_fts`` (empty once a
    load is done): while it has rows, a bare-word filter sees only part of the events.
``column_values``
    The distinct values of the :data:`VALUE_LIST_COLUMNS`, so wildcard filters can match values
    first and events through an index.
``files``
    One row per file seen: path (an S3 object's ``s3://BUCKET/KEY``), size (bytes), mtime (ns;
    of the cached copy for S3), ``etag`` (S3's, else NULL), outcome, reason, counts. What makes
    reopening a tree, or a bucket, incremental.
``load_errors``
    One row per problem found while loading: a whole file (truncated gzip, invalid JSON, ...) or
    one record of it (a record that is not an object, ...). ``position`` is human text such as
    ``line 3, column 17`` or ``record 12``.
``meta``
    ``schema_version`` and the trailtui version that wrote the index.
``events_view``
    A view for other tools (``sqlite3``, sqlite-utils, Datasette): the event list's columns
    under CloudTrail's dotted names, and each event's file (see :func:`events_view_sql`).
"""

from __future__ import annotations

#: Bumped whenever the layout changes; an index with another version is rebuilt.
SCHEMA_VERSION = 18

#: The columns a decoded record gives (``ingest.extract.event_row`` and, last, the record's
#: place in its file from ``ingest.prepare``), in that order. Each is ``(column, SQL type)``.
#: Most are stored in ``events`` (:data:`EVENT_COLUMNS`); the identity columns of
#: :data:`ACTOR_ONLY_COLUMNS` only in ``actors``.
RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventID", "TEXT NOT NULL"),
    # Whole seconds since the Unix epoch, UTC (core.times converts): 4 bytes in the row and in
    # each index that orders by time, against 20 for CloudTrail's text.
    ("eventTime", "INTEGER"),
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
    # The request's signing and transport, as the S3 user guide identifies requests by them
    # ("Identifying Amazon S3 requests using CloudTrail": Signature Version 2, requests that
    # needed an ACL) and "CloudTrail record contents" documents tlsDetails, and a console
    # sign-in's MFA and result ("AWS Management Console sign-in events"): columns, so the rules
    # on them (the S3 user guide's questions, every console sign-in rule) do not read the
    # original of every candidate event (extract.request_details).
    ("additionalEventData_SignatureVersion", "TEXT COLLATE NOCASE"),
    ("additionalEventData_aclRequired", "TEXT COLLATE NOCASE"),
    ("tlsDetails_tlsVersion", "TEXT COLLATE NOCASE"),
    ("additionalEventData_MFAUsed", "TEXT COLLATE NOCASE"),
    ("responseElements_ConsoleLogin", "TEXT COLLATE NOCASE"),
    ("userIdentity_type", "TEXT COLLATE NOCASE"),
    ("userIdentity_arn", "TEXT COLLATE NOCASE"),
    ("userIdentity_accountId", "TEXT COLLATE NOCASE"),
    ("userIdentity_principalId", "TEXT COLLATE NOCASE"),
    ("userIdentity_accessKeyId", "TEXT COLLATE NOCASE"),
    ("userIdentity_userName", "TEXT COLLATE NOCASE"),
    ("userIdentity_invokedBy", "TEXT COLLATE NOCASE"),
    ("sessionIssuer_arn", "TEXT COLLATE NOCASE"),
    ("sessionIssuer_type", "TEXT COLLATE NOCASE"),
    ("requestParameters_bucketName", "TEXT COLLATE NOCASE"),
    ("requestParameters_key", "TEXT COLLATE NOCASE"),
    ("requestParameters_vaultName", "TEXT COLLATE NOCASE"),
    # Display columns computed at load time (see trailtui.core.ingest.extract).
    ("resource", "TEXT COLLATE NOCASE"),
    ("actor", "TEXT COLLATE NOCASE"),
    ("actorKey", "TEXT COLLATE NOCASE"),
    # The three keys of an actor (see trailtui.core.ingest.extract): the principal (IAM user, root, the
    # role behind a session, service, ...), the session (ARN @ creationDate), and the credential
    # (userIdentity_accessKeyId above).
    ("principalKey", "TEXT COLLATE NOCASE"),
    ("sessionKey", "TEXT COLLATE NOCASE"),
    # The access key this event hands out (AssumeRole*, GetFederationToken, GetSessionToken:
    # responseElements.credentials.accessKeyId; CreateAccessKey: responseElements.accessKey):
    # the link from a credential to the event that created it.
    ("issuedAccessKeyId", "TEXT COLLATE NOCASE"),
    # Where the event came from: the record's 0-based position in its file, and its
    # byte span in the file's decompressed content (NULL when the original is kept in event_raw).
    ("record_index", "INTEGER"),
    ("raw_offset", "INTEGER"),
    ("raw_length", "INTEGER"),
)

RECORD_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in RECORD_COLUMNS)

#: The identity columns of the ``actors`` table: one row per distinct combination, whose id
#: every event carries (``events.actorId``). Not ``sessionKey``: sessions can be nearly one per
#: event (the benchmark corpus has 500k in 1M events), which would make this table as big as
#: ``events``; a session filter finds its actors by ARN, then checks ``sessionKey``. ``actor:*alice*`` matches a few thousand actors,
#: then finds their events through one index (at 1M events, four OR-ed column lookups took
#: 54 ms).
ACTOR_COLUMNS: tuple[str, ...] = (
    "actorKey", "userIdentity_arn", "userIdentity_userName", "userIdentity_principalId", "actor",
    "principalKey", "userIdentity_type", "userIdentity_accountId", "userIdentity_invokedBy",
    "sessionIssuer_arn", "sessionIssuer_type",
)

#: Identity columns kept only in ``actors`` (narrow rows, issue #10: at 1M events they were 240
#: bytes of each 620-byte ``events`` row). ``actor`` stays in ``events`` too: the list's sort by
#: who reads it from ``events_actor``.
ACTOR_ONLY_COLUMNS: frozenset[str] = frozenset(ACTOR_COLUMNS) - {"actor"}

#: The columns of the ``contexts`` table: the repetitive text of the call's setting (the client,
#: the region, the receiving account, the kind of event), stored once per distinct combination
#: whose id every event carries (``events.contextId``) instead of in each row (90 bytes of text
#: per event in the benchmark corpus, a few hundred combinations). None of them has an index of
#: its own: a filter on one matches a few contexts, then reads the events' contextId.
CONTEXT_COLUMNS: tuple[str, ...] = (
    "userAgent", "awsRegion", "recipientAccountId", "eventType", "eventCategory",
    "additionalEventData_SignatureVersion", "additionalEventData_aclRequired", "tlsDetails_tlsVersion",
    "additionalEventData_MFAUsed", "responseElements_ConsoleLogin",
)

#: The record columns read through a lookup table rather than stored in ``events``: column ->
#: ``(table, events column holding its id)``.
LOOKUP_COLUMNS: dict[str, tuple[str, str]] = {
    **{name: ("actors", "actorId") for name in ACTOR_COLUMNS if name in ACTOR_ONLY_COLUMNS},
    **{name: ("contexts", "contextId") for name in CONTEXT_COLUMNS},
}

#: The columns of ``events`` (``id`` is assigned by the loader): the :data:`RECORD_COLUMNS`
#: not in :data:`LOOKUP_COLUMNS`, then ``file_id`` (``files.id``), ``actorId`` (``actors.id`` of
#: the event's identity combination) and ``contextId`` (``contexts.id``); ``crossAccount`` is
#: derived from both when the shard is written.
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    *((name, decl) for name, decl in RECORD_COLUMNS if name not in LOOKUP_COLUMNS),
    # 1 when the caller's userIdentity.accountId (not the anonymous principal) differs from
    # recipientAccountId, else NULL: is:crossaccount compares an actors column with a contexts
    # column, which per event cost two lookups (4 s at 1M); the shard writer decides it once
    # per (actor, context) pair.
    ("crossAccount", "INTEGER"),
    ("file_id", "INTEGER"),
    ("actorId", "INTEGER"),
    ("contextId", "INTEGER"),
)

EVENT_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in EVENT_COLUMNS)


def column_sql(name: str) -> str:
    """The SQL expression over ``events`` of the record column ``name`` (one of
    :data:`RECORD_COLUMN_NAMES` or :data:`EVENT_COLUMN_NAMES`): the quoted column for a stored
    one, a lookup of the event's row in ``actors`` or ``contexts`` for one of
    :data:`LOOKUP_COLUMNS`. Raises KeyError for any other name (it never builds SQL from
    unknown text)."""
    lookup = LOOKUP_COLUMNS.get(name)
    if lookup is not None:
        table, id_column = lookup
        return f'(SELECT {table}."{name}" FROM {table} WHERE {table}.id = events."{id_column}")'
    if name not in _STORED:
        raise KeyError(name)
    return f'"{name}"'


_STORED = frozenset(EVENT_COLUMN_NAMES)

#: ``FROM events`` joined to its lookup tables, for queries that read lookup columns on every
#: row they group (a join reads each row's actor and context once; a :func:`column_sql`
#: subquery per column and row cost twice as much). Use :func:`joined_column_sql` with it.
EVENTS_WITH_LOOKUPS = (
    'events LEFT JOIN actors AS event_actor ON event_actor.id = events."actorId" '
    'LEFT JOIN contexts AS event_context ON event_context.id = events."contextId"'
)
_JOINED_ALIASES = {"actors": "event_actor", "contexts": "event_context"}


def joined_column_sql(name: str) -> str:
    """The record column ``name`` over :data:`EVENTS_WITH_LOOKUPS` (always qualified: ``actors``
    has an ``actor`` column too). Raises KeyError for an unknown name."""
    lookup = LOOKUP_COLUMNS.get(name)
    if lookup is not None:
        return f'{_JOINED_ALIASES[lookup[0]]}."{name}"'
    if name not in _STORED:
        raise KeyError(name)
    return f'events."{name}"'


#: Indexes kept on ``events`` while a loader writes: the list's sort order and dedupe by eventID.
LOAD_INDEXES: tuple[tuple[str, str], ...] = (("events_eventTime", '"eventTime"'),)

#: Indexes for the filter fields users reach for first: ``(name, columns)``. Equality filters
#: on the leading column get their matches already in the list's time order from the second
#: column, so the first screen needs no sort. A load into an empty index builds them after the
#: bulk insert (cheaper than maintaining them row by row). They also serve the list's sort by
#: their leading column (``columns.Column.sort_index``): ``id`` follows ``eventTime`` because
#: the list breaks ties by ``events.id``; after ``errorCode`` (where the implicit rowid would
#: sit) each run of equal times would need a sort. At 1M events ``id`` adds 4 MB per index.
EVENT_INDEXES: tuple[tuple[str, str], ...] = (
    # errorCode rides along as a last column so "X is:error" counts from the index alone.
    ("events_eventName", '"eventName", "eventTime", id, "errorCode"'),
    ("events_eventSource", '"eventSource", "eventTime", id, "errorCode"'),
    ("events_sourceIPAddress", '"sourceIPAddress", "eventTime", id, "errorCode"'),
    ("events_sourceIPv4", '"sourceIPv4", "errorCode"'),
    ("events_errorCode", '"errorCode", "eventTime"'),
    ("events_userIdentity_accessKeyId", '"userIdentity_accessKeyId", "eventTime", id, "errorCode"'),
    ("events_bucket", '"requestParameters_bucketName", "eventTime", id, "errorCode"'),
    # The list sorted by actor (who): 49 MB at 1M events, where without it the first screen
    # took 1.1 s (a sort of every event) and listing the order 2.8 s. Filters on actor go
    # through the actors table and events_actorId below.
    ("events_actor", '"actor", "eventTime"'),
    ("events_file", '"file_id"'),
    # Every identity column (ACTOR_COLUMNS) is filtered through the actors table and this one
    # index, and the identity pane's totals (events, errors, first/last seen, distinct IPs, top
    # eventNames) are read from it alone. One index instead of one per identity column: at 1M
    # events the six it replaced took 273 MB.
    ("events_actorId", '"actorId", "eventTime", "errorCode", "eventName", "sourceIPAddress"'),
    # Few events issue keys: a partial index (see PARTIAL_INDEXES) stays tiny.
    ("events_issuedAccessKeyId", '"issuedAccessKeyId"'),
    # is:crossaccount, in time order; partial, so as small as the share of such events.
    ("events_crossAccount", '"eventTime", id'),
)

#: The ``WHERE`` clause of the partial indexes among :data:`EVENT_INDEXES`, by index name.
PARTIAL_INDEXES: dict[str, str] = {
    "events_issuedAccessKeyId": '"issuedAccessKeyId" IS NOT NULL',
    "events_crossAccount": '"crossAccount" = 1',
}

#: Text columns whose distinct values the loader records in ``column_values`` (not
#: ``accessKeyId``: temporary keys are nearly one per session, and keys are searched whole): a wildcard
#: filter (``actor:*alice*``) matches the few distinct values with LIKE, then finds the events
#: through the column's index, instead of running LIKE on every event.
VALUE_LIST_COLUMNS: frozenset[str] = frozenset(
    (
        "eventName", "eventSource", "awsRegion", "sourceIPAddress", "userAgent", "errorCode", "eventType",
        "eventCategory", "recipientAccountId", "userIdentity_type", "userIdentity_arn", "userIdentity_accountId",
        "userIdentity_principalId", "userIdentity_userName", "userIdentity_invokedBy",
        "sessionIssuer_arn", "sessionIssuer_type", "requestParameters_bucketName", "requestParameters_vaultName",
        "actor", "actorKey", "additionalEventData_SignatureVersion", "additionalEventData_aclRequired",
        "tlsDetails_tlsVersion", "additionalEventData_MFAUsed", "responseElements_ConsoleLogin",
    )
) - frozenset(LOOKUP_COLUMNS)  # the actors and contexts tables already hold their distinct values


#: The full-text table. Contentless: the text lives in the originals, FTS keeps only its index.
#: columnsize=0: no per-row token counts (they serve ranking, which filters do not use). The
#: loader may build a bulk load's copy of it in a scratch file beside the index build and copy
#: its shadow tables in (``store.free_text``): the same statement makes both, so they agree.
FREE_TEXT_TABLE_SQL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(body, content='', columnsize=0, "
    "tokenize='unicode61 remove_diacritics 2')"
)
#: The shadow tables FTS5 keeps a contentless, columnsize=0 table in (``_config`` holds only
#: settings): what a bulk load copies from its scratch build.
FREE_TEXT_SHADOW_TABLES = ("events_fts_data", "events_fts_idx")


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
  etag TEXT,
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
        "CREATE TABLE IF NOT EXISTS event_raw (id INTEGER PRIMARY KEY, raw BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS column_values (column_name TEXT NOT NULL, value TEXT NOT NULL COLLATE NOCASE, "
        "PRIMARY KEY (column_name, value)) WITHOUT ROWID",
        # digest: a hash of the combination (store.shard.actor_digest), the key every loader
        # worker's shard maps its actors by.
        "CREATE TABLE IF NOT EXISTS actors (id INTEGER PRIMARY KEY, digest BLOB NOT NULL, "
        + ", ".join(f"{name} TEXT COLLATE NOCASE" for name in ACTOR_COLUMNS)
        + ")",
        "CREATE UNIQUE INDEX IF NOT EXISTS actors_digest ON actors(digest)",
        # The same for the call's setting (CONTEXT_COLUMNS), keyed by the same kind of digest.
        "CREATE TABLE IF NOT EXISTS contexts (id INTEGER PRIMARY KEY, digest BLOB NOT NULL, "
        + ", ".join(f"{name} TEXT COLLATE NOCASE" for name in CONTEXT_COLUMNS)
        + ")",
        "CREATE UNIQUE INDEX IF NOT EXISTS contexts_digest ON contexts(digest)",
        # The shards of a bulk load whose free-text bodies are not in events_fts yet
        # (store.free_text): shard file, the id its local ids are added
        # to, and its event count.
        "CREATE TABLE IF NOT EXISTS fts_todo (shard TEXT PRIMARY KEY, base INTEGER NOT NULL, events INTEGER NOT NULL)",
        # Identity filters look actors up by these before reaching events through actorId.
        *(
            f"CREATE INDEX IF NOT EXISTS actors_{name} ON actors({name})"
            for name in ("actorKey", "principalKey", "userIdentity_arn", "userIdentity_accountId")
        ),
        FREE_TEXT_TABLE_SQL,
        # Detections (trailtui.core.detect.runner): each rule of the last run, with its hit
        # count, first/last hit (eventTime seconds) and the events.id it has run through;
        # and one row per event a rule of level low or above hit.
        """CREATE TABLE IF NOT EXISTS detection_rules (
  id INTEGER PRIMARY KEY,
  rule_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  level TEXT NOT NULL,
  level_rank INTEGER NOT NULL,
  tags TEXT NOT NULL,
  filter TEXT NOT NULL,
  path TEXT NOT NULL,
  description TEXT NOT NULL,
  hits INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER,
  last_seen INTEGER,
  checked_through INTEGER NOT NULL DEFAULT 0,
  problem TEXT
)""",
        "CREATE TABLE IF NOT EXISTS detection_hits (event_id INTEGER NOT NULL, rule INTEGER NOT NULL, "
        "PRIMARY KEY (event_id, rule)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS detection_hits_rule ON detection_hits(rule, event_id)",
    ]
    statements += [index_sql(name, column) for name, column in LOAD_INDEXES + EVENT_INDEXES]
    statements.append(events_view_sql())
    return statements


def events_view_sql() -> str:
    """``CREATE VIEW events_view``: every column of the column catalogue
    (:data:`trailtui.core.columns.COLUMNS`) under its CloudTrail name (``"userIdentity.arn"``),
    plus ``id`` and the event's file (``file``) and byte span in it (``raw_offset``,
    ``raw_length``, bytes of the decompressed file), in plain SQL: ``sqlite3``, sqlite-utils or
    Datasette users can query an index without trailtui."""
    from trailtui.core.columns import COLUMNS

    seen: set[str] = set()
    selected = ["events.id AS id"]
    for column in COLUMNS:
        if column.title not in seen:
            seen.add(column.title)
            selected.append(f'{column.sql} AS "{column.title}"')
    selected += ["files.path AS file", "events.raw_offset AS raw_offset", "events.raw_length AS raw_length"]
    return (
        "CREATE VIEW IF NOT EXISTS events_view AS SELECT "
        + ", ".join(selected)
        + " FROM events LEFT JOIN files ON files.id = events.file_id"
    )


#: Events are keyed by eventID (CloudTrail delivers duplicates across files and trails). The
#: loader creates this index itself (see ``store.writer.IndexWriter.ensure_unique_event_ids``): a bulk load into an
#: empty index leaves it out and removes duplicates afterwards, because keeping a unique index
#: on random UUIDs row by row cost 7 s per million events against 1.3 s to build it once.
EVENT_ID_INDEX_SQL = 'CREATE UNIQUE INDEX IF NOT EXISTS events_eventID ON events("eventID")'


def index_sql(name: str, columns: str) -> str:
    """The ``CREATE INDEX`` statement of one of :data:`LOAD_INDEXES` / :data:`EVENT_INDEXES`
    (partial when :data:`PARTIAL_INDEXES` names it)."""
    where = PARTIAL_INDEXES.get(name)
    return f"CREATE INDEX IF NOT EXISTS {name} ON events({columns})" + (f" WHERE {where}" if where else "")
