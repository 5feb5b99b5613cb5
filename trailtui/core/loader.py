"""Index log files into a trailtui index: incremental by file, deduplicated by ``eventID``.

:func:`index_paths` does the work in the calling process (``trailtui index``/``query``);
:class:`BackgroundLoader` runs it in a separate process for the app, so parsing (CPU-bound
Python) never starves the UI of the GIL, and reports progress as messages on a queue. The index
is in WAL mode: readers see each committed batch while the loader goes on.

Each file's events, its ``files`` row and its load errors are written in one transaction, so a
loader killed half way leaves an index that is consistent and resumes where it stopped.
CloudTrail delivers some events in more than one file (overlapping trails, global service
events); the first copy of an ``eventID`` is kept and the others are counted as duplicates.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from trailtui.core.discover import discover_files
from trailtui.core.extract import event_text
from trailtui.core.ingest import PreparedFile, prepare_file, prepare_files
from trailtui.core.rawstore import pack_event, unpack_event_json
from trailtui.core.schema import (
    ACTOR_COLUMNS,
    EVENT_COLUMN_NAMES,
    EVENT_ID_INDEX_SQL,
    EVENT_INDEXES,
    VALUE_LIST_COLUMNS,
    index_sql,
)

_INSERT_EVENT = "INSERT INTO events (id, {}) VALUES (?, {})".format(
    ", ".join(f'"{name}"' for name in EVENT_COLUMN_NAMES), ", ".join("?" for _ in EVENT_COLUMN_NAMES)
)
# Commit (so the app sees new events) at least this often, in seconds, or every this many events.
_COMMIT_SECONDS = 0.5
_COMMIT_EVENTS = 20_000
# Where each VALUE_LIST_COLUMNS column sits in an events row as inserted (id first).
_VALUE_POSITIONS = tuple(
    (name, 1 + position) for position, name in enumerate(EVENT_COLUMN_NAMES) if name in VALUE_LIST_COLUMNS
)
# Where each ACTOR_COLUMNS column sits in a row from ingest.prepare_file (no id, no file_id).
_ACTOR_ROW_POSITIONS = tuple(EVENT_COLUMN_NAMES.index(name) for name in ACTOR_COLUMNS)
_KNOWN_VALUES = 50_000  # column values remembered as already written, at most
_ID_CHUNK = 500  # eventIDs looked up per query when deduplicating
_BULK_FILES = 16  # a load of this many files into an empty index builds filter indexes at the end
_PARALLEL_FILES = 4  # fewer files than this are decoded in the writer's own process
_BATCH_BYTES = 256 * 1024  # files sent to a decoder together, by size on disk


@dataclass
class LoadProgress:
    """A loader's progress so far. Counts are files or events; ``elapsed`` is in seconds.

    ``files_total`` counts every file found, ``files_done`` those settled (read, skipped,
    failed or unchanged since the last run); ``rate`` is events added per second.

    ``duplicates`` counts the copies of an eventID merged so far (CloudTrail delivers some events
    in more than one file: overlapping trails, global service events; the first copy is kept).
    ``merge_pending`` is True while a bulk load (into an empty index) inserts without looking
    eventIDs up: until its end-of-load merge, copies in different files are counted in
    ``events_added`` (and seen by readers of the index), so the count drops by that merge.

    ``phase`` is ``"reading"``, then for a bulk load ``"merging duplicate eventIDs"`` (the
    merge: 5 s at a million events on the 2-core reference machine) and ``"building indexes"``,
    and last ``"done"``.
    A load that finds an interrupted bulk load's copies merges them first (phase ``"merging
    duplicate eventIDs"`` before ``"reading"``).
    """

    files_total: int = 0
    files_done: int = 0
    files_unchanged: int = 0
    files_read: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    events_added: int = 0
    duplicates: int = 0
    record_errors: int = 0
    files_removed: int = 0
    elapsed: float = 0.0
    current: str = ""
    phase: str = "reading"
    merge_pending: bool = False

    @property
    def rate(self) -> float:
        """Events added per second so far."""
        return self.events_added / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def problems(self) -> int:
        """Files that failed plus bad records: what the status line calls errors."""
        return self.files_failed + self.record_errors


@dataclass
class LoadSummary(LoadProgress):
    """The final :class:`LoadProgress` plus what went wrong, for ``trailtui index``'s report.

    ``failures`` and ``skips`` are ``(path, reason)`` pairs; ``record_problems`` are
    ``(path, position, message)`` triples; ``notices`` are lines to show once; ``events_total``
    is the number of events in the index once the load is done (duplicates merged).
    """

    failures: list[tuple[str, str]] = field(default_factory=list)
    skips: list[tuple[str, str]] = field(default_factory=list)
    record_problems: list[tuple[str, str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    events_total: int = 0


def index_paths(
    conn: sqlite3.Connection, paths: list[str | os.PathLike], *, on_progress=None, workers: int | None = None
) -> LoadSummary:
    """Index every file under ``paths`` into the index open on ``conn`` (a writer connection).

    Unchanged files (same size and mtime as recorded in ``files``) are not read again; changed
    files are re-read and replace their old events; files that vanished from under ``paths`` have
    their events removed. ``on_progress`` is called with a :class:`LoadProgress` after each
    commit. ``workers`` decoder processes run beside the writer (default
    :func:`default_workers`; 0 decodes in this process). Raises
    :class:`trailtui.core.discover.InputPathError` for a path that does not exist.

    One process indexes an index at a time: a second one waits here until the first is done
    (:func:`trailtui.core.index.indexing_lock`), then reads only what is still new.
    """
    from trailtui.core.index import indexing_lock

    with indexing_lock(conn):
        return _index_paths_locked(conn, paths, on_progress=on_progress, workers=workers)


def _index_paths_locked(conn: sqlite3.Connection, paths: list, *, on_progress, workers: int | None) -> LoadSummary:
    from trailtui.core.index import take_rebuild_notice

    started = time.monotonic()
    summary = LoadSummary()

    def post_phase() -> None:
        """Tell ``on_progress`` that a phase starts (a step with no per-file progress)."""
        if on_progress:
            summary.elapsed = time.monotonic() - started
            on_progress(_snapshot(summary))
    notice = take_rebuild_notice(conn)
    if notice:
        summary.notices.append(notice)
    discovery = discover_files(paths)
    writer = _Writer(conn, summary)
    writer.record_walk_problems(discovery.problems)
    known = {
        row[1]: (row[0], row[2], row[3])
        for row in conn.execute("SELECT id, path, size, mtime_ns FROM files")
    }
    summary.files_total = len(discovery.files)
    todo: list[tuple[Path, os.stat_result | None, int | None]] = []
    for path in discovery.files:
        try:
            info = path.stat()
        except OSError:
            info = None
        old = known.get(str(path))
        if old and info and old[1] == info.st_size and old[2] == info.st_mtime_ns:
            summary.files_unchanged += 1
            summary.files_done += 1
            continue
        todo.append((path, info, old[0] if old else None))
    writer.remove_vanished(paths, {str(p) for p in discovery.files}, known)

    empty = conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None
    bulk = empty and len(todo) >= _BULK_FILES
    if not bulk and not _has_event_id_index(conn):
        # A bulk load that was interrupted left duplicates and no eventID index: settle them
        # first (announced: it takes a while). Those copies were added by that earlier run, so
        # events_added stays as it is. A new index only gets its eventID index here.
        if not empty:
            summary.phase = "merging duplicate eventIDs"
            post_phase()
        summary.duplicates += ensure_unique_event_ids(conn)
        summary.phase = "reading"
    with conn:
        for name, column in EVENT_INDEXES:
            # Filter indexes are built once after a bulk insert: cheaper than row by row. (A
            # bulk load that was interrupted left them out; any later load puts them back.)
            conn.execute(f"DROP INDEX IF EXISTS {name}" if bulk else index_sql(name, column))
        if bulk:
            conn.execute("DROP INDEX IF EXISTS events_eventID")
    writer.bulk = summary.merge_pending = bulk
    last_commit = time.monotonic()
    pending_events = 0
    writer.begin()
    try:
        for (path, info, old_id), prepared in _prepare_in_order(todo, workers):
            summary.current = str(path)
            pending_events += writer.store_file(path, info, old_id, prepared)
            summary.files_done += 1
            now = time.monotonic()
            # The first file is committed at once: the app shows events as soon as they exist.
            first = summary.events_added == pending_events and pending_events > 0
            if first or now - last_commit >= _COMMIT_SECONDS or pending_events >= _COMMIT_EVENTS:
                writer.commit()
                summary.elapsed = now - started
                if on_progress:
                    on_progress(_snapshot(summary))
                writer.begin()
                last_commit, pending_events = now, 0
        writer.commit()
    except BaseException:
        # Interrupted (Ctrl+C, a signal): every committed file stays indexed and consistent.
        if conn.in_transaction:
            conn.rollback()
        raise
    if bulk:
        summary.current = ""
        summary.phase = "merging duplicate eventIDs"
        post_phase()
        ensure_unique_event_ids(conn, summary)
        summary.phase, summary.merge_pending = "building indexes", False
        post_phase()
        with conn:
            for name, column in EVENT_INDEXES:
                conn.execute(index_sql(name, column))
        # Statistics let the planner pick the index that matches fewest rows; sampled, so this
        # takes well under a second at a million events.
        conn.execute("PRAGMA analysis_limit = 1000")
        conn.execute("ANALYZE main")  # not the attached user marks file (see core.userstate)
        conn.commit()
    summary.phase = "done"
    summary.elapsed = time.monotonic() - started
    summary.events_total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    if on_progress:
        on_progress(_snapshot(summary))
    return summary


def ensure_unique_event_ids(conn: sqlite3.Connection, summary: LoadSummary | None = None) -> int:
    """Make ``events`` hold each eventID once and create its unique index, if it is missing.

    A bulk load inserts without looking eventIDs up (see ``schema.EVENT_ID_INDEX_SQL``); this
    then keeps the first copy of each eventID (the lowest ``events.id``: the file read first,
    as a row-by-row load would), deletes the others, moves them from each file's ``events`` to
    its ``duplicates`` count, and updates ``summary``. Their full-text rows stay as orphans that
    match no event (ids are never reused). Returns the number of duplicates removed; with
    ``summary`` (a load that inserted them itself), also adds them to ``summary.duplicates`` and
    takes them off ``summary.events_added``.
    """
    if _has_event_id_index(conn):
        return 0
    with conn:
        duplicates = conn.execute(
            'SELECT id, file_id FROM events WHERE id NOT IN (SELECT min(id) FROM events GROUP BY "eventID")'
        ).fetchall()
        per_file: dict[int | None, int] = {}
        for _, file_id in duplicates:
            per_file[file_id] = per_file.get(file_id, 0) + 1
        conn.executemany("DELETE FROM event_raw WHERE id = ?", [(event_id,) for event_id, _ in duplicates])
        conn.executemany("DELETE FROM events WHERE id = ?", [(event_id,) for event_id, _ in duplicates])
        conn.executemany(
            "UPDATE files SET events = events - ?, duplicates = duplicates + ? WHERE id = ?",
            [(count, count, file_id) for file_id, count in per_file.items()],
        )
        conn.execute(EVENT_ID_INDEX_SQL)
    if summary is not None:
        summary.duplicates += len(duplicates)
        summary.events_added -= len(duplicates)
    return len(duplicates)


def _has_event_id_index(conn: sqlite3.Connection) -> bool:
    """True when ``events`` has its unique eventID index (no bulk load left copies behind)."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'events_eventID'").fetchone()
    return found is not None


