"""The filter grammar: every feature against a tiny real index of hand-written CloudTrail events.

Expected event sets are written by hand from the fixture below (record shapes per "CloudTrail
record contents" and "CloudTrail userIdentity element" in the AWS CloudTrail User Guide; the
anonymous S3 identity per "Identifying Amazon S3 requests using CloudTrail" in the S3 User Guide).
"""

from __future__ import annotations

import ipaddress
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailtui.core.demo.records import anonymous_caller, assumed_role, aws_service, iam_user, root
from trailtui.core.filter import FIELDS, CompiledFilter, FilterError, compile_filter, register_sql_functions
from trailtui.core.ingest.extract import event_time_seconds
from trailtui.core.marks import toggle_mark, unmark
from trailtui.core.store.rawstore import pack_event
from trailtui.core.store.schema import ACTOR_COLUMNS, CONTEXT_COLUMNS, VALUE_LIST_COLUMNS, EVENT_COLUMN_NAMES, schema_sql
from trailtui.core.store.shard import actor_digest, cross_account
from trailtui.core.userstate import attach_user_state, open_user_state

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
#: The fixed "now" of every relative-time test.
NOW = datetime(2021, 7, 30, 12, 0, 0, tzinfo=timezone.utc)


def _iam_user(name: str, key: str | None, account: str = ACCOUNT) -> dict:
    return iam_user(name, principal_id=f"AIDA{name.upper()}000000000001", account_id=account, access_key_id=key)


def _assumed_role(role: str, session: str, key: str) -> dict:
    return assumed_role(role, session, role_id=f"AROA{role.upper()}01", access_key_id=key,
                        session_created="2021-07-27T07:55:00Z")


ALICE = _iam_user("alice", "AKIAALICE00000000001")
ALICE_AGENT = "aws-cli/2.2.5 Python/3.8.8 Linux/5.4.0 botocore/2.0.0"


def _event(number: int, **fields) -> dict:
    """A record with the fields every API call has; ``fields`` add to or replace them."""
    event = {
        "eventVersion": "1.08",
        "eventTime": None,
        "awsRegion": "us-east-1",
        "eventID": f"ev-{number:02d}",
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    event.update(fields)
    return event


EVENTS: list[dict] = [
    _event(
        1, userIdentity=ALICE, eventTime="2021-07-26T09:15:00Z", eventSource="s3.amazonaws.com",
        eventName="GetObject", sourceIPAddress="198.51.100.7", userAgent=ALICE_AGENT,
        requestParameters={"bucketName": "finance-reports", "key": "q1/payroll.csv", "Host": "finance-reports.s3.amazonaws.com"},
        responseElements=None, requestID="REQ0001",
        additionalEventData={"bytesTransferredIn": 0, "bytesTransferredOut": 2048, "SignatureVersion": "SigV4"},
        readOnly=True, managementEvent=False, eventCategory="Data",
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::finance-reports/q1/payroll.csv"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::finance-reports"},
        ],
        tlsDetails={"tlsVersion": "TLSv1.2", "clientProvidedHostHeader": "finance-reports.s3.amazonaws.com"},
    ),
    _event(
        2, userIdentity=ALICE, eventTime="2021-07-26T10:00:00Z", eventSource="iam.amazonaws.com",
        eventName="ListUsers", sourceIPAddress="198.51.100.7", userAgent="console.amazonaws.com",
        requestParameters=None, responseElements=None, readOnly=True, managementEvent=True,
        eventCategory="Management", sessionCredentialFromConsole="true",
    ),
    _event(
        3, userIdentity=_assumed_role("DeployRole", "bob-session", "ASIADEPLOY0000000001"),
        eventTime="2021-07-27T08:00:00Z", eventSource="s3.amazonaws.com", eventName="PutObject",
        awsRegion="us-west-2", sourceIPAddress="203.0.113.25", userAgent="aws-cli/2.4.0 Python/3.9.1",
        requestParameters={"bucketName": "prod-artifacts", "key": "builds/app 1.0, final.zip"},
        responseElements=None,
        additionalEventData={"bytesTransferredIn": 1048576, "bytesTransferredOut": 0},
        readOnly=False, managementEvent=False, eventCategory="Data",
        resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::prod-artifacts/builds/app 1.0, final.zip"}],
        tlsDetails={"tlsVersion": "TLSv1.2", "clientProvidedHostHeader": "prod-artifacts.s3.us-west-2.amazonaws.com"},
    ),
    _event(
        4,
        userIdentity=root(ACCOUNT),
        eventTime="2021-07-27T12:30:00Z", eventSource="signin.amazonaws.com", eventName="ConsoleLogin",
        eventType="AwsConsoleSignIn", sourceIPAddress="203.0.113.200", userAgent="Mozilla/5.0 (X11; Linux x86_64)",
        requestParameters=None, responseElements={"ConsoleLogin": "Success"},
        additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"},
        readOnly=False, managementEvent=True, eventCategory="Management",
    ),
    _event(
        5, userIdentity=aws_service("cloudtrail.amazonaws.com"),
        eventTime="2021-07-28T00:00:00Z", eventSource="s3.amazonaws.com", eventName="GetBucketAcl",
        sourceIPAddress="cloudtrail.amazonaws.com", userAgent="cloudtrail.amazonaws.com",
        requestParameters={"bucketName": "org-trail-logs", "acl": ""}, responseElements=None,
        readOnly=True, managementEvent=False, eventCategory="Data", sharedEventID="shared-0005",
        resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::org-trail-logs"}],
    ),
    _event(
        6, userIdentity=anonymous_caller(),
        eventTime="2021-07-28T06:45:10Z", eventSource="s3.amazonaws.com", eventName="GetObject",
        sourceIPAddress="192.0.2.44", userAgent="curl/7.68.0",
        requestParameters={"bucketName": "public-site", "key": "index.html"}, responseElements=None,
        errorCode="AccessDenied", errorMessage="Access Denied",
        readOnly=True, managementEvent=False, eventCategory="Data",
    ),
    _event(
        7, userIdentity=_iam_user("mallory", "AKIAMALLORY000000001", OTHER_ACCOUNT),
        eventTime="2021-07-28T13:00:00Z", eventSource="s3.amazonaws.com", eventName="PutObject",
        sourceIPAddress="2001:db8:85a3::8a2e:370:7334", userAgent="aws-sdk-go/1.40.0",
        requestParameters={"bucketName": "finance-reports", "key": "exfil/dump.tar"}, responseElements=None,
        readOnly=False, managementEvent=False, eventCategory="Data", sharedEventID="shared-0007",
    ),
    _event(
        8, userIdentity=_assumed_role("ReadOnlyRole", "carol", "ASIACAROL00000000001"),
        eventTime="2021-07-28T15:20:00Z", eventSource="s3.amazonaws.com", eventName="DeleteBucket",
        sourceIPAddress="203.0.113.99", userAgent="[S3Console/0.4]",
        requestParameters={"bucketName": "finance-reports"}, responseElements=None,
        errorCode="AccessDenied",
        errorMessage=f"User: arn:aws:sts::{ACCOUNT}:assumed-role/ReadOnlyRole/carol is not authorized to perform: s3:DeleteBucket",
        readOnly=False, managementEvent=True, eventCategory="Management",
    ),
    _event(
        9, userIdentity=ALICE, eventTime="2021-07-29T01:00:00Z", eventSource="ec2.amazonaws.com",
        eventName="DescribeInstances", awsRegion="us-west-2", sourceIPAddress="2001:db8:1234::5",
        userAgent="aws-cli/2.2.5 Python/3.8.8",
        requestParameters={"instancesSet": {}, "filterSet": {}, "includeAllInstances": True}, responseElements=None,
        readOnly=True, managementEvent=True, eventCategory="Management",
    ),
    {  # a CloudTrail Insights event: no userIdentity, no readOnly
        "eventVersion": "1.07", "eventTime": "2021-07-29T11:59:59Z", "awsRegion": "us-east-1", "eventID": "ev-10",
        "eventType": "AwsCloudTrailInsight", "recipientAccountId": ACCOUNT, "sharedEventID": "shared-0010",
        "insightDetails": {
            "state": "Start", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
            "insightType": "ApiCallRateInsight",
            "insightContext": {"statistics": {"baseline": {"average": 0.0}, "insight": {"average": 5.5}}},
        },
        "eventCategory": "Insight",
    },
    _event(
        11, userIdentity=_iam_user("dave", "AKIADAVE000000000001"), eventTime="2021-07-29T12:00:00Z",
        eventSource="glacier.amazonaws.com", eventName="UploadArchive", awsRegion="eu-west-1",
        sourceIPAddress="198.51.100.8", userAgent="aws-cli/1.19.0",
        requestParameters={"accountId": "-", "vaultName": "legal-hold"}, responseElements=None,
        readOnly=False, managementEvent=True, eventCategory="Management",
    ),
    _event(
        12, userIdentity=ALICE, eventTime="2021-07-30T23:59:59Z", eventSource="s3.amazonaws.com",
        eventName="GetObject", sourceIPAddress="198.51.100.7", userAgent="aws-cli/1.18.0 Python/2.7",
        requestParameters={"bucketName": "finance-reports", "key": "reports/2021 summary.pdf"}, responseElements=None,
        errorCode="NoSuchKey", errorMessage="The specified key does not exist.",
        readOnly=True, managementEvent=False, eventCategory="Data",
    ),
    _event(
        13, userIdentity=aws_service("ec2.amazonaws.com"), eventTime="2021-07-30T08:00:00Z",
        eventSource="sts.amazonaws.com", eventName="AssumeRole", sourceIPAddress="ec2.amazonaws.com",
        userAgent="ec2.amazonaws.com",
        requestParameters={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/TopSecretRole", "roleSessionName": "i-0abc1234"},
        responseElements={"credentials": {"accessKeyId": "ASIAEC2SESSION000001", "sessionToken": "tok"}},
        readOnly=False, managementEvent=True, eventCategory="Management", sharedEventID="shared-0013",
        resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{ACCOUNT}:role/TopSecretRole"}],
    ),
    _event(
        14, userIdentity=_iam_user("erin", None), eventTime="2021-07-30T09:00:00Z",
        eventSource="signin.amazonaws.com", eventName="ConsoleLogin", eventType="AwsConsoleSignIn",
        sourceIPAddress="203.0.113.77", userAgent="Mozilla/5.0 NEAR(x) OR y",
        requestParameters=None, responseElements={"ConsoleLogin": "Failure"}, errorMessage="Failed authentication",
        readOnly=False, managementEvent=True, eventCategory="Management",
    ),
    _event(
        15, userIdentity=ALICE, eventTime="2021-07-30T10:00:00Z", eventSource="s3.amazonaws.com",
        eventName="PutObject", sourceIPAddress="198.51.100.7", userAgent="aws-sdk-java/1.12.0",
        requestParameters={"bucketName": "app-logs", "key": "logs/100%_done.txt"}, responseElements=None,
        readOnly=False, managementEvent=False, eventCategory="Data",
    ),
    _event(
        16, userIdentity=ALICE, eventTime="2021-07-30T10:05:00Z", eventSource="s3.amazonaws.com",
        eventName="PutObject", sourceIPAddress="198.51.100.7", userAgent="Boto3/1.17.0 Python/3.9",
        requestParameters={"bucketName": "app-logs", "key": "logs/100xydone.txt"}, responseElements=None,
        readOnly=False, managementEvent=False, eventCategory="Data", **{"@timestamp": "2021-07-30T10:05:00.000Z"},
    ),
]


