"""Same filter, same answer: the SQL ``trailtui athena sql`` writes, run over the real corpus in
a DuckDB table typed as the Athena table (``tests/athena_duck.py``), selects exactly the events
``trailtui query`` finds on the same files, for filters covering every kind of field, operator,
wildcard, negation, OR, time bound and CIDR; where a term runs locally (free text, derived
identity keys), Athena's answer holds every local match.

Known differences, left out of the comparison and written in the README: events whose
``eventTime`` is not CloudTrail's own form (Logstash exports in the corpus: trailtui normalises
it, Athena compares the text) for the filters that bound time. DuckDB runs regular expressions
with RE2 like trailtui, not Athena's engine: regular expressions stay local anyway.
"""

from __future__ import annotations

import re

import pytest

from trailtui.core.athena.ddl import create_table, table_location
from trailtui.core.athena.sql import athena_query
from trailtui.core.filter import compile_filter
from trailtui.core.loader import index_paths
from trailtui.core.sources import layout
from trailtui.core.store.index import connect

duck = pytest.importorskip("tests.athena_duck", reason="DuckDB stands in for Athena (the test extra)")

FILTERS = [
    # eventName, eventSource, region: exact (any case), lists, wildcards, negation
    "name:GetObject", "name:getobject,PutObject", "name:Get*", "-name:GetObject", "name:ListAllMyBuckets",
    "source:s3", "source:iam,sts", "eventSource:*.amazonaws.com", "region:us-east-1", "region:us-*",
    # sourceIPAddress: CIDR v4 and v6, host names, negated
    "ip:10.0.0.0/8", "ip:52.0.0.0/8", "ip:2001:db8::/32", "-ip:10.0.0.0/8", "ip:*.amazonaws.com",
    # text columns: userAgent, errorCode, errorMessage, eventType, recipientAccountId, eventID
    "agent:*aws-cli*", "agent:*boto3*", "error:AccessDenied", "error:*", "-error:*", 'message:"*not authorized*"',
    "eventtype:AwsApiCall", "recipient:*", "eventID:*a1*",
    # userIdentity and the session issuer
    "type:AssumedRole", "type:Root OR type:IAMUser", "account:*", "arn:*:user/*", "user:*", "akid:ASIA*",
    "issuer:*role*", "userIdentity.sessionContext.sessionIssuer.type:Role", "userIdentity.principalId:*:*",
    # S3 request parameters, flags, category
    "bucket:*", "bucket:flaws*", "object:*.txt", "bucket:*_*", "readonly:true", "readOnly:false",
    "category:management", "category:data",
    # is: words, S3 levels
    "is:error", "is:read", "is:write", "is:root", "is:anonymous", "is:crossaccount", "is:network",
    "s3:object", "s3:bucket",
    # time bounds and eventTime
    "since:2021-07-28 until:2021-07-30", "since:2024-01-01 name:ConsoleLogin", "until:2019-01-01",
    "eventTime:2021-07-29*",
    # JSON paths and the columns of the sign-in and signing fields
    "requestParameters.bucketName:*", "responseElements.ConsoleLogin:Success", "additionalEventData.MFAUsed:No",
    "tlsDetails.tlsVersion:TLSv1.2", "requestParameters.maxResults:*", "requestParameters.instancesSet:*",
    "additionalEventData.SignatureVersion:SigV4",
    # fieldref
    "same:userIdentity.accountId,recipientAccountId", "-same:account,recipient",
    # OR, NOT and parentheses
    "(name:ConsoleLogin responseElements.ConsoleLogin:Failure) OR (is:root -is:read)",
    "-(source:s3 OR source:ec2)", "name:AssumeRole AND NOT error:*", "(type:AssumedRole OR type:Root) -region:us-east-1",
]
#: Filters with a term trailtui keeps to itself: Athena's answer is a superset.
LOCAL_FILTERS = ["actor:*alice*", '"AccessDenied" OR name:ListBuckets', "principal:* name:GetObject",
                 "-(is:marked OR source:s3)", "user~\"^[a-z]+$\""]
_TIME = re.compile(r"\b(since|until|eventtime):", re.IGNORECASE)


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"real CloudTrail corpus not found at {CORPUS} (it lives in ../shared, outside the repo)")
    work = tmp_path_factory.mktemp("athena-equivalence")
    index = connect(work / "index.sqlite")
    index_paths(index, [CORPUS])
    ddl = create_table(table_location("s3://corpus/AWSLogs/"), accounts=["111122223333"], regions=["us-east-1"])
    table = duck.athena_table(index, ddl, work)
    accounts = sorted({row[0] for row in table.execute("SELECT DISTINCT account FROM cloudtrail_logs").fetchall()})
    regions = sorted({row[0] for row in table.execute("SELECT DISTINCT region FROM cloudtrail_logs").fetchall()})
    assert all(layout.ACCOUNT_ID.match(a) for a in accounts) and all(layout.REGION.match(r) for r in regions)
    # Events whose eventTime is not CloudTrail's text (exports): time bounds differ on them.
    odd = {row[0] for row in table.execute(
        "SELECT eventid FROM cloudtrail_logs WHERE NOT regexp_full_match(coalesce(eventtime, ''), "
        "'\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z')").fetchall()}
    yield index, table, accounts, regions, odd
    table.close()
    index.close()


def _answers(engines, text: str) -> tuple[set[str], set[str], list[str]]:
    index, table, accounts, regions, odd = engines
    compiled = compile_filter(text, now=NOW)
    local = {row[0] for row in index.execute(f'SELECT "eventID" FROM events WHERE {compiled.where}', compiled.params)}
    query = athena_query(text, accounts=accounts, regions=regions, now=NOW)
    athena = {row[0] for row in table.execute(duck.to_duckdb(query.sql)).fetchall()}
    if _TIME.search(text):
        local, athena = local - odd, athena - odd
    return local, athena, query.notes


from datetime import datetime, timezone  # noqa: E402

NOW = datetime(2026, 3, 20, tzinfo=timezone.utc)


def test_the_list_covers_forty_filters() -> None:
    assert len(FILTERS) >= 40


@pytest.mark.parametrize("text", FILTERS)
def test_athena_and_trailtui_select_the_same_events(engines, text: str) -> None:
    local, athena, notes = _answers(engines, text)
    assert not [note for note in notes if note.startswith("applied locally")], notes
    assert athena == local, (len(local), len(athena), sorted(athena ^ local)[:5])


def test_the_filters_are_not_vacuous(engines) -> None:
    """Most filters match something in the corpus and none matches everything: the equalities
    above compare real answers."""
    sizes = {text: len(_answers(engines, text)[0]) for text in FILTERS}
    total = engines[0].execute("SELECT count(*) FROM events").fetchone()[0]
    assert sum(1 for size in sizes.values() if 0 < size < total) >= 40, sizes


@pytest.mark.parametrize("text", LOCAL_FILTERS)
def test_athena_finds_every_event_of_a_filter_with_local_terms(engines, text: str) -> None:
    local, athena, notes = _answers(engines, text)
    assert notes and local <= athena and local, (len(local), len(athena), notes)
