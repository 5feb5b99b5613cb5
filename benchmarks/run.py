"""Benchmark trailtui against the issue's targets, with DuckDB and jq beside it. One command:

    python -m benchmarks.run [--events N] [--seed 7] [--corpus DIR] [--workdir DIR] [--quick]
                             [--delete-corpus] [--baseline RESULTS.json]

Generates (or reuses) a synthetic corpus with ``gen_cloudtrail.py``, measures every figure of the
issue #10's "Targets" table in one run, each where it belongs (a fresh subprocess when process memory or start-up
time matters), prints one table (trailtui | target | peer | ratio | met?) and writes every figure
to ``<workdir>/results-<N>.json``. Exits 0 when every row was measured (targets met or not), 1
when a measurement crashed (its row says ``error: ...``; the others are still measured).

See ``benchmarks/README.md`` for what each row measures and how.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import text_table

REPO_ROOT = Path(__file__).absolute().parent.parent
DEFAULT_EVENTS = 1_000_000
MB = 1024 * 1024
NEEDLE_KIND = "accessKeyId"  # what the rare free-text word is (the marker caches it)
#: Cores other processes kept busy, on average, during a measurement, from which the run notes it.
BUSY_MACHINE_CORES = 0.25

# Issue #10's targets (the "Targets" table), each used by its row of the table.
#: Launch to every field filter counting the whole corpus, at most this times DuckDB's load.
COLD_FIELDS_MAX_RATIO = 1.0
#: Launch to `trailtui index`'s exit (free text indexed too), at most this times DuckDB's load.
COLD_TEXT_MAX_RATIO = 1.5
#: The index and its companion files, at most this times the uncompressed JSON.
INDEX_SIZE_MAX_FACTOR = 0.4
#: Seconds per event of a larger run (10M), at most this times the baseline run's, whole and per phase.
SCALE_MAX_RATIO = 1.15
#: The run a larger run's time per event is compared with (its results-<N>.json in the workdir).
BASELINE_EVENTS = 1_000_000
#: How the table names the cold index's phases (see benchmarks.loader_phases.phase_seconds).
PHASE_LABELS = {
    "start": "launch to the first progress message",
    "finish": "done to exit (close, summary)",
}


# ------------------------------------------------------------------------------------ settings


@dataclass
class Settings:
    """How much to repeat each measurement (``--quick`` for CI's smoke run)."""

    filter_reps: int
    jump_reps: int
    presses: int
    index_reps: int
    app_jumps: int
    budget_s: float  # seconds of timed calls per query at most

    @classmethod
    def for_run(cls, events: int, quick: bool, index_reps: int | None) -> Settings:
        if quick:
            return cls(filter_reps=5, jump_reps=5, presses=40, index_reps=index_reps or 1, app_jumps=3, budget_s=5.0)
        return cls(
            filter_reps=20,
            jump_reps=10,
            presses=100,
            index_reps=index_reps or (3 if events <= 200_000 else 1),
            app_jumps=5,
            budget_s=20.0,
        )


def default_workdir() -> Path:
    env = os.environ.get("TRAILTUI_BENCH_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "trailtui-bench"


def workdir_and_corpus(args) -> tuple[Path, dict]:
    """The work directory (``--workdir`` or :func:`default_workdir`, created) and the corpus of
    :func:`ensure_corpus` in it: what every benchmark starts with."""
    workdir = Path(args.workdir).expanduser() if args.workdir else default_workdir()
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir, ensure_corpus(args, workdir)


def find_generator(explicit: str | None) -> Path:
    """``gen_cloudtrail.py``: --generator, ``$TRAILTUI_BENCH_GENERATOR``, then ``shared/tools``
    beside the checkout (CI clones the repo with ``../shared`` next to it), then /work/shared."""
    candidates = [
        explicit,
        os.environ.get("TRAILTUI_BENCH_GENERATOR"),
        REPO_ROOT.parent / "shared" / "tools" / "gen_cloudtrail.py",
        Path("/work/shared/tools/gen_cloudtrail.py"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise SystemExit("benchmarks: gen_cloudtrail.py not found; pass --generator PATH or --corpus DIR")


def subprocess_env() -> dict:
    """The environment of every measured subprocess: the same trailtui and benchmarks as ours."""
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("TEXTUAL", None)  # no devtools
    return env


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ corpus


def corpus_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and (p.name.endswith(".json.gz") or p.name.endswith(".json"))
    )


def json_bytes(path: Path) -> int:
    """Size of the file's JSON once gunzipped (the file size for plain ``.json``)."""
    if not path.name.endswith(".gz"):
        return path.stat().st_size
    total = 0
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(4 * MB):
            total += len(chunk)
    return total


def pick_needle(files: list[Path]) -> str | None:
    """A word that occurs in one event: the access key ID of an event in the middle of the first
    file (the identifier an investigator pastes; CloudTrail's own IDs may be left out of the
    free-text index on purpose)."""
    for path in files[:5]:
        try:
            raw = gzip.open(path, "rb").read() if path.name.endswith(".gz") else path.read_bytes()
            records = json.loads(raw).get("Records") or []
        except (OSError, ValueError, zlib.error, AttributeError):
            continue
        middle = len(records) // 2
        for record in records[middle:] + records[:middle]:
            identity = record.get("userIdentity") if isinstance(record, dict) else None
            value = identity.get("accessKeyId") if isinstance(identity, dict) else None
            if isinstance(value, str) and value.isalnum():
                return value
    return None


def describe_corpus(root: Path) -> dict:
    files = corpus_files(root)
    return {
        "path": str(root),
        "files": len(files),
        "gz_bytes": sum(p.stat().st_size for p in files),
        "json_bytes": sum(json_bytes(p) for p in files),
        "needle": pick_needle(files),
    }


def ensure_corpus(args, workdir: Path) -> dict:
    """The corpus to measure, generated into ``<workdir>/corpus-<N>-<seed>`` unless complete there.

    A corpus is complete when its marker ``corpus-<N>-<seed>.complete.json`` (beside it, so the
    loaders never see it) exists; the marker caches the file count, sizes and the needle word.
    """
    if args.corpus:
        root = Path(args.corpus).expanduser().resolve()
        if not root.is_dir():
            raise SystemExit(f"benchmarks: --corpus {root}: not a directory")
        files = corpus_files(root)
        signature = hashlib.sha256(
            repr([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]).encode()
        ).hexdigest()[:16]
        cache = workdir / f"corpus-info-{signature}.json"
        if cache.exists():
            info = json.loads(cache.read_text())
        else:
            log(f"measuring {root} (uncompressed size)")
            info = {**describe_corpus(root), "events": None, "seed": None, "generated": False}
            cache.write_text(json.dumps(info, indent=2))
        return info
    root = workdir / f"corpus-{args.events}-{args.seed}"
    marker = workdir / f"corpus-{args.events}-{args.seed}.complete.json"
    if marker.exists() and root.is_dir():
        info = json.loads(marker.read_text())
        files = corpus_files(root)
        if info.get("files") == len(files):
            if info.get("needle_kind") != NEEDLE_KIND:
                info.update(needle=pick_needle(files), needle_kind=NEEDLE_KIND)
                marker.write_text(json.dumps(info, indent=2))
            info["reused"] = True
            return info
        log(f"{root} does not match its marker; generating it again")
    generator = find_generator(args.generator)
    partial = workdir / f"corpus-{args.events}-{args.seed}.partial"
    for stale in (root, partial):
        if stale.exists():
            shutil.rmtree(stale)
    marker.unlink(missing_ok=True)
    log(f"generating {args.events:,} events (seed {args.seed}) into {root} with {generator}")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(generator), str(partial), "--events", str(args.events), "--seed", str(args.seed)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    partial.rename(root)
    generate_s = time.perf_counter() - started
    log(f"generated in {generate_s:.0f} s; measuring the uncompressed JSON")
    info = {
        **describe_corpus(root),
        "events": args.events,
        "seed": args.seed,
        "generated": True,
        "needle_kind": NEEDLE_KIND,
        "generator": str(generator),
        "generate_s": generate_s,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    marker.write_text(json.dumps(info, indent=2))
    info["reused"] = False
    return info


def duckdb_globs(root: Path) -> list[str]:
    globs = []
    if any(root.rglob("*.json.gz")):
        globs.append(str(root / "**" / "*.json.gz"))
    if any(root.rglob("*.json")):
        globs.append(str(root / "**" / "*.json"))
    return globs


# ------------------------------------------------------------------------------------ measuring


def index_companions(db: Path) -> list[Path]:
    """The index file ``db`` and every file or directory beside it whose name starts with its
    name (``-wal``, ``-shm``, ``.lock``, a ``.shards/`` directory): what the index occupies. The
    user state file (``<name>.user.sqlite``: marks, history) is not named that way."""
    try:
        return sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name))
    except FileNotFoundError:
        return []


def index_files(db: Path) -> dict[str, int]:
    """Bytes on disk of the index ``db`` and each companion (a directory: the sum of the files
    under it), by name relative to ``db``'s directory."""
    sizes = {}
    for path in index_companions(db):
        if path.is_dir():
            sizes[path.name + "/"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        else:
            sizes[path.name] = path.stat().st_size
    return sizes



class Bench:
    """Runs the measurements, keeping every figure (or error) in ``self.results``."""

    def __init__(self, args, workdir: Path, corpus: dict, settings: Settings) -> None:
        from benchmarks import procmon

        self.procmon = procmon
        self.args = args
        self.workdir = workdir
        self.corpus = corpus
        self.corpus_path = Path(corpus["path"])
        self.settings = settings
        self.events = corpus.get("events")  # None for a user corpus until indexed
        self.run_dir = workdir / f"run-{corpus.get('events') or 'corpus'}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.env = subprocess_env()
        self.cold_db = self.run_dir / "trailtui-cold.sqlite"
        self.results: dict = {}
        self.crashed: list[str] = []
        self.timeout = 180 + (self.events or 1_000_000) / 1_000_000 * 900

    # -- helpers

    def _run(self, cmd: list[str], what: str | None = None, **kwargs):
        run = self.procmon.run_monitored(
            cmd, timeout=kwargs.pop("timeout", self.timeout), env=self.env, cwd=str(REPO_ROOT), **kwargs
        )
        # What else kept the machine busy meanwhile (see procmon): figures measured beside
        # other work are slower than the machine can do.
        what = what or " ".join(part.rsplit(".", 1)[-1] for part in cmd[2:4])
        self.results.setdefault("contention", []).append(
            {"what": what, "wall_s": run.wall, "others_cpu_s": run.others_cpu_s, "others_cores": run.others_cores}
        )
        return run

    def guarded(self, name: str, fn, sections: tuple[str, ...]) -> None:
        """Run one measurement; on a crash put ``{"error": ...}`` in each of its result
        ``sections`` (unless a more precise error is there already) and go on."""
        log(f"measuring: {name}")
        started = time.perf_counter()
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - every measurement is independent
            message = f"{type(err).__name__}: {err}"[:500]
            for section in sections:
                target = self.results.setdefault(section, {})
                target.setdefault("error", message)
                target.setdefault("traceback", traceback.format_exc()[-3000:])
            self.crashed.append(name)
            log(f"  {name} failed: {message}")
        self.results.setdefault("phase_s", {})[name] = time.perf_counter() - started

    def _remove_db(self, path: Path) -> None:
        # The index and every companion named after it (-wal, -shm, .lock, a shard directory
        # left by a crashed load), and the app's user state beside it (marks, history).
        from trailtui.core.userstate import user_state_path

        for companion in index_companions(path):
            if companion.is_dir() and not companion.is_symlink():
                shutil.rmtree(companion)
            else:
                companion.unlink(missing_ok=True)
        user_state = user_state_path(path)
        for suffix in ("", "-wal", "-shm"):
            Path(str(user_state) + suffix).unlink(missing_ok=True)

    @staticmethod
    def _read_json(path: Path) -> dict:
        data = json.loads(path.read_text())
        if "error" in data and len(data) <= 2:
            raise RuntimeError(data["error"])
        return data

    # -- cold index (trailtui CLI) and DuckDB's load, interleaved

    def cold_index_and_duckdb(self) -> None:
        trailtui_runs, duck_runs = [], []
        self.results["cold_index"] = {"runs": trailtui_runs}
        self.results["duckdb"] = {"runs": duck_runs}
        for rep in range(self.settings.index_reps):
            last = rep == self.settings.index_reps - 1
            trailtui_runs.append(self._one_cold_index())
            duck_runs.append(self._one_duckdb(queries=last))
        self._summarize_cold(trailtui_runs)
        self._summarize_duckdb(duck_runs)

    def _one_cold_index(self) -> dict:
        """One ``trailtui index CORPUS --db NEW`` in a subprocess, through
        ``benchmarks.loader_phases --jsonl`` (the CLI's own code, with the loader's phase changes
        printed as they happen): wall time, when the field filters were complete, each phase's
        seconds, peak RSS, and the index's files on disk."""
        from benchmarks import loader_phases

        self._remove_db(self.cold_db)
        cmd = [
            sys.executable, "-m", "benchmarks.loader_phases", str(self.corpus_path),
            "--db", str(self.cold_db), "--jsonl",
        ]
        run = self._run(cmd, what="trailtui index", launch_arg="--launched")
        marks = []
        for line in run.stdout.splitlines():
            try:
                mark = json.loads(line)
            except ValueError:
                continue
            if isinstance(mark, dict) and "phase" in mark:
                marks.append(mark)
        record = {
            "wall_s": run.wall,
            "fields_ready_s": loader_phases.fields_ready_at(marks),
            "phases": marks,
            "phase_s": loader_phases.phase_seconds(marks, run.wall),
            "peak_rss": run.peak_rss,
            "peak_rss_tree_sampled": run.peak_rss_tree_sampled,
            "max_processes": run.max_processes,
            "returncode": run.returncode,
            "peak_breakdown": run.peak_breakdown,
        }
        if run.timed_out or run.returncode not in (0, 3):  # 3: some inputs failed, the rest indexed
            record["error"] = f"trailtui index: {run.describe_failure()}"
            return record
        from trailtui.core.store.index import connect
        from trailtui.core.query import total_events

        conn = connect(self.cold_db, readonly=True)
        try:
            record["events"] = total_events(conn)
        finally:
            conn.close()
        record["index_files"] = index_files(self.cold_db)
        record["index_bytes"] = sum(record["index_files"].values())
        record["stdout_tail"] = run.stderr.strip().splitlines()[-3:]
        return record

    def _summarize_cold(self, runs: list[dict]) -> None:
        """The median of the cold index runs (wall time, fields ready, each phase); the largest
        peak RSS; the last run's index size and files."""
        good = [r for r in runs if "error" not in r]
        out = self.results["cold_index"]
        if not good:
            out["error"] = runs[-1].get("error", "no run")
            self.crashed.append("cold index")
            return
        out["wall_s"] = _median(sorted(r["wall_s"] for r in good))
        ready = [r["fields_ready_s"] for r in good if r.get("fields_ready_s") is not None]
        out["fields_ready_s"] = _median(sorted(ready)) if len(ready) == len(good) else None
        names = [name for r in good for name in r["phase_s"]]
        out["phase_s"] = {
            name: _median(sorted(r["phase_s"].get(name, 0.0) for r in good)) for name in dict.fromkeys(names)
        }
        out["peak_rss"] = max(r["peak_rss"] for r in good)
        out["events"] = good[-1]["events"]
        out["index_bytes"] = good[-1]["index_bytes"]
        out["index_files"] = good[-1]["index_files"]
        out["index_path"] = str(self.cold_db)
        if self.events is None:
            self.events = out["events"]
        if out["events"] != self.events:
            out["warning"] = f"the index holds {out['events']:,} events, the corpus {self.events:,}"

    def _one_duckdb(self, *, queries: bool) -> dict:
        try:
            import duckdb  # noqa: F401 - only to fail early with a clear message
        except ImportError:
            return {"error": "duckdb is not installed (pip install '.[bench]')"}
        duck_db = self.run_dir / "duckdb.duckdb"
        self._remove_db(duck_db)
        out_file = self.run_dir / "duckdb.json"
        out_file.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.workers",
            "duckdb",
            "--db",
            str(duck_db),
            "--out",
            str(out_file),
            "--reps",
            str(self.settings.filter_reps),
            "--budget",
            str(self.settings.budget_s),
        ]
        for glob in duckdb_globs(self.corpus_path):
            cmd += ["--glob", glob]
        if not queries:
            cmd.append("--no-queries")
        run = self._run(cmd)
        if not out_file.exists():
            return {"error": f"duckdb: {run.describe_failure()}"}
        data = json.loads(out_file.read_text())
        if "error" in data and "load_s" not in data:
            return {"error": f"duckdb: {data['error']}"}
        mark = run.marks.get("loaded")
        data["load_wall_s"] = mark["t"] if mark else None  # process launch to table loaded
        data["load_peak_rss"] = max(mark["peak_rss"] if mark else run.peak_rss, data.get("ru_maxrss_after_load", 0))
        data["process_wall_s"] = run.wall
        data["process_peak_rss"] = run.peak_rss
        if not run.ok:
            data["error"] = f"duckdb: {run.describe_failure()}"
        self._remove_db(duck_db)
        return data

    def _summarize_duckdb(self, runs: list[dict]) -> None:
        out = self.results["duckdb"]
        good = [r for r in runs if "error" not in r and r.get("load_wall_s")]
        if not good:
            out["error"] = runs[-1].get("error", "no run") if runs else "no run"
            self.crashed.append("duckdb")
            return
        out["load_wall_s"] = _median(sorted(r["load_wall_s"] for r in good))
        out["load_peak_rss"] = max(r["load_peak_rss"] for r in good)
        last = runs[-1]
        out["rows"] = good[-1]["rows"]
        out["db_bytes"] = good[-1]["db_bytes"]
        out["load_sql"] = good[-1]["load_sql"]
        out["version"] = good[-1]["duckdb_version"]
        out["threads"] = good[-1].get("threads")
        out["field"] = last.get("field", {})
        if self.events is not None and out["rows"] != self.events:
            out["warning"] = f"DuckDB loaded {out['rows']:,} rows, the corpus has {self.events:,} events"

    # -- queries on the finished index

    def queries(self) -> None:
        out_file = self.run_dir / "queries.json"
        out_file.unlink(missing_ok=True)
        if not self.cold_db.exists() or "error" in self.results.get("cold_index", {}):
            raise RuntimeError("no index (the cold index failed)")
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.workers",
            "queries",
            "--db",
            str(self.cold_db),
            "--out",
            str(out_file),
            "--reps",
            str(self.settings.filter_reps),
            "--jump-reps",
            str(self.settings.jump_reps),
            "--budget",
            str(self.settings.budget_s),
        ]
        if self.corpus.get("needle"):
            cmd += ["--needle", self.corpus["needle"]]
        run = self._run(cmd)
        if not out_file.exists():
            raise RuntimeError(f"queries worker: {run.describe_failure()}")
        self.results["queries"] = self._read_json(out_file)
        self.results["queries"]["wall_s"] = run.wall
        for group in ("field", "text", "jump"):
            for name, figures in self.results["queries"].get(group, {}).items():
                if "error" in figures:
                    self.crashed.append(f"{group} {name}")
        if "error" in self.results["queries"].get("actor_totals", {}):
            self.crashed.append("actor totals")

    # -- jq

    def jq(self) -> None:
        from benchmarks.common import JQ_FILTER

        text, program = JQ_FILTER
        if self.args.quick and (self.events or 0) > 200_000:
            self.results["jq"] = {"skipped": "--quick (one jq pass takes ~20 s per million events)"}
            return
        if shutil.which("jq") is None:
            self.results["jq"] = {"skipped": "jq is not installed (apt-get install jq)"}
            return
        gz = list(self.corpus_path.rglob("*.json.gz"))
        if not gz:
            self.results["jq"] = {"skipped": "no .json.gz files"}
            return
        script = f"set -o pipefail; find \"$1\" -name '*.json.gz' -print0 | xargs -0 zcat | jq -c '{program}' | wc -l"
        started = time.perf_counter()
        proc = subprocess.run(
            ["bash", "-c", script, "jq-bench", str(self.corpus_path)],
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"jq pipeline exit {proc.returncode}: {proc.stderr.strip()[-200:]}")
        self.results["jq"] = {
            "filter": text,
            "program": program,
            "wall_s": wall,
            "count": int(proc.stdout.strip() or 0),
        }

    # -- the app

    def app_fresh(self) -> None:
        app_db = self.run_dir / "trailtui-app.sqlite"
        self._remove_db(app_db)
        out_file = self.run_dir / "app-fresh.json"
        out_file.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.app_probe",
            "fresh",
            "--db",
            str(app_db),
            "--corpus",
            str(self.corpus_path),
            "--out",
            str(out_file),
            "--presses",
            str(self.settings.presses),
            "--timeout",
            str(self.timeout),
        ]
        if self.events:
            cmd += ["--expected", str(self.events)]
        run = self._run(cmd, timeout=self.timeout * 2, launch_arg="--launched")
        if not out_file.exists():
            raise RuntimeError(f"app probe: {run.describe_failure()}")
        data = self._read_json(out_file)
        mark = run.marks.get("indexed")
        data["peak_rss_while_indexing"] = mark["peak_rss"] if mark else run.peak_rss
        data["peak_rss_run"] = run.peak_rss
        data["peak_breakdown"] = run.peak_breakdown
        data["max_processes"] = run.max_processes
        data["process_wall_s"] = run.wall
        if not mark:
            data["warning"] = "the loader did not finish within the time limit"
        self.results["app_fresh"] = data
        if not args_ok(run):
            raise RuntimeError(f"app probe: {run.describe_failure()}")
        if data.get("first_rows_s") is None:
            raise RuntimeError("no rows reached the screen")
        self._remove_db(app_db)

    def app_reopen(self) -> None:
        if not self.cold_db.exists() or "error" in self.results.get("cold_index", {}):
            raise RuntimeError("no index (the cold index failed)")
        out_file = self.run_dir / "app-reopen.json"
        out_file.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.app_probe",
            "reopen",
            "--db",
            str(self.cold_db),
            "--corpus",
            str(self.corpus_path),
            "--out",
            str(out_file),
            "--expected",
            str(self.events),
            "--jumps",
            str(self.settings.app_jumps),
            "--timeout",
            str(min(self.timeout, 120)),
        ]
        run = self._run(cmd, launch_arg="--launched")
        if not out_file.exists():
            raise RuntimeError(f"app probe: {run.describe_failure()}")
        data = self._read_json(out_file)
        data["peak_rss_run"] = run.peak_rss
        self.results["app_reopen"] = data
        if not args_ok(run):
            raise RuntimeError(f"app probe: {run.describe_failure()}")
        if data.get("full_count_s") is None:
            raise RuntimeError(f"the first screen never showed all {self.events:,} events")


