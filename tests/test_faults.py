"""Faults: a killed or interrupted loader, two processes on one index, a full disk, a read-only or
damaged index, and what the index leaves on disk.

These run ``python -m trailtui`` as a separate process where the fault is a process's (SIGKILL,
Ctrl+C, a file size limit), on a trail generated here (30,000 events in 60 gzipped files, some
events delivered twice, as CloudTrail does).
"""

from __future__ import annotations

import errno
import gzip
import os
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from trailtui.cli import main
from trailtui.core.store import index as index_module
from trailtui.core.store.index import IndexError_, connect, default_db_path
from trailtui.core.loader import index_paths
from tests.conftest import make_event, write_records
from tests.test_snapshots import settle

FILES, PER_FILE, REPEATED = 60, 500, 25
MARKER = "zq-private-marker-7c1e"


def write_trail(root: Path) -> set[str]:
    """A trail of FILES gzipped delivery files of PER_FILE events; each file after the first
    repeats REPEATED events of the one before. Returns the distinct eventIDs."""
    ids: set[str] = set()
    previous: list[dict] = []
    for number in range(FILES):
        events = [
            make_event(f"ev-{number:03d}-{n:04d}", eventTime=f"2026-03-14T{number % 24:02d}:{n % 60:02d}:00Z",
                       userAgent=f"{MARKER} agent")
            for n in range(PER_FILE - (REPEATED if previous else 0))
        ]
        records = previous[:REPEATED] + events
        ids.update(event["eventID"] for event in records)
        folder = root / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"111122223333_CloudTrail_us-east-1_20260314T{number:04d}Z_f{number:03d}.json.gz"
        (folder / name).write_bytes(gzip.compress(orjson.dumps({"Records": records}), compresslevel=1))
        previous = events
    return ids


@pytest.fixture(scope="module")
def trail(tmp_path_factory) -> tuple[Path, set[str]]:
    root = tmp_path_factory.mktemp("trail") / "logs"
    return root, write_trail(root)


