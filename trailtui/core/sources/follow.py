"""Following new deliveries: after the first load, index what arrives, round after round.

A follow *round* is one more :func:`trailtui.core.loader.index_paths` over the same paths: it is
incremental by file, so only what is new or changed is read. What differs from a first load is
when rounds run and what they look at:

- **Local trees** (fed by ``aws s3 sync`` in a loop, or a collector): watchfiles (the OS's file
  events: inotify, FSEvents, ReadDirectoryChangesW) starts a round as soon as something changes,
  and a rescan every ``interval`` seconds (at most :data:`LOCAL_RESCAN_SECONDS`) is the source
  of truth, because a watcher misses files written into a directory created just before it was
  watched. Files still being written are held back (:func:`is_being_written`) and looked at
  again :data:`SETTLE_SECONDS` later.
- **S3** (:class:`DeliveryPoll`): every ``interval`` seconds, per account and region folder, the
  current UTC day's folder is listed (and the previous day's in the first hour of a day: late
  deliveries), with ``StartAfter`` a little before the newest key already seen, so each poll
  reads a page of recent keys, not the whole day.

Source of the layout and file names: AWS CloudTrail User Guide, "Finding your CloudTrail log
files" (``ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`` under ``.../YYYY/MM/DD/``).
CloudTrail delivers a file within about 5 minutes of the calls in it (user guide, "How CloudTrail
works"), not necessarily in name order: :data:`LOOKBACK` keeps a margin.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from trailtui.core.sources import layout
from trailtui.core.sources.s3 import (
    LISTING_THREADS,
    Listing,
    ListsAtOnce,
    S3Object,
    S3Options,
    S3Url,
    LayoutWalker,
    is_s3_url,
    make_client,
    parse_s3_url,
)

#: Seconds between S3 polls (``--interval``) unless given.
DEFAULT_INTERVAL = 60.0
#: A local tree is rescanned at least this often (seconds), whatever the interval: a rescan is
#: a walk and a stat per file, and it catches what the watcher missed.
LOCAL_RESCAN_SECONDS = 10.0
#: A local file modified less than this long ago (seconds) may still be growing: held back.
SETTLE_SECONDS = 2.0
#: ``aws s3 sync``/``cp`` download into ``NAME.<8 hex digits>`` and rename when done (s3transfer's
#: ``random_file_extension``): such a file younger than this (seconds) is a download under way.
TEMP_NAME_SECONDS = 300.0
_TEMP_NAME = re.compile(r"\.[0-9A-Fa-f]{8}\Z")
#: How far before the newest key's time a poll starts listing (``StartAfter``).
LOOKBACK = timedelta(minutes=30)
#: In this many first hours of a UTC day, yesterday's folders are polled too.
LATE_DELIVERY_HOURS = 1
#: The account and region folders are listed again after this many seconds (new accounts join
#: an organization, regions are enabled).
REDISCOVER_SECONDS = 900.0
# ACCOUNT_CloudTrail_REGION_20261201T1205Z_UNIQUE.json.gz: the head up to the time stamp.
_STAMPED_KEY = re.compile(r"(?P<head>.*_)(?P<stamp>\d{8}T\d{4}Z)_[^/]*\Z")
_STAMP_FORMAT = "%Y%m%dT%H%MZ"


def is_being_written(path: str, info: os.stat_result, now: float | None = None) -> bool:
    """True when the local file ``path`` (``info``: its ``os.stat``) may not be complete yet:
    modified less than :data:`SETTLE_SECONDS` ago, or named like an ``aws s3 sync`` download
    in progress (``*.1a2B3c4D``) and younger than :data:`TEMP_NAME_SECONDS`. ``now``: epoch
    seconds (default the clock)."""
    now = time.time() if now is None else now
    age = now - info.st_mtime
    if age < SETTLE_SECONDS:
        return True
    return bool(_TEMP_NAME.search(path)) and age < TEMP_NAME_SECONDS


def start_after(newest_key: str) -> str | None:
    """The ``StartAfter`` key for the next poll of a day folder whose newest key so far is
    ``newest_key``: the same name cut at its time stamp, :data:`LOOKBACK` earlier (files are
    not delivered in name order). None for a name without CloudTrail's time stamp: such a
    folder is listed whole each time, since a later file may sort anywhere."""
    match = _STAMPED_KEY.match(newest_key)
    if match is None:
        return None
    try:
        stamp = datetime.strptime(match["stamp"], _STAMP_FORMAT) - LOOKBACK
    except ValueError:
        return None
    return match["head"] + stamp.strftime(_STAMP_FORMAT)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DeliveryPoll(ListsAtOnce):
    """Lists what was delivered lately under ``s3://`` URLs, one poll per :meth:`list` call.

    The same interface as :class:`trailtui.core.sources.s3.WindowListing` (``client``,
    ``stream(urls)``), so :func:`trailtui.core.loader.index_paths` takes it as its lister; objects
    it lists again are recognised there by URL, size and ETag and not downloaded again.
    ``options``: accounts, regions, profile and endpoint (its time window is not used: a poll
    looks at today); ``clock``: returns the current UTC time (tests). ``requests`` counts the S3
    requests made. A listing problem is reported once, not at every poll.
    """

    def __init__(self, options: S3Options, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.options = options
        self.clock = clock
        self.requests = 0
        self._client = None
        self._folders: dict[S3Url, tuple[float, list[tuple[str, bool]]]] = {}
        self._start_after: dict[tuple[str, str], str] = {}
        self._reported: set[tuple[str, str]] = set()
        self._walk_problems: dict[S3Url, list[tuple[str, str]]] = {}
        # A round stopped mid-poll may leave its listing thread running into the next round's.
        self._polling = threading.Lock()

    @property
    def client(self):
        """The boto3 client (made on first use; raises ``S3SourceError`` as ``make_client``)."""
        if self._client is None:
            self._client = make_client(self.options)
        return self._client

    def day_folders(self, url: S3Url) -> list[tuple[str, bool, str | None]]:
        """``(prefix, listed whole, StartAfter or None)`` to list for ``url`` now: the day
        folders of today (and yesterday, early in a day) under each account and region folder,
        and prefixes outside the layout (listed whole, digest and Insights folders left out)."""
        now = self.clock().astimezone(timezone.utc)
        days = [now.date()]
        if now.hour < LATE_DELIVERY_HOURS:
            days.append(now.date() - timedelta(days=1))
        found = []
        for prefix, whole in self._region_folders(url, now.date()):
            if whole:
                found.append((prefix, True, None))
                continue
            position = layout.position_of(prefix)
            for day in days:
                for day_prefix in layout.day_prefixes(layout.region_prefix_of(position), day, day, position):
                    found.append((day_prefix, False, self._start_after.get((url.bucket, day_prefix))))
        return found

    def list(self, urls: list[S3Url]) -> tuple[list[S3Object], list[tuple[str, str]]]:
        """One poll: the objects in the day folders of :meth:`day_folders` for every URL (each
        object once) and the ``(URL, message)`` problems not reported before. Raises
        ``S3SourceError`` when S3 cannot be used at all (credentials expired, say)."""
        with self._polling:
            return self._poll(urls)

    def _poll(self, urls: list[S3Url]) -> tuple[list[S3Object], list[tuple[str, str]]]:
        objects: dict[str, S3Object] = {}
        problems: list[tuple[str, str]] = []
        for url in urls:
            folders = self.day_folders(url)
            problems += self._walk_problems.pop(url, [])
            listing = Listing()
            walker = LayoutWalker(self.client, url.bucket, self.options, self.clock().date(), listing)
            with ThreadPoolExecutor(LISTING_THREADS) as pool:
                pages = list(pool.map(lambda folder: walker.keys_under(*folder), folders))
            for (prefix, _, _), found in zip(folders, pages):
                for obj in found:
                    objects.setdefault(obj.url, obj)
                newest = max((obj.key for obj in found), default=None)
                following = start_after(newest) if newest else None
                if following is not None:
                    self._start_after[(url.bucket, prefix)] = following
            self.requests += listing.requests
            problems += listing.problems
        fresh = [problem for problem in problems if problem not in self._reported]
        self._reported.update(fresh)
        return sorted(objects.values(), key=lambda obj: obj.url), fresh

    def _region_folders(self, url: S3Url, today: date) -> list[tuple[str, bool]]:
        """The account/region folders under ``url`` (walked with delimiter listings, then kept
        for :data:`REDISCOVER_SECONDS`): ``(prefix, outside the layout)`` pairs."""
        known = self._folders.get(url)
        if known is not None and time.monotonic() - known[0] < REDISCOVER_SECONDS:
            return known[1]
        listing = Listing()
        walker = LayoutWalker(self.client, url.bucket, self.options, today, listing, to_regions=True)
        folders = walker.walk(layout.position_of(url.prefix))
        self.requests += listing.requests
        self._walk_problems[url] = listing.problems
        self._folders[url] = (time.monotonic(), folders)
        return folders


def index_files(db_path: str | os.PathLike) -> tuple[str, ...]:
    """Path prefixes of the files an index at ``db_path`` writes beside itself: the index with
    its ``-wal``, ``-shm``, ``.lock`` and ``.shards/``, its S3 cache and its user state (marks)."""
    from trailtui.core.sources.s3 import cache_root
    from trailtui.core.userstate import user_state_path

    db = Path(db_path).absolute()
    return (str(db), str(cache_root(db)) + os.sep, str(user_state_path(db)))


class Follower:
    """Decides when the next round runs, and what it reads.

    ``paths``: local files and directories and ``s3://`` URLs; ``interval``: seconds between
    S3 polls (local trees are rescanned at least every :data:`LOCAL_RESCAN_SECONDS`);
    ``db_path``: the index being written, whose own files (WAL, shards, S3 cache, marks) are not
    news when it lives inside a followed tree; ``clock``: the current UTC time (tests). Raises
    ``S3SourceError`` for a bad ``s3://`` URL.
    """

    def __init__(
        self,
        paths: list[str],
        *,
        s3_options: S3Options | None = None,
        interval: float = DEFAULT_INTERVAL,
        db_path: str | os.PathLike | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.local = [str(path) for path in paths if not is_s3_url(str(path))]
        self.remote = [str(path) for path in paths if is_s3_url(str(path))]
        for url in self.remote:
            parse_s3_url(url)
        self.interval = max(0.1, float(interval))
        self.poll = DeliveryPoll(s3_options or S3Options(), clock=clock) if self.remote else None
        self.ignore = index_files(db_path) if db_path is not None else ()
        self.held = 0  # files held back by the last round
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._next_poll = time.monotonic() + self.interval
        self._watcher: threading.Thread | None = None
        if self.local:
            self._watcher = threading.Thread(target=self._watch, name="trailtui-follow-watch", daemon=True)
            self._watcher.start()

    def next_round(self, stop: threading.Event | None = None) -> list[str] | None:
        """Wait until a round is due and return the paths it reads (the local ones always, the
        S3 URLs when their poll is due); None once ``stop`` is set or :meth:`close` was called.
        A round is due when the watcher saw a change (after a short settling pause), when files
        were held back :data:`SETTLE_SECONDS` ago, at each local rescan, and at each S3 poll."""
        stop = stop or self._stop
        local_every = min(self.interval, LOCAL_RESCAN_SECONDS) if self.local else float("inf")
        if self.held:
            local_every = min(local_every, SETTLE_SECONDS)
        started = time.monotonic()
        while not (stop.is_set() or self._stop.is_set()):
            now = time.monotonic()
            poll_due = self.remote and now >= self._next_poll
            if poll_due or now - started >= local_every:
                break
            if self._changed.is_set():
                self._changed.clear()
                # Changes come in bursts (a sync writes many files): one round for the burst.
                stop.wait(0.5)
                break
            wait = min(self._next_poll - now if self.remote else local_every, local_every - (now - started))
            self._changed.wait(max(0.05, min(wait, 1.0)))
        else:
            return None
        if stop.is_set() or self._stop.is_set():
            return None
        paths = list(self.local)
        if self.remote and time.monotonic() >= self._next_poll:
            paths += self.remote
            self._next_poll = time.monotonic() + self.interval
        return paths

    def hold(self, path: str, info: os.stat_result) -> bool:
        """The ``hold`` of :func:`trailtui.core.loader.index_paths`: :func:`is_being_written`."""
        return is_being_written(path, info)

    def close(self) -> None:
        """Stop waiting and watching."""
        self._stop.set()
        self._changed.set()

    def _watch(self) -> None:
        import watchfiles

        roots = [path for path in self.local if os.path.exists(path)]
        if not roots:
            return

        def news(change, path: str) -> bool:
            return not any(path.startswith(prefix) for prefix in self.ignore)

        try:
            for _ in watchfiles.watch(
                *roots, watch_filter=news, stop_event=self._stop, yield_on_timeout=False,
                ignore_permission_denied=True, raise_interrupt=False,
            ):
                self._changed.set()
        except Exception:  # noqa: BLE001 - no watcher (too many inotify watches, a gone root): rescans still run
            return


def follow(conn, follower: Follower, *, on_round, on_progress=None, stop: threading.Event | None = None,
           workers: int | None = None) -> None:
    """Index round after round into the index open on ``conn`` (a writer connection) until
    ``stop`` is set or ``follower.close()`` is called (Ctrl+C: KeyboardInterrupt propagates,
    between or inside rounds; what was merged stays).

    After each round ``on_round(summary, error)`` is called: ``summary`` is the round's
    :class:`trailtui.core.loader.LoadSummary` (``files_read``, ``events_added``, problems...),
    or None with ``error`` (one line) when the round could not run (S3 unusable: expired
    credentials; a decoder that died); the next round tries again. ``on_progress`` is
    :func:`~trailtui.core.loader.index_paths`'s, for each round. Errors writing the index
    (``sqlite3.Error``, ``OSError``) end following and propagate.
    """
    from trailtui.core.loader import DecoderStopped, index_paths
    from trailtui.core.sources.s3 import S3SourceError

    while True:
        paths = follower.next_round(stop)
        if paths is None:
            return
        if not paths:
            continue
        try:
            summary = index_paths(
                conn, paths, on_progress=on_progress, workers=workers, s3_lister=follower.poll, hold=follower.hold
            )
        except (S3SourceError, DecoderStopped) as err:
            on_round(None, str(err))
            continue
        follower.held = summary.files_held
        on_round(summary, None)