def args_ok(run) -> bool:
    return run.returncode == 0 and not run.timed_out


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


# ------------------------------------------------------------------------------------ the table


@dataclass
class Row:
    what: str
    trailtui: str = ""
    target: str = ""
    peer: str = ""
    ratio: str = ""
    met: str = ""
    error: bool = False


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _s(value: float | None) -> str:
    return "-" if value is None else (f"{value:.2f} s" if value < 10 else f"{value:,.1f} s")


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / MB:,.0f} MB"


def _size(value: int) -> str:
    """MB (2^20 bytes), or KB below one MB so a small companion file does not read as 0."""
    return _mb(value) if value >= MB else f"{value / 1024:,.0f} KB"


def _decimal_size(value: int) -> str:
    return f"{value / 1e9:.2f} GB" if value >= 1e9 else f"{value / 1e6:,.0f} MB"


def _ratio(ours: float | None, peer: float | None) -> str:
    if ours is None or not peer:
        return ""
    ratio = ours / peer
    if 0 < ratio < 0.01:
        return f"1/{1 / ratio:,.0f}"
    return f"{ratio:.2f}"


def _met(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "NO")


def _err(message: str) -> str:
    first = str(message).strip().splitlines()[0] if str(message).strip() else "failed"
    return "error: " + (first if len(first) <= 70 else first[:69] + "…")


