"""Indexing: dedupe by eventID, incremental reopen, bad files reported, files kept private."""

from __future__ import annotations

import json
import os
import stat
import sqlite3
from pathlib import Path

import pytest

from trailtui.core.ingest import prepare as ingest
from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect, default_db_path
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery, load_problems, original_event
from tests.conftest import make_event, write_records


def event_ids(conn) -> set[str]:
    return {row[0] for row in conn.execute('SELECT "eventID" FROM events')}


def test_duplicates_across_files_are_one_event(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json.gz", [make_event("e1"), make_event("e2")], gz=True)
    write_records(logs / "b.json.gz", [make_event("e2"), make_event("e3")], gz=True)
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, [logs])
    assert event_ids(conn) == {"e1", "e2", "e3"}
    assert summary.events_added == 3
    assert summary.duplicates == 1
    assert summary.files_read == 2



def _bulk_tree(logs: Path) -> None:
    """20 files (a bulk load: more than the loader's threshold) where each file repeats the
    previous file's last event, as overlapping trail deliveries do."""
    for number in range(20):
        events = [make_event(f"f{number}-e{i}") for i in range(3)]
        if number:
            events.insert(0, make_event(f"f{number - 1}-e2"))
        write_records(logs / f"{number:02d}.json", events)


def test_bulk_load_removes_duplicates_after_inserting_and_counts_them_per_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _bulk_tree(logs)
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, [logs])
    assert event_ids(conn) == {f"f{n}-e{i}" for n in range(20) for i in range(3)}
    assert (summary.events_added, summary.duplicates) == (60, 19)
    # The copy kept is the one in the file read first; the later file counts it as a duplicate.
    assert conn.execute("SELECT sum(events), sum(duplicates) FROM files").fetchone() == (60, 19)
    rows = dict(conn.execute("SELECT substr(path, -7), duplicates FROM files"))
    assert rows["00.json"] == 0 and rows["07.json"] == 1
    kept = conn.execute(
        "SELECT substr(f.path, -7) FROM events e JOIN files f ON f.id = e.file_id WHERE e.eventID = 'f6-e2'"
    ).fetchall()
    assert kept == [("06.json",)]
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events_eventID'").fetchone()


def test_an_interrupted_bulk_load_is_settled_by_the_next_load(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _bulk_tree(logs)
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    # What a kill in the middle of a bulk load leaves: duplicates inserted, no eventID index.
    with conn:
        conn.execute("DROP INDEX events_eventID")
        conn.execute(
            "INSERT INTO events (id, eventID, file_id) SELECT id + 1000, eventID, file_id FROM events "
            "WHERE eventID LIKE 'f1-%'"
        )
    write_records(logs / "20.json", [make_event("f19-e2"), make_event("late")])
    summary = index_paths(conn, [logs])
    assert event_ids(conn) == {f"f{n}-e{i}" for n in range(20) for i in range(3)} | {"late"}
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 61
    assert summary.duplicates == 3 + 1  # the three planted copies, and f19-e2 in the new file
def test_reopening_an_unchanged_tree_reads_no_file(tmp_path: Path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("e1")])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    reads = []
    original = ingest.prepare_file
    monkeypatch.setattr("trailtui.core.store.shard.prepare_file", lambda path: reads.append(Path(path)) or original(path))
    summary = index_paths(conn, [logs])
    assert reads == []
    assert summary.files_unchanged == 1 and summary.events_added == 0
    # A new file and a changed file are picked up; the unchanged one is still not read.
    write_records(logs / "new.json", [make_event("n1")])
    changed = write_records(logs / "a.json", [make_event("e1"), make_event("e1b")])
    os.utime(changed, ns=(1, 1))
    summary = index_paths(conn, [logs])
    assert sorted(p.name for p in reads) == ["a.json", "new.json"]
    assert event_ids(conn) == {"e1", "e1b", "n1"}