def default_workers(*, interactive: bool = True) -> int:
    """Decoder processes to run beside the writer (at most 4).

    ``interactive`` (the app indexes while a user types): one per core but the writer's, at
    least one, so the UI keeps a core. Otherwise (``trailtui index``) one per core: the writer
    waits on the decoders about half the time, so it shares a core with one of them (measured
    on 2 cores, 190k events: 8.6 s with one decoder, 7.5 s with two).
    """
    cores = os.cpu_count() or 2
    return max(1, min(4, cores - 1 if interactive else cores))


def _pool_context():
    # fork starts a decoder in milliseconds, but is only safe in a process without threads
    # (the loader process, `trailtui index`); anywhere else start clean interpreters.
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _prepare_in_order(todo: list, workers: int | None) -> Iterator[tuple[tuple, PreparedFile]]:
    """Yield ``(todo item, PreparedFile)`` in ``todo`` order, decoding in worker processes.

    Small files travel to the workers in batches (one round trip per file would cost more than
    decoding a 2 KB file), and only a few batches per worker are decoded ahead of the writer, so
    a slow writer does not let decoded files pile up in memory.
    """
    workers = default_workers() if workers is None else workers
    if workers == 0 or len(todo) < _PARALLEL_FILES:
        for item in todo:
            yield item, prepare_file(str(item[0]))
        return
    ahead = 3 * workers
    batches = iter(_batches(todo))
    with _decoder_pool(workers) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append((batch, pool.apply_async(prepare_files, ([str(item[0]) for item in batch],))))
            if len(pending) >= ahead:
                break
        while pending:
            batch, result = pending.popleft()
            prepared = result.get()
            following = next(batches, None)
            if following is not None:
                pending.append((following, pool.apply_async(prepare_files, ([str(item[0]) for item in following],))))
            yield from zip(batch, prepared)


