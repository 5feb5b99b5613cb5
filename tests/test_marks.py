"""Marks, notes, the filter history and the incident timeline: the user's own state beside the index.

Events are hand-written CloudTrail records (conftest.make_event, "CloudTrail record contents" in
the AWS CloudTrail User Guide) indexed by the real loader; expected results are written by hand.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from trailtui.cli import main
from trailtui.core.filter import compile_filter
from trailtui.core.history import MAX_HISTORY, filter_history, push_filter
from trailtui.core.incident import (
    TIMELINE_COLUMNS,
    export_timeline,
    markdown_cell,
    timeline_paths,
    write_timeline,
    write_timeline_csv,
    write_timeline_markdown,
)
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.marks import Mark, get_mark, incident_timeline, marks, set_note, toggle_mark, unmark
from trailtui.core.query import EventQuery
from trailtui.core.store.schema import SCHEMA_VERSION
from trailtui.core.text import printable
from trailtui.core.userstate import UserStateError, attach_user_state, open_user_state, user_state_path
from tests.conftest import make_event, write_records

HOSTILE_NAME = "Get|Object\n| x | y |\r<script>alert(1)</script>`code` **b** [l](http://evil.example) \x1b[31m\u202e\\|"
HOSTILE_NOTE = "=HYPERLINK(\"http://evil.example\",\"x\") | not a cell\n## heading <img src=x onerror=alert(1)> &amp;"


def _events() -> list[dict]:
    return [
        make_event("ev-a", "GetObject", eventTime="2026-03-14T10:00:00Z"),
        make_event("ev-b", "PutObject", eventTime="2026-03-14T09:00:00Z", sourceIPAddress="203.0.113.9"),
        make_event("ev-c", "DeleteObject", eventTime="2026-03-14T11:00:00Z"),
        make_event("ev-d", HOSTILE_NAME, eventTime="2026-03-14T12:00:00Z"),
        make_event("ev-e", "ListBuckets", eventTime="2026-03-13T08:00:00Z"),
    ]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    write_records(root / "a.json", _events())
    return root


@pytest.fixture
def index(tmp_path: Path, logs: Path):
    """An index of ``logs`` and the path of its file."""
    db = tmp_path / "cases-1a2b.sqlite"
    conn = connect(db)
    index_paths(conn, [str(logs)])
    yield conn, db
    conn.close()


def marked_ids(conn: sqlite3.Connection, text: str = "is:marked") -> set[str]:
    compiled = compile_filter(text)
    return {row[0] for row in conn.execute(f"SELECT eventID FROM events WHERE {compiled.where}", compiled.params)}


# --- the file beside the index ------------------------------------------------------------------


def test_user_state_lives_beside_the_index_with_its_own_name(tmp_path: Path) -> None:
    assert user_state_path(tmp_path / "foo-1a2b.sqlite") == tmp_path / "foo-1a2b.user.sqlite"
    assert user_state_path(tmp_path / "cases.db") == tmp_path / "cases.db.user.sqlite"
    assert user_state_path("rel/x.sqlite") == Path("rel/x.user.sqlite")


def test_the_file_is_private_in_wal_mode_with_the_declared_tables(tmp_path: Path) -> None:
    db = tmp_path / "new-dir" / "i.sqlite"
    user = open_user_state(db)
    toggle_mark(user, "ev-a")
    path = user_state_path(db)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert user.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert stat.S_IMODE(side.stat().st_mode) == 0o600
    columns = {table: [(row[1], row[2], row[3], row[5]) for row in user.execute(f"PRAGMA table_info({table})")]
               for table in ("marks", "filter_history")}
    assert columns == {
        "marks": [("eventID", "TEXT", 0, 1), ("note", "TEXT", 1, 0), ("marked_at", "TEXT", 0, 0)],
        "filter_history": [("id", "INTEGER", 0, 1), ("text", "TEXT", 1, 0), ("used_at", "TEXT", 0, 0)],
    }
    user.close()


def test_a_mark_is_on_disk_when_the_call_returns(tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite"
    user = open_user_state(db)
    toggle_mark(user, "ev-a")
    set_note(user, "ev-b", "first step")
    push_filter(user, "name:GetObject")
    # Another connection (another process after a crash of this one) sees it without a commit here.
    other = sqlite3.connect(user_state_path(db))
    assert other.execute("SELECT eventID, note FROM marks ORDER BY eventID").fetchall() == [("ev-a", ""), ("ev-b", "first step")]
    assert other.execute("SELECT text FROM filter_history").fetchall() == [("name:GetObject",)]
    other.close()
    user.close()


def test_an_unwritable_location_raises_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    db = blocker / "i.sqlite"  # its directory cannot exist (even for root)
    with pytest.raises(UserStateError) as caught:
        open_user_state(db)
    assert str(user_state_path(db)) in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a chmod 0500 directory anyway")
def test_a_read_only_directory_raises_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(UserStateError) as caught:
            open_user_state(folder / "i.sqlite")
    finally:
        folder.chmod(0o700)
    assert str(folder / "i.user.sqlite") in str(caught.value) and "read-only" in str(caught.value)


def test_a_damaged_user_file_is_reported_and_left_alone(tmp_path: Path, logs: Path) -> None:
    db = tmp_path / "i.sqlite"
    path = user_state_path(db)
    path.write_bytes(b"these are my notes, not SQLite" * 100)
    with pytest.raises(UserStateError) as caught:
        open_user_state(db)
    assert str(path) in str(caught.value) and "left as it is" in str(caught.value)
    # The index still opens, indexes and filters; is:marked matches nothing; the file is untouched.
    conn = connect(db)
    index_paths(conn, [str(logs)])
    assert marked_ids(conn) == set()
    assert len(marked_ids(conn, "")) == 5
    conn.close()
    reader = connect(db, readonly=True)
    assert marked_ids(reader) == set()
    reader.close()
    assert path.read_bytes() == b"these are my notes, not SQLite" * 100


# --- marks and notes ----------------------------------------------------------------------------


def test_toggle_note_unmark_and_list(tmp_path: Path) -> None:
    user = open_user_state(tmp_path / "i.sqlite")
    assert toggle_mark(user, "ev-a") is True
    assert toggle_mark(user, "ev-b") is True
    assert get_mark(user, "ev-a") == Mark("ev-a", "", get_mark(user, "ev-a").marked_at)
    marked_at = get_mark(user, "ev-a").marked_at
    assert len(marked_at) == 20 and marked_at[10] == "T" and marked_at.endswith("Z")  # UTC ISO-8601
    set_note(user, "ev-a", "stolen key used here")
    assert get_mark(user, "ev-a") == Mark("ev-a", "stolen key used here", marked_at)  # first mark time kept
    set_note(user, "ev-a", "")
    assert get_mark(user, "ev-a") == Mark("ev-a", "", marked_at)  # an empty note keeps the mark
    set_note(user, "ev-c", "noted, so marked")
    assert [mark.eventID for mark in marks(user)] == ["ev-a", "ev-b", "ev-c"]
    assert toggle_mark(user, "ev-b") is False
    assert get_mark(user, "ev-b") is None
    unmark(user, "ev-c")
    unmark(user, "never-marked")
    assert marks(user) == [Mark("ev-a", "", marked_at)]
    user.close()


def test_is_marked_matches_exactly_the_marked_events_everywhere(index, logs: Path, capsys) -> None:
    conn, db = index
    user = open_user_state(db)
    for event_id in ("ev-b", "ev-d"):
        toggle_mark(user, event_id)
    assert marked_ids(conn) == {"ev-b", "ev-d"}  # the writer's connection
    reader = connect(db, readonly=True)
    assert marked_ids(reader) == {"ev-b", "ev-d"}  # the app's read-only connections
    assert marked_ids(reader, "-is:marked") == {"ev-a", "ev-c", "ev-e"}
    toggle_mark(user, "ev-a")
    assert marked_ids(reader) == {"ev-a", "ev-b", "ev-d"}  # a new mark is seen at the next query
    assert EventQuery(reader, compile_filter("is:marked")).count() == 3
    reader.close()
    user.close()
    code = main(["query", str(logs), "--db", str(db), "--filter", "is:marked", "--format", "ndjson", "--oldest-first"])
    assert code == 0
    assert [json.loads(line)["eventID"] for line in capsys.readouterr().out.splitlines()] == ["ev-b", "ev-a", "ev-d"]


def test_is_marked_uses_the_event_id_index() -> None:
    # The few marks find their events through events_eventID, not a scan of every event.
    conn = sqlite3.connect(":memory:")
    from trailtui.core.store.schema import EVENT_ID_INDEX_SQL, schema_sql

    for statement in schema_sql():
        conn.execute(statement)
    conn.execute(EVENT_ID_INDEX_SQL)
    attach_user_state(conn, Path("/nonexistent-dir/x.sqlite"), readonly=True)  # the in-memory stand-in
    compiled = compile_filter("is:marked")
    plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN SELECT id FROM events WHERE {compiled.where}"))
    assert "events_eventID" in plan and "SCAN events" not in plan, plan


def test_marks_and_history_survive_an_index_rebuild(index, logs: Path) -> None:
    conn, db = index
    user = open_user_state(db)
    toggle_mark(user, "ev-c")
    set_note(user, "ev-b", "first call from the attacker's IP")
    push_filter(user, "ip:203.0.113.9")
    ids_before = {row[0]: row[1] for row in conn.execute("SELECT eventID, id FROM events")}
    conn.close()
    # The index is a cache: delete it and index again (new events.id values, same eventIDs).
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    write_records(logs / "0-first.json", [make_event("ev-new", "GetBucketAcl", eventTime="2026-03-14T08:00:00Z")])
    conn = connect(db)
    index_paths(conn, [str(logs)])
    ids_after = {row[0]: row[1] for row in conn.execute("SELECT eventID, id FROM events")}
    assert ids_after["ev-c"] != ids_before["ev-c"]  # the rebuild renumbered the events
    assert marked_ids(conn) == {"ev-b", "ev-c"}
    assert [(entry.eventID, entry.note) for entry in incident_timeline(conn)] == [
        ("ev-b", "first call from the attacker's IP"), ("ev-c", "")]
    assert filter_history(user) == ["ip:203.0.113.9"]
    conn.close()
    # A rebuild for another schema version keeps them too.
    raw = sqlite3.connect(db)
    with raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION - 1),))
    raw.close()
    conn = connect(db)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0  # rebuilt empty
    index_paths(conn, [str(logs)])
    assert marked_ids(conn) == {"ev-b", "ev-c"}
    conn.close()
    user.close()


def test_a_reader_opened_before_the_first_mark_sees_marks_after_reattaching(tmp_path: Path, logs: Path) -> None:
    db = tmp_path / "i.sqlite"
    conn = connect(db)
    index_paths(conn, [str(logs)])
    conn.close()
    user_state_path(db).unlink()  # as if the index came from an older trailtui
    reader = connect(db, readonly=True)
    assert marked_ids(reader) == set()  # the in-memory stand-in
    assert not user_state_path(db).exists()  # a reader creates nothing
    user = open_user_state(db)
    toggle_mark(user, "ev-a")
    assert attach_user_state(reader, db, readonly=True) is True
    assert marked_ids(reader) == {"ev-a"}
    reader.close()
    user.close()


# --- filter history -------------------------------------------------------------------------------


def test_history_is_newest_first_without_empties_or_repeats(tmp_path: Path) -> None:
    user = open_user_state(tmp_path / "i.sqlite")
    for text in ("name:GetObject", "", "   ", "name:GetObject", " is:error ", "name:GetObject", "is:error"):
        push_filter(user, text)
    # Only a repeat of the newest is skipped: going back to an earlier filter is a step of its own.
    assert filter_history(user) == ["is:error", "name:GetObject", "is:error", "name:GetObject"]
    assert filter_history(user, limit=1) == ["is:error"]
    user.close()


def test_history_keeps_the_newest_thousand(tmp_path: Path) -> None:
    user = open_user_state(tmp_path / "i.sqlite")
    for number in range(MAX_HISTORY + 25):
        push_filter(user, f"name:E{number}")
    assert user.execute("SELECT count(*) FROM filter_history").fetchone()[0] == MAX_HISTORY == 1000
    kept = filter_history(user, limit=5000)
    assert kept[0] == f"name:E{MAX_HISTORY + 24}" and kept[-1] == "name:E25"
    user.close()


def test_history_is_per_index(tmp_path: Path) -> None:
    first, second = open_user_state(tmp_path / "one-1111.sqlite"), open_user_state(tmp_path / "two-2222.sqlite")
    push_filter(first, "is:root")
    push_filter(second, "is:anonymous")
    assert filter_history(first) == ["is:root"]
    assert filter_history(second) == ["is:anonymous"]
    first.close()
    second.close()
    reopened = open_user_state(tmp_path / "one-1111.sqlite")
    assert filter_history(reopened) == ["is:root"]  # kept between runs
    reopened.close()


# --- the incident timeline --------------------------------------------------------------------------


def test_timeline_is_in_time_order_with_missing_events_last(index) -> None:
    conn, db = index
    user = open_user_state(db)
    for event_id in ("ev-c", "gone-1", "ev-a", "ev-b"):
        toggle_mark(user, event_id)
    set_note(user, "ev-a", "reads payroll")
    set_note(user, "gone-1", "seen in the console before the logs were rotated")
    timeline = incident_timeline(conn)
    assert [(entry.eventID, entry.eventTime, entry.eventName, entry.note) for entry in timeline] == [
        ("ev-b", "2026-03-14T09:00:00Z", "PutObject", ""),
        ("ev-a", "2026-03-14T10:00:00Z", "GetObject", "reads payroll"),
        ("ev-c", "2026-03-14T11:00:00Z", "DeleteObject", ""),
        ("gone-1", None, None, "seen in the console before the logs were rotated"),
    ]
    b = timeline[0]
    assert (b.actor, b.sourceIPAddress, b.resource) == ("alice", "203.0.113.9", "finance-reports/q1/payroll.csv")
    assert b.id == conn.execute("SELECT id FROM events WHERE eventID = 'ev-b'").fetchone()[0]
    assert timeline[-1].id is None and timeline[-1].actor is None
    user.close()


class _Table(HTMLParser):
    """The cells of the HTML tables a Markdown renderer made, and any raw HTML tag it passed on."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_hostile_text_cannot_break_the_markdown_table(index) -> None:
    markdown_it = pytest.importorskip("markdown_it")  # installed with rich (Textual's renderer)
    conn, db = index
    user = open_user_state(db)
    toggle_mark(user, "ev-d")
    set_note(user, "ev-a", HOSTILE_NOTE)
    out = io.StringIO()
    write_timeline_markdown(incident_timeline(conn), out, footer=["originals: x.ndjson", "a | b <i>"])
    text = out.getvalue()
    # A GFM renderer with raw HTML allowed: every row keeps its cells, every cell shows the text
    # literally (as printable() shows it), no tag of the attacker's reaches the HTML.
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    table = _Table()
    table.feed(html)
    assert table.tags <= {"h1", "p", "table", "thead", "tbody", "tr", "th", "td", "ul", "li"}
    header, *rows = table.rows
    assert header == [title for _, title in TIMELINE_COLUMNS]
    assert rows == [
        ["2026-03-14 10:00:00", "GetObject", "alice", "198.51.100.7", "finance-reports/q1/payroll.csv",
         printable(HOSTILE_NOTE), "ev-a"],
        ["2026-03-14 12:00:00", printable(HOSTILE_NAME), "alice", "198.51.100.7", "finance-reports/q1/payroll.csv",
         "", "ev-d"],
    ]
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert text.count("\n|") == 4  # header, rule, two rows: no line of attacker text starts a row
    assert "a | b <i>" not in text and "a \\| b &lt;i&gt;" in text
    user.close()