def test_changed_file_replaces_its_events_and_free_text_follows(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    path = write_records(logs / "a.json", [make_event("old1", userAgent="zebra-agent")])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    assert EventQuery(conn, compile_filter("zebra")).count() == 1
    write_records(path, [make_event("new1", userAgent="okapi-agent")])
    os.utime(path, ns=(2, 2))
    index_paths(conn, [logs])
    assert event_ids(conn) == {"new1"}
    assert EventQuery(conn, compile_filter("zebra")).count() == 0
    assert EventQuery(conn, compile_filter("okapi")).count() == 1


def test_ids_of_deleted_events_are_not_reused_for_free_text(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a1", userAgent="okapi-agent")])
    last = write_records(logs / "b.json", [make_event("b1", userAgent="zebra-agent")])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    # The last file goes: its event (the highest id) goes, and its full-text row cannot be
    # rebuilt from a file that no longer exists. Then a new file arrives.
    last.unlink()
    index_paths(conn, [logs])
    write_records(logs / "c.json", [make_event("c1", userAgent="lemur-agent")])
    index_paths(conn, [logs])
    assert EventQuery(conn, compile_filter("zebra")).count() == 0
    assert EventQuery(conn, compile_filter("lemur")).count() == 1


def test_vanished_files_lose_their_events(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a1")])
    gone = write_records(logs / "b.json", [make_event("b1")])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    gone.unlink()
    summary = index_paths(conn, [logs])
    assert summary.files_removed == 1
    assert event_ids(conn) == {"a1"}


def test_bad_files_are_recorded_and_good_files_still_load(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "good.json", [make_event("g1"), make_event("g2")])
    (logs / "broken.json").write_text('{"Records": [')
    (logs / "partial.json").write_text(json.dumps({"Records": [make_event("p1"), 7]}))
    (logs / "notes.md").write_text("not a log")
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, [logs])
    assert event_ids(conn) == {"g1", "g2", "p1"}
    assert summary.files_failed == 1 and summary.files_skipped == 1
    problems = {(Path(p.path).name, p.position) for p in load_problems(conn)}
    assert ("broken.json", None) in problems
    assert ("partial.json", "record 1") in problems
    outcomes = dict(conn.execute("SELECT path, outcome FROM files").fetchall())
    assert outcomes[str(logs / "partial.json")] == "partial"
    assert outcomes[str(logs / "notes.md")] == "skipped"


def test_original_event_is_exact(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    raw = b'{"eventID":"x1",  "eventName":"GetObject","note":"caf\\u00e9 \\/ slash","n":1.50}'
    (logs).mkdir()
    (logs / "a.json").write_bytes(b'{"Records":[' + raw + b"]}")
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    event_id = conn.execute("SELECT id FROM events").fetchone()[0]
    assert original_event(conn, event_id) == raw


def test_events_without_event_id_get_a_stable_synthetic_id(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    event = make_event("x")
    del event["eventID"]
    write_records(logs / "a.json", [event])
    first = connect(tmp_path / "one.sqlite")
    second = connect(tmp_path / "two.sqlite")
    index_paths(first, [logs])
    index_paths(second, [logs])
    assert event_ids(first) == event_ids(second)
    assert next(iter(event_ids(first))).startswith("synthetic-")


def test_index_location_and_permissions(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a")])
    db_path = default_db_path([str(logs)])
    assert db_path.parent == tmp_path / "cache" / "trailtui"
    assert default_db_path([str(logs) + "/"]) == db_path
    conn = connect(db_path)
    index_paths(conn, [logs])
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_index_from_another_schema_version_is_rebuilt(tmp_path: Path) -> None:
    db_path = tmp_path / "index.sqlite"
    conn = connect(db_path)
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a")])
    summary = index_paths(connect(db_path), [logs])
    assert any("rebuilt" in notice for notice in summary.notices)
    assert summary.events_added == 1


def test_a_file_changed_after_indexing_is_reported_not_misread(tmp_path: Path) -> None:
    from trailtui.core.store.originals import OriginalUnavailable

    logs = tmp_path / "logs"
    path = write_records(logs / "a.json", [make_event("a1")])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    event_id = conn.execute("SELECT id FROM events").fetchone()[0]
    assert b'"a1"' in original_event(conn, event_id)
    write_records(path, [make_event("zz")])
    os.utime(path, ns=(5, 5))
    with pytest.raises(OriginalUnavailable, match="changed since it was indexed"):
        original_event(conn, event_id)


def test_pages_in_both_orders_put_events_without_a_time_last_and_agree_from_either_end(tmp_path: Path) -> None:
    """The list's order, written independently in SQL: by time, events without one last, then
    id. page(total=...) reads the second half from the far end; it must give the same rows."""
    events = [make_event(f"t{i}", eventTime=f"2026-03-14T10:{i % 7:02d}:00Z") for i in range(23)]
    untimed = [make_event(f"u{i}") for i in range(4)]
    for event in untimed:
        del event["eventTime"]
    write_records(tmp_path / "logs" / "a.json", events[:10] + untimed[:2] + events[10:] + untimed[2:])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [tmp_path / "logs"])
    for newest_first, order in ((True, "DESC"), (False, "ASC")):
        every = [row[0] for row in conn.execute(
            f'SELECT id FROM events ORDER BY "eventTime" IS NULL, "eventTime" {order}, id {order}'
        )]
        untimed_ids = {row[0] for row in conn.execute('SELECT id FROM events WHERE "eventTime" IS NULL')}
        assert len(untimed_ids) == 4 and set(every[-4:]) == untimed_ids
        query = EventQuery(conn, compile_filter(""), newest_first=newest_first)
        total = query.count()
        assert total == len(every) == 27
        assert list(query.iter_ids()) == every and list(query.iter_ids(limit=25)) == every[:25]
        for offset in range(total):
            for known in (None, total):
                window = [row.id for row in query.page(offset, 5, total=known)]
                assert window == every[offset : offset + 5], (newest_first, offset, known)


def test_bulk_load_progress_announces_the_merge_and_its_count(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _bulk_tree(logs)  # 79 records, 19 of them copies of the previous file's last event
    seen = []
    index_paths(connect(tmp_path / "index.sqlite"), [logs], on_progress=seen.append, workers=0)
    steps = [(p.phase, p.events_added, p.duplicates, p.merge_pending) for p in seen]
    phases = [phase for phase, *_ in steps]
    # Free text is built beside the field indexes: when it takes longer, its phase follows.
    assert [phase for phase in dict.fromkeys(phases) if phase != "indexing free text"] == [
        "reading", "merging duplicate eventIDs", "building indexes", "done"
    ]
    merging = steps[phases.index("merging duplicate eventIDs")]
    # Copies within one batch of files are merged as they are read; the copy across the first
    # file (a batch of its own, so the app shows events at once) and the second is still
    # counted, and readers are told a merge is coming.
    assert merging[1] + merging[2] == 79 and merging[1] > 60 and merging[3]
    assert set(steps[phases.index("building indexes"):]) == {
        ("building indexes", 60, 19, False), ("done", 60, 19, False),
    } | ({("indexing free text", 60, 19, False)} if "indexing free text" in phases else set())
    assert all(pending for phase, _, _, pending in steps if phase == "reading")


def test_settling_an_interrupted_bulk_load_is_announced_and_not_taken_off_this_runs_events(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _bulk_tree(logs)
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    with conn:
        conn.execute("DROP INDEX events_eventID")
        conn.execute("INSERT INTO events (id, eventID, file_id) SELECT id + 1000, eventID, file_id FROM events "
                     "WHERE eventID LIKE 'f1-%'")
    write_records(logs / "20.json", [make_event("late")])
    seen = []
    summary = index_paths(conn, [logs], on_progress=seen.append)
    assert (seen[0].phase, seen[0].duplicates) == ("merging duplicate eventIDs", 0)
    assert (summary.events_added, summary.duplicates) == (1, 3)


def test_a_small_first_load_has_nothing_to_merge_and_says_nothing_about_it(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("e1"), make_event("e1")])  # a copy within one file
    seen = []
    summary = index_paths(connect(tmp_path / "index.sqlite"), [logs], on_progress=seen.append)
    assert [p.phase for p in seen] == ["reading", "done"]
    assert not any(p.merge_pending for p in seen)
    assert (summary.events_added, summary.duplicates) == (1, 1)


def test_events_view_answers_plain_sqlite_with_cloudtrail_names(tmp_path: Path) -> None:
    """Other tools (sqlite3, sqlite-utils, Datasette) query the index without trailtui's functions."""
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("e1", "GetObject", userIdentity={"type": "IAMUser",
                  "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"},
                  requestParameters={"bucketName": "payroll", "key": "2026/q1.csv"})])
    index_paths(connect(tmp_path / "index.sqlite"), [logs])
    plain = sqlite3.connect(tmp_path / "index.sqlite")
    row = plain.execute('SELECT "eventID", "eventName", "userIdentity.arn", "requestParameters.bucketName", '
                        '"requestParameters.key", s3Level, file FROM events_view').fetchone()
    assert row == ("e1", "GetObject", "arn:aws:iam::111122223333:user/alice", "payroll", "2026/q1.csv", "object",
                   str(logs / "a.json"))


def _words_tree(logs: Path) -> dict[str, set[str]]:
    """The bulk tree of :func:`_bulk_tree`, each event with a word of its own and one shared by
    the events of even files; returns the eventIDs each word must find."""
    expected: dict[str, set[str]] = {"evenfile": set()}
    for number in range(20):
        events = [make_event(f"f{number}-e{i}", userAgent=f"agent{number}x{i} evenfile" if number % 2 == 0
                             else f"agent{number}x{i}") for i in range(3)]
        if number:
            events.insert(0, make_event(f"f{number - 1}-e2", userAgent=f"agent{number - 1}x2"
                                        + (" evenfile" if (number - 1) % 2 == 0 else "")))
        write_records(logs / f"{number:02d}.json", events)
        for i in range(3):
            expected[f"agent{number}x{i}"] = {f"f{number}-e{i}"}
            if number % 2 == 0:
                expected["evenfile"].add(f"f{number}-e{i}")
    return expected


def _free_text_finds(conn, expected: dict[str, set[str]]) -> None:
    for word, ids in expected.items():
        query = EventQuery(conn, compile_filter(word))
        rowids = [row.id for row in query.page(0, 100)]
        found = {row[0] for row in conn.execute(
            f'SELECT "eventID" FROM events WHERE id IN ({",".join("?" * len(rowids))})', rowids)}
        assert found == ids, word


@pytest.mark.parametrize("aside", [False, True], ids=["in place (2-3 cores)", "beside the indexes (4+ cores)"])
def test_a_bulk_loads_free_text_finds_every_event_once_duplicates_included(tmp_path: Path, monkeypatch,
                                                                           aside: bool) -> None:
    from trailtui.core import loader

    monkeypatch.setattr(loader, "_FREE_TEXT_ASIDE_CORES", 1 if aside else 10_000)
    logs = tmp_path / "logs"
    expected = _words_tree(logs)
    conn = connect(tmp_path / "index.sqlite")
    seen = []
    summary = index_paths(conn, [logs], on_progress=seen.append)
    assert summary.duplicates == 19 and not summary.notices  # the side build was adopted, not replaced
    # Until free text is in, the progress says how many events it cannot find yet.
    reading = [p for p in seen if p.phase == "reading"]
    assert all(p.fts_waiting == p.events_added for p in reading) and seen[-1].fts_waiting == 0
    _free_text_finds(conn, expected)
    assert conn.execute("SELECT count(*) FROM fts_todo").fetchone()[0] == 0
    assert not (tmp_path / "index.sqlite.shards").exists()  # shards and the scratch build are gone


def test_free_text_a_killed_load_left_is_filled_by_the_next_even_without_its_shards(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    from trailtui.core import loader

    logs = tmp_path / "logs"
    expected = _words_tree(logs)
    db_path = tmp_path / "index.sqlite"
    monkeypatch.setattr(loader.FreeTextBuild, "start_for", classmethod(lambda cls, conn, scratch, gone=None: None))
    monkeypatch.setattr(loader, "fill_free_text", lambda conn, on_step=None, gone=None: 0)
    index_paths(connect(db_path), [logs])  # as if killed once the field indexes were built
    monkeypatch.undo()
    conn = connect(db_path)
    waiting = [row[0] for row in conn.execute("SELECT shard FROM fts_todo ORDER BY base")]
    assert len(waiting) >= 2
    assert EventQuery(conn, compile_filter("evenfile")).count() == 0  # what the app's hint is about
    os.unlink(waiting[0])  # one shard lost: its bodies come back from the events' originals
    seen = []
    summary = index_paths(conn, [logs], on_progress=seen.append)
    assert summary.events_added == 0 and "indexing free text" in [p.phase for p in seen]
    _free_text_finds(conn, expected)
    assert conn.execute("SELECT count(*) FROM fts_todo").fetchone()[0] == 0


def test_a_failed_free_text_build_is_filled_in_place_and_said(tmp_path: Path, monkeypatch) -> None:
    from trailtui.core.store import free_text

    logs = tmp_path / "logs"
    expected = _words_tree(logs)

    def broken(self) -> None:
        self.error = sqlite3.OperationalError("disk I/O error")

    from trailtui.core import loader

    monkeypatch.setattr(loader, "_FREE_TEXT_ASIDE_CORES", 1)
    monkeypatch.setattr(free_text.FreeTextBuild, "run", broken)
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, [logs])
    assert any("free text was filled in place (disk I/O error)" in notice for notice in summary.notices)
    _free_text_finds(conn, expected)


def test_a_changed_lookup_file_whose_free_text_was_pending_leaves_the_full_text_index_sound(
        tmp_path: Path, monkeypatch) -> None:
    """A killed bulk load left its free text pending; a lookup-events file of it (originals kept
    in the index) then changes. Re-reading it must not 'delete' full-text rows that were never
    added (that corrupts a contentless FTS5 table), and every word is found afterwards."""
    from trailtui.core import loader

    logs = tmp_path / "logs"
    expected = _words_tree(logs)
    lookup = logs / "lookup.json"

    def write_lookup(agent: str) -> None:
        inner = json.dumps(make_event("look-1", "ConsoleLogin", userAgent=agent))
        lookup.write_text(json.dumps({"Events": [{"EventId": "look-1", "CloudTrailEvent": inner}]}))

    write_lookup("lookupbefore")
    db_path = tmp_path / "index.sqlite"
    monkeypatch.setattr(loader.FreeTextBuild, "start_for", classmethod(lambda cls, conn, scratch, gone=None: None))
    monkeypatch.setattr(loader, "fill_free_text", lambda conn, on_step=None, gone=None: 0)
    index_paths(connect(db_path), [logs])
    monkeypatch.undo()
    write_lookup("lookupafter")
    os.utime(lookup, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    conn = connect(db_path)
    index_paths(conn, [logs])
    conn.execute("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 0)")
    _free_text_finds(conn, {**expected, "lookupafter": {"look-1"}, "lookupbefore": set()})


def test_cross_account_calls_are_found_however_the_load_ran(tmp_path: Path) -> None:
    """is:crossaccount: a caller from another account than recipientAccountId; not an
    anonymous caller, not one without an account, not the same account in another case. The
    loader decides it per identity and setting (events.crossAccount), in one worker or several."""
    alice_account = make_event("x")["userIdentity"]["accountId"]
    anonymous = {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    events = [
        make_event("same", recipientAccountId=alice_account),
        make_event("other", recipientAccountId="999988887777"),
        make_event("anonymous", userIdentity=anonymous, recipientAccountId="999988887777"),
        make_event("no-recipient"),
        make_event("no-account", userIdentity={"type": "AWSService", "invokedBy": "s3.amazonaws.com"},
                   recipientAccountId="999988887777"),
        make_event("other-again", eventName="PutObject", recipientAccountId="999988887777"),
    ]
    for record in events:
        if record["eventID"] == "no-recipient":
            record.pop("recipientAccountId", None)
    write_records(tmp_path / "logs" / "a.json", events[:3])
    write_records(tmp_path / "logs" / "b.json", events[3:])
    for workers in (0, 2):
        conn = connect(tmp_path / f"index-{workers}.sqlite")
        index_paths(conn, [tmp_path / "logs"], workers=workers)
        query = EventQuery(conn, compile_filter("is:crossaccount"), columns=["eventID"])
        assert {row.eventID for row in query.page(0, 10)} == {"other", "other-again"}
        assert EventQuery(conn, compile_filter("-is:crossaccount")).count() == 4
        conn.close()


def test_the_planner_is_told_eventname_finds_fewer_events_than_eventsource(tmp_path) -> None:
    """After a first load, the statistics say how many events share an eventName (events with
    one / distinct names) and an eventSource, as column_values counts them, so a Sigma rule's
    "eventSource AND eventName" reads the eventName index: here 2,000 S3 events of 40 names."""
    from tests.conftest import make_event, write_records
    from trailtui.core.loader import _BULK_FILES, index_paths
    from trailtui.core.store.index import connect

    events = [make_event(f"e{n:05d}", f"Call{n % 40}", eventSource="s3.amazonaws.com") for n in range(2000)]
    events += [make_event(f"i{n:05d}", "ListUsers", eventSource="iam.amazonaws.com") for n in range(10)]
    for part in range(_BULK_FILES):  # a first load of this many files is a bulk load, analysed at its end
        write_records(tmp_path / "logs" / f"part-{part:03d}.json", events[part::_BULK_FILES])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [str(tmp_path / "logs")], workers=0)
    stats = dict(conn.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'events'"))
    assert stats["events_eventName"].split()[:2] == ["2010", str(-(-2010 // 41))]
    assert stats["events_eventSource"].split()[:2] == ["2010", "1005"]
    plan = " ".join(row[3] for row in conn.execute(
        'EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE "eventSource" = ? AND "eventName" = ?',
        ("s3.amazonaws.com", "Call7")))
    assert "events_eventName" in plan, plan
    conn.close()
