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
        return list(loader.messages())  # ends with "done" or "error"
    finally:
        loader.stop()


def test_the_loader_says_how_many_sans_duplicates_it_merged(tmp_path: Path) -> None:
    from tests.conftest import CORPUS

    sans = CORPUS / "suzaku-sample-data/SANS-504-S3-ransomware-lab"
    if not sans.is_dir():
        pytest.skip(f"real CloudTrail corpus not found at {CORPUS} (it lives in ../shared, outside the repo)")
    messages = _loader_messages(tmp_path / "index.sqlite", [str(sans)])
    kind, done = messages[-1]
    assert kind == "done", done
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