def test_markdown_cell_escapes() -> None:
    assert markdown_cell("a|b") == "a\\|b"
    assert markdown_cell("\\|") == "\\\\\\|"  # an attacker's backslash cannot unescape our pipe
    assert markdown_cell("<b>&") == "&lt;b&gt;&amp;"
    assert markdown_cell("x\ny") == "x\\\\x0ay"
    assert markdown_cell(None) == ""


def test_csv_cannot_run_a_formula_and_keeps_the_text(index) -> None:
    conn, db = index
    user = open_user_state(db)
    set_note(user, "ev-a", HOSTILE_NOTE)
    set_note(user, "ev-c", "-2+3")
    out = io.StringIO(newline="")
    write_timeline_csv(incident_timeline(conn), out)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == ["eventTime (UTC)", "eventName", "actor", "sourceIPAddress", "resource", "note", "eventID"]
    assert rows[1] == ["2026-03-14 10:00:00", "GetObject", "alice", "198.51.100.7", "finance-reports/q1/payroll.csv",
                       "'" + HOSTILE_NOTE, "ev-a"]
    assert rows[2][5] == "'-2+3"
    assert all(not cell or cell[0] not in "=+-@\t\r" for row in rows for cell in row)
    user.close()


def test_export_writes_three_private_files_with_the_originals(index, tmp_path: Path) -> None:
    conn, db = index
    user = open_user_state(db)
    for event_id in ("ev-c", "ev-b", "gone-2"):
        toggle_mark(user, event_id)
    problems: list[str] = []
    base = tmp_path / "out" / "case-42.v1"
    base.parent.mkdir()
    paths = export_timeline(conn, base, on_problem=problems.append)
    assert paths == timeline_paths(base) == [tmp_path / "out" / name for name in
                                             ("case-42.v1.md", "case-42.v1.csv", "case-42.v1.ndjson")]
    assert sorted(path.name for path in base.parent.iterdir()) == sorted(path.name for path in paths)  # no .partial
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    originals = [json.loads(line) for line in paths[2].read_text().splitlines()]
    by_id = {event["eventID"]: event for event in _events()}
    assert originals == [by_id["ev-b"], by_id["ev-c"]]  # the original records, in timeline order
    assert problems == ["eventID gone-2: original not attached: the event is no longer in the index"]
    markdown = paths[0].read_text()
    assert "case-42.v1.ndjson (2 of 3)" in markdown and "gone-2" in markdown
    assert [row[-1] for row in csv.reader(paths[1].open(newline=""))] == ["eventID", "ev-b", "ev-c", "gone-2"]
    user.close()


