"""Open, create and locate trailtui index files (SQLite, WAL mode).

One index per set of input paths lives in the user's cache directory
(``$XDG_CACHE_HOME/trailtui/``, else ``~/.cache/trailtui/``). The directory is made 0700 and the
index 0600: CloudTrail logs are security records.

An index is a cache: one written by another schema version, or one damaged past reading, is
rebuilt with a notice (:func:`take_rebuild_notice`). A file that is not a trailtui index (another
program's SQLite database, a log file given to ``--db`` by mistake) is never overwritten: opening
it raises :class:`IndexError_`. One process indexes an index at a time (:func:`indexing_lock`);
any number read it meanwhile (WAL mode).

The user's marks, notes and filter history are not in the index (a rebuild would lose them) but
in a sidecar file beside it (:mod:`trailtui.core.userstate`), attached to every connection made
here as the schema ``user``; removing or rebuilding an index never touches it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent indexers then rely on SQLite's own
    fcntl = None  # type: ignore[assignment]

from trailtui import __version__
from trailtui.core.store.schema import SCHEMA_VERSION, schema_sql
from trailtui.core.userstate import attach_user_state


class IndexError_(RuntimeError):
    """The index file cannot be created or opened; the message says why and suggests ``--db``."""


_SQLITE_HEADER = b"SQLite format 3\x00"
#: Words of SQLite errors that mean the file's pages cannot be trusted (SQLITE_CORRUPT, SQLITE_NOTADB).
_DAMAGED = ("not a database", "malformed", "corrupt")


def cache_dir() -> Path:
    """The directory that holds trailtui's indexes (``$XDG_CACHE_HOME/trailtui`` or ``~/.cache/trailtui``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "trailtui"


def default_db_path(paths: list[str | os.PathLike]) -> Path:
    """The index file for this set of input paths: ``<cache_dir>/<name>-<hash>.sqlite``.

    The same paths (in any order, relative or absolute) give the same file; an ``s3://`` URL
    counts as written (its bucket names the file when it comes first).
    """
    resolved = sorted(
        {str(p).rstrip("/") if str(p).lower().startswith("s3://") else str(Path(p).expanduser().resolve()) for p in paths}
    )
    digest = hashlib.sha256("\0".join(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    first = resolved[0][len("s3://"):].split("/")[0] if resolved and resolved[0].lower().startswith("s3://") else None
    stem = first or (Path(resolved[0]).name if resolved else "index")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:40] or "index"
    return cache_dir() / f"{safe}-{digest}.sqlite"


def _prepare_file(db_path: Path) -> None:
    """Create the parent directory (0700) and an empty index file (0600) if missing."""
    parent = db_path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)
    if not db_path.exists():
        fd = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(db_path, 0o600)


