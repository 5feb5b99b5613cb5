"""Give back an event's original bytes, exactly as they stand in its log file.

The index does not copy events: each row keeps its file (``events.file_id``) and the byte span
of the event in the file's decompressed content (``raw_offset``, ``raw_length``). Reading an
event decompresses its file (a few milliseconds for a 1 MB delivery file; the last few files
read stay cached) and slices it. Only events that are not a span of their file (the
``CloudTrailEvent`` strings of ``aws cloudtrail lookup-events`` output) are stored, compressed,
in ``event_raw``.

An S3 object (``files.path`` is its ``s3://BUCKET/KEY``) is read from the index's private S3
cache (:func:`trailtui.core.sources.s3.cache_path`), where the loader put it.

If a file changed or vanished since it was indexed (its size or mtime differ from the ``files``
row), :class:`OriginalUnavailable` is raised rather than returning other bytes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

from trailtui.core.ingest.decode import FileProblem, read_log_content
from trailtui.core.store.rawstore import unpack_event

_CACHED_FILES = 6
_cache: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
_cache_lock = threading.Lock()


class OriginalUnavailable(Exception):
    """The event's file can no longer give its original bytes; ``str(err)`` says why."""


def file_content(path: str, size: int | None, mtime_ns: int | None, *, s3_cache: str | None = None) -> bytes:
    """The decompressed content of ``path``, checked against the size and mtime recorded when it
    was indexed; an ``s3://`` path is read from its copy under ``s3_cache`` (the index's S3
    cache folder). Raises :class:`OriginalUnavailable` if it changed, vanished or cannot be read."""
    local = path
    if path.startswith("s3://"):
        from trailtui.core.sources.s3 import cache_path

        if s3_cache is None:
            raise OriginalUnavailable(f"{path}: no S3 cache for an index in memory")
        local = str(cache_path(s3_cache, path))
    try:
        info = os.stat(local)
    except OSError as err:
        raise OriginalUnavailable(f"{path}: {err.strerror or err} (reopen the logs to re-index)") from None
    if size is not None and (info.st_size != size or info.st_mtime_ns != mtime_ns):
        raise OriginalUnavailable(f"{path} changed since it was indexed (reopen the logs to re-index)")
    key = (local, info.st_size, info.st_mtime_ns)
    with _cache_lock:
        content = _cache.get(key)
        if content is not None:
            _cache.move_to_end(key)
            return content
    try:
        content = read_log_content(Path(local))
    except FileProblem as err:
        raise OriginalUnavailable(f"{path}: {err}") from None
    with _cache_lock:
        _cache[key] = content
        while len(_cache) > _CACHED_FILES:
            _cache.popitem(last=False)
    return content


_SELECT = (
    "SELECT e.id, e.raw_offset, e.raw_length, f.path, f.size, f.mtime_ns, r.raw "
    "FROM events e LEFT JOIN files f ON f.id = e.file_id LEFT JOIN event_raw r ON r.id = e.id "
)


def _s3_cache_of(conn: sqlite3.Connection) -> str | None:
    from trailtui.core.sources.s3 import cache_root

    db_path = main_database_path(conn)
    return str(cache_root(db_path)) if db_path else None


def _slice(row: tuple, contents: dict | None = None, s3_cache: str | None = None) -> bytes:
    _, offset, length, path, size, mtime_ns, packed = row
    if offset is None:
        if packed is None:
            raise OriginalUnavailable("no original bytes were kept for this event")
        return unpack_event(packed)
    if path is None:
        raise OriginalUnavailable("the event's file is no longer in the index")
    content = contents.get(path) if contents is not None else None
    if content is None:
        content = file_content(path, size, mtime_ns, s3_cache=s3_cache)
        if contents is not None:
            contents[path] = content
    return content[offset : offset + length]


def original_event(conn: sqlite3.Connection, event_id: int) -> bytes | None:
    """The exact original bytes of event ``events.id = event_id``; None if no such event.

    Raises :class:`OriginalUnavailable` when its file changed or vanished since indexing.
    """
    row = conn.execute(_SELECT + "WHERE e.id = ?", (event_id,)).fetchone()
    if row is None:
        return None
    # The S3 cache's folder only for S3 objects: finding it costs more than the slice itself
    # (a filter's JSON terms read originals one at a time).
    return _slice(row, s3_cache=_s3_cache_of(conn) if str(row[3] or "").startswith("s3://") else None)


def original_events(conn: sqlite3.Connection, event_ids: Iterable[int], *, chunk: int = 2000) -> Iterator[tuple[int, bytes]]:
    """``(id, original bytes)`` for each id, in the order given, reading each file once per chunk
    of ``chunk`` ids (so exporting a million events does not decompress a file per event).

    Raises :class:`OriginalUnavailable` as :func:`original_event` does.
    """
    batch: list[int] = []
    for event_id in event_ids:
        batch.append(event_id)
        if len(batch) >= chunk:
            yield from _original_batch(conn, batch)
            batch = []
    if batch:
        yield from _original_batch(conn, batch)


def _original_batch(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple[int, bytes]]:
    rows: dict[int, tuple] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for row in conn.execute(_SELECT + f"WHERE e.id IN ({marks})", part):
            rows[row[0]] = row
    contents: dict[str, bytes] = {}
    s3_cache = _s3_cache_of(conn)
    for event_id in ids:
        row = rows.get(event_id)
        if row is not None:
            yield event_id, _slice(row, contents, s3_cache)


def main_database_path(conn: sqlite3.Connection) -> str | None:
    """The file behind ``conn``'s main database, or None for an in-memory one."""
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return path or None
    return None
