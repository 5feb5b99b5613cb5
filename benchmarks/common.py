"""Shared by the harness and its subprocess workers: the questions asked and timing statistics.

Standard library only, so the app probe and the workers start as fast as trailtui itself.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path

#: The issue's four field filters, with the same question asked of DuckDB's table (a WHERE clause
#: over the columns ``read_json`` infers; trailtui compares case-insensitively, so does this).
FIELD_FILTERS: tuple[tuple[str, str], ...] = (
    ("name:GetObject", "lower(\"eventName\") = 'getobject'"),
    (
        "actor:*alice*",
        "(userIdentity.arn ILIKE '%alice%' OR userIdentity.userName ILIKE '%alice%' "
        "OR userIdentity.principalId ILIKE '%alice%')",
    ),
    # DuckDB's inet extension is not bundled (it is downloaded on first use); for dotted IPv4
    # a /24 is the same as this prefix.
    ("ip:198.51.100.0/24", "\"sourceIPAddress\" LIKE '198.51.100.%'"),
    (
        "bucket:prod-data is:error",
        "lower(requestParameters.bucketName) = 'prod-data' AND coalesce(\"errorCode\", '') <> ''",
    ),
)

#: Words that ``gen_cloudtrail.py`` emits, common to rare. The harness adds one that occurs once
#: (an access key ID read from the corpus: free text leaves requestID out), the needle an
#: investigator pastes.
FREE_TEXT_WORDS: tuple[str, ...] = ("alice", "terraform", "185.220.101.5", "throttl*")

#: The jq peer answers this filter only (one pass over the whole corpus per question).
JQ_FILTER = ("name:GetObject", '.Records[] | select(.eventName=="GetObject")')

#: DuckDB's first screen: the list's columns, newest first, like the app's event list. (The time
#: is fetched as text, as trailtui stores it: a TIMESTAMPTZ would need pytz in Python.)
DUCKDB_SCREEN_COLUMNS = (
    'CAST("eventTime" AS VARCHAR), "eventName", "eventSource", userIdentity.arn, "sourceIPAddress", "awsRegion", '
    'requestParameters.bucketName, "errorCode"'
)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize_ms(samples_s: list[float]) -> dict:
    """Median, p95, min and max in milliseconds of samples in seconds."""
    if not samples_s:
        return {"n": 0}
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": percentile(ms, 0.95),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def time_repeated(fn: Callable[[], object], *, reps: int, warmup: int = 1, budget_s: float = 30.0, min_reps: int = 3):
    """Call ``fn`` ``warmup`` times untimed, then up to ``reps`` times timed.

    Stops early once ``budget_s`` seconds of timed calls have passed and at least ``min_reps``
    were made (a slow query at a million events must not take the whole run). Returns
    ``(summary, last result)``; the summary's ``n`` says how many calls were timed.
    """
    result = None
    for _ in range(warmup):
        result = fn()
    samples: list[float] = []
    spent = 0.0
    for _ in range(reps):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        samples.append(elapsed)
        spent += elapsed
        if spent >= budget_s and len(samples) >= min_reps:
            break
    summary = summarize_ms(samples)
    summary["truncated"] = len(samples) < reps
    return summary, result


def write_json(path: str | Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str))


def text_table(headers: tuple[str, ...], rows: list[tuple[str, ...]], caps: tuple[int, ...]) -> str:
    """``rows`` under ``headers`` as a plain-text table: columns padded to their widest cell,
    each cell cut to its column's cap with an ellipsis, a ``-+-`` rule under the headers."""
    cells = [tuple(_cap(text, cap) for text, cap in zip(row, caps)) for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        lines.append(" | ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip())
        if number == 0:
            lines.append("-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def _cap(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[: cap - 1] + "…"
