"""The command line: index summary, query formats, exit codes, bad filters."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from trailtui.cli import main
from trailtui.core.demo.records import anonymous_caller
from tests.conftest import make_event, write_records


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    events = [
        make_event("g1", "GetObject", eventTime="2026-03-14T10:00:00Z"),
        make_event("g2", "GetObject", eventTime="2026-03-14T11:00:00Z",
                   userIdentity=anonymous_caller()),
        make_event("p1", "PutObject", eventTime="2026-03-14T12:00:00Z", errorCode="AccessDenied",
                   requestParameters={"bucketName": "finance-reports", "key": "=cmd|' /C calc'!A0"}),
    ]
    write_records(root / "a.json.gz", events, gz=True)
    write_records(root / "b.json.gz", [events[0]], gz=True)  # one duplicate
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_index_prints_a_summary(capsys, logs: Path, tmp_path: Path) -> None:
    (logs / "README.md").write_text("hello")
    code, out, _ = run(capsys, "index", str(logs), "--db", str(tmp_path / "i.sqlite"))
    assert code == 0
    assert "3 found, 2 read, 0 unchanged, 1 skipped, 0 failed" in out
    assert "3 added, 1 duplicate merged, 0 bad records" in out
    code, out, _ = run(capsys, "index", str(logs), "--db", str(tmp_path / "i.sqlite"))
    assert "3 unchanged" in out and "0 added" in out


def test_index_reports_failures_and_exits_3(capsys, logs: Path, tmp_path: Path) -> None:
    (logs / "bad.json").write_text('{"Records": [{"eventID": "x",}]}')
    code, out, err = run(capsys, "index", str(logs), "--db", str(tmp_path / "i.sqlite"))
    assert code == 3
    assert "bad.json: invalid JSON: line 1, column" in err
    assert "3 added" in out  # the good files still loaded


def test_query_table_count_and_filter(capsys, logs: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "i.sqlite")
    code, out, _ = run(capsys, "query", str(logs), "--db", db, "--filter", "name:GetObject", "--count")
    assert (code, out.strip()) == (0, "2")
    code, out, _ = run(capsys, "query", str(logs), "--db", db, "--filter", "is:anonymous")
    lines = out.strip().splitlines()
    assert lines[0].startswith("eventTime")
    assert len(lines) == 2 and "anonymous" in lines[1] and "GetObject" in lines[1]


def test_query_ndjson_prints_original_events_unchanged(capsys, logs: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--format", "ndjson",
                       "--oldest-first")
    lines = out.splitlines()
    assert [json.loads(line)["eventID"] for line in lines] == ["g1", "g2", "p1"]
    assert lines[0] == json.dumps(make_event("g1", "GetObject", eventTime="2026-03-14T10:00:00Z"))


def test_query_json_and_limit(capsys, logs: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--format", "json", "--limit", "2")
    events = json.loads(out)
    assert [event["eventID"] for event in events] == ["p1", "g2"]


def test_query_csv_neutralises_formulas(capsys, logs: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--format", "csv",
                       "--filter", "name:PutObject")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1
    assert rows[0]["resource"].startswith("finance-reports/=cmd")
    assert rows[0]["eventName"] == "PutObject"
    assert rows[0]["errorCode"] == "AccessDenied"


def test_query_since_and_until_take_a_time_with_a_space(capsys, logs: Path, tmp_path: Path) -> None:
    """As the list shows times (``2026-03-14 10:30``): the value is quoted as one filter value."""
    code, out, err = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--since", "2026-03-14 10:30",
                         "--until", "2026-03-14 11:30", "--count")
    assert (code, out.strip()) == (0, "1"), err


def test_a_bad_since_for_an_s3_window_is_a_usage_error(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "s3://trail-bucket/AWSLogs/", "--since", "bogus", "--dry-run")
    assert code == 2 and err.startswith("trailtui: --since bogus: position 0: expected an ISO date"), err


def test_account_and_region_narrow_the_events_including_old_ones_without_recipient(capsys, tmp_path: Path) -> None:
    old = make_event("old-1.01", eventVersion="1.01")  # alice, account 111122223333
    del old["recipientAccountId"]  # eventVersion 1.01 events do not have it
    events = [
        make_event("mine", recipientAccountId="111122223333"),
        make_event("theirs", recipientAccountId="444455556666"),  # alice's call, logged in the bucket owner's trail
        make_event("elsewhere", recipientAccountId="111122223333", awsRegion="eu-west-1"),
        old,
    ]
    write_records(tmp_path / "logs" / "a.json", events)
    db = str(tmp_path / "i.sqlite")
    code, out, _ = run(capsys, "query", str(tmp_path / "logs"), "--db", db, "--account", "111122223333",
                       "--region", "us-east-1", "--format", "ndjson")
    assert code == 0
    assert sorted(json.loads(line)["eventID"] for line in out.splitlines()) == ["mine", "old-1.01"]
    code, out, _ = run(capsys, "query", str(tmp_path / "logs"), "--db", db, "--account", "444455556666,111122223333",
                       "--count")
    assert out.strip() == "4"


def test_bad_filter_names_the_position_and_exits_2(capsys, logs: Path, tmp_path: Path) -> None:
    code, out, err = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--filter", "is:error name:")
    assert code == 2
    assert "position 14: expected a value" in err
    assert out == ""


def test_missing_path_is_a_usage_error(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "index", str(tmp_path / "nope"), "--db", str(tmp_path / "i.sqlite"))
    assert code == 2
    assert "no such file or directory" in err


def test_version_and_help_via_python_m(tmp_path: Path) -> None:
    version = subprocess.run([sys.executable, "-m", "trailtui", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("trailtui ")
    helped = subprocess.run([sys.executable, "-m", "trailtui", "query", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--format" in helped.stdout


def test_the_command_line_loads_textual_only_to_browse() -> None:
    # index, query and the loader process start without the UI: trailtui.cli imports the app
    # inside the browse command only (the import-linter contract covers trailtui.core, not the
    # lazy imports of cli.py, which it would count as imports).
    code = (
        "import sys, trailtui.cli; "
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'trailtui.tui'))]; "
        "sys.exit(', '.join(bad) or None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "importing trailtui.cli loaded the UI"


def test_demo_opens_the_app_on_the_generated_sample(monkeypatch, tmp_path: Path) -> None:
    from trailtui.tui.app import TrailApp

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    opened = {}

    def fake_run(self):
        opened["paths"], opened["db"] = self.paths, self.db_path
        return 0

    monkeypatch.setattr(TrailApp, "run", fake_run)
    assert main(["--demo"]) == 0
    demo_logs = Path(opened["paths"][0])
    assert demo_logs.name == "AWSLogs" and any(demo_logs.rglob("*.json.gz"))
    assert opened["db"].exists() and opened["db"].parent == tmp_path / "cache" / "trailtui"


def test_query_preset_prints_the_user_guides_columns(capsys, logs: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--preset", "s3-anonymous",
                       "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows[0] == ["eventTime", "eventName", "eventSource", "sourceIPAddress", "userAgent", "bucketName",
                       "object", "userArn"]
    assert [row[:2] for row in rows[1:]] == [["2026-03-14 11:00:00", "GetObject"]]
    code, out, _ = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--preset", "s3-anonymous")
    assert out.splitlines()[0].split() == rows[0]


def test_query_preset_with_time_range_and_filter(capsys, logs: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "i.sqlite")
    base = ("query", str(logs), "--db", db, "--count")
    assert run(capsys, *base, "--preset", "s3-get-object")[1].strip() == "2"
    assert run(capsys, *base, "--preset", "s3-get-object", "--since", "2026-03-14T10:30:00Z")[1].strip() == "1"
    assert run(capsys, *base, "--preset", "s3-get-object", "--until", "2026-03-14T10:30:00Z")[1].strip() == "1"
    assert run(capsys, *base, "--preset", "s3-get-object", "--filter=-is:anonymous")[1].strip() == "1"
    assert run(capsys, *base, "--since", "2026-03-14T11:30:00Z")[1].strip() == "1"  # without a preset too


def test_unknown_preset_and_bad_since_are_usage_errors(capsys, logs: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "i.sqlite")
    code, out, err = run(capsys, "query", str(logs), "--db", db, "--preset", "s3-anonymus")
    assert code == 2 and out == "" and "did you mean s3-anonymous" in err
    code, _, err = run(capsys, "query", str(logs), "--db", db, "--preset", "s3-get-object", "--since", "yesterday")
    assert code == 2 and "--since yesterday: position 0: expected an ISO date" in err  # names the option


def test_list_presets_names_title_and_why(capsys) -> None:
    code, out, _ = run(capsys, "query", "--list-presets")
    assert code == 0
    for expected in ("s3-anonymous", "console-login-no-mfa", "Console sign-in without MFA",
                     "why: A password alone opened the console",
                     "filter: userIdentity.principalId:ANONYMOUS_PRINCIPAL OR"):
        assert expected in out
    assert "\x1b" not in out


def test_a_negated_filter_is_read_as_the_filter_not_an_option(tmp_path, capsys) -> None:
    from trailtui.cli import main
    from tests.conftest import make_event, write_records

    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("signed"), make_event("unsigned", userIdentity=anonymous_caller())])
    db = str(tmp_path / "index.sqlite")
    assert main(["index", "--db", db, str(logs)]) == 0
    capsys.readouterr()
    assert main(["query", "--db", db, "--count", "--filter", "-is:anonymous", str(logs)]) == 0
    assert capsys.readouterr().out.strip() == "1"
    assert main(["query", "--db", db, "--count", "-f", "-id:signed", str(logs)]) == 0
    assert capsys.readouterr().out.strip() == "1"


def test_rerunning_index_on_an_unchanged_tree_still_reports_its_bad_files(tmp_path, capsys) -> None:
    from trailtui.cli import EXIT_PARTIAL, main
    from tests.conftest import make_event, write_records

    logs = tmp_path / "logs"
    write_records(logs / "good.json", [make_event("e1")])
    (logs / "broken.json").write_text('{"Records": [')
    db = str(tmp_path / "index.sqlite")
    assert main(["index", "--db", db, str(logs)]) == EXIT_PARTIAL
    capsys.readouterr()
    # Nothing changed: nothing is read again, but the index is still missing broken.json's events.
    assert main(["index", "--db", db, str(logs)]) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert "broken.json" in err and "unchanged since it was indexed" in err


def test_csv_to_a_terminal_shows_control_characters_escaped(tmp_path) -> None:
    import io

    from trailtui.core.export import write_events
    from trailtui.core.filter import compile_filter
    from trailtui.core.store.index import connect
    from trailtui.core.loader import index_paths
    from trailtui.core.query import EventQuery
    from tests.conftest import make_event, write_records

    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event("e1", userAgent="evil\x1b]52;c;ZXZpbA==\x07")])
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [logs])
    query = EventQuery(conn, compile_filter(""))
    to_file, to_terminal = io.StringIO(), io.StringIO()
    write_events(query, "csv", to_file, columns=["userAgent"])
    write_events(query, "csv", to_terminal, columns=["userAgent"], terminal=True)
    assert "\x1b" in to_file.getvalue()  # a CSV file keeps the value as logged
    assert "\x1b" not in to_terminal.getvalue() and "evil\\x1b]52;c;ZXZpbA==\\x07" in to_terminal.getvalue()


def test_index_and_query_explain_a_folder_without_cloudtrail(capsys, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "README.md").write_text("hello")
    (notes / "todo.txt").write_text("nothing here")
    code, out, err = run(capsys, "index", str(notes), "--db", str(tmp_path / "i.sqlite"))
    assert code == 0 and "0 in the index" in out
    assert f"No CloudTrail events in {notes}." in err
    assert "Found 2 files, none with events:\n  2 skipped: not CloudTrail: not JSON\n" in err
    assert "trailtui --demo" in err
    code, out, err = run(capsys, "query", str(notes), "--db", str(tmp_path / "i.sqlite"), "--count")
    assert (code, out.strip()) == (0, "0")
    assert f"No CloudTrail events in {notes}." in err and "trailtui --demo" in err


def test_no_explanation_when_events_were_indexed(capsys, logs: Path, tmp_path: Path) -> None:
    code, _, err = run(capsys, "index", str(logs), "--db", str(tmp_path / "i.sqlite"))
    assert code == 0 and "No CloudTrail events" not in err and "--demo" not in err
