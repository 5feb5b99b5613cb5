"""The views over the whole filter: frequency table, actors view, timeline (issue #4).

Core tests check :mod:`trailtui.core.facets` against counts worked out by hand from the fixture
below; app tests drive the real app with Pilot as a user would.
"""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest

from tests.conftest import make_event, write_records
from trailtui.core import facets
from trailtui.core.demo.records import anonymous_caller, assumed_role
from trailtui.core.facets import (
    ACTOR_GROUPINGS,
    actor_ranking,
    actor_term,
    choose_buckets,
    facet_field,
    quote_value,
    split_terms,
    time_histogram,
    value_counts,
    value_term,
    with_time_range,
)
from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery
from trailtui.tui.actors import ActorsScreen
from trailtui.tui.app import TrailApp
from trailtui.tui.frequency import FieldPicker, FrequencyScreen
from trailtui.tui.timeline import bucket_label, size_label

ALICE = "arn:aws:iam::111122223333:user/alice"
ROLE = "arn:aws:iam::111122223333:role/DataPipeline"
ROLE_SESSION = assumed_role("DataPipeline", "exfil", role_id="AROAEXAMPLEROLE", access_key_id="ASIAEXAMPLESESSION01",
                            session_created="2026-03-14T09:58:00Z")
ANONYMOUS = anonymous_caller()


