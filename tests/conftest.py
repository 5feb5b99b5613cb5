"""Shared fixtures: the real corpus in ../shared (when present) and small log-file builders."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

#: The real CloudTrail corpus beside the checkout (see ../shared/corpus/SOURCES.md). Its licences
#: forbid copying it into this repository, so tests read it in place and skip where it is absent.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    """The shared corpus folder; skips the test when ../shared/corpus is not beside the checkout."""
    if not CORPUS.is_dir():
        pytest.skip(f"real CloudTrail corpus not found at {CORPUS} (it lives in ../shared, outside the repo)")
    return CORPUS


def make_event(event_id: str, name: str = "GetObject", **fields) -> dict:
    """A minimal but realistic CloudTrail record (record contents per the CloudTrail User Guide)."""
    event = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEALICE",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLEALICE0001",
            "userName": "alice",
        },
        "eventTime": "2026-03-14T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.30",
        "requestParameters": {"bucketName": "finance-reports", "key": "q1/payroll.csv"},
        "responseElements": None,
        "eventID": event_id,
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": "111122223333",
        "eventCategory": "Data",
    }
    event.update(fields)
    return event


def write_records(path: Path, events: list, *, gz: bool = False) -> Path:
    """Write an S3-delivery-shaped ``{"Records": [...]}`` file (gzipped if ``gz``)."""
    data = json.dumps({"Records": events}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path
