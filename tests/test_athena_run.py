"""``trailtui athena run``: the query in Athena (polling, paging, a failure's reason, Ctrl+C
stopping it), then exactly the S3 objects its ``"$path"`` rows name downloaded, indexed and read
with the whole filter. The boto3 flow runs against moto's Athena and S3 in server mode (moto does
not run SQL: its results are seeded); paging and the failure reasons use botocore's Stubber."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from botocore.stub import Stubber

from tests.conftest import make_event, write_records
from tests.test_s3_source import aws_env, s3  # noqa: F401 - fixtures: moto's server behind a counting proxy
from trailtui.core.athena.run import AthenaRunError, ExactObjects, make_athena_client, run_query

SQL = "SELECT \"$path\", eventid, eventtime FROM cloudtrail_logs WHERE account IN ('111122223333')"


def _execution(query_id: str, state: str, scanned: int = 0, **status) -> dict:
    return {"QueryExecution": {"QueryExecutionId": query_id, "Status": {"State": state, **status},
                               "Statistics": {"DataScannedInBytes": scanned}}}


def _page(rows: list[list[str]], columns: list[str] | None = None, token: str | None = None) -> dict:
    page = {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": value} for value in row]} for row in rows],
                          "ResultSetMetadata": {"ColumnInfo": [{"Name": name, "Type": "varchar"}
                                                               for name in (columns or [])]}}}
    if token:
        page["NextToken"] = token
    return page


@pytest.fixture
def stubbed(aws_env):  # noqa: F811
    client = make_athena_client(region="us-east-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_a_query_is_polled_to_its_end_and_every_page_read(stubbed) -> None:
    client, stub = stubbed
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                      {"QueryString": SQL, "QueryExecutionContext": {"Database": "security"}, "WorkGroup": "ir",
                       "ResultConfiguration": {"OutputLocation": "s3://results/"}})
    stub.add_response("get_query_execution", _execution("q-1", "QUEUED"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("q-1", "RUNNING", 2 * 10**12), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("q-1", "SUCCEEDED", 25 * 10**11), {"QueryExecutionId": "q-1"})
    columns = ["$path", "eventid", "eventtime"]
    stub.add_response("get_query_results", _page([columns, ["s3://t/a.json.gz", "e1", "2026-03-14T10:00:00Z"]],
                                                 columns, token="next"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_results", _page([["s3://t/b.json.gz", "e2", "2026-03-14T10:01:00Z"]], columns),
                      {"QueryExecutionId": "q-1", "NextToken": "next"})
    seen, waits = [], []
    outcome = run_query(client, SQL, database="security", workgroup="ir", output="s3://results/",
                        on_progress=lambda progress: seen.append((progress.state, progress.scanned)),
                        sleep=waits.append)
    assert seen == [("QUEUED", 0), ("RUNNING", 2 * 10**12), ("SUCCEEDED", 25 * 10**11)]
    assert waits == [0.5, 1.0]  # the wait doubles
    assert outcome.progress.cost == pytest.approx(12.5)  # $5 per TB scanned
    assert outcome.columns == columns
    assert outcome.rows == [["s3://t/a.json.gz", "e1", "2026-03-14T10:00:00Z"], ["s3://t/b.json.gz", "e2", "2026-03-14T10:01:00Z"]]
    assert outcome.column("$path") == ["s3://t/a.json.gz", "s3://t/b.json.gz"]


def test_a_failed_query_says_athenas_reason_and_a_missing_table_points_at_ddl(stubbed) -> None:
    client, stub = stubbed
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
    stub.add_response("get_query_execution", _execution(
        "q-2", "FAILED", StateChangeReason="TABLE_NOT_FOUND: line 1:40: Table 'awsdatacatalog.default.cloudtrail_logs' does not exist",
        AthenaError={"ErrorCategory": 2, "ErrorType": 1006,
                     "ErrorMessage": "TABLE_NOT_FOUND: line 1:40: Table 'awsdatacatalog.default.cloudtrail_logs' does not exist"}))
    with pytest.raises(AthenaRunError) as caught:
        run_query(client, SQL, database="default", sleep=lambda _: None)
    assert "failed: TABLE_NOT_FOUND" in str(caught.value) and "athena ddl" in str(caught.value)
    stub.add_client_error("start_query_execution", "InvalidRequestException",
                          "No output location provided. An output location is required either through the Workgroup "
                          "result configuration setting or as an API input.")
    with pytest.raises(AthenaRunError) as caught:
        run_query(client, SQL, database="default", sleep=lambda _: None)
    assert "could not start: No output location provided" in str(caught.value)


def test_an_aws_error_while_following_a_query_stops_it_and_is_said(stubbed) -> None:
    client, stub = stubbed
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-5"})
    stub.add_client_error("get_query_execution", "AccessDeniedException", "User is not authorized to perform: "
                          "athena:GetQueryExecution")
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-5"})
    with pytest.raises(AthenaRunError) as caught:
        run_query(client, SQL, database="default", sleep=lambda _: None)
    assert "q-5 could not be followed, so it was stopped: User is not authorized" in str(caught.value)
    # Results that cannot be read (no s3:GetObject on the output location): said; the query had ended.
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-6"})
    stub.add_response("get_query_execution", _execution("q-6", "SUCCEEDED"))
    stub.add_client_error("get_query_results", "InvalidRequestException", "Access denied when reading s3://results/")
    with pytest.raises(AthenaRunError) as caught:
        run_query(client, SQL, database="default", sleep=lambda _: None)
    assert "results of query q-6 could not be read: Access denied" in str(caught.value)


def test_ctrl_c_stops_the_query(stubbed) -> None:
    client, stub = stubbed
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-3"})
    stub.add_response("get_query_execution", _execution("q-3", "RUNNING"))
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-3"})

    def interrupt(progress) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_query(client, SQL, database="default", on_progress=interrupt, sleep=lambda _: None)


def _seed(endpoint: str, rows: list[list[str]]) -> None:
    """moto's API for the results of the next query ("Athena", moto's documentation)."""
    columns = rows[0]
    body = {"account_id": "123456789012", "region": "us-east-1", "results": [{
        "rows": [{"Data": [{"VarCharValue": value} for value in row]} for row in rows],
        "column_info": [{"CatalogName": "", "SchemaName": "", "TableName": "", "Name": name, "Label": name,
                         "Type": "varchar", "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": True}
                        for name in columns],
    }]}
    request = urllib.request.Request(f"{endpoint}/moto-api/static/athena/query-results", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


PREFIX = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/"


def _trail(s3, tmp_path: Path, bucket: str, files: dict[str, list[dict]]) -> None:  # noqa: F811
    """A trail bucket holding ``files`` (name -> events) in one day folder (:data:`PREFIX`), and
    ``BUCKET-results`` for Athena's output."""
    from trailtui.core.sources.s3 import S3Options, make_client

    client = make_client(S3Options(endpoint_url=s3.endpoint_url))
    client.create_bucket(Bucket=bucket)
    client.create_bucket(Bucket=f"{bucket}-results")
    for name, events in files.items():
        write_records(tmp_path / name, events)
        client.upload_file(str(tmp_path / name), bucket, PREFIX + name)


