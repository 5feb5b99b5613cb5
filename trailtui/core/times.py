"""How trailtui shows a time: one format everywhere (list, views, panes, CSV exports, timelines).

CloudTrail's ``eventTime`` is UTC ISO-8601 with a ``Z`` (``2026-03-14T10:00:00Z``; "CloudTrail
record contents", AWS CloudTrail User Guide). trailtui shows it as ``2026-03-14 10:00:00``: the
same instant, always UTC (headers and titles say so), with the year, readable at a glance and
sorted the same way as text. Fractions of a second, where a source has them, are kept.

JSON and NDJSON exports are the original events and keep CloudTrail's own text.

The index stores ``eventTime`` as whole seconds since the Unix epoch (UTC): 4 bytes per event
and per index entry against 20 for the text (issue #10, narrow rows). Everything that reads it
for people goes through :func:`event_time_text_of` (Python) or :func:`event_time_text_sql` (SQL),
and everything that compares with it through :func:`epoch_seconds`.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

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


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Epoch seconds of each minute seen (the loader converts every event's time; most share a minute).
_MINUTES: dict[str, int] = {}


def epoch_seconds(text: str | None) -> int | None:
    """``eventTime`` text in CloudTrail's form (``2026-03-14T10:00:00Z``, as
    ``ingest.extract.normalize_event_time`` gives it) as whole seconds since the Unix epoch
    (UTC), the form the index stores; None for None. Raises ValueError for any other text."""
    if text is None:
        return None
    if len(text) != 20 or text[19] != "Z" or text[10] != "T" or text[16] != ":":
        raise ValueError(f"not an eventTime: {text!r}")
    minute = _MINUTES.get(text[:16])
    if minute is None:
        if len(_MINUTES) > 100_000:  # bounded: a day of events has 1,440 minutes
            _MINUTES.clear()
        moment = datetime.strptime(text[:16], "%Y-%m-%dT%H:%M")
        minute = _MINUTES[text[:16]] = calendar.timegm(moment.timetuple())
    second = text[17:19]
    if not second.isdigit():
        raise ValueError(f"not an eventTime: {text!r}")
    return minute + int(second)


def event_time_text_of(seconds: int | None) -> str | None:
    """Seconds since the Unix epoch (the index's ``eventTime``) as CloudTrail's UTC text
    (``2026-03-14T10:00:00Z``, four-digit year); None for None."""
    if seconds is None:
        return None
    return event_time_text(_EPOCH + timedelta(seconds=seconds))


def event_time_text_sql(expression: str) -> str:
    """SQL turning ``expression`` (epoch seconds, such as ``"eventTime"`` or
    ``min("eventTime")``; trusted text) into CloudTrail's UTC text, NULL for NULL."""
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {expression}, 'unixepoch')"
