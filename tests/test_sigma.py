"""Sigma rules as trailtui filters (pySigma with trailtui's backend).

SigmaHQ's 57 CloudTrail rules live in ``../shared/sigma/rules`` (their licence asks for
attribution; test data only, never copied into the package): every one converts to a filter
that compiles, or is reported with the reason; none crashes. The expected filters below are
written by hand from each rule's text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trailtui.core.filter import compile_filter

pytest.importorskip("sigma", reason="pySigma (a dependency) parses the rules")

from sigma.collection import SigmaCollection  # noqa: E402

from trailtui.core.detect.backend import RuleNotConverted, TrailtuiBackend, rule_filters  # noqa: E402

RULES = Path(__file__).resolve().parents[2] / "shared" / "sigma" / "rules"


def convert(yaml_text: str) -> list[str]:
    return TrailtuiBackend().convert(SigmaCollection.from_yaml(yaml_text))


def rule(detection: str) -> str:
    return (
        "title: t\nid: 9f3c1a36-1111-4d2a-9c1e-2b5d6e7f8a90\nstatus: test\n"
        "logsource:\n    product: aws\n    service: cloudtrail\n" + detection
    )


def test_every_sigmahq_cloudtrail_rule_converts_or_is_reported_with_its_reason() -> None:
    if not RULES.is_dir():
        pytest.skip(f"SigmaHQ's CloudTrail rules not found at {RULES} (they live in ../shared, outside the repo)")
    converted, reported = {}, {}
    for path in sorted(RULES.glob("*.yml")):
        try:
            converted[path.name] = rule_filters(path.read_text())
        except RuleNotConverted as err:
            reported[path.name] = str(err)
    assert len(converted) + len(reported) == 57
    # CloudTrail writes no `status` field: the rule is reported, not run as if it matched nothing.
    assert reported == {"aws_delete_saml_provider.yml": reported.get("aws_delete_saml_provider.yml", "")}
    assert "unknown field 'status'" in reported["aws_delete_saml_provider.yml"]
    assert converted["aws_update_login_profile.yml"] == [
        "eventSource:iam.amazonaws.com AND eventName:UpdateLoginProfile AND NOT same:userIdentity.arn,requestParameters.userName"]
    assert converted["aws_cloudtrail_imds_malicious_usage.yml"][0].startswith(
        'userIdentity.arn~".+:assumed-role/aws:.+" AND NOT (')


@pytest.mark.parametrize(("detection", "expected"), [
    ("detection:\n    sel:\n        eventName: ConsoleLogin\n        errorMessage: 'Failed authentication'\n    condition: sel",
     'eventName:ConsoleLogin AND errorMessage:"Failed authentication"'),
    ("detection:\n    sel:\n        userAgent|contains|all:\n            - aws-cli\n            - Linux\n    condition: sel",
     "userAgent:*aws-cli* AND userAgent:*Linux*"),
    ("detection:\n    sel:\n        eventName|startswith: Describe\n        eventSource|endswith: .amazonaws.com\n    condition: sel",
     "eventName:Describe* AND eventSource:*.amazonaws.com"),
    ("detection:\n    sel:\n        eventName:\n            - A\n            - B\n    condition: sel",
     "eventName:A,B"),
    ("detection:\n    sel_a:\n        eventName: A\n    sel_b:\n        eventName: B\n    filter_x:\n        errorCode: AccessDenied\n"
     "    condition: 1 of sel_* and not 1 of filter_*",
     "(eventName:A,B) AND NOT errorCode:AccessDenied"),  # an OR of one field's values is its list
    ("detection:\n    sel_a:\n        eventName: A\n    sel_b:\n        sourceIPAddress: 1.2.3.4\n    condition: all of them",
     "eventName:A AND sourceIPAddress:1.2.3.4"),
    ("detection:\n    sel:\n        sourceIPAddress|cidr: 10.0.0.0/8\n    condition: sel", "sourceIPAddress:10.0.0.0/8"),
    ("detection:\n    sel:\n        userIdentity.arn|re: '(?i)role/.*-admin$'\n    condition: sel",
     'userIdentity.arn~"(?i)role/.*-admin$"'),
    ("detection:\n    sel:\n        errorCode|exists: false\n        requestParameters.x: null\n    condition: sel",
     "-errorCode:* AND -requestParameters.x:*"),
    ("detection:\n    sel:\n        userAgent: 'say \"hi\" C:\\\\temp'\n    condition: sel",
     'userAgent:"say \\"hi\\" C:\\\\temp"'),
    ("detection:\n    keywords:\n        - TruffleHog\n    condition: keywords", "TruffleHog"),
])
def test_modifiers_and_conditions_become_the_grammar(detection: str, expected: str) -> None:
    queries = convert(rule(detection))
    assert queries == [expected]
    compile_filter(expected)


@pytest.mark.parametrize(("detection", "reason"), [
    ("detection:\n    sel:\n        eventName: Get?bject\n    condition: sel", "wildcard"),
    ("detection:\n    sel:\n        eventName|cased: GetObject\n    condition: sel", "ase"),
    ("detection:\n    sel:\n        requestParameters.maxResults|gt: 5\n    condition: sel", "ompar"),
])
def test_what_the_grammar_cannot_say_is_an_error_not_an_approximation(detection: str, reason: str) -> None:
    with pytest.raises(RuleNotConverted) as caught:
        rule_filters(rule(detection))
    assert reason in str(caught.value)


# --------------------------------------------------------------------------- rule by rule, on real events

STRATUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "stratus-red-team-detonation-logs"


def _get(event: dict, dotted: str):
    for key in dotted.split("."):
        event = event.get(key) if isinstance(event, dict) else None
    return event


def _is(event: dict, dotted: str, value: str) -> bool:
    """Sigma's plain match: the whole value, any case."""
    found = _get(event, dotted)
    return isinstance(found, str) and found.lower() == value.lower()


