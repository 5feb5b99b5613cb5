"""How long each loader phase takes, and what the progress messages say at each one.

    python -m benchmarks.loader_phases CORPUS [--db FILE]
    python -m benchmarks.loader_phases CORPUS --db FILE --jsonl [--launched T]

Runs ``trailtui index CORPUS --db FILE`` in this process (``trailtui.cli.main``, default: a
temporary index file) and notes each change of ``LoadProgress.phase`` reported through
``index_paths(..., on_progress=...)``: ``reading``, ``merging duplicate eventIDs``, ``building
indexes``, ``indexing free text`` (when the loader builds the free-text index after the field
indexes), ``done``. Times are seconds since ``T`` (``--launched``: the ``time.time()`` at which the
parent launched this process, so Python's start and the imports count), else since this module
started.

Without ``--jsonl`` it prints a table: per phase, when it started, how long it lasted, and the
events added, duplicates merged, ``merge_pending`` and free-text progress the first progress
message of that phase reported. With ``--jsonl`` (for ``benchmarks.run``) it prints one JSON object
per line on stdout as each phase starts -- ``{"phase", "t", "events_added", "duplicates",
"merge_pending", "fts_done", "fts_total"}`` (the ``fts_*`` counts are events, None when the loader
does not report them) -- then ``{"phase": "(returned)", "t", "events_total", ...}`` when
``index_paths`` returned; the command's own output goes to stderr. The exit code is the command's.

Every field filter counts the whole corpus from the start of ``indexing free text`` (or ``done``
when the loader has no such phase): :func:`fields_ready_at` says when that was.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

#: The phase from which every field filter counts the whole corpus (free text may still follow).
FREE_TEXT_PHASE = "indexing free text"
DONE_PHASE = "done"
RETURNED = "(returned)"


class PhaseRecorder:
    """An ``on_progress`` callback that notes each phase change.

    ``marks`` is a list of dicts ``{"phase", "t", "events_added", "duplicates", "merge_pending",
    "fts_done", "fts_total"}`` in order (``t`` in seconds since ``origin``, a ``time.time()``);
    ``emit`` (if given) is called with each as it is noted. ``last`` keeps the latest progress
    message's ``fts_done``/``fts_total`` (event counts) so the end of free text can be reported.
    """

    def __init__(self, origin: float, emit: Callable[[dict], None] | None = None) -> None:
        self.origin = origin
        self.emit = emit
        self.marks: list[dict] = []
        self.last: dict = {}

    def __call__(self, progress) -> None:
        counts = {
            "events_added": progress.events_added,
            "duplicates": progress.duplicates,
            "merge_pending": progress.merge_pending,
            "fts_done": getattr(progress, "fts_done", None),
            "fts_total": getattr(progress, "fts_total", None),
        }
        self.last = counts
        if not self.marks or self.marks[-1]["phase"] != progress.phase:
            self.note(progress.phase, counts)

    def note(self, phase: str, counts: dict) -> None:
        mark = {"phase": phase, "t": time.time() - self.origin, **counts}
        self.marks.append(mark)
        if self.emit is not None:
            self.emit(mark)


def fields_ready_at(marks: list[dict]) -> float | None:
    """Seconds at which every field filter counted the whole corpus: the start of the first
    ``indexing free text`` phase, else of ``done``, else when ``index_paths`` returned (None if
    none of those was reached)."""
    for phase in (FREE_TEXT_PHASE, DONE_PHASE, RETURNED):
        for mark in marks:
            if mark["phase"] == phase:
                return mark["t"]
    return None


def phase_seconds(marks: list[dict], end_s: float | None) -> dict[str, float]:
    """Seconds spent in each phase (a phase that occurs twice is summed): from its mark to the
    next one, the last one until ``end_s`` (the process's exit). ``start`` is the time before the
    first progress message (Python's start, imports, opening the index, finding the files) and
    ``finish`` from ``done`` to the process's exit (closing the index, the summary)."""
    out: dict[str, float] = {}
    if not marks:
        return out
    out["start"] = marks[0]["t"]
    timeline = [m for m in marks if m["phase"] != RETURNED]
    for mark, following in zip(timeline, [*timeline[1:], None]):
        stop = following["t"] if following else end_s
        if stop is None:
            continue
        name = "finish" if mark["phase"] == DONE_PHASE else mark["phase"]
        out[name] = out.get(name, 0.0) + max(0.0, stop - mark["t"])
    return out


@contextlib.contextmanager
def recording_index_paths(recorder: PhaseRecorder):
    """Within the block, ``trailtui.core.loader.index_paths`` also reports to ``recorder`` (the
    command's own ``on_progress`` still gets every message) and notes when it returned."""
    import trailtui.core.loader as loader

    original = loader.index_paths

    def index_paths(conn, paths, *args, on_progress=None, **kwargs):
        def both(progress) -> None:
            recorder(progress)
            if on_progress is not None:
                on_progress(progress)

        summary = original(conn, paths, *args, on_progress=both, **kwargs)
        recorder.note(RETURNED, {**recorder.last, "events_total": getattr(summary, "events_total", None)})
        return summary

    # The CLI imports index_paths when it runs; should it bind the name at import, patch it there too.
    import trailtui.cli as cli

    patched = [module for module in (loader, cli) if getattr(module, "index_paths", None) is original]
    for module in patched:
        module.index_paths = index_paths
    try:
        yield
    finally:
        for module in patched:
            module.index_paths = original


def run_index(corpus: str, db: Path, recorder: PhaseRecorder) -> int:
    """``trailtui index CORPUS --db DB`` with ``recorder`` noting the phases; its exit code."""
    from trailtui.cli import main as cli_main

    with recording_index_paths(recorder):
        return cli_main(["index", corpus, "--db", str(db)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loader_phases", description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--db", help="index file to create (removed first; default: a temporary file)")
    parser.add_argument("--jsonl", action="store_true", help="one JSON line per phase on stdout (for benchmarks.run)")
    parser.add_argument("--launched", type=float, help="time.time() when the parent launched this process")
    args = parser.parse_args(argv)
    origin = args.launched if args.launched is not None else time.time()

    def emit(mark: dict) -> None:
        print(json.dumps(mark), file=real_stdout, flush=True)

    real_stdout = sys.stdout
    recorder = PhaseRecorder(origin, emit if args.jsonl else None)
    with tempfile.TemporaryDirectory(prefix="trailtui-phases-") as scratch:
        db = Path(args.db) if args.db else Path(scratch) / "index.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        if args.jsonl:
            # The command's summary must not be mistaken for a phase line.
            with contextlib.redirect_stdout(sys.stderr):
                return run_index(args.corpus, db, recorder)
        code = run_index(args.corpus, db, recorder)
    end = time.time() - origin
    seconds = phase_seconds(recorder.marks, end)
    print()
    for mark in recorder.marks:
        name = "finish" if mark["phase"] == DONE_PHASE else mark["phase"]
        fts = f"   fts {mark['fts_done']:,}/{mark['fts_total']:,}" if mark.get("fts_total") is not None else ""
        lasted = f"for {seconds[name]:6.2f} s" if name in seconds and mark["phase"] != RETURNED else " " * 12
        print(
            f"{mark['phase']:28} from {mark['t']:7.2f} s {lasted}   events_added {mark.get('events_added') or 0:>10,}   "
            f"duplicates {mark.get('duplicates') or 0:>8,}   merge_pending {mark.get('merge_pending')}{fts}"
        )
    ready = fields_ready_at(recorder.marks)
    print(f"every field filter counts the whole corpus at {ready:.2f} s" if ready is not None else "fields never ready")
    print(f"total {end:.2f} s (exit code {code})")
    return code


if __name__ == "__main__":
    sys.exit(main())
