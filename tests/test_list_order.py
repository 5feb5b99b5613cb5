"""The event list's order (sort by any column), positions and seeking (n/N, e/E, go to time).

The expected orders are written independently here, in Python, from the values as indexed:
the sort column (case folded as SQLite's NOCASE does), rows with an empty value last (``''``
then NULL), ties by eventTime then events.id in the same direction; time order puts events
without a time last.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import make_event, write_records
from trailtui.core import query as query_module
from trailtui.core.columns import BY_NAME, COLUMNS, UnknownColumn
from trailtui.core.filter import FilterError, compile_filter, parse_time
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery, SortOrder
from trailtui.core.store.schema import EVENT_INDEXES, LOAD_INDEXES

TIMES = [f"2026-03-14T10:0{minute}:00Z" for minute in range(6)]
IPS = ["198.51.100.7", "203.0.113.9", "S3.amazonaws.com", "s3.amazonaws.com", "10.0.0.1", None]
NAMES = ["GetObject", "PutObject", "ListBuckets", "getobject", "AssumeRole"]
REGIONS = ["us-east-1", "eu-west-1", None, "ap-south-1"]
ERRORS = [None, None, "AccessDenied", None, "NoSuchKey", None, None]
USERS = ["alice", "bob", "Carol", "alice"]


def _events() -> list[dict]:
    events = []
    for number in range(64):
        fields: dict = {
            "eventTime": TIMES[(number * 5) % len(TIMES)],
            "awsRegion": REGIONS[number % len(REGIONS)],
            "readOnly": [True, False, None][number % 3],
        }
        fields["sourceIPAddress"] = IPS[(number * 7) % len(IPS)]  # None: the field is left out
        error = ERRORS[number % len(ERRORS)]
        if error:
            fields["errorCode"] = error
        user = USERS[number % len(USERS)]
        fields["userIdentity"] = {
            "type": "IAMUser", "principalId": f"AIDA{user.upper()}", "arn": f"arn:aws:iam::111122223333:user/{user}",
            "accountId": "111122223333", "userName": user,
        }
        event = make_event(f"e{number:03d}", NAMES[(number * 3) % len(NAMES)], **fields)
        for key in [key for key, value in event.items() if value is None]:
            del event[key]
        if number % 13 == 4:
            del event["eventTime"]
        events.append(event)
    return events


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> sqlite3.Connection:
    root = tmp_path_factory.mktemp("order")
    events = _events()
    for part in range(0, len(events), 16):
        write_records(root / "logs" / f"{part:03d}.json", events[part : part + 16])
    conn = connect(root / "index.sqlite")
    index_paths(conn, [root / "logs"])
    # An empty string (which the loader stores as NULL for plain fields) must sort with the
    # empty rows too: put some where the schema allows them.
    conn.execute("UPDATE events SET \"sourceIPAddress\" = '' WHERE id % 11 = 3")
    # awsRegion lives in contexts (one row per combination): give some events a context whose
    # region is ''.
    blank = conn.execute(
        "INSERT INTO contexts (digest, userAgent, awsRegion, recipientAccountId, eventType, eventCategory) "
        "SELECT randomblob(16), userAgent, '', recipientAccountId, eventType, eventCategory FROM contexts "
        "ORDER BY id LIMIT 1 RETURNING id"
    ).fetchone()[0]
    conn.execute('UPDATE events SET "contextId" = ? WHERE id % 9 = 2', (blank,))
    conn.commit()
    return conn


def _fold(value: object) -> object:
    """SQLite's NOCASE: ASCII letters compared as lowercase."""
    if isinstance(value, str):
        return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in value)
    return value


def expected_ids(conn, column: str, descending: bool, where: str = "1") -> list[int]:
    """The list's order written out in Python (see the module docstring)."""
    sql = BY_NAME[column].sql
    rows = conn.execute(f'SELECT id, {sql}, "eventTime" FROM events WHERE {where}').fetchall()
    if column == "eventTime":
        timed = sorted((r for r in rows if r[2] is not None), key=lambda r: (r[2], r[0]), reverse=descending)
        untimed = sorted((r for r in rows if r[2] is None), key=lambda r: r[0], reverse=descending)
        return [r[0] for r in timed + untimed]

    def tie(r):  # an event without a time is older than any other (times are epoch seconds)
        return (r[2] if r[2] is not None else float("-inf"), r[0])

    filled = sorted(
        (r for r in rows if r[1] not in (None, "")), key=lambda r: (_fold(r[1]), *tie(r)), reverse=descending
    )
    blank = sorted((r for r in rows if r[1] == ""), key=tie, reverse=descending)
    missing = sorted((r for r in rows if r[1] is None), key=tie, reverse=descending)
    return [r[0] for r in filled + blank + missing]