def test_athena_run_downloads_exactly_the_objects_it_found(s3, tmp_path: Path, capsys) -> None:  # noqa: F811
    from trailtui.cli import main

    prefix = PREFIX
    _trail(s3, tmp_path, "athena-trail", {
        "a.json": [make_event("a-get", "GetObject", eventTime="2026-03-14T10:00:00Z"),
                   make_event("a-list", "ListBuckets", eventTime="2026-03-14T10:01:00Z")],
        "b.json": [make_event("b-get", "GetObject", eventTime="2026-03-14T11:00:00Z")],
        "c.json": [make_event("c-get", "GetObject", eventTime="2026-03-14T12:00:00Z")],  # not in Athena's answer
    })
    _seed(s3.endpoint_url, [  # what athena run selects: one row per object (sql.PATHS_SELECTED)
        ["$path", "events", "first_event", "last_event"],
        [f"s3://athena-trail/{prefix}a.json", "1", "2026-03-14T10:00:00Z", "2026-03-14T10:00:00Z"],
        [f"s3://athena-trail/{prefix}b.json", "1", "2026-03-14T11:00:00Z", "2026-03-14T11:00:00Z"],
    ])
    s3.take_requests()
    code = main(["athena", "run", "--filter", "name:GetObject", "--since", "2026-03-14", "--account", "111122223333",
                 "--region", "us-east-1", "--output", "s3://athena-trail-results/", "--endpoint-url", s3.endpoint_url,
                 "--athena-region", "us-east-1", "--db", str(tmp_path / "index.sqlite"), "--no-ui", "--format", "ndjson"])
    out, err = capsys.readouterr()
    assert code == 0, err
    # The objects Athena named, each read once; the third never.
    fetched = sorted(request.key for request in s3.take_requests() if request.is_get_object and request.bucket == "athena-trail")
    assert fetched == [prefix + "a.json", prefix + "b.json"]
    # The whole filter, applied locally to what came back: a's ListBuckets is not printed.
    assert sorted(json.loads(line)["eventID"] for line in out.splitlines()) == ["a-get", "b-get"]
    assert "athena: succeeded" in err and "2 objects hold events that may match (2 events)" in err


