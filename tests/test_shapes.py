"""The shapes responders export CloudTrail in besides S3 delivery files: CloudWatch Logs
(subscription records, Firehose's concatenation, ``filter-log-events``), lookup-events objects
one per line, EventBridge and SQS envelopes; and event kinds that need care (Insights, network
activity, today's anonymous form). Each is built here from events whose JSON the test knows,
and read back through the loader and ``trailtui query``; the real samples of
``../shared/corpus-more`` are checked against the counts its SOURCES.md gives."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_event
from trailtui.core.filter import compile_filter
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery
from trailtui.core.store.index import connect
from trailtui.core.store.originals import original_event

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_MORE = REPO_ROOT.parent / "shared" / "corpus-more"


def _index(tmp_path: Path, *paths: Path):
    conn = connect(tmp_path / "index.sqlite")
    summary = index_paths(conn, list(paths), workers=0)
    return conn, summary


def _originals(conn) -> dict[str, dict]:
    """eventID -> the event as its original bytes give it back."""
    found = {}
    for (row_id,) in conn.execute("SELECT id FROM events"):
        event = json.loads(original_event(conn, row_id))
        found[event["eventID"]] = event
    return found


def _count(conn, text: str) -> int:
    return EventQuery(conn, compile_filter(text)).count()


def _cloudwatch_record(events: list[dict], *, message_type: str = "DATA_MESSAGE") -> dict:
    return {
        "messageType": message_type, "owner": "111122223333", "logGroup": "/aws/cloudtrail/org",
        "logStream": "111122223333_CloudTrail_us-east-1", "subscriptionFilters": ["to-firehose"],
        "logEvents": [{"id": str(n), "timestamp": 1710410400000, "message": json.dumps(e)} for n, e in enumerate(events)],
    }


def test_cloudwatch_subscription_records_concatenated_by_firehose(tmp_path: Path) -> None:
    events = [make_event(f"cw-{n}", "PutObject" if n % 2 else "GetObject") for n in range(6)]
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE"}]}
    # Firehose writes records back to back, no newline between them, then gzips the object.
    data = "".join(json.dumps(part) for part in (_cloudwatch_record(events[:3]), control, _cloudwatch_record(events[3:])))
    path = tmp_path / "logs" / "firehose-1-2026-03-14-10-00-00-abcd"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(data.encode()))
    conn, summary = _index(tmp_path, path.parent)
    assert summary.failures == [] and summary.record_problems == []
    # Each event comes back exactly as the message held it.
    assert _originals(conn) == {event["eventID"]: event for event in events}
    assert _count(conn, "name:PutObject") == 3


def test_a_control_message_alone_is_skipped_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "control.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logEvents": []}))
    _, summary = _index(tmp_path, path.parent)
    assert summary.skips == [(str(path), "CloudWatch Logs control message (no events)")]


def test_filter_log_events_output(tmp_path: Path) -> None:
    events = [make_event(f"fle-{n}") for n in range(3)]
    path = tmp_path / "logs" / "filter-log-events.json"
    path.parent.mkdir()
    path.write_text(json.dumps({
        "events": [{"logStreamName": "s", "timestamp": 1, "message": json.dumps(e), "ingestionTime": 2,
                    "eventId": str(n)} for n, e in enumerate(events)] + [{"logStreamName": "s", "timestamp": 3}],
        "searchedLogStreams": [{"logStreamName": "s", "searchedCompletely": True}],
    }, indent=2))
    conn, summary = _index(tmp_path, path.parent)
    assert _originals(conn) == {event["eventID"]: event for event in events}
    # The log event without a message is named, the others load.
    assert summary.record_problems == [(str(path), "events[3]", "no message string")]


def test_lookup_events_objects_one_per_line_and_in_an_array(tmp_path: Path) -> None:
    events = [make_event(f"le-{n}", "DeleteObject") for n in range(5)]

    def wrapper(event: dict) -> dict:
        return {"EventId": event["eventID"], "EventName": event["eventName"], "ReadOnly": "false",
                "EventTime": "2026-03-14 21:00:00+11:00", "EventSource": "s3.amazonaws.com",
                "Resources": [], "CloudTrailEvent": json.dumps(event)}

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "plaso.jsonl").write_text("\n".join(json.dumps(wrapper(e)) for e in events[:3]) + "\n")
    (logs / "events.json").write_text(json.dumps([wrapper(e) for e in events[3:]]))
    conn, summary = _index(tmp_path, logs)
    assert summary.failures == [] and summary.record_problems == []
    assert _originals(conn) == {event["eventID"]: event for event in events}
    assert _count(conn, "name:DeleteObject") == 5


def test_eventbridge_events_one_per_line_in_an_array_and_in_sqs_messages(tmp_path: Path) -> None:
    events = [make_event(f"eb-{n}") for n in range(6)]

    def envelope(event: dict, detail_type: str = "AWS API Call via CloudTrail") -> dict:
        return {"version": "0", "id": f"id-{event['eventID']}", "detail-type": detail_type, "source": "aws.s3",
                "account": "111122223333", "time": "2026-03-14T10:00:00Z", "region": "us-east-1",
                "resources": [], "detail": event}

    ec2_change = {"version": "0", "id": "x", "detail-type": "EC2 Instance State-change Notification",
                  "source": "aws.ec2", "detail": {"instance-id": "i-0abc", "state": "running"}}
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = [json.dumps(envelope(e)) for e in events[:2]] + [json.dumps(ec2_change)]
    (logs / "rule-target.ndjson").write_text("\n".join(lines) + "\n")
    (logs / "batch.json").write_text(json.dumps([envelope(e) for e in events[2:4]], indent=1))
    sqs = {"Messages": [{"MessageId": str(n), "ReceiptHandle": "r", "Body": json.dumps(envelope(e))}
                        for n, e in enumerate(events[4:])]}
    (logs / "sqs-receive-message.json").write_text(json.dumps(sqs))
    (logs / "ec2-only.json").write_text(json.dumps(ec2_change))
    conn, summary = _index(tmp_path, logs)
    assert _originals(conn) == {event["eventID"]: event for event in events}
    assert summary.record_problems == [
        (str(logs / "rule-target.ndjson"), "line 3",
         "EventBridge event not from CloudTrail (detail-type 'EC2 Instance State-change Notification')")
    ]
    assert summary.skips == [
        (str(logs / "ec2-only.json"), "not CloudTrail: an EventBridge event of detail-type "
                                      "'EC2 Instance State-change Notification'")
    ]
    # An event inside an envelope in the file is a span of the file: it costs no copy.
    kept = conn.execute("SELECT count(*) FROM events WHERE raw_offset IS NULL").fetchone()[0]
    assert kept == 2  # only the two SQS bodies (JSON strings) are stored


def test_an_insights_event_is_found_by_the_api_it_is_about(tmp_path: Path) -> None:
    insight = {
        "eventVersion": "1.08", "eventTime": "2026-03-14T10:05:00Z", "awsRegion": "us-east-1",
        "eventID": "insight-1", "eventType": "AwsCloudTrailInsight", "recipientAccountId": "111122223333",
        "sharedEventID": "s-1", "eventCategory": "Insight",
        "insightDetails": {"state": "Start", "eventSource": "s3.amazonaws.com", "eventName": "DeleteObjects",
                           "insightType": "ApiCallRateInsight",
                           "insightContext": {"statistics": {"baseline": {"average": 0.1}, "insight": {"average": 40}}}},
    }
    logs = tmp_path / "logs"
    # The typed path (a delivery file) and the general one (NDJSON) must agree.
    (logs / "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/03/14").mkdir(parents=True)
    (logs / "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/03/14/a.json").write_text(json.dumps({"Records": [insight]}))
    (logs / "one.ndjson").write_text(json.dumps(dict(insight, eventID="insight-2")) + "\n")
    conn, _ = _index(tmp_path, logs)
    assert _count(conn, "name:DeleteObjects source:s3") == 2
    assert _count(conn, "category:insight") == 2


def test_network_activity_events_are_found_by_category_and_is_network(tmp_path: Path) -> None:
    network = make_event("vpce-1", "GetObject", eventType="AwsVpceEvent", eventCategory="NetworkActivity",
                         errorCode="VpceAccessDenied", managementEvent=False,
                         vpcEndpointId="vpce-0123456789abcdef0", vpcEndpointAccountId="111122223333")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.json").write_text(json.dumps({"Records": [network, make_event("plain-1")]}))
    conn, _ = _index(tmp_path, logs)
    assert _count(conn, "is:network") == _count(conn, "category:networkactivity") == 1
    assert _count(conn, "is:network error:VpceAccessDenied") == 1


def test_both_anonymous_forms_are_anonymous_and_neither_is_cross_account(tmp_path: Path) -> None:
    from trailtui.core.query import event_facts
    from trailtui.tui.identity import IdentityFacts, answers

    today = {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
    older = {"type": "AWSAccount", "principalId": "ANONYMOUS_PRINCIPAL", "accountId": "ANONYMOUS_PRINCIPAL"}
    signed = {"type": "AWSAccount", "principalId": "AIDAOTHER", "accountId": "999988887777"}
    records = [make_event("anon-today", "GetObject", userIdentity=today, recipientAccountId="111122223333"),
               make_event("anon-older", "GetObject", userIdentity=older, recipientAccountId="111122223333"),
               make_event("other-account", "GetObject", userIdentity=signed, recipientAccountId="111122223333")]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.json").write_text(json.dumps({"Records": records}))
    (logs / "b.ndjson").write_text(json.dumps(dict(records[0], eventID="anon-today-2")) + "\n")  # the general path
    conn, _ = _index(tmp_path, logs)
    def ids(text: str) -> set[str]:
        query = EventQuery(conn, compile_filter(text), columns=("eventID",))
        return {row.eventID for row in query.page(0, 10)}

    assert ids("is:anonymous") == {"anon-today", "anon-today-2", "anon-older"}
    assert ids("is:crossaccount") == {"other-account"}
    row_id = conn.execute("SELECT id FROM events WHERE \"eventID\" = 'anon-today'").fetchone()[0]
    said = dict(answers(IdentityFacts(event_facts(conn, row_id), today)))
    assert any("anonymous" in answer for answer in said.values()), said


def test_the_presets_for_anonymous_access_find_todays_form(tmp_path: Path) -> None:
    from trailtui.core.presets import get_preset, preset_filter

    today = {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.json").write_text(json.dumps({"Records": [make_event("anon", "GetObject", userIdentity=today)]}))
    conn, _ = _index(tmp_path, logs)
    assert _count(conn, preset_filter(get_preset("s3-anonymous"))) == 1


# --------------------------------------------------------------------------- ../shared/corpus-more


@pytest.fixture(scope="module")
def more_index(tmp_path_factory):
    if not CORPUS_MORE.is_dir():
        pytest.skip(f"corpus-more not found at {CORPUS_MORE} (it lives in ../shared, outside the repo)")
    conn = connect(tmp_path_factory.mktemp("more") / "index.sqlite")
    summary = index_paths(conn, [CORPUS_MORE])
    return conn, summary


def test_corpus_more_loads_every_unique_event_and_names_the_bad_file(more_index) -> None:
    conn, summary = more_index
    # SOURCES.md: 17,927 records, 17,774 unique eventIDs; one truncated file.
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 17_774
    assert [Path(path).name for path, _ in summary.failures] == ["bad_cloudtrail.json"]
    assert summary.record_problems == []


def test_corpus_more_anonymous_requests_in_todays_form(more_index) -> None:
    conn, _ = more_index
    # SOURCES.md: projector holds 19 anonymous GetObject (12 AccessDenied); no genuine cross-account call.
    assert _count(conn, "is:anonymous") == 19
    assert _count(conn, "is:anonymous is:error") == 12
    assert _count(conn, "is:anonymous is:crossaccount") == 0


def test_corpus_more_cloudwatch_and_lookup_events_files_load(more_index) -> None:
    conn, _ = more_index
    loaded = dict(conn.execute("SELECT path, events FROM files"))
    plaso = str(CORPUS_MORE / "plaso-jsonl-cloudtrail/test_data/jsonl/aws_cloudtrail.jsonl")
    cloudwatch = str(CORPUS_MORE / "otel-awslogs-cloudtrail-testdata/testdata/cloudtrail_log_cw.json")
    assert loaded[plaso] == 6  # SOURCES.md: 6 events, one per line
    with open(cloudwatch) as stream:
        messages = [json.loads(item["message"]) for item in json.load(stream)["logEvents"]]
    assert loaded[cloudwatch] + conn.execute(
        "SELECT duplicates FROM files WHERE path = ?", (cloudwatch,)).fetchone()[0] == len(messages)


def test_index_verbose_names_every_skipped_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "README.md").write_text("# notes\n")
    (logs / "a.json").write_text(json.dumps({"Records": [make_event("x")]}))
    result = subprocess.run([sys.executable, "-m", "trailtui", "index", str(logs), "--db", str(tmp_path / "i.sqlite"),
                             "-v"], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert f"skipped: {logs / 'README.md'}: not CloudTrail: not JSON" in result.stdout
    # Run again: the file is unchanged, so not read again, and still named.
    again = subprocess.run(result.args, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert f"skipped by an earlier run: {logs / 'README.md'}: not CloudTrail: not JSON" in again.stdout
    quiet = subprocess.run(result.args[:-1], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert "skipped by an earlier run: 1 file (-v names them)" in quiet.stdout
    # Only files under the paths given: another tree in the same index is not this run's.
    other = tmp_path / "other"
    other.mkdir()
    (other / "b.json").write_text(json.dumps({"Records": [make_event("y")]}))
    elsewhere = subprocess.run([sys.executable, "-m", "trailtui", "index", str(other), "--db", str(tmp_path / "i.sqlite"),
                                "-v"], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert "README.md" not in elsewhere.stdout and "skipped by an earlier run" not in elsewhere.stdout
