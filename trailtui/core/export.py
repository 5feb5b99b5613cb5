"""Write the events of a query out: CSV, JSON, NDJSON (and the CLI's plain table).

Used by ``trailtui query --format`` and the app's export (Ctrl+S). JSON and NDJSON carry each
original event byte for byte where JSON allows (whitespace between tokens is dropped so an event
fits one line); CSV and the table carry the indexed columns.

Every value is attacker-controlled: CSV cells that a spreadsheet would run as a formula are
neutralised (:func:`csv_cell`), the table escapes control characters and bidi marks
(:func:`trailtui.core.text.printable`), and JSON output is the parsed-and-valid original (JSON
strings cannot hold raw control characters; invalid UTF-8 becomes U+FFFD).
"""

from __future__ import annotations

import csv
import itertools
import os
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from trailtui.core.columns import DEFAULT_LIST_COLUMNS, OUTPUT_COLUMNS, column
from trailtui.core.text import json_text_safe
from trailtui.core.times import shown_time

# A JSON string (kept as is) or a run of whitespace outside strings (removed).
_STRING_OR_SPACE = re.compile(rb'("(?:[^"\\]|\\.)*")|[ \t\r\n]+', re.DOTALL)

#: Formats of :func:`write_events`: the three file formats, then the CLI's table.
FILE_FORMATS: tuple[str, ...] = ("csv", "json", "ndjson")
FORMATS: tuple[str, ...] = (*FILE_FORMATS, "table")

#: Rows the plain table reads before writing its header, to fit each column's width to its
#: values (between ``Column.width`` and ``Column.max_width``).
TABLE_FIT_ROWS = 200

#: :func:`write_events` calls ``progress`` after every this many events (and once at the end).
PROGRESS_EVERY = 500


class ExportCancelled(Exception):
    """Raised (by a ``progress`` callback) to stop :func:`write_events` / :func:`export_to_file`."""


def minify_json(original: bytes) -> bytes:
    """Return ``original`` (one JSON value) on a single line.

    Valid JSON never holds a raw newline inside a string, so an event already on one line is
    returned unchanged (the same bytes). Otherwise (a pretty-printed export) the whitespace between
    tokens is removed and every token, strings and numbers included, keeps its exact bytes.
    """
    if b"\n" not in original and b"\r" not in original:
        return original
    return _STRING_OR_SPACE.sub(lambda match: match.group(1) or b"", original)


def one_line(original: bytes) -> str:
    """The original event as one line of text: :func:`minify_json`, decoded as UTF-8 (invalid
    bytes become U+FFFD, so the line stays valid JSON), with the characters JSON allows raw in
    strings but a terminal must not receive (DEL, C1 controls, bidi marks) written as ``\\uXXXX``
    escapes: the same JSON value (see :func:`trailtui.core.text.json_text_safe`)."""
    return json_text_safe(minify_json(original).decode("utf-8", "replace"))


