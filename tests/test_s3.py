"""S3 and Glacier as the user guides describe them: levels, the s3: filter, SOAP names, the
detail pane's S3 header and DeleteObjects note."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_event, write_records
from trailtui.core.filter import FilterError, compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery
from trailtui.core.s3 import (
    DELETE_OBJECTS_NOTE,
    event_summary,
    glacier_vault,
    s3_level,
    soap_event_name,
)

GLACIER = {"accountId": "-", "vaultName": "photos"}


def s3_events() -> list[dict]:
    """One S3 event per interesting name, plus look-alikes from other services."""
    names = [
        "PutAccountPublicAccessBlock",  # account-level
        "CreateBucket", "PutBucketAcl", "ListBuckets", "GetBucketLogging", "PreflightRequest",  # bucket-level
        "GetObject", "DeleteObjects", "ListObjects", "ListObjectVersions", "HeadBucket",  # object-level
        "PutBucketOwnershipControls",  # S3, but in none of the guide's lists
    ]
    events = [make_event(f"s3-{name}", name, eventTime=f"2026-03-14T10:{i:02d}:00Z") for i, name in enumerate(names)]
    events += [
        make_event("iam-CreateBucket", "CreateBucket", eventSource="iam.amazonaws.com"),  # not S3
        make_event("glacier-upload", "UploadArchive", eventSource="glacier.amazonaws.com", requestParameters=GLACIER),
    ]
    return events


@pytest.fixture
def db(tmp_path: Path):
    write_records(tmp_path / "logs" / "a.json", s3_events())
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [tmp_path / "logs"])
    return conn


def ids(conn, text: str) -> set[str]:
    compiled = compile_filter(text)
    return {row[0] for row in EventQuery(conn, compiled).iter_rows(["eventID"])}


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("DeleteAccountPublicAccessBlock", "account"),
        ("GetAccountPublicAccessBlock", "account"),
        ("CreateBucket", "bucket"),
        ("PutBucketPolicy", "bucket"),
        ("ListBuckets", "bucket"),
        ("GetObjectLockConfiguration", "bucket"),  # listed with the bucket-level actions
        ("PreflightRequest", "bucket"),  # OPTIONS object "is treated like a bucket-level action"
        ("PutObject", "object"),
        ("CompleteMultipartUpload", "object"),
        ("ListObjects", "object"),  # List Objects v2: logged as an object-level action
        ("ListObjectVersions", "object"),
        ("HeadBucket", "object"),
        ("DeleteObjects", "object"),
        ("getobject", "object"),  # case-insensitive, as filters are
    ],
)
def test_levels_follow_the_user_guide_lists(name: str, level: str) -> None:
    assert s3_level("s3.amazonaws.com", name) == level


def test_no_level_outside_s3_or_the_lists() -> None:
    assert s3_level("iam.amazonaws.com", "CreateBucket") is None
    assert s3_level("s3.amazonaws.com", "PutBucketOwnershipControls") is None
    assert s3_level(None, "GetObject") is None
    assert s3_level("s3.amazonaws.com", None) is None


def test_s3_filter_selects_each_level(db) -> None:
    assert ids(db, "s3:account") == {"s3-PutAccountPublicAccessBlock"}
    assert ids(db, "s3:bucket") == {
        "s3-CreateBucket", "s3-PutBucketAcl", "s3-ListBuckets", "s3-GetBucketLogging", "s3-PreflightRequest",
    }
    assert ids(db, "s3:object") == {
        "s3-GetObject", "s3-DeleteObjects", "s3-ListObjects", "s3-ListObjectVersions", "s3-HeadBucket",
    }
    assert ids(db, "s3:account,object") == ids(db, "s3:account") | ids(db, "s3:object")
    assert ids(db, "S3:BUCKET") == ids(db, "s3:bucket")


def test_negated_s3_filter_keeps_everything_else(db) -> None:
    kept = ids(db, "-s3:object")
    assert "iam-CreateBucket" in kept and "glacier-upload" in kept and "s3-PutBucketOwnershipControls" in kept
    assert "s3-GetObject" not in kept


def test_unknown_level_names_the_valid_ones() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter("is:error s3:objects")
    assert caught.value.position == len("is:error s3:")
    assert "account, bucket, object" in str(caught.value)
    with pytest.raises(FilterError):
        compile_filter("s3:obj*")


def test_s3_level_binds_its_names_as_parameters() -> None:
    compiled = compile_filter("s3:account")
    assert "PutAccountPublicAccessBlock" not in compiled.where
    assert "PutAccountPublicAccessBlock" in compiled.params


@pytest.mark.parametrize(
    ("soap", "logged_as"),
    [
        ("ListAllMyBuckets", "ListBuckets"),
        ("SetBucketAccessControlPolicy", "PutBucketAcl"),
        ("GetBucketAccessControlPolicy", "GetBucketAcl"),
        ("SetBucketLoggingStatus", "PutBucketLogging"),
        ("GetBucketLoggingStatus", "GetBucketLogging"),
        ("CreateBucket", "CreateBucket"),
    ],
)
def test_soap_table(soap: str, logged_as: str) -> None:
    assert soap_event_name(soap) == logged_as
    assert soap_event_name(soap.lower()) == logged_as


def test_typing_a_soap_name_finds_the_cloudtrail_event(db) -> None:
    assert ids(db, "name:ListAllMyBuckets") == {"s3-ListBuckets"}
    assert ids(db, "eventName:SetBucketAccessControlPolicy") == {"s3-PutBucketAcl"}
    assert ids(db, "name:getbucketloggingstatus") == {"s3-GetBucketLogging"}
    assert ids(db, "name:ListAllMyBuckets,GetObject") == {"s3-ListBuckets", "s3-GetObject"}
    # Only an exact SOAP name maps: a wildcard or another field does not.
    assert ids(db, "name:ListAllMyBucket*") == set()
    assert ids(db, "agent:ListAllMyBuckets") == set()
    assert "s3-ListBuckets" not in ids(db, "-name:ListAllMyBuckets")


def test_s3_level_bucket_and_object_columns(db) -> None:
    query = EventQuery(db, compile_filter("source:s3"), newest_first=False)
    rows = {row[0]: row[1:] for row in query.iter_rows(["eventName", "s3Level", "bucketName", "object"])}
    assert rows["GetObject"] == ("object", "finance-reports", "q1/payroll.csv")
    assert rows["CreateBucket"][0] == "bucket"
    assert rows["PutAccountPublicAccessBlock"][0] == "account"
    assert rows["PutBucketOwnershipControls"][0] is None


def test_glacier_vault_and_summaries() -> None:
    upload = make_event("g", "UploadArchive", eventSource="glacier.amazonaws.com", requestParameters=GLACIER)
    assert glacier_vault(upload) == "photos"
    assert event_summary(upload) == "S3 Glacier · vault photos"
    assert glacier_vault(make_event("s", "GetObject")) is None
    assert event_summary(make_event("s", "GetObject")) == "S3 object-level · data event"
    assert event_summary(make_event("s", "PutBucketPolicy")) == "S3 bucket-level · management event"
    assert event_summary(make_event("i", "CreateUser", eventSource="iam.amazonaws.com")) is None


async def test_detail_pane_shows_the_level_vault_and_deleteobjects_note(db, tmp_path: Path) -> None:
    from trailtui.tui.app import TrailApp

    app = TrailApp(db_path=tmp_path / "index.sqlite", start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        for text, expected_title in (
            ("name:DeleteObjects", "S3 object-level · data event"),
            ("name:CreateBucket source:s3", "S3 bucket-level · management event"),
            ("name:UploadArchive", "S3 Glacier · vault photos"),
        ):
            app.set_filter(text)
            await pilot.pause(0.3)
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            detail = app.detail
            assert expected_title in detail.border_title
            first_line = detail.root.children[0].label.plain
            if text == "name:DeleteObjects":
                assert first_line == "note: " + DELETE_OBJECTS_NOTE
                assert "CloudTrail does not log the key names deleted by DeleteObjects" in first_line
            else:
                assert not first_line.startswith("note:")
