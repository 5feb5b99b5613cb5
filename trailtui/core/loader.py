"""Index log files into a trailtui index: incremental by file, deduplicated by ``eventID``.

:func:`index_paths` does the work in the calling process (``trailtui index``/``query``);
:class:`BackgroundLoader` runs it in a separate process for the app, so parsing (CPU-bound
Python) never starves the UI of the GIL, and reports progress as messages on a queue. The index
is in WAL mode: readers see each committed batch while the loader goes on.

Every core writes: worker processes decode batches of files and write each batch to a shard
file of their own (:mod:`trailtui.core.store.shard`); this process merges the shards into the
index in order (:class:`trailtui.core.store.writer.IndexWriter`), each batch's events, ``files``
rows and load errors in one transaction, so a loader killed half way leaves an index that is
consistent and resumes where it stopped. A bulk load builds the filter indexes once at the end,
then fills the free-text index (phase ``"indexing free text"``): every field filter is complete
before free text is.
CloudTrail delivers some events in more than one file (overlapping trails, global service
events); the first copy of an ``eventID`` is kept and the others are counted as duplicates.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trailtui.core.discover import discover_files
from trailtui.core.sources.s3 import (
    Downloads,
    S3Object,
    S3ObjectError,
    S3Options,
    S3SourceError,
    WindowListing,
    is_s3_url,
    parse_s3_url,
)
from trailtui.core.sources.s3 import cache_path as s3_cache_path
from trailtui.core.sources.s3 import cache_root as s3_cache_root
from trailtui.core.store.originals import main_database_path
from trailtui.core.store.schema import EVENT_INDEXES, index_sql
from trailtui.core.store.free_text import (
    FreeTextBuild,
    adopt_free_text,
    discard_build,
    fill_free_text,
    free_text_pending,
)
from trailtui.core.store.shard import Shard, ShardFile, write_shard
from trailtui.core.store.statistics import refine_value_statistics
from trailtui.core.store.writer import IndexWriter, has_event_id_index, shard_dir

_S3_OPTIONS_ARG = "--s3-options="  # the loader process's options (then the paths)
_FOLLOW_ARG = "--follow="
_RULES_ARG = "--rules="  # a JSON list of --rules paths
_BULK_FILES = 16  # a load of this many files into an empty index builds filter indexes at the end
_PARALLEL_FILES = 4  # fewer files than this are decoded and written in the loader's own process
_BATCH_BYTES = 256 * 1024  # the second batch's size on disk (the first is one file), bytes
_MAX_BATCH_BYTES = 4 * 1024 * 1024  # batches grow to this size on disk, bytes
# From this many cores, a bulk load builds free text beside the field indexes. On 2 cores the two
# builds only share them: at 1M events, building both at once made every field filter wait
# 16.4 s, against 8.6 s for the field indexes alone (then free text, filled in place, ~9 s).
_FREE_TEXT_ASIDE_CORES = 4


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

    ``phase`` is ``"reading"``, then for a bulk load ``"merging duplicate eventIDs"`` (building
    the unique eventID index; removing copies only when there are some) and ``"building
    indexes"``, then ``"indexing free text"`` (every field filter is complete by then; bare words
    see the ``fts_done`` of ``fts_total`` events filled so far), and last ``"done"``.
    ``fts_waiting``: events in the index that free text cannot find yet (a bulk load's, or those
    an interrupted load left); 0 when bare words search every event.
    S3 sources (phase ``"listing S3"`` first): ``objects_listed`` objects kept by the listing,
    ``objects_to_download`` of them new or changed, ``objects_downloaded`` and
    ``bytes_downloaded`` arrived so far in ``download_seconds``; ``listing_note`` names a prefix
    outside CloudTrail's layout that is read whole, with its object count and size, when it is
    large (shown before its objects are downloaded: the user may want a narrower prefix).
    ``s3_listing``: folders are still being listed (the load reads the first ones meanwhile),
    so the S3 counts and ``files_total`` still grow.
    A load that finds an interrupted bulk load's copies merges them first (phase ``"merging
    duplicate eventIDs"`` before ``"reading"``). ``files_held``: local files left for a later
    load because they are still being written (following; not in ``files_total``).
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
    files_held: int = 0
    elapsed: float = 0.0
    current: str = ""
    phase: str = "reading"
    merge_pending: bool = False
    fts_done: int = 0
    fts_total: int = 0
    fts_waiting: int = 0
    objects_listed: int = 0
    objects_to_download: int = 0
    objects_downloaded: int = 0
    bytes_downloaded: int = 0
    download_seconds: float = 0.0
    listing_note: str = ""
    s3_listing: bool = False

    def listing_note_after(self, shown: str) -> str:
        """The listing notes added since ``shown`` (an earlier ``listing_note``; notes only
        accumulate, joined by " · ")."""
        if shown and self.listing_note.startswith(shown):
            return self.listing_note[len(shown):].lstrip(" ·")
        return self.listing_note

    @property
    def rate(self) -> float:
        """Events added per second so far."""
        return self.events_added / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def problems(self) -> int:
        """Files that failed plus bad records: what the status line calls errors."""
        return self.files_failed + self.record_errors

    @property
    def download_note(self) -> str:
        """``S3: 120/400 objects downloaded · 3.5 MB/s`` while S3 objects arrive; "" without
        any to download (MB: 10^6 bytes)."""
        if not self.objects_to_download:
            return ""
        rate = self.bytes_downloaded / self.download_seconds / 1e6 if self.download_seconds > 0 else 0.0
        listing = " (still listing)" if self.s3_listing else ""
        return (f"S3: {self.objects_downloaded:,}/{self.objects_to_download:,} objects downloaded{listing}"
                f" · {rate:,.1f} MB/s")


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
    conn: sqlite3.Connection,
    paths: list[str | os.PathLike],
    *,
    on_progress=None,
    workers: int | None = None,
    s3_options: S3Options | None = None,
    s3_lister=None,
    hold=None,
) -> LoadSummary:
    """Index every file under ``paths`` into the index open on ``conn`` (a writer connection).

    ``paths`` are local files and directories, and ``s3://BUCKET[/PREFIX]`` URLs, listed and
    downloaded as ``s3_options`` says (:mod:`trailtui.core.sources.s3`; their objects are
    recorded under their URLs, unchanged ones, by size and ETag, are not downloaded again, and
    those no longer listed are kept). Raises :class:`trailtui.core.sources.s3.S3SourceError`
    when S3 cannot be used at all (no credentials, say; local paths given beside are indexed
    first); objects or prefixes that cannot be read
    are load problems naming them, and the rest still loads. ``s3_lister`` lists the S3 URLs
    instead of a :class:`~trailtui.core.sources.s3.WindowListing` of ``s3_options`` (a follow
    poll: :class:`~trailtui.core.sources.follow.DeliveryPoll`; it has the same ``client`` and
    ``stream(urls)``). Listing runs on a thread beside the load: the first folders' objects are
    downloaded and read while later ones are still being listed.

    ``hold(path, os.stat_result) -> bool``: local files it holds back are not read this time
    (files still being written, while following: :func:`trailtui.core.sources.follow.is_being_written`);
    they count in ``files_held``, and their old events (if any) stay.

    Unchanged files (same size and mtime as recorded in ``files``) are not read again; changed
    files are re-read and replace their old events; files that vanished from under ``paths`` have
    their events removed. ``on_progress`` is called with a :class:`LoadProgress` after each
    commit. ``workers`` worker processes decode files and write shards (default
    :func:`default_workers`; 0 does it in this process). Raises
    :class:`trailtui.core.discover.InputPathError` for a path that does not exist.

    One process indexes an index at a time: a second one waits here until the first is done
    (:func:`trailtui.core.store.index.indexing_lock`), then reads only what is still new.
    """
    from trailtui.core.store.index import indexing_lock

    with indexing_lock(conn):
        decoders = None
        if any(is_s3_url(str(path)) for path in paths) and workers != 0 and _pool_context().get_start_method() == "fork":
            # S3 listing and downloads run on threads: fork the decoders before they start.
            decoders = _Decoders.started(default_workers() if workers is None else workers)
        finished = False
        try:
            summary = _index_paths_locked(
                conn, paths, on_progress=on_progress, workers=workers, s3_options=s3_options, s3_lister=s3_lister,
                hold=hold, decoders=decoders,
            )
            finished = True
            return summary
        finally:
            if decoders is not None:
                decoders.close(finished=finished)  # if the load did not use (and close) them


def _index_paths_locked(
    conn: sqlite3.Connection, paths: list, *, on_progress, workers: int | None, s3_options: S3Options | None,
    s3_lister, hold, decoders,
) -> LoadSummary:
    from trailtui.core.store.index import take_rebuild_notice

    started = time.monotonic()
    summary = LoadSummary()

    def post() -> None:
        if on_progress:
            summary.elapsed = time.monotonic() - started
            on_progress(_snapshot(summary))

    notice = take_rebuild_notice(conn)
    if notice:
        summary.notices.append(notice)
    local = [path for path in paths if not is_s3_url(str(path))]
    discovery = discover_files(local)
    writer = IndexWriter(conn)
    known = recorded_files(conn)
    todo: list[PlannedFile] = []
    for path in discovery.files:
        try:
            info = path.stat()
        except OSError:
            info = None
        old = known.get(str(path))
        if old and info and old[1] == info.st_size and old[2] == info.st_mtime_ns:
            summary.files_unchanged += 1
            continue
        if hold is not None and info is not None and hold(str(path), info):
            summary.files_held += 1
            continue
        size, mtime_ns = (info.st_size, info.st_mtime_ns) if info else (None, None)
        todo.append(PlannedFile(str(path), str(path), size, mtime_ns, old[0] if old else None))
    problems = list(discovery.problems)
    remote = [parse_s3_url(str(path)) for path in paths if is_s3_url(str(path))]
    lister = None
    if remote:
        lister = s3_lister or WindowListing(s3_options or S3Options())
        _ = lister.client  # an unknown --profile is said (S3SourceError) before the index changes
    summary.files_total = len(discovery.files) - summary.files_held + summary.objects_listed
    summary.files_done = summary.files_unchanged
    writer.record_walk_problems(problems)
    summary.failures.extend(problems)
    gone = _vanished(local, {str(p) for p in discovery.files}, known)
    writer.remove_files(gone)
    summary.files_removed = len(gone)

    empty = conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None
    # A listing's objects are not counted yet: S3 into an empty index loads in bulk.
    bulk = empty and (len(todo) >= _BULK_FILES or bool(remote))
    if not bulk and not has_event_id_index(conn):
        # A bulk load that was interrupted left duplicates and no eventID index: settle them
        # first (announced: it takes a while). Those copies were added by that earlier run, so
        # events_added stays as it is. A new index only gets its eventID index here.
        if not empty:
            summary.phase = "merging duplicate eventIDs"
            post()
        summary.duplicates += writer.ensure_unique_event_ids()[0]
        summary.phase = "reading"
    with conn:
        for name, column in EVENT_INDEXES:
            # Filter indexes are built once after a bulk insert: cheaper than row by row. (A
            # bulk load that was interrupted left them out; any later load puts them back.)
            conn.execute(f"DROP INDEX IF EXISTS {name}" if bulk else index_sql(name, column))
        if bulk:
            conn.execute("DROP INDEX IF EXISTS events_eventID")
    writer.bulk = summary.merge_pending = bulk
    writer.discard_stale_shards()
    summary.fts_waiting = free_text_pending(conn)
    # Free text can skip checking each body against events when every waiting shard is this
    # load's and the only events gone are the duplicates it merges away (see store.free_text).
    own_shards_only = bulk and not summary.fts_waiting
    gone: frozenset[int] | None = None
    directory = shard_dir(conn)
    listed = None
    few = len(todo) < _PARALLEL_FILES
    if remote:
        # Listed on a thread: the first folders' objects download and are read while the
        # others are still being listed.
        summary.phase = "listing S3"
        post()
        listed = _ListedObjects(lister, remote, known, s3_cache_root(main_database_path(conn) or "trailtui.sqlite"),
                                summary, post)
        todo, few = itertools.chain(todo, listed), False
    shards = _shards_in_order(todo, workers, directory, decoders, few=few)

    def note_downloads() -> None:
        if listed is not None:
            listed.note_downloads()

    finished = False
    try:
        for batch, shard in shards:
            failed = [item for item in batch if item.failure is not None]
            if failed:
                # Not recorded in ``files``: the next load tries these objects again.
                writer.add_problems([(item.name, item.failure) for item in failed])
                summary.failures.extend((item.name, item.failure) for item in failed)
                summary.files_failed += len(failed)
            ready = [item for item in batch if item.failure is None]
            stats = [(item.name, item.size, item.mtime_ns, item.old_id, item.etag) for item in ready]
            counts = writer.merge_shard(shard, stats)
            for found, (added, duplicates) in zip(shard.files, counts):
                _count_file(summary, found, added, duplicates)
            if bulk:
                summary.fts_waiting += sum(added for added, _ in counts)
            summary.files_done += len(batch)
            summary.current = batch[-1].name
            note_downloads()
            post()
        finished = True
    finally:
        # An interrupted load: stop the workers first (closing the generator ends their pool),
        # then remove the shards of batches never merged.
        shards.close()
        if listed is not None:
            listed.close(cancel=not finished)
            note_downloads()
        writer.discard_stale_shards()
    if listed is not None and listed.problems:
        # Folders that could not be listed (not tied to a file: replaced by the next load).
        writer.add_problems(listed.problems)
        summary.failures.extend(listed.problems)
    summary.current = ""
    if bulk:
        summary.phase = "merging duplicate eventIDs"
        post()
        with _index_builds(conn, os.cpu_count() or 1):
            removed, _, removed_ids = writer.ensure_unique_event_ids()
        gone = frozenset(removed_ids) if own_shards_only else None
        summary.duplicates += removed
        summary.events_added -= removed
        summary.fts_waiting = max(0, summary.fts_waiting - removed)
        summary.phase, summary.merge_pending = "building indexes", False
        post()
        cores = os.cpu_count() or 1
        aside = None
        if cores >= _FREE_TEXT_ASIDE_CORES:
            # Free text is built beside the field indexes, on a core of its own (store.free_text).
            aside = FreeTextBuild.start_for(conn, directory / f"free-text-{uuid.uuid4().hex[:8]}.sqlite", gone)
        if aside is not None:
            summary.fts_total = aside.total
        with _index_builds(conn, cores - (aside is not None)):
            for name, column in EVENT_INDEXES:
                with conn:
                    conn.execute(index_sql(name, column))
                if aside is not None:
                    summary.fts_done = aside.done
                    post()
        # Statistics let the planner pick the index that matches fewest rows; sampled, so this
        # takes well under a second at a million events.
        conn.execute("PRAGMA analysis_limit = 1000")
        conn.execute("ANALYZE main")  # not the attached user marks file (see core.userstate)
        refine_value_statistics(conn)
        conn.commit()
        if aside is not None:
            # Every field filter is complete from here on.
            summary.phase = "indexing free text"
            while aside.is_alive():
                summary.fts_done = aside.done
                post()
                aside.join(0.5)
            if aside.error is None:
                adopt_free_text(conn, aside)
                summary.fts_waiting = free_text_pending(conn)
            else:
                discard_build(aside)
                summary.notices.append(f"free text was filled in place ({aside.error})")
    pending = free_text_pending(conn)
    if pending:
        # A bulk load on fewer than 4 cores, or what an interrupted load left: filled in place.
        summary.phase, summary.fts_total, summary.fts_done = "indexing free text", pending, 0
        summary.fts_waiting = pending
        post()

        def step(done: int, total: int) -> None:
            summary.fts_done = done
            summary.fts_waiting = max(0, pending - done)
            post()

        fill_free_text(conn, step, gone=gone)
    summary.fts_done, summary.fts_waiting = summary.fts_total, 0
    _remove_empty(directory)
    if listed is not None and listed.fatal is not None:
        # S3 could not be used at all (no credentials, say): said now that what was read
        # (local files) is indexed whole, indexes and all.
        raise listed.fatal
    summary.phase = "done"
    summary.elapsed = time.monotonic() - started
    summary.events_total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    if on_progress:
        on_progress(_snapshot(summary))
    return summary


@contextmanager
def _index_builds(conn: sqlite3.Connection, cores: int) -> Iterator[None]:
    """Set ``conn`` up for building indexes on ``cores`` cores, then back as it was.

    SQLite's sorter uses helper threads, and sorts in runs of the page cache's size: at 1M
    events on 2 cores the field indexes took 8.4 s with 2 threads and a 2 MB cache, 12.1 s with
    no thread, 13.2 s with the writer's 32 MB cache (bigger runs fit the CPU caches worse).
    """
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA threads = {max(0, min(4, cores))}")
    conn.execute("PRAGMA cache_size = -2000")
    try:
        yield
    finally:
        conn.execute("PRAGMA threads = 0")
        conn.execute(f"PRAGMA cache_size = {int(cache)}")


def _count_file(summary: LoadSummary, found: Shard | ShardFile, added: int, duplicates: int) -> None:
    """Add one merged file's outcome to ``summary``."""
    if found.outcome == "failed":
        summary.files_failed += 1
        summary.failures.append((found.path, found.reason or "failed"))
    elif found.outcome == "skipped":
        summary.files_skipped += 1
        summary.skips.append((found.path, found.reason or "skipped"))
    else:
        summary.files_read += 1
    summary.record_errors += len(found.record_errors)
    summary.record_problems.extend((found.path, position, message) for position, message in found.record_errors)
    summary.events_added += added
    summary.duplicates += duplicates


