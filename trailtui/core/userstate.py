"""The user's own state beside an index: marks, notes and the filter history.

An index is a cache: it is rebuilt when its schema version changes or it is damaged, and a loader
process holds its write lock for long batches. What the user made must survive both, so it lives
in a SQLite file of its own (:func:`user_state_path`: ``foo-1a2b.sqlite`` →
``foo-1a2b.user.sqlite``, in the user data directory for indexes in the cache directory, else
beside the index), created 0600 like the index, in WAL mode, every write committed at once
(autocommit, ``synchronous = FULL``) so Ctrl+C, a crash or a power cut loses nothing. Named after
its index, it is per index: two log trees have two histories and two sets of marks.

Events are keyed by CloudTrail's ``eventID`` ("CloudTrail record contents", AWS CloudTrail User
Guide: a GUID CloudTrail generates to uniquely identify each event; trailtui synthesises a stable
one from the record's bytes when a record lacks it), which stays the same when the index is
rebuilt, whereas ``events.id`` does not. The file never holds event values: only eventIDs and what
the user typed (notes, filters).

Tables (times are UTC ISO-8601, ``2026-03-14T10:00:00Z``):

``marks(eventID TEXT PRIMARY KEY, note TEXT NOT NULL DEFAULT '', marked_at TEXT)``
    One row per marked event; ``note`` is the user's note ('' for none).
``filter_history(id INTEGER PRIMARY KEY, text TEXT NOT NULL, used_at TEXT)``
    Every applied filter, oldest first (see :mod:`trailtui.core.history`).

Every connection :func:`trailtui.core.store.index.connect` makes has this file attached as the schema
``user`` (:func:`attach_user_state`), so a filter can say ``is:marked``
(``events.eventID IN (SELECT eventID FROM user.marks)``). Writes go through the connection of
:func:`open_user_state`, never through an index connection.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

#: The schema name the sidecar is attached as on index connections.
USER_SCHEMA = "user"

#: ``PRAGMA user_version`` of a sidecar this trailtui writes (for later migrations: a user file
#: is never rebuilt, only migrated).
USER_STATE_VERSION = 1

#: The tables, declared once; ``{schema}`` is ``main`` in the sidecar's own connection and
#: ``user`` where it is attached (or an in-memory stand-in is).
_TABLES: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {schema}.marks "
    "(eventID TEXT PRIMARY KEY, note TEXT NOT NULL DEFAULT '', marked_at TEXT)",
    "CREATE TABLE IF NOT EXISTS {schema}.filter_history (id INTEGER PRIMARY KEY, text TEXT NOT NULL, used_at TEXT)",
)


class UserStateError(RuntimeError):
    """The marks, notes and filter history file cannot be created, opened or written; the
    message names the file and says why (read-only directory, not a database, disk full, ...).
    The file is never deleted or overwritten because of it: it holds the user's own work."""


def user_data_dir() -> Path:
    """Where the user state of indexes in trailtui's cache directory lives: the user data
    directory (``$XDG_DATA_HOME/trailtui``, by default ``~/.local/share/trailtui`` on Linux), so
    clearing the cache (``rm -rf ~/.cache/trailtui``) never deletes marks and notes."""
    import platformdirs

    return platformdirs.user_data_path("trailtui")


def user_state_path(db_path: os.PathLike | str) -> Path:
    """The user state file of the index at ``db_path``: ``foo-1a2b.sqlite`` →
    ``foo-1a2b.user.sqlite`` (an index file not named ``*.sqlite`` gets ``.user.sqlite``
    appended: ``cases.db`` → ``cases.db.user.sqlite``). For an index in trailtui's cache
    directory (the default, ``index.cache_dir()``) it is in :func:`user_data_dir`; for an index
    chosen with ``--db`` it is beside that file."""
    from trailtui.core.store.index import cache_dir

    path = Path(db_path)
    name = path.name[: -len(".sqlite")] + ".user.sqlite" if path.suffix == ".sqlite" else path.name + ".user.sqlite"
    try:
        in_cache = path.absolute().parent == cache_dir().absolute()
    except OSError:
        in_cache = False
    return (user_data_dir() if in_cache else path.parent) / name


