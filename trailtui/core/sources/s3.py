"""Amazon S3 as a source of log files: ``s3://BUCKET[/PREFIX]``, listed with the layout's pruning
and downloaded into a private cache beside the index.

Listing walks CloudTrail's layout (:mod:`trailtui.core.sources.layout`) one folder level at a
time with delimiter listings (``ListObjectsV2`` with ``Delimiter="/"``): organization → accounts
→ ``CloudTrail/`` → regions, skipping the listing wherever ``--account`` or ``--region`` already
names the folders, then lists only the day folders inside the time window (one day of slack on
each side). A prefix outside the layout is listed whole (digest and Insights folders left out).

Objects download on a thread pool (S3 throughput comes from concurrent requests) into
``<index>.s3/BUCKET/KEY`` (folders 0700, files 0600, written as ``.partial`` then renamed), so a
cached object is read like a local file, byte spans and all. The ``files`` table records each
object under its URL (``s3://BUCKET/KEY``) with its size and ETag: a reopen downloads only
new or changed objects.

Calls go through boto3 with its standard credential chain; botocore's ``adaptive`` retry mode
retries throttling (``SlowDown``, 503) and dropped connections with backoff, and the client
follows a bucket to its region (botocore's S3 region redirector).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from trailtui.core.sources import layout
from trailtui.core.times import epoch_seconds

SCHEME = "s3://"
#: Objects downloaded at once: S3 serves each request at tens of MB/s; many small log objects
#: need many requests in flight to fill a link.
DOWNLOAD_THREADS = 16
#: Listings (one request per page of 1,000 keys) run at once, across day folders.
LISTING_THREADS = 8
#: A prefix outside the layout, listed whole, holding more than this many objects or bytes is
#: named with its count and size before anything is downloaded (:attr:`WindowListing.notes`).
LARGE_LISTING_OBJECTS = 5_000
LARGE_LISTING_BYTES = 2 * 10**9
_CHUNK = 1 << 20  # bytes read from a response body at a time
_BODY_ATTEMPTS = 3  # a connection dropped while reading a body is retried this often


class S3SourceError(Exception):
    """An S3 source cannot be used at all (no credentials, an unknown profile, an endpoint that
    does not answer, a malformed URL): the message says what to do. Per-object and per-prefix
    problems are not raised: they are reported as load problems naming the key."""


class S3ObjectError(Exception):
    """One object could not be downloaded; the message is S3's error code and message."""


@dataclass(frozen=True)
class S3Url:
    """``s3://bucket/prefix``: ``prefix`` is a key prefix ("" for the whole bucket)."""

    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class S3Object:
    """One listed object: ``size`` in bytes, ``etag`` as S3 gives it (quotes kept)."""

    bucket: str
    key: str
    size: int
    etag: str

    @property
    def url(self) -> str:
        """``s3://bucket/key``: how the index names the object (``files.path``)."""
        return f"{SCHEME}{self.bucket}/{self.key}"


