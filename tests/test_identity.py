"""Identity, keyed three ways (principal, session, credential), and credential chains.

The chain here: alice (IAM user, long-term key AKIAEXAMPLEALICE0001) calls AssumeRole on role
Deployer and gets ASIAEXAMPLEDEPLOY001; that session assumes role Auditor (role chaining) and gets
ASIAEXAMPLEAUDIT0001; the Auditor session reads three objects. Alice also creates a long-term key
for user bob (CreateAccessKey), who uses it once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trailtui.core.demo.records import assume_role_call, assumed_role, create_access_key_call, iam_user
from trailtui.core.ingest.extract import ANONYMOUS_PRINCIPAL, issued_access_key_id, principal_key, session_key
from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.query import (
    EventQuery,
    actor_totals,
    credential_chain,
    grant_by_event,
    grants_made,
)
from trailtui.tui.app import TrailApp
from tests.conftest import alice, make_event, write_records

ACCOUNT = "111122223333"
ALICE_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
DEPLOYER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Deployer"
AUDITOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Auditor"


def session_identity(role: str, session: str, key: str, created: str) -> dict:
    """An AssumedRole userIdentity of ``role`` (role ID ``AROAEXAMPLE<ROLE>``) whose source identity is alice."""
    return assumed_role(role, session, role_id=f"AROAEXAMPLE{role.upper()}", access_key_id=key,
                        session_created=created, source_identity="alice@example.com")


DEPLOYER = session_identity("Deployer", "deploy-1", "ASIAEXAMPLEDEPLOY001", "2026-03-14T10:01:00Z")
AUDITOR = session_identity("Auditor", "audit-1", "ASIAEXAMPLEAUDIT0001", "2026-03-14T10:02:00Z")
BOB = iam_user("bob", principal_id="AIDAEXAMPLEBOB", access_key_id="AKIAEXAMPLEBOBNEW001")


def assume_role(event_id: str, caller: dict, role: str, session: str, key: str, time: str) -> dict:
    """``caller`` assumes ``role`` at ``time`` and is handed ``key``."""
    return assume_role_call(role, session, user_identity=caller, role_id=f"AROAEXAMPLE{role.upper()}",
                            issued_access_key_id=key, expiration="Mar 14, 2026, 11:00:00 AM", event_time=time,
                            event_id=event_id, source_ip_address="198.51.100.7", user_agent="aws-cli/2.15.30")


def chain_events() -> list[dict]:
    events = [
        make_event("alice-list", "ListBuckets", eventTime="2026-03-14T10:00:00Z", requestParameters=None),
        assume_role("grant-deployer", alice(), "Deployer", "deploy-1", "ASIAEXAMPLEDEPLOY001", "2026-03-14T10:01:00Z"),
        assume_role("grant-auditor", DEPLOYER, "Auditor", "audit-1", "ASIAEXAMPLEAUDIT0001", "2026-03-14T10:02:00Z"),
        create_access_key_call("bob", user_identity=alice(), access_key_id="AKIAEXAMPLEBOBNEW001",
                               event_time="2026-03-14T10:03:00Z", event_id="create-key",
                               source_ip_address="198.51.100.7", user_agent="aws-cli/2.15.30"),
        make_event("bob-get", "GetObject", userIdentity=BOB, eventTime="2026-03-14T10:04:00Z"),
    ]
    events += [
        make_event(f"audit-get-{i}", "GetObject", userIdentity=AUDITOR, eventTime=f"2026-03-14T10:1{i}:00Z")
        for i in range(3)
    ]
    events.append(make_event("deployer-put", "PutObject", userIdentity=DEPLOYER, eventTime="2026-03-14T10:05:00Z"))
    return events


@pytest.fixture
def chain_db(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", chain_events())
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [logs])
    return db_path


def test_principal_session_and_issued_key_by_identity_type() -> None:
    assert principal_key(DEPLOYER) == DEPLOYER_ROLE
    assert session_key(DEPLOYER) == f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/deploy-1 @ 2026-03-14T10:01:00Z"
    alice = make_event("x")["userIdentity"]
    assert principal_key(alice) == ALICE_ARN and session_key(alice) is None
    assert principal_key({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}) == "ec2.amazonaws.com"
    assert principal_key({"type": "AWSAccount", "principalId": "", "accountId": ANONYMOUS_PRINCIPAL}) == ANONYMOUS_PRINCIPAL
    assert principal_key({"type": "AWSAccount", "principalId": "AIDAOTHER", "accountId": "444455556666"}) == (
        "account:444455556666"
    )
    # An assumed-role identity without sessionIssuer (trimmed exports): the role from the ARN.
    trimmed = {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/x"}
    assert principal_key(trimmed) == DEPLOYER_ROLE
    identity_center = {"type": "IdentityCenterUser", "accountId": ACCOUNT, "onBehalfOf": {"userId": "u-123"}}
    assert principal_key(identity_center) == "identity-center:u-123"
    assert issued_access_key_id({"responseElements": {"credentials": {"accessKeyId": "ASIAX"}}}) == "ASIAX"
    assert issued_access_key_id({"responseElements": {"accessKey": {"accessKeyId": "AKIAX"}}}) == "AKIAX"
    assert issued_access_key_id({"responseElements": None}) is None


def _ids(conn, text: str) -> set[str]:
    query = EventQuery(conn, compile_filter(text))
    return {row[0] for row in query.iter_rows(["eventID"])}


def test_filters_by_principal_session_and_issued_key(chain_db: Path) -> None:
    conn = connect(chain_db, readonly=True)
    assert _ids(conn, f"principal:{DEPLOYER_ROLE}") == {"grant-auditor", "deployer-put"}
    assert _ids(conn, f"principal:{ALICE_ARN}") == {"alice-list", "grant-deployer", "create-key"}
    assert _ids(conn, "session:*audit-1*") == {"audit-get-0", "audit-get-1", "audit-get-2"}
    assert _ids(conn, "issued:ASIAEXAMPLEAUDIT0001") == {"grant-auditor"}
    assert _ids(conn, "issued:*") == {"grant-deployer", "grant-auditor", "create-key"}
    # Negation keeps the events without the field (alice's long-term calls have no session).
    assert _ids(conn, "-session:*") == {"alice-list", "grant-deployer", "create-key", "bob-get"}
    assert _ids(conn, "-principal:*alice*") == {
        "grant-auditor", "deployer-put", "bob-get", "audit-get-0", "audit-get-1", "audit-get-2"
    }


def test_credential_chain_walks_up_through_role_chaining(chain_db: Path) -> None:
    conn = connect(chain_db, readonly=True)
    chain = credential_chain(conn, "ASIAEXAMPLEAUDIT0001")
    assert [grant.access_key_id for grant in chain] == ["ASIAEXAMPLEAUDIT0001", "ASIAEXAMPLEDEPLOY001"]
    auditor_grant, deployer_grant = chain
    assert auditor_grant.grantor_principal == DEPLOYER_ROLE and auditor_grant.used_events == 3
    assert auditor_grant.principal == AUDITOR_ROLE
    assert deployer_grant.grantor_principal == ALICE_ARN and deployer_grant.grantor_key == "AKIAEXAMPLEALICE0001"
    assert deployer_grant.used_events == 2  # grant-auditor and deployer-put
    # Alice's long-term key was issued before the logs begin: the chain ends there.
    assert credential_chain(conn, "AKIAEXAMPLEALICE0001") == []


def test_grants_made_by_a_principal_and_by_one_event(chain_db: Path) -> None:
    conn = connect(chain_db, readonly=True)
    total, grants = grants_made(conn, "principal", ALICE_ARN)
    assert total == 2
    assert [grant.eventName for grant in grants] == ["CreateAccessKey", "AssumeRole"]  # newest first
    create = grants[0]
    assert create.access_key_id == "AKIAEXAMPLEBOBNEW001" and create.used_events == 1
    assert create.principal == f"arn:aws:iam::{ACCOUNT}:user/bob"
    (event_id,) = conn.execute("SELECT id FROM events WHERE eventID = 'grant-auditor'").fetchone()
    assert grant_by_event(conn, event_id).access_key_id == "ASIAEXAMPLEAUDIT0001"
    (plain_id,) = conn.execute("SELECT id FROM events WHERE eventID = 'audit-get-0'").fetchone()
    assert grant_by_event(conn, plain_id) is None


def test_actor_totals_by_principal_session_and_credential(chain_db: Path) -> None:
    conn = connect(chain_db, readonly=True)
    assert actor_totals(conn, ALICE_ARN, by="principal").events == 3
    assert actor_totals(conn, "ASIAEXAMPLEDEPLOY001", by="credential").events == 2
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/Auditor/audit-1 @ 2026-03-14T10:02:00Z"
    totals = actor_totals(conn, session, by="session")
    assert (totals.events, totals.first_seen, totals.last_seen) == (3, "2026-03-14T10:10:00Z", "2026-03-14T10:12:00Z")
    with pytest.raises(ValueError):
        actor_totals(conn, "x", by="nonsense")


async def _settle(pilot) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _identity_text(app) -> str:
    content = app.query_one("#identity-body").content
    return "\n".join(part.plain for part in getattr(content, "renderables", [content]) if hasattr(part, "plain"))


async def test_walk_the_chain_up_from_an_auditor_read_and_back_down(chain_db: Path) -> None:
    app = TrailApp(db_path=chain_db, start_loader=False, initial_filter="session:*audit-1*")
    async with app.run_test(size=(200, 50)) as pilot:
        await _settle(pilot)
        assert app.event_list.count == 3
        text = _identity_text(app)
        assert f"principal  {AUDITOR_ROLE}" in text
        assert "credential ASIAEXAMPLEAUDIT0001 (ASIA)" in text
        # The chain, top first: alice -> AssumeRole (Deployer key) -> AssumeRole (Auditor key).
        assert text.index("alice with AKIAEXAMPLEALICE0001") < text.index("key ASIAEXAMPLEDEPLOY001")
        assert text.index("key ASIAEXAMPLEDEPLOY001") < text.index("key ASIAEXAMPLEAUDIT0001 (3 events)")
        # Each key is shown with the role and session it became.
        assert "as role/Deployer, session deploy-1 (created 2026-03-14 10:01:00 UTC)" in text
        assert "as role/Auditor, session audit-1 (created 2026-03-14 10:02:00 UTC)" in text
        await pilot.press("u")
        await _settle(pilot)
        assert app.query_one("#filter-input").value == "issued:ASIAEXAMPLEAUDIT0001"
        assert app.event_list.count == 1
        assert "it handed out key ASIAEXAMPLEAUDIT0001, which signed 3 events" in _identity_text(app)
        await pilot.press("u")  # one more step up: the event that gave the Deployer session its key
        await _settle(pilot)
        assert app.query_one("#filter-input").value == "issued:ASIAEXAMPLEDEPLOY001"
        await pilot.press("d")  # and down again: what the Deployer key signed
        await _settle(pilot)
        assert app.query_one("#filter-input").value == "akid:ASIAEXAMPLEDEPLOY001"
        assert app.event_list.count == 2


async def test_down_from_a_principal_lists_the_keys_it_handed_out(chain_db: Path) -> None:
    app = TrailApp(db_path=chain_db, start_loader=False, initial_filter="id:alice-list")
    async with app.run_test(size=(200, 50)) as pilot:
        await _settle(pilot)
        assert "This principal handed out 2 keys" in _identity_text(app)
        await pilot.press("d")
        await _settle(pilot)
        assert app.query_one("#filter-input").value == f"principal:{ALICE_ARN} issued:*"
        assert app.event_list.count == 2