# --- building the index ------------------------------------------------------------------


def _actor(identity: dict) -> str | None:
    """The test's own stand-in for the loader's display name."""
    if identity.get("accountId") == "ANONYMOUS_PRINCIPAL":
        return "anonymous"
    if identity.get("type") == "AssumedRole":
        return identity["arn"].split("assumed-role/", 1)[1]
    return identity.get("userName") or identity.get("invokedBy") or identity.get("type")


def _resource(event: dict, params: dict) -> str | None:
    if params.get("vaultName"):
        return "vault/" + params["vaultName"]
    if params.get("bucketName"):
        return params["bucketName"] + ("/" + params["key"] if params.get("key") else "")
    resources = event.get("resources") or []
    return resources[0]["ARN"] if resources else None


def _ipv4(address: str | None) -> int | None:
    try:
        return int(ipaddress.IPv4Address(address))
    except ValueError:
        return None


def _flag(value: object) -> int | None:
    return int(value) if isinstance(value, bool) else None


def columns_of(event: dict) -> dict:
    """The ``events`` columns of one fixture event."""
    identity = event.get("userIdentity") or {}
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    params = event.get("requestParameters") or {}
    additional = event.get("additionalEventData") or {}
    return {
        "eventID": event["eventID"],
        "eventTime": event_time_seconds(event.get("eventTime")),  # the index keeps epoch seconds
        "eventName": event.get("eventName"),
        "eventSource": event.get("eventSource"),
        "awsRegion": event.get("awsRegion"),
        "sourceIPAddress": event.get("sourceIPAddress"),
        "sourceIPv4": _ipv4(event.get("sourceIPAddress")),
        "userAgent": event.get("userAgent"),
        "errorCode": event.get("errorCode"),
        "errorMessage": event.get("errorMessage"),
        "readOnly": _flag(event.get("readOnly")),
        "eventType": event.get("eventType"),
        "eventCategory": event.get("eventCategory"),
        "managementEvent": _flag(event.get("managementEvent")),
        "recipientAccountId": event.get("recipientAccountId"),
        "userIdentity_type": identity.get("type"),
        "userIdentity_arn": identity.get("arn"),
        "userIdentity_accountId": identity.get("accountId"),
        "userIdentity_principalId": identity.get("principalId") or None,
        "userIdentity_accessKeyId": identity.get("accessKeyId"),
        "userIdentity_userName": identity.get("userName"),
        "userIdentity_invokedBy": identity.get("invokedBy"),
        "sessionIssuer_arn": issuer.get("arn"),
        "sessionIssuer_type": issuer.get("type"),
        "additionalEventData_SignatureVersion": additional.get("SignatureVersion"),
        "additionalEventData_aclRequired": additional.get("aclRequired"),
        "tlsDetails_tlsVersion": (event.get("tlsDetails") or {}).get("tlsVersion"),
        "additionalEventData_MFAUsed": additional.get("MFAUsed"),
        "responseElements_ConsoleLogin": (event.get("responseElements") or {}).get("ConsoleLogin"),
        "requestParameters_bucketName": params.get("bucketName"),
        "requestParameters_key": params.get("key"),
        "requestParameters_vaultName": params.get("vaultName"),
        "resource": _resource(event, params),
        "actor": _actor(identity) if identity else None,
        "actorKey": identity.get("arn") or identity.get("invokedBy"),
        # The test's stand-in for extract.principal_key: unsigned requests in either form.
        "principalKey": "ANONYMOUS_PRINCIPAL" if identity.get("accountId") in ("ANONYMOUS_PRINCIPAL", "anonymous")
        else identity.get("arn") or identity.get("invokedBy"),
        "file_id": None,
        "record_index": number_of(event),
    }