@dataclass
class S3Options:
    """How to reach and prune S3 sources.

    ``since``/``until``: the time window as UTC ISO-8601 texts (``2024-05-01T00:00:00Z``) or
    None; ``accounts``/``regions``: folders to keep (empty: all); ``profile``: a named AWS
    profile; ``endpoint_url``: an S3-compatible endpoint (tests, MinIO).
    """

    since: str | None = None
    until: str | None = None
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    profile: str | None = None
    endpoint_url: str | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict (what the app's loader process is given)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> S3Options:
        """The inverse of :meth:`to_dict`."""
        return cls(
            since=data.get("since"), until=data.get("until"),
            accounts=tuple(data.get("accounts") or ()), regions=tuple(data.get("regions") or ()),
            profile=data.get("profile"), endpoint_url=data.get("endpoint_url"),
        )


@dataclass
class Listing:
    """What listing one URL found: ``objects`` in key order; ``listed``: the prefixes listed
    recursively (as URLs); ``whole``: those outside the layout, listed whole; ``problems``:
    ``(URL, message)`` pairs; ``requests``: S3 requests made."""

    objects: list[S3Object] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    whole: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0

    @property
    def bytes(self) -> int:
        """Total size of the objects, in bytes."""
        return sum(obj.size for obj in self.objects)


def is_s3_url(text: str) -> bool:
    """True when ``text`` names an S3 location (``s3://...``)."""
    return str(text).lower().startswith(SCHEME)


def parse_s3_url(text: str) -> S3Url:
    """``s3://bucket[/prefix]`` as an :class:`S3Url` (the prefix made a folder: see
    :func:`layout.normalise_prefix`). Raises :class:`S3SourceError` for a URL without a bucket."""
    rest = str(text)[len(SCHEME):]
    bucket, _, prefix = rest.partition("/")
    if not bucket or not is_s3_url(text):
        raise S3SourceError(f"{text}: not an S3 URL (expected s3://BUCKET[/PREFIX])")
    return S3Url(bucket, layout.normalise_prefix(prefix))


def make_client(options: S3Options):
    """A boto3 S3 client for ``options`` (profile, endpoint), with adaptive retries and a
    connection pool as wide as the download threads. Raises :class:`S3SourceError` for an
    unknown profile."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(profile_name=options.profile) if options.profile else boto3.Session()
        return session.client(
            "s3",
            endpoint_url=options.endpoint_url,
            config=Config(
                retries={"mode": "adaptive", "max_attempts": 8},
                max_pool_connections=DOWNLOAD_THREADS + LISTING_THREADS,
                connect_timeout=10,
                read_timeout=60,
            ),
        )
    except BotoCoreError as err:  # ProfileNotFound, a bad config file
        raise S3SourceError(f"cannot set up S3 access: {err}") from None


def describe_client_error(err: Exception) -> str:
    """S3's error code and message (``AccessDenied: Access Denied``), or the exception's text."""
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        code = error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "error"
        message = error.get("Message") or ""
        return f"{code}: {message}" if message else str(code)
    return str(err)


def _fatal(err: Exception) -> S3SourceError | None:
    """The whole-source failure ``err`` stands for, if it is one."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError, PartialCredentialsError

    if isinstance(err, (NoCredentialsError, PartialCredentialsError)):
        return S3SourceError(
            "no AWS credentials found: boto3 looked in the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE), "
            "~/.aws/credentials and ~/.aws/config, SSO and instance or container roles; give --profile NAME "
            "(or run `aws sso login` / `aws configure`)"
        )
    if isinstance(err, EndpointConnectionError):
        return S3SourceError(f"cannot reach S3: {err}")
    return None


def list_objects(client, url: S3Url, options: S3Options, *, today: date | None = None) -> Listing:
    """List the objects of ``url`` that the window, accounts and regions of ``options`` keep.

    ``today``: the UTC date the window is open towards (default: now). Raises
    :class:`S3SourceError` when S3 cannot be used at all; a prefix that cannot be listed
    (AccessDenied, NoSuchBucket) is a problem in the result, and the other prefixes are listed.
    """
    today = today or datetime.now(timezone.utc).date()
    listing = Listing()
    walker = LayoutWalker(client, url.bucket, options, today, listing)
    prefixes = walker.walk(layout.position_of(url.prefix))
    listing.listed = [f"{SCHEME}{url.bucket}/{prefix}" for prefix, _ in prefixes]
    listing.whole = [f"{SCHEME}{url.bucket}/{prefix}" for prefix, whole in prefixes if whole]
    for _, _, objects in _listed_folders(walker, prefixes):
        listing.objects.extend(objects)
    listing.objects.sort(key=lambda obj: obj.key)
    return listing


def _listed_folders(
    walker: LayoutWalker, prefixes: list[tuple[str, bool]], stop: threading.Event | None = None
) -> Iterator[tuple[str, bool, list[S3Object]]]:
    """``(prefix, listed whole, objects)`` for each of ``prefixes`` (from ``walker.walk``), in
    their order, listed :data:`LISTING_THREADS` at a time; ``stop`` set: the listings not started
    are dropped and the iteration ends within 0.1 s."""
    pool = ThreadPoolExecutor(LISTING_THREADS, thread_name_prefix="s3-listing")
    try:
        futures = [pool.submit(walker.keys_under, prefix, whole) for prefix, whole in prefixes]
        for (prefix, whole), future in zip(prefixes, futures):
            while True:
                try:
                    objects = future.result(timeout=0.1)
                    break
                except TimeoutError:
                    if stop is not None and stop.is_set():
                        return
            yield prefix, whole, objects
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class WindowListing:
    """Lists ``s3://`` sources once for a load, as ``options`` prune them (the walk of
    :func:`list_objects`): what :func:`trailtui.core.loader.index_paths` uses unless it is given
    another lister (a follow poll: :class:`trailtui.core.sources.follow.DeliveryPoll`).

    :meth:`stream` hands the objects over a folder at a time, as each listing ends, so a load
    downloads and indexes the first day folders while an organization's hundreds of others are
    still being listed."""

    def __init__(self, options: S3Options) -> None:
        self.options = options
        self._client = None
        #: After :meth:`stream`: one line per URL outside CloudTrail's layout that holds more than
        #: :data:`LARGE_LISTING_OBJECTS` objects or :data:`LARGE_LISTING_BYTES` bytes, and one per
        #: URL under which a named account or Region had nothing listed.
        self.notes: list[str] = []
        #: After :meth:`stream`: ``(URL, message)`` for each prefix that could not be listed.
        self.problems: list[tuple[str, str]] = []

    @property
    def client(self):
        """The boto3 client (made on first use; raises :class:`S3SourceError` as
        :func:`make_client` does)."""
        if self._client is None:
            self._client = make_client(self.options)
        return self._client

    def stream(
        self, urls: list[S3Url], *, today: date | None = None, stop: threading.Event | None = None
    ) -> Iterator[tuple[list[S3Object], str]]:
        """``(objects, note)`` for each folder listed recursively under ``urls``, in the walk's
        order (folders listed :data:`LISTING_THREADS` at a time, each handed over once it and
        those before it are listed; objects in key order, each object once over all URLs), so
        loads are repeatable. ``note`` is "" or a line for the user: a large prefix outside the
        layout (given with its objects, before any of them is downloaded), or, after a URL's last
        folder (with no objects), the named accounts and Regions that had nothing listed. When
        the iteration ends, :attr:`problems` and :attr:`notes` are complete. Raises
        :class:`S3SourceError` when S3 cannot be used at all. ``stop`` set (or the iterator
        closed): the listings not started are dropped and the iteration ends within 0.1 s.
        ``today``: the UTC date an open window ends on (default: now)."""
        today = today or datetime.now(timezone.utc).date()
        self.notes, self.problems = [], []
        seen: set[str] = set()
        for url in urls:
            listing = Listing()
            walker = LayoutWalker(self.client, url.bucket, self.options, today, listing)
            prefixes = walker.walk(layout.position_of(url.prefix))
            found: dict[tuple[str, str], int] = {}  # (account, region) folder -> objects listed
            try:
                for prefix, whole, listed in _listed_folders(walker, prefixes, stop):
                    objects = [obj for obj in listed if obj.url not in seen]
                    seen.update(obj.url for obj in objects)
                    position = layout.position_of(prefix)
                    folder = (position.account, position.region)
                    found[folder] = found.get(folder, 0) + len(objects)
                    note = self._large_note(url, objects) if whole else ""
                    if note:
                        self.notes.append(note)
                    if objects:
                        yield objects, note
            finally:
                self.problems += listing.problems
            if stop is not None and stop.is_set():
                return
            # Objects of a prefix listed whole are in no account's or Region's folder: no note.
            whole = any(whole for _, whole in prefixes)
            note = "" if whole else self._nothing_named_note(url, found, bool(listing.problems))
            if note:
                self.notes.append(note)
                yield [], note

    def _nothing_named_note(self, url: S3Url, found: dict[tuple[str, str], int], problems: bool) -> str:
        """A line naming the ``--account``/``--region`` values that nothing was listed for under
        ``url`` (a mistyped ID looks like a quiet account otherwise); "" when each had objects,
        or when listing problems (said already) may be why."""
        if problems:
            return ""
        missing = [f"--account {account}" for account in self.options.accounts
                   if not any(count for (where, _), count in found.items() if where == account)]
        missing += [f"--region {region}" for region in self.options.regions
                    if not any(count for (_, where), count in found.items() if where == region)]
        if not missing:
            return ""
        window = " in the window" if self.options.since or self.options.until else ""
        return (f"nothing listed for {', '.join(missing)} under {url}{window} (no such folder, or no deliveries;"
                " --dry-run shows the folders listed)")

    @staticmethod
    def _large_note(url: S3Url, objects: list[S3Object]) -> str:
        size = sum(obj.size for obj in objects)
        if len(objects) <= LARGE_LISTING_OBJECTS and size <= LARGE_LISTING_BYTES:
            return ""
        return (
            f"{url} is not in CloudTrail's layout (AWSLogs/[o-ID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/), so it"
            f" is read whole: {len(objects):,} objects, {size / 1e9:,.1f} GB"
            " (--dry-run lists them; a prefix deeper in the layout reads less)"
        )


class ListsAtOnce:
    """For listers that find everything in one go with ``list(urls) -> (objects, problems)``
    (a follow poll, Athena's exact objects): :meth:`stream` as :class:`WindowListing` has it."""

    notes: tuple[str, ...] = ()
    problems: list[tuple[str, str]] = []  # replaced by each stream()

    def list(self, urls: list[S3Url]) -> tuple[list[S3Object], list[tuple[str, str]]]:  # pragma: no cover
        raise NotImplementedError

    def stream(self, urls: list[S3Url], *, stop: threading.Event | None = None) -> Iterator[tuple[list[S3Object], str]]:
        """:meth:`list`'s objects as one batch (none when there are none); then :attr:`problems`.
        (``stop``: as :meth:`WindowListing.stream` takes it; one list has nothing to stop between.)"""
        objects, self.problems = self.list(urls)
        if objects:
            yield objects, ""


class LayoutWalker:
    """Walks CloudTrail's layout in ``bucket`` from a position down to the prefixes to list
    recursively (:meth:`walk`), with ``options``' accounts, regions and window (its days as of
    ``today``, a UTC date), and lists them (:meth:`keys_under`). Requests and problems are
    counted in ``listing``. With ``to_regions`` the walk stops at the region folders (a follow
    poll names the days itself). Raises ``S3SourceError`` when S3 cannot be used at all."""

    def __init__(
        self, client, bucket: str, options: S3Options, today: date, listing: Listing, *, to_regions: bool = False
    ) -> None:
        self.client, self.bucket, self.options, self.listing = client, bucket, options, listing
        # to_regions: stop at the region folders (or below, where the prefix stops), without
        # naming days: a follow poll picks the day folders itself (core.sources.follow).
        self.to_regions = to_regions
        self._lock = threading.Lock()
        self._no_bucket = ""  # S3's NoSuchBucket message, once a listing got it
        since = _date_of(options.since)
        until = _date_of(options.until)
        self.window = (since, until) if since or until else None
        self.first, self.last = layout.days_to_list(since, until, today)

    def walk(self, position: layout.LayoutPosition) -> list[tuple[str, bool]]:
        """``(prefix, listed whole)`` pairs under ``position`` to list recursively."""
        level = position.level
        if level == "outside":
            if position.conforms and layout.AWSLOGS in self._child_folders(position.prefix, only=layout.AWSLOGS):
                return self.walk(position.child(layout.AWSLOGS))
            return [(position.prefix, True)]
        if level in ("awslogs", "organization"):
            accounts = self.options.accounts
            if level == "organization" and accounts:
                names = list(accounts)  # named: no listing needed
            else:
                names = self._child_folders(position.prefix)
            children = [
                position.child(name)
                for name in names
                if (layout.ORGANIZATION_ID.match(name) and level == "awslogs")
                or (layout.ACCOUNT_ID.match(name) and (not accounts or name in accounts))
            ]
            return self._walk_each(children)
        if level == "account":
            if self.options.accounts and position.account not in self.options.accounts:
                return []
            return self.walk(position.child(layout.LOG_FOLDER))
        if level == "service":
            names = self.options.regions or [n for n in self._child_folders(position.prefix) if layout.REGION.match(n)]
            return self._walk_each([position.child(name) for name in names])
        # region, year, month, day
        if self.options.regions and position.region not in self.options.regions:
            return []
        if self.window is None or self.to_regions:
            return [(position.prefix, False)]
        first, last = self.first, self.last
        span = layout.folder_span(position)
        if span:
            first = max(first, span[0]) if first else span[0]
            last = min(last, span[1])
        if first is None or (last - first).days > layout.MAX_NAMED_DAYS:
            return self._walk_dates(position, first, last)
        if first > last:
            return []
        return [(prefix, False) for prefix in layout.day_prefixes(layout.region_prefix_of(position), first, last, position)]

    def _walk_each(self, positions: list[layout.LayoutPosition]) -> list[tuple[str, bool]]:
        """:meth:`walk` under each position, in order; concurrently when they will list (an
        organization's hundreds of accounts each need their regions listed: one after another
        that is a request's latency per account)."""
        if len(positions) < 2:
            return [pair for position in positions for pair in self.walk(position)]
        with ThreadPoolExecutor(min(LISTING_THREADS, len(positions))) as pool:
            walks = list(pool.map(self.walk, positions))
        return [pair for walked in walks for pair in walked]

    def _walk_dates(self, position: layout.LayoutPosition, first: date | None, last: date) -> list[tuple[str, bool]]:
        """Folder by folder (years, months, days), keeping those that meet ``[first, last]``."""
        if position.level == "day":
            return [(position.prefix, False)]
        found = []
        for name in self._child_folders(position.prefix):
            child = position.child(name)
            span = layout.folder_span(child)
            if span is None or not child.conforms:
                continue
            if span[1] < (first or date.min) or span[0] > last:
                continue
            found += self._walk_dates(child, first, last)
        return found

    def _child_folders(self, prefix: str, *, only: str | None = None) -> list[str]:
        """Names of the folders directly under ``prefix`` (one delimiter listing, paged); with
        ``only``, just those whose name starts with it (one short listing to probe for it)."""
        names = []
        kwargs = {"Bucket": self.bucket, "Prefix": prefix + (only or ""), "Delimiter": "/"}
        try:
            for page in self._pages(kwargs):
                for common in page.get("CommonPrefixes", ()):
                    name = common["Prefix"][len(prefix):].rstrip("/")
                    if name and "/" not in name:
                        names.append(name)
        except S3ObjectError as err:
            self._problem(f"{SCHEME}{self.bucket}/{prefix}", f"cannot list: {err}")
            return []
        return names

    def keys_under(self, prefix: str, whole: bool, start_after: str | None = None) -> list[S3Object]:
        """Every object under ``prefix`` (digest and Insights folders left out of a whole one);
        with ``start_after``, only the keys after it (S3's ``StartAfter``)."""
        found = []
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        try:
            for page in self._pages(kwargs):
                for item in page.get("Contents", ()):
                    key = item["Key"]
                    if key.endswith("/") or (whole and layout.is_side_folder_key(key[len(prefix):])):
                        continue
                    found.append(S3Object(self.bucket, key, int(item.get("Size", 0)), str(item.get("ETag", ""))))
        except S3ObjectError as err:
            self._problem(f"{SCHEME}{self.bucket}/{prefix}", f"cannot list: {err}")
        return found

    def _pages(self, kwargs: dict):
        from botocore.exceptions import BotoCoreError, ClientError

        token = None
        while True:
            args = dict(kwargs, ContinuationToken=token) if token else kwargs
            if self._no_bucket:
                raise S3ObjectError(self._no_bucket)
            try:
                page = self.client.list_objects_v2(**args)
            except (ClientError, BotoCoreError) as err:
                fatal = _fatal(err)
                if fatal:
                    raise fatal from None
                message = describe_client_error(err)
                if getattr(err, "response", {}).get("Error", {}).get("Code") == "NoSuchBucket":
                    self._no_bucket = message  # every other folder would say the same: not asked
                raise S3ObjectError(message) from None
            finally:
                with self._lock:
                    self.listing.requests += 1
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def _problem(self, where: str, message: str) -> None:
        with self._lock:
            if self._no_bucket:
                where = f"{SCHEME}{self.bucket}/"  # said once, for the bucket, not per folder
            if (where, message) not in self.listing.problems:
                self.listing.problems.append((where, message))


def _date_of(text: str | None) -> date | None:
    """The UTC date of a UTC ISO-8601 time (``2024-05-04T00:00:00Z``), None for none."""
    seconds = epoch_seconds(text) if text else None
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc).date()


