"""How trailtui shows a time: one format everywhere (list, views, panes, CSV exports, timelines).

CloudTrail's ``eventTime`` is UTC ISO-8601 with a ``Z`` (``2026-03-14T10:00:00Z``; "CloudTrail
record contents", AWS CloudTrail User Guide). trailtui shows it as ``2026-03-14 10:00:00``: the
same instant, always UTC (headers and titles say so), with the year, readable at a glance and
sorted the same way as text. Fractions of a second, where a source has them, are kept.

JSON and NDJSON exports are the original events and keep CloudTrail's own text.
"""

from __future__ import annotations

from datetime import datetime, timezone

#: Cells :func:`shown_time` takes for a whole-second time.
TIME_WIDTH = 19


def shown_time(value: str | None) -> str:
    """``2026-03-14T10:00:00Z`` → ``2026-03-14 10:00:00`` (UTC); ``2026-03-14T10:00:00.123Z`` →
    ``2026-03-14 10:00:00.123``. None or ``""`` gives ``""``; a value that is not an ISO-8601
    time is returned as it is (the caller escapes it like any log text)."""
    if not value:
        return ""
    if len(value) >= 19 and value[10:11] == "T" and value[4:5] == "-" and value[13:14] == ":":
        return value[:10] + " " + value[11:].removesuffix("Z")
    return value


def shown_minute(value: str | None) -> str:
    """:func:`shown_time` to the minute (``2026-03-14 10:00``), for narrow columns of views."""
    return shown_time(value)[:16]


def event_time_text(moment: datetime) -> str:
    """A moment as CloudTrail writes ``eventTime``: ``datetime(2026, 3, 14, 10, tzinfo=timezone.utc)``
    → ``2026-03-14T10:00:00Z`` (converted to UTC, whole seconds, four-digit year).

    Raises ValueError for a naive ``datetime`` (a time without zone is ambiguous).
    """
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: give it a tzinfo (CloudTrail times are UTC)")
    utc = moment.astimezone(timezone.utc)
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def utc_now_text() -> str:
    """The current time as trailtui stores times it records itself (when an event was marked, a
    filter used): CloudTrail's ``eventTime`` format, UTC ISO-8601 to the second
    (``2026-03-14T10:00:00Z``), so they sort and show like event times."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
