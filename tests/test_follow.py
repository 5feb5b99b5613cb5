"""Following new deliveries in a local tree (``--follow``): files that arrive join the index round
after round, files still being written are not read half-done, ``query --follow`` prints each
new matching event once, and the app shows new events without moving the selection.

S3 polling is tested against the local S3 server in ``tests/test_s3_source.py``.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import make_event, write_records
from trailtui.core.filter import compile_filter
from trailtui.core.loader import BackgroundLoader, index_paths
from trailtui.core.news import NewMatches
from trailtui.core.sources.follow import (
    LOOKBACK,
    SETTLE_SECONDS,
    TEMP_NAME_SECONDS,
    Follower,
    follow,
    is_being_written,
    start_after,
)
from trailtui.core.store.index import connect

REPO_ROOT = Path(__file__).resolve().parents[1]


def _settled(path: Path) -> Path:
    """Date ``path``'s mtime back, as a file finished a while ago."""
    past = time.time() - 30
    os.utime(path, (past, past))
    return path


def _events(prefix: str, count: int, name: str = "GetObject") -> list[dict]:
    return [make_event(f"{prefix}-{number:04d}", name, eventTime=f"2026-03-14T10:{number % 60:02d}:00Z")
            for number in range(count)]


class Rounds:
    """Runs :func:`follow` in a thread and keeps every round's summary."""

    def __init__(self, db: Path, paths: list[str], interval: float = 0.5) -> None:
        self.conn = connect(db)
        self.summaries: list = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.follower = Follower(paths, interval=interval)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        def done(summary, error) -> None:
            if error is not None:
                self.errors.append(error)
            else:
                self.summaries.append(summary)

        follow(self.conn, self.follower, on_round=done, stop=self.stop, workers=0)

    def __enter__(self) -> Rounds:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.follower.close()
        self.thread.join(30)
        self.conn.close()

    def wait_for(self, predicate, timeout: float = 30.0):
        """The first round summary (from now on) for which ``predicate`` holds."""
        seen = len(self.summaries)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for summary in self.summaries[seen:]:
                if predicate(summary):
                    return summary
            time.sleep(0.05)
        rounds = [(summary.files_read, summary.events_added, summary.files_held) for summary in self.summaries[seen:]]
        raise AssertionError(f"no such round in {timeout} s: (read, added, held) {rounds[-5:]}, errors {self.errors}")

    def next_round(self, timeout: float = 30.0):
        return self.wait_for(lambda _: True, timeout)


# --------------------------------------------------------------------------- pure rules


def test_files_still_being_written_are_held_back(tmp_path: Path) -> None:
    now = time.time()
    log = tmp_path / "111122223333_CloudTrail_us-east-1_20261201T1205Z_abc.json.gz"
    log.write_bytes(b"x")
    temp = tmp_path / "111122223333_CloudTrail_us-east-1_20261201T1205Z_abc.json.gz.9fA0b1C2"
    temp.write_bytes(b"x")
    fresh, old, stale = now - SETTLE_SECONDS / 2, now - SETTLE_SECONDS - 1, now - TEMP_NAME_SECONDS - 1
    for path, mtime, held in ((log, fresh, True), (log, old, False), (temp, old, True), (temp, stale, False)):
        os.utime(path, (mtime, mtime))
        assert is_being_written(str(path), path.stat(), now) is held, (path.name, now - mtime)


def test_start_after_looks_back_from_the_newest_key() -> None:
    key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/111122223333_CloudTrail_us-east-1_20261201T0010Z_x.json.gz"
    assert LOOKBACK.total_seconds() == 1800
    # 30 minutes earlier crosses midnight: still inside the folder, so its earlier keys are listed.
    assert start_after(key) == ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/"
                                "111122223333_CloudTrail_us-east-1_20261130T2340Z")
    assert start_after(key) < key
    assert start_after("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/export.json") is None


# --------------------------------------------------------------------------- rounds


def test_a_file_written_into_a_new_folder_joins_the_index(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "first.json", _events("first", 5))
    db = tmp_path / "index.sqlite"
    index_paths(connect(db), [str(logs)], workers=0)
    with Rounds(db, [str(logs)]) as rounds:
        rounds.next_round()
        # A folder created and filled at once: the watcher may not see inside it, the rescan does.
        write_records(logs / "2026/12/01/new.json.gz", _events("new", 7), gz=True)
        arrived = rounds.wait_for(lambda summary: summary.events_added)
        assert (arrived.events_added, arrived.files_read) == (7, 1)
        ids = {row[0] for row in rounds.conn.execute('SELECT "eventID" FROM events')}
    assert ids == {f"first-{n:04d}" for n in range(5)} | {f"new-{n:04d}" for n in range(7)}