def number_of(event: dict) -> int:
    return int(event["eventID"][3:])


def text_of(value: object) -> str:
    """Space-joined string and number leaves: the FTS body, as the loader builds it."""
    if isinstance(value, dict):
        return " ".join(filter(None, (text_of(item) for item in value.values())))
    if isinstance(value, list):
        return " ".join(filter(None, (text_of(item) for item in value)))
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> sqlite3.Connection:
    path = tmp_path_factory.mktemp("filter") / "index.sqlite"
    conn = sqlite3.connect(path)
    for statement in schema_sql():
        conn.execute(statement)
    register_sql_functions(conn)
    attach_user_state(conn, path, readonly=False)  # as index.connect does: is:marked reads user.marks
    insert = 'INSERT INTO events (id, {}) VALUES (?, {})'.format(
        ", ".join(f'"{name}"' for name in EVENT_COLUMN_NAMES), ", ".join("?" for _ in EVENT_COLUMN_NAMES)
    )
    with conn:
        for event in EVENTS:
            rowid = number_of(event) * 10  # ids differ from event numbers: nothing may rely on them
            columns = columns_of(event)
            # As the loader does: one actors row per identity combination, its id on the event.
            combination = tuple(columns.get(name) for name in ACTOR_COLUMNS)
            if any(combination):
                found = conn.execute(
                    "SELECT id FROM actors WHERE " + " AND ".join(f"{name} IS ?" for name in ACTOR_COLUMNS), combination
                ).fetchone()
                columns["actorId"] = found[0] if found else conn.execute(
                    f"INSERT INTO actors (digest, {', '.join(ACTOR_COLUMNS)}) VALUES (?, {', '.join('?' * len(ACTOR_COLUMNS))}) "
                    "RETURNING id", (actor_digest(combination), *combination)
                ).fetchone()[0]
            # As the shard writer does: whether the caller's account is not the recipient.
            columns["crossAccount"] = cross_account(columns.get("userIdentity_accountId"), columns.get("recipientAccountId"))
            # The call's setting likewise, in contexts.
            setting = tuple(columns.get(name) for name in CONTEXT_COLUMNS)
            if any(setting):
                found = conn.execute("SELECT id FROM contexts WHERE digest = ?", (actor_digest(setting),)).fetchone()
                columns["contextId"] = found[0] if found else conn.execute(
                    f"INSERT INTO contexts (digest, {', '.join(CONTEXT_COLUMNS)}) "
                    f"VALUES (?, {', '.join('?' * len(CONTEXT_COLUMNS))}) RETURNING id",
                    (actor_digest(setting), *setting),
                ).fetchone()[0]
            conn.execute(insert, (rowid, *(columns.get(name) for name in EVENT_COLUMN_NAMES)))
            # The loader lists each column's distinct values for wildcard filters; so does this.
            conn.executemany(
                "INSERT OR IGNORE INTO column_values (column_name, value) VALUES (?, ?)",
                [(name, columns[name]) for name in VALUE_LIST_COLUMNS if columns.get(name) is not None],
            )
            raw = orjson.dumps(event, option=orjson.OPT_INDENT_2)
            conn.execute("INSERT INTO event_raw (id, raw) VALUES (?, ?)", (rowid, pack_event(raw)))
            conn.execute("INSERT INTO events_fts (rowid, body) VALUES (?, ?)", (rowid, text_of(event)))
    yield conn
    conn.close()


def matching(db: sqlite3.Connection, text: str) -> set[str]:
    compiled = compile_filter(text, now=NOW)
    rows = db.execute(f"SELECT eventID FROM events WHERE {compiled.where}", compiled.params)
    return {event_id for (event_id,) in rows}


def ev(numbers: str) -> set[str]:
    """``ev("1 2 10")`` -> {"ev-01", "ev-02", "ev-10"}."""
    return {f"ev-{int(n):02d}" for n in numbers.split()}


ALL = ev(" ".join(str(n) for n in range(1, 17)))
NONE: set[str] = set()


def test_fixture_has_every_event(db) -> None:
    assert matching(db, "") == ALL
    assert len(EVENTS) == 16


# --- field:value -------------------------------------------------------------------------