def build_rows(results: dict, events: int | None) -> list[Row]:
    """The table: issue #10's target rows in its order, each followed by its detail rows."""
    groups = (
        ("cold index until every field filter counts the whole corpus", _rows_cold_fields),
        ("cold index until free text is ready too", _rows_cold_text),
        ("index size on disk", _rows_index_size),
        ("peak memory (RSS, app + loader) while indexing", _rows_memory),
        ("time per event vs the 1M run", _rows_scale),
        ("first rows on screen after `trailtui DIR` starts", _rows_first_screen),
        ("reopen an unchanged, already indexed tree to the first screen", _rows_reopen),
        ("a field filter: count + first screen", _rows_field_filters),
        ("free-text filter (a word anywhere in the event)", _rows_free_text),
        ("jump to any position (`G`, page down at row 900,000)", _rows_jump),
        ("identity pane totals for an actor with 100k events", _rows_identity),
        ("key press to repaint while the loader runs at full speed", _rows_keys),
    )
    rows: list[Row] = []
    for title, group in groups:
        try:
            rows += group(results, events)
        except Exception as err:  # noqa: BLE001 - a figure missing in an unforeseen way
            rows.append(Row(title, _err(f"harness: {type(err).__name__}: {err}"), error=True))
    return rows


def _section_error(section: dict, fallback: str = "not measured") -> str:
    return section.get("error") or fallback