def connect(db_path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open an index for reading (``readonly=True``) or writing, creating it if needed.

    A writer also creates the schema, and rebuilds an index written by another schema version
    or an unreadable file (the caller can tell from :func:`take_rebuild_notice`). Registers the SQL
    functions filters need and attaches the user's marks file as the schema ``user``
    (:func:`trailtui.core.userstate.attach_user_state`: read-only for a reader; an empty
    in-memory stand-in when it does not exist yet or cannot be read). Raises
    :class:`IndexError_` with a readable reason (read-only directory, not a database, disk
    full...).
    """
    db_path = Path(db_path)
    if not readonly:
        _refuse_foreign_file(db_path)
    try:
        return _connect(db_path, readonly)
    except sqlite3.DatabaseError as err:
        if readonly or not is_damaged(err):
            raise IndexError_(f"cannot open index {db_path}: {err} (choose another file with --db)") from None
        if not (_is_ours(db_path) or _has_trailtui_meta(db_path)):
            raise IndexError_(
                f"cannot open index {db_path}: {err}; it may not be a trailtui index, so it is left as it is "
                "(delete it to rebuild, or choose another file with --db)"
            ) from None
        damage = str(err)
    # A damaged index (truncated, overwritten, not SQLite at all): start a new one there.
    _remove_index_files(db_path)
    conn = _connect(db_path, readonly)
    with conn:
        notice = "the old file was not a readable index" if "not a database" in damage else f"the old file was damaged ({damage})"
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('rebuilt', ?)", (notice,))
    return conn


def is_damaged(err: BaseException) -> bool:
    """True when an SQLite error says the index file is corrupt or not a database."""
    return isinstance(err, sqlite3.DatabaseError) and any(word in str(err) for word in _DAMAGED)


def discard_damaged(db_path: os.PathLike | str) -> bool:
    """Remove the index at ``db_path`` (found damaged while in use) if it is trailtui's own (in
    the cache directory), so the next run rebuilds it. Returns True if it was removed."""
    path = Path(db_path)
    if not _is_ours(path):
        return False
    _remove_index_files(path)
    return True


def _remove_index_files(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    # A load's shards (store.writer.shard_dir) belong to the index that is going.
    shutil.rmtree(str(db_path) + ".shards", ignore_errors=True)


def _is_ours(db_path: Path) -> bool:
    """True when ``db_path`` is in trailtui's cache directory, so only trailtui writes there."""
    try:
        return db_path.resolve().parent == cache_dir().resolve()
    except OSError:
        return False


def _has_trailtui_meta(db_path: Path) -> bool:
    """True when a damaged database still shows trailtui's ``meta`` rows (so it is an index)."""
    try:
        probe = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return probe.execute("SELECT 1 FROM meta WHERE key = 'trailtui_version'").fetchone() is not None
        finally:
            probe.close()
    except sqlite3.Error:
        return False


