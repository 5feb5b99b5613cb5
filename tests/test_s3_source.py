"""``s3://`` sources against a real S3 API: moto's server on 127.0.0.1 (started here), behind a
proxy that counts requests and injects S3's faults (``tests/s3_server.py``).

An organization trail (3 accounts x 3 regions x 10 days, from ``gen_cloudtrail.py``) is uploaded
in CloudTrail's layout, and a copy of the same files kept on disk: indexing the bucket must give
what indexing the disk gives, list only the folders asked for, download nothing on an unchanged
reopen, and report bad objects by key while the rest loads.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests.s3_server import KMS_DENIED
from trailtui.core.sources import layout
from trailtui.core.sources.s3 import S3Options, cache_path, list_objects, make_client, parse_s3_url

pytest.importorskip("moto.server", reason="moto[server] (a test extra) serves the S3 API")

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR = next(
    (Path(p) for p in (os.environ.get("TRAILTUI_BENCH_GENERATOR"), REPO_ROOT.parent / "shared/tools/gen_cloudtrail.py",
                        "/work/shared/tools/gen_cloudtrail.py") if p and Path(p).is_file()),
    None,
)
BUCKET = "trail-bucket"
ORG = "o-exampleorg1"
DAYS = [date(2024, 5, day) for day in range(1, 11)]
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/trailtui-test", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/trailtui-test",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Trail:
    """The uploaded trail: ``root`` is the local copy (``root/AWSLogs/o-.../ACCOUNT/...``),
    ``keys`` every uploaded key (log files, digest files and one text file)."""

    root: Path
    keys: list[str]

    def local_files(self, *, account: str | None = None, region: str | None = None, days=None) -> set[str]:
        """Keys of the log files (not digests, not the text file) matching the folders given."""
        found = set()
        for key in self.keys:
            position = layout.position_of(key.rsplit("/", 1)[0] + "/")
            if position.level != "day" or not key.endswith(".json.gz"):
                continue
            if account and position.account != account or region and position.region != region:
                continue
            if days is not None and date(position.year, position.month, position.day) not in days:
                continue
            found.add(key)
        return found


@pytest.fixture(scope="module")
def aws_env():
    saved = {name: os.environ.get(name) for name in _AWS_ENV}
    os.environ.update(_AWS_ENV)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def s3(aws_env):
    import logging

    from tests.s3_server import S3TestServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    with S3TestServer() as server:
        yield server


@pytest.fixture(scope="module")
def trail(tmp_path_factory, s3) -> Trail:
    if GENERATOR is None:
        pytest.skip("gen_cloudtrail.py not found (../shared/tools beside the checkout, or $TRAILTUI_BENCH_GENERATOR)")
    work = tmp_path_factory.mktemp("s3trail")
    root = work / "bucket"
    for number, day in enumerate(DAYS, start=1):
        generated = work / f"day{number}"
        subprocess.run(
            [sys.executable, str(GENERATOR), str(generated), "--events", "300", "--per-file", "20",
             "--seed", str(100 + number), "--start", f"{day.isoformat()}T12:00:00Z", "--digest"],
            check=True, capture_output=True, timeout=120,
        )
        for path in (generated / "AWSLogs").rglob("*"):
            if path.is_file():
                target = root / "AWSLogs" / ORG / path.relative_to(generated / "AWSLogs")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, target)
    # Not a CloudTrail file, inside a day folder: skipped, named by its key.
    notes = root / "AWSLogs" / ORG / "111122223333/CloudTrail/us-east-1/2024/05/04/notes.txt"
    notes.write_text("handover notes, not a log\n")
    keys = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    client = make_client(S3Options(endpoint_url=s3.endpoint_url))
    client.create_bucket(Bucket=BUCKET)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: client.upload_file(str(root / key), BUCKET, key), keys))
    s3.take_requests()
    return Trail(root, keys)


def _index(db: Path, paths: list[str], options: S3Options):
    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    conn = connect(db)
    summary = index_paths(conn, paths, s3_options=options)
    return conn, summary


def _event_ids(conn) -> set[str]:
    return {event_id for (event_id,) in conn.execute('SELECT "eventID" FROM events')}


# --------------------------------------------------------------------------- the layout (pure)


def test_where_a_prefix_stops_in_the_layout() -> None:
    assert layout.position_of("").level == "outside"
    assert layout.position_of("trail-prefix/").level == "outside"
    assert layout.position_of("AWSLogs").level == "awslogs"
    org = layout.position_of(f"AWSLogs/{ORG}/")
    assert (org.level, org.organization) == ("organization", ORG)
    account = layout.position_of(f"x/AWSLogs/{ORG}/111122223333/")
    assert (account.level, account.account) == ("account", "111122223333")
    region = layout.position_of("AWSLogs/111122223333/CloudTrail/eu-west-1/")
    assert (region.level, region.region, region.organization) == ("region", "eu-west-1", None)
    day = layout.position_of("AWSLogs/111122223333/CloudTrail/us-gov-west-1/2024/02/29/")
    assert (day.level, day.year, day.month, day.day) == ("day", 2024, 2, 29)
    # Folders that break the layout: listed whole.
    for broken in ("AWSLogs/111122223333/CloudTrail-Digest/", "AWSLogs/12345/", "AWSLogs/111122223333/CloudTrail/us-east-1/2023/02/29/"):
        assert not layout.position_of(broken).conforms, broken


def test_a_window_lists_one_day_of_slack_on_each_side() -> None:
    first, last = layout.days_to_list(date(2024, 5, 4), date(2024, 5, 5), today=date(2026, 1, 1))
    assert (first, last) == (date(2024, 5, 3), date(2024, 5, 6))
    # Open towards today: until tomorrow (a clock behind S3's).
    assert layout.days_to_list(date(2026, 1, 1), None, today=date(2026, 1, 1))[1] == date(2026, 1, 2)
    prefixes = layout.day_prefixes("A/CloudTrail/us-east-1/", date(2024, 4, 30), date(2024, 5, 1))
    assert prefixes == ["A/CloudTrail/us-east-1/2024/04/30/", "A/CloudTrail/us-east-1/2024/05/01/"]


def test_cached_objects_stay_inside_their_bucket_folder(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    for key in ("../../etc/passwd", "a/./b/../c", "/leading", "x%2E/y", "ok/file.json.gz"):
        path = cache_path(root, f"s3://bucket/{key}")
        assert path.resolve().is_relative_to((root / "bucket").resolve()), (key, path)
    # One-to-one: keys that differ map to different files.
    assert cache_path(root, "s3://b/%2E%2E/x") != cache_path(root, "s3://b/../x")


def test_an_s3_url_needs_a_bucket() -> None:
    from trailtui.core.sources.s3 import S3SourceError

    assert parse_s3_url("s3://b") == parse_s3_url("s3://b/")
    assert parse_s3_url("s3://b/AWSLogs").prefix == "AWSLogs/"
    with pytest.raises(S3SourceError, match="expected s3://BUCKET"):
        parse_s3_url("s3:///AWSLogs/")


# --------------------------------------------------------------------------- against the server


def test_listing_walks_the_layout_and_lists_only_the_days_asked_for(trail: Trail, s3) -> None:
    options = S3Options(since="2024-05-04T00:00:00Z", until="2024-05-05T23:59:59Z", accounts=("111122223333",),
                        regions=("us-east-1",), endpoint_url=s3.endpoint_url)
    s3.take_requests()
    listing = list_objects(make_client(options), parse_s3_url(f"s3://{BUCKET}/"), options, today=date(2026, 1, 1))
    requests = [request for request in s3.take_requests() if request.is_listing]
    days = [date(2024, 5, day) for day in (3, 4, 5, 6)]  # the window and a day of slack each side
    expected_days = [f"AWSLogs/{ORG}/111122223333/CloudTrail/us-east-1/{day:%Y/%m/%d}/" for day in days]
    assert listing.listed == [f"s3://{BUCKET}/{prefix}" for prefix in expected_days]
    # The probe for AWSLogs/, the organization's folder, then one listing per day: accounts and
    # regions were named, so their folders were not listed.
    asked = [(r.query.get("prefix"), r.query.get("delimiter")) for r in requests]
    assert asked[:2] == [("AWSLogs", "/"), ("AWSLogs/", "/")]
    assert sorted(asked[2:]) == [(prefix, None) for prefix in expected_days]  # listed concurrently
    assert listing.requests == len(requests)
    keys = {obj.key for obj in listing.objects}
    assert keys == trail.local_files(account="111122223333", region="us-east-1", days=days) | {
        key for key in trail.keys if key.endswith("notes.txt")
    }
    assert not any("CloudTrail-Digest" in key for key in keys)


def test_without_names_the_walk_lists_accounts_and_regions_once(trail: Trail, s3) -> None:
    options = S3Options(since="2024-05-10T00:00:00Z", endpoint_url=s3.endpoint_url)
    s3.take_requests()
    listing = list_objects(make_client(options), parse_s3_url(f"s3://{BUCKET}/AWSLogs/{ORG}/"), options,
                           today=date(2024, 5, 10))
    folders = [r.query["prefix"] for r in s3.take_requests() if r.is_listing and r.query.get("delimiter")]
    accounts = sorted({key.split("/")[2] for key in trail.keys})
    # The organization's accounts first, then each account's regions (concurrently: any order), once each.
    assert folders[0] == f"AWSLogs/{ORG}/"
    assert sorted(folders[1:]) == [f"AWSLogs/{ORG}/{account}/CloudTrail/" for account in accounts]
    assert {obj.key for obj in listing.objects} == trail.local_files(days={date(2024, 5, 9), date(2024, 5, 10)})


def test_the_bucket_indexes_as_the_same_files_on_disk_do(trail: Trail, s3, tmp_path: Path) -> None:
    from trailtui.core.filter import compile_filter
    from trailtui.core.query import EventQuery
    from trailtui.core.store.originals import original_event

    options = S3Options(endpoint_url=s3.endpoint_url)
    remote, summary = _index(tmp_path / "s3.sqlite", [f"s3://{BUCKET}/AWSLogs/"], options)
    local, local_summary = _index(tmp_path / "local.sqlite", [str(trail.root)], options)
    assert _event_ids(remote) == _event_ids(local) and len(_event_ids(local)) == 3000
    assert summary.objects_downloaded == summary.objects_to_download == len(trail.local_files()) + 1
    for text in ("name:GetObject", "is:error", "actor:*alice*", "ip:198.51.100.0/24", "bucket:prod-data is:anonymous"):
        counts = [EventQuery(conn, compile_filter(text)).count() for conn in (remote, local)]
        assert counts[0] == counts[1], (text, counts)
    # Each file is named by its URL; the text file is skipped, named by its key.
    paths = {path for (path,) in remote.execute("SELECT path FROM files")}
    assert paths == {f"s3://{BUCKET}/{key}" for key in trail.local_files()} | {
        f"s3://{BUCKET}/{key}" for key in trail.keys if key.endswith("notes.txt")
    }
    assert [path for path, _ in summary.skips] == [f"s3://{BUCKET}/{key}" for key in trail.keys if key.endswith("notes.txt")]
    # The original bytes come back from the cache, as they are in the object.
    row_id, event_id, path = remote.execute(
        'SELECT events.id, "eventID", files.path FROM events JOIN files ON files.id = events.file_id LIMIT 1 OFFSET 1234'
    ).fetchone()
    with gzip.open(trail.root / path.split(f"s3://{BUCKET}/", 1)[1]) as stream:
        records = {record["eventID"]: record for record in json.load(stream)["Records"]}
    assert json.loads(original_event(remote, row_id)) == records[event_id]
    cache = tmp_path / "s3.s3"
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    cached = next(cache.rglob("*.json.gz"))
    assert oct(cached.stat().st_mode & 0o777) == "0o600"
    assert not list(cache.rglob("*.partial"))


def test_a_reopen_downloads_only_what_is_new(trail: Trail, s3, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    narrow = S3Options(since="2024-05-02T00:00:00Z", until="2024-05-03T00:00:00Z", endpoint_url=s3.endpoint_url)
    url = f"s3://{BUCKET}/AWSLogs/{ORG}/"
    conn, first = _index(db, [url], narrow)
    conn.close()
    s3.take_requests()
    conn, again = _index(db, [url], narrow)
    assert [r for r in s3.take_requests() if r.is_get_object] == []
    assert (again.objects_to_download, again.files_unchanged) == (0, first.objects_listed)
    conn.close()
    # Widening the window downloads only the days added.
    wider = S3Options(since="2024-05-02T00:00:00Z", until="2024-05-04T00:00:00Z", endpoint_url=s3.endpoint_url)
    conn, widened = _index(db, [url], wider)
    fetched = {r.key for r in s3.take_requests() if r.is_get_object}
    # Days 1-4 were listed (the window 2-3 and a day of slack each side); 5 is new.
    assert fetched == trail.local_files(days={date(2024, 5, 5)})
    assert widened.files_unchanged == first.objects_listed
    conn.close()


def test_denied_and_throttled_objects_are_reported_and_the_rest_loads(trail: Trail, s3, tmp_path: Path) -> None:
    day = sorted(trail.local_files(days={date(2024, 5, 7)}))
    denied, throttled, encrypted = day[0], day[1], day[2]
    s3.faults.denied.add(denied)
    s3.faults.kms_denied.add(encrypted)  # SSE-KMS, and the caller may not use the key
    s3.faults.slow_down[throttled] = 2  # botocore's retries get through
    s3.faults.denied_prefixes.add(f"AWSLogs/{ORG}/444455556666/CloudTrail/eu-west-1/2024/05/07/")
    options = S3Options(since="2024-05-07T00:00:00Z", until="2024-05-07T23:59:59Z", endpoint_url=s3.endpoint_url)
    url = f"s3://{BUCKET}/AWSLogs/"
    db = tmp_path / "index.sqlite"
    try:
        conn, summary = _index(db, [url], options)
    finally:
        s3.faults.denied.clear()
        s3.faults.kms_denied.clear()
        s3.faults.denied_prefixes.clear()
    failures = dict(summary.failures)
    assert failures[f"s3://{BUCKET}/{denied}"] == "AccessDenied: Access Denied"
    assert failures[f"s3://{BUCKET}/{encrypted}"] == f"AccessDenied: {KMS_DENIED}"
    assert failures[f"s3://{BUCKET}/AWSLogs/{ORG}/444455556666/CloudTrail/eu-west-1/2024/05/07/"].startswith(
        "cannot list: AccessDenied"
    )
    loaded = {path for (path,) in conn.execute("SELECT path FROM files")}
    assert f"s3://{BUCKET}/{throttled}" in loaded and f"s3://{BUCKET}/{denied}" not in loaded
    assert f"s3://{BUCKET}/{encrypted}" not in loaded
    window = [date(2024, 5, day) for day in (6, 7, 8)]  # a day of slack each side
    unlisted = trail.local_files(account="444455556666", region="eu-west-1", days={date(2024, 5, 7)})
    expected = trail.local_files(days=window) - unlisted - {denied, encrypted}
    assert loaded == {f"s3://{BUCKET}/{key}" for key in expected}
    problems = {path for (path,) in conn.execute("SELECT path FROM load_errors")}
    assert f"s3://{BUCKET}/{denied}" in problems
    conn.close()
    # Once allowed, the next load fetches what was denied (it was never recorded as read).
    conn, again = _index(db, [url], options)
    assert f"s3://{BUCKET}/{denied}" in {path for (path,) in conn.execute("SELECT path FROM files")}
    assert not again.failures
    conn.close()


def test_the_first_folders_are_read_while_others_are_still_being_listed(trail: Trail, s3, tmp_path: Path) -> None:
    # An organization's hundreds of folders take a while to list: the load does not wait for
    # the last listing before reading what the first ones found.
    slow = max(trail.local_files(days={date(2024, 5, 9)})).rsplit("/", 1)[0] + "/"
    s3.faults.listing_delays[slow] = 4.0
    options = S3Options(since="2024-05-09T00:00:00Z", until="2024-05-09T23:59:59Z", endpoint_url=s3.endpoint_url)
    seen: list = []
    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    conn = connect(tmp_path / "index.sqlite")
    try:
        summary = index_paths(conn, [f"s3://{BUCKET}/AWSLogs/"], s3_options=options, on_progress=seen.append)
    finally:
        s3.faults.listing_delays.clear()
    early = [progress for progress in seen if progress.s3_listing and progress.events_added]
    assert early, "nothing was read before the slow folder's listing ended"
    assert "(still listing)" in early[0].download_note
    assert early[0].objects_listed < summary.objects_listed
    # Everything arrives in the end, the slow folder too.
    days = [date(2024, 5, day) for day in (8, 9, 10)]
    assert {path for (path,) in conn.execute("SELECT path FROM files")} == {
        f"s3://{BUCKET}/{key}" for key in trail.local_files(days=days)
    }
    assert any(path.startswith(f"s3://{BUCKET}/{slow}") for (path,) in conn.execute("SELECT path FROM files"))
    assert not seen[-1].s3_listing and summary.files_done == summary.files_total == summary.objects_listed
    conn.close()


def test_a_connection_lost_mid_download_is_retried_then_reported(trail: Trail, s3, tmp_path: Path) -> None:
    day = sorted(trail.local_files(account="111122223333", days={date(2024, 5, 2)}))
    recovers, lost = day[0], day[1]
    s3.faults.cut_bodies.update({recovers: 2, lost: 10})  # the body is read 3 times at most
    options = S3Options(since="2024-05-02T00:00:00Z", until="2024-05-02T23:59:59Z", accounts=("111122223333",),
                        endpoint_url=s3.endpoint_url)
    try:
        conn, summary = _index(tmp_path / "index.sqlite", [f"s3://{BUCKET}/AWSLogs/{ORG}/"], options)
    finally:
        s3.faults.cut_bodies.clear()
    failures = dict(summary.failures)
    assert list(failures) == [f"s3://{BUCKET}/{lost}"]
    assert failures[f"s3://{BUCKET}/{lost}"].startswith("download failed 3 times"), failures
    loaded = {path for (path,) in conn.execute("SELECT path FROM files")}
    assert f"s3://{BUCKET}/{recovers}" in loaded and f"s3://{BUCKET}/{lost}" not in loaded
    days = [date(2024, 5, day) for day in (1, 2, 3)]
    assert loaded == {f"s3://{BUCKET}/{key}" for key in trail.local_files(account="111122223333", days=days)} - {
        f"s3://{BUCKET}/{lost}"}
    assert not list((tmp_path / "index.s3").rglob("*.partial"))
    conn.close()


def test_a_bucket_in_another_region_is_followed(trail: Trail, s3, tmp_path: Path) -> None:
    # The client is set up for us-east-1 (the environment's Region); the bucket answers from
    # eu-west-1, as S3 does: 301 PermanentRedirect with x-amz-bucket-region. botocore's region
    # redirector signs again for eu-west-1; nothing is reported, everything loads.
    assert _AWS_ENV["AWS_DEFAULT_REGION"] == "us-east-1"
    s3.faults.bucket_regions[BUCKET] = "eu-west-1"
    s3.take_requests()
    options = S3Options(since="2024-05-07T00:00:00Z", until="2024-05-07T23:59:59Z", accounts=("111122223333",),
                        endpoint_url=s3.endpoint_url)
    try:
        conn, summary = _index(tmp_path / "index.sqlite", [f"s3://{BUCKET}/AWSLogs/{ORG}/"], options)
        signed = list(s3.signed_regions)
        requests = s3.take_requests()
    finally:
        s3.faults.bucket_regions.clear()
    assert not summary.failures
    days = [date(2024, 5, day) for day in (6, 7, 8)]  # the window and a day of slack each side
    expected = trail.local_files(account="111122223333", days=days)
    assert {path for (path,) in conn.execute("SELECT path FROM files")} == {f"s3://{BUCKET}/{key}" for key in expected}
    conn.close()
    # The first request was signed for the client's Region and redirected; every object was
    # fetched signed for the bucket's.
    assert signed[0] == "us-east-1" and "eu-west-1" in signed
    fetched = [region for request, region in zip(requests, signed) if request.is_get_object]
    assert len(fetched) == len(expected) and set(fetched) == {"eu-west-1"}


# --------------------------------------------------------------------------- the command line


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trailtui", *args], capture_output=True, text=True, timeout=300,
                          env=env if env is not None else dict(os.environ), cwd=REPO_ROOT)


def test_cli_dry_run_index_and_query_on_a_bucket(trail: Trail, s3, tmp_path: Path) -> None:
    window = ["--since", "2024-05-04", "--until", "2024-05-05T23:59:59Z", "--account", "111122223333",
              "--region", "us-east-1", "--endpoint-url", s3.endpoint_url]
    url = f"s3://{BUCKET}/AWSLogs/{ORG}/"
    dry = _cli("index", url, *window, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = [line.split(" ", 1)[1] for line in dry.stdout.splitlines() if line.startswith("list ")]
    assert listed == [f"{url}111122223333/CloudTrail/us-east-1/2024/05/{day:02d}/" for day in (3, 4, 5, 6)]
    expected = trail.local_files(account="111122223333", region="us-east-1",
                                 days={date(2024, 5, d) for d in (3, 4, 5, 6)})
    assert f"{len(expected) + 1:,} objects" in dry.stdout  # and notes.txt
    db = tmp_path / "cli.sqlite"
    indexed = _cli("index", url, *window, "--db", str(db))
    assert indexed.returncode == 0, indexed.stderr
    assert f"files: {len(expected) + 1} found, {len(expected)} read" in indexed.stdout
    assert f"would download {len(expected) + 1:,} " in dry.stdout and "nothing was downloaded" in dry.stdout
    again = _cli("index", url, *window, "--dry-run", "--db", str(db))
    assert f"would download 0 (0 bytes), {len(expected) + 1:,} already in" in again.stdout, again.stdout
    printed = _cli("query", url, "--filter", "name:GetObject", "--format", "ndjson", "--db", str(db), *window)
    assert printed.returncode == 0, printed.stderr
    events = [json.loads(line) for line in printed.stdout.splitlines()]
    originals = {}
    # The generator writes each day's events around noon: the window is days 4 and 5 exactly.
    for key in trail.local_files(account="111122223333", region="us-east-1", days={date(2024, 5, 4), date(2024, 5, 5)}):
        with gzip.open(trail.root / key) as stream:
            originals.update({r["eventID"]: r for r in json.load(stream)["Records"] if r["eventName"] == "GetObject"})
    assert originals and {event["eventID"]: event for event in events} == originals


def test_account_and_region_narrow_what_is_shown_not_only_what_is_listed(trail: Trail, s3, tmp_path: Path) -> None:
    # The index of a URL keeps what earlier runs read: other accounts and Regions must not show.
    url = f"s3://{BUCKET}/AWSLogs/{ORG}/"
    window = ["--since", "2024-05-04", "--until", "2024-05-04T23:59:59Z", "--endpoint-url", s3.endpoint_url]
    db = tmp_path / "cli.sqlite"
    assert _cli("index", url, *window, "--db", str(db)).returncode == 0  # every account and Region
    narrow = _cli("query", url, *window, "--account", "111122223333,444455556666", "--region", "us-east-1",
                  "--format", "ndjson", "--db", str(db))
    assert narrow.returncode == 0, narrow.stderr
    events = [json.loads(line) for line in narrow.stdout.splitlines()]
    expected = set()
    for account in ("111122223333", "444455556666"):
        expected |= trail_events(trail, account, "us-east-1", date(2024, 5, 4))
    assert expected and {event["eventID"] for event in events} == expected
    assert "nothing listed" not in narrow.stderr
    nobody = _cli("query", url, *window, "--account", "123456789012,111122223333", "--region", "ap-south-2,us-east-1",
                  "--count", "--db", str(db))
    assert nobody.returncode == 0 and nobody.stdout.strip() == str(len(
        trail_events(trail, "111122223333", "us-east-1", date(2024, 5, 4))))
    # A mistyped ID is not a quiet account: said, with what was given.
    assert ("nothing listed for --account 123456789012, --region ap-south-2 under "
            f"{url} in the window") in nobody.stderr, nobody.stderr


def trail_events(trail: Trail, account: str, region: str, day: date) -> set[str]:
    """eventIDs of the trail's events of ``day`` (by eventTime) in ``account``'s ``region`` folders."""
    found = set()
    for key in trail.local_files(account=account, region=region):
        with gzip.open(trail.root / key) as stream:
            found |= {r["eventID"] for r in json.load(stream)["Records"] if r["eventTime"].startswith(day.isoformat())}
    return found


def test_a_bucket_that_does_not_exist_is_said_once(s3, tmp_path: Path) -> None:
    done = _cli("index", f"s3://no-such-trail-bucket/AWSLogs/{ORG}/", "--since", "2024-05-01", "--until", "2024-05-05",
                "--account", "111122223333", "--region", "us-east-1", "--endpoint-url", s3.endpoint_url,
                "--db", str(tmp_path / "index.sqlite"))
    assert done.returncode == 3
    problems = [line for line in done.stderr.splitlines() if "NoSuchBucket" in line]
    assert len(problems) == 1 and "s3://no-such-trail-bucket/" in problems[0], done.stderr
    assert "reads files of any name" not in done.stdout + done.stderr  # not a question of file formats


def test_no_credentials_is_one_clear_message(s3, tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/nonexistent/x", AWS_SHARED_CREDENTIALS_FILE="/nonexistent/x",
               AWS_EC2_METADATA_DISABLED="true")
    result = _cli("index", f"s3://{BUCKET}/AWSLogs/", "--endpoint-url", s3.endpoint_url,
                  "--db", str(tmp_path / "x.sqlite"), env=env)
    assert result.returncode == 2
    assert "no AWS credentials found" in result.stderr and "--profile" in result.stderr
    assert "Traceback" not in result.stderr


async def test_the_app_browses_a_bucket_while_objects_arrive(trail: Trail, s3, tmp_path: Path) -> None:
    """``trailtui s3://...``: the loader process lists and downloads while the list fills; the
    detail pane shows an event's original bytes, read from the cache."""
    from trailtui.core.store.index import connect
    from trailtui.tui.app import TrailApp

    db = tmp_path / "app.sqlite"
    connect(db).close()
    options = S3Options(since="2024-05-08T00:00:00Z", until="2024-05-08T23:59:59Z", accounts=("777788889999",),
                        endpoint_url=s3.endpoint_url)
    expected = set()
    for key in trail.local_files(account="777788889999", days={date(2024, 5, 8)}):
        with gzip.open(trail.root / key) as stream:
            expected |= {record["eventID"] for record in json.load(stream)["Records"]}
    app = TrailApp(db_path=db, paths=[f"s3://{BUCKET}/AWSLogs/"], s3_options=options,
                   initial_filter="since:2024-05-08T00:00:00Z until:2024-05-08T23:59:59Z")
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(300):
            await pilot.pause(0.1)
            if not app.main_screen.indexing and app.event_list.count == len(expected):
                break
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.event_list.count == len(expected)
        messages = " ".join(text for _, text in app.messages)
        assert "error" not in messages.lower(), messages
        await pilot.press("j")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = app.query_one("EventDetail").event_text() or ""
        assert json.loads(text)["eventID"] in expected, "the detail pane shows no event of the bucket"


