"""Open, create and locate trailtui index files (SQLite, WAL mode).

One index per set of input paths lives in the user's cache directory
(``$XDG_CACHE_HOME/trailtui/``, else ``~/.cache/trailtui/``). The directory is made 0700 and the
index 0600: CloudTrail logs are security records.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from trailtui import __version__
from trailtui.core.schema import SCHEMA_VERSION, schema_sql


class IndexError_(RuntimeError):
    """The index file cannot be created or opened; the message says why and suggests ``--db``."""


def cache_dir() -> Path:
    """The directory that holds trailtui's indexes (``$XDG_CACHE_HOME/trailtui`` or ``~/.cache/trailtui``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "trailtui"


def default_db_path(paths: list[str | os.PathLike]) -> Path:
    """The index file for this set of input paths: ``<cache_dir>/<name>-<hash>.sqlite``.

    The same paths (in any order, relative or absolute) give the same file.
    """
    resolved = sorted({str(Path(p).expanduser().resolve()) for p in paths})
    digest = hashlib.sha256("\0".join(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    stem = Path(resolved[0]).name if resolved else "index"
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
    functions filters need. Raises :class:`IndexError_` with a readable reason (read-only
    directory, not a database, disk full...).
    """
    db_path = Path(db_path)
    try:
        return _connect(db_path, readonly)
    except sqlite3.DatabaseError as err:
        if readonly or "not a database" not in str(err):
            raise IndexError_(f"cannot open index {db_path}: {err} (choose another file with --db)") from None
    # Not an SQLite file (corrupt, or something else at that path): start a new index there.
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    conn = _connect(db_path, readonly)
    with conn:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('rebuilt', 'the old file was not a readable index')")
    return conn


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
    return conn


def _ensure_schema(conn: sqlite3.Connection, db_path: Path) -> None:
    version = _schema_version(conn)
    rebuilt = version is not None and version != SCHEMA_VERSION
    if rebuilt:
        _reset(conn)
    conn.execute("PRAGMA journal_mode = WAL")
    with conn:
        for statement in schema_sql():
            conn.execute(statement)
        if rebuilt:
            notice = f"written by another trailtui version (schema {version}, this one reads {SCHEMA_VERSION})"
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('rebuilt', ?)", (notice,))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('trailtui_version', ?)", (__version__,))
    for suffix in ("-wal", "-shm"):
        side = Path(str(db_path) + suffix)
        if side.exists():
            os.chmod(side, 0o600)


def _schema_version(conn: sqlite3.Connection) -> int | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        return None if tables == 0 else -1
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
