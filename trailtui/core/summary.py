"""What an index holds, and what to tell a user whose paths gave no events.

:func:`index_summary` reads the counts the loader recorded (the ``files`` and ``load_errors``
tables), so the app's status line, ``trailtui index`` and ``trailtui query`` describe the same
index the same way. :func:`empty_explanation` turns an empty index into a few plain lines: what
was found, why it was skipped, which contents trailtui reads (:data:`SHAPES`, checked against the
decoder by the tests) and ``trailtui --demo``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from trailtui.core.text import plural, printable

#: ``files.outcome`` values the loader records (see ``core.loader``): ``loaded`` (every record
#: read), ``partial`` (some records bad), ``failed`` (nothing usable), ``skipped`` (a CloudTrail
#: digest file, or not CloudTrail).
FILE_OUTCOMES = ("loaded", "partial", "failed", "skipped")


@dataclass(frozen=True)
class SourceShape:
    """One kind of file content trailtui reads: ``description`` for users, and a small
    ``example`` of it (bytes) that the decoder must turn into events (tests check each one)."""

    description: str
    example: bytes


#: What :mod:`trailtui.core.ingest.decode` reads, in the words the empty-index explanation uses. Record
#: and file formats: "CloudTrail log file examples" and "CloudTrail record contents" in the AWS
#: CloudTrail User Guide; lookup-events output: the AWS CLI reference for ``cloudtrail
#: lookup-events``. CloudWatch Logs exports (``<timestamp> <event>`` lines) are not read, so
#: they are not listed.
SHAPES: tuple[SourceShape, ...] = (
    SourceShape(
        'CloudTrail\'s S3 delivery files, {"Records": [...]} (.json.gz as S3 delivers them, or .json)',
        b'{"Records": [{"eventVersion": "1.08", "eventID": "e1", "eventName": "GetObject"}]}',
    ),
    SourceShape(
        "a JSON array of events, or a single event",
        b'[{"eventVersion": "1.08", "eventID": "e1", "eventName": "GetObject"}]',
    ),
    SourceShape(
        'NDJSON: one event (or one {"Records": [...]}) per line',
        b'{"eventID": "e1", "eventName": "GetObject"}\n{"eventID": "e2", "eventName": "PutObject"}\n',
    ),
    SourceShape(
        'the output of "aws cloudtrail lookup-events" ({"Events": [...]})',
        b'{"Events": [{"EventId": "e1", "CloudTrailEvent": "{\\"eventID\\": \\"e1\\", \\"eventName\\": \\"GetObject\\"}"}]}',
    ),
)


@dataclass(frozen=True)
class IndexSummary:
    """What the index holds, as the loader recorded it.

    ``events``: events in the index (each eventID once). ``files``: files by ``files.outcome``
    (:data:`FILE_OUTCOMES`; every outcome present, 0 when none). ``load_errors``: recorded
    problems (a failed file, a bad record, a directory that could not be read).
    ``walk_problems``: those of them about a path rather than a file's content (an unreadable
    directory, a broken link, a link loop). ``duplicates``: copies of an eventID found in
    another file and merged (the first copy kept). ``skipped``: ``(reason, files)`` pairs, most
    files first. Files left unchanged by the last load are a per-load figure
    (``LoadProgress.files_unchanged``), not recorded in the index.
    """

    events: int
    files: dict[str, int]
    load_errors: int
    duplicates: int
    walk_problems: int = 0
    skipped: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    @property
    def files_total(self) -> int:
        """Every file the index knows about, whatever its outcome."""
        return sum(self.files.values())


def index_summary(conn: sqlite3.Connection) -> IndexSummary:
    """Read an :class:`IndexSummary` from the index open on ``conn`` (a few aggregate queries
    over ``files`` and ``load_errors``; the event count is ``count(*)`` of ``events``).
    Raises ``sqlite3.Error`` when the index cannot be read."""
    from trailtui.core.query import total_events

    files = dict.fromkeys(FILE_OUTCOMES, 0)
    duplicates = 0
    for outcome, count, copies in conn.execute("SELECT outcome, count(*), sum(duplicates) FROM files GROUP BY outcome"):
        files[outcome] = count
        duplicates += copies or 0
    skipped = tuple(
        (reason or "skipped", count)
        for reason, count in conn.execute(
            "SELECT reason, count(*) AS files FROM files WHERE outcome = 'skipped' "
            "GROUP BY reason ORDER BY files DESC, reason"
        )
    )
    errors, walk = conn.execute(
        "SELECT count(*), coalesce(sum(file_id IS NULL), 0) FROM load_errors"
    ).fetchone()
    return IndexSummary(
        events=total_events(conn),
        files=files,
        load_errors=errors,
        duplicates=duplicates,
        walk_problems=walk,
        skipped=skipped,
    )


def empty_explanation(summary: IndexSummary, paths: list[str]) -> str | None:
    """A few plain-text lines for an index with no events; None when it has events.

    Names ``paths`` (as the user gave them, control characters escaped), what was found and why
    it gave no events (skipped files grouped by reason, failed files, unreadable paths), which
    contents trailtui reads (:data:`SHAPES`), and ``trailtui --demo``. Plain text, not Rich
    markup: show it as ``rich.text.Text`` or print it.

    >>> print(empty_explanation(IndexSummary(0, {"skipped": 1}, 0, 0, 0, (("not CloudTrail: not JSON", 1),)), ["logs"]))
    ... # doctest: +ELLIPSIS
    No CloudTrail events in logs.
    Found 1 file, none with events:
      1 skipped: not CloudTrail: not JSON
    trailtui reads files of any name, gzipped or not, that hold:
    ...
    To see trailtui on a sample incident, run: trailtui --demo
    """
    if summary.events:
        return None
    lines = [f"No CloudTrail events in {_names(paths)}."]
    found = summary.files_total
    if not found:
        lines.append("Found no files there.")
    else:
        lines.append(f"Found {plural(found, 'file')}, none with events:")
        lines.extend(f"  {count:,} skipped: {printable(reason)}" for reason, count in summary.skipped)
        failed = summary.files.get("failed", 0)
        if failed:
            lines.append(f"  {failed:,} could not be read (listed as load errors)")
        empty = summary.files.get("loaded", 0) + summary.files.get("partial", 0)
        if empty:
            lines.append(f"  {empty:,} held an empty list of events")
    if summary.walk_problems:
        lines.append(f"{plural(summary.walk_problems, 'path')} under them could not be read (listed as load errors).")
    if found or not summary.walk_problems:  # not when nothing could be listed at all
        lines.append("trailtui reads files of any name, gzipped or not, that hold:")
        lines.extend(f"  - {shape.description}" for shape in SHAPES)
    lines.append("To see trailtui on a sample incident, run: trailtui --demo")
    return "\n".join(lines)


def _names(paths: list[str], shown: int = 3) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c and 2 more`` (escaped for the terminal)."""
    names = [printable(path) for path in paths] or ["."]
    if len(names) > shown:
        names = names[:shown] + [f"{len(paths) - shown} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