async def test_the_app_without_credentials_says_why_in_the_list(s3, tmp_path: Path, monkeypatch) -> None:
    # The message area is a few lines; the empty list has room for the whole reason.
    from trailtui.core.store.index import connect
    from trailtui.tui.app import TrailApp

    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/x")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/x")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    db = tmp_path / "app.sqlite"
    connect(db).close()
    app = TrailApp(db_path=db, paths=[f"s3://{BUCKET}/AWSLogs/"], s3_options=S3Options(endpoint_url=s3.endpoint_url))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause(0.1)
            if not app.main_screen.indexing:
                break
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = app.event_list.empty_text.plain
        assert text.startswith("Indexing stopped: no AWS credentials found") and "--profile NAME" in text, text
        assert "reads files of any name" not in text


def _interrupt_once_downloading(args: list[str], cache: Path, after: float, at_signal=None):
    """Run ``args``; once the first object is in ``cache`` and ``after`` seconds more, Ctrl+C it
    (calling ``at_signal`` just before). Returns the process, its stderr and the seconds it took
    to end after the signal."""
    import signal
    import time

    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(cache.rglob("*.json.gz")):
        time.sleep(0.02)
    time.sleep(after)
    if at_signal is not None:
        at_signal()
    process.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    _, err = process.communicate(timeout=60)
    return process, err, time.monotonic() - interrupted