def view_events() -> list[dict]:
    """14 events; the counts the tests expect are worked out from this list by hand.

    alice (IAM user, key AKIAEXAMPLEALICE0001): 10:00..10:05, PutObject x4 then GetObject x2 (both
    AccessDenied); IPs 198.51.100.7 x4, 198.51.100.8 x2; one user agent.
    anonymous: 11:00..11:02, GetObject x3 from 203.0.113.9, no user agent, no error.
    role session DataPipeline/exfil (key ASIAEXAMPLESESSION01): 12:00..12:04, GetObject x5; IPs
    192.0.2.44 x3 then 203.0.113.5 x2; agents Boto3 x3, aws-cli x2; the first 4 AccessDenied.
    """
    events = [
        make_event(f"alice-{i}", "PutObject" if i < 4 else "GetObject", eventTime=f"2026-03-14T10:0{i}:00Z",
                   sourceIPAddress="198.51.100.7" if i < 4 else "198.51.100.8",
                   errorCode=None if i < 4 else "AccessDenied")
        for i in range(6)
    ]
    events += [
        make_event(f"anon-{i}", "GetObject", userIdentity=ANONYMOUS, sourceIPAddress="203.0.113.9",
                   userAgent=None, eventTime=f"2026-03-14T11:0{i}:00Z")
        for i in range(3)
    ]
    events += [
        make_event(f"role-{i}", "GetObject", userIdentity=ROLE_SESSION,
                   sourceIPAddress="192.0.2.44" if i < 3 else "203.0.113.5",
                   userAgent="Boto3/1.34.0" if i < 3 else "aws-cli/2.15.30",
                   eventTime=f"2026-03-14T12:0{i}:00Z", errorCode="AccessDenied" if i < 4 else None)
        for i in range(5)
    ]
    return events


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    write_records(logs / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/a.json.gz", view_events(), gz=True)
    path = tmp_path / "index.sqlite"
    index_paths(connect(path), [logs])
    return path


@pytest.fixture
def conn(db_path: Path):
    connection = connect(db_path, readonly=True)
    yield connection
    connection.close()


def matches(conn, text: str) -> int:
    return EventQuery(conn, compile_filter(text)).count()


# ------------------------------------------------------------------------------ value counts


def test_value_counts_sorts_by_count_then_value(conn) -> None:
    counts = value_counts(conn, compile_filter(""), facet_field("sourceIPAddress"))
    assert [(row.value, row.count) for row in counts.rows] == [
        ("198.51.100.7", 4), ("192.0.2.44", 3), ("203.0.113.9", 3), ("198.51.100.8", 2), ("203.0.113.5", 2),
    ]
    assert (counts.distinct, counts.total) == (5, 14)


def test_value_counts_follow_the_filter_and_show_missing_values(conn) -> None:
    counts = value_counts(conn, compile_filter("name:GetObject"), facet_field("errorCode"))
    assert [(row.value, row.count) for row in counts.rows] == [("AccessDenied", 6), (None, 4)]
    assert (counts.distinct, counts.total) == (2, 10)
    agents = value_counts(conn, compile_filter(""), facet_field("userAgent"))
    assert [(row.value, row.count) for row in agents.rows] == [("aws-cli/2.15.30", 8), (None, 3), ("Boto3/1.34.0", 3)]


def test_value_counts_limit_keeps_the_totals(conn) -> None:
    counts = value_counts(conn, compile_filter(""), facet_field("sourceIPAddress"), limit=2)
    assert [row.value for row in counts.rows] == ["198.51.100.7", "192.0.2.44"]
    assert (counts.distinct, counts.total) == (5, 14)


def test_each_value_term_selects_exactly_the_counted_events(conn) -> None:
    for name in ("eventName", "sourceIPAddress", "errorCode", "userAgent", "actor", "userIdentity.accessKeyId"):
        field = facet_field(name)
        for row in value_counts(conn, compile_filter(""), field).rows:
            assert matches(conn, value_term(field, row.value)) == row.count, (name, row.value)


def test_value_counts_group_case_insensitively_like_the_filter(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a", "GetObject"), make_event("b", "getobject"), make_event("c", "PutObject")])
    index_paths(connect(tmp_path / "i.sqlite"), [logs])
    conn = connect(tmp_path / "i.sqlite", readonly=True)
    counts = value_counts(conn, compile_filter(""), facet_field("eventName"))
    assert [(row.value.lower(), row.count) for row in counts.rows] == [("getobject", 2), ("putobject", 1)]
    assert matches(conn, value_term(facet_field("eventName"), counts.rows[0].value)) == 2


def test_quoted_values_read_back_exactly(tmp_path: Path) -> None:
    tricky = 'Mozilla/5.0 (X11; "q", a\\b) *star*'
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a", userAgent=tricky), make_event("b", userAgent='Mozilla/5.0 (X11; "q", a\\b) XstarX')])
    index_paths(connect(tmp_path / "i.sqlite"), [logs])
    conn = connect(tmp_path / "i.sqlite", readonly=True)
    assert quote_value(tricky) == '"Mozilla/5.0 (X11; \\"q\\", a\\\\b) \\*star\\*"'
    assert matches(conn, value_term(facet_field("userAgent"), tricky)) == 1


def test_quote_value() -> None:
    assert quote_value("arn:aws:iam::111122223333:user/alice") == "arn:aws:iam::111122223333:user/alice"
    assert quote_value("a b,c") == '"a b,c"'
    # Terminal escapes never reach the filter bar: each becomes a wildcard.
    assert quote_value("evil\x1b]52;c;QUFB\x07") == '"evil*]52;c;QUFB*"'
    assert quote_value("\u202egnp.exe") == '"*gnp.exe"'
    assert value_term(facet_field("errorCode"), None) == "-errorCode:*"
    assert value_term(facet_field("errorCode"), "") == "-errorCode:*"
    # The grammar reads a '/' in an ip value as a CIDR network: a trailing * keeps it text.
    assert value_term(facet_field("sourceIPAddress"), "10.0.0.0/8") == 'sourceIPAddress:"10.0.0.0/8*"'


def test_facet_field_lookup() -> None:
    assert facet_field("userIdentity_arn") == facet_field("userIdentity.arn") == facet_field("userArn")
    assert facet_field("bucketName").column == "requestParameters_bucketName"
    assert facet_field("eventTime") is None
    assert facet_field("nope") is None


# ---------------------------------------------------------------------------------- actors


def test_actor_ranking_by_principal(conn) -> None:
    ranking = actor_ranking(conn, compile_filter(""), ACTOR_GROUPINGS["principal"])
    rows = [(r.key, r.actor, r.events, r.errors, r.source_ips, r.user_agents, r.first_seen, r.last_seen) for r in ranking.rows]
    assert rows == [
        (ALICE, "alice", 6, 2, 2, 1, "2026-03-14T10:00:00Z", "2026-03-14T10:05:00Z"),
        # A role is named as the principal it is, not by the one session seen.
        (ROLE, "role/DataPipeline", 5, 4, 2, 2, "2026-03-14T12:00:00Z", "2026-03-14T12:04:00Z"),
        ("ANONYMOUS_PRINCIPAL", "anonymous (unsigned request)", 3, 0, 1, 0, "2026-03-14T11:00:00Z", "2026-03-14T11:02:00Z"),
    ]
    assert (ranking.actors, ranking.total) == (3, 14)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("errors", [ROLE, ALICE, "ANONYMOUS_PRINCIPAL"]),
        ("source_ips", [ALICE, ROLE, "ANONYMOUS_PRINCIPAL"]),  # 2 IPs each: more events first
        ("user_agents", [ROLE, ALICE, "ANONYMOUS_PRINCIPAL"]),
        ("first_seen", [ALICE, "ANONYMOUS_PRINCIPAL", ROLE]),
        ("last_seen", [ROLE, "ANONYMOUS_PRINCIPAL", ALICE]),
        ("actor", [ALICE, "ANONYMOUS_PRINCIPAL", ROLE]),
    ],
)
def test_actor_ranking_sorts(conn, sort: str, expected: list[str]) -> None:
    ranking = actor_ranking(conn, compile_filter(""), ACTOR_GROUPINGS["principal"], sort=sort)
    assert [row.key for row in ranking.rows] == expected


