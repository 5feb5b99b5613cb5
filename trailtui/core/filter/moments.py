"""Moments typed in a filter (``since:``, ``until:``, go to time): ISO dates and times, or ``-2h``,
``-7d`` back from now, as ``eventTime``'s UTC ISO-8601 text."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from dateutil.parser import isoparse, isoparser

from trailtui.core.filter.nodes import FilterError, _Value


_RELATIVE = re.compile(r"-(\d{1,9})([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TIME_EXPECTED = "an ISO date or time (2021-07-28, 2021-07-28T10:00, 2021-07-28T10:00:00+02:00) or -90s, -30m, -2h, -7d, -1w"
_ISO_DATE = isoparser()


def parse_time(text: str, *, now: datetime | None = None) -> str:
    """A moment typed by the user (go to time), as ``eventTime``'s UTC ISO-8601 text
    (``2026-03-14T10:00:00Z``): the syntax of ``since:`` (an ISO date or date-time, UTC unless it
    carries an offset, the date and time may be separated by a space as the list shows them;
    or ``-90s``, ``-30m``, ``-2h``, ``-7d``, ``-1w`` back from ``now``, default the current
    time). A date alone is the start of that day. Raises :class:`FilterError` whose position is
    where the time starts in ``text`` (surrounding spaces are ignored)."""
    now = datetime.now(timezone.utc) if now is None else _as_utc(now)
    stripped = text.strip()
    position = len(text) - len(text.lstrip())
    if not stripped:
        raise FilterError(position, _TIME_EXPECTED)
    return _time_bound(_Value((stripped,), position), now, until=False)


def _time_bound(value: _Value, now: datetime, *, until: bool) -> str:
    """The ``eventTime`` bound (``YYYY-MM-DDTHH:MM:SSZ``) of a since/until value."""
    if value.wild:
        raise FilterError(value.position, _TIME_EXPECTED)
    text = value.literal
    try:
        relative = _RELATIVE.fullmatch(text)
        if relative:
            amount, unit = relative.groups()
            moment = now - timedelta(seconds=int(amount) * _UNIT_SECONDS[unit.lower()])
        else:
            moment = _absolute_time(text, until=until)
        return _utc_text(moment)
    except (ValueError, OverflowError):
        raise FilterError(value.position, _TIME_EXPECTED) from None


def _absolute_time(text: str, *, until: bool) -> datetime:
    """An ISO date or date-time as an aware datetime. A date alone is the start of its period
    (day, ISO week, month or year), or for ``until`` the start of the next period, so the whole
    date is included. Raises ValueError."""
    try:
        day = _ISO_DATE.parse_isodate(text)
    except ValueError:
        day = None
    if day is None:
        return _as_utc(isoparse(text))
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    if not until:
        return start
    if re.fullmatch(r"\d{4}", text):
        return start.replace(year=start.year + 1)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    if re.fullmatch(r"\d{4}-?W\d{2}", text, re.IGNORECASE):
        return start + timedelta(weeks=1)
    return start + timedelta(days=1)


def _as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _utc_text(moment: datetime) -> str:
    """``eventTime``'s format. Fractions round up: eventTime has whole seconds, and an event at
    second S is at or after T.f (and before it) exactly when S >= ceil(T.f)."""
    moment = _as_utc(moment)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )
