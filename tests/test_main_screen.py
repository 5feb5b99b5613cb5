"""The main screen, driven with Pilot as a responder drives it (issue #9): reading every column,
sorting, undoing pivots, finding the next error, marks and notes, stable selection, messages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from textual.app import App
from textual.widgets import Input

from tests.conftest import make_event, write_records
from trailtui.core.config import load_config
from trailtui.core.demo.records import anonymous_caller, assumed_role, iam_user
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.tui.actors import ActorsScreen
from trailtui.tui.app import TrailApp
from trailtui.tui.dialogs import PromptScreen
from trailtui.tui.marks_screen import MarksScreen
from trailtui.tui.message_bar import MessageBar
from trailtui.tui.value_viewer import ValueViewer

LONG_KEY = "exports/2026/" + "/".join(f"segment-{i:03d}" for i in range(16)) + "/payroll-final.csv"
ROLE = assumed_role("DataPipeline", "exfil", role_id="AROAEXAMPLEROLE", access_key_id="ASIAEXAMPLESESSION01",
                    session_created="2026-03-14T09:58:00Z")


def christophe(account: str) -> dict:
    return iam_user("christophe", principal_id=f"AIDA{account}", account_id=account,
                    access_key_id=f"AKIA{account}00")


def screen_events() -> list[dict]:
    """30 alice PutObjects (10:00..10:29, 198.51.100.7), 5 anonymous GetObjects (11:00..11:04,
    203.0.113.9), 8 DataPipeline GetObjects (12:00..12:07, 192.0.2.44; the first 3 AccessDenied),
    one GetObject of a 200+ character key (12:30) and christophe in two accounts (2025 and 2026)."""
    events = [make_event(f"alice-{i}", "PutObject", eventTime=f"2026-03-14T10:{i:02d}:00Z") for i in range(30)]
    events += [make_event(f"anon-{i}", "GetObject", userIdentity=anonymous_caller(), sourceIPAddress="203.0.113.9",
                          eventTime=f"2026-03-14T11:{i:02d}:00Z") for i in range(5)]
    events += [make_event(f"role-{i}", "GetObject", userIdentity=ROLE, sourceIPAddress="192.0.2.44",
                          eventTime=f"2026-03-14T12:{i:02d}:00Z", errorCode="AccessDenied" if i < 3 else None)
               for i in range(8)]
    events.append(make_event("long-key", "GetObject", eventTime="2026-03-14T12:30:00Z",
                             requestParameters={"bucketName": "finance-reports", "key": LONG_KEY}))
    events.append(make_event("chris-a", "ListBuckets", userIdentity=christophe("111111111111"),
                             eventTime="2025-08-01T15:26:56Z", sourceIPAddress="198.51.100.201"))
    events.append(make_event("chris-b", "ListBuckets", userIdentity=christophe("222222222222"),
                             eventTime="2025-08-01T15:27:56Z", sourceIPAddress="198.51.100.202"))
    return events


@pytest.fixture
def setup(tmp_path: Path):
    """(db_path, logs, config_path): the index of :func:`screen_events` and a private config file."""
    logs = tmp_path / "logs"
    write_records(logs / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/a.json.gz", screen_events(), gz=True)
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [logs])
    return db_path, logs, tmp_path / "config.toml"


def app_for(setup, **kwargs) -> TrailApp:
    db_path, _logs, config = setup
    return TrailApp(db_path=db_path, start_loader=False, config_path=config, **kwargs)


async def settle(pilot) -> None:
    """Let debounce timers fire and query workers finish."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def deliver_later(pilot, setup, count: int):
    """As if the loader indexed a later delivery while the app runs: ``count`` DeleteObject
    events at 13:00, 13:01, ... (newer than every event of the setup); returns the screen,
    refreshed as during indexing."""
    db_path, logs, _config = setup
    later = [make_event(f"late-{i}", "DeleteObject", eventTime=f"2026-03-14T13:{i:02d}:00Z") for i in range(count)]
    write_records(logs / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/b.json.gz", later, gz=True)
    index_paths(connect(db_path), [logs])
    screen = pilot.app.main_screen
    screen.indexing = True
    screen._refresh_while_loading()
    await settle(pilot)
    return screen


def filter_text(app: TrailApp) -> str:
    return app.query_one("#filter-input", Input).value


def selected(app: TrailApp):
    return app.event_list.selected_row


# ---------------------------------------------------------------------------------- the filter


async def test_slash_selects_the_filter_so_typing_replaces_it_and_end_extends_it(setup) -> None:
    app = app_for(setup, initial_filter="name:GetObject")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"is:anonymous", "enter")
        await settle(pilot)
        assert filter_text(app) == "is:anonymous" and app.event_list.count == 5
        await pilot.press("slash", "end", *" name:GetObject", "enter")
        await settle(pilot)
        assert filter_text(app) == "is:anonymous name:GetObject" and app.event_list.count == 5
        assert app.focused is app.event_list