def test_ctrl_c_while_downloading_leaves_no_partial_file_and_a_usable_index(trail: Trail, s3, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "index.sqlite"
    url = f"s3://{BUCKET}/AWSLogs/"
    args = [sys.executable, "-m", "trailtui", "index", url, "--db", str(db), "--endpoint-url", s3.endpoint_url,
            "--since", "2024-05-01", "--until", "2024-05-03"]
    s3.faults.get_delay = 0.3  # 16 at a time: about 50 objects a second
    try:
        process, err, _ = _interrupt_once_downloading(args, tmp_path / "index.s3", 0.3)
    finally:
        s3.faults.get_delay = 0.0
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not list((tmp_path / "index.s3").rglob("*.partial"))
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    again = _cli(*args[3:])
    assert again.returncode == 0, again.stderr
    conn = sqlite3.connect(db)
    files = {path for (path,) in conn.execute("SELECT path FROM files")}
    days = {date(2024, 5, day) for day in (1, 2, 3, 4)}
    assert files == {f"s3://{BUCKET}/{key}" for key in trail.local_files(days=days)} | {
        f"s3://{BUCKET}/{key}" for key in trail.keys if key.endswith("notes.txt")
    }


def test_ctrl_c_while_a_folder_is_still_being_listed_stops_at_once(trail: Trail, s3, tmp_path: Path) -> None:
    slow = max(trail.local_files(days={date(2024, 5, 9)})).rsplit("/", 1)[0] + "/"
    db = tmp_path / "index.sqlite"
    args = [sys.executable, "-m", "trailtui", "index", f"s3://{BUCKET}/AWSLogs/", "--db", str(db),
            "--endpoint-url", s3.endpoint_url, "--since", "2024-05-01", "--until", "2024-05-09"]
    s3.faults.listing_delays[slow] = 4.0  # a folder whose listing is slow
    s3.faults.get_delay = 0.5  # 16 at a time: about 30 objects a second, most still to come at the signal
    try:
        process, err, took = _interrupt_once_downloading(args, tmp_path / "index.s3", 0.5, at_signal=s3.take_requests)
        fetched_after = [request for request in s3.take_requests() if request.is_get_object]
    finally:
        s3.faults.listing_delays.clear()
        s3.faults.get_delay = 0.0
    assert process.returncode == 130, err
    # The downloads stop with the load (at most those already under way: 16 threads), not once
    # the slow listing has ended. (The process itself ends when that listing request does.)
    assert len(fetched_after) <= 32, len(fetched_after)
    assert took < 30
    assert not list((tmp_path / "index.s3").rglob("*.partial"))


def test_no_credentials_beside_local_files_indexes_them_whole_first(tmp_path: Path) -> None:
    import sqlite3

    from tests.conftest import make_event, write_records

    logs = tmp_path / "logs"
    for part in range(20):  # enough files for a bulk load (filter indexes built at the end)
        write_records(logs / f"part{part}.json", [make_event(f"p{part}-{i}") for i in range(5)])
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/nonexistent/x", AWS_SHARED_CREDENTIALS_FILE="/nonexistent/x",
               AWS_EC2_METADATA_DISABLED="true")
    db = tmp_path / "index.sqlite"
    result = _cli("index", str(logs), "s3://some-bucket/AWSLogs/", "--endpoint-url", "http://127.0.0.1:9", "--db", str(db),
                  env=env)
    assert result.returncode == 2 and "no AWS credentials found" in result.stderr, result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 100
    indexes = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "events_eventID" in indexes and len(indexes) > 5, indexes  # the bulk load finished: indexes built
    conn.close()