def _cold_row(results: dict, title: str, key: str, max_ratio: float, missing: str) -> Row:
    """A cold-index row: ``cold_index[key]`` seconds against DuckDB's load, target a ratio."""
    cold, duck = results.get("cold_index", {}), results.get("duckdb", {})
    row = Row(title, target=f"<= {max_ratio:.1f} x DuckDB")
    ours = cold.get(key) if "error" not in cold else None
    peer = duck.get("load_wall_s") if "error" not in duck else None
    if ours is None:
        row.trailtui, row.error = _err(_section_error(cold, missing)), True
    else:
        row.trailtui = _s(ours) + (f" ({cold['events'] / ours:,.0f} ev/s)" if cold.get("events") else "")
    if peer is None:
        row.peer, row.error = "DuckDB " + _err(_section_error(duck)), True
    else:
        row.peer = f"DuckDB read_json {_s(peer)}"
    if ours is not None and peer:
        row.ratio, row.met = f"{ours / peer:.2f}", _met(ours / peer <= max_ratio)
    return row


def _rows_cold_fields(results: dict, events: int | None) -> list[Row]:
    return [
        _cold_row(
            results,
            "cold index until every field filter counts the whole corpus",
            "fields_ready_s",
            COLD_FIELDS_MAX_RATIO,
            "the loader reported neither 'indexing free text' nor 'done'",
        )
    ]


