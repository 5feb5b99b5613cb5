"""Property-based tests: any input gives a result or the documented error, never another exception.

The decoder (any bytes, and mangled CloudTrail-shaped JSON), the extraction of index columns from
any JSON object, time parsing, the text-safety helpers and the filter parser (run against an
index full of hostile values). The filter grammar has its own properties in ``test_filter.py``.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trailtui.core.ingest.decode import decode_bytes, decode_file
from trailtui.core.ingest.extract import event_row, event_text, event_time_seconds, normalize_event_time
from trailtui.core.times import event_time_text_of
from trailtui.core.filter import FilterError, compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery
from trailtui.core.store.schema import RECORD_COLUMN_NAMES
from trailtui.core.text import json_text_safe, printable, visible_controls
from tests.make_hostile_corpus import HOSTILE, UNSAFE_CHARS, write_corpus

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: JSON values (keys and strings from the whole of Unicode, controls and bidi marks included).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
EVENT_KEYS = ["eventID", "eventTime", "eventName", "eventSource", "userIdentity", "sourceIPAddress", "userAgent",
              "requestParameters", "resources", "readOnly", "errorCode", "@timestamp", "eventCategory", "eventType"]
#: Objects shaped like events: CloudTrail's keys with any JSON values, plus any other keys.
events = st.dictionaries(st.sampled_from(EVENT_KEYS) | st.text(max_size=8), json_values, min_size=1, max_size=8)


def check_decoded(decoded, content: bytes) -> None:
    """The documented shape of a :class:`DecodedFile`, whatever the input."""
    assert decoded.outcome in ("events", "skipped", "failed")
    if decoded.outcome != "events":
        assert isinstance(decoded.reason, str) and decoded.reason
    if decoded.outcome == "failed":
        assert not decoded.records
    body = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    for number, record in enumerate(decoded.records):
        assert record.index == number
        assert isinstance(record.event, dict) and isinstance(record.original, bytes)
        if record.offset is not None:
            assert body[record.offset : record.offset + len(record.original)] == record.original
    for position, message in decoded.record_errors:
        assert isinstance(position, str) and isinstance(message, str) and message


@SETTINGS
@given(content=st.binary(max_size=2000), log_name=st.booleans())
def test_any_bytes_decode_to_events_or_a_reason(content: bytes, log_name: bool) -> None:
    check_decoded(decode_bytes(content, log_name=log_name), content)


def shapes(items: list) -> list[bytes]:
    """The file shapes trailtui reads, each holding ``items`` as its records."""
    lines = b"\n".join(json.dumps(item, ensure_ascii=False).encode("utf-8", "surrogatepass") for item in items)
    return [
        json.dumps({"Records": items}).encode(),
        json.dumps({"Records": items}, ensure_ascii=False, indent=1).encode("utf-8", "surrogatepass"),
        json.dumps(items).encode(),
        lines,
        lines.replace(b"\n", b"\r\n"),
        json.dumps({"Events": [{"CloudTrailEvent": json.dumps(item)} for item in items]}).encode(),
        b"\xef\xbb\xbf" + json.dumps({"Records": items}).encode(),
    ]


@SETTINGS
@given(items=st.lists(events | json_values, max_size=5), shape=st.integers(0, 6))
def test_cloudtrail_shaped_files_keep_every_object_record(items: list, shape: int) -> None:
    content = shapes(items)[shape]
    decoded = decode_bytes(content)
    check_decoded(decoded, content)
    objects = [item for item in items if isinstance(item, dict)]
    if shape in (3, 4):
        # NDJSON: a line is an event if it has CloudTrail's fields, an array or envelope of
        # events if it is one; whatever comes back was written somewhere in the lines.
        written = json.dumps(items, ensure_ascii=False)
        assert all(json.dumps(record.event, ensure_ascii=False) in written for record in decoded.records)
        return
    # Every object comes back, equal to what was written, in order; every other value is a
    # record error (a Records envelope or array holds them; lookup-events wraps each one).
    assert [record.event for record in decoded.records] == objects
    assert len(decoded.record_errors) == len(items) - len(objects)


@SETTINGS
@given(items=st.lists(events, min_size=1, max_size=4), shape=st.integers(0, 6), data=st.data())
def test_mangled_files_never_raise(items: list, shape: int, data) -> None:
    content = bytearray(shapes(items)[shape])
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["cut", "flip", "insert", "deepen"]))
        where = data.draw(st.integers(0, len(content)))
        if action == "cut":
            del content[where:]
        elif action == "flip" and where < len(content):
            content[where] = data.draw(st.integers(0, 255))
        elif action == "insert":
            content[where:where] = data.draw(st.sampled_from([b"\xff", b"\\ud800", b'"', b"\\", b"[", b"{", b",", b"\x00",
                                                              b"\n", b"\xef\xbb\xbf", b"\x1b]52;c;x\x07"]))
        else:
            depth = data.draw(st.sampled_from([10, 1200]))
            content[where:where] = b"[" * depth + b"]" * depth
    check_decoded(decode_bytes(bytes(content)), bytes(content))


@settings(max_examples=25, deadline=None)
@given(items=st.lists(events, min_size=1, max_size=3), cut=st.integers(0, 200))
def test_gzip_files_truncated_anywhere_fail_with_a_reason(tmp_path_factory, items: list, cut: int) -> None:
    data = gzip.compress(json.dumps({"Records": items}).encode())
    path = tmp_path_factory.mktemp("gz") / "file.json.gz"
    path.write_bytes(data[: max(2, len(data) - cut)])
    decoded = decode_file(path)
    assert decoded.outcome in ("events", "failed")
    if cut:
        assert decoded.outcome == "failed" and "gzip" in decoded.reason


@SETTINGS
@given(event=events)
def test_index_columns_come_from_any_object(event: dict) -> None:
    original = json.dumps(event).encode()
    row = event_row(event, original)
    assert len(row) == RECORD_COLUMN_NAMES.index("record_index")
    assert isinstance(row[0], str) and row[0]  # an eventID, given or synthetic
    assert row[1] is None or type(row[1]) is int  # eventTime: epoch seconds
    for value in row:
        assert value is None or isinstance(value, (str, int))
    assert isinstance(event_text(event), str)


def is_utc_time(moment: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SSZ`` exactly (four-digit year: the list sorts these as strings)."""
    return len(moment) == 20 and datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").year >= 1


