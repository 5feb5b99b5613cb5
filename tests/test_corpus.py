"""The real CloudTrail corpus in ../shared/corpus (see its SOURCES.md): every folder loads,
malformed files are reported by name, duplicates collapse, and the questions of the first
release are answered by filters. Skipped where ../shared is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailtui.core.filter import compile_filter
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.query import EventQuery

# Event counts per folder from SOURCES.md (before dedupe), and the files it calls malformed.
FOLDERS = {
    "suzaku-sample-data/SANS-504-S3-ransomware-lab": 30_477,
    "invictus-ir-aws-dataset": 2_900,
    "permiso-cloudconsolecartographer": 9_226,
    "traildiscover-logexamples": 563,
    "stratus-red-team-detonation-logs": 310,
    "otrf-security-datasets": 103,
    "flaws2-defender-logs": 37,
    "elastic-integrations-cloudtrail-tests": 11,
    "zmallen-cloudtrail2sightings": 12,
    "trailscraper-fixtures": 4,
}
MALFORMED = {
    "suzaku-sample-data/traildiscover.cloud/aws/cloudtrail/CreateApiKey.json",
    "zmallen-cloudtrail2sightings/aws.execution.ec2-user-data.json",
}


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"real CloudTrail corpus not found at {CORPUS} (it lives in ../shared, outside the repo)")
    conn = connect(tmp_path_factory.mktemp("corpus") / "index.sqlite")
    summary = index_paths(conn, [CORPUS])
    return CORPUS, conn, summary


def _events_seen_in(conn, corpus: Path, folder: str) -> int:
    """Events whose first copy came from ``folder`` plus duplicates counted in its files."""
    prefix = str(corpus / folder) + "/%"
    added, duplicates = conn.execute(
        "SELECT sum(events), sum(duplicates) FROM files WHERE path LIKE ?", (prefix,)
    ).fetchone()
    return (added or 0) + (duplicates or 0)


@pytest.mark.parametrize("folder, events", sorted(FOLDERS.items()))
def test_every_folder_loads_all_its_events(corpus_index, folder: str, events: int) -> None:
    corpus, conn, _ = corpus_index
    assert _events_seen_in(conn, corpus, folder) == events


def test_malformed_files_are_reported_by_name(corpus_index) -> None:
    corpus, conn, summary = corpus_index
    failed = {str(Path(path).relative_to(corpus)) for path, _ in summary.failures if path.startswith(str(corpus))}
    assert MALFORMED <= failed
    for path, reason in summary.failures:
        if str(Path(path).relative_to(corpus)) in MALFORMED:
            assert "invalid JSON: line" in reason


def test_digest_file_is_skipped_not_failed(corpus_index) -> None:
    _, _, summary = corpus_index
    assert any("digest" in reason for _, reason in summary.skips)
    assert not any("digest" in path for path, _ in summary.failures)


def test_sans_duplicates_collapse(corpus_index) -> None:
    corpus, conn, _ = corpus_index
    prefix = str(corpus / "suzaku-sample-data/SANS-504-S3-ransomware-lab") + "/%"
    unique = conn.execute(
        "SELECT count(*) FROM events e JOIN files f ON f.id = e.file_id WHERE f.path LIKE ?", (prefix,)
    ).fetchone()[0]
    # SOURCES.md: 30,477 events of which 6,496 appear twice, byte-identical.
    assert unique == 30_477 - 6_496


def test_flaws2_anonymous_get_object_requests(corpus_index) -> None:
    corpus, conn, _ = corpus_index
    # SOURCES.md: 22 anonymous S3 GetObject events in the flaws2 logs, and none anywhere else.
    query = EventQuery(conn, compile_filter("name:GetObject is:anonymous"))
    assert query.count() == 22


def test_otrf_events_without_event_time_use_timestamp(corpus_index) -> None:
    corpus, conn, _ = corpus_index
    prefix = str(corpus / "otrf-security-datasets") + "/%"
    missing = conn.execute(
        'SELECT count(*) FROM events e JOIN files f ON f.id = e.file_id WHERE f.path LIKE ? AND e."eventTime" IS NULL',
        (prefix,),
    ).fetchone()[0]
    assert missing == 0


def test_reopening_the_corpus_reads_nothing(corpus_index) -> None:
    corpus, conn, first = corpus_index
    again = index_paths(conn, [corpus])
    assert again.files_unchanged == first.files_total
    assert again.events_added == 0


def _loader_messages(db_path: Path, paths: list[str]) -> list[tuple[str, dict]]:
    """Every message the app's loader process sends (JSON lines through its pipe) until the end."""
    from trailtui.core.loader import BackgroundLoader

    loader = BackgroundLoader(db_path, paths)
    loader.start()
    try:
        return list(loader.messages())  # "done" (or "error"), then the detection run's messages
    finally:
        loader.stop()