FIELD_CASES = [
    # name / eventName, case-insensitive, wildcards, a,b
    ("name:GetObject", ev("1 6 12")),
    ("name:getobject", ev("1 6 12")),
    ("NAME:GETOBJECT", ev("1 6 12")),
    ("eventName:GetObject", ev("1 6 12")),
    ("EVENTNAME:GetObject", ev("1 6 12")),
    ("name:Get*", ev("1 5 6 12")),
    ("name:*Object", ev("1 3 6 7 12 15 16")),
    ("name:*e*Bucket*", ev("5 8")),
    ("name:GetObject,DeleteBucket", ev("1 6 8 12")),
    ("name:Nothing*,ListUsers", ev("2")),
    ("name:*", ALL - ev("10")),
    ("name:Get", NONE),  # no wildcard: whole-value equality
    # source / eventSource
    ("source:s3", ev("1 3 5 6 7 8 12 15 16")),
    ("source:S3", ev("1 3 5 6 7 8 12 15 16")),
    ("source:signin", ev("4 14")),
    ("source:signin.amazonaws.com", ev("4 14")),
    ("eventSource:sts", ev("13")),
    ("source:*glacier*", ev("11")),
    ("source:iam,ec2", ev("2 9")),
    # region
    ("region:us-west-2", ev("3 9")),
    ("awsRegion:EU-WEST-1", ev("11")),
    # ip / sourceIPAddress: text, CIDR v4 and v6
    ("ip:198.51.100.7", ev("1 2 12 15 16")),
    ("ip:198.51.100.0/24", ev("1 2 11 12 15 16")),
    ("ip:203.0.113.0/25", ev("3 8 14")),
    ("ip:203.0.113.128/25", ev("4")),
    ("ip:203.0.113.5/24", ev("3 4 8 14")),  # host bits are ignored
    ("ip:192.0.2.44/32", ev("6")),
    ("ip:0.0.0.0/0", ev("1 2 3 4 6 8 11 12 14 15 16")),
    ("ip:2001:db8::/32", ev("7 9")),
    ("ip:2001:DB8:1234::/48", ev("9")),
    ("ip:2001:db8:85a3::8a2e:370:7334", ev("7")),
    ("ip:::/0", ev("7 9")),
    ("ip:192.0.2.0/24,2001:db8:1234::/48", ev("6 9")),
    ("sourceIPAddress:*.amazonaws.com", ev("5 13")),
    ("sourceIPAddress:10.0.0.0/8", NONE),
    ("-ip:198.51.100.0/24", ev("3 4 5 6 7 8 9 10 13 14")),
    ("-ip:2001:db8::/32", ALL - ev("7 9")),
    # actor: ARN, user name, principal ID or the display name
    ("actor:alice", ev("1 2 9 12 15 16")),
    ("actor:*DeployRole*", ev("3")),
    ("actor:anonymous", ev("6")),
    ("actor:root", ev("4")),
    ("actor:arn:aws:iam::111122223333:root", ev("4")),
    ("actor:AIDAERIN000000000001", ev("14")),
    ("actor:*mallory*,dave", ev("7 11")),
    # identity fields
    ("type:AssumedRole", ev("3 8")),
    ("type:awsservice", ev("5 13")),
    ("userIdentity.type:Root", ev("4")),
    ("account:444455556666", ev("7")),
    ("userIdentity.accountId:ANONYMOUS_PRINCIPAL", ev("6")),
    ("userIdentity.principalId:AROA*", ev("3 8")),
    ("userIdentity.invokedBy:*.amazonaws.com", ev("5 13")),
    ("recipient:111122223333", ALL),
    ("recipientAccountId:444455556666", NONE),
    ("akid:AKIAALICE00000000001", ev("1 2 9 12 15 16")),
    ("akid:asia*", ev("3 8")),
    ("userIdentity.accessKeyId:AKIA*", ev("1 2 7 9 11 12 15 16")),
    ("arn:arn:aws:iam::444455556666:user/mallory", ev("7")),
    ("userIdentity.arn:*assumed-role*", ev("3 8")),
    ("user:alice", ev("1 2 9 12 15 16")),
    ("userIdentity.userName:DAVE", ev("11")),
    ("issuer:arn:aws:iam::111122223333:role/DeployRole", ev("3")),
    ("userIdentity.sessionContext.sessionIssuer.arn:*role/*", ev("3 8")),
    # S3 / Glacier request parameters
    ("bucket:finance-reports", ev("1 7 8 12")),
    ("requestParameters.bucketName:prod-*", ev("3")),
    ("bucket:app-logs,public-site", ev("6 15 16")),
    ("object:q1/payroll.csv", ev("1")),
    ('object:"builds/app 1.0, final.zip"', ev("3")),
    ('object:"builds/app 1.0, final.zip",index.html', ev("3 6")),
    ('requestParameters.key:"reports/2021 summary.pdf"', ev("12")),
    ("object:*100*", ev("15 16")),
    ("object:*100%_d*", ev("15")),  # % and _ are literal, not LIKE wildcards
    ("object:logs*", ev("15 16")),
    ('object:"logs\\*"', NONE),  # \* inside quotes is a literal star
    ("vault:legal-hold", ev("11")),
    ("requestParameters.vaultName:legal*", ev("11")),
    # errors
    ("error:AccessDenied", ev("6 8")),
    ("errorCode:nosuchkey", ev("12")),
    ("error:*", ev("6 8 12")),
    ("-error:*", ALL - ev("6 8 12")),
    ("-error:AccessDenied", ALL - ev("6 8")),
    ('message:"Access Denied"', ev("6")),
    ('message:"*not authorized*"', ev("8")),
    ("errorMessage:Failed*", ev("14")),
    # agent, id, resource, event type
    ('agent:"aws-cli/2*"', ev("1 3 9")),
    ("agent:aws-cli/*", ev("1 3 9 11 12")),
    ("userAgent:console.amazonaws.com", ev("2")),
    ("id:EV-03", ev("3")),
    ("eventID:ev-03,ev-04", ev("3 4")),
    ("resource:*finance-reports*", ev("1 7 8 12")),
    ("resource:vault/*", ev("11")),
    ("eventtype:AwsConsoleSignIn", ev("4 14")),
    ("eventType:AwsCloudTrailInsight", ev("10")),
    ("eventTime:2021-07-28*", ev("5 6 7 8")),
    ("eventTime:2021-07-29t12:00:00z", ev("11")),
    # readonly, category, managementEvent
    ("readonly:true", ev("1 2 5 6 9 12")),
    ("readonly:FALSE", ev("3 4 7 8 11 13 14 15 16")),
    ("readOnly:true", ev("1 2 5 6 9 12")),
    ("-readonly:true", ev("3 4 7 8 10 11 13 14 15 16")),  # ev-10 has no readOnly
    ("category:data", ev("1 3 5 6 7 12 15 16")),
    ("category:insight", ev("10")),
    ("eventCategory:Management", ev("2 4 8 9 11 13 14")),
    ("category:insight,management", ev("2 4 8 9 10 11 13 14")),
    ("managementEvent:true", ev("2 4 8 9 11 13 14")),
    ("managementEvent:false", ev("1 3 5 6 7 12 15 16")),
    # negation of a,b and null-safety
    ("-name:GetObject,PutObject", ev("2 4 5 8 9 10 11 13 14")),
    ("-bucket:*", ev("2 4 9 10 11 13 14")),
    ("-actor:alice", ALL - ev("1 2 9 12 15 16")),
    # AND of several terms
    ("source:s3 is:write", ev("3 7 8 15 16")),
    ("bucket:finance-* is:error", ev("8 12")),
    ("actor:*alice* -error:*", ev("1 2 9 15 16")),
    ("source:s3 name:PutObject,DeleteObject", ev("3 7 15 16")),
]


@pytest.mark.parametrize(("text", "expected"), FIELD_CASES, ids=[case[0] for case in FIELD_CASES])
def test_field_terms(db, text: str, expected: set[str]) -> None:
    assert matching(db, text) == expected


# --- is: ---------------------------------------------------------------------------------

IS_CASES = [
    ("is:anonymous", ev("6")),
    ("is:error", ev("6 8 12")),
    ("is:write", ev("3 4 7 8 11 13 14 15 16")),
    ("is:read", ev("1 2 5 6 9 12")),
    ("is:root", ev("4")),
    ("is:crossaccount", ev("7")),  # ev-06 is anonymous; ev-05/10/13 have no caller account
    ("IS:ERROR", ev("6 8 12")),
    ("is:root,anonymous", ev("4 6")),
    ("-is:crossaccount", ALL - ev("7")),
    ("-is:anonymous", ALL - ev("6")),
    ("-is:write", ev("1 2 5 6 9 10 12")),
    ("is:read is:error", ev("6 12")),
]


@pytest.mark.parametrize(("text", "expected"), IS_CASES, ids=[case[0] for case in IS_CASES])
def test_is_terms(db, text: str, expected: set[str]) -> None:
    assert matching(db, text) == expected


def test_is_marked_matches_exactly_the_marked_events(db) -> None:
    path = db.execute("PRAGMA database_list").fetchone()[2]
    user = open_user_state(path)
    try:
        assert matching(db, "is:marked") == NONE
        for event_id in ("ev-03", "ev-07", "ev-16", "not-in-this-index"):
            toggle_mark(user, event_id)
        assert matching(db, "is:marked") == ev("3 7 16")  # seen at once by the index connection
        assert matching(db, "-is:marked") == ALL - ev("3 7 16")
        assert matching(db, "is:marked is:write") == ev("3 7 16")
        assert matching(db, "is:marked,root") == ev("3 4 7 16")
        assert matching(db, "is:marked is:read") == NONE
        toggle_mark(user, "ev-07")
        assert matching(db, "is:marked") == ev("3 16")
    finally:
        for event_id in ("ev-03", "ev-07", "ev-16", "not-in-this-index"):
            unmark(user, event_id)
        user.close()
    assert matching(db, "is:marked") == NONE


# --- since: / until: (NOW = 2021-07-30T12:00:00Z) ------------------------------------------------

