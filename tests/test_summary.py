"""What the index holds (IndexSummary) and the explanation of an index without events."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import make_event, write_records
from trailtui.core.ingest.decode import decode_bytes, decode_file
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.summary import SHAPES, IndexSummary, empty_explanation, index_summary


def _indexed(tmp_path: Path, root: Path):
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [root], workers=0)
    return conn


def test_summary_counts_files_by_outcome_duplicates_and_skip_reasons(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json.gz", [make_event("e1"), make_event("e2")], gz=True)
    write_records(logs / "b.json.gz", [make_event("e2"), make_event("e3")], gz=True)  # e2 again
    (logs / "partial.json").write_text(json.dumps({"Records": [make_event("e4"), "not an event"]}))
    (logs / "broken.json").write_text('{"Records": [')
    (logs / "README.md").write_text("hello")
    (logs / "LICENSE").write_text("MIT")
    (logs / "x-CloudTrail-Digest.json.gz").write_bytes(gzip.compress(b'{"logFiles": []}'))
    summary = index_summary(_indexed(tmp_path, logs))
    assert summary.events == 4
    assert summary.files == {"loaded": 2, "partial": 1, "failed": 1, "skipped": 3}
    assert summary.files_total == 7
    assert summary.duplicates == 1
    assert summary.load_errors == 2  # broken.json, and the bad record of partial.json
    assert summary.walk_problems == 0
    assert summary.skipped == (("not CloudTrail: not JSON", 2), ("CloudTrail digest file", 1))
    assert empty_explanation(summary, [str(logs)]) is None


def test_empty_folder_names_the_path_and_suggests_the_demo(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    text = empty_explanation(index_summary(_indexed(tmp_path, empty)), [str(empty)])
    assert text is not None
    lines = text.splitlines()
    assert lines[:2] == [f"No CloudTrail events in {empty}.", "Found no files there."]
    assert all(f"  - {shape.description}" in lines for shape in SHAPES)
    assert lines[-1] == "To see trailtui on a sample incident, run: trailtui --demo"


def test_non_cloudtrail_folder_says_what_was_skipped_and_failed_and_why(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "deep").mkdir(parents=True)
    (folder / "report.csv").write_text("a,b\n1,2\n")
    (folder / "deep" / "config.json").write_text('{"region": "eu-west-1"}')
    (folder / "deep" / "cut.json").write_text('[{"eventID": "x"')
    (folder / "none.json").write_text('{"Records": []}')
    (folder / "dangling").symlink_to(folder / "gone")
    text = empty_explanation(index_summary(_indexed(tmp_path, folder)), [str(folder)])
    assert text is not None
    assert (
        "Found 4 files, none with events:\n"
        "  1 skipped: not CloudTrail: a JSON object without Records, Events or event fields\n"
        "  1 skipped: not CloudTrail: not JSON\n"
        "  1 could not be read (listed as load errors)\n"
        "  1 held an empty list of events\n" in text
    )
    assert "1 path under them could not be read (listed as load errors)." in text


def test_paths_are_named_escaped_and_many_are_shortened() -> None:
    summary = IndexSummary(events=0, files={}, load_errors=0, duplicates=0)
    first = empty_explanation(summary, ["a\x1b]52;c;aGk=\x07", "b"]).splitlines()[0]
    assert first == "No CloudTrail events in a\\x1b]52;c;aGk=\\x07 and b."
    many = empty_explanation(summary, ["a", "b", "c", "d", "e"]).splitlines()[0]
    assert many == "No CloudTrail events in a, b, c and 2 more."


def test_no_explanation_when_there_are_events() -> None:
    assert empty_explanation(IndexSummary(events=1, files={"loaded": 1}, load_errors=0, duplicates=0), ["x"]) is None


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.description[:30])
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzipped"])
def test_every_shape_the_explanation_names_is_read_by_the_decoder(shape, gzipped: bool, tmp_path: Path) -> None:
    path = tmp_path / "any-name"  # "files of any name": no log-file suffix
    path.write_bytes(gzip.compress(shape.example) if gzipped else shape.example)
    decoded = decode_file(path)
    assert decoded.outcome == "events" and decoded.records and not decoded.record_errors, decoded


def test_cloudwatch_logs_exports_are_named_only_if_the_decoder_reads_them() -> None:
    # CloudWatch Logs exports to S3 write "<timestamp> <message>" lines ("Exporting log data to
    # Amazon S3" in the CloudWatch Logs User Guide). The explanation must not promise them
    # unless the decoder reads them.
    line = b'2024-03-14T10:00:00.000Z {"eventID": "e1", "eventName": "GetObject"}\n'
    read = decode_bytes(line * 2, log_name=False).outcome == "events"
    named = any("CloudWatch" in shape.description for shape in SHAPES)
    assert read == named, "SHAPES (the empty-index explanation) and the decoder disagree about CloudWatch Logs"
