"""The app, driven in-process with Pilot as a user would drive it."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailtui.core.demo.records import anonymous_caller, assumed_role
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.facets import term as filter_term
from trailtui.tui.app import TrailApp
from trailtui.tui.detail import EventDetail
from trailtui.tui.help_screen import HelpScreen
from trailtui.tui.load_errors_screen import LoadErrorsScreen
from tests.conftest import make_event, write_records

ROLE_SESSION = assumed_role("DataPipeline", "exfil", role_id="AROAEXAMPLEROLE", access_key_id="ASIAEXAMPLESESSION01",
                            session_created="2026-03-14T09:58:00Z")
ANONYMOUS = anonymous_caller()


def incident_events() -> list[dict]:
    events = [make_event(f"alice-{i}", "PutObject", eventTime=f"2026-03-14T10:{i:02d}:00Z") for i in range(30)]
    events += [
        make_event(f"anon-{i}", "GetObject", userIdentity=ANONYMOUS, sourceIPAddress="203.0.113.9",
                   eventTime=f"2026-03-14T11:{i:02d}:00Z")
        for i in range(5)
    ]
    events += [
        make_event(f"role-{i}", "GetObject", userIdentity=ROLE_SESSION, sourceIPAddress="192.0.2.44",
                   eventTime=f"2026-03-14T12:{i:02d}:00Z", errorCode="AccessDenied" if i < 3 else None)
        for i in range(8)
    ]
    return events


@pytest.fixture
def indexed(tmp_path: Path):
    logs = tmp_path / "logs"
    write_records(logs / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/a.json.gz", incident_events(), gz=True)
    (logs / "broken.json").write_text('{"Records": [')
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [logs])
    return db_path, logs


async def settle(pilot) -> None:
    """Let debounce timers fire and query workers finish."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_list_shows_every_event_newest_first(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert app.event_list.count == 43
        assert app.event_list.row_at(0).eventTime == "2026-03-14T12:07:00Z"
        assert "43 / 43" in str(app.query_one("#list-pane").border_title)
        await pilot.press("s")
        await settle(pilot)
        assert app.event_list.row_at(0).eventTime == "2026-03-14T10:00:00Z"


async def test_typing_a_filter_narrows_the_list(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"name:GetObject is:anonymous")
        await settle(pilot)
        assert app.event_list.count == 5
        assert "5 / 43" in str(app.query_one("#list-pane").border_title)
        assert {app.event_list.row_at(i).actor for i in range(5)} == {"anonymous"}
        await pilot.press("escape")
        assert app.focused is app.event_list


