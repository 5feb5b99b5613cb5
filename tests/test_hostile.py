"""Bad input files: each gets a clear reason, and every good event around them still loads.

The corpus comes from ``tests/make_hostile_corpus.py`` (the same one a person opens in a terminal
to check by eye). Each bad file is written to a temporary directory and read through the real
decoder, loader and command line.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from trailtui.cli import main
from trailtui.core import discover
from trailtui.core.ingest.decode import decode_file
from trailtui.core.discover import discover_files
from trailtui.core.ingest.extract import synthetic_event_id
from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery, load_problems, original_event
from trailtui.core.text import printable
from tests.conftest import make_event, write_records
from tests.make_hostile_corpus import UNSAFE_CHARS, bad_files, write_corpus

BAD_FILES = bad_files()


def event_ids(conn) -> set[str]:
    return {row[0] for row in conn.execute('SELECT "eventID" FROM events')}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("bad", BAD_FILES, ids=[printable(bad.name) for bad in BAD_FILES])
def test_each_bad_file_gets_its_reason_and_keeps_its_good_events(tmp_path: Path, bad) -> None:
    path = tmp_path / bad.name
    path.write_bytes(bad.content)
    decoded = decode_file(path)
    messages = [decoded.reason or ""] + [message for _, message in decoded.record_errors]
    if bad.reason is None:
        assert decoded.outcome == "events" and not decoded.record_errors, messages
    else:
        assert any(bad.reason in message for message in messages), messages
    loaded = {record.event.get("eventID") for record in decoded.records}
    assert set(bad.loads) <= loaded
    if not bad.loads:
        assert decoded.outcome == "failed"


def test_hostile_corpus_loads_every_good_event_and_names_every_bad_file(capsys, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    db = tmp_path / "index.sqlite"
    code, out, err = run(capsys, "index", str(corpus.root), "--db", str(db))
    assert code == 3  # loaded, but some inputs could not be
    assert "Traceback" not in err
    # Nothing on stderr or stdout reaches the terminal raw (the evil file name included).
    assert not set(err.replace("\n", "")) & UNSAFE_CHARS
    assert not set(out.replace("\n", "")) & UNSAFE_CHARS
    lines = err.splitlines()
    for bad in corpus.bad:
        if bad.reason is None:
            continue
        shown = printable(str(corpus.root / "bad" / bad.name))
        assert any(line.startswith(f"error: {shown}: ") and bad.reason in line for line in lines), (bad.name, err)
    assert any("symbolic link loop" in line and "loop/again" in line for line in lines)

    conn = connect(db)
    ids = event_ids(conn)
    assert corpus.good_ids <= ids
    assert not {f"lost-{n}" for n in range(50)} & ids  # the truncated gzip's events are not invented
    # The two events without eventID are kept, under ids derived from their bytes.
    assert len([event_id for event_id in ids if event_id.startswith("synthetic-")]) == 2
    assert len(ids) == len(corpus.good_ids) + 2
    # The load-errors list holds the same reasons, with the file names as they are on disk.
    problems = load_problems(conn)
    assert any(problem.path.endswith(corpus.bad[-1].name) for problem in problems)


def test_a_50_mb_event_loads_beside_a_small_one(capsys, tmp_path: Path) -> None:
    (huge,) = [bad for bad in bad_files(huge=True) if bad.name == "huge.json"]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / huge.name).write_bytes(huge.content)
    write_records(logs / "small.json", [make_event("small-1")])
    db = tmp_path / "index.sqlite"
    code, out, _ = run(capsys, "index", str(logs), "--db", str(db))
    assert code == 0 and "2 added" in out
    conn = connect(db)
    assert event_ids(conn) == {"huge-1", "small-1"}
    (row_id,) = conn.execute("SELECT id FROM events WHERE \"eventID\" = 'huge-1'").fetchone()
    assert len(original_event(conn, row_id)) == len(json.dumps(json.loads(huge.content)["Records"][0]))
    # The table output cuts the resource to its column: no 50 MB line on the terminal.
    code, out, _ = run(capsys, "query", str(logs), "--db", str(db), "--filter", "bucket:big")
    assert code == 0
    assert out.count("\n") == 2 and max(len(line) for line in out.splitlines()) < 400


def test_an_event_nested_100000_levels_deep_is_indexed_and_filterable(tmp_path: Path) -> None:
    (deep,) = [bad for bad in BAD_FILES if bad.name == "deep.json"]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / deep.name).write_bytes(deep.content)
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, [logs], workers=0)
    assert (summary.events_added, summary.failures, summary.record_problems) == (2, [], [])
    for text in ("nested.0.0.0:*", "nested.0:x", "-nested.0:x"):
        EventQuery(conn, compile_filter(text)).count()  # runs: no RecursionError, no SQLite error
    assert EventQuery(conn, compile_filter("id:deep-1")).count() == 1
    assert EventQuery(conn, compile_filter("name:GetObject")).count() == 2


def test_events_without_time_or_id_are_kept_with_stable_ids_and_sorted_last(tmp_path: Path) -> None:
    (bad,) = [bad for bad in BAD_FILES if bad.name == "no-id-no-time.json"]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / bad.name).write_bytes(bad.content)
    write_records(logs / "timed.json", [make_event("timed-1", eventTime="2026-03-14T08:00:00Z")])
    first, second = connect(tmp_path / "one.sqlite"), connect(tmp_path / "two.sqlite")
    index_paths(first, [logs], workers=0)
    index_paths(second, [logs], workers=0)
    originals = [json.dumps(event).encode() for event in json.loads(bad.content)["Records"]]
    expected_synthetic = {synthetic_event_id(originals[0]), synthetic_event_id(originals[2])}
    assert event_ids(first) == event_ids(second) == {"timed-1", "no-time"} | expected_synthetic
    # Reindexing the same file gives the same ids (nothing doubled).
    os.utime(logs / bad.name, ns=(1, 1))
    index_paths(first, [logs], workers=0)
    assert first.execute("SELECT count(*) FROM events").fetchone()[0] == 4
    # Newest first (the default order), the events without a time come after every timed one.
    rows = EventQuery(first, compile_filter("")).page(0, 10)
    assert [row.eventTime for row in rows] == ["2026-03-14T09:00:00Z", "2026-03-14T08:00:00Z", None, None]
    # Oldest first, too.
    rows = EventQuery(first, compile_filter(""), newest_first=False).page(0, 10)
    assert [row.eventTime for row in rows] == ["2026-03-14T08:00:00Z", "2026-03-14T09:00:00Z", None, None]


def test_timestamps_in_other_formats_are_read_as_utc(tmp_path: Path) -> None:
    (bad,) = [bad for bad in BAD_FILES if bad.name == "time-formats.json"]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / bad.name).write_bytes(bad.content)
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs], workers=0)
    # Read as other tools read an index: events_view shows eventTime in CloudTrail's form.
    times = dict(conn.execute('SELECT "eventID", "eventTime" FROM events_view'))
    assert times == {
        "time-space": "2026-03-14T08:30:00Z",  # no zone: UTC
        "time-offset": "2026-03-14T08:30:00Z",
        "time-rfc2822": "2026-03-14T08:30:00Z",
        "time-junk": None,  # kept, without a time
        "time-number": None,  # a bare number is not read as a time
    }
    assert EventQuery(conn, compile_filter("since:2026-03-14T08:30 until:2026-03-14T08:31")).count() == 3


def test_symlink_loop_is_reported_once_and_not_followed(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    found = discover_files([corpus.root])
    assert [problem for _, problem in found.problems] == ["symbolic link loop (directory already walked), not followed"]
    assert found.problems[0][0] == str(corpus.loop / "again")
    assert len(found.files) == len({os.path.realpath(path) for path in found.files})  # each file once


def test_unreadable_directory_is_reported_and_the_rest_loads(tmp_path: Path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "ok" / "a.json", [make_event("readable-1")])
    locked = logs / "locked"
    write_records(locked / "b.json", [make_event("hidden-1")])
    if os.geteuid() == 0:
        # Root reads a chmod 000 directory anyway: refuse the listing the way the OS would.
        real_scandir = os.scandir

        def scandir(path):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(discover.os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        conn = connect(tmp_path / "index.sqlite")
        summary = index_paths(conn, [logs], workers=0)
    finally:
        locked.chmod(0o700)
    assert event_ids(conn) == {"readable-1"}
    assert summary.failures == [(str(locked), "cannot read directory: Permission denied")]
    assert [(p.path, p.message) for p in load_problems(conn)] == [(str(locked), "cannot read directory: Permission denied")]


@pytest.mark.parametrize("command", [["index"], ["query", "--count"], []], ids=["index", "query", "browse"])
def test_a_path_that_does_not_exist_is_a_usage_error(capsys, tmp_path: Path, command: list[str]) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a")])
    missing = tmp_path / "nope"
    db = tmp_path / "index.sqlite"
    head = command[:1]
    code, out, err = run(capsys, *head, str(logs), str(missing), *command[1:], "--db", str(db))
    assert code == 2
    assert err.strip() == f"trailtui: {missing}: no such file or directory"
    assert out == ""
    assert not db.exists()  # nothing was indexed


def test_bad_gzip_members_and_gzip_of_junk_fail_alone(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "good.json.gz", [make_event("g1")], gz=True)
    # Random bytes, but never starting like JSON ('{' or '[' first, 2 in 256, made this flaky).
    (logs / "junk.json.gz").write_bytes(gzip.compress(b"\x89" + os.urandom(2047)))
    (logs / "corrupt.json.gz").write_bytes(gzip.compress(b'{"Records": []}')[:10] + b"\x00" * 30)
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, [logs], workers=0)
    assert event_ids(conn) == {"g1"}
    reasons = dict((Path(path).name, reason) for path, reason in summary.failures)
    assert reasons["junk.json.gz"].startswith("not JSON")
    assert reasons["corrupt.json.gz"].startswith(("corrupt gzip", "truncated gzip"))


def test_a_gzip_bomb_or_an_oversized_file_is_refused_not_read(tmp_path: Path, monkeypatch) -> None:
    from trailtui.core.ingest import decode

    monkeypatch.setattr(decode, "MAX_FILE_BYTES", 1 << 20)  # 1 MiB here; 1 GiB in use
    logs = tmp_path / "logs"
    write_records(logs / "good.json.gz", [make_event("g1")], gz=True)
    bomb = b'{"Records": [' + b" " * (3 << 20) + b"]}"  # 3 MiB of JSON in about 3 KB
    (logs / "bomb.json.gz").write_bytes(gzip.compress(bomb, compresslevel=9))
    assert (logs / "bomb.json.gz").stat().st_size < 10_000
    (logs / "big.json").write_bytes(bomb)
    members = gzip.compress(b'{"Records": [') + gzip.compress(json.dumps(make_event("m1")).encode() + b"]}")
    (logs / "members.json.gz").write_bytes(members)  # several gzip members are one file
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, [logs], workers=0)
    assert event_ids(conn) == {"g1", "m1"}
    assert sorted((Path(path).name, reason) for path, reason in summary.failures) == [
        ("big.json", "larger than 1 MiB: not read"),
        ("bomb.json.gz", "gzip that inflates to more than 1 MiB: not read"),
    ]