def test_a_failed_export_leaves_no_file(index, tmp_path: Path, monkeypatch) -> None:
    conn, db = index
    user = open_user_state(db)
    toggle_mark(user, "ev-a")
    user.close()
    base = tmp_path / "case"
    for path in timeline_paths(base):
        path.write_text("an earlier export")

    def broken(entries, out, *, terminal=False):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("trailtui.core.incident.write_timeline_csv", broken)
    with pytest.raises(OSError):
        export_timeline(conn, base)
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("case.")) == [
        "case.csv", "case.md", "case.ndjson"]
    assert all(path.read_text() == "an earlier export" for path in timeline_paths(base))


def test_a_changed_log_file_costs_only_its_originals(index, logs: Path) -> None:
    conn, db = index
    write_records(logs / "b.json", [make_event("ev-z", "GetObject", eventTime="2026-03-15T00:00:00Z")])
    index_paths(conn, [str(logs)])
    user = open_user_state(db)
    toggle_mark(user, "ev-a")
    toggle_mark(user, "ev-z")
    (logs / "a.json").write_text((logs / "a.json").read_text() + " ")  # changed since indexed
    out = io.StringIO()
    problems = write_timeline(conn, "ndjson", out)
    assert [json.loads(line)["eventID"] for line in out.getvalue().splitlines()] == ["ev-z"]
    assert len(problems) == 1 and problems[0].startswith("eventID ev-a: original not attached: ")
    assert "changed since it was indexed" in problems[0]
    user.close()