async def test_keys_typed_right_after_slash_reach_the_filter_and_refine_it(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        # No pause after /: "a" must not trigger the list's filter-to-actor key.
        await pilot.press("slash", *"name:GetObject", "enter", "slash", "end", *" is:anonymous")
        await settle(pilot)
        assert app.query_one("#filter-input").value == "name:GetObject is:anonymous"
        assert app.event_list.count == 5


async def test_invalid_filter_shows_why_and_keeps_the_last_result(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"is:error")
        await settle(pilot)
        assert app.event_list.count == 3
        await pilot.press(*" nmae:x")
        await settle(pilot)
        error_bar = app.query_one("#filter-message")
        assert error_bar.has_class("-visible")
        assert "unknown field" in _plain(error_bar.content)
        assert app.event_list.count == 3


async def test_selecting_an_event_fills_detail_and_identity(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        # Newest first: the role session's events are on top.
        await pilot.press("j")
        await settle(pilot)
        detail = app.query_one(EventDetail)
        labels = [node.label.plain for node in _walk(detail.root)]
        assert any(label.startswith('eventName: "GetObject"') for label in labels)
        identity_text = _plain(app.query_one("#identity-body").content)
        assert "arn:aws:sts::111122223333:assumed-role/DataPipeline/exfil" in identity_text
        assert "ASIA: temporary credentials" in identity_text
        assert "Yes: a session of role arn:aws:iam::111122223333:role/DataPipeline" in identity_text
        assert "8 events" in identity_text and "3 errors" in identity_text
        await pilot.press("enter")
        assert app.focused is detail


async def test_identity_keys_filter_to_principal_session_key_and_ip(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        # The principal behind an assumed-role session is its role.
        assert app.query_one("#filter-input").value == "principal:arn:aws:iam::111122223333:role/DataPipeline"
        assert app.event_list.count == 8
        await pilot.press("S")
        await settle(pilot)
        assert app.query_one("#filter-input").value == (
            'session:"arn:aws:sts::111122223333:assumed-role/DataPipeline/exfil @ 2026-03-14T09:58:00Z"'
        )
        assert app.event_list.count == 8
        await pilot.press("K")
        await settle(pilot)
        assert app.query_one("#filter-input").value == "akid:ASIAEXAMPLESESSION01"
        assert app.event_list.count == 8
        await pilot.press("i")
        await settle(pilot)
        assert app.event_list.count == 8


async def test_help_screen_lists_keys_and_filter_fields(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = _plain(app.screen.query_one("#help-body Static").content)
        for expected in ("j / k", "g / G", "Esc", "is:anonymous", "sourceIPAddress", "requestParameters.bucketName"):
            assert expected in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_load_errors_view_names_the_broken_file(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "1 load error " in _plain(app.main_screen.status.render())
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, LoadErrorsScreen)
        assert [Path(p.path).name for p in app.screen.problems] == ["broken.json"]


async def test_load_errors_view_names_every_skipped_file_after_the_errors(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", incident_events()[:3])
    (logs / "README.md").write_text("# how these logs were collected\n")
    (logs / "broken.json").write_text('{"Records": [')
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [logs])
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, LoadErrorsScreen)
        rows = [(Path(p.path).name, p.position, p.message) for p in app.screen.problems]
        assert rows[0][0] == "broken.json"
        assert rows[1:] == [("README.md", "skipped", "not CloudTrail: not JSON")]
        assert "1 problem · 1 file skipped" in str(app.screen.query_one("#errors-box").border_title)


async def test_load_errors_view_shows_the_whole_path_and_reason_in_80_columns(indexed) -> None:
    db_path, logs = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        shown = _plain(app.screen.query_one("#errors-selected").content)
        problem = app.screen.problems[0]
        assert str(logs / "broken.json") in shown.replace("\n", "")
        assert problem.message in shown


async def test_background_loader_fills_the_list_while_the_app_runs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    for part in range(4):
        write_records(logs / f"part{part}.json", [make_event(f"p{part}-{i}") for i in range(50)])
    db_path = tmp_path / "index.sqlite"
    connect(db_path).close()
    app = TrailApp(db_path=db_path, paths=[str(logs)])
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.1)
            if not app.main_screen.indexing and app.event_list.count == 200:
                break
        await settle(pilot)
        assert app.event_list.count == 200
        assert "200 events" in _plain(app.main_screen.status.render())


async def test_the_total_is_counted_again_when_a_load_with_a_filter_ends(tmp_path: Path) -> None:
    # With a filter in the bar (an S3 window starts with since:), the total is counted apart
    # from the matches; one counted while loading must not stay once the load is done.
    logs = tmp_path / "logs"
    write_records(logs / "first.json", [make_event(f"a-{i}") for i in range(10)])
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [logs])
    for part in range(4):
        write_records(logs / f"part{part}.json", [make_event(f"p{part}-{i}", "PutObject") for i in range(50)])
    app = TrailApp(db_path=db_path, paths=[str(logs)], initial_filter="name:GetObject")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for _ in range(100):
            await pilot.pause(0.1)
            if not app.main_screen.indexing:
                break
        await settle(pilot)
        assert "Events 10 / 210" in str(app.query_one("#list-pane").border_title)


async def test_small_terminal_stacks_panes(indexed) -> None:
    db_path, _ = indexed
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-narrow")
        list_region = app.query_one("#list-pane").region
        detail_region = app.query_one("#detail").region
        assert detail_region.y >= list_region.bottom  # stacked, not side by side
        assert app.event_list.scrollable_content_region.height >= 5
        await pilot.press("tab", "tab")
        await pilot.pause()
        assert app.focused is app.identity
        assert app.query_one("#identity").region.height > 0
        assert app.query_one("#detail").region.height == 0  # one side pane at a time
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is app.event_list


async def test_deep_scrolling_in_a_large_filter_uses_the_listed_ids(indexed, monkeypatch) -> None:
    db_path, _ = indexed
    monkeypatch.setattr("trailtui.tui.main_screen.LISTING_THRESHOLD", 10)
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("slash", *"-is:anonymous", "enter")
        await settle(pilot)
        await settle(pilot)
        listed = app.event_list
        assert listed.count == 38 and listed.ids is not None and len(listed.ids) == 38
        by_offset = [row.id for row in listed.event_query.page(0, 38)]
        assert [listed.row_at(i).id for i in range(38)] == by_offset
        await pilot.press("G")
        assert listed.cursor == 37 and listed.row_at(37).eventTime == "2026-03-14T10:00:00Z"


async def test_an_event_whose_file_changed_is_reported_not_shown(indexed) -> None:
    db_path, logs = indexed
    for path in logs.rglob("*.json.gz"):
        path.write_bytes(b"rewritten since indexing")
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert app.is_running
        assert app.query_one(EventDetail).root.label.plain.startswith("select an event")
        assert any("changed since it was indexed" in text for _, text in app.messages)


def test_filter_term_quotes_what_needs_it() -> None:
    assert filter_term("ip", "198.51.100.7") == "ip:198.51.100.7"
    assert filter_term("actor", 'a b,"c') == 'actor:"a b,\\"c"'


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _plain(renderable) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


async def test_a_crash_report_shows_no_local_variables(indexed, capfd) -> None:
    """Textual shows locals in crash tracebacks by default; they would carry event values.
    TrailApp overrides Textual's private App._fatal_error (no public switch exists): this test
    crashes the app for real and fails loudly if a Textual upgrade stops calling that method."""
    from textual.app import App

    assert "_fatal_error" in vars(App), (
        "Textual no longer has App._fatal_error: TrailApp's crash report (tui/app.py) would show "
        "local variables again; find Textual's new hook and move the override there"
    )
    db_path, _ = indexed
    called = []

    class CrashingApp(TrailApp):
        BINDINGS = [*TrailApp.BINDINGS, ("ctrl+y", "crash", "crash")]

        def _fatal_error(self) -> None:
            called.append(True)
            super()._fatal_error()

        def action_crash(self) -> None:
            secret_user_agent = "-".join(("aws-cli/SECRET", "FROM", "THE", "LOGS"))  # not in the source
            raise RuntimeError(f"boom {len(secret_user_agent)}")

    app = CrashingApp(db_path=db_path, start_loader=False)
    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+y")  # through the message loop, as a real crash would go
            await pilot.pause()
    assert called, "Textual did not call App._fatal_error on a crash: the no-locals override is dead"
    printed = capfd.readouterr().err  # what the user sees after the crash
    assert "RuntimeError" in printed and "boom 28" in printed
    assert "SECRET-FROM-THE-LOGS" not in printed and "locals" not in printed