def test_the_loader_says_how_many_sans_duplicates_it_merged(tmp_path: Path) -> None:
    from tests.conftest import CORPUS

    sans = CORPUS / "suzaku-sample-data/SANS-504-S3-ransomware-lab"
    if not sans.is_dir():
        pytest.skip(f"real CloudTrail corpus not found at {CORPUS} (it lives in ../shared, outside the repo)")
    messages = _loader_messages(tmp_path / "index.sqlite", [str(sans)])
    assert messages[-1][0] == "detected"  # the rules run once the files are indexed
    (done,) = [payload for kind, payload in messages if kind == "done"]
    # SOURCES.md: 30,477 events of which 6,496 are copies of another file's event.
    assert (done["duplicates"], done["events_total"], done["events_added"]) == (6_496, 30_477 - 6_496, 30_477 - 6_496)
    progress = [payload for kind, payload in messages if kind == "progress"]
    phases = [payload["phase"] for payload in progress]
    merge = phases.index("merging duplicate eventIDs")
    # Before the merge, readers are told a merge is coming (copies within one batch of files are
    # merged as they are read, the others wait for it); after it, every copy is counted once.
    assert all(payload["merge_pending"] for payload in progress[: merge + 1])
    assert progress[merge]["events_added"] + progress[merge]["duplicates"] == 30_477
    after = progress[merge + 1]
    assert after["phase"] == "building indexes" and not after["merge_pending"]
    assert (after["events_added"], after["duplicates"]) == (30_477 - 6_496, 6_496)
    assert phases[-1] == "done"


#: The presets as they were written by hand before they became rules of the built-in pack (the
#: grammar's shortcuts: ``is:``, ``source:``, ``name:``, ``ip:``, free text).
HAND_WRITTEN_PRESETS = {
    "s3-put-object": "name:PutObject",
    "s3-get-object": "name:GetObject",
    "s3-anonymous": "is:anonymous",
    "console-login-no-mfa": "source:signin name:ConsoleLogin responseElements.ConsoleLogin:Success "
                            "additionalEventData.MFAUsed:No -type:AssumedRole",
    "console-login-failed": "source:signin name:ConsoleLogin responseElements.ConsoleLogin:Failure",
    "root-activity": "is:root -userIdentity.invokedBy:* -eventtype:AwsServiceEvent",
    "access-denied": "error:AccessDenied,AccessDeniedException,UnauthorizedOperation,Client.UnauthorizedOperation",
    "new-credentials": "source:iam name:CreateAccessKey,CreateUser,CreateLoginProfile,UpdateLoginProfile",
    "privilege-escalation": "source:iam name:AttachUserPolicy,AttachRolePolicy,AttachGroupPolicy,PutUserPolicy,"
                            "PutRolePolicy,PutGroupPolicy,CreatePolicyVersion,SetDefaultPolicyVersion,AddUserToGroup,"
                            "UpdateAssumeRolePolicy",
    "logging-tampering": "name:StopLogging,DeleteTrail,UpdateTrail,PutEventSelectors,PutInsightSelectors,"
                         "DeleteEventDataStore,StopEventDataStoreIngestion,DeleteDetector,UpdateDetector,"
                         "DisassociateFromMasterAccount,DisassociateFromAdministratorAccount,StopConfigurationRecorder,"
                         "DeleteConfigurationRecorder,DeleteDeliveryChannel,DeleteFlowLogs",
    "bucket-made-public": "source:s3 name:PutBucketPolicy,PutBucketAcl,PutObjectAcl,DeleteBucketPublicAccessBlock,"
                          "PutBucketPublicAccessBlock,DeleteAccountPublicAccessBlock,PutAccountPublicAccessBlock",
    "security-group-open-world": 'source:ec2 name:AuthorizeSecurityGroupIngress,ModifySecurityGroupRules "0.0.0.0/0"',
    "secrets-read": "source:secretsmanager,ssm name:GetSecretValue,BatchGetSecretValue,GetParameter,GetParameters,"
                    "GetParametersByPath",
    "instance-credentials-outside": 'arn:*:assumed-role/*/i-* -ip:10.0.0.0/8 -ip:172.16.0.0/12 -ip:192.168.0.0/16 '
                                    '-ip:*.amazonaws.com -ip:"AWS Internal"',
    "mass-delete-objects": "source:s3 name:DeleteObject,DeleteObjects",
    "caller-identity-recon": "source:sts name:GetCallerIdentity",
    "mfa-removed": "source:iam name:DeactivateMFADevice,DeleteVirtualMFADevice",
    "kms-key-deletion": "source:kms name:ScheduleKeyDeletion,DisableKey",
}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN_PRESETS))
def test_presets_as_sigma_rules_find_what_the_hand_written_filters_found(corpus_index, name: str) -> None:
    """Rewriting the presets as Sigma rules changed no answer on the real corpus. One is
    narrower on purpose: the security-group rule looks for 0.0.0.0/0 in requestParameters, where
    the old phrase also matched it anywhere else in the event."""
    from trailtui.core.presets import get_preset

    _, conn, _ = corpus_index

    def found(text: str) -> set[str]:
        return {row[0] for row in EventQuery(conn, compile_filter(text)).iter_rows(["eventID"])}

    old, new = found(HAND_WRITTEN_PRESETS[name]), found(get_preset(name).filter)
    if name == "security-group-open-world":
        assert new <= old and new
    else:
        assert new == old