def _rows_cold_text(results: dict, events: int | None) -> list[Row]:
    """Launch to ``trailtui index``'s exit, then each loader phase's seconds (and per event)."""
    rows = [
        _cold_row(
            results,
            "cold index until free text is ready too (`trailtui index` exits)",
            "wall_s",
            COLD_TEXT_MAX_RATIO,
            "not measured",
        )
    ]
    cold = results.get("cold_index", {})
    count = cold.get("events") or events
    for name, seconds in (cold.get("phase_s") or {}).items():
        per_event = f" = {seconds / count * 1e6:,.2f} µs/event" if count else ""
        rows.append(Row(f"  phase: {PHASE_LABELS.get(name, name)}", _s(seconds) + per_event))
    return rows


def _rows_scale(results: dict, events: int | None) -> list[Row]:
    """Seconds per event of this run's cold index against the baseline run's (the 1M run), in
    total, until the field filters were complete, and per phase (a superlinear phase shows)."""
    base, cold = results.get("baseline", {}), results.get("cold_index", {})
    row = Row(f"time per event vs the {BASELINE_EVENTS:,}-event run (cold index)", target=f"<= {SCALE_MAX_RATIO} x")
    if base.get("skipped"):
        row.trailtui = f"no comparison: {base['skipped']}"
        return [row]
    if base.get("error"):
        row.trailtui, row.error = _err(base["error"]), True
        return [row]
    count, base_count = cold.get("events") or events, base.get("events")
    if not (count and cold.get("wall_s") and base_count and base.get("wall_s")):
        row.trailtui, row.error = _err(_section_error(cold, "no cold index figure")), True
        return [row]

    def compare(what: str, ours_s: float | None, base_s: float | None, target: str) -> Row:
        line = Row(what, target=target)
        if ours_s is None or base_s is None:
            line.trailtui = "-"
            return line
        ours_us, base_us = ours_s / count * 1e6, base_s / base_count * 1e6
        line.trailtui = f"{ours_us:,.2f} µs/event ({count:,} events)"
        line.peer = f"{base_count:,}-event run {base_us:,.2f} µs/event"
        if base_us > 0:
            line.ratio, line.met = f"{ours_us / base_us:.2f}", _met(ours_us / base_us <= SCALE_MAX_RATIO)
        return line

    head = compare(f"time per event vs the {base_count:,}-event run (cold index)", cold["wall_s"], base["wall_s"], row.target)
    rows = [
        head,
        compare("  until every field filter counts", cold.get("fields_ready_s"), base.get("fields_ready_s"), row.target),
    ]
    base_phases = base.get("phase_s") or {}
    for name, seconds in (cold.get("phase_s") or {}).items():
        rows.append(
            compare(f"  phase: {PHASE_LABELS.get(name, name)}", seconds, base_phases.get(name), f"<= {SCALE_MAX_RATIO} x")
        )
    rows.append(Row(f"  baseline: {Path(base['path']).name}", f"{base.get('git') or '?'}, {base.get('started') or '?'}"))
    return rows


def _rows_first_screen(results: dict, events: int | None) -> list[Row]:
    fresh = results.get("app_fresh", {})
    row = Row("first rows on screen after `trailtui DIR` starts", target="<= 1 s")
    value = fresh.get("first_rows_s")
    if value is None:
        row.trailtui, row.error = _err(_section_error(fresh)), True
        return [row]
    row.trailtui = _s(value) + (
        f" ({fresh['first_rows_count']:,} rows counted)" if fresh.get("first_rows_count") else ""
    )
    row.met = _met(value <= 1.0)
    rows = [row, Row("  app up, counts shown (0 allowed)", _s(fresh.get("counts_on_screen_s")))]
    done = fresh.get("loader_done_s")
    rows.append(
        Row(
            "  whole corpus indexed in the app",
            _s(done) + (f" ({fresh['final_count']:,} events)" if fresh.get("final_count") else "")
            if done
            else "did not finish",
        )
    )
    return rows


def _rows_reopen(results: dict, events: int | None) -> list[Row]:
    reopen = results.get("app_reopen", {})
    row = Row("reopen an unchanged, already indexed tree to the first screen", target="<= 0.5 s")
    value = reopen.get("full_count_s") if "error" not in reopen else None
    if value is None:
        row.trailtui, row.error = _err(_section_error(reopen)), True
    else:
        row.trailtui = _s(value) + (f" (all {events:,} events)" if events else "")
        row.met = _met(value <= 0.5)
    return [row]


def _rows_field_filters(results: dict, events: int | None) -> list[Row]:
    return _filter_rows(
        "a field filter: count + first screen",
        results.get("queries", {}),
        "field",
        50.0,
        duck=results.get("duckdb", {}),
        jq=results.get("jq", {}),
    )


