"""Turn one log file into rows ready for the index: the CPU-bound half of loading.

:func:`prepare_file` runs in the loader's worker processes, each of which writes what it gives
to a shard of its own (:mod:`trailtui.core.store.shard`), so every core decodes and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trailtui.core.ingest.decode import FileProblem, decode_bytes, decode_file, looks_like_log_name, read_log_bytes
from trailtui.core.ingest.extract import event_row, event_text
from trailtui.core.ingest.typed_records import prepare_records


@dataclass
class PreparedFile:
    """One file, decoded and extracted.

    ``outcome`` and ``reason`` as in :class:`trailtui.core.ingest.decode.DecodedFile`. Each entry of
    ``events`` is ``(row, body, kept)``: ``row`` the record column values in
    ``schema.RECORD_COLUMNS`` order (``eventID`` first; ``record_index``,
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
    content (bad files and records are described in the result).

    S3 delivery files (and bare arrays of records) take the typed path
    (:func:`trailtui.core.ingest.typed_records.prepare_records`); every other shape, and any file that
    path declines, gives exactly what :func:`prepare_file_reference` gives. A body may list its
    words in another order than the reference's: the free-text index sees the same words.
    """
    file = Path(path)
    try:
        data = read_log_bytes(file)
    except FileProblem as err:
        return PreparedFile(path, "failed", str(err))
    if "CloudTrail-Digest" in file.name:
        return PreparedFile(path, "skipped", "CloudTrail digest file")
    events = prepare_records(data)
    if events is not None:
        return PreparedFile(path, "events", events=events)
    return _prepared(path, decode_bytes(data, log_name=looks_like_log_name(file)))


def prepare_file_reference(path: str) -> PreparedFile:
    """:func:`prepare_file` through the general decoder only (every record parsed into a dict,
    then ``extract.event_row`` and ``extract.event_text``): the behaviour the typed path must
    match, kept for the equivalence tests and the benchmark (``benchmarks/decode_speed.py``)."""
    return _prepared(path, decode_file(Path(path)))


def _prepared(path: str, decoded) -> PreparedFile:
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
