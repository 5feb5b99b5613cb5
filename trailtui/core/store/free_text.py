"""The full-text index (``events_fts``) of a bulk load, built off the critical path.

A bulk load's workers leave each event's free-text body in their shards (``fts_todo`` lists
them, see :mod:`trailtui.core.store.writer`): field filters are complete without waiting for
free text. Then:

- on 2 or 3 cores, once the field indexes are built, :func:`fill_free_text` fills it in place, a
  shard per transaction, so bare words find more and more of the events while it runs;
- from 4 cores, the loader builds it **beside** the field indexes, on a core of its own:
  :class:`FreeTextBuild` is a thread with its own connection writing a scratch SQLite file
  (SQLite releases the GIL, so the two builds run at once; one file cannot have two writers),
  and :func:`adopt_free_text` copies the scratch file's FTS5 shadow tables into the index in one
  transaction.

Loads interrupted before their free text was in, or whose build failed, are filled in place on
the next load.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from trailtui.core.ingest.decode import parse_event_json
from trailtui.core.ingest.extract import event_text
from trailtui.core.store.schema import FREE_TEXT_SHADOW_TABLES, FREE_TEXT_TABLE_SQL

# FTS5 gathers this many bytes of terms in memory before writing a segment (default 1 MB):
# fewer segments to merge later, 5-9 instead of 11-13 µs per event (issue #10's prototype).
_FTS_HASH_BYTES = 32 * 1024 * 1024
# Shards filled per transaction (each attached at once; SQLite attaches at most 10 files), and
# about how many events.
_GROUP_SHARDS = 7
_GROUP_EVENTS = 250_000


def free_text_pending(conn: sqlite3.Connection) -> int:
    """Events whose free text is not in ``events_fts`` yet (their shards wait in ``fts_todo``):
    while it is above 0, a bare-word filter sees only part of the index."""
    return conn.execute("SELECT coalesce(sum(events), 0) FROM fts_todo").fetchone()[0]


def _copy_bodies(conn: sqlite3.Connection, events_schema: str, group: list[tuple[str, int, int]],
                 gone: frozenset[int] | None) -> None:
    """Insert a group of shards' bodies (at most :data:`_GROUP_SHARDS`) into the ``events_fts``
    of ``conn``, in one transaction that also removes them from ``fts_todo`` when
    ``events_schema`` is ``main``.

    Events that are no longer in the index get no row: with ``gone`` (the ids a bulk load
    merged away as duplicates, when every shard is its own) those ids are left out; without
    it each body is checked against ``<events_schema>.events`` (a read of the whole table: at
    10M events it made filling free text 4 times slower per event). When a shard file is gone
    (deleted by hand), its bodies are made again from the events' originals.
    """
    present = [(number, todo) for number, todo in enumerate(group) if os.path.exists(todo[0])]
    # Outside the transaction (SQLite refuses ATTACH inside one); then each INSERT ... SELECT
    # runs in C without the GIL, so a build in a thread works beside the loader.
    attached = []
    try:
        for number, (shard, _, _) in present:
            conn.execute(f"ATTACH DATABASE ? AS shard{number:d}", (_read_only(shard),))
            attached.append(number)
        if gone:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS fts_gone (id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM temp.fts_gone")
            conn.executemany("INSERT INTO temp.fts_gone VALUES (?)", [(event_id,) for event_id in gone])
            conn.commit()  # the stdlib opened a transaction for those: BEGIN IMMEDIATE comes next
        conn.execute("BEGIN IMMEDIATE")
        try:
            for number, (shard, base, events) in enumerate(group):
                if number not in attached:
                    _bodies_from_originals(conn, events_schema, base, events)
                    continue
                if gone is None:
                    source = f"shard{number:d}.bodies b JOIN {events_schema}.events e ON e.id = b.id + {base:d}"
                elif gone:
                    source = f"shard{number:d}.bodies b WHERE b.id + {base:d} NOT IN (SELECT id FROM temp.fts_gone)"
                else:
                    source = f"shard{number:d}.bodies b"
                conn.execute(f"INSERT INTO events_fts (rowid, body) SELECT b.id + {base:d}, b.body FROM {source}")
            if events_schema == "main":
                conn.executemany("DELETE FROM fts_todo WHERE shard = ?", [(todo[0],) for todo in group])
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise
    finally:
        for number in attached:
            conn.execute(f"DETACH DATABASE shard{number:d}")


def _groups(todo: list[tuple[str, int, int]]) -> list[list[tuple[str, int, int]]]:
    """``todo`` in runs of at most :data:`_GROUP_SHARDS` shards and about :data:`_GROUP_EVENTS`
    events: fewer commits leave FTS5 fewer small segments to merge (3M events: 27 s in steps
    of 300k, 35 s in steps of 30k)."""
    groups: list[list] = [[]]
    count = 0
    for item in todo:
        if len(groups[-1]) >= _GROUP_SHARDS or count >= _GROUP_EVENTS:
            groups.append([])
            count = 0
        groups[-1].append(item)
        count += item[2]
    return [group for group in groups if group]


def _bodies_from_originals(conn: sqlite3.Connection, events_schema: str, base: int, events: int) -> None:
    from trailtui.core.store.originals import OriginalUnavailable, original_events

    by_file: dict[int | None, list[int]] = {}
    for event_id, file_id in conn.execute(
        f"SELECT id, file_id FROM {events_schema}.events WHERE id > ? AND id <= ?", (base, base + events)
    ):
        by_file.setdefault(file_id, []).append(event_id)
    for ids in by_file.values():
        try:
            rows = [(event_id, event_text(parse_event_json(raw))) for event_id, raw in original_events(conn, ids)]
        except (OriginalUnavailable, ValueError):
            # This file changed or vanished since it was indexed: the next load re-reads or
            # removes it, and its events with it. The shard's other files still get their text.
            continue
        conn.executemany("INSERT INTO events_fts (rowid, body) VALUES (?, ?)", rows)


def _read_only(path: str) -> str:
    """A read-only SQLite URI for ``path`` (quoted: a path may hold ``?``, ``#`` or ``%``)."""
    return f"file:{quote(str(path))}?mode=ro"


def fill_free_text(conn: sqlite3.Connection, on_step: Callable[[int, int], None] | None = None, *,
                   gone: frozenset[int] | None = None) -> int:
    """Fill the index's ``events_fts`` in place from every shard in ``fts_todo``, oldest first,
    a few shards per transaction, deleting each shard's bodies file once it is in; calls
    ``on_step(done, total)`` (events) after each transaction. ``gone``: see
    :func:`_copy_bodies` (None checks every body against ``events``). Returns the events
    filled."""
    todo = conn.execute("SELECT shard, base, events FROM fts_todo ORDER BY base").fetchall()
    total = sum(events for _, _, events in todo)
    done = 0
    if not todo:
        return 0
    _set_hash_bytes(conn, _FTS_HASH_BYTES)
    try:
        for group in _groups(todo):
            _copy_bodies(conn, "main", group, gone)
            for shard, _, events in group:
                Path(shard).unlink(missing_ok=True)
                done += events
            if on_step:
                on_step(done, total)
    finally:
        # Back to FTS5's default: the app's small loads need no 32 MB of terms in memory.
        _set_hash_bytes(conn, 1024 * 1024)
    return done


def _set_hash_bytes(conn: sqlite3.Connection, size: int) -> None:
    with conn:
        conn.execute("INSERT INTO events_fts (events_fts, rank) VALUES ('hashsize', ?)", (size,))


class FreeTextBuild(threading.Thread):
    """Builds the full-text index of every shard in ``fts_todo`` into ``scratch`` (a new SQLite
    file), reading the index at ``db_path`` read-only, while the caller goes on writing it.

    ``total``: events to index; ``done``: indexed so far (read them from any thread);
    ``shards``: the shards it covers; ``error``: the exception that stopped it, or None.
    Daemonic: an interrupted load leaves the scratch file for the next load to discard.
    """

    def __init__(self, db_path: str, scratch: Path, todo: list[tuple[str, int, int]],
                 gone: frozenset[int] | None = None) -> None:
        super().__init__(name="trailtui-free-text", daemon=True)
        self.gone = gone
        self.db_path = db_path
        self.scratch = scratch
        self.shards = todo
        self.total = sum(events for _, _, events in todo)
        self.done = 0
        self.error: BaseException | None = None

    @classmethod
    def start_for(cls, conn: sqlite3.Connection, scratch: Path, gone: frozenset[int] | None = None) -> FreeTextBuild | None:
        """Start a build for the shards waiting in the index open on ``conn`` (a file, not in
        memory); None when none wait. ``gone`` as for :func:`fill_free_text`."""
        todo = conn.execute("SELECT shard, base, events FROM fts_todo ORDER BY base").fetchall()
        path = next((file for _, name, file in conn.execute("PRAGMA database_list") if name == "main"), "")
        if not todo or not path:
            return None
        build = cls(path, scratch, todo, gone)
        build.start()
        return build

    def run(self) -> None:
        try:
            Path(self.scratch).unlink(missing_ok=True)
            # Security logs: the scratch index is the owner's only, like the index itself.
            os.close(os.open(self.scratch, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
            conn = sqlite3.connect(self.scratch, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = OFF")  # a scratch file: rebuilt, never repaired
                conn.execute("PRAGMA synchronous = OFF")
                conn.execute(FREE_TEXT_TABLE_SQL)
                conn.execute("INSERT INTO events_fts (events_fts, rank) VALUES ('hashsize', ?)", (_FTS_HASH_BYTES,))
                conn.execute("ATTACH DATABASE ? AS idx", (_read_only(self.db_path),))
                for group in _groups(self.shards):
                    _copy_bodies(conn, "idx", group, self.gone)
                    self.done += sum(events for _, _, events in group)
            finally:
                conn.close()
        except BaseException as err:  # reported by the loader, which then fills in place
            self.error = err


def adopt_free_text(conn: sqlite3.Connection, build: FreeTextBuild) -> None:
    """Replace the index's ``events_fts`` with ``build``'s (finished without error), remove its
    shards from ``fts_todo`` and delete them and the scratch file. Only for a bulk load: the
    index's ``events_fts`` must hold no event that the build lacks."""
    conn.execute("ATTACH DATABASE ? AS scratch", (str(build.scratch),))
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in FREE_TEXT_SHADOW_TABLES:
                conn.execute(f"DELETE FROM main.{table}")
                conn.execute(f"INSERT INTO main.{table} SELECT * FROM scratch.{table}")
            conn.executemany("DELETE FROM fts_todo WHERE shard = ?", [(shard,) for shard, _, _ in build.shards])
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise
    finally:
        conn.execute("DETACH DATABASE scratch")
    for shard, _, _ in build.shards:
        Path(shard).unlink(missing_ok=True)
    Path(build.scratch).unlink(missing_ok=True)


def discard_build(build: FreeTextBuild) -> None:
    """Delete the scratch file of a ``build`` that failed (its shards stay in ``fts_todo``)."""
    Path(build.scratch).unlink(missing_ok=True)
