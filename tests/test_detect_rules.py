"""Sigma rule files as trailtui rules: what loads, what is named with its reason, and the events
a rule hits (expected sets written by hand from the rules and the events below)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sigma", reason="pySigma (a dependency) parses the rules")

from tests.conftest import make_event, write_records  # noqa: E402
from trailtui.core.detect.rules import load_rules, rule_hits  # noqa: E402

RULE = """title: {title}
id: {id}
status: test
level: {level}
tags:
    - attack.persistence
    - attack.t1098.001
logsource:
    product: aws
    service: cloudtrail
detection:
{detection}
"""


def write_rule(folder: Path, name: str, *, title: str, id: str, level: str, detection: str) -> Path:  # noqa: A002
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RULE.format(title=title, id=id, level=level, detection=detection))
    return path


def test_rules_load_and_every_unusable_one_is_named(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write_rule(rules_dir, "a/login_profile.yml", title="Login profile changed by someone else",
               id="11111111-1111-4111-8111-111111111111", level="high",
               detection="    sel:\n        eventName: UpdateLoginProfile\n    filter:\n"
                         "        userIdentity.userName|fieldref: requestParameters.userName\n"
                         "    condition: sel and not filter")
    write_rule(rules_dir, "b/cased.yml", title="Cased", id="22222222-2222-4222-8222-222222222222", level="low",
               detection="    sel:\n        eventName|cased: GetObject\n    condition: sel")
    write_rule(rules_dir, "c/again.yaml", title="Same id again", id="11111111-1111-4111-8111-111111111111",
               level="low", detection="    sel:\n        eventName: X\n    condition: sel")
    (rules_dir / "d").mkdir()
    (rules_dir / "d" / "broken.yml").write_text("title: [unclosed\n")
    (rules_dir / "notes.txt").write_text("not a rule file: not read")
    rules, problems = load_rules([rules_dir, tmp_path / "missing"])
    assert [(rule.title, rule.level, rule.tactics) for rule in rules] == [
        ("Login profile changed by someone else", "high", ("persistence",))]
    assert rules[0].filter == "eventName:UpdateLoginProfile AND NOT same:userIdentity.userName,requestParameters.userName"
    named = {Path(problem.path).name: problem.reason for problem in problems}
    assert set(named) == {"cased.yml", "broken.yml", "again.yaml", "missing"}
    assert "Case-sensitive" in named["cased.yml"] and named["missing"] == "no such file or directory"
    assert "the same id as" in named["again.yaml"] and "login_profile.yml" in named["again.yaml"]


def test_a_rule_hits_its_events_oldest_first(tmp_path: Path) -> None:
    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    write_rule(tmp_path / "rules", "r.yml", title="Someone else's login profile", id="33333333-3333-4333-8333-333333333333",
               level="medium", detection="    sel:\n        eventName: UpdateLoginProfile\n    filter:\n"
                                         "        userIdentity.userName|fieldref: requestParameters.userName\n"
                                         "    condition: sel and not filter")
    events = [
        make_event("own", "UpdateLoginProfile", eventTime="2026-03-14T10:00:00Z", requestParameters={"userName": "alice"}),
        make_event("bob-late", "UpdateLoginProfile", eventTime="2026-03-14T12:00:00Z", requestParameters={"userName": "bob"}),
        make_event("bob-early", "UpdateLoginProfile", eventTime="2026-03-14T11:00:00Z", requestParameters={"userName": "bob"}),
        make_event("read", "GetObject", eventTime="2026-03-14T11:30:00Z"),
    ]
    write_records(tmp_path / "logs" / "a.json", events)
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [str(tmp_path / "logs")], workers=0)
    (rule,), _ = load_rules([tmp_path / "rules"])
    hits = rule_hits(conn, rule)
    assert [(hit.eventID, hit.eventTime) for hit in hits] == [
        ("bob-early", "2026-03-14T11:00:00Z"), ("bob-late", "2026-03-14T12:00:00Z")]
    assert {hit.actor for hit in hits} == {"alice"}
    assert [hit.eventID for hit in rule_hits(conn, rule, limit=1)] == ["bob-early"]
    conn.close()


def test_odd_rule_files_are_named_and_a_users_rule_replaces_the_built_in_one(tmp_path: Path) -> None:
    """A file holding no rule, a YAML list, nesting deep enough to stop the parser, a hidden
    folder's files (a SigmaHQ clone's .github) left out; a rule with a pack rule's id edits it."""
    from trailtui.core.detect.rules import PACK_DIR, builtin_rules

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "empty.yml").write_text("# nothing here yet\n")
    (rules_dir / "list.yml").write_text("- a\n- b\n")
    (rules_dir / "deep.yml").write_text("[" * 5000 + "]" * 5000 + "\n")
    (rules_dir / ".github").mkdir()
    (rules_dir / ".github" / "workflow.yml").write_text("on: push\n")
    stop = next(rule for rule in builtin_rules() if rule.name == "logging-tampering")
    write_rule(rules_dir, "my-stop.yml", title="Trail stopped (mine)", id=stop.id, level="critical",
               detection="    sel:\n        eventName: StopLogging\n    condition: sel")
    rules, problems = load_rules([PACK_DIR / "incident-response", rules_dir])
    named = {Path(problem.path).name: problem.reason for problem in problems}
    assert set(named) == {"empty.yml", "list.yml", "deep.yml"}, named
    assert named["empty.yml"] == "no Sigma rule in the file"
    assert all(reason for reason in named.values())
    mine = [rule for rule in rules if rule.id == stop.id]
    assert [(rule.title, rule.level) for rule in mine] == [("Trail stopped (mine)", "critical")]