def test_actor_ranking_follows_the_filter_and_groupings(conn) -> None:
    denied = actor_ranking(conn, compile_filter("error:AccessDenied"), ACTOR_GROUPINGS["principal"])
    assert [(r.key, r.events, r.source_ips) for r in denied.rows] == [(ROLE, 4, 2), (ALICE, 2, 1)]
    keys = actor_ranking(conn, compile_filter(""), ACTOR_GROUPINGS["credential"])
    assert [(r.key, r.events) for r in keys.rows] == [("AKIAEXAMPLEALICE0001", 6), ("ASIAEXAMPLESESSION01", 5), (None, 3)]
    sessions = actor_ranking(conn, compile_filter(""), ACTOR_GROUPINGS["session"])
    # alice's long-term key and the anonymous caller have no session: one group, two actors.
    assert [(r.key, r.actor, r.events) for r in sessions.rows] == [
        (None, None, 9),
        ("arn:aws:sts::111122223333:assumed-role/DataPipeline/exfil @ 2026-03-14T09:58:00Z", "DataPipeline/exfil", 5),
    ]
    with pytest.raises(ValueError):
        actor_ranking(conn, compile_filter(""), ACTOR_GROUPINGS["principal"], sort="nope")


def test_actor_terms_select_each_actors_events(conn) -> None:
    for grouping in ACTOR_GROUPINGS.values():
        for row in actor_ranking(conn, compile_filter(""), grouping).rows:
            assert matches(conn, actor_term(grouping, row)) == row.events, (grouping.name, row.key)


# -------------------------------------------------------------------------------- timeline


def _epoch(text: str) -> int:
    return calendar.timegm((int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]), 0, 0, 0, 0))


def test_choose_buckets() -> None:
    assert choose_buckets(0, 3599, 60) == (0, 60, 60)
    assert choose_buckets(0, 3600, 60) == (0, 120, 31)
    # Two months from Saturday 2026-03-14: weekly bars from Monday 2026-03-09.
    first = _epoch("2026-03-14T00:00")
    assert choose_buckets(first, first + 60 * 86400, 10) == (_epoch("2026-03-09T00:00"), 7 * 86400, 10)
    # Six hours a bar, from 06:00.
    assert choose_buckets(_epoch("2026-03-14T07:30"), _epoch("2026-03-16T07:30"), 10) == (_epoch("2026-03-14T06:00"), 21600, 9)


@pytest.mark.parametrize("text", ["", "region:us-east-1"])
def test_time_histogram_counts_per_bucket(conn, text: str) -> None:
    # 10:00 to 12:04 in at most 10 bars: 15 minutes a bar, 9 bars.
    histogram = time_histogram(conn, compile_filter(text), 10)
    assert histogram.bucket_seconds == 900
    assert histogram.start == _epoch("2026-03-14T10:00")
    assert histogram.counts == (6, 0, 0, 0, 3, 0, 0, 0, 5)
    assert (histogram.first, histogram.last, histogram.total) == ("2026-03-14T10:00:00Z", "2026-03-14T12:04:00Z", 14)
    assert histogram.bucket_range(0) == ("2026-03-14T10:00:00Z", "2026-03-14T10:15:00Z")
    assert histogram.bucket_range(8) == ("2026-03-14T12:00:00Z", "2026-03-14T12:04:01Z")


def test_time_histogram_of_a_filter_and_its_bucket_ranges(conn) -> None:
    histogram = time_histogram(conn, compile_filter("error:AccessDenied"), 10)
    # 10:04 to 12:03 in at most 10 bars: 10 minutes would take 13, 15 minutes from 10:00 take 9.
    assert histogram.counts == (2, 0, 0, 0, 0, 0, 0, 0, 4)
    since, until = histogram.bucket_range(0)
    assert (since, until) == ("2026-03-14T10:04:00Z", "2026-03-14T10:15:00Z")
    assert matches(conn, with_time_range("error:AccessDenied", since, until)) == 2
    assert time_histogram(conn, compile_filter("name:Nothing"), 10) is None


