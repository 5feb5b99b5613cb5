"""``trailtui athena ddl``: the Athena user guide's CloudTrail table over a trail's delivery,
partitioned by account, Region and day with partition projection; it parses as Athena DDL
(sqlglot), its columns are CloudTrail's record fields, and the accounts and Regions are found by
listing the layout's folders on a local S3 server."""

from __future__ import annotations

import msgspec
import pytest

from tests.test_s3_source import aws_env, s3  # noqa: F401 - fixtures: a local S3 API server
from trailtui.cli import main
from trailtui.core.athena.ddl import (
    DEFAULT_TABLE,
    PARTITIONS,
    DdlError,
    create_table,
    table_location,
)
from trailtui.core.ingest.typed_records import Record

sqlglot = pytest.importorskip("sqlglot", reason="sqlglot (a test dependency) parses the DDL")
exp = sqlglot.exp

ORG = "o-exampleorg1"
ACCOUNTS = ["444455556666", "111122223333"]
REGIONS = ["us-east-1", "eu-west-1"]


def parsed(ddl: str):
    create = sqlglot.parse_one(ddl, read="athena")
    assert isinstance(create, exp.Create) and create.args["kind"].upper() == "TABLE"
    return create


def properties(create) -> dict[str, str]:
    """The TBLPROPERTIES (sqlglot: plain ``Property`` nodes of string literals)."""
    return {prop.this.name: prop.args["value"].name for prop in create.find_all(exp.Property)
            if type(prop) is exp.Property and isinstance(prop.this, exp.Literal)}


def test_the_table_is_the_user_guides_partitioned_by_account_region_and_day() -> None:
    ddl = create_table(table_location(f"s3://trail-bucket/AWSLogs/{ORG}/"), accounts=ACCOUNTS, regions=REGIONS)
    create = parsed(ddl)
    assert create.this.this.name == DEFAULT_TABLE
    columns = [column.name for column in create.this.expressions if isinstance(column, exp.ColumnDef)]
    partitioned = create.find(exp.PartitionedByProperty)
    assert [column.name for column in partitioned.this.expressions] == list(PARTITIONS)
    assert not set(columns) & set(PARTITIONS)
    # Every column is a top-level field of CloudTrail's records, as Hive's JsonSerDe matches them
    # (case aside): "CloudTrail record contents".
    record_fields = {field.encode_name.lower() for field in msgspec.structs.fields(Record)}
    assert set(columns) <= record_fields, set(columns) - record_fields
    assert {"eventtime", "eventname", "eventsource", "useridentity", "sourceipaddress", "requestparameters",
            "recipientaccountid", "tlsdetails"} <= set(columns)
    assert "'com.amazon.emr.cloudtrail.CloudTrailInputFormat'" in ddl
    assert f"LOCATION 's3://trail-bucket/AWSLogs/{ORG}/'" in ddl
    assert properties(create) == {
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": "111122223333,444455556666",
        "projection.region.type": "enum",
        "projection.region.values": "eu-west-1,us-east-1",
        "projection.day.type": "date",
        "projection.day.format": "yyyy/MM/dd",
        "projection.day.range": "2020/01/01,NOW",
        "projection.day.interval": "1",
        "projection.day.interval.unit": "DAYS",
        "storage.location.template": f"s3://trail-bucket/AWSLogs/{ORG}/${{account}}/CloudTrail/${{region}}/${{day}}",
    }


def test_a_single_account_trail_and_a_trail_prefix() -> None:
    where = table_location("s3://logs-bucket/my-trail")  # the trail's S3 key prefix, above AWSLogs/
    assert (where.location, where.organization) == ("s3://logs-bucket/my-trail/AWSLogs/", None)
    ddl = create_table(where, accounts=["111122223333"], regions=["us-east-1"], table="trail_2026", first_day="2025/06/01")
    create = parsed(ddl)
    assert create.this.this.name == "trail_2026"
    assert properties(create)["projection.day.range"] == "2025/06/01,NOW"
    assert properties(create)["storage.location.template"].startswith("s3://logs-bucket/my-trail/AWSLogs/${account}/")