TIME_CASES = [
    ("since:2021-07-29", ev("9 10 11 12 13 14 15 16")),
    ("until:2021-07-27", ev("1 2 3 4")),  # a bare date includes that whole day; ev-05 is 07-28T00:00:00
    ("until:2021-07-29", ev("1 2 3 4 5 6 7 8 9 10 11")),
    ("until:2021-07-30", ALL),  # ev-12 is at 23:59:59 that day
    ("since:2021-07-28 until:2021-07-28", ev("5 6 7 8")),
    ("until:2021-07-29T12:00", ev("1 2 3 4 5 6 7 8 9 10")),  # a time is exclusive: ev-11 is at 12:00:00
    ("since:2021-07-29T12:00", ev("11 12 13 14 15 16")),
    ("since:2021-07-29T12:00:00Z", ev("11 12 13 14 15 16")),
    ("since:2021-07-28T10:00:00+02:00", ev("7 8 9 10 11 12 13 14 15 16")),  # 08:00Z
    ("until:2021-07-28T08:00:00-02:00", ev("1 2 3 4 5 6")),  # 10:00Z
    ("since:2021-07-28T06:45:10Z", ev("6 7 8 9 10 11 12 13 14 15 16")),
    ("since:2021-07-28T06:45:10.5Z", ev("7 8 9 10 11 12 13 14 15 16")),  # the event's second began earlier
    ("until:2021-07-28T06:45:10.5Z", ev("1 2 3 4 5 6")),
    ("since:20210729", ev("9 10 11 12 13 14 15 16")),
    ("until:2021-07", ALL),
    ("until:2021-06", NONE),
    ("since:2021", ALL),
    ("until:2021", ALL),
    ("until:2021-W29", NONE),  # ISO week 29 ends Sunday 2021-07-25
    ("until:2021-W30", ALL),
    ("since:-4h", ev("12 13 14 15 16")),
    ("since:-2h", ev("12 15 16")),
    ("since:-2H", ev("12 15 16")),
    ("since:-130m", ev("12 15 16")),
    ("since:-100m", ev("12")),
    ("since:-90s", ev("12")),
    ("since:-1d", ev("11 12 13 14 15 16")),
    ("since:-1w", ALL),
    ("until:-1w", NONE),
    ("until:-1d", ev("1 2 3 4 5 6 7 8 9 10")),
    ("since:-3d until:-1d", ev("4 5 6 7 8 9 10")),
    ("-since:2021-07-29", ev("1 2 3 4 5 6 7 8")),
]


@pytest.mark.parametrize(("text", "expected"), TIME_CASES, ids=[case[0] for case in TIME_CASES])
def test_time_terms(db, text: str, expected: set[str]) -> None:
    assert matching(db, text) == expected


def _seconds(text: str) -> int:
    """An instant written as eventTime text, in the index's epoch seconds (computed here with
    the standard library, not by the code under test)."""
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(seconds=1)


def test_time_bounds_are_the_indexed_epoch_seconds() -> None:
    assert compile_filter("since:2021-07-28T10:00:00+02:00").params == (_seconds("2021-07-28T08:00:00Z"),)
    assert compile_filter("until:2021-07-29").params == (_seconds("2021-07-30T00:00:00Z"),)
    assert compile_filter("until:2021-12").params == (_seconds("2022-01-01T00:00:00Z"),)
    assert compile_filter("until:2021-07-29T12:00").params == (_seconds("2021-07-29T12:00:00Z"),)
    assert compile_filter("since:-2h", now=NOW).params == (_seconds("2021-07-30T10:00:00Z"),)
    assert compile_filter("since:0001-01-01").params == (_seconds("0001-01-01T00:00:00Z"),)
    assert compile_filter("since:0001-01-01").params == (-62135596800,)


def test_default_now_is_the_current_time() -> None:
    bound = compile_filter("since:-1s").params[0]
    assert abs(time.time() - bound) < 5


def test_naive_now_is_utc() -> None:
    naive = datetime(2021, 7, 30, 12, 0, 0)
    assert compile_filter("since:-2h", now=naive).params == (_seconds("2021-07-30T10:00:00Z"),)


# --- JSON paths ------------------------------------------------------------------------------

JSON_CASES = [
    ("additionalEventData.bytesTransferredOut:0", ev("3")),
    ("additionalEventData.bytesTransferredOut:2048", ev("1")),
    ("additionalEventData.bytesTransferredIn:10*", ev("3")),
    ("resources.0.ARN:*secret*", ev("13")),
    ("resources.1.ARN:arn:aws:s3:::finance-reports", ev("1")),
    ("resources.5.ARN:*", NONE),
    ("tlsDetails.clientProvidedHostHeader:*", ev("1 3")),
    ("-tlsDetails.clientProvidedHostHeader:*", ALL - ev("1 3")),
    ("responseElements.ConsoleLogin:failure", ev("14")),  # values compare case-insensitively
    ("responseElements.consolelogin:Success", ev("4")),  # keys fall back to case-insensitive
    ("insightDetails.insightContext.statistics.insight.average:5.5", ev("10")),
    ("insightDetails.state:Start", ev("10")),
    ("insightDetails:*RunInstances*", ev("10")),  # an object compares as compact JSON
    ("requestParameters.instancesSet:{}", ev("9")),
    ("requestParameters.includeAllInstances:true", ev("9")),
    ("responseElements:*", ev("4 13 14")),  # JSON null is missing
    ("responseElements.credentials.accessKeyId:ASIA*", ev("13")),
    ("additionalEventData.MFAUsed:yes", ev("4")),
    ("sharedEventID:*", ev("5 7 10 13")),
    ("requestID:REQ0001", ev("1")),
    ("eventVersion:1.07", ev("10")),
    ("sessionCredentialFromConsole:true", ev("2")),
    ("@timestamp:2021-07-30*", ev("16")),
    ("resources:*TopSecretRole*", ev("13")),
    ("userIdentity.sessionContext.attributes.mfaAuthenticated:false", ev("3 8")),
    ("userIdentity.sessionContext.sessionIssuer.userName:DeployRole", ev("3")),
    ("requestParameters.roleSessionName:i-0abc1234,nothing", ev("13")),
    ("requestParameters.acl:*", NONE),  # an empty string is not "present"
]


@pytest.mark.parametrize(("text", "expected"), JSON_CASES, ids=[case[0] for case in JSON_CASES])
def test_json_paths(db, text: str, expected: set[str]) -> None:
    assert matching(db, text) == expected


def test_json_path_is_a_bound_parameter() -> None:
    compiled = compile_filter("resources.0.ARN:*secret*")
    assert compiled.params == ('["resources",0,"ARN"]', "%secret%")
    assert "resources" not in compiled.where and "secret" not in compiled.where


# --- free text -------------------------------------------------------------------------------

TEXT_CASES = [
    ("alice", ev("1 2 9 12 15 16")),
    ("ALICE", ev("1 2 9 12 15 16")),
    ("ali*", ev("1 2 9 12 15 16")),
    ('"ali*"', ev("1 2 9 12 15 16")),
    ("198.51.100.7", ev("1 2 12 15 16")),  # the phrase 198 51 100 7
    ('"Access Denied"', ev("6")),
    ("accessdenied", ev("6 8")),
    ("ANONYMOUS_PRINCIPAL", ev("6")),
    ('"payroll.csv"', ev("1")),
    ('"finance-rep*"', ev("1 7 8 12")),
    ("-alice", ALL - ev("1 2 9 12 15 16")),
    ("alice 198.51.100.7", ev("1 2 12 15 16")),
    ("alice -payroll", ev("2 9 12 15 16")),
    ("alice -payroll -summary", ev("2 9 15 16")),
    ('-"Access Denied"', ALL - ev("6")),
    ("TopSecretRole source:sts", ev("13")),
    # FTS syntax typed by the user is text to find, never syntax (bare OR/or/AND/and/NOT are the
    # grammar's operators; quoted they are words, and lowercase `not` is always a word)
    ('"OR"', ev("14")),
    ('"or"', ev("14")),
    ("NEAR(", ev("14")),
    ('NEAR(x) "OR"', ev("14")),
    ('"a" "AND"', NONE),
    ('nEAR(x) "or" y', ev("14")),
    ('"col:x"', NONE),
    ("^alice", ev("1 2 9 12 15 16")),
    ('"alice" not', ev("12")),  # "does not exist"
    ('"*"', ALL),
    # no token characters: ignored (filters nothing)
    ("---", ALL),
    ('"..."', ALL),
    ("-...", ALL),
    ("*", ALL),
    ("--- alice", ev("1 2 9 12 15 16")),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES, ids=[case[0] for case in TEXT_CASES])