def test_a_half_downloaded_file_is_read_only_once_complete(tmp_path: Path) -> None:
    """``aws s3 sync`` writes NAME.<8 hex> and renames it when done: the half file is neither read
    nor reported; the renamed one is read whole."""
    logs = tmp_path / "logs"
    write_records(logs / "first.json", _events("first", 2))
    db = tmp_path / "index.sqlite"
    index_paths(connect(db), [str(logs)], workers=0)
    whole = gzip.compress(json.dumps({"Records": _events("synced", 40)}).encode())
    final = logs / "111122223333_CloudTrail_us-east-1_20261201T1205Z_abc.json.gz"
    partial = final.with_name(final.name + ".4fA09c1E")
    partial.write_bytes(whole[: len(whole) // 2])
    _settled(partial)  # not recently modified: only its name says it is a download under way
    with Rounds(db, [str(logs)]) as rounds:
        held = rounds.next_round()
        assert held.files_held == 1 and held.files_read == 0 and not held.failures
        partial.write_bytes(whole)
        _settled(partial)
        partial.rename(final)
        arrived = rounds.wait_for(lambda summary: summary.events_added)
        assert arrived.events_added == 40 and not arrived.failures and not arrived.record_problems
        conn = rounds.conn
        assert conn.execute("SELECT count(*) FROM load_errors").fetchone()[0] == 0
        assert [row[0] for row in conn.execute("SELECT path FROM files ORDER BY path")] == [
            str(final), str(logs / "first.json")]


def test_a_growing_file_is_read_once_it_settles(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    log = logs / "collector.ndjson"
    log.parent.mkdir(parents=True)
    log.write_text("".join(json.dumps(event) + "\n" for event in _events("early", 3)))
    _settled(log)
    db = tmp_path / "index.sqlite"
    index_paths(connect(db), [str(logs)], workers=0)
    with Rounds(db, [str(logs)]) as rounds:
        rounds.next_round()
        with log.open("a") as stream:  # a collector appends; the mtime is now
            stream.write(json.dumps(_events("late", 2)[0]) + "\n")
            stream.flush()
            held = rounds.wait_for(lambda summary: summary.files_held)
            assert held.files_read == 0
            stream.write(json.dumps(_events("late", 2)[1]) + "\n")
            stream.flush()
        arrived = rounds.wait_for(lambda summary: summary.files_read, timeout=SETTLE_SECONDS + 30)
        assert arrived.events_added == 5  # the file is read again whole: its old rows were replaced
        assert rounds.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 5


def test_new_matches_hand_out_each_new_event_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    log = logs / "collector.ndjson"
    log.parent.mkdir(parents=True)
    lines = [json.dumps(event) for event in _events("get", 3) + _events("put", 2, "PutObject")]
    log.write_text("\n".join(lines) + "\n")
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [str(logs)], workers=0)
    news = NewMatches(conn, compile_filter("name:GetObject"))
    assert news.take() is None
    more = [json.dumps(event) for event in _events("more", 2) + _events("put2", 1, "PutObject")]
    log.write_text("\n".join(lines + more) + "\n")
    _settled(log)
    index_paths(conn, [str(logs)], workers=0)  # the whole file again: 8 rows inserted
    arrived = news.take()
    assert arrived is not None
    rows = conn.execute(f'SELECT "eventID" FROM events WHERE {arrived.where}', arrived.params).fetchall()
    assert sorted(row[0] for row in rows) == ["more-0000", "more-0001"]
    assert news.take() is None


# --------------------------------------------------------------------------- the loader process


def test_the_loader_process_follows_after_its_first_load(tmp_path: Path) -> None:
    """The first load, the detection rules over it, then a round that reads a new file, and the
    rules again over its events alone (the pack's s3-get-object counts the 6 new GetObjects)."""
    logs = tmp_path / "logs"
    write_records(logs / "first.json", _events("first", 4))
    loader = BackgroundLoader(tmp_path / "index.sqlite", [str(logs)], follow_interval=0.5)
    loader.start()
    kinds: list[str] = []
    added = 0
    detected: list[dict] = []
    try:
        deadline = time.monotonic() + 60
        for kind, payload in loader.messages():
            kinds.append(kind)
            if kind == "detected" and not detected:
                write_records(logs / "later/second.json", _events("second", 6))
            if kind == "detected":
                detected.append(payload)
                if added:
                    break
            if kind == "follow":
                assert payload["error"] is None
                added += payload["events_added"]
            assert kind != "error", payload
            assert time.monotonic() < deadline, kinds
    finally:
        loader.stop()
    assert added == 6
    assert kinds.index("done") < kinds.index("detected") < kinds.index("follow")
    assert kinds[-1] == "detected" and kinds.index("follow") < len(kinds) - 1
    assert detected[0]["hits"] >= 4 and not detected[-1]["full"]
    assert detected[-1]["hits"] == 6  # the new GetObjects, once each: only the new events were run


# --------------------------------------------------------------------------- query --follow


def _read_lines(stream, count: int, timeout: float = 60.0) -> list[str]:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(stream.readline() for _ in range(count)), daemon=True)
    reader.start()
    reader.join(timeout)
    assert not reader.is_alive(), f"only {len(lines)} of {count} lines in {timeout} s"
    return lines


def test_query_follow_prints_each_new_matching_event_as_it_arrives(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "first.json", _events("first", 3) + _events("firstput", 2, "PutObject"))
    args = [sys.executable, "-m", "trailtui", "query", str(logs), "--follow", "--interval", "0.5",
            "--filter", "name:GetObject", "--format", "ndjson", "--db", str(tmp_path / "index.sqlite")]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        first = _read_lines(process.stdout, 3)
        assert [json.loads(line)["eventID"] for line in first] == ["first-0000", "first-0001", "first-0002"]
        write_records(logs / "next/second.json.gz", _events("second", 4) + _events("put", 3, "PutObject"), gz=True)
        second = _read_lines(process.stdout, 4)
        assert [json.loads(line)["eventID"] for line in second] == [f"second-{n:04d}" for n in range(4)]
        # The same events delivered again (an overlapping trail) are not news.
        write_records(logs / "next/again.json", _events("second", 4))
        write_records(logs / "next/third.json", _events("third", 1))
        third = _read_lines(process.stdout, 1)
        assert json.loads(third[0])["eventID"] == "third-0000"
    finally:
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=60)
    assert rest == "", "an event was printed twice"
    assert process.returncode == 130 and "Traceback" not in err, err


