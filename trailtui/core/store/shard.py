"""A loader worker's shard: one batch of log files decoded and written to a private SQLite file.

Every core writes (issue #10): each decoder process turns a batch of files into rows
(:func:`trailtui.core.ingest.prepare_file`) and inserts them itself, through apsw, into a shard
file of its own, instead of pickling the rows to one writer process that unpickles and binds
them again (that writer was the bottleneck: 74 s of CPU at a million events). The loader then
copies each shard into the index in C (``INSERT … SELECT`` from an attached file, see
:mod:`trailtui.core.store.writer`), in the order the batches were planned, so ``events.id``
still follows the order files were read and the first copy of an ``eventID`` is the one kept.

A shard holds, with local ids counted from 1:

``events``
    the index's event columns (:data:`SHARD_EVENT_COLUMNS`) plus ``file_index`` (the file's
    position in the batch), ``actor_local`` and ``context_local`` (``actors.id`` and
    ``contexts.id`` in this shard);
``actors``
    each identity combination (:data:`trailtui.core.store.schema.ACTOR_COLUMNS`) once, with its
    ``digest`` (the index keys actors by it);
``contexts``
    the same for each combination of :data:`trailtui.core.store.schema.CONTEXT_COLUMNS`;
``column_values``
    the distinct values of :data:`trailtui.core.store.schema.VALUE_LIST_COLUMNS`;
``kept``
    the original bytes of events that are not a span of their file (lookup-events strings),
    already packed (:func:`trailtui.core.store.rawstore.pack_event`).

The file is private and disposable (journal and syncs off): a crash loses at most the batch
being written, which the next load reads again because its files were never recorded.
"""

from __future__ import annotations

import hashlib
import operator
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import apsw

from trailtui.core.ingest.prepare import prepare_file
from trailtui.core.store.rawstore import pack_event
from trailtui.core.text import ascii_lower
from trailtui.core.store.schema import (
    ACTOR_COLUMNS,
    CONTEXT_COLUMNS,
    EVENT_COLUMN_NAMES,
    RECORD_COLUMN_NAMES,
    VALUE_LIST_COLUMNS,
)

#: The event columns a shard stores: the index's columns without ``file_id``, ``actorId`` and
#: ``contextId`` (which the merge maps), in :data:`trailtui.core.store.schema.EVENT_COLUMNS` order.
SHARD_EVENT_COLUMNS: tuple[str, ...] = tuple(
    name for name in EVENT_COLUMN_NAMES if name not in ("file_id", "actorId", "contextId")
)
assert SHARD_EVENT_COLUMNS[-1] == "crossAccount"  # derived here, after the record's own columns
# Where the stored columns and the identity combination sit in a prepared row
# (schema.RECORD_COLUMNS order).
_STORED_POSITIONS = tuple(RECORD_COLUMN_NAMES.index(name) for name in SHARD_EVENT_COLUMNS[:-1])
_ACCOUNT_POSITION = RECORD_COLUMN_NAMES.index("userIdentity_accountId")
_RECIPIENT_POSITION = RECORD_COLUMN_NAMES.index("recipientAccountId")
_ACTOR_POSITIONS = tuple(RECORD_COLUMN_NAMES.index(name) for name in ACTOR_COLUMNS)
_CONTEXT_POSITIONS = tuple(RECORD_COLUMN_NAMES.index(name) for name in CONTEXT_COLUMNS)
_VALUE_COLUMNS = tuple(name for name in SHARD_EVENT_COLUMNS if name in VALUE_LIST_COLUMNS)