def test_free_text(db, text: str, expected: set[str]) -> None:
    assert matching(db, text) == expected


def test_free_text_matches_whole_words_and_says_which() -> None:
    assert compile_filter("jmerck").whole_words == ("jmerck",)
    assert compile_filter("jmerck*").whole_words == ()
    assert compile_filter('"access denied" jmerck -payroll ali* jmerck name:x').whole_words == (
        "access denied", "jmerck")  # positive words without a trailing '*', each once, in order
    assert compile_filter('"finance-rep*"').whole_words == ()
    assert compile_filter("a*b").whole_words == ("a*b",)  # an inner '*' is not a prefix search
    assert compile_filter("--- name:x is:error").whole_words == ()
    assert CompiledFilter("1", (), "").whole_words == ()  # callers that build one keep working


def test_a_prefix_of_a_word_finds_nothing_unless_it_ends_in_a_star(db) -> None:
    assert matching(db, "alic") == NONE
    assert matching(db, "alic*") == matching(db, "alice") == ev("1 2 9 12 15 16")


def test_free_text_on_a_real_index_matches_whole_words(tmp_path) -> None:
    from tests.conftest import make_event, write_records
    from trailtui.core.store.index import connect
    from trailtui.core.loader import index_paths

    identity = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/jmerckle", "accountId": ACCOUNT,
                "userName": "jmerckle"}
    write_records(tmp_path / "logs" / "a.json", [make_event("j1", userIdentity=identity), make_event("o1")])
    conn = connect(tmp_path / "i.sqlite")
    index_paths(conn, [str(tmp_path / "logs")])

    def found(text: str) -> set[str]:
        compiled = compile_filter(text)
        return {row[0] for row in conn.execute(f"SELECT eventID FROM events WHERE {compiled.where}", compiled.params)}

    assert found("jmerck") == NONE  # not a word of any event: the UI shows compiled.whole_words
    assert compile_filter("jmerck").whole_words == ("jmerck",)
    assert found("jmerck*") == found("jmerckle") == {"j1"}
    conn.close()


#: Filters with OR, AND, NOT and parentheses, each beside the same question asked of single
#: terms whose sets TEXT_CASES and the field tables above pin down by hand: the combinators are
#: checked against set algebra, never against another run of themselves.
LOGIC_CASES = [
    ("name:GetObject OR name:PutObject", lambda t: t("name:GetObject") | t("name:PutObject")),
    ("name:GetObject or is:root", lambda t: t("name:GetObject") | t("is:root")),
    ("alice OR is:anonymous", lambda t: t("alice") | t("is:anonymous")),
    ("alice -payroll OR is:anonymous", lambda t: (t("alice") - t("payroll")) | t("is:anonymous")),
    ("alice (-payroll OR is:anonymous)", lambda t: t("alice") & ((ALL - t("payroll")) | t("is:anonymous"))),
    ("alice AND payroll", lambda t: t("alice") & t("payroll")),
    ("is:error AND name:GetObject OR is:root", lambda t: (t("is:error") & t("name:GetObject")) | t("is:root")),
    ("is:error name:GetObject OR is:root source:sts", lambda t: (t("is:error") & t("name:GetObject")) | (t("is:root") & t("source:sts"))),
    ("NOT is:error", lambda t: ALL - t("is:error")),
    ("NOT (is:error OR alice)", lambda t: ALL - (t("is:error") | t("alice"))),
    ("-(is:error OR alice)", lambda t: ALL - (t("is:error") | t("alice"))),
    ("NOT is:error alice", lambda t: (ALL - t("is:error")) & t("alice")),
    ("NOT NOT alice", lambda t: t("alice")),
    ("-(alice payroll) is:read", lambda t: (ALL - (t("alice") & t("payroll"))) & t("is:read")),
    ("((alice)) OR ((is:root))", lambda t: t("alice") | t("is:root")),
    ("(name:GetObject OR name:PutObject) (alice OR is:anonymous)",
     lambda t: (t("name:GetObject") | t("name:PutObject")) & (t("alice") | t("is:anonymous"))),
    ("--- OR is:root", lambda t: t("is:root")),  # an arm that filters nothing is left out
    ("(name:GetObject)", lambda t: t("name:GetObject")),
    ('"OR" OR alice', lambda t: t('"OR"') | t("alice")),
]


@pytest.mark.parametrize(("text", "expected"), LOGIC_CASES, ids=[case[0] for case in LOGIC_CASES])
def test_or_and_not_and_parentheses(db, text: str, expected) -> None:
    def single(term: str) -> set[str]:
        return matching(db, term)

    assert matching(db, text) == expected(single)


def test_precedence_is_not_then_and_then_or() -> None:
    from trailtui.core.filter.nodes import And, Not, Or
    from trailtui.core.filter.parse import _parse

    def shape(node) -> object:
        if isinstance(node, (And, Or)):
            return (type(node).__name__, [shape(child) for child in node.children])
        if isinstance(node, Not):
            return ("Not", shape(node.child))
        return ("-" if node.negated else "") + (node.field + ":" if node.field else "") + node.values[0].chunks[0]

    assert shape(_parse("a b OR c")) == ("Or", [("And", ["a", "b"]), "c"])
    assert shape(_parse("a OR b c")) == ("Or", ["a", ("And", ["b", "c"])])
    assert shape(_parse("NOT a b")) == ("And", ["-a", "b"])
    assert shape(_parse("a AND b OR c and d")) == ("Or", [("And", ["a", "b"]), ("And", ["c", "d"])])
    assert shape(_parse("-(a OR b) c")) == ("And", [("Not", ("Or", ["a", "b"])), "c"])
    assert shape(_parse("a OR (b OR c)")) == ("Or", ["a", "b", "c"])
    assert shape(_parse("not authorized")) == ("And", ["not", "authorized"])
    assert shape(_parse("name:(x) OR ua:Mozilla(X11)")) == ("Or", ["name:(x)", "ua:Mozilla(X11)"])


def test_whole_words_come_from_every_positive_word_of_the_tree() -> None:
    assert compile_filter("jmerck OR (alice -bob) OR NOT carol").whole_words == ("jmerck", "alice")
    assert compile_filter("NOT (x -y)").whole_words == ("y",)
    assert compile_filter("name:a OR bob").free_text and not compile_filter("name:a OR name:b").free_text


def test_fts_match_string_is_one_quoted_literal_per_word() -> None:
    assert compile_filter('alice ali* "say \\"hi\\" OR" NEAR(').params == ('"alice" "ali" * "say ""hi"" OR" "NEAR("',)
    assert compile_filter('-alice').params == ('"alice"',)
    assert compile_filter("---").where == "1"


# --- safety ----------------------------------------------------------------------------------


def test_sql_injection_is_a_plain_value(db) -> None:
    compiled = compile_filter("name:\"x' OR 1=1 --\"")
    assert compiled.params == ("x' OR 1=1 --",)
    assert "1=1" not in compiled.where
    assert matching(db, "name:\"x' OR 1=1 --\"") == NONE
    assert matching(db, "name:x');DROP,TABLE") == NONE
    assert matching(db, "\"'); DROP TABLE events; --\"") == NONE
    assert matching(db, "") == ALL  # the table is still there


