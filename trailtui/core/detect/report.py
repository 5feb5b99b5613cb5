"""``trailtui detect``'s output: the detections of an index as a table, CSV, JSON or NDJSON.

``table`` prints one line per rule with hits (level, title, hits, first and last hit, top
actors, ATT&CK tactics), the way Chainsaw and Hayabusa summarise a run; ``ndjson`` and ``csv``
one line per (rule, event) hit, for piping into other tools; ``json`` one array of rules, each
with its hits. Every value from a log (actors, and the rule files' own text, which a user may
have downloaded) is escaped for a terminal (``text.printable``) in ``table``, and neutralised
for spreadsheets in ``csv`` (``export.csv_cell``).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from typing import TextIO

from trailtui.core.detect.runner import Detection
from trailtui.core.export import csv_cell
from trailtui.core.text import printable
from trailtui.core.times import shown_time

#: ``--format`` choices of ``trailtui detect``.
FORMATS = ("table", "csv", "json", "ndjson")
#: The per-hit fields of ``ndjson``, ``csv`` and ``json``, in order.
HIT_FIELDS = ("rule_id", "rule_title", "level", "tags", "eventID", "eventTime", "eventName", "eventSource",
              "actor", "sourceIPAddress", "recipientAccountId")
_EVENT_COLUMNS = ["eventID", "eventTime", "eventName", "eventSource", "actor", "sourceIPAddress", "recipientAccountId"]


def hits_of(conn: sqlite3.Connection, detection: Detection, *, limit: int | None = None) -> Iterator[dict]:
    """The events ``detection`` hits, oldest first, each as a dict of :data:`HIT_FIELDS`
    (``eventTime`` UTC ISO-8601, ``tags`` a list). Runs the rule's filter on the index, so
    informational rules (whose hits are not listed in the index) have them too."""
    from trailtui.core.filter import compile_filter
    from trailtui.core.query import EventQuery

    query = EventQuery(conn, compile_filter(detection.filter), newest_first=False)
    for row in query.iter_rows(_EVENT_COLUMNS, limit):
        values = dict(zip(_EVENT_COLUMNS, row))
        yield {"rule_id": detection.id, "rule_title": detection.title, "level": detection.level,
               "tags": list(detection.tags), **values}


def top_actors(conn: sqlite3.Connection, detection: Detection, count: int = 3) -> list[tuple[str, int]]:
    """The ``count`` actors with the most hits of ``detection``: ``(actor, hits)``, most first."""
    from trailtui.core.filter import compile_filter

    compiled = compile_filter(detection.filter)
    rows = conn.execute(
        f"SELECT actor, count(*) AS n FROM events WHERE {compiled.where} GROUP BY actor ORDER BY n DESC, actor LIMIT ?",
        (*compiled.params, count),
    )
    return [(str(actor or "-"), hits) for actor, hits in rows]


def write_detections(conn: sqlite3.Connection, detections: list[Detection], fmt: str, out: TextIO) -> int:
    """Write ``detections`` (in their order) to ``out`` as ``fmt`` (one of :data:`FORMATS`);
    returns the number of lines of hits written (``table``: of rules). Raises ValueError for
    an unknown format and ``originals.OriginalUnavailable`` as the index does."""
    if fmt == "table":
        return _write_table(conn, detections, out)
    if fmt == "ndjson":
        written = 0
        for detection in detections:
            for hit in hits_of(conn, detection):
                out.write(json.dumps(hit, ensure_ascii=True) + "\n")
                written += 1
        return written
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(HIT_FIELDS)
        written = 0
        for detection in detections:
            for hit in hits_of(conn, detection):
                writer.writerow([csv_cell(" ".join(value) if isinstance(value, list) else value)
                                 for value in hit.values()])
                written += 1
        return written
    if fmt == "json":
        written = 0
        out.write("[")
        for number, detection in enumerate(detections):
            hits = [{key: value for key, value in hit.items() if key not in ("rule_id", "rule_title", "level", "tags")}
                    for hit in hits_of(conn, detection)]
            written += len(hits)
            record = {"rule_id": detection.id, "name": detection.name, "rule_title": detection.title,
                      "level": detection.level, "tags": list(detection.tags), "tactics": list(detection.tactics),
                      "filter": detection.filter, "path": detection.path, "hits": hits}
            out.write(("," if number else "") + "\n" + json.dumps(record, ensure_ascii=True))
        out.write("\n]\n")
        return written
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def _write_table(conn: sqlite3.Connection, detections: list[Detection], out: TextIO) -> int:
    header = ("LEVEL", "HITS", "FIRST SEEN", "LAST SEEN", "RULE", "TACTICS", "TOP ACTORS")
    rows = []
    for detection in detections:
        actors = ", ".join(f"{actor} ({hits})" for actor, hits in top_actors(conn, detection))
        rows.append((detection.level, f"{detection.hits:,}", shown_time(detection.first_seen),
                     shown_time(detection.last_seen), detection.title, ", ".join(detection.tactics) or "-", actors))
    shown = [[printable(cell) for cell in row] for row in rows]
    limits = (13, 9, 19, 19, 60, 40, 80)
    widths = [min(limit, max(len(title), *(len(row[i]) for row in shown))) if shown else len(title)
              for i, (title, limit) in enumerate(zip(header, limits))]

    def line(cells) -> str:
        fitted = [text if len(text) <= width else text[: width - 1] + "…" for text, width in zip(cells, widths)]
        # HITS right-aligned, like the numbers of any table.
        return "  ".join(text.rjust(width) if i == 1 else text.ljust(width)
                         for i, (text, width) in enumerate(zip(fitted, widths))).rstrip()

    out.write(line(header) + "\n")
    for row in shown:
        out.write(line(row) + "\n")
    return len(rows)
