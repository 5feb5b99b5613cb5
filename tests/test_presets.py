"""Presets (the built-in rule pack's rules): each compiles, finds what its "why" says and not a
near miss; the palette lists them and puts them in the filter bar; the Athena presets print the
user guide's columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_event
from trailtui.core.columns import BY_NAME
from trailtui.core.demo import records
from trailtui.core.demo.records import anonymous_caller, assumed_role, iam_user, root
from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.presets import (
    ATHENA_COLUMNS,
    PRESETS,
    UnknownPreset,
    get_preset,
    preset_filter,
    time_span_terms,
)
from trailtui.core.query import EventQuery

IAM_USER = iam_user("bob", principal_id="AIDAEXAMPLEBOB", access_key_id="AKIAEXAMPLEBOB000001")
ROOT = root()
FEDERATED = {
    "type": "AssumedRole", "principalId": "AROAEXAMPLESSO:carol@example.com",
    "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin/carol@example.com",
    "accountId": "111122223333",
}
ANONYMOUS = anonymous_caller()
# The marker in principalId as well (extract.principal_key takes either as anonymous).
ANONYMOUS_BY_PRINCIPAL = {"type": "AWSAccount", "principalId": "ANONYMOUS_PRINCIPAL", "accountId": "ANONYMOUS_PRINCIPAL"}


def instance_role(instance: str) -> dict:
    """Instance-profile credentials of role WebServer on EC2 instance ``instance`` (the session name)."""
    return assumed_role("WebServer", instance, role_id="AROAEXAMPLEWEB", access_key_id="ASIAEXAMPLEWEB000001",
                        session_created="2026-03-14T09:00:00Z", ec2_role_delivery="2.0")


def call(name: str, source: str, **fields) -> dict:
    """A management event of ``source`` (``iam`` -> iam.amazonaws.com) by IAM user bob."""
    fields.setdefault("userIdentity", IAM_USER)
    fields.setdefault("requestParameters", None)
    fields.setdefault("eventCategory", "Management")
    return make_event("", name, eventSource=f"{source}.amazonaws.com", **fields)


def console_login(result: str, mfa: str, identity: dict = IAM_USER) -> dict:
    """A ConsoleLogin (``result`` "Success" or "Failure", ``mfa`` the MFAUsed "Yes" or "No")."""
    return records.console_login(identity, event_time="2026-03-14T10:00:00Z", event_id="",
                                 source_ip_address="198.51.100.7", user_agent="Mozilla/5.0",
                                 mfa_used=mfa == "Yes", success=result == "Success")


def ingress(cidr: str, name: str = "AuthorizeSecurityGroupIngress") -> dict:
    permissions = {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                              "ipRanges": {"items": [{"cidrIp": cidr}]}}]}
    return call(name, "ec2", requestParameters={"groupId": "sg-0123456789abcdef0", "ipPermissions": permissions})


def s3(name: str, **fields) -> dict:
    return make_event("", name, **fields)


#: preset name -> (events it must find, near misses it must not find).
CASES: dict[str, tuple[list[dict], list[dict]]] = {
    "s3-put-object": ([s3("PutObject")], [s3("GetObject"), s3("PutObjectAcl")]),
    "s3-get-object": ([s3("GetObject")], [s3("PutObject"), s3("GetObjectAcl")]),
    "s3-anonymous": (
        [s3("GetObject", userIdentity=ANONYMOUS), s3("PutObject", userIdentity=ANONYMOUS_BY_PRINCIPAL)],
        [s3("GetObject"), s3("GetObject", userIdentity={**ANONYMOUS, "accountId": "444455556666"})],
    ),
    "console-login-no-mfa": (
        [console_login("Success", "No"), console_login("Success", "No", ROOT)],
        # MFA used; a failed attempt; a federated (SSO) sign-in whose MFA is at the IdP.
        [console_login("Success", "Yes"), console_login("Failure", "No"), console_login("Success", "No", FEDERATED)],
    ),
    "console-login-failed": ([console_login("Failure", "No")], [console_login("Success", "No")]),
    "root-activity": (
        [call("CreateAccessKey", "iam", userIdentity=ROOT)],
        [
            call("CreateAccessKey", "iam"),  # an IAM user
            call("AssumeRole", "sts", userIdentity={**ROOT, "invokedBy": "cloudformation.amazonaws.com"}),
            call("CreateServiceLinkedRole", "iam", userIdentity=ROOT, eventType="AwsServiceEvent"),
        ],
    ),
    "access-denied": (
        [call("ListUsers", "iam", errorCode="AccessDenied"),
         call("DescribeInstances", "ec2", errorCode="Client.UnauthorizedOperation")],
        [s3("GetObject", errorCode="NoSuchKey"), call("ListUsers", "iam")],
    ),
    "new-credentials": (
        [call("CreateAccessKey", "iam"), call("CreateUser", "iam"), call("CreateLoginProfile", "iam")],
        [call("ListAccessKeys", "iam"), call("DeleteAccessKey", "iam"), call("CreateUser", "identitystore")],
    ),
    "privilege-escalation": (
        [call("AttachUserPolicy", "iam"), call("CreatePolicyVersion", "iam"), call("AddUserToGroup", "iam")],
        [call("DetachUserPolicy", "iam"), call("GetPolicyVersion", "iam")],
    ),
    "logging-tampering": (
        [call("StopLogging", "cloudtrail"), call("PutEventSelectors", "cloudtrail"),
         call("DeleteDetector", "guardduty"), call("StopConfigurationRecorder", "config")],
        [call("StartLogging", "cloudtrail"), call("DescribeTrails", "cloudtrail"), call("GetDetector", "guardduty")],
    ),
    "bucket-made-public": (
        [s3("PutBucketPolicy"), s3("PutBucketAcl"), s3("DeleteBucketPublicAccessBlock")],
        [s3("GetBucketPolicy"), s3("GetBucketAcl"), s3("DeleteBucketPolicy")],
    ),
    "security-group-open-world": (
        [ingress("0.0.0.0/0")],
        [ingress("10.0.0.0/8"), ingress("0.0.0.0/0", "RevokeSecurityGroupIngress")],
    ),
    "secrets-read": (
        [call("GetSecretValue", "secretsmanager"), call("GetParameter", "ssm")],
        [call("DescribeSecret", "secretsmanager"), call("PutParameter", "ssm")],
    ),
    "instance-credentials-outside": (
        [call("ListBuckets", "s3", userIdentity=instance_role("i-0abc1234def567890"), sourceIPAddress="203.0.113.50")],
        [
            call("ListBuckets", "s3", userIdentity=instance_role("i-0abc1234def567890"), sourceIPAddress="10.0.3.4"),
            call("ListBuckets", "s3", userIdentity=instance_role("i-0abc1234def567890"),
                 sourceIPAddress="ec2.amazonaws.com"),
            call("ListBuckets", "s3", userIdentity=FEDERATED, sourceIPAddress="203.0.113.50"),
        ],
    ),
    "mass-delete-objects": ([s3("DeleteObject"), s3("DeleteObjects")], [s3("GetObject"), s3("DeleteBucket")]),
    "caller-identity-recon": ([call("GetCallerIdentity", "sts")], [call("GetSessionToken", "sts")]),
    "mfa-removed": ([call("DeactivateMFADevice", "iam")], [call("EnableMFADevice", "iam")]),
    "kms-key-deletion": ([call("ScheduleKeyDeletion", "kms")], [call("CancelKeyDeletion", "kms")]),
    "glacier-vault-deletion": (
        [call("DeleteArchive", "glacier"), call("DeleteVault", "glacier")],
        [call("UploadArchive", "glacier"), call("DeleteObject", "s3")],
    ),
    "s3-signature-v2": (
        [s3("GetObject", additionalEventData={"SignatureVersion": "SigV2"})],
        [s3("GetObject", additionalEventData={"SignatureVersion": "SigV4"}),
         call("DescribeInstances", "ec2", additionalEventData={"SignatureVersion": "SigV2"})],
    ),
    "s3-acl-required": (
        [s3("PutObject", additionalEventData={"aclRequired": "Yes"})],
        [s3("PutObject", additionalEventData={"SignatureVersion": "SigV4"})],
    ),
    "s3-other-account-access": (
        # bob of 111122223333 in a bucket of 444455556666.
        [s3("GetObject", recipientAccountId="444455556666")],
        [s3("GetObject", recipientAccountId=IAM_USER["accountId"]),
         s3("GetObject", userIdentity=ANONYMOUS, recipientAccountId="444455556666"),
         s3("GetObject", userIdentity={"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
            recipientAccountId="444455556666")],
    ),
    "tls-outdated": (
        [s3("GetObject", tlsDetails={"tlsVersion": "TLSv1"}), call("ListUsers", "iam", tlsDetails={"tlsVersion": "TLSv1.1"})],
        [s3("GetObject", tlsDetails={"tlsVersion": "TLSv1.2"}), s3("GetObject", tlsDetails={"tlsVersion": "TLSv1.3"})],
    ),
}


def _all_events() -> list[dict]:
    events = []
    for preset, (hits, misses) in CASES.items():
        for kind, group in (("hit", hits), ("miss", misses)):
            for number, event in enumerate(group):
                events.append({**event, "eventID": f"{preset}:{kind}:{number}"})
    return events


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    import json

    root = tmp_path_factory.mktemp("presets")
    (root / "logs").mkdir()
    (root / "logs" / "events.json").write_text(json.dumps({"Records": _all_events()}))
    conn = connect(root / "index.sqlite")
    index_paths(conn, [root / "logs"])
    return conn


def found(conn, text: str) -> set[str]:
    return {row[0] for row in EventQuery(conn, compile_filter(text)).iter_rows(["eventID"])}


def test_the_pack_holds_the_incident_presets_and_the_user_guides_questions() -> None:
    groups = [preset.group for preset in PRESETS]
    assert groups.count("incident response") >= 12
    assert {p.name for p in PRESETS if p.group == "S3 user guide"} >= {
        "s3-put-object", "s3-get-object", "s3-anonymous", "s3-signature-v2", "s3-acl-required"}
    assert len({preset.name for preset in PRESETS}) == len(PRESETS)
    assert len({preset.id for preset in PRESETS}) == len(PRESETS)
    for preset in PRESETS:
        assert preset.title and preset.why and "\n" not in preset.why
        assert preset.level in ("informational", "low", "medium", "high", "critical")
        # Every rule says what a responder looks for: an ATT&CK tactic, or Sigma's threat-hunting tag.
        assert preset.tactics or "detection.threat-hunting" in preset.tags, preset.name
        assert all(name in BY_NAME for name in preset.columns or ()), preset.name


def test_every_preset_has_a_case() -> None:
    assert set(CASES) == {preset.name for preset in PRESETS}


@pytest.mark.parametrize("preset", PRESETS, ids=lambda preset: preset.name)
def test_preset_finds_what_its_why_says_and_not_the_near_miss(db, preset) -> None:
    compile_filter(preset.filter)  # compiles (raises FilterError otherwise)
    hits, misses = CASES[preset.name]
    result = found(db, preset.filter)
    assert {f"{preset.name}:hit:{n}" for n in range(len(hits))} <= result
    assert not result & {f"{preset.name}:miss:{n}" for n in range(len(misses))}


def test_athena_presets_print_the_user_guides_columns() -> None:
    assert ATHENA_COLUMNS == (
        "eventTime", "eventName", "eventSource", "sourceIPAddress", "userAgent", "bucketName", "object", "userArn",
    )
    for name in ("s3-put-object", "s3-get-object", "s3-anonymous"):
        assert get_preset(name).columns == ATHENA_COLUMNS and get_preset(name).time_range


def test_time_range_and_extra_terms_are_anded(db) -> None:
    preset = get_preset("s3-get-object")
    text = preset_filter(preset, since="2026-03-14T10:00:00Z", until="2026-03-14T10:00:01Z", extra="-error:*")
    assert text == ("eventSource:s3.amazonaws.com AND eventName:GetObject "
                    "since:2026-03-14T10:00:00Z until:2026-03-14T10:00:01Z -error:*")
    assert "s3-get-object:hit:0" in found(db, text)
    assert found(db, preset_filter(preset, until="2026-03-14T09:00:00Z")) == set()


def test_time_span_terms_include_the_last_second() -> None:
    assert time_span_terms("2018-11-28T22:31:06Z", "2018-11-28T23:59:59Z") == (
        "since:2018-11-28T22:31:06Z until:2018-11-29T00:00:00Z"
    )
    assert time_span_terms(None, "2018-11-28T23:59:59Z") == ""
    assert time_span_terms("junk", "2018-11-28T23:59:59Z") == ""


def test_unknown_preset_suggests_close_names() -> None:
    with pytest.raises(UnknownPreset) as caught:
        get_preset("s3-anonymus")
    assert "s3-anonymous" in str(caught.value)
    assert get_preset("ROOT-ACTIVITY").name == "root-activity"


# --- the app: command palette -----------------------------------------------------------------


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    import json

    events = [
        make_event(f"put-{i}", "PutObject", eventTime=f"2026-03-14T10:0{i}:00Z") for i in range(3)
    ] + [
        make_event(f"anon-{i}", "GetObject", userIdentity=ANONYMOUS, sourceIPAddress="203.0.113.9",
                   eventTime=f"2026-03-14T11:0{i}:00Z")
        for i in range(4)
    ] + [{**console_login("Success", "No"), "eventID": "login-1", "eventTime": "2026-03-14T09:00:00Z"}]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.json").write_text(json.dumps({"Records": events}))
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [tmp_path / "logs"])
    return db_path


async def settle(pilot) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


async def test_palette_lists_presets_with_why_and_applies_one(app_db: Path) -> None:
    from textual.command import CommandPalette

    from trailtui.tui.app import TrailApp

    app = TrailApp(db_path=app_db, start_loader=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert CommandPalette.is_open(app)
        await pilot.press(*"without MFA")
        await pilot.pause(0.5)
        palette = app.screen
        options = palette.query_one("CommandList")
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Console sign-in without MFA" in line for line in shown)
        assert any("A password alone opened the console" in line for line in shown)
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_one("#filter-input").value == get_preset("console-login-no-mfa").filter
        assert app.event_list.count == 1
        assert app.event_list.row_at(0).eventName == "ConsoleLogin"


async def test_athena_preset_prefills_the_range_and_shows_the_guides_columns(app_db: Path) -> None:
    from trailtui.tui.app import TrailApp

    app = TrailApp(db_path=app_db, start_loader=False)
    async with app.run_test(size=(260, 36)) as pilot:
        await settle(pilot)
        app.main_screen.apply_preset(get_preset("s3-anonymous"))
        await settle(pilot)
        filter_input = app.query_one("#filter-input")
        assert filter_input.value == (
            "(userIdentity.principalId:ANONYMOUS_PRINCIPAL OR userIdentity.accountId:ANONYMOUS_PRINCIPAL,anonymous) "
            "since:2026-03-14T09:00:00Z until:2026-03-14T11:03:01Z")
        assert app.focused is filter_input
        assert filter_input.selected_text == "2026-03-14T09:00:00Z"  # typing replaces the start
        assert app.event_list.count == 4
        header = app.event_list.header_text().plain.split()
        assert header == ["eventTime", "▼", "UTC", "eventName", "eventSource", "sourceIPAddress", "userAgent",
                          "bucketName", "object", "userArn"]
        assert app.event_list.row_at(0).bucketName == "finance-reports"
        # Typing over the selection narrows the range; the preset's columns stay.
        await pilot.press(*"2026-03-14T11:02")
        await settle(pilot)
        assert app.event_list.count == 2
        assert "bucketName" in app.event_list.header_text().plain
        # Editing the preset's filter away brings the default columns back.
        app.set_filter("name:PutObject")
        await settle(pilot)
        assert "bucketName" not in app.event_list.header_text().plain
        assert "actor" in app.event_list.header_text().plain


async def test_athena_columns_at_80x24_keep_bucket_and_object(app_db: Path) -> None:
    from trailtui.tui.app import TrailApp

    app = TrailApp(db_path=app_db, start_loader=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.apply_preset(get_preset("s3-anonymous"))
        await settle(pilot)
        header = app.event_list.header_text().plain.split()
        assert header[:5] == ["eventTime", "▼", "UTC", "eventName", "eventSource"]
        # The guide's columns are all there; l walks the list sideways to bucketName and object.
        assert "bucketName" not in app.event_list.visible_header()
        app.event_list.focus()
        await pilot.press(*"llll")  # eventSource, sourceIPAddress, userAgent, bucketName
        assert app.event_list.current == "bucketName"
        assert "bucketName" in app.event_list.visible_header()
        await pilot.press("l")
        assert "object" in app.event_list.visible_header()


async def test_palette_s3_columns_show_level_bucket_and_key(app_db: Path) -> None:
    from trailtui.tui.app import TrailApp
    from trailtui.core.columns import S3_LIST_COLUMNS as S3_COLUMN_NAMES

    app = TrailApp(db_path=app_db, start_loader=False)
    async with app.run_test(size=(200, 36)) as pilot:
        await settle(pilot)
        app.main_screen.set_list_columns(S3_COLUMN_NAMES)
        app.set_filter("name:PutObject")
        await settle(pilot)
        row = app.event_list.row_at(0)
        assert (row.s3Level, row.bucketName, row.object) == ("object", "finance-reports", "q1/payroll.csv")
        assert "s3Level" in app.event_list.header_text().plain
        app.main_screen.set_list_columns(None)
        await settle(pilot)
        assert "s3Level" not in app.event_list.header_text().plain