# --------------------------------------------------------------------------- following new deliveries


def _delivery_key(account: str, region: str, when, unique: str) -> str:
    """A log file's key as CloudTrail names it (user guide, "Finding your CloudTrail log files")."""
    return (f"AWSLogs/{ORG}/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
            f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{unique}.json.gz")


def _delivery(client, bucket: str, key: str, prefix: str, count: int, when) -> set[str]:
    """Upload a gzipped log file of ``count`` GetObject events to ``key``; their eventIDs."""
    from tests.conftest import make_event

    events = [make_event(f"{prefix}-{n:04d}", eventTime=f"{when:%Y-%m-%dT%H:%M}:{n % 60:02d}Z") for n in range(count)]
    client.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": events}).encode()))
    return {event["eventID"] for event in events}


def _follow_bucket(s3, name: str):
    client = make_client(S3Options(endpoint_url=s3.endpoint_url))
    client.create_bucket(Bucket=name)
    return client


def test_a_poll_lists_todays_folders_after_the_newest_key_seen(s3) -> None:
    from datetime import datetime, timezone

    from trailtui.core.sources.follow import DeliveryPoll

    client = _follow_bucket(s3, "follow-poll")
    accounts, regions = ("111122223333", "444455556666"), ("us-east-1", "eu-west-1")
    today = datetime(2024, 5, 10, 11, 0, tzinfo=timezone.utc)
    yesterday = datetime(2024, 5, 9, 23, 50, tzinfo=timezone.utc)
    for account in accounts:
        for region in regions:
            _delivery(client, "follow-poll", _delivery_key(account, region, yesterday, "a"), "old", 1, yesterday)
            _delivery(client, "follow-poll", _delivery_key(account, region, today, "b"), "new", 1, today)
    now = [datetime(2024, 5, 10, 12, 0, tzinfo=timezone.utc)]
    poll = DeliveryPoll(S3Options(endpoint_url=s3.endpoint_url), clock=lambda: now[0])
    url = parse_s3_url(f"s3://follow-poll/AWSLogs/{ORG}/")
    day_folders = {f"AWSLogs/{ORG}/{a}/CloudTrail/{r}/2024/05/10/" for a in accounts for r in regions}
    s3.take_requests()

    objects, problems = poll.list([url])
    assert not problems
    assert {obj.key for obj in objects} == {_delivery_key(a, r, today, "b") for a in accounts for r in regions}
    listings = [request for request in s3.take_requests() if request.is_listing]
    days = [request for request in listings if "delimiter" not in request.query]
    assert {request.query["prefix"] for request in days} == day_folders and len(days) == 4
    assert not any("start-after" in request.query for request in days)
    assert len(listings) - len(days) == 3  # the organization's accounts, then each account's regions

    late = datetime(2024, 5, 10, 11, 55, tzinfo=timezone.utc)
    new_key = _delivery_key(accounts[0], regions[0], late, "c")
    _delivery(client, "follow-poll", new_key, "late", 1, late)
    objects, _ = poll.list([url])
    listings = [request for request in s3.take_requests() if request.is_listing]
    # Folders known: no walk again; each day folder listed from 30 minutes before its newest key.
    assert len(listings) == 4 and {request.query["prefix"] for request in listings} == day_folders
    assert {request.query.get("start-after", "").rsplit("/", 1)[-1][-14:] for request in listings} == {"20240510T1030Z"}
    assert new_key in {obj.key for obj in objects}

    now[0] = datetime(2024, 5, 11, 0, 20, tzinfo=timezone.utc)  # early in a day: yesterday's folders too
    poll.list([url])
    prefixes = {request.query["prefix"] for request in s3.take_requests() if request.is_listing}
    assert prefixes == day_folders | {folder.replace("/05/10/", "/05/11/") for folder in day_folders}


def test_follow_indexes_a_new_object_by_the_next_poll(s3, tmp_path: Path) -> None:
    import threading
    import time
    from datetime import datetime, timezone

    from trailtui.core.loader import index_paths
    from trailtui.core.sources.follow import Follower, follow
    from trailtui.core.store.index import connect

    client = _follow_bucket(s3, "follow-loop")
    when = datetime(2024, 5, 10, 9, 0, tzinfo=timezone.utc)
    first = _delivery(client, "follow-loop", _delivery_key("111122223333", "us-east-1", when, "a"), "first", 5, when)
    url = f"s3://follow-loop/AWSLogs/{ORG}/"
    options = S3Options(endpoint_url=s3.endpoint_url)
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [url], s3_options=options, workers=0)
    rounds: list = []
    stop = threading.Event()
    follower = Follower([url], s3_options=options, interval=0.3,
                        clock=lambda: datetime(2024, 5, 10, 12, 0, tzinfo=timezone.utc))
    thread = threading.Thread(target=follow, args=(conn, follower),
                              kwargs={"on_round": lambda summary, error: rounds.append((summary, error)),
                                      "stop": stop, "workers": 0}, daemon=True)
    thread.start()
    try:
        while len(rounds) < 2:
            time.sleep(0.05)
        late = datetime(2024, 5, 10, 11, 58, tzinfo=timezone.utc)
        uploaded_during = len(rounds)
        second = _delivery(client, "follow-loop", _delivery_key("111122223333", "us-east-1", late, "b"), "second", 7, late)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(s and s.events_added for s, _ in rounds[uploaded_during:]):
            time.sleep(0.05)
        arrival = next(n for n, (s, _) in enumerate(rounds) if n >= uploaded_during and s and s.events_added)
        # The poll under way when the object landed may miss it; the next one must not.
        assert arrival <= uploaded_during + 1, [(s.events_added if s else e) for s, e in rounds]
        assert rounds[arrival][0].events_added == 7 and rounds[arrival][0].objects_downloaded == 1
        s3.take_requests()
        count = len(rounds)
        while len(rounds) < count + 2:
            time.sleep(0.05)
        assert not [r for r in s3.take_requests() if r.is_get_object], "an indexed object was downloaded again"
    finally:
        stop.set()
        follower.close()
        thread.join(30)
    assert all(error is None for _, error in rounds)
    assert {row[0] for row in conn.execute('SELECT "eventID" FROM events')} == first | second
    conn.close()


