"""Export: CSV / JSON / NDJSON writing (core), files written whole or not at all, and the app's
Ctrl+S dialog with its progress bar."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import make_event, write_records
from trailtui.core import export
from trailtui.core.columns import BY_NAME, OUTPUT_COLUMNS, UnknownColumn
from trailtui.core.demo.records import anonymous_caller
from trailtui.core.export import (
    ExportCancelled,
    csv_cell,
    default_export_path,
    export_to_file,
    partial_path,
    write_events,
)
from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.presets import ATHENA_COLUMNS
from trailtui.core.query import EventQuery

ANONYMOUS = anonymous_caller()


def events() -> list[dict]:
    listed = [make_event(f"get-{i}", "GetObject", eventTime=f"2026-03-14T10:{i:02d}:00Z") for i in range(30)]
    listed.append(
        make_event("hostile", "PutObject", eventTime="2026-03-14T11:00:00Z", userIdentity=ANONYMOUS,
                   userAgent="=HYPERLINK(\"http://x\")\x1b]52;c;aGk=\x07",
                   requestParameters={"bucketName": "b", "key": "@SUM(1)\nline2\u202e"})
    )
    return listed


@pytest.fixture
def db(tmp_path: Path):
    write_records(tmp_path / "logs" / "a.json", events())
    db_path = tmp_path / "index.sqlite"
    conn = connect(db_path)
    index_paths(conn, [tmp_path / "logs"])
    return conn


def query(conn, text: str = "") -> EventQuery:
    return EventQuery(conn, compile_filter(text))


def test_csv_with_the_athena_columns(db) -> None:
    out = io.StringIO()
    assert write_events(query(db, "is:anonymous"), "csv", out, columns=ATHENA_COLUMNS) == 1
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["eventTime", "eventName", "eventSource", "sourceIPAddress", "userAgent", "bucketName",
                       "object", "userArn"]
    assert rows[1][:4] == ["2026-03-14 11:00:00", "PutObject", "s3.amazonaws.com", "198.51.100.7"]
    assert rows[1][4].startswith("'=HYPERLINK(")  # formula neutralised
    assert rows[1][6] == "'@SUM(1)\nline2\u202e"
    assert rows[1][7] == ""  # an anonymous caller has no ARN


def test_csv_default_columns_use_cloudtrail_names(db) -> None:
    out = io.StringIO()
    write_events(query(db, "name:GetObject"), "csv", out, limit=2)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 2 and rows[0]["eventID"] == "get-29"
    assert rows[0]["userIdentity.arn"] == "arn:aws:iam::111122223333:user/alice"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_csv_cell_neutralises_formulas(value: str) -> None:
    assert csv_cell(value) == "'" + value
    assert csv_cell("plain") == "plain" and csv_cell(None) == "" and csv_cell(3) == "3"


def test_json_and_ndjson_are_valid_and_keep_the_originals(db) -> None:
    out = io.StringIO()
    assert write_events(query(db, "is:anonymous"), "json", out) == 1
    parsed = json.loads(out.getvalue())
    assert parsed[0]["userAgent"] == "=HYPERLINK(\"http://x\")\x1b]52;c;aGk=\x07"
    assert "\x1b" not in out.getvalue()  # escaped as \u001b inside the JSON string
    out = io.StringIO()
    write_events(query(db), "ndjson", out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 31 and all(json.loads(line)["eventID"] for line in lines)
    out = io.StringIO()
    assert write_events(query(db, "name:Nothing"), "json", out) == 0
    assert json.loads(out.getvalue()) == []


def test_table_escapes_control_characters(db) -> None:
    out = io.StringIO()
    write_events(query(db, "is:anonymous"), "table", out, columns=ATHENA_COLUMNS)
    text = out.getvalue()
    assert "\x1b" not in text and "\\x1b" in text
    assert text.splitlines()[0].split() == list(ATHENA_COLUMNS)


def test_csv_headers_are_cloudtrail_names_and_times_are_the_shown_format(db) -> None:
    """The default CSV: CloudTrail's dotted names in the header, the one time format (UTC, with
    the year); JSON keeps the original text."""
    out = io.StringIO()
    write_events(query(db, "name:GetObject"), "csv", out)
    header, first = list(csv.reader(io.StringIO(out.getvalue())))[:2]
    assert header == [BY_NAME[name].title for name in OUTPUT_COLUMNS] and "userIdentity.arn" in header
    assert first[header.index("eventTime")] == "2026-03-14 10:29:00"
    original = io.StringIO()
    write_events(query(db, "name:GetObject"), "ndjson", original, limit=1)
    assert json.loads(original.getvalue())["eventTime"] == "2026-03-14T10:29:00Z"
    with pytest.raises(UnknownColumn):
        write_events(query(db), "csv", io.StringIO(), columns=["eventTime", "nosuchcolumn"])


def test_table_columns_fit_their_values_within_the_catalogue_widths(db) -> None:
    out = io.StringIO()
    write_events(query(db, "name:GetObject"), "table", out, columns=["eventTime", "awsRegion", "userAgent", "object"])
    header, first = out.getvalue().splitlines()[:2]
    assert header.split() == ["eventTime", "awsRegion", "userAgent", "object"]
    # eventTime as shown everywhere; awsRegion as wide as its title (values are shorter);
    # object as wide as its longest value.
    assert first.startswith("2026-03-14 10:29:00  us-east-1  ")
    assert header.index("userAgent") - header.index("awsRegion") == len("awsRegion") + 2
    assert first.rstrip().endswith("q1/payroll.csv")


def test_progress_is_reported_and_can_stop_the_writing(db, monkeypatch) -> None:
    monkeypatch.setattr(export, "PROGRESS_EVERY", 10)
    seen: list[int] = []
    write_events(query(db), "csv", io.StringIO(), progress=seen.append)
    assert seen == [10, 20, 30, 31]

    def stop(written: int) -> None:
        if written >= 20:
            raise ExportCancelled

    out = io.StringIO()
    with pytest.raises(ExportCancelled):
        write_events(query(db), "ndjson", out, progress=stop)
    assert len(out.getvalue().splitlines()) == 20


def test_export_to_file_is_whole_or_absent(db, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out" / "events.csv"
    target.parent.mkdir()
    assert export_to_file(query(db), "csv", target) == 31
    assert len(list(csv.reader(target.open()))) == 32
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert not partial_path(target).exists()

    monkeypatch.setattr(export, "PROGRESS_EVERY", 5)

    def cancel(written: int) -> None:
        if written >= 5:
            raise ExportCancelled

    second = tmp_path / "out" / "cancelled.json"
    with pytest.raises(ExportCancelled):
        export_to_file(query(db), "json", second, progress=cancel)
    assert not second.exists() and not partial_path(second).exists()
    with pytest.raises(ValueError):
        export_to_file(query(db), "table", tmp_path / "out" / "x.txt")


def test_default_export_path_names_the_utc_time() -> None:
    moment = datetime(2026, 3, 14, 10, 15, 0, tzinfo=timezone.utc)
    assert default_export_path("csv", moment) == Path("trailtui-export-20260314T101500Z.csv")
    assert default_export_path("ndjson", moment, "/tmp").name == "trailtui-export-20260314T101500Z.ndjson"


# --- the app's Ctrl+S dialog ---------------------------------------------------------------------


async def settle(pilot) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


async def open_export(app, pilot, target: Path):
    from textual.widgets import Input

    from trailtui.tui.export_screen import ExportScreen

    await pilot.press("ctrl+s")
    await pilot.pause(0.2)
    assert isinstance(app.screen, ExportScreen)
    path_input = app.screen.query_one("#export-path", Input)
    assert path_input.value.startswith("trailtui-export-") and path_input.value.endswith(".csv")
    path_input.value = str(target)
    return app.screen


async def test_ctrl_s_exports_the_filtered_events_to_csv(db, tmp_path: Path) -> None:
    from trailtui.tui.app import TrailApp
    from trailtui.tui.export_screen import ExportScreen

    target = tmp_path / "anon.csv"
    app = TrailApp(db_path=tmp_path / "index.sqlite", start_loader=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.set_filter("name:GetObject")
        await settle(pilot)
        screen = await open_export(app, pilot, target)
        assert "Export 30 events" in str(screen.query_one("#export-box").border_title)
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        rows = list(csv.reader(target.open()))
        assert len(rows) == 31 and rows[0][:2] == ["eventTime", "eventName"]
        assert any(f"Exported 30 events to {target}" in text for _, text in app.messages)


async def test_export_dialog_changes_format_and_extension(db, tmp_path: Path) -> None:
    from trailtui.tui.app import TrailApp

    target = tmp_path / "events.csv"
    app = TrailApp(db_path=tmp_path / "index.sqlite", start_loader=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await open_export(app, pilot, target)
        await pilot.press("down")
        assert screen.fmt == "json"
        assert screen.query_one("#export-path").value == str(tmp_path / "events.json")
        await pilot.press("down")
        assert screen.fmt == "ndjson"
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        lines = (tmp_path / "events.ndjson").read_text().splitlines()
        assert len(lines) == 31 and json.loads(lines[0])["eventID"] == "hostile"


async def test_existing_file_needs_a_second_enter_and_esc_closes(db, tmp_path: Path) -> None:
    from trailtui.tui.app import TrailApp
    from trailtui.tui.export_screen import ExportScreen

    target = tmp_path / "exists.csv"
    target.write_text("keep me")
    app = TrailApp(db_path=tmp_path / "index.sqlite", start_loader=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_export(app, pilot, target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen) and target.read_text() == "keep me"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)
        assert target.read_text() == "keep me"


async def test_esc_during_an_export_cancels_and_leaves_no_file(db, tmp_path: Path, monkeypatch) -> None:
    import threading

    from trailtui.tui.app import TrailApp
    from trailtui.tui.export_screen import ExportScreen

    started, release = threading.Event(), threading.Event()
    monkeypatch.setattr(export, "PROGRESS_EVERY", 1)
    original_iter_rows = EventQuery.iter_rows

    def slow_rows(self, columns, limit=None):
        for number, row in enumerate(original_iter_rows(self, columns, limit)):
            if number == 3:
                started.set()
                release.wait(5)  # hold the export until Esc was pressed
            yield row

    monkeypatch.setattr(EventQuery, "iter_rows", slow_rows)
    target = tmp_path / "cancelled.csv"
    app = TrailApp(db_path=tmp_path / "index.sqlite", start_loader=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await open_export(app, pilot, target)
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if started.is_set():
                break
        assert started.is_set() and screen.partial_file == partial_path(target)
        assert partial_path(target).exists()
        await pilot.press("escape")
        release.set()
        await settle(pilot)
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        assert not target.exists() and not partial_path(target).exists()
        assert any("Export cancelled" in text for _, text in app.messages)
