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