async def test_esc_undoes_pivots_one_by_one_whatever_made_them(setup) -> None:
    app = app_for(setup, initial_filter="name:GetObject")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        # The first row is the long-key GetObject by alice; go to a DataPipeline one (12:07).
        await pilot.press("j")
        await settle(pilot)
        first_selected = selected(app).id
        assert selected(app).actor == "DataPipeline/exfil"
        await pilot.press("a")  # principal: the role
        await settle(pilot)
        assert filter_text(app).startswith("principal:") and app.event_list.count == 8
        await pilot.press("K")  # its access key
        await settle(pilot)
        assert filter_text(app) == "akid:ASIAEXAMPLESESSION01"
        await pilot.press("i")  # its IP
        await settle(pilot)
        assert filter_text(app) == "ip:192.0.2.44"
        crumbs = app.main_screen.history.labels(filter_text(app))
        assert crumbs[0] == "name:GetObject" and len(crumbs) == 4
        for expected in ("akid:ASIAEXAMPLESESSION01", "principal:", "name:GetObject"):
            await pilot.press("escape")
            await settle(pilot)
            assert filter_text(app).startswith(expected)
        assert selected(app).id == first_selected  # the event selected before the first pivot
        await pilot.press("escape")  # nothing left to undo: the filter stays, a message says so
        await settle(pilot)
        assert filter_text(app) == "name:GetObject"
        assert app.messages[-1][1].startswith("This is the first filter")


async def test_up_in_the_filter_bar_walks_the_history_kept_per_index(setup) -> None:
    async with app_for(setup).run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"name:PutObject", "enter")
        await settle(pilot)
        await pilot.press("slash", *"is:error", "enter")
        await settle(pilot)
    app = app_for(setup)  # a new run on the same index
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "up")
        await settle(pilot)
        assert filter_text(app) == "is:error" and app.event_list.count == 3
        await pilot.press("up")
        await settle(pilot)
        assert filter_text(app) == "name:PutObject" and app.event_list.count == 30
        await pilot.press("down", "down")
        await settle(pilot)
        assert filter_text(app) == ""  # back to what was being typed


