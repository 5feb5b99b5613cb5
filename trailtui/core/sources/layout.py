"""The key layout CloudTrail writes to an S3 bucket, and where a user's S3 prefix stops in it.

Source: AWS CloudTrail User Guide, "Finding your CloudTrail log files" (and "CloudTrail log file
examples"): a trail delivers to

    bucket/[trail prefix/]AWSLogs/[O-ID/]ACCOUNT-ID/CloudTrail/REGION/YYYY/MM/DD/FILE.json.gz

with ``O-ID`` present for an organization trail, digest files under ``CloudTrail-Digest/`` and
Insights events under ``CloudTrail-Insight/`` beside ``CloudTrail/``. The folder date is the
delivery date (UTC), not the events' ``eventTime``: an event can land in the next day's folder, so
a time window lists one day more on each side (:func:`days_to_list`).

Pure functions and data: no I/O. :mod:`trailtui.core.sources.s3` walks a bucket with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

#: The folder every trail writes under (after the trail's own key prefix, if any).
AWSLOGS = "AWSLogs"
#: The folder of log files, beside the digest and Insights folders (left out unless asked).
LOG_FOLDER = "CloudTrail"
DIGEST_FOLDER = "CloudTrail-Digest"
INSIGHT_FOLDER = "CloudTrail-Insight"

ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}\Z")
ACCOUNT_ID = re.compile(r"\d{12}\Z")
# us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1, ap-southeast-5, mx-central-1
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}\Z")
_YEAR, _MONTH, _DAY = re.compile(r"\d{4}\Z"), re.compile(r"(0[1-9]|1[0-2])\Z"), re.compile(r"(0[1-9]|[12]\d|3[01])\Z")

#: Levels of the layout, outermost first. ``outside``: a prefix that is not (yet) in the layout
#: (the bucket, a trail prefix), or one that leaves it; it is looked into once for ``AWSLogs/``.
LEVELS = ("outside", "awslogs", "organization", "account", "service", "region", "year", "month", "day")

#: A wider window than this many days is walked folder by folder instead of naming each day.
MAX_NAMED_DAYS = 400


@dataclass(frozen=True)
class LayoutPosition:
    """Where ``prefix`` stops in the layout.

    ``prefix``: the S3 key prefix, ending in ``/`` (or empty: the bucket). ``level``: one of
    :data:`LEVELS`; ``conforms``: False when a folder name breaks the layout (then the prefix
    is listed whole). The other fields are the layout's folders known from the prefix.
    """

    prefix: str
    level: str
    conforms: bool = True
    organization: str | None = None
    account: str | None = None
    region: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None

    def child(self, name: str) -> LayoutPosition:
        """The position one folder deeper, in folder ``name`` (no slashes)."""
        return position_of(self.prefix + name + "/")


def normalise_prefix(prefix: str) -> str:
    """``prefix`` as a folder: leading slashes dropped, a trailing one added (``""`` stays)."""
    prefix = prefix.lstrip("/")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def position_of(prefix: str) -> LayoutPosition:
    """Parse an S3 key prefix (a folder: see :func:`normalise_prefix`) against the layout.

    Without an ``AWSLogs`` folder in it the level is ``outside``. After ``AWSLogs``, each folder
    must have its expected form (organization or account ID, ``CloudTrail``, a region, ``YYYY``,
    ``MM``, ``DD``); one that does not gives ``conforms=False``.
    """
    prefix = normalise_prefix(prefix)
    parts = prefix.split("/")[:-1] if prefix else []
    if AWSLOGS not in parts:
        return LayoutPosition(prefix, "outside")
    after = parts[len(parts) - parts[::-1].index(AWSLOGS) :]
    position = LayoutPosition(prefix, "awslogs")
    broken = replace(position, level="outside", conforms=False)
    steps = iter(after)
    for name in steps:
        if position.level == "awslogs" and ORGANIZATION_ID.match(name):
            position = replace(position, level="organization", organization=name)
        elif position.level in ("awslogs", "organization") and ACCOUNT_ID.match(name):
            position = replace(position, level="account", account=name)
        elif position.level == "account" and name == LOG_FOLDER:
            position = replace(position, level="service")
        elif position.level == "service" and REGION.match(name):
            position = replace(position, level="region", region=name)
        elif position.level == "region" and _YEAR.match(name):
            position = replace(position, level="year", year=int(name))
        elif position.level == "year" and _MONTH.match(name):
            position = replace(position, level="month", month=int(name))
        elif position.level == "month" and _DAY.match(name) and _real_day(position.year, position.month, int(name)):
            position = replace(position, level="day", day=int(name))
        else:
            return broken
    return position


def _real_day(year: int | None, month: int | None, day: int) -> bool:
    try:
        date(year or 2000, month or 1, day)
    except ValueError:
        return False
    return True


def days_to_list(since: date | None, until: date | None, today: date) -> tuple[date | None, date | None]:
    """The delivery days to list for events in ``[since, until]`` (UTC dates; None: open):
    one day of slack on each side, and no later than ``today`` + 1 (a clock ahead of S3's)."""
    first = since - timedelta(days=1) if since else None
    last = min(until + timedelta(days=1), today + timedelta(days=1)) if until else today + timedelta(days=1)
    return first, last


def day_prefixes(region_prefix: str, first: date, last: date, position: LayoutPosition | None = None) -> list[str]:
    """The ``YYYY/MM/DD/`` prefixes under ``region_prefix`` from ``first`` to ``last`` (UTC
    dates, both included), keeping only the days inside ``position``'s year, month and day
    when it stops below the region."""
    found = []
    day = first
    while day <= last:
        if position is None or (
            (position.year is None or position.year == day.year)
            and (position.month is None or position.month == day.month)
            and (position.day is None or position.day == day.day)
        ):
            found.append(f"{region_prefix}{day.year:04d}/{day.month:02d}/{day.day:02d}/")
        day += timedelta(days=1)
    return found


def region_prefix_of(position: LayoutPosition) -> str:
    """The ``.../CloudTrail/REGION/`` part of a position at or below ``region``."""
    parts = position.prefix.split("/")
    depth = {"region": 0, "year": 1, "month": 2, "day": 3}[position.level]
    return "/".join(parts[: len(parts) - 1 - depth]) + "/"


def folder_span(position: LayoutPosition) -> tuple[date, date] | None:
    """The first and last day a ``year``/``month``/``day`` position covers (None above them)."""
    if position.level == "year":
        return date(position.year, 1, 1), date(position.year, 12, 31)
    if position.level == "month":
        following = date(position.year + position.month // 12, position.month % 12 + 1, 1)
        return date(position.year, position.month, 1), following - timedelta(days=1)
    if position.level == "day":
        day = date(position.year, position.month, position.day)
        return day, day
    return None


def is_side_folder_key(key: str) -> bool:
    """True for a key under ``CloudTrail-Digest/`` or ``CloudTrail-Insight/`` (left out of a
    whole listing: digest files are not events, and Insights are asked for separately)."""
    return f"/{DIGEST_FOLDER}/" in f"/{key}" or f"/{INSIGHT_FOLDER}/" in f"/{key}"