# (filter text, the same question as SQL over the indexed columns, for the expected lists)
FILTERS = [("", "1"), ("name:GetObject", "\"eventName\" = 'GetObject'"), ("is:error", "\"errorCode\" IS NOT NULL")]
SORTED_COLUMNS = ["eventTime", "sourceIPAddress", "eventName", "actor", "awsRegion", "readOnly", "resource"]
ORDERS = [(column, descending) for column in SORTED_COLUMNS for descending in (True, False)]


def _label(order) -> str:
    return f"{order[0]}-{'desc' if order[1] else 'asc'}"


@pytest.mark.parametrize("order", ORDERS, ids=_label)
@pytest.mark.parametrize("text,where", FILTERS, ids=lambda value: value or "all")
def test_pages_follow_the_order_from_either_end(db, order, text, where) -> None:
    column, descending = order
    expected = expected_ids(db, column, descending, where)
    assert len(expected) >= 8 or text  # the fixture has enough rows to page through
    query = EventQuery(db, compile_filter(text), sort=SortOrder(column, descending))
    total = query.count()
    assert total == len(expected)
    assert list(query.iter_ids()) == expected and list(query.ordered_ids()) == expected
    assert list(query.iter_ids(limit=7)) == expected[:7]
    for offset in range(total + 2):
        for known in (None, total):
            for dense in (False, True):
                window = [row.id for row in query.page(offset, 5, total=known, dense=dense)]
                assert window == expected[offset : offset + 5], (offset, known, dense)


def test_empty_values_sort_last_in_both_directions(db) -> None:
    for descending in (True, False):
        sort = SortOrder("sourceIPAddress", descending)
        query = EventQuery(db, compile_filter(""), sort=sort, columns=["sourceIPAddress"])
        values = [row.sourceIPAddress for row in query.page(0, 100)]
        blank = values.index("")
        assert None not in values[:blank] and "" not in values[:blank]
        assert set(values[blank:]) == {"", None} and values[blank:].index(None) == values[blank:].count("")
        shown = [_fold(value) for value in values[:blank]]
        assert shown == sorted(shown, reverse=descending)
    ascending = EventQuery(db, compile_filter(""), sort=SortOrder("eventTime", False), columns=["eventTime"])
    descending_rows = EventQuery(db, compile_filter(""), sort=SortOrder("eventTime", True), columns=["eventTime"])
    untimed = sum(1 for event in _events() if "eventTime" not in event)
    assert untimed >= 2
    for rows in (ascending.page(0, 100), descending_rows.page(0, 100)):
        times = [row.eventTime for row in rows]
        assert times[-untimed:] == [None] * untimed and None not in times[:-untimed]


@pytest.mark.parametrize("order", ORDERS, ids=_label)
@pytest.mark.parametrize("text,where", FILTERS, ids=lambda value: value or "all")
def test_position_of_agrees_with_the_pages(db, order, text, where) -> None:
    query = EventQuery(db, compile_filter(text), sort=SortOrder(*order))
    shown = [row.id for row in query.page(0, 1000)]
    listing = query.ordered_ids()  # what the app holds for an order no index serves
    for position, event_id in enumerate(shown):
        assert query.position_of(event_id) == position
        assert query.position_of(event_id, listing=listing) == position
    outside = {row[0] for row in db.execute("SELECT id FROM events")} - set(shown)
    assert all(query.position_of(event_id) is None for event_id in outside)
    assert all(query.position_of(event_id, listing=listing) is None for event_id in outside)
    assert query.position_of(10**9) is None


TERMS = [("is:error", lambda row: row["errorCode"] is not None),
         ("name:PutObject", lambda row: _fold(row["eventName"]) == "putobject")]