def open_user_state(db_path: os.PathLike | str) -> sqlite3.Connection:
    """Open (creating if needed, with its tables) the sidecar of the index at ``db_path``.

    The file is created 0600 (its directory 0700 when created here), in WAL mode; the connection
    is in autocommit mode (``isolation_level=None``): each statement of :mod:`trailtui.core.marks`
    and :mod:`trailtui.core.history` is committed when it returns. ``check_same_thread=False``: a
    UI may use it from a worker thread (one at a time). Raises :class:`UserStateError` naming the
    file when it cannot be created, opened or written (read-only directory or file, not an SQLite
    database, disk full).
    """
    path = user_state_path(db_path)
    conn = None
    try:
        _create_file(path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a mark survives a power cut too; marks are a handful of tiny writes.
        conn.execute("PRAGMA synchronous = FULL")
        # A small WAL: every index connection attaches this file, and attaching reads its WAL
        # index (measured: 1.8 ms per connect with a 4 MB WAL, 0.5 ms with a small one).
        conn.execute("PRAGMA wal_autocheckpoint = 64")
        conn.execute("PRAGMA journal_size_limit = 262144")
        create_tables(conn, "main")
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            conn.execute(f"PRAGMA user_version = {USER_STATE_VERSION}")
        for suffix in ("-wal", "-shm"):
            side = Path(str(path) + suffix)
            if side.exists():
                os.chmod(side, 0o600)
    except (OSError, sqlite3.Error) as err:
        if conn is not None:
            conn.close()
        raise UserStateError(_describe(path, err)) from None
    return conn


def create_tables(conn: sqlite3.Connection, schema: str) -> None:
    """Create the sidecar's tables in ``schema`` (``main`` or ``user``) of ``conn`` if missing.
    ``schema`` is one of those two names, never user text. Raises sqlite3.Error."""
    if schema not in ("main", USER_SCHEMA):
        raise ValueError(f"unknown schema {schema!r}")
    for statement in _TABLES:
        conn.execute(statement.format(schema=schema))


def _create_file(path: Path) -> None:
    """Create ``path`` (0600) and its directory (0700) if missing; an existing file is left as it
    is, whatever it holds."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _describe(path: Path, err: BaseException) -> str:
    from trailtui.core.store.index import is_damaged  # index imports this module at its top

    reason = str(getattr(err, "strerror", None) or err)
    lowered = reason.lower()
    if is_damaged(err):
        what = "it is not a readable SQLite file; it is left as it is (move it away to start afresh)"
    elif any(word in lowered for word in ("readonly", "read-only", "permission", "unable to open")):
        what = "the file or its directory is read-only"
    elif any(word in lowered for word in ("full", "no space", "quota")):
        what = "is the disk full?"
    else:
        what = ""
    return f"cannot open the marks, notes and filter history file {path}: {reason}" + (f" ({what})" if what else "")


def attach_user_state(conn: sqlite3.Connection, db_path: os.PathLike | str, *, readonly: bool) -> bool:
    """Attach the sidecar of the index at ``db_path`` to the index connection ``conn`` as the
    schema ``user`` (replacing an earlier ``user``). Returns True if the file is attached, False
    if an empty in-memory ``user`` schema with the same tables stands in for it.

    ``readonly=False`` (a writer: the loader, the command line) creates the file and its tables
    first if it can, then attaches it (read-only if the OS write-protects it). ``readonly=True``
    (``conn`` opened with ``uri=True``, as ``index.connect(readonly=True)`` does) attaches it
    read-only. When the file does not exist (and cannot be created) or cannot be read, the
    in-memory stand-in keeps ``is:marked`` valid SQL that matches nothing; calling this again
    later (outside a transaction) picks the file up. Never raises for the file's sake.
    """
    path = user_state_path(db_path)
    _detach(conn)
    if not readonly:
        try:
            open_user_state(db_path).close()
        except UserStateError:
            pass  # attached read-only below if it exists, else the in-memory stand-in
    if path.exists():
        # A writer's connection does not take URI names; SQLite opens a write-protected file
        # read-only by itself. A reader's does: mode=ro so it never writes the user's file.
        target = f"file:{quote(str(path))}?mode=ro" if readonly else str(path)
        try:
            conn.execute(f"ATTACH DATABASE ? AS {USER_SCHEMA}", (target,))
            conn.execute(f"SELECT 1 FROM {USER_SCHEMA}.marks LIMIT 1").fetchall()
            conn.execute(f"SELECT 1 FROM {USER_SCHEMA}.filter_history LIMIT 1").fetchall()
            return True
        except sqlite3.Error:
            _detach(conn)
    conn.execute(f"ATTACH DATABASE ':memory:' AS {USER_SCHEMA}")
    create_tables(conn, USER_SCHEMA)
    return False


def _detach(conn: sqlite3.Connection) -> None:
    attached = any(name == USER_SCHEMA for _, name, _ in conn.execute("PRAGMA database_list"))
    if attached:
        conn.execute(f"DETACH DATABASE {USER_SCHEMA}")
