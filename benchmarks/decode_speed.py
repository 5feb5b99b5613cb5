"""Decoder speed per event: the reference path against the typed path, on the same files.

    python -m benchmarks.decode_speed CORPUS [--files N] [--reps K]

CORPUS is a folder of CloudTrail log files (e.g. ``gen_cloudtrail.py /tmp/dec100k --events 100000
--seed 7``). Every file is read into memory once; then each phase is timed over all files, best
of K runs of CPU time (``time.process_time``: other processes on the machine disturb it less
than wall time), and printed in microseconds per event:

* reference: gunzip with the stdlib's zlib, ``decode.decode_bytes`` (every record parsed into a
  dict by orjson, each record's bytes found by search), ``extract.event_row``,
  ``extract.event_text`` — what ``ingest.prepare_file_reference`` does;
* typed: gunzip with ISA-L (``isal``, zlib where it is missing), ``typed_records.prepare_records``
  with and without the free-text bodies (the body column is the difference) — what
  ``ingest.prepare_file`` does.

The last column is typed / reference (below 1: the typed path is faster). The files where the
typed path declined (and ``prepare_file`` takes the reference path) are counted.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import zlib
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `trailtui` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import text_table  # noqa: E402
from trailtui.core.ingest import decode  # noqa: E402
from trailtui.core.ingest.extract import event_row, event_text  # noqa: E402
from trailtui.core.ingest.typed_records import prepare_records  # noqa: E402


def _best(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        gc.collect()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _gunzip_with(inflate_lib, blobs: list[bytes]) -> None:
    saved = decode._inflate_lib
    decode._inflate_lib = inflate_lib
    try:
        for blob in blobs:
            if blob[:2] == b"\x1f\x8b":
                decode._gunzip(blob, decode.MAX_FILE_BYTES)
    finally:
        decode._inflate_lib = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--files", type=int, default=0, help="only the first N files (sorted by path)")
    parser.add_argument("--reps", type=int, default=5, help="timed runs of each phase (the best is kept)")
    args = parser.parse_args(argv)
    paths = sorted(path for path in args.corpus.rglob("*") if path.is_file() and "CloudTrail-Digest" not in path.name)
    if args.files:
        paths = paths[: args.files]
    blobs = [path.read_bytes() for path in paths]
    contents = [decode.read_log_bytes(path) for path in paths]
    decoded = [decode.decode_bytes(data) for data in contents]
    events = sum(len(file.records) for file in decoded)
    declined = sum(prepare_records(data) is None for data in contents)
    if not events:
        print(f"no events under {args.corpus}", file=sys.stderr)
        return 1
    print(f"{len(paths)} files, {events:,} events, {sum(map(len, contents)) / events:,.0f} bytes/event; "
          f"typed path declined {declined} files; best of {args.reps} runs (CPU time)", file=sys.stderr)

    def reference_decode() -> None:
        for data in contents:
            decode.decode_bytes(data)

    def reference_rows() -> None:
        for file in decoded:
            for record in file.records:
                event_row(record.event, record.original)

    def reference_bodies() -> None:
        for file in decoded:
            for record in file.records:
                event_text(record.event)

    def typed_rows() -> None:
        for data in contents:
            prepare_records(data, free_text=False)

    def typed_all() -> None:
        for data in contents:
            prepare_records(data)

    per_event = 1e6 / events
    gunzip_ref = _best(lambda: _gunzip_with(zlib, blobs), args.reps) * per_event
    gunzip_typed = _best(lambda: _gunzip_with(decode._inflate_lib, blobs), args.reps) * per_event
    decode_ref = _best(reference_decode, args.reps) * per_event
    rows_ref = _best(reference_rows, args.reps) * per_event
    bodies_ref = _best(reference_bodies, args.reps) * per_event
    rows_typed = _best(typed_rows, args.reps) * per_event
    all_typed = _best(typed_all, args.reps) * per_event
    lines = [
        ("gunzip", gunzip_ref, gunzip_typed),
        ("decode + row", decode_ref + rows_ref, rows_typed),
        ("free-text body", bodies_ref, all_typed - rows_typed),
        ("total", gunzip_ref + decode_ref + rows_ref + bodies_ref, gunzip_typed + all_typed),
    ]
    print(text_table(
        ("us/event", "reference", "typed", "typed/ref"),
        [(name, f"{ref:.2f}", f"{typed:.2f}", f"{typed / ref:.2f}") for name, ref, typed in lines],
        (16, 10, 10, 10),
    ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
