"""The index's writer: shards merged in, files replaced or removed, duplicates settled, free text filled.

:class:`IndexWriter` is the only code that writes events into an index. The loader
(:mod:`trailtui.core.loader`) decides what to read and when to commit; workers write shards
(:mod:`trailtui.core.store.shard`); this module copies each shard into the index in SQL (no row
passes through Python), in planned order, so ids follow the order files were read.

A **bulk load** (many files into an empty index) inserts without looking eventIDs up, leaves
the filter indexes out, and keeps each shard's free-text bodies on disk (``fts_todo``) until the
field indexes are built: then :mod:`trailtui.core.store.free_text` fills ``events_fts`` (beside
the index build from 4 cores).
Any other load checks eventIDs against the index (its unique index) and fills free text at once.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from trailtui.core.ingest.extract import event_text
from trailtui.core.store.rawstore import unpack_event_json
from trailtui.core.store.schema import ACTOR_COLUMNS, CONTEXT_COLUMNS, EVENT_ID_INDEX_SQL
from trailtui.core.store.shard import SHARD_EVENT_COLUMNS, Shard
from trailtui.core.times import utc_now_text

_SHARD_COLUMNS = ", ".join(f's."{name}"' for name in SHARD_EVENT_COLUMNS)
_EVENT_COLUMNS = ", ".join(f'"{name}"' for name in SHARD_EVENT_COLUMNS)
_ACTOR_COLUMNS = ", ".join(f'"{name}"' for name in ACTOR_COLUMNS)
_CONTEXT_COLUMNS = ", ".join(f'"{name}"' for name in CONTEXT_COLUMNS)


def shard_dir(conn: sqlite3.Connection) -> Path:
    """The private directory (0700) where a load's shards wait: ``<index>.shards/`` beside the
    index file (a new temporary directory, kept per connection, for an in-memory index)."""
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main" and path:
            directory = Path(path + ".shards")
            directory.mkdir(mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)  # it may have existed with other permissions
            return directory
    if id(conn) not in _MEMORY_SHARD_DIRS:
        _MEMORY_SHARD_DIRS[id(conn)] = Path(tempfile.mkdtemp(prefix="trailtui-shards-"))
    return _MEMORY_SHARD_DIRS[id(conn)]


_MEMORY_SHARD_DIRS: dict[int, Path] = {}


class IndexWriter:
    """Writes into the index open on ``conn`` (a writer connection, autocommit off by hand).

    ``bulk``: True for a load into an empty index (see the module docstring).
    """

    def __init__(self, conn: sqlite3.Connection, *, bulk: bool = False) -> None:
        self.conn = conn
        self.bulk = bulk

    # ------------------------------------------------------------------------------------ ids

    def _next_id(self) -> int:
        highest = self.conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'next_event_id'").fetchone()
        # Ids are never reused: a deleted event may leave a full-text row behind (its text could
        # not be rebuilt once its file changed), which must not come to describe a new event.
        return max(highest + 1, int(row[0]) if row else 1)

    # ---------------------------------------------------------------------------- whole files

    def record_walk_problems(self, problems: list[tuple[str, str]]) -> None:
        """Replace the load problems not tied to a file (unreadable directories, ...) with
        ``problems`` (``(path, reason)`` pairs)."""
        with self.conn:
            self.conn.execute("DELETE FROM load_errors WHERE file_id IS NULL")
            self.conn.executemany(
                "INSERT INTO load_errors (file_id, path, position, message) VALUES (NULL, ?, NULL, ?)", problems
            )

    def add_problems(self, problems: list[tuple[str, str]]) -> None:
        """Add load problems not tied to a ``files`` row (an S3 object that could not be
        downloaded: ``(URL, reason)`` pairs); the next load's :meth:`record_walk_problems`
        replaces them."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO load_errors (file_id, path, position, message) VALUES (NULL, ?, NULL, ?)", problems
            )

    def remove_files(self, file_ids: list[int]) -> None:
        """Remove these ``files`` rows, their events and their load problems, in one transaction."""
        if not file_ids:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        for file_id in file_ids:
            self._delete_file_events(file_id)
            self.conn.execute("DELETE FROM load_errors WHERE file_id = ?", (file_id,))
            self.conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
        self.conn.execute("COMMIT")

    def _delete_file_events(self, file_id: int) -> None:
        # A contentless FTS5 row is deleted by giving back the text it indexed, so the old
        # bodies are rebuilt from the originals. Their file has changed or vanished by now, so
        # the originals come from what was kept, or not at all: then the FTS rows stay behind
        # as orphans that match no event (every free-text match is joined to events).
        rows = self.conn.execute(
            "SELECT e.id, r.raw FROM events e LEFT JOIN event_raw r ON r.id = e.id WHERE e.file_id = ?", (file_id,)
        ).fetchall()
        # Not for events still waiting for their free text (fts_todo): a 'delete' of a row a
        # contentless FTS5 table never had would corrupt it.
        waiting = self.conn.execute("SELECT base, events FROM fts_todo").fetchall()
        self.conn.executemany(
            "INSERT INTO events_fts (events_fts, rowid, body) VALUES ('delete', ?, ?)",
            [
                (event_id, event_text(unpack_event_json(raw)))
                for event_id, raw in rows
                if raw is not None and not any(base < event_id <= base + count for base, count in waiting)
            ],
        )
        self.conn.executemany("DELETE FROM event_raw WHERE id = ?", [(event_id,) for event_id, _ in rows])
        self.conn.execute("DELETE FROM events WHERE file_id = ?", (file_id,))

    # ---------------------------------------------------------------------------------- shards

    def merge_shard(
        self, shard: Shard, stats: list[tuple[str, int | None, int | None, int | None, str | None]]
    ) -> list[tuple[int, int]]:
        """Copy ``shard`` into the index in one transaction and record its files.

        ``stats`` gives, for each of ``shard.files`` in order, ``(path, size in bytes, mtime in
        ns, files.id of the file's previous version or None, S3 ETag or None)``; a previous version's events are
        replaced. Returns ``(events added, duplicates)`` per file: duplicates are the shard's own
        plus (outside a bulk load) the eventIDs the index already had. The shard file is
        deleted; its bodies file too, except in a bulk load, which lists it in ``fts_todo`` for
        :mod:`trailtui.core.store.free_text`.
        """
        conn = self.conn
        conn.execute("ATTACH DATABASE ? AS shard", (shard.path,))
        try:
            if not self.bulk:
                conn.execute("ATTACH DATABASE ? AS shard_bodies", (shard.bodies_path,))
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    counts = self._merge_attached(shard, stats)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.rollback()
                    raise
            finally:
                if not self.bulk:
                    conn.execute("DETACH DATABASE shard_bodies")
        finally:
            conn.execute("DETACH DATABASE shard")
        Path(shard.path).unlink(missing_ok=True)
        if not self.bulk:
            Path(shard.bodies_path).unlink(missing_ok=True)
        return counts

    def _merge_attached(self, shard: Shard, stats: list) -> list[tuple[int, int]]:
        conn = self.conn
        base = self._next_id() - 1
        file_ids = []
        now = utc_now_text()
        for (path, size, mtime_ns, old_id, etag), found in zip(stats, shard.files):
            if old_id is not None:
                self._delete_file_events(old_id)
                conn.execute("DELETE FROM load_errors WHERE file_id = ?", (old_id,))
            file_ids.append(
                conn.execute(
                    "INSERT INTO files (path, size, mtime_ns, etag, outcome) VALUES (?, ?, ?, ?, 'reading') "
                    "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
                    "etag = excluded.etag "
                    "RETURNING id",
                    (path, size, mtime_ns, etag),
                ).fetchone()[0]
            )
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS shard_files (local INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS shard_actors (local INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
        conn.execute("DELETE FROM temp.shard_files")
        conn.execute("DELETE FROM temp.shard_actors")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS shard_contexts (local INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
        conn.execute("DELETE FROM temp.shard_contexts")
        conn.executemany("INSERT INTO temp.shard_files VALUES (?, ?)", list(enumerate(file_ids)))
        # Actors are keyed by digest, so every shard maps a combination to the same actors.id.
        conn.execute(
            f"INSERT OR IGNORE INTO main.actors (digest, {_ACTOR_COLUMNS}) SELECT digest, {_ACTOR_COLUMNS} FROM shard.actors"
        )
        conn.execute(
            "INSERT INTO temp.shard_actors SELECT s.id, m.id FROM shard.actors s JOIN main.actors m ON m.digest = s.digest"
        )
        conn.execute(
            f"INSERT OR IGNORE INTO main.contexts (digest, {_CONTEXT_COLUMNS}) "
            f"SELECT digest, {_CONTEXT_COLUMNS} FROM shard.contexts"
        )
        conn.execute(
            "INSERT INTO temp.shard_contexts SELECT s.id, m.id FROM shard.contexts s "
            "JOIN main.contexts m ON m.digest = s.digest"
        )
        conn.execute("INSERT OR IGNORE INTO main.column_values SELECT column_name, value FROM shard.column_values")
        known = [0] * len(file_ids)
        keep = ""
        if not self.bulk:
            # Copies of events the index already holds (overlapping trails, a re-delivered file).
            keep = 'WHERE NOT EXISTS (SELECT 1 FROM main.events m WHERE m."eventID" = s."eventID")'
            for file_index, count in conn.execute(
                "SELECT file_index, count(*) FROM shard.events s "
                'WHERE EXISTS (SELECT 1 FROM main.events m WHERE m."eventID" = s."eventID") GROUP BY file_index'
            ):
                known[file_index] = count
        conn.execute(
            f"INSERT INTO main.events (id, {_EVENT_COLUMNS}, file_id, actorId, contextId) "
            f"SELECT s.id + {base:d}, {_SHARD_COLUMNS}, f.id, a.id, c.id FROM shard.events s "
            "LEFT JOIN temp.shard_files f ON f.local = s.file_index "
            "LEFT JOIN temp.shard_actors a ON a.local = s.actor_local "
            f"LEFT JOIN temp.shard_contexts c ON c.local = s.context_local {keep}"
        )
        if not self.bulk:
            conn.execute(
                f"INSERT INTO main.event_raw SELECT k.id + {base:d}, k.raw FROM shard.kept k "
                f"JOIN main.events e ON e.id = k.id + {base:d}"
            )
            conn.execute(
                f"INSERT INTO events_fts (rowid, body) SELECT b.id + {base:d}, b.body FROM shard_bodies.bodies b "
                f"JOIN main.events e ON e.id = b.id + {base:d} WHERE e.id > {base:d}"
            )
        else:
            conn.execute(f"INSERT INTO main.event_raw SELECT id + {base:d}, raw FROM shard.kept")
            conn.execute(
                "INSERT INTO fts_todo (shard, base, events) VALUES (?, ?, ?)", (shard.bodies_path, base, shard.events)
            )
        counts = []
        for file_id, found, already in zip(file_ids, shard.files, known):
            errors = [(file_id, found.path, position, message) for position, message in found.record_errors]
            if found.outcome == "failed" and found.reason:
                errors.insert(0, (file_id, found.path, None, found.reason))
            conn.executemany("INSERT INTO load_errors (file_id, path, position, message) VALUES (?, ?, ?, ?)", errors)
            if found.outcome == "events":
                outcome = "partial" if found.record_errors else "loaded"
            else:
                outcome = found.outcome
            added, duplicates = found.events - already, found.duplicates + already
            conn.execute(
                "UPDATE files SET outcome = ?, reason = ?, events = ?, duplicates = ?, errors = ?, indexed_at = ? "
                "WHERE id = ?",
                (outcome, found.reason, added, duplicates, len(found.record_errors), now, file_id),
            )
            counts.append((added, duplicates))
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_event_id', ?)", (str(base + shard.events + 1),)
        )
        return counts

    # ------------------------------------------------------------------------------ duplicates

    def ensure_unique_event_ids(self) -> tuple[int, list[tuple[int, int]], list[int]]:
        """Make ``events`` hold each eventID once and give it its unique index, if missing.

        A bulk load inserts without looking eventIDs up; this builds the unique index directly
        (one sort: about a second per million events) and only when that fails (copies exist)
        finds them through a plain index, keeps the first copy of each (the lowest id: the file
        read first), deletes the others and moves them from each file's ``events`` to its
        ``duplicates``. Returns ``(duplicates removed, [(files.id, count), ...], [events.id
        removed, ...])``.
        """
        conn = self.conn
        if has_event_id_index(conn):
            return 0, [], []
        try:
            with conn:
                conn.execute(EVENT_ID_INDEX_SQL)
            return 0, [], []
        except sqlite3.IntegrityError:
            pass
        with conn:
            conn.execute('CREATE INDEX IF NOT EXISTS events_eventID_copies ON events("eventID", id)')
            # Walks the plain index in eventID order: linear, where NOT IN (SELECT min(id) ...
            # GROUP BY) grew faster than the rows (3.9 s at 1M, 16.9 s at 3M events).
            duplicates = conn.execute(
                'SELECT e.id, e.file_id FROM (SELECT "eventID", min(id) AS first FROM events GROUP BY "eventID" '
                'HAVING count(*) > 1) d JOIN events e ON e."eventID" = d."eventID" AND e.id > d.first'
            ).fetchall()
            per_file: dict[int, int] = {}
            for _, file_id in duplicates:
                per_file[file_id] = per_file.get(file_id, 0) + 1
            conn.executemany("DELETE FROM event_raw WHERE id = ?", [(event_id,) for event_id, _ in duplicates])
            conn.executemany("DELETE FROM events WHERE id = ?", [(event_id,) for event_id, _ in duplicates])
            conn.executemany(
                "UPDATE files SET events = events - ?, duplicates = duplicates + ? WHERE id = ?",
                [(count, count, file_id) for file_id, count in per_file.items()],
            )
            conn.execute("DROP INDEX events_eventID_copies")
            conn.execute(EVENT_ID_INDEX_SQL)
        return len(duplicates), list(per_file.items()), [event_id for event_id, _ in duplicates]

    def discard_stale_shards(self) -> None:
        """Remove shard files no ``fts_todo`` row waits for (a load killed while writing them)."""
        directory = shard_dir(self.conn)
        waiting = {row[0] for row in self.conn.execute("SELECT shard FROM fts_todo")}
        for entry in directory.iterdir():
            if str(entry) not in waiting:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


def has_event_id_index(conn: sqlite3.Connection) -> bool:
    """True when ``events`` has its unique eventID index (no bulk load left copies behind)."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'events_eventID'").fetchone()
    return found is not None