_SCHEMA = (
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
    "PRAGMA page_size = 16384",
    "CREATE TABLE events (id INTEGER PRIMARY KEY, "
    + ", ".join(f'"{name}"' for name in SHARD_EVENT_COLUMNS)
    + ", file_index INTEGER, actor_local INTEGER, context_local INTEGER)",
    "CREATE TABLE actors (id INTEGER PRIMARY KEY, digest BLOB NOT NULL, "
    + ", ".join(f'"{name}"' for name in ACTOR_COLUMNS)
    + ")",
    "CREATE TABLE contexts (id INTEGER PRIMARY KEY, digest BLOB NOT NULL, "
    + ", ".join(f'"{name}"' for name in CONTEXT_COLUMNS)
    + ")",
    "CREATE TABLE column_values (column_name TEXT NOT NULL, value TEXT NOT NULL)",
    "CREATE TABLE kept (id INTEGER PRIMARY KEY, raw BLOB NOT NULL)",
)
_BODIES_SCHEMA = (*_SCHEMA[:3], "CREATE TABLE bodies (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
_INSERT_EVENT = "INSERT INTO events VALUES (?, {}, ?, ?, ?)".format(", ".join("?" for _ in SHARD_EVENT_COLUMNS))
_INSERT_ACTOR = "INSERT INTO actors VALUES (?, ?, {})".format(", ".join("?" for _ in ACTOR_COLUMNS))
_INSERT_CONTEXT = "INSERT INTO contexts VALUES (?, ?, {})".format(", ".join("?" for _ in CONTEXT_COLUMNS))
# Where each VALUE_LIST_COLUMNS column sits in a shard's events row (its local id first).
_VALUE_POSITIONS = tuple((name, 1 + SHARD_EVENT_COLUMNS.index(name)) for name in _VALUE_COLUMNS)


@dataclass
class ShardFile:
    """What one file of a batch gave: ``path``; ``outcome`` (``"events"``, ``"skipped"`` or
    ``"failed"``) and ``reason`` as in :class:`trailtui.core.ingest.decode.DecodedFile`; ``events``
    written to the shard and ``duplicates`` (copies of an eventID already seen earlier in the
    batch, not written); ``record_errors`` as ``(position, message)`` pairs."""

    path: str
    outcome: str
    reason: str | None
    events: int = 0
    duplicates: int = 0
    record_errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Shard:
    """A written shard: its ``path`` and its bodies file's (``bodies_path``), its ``files`` in
    batch order (``file_index`` is the position in this list) and the number of ``events`` it
    holds (local ids ``1..events``)."""

    path: str
    bodies_path: str
    files: list[ShardFile]
    events: int


def bodies_path_of(shard_path: str) -> str:
    """The bodies file beside the shard at ``shard_path`` (``x.sqlite`` -> ``x.bodies.sqlite``)."""
    stem = shard_path[: -len(".sqlite")] if shard_path.endswith(".sqlite") else shard_path
    return stem + ".bodies.sqlite"


def write_shard(paths: list[str], shard_path: str, names: list[str] | None = None) -> Shard:
    """Decode ``paths`` (log files, in order) and write their events to a new shard file at
    ``shard_path`` and their free-text bodies to :func:`bodies_path_of` it (both created 0600;
    existing files there are replaced). ``names``: what the index calls each file (its
    ``files.path``; an S3 object's URL where ``paths`` has its cached copy), default ``paths``.

    Never raises for bad log content (bad files and records are described in the result);
    raises ``OSError`` or ``sqlite3.OperationalError`` (SQLite's message: "database or disk is
    full", "disk I/O error") when the shard itself cannot be written: the caller reports those
    as it reports the index's own write errors, since shards live beside the index.
    """
    bodies_path = bodies_path_of(shard_path)
    try:
        conn = _new_file(shard_path, _SCHEMA)
        try:
            bodies = _new_file(bodies_path, _BODIES_SCHEMA)
            try:
                conn.execute("BEGIN")
                bodies.execute("BEGIN")
                files, count = _write_files(conn, bodies, paths, names or paths)
                conn.execute("COMMIT")
                bodies.execute("COMMIT")
            finally:
                bodies.close()
        finally:
            conn.close()
    except apsw.Error as err:
        # The stdlib's exception: what every caller of the loader already handles (and it
        # pickles back from a worker process).
        raise sqlite3.OperationalError(str(err)) from None
    return Shard(shard_path, bodies_path, files, count)


def _new_file(path: str, schema: tuple[str, ...]) -> apsw.Connection:
    """A new private SQLite file at ``path`` (0600; an existing one is replaced) with ``schema``."""
    for suffix in ("", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    conn = apsw.Connection(path)
    for statement in schema:
        conn.execute(statement)
    return conn


def _write_files(
    conn: apsw.Connection, bodies_conn: apsw.Connection, paths: list[str], names: list[str]
) -> tuple[list[ShardFile], int]:
    seen_ids: set[str] = set()
    actors: dict[tuple, int | None] = {}
    actor_rows: list[tuple] = []
    contexts: dict[tuple, int | None] = {}
    context_rows: list[tuple] = []
    crossings: dict[tuple, int | None] = {}  # (actor, context) -> crossAccount
    files: list[ShardFile] = []
    # Distinct values per column in Python sets (0.4 µs per event; a UNION of SELECT DISTINCTs
    # in SQLite cost 6).
    values: dict[str, set] = {name: set() for name, _ in _VALUE_POSITIONS}
    next_id = 1
    insert_events = conn.cursor()
    insert_bodies = bodies_conn.cursor()
    actor_of = operator.itemgetter(*_ACTOR_POSITIONS)
    stored_of = operator.itemgetter(*_STORED_POSITIONS)
    context_of = operator.itemgetter(*_CONTEXT_POSITIONS)
    for file_index, (path, name) in enumerate(zip(paths, names)):
        prepared = prepare_file(path)
        result = ShardFile(name, prepared.outcome, prepared.reason, record_errors=prepared.record_errors)
        event_rows, bodies, kept_rows = [], [], []
        for row, body, kept in prepared.events:
            event_id = row[0]
            if event_id in seen_ids:
                result.duplicates += 1
                continue
            seen_ids.add(event_id)
            # The lookups stay inline (a hit is one dict probe per event); a miss adds a row.
            combination = actor_of(row)
            actor = actors.get(combination, 0)
            if actor == 0:
                actor = _new_local_row(combination, actors, actor_rows)
            setting = context_of(row)
            context = contexts.get(setting, 0)
            if context == 0:
                context = _new_local_row(setting, contexts, context_rows)
            pair = (actor, context)
            crossing = crossings.get(pair, 0)
            if crossing == 0:
                crossing = crossings[pair] = cross_account(row[_ACCOUNT_POSITION], row[_RECIPIENT_POSITION])
            event_rows.append((next_id, *stored_of(row), crossing, file_index, actor, context))
            bodies.append((next_id, body))
            if kept is not None:
                kept_rows.append((next_id, pack_event(kept)))
            next_id += 1
        result.events = len(event_rows)
        files.append(result)
        for name, position in _VALUE_POSITIONS:
            values[name].update([row[position] for row in event_rows])
        insert_events.executemany(_INSERT_EVENT, event_rows)
        insert_bodies.executemany("INSERT INTO bodies VALUES (?, ?)", bodies)
        if kept_rows:
            insert_events.executemany("INSERT INTO kept VALUES (?, ?)", kept_rows)
    if actor_rows:
        insert_events.executemany(_INSERT_ACTOR, actor_rows)
    if context_rows:
        insert_events.executemany(_INSERT_CONTEXT, context_rows)
    insert_events.executemany(
        "INSERT INTO column_values VALUES (?, ?)",
        [(name, value) for name, found in values.items() for value in found if value is not None],
    )
    return files, next_id - 1


def _new_local_row(combination: tuple, ids: dict[tuple, int | None], rows: list[tuple]) -> int | None:
    """The shard-local id of a combination not seen yet in this shard (an ``actors`` or
    ``contexts`` row with its digest, appended to ``rows``), None when every value is missing."""
    local = None
    if any(combination):
        local = len(rows) + 1
        rows.append((local, actor_digest(combination), *combination))
    ids[combination] = local
    return local


def cross_account(account: str | None, recipient: str | None) -> int | None:
    """``events.crossAccount``: 1 when the caller's ``userIdentity.accountId`` is set, is not the
    anonymous principal ("Identifying Amazon S3 requests using CloudTrail", Amazon S3 User
    Guide; or ``anonymous``, today's form: extract.ANONYMOUS_ACCOUNT) and differs from ``recipientAccountId`` (compared as SQLite's NOCASE does: ASCII
    letters folded), else None."""
    if not account or not recipient or ascii_lower(account) in ("anonymous_principal", "anonymous"):
        return None
    return 1 if ascii_lower(account) != ascii_lower(recipient) else None



def actor_digest(combination: tuple) -> bytes:
    """A 128-bit digest of an identity combination (the values of
    :data:`trailtui.core.store.schema.ACTOR_COLUMNS`, in order): ``actors.digest``, the key that makes
    every shard agree on one ``actors.id`` per combination. ``contexts.digest`` is the same
    function of a :data:`trailtui.core.store.schema.CONTEXT_COLUMNS` combination."""
    return hashlib.blake2b(repr(combination).encode("utf-8", "surrogatepass"), digest_size=16).digest()
