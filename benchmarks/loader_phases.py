"""How long each loader phase takes, and what the progress messages say at each one.

    python -m benchmarks.loader_phases CORPUS [--db FILE]

Indexes CORPUS into a fresh index (default: a temporary file) as ``trailtui index`` does and
prints, per phase (``reading``, ``merging duplicate eventIDs``, ``building indexes``, ``done``),
when it started and how long it lasted (seconds), with the events added, the duplicates merged
and ``merge_pending`` as the first progress message of that phase reported them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from trailtui.core.index import connect
from trailtui.core.loader import default_workers, index_paths


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loader_phases", description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--db", help="index file to create (removed first; default: a temporary file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trailtui-phases-") as scratch:
        db = Path(args.db) if args.db else Path(scratch) / "index.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        marks: list[tuple[str, float, int, int, bool]] = []
        started = time.monotonic()

        def seen(progress) -> None:
            if not marks or marks[-1][0] != progress.phase:
                marks.append((progress.phase, time.monotonic() - started, progress.events_added,
                              progress.duplicates, progress.merge_pending))

        summary = index_paths(connect(db), [args.corpus], on_progress=seen, workers=default_workers(interactive=False))
        marks.append(("(end)", time.monotonic() - started, summary.events_added, summary.duplicates, False))
    for (phase, at, added, duplicates, pending), following in zip(marks, marks[1:]):
        print(f"{phase:28} from {at:7.2f} s for {following[1] - at:6.2f} s   events_added {added:>10,}   "
              f"duplicates {duplicates:>8,}   merge_pending {pending}")
    print(f"total {marks[-1][1]:.2f} s: {summary.events_total:,} events in the index, "
          f"{summary.duplicates:,} duplicates merged")


if __name__ == "__main__":
    main()