def _vanished(roots: list, present: set[str], known: dict) -> list[int]:
    """``files.id`` of the files that were under ``roots`` last time and are gone now."""
    prefixes = [str(Path(root).expanduser().absolute()) for root in roots]
    return [
        file_id
        for path, (file_id, *_) in known.items()
        if path not in present
        and any(path == prefix or path.startswith(prefix.rstrip(os.sep) + os.sep) for prefix in prefixes)
    ]


def _remove_empty(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass  # not empty: shards still wait for their free text (an interrupted load)


def default_workers(*, interactive: bool = True) -> int:
    """Worker processes (each decodes and writes its own shard) to run beside the loader: one
    per core, at most 4.

    The loader itself only merges shards in SQL (about 4.5 µs per event), so it needs no core
    of its own. ``interactive`` (the app indexes while a user types) gives the same number:
    the app's loader and its workers run at nice 10 (see ``_loader_main``), so a key press
    still gets a core at once.
    """
    cores = os.cpu_count() or 2
    return max(1, min(4, cores))


def _pool_context():
    # fork starts a decoder in milliseconds, but is only safe in a process without threads
    # (the loader process, `trailtui index`); anywhere else start clean interpreters.
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@dataclass
class PlannedFile:
    """One file the load will read: ``name`` as the index records it (``files.path``: a local
    path, or an S3 object's URL), ``read_path`` where its bytes are (the S3 cache once it has
    arrived), ``size`` in bytes, ``mtime_ns`` of ``read_path``, ``old_id`` (``files.id`` of
    the version it replaces), ``etag`` (S3's). ``arrival``: the download's Future for an S3
    object; ``failure``: why it could not be fetched (S3's error code and message)."""

    name: str
    read_path: str
    size: int | None
    mtime_ns: int | None
    old_id: int | None
    etag: str | None = None
    s3: S3Object | None = None
    arrival: Future | None = None
    failure: str | None = None


#: What the listing yields when it has found nothing new yet: the batch so far is cut there.
_PAUSE = object()
_PAUSE_WAIT = 0.05  # seconds the listing is waited for once the load had nothing else to do


class _ListedObjects:
    """The S3 objects of a load, planned as the listing finds them.

    A thread runs ``lister.stream(urls)`` (:class:`~trailtui.core.sources.s3.WindowListing`);
    an object whose size and ETag are as the index recorded (``known``: URL -> (id, size,
    mtime_ns, etag)) and whose cached copy under ``root`` is intact is unchanged; each other one
    becomes a :class:`PlannedFile` whose download starts at once. Iterating (on the load's
    thread) yields the planned files in listing order and keeps ``summary``'s counts; a large
    prefix's note is posted (``post``) before its objects are downloaded. When S3 cannot be
    used at all (no credentials, say), iteration ends and :attr:`fatal` holds the
    :class:`S3SourceError`, for the load to raise once what it read is indexed; any other error
    of the listing is raised. After it, :attr:`problems` holds the ``(URL, message)`` of each
    folder that could not be listed.
    """

    def __init__(self, lister, urls: list, known: dict, root: Path, summary: LoadSummary, post) -> None:
        self.lister, self.urls, self.known, self.root = lister, urls, known, root
        self.summary, self.post = summary, post
        self.problems: list[tuple[str, str]] = []
        #: The :class:`S3SourceError` that stopped the listing (S3 cannot be used at all), if any:
        #: the load finishes what it read, then raises it.
        self.fatal: S3SourceError | None = None
        self.downloads = Downloads(lister.client, root)
        self._messages: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        summary.s3_listing = True
        self._thread = threading.Thread(target=self._list, name="s3-listing", daemon=True)
        self._thread.start()

    def _list(self) -> None:
        stream = None
        try:
            stream = self.lister.stream(self.urls, stop=self._stop)
            for objects, note in stream:
                if note:
                    # Said before these objects download: the user may want a narrower prefix.
                    shown = threading.Event()
                    self._messages.put(("note", note, shown))
                    while not shown.wait(0.1):
                        if self._stop.is_set():
                            return
                if self._stop.is_set():
                    return
                planned = []
                for obj in objects:
                    old = self.known.get(obj.url)
                    if object_unchanged(old, obj, self.root):
                        continue
                    item = PlannedFile(obj.url, "", obj.size, None, old[0] if old else None, etag=obj.etag, s3=obj)
                    item.arrival = self.downloads.submit(obj)
                    planned.append(item)
                self._messages.put(("objects", planned, len(objects)))
            self._messages.put(("done", list(self.lister.problems)))
        except BaseException as err:  # handed to the load's thread, which raises it
            self._messages.put(("error", err))
        finally:
            if stream is not None:
                stream.close()  # listings not started yet are not started

    def __iter__(self) -> Iterator[PlannedFile | object]:
        """Planned files, and :data:`_PAUSE` whenever nothing is listed yet (asked again, it
        waits a moment for the listing before pausing again)."""
        summary = self.summary
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                yield _PAUSE  # the load may merge what it has meanwhile
                try:
                    message = self._messages.get(timeout=_PAUSE_WAIT)
                except queue.Empty:
                    continue
            kind = message[0]
            if kind == "note":
                summary.listing_note = " · ".join(filter(None, (summary.listing_note, message[1])))
                self.post()
                message[2].set()
            elif kind == "objects":
                planned, listed = message[1], message[2]
                unchanged = listed - len(planned)
                summary.objects_listed += listed
                summary.objects_to_download += len(planned)
                summary.files_total += listed
                summary.files_unchanged += unchanged
                summary.files_done += unchanged
                summary.phase = "reading"
                yield from planned
            elif kind == "done":
                self.problems = message[1]
                summary.s3_listing = False
                summary.phase = "reading"
                return
            elif isinstance(message[1], S3SourceError):
                self.fatal = message[1]
                summary.s3_listing = False
                return
            else:
                raise message[1]

    def note_downloads(self) -> None:
        """Copy the download counts into the summary."""
        summary, downloads = self.summary, self.downloads
        summary.objects_downloaded, summary.bytes_downloaded = downloads.objects, downloads.bytes
        summary.download_seconds = time.monotonic() - downloads.started

    def close(self, *, cancel: bool) -> None:
        """Wait for the downloads, or (``cancel``: an interrupted load) stop downloading at
        once, then listing (the listing thread ends within 0.1 s, a listing request under way
        finishes on its own)."""
        if cancel:
            self._stop.set()
        self.downloads.close(cancel=cancel)
        if cancel:
            self._thread.join(1)
        self.summary.s3_listing = False


def _arrived(item: PlannedFile) -> bool:
    """Wait for ``item``'s download (if any); False (``failure`` set) when it failed."""
    if item.arrival is None or item.read_path:
        return item.failure is None
    try:
        item.read_path = item.arrival.result()
    except (S3ObjectError, OSError) as err:
        item.failure = str(err) if not isinstance(err, OSError) else f"cannot write the S3 cache: {err.strerror or err}"
        return False
    info = os.stat(item.read_path)
    item.size, item.mtime_ns = info.st_size, info.st_mtime_ns
    return True


def _landed(item: PlannedFile) -> bool:
    """``item`` can be read without waiting: a local file, or an S3 object whose download ended."""
    return item.arrival is None or item.read_path != "" or item.arrival.done()


def recorded_files(conn: sqlite3.Connection) -> dict[str, tuple]:
    """Every file the index has read: path (an ``s3://`` URL for an S3 object) -> ``(id, size
    in bytes, mtime_ns, etag)``, as a load compares them with what it finds."""
    rows = conn.execute("SELECT id, path, size, mtime_ns, etag FROM files")
    return {path: (file_id, size, mtime_ns, etag) for file_id, path, size, mtime_ns, etag in rows}


def object_unchanged(known: tuple | None, obj, root: Path) -> bool:
    """An S3 object (:class:`~trailtui.core.sources.s3.S3Object`) is as the index recorded it
    (``known``: its ``files`` row's ``(id, size, mtime_ns, etag)``, or None) and its cached copy
    under ``root`` is as it was when indexed: a load does not download it again."""
    if not known or known[1] != obj.size or known[3] != obj.etag:
        return False
    try:
        return os.stat(s3_cache_path(root, obj.url)).st_mtime_ns == known[2]
    except OSError:
        return False


class DecoderStopped(RuntimeError):
    """A decoder process ended in the middle of a batch (killed by the kernel's OOM killer, a
    signal, a crash). Its message names the batch's first file and how many follow it; the
    batches merged before it stay indexed, and the next load reads the rest."""


class _Decoders:
    """The decoder processes: a ProcessPoolExecutor and how to tell its processes from others.

    concurrent.futures, not multiprocessing.Pool: a Pool whose worker dies never answers that
    task (the merge waits forever), and its terminate() can deadlock on the task queue's lock
    (seen once in CI); the executor raises BrokenProcessPool instead.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._before = set(multiprocessing.active_children())  # to tell our decoders from others
        self.pool = ProcessPoolExecutor(workers, mp_context=_pool_context(), initializer=_decoder_started)
        self._closed = False

    @classmethod
    def started(cls, workers: int) -> _Decoders:
        """A pool whose processes are running already: started now, while this process has no
        other thread, they fork (milliseconds) rather than spawn (a fresh interpreter importing
        trailtui: about 0.2 s before the first batch) once S3 listing and download threads run."""
        decoders = cls(workers)
        with _sigint_blocked():
            for future in [decoders.pool.submit(os.getpid) for _ in range(workers)]:
                future.result()
        return decoders

    def submit(self, *args) -> Future:
        """``pool.submit`` with SIGINT blocked: a submit may start a worker, and none may die of a
        Ctrl+C before it ignores SIGINT (see :func:`_decoder_started`)."""
        with _sigint_blocked():
            return self.pool.submit(*args)

    def close(self, *, finished: bool) -> None:
        """Wait for the workers (``finished``), or stop them: an interrupted load's shards are
        discarded anyway. Once; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        if finished:
            self.pool.shutdown(wait=True)
            return
        self.pool.shutdown(wait=False, cancel_futures=True)
        for child in set(multiprocessing.active_children()) - self._before:
            child.terminate()
        for child in set(multiprocessing.active_children()) - self._before:
            child.join(5)


def _shards_in_order(
    todo: Iterable, workers: int | None, directory: Path, decoders: _Decoders | None = None, *, few: bool = False
) -> Iterator[tuple[list, Shard]]:
    """Yield ``(batch of todo items, Shard)`` in ``todo`` order, each batch written to a shard
    in ``directory`` by a worker process (in this process when ``workers`` is 0 or there are
    ``few`` files). ``decoders``: worker processes started beforehand (:meth:`_Decoders.started`);
    this generator closes them either way.

    Only a few batches per worker are written ahead of the merge, so a slow merge does not let
    shards pile up on disk. Raises :class:`DecoderStopped` when a worker process dies.
    """
    workers = default_workers() if workers is None else workers
    load = uuid.uuid4().hex[:8]  # shard names never meet a previous load's
    numbered = enumerate(_batches(todo))

    def task(number: int, batch: list) -> tuple:
        ready = [item for item in batch if _arrived(item)]
        shard = str(directory / f"{load}-{number:06d}.sqlite")
        return [item.read_path for item in ready], shard, [item.name for item in ready]

    if workers == 0 or few:
        if decoders is not None:
            decoders.close(finished=True)
        for number, batch in numbered:
            if batch:
                yield batch, write_shard(*task(number, batch))
        return
    ahead = 2 * workers
    decoders = decoders or _Decoders(workers)
    pending: deque = deque()
    finished = False

    def submit(number: int, batch: list) -> None:
        args = task(number, batch)  # may wait for S3 downloads: Ctrl+C stays deliverable here
        pending.append((batch, decoders.submit(write_shard, *args)))

    waiting: list = []  # the next (number, batch), taken from ``numbered`` but not submitted

    def fill(*, block: bool) -> None:
        # Up to ``ahead`` batches in the workers. A batch whose S3 objects are still arriving
        # waits unless nothing else is pending (``block``): the first screen must not wait for
        # the downloads of the batches after the first.
        while len(pending) < ahead:
            if not waiting:
                following = next(numbered, None)
                if following is None:
                    return
                if not following[1]:  # nothing listed yet: wait for it only when idle
                    if block and not pending:
                        continue
                    return
                waiting.append(following)
            if not (block and not pending) and not all(_landed(item) for item in waiting[0][1]):
                return
            submit(*waiting.pop())

    try:
        while True:
            if not pending:
                fill(block=True)
                if not pending:
                    break
            batch, future = pending.popleft()
            try:
                shard = future.result()
            except BrokenProcessPool:
                raise DecoderStopped(
                    f"a decoder process stopped unexpectedly (killed, or out of memory) while reading"
                    f" {batch[0].name} and the {len(batch) - 1} files after it; the files merged before"
                    " them stay indexed, and the next load reads the rest"
                ) from None
            fill(block=False)
            yield batch, shard
        finished = True
    finally:
        # Interrupted (Ctrl+C, an error, the consumer stopped): the workers are stopped.
        decoders.close(finished=finished)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while the body runs (processes started meanwhile inherit the
    mask), so that a Ctrl+C reaches this process only once the body is done.

    Ctrl+C reaches the whole process group: a decoder killed by it mid-task would break the
    pool, or print its traceback. Each decoder ignores SIGINT, then unblocks it
    (:func:`_decoder_started`).
    """
    guard = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if guard:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if guard:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _decoder_started() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # A loader killed outright (kill -9, the OOM killer) cannot stop its decoders, and they
    # would wait on the task queue forever (each holds its write end): each leaves with it.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_leave_with, args=(parent.sentinel,), daemon=True).start()


def _leave_with(parent_sentinel: int) -> None:
    multiprocessing.connection.wait([parent_sentinel])
    os._exit(1)


def _batches(todo: Iterable) -> Iterator[list]:
    """Group ``todo`` into runs of files: the first file alone (the app shows events as soon as
    one file is in), then runs of :data:`_BATCH_BYTES` on disk growing to :data:`_MAX_BATCH_BYTES`
    (each batch is a shard: fewer, larger ones cost fewer merges; at most 1024 files). A
    :data:`_PAUSE` in ``todo`` ends the batch there (empty when nothing came before it)."""
    batch: list = []
    size = 0
    limit = 1
    for item in todo:
        if item is _PAUSE:
            # The S3 listing has nothing more yet: what is listed goes now (an empty batch says
            # "nothing yet"); later batches are not held back for folders still being listed.
            yield batch
            batch, size = [], 0
            continue
        batch.append(item)
        size += item.size or 0
        if size >= limit or len(batch) >= 1024:
            yield batch
            batch, size = [], 0
            limit = min(_MAX_BATCH_BYTES, max(_BATCH_BYTES, 2 * limit))
    if batch:
        yield batch


def _snapshot(summary: LoadSummary) -> LoadProgress:
    fields = {name: getattr(summary, name) for name in LoadProgress.__dataclass_fields__}
    return LoadProgress(**fields)


# --------------------------------------------------------------------------- background process


def _loader_main(
    db_path: str, paths: list[str], post, s3_options: S3Options | None = None, follow_interval: float | None = None,
    rules: list[str] | None = None,
) -> None:
    """Body of the loader process: index, calling ``post(kind, payload)`` for each message.

    Kinds: ``"progress"`` (a LoadProgress as a dict), ``"done"`` (a LoadSummary as a dict),
    ``"error"`` (a one-line reason). After ``"done"`` the detection rules run
    (:func:`_detector`: the built-in pack, the user's rules directory and ``rules``, the
    ``--rules`` paths): ``"detecting"`` after each rule, then ``"detected"``. With
    ``follow_interval`` (seconds between S3 polls), it then follows new deliveries
    (:mod:`trailtui.core.sources.follow`) until terminated: each round posts ``"progress"``
    while it reads and ``"follow"`` at its end (the round's LoadSummary as a dict, plus
    ``"error"``: None, or why the round could not run), then runs the rules over its new events.
    """
    from trailtui.core.store.index import IndexError_, connect, describe_write_error

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
        summary = index_paths(conn, paths, on_progress=lambda p: post("progress", asdict(p)), s3_options=s3_options)
        post("done", asdict(summary))
        detect = _detector(conn, post, rules or [])
        detect()
        if follow_interval is not None:
            _follow(conn, db_path, paths, post, s3_options, follow_interval, detect)
        conn.close()
    except (OSError, sqlite3.Error) as err:
        post("error", describe_write_error(err, db_path))
    except (IndexError_, ValueError, DecoderStopped, S3SourceError) as err:
        post("error", str(err))


def _detector(conn: sqlite3.Connection, post, extra_rules: list[str]):
    """A function that runs the detection rules over what is new in the index, posting
    ``"detecting"`` (``{"done": rules run, "total": rules}``) after each rule and
    ``"detected"`` at the end (``rules``, ``hits`` new this time, ``seconds``, ``full``,
    ``problems``: ``[path, reason]`` of rule files not used, ``failed``: ``[title, reason]`` of
    rules whose SQL failed). The rules are loaded once."""
    from trailtui.core.detect.rules import load_rules, rule_sources
    from trailtui.core.detect.runner import rule_paths_for, run_rules
    from trailtui.core.store.index import indexing_lock

    loaded: list = []  # (rules, reported problems), once

    def detect() -> None:
        done = 0

        def step(_detection) -> None:
            nonlocal done
            done += 1
            post("detecting", {"done": done, "total": len(loaded[0][0])})

        # A rule run that fails (a rule file pySigma chokes on, the index busy or full) is
        # reported; the events stay indexed and following goes on.
        try:
            with indexing_lock(conn):
                if not loaded:
                    rules, problems = load_rules(rule_sources(rule_paths_for(conn, extra_rules)))
                    loaded.append((rules, [[problem.path, problem.reason] for problem in problems]))
                rules, reported = loaded[0]
                run = run_rules(conn, rules, on_rule=step)
        except (sqlite3.Error, OSError, ValueError, RecursionError) as err:
            post("detected", {"rules": 0, "hits": 0, "seconds": 0.0, "full": False, "problems": [],
                              "failed": [], "error": describe_detection_error(err)})
            return
        post("detected", {"rules": run.rules, "hits": run.hits, "seconds": run.seconds, "full": run.full,
                          "problems": reported, "failed": [list(item) for item in run.problems], "error": None})

    return detect


def describe_detection_error(err: BaseException) -> str:
    """One line on why the detection rules could not run (the loader's ``detected`` message)."""
    return f"the detection rules could not run: {str(err).splitlines()[0] if str(err) else type(err).__name__}"


def _follow(
    conn, db_path: str, paths: list[str], post, s3_options: S3Options | None, interval: float, detect=None
) -> None:
    """Follow new deliveries after the first load, posting each round (see :func:`_loader_main`)."""
    from trailtui.core.sources.follow import Follower, follow

    follower = Follower(paths, s3_options=s3_options, interval=interval, db_path=db_path)

    def round_done(summary, error: str | None) -> None:
        post("follow", {**(asdict(summary) if summary is not None else {}), "error": error})
        # The rules again when the round read or removed a file (a quiet round writes nothing).
        if detect is not None and summary is not None and (
                summary.events_added or summary.files_removed or summary.files_read):
            detect()

    follow(conn, follower, on_round=round_done, on_progress=lambda p: post("progress", asdict(p)))


def _loader_process(argv: list[str]) -> None:
    """``python -m trailtui.core.loader DB [--s3-options=JSON] [--follow=SECONDS] PATH...``:
    the app's loader process (JSON: :meth:`S3Options.to_dict`; ``--follow``: keep following
    new deliveries, polling S3 every SECONDS). Each message is one JSON line ``[kind,
    payload]`` on stdout."""
    import orjson

    out = sys.stdout.buffer

    def post(kind: str, payload: object) -> None:
        out.write(orjson.dumps([kind, payload]) + b"\n")
        out.flush()

    paths, options, interval, rules = argv[1:], None, None, []
    while paths and paths[0].startswith((_S3_OPTIONS_ARG, _FOLLOW_ARG, _RULES_ARG)):
        option = paths.pop(0)
        if option.startswith(_S3_OPTIONS_ARG):
            options = S3Options.from_dict(orjson.loads(option[len(_S3_OPTIONS_ARG):]))
        elif option.startswith(_RULES_ARG):
            rules = [str(path) for path in orjson.loads(option[len(_RULES_ARG):])]
        else:
            interval = float(option[len(_FOLLOW_ARG):])
    _loader_main(argv[0], paths, post, options, interval, rules)


class BackgroundLoader:
    """Runs :func:`index_paths` in a separate process and reads its messages.

    Usage: ``loader.start()``, then iterate :meth:`messages` in one thread (it blocks on the
    process's pipe) until it yields a ``"detected"`` or ``"error"`` message; :meth:`stop` ends the
    process early. ``rules``: ``--rules`` paths for the detection rules it runs after indexing.
    With ``follow_interval`` (seconds between S3 polls) the process goes on after ``"done"``,
    following new deliveries (``"follow"`` messages), until :meth:`stop`. The process is a plain subprocess (``python -m trailtui.core.loader``)
    writing JSON lines ``[kind, payload]`` on stdout: multiprocessing's spawn would add a 15 MB
    resource-tracker process to the app's memory. Its stderr goes nowhere: a crash there could
    print event values (privacy), and a loader that ends without a final message is reported as
    an ``"error"`` message instead.
    """

    def __init__(
        self, db_path: Path, paths: list[str], s3_options: S3Options | None = None, follow_interval: float | None = None,
        rules: list[str] | None = None,
    ) -> None:
        self._db_path = str(db_path)
        self._paths = [str(p) for p in paths]
        self._options = [] if s3_options is None else [_S3_OPTIONS_ARG + json.dumps(s3_options.to_dict())]
        if rules:
            self._options.append(_RULES_ARG + json.dumps([str(path) for path in rules]))
        self.following = follow_interval is not None
        if follow_interval is not None:
            self._options.append(f"{_FOLLOW_ARG}{float(follow_interval)}")
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the loader process."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "trailtui.core.loader", self._db_path, *self._options, *self._paths],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def messages(self) -> Iterator[tuple[str, object]]:
        """The process's messages as ``(kind, payload)``, in order, blocking until each arrives:
        ``("progress", LoadProgress fields)``, then ``("done", summary)`` or ``("error",
        reason)``, then the detection rules' ``("detecting", {"done", "total"})`` and
        ``("detected", run)`` (see :func:`_detector`); when following, ``("follow", round
        summary)`` and the rules' messages again after each round. Ends after ``error``, and after
        ``detected`` unless following; a process that stops without either
        gives ``("error", "the loader process stopped (exit code N)")``. Lines that are not such JSON
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
            if kind == "error" or (kind == "detected" and not self.following):
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


if __name__ == "__main__":
    _loader_process(sys.argv[1:])