# --------------------------------------------------------------------------- the cache


def cache_root(db_path: str | os.PathLike) -> Path:
    """The private S3 cache of the index at ``db_path``: ``<index without .sqlite>.s3``."""
    path = Path(db_path)
    return path.with_name(path.stem + ".s3")


def _safe_segment(segment: str) -> str:
    # Keys are any text: "", "." and ".." segments (and "%", to keep the mapping one-to-one) are
    # written as %-escapes, so a key never reaches outside its bucket's folder.
    segment = segment.replace("%", "%25")
    if segment in ("", ".", ".."):
        return segment.replace(".", "%2E") or "%"
    return segment


def cache_path(root: str | os.PathLike, url: str) -> Path:
    """Where the object ``url`` (``s3://bucket/key``) is kept under the cache ``root``."""
    parsed = url[len(SCHEME):]
    bucket, _, key = parsed.partition("/")
    return Path(root, _safe_segment(bucket), *(_safe_segment(part) for part in key.split("/")))


class Downloads:
    """Downloads objects into the cache on :data:`DOWNLOAD_THREADS` threads.

    :meth:`submit` returns a Future of the local path (it raises :class:`S3ObjectError` naming
    S3's error code, or :class:`S3SourceError`). ``objects``/``bytes`` count what arrived.
    :meth:`close` waits for running downloads, or (``cancel=True``) stops them between chunks;
    a stopped or failed download leaves no ``.partial`` file.
    """

    def __init__(self, client, root: Path, threads: int = DOWNLOAD_THREADS) -> None:
        self.client, self.root = client, Path(root)
        self.objects = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="s3-download")

    def submit(self, obj: S3Object) -> Future:
        """Start downloading ``obj``; the Future's result is its local path (str)."""
        return self._pool.submit(self._download, obj)

    def close(self, *, cancel: bool = False) -> None:
        """Stop taking work; with ``cancel`` queued downloads are dropped and running ones stop."""
        if cancel:
            self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=cancel)

    def _download(self, obj: S3Object) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        target = cache_path(self.root, obj.url)
        _private_dirs(self.root, target.parent)
        partial = target.with_name(target.name + ".partial")
        for attempt in range(_BODY_ATTEMPTS):
            try:
                response = self.client.get_object(Bucket=obj.bucket, Key=obj.key)
                received = self._write_body(response["Body"], partial)
                os.replace(partial, target)
                with self._lock:
                    self.objects += 1
                    self.bytes += received
                return str(target)
            except ClientError as err:
                partial.unlink(missing_ok=True)
                raise S3ObjectError(describe_client_error(err)) from None
            except BotoCoreError as err:  # a connection dropped mid-body (botocore retried the request)
                partial.unlink(missing_ok=True)
                fatal = _fatal(err)
                if fatal:
                    raise fatal from None
                if attempt + 1 == _BODY_ATTEMPTS:
                    raise S3ObjectError(f"download failed {_BODY_ATTEMPTS} times: {err}") from None
                time.sleep(0.5 * 2**attempt)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        raise AssertionError("unreachable")

    def _write_body(self, body, partial: Path) -> int:
        received = 0
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            while True:
                if self._stop.is_set():
                    raise S3ObjectError("download stopped")
                chunk = body.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
        return received


def _private_dirs(root: Path, directory: Path) -> None:
    """Create ``directory`` (and ``root``) with 0700 folders."""
    if not directory.is_dir():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
