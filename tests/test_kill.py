"""A loader killed at any moment loses nothing and doubles nothing (issue #10).

``trailtui index`` and the app's background loader (``python -m trailtui.core.loader DB
PATH...``, what :class:`trailtui.core.loader.BackgroundLoader` runs) are SIGKILLed at seeded
random moments spread over a whole load, three times in a row on one index in one plan, then run
once more to completion. After each kill the processes the loader started must end, and the
index must open, pass ``PRAGMA integrity_check`` and hold no eventID or file that is not in the
logs. After the last run it must hold every eventID of the readable files exactly once, one
``files`` row per file with the outcome the file deserves and counts that add up to the records
read, the truncated file named in ``load_errors`` (as an uninterrupted run names it, not
twice), and free text (``trailtui query --filter WORD --format ndjson``) must print each event
holding a rare word once, unchanged. A rebuilt index (the notice a damaged index gets) fails.

Everything is judged from behaviour: the CLI, the loader process's messages and the index's
public tables (``events``, ``files``, ``load_errors``). The expected answers come from reading
the JSON with :mod:`gzip` and :mod:`json` here, not from trailtui. Kill moments are drawn from
an uninterrupted run's timeline: reading by time since the start; every later phase it announces
(merging duplicate eventIDs, building indexes, free text...) by time since the killed run
announces it, so the test follows the loader as it changes. ``TRAILTUI_KILL_SEED`` picks other
moments (failure messages name the seed and every kill); ``TRAILTUI_KILL_REPORT=1`` prints the
kills made and the timings. The corpus comes from ``gen_cloudtrail.py`` in ``../shared/tools``;
the test skips without it.

A SIGKILL only rarely lands inside a commit's page writes, so this finds lost or doubled work
reliably but a torn commit (``journal_mode=OFF`` on a shared index) only by luck.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR_CANDIDATES = (
    os.environ.get("TRAILTUI_BENCH_GENERATOR"),
    str(REPO_ROOT.parent / "shared" / "tools" / "gen_cloudtrail.py"),
    "/work/shared/tools/gen_cloudtrail.py",
)
SEED = int(os.environ.get("TRAILTUI_KILL_SEED", "10"))
# About 30k events in ~150 delivery files: a load takes 2-4 s on 2 cores and, into an empty
# index, is a bulk load (16 files or more) that goes through every end phase.
EVENTS = 30_000
PER_FILE = 200

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL") or sys.platform == "win32", reason="needs SIGKILL")


# --------------------------------------------------------------------------- the corpus


@dataclass
class GroundTruth:
    """What the corpus holds, read with gzip + json (not trailtui).

    ``outcomes``: every file's expected ``files.outcome`` by path ("loaded", "skipped" for a
    CloudTrail digest file, "failed" for one that cannot be read). ``event_ids``: the distinct
    eventIDs of the readable files; ``records``: their records, copies included.
    ``needles``: words for free text (access key ids); ``matches``: needle -> {eventID: record}
    for the records whose JSON holds it.
    """

    root: Path
    outcomes: dict[str, str]
    event_ids: set[str]
    records: int
    matches: dict[str, dict[str, dict]]
    truncated: str
    needles: list[str]


def _find_generator() -> Path | None:
    for candidate in GENERATOR_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _read_json_gz(path: Path):
    with gzip.open(path, "rb") as stream:
        return json.load(stream)


def _write_records(path: Path, records: list) -> None:
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))


def _sibling_name(path: Path, rng: random.Random) -> Path:
    """Another delivery file name in the same folder: same account/region/time, new random part
    (``<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 hex>.json.gz``)."""
    stem = path.name[: -len(".json.gz")]
    prefix = stem.rsplit("_", 1)[0]
    return path.with_name(f"{prefix}_{rng.getrandbits(64):016x}.json.gz")


def _ground_truth(root: Path, truncated: Path) -> GroundTruth:
    outcomes: dict[str, str] = {}
    event_ids: set[str] = set()
    records = 0
    key_events: dict[str, set[str]] = {}  # userIdentity.accessKeyId -> eventIDs signed with it
    key_records: dict[str, int] = {}  # userIdentity.accessKeyId -> records (copies included)
    readable: list[Path] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            document = _read_json_gz(path)
        except (EOFError, OSError, zlib.error, ValueError):
            outcomes[str(path)] = "failed"
            continue
        if "Records" not in document:
            assert "digestStartTime" in document, path  # the generator writes only these two shapes
            outcomes[str(path)] = "skipped"
            continue
        outcomes[str(path)] = "loaded"
        readable.append(path)
        for record in document["Records"]:
            records += 1
            event_ids.add(record["eventID"])
            key = record["userIdentity"].get("accessKeyId")
            if key:
                key_events.setdefault(key, set()).add(record["eventID"])
                key_records[key] = key_records.get(key, 0) + 1
    assert outcomes[str(truncated)] == "failed"

    # Free-text needles: access keys an investigator would paste, each used by one event: from
    # the first and the last readable file (indexed before the first kill and after the last)
    # and from an event delivered in two files.
    def rare_key(path: Path) -> str:
        keys = [r["userIdentity"].get("accessKeyId") for r in _read_json_gz(path)["Records"]]
        return next(key for key in keys if key and len(key_events[key]) == 1)

    twice = sorted(key for key, count in key_records.items() if count > 1 and len(key_events[key]) == 1)
    assert twice, "the corpus has no event delivered twice"
    needles = [rare_key(readable[0]), rare_key(readable[-1]), twice[len(twice) // 2]]
    # What each needle must find: every event with the needle anywhere in its JSON.
    matches: dict[str, dict[str, dict]] = {needle: {} for needle in needles}
    for path in readable:
        for record in _read_json_gz(path)["Records"]:
            text = json.dumps(record)
            for needle in needles:
                if needle in text:
                    matches[needle][record["eventID"]] = record
    return GroundTruth(root, outcomes, event_ids, records, matches, str(truncated), needles)


@pytest.fixture(scope="module")
def kill_corpus(tmp_path_factory) -> GroundTruth:
    """A synthetic S3-delivery corpus (with digest files), some events delivered in two files,
    and one truncated gzip file."""
    generator = _find_generator()
    if generator is None:
        pytest.skip("gen_cloudtrail.py not found (../shared/tools beside the checkout, or $TRAILTUI_BENCH_GENERATOR)")
    root = tmp_path_factory.mktemp("kill") / "trail"
    subprocess.run(
        [sys.executable, str(generator), str(root), "--events", str(EVENTS), "--seed", "10",
         "--per-file", str(PER_FILE), "--digest"],
        check=True, capture_output=True, timeout=120,
    )
    rng = random.Random(SEED)
    delivered = sorted((root / "AWSLogs").glob("*/CloudTrail/*/*/*/*/*.json.gz"))
    assert len(delivered) >= 100, f"the generator wrote only {len(delivered)} log files"
    # The same events delivered twice (overlapping trails, global service events): whole files
    # copied under another name, and files made of the tail of one file and the head of another.
    for path in rng.sample(delivered, 5):
        shutil.copyfile(path, _sibling_name(path, rng))
    for first, second in zip(rng.sample(delivered, 3), rng.sample(delivered, 3)):
        head, tail = _read_json_gz(first)["Records"], _read_json_gz(second)["Records"]
        _write_records(_sibling_name(first, rng), head[len(head) // 2 :] + tail[: len(tail) // 3])
    # A delivery cut short: its gzip stream ends half way (its records are copies of another
    # file's, so the expected eventIDs do not depend on whether a loader salvages a prefix).
    source = rng.choice(delivered)
    whole = gzip.compress(json.dumps({"Records": _read_json_gz(source)["Records"]}).encode())
    truncated = _sibling_name(source, rng)
    truncated.write_bytes(whole[: len(whole) // 2])
    return _ground_truth(root, truncated)


# --------------------------------------------------------------------------- running and killing


@dataclass
class Run:
    """One loader process: what it announced and when, and how it ended.

    ``phases``: ``(seconds after start, phase)`` for the first announcement of each phase;
    ``killed_at``: seconds after start of the SIGKILL, None when the process ended first.
    """

    argv: list[str]
    pgid: int
    returncode: int = 0
    elapsed: float = 0.0
    killed_at: float | None = None
    phases: list[tuple[float, str]] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def phase_at(self, moment: float) -> str:
        """The last phase announced before ``moment`` (seconds after start)."""
        announced = [phase for at, phase in self.phases if at <= moment]
        return announced[-1] if announced else "nothing announced yet"


_FILE_PROGRESS = re.compile(r"indexing: [\d,]+/[\d,]+ files?\b")


def _phase_of_cli_line(line: str) -> str | None:
    """``trailtui index`` on a pipe: ``indexing: 3/188 files, ...`` while reading, and one line
    naming each later phase (``indexing: 40,000 events read, merging duplicate eventIDs``)."""
    if not line.startswith("indexing:"):
        return None
    if _FILE_PROGRESS.match(line):
        return "reading"
    return re.sub(r"\d[\d,.]*", "#", line.rsplit(", ", 1)[-1]).strip()


def _phase_of_loader_line(line: str) -> str | None:
    """The loader process writes JSON lines ``[kind, payload]``; progress payloads carry ``phase``."""
    try:
        kind, payload = json.loads(line)
    except (ValueError, TypeError):
        return None
    if kind == "progress" and isinstance(payload, dict):
        return str(payload.get("phase"))
    return kind  # "done" or "error"


class Variant:
    """How to start one kind of loader on ``db`` and read its phases."""

    def __init__(self, name: str, argv, phase_of, *, mid_reading: bool = True) -> None:
        self.name, self.argv, self.phase_of, self.mid_reading = name, argv, phase_of, mid_reading


VARIANTS = {
    "trailtui index": Variant(
        "trailtui index",
        lambda db, root: [sys.executable, "-m", "trailtui", "index", str(root), "--db", str(db)],
        _phase_of_cli_line,
    ),
    "background loader": Variant(
        "background loader",
        lambda db, root: [sys.executable, "-m", "trailtui.core.loader", str(db), str(root)],
        _phase_of_loader_line,
        mid_reading=False,  # the same index_paths as `trailtui index`, whose bulk load is hit mid-way
    ),
}


@dataclass(frozen=True)
class Kill:
    """SIGKILL ``after`` seconds after the start, or after the first announcement of ``phase``."""

    after: float
    phase: str | None = None

    def __str__(self) -> str:
        return f"{self.after:.3f} s after " + (f"{self.phase!r} began" if self.phase else "the start")


def run_loader(variant: Variant, db: Path, root: Path, groups: list[int], *, kill: Kill | None = None,
               timeout: float = 120.0) -> Run:
    """Run one loader; with ``kill``, SIGKILL its main process then (only that process, as the
    OOM killer or ``kill -9`` would: its decoder processes are left to notice). ``groups``
    collects the process group ids, for cleaning up after the test."""
    argv = variant.argv(db, root)
    started = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True, text=True, errors="replace")
    groups.append(process.pid)
    run = Run(argv, process.pid)
    seen: set[str] = set()
    lock = threading.Lock()

    def read(stream, lines: list[str]) -> None:
        for line in stream:
            at = time.monotonic() - started
            lines.append(line.rstrip("\n"))
            phase = variant.phase_of(line.strip())
            with lock:
                if phase and phase not in seen:
                    seen.add(phase)
                    run.phases.append((at, phase))

    readers = [threading.Thread(target=read, args=(process.stdout, run.stdout), daemon=True),
               threading.Thread(target=read, args=(process.stderr, run.stderr), daemon=True)]
    for reader in readers:
        reader.start()
    def deadline() -> float:
        if kill is None:
            return started + timeout
        if kill.phase is None:
            return started + kill.after
        with lock:
            announced = [at for at, phase in run.phases if phase == kill.phase]
        return started + announced[0] + kill.after if announced else started + timeout

    while process.poll() is None and time.monotonic() < deadline():
        time.sleep(0.002)
    if process.poll() is None:
        if kill is None:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(
                f"{variant.name} did not finish in {timeout:.0f} s (a process of a killed run holding the "
                f"index's lock?): {argv}"
            )
        run.killed_at = time.monotonic() - started
        os.kill(process.pid, signal.SIGKILL)
    run.returncode = process.wait()
    run.elapsed = time.monotonic() - started
    for reader in readers:
        reader.join(timeout=10)  # an orphaned decoder could hold the pipes open: do not wait for it
    run.phases.sort()
    return run


def survivors(group: int) -> list[str]:
    """The processes of ``group`` still alive (zombies aside), as "pid command" (Linux /proc;
    empty elsewhere)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, _, pgrp = text[text.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group and state != "Z":
            alive.append(f"{stat.parent.name} {text[text.index('(') + 1 : text.rindex(')')]}")
    return alive


def assert_no_survivors(group: int, context: str, grace: float = 5.0) -> None:
    """A killed loader's helper processes (decoders, shard writers) end soon after it: left
    running they would hold the index's lock or write to it behind the next run's back."""
    deadline = time.monotonic() + grace
    while survivors(group) and time.monotonic() < deadline:
        time.sleep(0.01)
    left = survivors(group)
    assert not left, f"{context}: processes of the killed loader still run {grace:.0f} s later: {left}"


def phase_windows(baseline: Run) -> list[tuple[str, float, float]]:
    """``(phase, start, end)`` in seconds of an uninterrupted run: "reading" from the start
    (interpreter start-up and index creation included) to the first other phase announced, then
    each other phase until the next announcement ("done"/"error" left out)."""
    announced = baseline.phases
    later = [(at, phase) for at, phase in announced if phase != "reading"]
    windows = [("reading", 0.0, later[0][0] if later else baseline.elapsed)]
    for at, phase in later:
        following = [moment for moment, _ in announced if moment > at]
        if phase not in ("done", "error"):
            windows.append((phase, at, following[0] if following else baseline.elapsed))
    return windows


def kill_plans(baseline: Run, rng: random.Random, *, mid_reading: bool = True) -> list[tuple[str, list[Kill]]]:
    """Seeded kill moments: each plan is the kills of successive runs on one fresh index (the
    run after the last kill goes to completion).

    Reading is hit early (start-up, schema, first batches), mid-way (unless not ``mid_reading``)
    and near its end, and three
    times in a row on one index (the resumed runs take another path: no bulk load, and an
    interrupted bulk load's copies merged first). Every later phase of the uninterrupted run is
    hit once, at a random moment of its length after the killed run announces it (times vary
    from run to run far more than a short phase lasts).
    """
    windows = phase_windows(baseline)
    reading = windows[0][2]

    def within(low: float, high: float, length: float = reading) -> float:
        return rng.uniform(low, high) * length

    plans = [
        ("reading: early, then the resumed runs mid-way",
         [Kill(within(0.02, 0.2)), Kill(within(0.3, 0.7)), Kill(within(0.2, 0.5))]),
        ("reading: mid-way", [Kill(within(0.35, 0.65))]),
        ("reading: near its end", [Kill(within(0.8, 0.98))]),
    ]
    if not mid_reading:
        del plans[1]
    for phase, start, end in windows[1:]:
        plans.append((phase, [Kill(within(0.0, 0.9, end - start), phase)]))
    return plans


# --------------------------------------------------------------------------- checks


def open_index(db: Path) -> sqlite3.Connection:
    """The index as any SQLite client opens it after a crash (WAL recovered on open)."""
    return sqlite3.connect(db, timeout=10)


def check_after_kill(db: Path, truth: GroundTruth, context: str) -> tuple[int, int]:
    """A killed loader leaves an index that opens, is intact and invents nothing. Returns
    (files recorded, events) at that moment (0, 0 when there is no index file yet)."""
    if not db.exists():
        return 0, 0
    conn = open_index(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        assert integrity == [("ok",)], f"{context}: the index is damaged after the kill: {integrity[:5]}"
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "events" not in tables:
            return 0, 0  # killed before the schema was created
        ids = {event_id for (event_id,) in conn.execute('SELECT "eventID" FROM events')}
        invented = ids - truth.event_ids
        assert not invented, f"{context}: eventIDs that are in no readable file: {sorted(invented)[:5]}"
        paths = {path for (path,) in conn.execute("SELECT path FROM files")}
        assert paths <= set(truth.outcomes), f"{context}: unknown files: {sorted(paths - set(truth.outcomes))[:5]}"
        return len(paths), conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def check_complete(db: Path, truth: GroundTruth, context: str) -> list[tuple[str, str]]:
    """After a run to completion: every eventID once, the files and their outcomes, the bad
    file's error, and the counts of each file adding up to the records read. Returns the
    ``load_errors`` rows as sorted ``(path, message)`` pairs."""
    conn = open_index(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        assert integrity == [("ok",)], f"{context}: integrity_check: {integrity[:5]}"
        doubled = conn.execute(
            'SELECT "eventID", count(*) FROM events GROUP BY "eventID" HAVING count(*) > 1 LIMIT 5'
        ).fetchall()
        assert doubled == [], f"{context}: eventIDs stored more than once: {doubled}"
        ids = {event_id for (event_id,) in conn.execute('SELECT "eventID" FROM events')}
        lost, invented = truth.event_ids - ids, ids - truth.event_ids
        assert not lost and not invented, (
            f"{context}: {len(lost)} eventIDs lost (e.g. {sorted(lost)[:3]}), "
            f"{len(invented)} invented (e.g. {sorted(invented)[:3]})"
        )
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == len(truth.event_ids)

        outcomes = dict(conn.execute("SELECT path, outcome FROM files"))
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == len(outcomes), f"{context}: a file twice"
        wrong = {path: (outcomes.get(path), expected) for path, expected in truth.outcomes.items()
                 if outcomes.get(path) != expected}
        assert not wrong, f"{context}: files with the wrong outcome (got, expected): {list(wrong.items())[:5]}"
        assert set(outcomes) == set(truth.outcomes), f"{context}: files rows for unknown paths"
        # Every record of a readable file is counted once: as its event, or as a merged copy.
        kept, merged = conn.execute("SELECT sum(events), sum(duplicates) FROM files").fetchone()
        assert (kept, kept + merged) == (len(truth.event_ids), truth.records), (
            f"{context}: files counts {kept} events + {merged} duplicates; "
            f"the logs hold {len(truth.event_ids)} events in {truth.records} records"
        )

        errors = sorted(conn.execute("SELECT path, message FROM load_errors").fetchall())
        named = {path for path, _ in errors}
        assert named == {truth.truncated}, f"{context}: load_errors name {sorted(named)[:5]}, not the truncated file"
        assert len(errors) == len(set(errors)), f"{context}: a load error recorded twice: {errors}"
        return errors
    finally:
        conn.close()


def check_free_text(db: Path, truth: GroundTruth, context: str) -> None:
    """``trailtui query --filter WORD --format ndjson`` prints each event carrying WORD once, as
    it is in its file."""
    queries = {
        needle: subprocess.Popen(
            [sys.executable, "-m", "trailtui", "query", str(truth.root), "--db", str(db),
             "--filter", needle, "--format", "ndjson"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for needle in truth.needles
    }
    for needle, query in queries.items():
        out, err = query.communicate(timeout=120)
        assert query.returncode in (0, 3), f"{context}: query {needle}: exit {query.returncode}: {err}"
        found = [json.loads(line) for line in out.splitlines() if line.strip()]
        expected = truth.matches[needle]
        found_ids = [event["eventID"] for event in found]
        assert sorted(found_ids) == sorted(expected), (
            f"{context}: free text {needle!r} found {found_ids}, expected {sorted(expected)}"
        )
        # Each printed event is the original, unchanged.
        for event in found:
            assert event == expected[event["eventID"]], f"{context}: event {event['eventID']} differs from its file"


def assert_finished_cleanly(variant: Variant, run: Run, context: str) -> None:
    """The completing run ends normally and did not start the index over (a damaged index is
    rebuilt from scratch with a notice, which would hide the damage from the checks)."""
    output = "\n".join(run.stdout + run.stderr)
    assert "Traceback" not in output, f"{context}: {output[-2000:]}"
    if variant.name == "trailtui index":
        assert run.returncode in (0, 3), f"{context}: exit {run.returncode}: {output[-2000:]}"
        notices = [line for line in run.stdout if line.startswith("notice:")]
    else:
        finals = [json.loads(line) for line in run.stdout if line.startswith('["done"') or line.startswith('["error"')]
        assert finals and finals[-1][0] == "done", f"{context}: the loader did not finish: {output[-2000:]}"
        notices = finals[-1][1].get("notices", [])
    rebuilt = [notice for notice in notices if re.search(r"damaged|not a readable index|rebuil", notice)]
    assert not rebuilt, f"{context}: the index was found damaged and rebuilt: {rebuilt}"


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("variant_name", list(VARIANTS))
def test_a_killed_loader_loses_nothing_and_doubles_nothing(variant_name, kill_corpus, tmp_path, capsys) -> None:
    """An uninterrupted run sets the timeline and the load errors to expect; then each kill plan
    runs on a fresh index: its kills, a check after each, a run to completion, the full checks."""
    variant = VARIANTS[variant_name]
    truth = kill_corpus
    rng = random.Random(f"{SEED}-{variant_name}")
    groups: list[int] = []
    report: list[str] = []
    started = time.monotonic()
    try:
        baseline_db = tmp_path / "baseline.sqlite"
        baseline = run_loader(variant, baseline_db, truth.root, groups)
        context = f"{variant_name}, uninterrupted"
        assert_finished_cleanly(variant, baseline, context)
        baseline_errors = check_complete(baseline_db, truth, context)
        report.append(f"{variant_name}: uninterrupted {baseline.elapsed:.2f} s, phases "
                      + ", ".join(f"{phase} {start:.2f}-{end:.2f}" for phase, start, end in phase_windows(baseline)))

        for number, (aim, planned) in enumerate(kill_plans(baseline, rng, mid_reading=variant.mid_reading)):
            context = f"{variant_name}, TRAILTUI_KILL_SEED={SEED}, plan {number} ({aim})"
            for attempt in range(4):
                db = tmp_path / f"killed-{number}-{attempt}.sqlite"
                kills: list[str] = []
                for kill in planned:
                    run = run_loader(variant, db, truth.root, groups, kill=kill)
                    if run.killed_at is None:
                        kills.append(f"{kill}: finished first ({run.elapsed:.2f} s)")
                    else:
                        kills.append(f"{kill} = {run.killed_at:.3f} s, in {run.phase_at(run.killed_at)!r}")
                    assert_no_survivors(run.pgid, f"{context}, kills {kills}")
                    files, events = check_after_kill(db, truth, f"{context}, kills {kills}")
                    kills[-1] += f" -> {files} files, {events} events"
                    if run.killed_at is None:
                        break
                if len(kills) > 1 or run.killed_at is not None:
                    break
                # The run was faster than the uninterrupted one: aim earlier, on a fresh index.
                planned = [Kill(kill.after / 2, kill.phase) for kill in planned]
            # A plan whose every kill came too late would test nothing.
            assert any(" = " in kill for kill in kills), f"{context}: no kill landed in 4 attempts: {kills}"
            context = f"{context}, kills {kills}"
            final = run_loader(variant, db, truth.root, groups, timeout=max(60.0, 20 * baseline.elapsed))
            assert_finished_cleanly(variant, final, context)
            checked = time.monotonic()
            errors = check_complete(db, truth, context)
            assert errors == baseline_errors, f"{context}: load_errors {errors}, uninterrupted: {baseline_errors}"
            free_text = time.monotonic()
            check_free_text(db, truth, context)
            retried = f" (attempt {attempt + 1}: the earlier ones finished first)" if attempt else ""
            report.append(
                f"  plan {number} ({aim}){retried}: " + "; ".join(kills) + f"; completed in {final.elapsed:.2f} s; "
                f"checks {free_text - checked:.2f} s + free text {time.monotonic() - free_text:.2f} s"
            )
        report.append(f"  {time.monotonic() - started:.1f} s in all")
    finally:
        for group in groups:  # whatever is left of the processes this test started
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if os.environ.get("TRAILTUI_KILL_REPORT"):
            with capsys.disabled():
                print("\n" + "\n".join(report))


def _decoders_of(pid: int) -> list[int]:
    """The worker processes forked by ``pid`` (children running the same command line; Linux
    /proc, empty elsewhere)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] != "Z" and (stat.parent / "cmdline").read_bytes() == command:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the decoder processes through Linux /proc")
@pytest.mark.parametrize("variant_name", list(VARIANTS))
def test_a_killed_decoder_ends_the_load_with_a_message_not_a_hang(variant_name, kill_corpus, tmp_path) -> None:
    """The OOM killer (or ``kill -9``) takes one decoder process mid-load: the loader says so,
    naming the files it was reading, and ends (it used to wait forever for that batch, or hang
    in the pool's shutdown); the index stays intact; the next run reads everything."""
    variant = VARIANTS[variant_name]
    truth = kill_corpus
    db = tmp_path / "index.sqlite"
    process = subprocess.Popen(variant.argv(db, truth.root), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True, text=True, errors="replace")
    try:
        deadline = time.monotonic() + 60
        decoders: list[int] = []
        while not decoders and process.poll() is None and time.monotonic() < deadline:
            decoders = _decoders_of(process.pid)
            time.sleep(0.005)
        assert decoders, f"{variant_name}: no decoder process appeared (exit {process.poll()})"
        time.sleep(0.2)  # into the batches
        os.kill(decoders[0], signal.SIGKILL)
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{variant_name}: the loader still runs 60 s after a decoder was killed (a hang)")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "Traceback" not in out + err, (out + err)[-2000:]
    if variant.name == "trailtui index":
        assert process.returncode == 3, f"exit {process.returncode}: {err[-2000:]}"
        message = err
    else:
        kind, message = json.loads(out.splitlines()[-1])
        assert kind == "error", (kind, message)
    assert re.search(r"a decoder process stopped unexpectedly .* while reading .*\.json\.gz", message), message
    assert_no_survivors(process.pid, f"{variant_name}, a decoder killed")
    check_after_kill(db, truth, f"{variant_name}, a decoder killed")
    final = run_loader(variant, db, truth.root, [])
    assert_finished_cleanly(variant, final, f"{variant_name}, the run after a decoder was killed")
    check_complete(db, truth, f"{variant_name}, the run after a decoder was killed")