def _rows_free_text(results: dict, events: int | None) -> list[Row]:
    needle = results.get("corpus", {}).get("needle")
    labels = {needle: "(an access key ID)"} if needle else {}
    return _filter_rows(
        "free-text filter (a word anywhere in the event)", results.get("queries", {}), "text", 200.0, labels=labels
    )


def _rows_jump(results: dict, events: int | None) -> list[Row]:
    queries, reopen = results.get("queries", {}), results.get("app_reopen", {})
    row = Row("jump to any position (`G`, page down at row 900,000)", target="<= 30 ms")
    jumps = queries.get("jump", {})
    rows = [row]
    good = {name: fig for name, fig in jumps.items() if "median_ms" in fig}
    if not jumps:
        row.trailtui, row.error = _err(_section_error(queries)), True
    elif len(good) < len(jumps):
        bad = next(fig for fig in jumps.values() if "median_ms" not in fig)
        row.trailtui, row.error = _err(_section_error(bad)), True
    else:
        worst = max(fig["median_ms"] for fig in good.values())
        row.trailtui = f"median {_ms(worst)} (worst of the jumps)"
        row.met = _met(worst <= 30)
    for name, fig in jumps.items():
        if "median_ms" not in fig:
            rows.append(Row(f"  {name}", _err(_section_error(fig)), error=True))
        else:
            rows.append(
                Row(
                    f"  {name}: EventQuery.page({fig['offset']:,}, 50)",
                    f"median {_ms(fig['median_ms'])}",
                    "<= 30 ms",
                    met=_met(fig["median_ms"] <= 30),
                )
            )
    app_jump = reopen.get("jump_keys", {}).get("G", {})
    if app_jump.get("n"):
        rows.append(
            Row(
                "  G in the app: key to repaint (index complete)",
                f"median {_ms(app_jump['median_ms'])}",
                "<= 30 ms",
                met=_met(app_jump["median_ms"] <= 30),
            )
        )
    return rows


def _rows_identity(results: dict, events: int | None) -> list[Row]:
    queries = results.get("queries", {})
    totals = queries.get("actor_totals", {})
    row = Row("identity pane totals for an actor with 100k events", target="<= 100 ms")
    if "median_ms" not in totals:
        row.trailtui, row.error = _err(_section_error(totals, _section_error(queries))), True
        return [row]
    row.trailtui = f"median {_ms(totals['median_ms'])}"
    row.met = _met(totals["median_ms"] <= 100)
    return [row, Row(f"  busiest actor: {totals['actor_events']:,} events", str(totals.get("actor_key", "")))]


def _rows_keys(results: dict, events: int | None) -> list[Row]:
    fresh = results.get("app_fresh", {})
    keys = fresh.get("keys", {})
    row = Row("key press to repaint while the loader runs at full speed", target="p95 <= 100 ms")
    if not keys.get("all", {}).get("n"):
        row.trailtui, row.error = _err(_section_error(fresh, "no key was measured")), True
        return [row]
    row.trailtui = f"p95 {_ms(keys['all']['p95_ms'])} (p50 {_ms(keys['all']['median_ms'])})"
    row.met = _met(keys["all"]["p95_ms"] <= 100)
    rows = [row]
    for kind, label in (("line", "j / k"), ("page", "pagedown / pageup")):
        figures = keys.get(kind, {})
        if figures.get("n"):
            rows.append(Row(f"  {label}", f"p95 {_ms(figures['p95_ms'])} (p50 {_ms(figures['median_ms'])})"))
    rate = keys.get("achieved_rate_per_s") or 0
    rows.append(
        Row(
            "  keys sent while the loader ran",
            f"{keys.get('during_load', 0)}/{keys.get('measured', 0)} at {rate:.0f}/s",
        )
    )
    return rows


def _rows_memory(results: dict, events: int | None) -> list[Row]:
    fresh, cold, duck = results.get("app_fresh", {}), results.get("cold_index", {}), results.get("duckdb", {})
    row = Row("peak memory (RSS, app + loader) while indexing", target="<= 300 MB")
    peak = fresh.get("peak_rss_while_indexing")
    duck_peak = duck.get("load_peak_rss")
    if peak:
        row.trailtui = _mb(peak)
        row.met = _met(peak <= 300 * MB)
    else:
        row.trailtui, row.error = _err(_section_error(fresh)), True
    if duck_peak:
        row.peer, row.ratio = f"DuckDB {_mb(duck_peak)}", _ratio(peak, duck_peak)
    else:
        row.peer = "DuckDB " + _err(_section_error(duck))
    rows = [row]
    if cold.get("peak_rss"):
        rows.append(
            Row(
                "  `trailtui index` (CLI) peak RSS",
                _mb(cold["peak_rss"]),
                "<= 300 MB",
                f"DuckDB {_mb(duck_peak)}" if duck_peak else "",
                _ratio(cold["peak_rss"], duck_peak),
                _met(cold["peak_rss"] <= 300 * MB),
            )
        )
    return rows


def _rows_index_size(results: dict, events: int | None) -> list[Row]:
    cold, duck = results.get("cold_index", {}), results.get("duckdb", {})
    row = Row("index size on disk (index + its companion files)", target=f"<= {INDEX_SIZE_MAX_FACTOR} x JSON")
    json_size = results.get("corpus", {}).get("json_bytes")
    if not (cold.get("index_bytes") and json_size):
        row.trailtui, row.error = _err(_section_error(cold)), True
        return [row]
    factor = cold["index_bytes"] / json_size
    row.trailtui = f"{_mb(cold['index_bytes'])} = {factor:.2f} x JSON"
    row.met = _met(factor <= INDEX_SIZE_MAX_FACTOR)
    if duck.get("db_bytes"):
        row.peer = f"DuckDB file {_mb(duck['db_bytes'])} = {duck['db_bytes'] / json_size:.2f} x"
        row.ratio = _ratio(cold["index_bytes"], duck["db_bytes"])
    files = cold.get("index_files") or {}
    main_name = Path(cold.get("index_path", "")).name
    parts = [f"{name[len(main_name):] or 'main'} {_size(size)}" for name, size in files.items()]
    return [row, Row("  files (main, -wal, shards, ...)", ", ".join(parts) or "-")]