def test_with_time_range_replaces_time_terms() -> None:
    text = 'name:GetObject since:-2h -until:2026-01-01 bucket:"a since:b" UNTIL:2027'
    assert with_time_range(text, "S", "U") == 'name:GetObject bucket:"a since:b" since:S until:U'
    assert split_terms('a "b c" d:"e \\" f" g') == ["a", '"b c"', 'd:"e \\" f"', "g"]


def test_timeline_labels() -> None:
    assert [size_label(s) for s in (60, 900, 7200, 86400, 2 * 86400, 7 * 86400, 91 * 86400)] == [
        "1 min", "15 min", "2 h", "1 day", "2 days", "1 week", "13 weeks",
    ]
    hist = facets.TimeHistogram(_epoch("2026-03-14T10:00"), 7200, (1, 2, 3, 4, 5, 6, 7), "2026-03-14T10:00:00Z", "2026-03-14T23:00:00Z")
    assert bucket_label(hist, 0) == "2026-03-14 10:00–12:00"
    assert bucket_label(hist, 6) == "2026-03-14 22:00–24:00"
    week = facets.TimeHistogram(_epoch("2026-03-09T00:00"), 7 * 86400, (1,), "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z")
    assert bucket_label(week, 0) == "2026-03-09 – 2026-03-15"


# ----------------------------------------------------------------------------------- the app