def _decoder_pool(workers: int):
    """A pool of ``workers`` decoder processes that ignore SIGINT.

    Ctrl+C reaches the whole process group: a decoder killed by it mid-task (holding the task
    queue's lock) would hang the pool's shutdown, or print its traceback. SIGINT stays blocked
    while the decoders start, so none can die before it ignores the signal; a Ctrl+C meanwhile
    reaches this process once the pool exists.
    """
    guard = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if guard:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return _pool_context().Pool(workers, initializer=_decoder_started)
    finally:
        if guard:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _decoder_started() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _batches(todo: list) -> Iterator[list]:
    """Group ``todo`` into runs of files of about ``_BATCH_BYTES`` on disk (at most 64 files)."""
    batch: list = []
    size = 0
    for item in todo:
        batch.append(item)
        size += item[1].st_size if item[1] else 0
        if size >= _BATCH_BYTES or len(batch) >= 64:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _snapshot(summary: LoadSummary) -> LoadProgress:
    fields = {name: getattr(summary, name) for name in LoadProgress.__dataclass_fields__}
    return LoadProgress(**fields)


class _Writer:
    """Writes decoded files into the index, one transaction per batch of files."""

    def __init__(self, conn: sqlite3.Connection, summary: LoadSummary) -> None:
        self.conn = conn
        self.summary = summary
        # In a bulk load eventIDs are not looked up: duplicates go at the end
        # (ensure_unique_event_ids); only those within one file are caught here.
        self.bulk = False
        self.known_values: set[tuple[str, str]] = set()  # column_values rows written this run
        self.actors: dict[bytes, int] | None = None  # actors.id by combination digest, read at first use

    def _actor_id(self, row: tuple, seen: dict[tuple, int | None]) -> int | None:
        """``actors.id`` of the event's identity combination (added when new); None when the
        event has no identity columns at all. ``seen`` caches this file's combinations: a file
        holds few actors, so most rows skip the digest."""
        combination = tuple(row[position] for position in _ACTOR_ROW_POSITIONS)
        if combination in seen:
            return seen[combination]
        seen[combination] = actor_id = self._actor_id_of(combination)
        return actor_id

    def _actor_id_of(self, combination: tuple) -> int | None:
        if not any(combination):
            return None
        actors = self.actors
        if actors is None:
            actors = self.actors = {
                _actor_digest(tuple(found[1:])): found[0]
                for found in self.conn.execute(f"SELECT id, {', '.join(ACTOR_COLUMNS)} FROM actors")
            }
        digest = _actor_digest(combination)
        actor_id = actors.get(digest)
        if actor_id is None:
            actor_id = self.conn.execute(
                f"INSERT INTO actors ({', '.join(ACTOR_COLUMNS)}) VALUES ({', '.join('?' * len(ACTOR_COLUMNS))}) RETURNING id",
                combination,
            ).fetchone()[0]
            actors[digest] = actor_id
        return actor_id

    def _record_values(self, event_rows: list[tuple]) -> None:
        """Add the new distinct values of :data:`VALUE_LIST_COLUMNS` to ``column_values``."""
        known = self.known_values
        if len(known) > _KNOWN_VALUES:
            known.clear()  # bounded memory; INSERT OR IGNORE keeps column_values right anyway
        fresh = []
        for column, position in _VALUE_POSITIONS:
            for value in {row[position] for row in event_rows}:
                if value is not None and (column, value) not in known:
                    known.add((column, value))
                    fresh.append((column, value))
        if fresh:
            self.conn.executemany("INSERT OR IGNORE INTO column_values (column_name, value) VALUES (?, ?)", fresh)

    def begin(self) -> None:
        # IMMEDIATE: take the write lock now, so the next free id cannot change under us.
        self.conn.execute("BEGIN IMMEDIATE")
        highest = self.conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'next_event_id'").fetchone()
        # Ids are never reused: a deleted event may leave a full-text row behind (its text could
        # not be rebuilt once its file changed), which must not come to describe a new event.
        self.next_id = max(highest + 1, int(row[0]) if row else 1)

    def commit(self) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_event_id', ?)", (str(self.next_id),))
        self.conn.execute("COMMIT")

    def record_walk_problems(self, problems: list[tuple[str, str]]) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM load_errors WHERE file_id IS NULL")
            self.conn.executemany(
                "INSERT INTO load_errors (file_id, path, position, message) VALUES (NULL, ?, NULL, ?)", problems
            )
        self.summary.failures.extend(problems)

    def remove_vanished(self, roots: list, present: set[str], known: dict) -> None:
        """Drop the events of files that were under ``roots`` last time and are gone now."""
        prefixes = [str(Path(root).expanduser().absolute()) for root in roots]
        gone = [
            (path, file_id)
            for path, (file_id, _, _) in known.items()
            if path not in present
            and any(path == prefix or path.startswith(prefix.rstrip(os.sep) + os.sep) for prefix in prefixes)
        ]
        if not gone:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        for _, file_id in gone:
            self._delete_file_events(file_id)
            self.conn.execute("DELETE FROM load_errors WHERE file_id = ?", (file_id,))
            self.conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
        self.conn.execute("COMMIT")
        self.summary.files_removed = len(gone)

    def _delete_file_events(self, file_id: int) -> None:
        # A contentless FTS5 row is deleted by giving back the text it indexed, so the old
        # bodies are rebuilt from the originals. Their file has changed or vanished by now, so
        # the originals come from what was kept, or not at all: then the FTS rows stay behind
        # as orphans that match no event (every free-text match is joined to events).
        rows = self.conn.execute(
            "SELECT e.id, r.raw FROM events e LEFT JOIN event_raw r ON r.id = e.id WHERE e.file_id = ?", (file_id,)
        ).fetchall()
        self.conn.executemany(
            "INSERT INTO events_fts (events_fts, rowid, body) VALUES ('delete', ?, ?)",
            [(event_id, event_text(unpack_event_json(raw))) for event_id, raw in rows if raw is not None],
        )
        self.conn.executemany("DELETE FROM event_raw WHERE id = ?", [(event_id,) for event_id, _ in rows])
        self.conn.execute("DELETE FROM events WHERE file_id = ?", (file_id,))

    def store_file(self, path: Path, info: os.stat_result | None, old_id: int | None, prepared: PreparedFile) -> int:
        """Write one prepared file; returns the number of events added."""
        summary = self.summary
        if old_id is not None:
            self._delete_file_events(old_id)
            self.conn.execute("DELETE FROM load_errors WHERE file_id = ?", (old_id,))
        size = info.st_size if info else None
        mtime = info.st_mtime_ns if info else None
        file_id = self.conn.execute(
            "INSERT INTO files (path, size, mtime_ns, outcome) VALUES (?, ?, ?, 'reading') "
            "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns "
            "RETURNING id",
            (str(path), size, mtime),
        ).fetchone()[0]
        added = duplicates = 0
        if prepared.events:
            added, duplicates = self._insert_events(file_id, prepared)
        errors = [(file_id, str(path), position, message) for position, message in prepared.record_errors]
        if prepared.outcome == "failed" and prepared.reason:
            errors.insert(0, (file_id, str(path), None, prepared.reason))
        self.conn.executemany("INSERT INTO load_errors (file_id, path, position, message) VALUES (?, ?, ?, ?)", errors)
        if prepared.outcome == "events":
            outcome = "partial" if prepared.record_errors else "loaded"
        else:
            outcome = prepared.outcome
        self.conn.execute(
            "UPDATE files SET outcome = ?, reason = ?, events = ?, duplicates = ?, errors = ?, indexed_at = ? "
            "WHERE id = ?",
            (outcome, prepared.reason, added, duplicates, len(prepared.record_errors), _utc_now(), file_id),
        )
        if prepared.outcome == "failed":
            summary.files_failed += 1
            summary.failures.append((str(path), prepared.reason or "failed"))
        elif prepared.outcome == "skipped":
            summary.files_skipped += 1
            summary.skips.append((str(path), prepared.reason or "skipped"))
        else:
            summary.files_read += 1
        summary.record_errors += len(prepared.record_errors)
        summary.record_problems.extend((str(path), pos, msg) for pos, msg in prepared.record_errors)
        summary.events_added += added
        summary.duplicates += duplicates
        return added

    def _insert_events(self, file_id: int, prepared: PreparedFile) -> tuple[int, int]:
        ids = [row[0] for row, _, _ in prepared.events]
        existing: set[str] = set()
        for start in range(0, 0 if self.bulk else len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            marks = ",".join("?" * len(chunk))
            existing.update(
                found for (found,) in self.conn.execute(f'SELECT "eventID" FROM events WHERE "eventID" IN ({marks})', chunk)
            )
        event_rows, text_rows, kept_rows = [], [], []
        actors_seen: dict[tuple, int | None] = {}
        duplicates = 0
        new_id = self.next_id
        for row, body, kept in prepared.events:
            if row[0] in existing:
                duplicates += 1
                continue
            existing.add(row[0])
            # row ends with (record_index, raw_offset, raw_length); file_id goes before them and
            # actorId after them.
            event_rows.append((new_id, *row[:-3], file_id, *row[-3:], self._actor_id(row, actors_seen)))
            text_rows.append((new_id, body))
            if kept is not None:
                kept_rows.append((new_id, pack_event(kept)))
            new_id += 1
        self.next_id = new_id
        self._record_values(event_rows)
        self.conn.executemany(_INSERT_EVENT, event_rows)
        self.conn.executemany("INSERT INTO events_fts (rowid, body) VALUES (?, ?)", text_rows)
        if kept_rows:
            self.conn.executemany("INSERT INTO event_raw (id, raw) VALUES (?, ?)", kept_rows)
        return len(event_rows), duplicates


def _actor_digest(combination: tuple) -> bytes:
    """A 128-bit digest of an identity combination: the loader keeps one per actor in memory
    (about 50 bytes against about 400 for the strings; collisions are out of reach)."""
    return hashlib.blake2b(repr(combination).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- background process


def _loader_main(db_path: str, paths: list[str], post) -> None:
    """Body of the loader process: index, calling ``post(kind, payload)`` for each message.

    Kinds: ``"progress"`` (a LoadProgress as a dict), ``"done"`` (a LoadSummary as a dict),
    ``"error"`` (a one-line reason).
    """
    from trailtui.core.index import IndexError_, connect, describe_write_error

    # terminate() sends SIGTERM: leave through SystemExit so the decoder pool is shut down too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The loader and its decoders (which inherit this) yield the CPU to the app: on two cores,
    # three busy processes would otherwise make key presses wait their turn.
    try:
        os.nice(10)
    except OSError:
        pass
    try:
        conn = connect(Path(db_path))
        # Half the page cache of `trailtui index`: the app and its loader share the memory budget.
        conn.execute("PRAGMA cache_size = -16384")
        summary = index_paths(conn, paths, on_progress=lambda p: post("progress", asdict(p)))
        conn.close()
        post("done", asdict(summary))
    except (OSError, sqlite3.Error) as err:
        post("error", describe_write_error(err, db_path))
    except (IndexError_, ValueError) as err:
        post("error", str(err))


def _loader_process(argv: list[str]) -> None:
    """``python -m trailtui.core.loader DB PATH...``: the app's loader process. Each message is
    one JSON line ``[kind, payload]`` on stdout."""
    import orjson

    out = sys.stdout.buffer

    def post(kind: str, payload: object) -> None:
        out.write(orjson.dumps([kind, payload]) + b"\n")
        out.flush()

    _loader_main(argv[0], argv[1:], post)


class BackgroundLoader:
    """Runs :func:`index_paths` in a separate process and reads its messages.

    Usage: ``loader.start()``, then iterate :meth:`messages` in one thread (it blocks on the
    process's pipe) until it yields a ``"done"`` or ``"error"`` message; :meth:`stop` ends the
    process early. The process is a plain subprocess (``python -m trailtui.core.loader``)
    writing JSON lines ``[kind, payload]`` on stdout: multiprocessing's spawn would add a 15 MB
    resource-tracker process to the app's memory. Its stderr goes nowhere: a crash there could
    print event values (privacy), and a loader that ends without a final message is reported as
    an ``"error"`` message instead.
    """

    def __init__(self, db_path: Path, paths: list[str]) -> None:
        self._db_path = str(db_path)
        self._paths = [str(p) for p in paths]
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the loader process."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "trailtui.core.loader", self._db_path, *self._paths],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def messages(self) -> Iterator[tuple[str, object]]:
        """The process's messages as ``(kind, payload)``, in order, blocking until each arrives:
        ``("progress", LoadProgress fields)``, then ``("done", summary)`` or ``("error",
        reason)``. Ends after ``done`` or ``error``; a process that stops without either gives
        ``("error", "the loader process stopped (exit code N)")``. Lines that are not such JSON
        are skipped. Raises RuntimeError when :meth:`start` was not called."""
        import orjson

        if self._process is None or self._process.stdout is None:
            raise RuntimeError("BackgroundLoader.messages() before start()")
        for line in self._process.stdout:
            try:
                kind, payload = orjson.loads(line)
            except (orjson.JSONDecodeError, ValueError, TypeError):
                continue
            yield kind, payload
            if kind in ("done", "error"):
                return
        code = self._process.wait()
        yield "error", f"the loader process stopped (exit code {code})"

    def stop(self) -> None:
        """Terminate the loader process if it still runs (its committed batches stay indexed)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._process.kill()


def _fileno(stream) -> int:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return -1


if __name__ == "__main__":
    _loader_process(sys.argv[1:])