def test_user_text_never_reaches_the_sql() -> None:
    text = 'name:Zq1* agent:"Zq2 x" Zq3 requestParameters.Zq4:Zq5 ip:Zq6 is:read since:-2h'
    compiled = compile_filter(text, now=NOW)
    assert "Zq" not in compiled.where
    assert compiled.text == text


def test_compiled_filter_shape() -> None:
    compiled = compile_filter("")
    assert compiled == CompiledFilter("1", (), "")
    with pytest.raises(AttributeError):
        compiled.where = "0"  # frozen


def test_where_works_inside_a_subquery(db) -> None:
    compiled = compile_filter("is:error alice")
    sql = f"SELECT e.eventID FROM events e JOIN event_raw r ON r.id = e.id WHERE e.id IN (SELECT id FROM events WHERE {compiled.where})"
    assert {row[0] for row in db.execute(sql, compiled.params)} == ev("12")


# --- errors ----------------------------------------------------------------------------------

ERROR_CASES = [
    ("name:", 5, "a value after 'name:'"),
    ("region:us-east-1 name:", 22, "a value after 'name:'"),
    ("name: x", 5, "a value after 'name:'"),
    ("name:a,", 7, "a value after ','"),
    ("name:a, b", 7, "a value after ','"),
    ("name:,a", 5, "a value after 'name:'"),
    ('"abc', 0, "a closing '\"'"),
    ('name:"abc', 5, "a closing '\"'"),
    ('x "ab\\"', 2, "a closing '\"'"),
    ('name:""', 5, "a value inside the quotes"),
    ('""', 0, "a word or phrase inside the quotes"),
    ('name:"a"b', 8, "',' or a space after the closing quote"),
    ('name:a"b"', 6, "',' or a space before the quote"),
    ('"abc"def', 5, "a space after the closing quote"),
    ('abc"def"', 3, "a space before the quote"),
    (":x", 0, "a field name before ':'"),
    ("foo :x", 4, "a field name before ':'"),
    ("-:x", 1, "a field name before ':'"),
    ("-", 1, "a term after '-'"),
    ("a - b", 3, "a term after '-'"),
    ("is:admin", 3, "one of anonymous, error, write, read, root, network, crossaccount"),
    ("is:*", 3, "one of anonymous, error, write, read, root, network, crossaccount"),
    ("is:error,x", 9, "one of anonymous"),
    ("readonly:yes", 9, "true or false"),
    ("readonly:t*", 9, "true or false"),
    ("managementEvent:1", 16, "true or false"),
    ("category:other", 9, "management, data, insight or networkactivity"),
    ("since:yesterday", 6, "an ISO date or time"),
    ("until:2021-13-01", 6, "an ISO date or time"),
    ("since:2021-07-28T25:00", 6, "an ISO date or time"),
    ("since:-2y", 6, "an ISO date or time"),
    ("since:2h", 6, "an ISO date or time"),
    ("since:2021*", 6, "an ISO date or time"),
    ("until:9999-12-31", 6, "an ISO date or time"),
    ("since:-999999999w", 6, "an ISO date or time"),
    ("ip:10.0.0.0/33", 3, "an IP network"),
    ("ip:not/an-ip", 3, "an IP network"),
    ("name:x ip:1.2.3.4/8,10.0.0.0/99", 20, "an IP network"),
    ("a..b:1", 2, "a JSON path segment"),
    ("requestParameters.b%d:1", 18, "a JSON path segment"),
    ("resources.0.:x", 12, "a JSON path segment"),
    (".x:1", 0, "a JSON path segment"),
    ("x requestParameters.a+b:1", 2 + 18, "a JSON path segment"),
    ("nmae:GetObject", 0, "a known field name (did you mean 'name'?)"),
    ("is:read eventNmae:x", 8, "did you mean 'eventName'?"),
    ("-bukcet:x", 1, "did you mean 'bucket'?"),
    ("2001:db8::1", 0, "quote it"),
    ("\ud800", 0, "text without unpaired surrogate"),
    ("a" * 10_001, 10_000, "a filter of at most 10000 characters"),
    # No OR between terms yet (issue #12): a clear error where the user typed it, not 0 results.
    ("same:actor,name", 5, "a field of one value (actor is not one)"),
    ("same:name", 5, "two field names: same:FIELD,OTHER"),
    ("same:name,Get*", 10, "a field name (no wildcards)"),
    ("is~x", 3, "a field of text before '~'"),
    ('name~"("', 5, "a regular expression RE2 accepts (missing )"),
    ("name~", 5, "a regular expression after 'name~'"),
    ("~x", 0, "a field name before '~'"),
    ('name~"x', 5, "a closing '\"' for the quote opened here"),
    ("name:GetObject OR", 17, "a term after OR"),
    ("name:GetObject OR OR name:x", 18, "a term after OR"),
    ("OR name:x", 0, 'a term before OR (to find the word, quote it: "OR")'),
    ("(OR a)", 1, "a term before OR"),
    ("a || b", 2, "'||' is not an operator: write OR"),
    ("a | b", 2, "'|' is not an operator: write OR"),
    ("-OR", 1, "a term after '-'"),
    ("is:error AND", 12, "a term after AND"),
    ("is:error AND OR b", 13, "a term after AND"),
    ("AND", 0, "a term before AND"),
    ("NOT", 3, "a term or a group after NOT"),
    ("a NOT OR b", 6, "a term or a group after NOT"),
    ("(name:x", 0, "a closing ')' for the '(' opened here"),
    ("a (b (c)", 2, "a closing ')' for the '(' opened here"),
    ("()", 1, "a term inside the parentheses"),
    ("a )", 2, "no '(' before this ')'"),
    ("(a)b", 3, "a space after ')'"),
    ("not (a b)", 0, "NOT or - before a group"),
    ("(" * 33 + "a" + ")" * 33, 32, "nested at most 32 deep"),
    ("NOT " * 33 + "a", 128, "nested at most 32 deep"),
]


@pytest.mark.parametrize(("text", "position", "expected"), ERROR_CASES, ids=[case[0][:40] for case in ERROR_CASES])
def test_errors(text: str, position: int, expected: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(text, now=NOW)
    assert caught.value.position == position
    assert expected in caught.value.expected
    assert str(caught.value).startswith(f"position {position}: ")
    assert isinstance(caught.value, ValueError)


def test_error_message_format() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter("name:")
    assert str(caught.value) == "position 5: expected a value after 'name:'"
    with pytest.raises(FilterError) as caught:
        compile_filter("nmae:x")
    assert str(caught.value) == "position 0: unknown field 'nmae' (did you mean 'name'?)"


def test_error_messages_escape_terminal_controls() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter("\x1b]52;c;aGk=\x07:x")
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value)


# --- fields ----------------------------------------------------------------------------------

REQUIRED_NAMES = (
    "name source region ip actor type account recipient akid bucket object vault error message agent id arn "
    "user issuer resource eventtype readonly category is since until "
    "eventName eventSource awsRegion sourceIPAddress userAgent errorCode errorMessage eventID eventType "
    "eventCategory readOnly recipientAccountId userIdentity.type userIdentity.arn userIdentity.accountId "
    "userIdentity.principalId userIdentity.accessKeyId userIdentity.userName userIdentity.invokedBy "
    "userIdentity.sessionContext.sessionIssuer.arn requestParameters.bucketName requestParameters.key "
    "requestParameters.vaultName apiVersion sharedEventID vpcEndpointId requestID eventVersion managementEvent "
    "sessionCredentialFromConsole requestParameters responseElements additionalEventData resources "
    "serviceEventDetails tlsDetails userIdentity insightDetails addendum edgeDeviceDetails @timestamp"
).split()


