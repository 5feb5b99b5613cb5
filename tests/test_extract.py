"""Field extraction: times, IPs, actor names, the free-text body."""

from __future__ import annotations

import ipaddress

from hypothesis import given, strategies as st

from trailtui.core.ingest.extract import actor_name, event_text, ipv4_number, normalize_event_time


@given(st.one_of(st.ip_addresses(v=4).map(str), st.text(alphabet="0123456789.", max_size=16), st.text(max_size=20)))
def test_ipv4_number_agrees_with_ipaddress(address: str) -> None:
    try:
        expected = int(ipaddress.IPv4Address(address))
    except ValueError:
        expected = None
    assert ipv4_number(address) == expected


def test_event_times_are_normalised_to_utc_seconds() -> None:
    assert normalize_event_time("2021-07-28T10:00:00Z") == "2021-07-28T10:00:00Z"
    assert normalize_event_time("2020-09-14T00:44:23.000Z") == "2020-09-14T00:44:23Z"
    assert normalize_event_time("2021-07-28T12:00:00+02:00") == "2021-07-28T10:00:00Z"
    assert normalize_event_time("2021-07-28 10:00:00") == "2021-07-28T10:00:00Z"
    assert normalize_event_time("yesterday-ish") is None
    assert normalize_event_time(1627466400) is None


def test_actor_names_follow_the_identity_type() -> None:
    assert actor_name({"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::1:user/alice"}) == "alice"
    assert actor_name({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Admin/bob"}) == "Admin/bob"
    assert actor_name({"type": "Root", "accountId": "111122223333"}) == "root (111122223333)"
    assert actor_name({"type": "AWSService", "invokedBy": "s3.amazonaws.com"}) == "s3.amazonaws.com"
    assert actor_name({"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}) == "anonymous"
    assert actor_name({"type": "AWSAccount", "accountId": "444455556666"}) == "account 444455556666"
    assert actor_name({"invokedBy": "secretsmanager.amazonaws.com", "accountId": "1"}) == "secretsmanager.amazonaws.com"


def test_free_text_body_keeps_searchable_values_once_and_drops_identifiers() -> None:
    event = {
        "eventID": "0f6c8ea6-2a64-4b0d-8f0e-000000000001",
        "requestID": "ABCDEF0123456789",
        "eventName": "GetObject",
        "userIdentity": {"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::1:user/alice"},
        "requestParameters": {"bucketName": "finance", "key": "q1/payroll.csv", "max-keys": 1000},
        "additionalEventData": {"x-amz-id-2": "bm9pc2U=", "bytesTransferredOut": 42},
        "resources": [{"ARN": "arn:aws:s3:::finance"}, {"ARN": "arn:aws:s3:::finance"}],
        "readOnly": True,
    }
    words = event_text(event).split(" ")
    for expected in ("GetObject", "alice", "arn:aws:iam::1:user/alice", "finance", "q1/payroll.csv", "1000"):
        assert expected in words
    for dropped in ("0f6c8ea6-2a64-4b0d-8f0e-000000000001", "ABCDEF0123456789", "bm9pc2U=", "42", "True"):
        assert dropped not in words
    assert words.count("arn:aws:s3:::finance") == 1


def test_identity_center_users_are_keyed_each_on_their_own() -> None:
    from trailtui.core.ingest.extract import actor_key

    first = {"type": "IdentityCenterUser", "accountId": "111122223333", "onBehalfOf": {"userId": "u-1"}}
    second = {"type": "IdentityCenterUser", "accountId": "111122223333", "onBehalfOf": {"userId": "u-2"}}
    assert actor_key(first) == "identity-center:u-1"
    assert actor_key(first) != actor_key(second)
    assert actor_key({"type": "AWSAccount", "accountId": "444455556666"}) == "account:444455556666"