# --- the command line ---------------------------------------------------------------------------------


def test_cli_prints_and_writes_the_timeline(index, logs: Path, tmp_path: Path, capsys) -> None:
    conn, db = index
    user = open_user_state(db)
    set_note(user, "ev-b", "=cmd|' /C calc'!A0")
    toggle_mark(user, "ev-a")
    user.close()
    assert main(["marks", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Incident timeline\n") and "| 2026-03-14 09:00:00 | PutObject |" in out
    assert main(["marks", str(logs), "--db", str(db), "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert [row[1] for row in rows] == ["eventName", "PutObject", "GetObject"]
    assert rows[1][5] == "'=cmd|' /C calc'!A0"
    assert main(["marks", "--db", str(db), "--format", "ndjson"]) == 0
    assert [json.loads(line)["eventID"] for line in capsys.readouterr().out.splitlines()] == ["ev-b", "ev-a"]
    assert main(["marks", "--db", str(db), "--output", str(tmp_path / "report")]) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {tmp_path / 'report'}{suffix}" for suffix in (".md", ".csv", ".ndjson")]


def test_cli_without_an_index_or_marks_says_what_to_do(tmp_path: Path, capsys, logs: Path) -> None:
    assert main(["marks", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no index at" in capsys.readouterr().err
    assert main(["marks", str(logs), "--db", str(tmp_path / "fresh.sqlite")]) == 0
    captured = capsys.readouterr()
    assert "no marked events" in captured.err and "press m" in captured.err
    assert captured.out.count("\n|") == 2  # the table's header and rule, no rows
    assert main(["marks", "--db", str(tmp_path / "fresh.sqlite"), "--format", "csv", "--output", "x"]) == 2
