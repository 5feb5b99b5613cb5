"""Turn one log file into rows ready for the index: the CPU-bound half of loading.

:func:`prepare_file` runs in decoder processes (see :mod:`trailtui.core.loader`), so several
files are gunzipped, parsed and extracted in parallel while one writer inserts. Its result is
plain tuples and strings, cheap to pickle back to the writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trailtui.core.decode import decode_file
from trailtui.core.extract import event_row, event_text


@dataclass
class PreparedFile:
    """One file, decoded and extracted.

    ``outcome`` and ``reason`` as in :class:`trailtui.core.decode.DecodedFile`. Each entry of
    ``events`` is ``(row, body, kept)``: ``row`` the ``events`` column values in
    ``schema.EVENT_COLUMNS`` order without ``file_id`` (``eventID`` first; ``record_index``,
    ``raw_offset``, ``raw_length`` last), ``body`` the free-text body, and ``kept`` the original
    bytes when they are not a span of the file (else None). ``record_errors`` are ``(position,
    message)`` pairs.
    """

    path: str
    outcome: str
    reason: str | None = None
    events: list[tuple[tuple, str, bytes | None]] = field(default_factory=list)
    record_errors: list[tuple[str, str]] = field(default_factory=list)


def prepare_file(path: str) -> PreparedFile:
    """Decode ``path`` and extract every event's row and free-text body. Never raises for bad
    content (bad files and records are described in the result)."""
    decoded = decode_file(Path(path))
    prepared = PreparedFile(path, decoded.outcome, decoded.reason, record_errors=decoded.record_errors)
    events = prepared.events
    for record in decoded.records:
        row = event_row(record.event, record.original)
        if record.offset is not None:
            tail = (record.index, record.offset, len(record.original))
            kept = None
        else:
            tail = (record.index, None, None)
            kept = record.original
        events.append((row + tail, event_text(record.event), kept))
    return prepared


def prepare_files(paths: list[str]) -> list[PreparedFile]:
    """:func:`prepare_file` for each path, in order: one decoder task for a batch of small files."""
    return [prepare_file(path) for path in paths]
