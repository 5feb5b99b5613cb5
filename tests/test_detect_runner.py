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


def indexed(root: Path):
    """A writer connection to ``root``'s index with ``root/logs`` indexed (in this process)."""
    conn = connect(root / "index.sqlite")
    index_paths(conn, [str(root / "logs")], workers=0)
    return conn


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
    conn = indexed(logs)
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
    conn = indexed(logs)
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
    conn = indexed(logs)
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
    conn = indexed(logs)
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


def test_rules_for_other_log_sources_are_counted_in_one_line(logs: Path, capsys) -> None:
    """A folder of every kind of Sigma rule: the Windows ones are not run against CloudTrail,
    and are counted in one line naming the first, not one line each."""
    from trailtui.cli import main

    folder = logs / "all-rules"
    for number in range(5):
        (folder / f"win{number}.yml").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"win{number}.yml").write_text(
            f"title: Windows {number}\nlogsource:\n  product: windows\n  category: process_creation\n"
            "detection:\n  sel:\n    CommandLine|contains: whoami\n  condition: sel\n")
    write_rule(folder, "aws.yml", title="Objects read", id="dddddddd-0000-4000-8000-000000000001",
               level="low", detection="    sel:\n        eventName: GetObject\n    condition: sel")
    code = main(["detect", str(logs / "logs"), "--db", str(logs / "i.sqlite"), "--rules", str(folder), "--no-builtin"])
    captured = capsys.readouterr()
    assert code == 3
    assert "5 rules not used: not a CloudTrail rule" in captured.err and "win0.yml" in captured.err
    assert "win1.yml" not in captured.err
    assert "Objects read" in captured.out


def test_a_rule_without_new_hits_keeps_its_span_and_a_few_new_events_are_walked_by_id(tmp_path: Path) -> None:
    """Many events, then one more: the later run walks the new id range only (the rules still
    find it), and a rule that found nothing new keeps its first and last hit."""
    events = [make_event(f"read-{n:02d}", "GetObject", eventTime=f"2026-03-14T10:{n:02d}:00Z") for n in range(40)]
    events.append(make_event("stop-1", "StopLogging", eventSource="cloudtrail.amazonaws.com",
                             eventTime="2026-03-14T09:00:00Z"))
    write_records(tmp_path / "logs" / "a.json", events)
    conn = indexed(tmp_path)
    rules = rules_in(tmp_path / "rules")
    run_rules(conn, rules)
    write_records(tmp_path / "logs" / "b.json", [make_event("read-new", "GetObject", eventTime="2026-03-14T11:00:00Z")])
    index_paths(conn, [str(tmp_path / "logs")], workers=0)
    assert run_rules(conn, rules).hits == 1
    found = {d.title: (d.hits, d.first_seen, d.last_seen) for d in detections(conn)}
    assert found["Trail stopped"] == (1, "2026-03-14T09:00:00Z", "2026-03-14T09:00:00Z")
    assert found["Object read"] == (41, "2026-03-14T10:00:00Z", "2026-03-14T11:00:00Z")
    conn.close()


def test_a_rule_moved_to_a_marked_level_lists_its_events(logs: Path) -> None:
    conn = indexed(logs)
    run_rules(conn, rules_in(logs / "rules"))
    read_ids = list(ids_of(conn, ["read-1", "read-2", "read-3"]).values())
    assert hit_levels(conn, read_ids) == {}  # informational: counted, not listed
    write_rule(logs / "rules", "reads.yml", title="Object read", id="aaaaaaaa-0000-4000-8000-000000000004",
               level="high", detection="    sel:\n        eventName: GetObject\n    condition: sel")
    rules, _ = load_rules([logs / "rules"])
    assert run_rules(conn, rules).rules == 1
    assert hit_levels(conn, read_ids) == {event_id: "high" for event_id in read_ids}
    write_rule(logs / "rules", "reads.yml", title="Object read", id="aaaaaaaa-0000-4000-8000-000000000004",
               level="informational", detection="    sel:\n        eventName: GetObject\n    condition: sel")
    rules, _ = load_rules([logs / "rules"])
    run_rules(conn, rules)
    assert hit_levels(conn, read_ids) == {}
    conn.close()


def test_a_rule_whose_sql_fails_is_recorded_and_the_others_still_run(logs: Path) -> None:
    """On a connection without trailtui's SQL functions, a rule on a JSON path cannot run: its
    problem is kept with the rule, the others run, and it runs on a later run that can."""
    import sqlite3

    from trailtui.core.detect.rules import Rule

    conn = indexed(logs)
    conn.close()
    bare = sqlite3.connect(logs / "index.sqlite")
    plain = Rule("r-plain", "Trail stopped", "high", (), "eventName:StopLogging", "p.yml")
    json_rule = Rule("r-json", "Key in the request", "medium", (), "requestParameters.x.y:*", "r.yml")
    run = run_rules(bare, [json_rule, plain])
    assert [title for title, _ in run.problems] == ["Key in the request"]
    assert "trailtui_json_value" in run.problems[0][1]
    stored = {d.title: (d.hits, d.problem) for d in detections(bare, with_hits=False)}
    assert stored["Trail stopped"] == (1, None) and "trailtui_json_value" in stored["Key in the request"][1]
    bare.close()
    conn = connect(logs / "index.sqlite")
    assert run_rules(conn, [json_rule, plain]).rules == 1  # the failed rule, again
    assert {d.title: d.problem for d in detections(conn, with_hits=False)}["Key in the request"] is None
    conn.close()


def test_the_index_remembers_the_rules_a_detect_run_was_given(logs: Path, capsys) -> None:
    """``trailtui detect --rules DIR`` then a run without --rules (the app's loader, or detect
    again) uses DIR again, so its detections are not forgotten."""
    from trailtui.cli import main
    from trailtui.core.detect.runner import rule_paths_for

    write_rule(logs / "mine", "reads.yml", title="Objects read here", id="eeeeeeee-0000-4000-8000-000000000001",
               level="medium", detection="    sel:\n        eventName: GetObject\n    condition: sel")
    db = logs / "cli.sqlite"
    assert main(["detect", str(logs / "logs"), "--db", str(db), "--rules", str(logs / "mine")]) == 0
    assert main(["detect", str(logs / "logs"), "--db", str(db)]) == 0
    assert "Objects read here" in capsys.readouterr().out
    conn = connect(db)
    assert rule_paths_for(conn, []) == [str((logs / "mine").absolute())]
    assert "Objects read here" in {d.title for d in detections(conn)}
    conn.close()