def test_exact_objects_names_an_object_that_is_gone(s3) -> None:  # noqa: F811
    from trailtui.core.sources.s3 import S3Options, make_client

    client = make_client(S3Options(endpoint_url=s3.endpoint_url))
    client.create_bucket(Bucket="athena-gone")
    client.put_object(Bucket="athena-gone", Key="AWSLogs/x.json", Body=b'{"Records": []}')
    client.put_object(Bucket="athena-gone", Key="AWSLogs/odd name+1.json", Body=b"{}")
    lister = ExactObjects(client, ["s3://athena-gone/AWSLogs/x.json", "s3://athena-gone/AWSLogs/deleted.json",
                                   "s3://athena-gone/AWSLogs/odd name+1.json", "https://elsewhere/x"])
    objects, problems = lister.list([])
    assert [(obj.key, obj.size) for obj in objects] == [("AWSLogs/odd name+1.json", 2),
                                                        ("AWSLogs/x.json", len(b'{"Records": []}'))]
    assert sorted(url for url, _ in problems) == ["https://elsewhere/x", "s3://athena-gone/AWSLogs/deleted.json"]


def test_athena_run_opens_the_app_on_what_it_found_with_the_whole_filter(s3, tmp_path: Path, monkeypatch,  # noqa: F811
                                                                       capsys) -> None:
    """Without --no-ui the app opens on the index of the downloaded objects, with the filter the
    user gave (its local terms included), and no loader (the index is what Athena found)."""
    from trailtui.cli import main
    from trailtui.tui.app import TrailApp

    _trail(s3, tmp_path, "athena-app", {"a.json": [make_event("only", "GetObject", eventTime="2026-03-14T10:00:00Z")]})
    key = PREFIX + "a.json"
    _seed(s3.endpoint_url, [["$path", "eventid", "eventtime"], [f"s3://athena-app/{key}", "only", "2026-03-14T10:00:00Z"]])
    opened = []
    monkeypatch.setattr(TrailApp, "run", lambda app: opened.append((app.db_path, app.initial_filter, app.start_loader)))
    code = main(["athena", "run", "--filter", "name:GetObject actor:*alice*", "--since", "2026-03-14", "--account",
                 "111122223333", "--region", "us-east-1", "--output", "s3://athena-app-results/", "--endpoint-url",
                 s3.endpoint_url, "--athena-region", "us-east-1", "--db", str(tmp_path / "app.sqlite")])
    assert code == 0, capsys.readouterr().err
    assert opened == [(tmp_path / "app.sqlite", "name:GetObject actor:*alice* since:2026-03-14", False)]


def test_a_cancelled_query_and_missing_credentials_are_said(stubbed, monkeypatch, tmp_path: Path, capsys) -> None:
    client, stub = stubbed
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-4"})
    stub.add_response("get_query_execution", _execution("q-4", "CANCELLED", StateChangeReason="Query cancelled by user"))
    with pytest.raises(AthenaRunError) as caught:
        run_query(client, SQL, database="default", sleep=lambda _: None)
    assert str(caught.value) == "the query cancelled: Query cancelled by user"
    # No credentials anywhere: boto3's reason, from the command, exit 2.
    from trailtui.cli import main

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = main(["athena", "run", "--filter", "is:root", "--since", "-1d", "--account", "111122223333", "--region",
                 "us-east-1", "--athena-region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", "--db",
                 str(tmp_path / "i.sqlite"), "--no-ui"])
    assert code == 2
    assert "the query could not start: Unable to locate credentials" in capsys.readouterr().err