def test_fields_lists_every_name_with_its_cloudtrail_field_and_description() -> None:
    assert set(REQUIRED_NAMES) <= set(FIELDS)
    for name, info in FIELDS.items():
        assert info.name == name
        assert info.cloudtrail and info.description and "\n" not in info.description


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_field_compiles_and_runs(db, name: str) -> None:
    value = {"is": "error", "since": "-1d", "until": "-1d", "readonly": "true", "readOnly": "true",
             "managementEvent": "false", "category": "data", "eventCategory": "data", "s3": "object",
             "same": "account,recipient"}.get(name, "x*")
    for text in (f"{name}:{value}", f"-{name.upper()}:{value}"):
        compiled = compile_filter(text, now=NOW)
        db.execute(f"SELECT count(*) FROM events WHERE {compiled.where}", compiled.params).fetchone()


# --- SQL functions -----------------------------------------------------------------------------


def test_sql_functions_return_null_on_bad_input(db, tmp_path) -> None:
    one = lambda sql, *args: db.execute(f"SELECT {sql}", args).fetchone()[0]  # noqa: E731
    assert one("trailtui_ip_in_cidr('10.1.2.3', '10.0.0.0/8')") == 1
    assert one("trailtui_ip_in_cidr('11.1.2.3', '10.0.0.0/8')") == 0
    assert one("trailtui_ip_in_cidr('2001:db8::1', '10.0.0.0/8')") == 0
    assert one("trailtui_ip_in_cidr('s3.amazonaws.com', '10.0.0.0/8')") is None
    assert one("trailtui_ip_in_cidr('10.1.2.3', 'junk')") is None
    assert one("trailtui_ip_in_cidr(NULL, NULL)") is None
    assert one("trailtui_ip_in_cidr(x'0a000001', '10.0.0.0/8')") is None
    assert one("trailtui_json_value(x'00', '[\"a\"]')") is None
    assert one("trailtui_json_value(NULL, NULL)") is None
    assert one("trailtui_json_value('text', '[\"a\"]')") is None
    # trailtui_json_value reads an event by its events.id: give it one whose original is kept.
    own = sqlite3.connect(tmp_path / "one-event.sqlite")
    for statement in schema_sql():
        own.execute(statement)
    raw = pack_event(b'{"s":"v","n":1.5,"i":7,"t":true,"f":false,"z":null,"o":{"a":[1,{"b":"c"}]}}')
    with own:
        own.execute("INSERT INTO events (id, eventID) VALUES (7, 'e7')")
        own.execute("INSERT INTO event_raw (id, raw) VALUES (7, ?)", (raw,))
    register_sql_functions(own)
    assert own.execute("SELECT trailtui_json_value(8, '[\"s\"]')").fetchone()[0] is None  # no such event
    value = lambda path: own.execute("SELECT trailtui_json_value(7, ?)", (path,)).fetchone()[0]  # noqa: E731
    assert value('["s"]') == "v"
    assert value('["n"]') == "1.5"
    assert value('["i"]') == "7"
    assert value('["t"]') == "true"
    assert value('["f"]') == "false"
    assert value('["z"]') is None
    assert value('["missing"]') is None
    assert value('["o"]') == '{"a":[1,{"b":"c"}]}'
    assert value('["o","a",1,"b"]') == "c"
    assert value('["o","a",2]') is None
    assert value('["o","a","x"]') is None
    assert value('["s","deeper"]') is None
    assert value("[]") == '{"s":"v","n":1.5,"i":7,"t":true,"f":false,"z":null,"o":{"a":[1,{"b":"c"}]}}'
    assert value("not json") is None
    assert value('{"a":1}') is None
    assert value("[true]") is None


def test_functions_are_registered_deterministic(db) -> None:
    # Deterministic functions may appear in index expressions; non-deterministic ones may not.
    db.execute("CREATE TEMP TABLE t (a TEXT)")
    db.execute("CREATE INDEX temp.t_cidr ON t (trailtui_ip_in_cidr(a, '10.0.0.0/8'))")
    db.execute("DROP TABLE temp.t")


# --- properties ------------------------------------------------------------------------------

GRAMMAR_PIECES = [
    "name:", "is:", "since:", "until:", "ip:", "source:", "readonly:", "category:", "actor:", "-", '"', "\\",
    "*", ",", ":", " ", ".", "a", "0", "GetObject", "error", "true", "-2h", "2021-07-28", "T10:00", "/24",
    "10.0.0.0", "2001:db8::", "resources.0.ARN:", "requestParameters.", "%", "_", "'", "NEAR(", "OR", "\x00", "é",
]


def _run(db: sqlite3.Connection, text: str) -> None:
    try:
        compiled = compile_filter(text, now=NOW)
    except FilterError as err:
        assert 0 <= err.position <= len(text)
        return
    assert isinstance(compiled, CompiledFilter)
    db.execute(f"SELECT count(*) FROM events WHERE {compiled.where}", compiled.params).fetchone()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_any_text_compiles_to_runnable_sql_or_filter_error(db, text: str) -> None:
    _run(db, text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(GRAMMAR_PIECES), max_size=12))
def test_grammar_like_text_compiles_to_runnable_sql_or_filter_error(db, pieces: list[str]) -> None:
    _run(db, "".join(pieces))


def test_huge_filters_stay_within_sqlite_limits(db) -> None:
    # Thousands of terms or values: expression depth (1000), parameters (32766), FTS depth.
    words = " ".join(f"w{i}" for i in range(1600))
    negated = " ".join(f"-w{i}" for i in range(1400))
    values = "actor:" + ",".join("a" for _ in range(4990))
    paths = " ".join("a.b:x" for _ in range(1600))
    wide = "object:*" + "_%" * 2000 + "*"
    for text in (words, negated, values, paths, wide):
        assert len(text) <= 10_000
        compiled = compile_filter(text)
        db.execute(f"SELECT count(*) FROM events WHERE {compiled.where}", compiled.params).fetchone()


# --- speed and layering ------------------------------------------------------------------------


def test_compiling_a_typical_filter_takes_well_under_a_millisecond() -> None:
    text = 'name:GetObject,Put* is:anonymous actor:*alice* ip:203.0.113.0/24 since:-1d -error:* agent:"aws-cli/2*" payroll'
    compile_filter(text)
    start = time.perf_counter()
    for _ in range(200):
        compile_filter(text)
    assert (time.perf_counter() - start) / 200 < 0.001


def test_texts_joined_keep_an_or_to_itself() -> None:
    from trailtui.core.facets import with_time_range
    from trailtui.core.filter.terms import and_text

    assert and_text("a OR b", "since:2026-03-14") == "(a OR b) since:2026-03-14"
    assert and_text(" a b ", "", "c OR d") == "a b (c OR d)"
    assert and_text("(a OR b)", "c") == "(a OR b) c"  # already grouped: the top level is an AND
    assert and_text("a OR (", "c") == "a OR ( c"  # does not parse: kept, and reported when compiled
    assert with_time_range("name:x since:-2h", "2026-01-01", "2026-01-02") == "name:x since:2026-01-01 until:2026-01-02"
    assert with_time_range("name:x OR since:-2h", "A", "B") == "(name:x OR since:-2h) since:A until:B"
