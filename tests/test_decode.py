"""Every input shape users have, and every kind of bad input, decoded from real files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from trailtui.core.ingest.decode import decode_file
from trailtui.core.export import minify_json
from tests.conftest import make_event, write_records


def ids(decoded) -> list[str]:
    return [record.event["eventID"] for record in decoded.records]


def test_s3_delivery_file_gzipped_keeps_original_bytes(tmp_path: Path) -> None:
    events = [make_event("e1"), make_event("e2", "PutObject")]
    path = write_records(tmp_path / "111122223333_CloudTrail_us-east-1_20260314T1000Z_abc.json.gz", events, gz=True)
    decoded = decode_file(path)
    assert decoded.outcome == "events"
    assert ids(decoded) == ["e1", "e2"]
    assert decoded.records[0].original == json.dumps(events[0]).encode()
    assert decoded.records[1].index == 1


def test_plain_json_and_gzip_give_the_same_events(tmp_path: Path) -> None:
    events = [make_event("a"), make_event("b")]
    plain = decode_file(write_records(tmp_path / "x.json", events))
    zipped = decode_file(write_records(tmp_path / "x.json.gz", events, gz=True))
    assert [r.original for r in plain.records] == [r.original for r in zipped.records]


def test_bare_array_single_object_and_pretty_printing(tmp_path: Path) -> None:
    array = tmp_path / "array.json"
    array.write_text(json.dumps([make_event("a1"), make_event("a2")], indent=2))
    single = tmp_path / "single.json.cloudtrail"
    single.write_text(json.dumps(make_event("s1"), indent=4))
    assert ids(decode_file(array)) == ["a1", "a2"]
    decoded = decode_file(single)
    assert ids(decoded) == ["s1"]
    # Pretty-printed originals keep their bytes; NDJSON output puts them on one line unchanged.
    assert b"\n" in decoded.records[0].original
    assert json.loads(minify_json(decoded.records[0].original)) == make_event("s1")
    assert b"\n" not in minify_json(decoded.records[0].original)


def test_ndjson_with_crlf_and_a_bad_line(tmp_path: Path) -> None:
    lines = [json.dumps(make_event("n1")), "{not json", json.dumps(make_event("n2")), ""]
    path = tmp_path / "export.ndjson"
    path.write_bytes("\r\n".join(lines).encode())
    decoded = decode_file(path)
    assert ids(decoded) == ["n1", "n2"]
    assert decoded.outcome == "events"
    assert decoded.record_errors and decoded.record_errors[0][0] == "line 2"
    assert "invalid JSON" in decoded.record_errors[0][1]


def test_ndjson_gzipped(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(json.dumps(make_event(f"g{i}")) for i in range(3)).encode()))
    assert ids(decode_file(path)) == ["g0", "g1", "g2"]


def test_lookup_events_output(tmp_path: Path) -> None:
    inner = json.dumps(make_event("l1", "ConsoleLogin"))
    path = tmp_path / "lookup.json"
    path.write_text(json.dumps({"Events": [{"EventId": "l1", "EventName": "ConsoleLogin", "CloudTrailEvent": inner}]}))
    decoded = decode_file(path)
    assert ids(decoded) == ["l1"]
    assert decoded.records[0].original == inner.encode()


def test_digest_and_non_cloudtrail_files_are_skipped_not_errors(tmp_path: Path) -> None:
    digest = tmp_path / "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260314T1000Z.json.gz"
    digest.write_bytes(gzip.compress(json.dumps({"awsAccountId": "1", "logFiles": []}).encode()))
    readme = tmp_path / "README.md"
    readme.write_text("# my logs\n")
    other = tmp_path / "config.json"
    other.write_text(json.dumps({"setting": 1}))
    for path in (digest, readme, other):
        decoded = decode_file(path)
        assert decoded.outcome == "skipped", path
        assert decoded.reason
    assert "digest" in decode_file(digest).reason


def test_insight_event_without_user_identity_is_an_event(tmp_path: Path) -> None:
    insight = {"eventVersion": "1.08", "eventTime": "2026-03-14T10:00:00Z", "awsRegion": "us-east-1",
               "eventID": "i1", "eventType": "AwsCloudTrailInsight", "recipientAccountId": "111122223333",
               "sharedEventID": "x", "insightDetails": {"state": "Start"}, "eventCategory": "Insight"}
    decoded = decode_file(write_records(tmp_path / "insight.json", [insight]))
    assert ids(decoded) == ["i1"]


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("truncated.json.gz", gzip.compress(b'{"Records":[' + b"1" * 5000)[:-30], "truncated gzip"),
        ("bad.json", b'{"Records": [{"a": 1} {"b": 2}]}', "invalid JSON: line 1, column"),
        ("empty.json", b"", "empty file"),
        ("junk.json", bytes(range(256)) * 4, "not JSON"),
        ("records-not-list.json", b'{"Records": "oops"}', "'Records' is not a list"),
    ],
)
def test_bad_files_fail_with_a_reason(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    decoded = decode_file(path)
    assert decoded.outcome == "failed"
    assert expected in decoded.reason


def test_s3_user_guide_example_log_entry_is_reported_with_line_and_column(tmp_path: Path) -> None:
    # The S3 user guide's example log entry is itself invalid JSON: a missing comma and a trailing
    # comma (reproduced here in its shape, not copied).
    text = '{\n  "Records": [\n    {\n      "eventVersion": "1.03"\n      "eventName": "ListBuckets",\n    }\n  ]\n}\n'
    path = tmp_path / "user-guide-example.json"
    path.write_text(text)
    decoded = decode_file(path)
    assert decoded.outcome == "failed"
    assert "line 5, column 7" in decoded.reason


def test_records_that_are_not_objects_cost_only_themselves(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"Records": [make_event("ok1"), "a string", 42, make_event("ok2")]}))
    decoded = decode_file(path)
    assert ids(decoded) == ["ok1", "ok2"]
    assert [position for position, _ in decoded.record_errors] == ["record 1", "record 2"]


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch) -> None:
    path = write_records(tmp_path / "locked.json", [make_event("x")])
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        # chmod 0 does not stop root (CI runs as root), so refuse the read the way the OS would.
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    decoded = decode_file(path)
    assert decoded.outcome == "failed"
    assert decoded.reason == "cannot read: Permission denied"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"Records": [make_event("b1")]}).encode())
    assert ids(decode_file(path)) == ["b1"]
