"""The Detections view on the demo incident, as a new user walks it: D lists the rules that hit,
highest level first; Enter on the top one shows its event with the rule's filter in the bar;
the list marks the event ▲ and the detail pane names the rule; from the hit, u goes up the
credential chain to the AssumeRole that issued the session's key and d comes back down to
everything that key signed; Esc goes back to the view."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sigma", reason="pySigma (a dependency) parses the rules")

from tests.test_snapshots import settle  # noqa: E402 - the timers and query workers a step started
from trailtui.core.demo import STORY, write_demo_logs  # noqa: E402
from trailtui.core.detect.rules import builtin_rules  # noqa: E402
from trailtui.core.detect.runner import run_rules  # noqa: E402
from trailtui.core.loader import index_paths  # noqa: E402
from trailtui.core.presets import get_preset  # noqa: E402
from trailtui.core.store.index import connect  # noqa: E402
from trailtui.tui.app import TrailApp  # noqa: E402
from trailtui.tui.detections import DetectionsScreen  # noqa: E402

SESSION_KEY = "ASIAQ3EGL7KD2VYB6WPE"  # the demo's stolen session key (README quick start)


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    write_demo_logs(tmp_path / "logs")
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [tmp_path / "logs" / "AWSLogs"], workers=0)
    run_rules(conn, list(builtin_rules()))
    conn.close()
    return tmp_path / "index.sqlite"


def list_line(app, y: int) -> str:
    """The text of the event list's screen line ``y`` (0 is the header), gutter first."""
    return "".join(segment.text for segment in app.event_list.render_line(y))


def detail_text(app) -> str:
    lines = []
    stack = [app.main_screen.detail.root]
    while stack:
        node = stack.pop()
        lines.append(node.label.plain)
        stack.extend(reversed(node.children))
    return "\n".join(lines)


async def test_from_the_highest_detection_to_the_session_behind_it(demo_db: Path) -> None:
    app = TrailApp(db_path=demo_db, start_loader=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, DetectionsScreen)
        levels = [found.level_rank for found in view.found]
        assert levels == sorted(levels, reverse=True) and view.found[0].level == "high"
        top = view.found[0]
        assert top.title == get_preset("logging-tampering").title
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.main_screen
        assert app.query_one("#filter-input").value == get_preset("logging-tampering").filter
        assert app.event_list.count == 1
        assert app.event_list.selected_row.get("eventName") == "StopLogging"
        # The list's gutter marks the hit; the detail pane names the rule and its level.
        row_line = list_line(app, 1)
        assert row_line[1] == "▲"
        assert f"detections: {top.title} (high)" in detail_text(app)
        # Up the credential chain: the AssumeRole that handed out the session's key, by ci-deploy.
        await pilot.press("u")
        await settle(pilot)
        assert app.query_one("#filter-input").value == f"issued:{SESSION_KEY}"
        issuing = app.event_list.selected_row
        assert issuing.get("eventName") == "AssumeRole" and issuing.get("sourceIPAddress") == STORY["attacker_ip"]
        # And down: everything that key signed, the hit among it.
        await pilot.press("d")
        await settle(pilot)
        assert app.query_one("#filter-input").value == f"akid:{SESSION_KEY}"
        names = {row[0] for row in app.event_list.event_query.iter_rows(["eventName"])}
        assert {"StopLogging", "CreateUser", "PutBucketPolicy", "GetObject"} <= names


async def test_esc_after_a_detection_goes_back_to_the_view_and_v_shows_the_rule(demo_db: Path) -> None:
    app = TrailApp(db_path=demo_db, start_loader=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("j", "enter")  # the second rule
        await settle(pilot)
        second = get_preset("root-activity")
        assert app.query_one("#filter-input").value == second.filter
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DetectionsScreen)
        await pilot.press("v")
        await pilot.pause()
        shown = str(app.screen.query_one("#viewer-text").render())
        assert "filter:" in shown and "attack.privilege-escalation" in shown


async def test_the_palette_opens_the_view_and_informational_rules_mark_no_event(demo_db: Path) -> None:
    app = TrailApp(db_path=demo_db, start_loader=False, initial_filter="is:anonymous")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        # Anonymous GetObjects: the S3 user guide's question (informational), not a detection.
        assert app.event_list.count > 0
        row_line = list_line(app, 1)
        assert row_line[1] == " "
        assert "detections:" not in detail_text(app)
        app.main_screen.action_show_detections()
        await settle(pilot)
        assert isinstance(app.screen, DetectionsScreen)
        titles = [found.title for found in app.screen.found]
        assert get_preset("s3-anonymous").title in titles  # listed (counted), last among the levels
        assert app.screen.found[-1].level == "informational"


async def test_the_loader_runs_the_rules_after_indexing_and_the_list_marks_the_hit(tmp_path: Path) -> None:
    """With a real loader process: rules given with --rules run beside the pack once the files
    are indexed, and the list, untouched by the user, shows the hit's marker when they end; a
    rule file that cannot be used is named in a message."""
    import asyncio

    from tests.conftest import make_event, write_records
    from tests.test_detect_rules import write_rule

    write_records(tmp_path / "logs" / "a.json", [
        make_event("stop", "StopLogging", eventSource="cloudtrail.amazonaws.com", eventTime="2026-03-14T10:00:00Z"),
        make_event("read", "GetObject", eventTime="2026-03-14T10:01:00Z"),
    ])
    write_rule(tmp_path / "rules", "mine.yml", title="My rule, object read", id="bbbbbbbb-0000-4000-8000-000000000001",
               level="low", detection="    sel:\n        eventName: GetObject\n    condition: sel")
    (tmp_path / "rules" / "broken.yml").write_text("title: [not closed\n")
    connect(tmp_path / "index.sqlite").close()  # as the command line does before the app starts
    app = TrailApp(db_path=tmp_path / "index.sqlite", paths=[str(tmp_path / "logs")],
                   rules=[str(tmp_path / "rules")])
    async with app.run_test(size=(160, 40)) as pilot:
        for _ in range(200):  # the loader process indexes, then runs 24 rules
            await asyncio.sleep(0.1)
            await pilot.pause()
            lines = [list_line(app, y) for y in (1, 2)]
            if app.event_list.count == 2 and all(line[1:2] in ("▲", "△") for line in lines):
                break
        await settle(pilot)
        # Newest first: the GetObject (my rule, low: △), then the StopLogging (the pack's, high: ▲).
        assert [line[1] for line in lines] == ["△", "▲"]
        # The rule file that is not YAML is named, the others ran.
        assert any("broken.yml" in text and "not a Sigma rule" in text for _, text in app.messages)
        await pilot.press("D")
        await settle(pilot)
        assert [found.title for found in app.screen.found] == [get_preset("logging-tampering").title,
                                                               "My rule, object read",
                                                               get_preset("s3-get-object").title]
