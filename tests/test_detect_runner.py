"""Detections kept in the index: what a run stores, in what order the view lists it, what a
later run looks at again (only new events; everything when events were replaced; a rule whose
filter changed), and which rules an event is marked with."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sigma", reason="pySigma (a dependency) parses the rules")

from tests.conftest import make_event, write_records  # noqa: E402
from tests.test_detect_rules import write_rule  # noqa: E402
from trailtui.core.detect.rules import load_rules  # noqa: E402
from trailtui.core.detect.runner import detections, detections_of_event, hit_levels, run_rules  # noqa: E402
from trailtui.core.loader import index_paths  # noqa: E402
from trailtui.core.store.index import connect  # noqa: E402

ROOT = {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333",
        "principalId": "111122223333"}


def rules_in(folder: Path):
    write_rule(folder, "stop.yml", title="Trail stopped", id="aaaaaaaa-0000-4000-8000-000000000001", level="high",
               detection="    sel:\n        eventName: StopLogging\n    condition: sel")
    write_rule(folder, "keys.yml", title="Access key created", id="aaaaaaaa-0000-4000-8000-000000000002",
               level="medium", detection="    sel:\n        eventName: CreateAccessKey\n    condition: sel")
    write_rule(folder, "root.yml", title="Root used", id="aaaaaaaa-0000-4000-8000-000000000003", level="high",
               detection="    sel:\n        userIdentity.type: Root\n    condition: sel")
    write_rule(folder, "reads.yml", title="Object read", id="aaaaaaaa-0000-4000-8000-000000000004",
               level="informational", detection="    sel:\n        eventName: GetObject\n    condition: sel")
    rules, problems = load_rules([folder])
    assert not problems
    return rules


def ids_of(conn, event_ids: list[str]) -> dict[str, int]:
    marks = ",".join("?" for _ in event_ids)
    return dict(conn.execute(f'SELECT "eventID", id FROM events WHERE "eventID" IN ({marks})', event_ids))


@pytest.fixture
def logs(tmp_path: Path):
    write_records(tmp_path / "logs" / "a.json", [
        make_event("stop-1", "StopLogging", eventSource="cloudtrail.amazonaws.com", eventTime="2026-03-14T10:00:00Z"),
        make_event("key-1", "CreateAccessKey", eventSource="iam.amazonaws.com", eventTime="2026-03-14T10:05:00Z"),
        make_event("key-2", "CreateAccessKey", eventSource="iam.amazonaws.com", eventTime="2026-03-14T10:07:00Z"),
        make_event("root-key", "CreateAccessKey", eventSource="iam.amazonaws.com", eventTime="2026-03-14T10:09:00Z",
                   userIdentity=ROOT),
        make_event("read-1", "GetObject", eventTime="2026-03-14T10:10:00Z"),
        make_event("read-2", "GetObject", eventTime="2026-03-14T10:11:00Z"),
        make_event("read-3", "GetObject", eventTime="2026-03-14T10:12:00Z"),
    ])
    return tmp_path


def test_a_run_keeps_each_rules_hits_and_the_view_lists_them_by_level_then_hits(logs: Path) -> None:
    conn = connect(logs / "index.sqlite")
    index_paths(conn, [str(logs / "logs")], workers=0)
    run = run_rules(conn, rules_in(logs / "rules"))
    assert run.rules == 4 and not run.problems
    listed = [(d.title, d.level, d.hits, d.first_seen, d.last_seen) for d in detections(conn)]
    assert listed == [
        ("Root used", "high", 1, "2026-03-14T10:09:00Z", "2026-03-14T10:09:00Z"),
        ("Trail stopped", "high", 1, "2026-03-14T10:00:00Z", "2026-03-14T10:00:00Z"),
        ("Access key created", "medium", 3, "2026-03-14T10:05:00Z", "2026-03-14T10:09:00Z"),
        ("Object read", "informational", 3, "2026-03-14T10:10:00Z", "2026-03-14T10:12:00Z"),
    ]
    assert [d.title for d in detections(conn, min_level="high")] == ["Root used", "Trail stopped"]
    ids = ids_of(conn, ["root-key", "key-1", "read-1", "stop-1"])
    # The root's CreateAccessKey is hit by two rules, named highest level first.
    assert [d.title for d in detections_of_event(conn, ids["root-key"])] == ["Root used", "Access key created"]
    # Informational rules are counted, not marked on events.
    assert detections_of_event(conn, ids["read-1"]) == []
    assert hit_levels(conn, list(ids.values())) == {ids["root-key"]: "high", ids["key-1"]: "medium",
                                                    ids["stop-1"]: "high"}
    conn.close()


def test_a_later_run_looks_only_at_new_events_and_nothing_when_none_came(logs: Path) -> None:
    conn = connect(logs / "index.sqlite")
    index_paths(conn, [str(logs / "logs")], workers=0)
    rules = rules_in(logs / "rules")
    run_rules(conn, rules)
    assert run_rules(conn, rules).rules == 0  # nothing new: no rule runs
    write_records(logs / "logs" / "b.json", [
        make_event("stop-2", "StopLogging", eventSource="cloudtrail.amazonaws.com", eventTime="2026-03-14T11:00:00Z"),
    ])
    index_paths(conn, [str(logs / "logs")], workers=0)
    # A bound that would catch a run reading everything again: the hits of the first events
    # are deleted by hand, and an incremental run must not bring them back.
    stop_rule = next(d for d in detections(conn) if d.title == "Trail stopped")
    conn.execute("DELETE FROM detection_hits WHERE rule = ? AND event_id = ?", (stop_rule.key, ids_of(conn, ["stop-1"])["stop-1"]))
    conn.commit()
    again = run_rules(conn, rules)
    assert not again.full and again.rules == 4
    stop = next(d for d in detections(conn) if d.title == "Trail stopped")
    assert (stop.hits, stop.first_seen, stop.last_seen) == (2, "2026-03-14T10:00:00Z", "2026-03-14T11:00:00Z")
    assert [row[0] for row in conn.execute(
        "SELECT e.eventID FROM detection_hits h JOIN events e ON e.id = h.event_id WHERE h.rule = ?", (stop.key,))] == ["stop-2"]
    conn.close()


def test_replaced_events_make_every_rule_run_again_and_no_hit_points_at_a_gone_event(logs: Path) -> None:
    conn = connect(logs / "index.sqlite")
    index_paths(conn, [str(logs / "logs")], workers=0)
    rules = rules_in(logs / "rules")
    run_rules(conn, rules)
    # The file changes: its events are removed and read again under new ids.
    write_records(logs / "logs" / "a.json", [
        make_event("key-1", "CreateAccessKey", eventSource="iam.amazonaws.com", eventTime="2026-03-14T10:05:00Z"),
    ])
    index_paths(conn, [str(logs / "logs")], workers=0)
    run = run_rules(conn, rules)
    assert run.full
    assert [(d.title, d.hits) for d in detections(conn)] == [("Access key created", 1)]
    gone = conn.execute("SELECT count(*) FROM detection_hits WHERE event_id NOT IN (SELECT id FROM events)").fetchone()[0]
    assert gone == 0
    conn.close()


def test_an_edited_rule_is_run_again_and_a_removed_one_forgotten(logs: Path) -> None:
    conn = connect(logs / "index.sqlite")
    index_paths(conn, [str(logs / "logs")], workers=0)
    rules = rules_in(logs / "rules")
    run_rules(conn, rules)
    write_rule(logs / "rules", "keys.yml", title="Access key created", id="aaaaaaaa-0000-4000-8000-000000000002",
               level="medium", detection="    sel:\n        eventName: CreateAccessKey\n    filter:\n"
                                         "        userIdentity.type: Root\n    condition: sel and not filter")
    (logs / "rules" / "reads.yml").unlink()
    edited, _ = load_rules([logs / "rules"])
    run = run_rules(conn, edited)
    assert run.rules == 1 and not run.full  # only the edited rule had anything to do
    assert {d.title: d.hits for d in detections(conn)} == {"Root used": 1, "Trail stopped": 1, "Access key created": 2}
    assert conn.execute("SELECT count(*) FROM detection_rules").fetchone()[0] == 3
    conn.close()


def test_detect_runs_the_rules_beside_the_config_file_and_names_a_broken_one(logs: Path, capsys) -> None:
    """The user's own rules live in rules/ beside the config file (each test has its own); a
    file there that is not YAML is named with the reason, and the others still run (exit 3)."""
    import json

    from trailtui.cli import main
    from trailtui.core.config import config_path
    from trailtui.core.detect.rules import user_rules_dir

    assert user_rules_dir() == config_path().with_name("rules")
    write_rule(user_rules_dir(), "reads.yml", title="Objects read here", id="cccccccc-0000-4000-8000-000000000001",
               level="medium", detection="    sel:\n        eventName: GetObject\n    condition: sel")
    (user_rules_dir() / "broken.yml").write_text("title: [not closed\n")
    code = main(["detect", str(logs / "logs"), "--db", str(logs / "cli.sqlite"), "--format", "json", "--level", "medium"])
    captured = capsys.readouterr()
    assert code == 3
    assert "broken.yml" in captured.err and "not a Sigma rule" in captured.err
    printed = json.loads(captured.out)
    mine = next(rule for rule in printed if rule["rule_title"] == "Objects read here")
    assert [hit["eventID"] for hit in mine["hits"]] == ["read-1", "read-2", "read-3"]
    assert {rule["level"] for rule in printed} <= {"medium", "high", "critical"}
    # A --rules path that does not exist is a usage error, named.
    assert main(["detect", str(logs / "logs"), "--db", str(logs / "cli.sqlite"), "--rules", str(logs / "nope")]) == 2
    assert "nope: no such file or directory" in capsys.readouterr().err