@pytest.mark.parametrize("walk", [1, 4000], ids=["from-the-terms-index", "walking-the-order"])
@pytest.mark.parametrize("order", ORDERS, ids=_label)
@pytest.mark.parametrize("text,where", FILTERS[:2], ids=lambda value: value or "all")
def test_find_next_and_previous_walk_the_matches_in_list_order(db, monkeypatch, order, text, where, walk) -> None:
    """Both ways of finding the next match: walking the order's index from the event, and
    (after ``query._WALK`` rows without one, as for a rare term) starting from the term's index."""
    monkeypatch.setattr(query_module, "_WALK", walk)
    query = EventQuery(db, compile_filter(text), sort=SortOrder(*order))
    listed = [row.id for row in query.page(0, 1000)]
    facts = {row[0]: {"errorCode": row[1], "eventName": row[2]}
             for row in db.execute('SELECT id, "errorCode", "eventName" FROM events')}
    for term_text, matches in TERMS:
        term = compile_filter(term_text)
        hits = [(position, event_id) for position, event_id in enumerate(listed) if matches(facts[event_id])]
        assert query.find_next(None, term) == (hits[0] if hits else None)
        assert query.find_next(None, term, forward=False) == (hits[-1] if hits else None)
        listing = query.ordered_ids()
        for position, event_id in enumerate(listed):
            later = [hit for hit in hits if hit[0] > position]
            earlier = [hit for hit in hits if hit[0] < position]
            assert query.find_next(event_id, term) == (later[0] if later else None), (term_text, position)
            assert query.find_next(event_id, term, forward=False) == (earlier[-1] if earlier else None)
            assert query.find_next(event_id, term, listing=listing) == (later[0] if later else None)
        # n from the last match says "no more"; the walk visits every match once, across pages.
        walked, at = [], None
        while (found := query.find_next(at, term)) is not None:
            walked.append(found)
            at = found[1]
        assert walked == hits


def test_find_next_from_an_event_the_filter_hides_starts_at_its_place(db) -> None:
    """The selected event may have left the filter (the user refined it): n still moves on
    from where that event would sit."""
    everything = EventQuery(db, compile_filter(""), sort=SortOrder("eventTime", True))
    listed = [row.id for row in everything.page(0, 1000)]
    gets = EventQuery(db, compile_filter("name:GetObject"), sort=SortOrder("eventTime", True))
    get_ids = [row.id for row in gets.page(0, 1000)]
    hidden = next(event_id for event_id in listed[5:] if event_id not in get_ids)
    after = [event_id for event_id in listed[listed.index(hidden) + 1 :] if event_id in get_ids]
    assert gets.find_next(hidden, compile_filter("")) == (get_ids.index(after[0]), after[0])
    with pytest.raises(ValueError):
        gets.find_next(10**9, compile_filter(""))


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("text,where", FILTERS, ids=lambda value: value or "all")
def test_position_at_time_is_the_earliest_event_at_or_after_it(db, descending, text, where) -> None:
    query = EventQuery(db, compile_filter(text), sort=SortOrder("eventTime", descending), columns=["eventTime"])
    rows = query.page(0, 1000)
    moments = [*TIMES, "2026-03-14T10:02:30Z", "2026-03-14T09:00:00Z", "2026-03-14T11:00:00Z"]
    for when in moments:
        at_or_after = [position for position, row in enumerate(rows) if row.eventTime and row.eventTime >= when]
        if not at_or_after:
            assert query.position_at_time(when) is None, when
            continue
        position = query.position_at_time(when)
        assert position == (at_or_after[-1] if descending else at_or_after[0]), when
        earliest = min(row.eventTime for row in rows if row.eventTime and row.eventTime >= when)
        assert rows[position].eventTime == earliest
    assert query.position_at_time("2026-03-14T11:00:00Z") is None


def test_position_at_time_needs_time_order(db) -> None:
    with pytest.raises(ValueError, match="time order"):
        EventQuery(db, compile_filter(""), sort=SortOrder("eventName")).position_at_time(TIMES[0])