def _today_key(account: str, region: str, unique: str):
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    return _delivery_key(account, region, now, unique), now


def test_query_follow_on_a_bucket_prints_a_new_objects_events(s3, tmp_path: Path) -> None:
    import signal
    import threading
    import time

    client = _follow_bucket(s3, "follow-cli")
    old_key, now = _today_key("111122223333", "us-east-1", "a")
    _delivery(client, "follow-cli", old_key, "before", 3, now)
    args = [sys.executable, "-m", "trailtui", "query", f"s3://follow-cli/AWSLogs/{ORG}/", "--account", "111122223333",
            "--region", "us-east-1", "--follow", "--interval", "0.5", "--limit", "0", "--format", "ndjson",
            "--endpoint-url", s3.endpoint_url, "--db", str(tmp_path / "index.sqlite")]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "index.s3").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the first load downloaded the object already there
        key, when = _today_key("111122223333", "us-east-1", "b")
        arrived = _delivery(client, "follow-cli", key, "after", 4, when)
        reader = threading.Thread(target=lambda: lines.extend(process.stdout.readline() for _ in range(4)), daemon=True)
        reader.start()
        reader.join(60)
    finally:
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=60)
    assert {json.loads(line)["eventID"] for line in lines if line} == arrived, err
    assert rest == "" and process.returncode == 130 and "Traceback" not in err, err