async def settle(pilot) -> None:
    """Let debounce timers fire and the workers (list, views, timeline) finish."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def plain(renderable) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


def crumbs_text(app) -> str:
    return plain(app.query_one("#breadcrumbs").content)


async def move_column_to(pilot, attribute: str) -> None:
    listed = pilot.app.event_list
    for _ in range(12):
        if listed.current == attribute:
            return
        await pilot.press("h" if attribute == "eventTime" else "l")
    assert listed.current == attribute


def table_rows(screen) -> list[list[str]]:
    table = screen.table
    return [[cell.plain.strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_current_column_moves_and_is_highlighted(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        listed = app.event_list
        shown = listed.columns
        assert listed.current == "eventName"
        await pilot.press("l")
        assert listed.current == shown[shown.index("eventName") + 1]
        await pilot.press("right", "left", "h")
        assert listed.current == "eventName"
        strip = listed.render_line(0)  # the header line as drawn: the current column's title stands out
        current_style = listed.get_component_rich_style("event-list--header-current")
        highlighted = [segment.text.strip() for segment in strip if segment.style and current_style.reverse
                       and segment.style.reverse]
        assert highlighted == ["eventName"]
        for _ in range(3):
            await pilot.press("h")
        assert listed.current == "eventTime"  # stops at the first column


async def test_frequency_table_drill_breadcrumbs_and_back(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await move_column_to(pilot, "sourceIPAddress")
        await pilot.press("F")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FrequencyScreen) and screen.field.name == "sourceIPAddress"
        rows = table_rows(screen)
        assert [row[:3] for row in rows] == [
            ["198.51.100.7", "4", "28.6"], ["192.0.2.44", "3", "21.4"], ["203.0.113.9", "3", "21.4"],
            ["198.51.100.8", "2", "14.3"], ["203.0.113.5", "2", "14.3"],
        ]
        assert rows[0][3].startswith("█") and len(rows[0][3]) > len(rows[3][3])  # bars scale with counts
        assert "5 distinct values · 14 events" in plain(screen.query_one("#sheet-info").content)
        assert "all events › sourceIPAddress" in plain(screen.query_one("#sheet-crumbs").content)
        await pilot.press("j", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, FrequencyScreen)
        assert app.query_one("#filter-input").value == "sourceIPAddress:192.0.2.44"
        assert app.event_list.count == 3
        assert app.focused is app.event_list
        assert "all events › sourceIPAddress: 192.0.2.44" in crumbs_text(app)
        # Esc goes back one step: the previous filter, and the table with the cursor where it was.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FrequencyScreen)
        assert app.query_one("#filter-input").value == ""
        assert app.screen.table.cursor_row == 1
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, FrequencyScreen)
        assert app.event_list.count == 14
        assert not app.query_one("#breadcrumbs").has_class("-visible")


async def test_frequency_drills_twice_and_missing_values(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("F")  # the current column: eventName
        await settle(pilot)
        assert [row[:2] for row in table_rows(app.screen)] == [["GetObject", "10"], ["PutObject", "4"]]
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_one("#filter-input").value == "eventName:GetObject"
        # From inside the table, pick another field: errorCode.
        await pilot.press("F")
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FieldPicker)
        app.screen.query_one("OptionList").highlighted = [f.name for f in facets.FACET_FIELDS].index("errorCode")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FrequencyScreen) and screen.field.name == "errorCode"
        assert [row[:2] for row in table_rows(screen)] == [["AccessDenied", "6"], ["(missing)", "4"]]
        assert "all events › eventName: GetObject › errorCode" in plain(screen.query_one("#sheet-crumbs").content)
        await pilot.press("j", "enter")
        await settle(pilot)
        assert app.query_one("#filter-input").value == "eventName:GetObject -errorCode:*"
        assert app.event_list.count == 4
        assert "all events › eventName: GetObject › errorCode: (missing)" in crumbs_text(app)
        # Back twice: the errorCode table of GetObject, then (after Esc) the list of GetObject.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FrequencyScreen) and app.screen.field.name == "errorCode"
        assert app.query_one("#filter-input").value == "eventName:GetObject"
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, FrequencyScreen) and app.screen.field.name == "eventName"
        assert app.query_one("#filter-input").value == ""


async def test_frequency_field_keys_cycle_fields(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
        order = [field.name for field in facets.FACET_FIELDS]
        assert app.screen.field.name == "eventName"
        await pilot.press("l")
        await settle(pilot)
        assert app.screen.field.name == order[1]
        await pilot.press("h", "h")
        await settle(pilot)
        assert app.screen.field.name == order[-1]


async def test_an_edited_filter_is_one_more_step_back(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_one("#breadcrumbs").has_class("-visible")
        await pilot.press("slash", "end", *" is:error", "enter")
        await settle(pilot)
        assert "eventName: GetObject › eventName:GetObject is:error" in crumbs_text(app)
        await pilot.press("escape")  # undoes the edit: the drill's filter, without reopening the table
        await settle(pilot)
        assert app.query_one("#filter-input").value == "eventName:GetObject"
        assert not isinstance(app.screen, FrequencyScreen)
        await pilot.press("escape")  # undoes the drill: the table comes back
        await settle(pilot)
        assert isinstance(app.screen, FrequencyScreen)


async def test_actors_view_answers_who_caused_the_access_denied_errors(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False, initial_filter="error:AccessDenied")
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ActorsScreen)
        rows = table_rows(screen)
        # actor, principal, events, errors, IPs, agents, first seen, last seen
        assert rows[0] == ["role/DataPipeline", ROLE, "4", "4", "2", "2", "2026-03-14 12:00:00", "2026-03-14 12:03:00"]
        assert rows[1][:6] == ["alice", ALICE, "2", "2", "1", "1"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_one("#filter-input").value == f"error:AccessDenied principal:{ROLE}"
        assert app.event_list.count == 4
        assert "error:AccessDenied › principal: role/DataPipeline" in crumbs_text(app)
        # Which IPs: the frequency table of sourceIPAddress for that actor.
        await move_column_to(pilot, "sourceIPAddress")
        await pilot.press("F")
        await settle(pilot)
        assert [row[:2] for row in table_rows(app.screen)] == [["192.0.2.44", "3"], ["203.0.113.5", "1"]]
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ActorsScreen)
        assert app.query_one("#filter-input").value == "error:AccessDenied"


async def test_actors_view_sorts_groups_and_lists_ips(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert [row[0] for row in table_rows(app.screen)] == ["alice", "role/DataPipeline", "anonymous (unsigned request)"]
        await pilot.press("s")  # by errors
        await settle(pilot)
        assert app.screen.sort == "errors"
        assert [row[0] for row in table_rows(app.screen)] == ["role/DataPipeline", "alice", "anonymous (unsigned request)"]
        assert app.screen.table.cursor_row == 1  # the cursor stayed on alice
        await pilot.press("p", "p")  # principal -> session -> credential
        await settle(pilot)
        assert app.screen.grouping == "credential"
        assert [row[:2] for row in table_rows(app.screen)] == [
            ["DataPipeline/exfil", "ASIAEXAMPLESESSION01"], ["alice", "AKIAEXAMPLEALICE0001"], ["anonymous", "(no access key)"],
        ]
        await pilot.press("g", "i")  # the first key's source IPs
        await settle(pilot)
        assert app.query_one("#filter-input").value == "userIdentity.accessKeyId:ASIAEXAMPLESESSION01"
        screen = app.screen
        assert isinstance(screen, FrequencyScreen) and screen.field.name == "sourceIPAddress"
        assert [row[:2] for row in table_rows(screen)] == [["192.0.2.44", "3"], ["203.0.113.5", "2"]]


async def test_timeline_shows_the_matches_and_enter_narrows_to_a_bar(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False, initial_filter="since:2026-03-14T09:00 until:2026-03-15")
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        timeline = app.main_screen.timeline
        histogram = timeline.histogram
        assert timeline.state == "ready" and histogram.total == 14
        assert histogram.first == "2026-03-14T10:00:00Z" and histogram.last == "2026-03-14T12:04:00Z"
        await pilot.press("t")
        await pilot.pause()
        assert app.focused is timeline
        await pilot.press("home")
        assert timeline.selected == 0
        await pilot.press("enter")
        await settle(pilot)
        text = app.query_one("#filter-input").value
        # The time terms are replaced, not stacked; the list holds the bar's events.
        assert text.count("since:") == 1 and text.count("until:") == 1
        assert text.startswith("since:2026-03-14T10:00:00Z until:2026-03-14T10:")
        assert app.event_list.count == histogram.counts[0] > 0
        assert app.focused is app.event_list
        assert "time: 2026-03-14 10:00–" in crumbs_text(app)
        # Esc: the previous filter, and the timeline focused on the same bar.
        await pilot.press("escape")
        await settle(pilot)
        assert app.query_one("#filter-input").value == "since:2026-03-14T09:00 until:2026-03-15"
        assert app.focused is timeline and timeline.selected == 0
        await pilot.press("escape")
        assert app.focused is app.event_list


async def test_timeline_follows_the_filter(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert app.main_screen.timeline.histogram.total == 14
        await pilot.press("slash", *"is:anonymous", "enter")
        await settle(pilot)
        histogram = app.main_screen.timeline.histogram
        assert histogram.total == 3
        assert (histogram.first, histogram.last) == ("2026-03-14T11:00:00Z", "2026-03-14T11:02:00Z")
        await pilot.press("slash", "ctrl+u", *"name:Nothing", "enter")
        await settle(pilot)
        assert app.main_screen.timeline.state == "empty"


async def test_hostile_values_are_escaped_in_the_views(tmp_path: Path) -> None:
    evil = "evil\x1b]52;c;QUFB\x07\u202e"
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("a", userAgent=evil), make_event("b")])
    db_path = tmp_path / "i.sqlite"
    index_paths(connect(db_path), [logs])
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        app.main_screen.action_frequency("userAgent")
        await settle(pilot)
        cells = [row[0] for row in table_rows(app.screen)]
        assert not any("\x1b" in cell or "\x07" in cell or "\u202e" in cell for cell in cells)
        index = cells.index("evil\\x1b]52;c;QUFB\\x07\\u202e")
        await pilot.press(*["j"] * index, "enter")
        await settle(pilot)
        text = app.query_one("#filter-input").value
        assert "\x1b" not in text and "\u202e" not in text
        assert app.event_list.count == 1
        crumbs = crumbs_text(app)
        assert "userAgent: evil\\x1b]52;c;QUFB\\x07\\u202e" in crumbs and "\x1b" not in crumbs


async def test_a_slow_timeline_is_skipped_and_says_so(db_path, monkeypatch) -> None:
    import sqlite3

    def too_slow(conn, compiled, max_buckets):
        raise sqlite3.OperationalError("interrupted")  # what the progress handler's abort raises

    monkeypatch.setattr("trailtui.tui.timeline.TIMELINE_BUDGET", -1.0)
    monkeypatch.setattr("trailtui.tui.timeline.time_histogram", too_slow)
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert app.main_screen.timeline.state == "skipped" and app.main_screen.timeline.histogram is None
        assert "timeline skipped" in plain(app.main_screen.timeline.render())
        assert app.event_list.count == 14  # the list does not wait for it
        await pilot.press("t")
        await pilot.pause()
        assert app.focused is app.event_list  # nothing to pick


async def test_frequency_on_the_time_column_opens_the_timeline(db_path) -> None:
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await move_column_to(pilot, "eventTime")
        await pilot.press("F")
        await pilot.pause()
        assert app.focused is app.main_screen.timeline
        assert "▲ 2026-03-14" in plain(app.main_screen.timeline.render())
