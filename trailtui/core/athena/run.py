"""Running a query in Amazon Athena and bringing back the S3 objects it found.

:func:`run_query` starts the SQL of :mod:`trailtui.core.athena.sql` (``StartQueryExecution``),
polls its state (``GetQueryExecution``: QUEUED, RUNNING, then SUCCEEDED, FAILED or CANCELLED;
"Query execution states", Amazon Athena User Guide), reports the data scanned and what it costs
(Athena bills $5 per TB scanned: "Amazon Athena pricing"), stops the query when interrupted
(``StopQueryExecution``), and reads every row (``GetQueryResults``, page by page; the first row
of the first page is the header). :class:`ExactObjects` lists exactly the objects named by the
rows' ``"$path"`` for the S3 source (``HeadObject`` each: size and ETag, so a later run downloads
only what changed), so the loader downloads, caches and indexes those and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trailtui.core.sources.s3 import SCHEME, ListsAtOnce, S3Object, describe_client_error

#: US dollars per byte scanned: $5 per TB ("Amazon Athena pricing"; a query is billed at least 10 MB).
DOLLARS_PER_BYTE = 5.0 / 1e12
#: Seconds between state polls: the first, and the longest (the wait doubles up to it).
FIRST_POLL, LONGEST_POLL = 0.5, 5.0
#: HeadObject requests in flight at once (the objects a query names can be thousands).
HEAD_THREADS = 16


class AthenaRunError(Exception):
    """A query that could not run or did not succeed; ``str(err)`` says why (Athena's reason)."""


@dataclass
class QueryProgress:
    """Where a query is: ``query_id``, ``state`` (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED),
    ``scanned`` (bytes so far), ``seconds`` since it started."""

    query_id: str
    state: str
    scanned: int = 0
    seconds: float = 0.0

    @property
    def cost(self) -> float:
        """What the bytes scanned so far cost, in US dollars."""
        return self.scanned * DOLLARS_PER_BYTE


@dataclass
class QueryOutcome:
    """A finished query: its last :class:`QueryProgress`, the ``columns`` of its result and the
    ``rows`` (each a list of texts, None for NULL), header left out."""

    progress: QueryProgress
    columns: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        """The non-NULL values of the column ``name`` (raises KeyError if the result has none)."""
        index = self.columns.index(name) if name in self.columns else None
        if index is None:
            raise KeyError(name)
        return [row[index] for row in self.rows if index < len(row) and row[index] is not None]


def make_athena_client(profile: str | None = None, endpoint_url: str | None = None, region: str | None = None):
    """A boto3 ``athena`` client (``profile``: a named AWS profile; ``endpoint_url``: a test
    server; ``region``: default the profile's). Raises :class:`AthenaRunError` for an unknown
    profile, or no Region anywhere."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        return session.client("athena", endpoint_url=endpoint_url, region_name=region,
                              config=Config(retries={"mode": "adaptive", "max_attempts": 8}))
    except BotoCoreError as err:  # ProfileNotFound, NoRegionError
        raise AthenaRunError(f"cannot set up Athena access: {err} (--profile, --athena-region)") from None


def _reason(execution: dict) -> str:
    status = execution.get("Status", {})
    error = status.get("AthenaError", {})
    return str(error.get("ErrorMessage") or status.get("StateChangeReason") or "no reason given")


def run_query(
    client,
    sql: str,
    *,
    database: str,
    workgroup: str | None = None,
    output: str | None = None,
    on_progress: Callable[[QueryProgress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> QueryOutcome:
    """Run ``sql`` in Athena (``client``: a boto3 ``athena`` client) on ``database``, in
    ``workgroup`` (default the account's primary), writing results to ``output`` (an ``s3://``
    URL; default the workgroup's). ``on_progress`` is called after each poll. Returns the
    :class:`QueryOutcome` once SUCCEEDED. Raises :class:`AthenaRunError` with Athena's reason for a
    query that FAILED or was CANCELLED, or could not start (with a pointer to ``athena ddl`` when
    the table does not exist), or whose state or results could not be read (AWS's reason; a
    query still running is stopped); on KeyboardInterrupt while it runs the query is stopped,
    then the interrupt re-raised."""
    from botocore.exceptions import BotoCoreError, ClientError

    request: dict = {"QueryString": sql, "QueryExecutionContext": {"Database": database}}
    if workgroup:
        request["WorkGroup"] = workgroup
    if output:
        request["ResultConfiguration"] = {"OutputLocation": output}
    try:
        query_id = client.start_query_execution(**request)["QueryExecutionId"]
    except (ClientError, BotoCoreError) as err:
        raise AthenaRunError(f"the query could not start: {_client_reason(err)}") from None
    started = time.monotonic()
    progress = QueryProgress(query_id, "QUEUED")
    wait = FIRST_POLL
    try:
        while True:
            execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            progress = QueryProgress(query_id, execution["Status"]["State"],
                                     int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0),
                                     time.monotonic() - started)
            if on_progress is not None:
                on_progress(progress)
            if progress.state == "SUCCEEDED":
                break
            if progress.state in ("FAILED", "CANCELLED"):
                reason = _reason(execution)
                hint = " (trailtui athena ddl prints the table to create)" if _missing_table(reason) else ""
                raise AthenaRunError(f"the query {progress.state.lower()}: {reason}{hint}")
            sleep(wait)
            wait = min(wait * 2, LONGEST_POLL)
    except (KeyboardInterrupt, ClientError, BotoCoreError) as err:
        # A query left running goes on scanning, and billing: stop it (a courtesy; the
        # interrupt or the error goes on either way).
        try:
            client.stop_query_execution(QueryExecutionId=query_id)
        except (ClientError, BotoCoreError):
            pass
        if isinstance(err, KeyboardInterrupt):
            raise
        raise AthenaRunError(f"the query {query_id} could not be followed, so it was stopped: {_client_reason(err)}") from None
    try:
        return _results(client, progress)
    except (ClientError, BotoCoreError) as err:  # the query ran: its results are in the output location
        raise AthenaRunError(f"the results of query {query_id} could not be read: {_client_reason(err)}") from None


def _missing_table(reason: str) -> bool:
    lowered = reason.lower()
    return "table_not_found" in lowered or ("table" in lowered and "does not exist" in lowered)


def _client_reason(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    message = response.get("Error", {}).get("Message") or str(err)
    return str(message).splitlines()[0]


def _results(client, progress: QueryProgress) -> QueryOutcome:
    outcome = QueryOutcome(progress)
    pages = client.get_paginator("get_query_results").paginate(QueryExecutionId=progress.query_id)
    for number, page in enumerate(pages):
        result = page["ResultSet"]
        if number == 0:
            outcome.columns = [info["Name"] for info in result.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
        rows = [[cell.get("VarCharValue") for cell in row.get("Data", [])] for row in result.get("Rows", [])]
        if number == 0 and rows and rows[0] == outcome.columns:
            rows = rows[1:]  # Athena's first row of a SELECT is the header
        outcome.rows += rows
    return outcome


class ExactObjects(ListsAtOnce):
    """A lister for the loader's S3 source (``index_paths(s3_lister=...)``) that lists exactly the
    objects ``urls`` names (``s3://bucket/key`` each, as Athena's ``"$path"`` gives them), by
    ``HeadObject``: their size and ETag, so a later run downloads only new or changed objects."""

    def __init__(self, client, urls: list[str]) -> None:
        self.client = client
        self.urls = sorted(set(urls))
        self.notes: list[str] = []

    def list(self, _urls) -> tuple[list[S3Object], list[tuple[str, str]]]:
        """``(objects, problems)``: each object found, in URL order, and ``(URL, reason)`` for
        each that could not be read (gone since the query, access denied, not an s3:// URL)."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(HEAD_THREADS) as pool:
            found = list(pool.map(self._head, self.urls))
        objects = [item for item in found if isinstance(item, S3Object)]
        problems = [item for item in found if isinstance(item, tuple)]
        return objects, problems

    def _head(self, url: str) -> S3Object | tuple[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        # The key exactly as Athena wrote it (not parse_s3_url: it makes a prefix a folder).
        bucket, _, key = url[len(SCHEME):].partition("/") if url.startswith(SCHEME) else ("", "", "")
        if not bucket or not key:
            return url, "not an s3://BUCKET/KEY URL"
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as err:
            return url, describe_client_error(err)
        return S3Object(bucket, key, int(head["ContentLength"]), str(head["ETag"]))