async def test_the_app_follows_a_bucket(s3, tmp_path: Path) -> None:
    from trailtui.core.store.index import connect
    from trailtui.tui.app import TrailApp

    client = _follow_bucket(s3, "follow-app")
    key, now = _today_key("111122223333", "us-east-1", "a")
    _delivery(client, "follow-app", key, "before", 3, now)
    db = tmp_path / "app.sqlite"
    connect(db).close()
    app = TrailApp(db_path=db, paths=[f"s3://follow-app/AWSLogs/{ORG}/"], follow_interval=0.5,
                   s3_options=S3Options(endpoint_url=s3.endpoint_url))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.main_screen
        for _ in range(300):
            await pilot.pause(0.1)
            if screen.status.following and app.event_list.count == 3:
                break
        assert screen.status.following and app.event_list.count == 3
        key, when = _today_key("111122223333", "us-east-1", "b")
        _delivery(client, "follow-app", key, "after", 5, when)
        for _ in range(300):
            await pilot.pause(0.1)
            if app.event_list.count == 8:
                break
        await pilot.pause(0.3)
        assert app.event_list.count == 8
        assert "+5 new" in screen.status.render().plain


def test_a_large_prefix_outside_the_layout_is_named_with_its_size_before_downloading(s3, tmp_path: Path,
                                                                                      monkeypatch) -> None:
    from datetime import datetime

    from trailtui.core.sources import s3 as s3_source
    from trailtui.core.store.index import connect
    from trailtui.core.loader import index_paths

    client = _follow_bucket(s3, "exports-bucket")
    for number in range(4):
        _delivery(client, "exports-bucket", f"exports/part-{number}.json.gz", f"part{number}", 2,
                  datetime(2024, 5, 1))
    monkeypatch.setattr(s3_source, "LARGE_LISTING_OBJECTS", 3)
    seen: list = []
    summary = index_paths(connect(tmp_path / "index.sqlite"), ["s3://exports-bucket/exports/"],
                          s3_options=S3Options(endpoint_url=s3.endpoint_url), on_progress=seen.append, workers=0)
    assert summary.events_added == 8
    noted = next(n for n, progress in enumerate(seen) if progress.listing_note)
    assert seen[noted].objects_downloaded == 0, "the note came after downloads had started"
    note = seen[noted].listing_note
    assert "s3://exports-bucket/exports/ is not in CloudTrail's layout" in note and "4 objects" in note
    # Named accounts: objects outside the layout belong to no account folder, and are read.
    named: list = []
    index_paths(connect(tmp_path / "named.sqlite"), ["s3://exports-bucket/exports/"], on_progress=named.append,
                s3_options=S3Options(endpoint_url=s3.endpoint_url, accounts=("111122223333",)), workers=0)
    assert not any("nothing listed" in progress.listing_note for progress in named)
    monkeypatch.setattr(s3_source, "LARGE_LISTING_OBJECTS", 5_000)
    quiet: list = []
    index_paths(connect(tmp_path / "small.sqlite"), ["s3://exports-bucket/exports/"],
                s3_options=S3Options(endpoint_url=s3.endpoint_url), on_progress=quiet.append, workers=0)
    assert not any(progress.listing_note for progress in quiet)