#: Each rule's meaning written from its YAML (not from trailtui's filter), as a predicate on the
#: raw event. Together they cover re, `not 1 of filter_*`, `1 of selection_*` with null, a
#: `contains` of a literal, fieldref, lists, startswith and a wildcard-only contains.
RULE_MEANINGS = {
    "aws_cloudtrail_imds_malicious_usage.yml": lambda e: bool(
        __import__("re").search(r".+:assumed-role/aws:.+", _get(e, "userIdentity.arn") or ""))
        and not (_is(e, "eventSource", "ssm.amazonaws.com") or _is(e, "eventName", "RegisterManagedInstance")
                 or _is(e, "sourceIPAddress", "AWS Internal")),
    "aws_cloudtrail_ssm_malicious_usage.yml": lambda e: _is(e, "eventName", "SendCommand")
        and _is(e, "eventSource", "ssm.amazonaws.com") and (_is(e, "errorCode", "Success") or e.get("errorCode") is None),
    "aws_iam_backdoor_users_keys.yml": lambda e: _is(e, "eventSource", "iam.amazonaws.com")
        and _is(e, "eventName", "CreateAccessKey")
        and "responseelements.accesskey.username" not in (_get(e, "userIdentity.arn") or "").lower(),
    "aws_update_login_profile.yml": lambda e: _is(e, "eventSource", "iam.amazonaws.com")
        and _is(e, "eventName", "UpdateLoginProfile")
        and not (isinstance(_get(e, "requestParameters.userName"), str)
                 and _is(e, "userIdentity.arn", _get(e, "requestParameters.userName"))),
    "aws_cloudtrail_console_login_success_without_mfa.yml": lambda e: _is(e, "eventName", "ConsoleLogin")
        and _is(e, "additionalEventData.MFAUsed", "NO") and _is(e, "responseElements.ConsoleLogin", "Success"),
    "aws_cloudtrail_disable_logging.yml": lambda e: _is(e, "eventSource", "cloudtrail.amazonaws.com")
        and any(_is(e, "eventName", name) for name in ("StopLogging", "UpdateTrail", "DeleteTrail")),
    "aws_sts_assumerole_misuse.yml": lambda e: _is(e, "userIdentity.type", "AssumedRole")
        and _is(e, "userIdentity.sessionContext.sessionIssuer.type", "Role"),
    "aws_new_lambda_layer_attached.yml": lambda e: _is(e, "eventSource", "lambda.amazonaws.com")
        and (_get(e, "eventName") or "").lower().startswith("updatefunctionconfiguration")
        and _get(e, "requestParameters.layers") not in (None, ""),
}


@pytest.fixture(scope="module")
def stratus(tmp_path_factory):
    import json

    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    if not STRATUS.is_dir() or not RULES.is_dir():
        pytest.skip("the Stratus Red Team corpus or SigmaHQ's rules are not in ../shared (outside the repo)")
    events = []
    for path in sorted(STRATUS.rglob("*.json")):
        loaded = json.loads(path.read_text())
        events += loaded if isinstance(loaded, list) else loaded.get("Records", [])
    conn = connect(tmp_path_factory.mktemp("stratus-sigma") / "index.sqlite")
    index_paths(conn, [str(STRATUS)], workers=0)
    yield conn, events
    conn.close()