def test_parse_time_takes_the_filters_times_and_the_lists_format() -> None:
    now = datetime(2026, 3, 14, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_time("2026-03-14", now=now) == "2026-03-14T00:00:00Z"
    assert parse_time("2026-03-14 10:05:00", now=now) == "2026-03-14T10:05:00Z"  # as the list shows it
    assert parse_time("2026-03-14T12:05+02:00", now=now) == "2026-03-14T10:05:00Z"
    assert parse_time(" -2h ", now=now) == "2026-03-14T10:00:00Z"
    for text, position in (("yesterday", 0), ("  2026-13-01", 2), ("", 0)):
        with pytest.raises(FilterError) as caught:
            parse_time(text, now=now)
        assert caught.value.position == position


def test_sort_order_and_query_arguments_are_checked(db) -> None:
    with pytest.raises(UnknownColumn):
        SortOrder("eventNmae")
    with pytest.raises(ValueError):
        EventQuery(db, compile_filter(""), sort=SortOrder(), newest_first=False)
    assert EventQuery(db, compile_filter(""), newest_first=False).sort == SortOrder("eventTime", False)
    assert EventQuery(db, compile_filter("")).sort == SortOrder("eventTime", True)


def test_every_sort_index_exists_and_leads_with_its_column() -> None:
    indexes = dict(LOAD_INDEXES + EVENT_INDEXES)
    for catalogued in COLUMNS:
        if catalogued.sort_index:
            # The order's keys lead, and nothing comes between eventTime and the rowid (id).
            keys = '"eventTime"' if catalogued.name == "eventTime" else f'{catalogued.sql}, "eventTime"'
            indexed = indexes[catalogued.sort_index]
            assert indexed == keys or indexed.startswith(f"{keys}, id"), catalogued.name


def test_orders_without_an_index_are_listed(db) -> None:
    assert not EventQuery(db, compile_filter(""), sort=SortOrder("sourceIPAddress")).needs_listing
    assert EventQuery(db, compile_filter(""), sort=SortOrder("userAgent")).needs_listing


def test_an_index_not_built_yet_means_listing_not_an_error(tmp_path: Path) -> None:
    """During a first (bulk) load only the time index exists."""
    write_records(tmp_path / "logs" / "a.json", _events())
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [tmp_path / "logs"])
    conn.execute("DROP INDEX events_sourceIPAddress")
    query = EventQuery(conn, compile_filter(""), sort=SortOrder("sourceIPAddress"))
    assert query.needs_listing
    assert [row.id for row in query.page(0, 10, dense=True)] == expected_ids(conn, "sourceIPAddress", True)[:10]


# ------------------------------------------------------------------------------ query plans


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> sqlite3.Connection:
    """An index loaded the way a real tree is (bulk load, then ANALYZE), big enough for the
    planner's statistics to matter."""
    root = tmp_path_factory.mktemp("plans")
    for part in range(20):
        events = [
            make_event(f"p{part}-{number}", NAMES[number % len(NAMES)],
                       eventTime=f"2026-03-{1 + part:02d}T10:{number % 60:02d}:00Z",
                       sourceIPAddress=f"198.51.100.{(number + part) % 7}",
                       requestParameters={"bucketName": f"bucket-{number % 5}", "key": f"k{number}"},
                       **({"errorCode": "AccessDenied"} if number % 9 == 0 else {}))
            for number in range(100)
        ]
        write_records(root / "logs" / f"{part:02d}.json", events)
    conn = connect(root / "index.sqlite")
    index_paths(conn, [root / "logs"])
    return conn


def _plans(conn, run) -> list[str]:
    """The query plans of the SELECTs ``run()`` executes."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    plans = []
    for statement in statements:
        if statement.lstrip().upper().startswith("SELECT") and "sqlite_master" not in statement:
            detail = " / ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}"))
            plans.append(f"{statement}\n    {detail}")
    return plans


INDEXED = [catalogued.name for catalogued in COLUMNS if catalogued.sort_index]


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("column", INDEXED)
def test_indexed_orders_read_the_index_without_sorting(planned, column, descending) -> None:
    sort = SortOrder(column, descending)
    cases = [
        ("", False),  # everything
        ("name:GetObject", True),  # an equality filter on another column, dense: walk the order's index
    ]
    field = BY_NAME[column].field
    sql = BY_NAME[column].sql
    value = planned.execute(f"SELECT {sql} FROM events WHERE {sql} IS NOT NULL LIMIT 1").fetchone()[0]
    if field and column != "eventTime":
        cases.append((f'{field}:"{value}"', False))  # an equality filter on the sorted column itself
    for text, dense in cases:
        query = EventQuery(planned, compile_filter(text), sort=sort)
        assert not query.needs_listing
        total = query.count()
        assert total > 50
        plans = _plans(planned, lambda: (query.page(0, 50, dense=dense, total=total),
                                         query.page(total - 50, 50, dense=dense, total=total)))
        assert plans
        for plan in plans:
            assert "TEMP B-TREE" not in plan, plan
        # n/N walk the order's index from the selected event without sorting.
        middle = query.page(total // 2, 1, total=total)[0].id
        walks = [plan for plan in _plans(planned, lambda: query.find_next(middle, compile_filter("is:error")))
                 if "INDEXED BY" in plan]
        assert walks and all("TEMP B-TREE" not in plan for plan in walks), walks
        if not text:
            for plan in _plans(planned, lambda: query.position_of(middle)):
                if plan.startswith("SELECT count(*) FROM events\n"):
                    continue  # every event: SQLite's count fast path, which it shows as a scan
                assert "TEMP B-TREE" not in plan and "SCAN" not in plan, plan  # counted over index ranges