def test_index_follow_prints_a_line_per_delivery(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "first.json", _events("first", 2))
    args = [sys.executable, "-m", "trailtui", "index", str(logs), "--follow", "--interval", "0.5",
            "--db", str(tmp_path / "index.sqlite")]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        report = _read_lines(process.stdout, 3)  # index:, files:, events: as without --follow
        assert report[1].startswith("files: 1 found, 1 read"), report
        write_records(logs / "later/second.json", _events("second", 6))
        line = _read_lines(process.stdout, 1)[0]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert "+6 events from 1 file (8 in the index)" in line, line
    assert process.returncode == 130 and "Traceback" not in err, err


def test_query_follow_takes_only_formats_that_stream(tmp_path: Path) -> None:
    for extra in (["--format", "json"], ["--format", "csv"], ["--count"]):
        result = subprocess.run([sys.executable, "-m", "trailtui", "query", str(tmp_path), "--follow", *extra],
                                capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
        assert result.returncode == 2 and "--follow prints events as they arrive" in result.stderr, extra
    result = subprocess.run([sys.executable, "-m", "trailtui", "query", str(tmp_path), "--interval", "5"],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert result.returncode == 2 and "--interval goes with --follow" in result.stderr


# --------------------------------------------------------------------------- the app


@pytest.mark.asyncio
async def test_the_app_shows_new_deliveries_without_moving_the_selection(tmp_path: Path) -> None:
    from trailtui.tui.app import TrailApp

    logs = tmp_path / "logs"
    write_records(logs / "first.json", _events("first", 30))
    db = tmp_path / "index.sqlite"
    connect(db).close()
    app = TrailApp(db_path=db, paths=[str(logs)], follow_interval=0.5)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.main_screen
        for _ in range(300):
            await pilot.pause(0.1)
            if screen.status.following and app.event_list.count == 30:
                break
        assert screen.status.following, "the status line does not say it is following"
        assert "following · no new delivery yet" in screen.status.render().plain
        for _ in range(5):
            await pilot.press("j")
        await pilot.pause(0.3)
        selected = app.event_list.selected_row.get("eventID")
        line = app.event_list.cursor - app.event_list.scroll_offset.y
        # Newer than everything shown: the new events land above the selection.
        later = [make_event(f"late-{n:04d}", eventTime=f"2026-03-14T11:{n:02d}:00Z") for n in range(12)]
        write_records(logs / "later/second.json", later)
        for _ in range(300):
            await pilot.pause(0.1)
            if app.event_list.count == 42 and screen.status.new_above == 12:
                break
        # Not app.workers.wait_for_complete(): the loader link's worker runs as long as following does.
        await pilot.pause(0.5)
        assert app.event_list.count == 42
        assert app.event_list.selected_row.get("eventID") == selected, "the selection moved"
        assert app.event_list.cursor - app.event_list.scroll_offset.y == line, "the selection left its screen line"
        status = screen.status.render().plain
        assert "following · last delivery" in status and "+12 new" in status, status
        assert "+12 new above · g shows them" in status, status
        await pilot.press("g")
        await pilot.pause(0.3)
        assert app.event_list.selected_row.get("eventID") == "late-0011"