@pytest.mark.parametrize(("url", "accounts", "regions", "table", "said"), [
    (f"s3://b/AWSLogs/{ORG}/111122223333/", ACCOUNTS, REGIONS, "t", "--accounts and --regions"),
    ("s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/", ACCOUNTS, REGIONS, "t", "partitions"),
    ("s3://b/AWSLogs/", ["1111"], REGIONS, "t", "'1111' is not an AWS account"),
    ("s3://b/AWSLogs/", ACCOUNTS, [], "t", "no Region"),
    ("s3://b/AWSLogs/", ACCOUNTS, ["us-east-1'; DROP"], "t", "is not an AWS Region"),
    ("s3://b/AWSLogs/", ACCOUNTS, REGIONS, "Logs; DROP TABLE x", "table name"),
    ("http://b/AWSLogs/", ACCOUNTS, REGIONS, "t", "not an S3 URL"),
])
def test_what_cannot_be_a_table_is_said(url, accounts, regions, table, said) -> None:
    with pytest.raises(DdlError) as caught:
        create_table(table_location(url), accounts=accounts, regions=regions, table=table)
    assert said in str(caught.value)


def test_accounts_and_regions_are_found_by_listing_the_layout(s3, tmp_path, capsys) -> None:  # noqa: F811
    from trailtui.core.sources.s3 import S3Options, make_client

    client = make_client(S3Options(endpoint_url=s3.endpoint_url))
    client.create_bucket(Bucket="org-trail")
    keys = [
        f"AWSLogs/{ORG}/111122223333/CloudTrail/us-east-1/2026/03/14/a.json.gz",
        f"AWSLogs/{ORG}/111122223333/CloudTrail/eu-west-1/2026/03/14/b.json.gz",
        f"AWSLogs/{ORG}/444455556666/CloudTrail/ap-southeast-2/2026/03/14/c.json.gz",
        f"AWSLogs/{ORG}/444455556666/CloudTrail-Digest/us-east-1/2026/03/14/d.json.gz",  # not a Region of logs
        f"AWSLogs/{ORG}/notes/readme.txt",  # not an account
    ]
    for key in keys:
        client.put_object(Bucket="org-trail", Key=key, Body=b"{}")
    url = f"s3://org-trail/AWSLogs/{ORG}/"
    assert main(["athena", "ddl", url, "--endpoint-url", s3.endpoint_url]) == 0
    out, err = capsys.readouterr()
    found = properties(parsed(out))
    assert found["projection.account.values"] == "111122223333,444455556666"
    assert found["projection.region.values"] == "ap-southeast-2,eu-west-1,us-east-1"
    assert "found 2 account(s) and 3 Region(s)" in err
    # Given accounts keep the listing to them; given both, nothing is listed.
    assert main(["athena", "ddl", url, "--endpoint-url", s3.endpoint_url, "--accounts", "444455556666"]) == 0
    found = properties(parsed(capsys.readouterr()[0]))
    assert (found["projection.account.values"], found["projection.region.values"]) == ("444455556666", "ap-southeast-2")
    s3.take_requests()
    assert main(["athena", "ddl", url, "--endpoint-url", s3.endpoint_url, "--accounts", "111122223333",
                 "--regions", "us-east-1"]) == 0
    assert s3.take_requests() == []
    assert main(["athena", "ddl", f"s3://org-trail/AWSLogs/{ORG}/111122223333/"]) == 2
    assert "--accounts and --regions" in capsys.readouterr()[1]


def test_a_quote_in_a_trail_prefix_stays_inside_the_location() -> None:
    """Hive joins two quoted strings side by side, so a doubled quote would cut the LOCATION:
    quotes and backslashes are escaped as Hive reads them, and the statement has no comment
    lines (Athena runs them as part of the DDL)."""
    ddl = create_table(table_location("s3://b/it's\\x"), accounts=ACCOUNTS, regions=REGIONS)
    create = parsed(ddl)
    assert create.find(exp.LocationProperty).this.name == "s3://b/it's\\x/AWSLogs/"
    assert properties(create)["storage.location.template"].startswith("s3://b/it's\\x/AWSLogs/${account}")
    assert ddl.startswith("CREATE EXTERNAL TABLE") and "--" not in ddl
