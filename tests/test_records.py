"""The record builders (trailtui.core.demo.records) make records trailtui reads as the AWS
documentation says they mean: who called (principal, session, credential), which key an event
handed out, which S3 object it touched and when."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from trailtui.core.demo import records
from trailtui.core.ingest.extract import (
    ANONYMOUS_PRINCIPAL,
    issued_access_key_id,
    normalize_event_time,
    principal_key,
    session_key,
)
from trailtui.core.times import event_time_text

ACCOUNT = "111122223333"
CALL = dict(event_time="2026-03-14T11:10:05Z", event_id="e1", source_ip_address="198.51.100.23",
            user_agent="aws-cli/2.15.30")  # fmt: skip


def test_each_identity_type_has_the_principal_and_session_the_user_guide_describes() -> None:
    user = records.iam_user("ci-deploy", principal_id="AIDAEXAMPLE", access_key_id="AKIAEXAMPLE000000001")
    assert principal_key(user) == f"arn:aws:iam::{ACCOUNT}:user/ci-deploy" and session_key(user) is None
    role = records.assumed_role("DataPipeline", "pipeline-debug", role_id="AROAEXAMPLE",
                                access_key_id="ASIAEXAMPLE000000001", session_created="2026-03-14T11:10:05Z")
    assert principal_key(role) == f"arn:aws:iam::{ACCOUNT}:role/DataPipeline"
    assert session_key(role) == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/DataPipeline/pipeline-debug @ 2026-03-14T11:10:05Z"
    )
    federated = records.federated_user("bob", access_key_id="ASIAEXAMPLE000000002",
                                       session_created="2026-03-14T10:00:00Z", issuer_user_name="alice",
                                       issuer_principal_id="AIDAEXAMPLEALICE")
    assert principal_key(federated) == f"arn:aws:iam::{ACCOUNT}:user/alice"  # who called GetFederationToken
    assert session_key(federated) == f"arn:aws:sts::{ACCOUNT}:federated-user/bob @ 2026-03-14T10:00:00Z"
    console_root = records.root(access_key_id="ASIAEXAMPLE000000003", console_session_created="2026-03-14T09:31:05Z")
    assert principal_key(console_root) == f"arn:aws:iam::{ACCOUNT}:root" and session_key(console_root)
    assert principal_key(records.aws_service("cloudtrail.amazonaws.com")) == "cloudtrail.amazonaws.com"
    assert principal_key(records.anonymous_caller()) == ANONYMOUS_PRINCIPAL
    assert principal_key(records.aws_account("444455556666", "AROAEXAMPLE:etl")) == "account:444455556666"
    sso = records.identity_center_user("u-1", identity_store_id="d-9067642ac7", credential_id="c")
    assert principal_key(sso) == "identity-center:u-1"
    assert records.invoked_by(role, "s3.amazonaws.com")["invokedBy"] == "s3.amazonaws.com" and "invokedBy" not in role


def test_assume_role_and_create_access_key_hand_out_the_key_given() -> None:
    caller = records.iam_user("ci-deploy", principal_id="AIDAEXAMPLE", access_key_id="AKIAEXAMPLE000000001")
    assume = records.assume_role_call("DataPipeline", "pipeline-debug", user_identity=caller, role_id="AROAEXAMPLE",
                                      issued_access_key_id="ASIAEXAMPLE000000009",
                                      expiration="Mar 14, 2026, 11:10:05 PM", **CALL)  # fmt: skip
    assert issued_access_key_id(assume) == "ASIAEXAMPLE000000009"
    assert assume["requestParameters"]["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/DataPipeline"
    create = records.create_access_key_call("backup-svc", user_identity=caller, access_key_id="AKIAEXAMPLE000000009",
                                            **CALL)  # fmt: skip
    assert issued_access_key_id(create) == "AKIAEXAMPLE000000009" and create["readOnly"] is False


def test_s3_calls_carry_bucket_key_and_signature_only_when_signed() -> None:
    signed = records.s3_call("GetObject", "finance-reports", "q1/payroll.csv", user_identity=records.root(),
                             read_only=True, management_event=False, bytes_transferred_out=2048, **CALL)  # fmt: skip
    assert signed["requestParameters"]["bucketName"] == "finance-reports"
    assert signed["requestParameters"]["key"] == "q1/payroll.csv"
    assert signed["eventCategory"] == "Data" and signed["additionalEventData"]["bytesTransferredOut"] == 2048
    assert signed["additionalEventData"]["SignatureVersion"] == "SigV4"
    assert {r["ARN"] for r in signed["resources"]} == {"arn:aws:s3:::finance-reports",
                                                       "arn:aws:s3:::finance-reports/q1/payroll.csv"}  # fmt: skip
    unsigned = records.s3_call("GetObject", "demo-public-assets", "index.html",
                               user_identity=records.anonymous_caller(), read_only=True, management_event=False,
                               **CALL)  # fmt: skip
    assert "SignatureVersion" not in unsigned["additionalEventData"]
    denied = records.s3_call("ListBuckets", None, user_identity=records.root(), read_only=True, management_event=True,
                             access_denied="User: x is not authorized", **CALL)  # fmt: skip
    assert (denied["errorCode"], denied["errorMessage"]) == ("AccessDenied", "User: x is not authorized")


def test_console_login_reports_mfa_and_failure() -> None:
    ok = records.console_login(records.root(access_key_id=""), mfa_used=False, **CALL)
    assert ok["eventType"] == "AwsConsoleSignIn" and ok["additionalEventData"]["MFAUsed"] == "No"
    assert "requestID" not in ok and "errorMessage" not in ok
    failed = records.console_login(records.root(), mfa_used=True, success=False, **CALL)
    assert failed["responseElements"] == {"ConsoleLogin": "Failure"} and failed["errorMessage"]


def test_times_are_written_as_cloudtrail_and_sts_write_them() -> None:
    moment = datetime(2026, 3, 14, 23, 10, 5, tzinfo=timezone(timedelta(hours=2)))  # 21:10:05 UTC
    assert event_time_text(moment) == normalize_event_time("2026-03-14T23:10:05+02:00") == "2026-03-14T21:10:05Z"
    assert records.sts_time_text(moment) == "Mar 14, 2026, 9:10:05 PM"
    with pytest.raises(ValueError):
        event_time_text(datetime(2026, 3, 14))