def csv_cell(value: object) -> str:
    """A CSV cell for ``value``: ``""`` for None; text that a spreadsheet would run as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'``."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def write_events(
    query,
    fmt: str,
    out: TextIO,
    *,
    columns: Iterable[str] | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    terminal: bool = False,
) -> int:
    """Write the events of ``query`` (a :class:`trailtui.core.query.EventQuery`, in its order) to
    the text stream ``out`` and return how many were written.

    ``fmt``: ``csv`` (a header row of ``Column.title``, cells through :func:`csv_cell`, times
    in the one shown format of ``times.shown_time``), ``json`` (one array, an original event per
    line), ``ndjson`` (an original event per line) or ``table`` (plain text for a terminal:
    ``Column.title`` headers, times as ``shown_time``, values escaped with ``printable``, each
    column as wide as its longest value among the first :data:`TABLE_FIT_ROWS` rows, between
    ``Column.width`` and ``Column.max_width``, longer values cut with ``…``). ``columns`` (names
    of ``columns.BY_NAME``) are the CSV/table columns, default ``columns.OUTPUT_COLUMNS`` /
    ``columns.DEFAULT_LIST_COLUMNS``; JSON formats ignore them (they keep the original text). ``limit`` caps the
    count. ``progress(written)`` is called every :data:`PROGRESS_EVERY` events and at the end; it
    may raise :class:`ExportCancelled` to stop (the exception propagates; what was written
    stays). ``terminal``: ``out`` is a terminal, so CSV cells also get control characters and
    bidi marks escaped (``printable``); a CSV file keeps the values as logged. Raises ValueError
    for an unknown format, ``columns.UnknownColumn`` (a ValueError) for an unknown column, and
    ``originals.OriginalUnavailable`` when a log file changed since it was indexed (JSON formats).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    written = 0

    def tick() -> None:
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written)

    if fmt in ("json", "ndjson"):
        if fmt == "json":
            out.write("[")
        for original in query.iter_originals(limit):
            line = one_line(original)
            if fmt == "json":
                out.write(("," if written else "") + "\n" + line)
            else:
                out.write(line + "\n")
            written += 1
            tick()
        if fmt == "json":
            out.write("\n]\n")
    elif fmt == "csv":
        chosen = [column(name) for name in (columns or OUTPUT_COLUMNS)]
        writer = csv.writer(out)
        writer.writerow([chosen_column.title for chosen_column in chosen])
        if terminal:
            from trailtui.core.text import printable

            def cell(value: object) -> str:
                return csv_cell(printable(value) if value is not None else None)
        else:
            cell = csv_cell
        times = [chosen_column.kind == "time" for chosen_column in chosen]
        for row in query.iter_rows([chosen_column.name for chosen_column in chosen], limit):
            writer.writerow([cell(shown_time(value) if is_time else value) for value, is_time in zip(row, times)])
            written += 1
            tick()
    else:
        from trailtui.core.text import printable

        chosen = [column(name) for name in (columns or DEFAULT_LIST_COLUMNS)]
        rows = query.iter_rows([chosen_column.name for chosen_column in chosen], limit)

        def cells(row: tuple) -> list[str]:
            return [
                printable(shown_time(value) if chosen_column.kind == "time" else value)
                for value, chosen_column in zip(row, chosen)
            ]

        # The widths fit the first rows' values (streamed output cannot wait for the last).
        first = [cells(row) for row in itertools.islice(rows, TABLE_FIT_ROWS)]
        widths = [
            min(shown.max_width, max(shown.width, len(shown.title), *(len(line[i]) for line in first)))
            for i, shown in enumerate(chosen)
        ]
        out.write("  ".join(_fit(shown.title, width) for shown, width in zip(chosen, widths)).rstrip() + "\n")
        for line in itertools.chain(first, map(cells, rows)):
            out.write("  ".join(_fit(text, width) for text, width in zip(line, widths)).rstrip() + "\n")
            written += 1
            tick()
    if progress is not None:
        progress(written)
    return written


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def default_export_path(fmt: str, now: datetime | None = None, directory: Path | str = ".") -> Path:
    """``<directory>/trailtui-export-<UTC time>.<fmt>``, e.g. ``trailtui-export-20260314T101500Z.csv``
    (``now`` defaults to the current time)."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return Path(directory) / f"trailtui-export-{moment.strftime('%Y%m%dT%H%M%SZ')}.{fmt}"


def partial_path(path: Path) -> Path:
    """Where :func:`export_to_file` writes until it is done: ``<path>.partial``."""
    return path.with_name(path.name + ".partial")


def export_to_file(
    query,
    fmt: str,
    path: Path | str,
    *,
    columns: Iterable[str] | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    terminal: bool = False,
) -> int:
    """Write the events of ``query`` to the file ``path`` in ``fmt`` (one of
    :data:`FILE_FORMATS`, see :func:`write_events`); returns the number of events.

    The events go to :func:`partial_path` first, which is renamed to ``path`` only when complete,
    so a cancelled (:class:`ExportCancelled`) or failed export leaves no half-written file under
    the chosen name: the partial file is removed and the exception re-raised. The new file is
    created with mode 0600 (these are security logs). Raises OSError when the file cannot be
    written, ValueError for an unknown format.
    """
    if fmt not in FILE_FORMATS:
        raise ValueError(f"unknown file format {fmt!r}: one of {', '.join(FILE_FORMATS)}")
    target = Path(path).expanduser()
    partial = partial_path(target)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="" if fmt == "csv" else None) as out:
            count = write_events(query, fmt, out, columns=columns, limit=limit, progress=progress)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
