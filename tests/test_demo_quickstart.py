"""The README's "Quick start" on the demo: the facts it states and the filters it suggests give
what it says, through the index a user's ``trailtui --demo`` builds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trailtui.core.demo import STORY, write_demo_logs
from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.presets import get_preset
from trailtui.core.query import EventQuery, credential_chain, total_events

README = Path(__file__).resolve().parents[1] / "README.md"
SESSION_KEY = "ASIAQ3EGL7KD2VYB6WPE"  # the README's /akid: example
ATTACKER_IP = "198.51.100.23"


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-quickstart")
    summary = write_demo_logs(root / "logs")
    conn = connect(root / "index.sqlite")
    index_paths(conn, [root / "logs" / "AWSLogs"])
    yield summary, conn
    conn.close()


def count(conn, text: str) -> int:
    return EventQuery(conn, compile_filter(text)).count()


def names(conn, text: str) -> set[str]:
    return {row[0] for row in EventQuery(conn, compile_filter(text)).iter_rows(["eventName"])}


def test_the_readme_quick_start_states_the_story_facts() -> None:
    if not README.is_file():
        pytest.skip(f"{README} is not beside the tests (installed package)")
    text = README.read_text(encoding="utf-8")
    quick_start = text[text.index("## Quick start"):text.index("## Usage")].replace("`", "")
    for fact in ("date", "account", "leaked_user", "attacker_ip", "assumed_role", "public_bucket", "persistence_user",
                 "session_key"):  # fmt: skip
        assert STORY[fact] in quick_start, fact
    assert f"{STORY['access_denied_from_ci_deploy']} AccessDenied" in quick_start
    assert f"{STORY['getobject_finance_reports']} objects of {STORY['public_bucket']}" in quick_start
    assert re.search(rf"{STORY['anonymous_getobject_public_assets']} anonymous\s+GetObject", quick_start)


def test_every_record_is_indexed_once(demo_index) -> None:
    summary, conn = demo_index
    assert total_events(conn) == summary.distinct_events  # re-delivered copies merged


def test_the_leaked_key_errors_from_the_attacker_address(demo_index) -> None:
    _, conn = demo_index
    assert count(conn, "error:AccessDenied actor:*ci-deploy*") == 40
    assert count(conn, "is:error actor:*ci-deploy*") >= 40
    assert count(conn, f"is:error actor:*ci-deploy* -ip:{ATTACKER_IP}") == 0
    # The key is ci-deploy's own long-term key, also used by the CI runner: leaked, not new.
    assert count(conn, f"actor:*ci-deploy* akid:AKIA* -ip:{ATTACKER_IP}") > 0
    assert count(conn, "issued:AKIA* principal:*ci-deploy*") == 0


def test_the_stolen_session_comes_from_ci_deploys_assume_role(demo_index) -> None:
    _, conn = demo_index
    assert count(conn, f"name:AssumeRole actor:*ci-deploy* issued:{SESSION_KEY} ip:{ATTACKER_IP}") == 1
    (grant, *_) = credential_chain(conn, SESSION_KEY)
    assert grant.eventName == "AssumeRole" and grant.grantor_principal.endswith(":user/ci-deploy")
    assert grant.principal.endswith(":role/DataPipeline")
    assert count(conn, f"akid:{SESSION_KEY} name:GetObject bucket:finance-reports -is:error") == 100
    assert {"DeleteBucketPublicAccessBlock", "PutBucketPolicy", "CreateUser", "CreateAccessKey",
            "StopLogging"} <= names(conn, f"akid:{SESSION_KEY}")  # fmt: skip


def test_anonymous_get_object(demo_index) -> None:
    _, conn = demo_index
    assert count(conn, "name:GetObject is:anonymous bucket:demo-public-assets") == 15
    # After the bucket was made public, the attacker fetched three objects without signing.
    assert count(conn, f"name:GetObject is:anonymous bucket:finance-reports ip:{ATTACKER_IP}") == 3


def test_the_presets_the_readme_names_find_the_story(demo_index) -> None:
    _, conn = demo_index
    root = get_preset("root-activity").filter
    assert count(conn, f"{root} name:ConsoleLogin additionalEventData.MFAUsed:No") == 1
    assert "StopLogging" in names(conn, get_preset("logging-tampering").filter + f" akid:{SESSION_KEY}")
    public = names(conn, get_preset("bucket-made-public").filter + " bucket:finance-reports")
    assert {"DeleteBucketPublicAccessBlock", "PutBucketPolicy"} <= public
    assert count(conn, get_preset("new-credentials").filter + " requestParameters.userName:backup-svc") == 2