@SETTINGS
@given(text=st.text() | st.sampled_from(["2026-03-14 10:00:00", "2026-03-14T10:00:00.5-05:00", "Sat, 14 Mar 2026",
                                         "9999-12-31T23:59:59+14:00", "24:00", "2026-03-14T10:00:00Z"]))
def test_any_time_text_is_a_utc_time_or_none(text: str) -> None:
    moment = normalize_event_time(text)
    assert moment is None or is_utc_time(moment)


@SETTINGS
@given(text=st.text() | st.sampled_from(["2026-03-14 10:00:00", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
                                         "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z", "2026-03-14T10:00:00Z"]))
def test_stored_seconds_show_the_same_time(text: str) -> None:
    """The index keeps eventTime as epoch seconds; shown again, they are the normalized text
    (or no time at all, where no calendar has the date: year 0000)."""
    seconds = event_time_seconds(text)
    normalized = normalize_event_time(text)
    if seconds is None:
        assert normalized is None or normalized.startswith("0000-")
    else:
        assert event_time_text_of(seconds) == normalized


def test_times_before_year_1000_keep_four_digits() -> None:
    assert normalize_event_time("0100-01-01 00:00:00") == "0100-01-01T00:00:00Z"
    assert normalize_event_time("0001-01-01T00:00:00-01:00") == "0001-01-01T01:00:00Z"


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-03-14T99:99:99Z",
                                  "0000-00-00T00:00:00Z"])
def test_impossible_times_in_cloudtrail_form_are_no_time(text: str) -> None:
    assert normalize_event_time(text) is None


@SETTINGS
@given(text=st.text())
def test_escaping_helpers_leave_nothing_unsafe(text: str) -> None:
    shown = printable(text)
    assert not set(shown) & UNSAFE_CHARS
    assert printable(shown) == shown
    pictured = visible_controls(text)
    assert len(pictured) == len(text) and not set(pictured) & UNSAFE_CHARS


@SETTINGS
@given(value=json_values)
def test_json_text_safe_is_the_same_json(value) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assume(not any("\ud800" <= char <= "\udfff" for char in text))  # json.dumps passes lone surrogates
    safe = json_text_safe(text)
    assert json.loads(safe) == json.loads(text)
    assert not set(safe) & UNSAFE_CHARS


# --- the filter parser over a hostile index ------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    root = write_corpus(tmp_path_factory.mktemp("corpus") / "logs").root
    conn = connect(tmp_path_factory.mktemp("index") / "index.sqlite")
    index_paths(conn, [root], workers=0)
    return conn


FILTER_PIECES = [*HOSTILE.values(), "name:", "actor:", "agent:", "key:", "bucket:", "requestParameters.", "a.b.0:",
                 "id:", "-", '"', "\\", "*", ",", ":", " ", "NEAR(", "OR", "AND", "NOT", "^", "(", ")", "+", "{",
                 "col:x", "since:", "until:", "-1d", "is:error", "ip:", "10.0.0.0/8", "\x00", "'", "%", "_"]


@SETTINGS
@given(pieces=st.lists(st.sampled_from(FILTER_PIECES) | st.text(max_size=6), max_size=8))
def test_any_filter_runs_on_a_hostile_index_or_says_where_it_is_wrong(hostile_index, pieces: list[str]) -> None:
    text = "".join(pieces)
    try:
        compiled = compile_filter(text)
    except FilterError as err:
        assert 0 <= err.position <= len(text)
        assert not set(str(err)) & UNSAFE_CHARS  # the message is shown on the terminal
        return
    query = EventQuery(hostile_index, compiled)
    count = query.count()
    rows = query.page(0, 5)
    assert len(rows) == min(count, 5)


# The iterative parser that takes over when orjson refuses a deeply nested event (newer orjson
# versions stop at about 1,000 levels): for any JSON it must agree with the standard library,
# and it must refuse what is not JSON.
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@SETTINGS
@given(value=_JSON_VALUES, indent=st.sampled_from([None, 2]))
def test_the_iterative_json_parser_agrees_with_the_standard_library(value, indent) -> None:
    from trailtui.core.ingest.decode import _parse_iteratively

    text = json.dumps(value, indent=indent)
    assert _parse_iteratively(text) == json.loads(text)


@SETTINGS
@given(text=st.text(alphabet='{}[],:"0123456789.-eE truefalsn\\ ', max_size=40))
def test_the_iterative_json_parser_refuses_what_json_refuses(text: str) -> None:
    from trailtui.core.ingest.decode import _parse_iteratively

    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            _parse_iteratively(text)
    else:
        assert _parse_iteratively(text) == expected


def test_an_event_deeper_than_orjson_allows_is_parsed_without_the_stack(monkeypatch) -> None:
    import orjson

    from trailtui.core.ingest import decode

    def refusing(data):  # what orjson 3.13 does past its depth limit
        raise orjson.JSONDecodeError("depth limit exceeded", "", 0)

    monkeypatch.setattr(decode.orjson, "loads", refusing)
    deep = '{"eventID": "deep", "requestParameters": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"
    event = decode.parse_event_json(deep.encode())
    assert event["eventID"] == "deep"