async def test_or_filters_as_typed_and_free_text_says_whole_words(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        counts = []
        for text in ("name:GetObject", "name:PutObject", "name:GetObject OR name:PutObject"):
            await pilot.press("slash", "ctrl+u", *text)
            await settle(pilot)
            counts.append(app.event_list.count)
        assert counts[0] and counts[1] and counts[2] == counts[0] + counts[1]
        await pilot.press("ctrl+u", *"name:GetObject OR")
        await settle(pilot)
        message = app.query_one("#filter-message")
        assert message.has_class("-error") and "a term after OR" in str(message.render())
        await pilot.press("ctrl+u", *"chris")
        await settle(pilot)
        assert app.event_list.count == 0
        hint = str(app.query_one("#filter-message").render())
        assert "whole words" in hint and "chris*" in hint
        await pilot.press("ctrl+u", *"chris*")
        await settle(pilot)
        assert app.event_list.count == 2


# ---------------------------------------------------------------------------------- reading


async def test_l_walks_past_the_last_visible_column_and_the_view_follows(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listed = app.event_list
        assert "userAgent" not in listed.visible_header()
        while listed.current != "userAgent":
            await pilot.press("l")
        assert "userAgent" in listed.visible_header() and listed.scroll_offset.x > 0
        await pilot.press("l")
        assert listed.current == "recipientAccountId" and "recipientAccountId" in listed.visible_header()
        await pilot.press(*"h" * 12)
        assert listed.current == "eventTime" and listed.scroll_offset.x == 0


async def test_a_200_character_key_is_read_whole_in_the_viewer_and_by_widening(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("plus")
        await pilot.pause()
        picker = app.screen.query_one("#columns-list")
        picker.select("requestParameters_key")
        await pilot.press("escape")
        await settle(pilot)
        listed = app.event_list
        assert "requestParameters_key" in listed.columns and listed.current != "requestParameters_key"
        while listed.current != "requestParameters_key":
            await pilot.press("l")
        assert len(LONG_KEY) > 200
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ValueViewer) and app.screen.value == LONG_KEY
        shown = str(app.screen.query_one("#viewer-text").render())
        assert "".join(shown.split()) == LONG_KEY  # wrapped over lines, every character there
        await pilot.press("escape")
        await pilot.press("underscore")  # VisiData's _: as wide as the longest value on screen
        await pilot.pause()
        assert listed.column_width("requestParameters_key") >= len(LONG_KEY)


async def test_columns_hidden_resized_and_kept_in_the_config_file(setup) -> None:
    db_path, _logs, config = setup
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        listed = app.event_list
        await pilot.press("l")  # errorCode
        assert listed.current == "errorCode"
        await pilot.press("minus")
        await settle(pilot)
        assert "errorCode" not in listed.columns and listed.current == "actor"
        await pilot.press("greater_than_sign", "greater_than_sign")
        await settle(pilot)
        width = listed.column_width("actor")
    saved, problems = load_config(config)
    assert not problems and "errorCode" in saved.hidden and saved.widths["actor"] == width
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "errorCode" not in app.event_list.columns and app.event_list.column_width("actor") == width
        await pilot.press("plus")
        await pilot.pause()
        app.screen.query_one("#columns-list").select("errorCode")
        await pilot.press("escape")
        await settle(pilot)
        assert "errorCode" in app.event_list.columns
    assert "errorCode" not in load_config(config)[0].hidden


async def test_sort_by_any_column_with_brackets_and_s_reverses(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        listed = app.event_list
        while listed.current != "sourceIPAddress":
            await pilot.press("l")
        await pilot.press("left_square_bracket")
        await settle(pilot)
        ips = [listed.row_at(i).sourceIPAddress for i in range(listed.count)]
        assert ips == sorted(ips, key=str.lower)  # as text, case-insensitively (the index's order)
        assert ips[0] == "192.0.2.44"
        assert "sourceIPAddress ▲" in listed.header_text().plain
        await pilot.press("s")
        await settle(pilot)
        assert [listed.row_at(i).sourceIPAddress for i in range(listed.count)][0] == max(ips, key=str.lower)
        assert "sourceIPAddress ▼" in listed.header_text().plain


async def test_times_show_the_year_everywhere(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        line = "".join(segment.text for segment in app.event_list.render_line(1))
        assert "2026-03-14 12:30:00" in line
        await pilot.press("G")
        await settle(pilot)
        assert app.event_list.selected_row.eventTime.startswith("2025-08-01")
        assert "2025-08-01 15:26:56" in str(app.detail.root.label)


# ---------------------------------------------------------------------------------- moving


async def test_e_goes_to_the_next_error_and_f_finds_a_term_without_changing_the_filter(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert selected(app).errorCode == "AccessDenied" and selected(app).eventTime == "2026-03-14T12:02:00Z"
        await pilot.press("e", "e")
        await settle(pilot)
        assert selected(app).eventTime == "2026-03-14T12:00:00Z"
        await pilot.press("e")
        await settle(pilot)
        assert app.messages[-1][1] == "No event with an error below this one."
        await pilot.press("E")
        await settle(pilot)
        assert selected(app).eventTime == "2026-03-14T12:01:00Z"
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"is:anonymous", "enter")
        await settle(pilot)
        assert selected(app).actor == "anonymous" and selected(app).eventTime == "2026-03-14T11:04:00Z"
        await pilot.press("n")
        await settle(pilot)
        assert selected(app).eventTime == "2026-03-14T11:03:00Z"
        await pilot.press("N", "N")
        await settle(pilot)
        assert selected(app).eventTime == "2026-03-14T11:04:00Z"  # no earlier match above: it stays
        assert filter_text(app) == "" and app.event_list.count == 46


async def test_colon_goes_to_the_first_event_at_or_after_a_time(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"2026-03-14T10:15", "enter")
        await settle(pilot)
        assert selected(app).eventTime == "2026-03-14T10:15:00Z"
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"2026-03-14T10:15:30", "enter")
        await settle(pilot)
        assert selected(app).eventTime == "2026-03-14T10:16:00Z"


async def test_the_selection_holds_while_events_arrive_above_it(setup, tmp_path: Path) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        before = selected(app).id
        row_on_screen = app.event_list.cursor - app.event_list.scroll_offset.y
        # The loader indexes a later delivery: 25 newer events land above the selection.
        screen = await deliver_later(pilot, setup, 25)
        assert app.event_list.count == 71
        assert selected(app).id == before
        assert app.event_list.cursor - app.event_list.scroll_offset.y == row_on_screen  # the view did not jump
        assert screen.status.new_above == 25
        assert "+25 new above" in str(screen.status.render())
        await pilot.press("g")
        await settle(pilot)
        assert screen.status.new_above == 0 and selected(app).eventName == "DeleteObject"


# ---------------------------------------------------------------------------------- marks


async def test_marks_and_notes_make_an_incident_timeline(setup, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = app_for(setup, initial_filter="is:error")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m", "j", "M")
        await pilot.pause()
        await pilot.press(*"second denied read", "enter")
        await settle(pilot)
        await pilot.press("j", "M")
        await pilot.pause()
        await pilot.press(*"first try", "enter")
        await settle(pilot)
        await pilot.press("slash", "ctrl+u", *"is:anonymous", "enter")
        await settle(pilot)
        await pilot.press("M")
        await pilot.pause()
        await pilot.press(*"=HYPERLINK(1) | unsigned |", "enter")
        await settle(pilot)
        await pilot.press("apostrophe")
        await settle(pilot)
        assert isinstance(app.screen, MarksScreen)
        entries = app.screen.entries
        assert [entry.eventTime for entry in entries] == [
            "2026-03-14T11:04:00Z", "2026-03-14T12:00:00Z", "2026-03-14T12:01:00Z", "2026-03-14T12:02:00Z"]
        assert [entry.note for entry in entries] == ["=HYPERLINK(1) | unsigned |", "first try", "second denied read", ""]
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#prompt-input", Input).value = str(tmp_path / "incident")
        await pilot.press("enter")
        await settle(pilot)
        markdown = (tmp_path / "incident.md").read_text()
        assert "first try" in markdown and "\\| unsigned \\|" in markdown  # a pipe cannot split the table
        assert "'=HYPERLINK(1)" in (tmp_path / "incident.csv").read_text()  # no formula in a spreadsheet
        originals = (tmp_path / "incident.ndjson").read_bytes().splitlines()
        assert [orjson.loads(line)["eventID"] for line in originals] == ["anon-4", "role-0", "role-1", "role-2"]
        await pilot.press("enter")  # the first mark, shown in the list of marked events
        await settle(pilot)
        assert filter_text(app) == "is:marked" and app.event_list.count == 4
        assert selected(app).eventTime == "2026-03-14T11:04:00Z"


# ---------------------------------------------------------------------------------- copy, zoom


async def test_c_copies_the_cell_and_y_the_event_from_the_list(setup, monkeypatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("STY", raising=False)
    copied: list[str] = []
    monkeypatch.setattr(App, "copy_to_clipboard", lambda self, text: copied.append(text))
    app = app_for(setup, initial_filter="is:anonymous")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        while app.event_list.current != "sourceIPAddress":
            await pilot.press("l")
        await pilot.press("c")
        await pilot.pause()
        assert copied == ["203.0.113.9"]
        await pilot.press("y")
        await pilot.pause()
        assert orjson.loads(copied[-1])["eventID"] == "anon-4"
        assert app.messages[-1][1].startswith("Copied the whole event")


async def test_z_zooms_the_focused_pane_with_its_header(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows_before = app.event_list.visible_rows
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is not None
        assert app.event_list.visible_rows > rows_before
        assert "eventTime" in app.event_list.visible_header()
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None


# ---------------------------------------------------------------------------------- layout


async def test_at_80x24_the_list_gets_most_of_the_screen(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.event_list.visible_rows >= 10
        assert app.query_one("#list-pane").region.height > app.query_one("#side").region.height


async def test_resizing_while_a_view_is_open_gives_the_right_layout_back(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert app.main_screen.has_class("-wide")
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, ActorsScreen)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.main_screen.has_class("-narrow") and not app.main_screen.has_class("-wide")
        assert app.query_one("#side").region.y > app.query_one("#list-pane").region.y  # stacked


async def test_the_actors_view_tells_same_names_apart(setup) -> None:
    app = app_for(setup, initial_filter="name:ListBuckets")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        table = app.screen.table
        rows = [[cell.plain.strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[0] for row in rows] == ["christophe", "christophe"]
        assert {row[1] for row in rows} == {"111111111111", "222222222222"}  # the account tells them apart
        assert rows[0][-1].startswith("2025-08-01")  # times with their year


# ---------------------------------------------------------------------------------- feedback


async def test_messages_show_on_a_line_of_their_own_never_over_a_dialog(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        dialog = app.screen
        app.notify("3 load problems: ! lists them.", severity="warning")
        await pilot.pause()
        bar = dialog.query_one(MessageBar)
        assert bar.display and "3 load problems" in bar.message
        box = dialog.query_one(".dialog").region
        assert box.contains_region(bar.region)  # the dialog's own last line
        assert not app.screen.query("Toast")
        await pilot.press("escape")
        await pilot.pause()
        app.notify("Copied the whole event (20 bytes)")
        await pilot.pause()
        main_bar = app.main_screen.query_one(MessageBar)
        status = app.main_screen.status.region
        assert main_bar.display and not main_bar.region.overlaps(status)


async def test_an_empty_folder_says_what_was_looked_for_and_suggests_the_demo(tmp_path: Path) -> None:
    logs = tmp_path / "notes"
    logs.mkdir()
    (logs / "README.md").write_text("# not CloudTrail\n")
    (logs / "data.csv").write_text("a,b\n1,2\n")
    db_path = tmp_path / "index.sqlite"
    connect(db_path).close()  # as `trailtui DIR` does before the app starts
    app = TrailApp(db_path=db_path, paths=[str(logs)], config_path=tmp_path / "config.toml")
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.1)
            if not app.main_screen.indexing:
                break
        await settle(pilot)
        text = app.event_list.empty_text.plain
        assert "--demo" in text and str(logs.name) in text
        assert "0 events" in str(app.main_screen.status.render())


async def test_counts_use_plural_forms(setup) -> None:
    app = app_for(setup, initial_filter="name:ListBuckets")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        info = str(app.screen.query_one("#sheet-info").render())
        assert "2 principals · 2 events" in info
        await pilot.press("escape")
        app.set_filter("is:anonymous")
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert "1 principal · 5 events" in str(app.screen.query_one("#sheet-info").render())


async def test_the_selection_holds_when_one_event_becomes_thousands(tmp_path: Path) -> None:
    """The first refresh while indexing: the list had one event (no scrollbar yet) and now has
    thousands, most of them above the selected one. An untouched list follows its top instead."""
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("first", "ListFunctions", eventTime="2021-07-29T23:53:26Z")])
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [logs])
    app = TrailApp(db_path=db_path, start_loader=False, config_path=tmp_path / "config.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert selected(app).eventName == "ListFunctions"
        await pilot.press("g")  # the user has looked at it: from now on it holds
        later = [make_event(f"later-{i}", "GetObject", eventTime=f"2021-08-0{1 + i // 1000}T00:{(i // 60) % 60:02d}:{i % 60:02d}Z")
                 for i in range(3000)]
        write_records(logs / "b.json", later)
        index_paths(connect(db_path), [logs])
        screen = app.main_screen
        screen.indexing = True
        screen._refresh_while_loading()
        await settle(pilot)
        listed = app.event_list
        assert listed.count == 3001 and selected(app).eventName == "ListFunctions"
        # On screen (the last row can only sit at the bottom: the view stops at the end).
        assert listed.cursor == 3000
        assert listed.scroll_offset.y <= listed.cursor < listed.scroll_offset.y + listed.visible_rows
        assert screen.status.new_above == 3000


async def test_an_untouched_list_follows_the_newest_events_while_indexing(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = await deliver_later(pilot, setup, 5)
        assert app.event_list.cursor == 0 and selected(app).eventID == "late-4"  # the newest, at the top
        assert screen.status.new_above == 0


async def test_keys_pressed_while_a_recount_runs_are_not_undone(setup, monkeypatch) -> None:
    from trailtui.core import query as query_module

    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        slow_count = query_module.EventQuery.count

        def count(self):  # a recount of a big index, while the user goes on pressing j
            import time

            time.sleep(0.4)
            return slow_count(self)

        monkeypatch.setattr(query_module.EventQuery, "count", count)
        screen = app.main_screen
        screen.indexing = True
        screen._refresh_while_loading()
        await pilot.press("j", "j")
        await pilot.pause(0.1)
        moved_to = selected(app).id
        monkeypatch.setattr(query_module.EventQuery, "count", slow_count)
        await pilot.pause(0.6)
        await settle(pilot)
        assert app.event_list.cursor == 3 and selected(app).id == moved_to


async def test_esc_after_typing_restores_the_event_selected_before_typing(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*"jjjjj")
        await settle(pilot)
        before = selected(app).id
        await pilot.press("slash", *"name:GetObject")
        await pilot.pause(0.5)  # the debounce applies it while typing: the list's first row is selected
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert filter_text(app) == "" and selected(app).id == before


async def test_up_starts_from_the_newest_filter_each_visit_and_skips_the_current_one(setup) -> None:
    app = app_for(setup)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        for text in ("name:PutObject", "is:error", "is:anonymous"):
            await pilot.press("slash", *text, "enter")
            await settle(pilot)
        await pilot.press("slash", "up")  # is:anonymous is what the bar holds: Up goes past it
        await settle(pilot)
        assert filter_text(app) == "is:error"
        await pilot.press("up", "enter")
        await settle(pilot)
        assert filter_text(app) == "name:PutObject"
        await pilot.press("slash", "up")  # a new visit starts from the newest again
        await settle(pilot)
        assert filter_text(app) == "is:anonymous"


async def test_free_text_says_it_searches_part_of_the_events_until_the_loader_has_filled_it(tmp_path: Path,
                                                                                            monkeypatch) -> None:
    """A bulk load fills the full-text index last: until then a bare word says so, field filters
    see every event, and the status line counts the filling up."""
    from trailtui.core.loader import LoadProgress
    from trailtui.core import loader
    from trailtui.core.store.free_text import fill_free_text
    from trailtui.tui.loader_link import LoaderLink

    logs = tmp_path / "logs"
    for number in range(20):  # a bulk load: enough files into an empty index
        write_records(logs / f"{number:02d}.json", [make_event(f"f{number}", "GetObject", userAgent="kraken/1.0")])
    db_path = tmp_path / "index.sqlite"
    # The load is killed before its free text is in.
    monkeypatch.setattr(loader.FreeTextBuild, "start_for", classmethod(lambda cls, conn, scratch, gone=None: None))
    monkeypatch.setattr(loader, "fill_free_text", lambda conn, on_step=None, gone=None: 0)
    index_paths(connect(db_path), [logs])
    monkeypatch.undo()
    app = TrailApp(db_path=db_path, start_loader=False, config_path=tmp_path / "config.toml")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.indexing = screen.status.indexing = True
        progress = LoadProgress(files_total=20, files_done=20, events_added=20, phase="indexing free text",
                                fts_done=5, fts_total=20, fts_waiting=15)
        screen.post_message(LoaderLink.Progress(progress))
        await pilot.press("slash", *"kraken")
        await settle(pilot)
        assert "free text: 25%" in str(screen.status.render())
        hint = str(app.query_one("#filter-message").render())
        assert "free text searches the 25% of events indexed so far" in hint
        assert app.event_list.count == 0  # nothing filled yet: the hint is why
        await pilot.press("ctrl+u", *"userAgent:kraken/1.0")
        await settle(pilot)
        assert app.event_list.count == 20  # field filters are complete
        fill_free_text(connect(db_path))
        screen.post_message(LoaderLink.Finished(replace(progress, phase="done", fts_done=20, fts_waiting=0), [], [], []))
        await pilot.press("ctrl+u", *"kraken")
        await settle(pilot)
        assert app.event_list.count == 20
        assert "indexed so far" not in str(app.query_one("#filter-message").render())
        assert "free text" not in str(screen.status.render())
