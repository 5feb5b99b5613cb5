"""Write the incident timeline out: Markdown for the report, CSV for a spreadsheet, and the
original events as NDJSON beside them.

The timeline is the marked events in time order (:func:`trailtui.core.marks.incident_timeline`):
time, ``eventName``, actor, ``sourceIPAddress``, resource, the user's note, and the ``eventID``
that ties a row to its original in the NDJSON file. Times are shown as everywhere else
(:func:`trailtui.core.times.shown_time`, UTC).

Every cell but the note is log text an attacker may have chosen, and a note may hold pasted log
text: in Markdown each cell has control characters and bidi marks made visible
(:func:`trailtui.core.text.printable`, so a newline cannot end a table row), the characters
Markdown gives a meaning (``|`` ends a cell, backticks, ``*``, ``_``, ``[``...) backslash-escaped
and HTML's ``<``, ``>``, ``&`` written as entities (:func:`markdown_cell`); in CSV a cell a
spreadsheet would run as a formula is neutralised (:func:`trailtui.core.export.csv_cell`).
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TextIO

from trailtui.core.export import csv_cell, one_line, partial_path
from trailtui.core.marks import TimelineEntry, incident_timeline
from trailtui.core.store.originals import OriginalUnavailable
from trailtui.core.query import original_event, original_events
from trailtui.core.text import printable
from trailtui.core.times import shown_time, utc_now_text

#: The timeline's columns: (TimelineEntry attribute, header). Headers are CloudTrail's names
#: (``actor``, ``resource`` and ``note`` are trailtui's); the time is shown in UTC.
TIMELINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventTime", "eventTime (UTC)"),
    ("eventName", "eventName"),
    ("actor", "actor"),
    ("sourceIPAddress", "sourceIPAddress"),
    ("resource", "resource"),
    ("note", "note"),
    ("eventID", "eventID"),
)

#: The formats :func:`write_timeline` writes, and the suffix each gets in :func:`export_timeline`.
TIMELINE_FORMATS: dict[str, str] = {"md": ".md", "csv": ".csv", "ndjson": ".ndjson"}

#: Shown in the time cell of a marked event that is no longer in the index (Markdown only).
NOT_IN_INDEX = "(not in the index)"

# Markdown's inline punctuation that could start markup in a table cell (CommonMark lets any
# ASCII punctuation be backslash-escaped; GFM tables end a cell at an unescaped '|').
_MARKDOWN_PUNCTUATION = re.compile(r"[\\`*_\[\]|~]")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML_CHARS = re.compile("[&<>]")


def markdown_cell(value: object) -> str:
    """``value`` as the text of one Markdown (GFM) table cell that shows it literally: control
    characters, newlines and bidi marks made visible (``printable``: ``\\x0a``), Markdown
    punctuation (``\\ ` * _ [ ] | ~``) backslash-escaped, ``< > &`` as HTML entities. None gives
    ``""``. Never raises."""
    text = printable(value)
    text = _MARKDOWN_PUNCTUATION.sub(lambda match: "\\" + match.group(), text)
    return _HTML_CHARS.sub(lambda match: _HTML[match.group()], text)


def _cells(entry: TimelineEntry) -> list[object]:
    return [shown_time(entry.eventTime) if name == "eventTime" else getattr(entry, name) for name, _ in TIMELINE_COLUMNS]


def write_timeline_markdown(entries: Sequence[TimelineEntry], out: TextIO, *, footer: Iterable[str] = ()) -> None:
    """Write ``entries`` to the text stream ``out`` as a Markdown document: a title, one line
    saying how many events and when it was exported (UTC), a GFM table with the
    :data:`TIMELINE_COLUMNS`, then each line of ``footer`` (trailtui's own text, e.g. where the
    originals are; escaped too) as a list item. Every cell goes through :func:`markdown_cell`.
    A marked event no longer in the index shows :data:`NOT_IN_INDEX` as its time."""
    count = len(entries)
    out.write("# Incident timeline\n\n")
    out.write(
        f"{count} marked event{'s' if count != 1 else ''}, oldest first; times in UTC. "
        f"Exported {shown_time(utc_now_text())} UTC by trailtui.\n\n"
    )
    out.write("| " + " | ".join(title for _, title in TIMELINE_COLUMNS) + " |\n")
    out.write("|" + "---|" * len(TIMELINE_COLUMNS) + "\n")
    for entry in entries:
        cells = [markdown_cell(cell) for cell in _cells(entry)]
        if entry.id is None:
            cells[0] = markdown_cell(NOT_IN_INDEX)
        out.write("| " + " | ".join(cells) + " |\n")
    lines = list(footer)
    if lines:
        out.write("\n")
        for line in lines:
            out.write(f"- {markdown_cell(line)}\n")


def write_timeline_csv(entries: Sequence[TimelineEntry], out: TextIO, *, terminal: bool = False) -> None:
    """Write ``entries`` to ``out`` as CSV: a header row of the :data:`TIMELINE_COLUMNS` titles
    (``eventTime (UTC)``, ``eventName``, ``actor``, ``sourceIPAddress``, ``resource``, ``note``,
    ``eventID``), then one row per entry, each cell through :func:`~trailtui.core.export.csv_cell`
    (a cell starting ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'``). Unknown fields
    of an event no longer in the index are empty. ``terminal``: ``out`` is a terminal, so cells
    also get control characters escaped (``printable``). Open a file with ``newline=""``."""
    writer = csv.writer(out)
    writer.writerow([title for _, title in TIMELINE_COLUMNS])
    for entry in entries:
        cells = _cells(entry)
        if terminal:
            cells = [printable(cell) if cell is not None else None for cell in cells]
        writer.writerow([csv_cell(cell) for cell in cells])


def timeline_originals(index_conn: sqlite3.Connection, entries: Sequence[TimelineEntry]) -> tuple[list[str], list[str]]:
    """The original events of ``entries`` as NDJSON lines (``export.one_line``: each event on one
    line, byte for byte where JSON allows, without a newline), in timeline order, and the
    problems: one line (escaped with ``printable``) per entry whose original cannot be attached,
    because the event is no longer in the index or its log file changed or vanished since it was
    indexed (``originals.OriginalUnavailable``). Never raises for one event's sake."""
    wanted = [entry for entry in entries if entry.id is not None]
    originals: dict[int, bytes] = {}
    failures: dict[int, str] = {}
    try:
        originals = dict(original_events(index_conn, [entry.id for entry in wanted]))
    except OriginalUnavailable:
        originals = {}
        for entry in wanted:  # one by one, to attach every original that is still readable
            try:
                original = original_event(index_conn, entry.id)
            except OriginalUnavailable as err:
                failures[entry.id] = str(err)
                continue
            if original is not None:
                originals[entry.id] = original
    lines: list[str] = []
    problems: list[str] = []
    for entry in entries:
        if entry.id is not None and entry.id in originals:
            lines.append(one_line(originals[entry.id]))
            continue
        reason = failures.get(entry.id) if entry.id is not None else None
        reason = reason or "the event is no longer in the index"
        problems.append(f"eventID {printable(entry.eventID)}: original not attached: {printable(reason)}")
    return lines, problems


def write_timeline(index_conn: sqlite3.Connection, fmt: str, out: TextIO, *, terminal: bool = False) -> list[str]:
    """Write the incident timeline of the index on ``index_conn`` to ``out`` in ``fmt`` (one of
    :data:`TIMELINE_FORMATS`: ``md``, ``csv``, or ``ndjson`` for the original events, one per
    line). Returns the problems (see :func:`timeline_originals`; only ``ndjson`` has any).
    ``terminal``: ``out`` is a terminal (CSV cells escaped too). Raises ValueError for another
    format."""
    if fmt not in TIMELINE_FORMATS:
        raise ValueError(f"unknown timeline format {fmt!r}: one of {', '.join(TIMELINE_FORMATS)}")
    entries = incident_timeline(index_conn)
    if fmt == "md":
        write_timeline_markdown(entries, out)
        return []
    if fmt == "csv":
        write_timeline_csv(entries, out, terminal=terminal)
        return []
    lines, problems = timeline_originals(index_conn, entries)
    for line in lines:
        out.write(line + "\n")
    return problems


def timeline_paths(base: os.PathLike | str) -> list[Path]:
    """The files :func:`export_timeline` writes for ``base``: ``base.md``, ``base.csv``,
    ``base.ndjson`` (the suffix is appended: ``case-42.v2`` → ``case-42.v2.md``)."""
    base = Path(base).expanduser()
    return [base.with_name(base.name + suffix) for suffix in TIMELINE_FORMATS.values()]


def export_timeline(
    index_conn: sqlite3.Connection, base: os.PathLike | str, *, on_problem: Callable[[str], None] | None = None
) -> list[Path]:
    """Write the incident timeline of the index on ``index_conn`` to ``base.md``, ``base.csv``
    and ``base.ndjson`` (:func:`timeline_paths`) and return those paths.

    Each file is written to ``<file>.partial`` (mode 0600: these are security records) and all
    three are renamed into place only once all are complete, so a failure or Ctrl+C leaves no
    half-written file under the chosen names (the partial files are removed and the exception
    re-raised). The Markdown ends with where the originals are and, for each original that could
    not be attached (see :func:`timeline_originals`), why; ``on_problem(line)`` is also called
    with each of those lines. Raises OSError when a file cannot be written.
    """
    entries = incident_timeline(index_conn)
    lines, problems = timeline_originals(index_conn, entries)
    md_path, csv_path, ndjson_path = paths = timeline_paths(base)
    footer = [f"The original events, one per line: {ndjson_path.name} ({len(lines)} of {len(entries)})", *problems]
    writers: list[tuple[Path, Callable[[TextIO], None]]] = [
        (md_path, lambda out: write_timeline_markdown(entries, out, footer=footer)),
        (csv_path, lambda out: write_timeline_csv(entries, out)),
        (ndjson_path, lambda out: out.writelines(line + "\n" for line in lines)),
    ]
    partials: list[Path] = []
    try:
        for path, write in writers:
            partial = partial_path(path)
            partials.append(partial)
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            # newline="": lines end as written ("\n"; CSV rows "\r\n", as the csv module writes them).
            with open(descriptor, "w", encoding="utf-8", newline="") as out:
                write(out)
        for (path, _), partial in zip(writers, partials):
            os.replace(partial, path)
    except BaseException:
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise
    for problem in problems:
        if on_problem is not None:
            on_problem(problem)
    return paths