@pytest.mark.parametrize("name", sorted(RULE_MEANINGS))
def test_a_rule_hits_the_events_its_text_describes(stratus, name: str) -> None:
    conn, events = stratus
    (text,) = rule_filters((RULES / name).read_text())
    compiled = compile_filter(text)
    hits = {row[0] for row in conn.execute(f'SELECT "eventID" FROM events WHERE {compiled.where}', compiled.params)}
    assert hits == {event["eventID"] for event in events if RULE_MEANINGS[name](event)}, text


def test_detect_prints_each_rules_hits_as_the_rule_text_describes(stratus, tmp_path: Path, capsys) -> None:
    """``trailtui detect --format ndjson`` end to end: one line per (rule, event) hit, with the
    rule's id, title, level and tags; for the rules above, exactly the events their YAML
    describes. The table names levels and tactics; --level drops the lower ones."""
    import json

    import yaml

    from trailtui.cli import main

    _, events = stratus
    db = str(tmp_path / "detect.sqlite")
    code = main(["detect", str(STRATUS), "--rules", str(RULES), "--no-builtin", "--db", db, "--format", "ndjson"])
    captured = capsys.readouterr()
    assert code == 3  # one SigmaHQ rule cannot be used, and it is named
    assert "aws_delete_saml_provider.yml" in captured.err and "unknown field 'status'" in captured.err
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert lines and all({"rule_id", "rule_title", "level", "tags", "eventID", "eventTime"} <= set(line) for line in lines)
    for name, meaning in RULE_MEANINGS.items():
        rule = yaml.safe_load((RULES / name).read_text())
        printed = [line for line in lines if line["rule_id"] == rule["id"]]
        assert {line["eventID"] for line in printed} == {event["eventID"] for event in events if meaning(event)}, name
        assert all(line["rule_title"] == rule["title"] and line["level"] == rule["level"]
                   and line["tags"] == rule.get("tags", []) for line in printed)
        assert [line["eventTime"] for line in printed] == sorted(line["eventTime"] for line in printed)

    main(["detect", str(STRATUS), "--rules", str(RULES), "--no-builtin", "--db", db, "--level", "medium"])
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["LEVEL", "HITS", "FIRST", "SEEN"]
    levels = [line.split()[0] for line in table[1:]]
    assert levels and set(levels) <= {"medium", "high", "critical"}
    assert levels == sorted(levels, key=["critical", "high", "medium"].index)
    assert any("AWS Successful Console Login Without MFA" in line and "initial-access" in line for line in table)


def test_contains_all_on_a_json_object_needs_every_value(tmp_path: Path) -> None:
    """SigmaHQ's only ``contains|all`` CloudTrail rule (S3 Browser's template bucket policy): the
    request must hold all three texts; one missing (a Deny), or another client, is not a hit.
    The Stratus logs have no S3 Browser event, so the events are written here, the expected
    hits from the rule's YAML: the three quoted strings in requestParameters' JSON text."""
    import json

    from tests.conftest import make_event, write_records
    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    name = "aws_iam_s3browser_templated_s3_bucket_policy_creation.yml"
    if not (RULES / name).is_file():
        pytest.skip("SigmaHQ's rules are not in ../shared (outside the repo)")

    def policy(effect: str) -> dict:
        return {"userName": "backup", "policyName": "s3-read",
                "policyDocument": {"Statement": [{"Effect": effect, "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3:::<YOUR-BUCKET-NAME>/*"}]}}

    s3_browser = "S3 Browser/11.5.7 (https://s3browser.com)"
    events = [
        make_event("template", "PutUserPolicy", eventSource="iam.amazonaws.com", userAgent=s3_browser,
                   requestParameters=policy("Allow")),
        make_event("deny", "PutUserPolicy", eventSource="iam.amazonaws.com", userAgent=s3_browser,
                   requestParameters=policy("Deny")),
        make_event("cli", "PutUserPolicy", eventSource="iam.amazonaws.com", userAgent="aws-cli/2.15.30",
                   requestParameters=policy("Allow")),
    ]
    write_records(tmp_path / "logs" / "a.json", events)
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [str(tmp_path / "logs")], workers=0)
    (text,) = rule_filters((RULES / name).read_text())
    compiled = compile_filter(text)
    hits = {row[0] for row in conn.execute(f'SELECT "eventID" FROM events WHERE {compiled.where}', compiled.params)}
    wanted = ('"arn:aws:s3:::<YOUR-BUCKET-NAME>/*"', '"s3:GetObject"', '"Allow"')
    expected = {event["eventID"] for event in events
                if "s3 browser" in event["userAgent"].lower()
                and all(value.lower() in json.dumps(event["requestParameters"]).lower() for value in wanted)}
    assert hits == expected == {"template"}, text
    conn.close()
