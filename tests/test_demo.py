"""The ``--demo`` sample: deterministic, written once, laid out and shaped like real CloudTrail
delivery, and holding the incident the README describes."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

import msgspec
import pytest

from trailtui.core.demo import DemoSummary, write_demo_logs

ACCOUNT = "111122223333"
PARTNER = "444455556666"

# "CloudTrail log file examples" / "CloudTrail digest file structure" in the CloudTrail User Guide.
LOG_PATH = re.compile(
    r"AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z]{2}-[a-z]+-\d)/(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P=y)(?P=m)(?P=d)T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz"
)
DIGEST_PATH = re.compile(
    r"AWSLogs/(?P<acct>\d{12})/CloudTrail-Digest/(?P<region>[a-z]{2}-[a-z]+-\d)/(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/"
    r"(?P=acct)_CloudTrail-Digest_(?P=region)_[A-Za-z0-9_.-]+_(?P=region)_(?P=y)(?P=m)(?P=d)T\d{6}Z\.json\.gz"
)
EVENT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def log_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json.gz") if "CloudTrail-Digest" not in p.name)


def read_gz_json(path: Path):
    with gzip.open(path) as handle:
        return json.loads(handle.read())


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[DemoSummary, Path]:
    root = tmp_path_factory.mktemp("demo")
    return write_demo_logs(root), root


@pytest.fixture(scope="module")
def records(demo) -> list[tuple[str, bytes, dict]]:
    """Every record as ``(file, its exact JSON bytes, parsed)``, duplicates included."""
    _, root = demo
    found = []
    for path in log_files(root):
        for record in read_gz_json(path)["Records"]:
            found.append((path.name, json.dumps(record, sort_keys=True).encode(), record))
    return found


def distinct(records) -> list[dict]:
    seen, out = set(), []
    for _, _, record in records:
        if record["eventID"] not in seen:
            seen.add(record["eventID"])
            out.append(record)
    return out


# ---- writing ---------------------------------------------------------------------------------


def test_same_seed_writes_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = write_demo_logs(tmp_path / "a", seed=7)
    second = write_demo_logs(tmp_path / "b", seed=7)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    assert (first.files, first.events, first.duplicates) == (second.files, second.events, second.duplicates)
    write_demo_logs(tmp_path / "c", seed=8)
    assert tree_bytes(tmp_path / "c") != tree_bytes(tmp_path / "a")


def test_gzip_headers_carry_no_timestamp(demo) -> None:
    _, root = demo
    for path in root.rglob("*.json.gz"):
        header = path.read_bytes()[:10]
        assert header[:2] == b"\x1f\x8b"
        assert header[4:8] == b"\0\0\0\0", path.name  # MTIME field


def test_rerun_on_a_complete_demo_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    summary = write_demo_logs(dest)
    old = 1_000_000_000 * 10**9  # 2001: any rewrite would show as a new mtime
    for path in dest.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(old, old))
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    again = write_demo_logs(dest)
    after = {p: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    assert after == before
    assert again == summary


def test_an_incomplete_demo_is_completed(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    write_demo_logs(dest)
    expected = tree_bytes(dest)
    victim = log_files(dest)[3]
    victim.unlink()
    write_demo_logs(dest)
    assert tree_bytes(dest) == expected
    # Without the marker (an interrupted first run) the demo is written again, the same bytes.
    next(dest.glob(".trailtui-demo-*")).unlink()
    write_demo_logs(dest)
    assert tree_bytes(dest) == expected


def test_another_seed_in_the_same_folder_replaces_the_old_demo(tmp_path: Path) -> None:
    write_demo_logs(tmp_path / "shared", seed=1)
    (tmp_path / "shared" / "notes.txt").write_text("mine")
    write_demo_logs(tmp_path / "shared", seed=2)
    write_demo_logs(tmp_path / "fresh", seed=2)
    shared = tree_bytes(tmp_path / "shared")
    assert shared.pop("notes.txt") == b"mine"  # files the demo did not write are left alone
    assert shared == tree_bytes(tmp_path / "fresh")


# ---- layout and shape ------------------------------------------------------------------------


def test_layout_is_the_s3_delivery_layout(demo) -> None:
    summary, root = demo
    assert summary.root == root
    logs, digests = [], []
    for path in root.rglob("*.json.gz"):
        rel = path.relative_to(root).as_posix()
        if LOG_PATH.fullmatch(rel):
            logs.append(rel)
        elif DIGEST_PATH.fullmatch(rel):
            digests.append(rel)
        else:
            pytest.fail(f"not an S3 delivery path: {rel}")
    assert len(logs) == summary.files
    assert len(digests) == 1
    regions = {LOG_PATH.fullmatch(rel)["region"] for rel in logs}
    assert regions == {"us-east-1", "eu-west-1"}
    assert {LOG_PATH.fullmatch(rel)["acct"] for rel in logs} == {ACCOUNT}


def test_every_log_file_is_gzip_json_records_of_events(demo) -> None:
    summary, root = demo
    total = 0
    for path in log_files(root):
        document = read_gz_json(path)
        assert list(document) == ["Records"]
        assert isinstance(document["Records"], list) and document["Records"]
        region = path.parent.parent.parent.parent.name
        for record in document["Records"]:
            assert isinstance(record, dict)
            for field in ("eventID", "eventTime", "eventName", "eventSource", "awsRegion"):
                assert isinstance(record.get(field), str) and record[field], field
            assert EVENT_TIME.match(record["eventTime"])
            assert UUID4.match(record["eventID"])
            assert record["awsRegion"] == region
            assert record["eventVersion"] in ("1.08", "1.09")
            assert record["recipientAccountId"] == ACCOUNT
            assert record["eventCategory"] in ("Management", "Data")
            assert record["eventType"] in ("AwsApiCall", "AwsConsoleSignIn")
            assert isinstance(record["userIdentity"], dict) and record["userIdentity"].get("type")
        total += len(document["Records"])
    assert total == summary.events
    assert 600 <= summary.events <= 1500


def test_events_span_one_day_of_about_six_hours(records) -> None:
    times = sorted(record["eventTime"] for _, _, record in records)
    assert times[0] >= "2026-03-14T08:00:00Z" and times[-1] < "2026-03-14T14:00:00Z"
    assert times[0] < "2026-03-14T08:15:00Z" and times[-1] > "2026-03-14T13:45:00Z"


def test_digest_file_lists_log_files_and_holds_no_records(demo) -> None:
    _, root = demo
    (digest,) = [p for p in root.rglob("*.json.gz") if "CloudTrail-Digest" in p.name]
    document = read_gz_json(digest)
    assert "Records" not in document
    for key in ("awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket",
                "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "logFiles"):  # fmt: skip
        assert key in document, key
    assert document["logFiles"]
    for entry in document["logFiles"]:
        assert (root / entry["s3Object"]).is_file()


def test_s3_data_events_report_bytes_transferred(records) -> None:
    data = [r for _, _, r in records if r["eventSource"] == "s3.amazonaws.com" and r["eventCategory"] == "Data"]
    assert data
    for record in data:
        extra = record["additionalEventData"]
        assert isinstance(extra["bytesTransferredIn"], int) and isinstance(extra["bytesTransferredOut"], int)
        assert record["managementEvent"] is False
        assert any(res["type"] == "AWS::S3::Bucket" for res in record["resources"])


def test_identity_shapes_follow_the_user_identity_element(records) -> None:
    kinds = Counter()
    for _, _, record in records:
        identity = record["userIdentity"]
        kinds[identity["type"]] += 1
        if identity["type"] == "AssumedRole":
            assert identity["accessKeyId"].startswith("ASIA")
            issuer = identity["sessionContext"]["sessionIssuer"]
            assert issuer["type"] == "Role" and identity["arn"].split("/")[1] == issuer["userName"]
            assert EVENT_TIME.match(identity["sessionContext"]["attributes"]["creationDate"])
            assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] in ("true", "false")
        elif identity["type"] == "IAMUser" and identity.get("accessKeyId", "").startswith("AKIA"):
            assert "sessionContext" not in identity
        elif identity["type"] == "AWSService":
            assert identity["invokedBy"].endswith(".amazonaws.com")
    assert {"IAMUser", "AssumedRole", "Root", "AWSService", "AWSAccount"} <= set(kinds)
    invokers = {r["userIdentity"]["invokedBy"] for _, _, r in records if r["userIdentity"]["type"] == "AWSService"}
    assert {"cloudtrail.amazonaws.com", "s3.amazonaws.com"} <= invokers
    service_hosts = {r["sourceIPAddress"] for _, _, r in records if r["sourceIPAddress"].endswith(".amazonaws.com")}
    assert "s3.amazonaws.com" in service_hosts
    assert sum(":" in r["sourceIPAddress"] for _, _, r in records) >= 2  # IPv6


# ---- the story -------------------------------------------------------------------------------


def test_anonymous_get_object_on_the_public_bucket(records) -> None:
    anonymous = [
        r for r in distinct(records)
        if r["userIdentity"] == {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
        and r["eventName"] == "GetObject"
    ]  # fmt: skip
    by_bucket = Counter(r["requestParameters"]["bucketName"] for r in anonymous)
    assert by_bucket["demo-public-assets"] == 15


def test_leaked_ci_deploy_key_hits_access_denied(records) -> None:
    denied = [
        r for r in distinct(records)
        if r.get("errorCode") == "AccessDenied" and r["userIdentity"].get("userName") == "ci-deploy"
    ]  # fmt: skip
    assert len(denied) == 40
    for record in denied:
        assert record["userIdentity"]["accessKeyId"].startswith("AKIA")
        assert record["errorMessage"].startswith(f"User: arn:aws:iam::{ACCOUNT}:user/ci-deploy is not authorized")
    assert {r["sourceIPAddress"] for r in denied} == {"198.51.100.23"}
    assert {r["eventSource"] for r in denied} == {"iam.amazonaws.com", "s3.amazonaws.com"}
    # Leaked, not new: the same long-term key is ci-deploy's own, used by its CI runner too.
    (key,) = {r["userIdentity"]["accessKeyId"] for r in denied}
    used_from = {r["sourceIPAddress"] for r in distinct(records) if r["userIdentity"].get("accessKeyId") == key}
    assert "198.51.100.23" in used_from and len(used_from) > 1


def test_assume_role_key_signs_the_exfiltration(records) -> None:
    events = distinct(records)
    (assume,) = [
        r for r in events
        if r["eventName"] == "AssumeRole" and r["userIdentity"].get("userName") == "ci-deploy"
    ]  # fmt: skip
    role_arn = assume["requestParameters"]["roleArn"]
    assert role_arn == f"arn:aws:iam::{ACCOUNT}:role/DataPipeline"
    assert assume["sourceIPAddress"] == "198.51.100.23"
    key = assume["responseElements"]["credentials"]["accessKeyId"]
    assert key == "ASIAQ3EGL7KD2VYB6WPE"  # the README's /akid: example
    signed = [r for r in events if r["userIdentity"].get("accessKeyId") == key]
    assert signed and all(r["eventTime"] >= assume["eventTime"] for r in signed)
    assert {r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] for r in signed} == {role_arn}
    stolen = [
        r for r in signed
        if r["eventName"] == "GetObject" and r["requestParameters"]["bucketName"] == "finance-reports"
        and "errorCode" not in r
    ]  # fmt: skip
    assert len(stolen) == 100
    assert all(r["additionalEventData"]["bytesTransferredOut"] > 0 for r in stolen)
    names = {r["eventName"] for r in signed}
    assert {"PutBucketPolicy", "DeleteBucketPublicAccessBlock", "CreateUser", "CreateAccessKey", "StopLogging"} <= names


def test_the_public_policy_and_the_persistence_user(records) -> None:
    events = distinct(records)
    (policy,) = [r for r in events if r["eventName"] == "PutBucketPolicy"]
    statement = policy["requestParameters"]["bucketPolicy"]["Statement"][0]
    assert statement["Principal"] == "*" and policy["requestParameters"]["bucketName"] == "finance-reports"
    (user,) = [r for r in events if r["eventName"] == "CreateUser"]
    assert user["requestParameters"]["userName"] == "backup-svc"
    (key,) = [r for r in events if r["eventName"] == "CreateAccessKey"]
    assert key["responseElements"]["accessKey"]["accessKeyId"].startswith("AKIA")


def test_no_event_is_logged_while_the_trail_is_stopped(records) -> None:
    events = distinct(records)
    (stop,) = [r for r in events if r["eventName"] == "StopLogging"]
    (start,) = [r for r in events if r["eventName"] == "StartLogging"]
    assert stop["eventTime"] < start["eventTime"]
    assert not [r for r in events if stop["eventTime"] < r["eventTime"] < start["eventTime"]]


def test_root_console_login_without_mfa(records) -> None:
    logins = [
        r for r in distinct(records)
        if r["eventName"] == "ConsoleLogin" and r["userIdentity"]["type"] == "Root"
    ]  # fmt: skip
    assert len(logins) == 1
    (login,) = logins
    assert login["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert login["additionalEventData"]["MFAUsed"] == "No"
    assert login["eventType"] == "AwsConsoleSignIn"
    alice = [
        r for r in distinct(records)
        if r["eventName"] == "ConsoleLogin" and r["userIdentity"].get("userName") == "alice"
    ]  # fmt: skip
    assert [r["additionalEventData"]["MFAUsed"] for r in alice] == ["Yes"]


def test_cross_account_s3_calls_are_logged_for_the_bucket_owner(records) -> None:
    cross = [r for _, _, r in records if r["userIdentity"].get("accountId") == PARTNER]
    assert cross
    assert {r["recipientAccountId"] for r in cross} == {ACCOUNT}
    assert {r["userIdentity"]["type"] for r in cross} == {"AssumedRole", "AWSAccount"}
    assert {r["eventSource"] for r in cross} == {"s3.amazonaws.com"}


def test_glacier_calls_name_their_vault(records) -> None:
    glacier = [r for _, _, r in records if r["eventSource"] == "glacier.amazonaws.com"]
    assert {r["eventName"] for r in glacier} >= {"ListVaults", "UploadArchive"}
    assert all(r["requestParameters"]["vaultName"] for r in glacier if r["eventName"] == "UploadArchive")


def test_exactly_the_reported_duplicates_are_delivered_twice(demo, records) -> None:
    summary, _ = demo
    copies: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for name, raw, record in records:
        copies[record["eventID"]].append((name, raw))
    twice = {event_id: found for event_id, found in copies.items() if len(found) == 2}
    assert summary.duplicates == 5
    assert len(twice) == summary.duplicates
    assert all(len(found) <= 2 for found in copies.values())
    for (file_a, raw_a), (file_b, raw_b) in twice.values():
        assert file_a != file_b
        assert raw_a == raw_b
    assert len(copies) == summary.events - summary.duplicates == summary.distinct_events


def test_duplicated_records_are_byte_identical_in_the_files(demo) -> None:
    _, root = demo
    raw_by_id: dict[str, set[bytes]] = defaultdict(set)
    for path in log_files(root):
        document = msgspec.json.decode(gzip.decompress(path.read_bytes()), type=dict[str, list[msgspec.Raw]])
        for raw in document["Records"]:
            raw_by_id[json.loads(bytes(raw))["eventID"]].add(bytes(raw))
    assert sum(1 for versions in raw_by_id.values() if len(versions) == 1) == len(raw_by_id)