def _filter_rows(
    title: str,
    queries: dict,
    group: str,
    target_ms: float,
    *,
    duck: dict | None = None,
    jq: dict | None = None,
    labels: dict | None = None,
) -> list[Row]:
    """The head row (worst p95 of the group) and one row per filter, with DuckDB and jq beside."""
    figures = queries.get(group, {})
    head = Row(title, target=f"p95 <= {target_ms:.0f} ms")
    rows = [head]
    if not figures:
        head.trailtui, head.error = _err(_section_error(queries)), True
        return rows
    ok = {name: fig for name, fig in figures.items() if "error" not in fig}
    if len(ok) < len(figures):
        head.error = True
    if ok:
        worst_name = max(ok, key=lambda name: ok[name]["p95_ms"])
        worst = ok[worst_name]["p95_ms"]
        head.trailtui = f"p95 {_ms(worst)} (worst: {worst_name})"
        head.met = _met(worst <= target_ms and not head.error)
        duck_field = (duck or {}).get("field", {})
        duck_ok = [fig["p95_ms"] for fig in duck_field.values() if "p95_ms" in fig]
        if duck_ok and len(duck_ok) == len(duck_field):
            head.peer = f"DuckDB p95 {_ms(max(duck_ok))} (worst)"
            head.ratio = _ratio(worst, max(duck_ok))
        elif duck is not None:
            head.peer = "DuckDB " + _err(_section_error(duck))
    else:
        head.trailtui = _err(next(iter(figures.values()))["error"])
    for name, fig in figures.items():
        if "error" in fig:
            rows.append(Row(f"  {name}", _err(fig["error"]), error=True))
            continue
        label = f"{name} {(labels or {}).get(name, '')}".rstrip()
        matches = f"{fig['count']:,} match" + ("" if fig["count"] == 1 else "es")
        row = Row(
            f"  {label}  ({matches})",
            f"p95 {_ms(fig['p95_ms'])} (p50 {_ms(fig['median_ms'])})",
            f"p95 <= {target_ms:.0f} ms",
            met=_met(fig["p95_ms"] <= target_ms),
        )
        peer = (duck or {}).get("field", {}).get(name) if duck is not None else None
        if peer:
            if "error" in peer:
                row.peer, row.error = "DuckDB " + _err(peer["error"]), True
            else:
                row.peer = f"DuckDB p95 {_ms(peer['p95_ms'])}"
                row.ratio = _ratio(fig["p95_ms"], peer["p95_ms"])
        elif duck is not None and "error" in duck:
            row.peer = "DuckDB " + _err(duck["error"])
        rows.append(row)
        if jq is not None and jq.get("filter") == name and jq.get("wall_s"):
            rows.append(
                Row(
                    f"  {name} vs zcat | jq (one pass)",
                    f"p95 {_ms(fig['p95_ms'])}",
                    "",
                    f"jq {_s(jq['wall_s'])}",
                    _ratio(fig["p95_ms"] / 1000, jq["wall_s"]),
                )
            )
        elif jq is not None and jq.get("filter") is None and name == "name:GetObject":
            if jq.get("skipped"):
                rows.append(Row(f"  {name} vs zcat | jq", "", "", f"jq skipped: {jq['skipped']}"))
            elif jq.get("error"):
                rows.append(Row(f"  {name} vs zcat | jq", "", "", "jq " + _err(jq["error"]), error=True))
    return rows


def render_table(rows: list[Row]) -> str:
    headers = ("what", "trailtui", "target", "peer", "ratio", "met?")
    cells = [(r.what, r.trailtui, r.target, r.peer, r.ratio, r.met) for r in rows]
    return text_table(headers, cells, (70, 48, 26, 40, 7, 5))


def consistency_notes(results: dict, events: int | None) -> list[str]:
    """Counts that should agree between trailtui, DuckDB and jq (the same question, the same data)."""
    notes = []
    duck = results.get("duckdb", {})
    cold = results.get("cold_index", {})
    for source in (cold, duck):
        if source.get("warning"):
            notes.append(source["warning"])
    ours = results.get("queries", {}).get("field", {})
    for name, peer in duck.get("field", {}).items():
        mine = ours.get(name, {})
        if "count" in mine and "count" in peer and mine["count"] != peer["count"]:
            notes.append(f"{name}: trailtui counts {mine['count']:,}, DuckDB {peer['count']:,}")
    jq = results.get("jq", {})
    if jq.get("filter") and "count" in ours.get(jq["filter"], {}) and ours[jq["filter"]]["count"] != jq.get("count"):
        notes.append(f"{jq['filter']}: trailtui counts {ours[jq['filter']]['count']:,}, jq {jq.get('count'):,}")
    for name, fig in results.get("queries", {}).get("text", {}).items():
        if fig.get("count") == 0:
            notes.append(f"free text {name!r} matched nothing (the timing is of an empty result)")
    totals = results.get("queries", {}).get("actor_totals", {})
    if totals.get("actor_events") and totals["actor_events"] < 100_000:
        notes.append(
            f"the busiest actor in this corpus has {totals['actor_events']:,} events, not 100k: "
            "the identity totals figure is for that actor"
        )
    for part in ("app_fresh", "app_reopen"):
        if results.get(part, {}).get("warning"):
            notes.append(f"{part}: {results[part]['warning']}")
    busy = [run for run in results.get("contention", []) if (run.get("others_cores") or 0) >= BUSY_MACHINE_CORES]
    if busy:
        parts = ", ".join(f"{run['what']} {run['others_cores']:.1f}" for run in busy)
        notes.append(
            f"the machine was busy with other work (cores other processes kept busy, on average, during: {parts}); "
            "those figures are slower than on a quiet machine"
        )
    keys = results.get("app_fresh", {}).get("keys", {})
    if keys.get("measured") and keys.get("during_load", 0) < keys["measured"]:
        notes.append(
            f"only {keys['during_load']} of {keys['measured']} keys were sent while the loader ran "
            "(the corpus indexed faster than the keys were sent)"
        )
    return notes


# ------------------------------------------------------------------------------------ main