def _refuse_foreign_file(db_path: Path) -> None:
    """Raise :class:`IndexError_` when ``db_path`` (outside the cache directory) holds something
    that is not an SQLite database: a log file or a document given to ``--db`` by mistake."""
    if _is_ours(db_path):
        return
    try:
        with open(db_path, "rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as err:
        raise IndexError_(f"cannot open index {db_path}: {err.strerror or err} (choose another file with --db)") from None
    if head and head != _SQLITE_HEADER:
        raise IndexError_(
            f"{db_path} is not a trailtui index (not an SQLite database); it is left as it is "
            "(choose another file with --db)"
        )


def _connect(db_path: Path, readonly: bool) -> sqlite3.Connection:
    from trailtui.core.filter import register_sql_functions

    try:
        if readonly:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
        else:
            _prepare_file(db_path)
            conn = sqlite3.connect(db_path, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        if not readonly:
            _ensure_schema(conn, db_path)
            conn.execute("PRAGMA synchronous = NORMAL")
        # Bounded memory: sorts larger than the cache (index builds, big ORDER BYs) spill to
        # temporary files instead of growing the process (measured: 400 MB at 1M events with
        # temp_store = MEMORY and a 64 MiB cache).
        conn.execute("PRAGMA temp_store = FILE")
        conn.execute(f"PRAGMA cache_size = {-32768 if not readonly else -16384}")  # KiB: 32 / 16 MiB
    except OSError as err:
        raise IndexError_(
            f"cannot create index {db_path}: {err.strerror or err} (choose another file with --db)"
        ) from None
    register_sql_functions(conn)
    # The user's marks and notes (a sidecar file an index rebuild never touches), as schema
    # `user`, for `is:marked`.
    attach_user_state(conn, db_path, readonly=readonly)
    return conn


def _ensure_schema(conn: sqlite3.Connection, db_path: Path) -> None:
    version = _schema_version(conn)
    if version == -2 and not _is_ours(db_path):
        raise IndexError_(
            f"{db_path} is an SQLite database but not a trailtui index; it is left as it is "
            "(choose another file with --db)"
        )
    rebuilt = version is not None and version != SCHEMA_VERSION
    if rebuilt:
        _reset(conn)
    conn.execute("PRAGMA journal_mode = WAL")
    with conn:
        # Statements that change nothing take no write lock: opening an index another process is
        # writing to does not wait for it.
        for statement in schema_sql():
            conn.execute(statement)
        if rebuilt:
            if version == -2:
                notice = "the old file was not a trailtui index"
            else:
                notice = f"written by another trailtui version (schema {version}, this one reads {SCHEMA_VERSION})"
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('rebuilt', ?)", (notice,))
        stored = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'trailtui_version')"))
        for key, value in (("schema_version", str(SCHEMA_VERSION)), ("trailtui_version", __version__)):
            if stored.get(key) != value:
                conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
    for suffix in ("-wal", "-shm"):
        side = Path(str(db_path) + suffix)
        if side.exists():
            os.chmod(side, 0o600)


def _schema_version(conn: sqlite3.Connection) -> int | None:
    """The index's schema version; None for an empty database, -1 for a trailtui index without a
    readable version, -2 for a database without trailtui's ``meta`` table (not an index)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        return None if tables == 0 else -2
    return int(row[0]) if row and str(row[0]).isdigit() else -1


def _reset(conn: sqlite3.Connection) -> None:
    """Drop every table so the schema is created afresh (another version wrote this index)."""
    import sqlite_utils  # only needed here; importing it costs ~50 ms of every loader start

    db = sqlite_utils.Database(conn)
    for name in db.view_names():
        db[name].drop(ignore=True)
    for name in db.table_names():
        if name.startswith("events_fts_"):
            continue  # FTS shadow tables go with their virtual table
        db[name].drop(ignore=True)
    conn.commit()


def take_rebuild_notice(conn: sqlite3.Connection) -> str | None:
    """If :func:`connect` rebuilt this index, return the notice to show once (and forget it)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'rebuilt'").fetchone()
    if not row:
        return None
    with conn:
        conn.execute("DELETE FROM meta WHERE key = 'rebuilt'")
    return f"index rebuilt: {row[0]}"


@contextmanager
def indexing_lock(conn: sqlite3.Connection) -> Iterator[bool]:
    """Hold the right to index the index open on ``conn`` until the block ends.

    Two trailtui processes may open one index at once (a ``trailtui query`` while the app
    loads): the second indexer waits here until the first is done, then finds the files it read
    unchanged, instead of decoding them again and competing for SQLite's write lock. Readers
    never wait. The lock is an advisory ``flock`` on ``<index>.lock`` (an empty 0600 file),
    released when the block ends or the process dies. Yields True if it had to wait.
    """
    path = _main_path(conn)
    if fcntl is None or path is None:
        yield False
        return
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        waited = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield waited
    finally:
        os.close(fd)  # releases the lock


def _main_path(conn: sqlite3.Connection) -> str | None:
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return path or None
    return None


def describe_write_error(err: BaseException, db_path: os.PathLike | str | None) -> str:
    """One line for an error met while writing or reading the index at ``db_path`` (None when
    unknown): a full disk, a read-only file or directory, a damaged file; it says what to do.
    SQLite's and the OS's messages name only the condition, never event contents."""
    reason = str(getattr(err, "strerror", None) or err)
    name = f"the index {db_path}" if db_path is not None else "the index"
    if is_damaged(err):
        return f"{name} is damaged ({reason}): delete it to rebuild it, or choose another file with --db"
    lowered = reason.lower()
    if any(word in lowered for word in ("full", "i/o", "no space", "too large", "quota")):
        return f"cannot write {name}: {reason} (is the disk full? free some space or choose another file with --db)"
    if any(word in lowered for word in ("readonly", "read-only", "permission", "unable to open")):
        return f"cannot write {name}: {reason} (the file or its directory is read-only: choose another file with --db)"
    return f"{name} failed: {reason} (choose another file with --db)"