def trailtui(*args: str, **options) -> subprocess.Popen:
    """Start ``python -m trailtui ARGS`` in its own process group (so a signal reaches it and its
    decoder processes, as Ctrl+C in a terminal does)."""
    return subprocess.Popen(
        [sys.executable, "-m", "trailtui", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, **options,
    )


def wait_for_events(db: Path, process: subprocess.Popen, at_least: int = 1) -> int:
    """Poll the index (read-only) until it holds ``at_least`` events; returns the count."""
    for _ in range(3000):
        assert process.poll() is None, process.communicate()
        try:
            reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                count = reader.execute("SELECT count(*) FROM events").fetchone()[0]
            finally:
                reader.close()
        except sqlite3.Error:
            count = 0
        if count >= at_least:
            return count
        time.sleep(0.01)
    raise AssertionError("the loader never committed an event")


def stop_group(process: subprocess.Popen) -> None:
    """End what is left of the process group we started (decoder processes included)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def assert_consistent(db: Path, expected: set[str]) -> None:
    """Each expected eventID exactly once, every file's counts matching its events."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [row[0] for row in conn.execute('SELECT "eventID" FROM events')]
        assert len(ids) == len(set(ids)), "an event is doubled"
        assert set(ids) == expected
        assert conn.execute("SELECT count(*) FROM files WHERE outcome NOT IN ('loaded', 'partial')").fetchone() == (0,)
        assert conn.execute("SELECT sum(events) FROM files").fetchone() == (len(expected),)
        orphans = conn.execute("SELECT count(*) FROM events WHERE file_id NOT IN (SELECT id FROM files)").fetchone()
        assert orphans == (0,)
    finally:
        conn.close()


def test_a_loader_killed_half_way_leaves_a_consistent_index_that_resumes(trail, tmp_path: Path) -> None:
    logs, expected = trail
    db = tmp_path / "index.sqlite"
    loader = trailtui("index", "--db", str(db), str(logs))
    try:
        wait_for_events(db, loader)
        os.kill(loader.pid, signal.SIGKILL)
        loader.wait()
    finally:
        stop_group(loader)
    conn = sqlite3.connect(db)
    files_done = conn.execute("SELECT count(*) FROM files").fetchone()[0]
    events_done = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    conn.close()
    assert 0 < files_done < FILES and 0 < events_done < len(expected)

    again = subprocess.run([sys.executable, "-m", "trailtui", "index", "--db", str(db), str(logs)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    # Only the files the killed loader had not committed are read again.
    assert f"{FILES} found, {FILES - files_done} read, {files_done} unchanged" in again.stdout
    assert_consistent(db, expected)


def test_a_query_while_another_process_indexes_waits_and_sees_every_event(trail, tmp_path: Path) -> None:
    logs, expected = trail
    db = tmp_path / "index.sqlite"
    loader = trailtui("index", "--db", str(db), str(logs))
    try:
        seen = wait_for_events(db, loader)
        # A reader meanwhile sees committed events only, never an error.
        reader = connect(db, readonly=True)
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] >= seen
        reader.close()
        query = subprocess.run([sys.executable, "-m", "trailtui", "query", "--db", str(db), str(logs), "--count"],
                               capture_output=True, text=True, timeout=120)
        out, err = loader.communicate(timeout=120)
    finally:
        stop_group(loader)
    assert loader.returncode == 0, err
    assert (query.returncode, query.stdout.strip(), query.stderr) == (0, str(len(expected)), "")
    assert_consistent(db, expected)


async def test_the_app_browses_while_another_process_indexes(trail, tmp_path: Path) -> None:
    from trailtui.tui.app import TrailApp

    logs, expected = trail
    db = tmp_path / "index.sqlite"
    loader = trailtui("index", "--db", str(db), str(logs))
    try:
        wait_for_events(db, loader)
        app = TrailApp(db_path=db, paths=[str(logs)])  # its own loader waits for the other one
        async with app.run_test(size=(120, 30)) as pilot:
            for _ in range(600):
                await pilot.pause(0.1)
                if not app.main_screen.indexing:
                    break
            await settle(pilot)  # the last count, list and selected event
            assert not app.main_screen.indexing
            assert app.event_list.count == len(expected)
        out, err = loader.communicate(timeout=120)
    finally:
        stop_group(loader)
    assert loader.returncode == 0, err
    assert_consistent(db, expected)


def wait_for_decoder(process: subprocess.Popen) -> None:
    """Wait until ``process`` has started a decoder process (so one is busy decoding)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if not children.exists():
        pytest.skip("needs /proc/<pid>/task/<pid>/children (Linux) to see the decoder processes")
    for _ in range(3000):
        assert process.poll() is None, process.communicate()
        if children.read_text().split():
            return
        time.sleep(0.005)
    raise AssertionError("no decoder process started")


def test_ctrl_c_stops_cleanly_and_the_partial_index_stays_usable(trail, tmp_path: Path) -> None:
    logs, expected = trail
    db = tmp_path / "index.sqlite"
    for command, moment in ((["index"], "decoding"), (["index"], "committed"), (["query", "--count"], "committed")):
        loader = trailtui(*command[:1], "--db", str(db), str(logs), *command[1:])
        try:
            if moment == "decoding":
                wait_for_decoder(loader)  # a decoder killed by Ctrl+C mid-file could hang the pool
            else:
                wait_for_events(db, loader)
            os.killpg(loader.pid, signal.SIGINT)  # Ctrl+C reaches the whole foreground group
            out, err = loader.communicate(timeout=60)
        finally:
            stop_group(loader)
        assert loader.returncode == 130, err
        assert err.strip().splitlines()[-1] == "trailtui: interrupted; what was indexed so far is kept"
        assert "Traceback" not in err and "KeyboardInterrupt" not in err and out == ""
        if moment == "committed":  # what was committed can be read at once
            reader = connect(db, readonly=True)
            assert reader.execute("SELECT count(*) FROM events").fetchone()[0] > 0
            reader.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    again = subprocess.run([sys.executable, "-m", "trailtui", "index", "--db", str(db), str(logs)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0
    assert_consistent(db, expected)


def test_a_full_disk_gives_a_message_not_a_traceback(trail, tmp_path: Path) -> None:
    logs, _ = trail
    db = tmp_path / "index.sqlite"

    def small_disk() -> None:  # the index may not grow past 1 MB; root cannot exceed it either
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    result = subprocess.run([sys.executable, "-m", "trailtui", "index", "--db", str(db), str(logs)],
                            capture_output=True, text=True, timeout=120, preexec_fn=small_disk)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"trailtui: cannot write the index {db}: ")
    assert "is the disk full? free some space or choose another file with --db" in result.stderr


def test_sqlite_full_gives_the_same_message(capsys, tmp_path: Path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event(f"e{n}", userAgent="x" * 2000) for n in range(400)])
    db = tmp_path / "index.sqlite"
    real_connect = index_module.connect

    def connect_small(path, **options):
        conn = real_connect(path, **options)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 20}")  # SQLITE_FULL a few pages later
        return conn

    monkeypatch.setattr(index_module, "connect", connect_small)
    code = main(["index", str(logs), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"trailtui: cannot write the index {db}: database or disk is full (is the disk full?")


@pytest.mark.parametrize("command", [["index"], ["query", "--count"], []], ids=["index", "query", "browse"])
def test_a_cache_directory_that_cannot_be_written_suggests_db(capsys, tmp_path: Path, monkeypatch, command) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a")])
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    real_mkdir = Path.mkdir

    def read_only_mkdir(self, *args, **kwargs):
        # Root ignores permission bits, so the read-only file system is simulated where it bites.
        if self.is_relative_to(cache):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only_mkdir)
    code = main([*command[:1], str(logs), *command[1:]])
    err = capsys.readouterr().err
    assert code == 2
    db = default_db_path([str(logs)])
    assert err == f"trailtui: cannot create index {db}: Read-only file system (choose another file with --db)\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a chmod 0500 directory anyway; "
                    "test_a_cache_directory_that_cannot_be_written_suggests_db simulates it")
def test_a_read_only_cache_directory_suggests_db(capsys, tmp_path: Path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a")])
    cache = tmp_path / "cache"
    (cache / "trailtui").mkdir(parents=True)
    (cache / "trailtui").chmod(0o500)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    try:
        code = main(["index", str(logs)])
    finally:
        (cache / "trailtui").chmod(0o700)
    err = capsys.readouterr().err
    assert code == 2
    assert "Permission denied" in err and "choose another file with --db" in err


def test_a_cache_path_that_is_a_file_suggests_db(capsys, tmp_path: Path, monkeypatch) -> None:
    # A condition root cannot bypass: the cache "directory" is a regular file.
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a")])
    (tmp_path / "cache").write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code = main(["query", str(logs), "--count"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.startswith("trailtui: cannot create index ")
    assert captured.err.rstrip().endswith("(choose another file with --db)")


# --- another version, damaged files, files that are not an index ------------------------------


@pytest.fixture
def small_logs(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    write_records(logs / "a.json.gz", [make_event(f"s{n}") for n in range(50)], gz=True)
    return logs


def cached_index(tmp_path: Path, monkeypatch, logs: Path) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conn = connect(default_db_path([str(logs)]))
    index_paths(conn, [logs], workers=0)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return default_db_path([str(logs)])


def test_an_index_from_another_version_is_rebuilt_with_a_notice(capsys, tmp_path: Path, monkeypatch, small_logs) -> None:
    db = cached_index(tmp_path, monkeypatch, small_logs)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    conn.execute("UPDATE events SET eventName = 'Misread'")  # what a newer layout might hold
    conn.commit()
    conn.close()
    code = main(["query", str(small_logs), "--filter", "name:GetObject", "--count"])
    captured = capsys.readouterr()
    assert (code, captured.out) == (0, "50\n")
    assert captured.err == ("trailtui: notice: index rebuilt: written by another trailtui version "
                            f"(schema 999, this one reads {index_module.SCHEMA_VERSION})\n")


def damage_truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def damage_zero_pages(data: bytes) -> bytes:
    return data[:4096] + bytes(len(data) - 8192) + data[-4096:]


def damage_garbage(data: bytes) -> bytes:
    return os.urandom(len(data))


@pytest.mark.parametrize("damage", [damage_truncate, damage_zero_pages, damage_garbage])
def test_a_damaged_index_in_the_cache_is_rebuilt_with_a_notice(capsys, tmp_path, monkeypatch, small_logs, damage) -> None:
    db = cached_index(tmp_path, monkeypatch, small_logs)
    db.write_bytes(damage(db.read_bytes()))
    code = main(["index", str(small_logs)])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err
    assert captured.out.startswith("notice: index rebuilt: the old file was ")
    assert "50 in the index" in captured.out


def test_damage_found_while_indexing_is_reported_and_the_next_run_rebuilds(capsys, tmp_path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    for part in range(4):
        write_records(logs / f"p{part}.json", [make_event(f"p{part}-{n}", userAgent="u" * 500) for n in range(300)])
    db = cached_index(tmp_path, monkeypatch, logs)
    data = db.read_bytes()
    half = len(data) // 2 // 4096 * 4096
    db.write_bytes(data[:half] + bytes(len(data) - half))  # the schema reads fine, the data does not
    os.utime(logs / "p0.json", ns=(1, 1))  # one changed file: its old events must be read to go
    code = main(["index", str(logs)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"trailtui: the index {db} was damaged (database disk image is malformed) and is removed: "
                   "run the command again to rebuild it\n")
    assert not db.exists()
    assert main(["index", str(logs)]) == 0
    conn = connect(db, readonly=True)
    assert conn.execute("SELECT count(DISTINCT \"eventID\") FROM events").fetchone()[0] == 1200


def test_a_db_option_naming_a_log_file_or_another_database_is_left_alone(capsys, tmp_path, small_logs) -> None:
    log_file = small_logs / "a.json.gz"
    before = log_file.read_bytes()
    other = tmp_path / "places.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.execute("INSERT INTO bookmarks VALUES ('https://example.com')")
    conn.commit()
    conn.close()
    for target, reason in ((log_file, "is not a trailtui index (not an SQLite database)"),
                           (other, "is an SQLite database but not a trailtui index")):
        code = main(["index", str(small_logs), "--db", str(target)])
        err = capsys.readouterr().err
        assert code == 2
        assert err == f"trailtui: {target} {reason}; it is left as it is (choose another file with --db)\n"
    assert log_file.read_bytes() == before
    assert sqlite3.connect(other).execute("SELECT url FROM bookmarks").fetchall() == [("https://example.com",)]


def test_damaged_index_outside_the_cache_is_not_deleted_unless_it_is_ours(tmp_path, small_logs) -> None:
    db = tmp_path / "mine.sqlite"
    conn = connect(db)
    index_paths(conn, [small_logs], workers=0)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = db.read_bytes()
    db.write_bytes(data[:4096] + bytes(4096) + data[8192:])  # page 2 gone; meta still readable
    conn = connect(db)  # trailtui's own (meta says so): rebuilt
    assert conn.execute("SELECT value FROM meta WHERE key = 'rebuilt'").fetchone()[0].startswith("the old file was")
    conn.close()
    stranger = tmp_path / "stranger.sqlite"
    plain = sqlite3.connect(stranger)
    plain.execute("CREATE TABLE t (x)")
    plain.executemany("INSERT INTO t VALUES (?)", [("x" * 3000,) for _ in range(50)])
    plain.commit()
    plain.close()
    damaged = stranger.read_bytes()[: 3 * 4096]
    stranger.write_bytes(damaged)
    with pytest.raises(IndexError_, match="it may not be a trailtui index, so it is left as it is"):
        connect(stranger)
    assert stranger.read_bytes() == damaged


# --- privacy -----------------------------------------------------------------------------------


def test_the_index_is_private_and_nothing_from_the_events_is_written_elsewhere(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json.gz", [make_event(f"m{n}", userAgent=f"{MARKER} {n}") for n in range(200)], gz=True)
    (logs / "bad.json").write_text('{"Records": [{"eventID": "x", "userAgent": "' + MARKER + '"}')  # truncated
    home = tmp_path / "home"
    tmp = tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "TMPDIR": str(tmp),
           "SQLITE_TMPDIR": str(tmp)}
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("XDG_DATA_HOME", None)
    for argv in (["index", str(logs)], ["query", str(logs), "--filter", MARKER, "--count"]):
        result = subprocess.run([sys.executable, "-m", "trailtui", *argv], capture_output=True, text=True, env=env,
                                cwd=tmp, timeout=120)
        assert "Traceback" not in result.stderr
        assert MARKER not in result.stderr  # bad.json's reason names the problem, not its contents
        if argv[0] == "index":
            assert result.returncode == 3 and "bad.json: invalid JSON: " in result.stderr
            assert MARKER not in result.stdout
    assert result.stdout == "200\n"
    cache = home / ".cache" / "trailtui"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    written = sorted(path for path in tmp_path.rglob("*") if path.is_file() and not path.is_relative_to(logs))
    for path in written:
        if path.parent == cache:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        else:
            assert MARKER.encode() not in path.read_bytes(), f"{path} holds event contents"
    assert {path.suffix for path in written if path.parent == cache} <= {".sqlite", ".sqlite-wal", ".sqlite-shm", ".lock"}