def versions() -> dict:
    facts = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    for module in ("trailtui", "textual", "duckdb", "psutil"):
        try:
            facts[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001
            facts[module] = None
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "trailtui"], capture_output=True, text=True
        )
        if commit.returncode == 0:
            facts["git"] = commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        pass
    try:
        facts["jq"] = subprocess.run(["jq", "--version"], capture_output=True, text=True).stdout.strip() or None
    except OSError:
        facts["jq"] = None
    return facts


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="corpus size (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", help="measure this directory instead of a generated corpus")
    parser.add_argument(
        "--workdir", help="corpora, indexes and results (default $TRAILTUI_BENCH_DIR or ~/.cache/trailtui-bench)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI's smoke run)")
    parser.add_argument("--generator", help="path of gen_cloudtrail.py")
    parser.add_argument("--index-reps", type=int, help="cold index runs of each of trailtui and DuckDB (median)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes built in <workdir>/run-<N>")
    parser.add_argument(
        "--delete-corpus", action="store_true", help="remove the generated corpus when done (a 10M corpus is ~1 GB gzipped)"
    )
    parser.add_argument(
        "--baseline",
        help=f"results JSON whose cold index time per event this run's is compared with "
        f"(default <workdir>/results-{BASELINE_EVENTS}.json)",
    )
    args = parser.parse_args(argv)
    if args.delete_corpus and args.corpus:
        parser.error("--delete-corpus removes a generated corpus only, not --corpus")
    return args


def delete_corpus(args, workdir: Path) -> None:
    """Remove the generated corpus ``<workdir>/corpus-<N>-<seed>`` and its marker (--delete-corpus)."""
    root = workdir / f"corpus-{args.events}-{args.seed}"
    log(f"removing the corpus {root} (--delete-corpus)")
    (workdir / f"corpus-{args.events}-{args.seed}.complete.json").unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)


def load_baseline(args, workdir: Path, events: int | None) -> dict:
    """The baseline run's cold index figures, for the "time per event" rows: ``{"path", "events",
    "wall_s", "fields_ready_s", "phase_s", "git", "started"}`` (seconds), or ``{"skipped": why}``
    (no baseline: this is the baseline run, or there is no such file), or ``{"error": why}`` (the
    file cannot be read)."""
    path = Path(args.baseline).expanduser() if args.baseline else workdir / f"results-{BASELINE_EVENTS}.json"
    if not args.baseline and events == BASELINE_EVENTS:
        return {"skipped": f"this is the {BASELINE_EVENTS:,}-event run, the baseline of a 10M run"}
    if not path.exists():
        if args.baseline:
            return {"error": f"--baseline {path}: no such file"}
        return {"skipped": f"no {path.name} in the workdir (run --events {BASELINE_EVENTS} there first)"}
    try:
        data = json.loads(path.read_text())
        cold = data.get("cold_index") or {}
        base = {
            "path": str(path),
            "events": cold.get("events") or (data.get("corpus") or {}).get("events"),
            "wall_s": cold.get("wall_s"),
            "fields_ready_s": cold.get("fields_ready_s"),
            "phase_s": cold.get("phase_s") or {},
            "git": (data.get("machine") or {}).get("git"),
            "started": data.get("started"),
        }
    except (OSError, ValueError, AttributeError) as err:
        return {"error": f"{path}: not a results file ({err})"}
    if not (base["events"] and base["wall_s"]):
        return {"error": f"{path.name} has no cold index figure"}
    return base


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import psutil  # noqa: F401
    except ImportError:
        print("benchmarks: psutil is missing: pip install '.[bench]'", file=sys.stderr)
        return 1
    from benchmarks import procmon

    run_started = time.perf_counter()
    workdir, corpus = workdir_and_corpus(args)
    settings = Settings.for_run(corpus.get("events") or args.events, args.quick, args.index_reps)
    bench = Bench(args, workdir, corpus, settings)
    bench.results.update(
        {
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "corpus": corpus,
            "settings": settings.__dict__,
            "machine": {**procmon.machine_facts(), **versions()},
            "quick": args.quick,
        }
    )
    measured_started = time.perf_counter()
    bench.guarded("cold index + DuckDB load", bench.cold_index_and_duckdb, ("cold_index", "duckdb"))
    bench.guarded("queries", bench.queries, ("queries",))
    bench.guarded("jq", bench.jq, ("jq",))
    bench.guarded("app (reopen)", bench.app_reopen, ("app_reopen",))
    if not args.keep:
        # Only one index of the corpus on disk at a time (at 10M each is several GB).
        bench._remove_db(bench.cold_db)
    bench.guarded("app (fresh index)", bench.app_fresh, ("app_fresh",))
    if not args.keep:
        for name in ("trailtui-cold.sqlite", "trailtui-app.sqlite", "duckdb.duckdb"):
            bench._remove_db(bench.run_dir / name)
    if args.delete_corpus:
        delete_corpus(args, workdir)
    bench.results["measure_s"] = time.perf_counter() - measured_started
    bench.results["total_s"] = time.perf_counter() - run_started

    events = bench.events
    bench.results["baseline"] = load_baseline(args, workdir, events)
    rows = build_rows(bench.results, events)
    bench.results["table"] = [row.__dict__ for row in rows]
    bench.results["crashed"] = sorted(set(bench.crashed))
    notes = consistency_notes(bench.results, events)
    bench.results["notes"] = notes
    out_path = workdir / f"results-{events or 'corpus'}.json"
    from benchmarks.common import write_json

    write_json(out_path, bench.results)

    machine = bench.results["machine"]
    print()
    print(
        f"trailtui benchmark: {events or '?':,} events in {corpus['files']:,} files "
        f"({_decimal_size(corpus['gz_bytes'])} gzipped, {_decimal_size(corpus['json_bytes'])} JSON) · {corpus['path']}"
        if isinstance(events, int)
        else f"trailtui benchmark: {corpus['path']}"
    )
    print(
        f"machine: {machine.get('cores')} cores, {machine.get('ram_bytes', 0) / 1024**3:.0f} GiB RAM, "
        f"{machine.get('cpu', '?')} · Python {machine['python']} · SQLite {machine['sqlite']} · "
        f"DuckDB {machine.get('duckdb')} · Textual {machine.get('textual')} · {machine.get('jq') or 'no jq'} · "
        f"trailtui {machine.get('trailtui')} ({machine.get('git', '?')})"
    )
    print(
        f"mode: {'quick' if args.quick else 'full'}; medians/p95 over {settings.filter_reps} runs per filter after a warm-up; "
        f"cold index {settings.index_reps} run(s) each"
    )
    print()
    print(render_table(rows))
    print()
    for note in notes:
        print(f"note: {note}")
    for section in ("cold_index", "duckdb", "queries", "jq", "app_fresh", "app_reopen"):
        if bench.results.get(section, {}).get("error"):
            print(f"error: {section}: {bench.results[section]['error']}")
    print(f"results: {out_path}")
    print(f"measured in {bench.results['measure_s']:.0f} s (total {bench.results['total_s']:.0f} s)")
    return 1 if bench.results["crashed"] or any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
