"""The S3 source on the benchmark corpus, served by a local S3 API (issue #11).

    python -m benchmarks.s3_source                       # 1,000,000 events, seed 7 (the benchmark corpus)
    python -m benchmarks.s3_source --events 20000        # a quick run
    python -m benchmarks.s3_source --corpus ~/logs       # your own tree (uploaded as it is)

The corpus (generated as ``benchmarks.run`` does, into the same workdir) is uploaded to moto's S3
server on 127.0.0.1 (``tests/s3_server.py``: the server the tests use; run from the checkout's
root with the ``test`` extra installed), then, each in a subprocess:

* **indexed rate**: ``trailtui index s3://bench/`` (listing, 16 download threads, decoding as
  objects land) against ``trailtui index CORPUS`` from local disk, events per second; target: the
  S3 rate at least 0.8 times the local one (the downloads overlap the indexing). ``--repeat N``
  runs (default 3), local and S3 alternated; medians, and the ratio of each pair. The CPU seconds
  of the loader (and its decoders) are shown beside them: what the S3 path costs trailtui itself.
* **first screen**: the app (``benchmarks.app_probe``, headless, 160x45) opened on the bucket
  with one account, one region and the corpus's last two days (the issue's ``--since -2d
  --account A --region R``): seconds from launch to the first rows on screen, beside the same app
  opened on the local tree; target 2 s. Also opened on the whole bucket (every object listed first).
* **objects per second**: the same objects (every one up to ``--sample``) fetched by trailtui's
  downloader (:class:`trailtui.core.sources.s3.Downloads`, into a scratch cache) and by a plain
  sequential boto3 loop (``get_object`` then ``read``), in this process.

The S3 server runs in this process (Python, threaded): on a small machine it competes with the
loader for the cores, so the figures are a floor for what a real S3 endpoint gives.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import text_table, write_json
from benchmarks.run import corpus_files, log, subprocess_env, workdir_and_corpus

REPO_ROOT = Path(__file__).resolve().parents[1]
BUCKET = "bench"
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
}


def _events_in(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def _timed_index(paths: list[str], db: Path, extra: list[str], env: dict) -> dict:
    """``trailtui index`` in a subprocess: wall seconds, CPU seconds of the loader and its
    decoders, events in the index, events per second."""
    for stale in db.parent.glob(db.stem + "*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "trailtui", "index", *paths, "--db", str(db), *extra],
                          capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 3):
        raise RuntimeError(f"trailtui index {paths}: exit {done.returncode}: {done.stderr[-2000:]}")
    events = _events_in(db)
    return {"wall_s": wall, "loader_cpu_s": cpu, "events": events, "rate": events / wall if wall else None,
            "exit": done.returncode}


def _first_screen(corpus: str, db: Path, workdir: Path, options, env: dict) -> dict:
    """The app probe opened on ``corpus`` (``options``: S3Options for an ``s3://`` one): seconds
    to the first rows and to a finished load."""
    extra = ["--s3-options", json.dumps(options.to_dict())] if options is not None else []
    for stale in db.parent.glob(db.stem + "*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    out = workdir / f"probe-{db.stem}.json"
    launched = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.app_probe", "fresh", "--db", str(db), "--corpus", corpus, "--out", str(out),
         "--presses", "0", "--launched", str(launched), *extra],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT,
    )
    result = json.loads(out.read_text()) if out.exists() else {}
    if done.returncode != 0 or "error" in result:
        raise RuntimeError(f"app probe on {corpus}: {result.get('error') or done.stderr[-2000:]}")
    return result


def _median_run(runs: list[dict]) -> dict:
    """The median of each figure over ``runs`` (the rate from the median wall time)."""
    median = {name: statistics.median(run[name] for run in runs) for name in runs[0] if name not in ("rate", "exit")}
    median["events"] = round(median["events"])
    median["rate"] = median["events"] / median["wall_s"]
    return median


class _Days(list):
    account = region = ""


def _last_days(files: list[Path], root: Path, count: int) -> _Days | None:
    """The last ``count`` day folders (ISO dates) of the account and region with the most days
    in CloudTrail's layout (fewer when it has fewer); None outside the layout."""
    from trailtui.core.sources import layout

    found: dict[tuple[str, str], set[str]] = {}
    for path in files:
        position = layout.position_of(str(path.parent.relative_to(root)) + "/")
        if position.level == "day":
            day = f"{position.year:04d}-{position.month:02d}-{position.day:02d}"
            found.setdefault((position.account, position.region), set()).add(day)
    if not found:
        return None
    (account, region), days = max(sorted(found.items()), key=lambda item: len(item[1]))
    picked = _Days(sorted(days)[-count:])
    picked.account, picked.region = account, region
    return picked


def _objects_per_second(client, keys: list[str], workdir: Path) -> dict:
    """The same objects through trailtui's downloader and through a plain sequential loop."""
    from trailtui.core.sources.s3 import Downloads, S3Object

    objects = [S3Object(BUCKET, key, 0, "") for key in keys]
    cache = Path(tempfile.mkdtemp(dir=workdir, prefix="s3cache-"))
    try:
        started = time.perf_counter()
        downloads = Downloads(client, cache)
        for future in [downloads.submit(obj) for obj in objects]:
            future.result()
        downloads.close()
        ours = time.perf_counter() - started
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    started = time.perf_counter()
    received = 0
    for key in keys:
        received += len(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    plain = time.perf_counter() - started
    return {"objects": len(keys), "bytes": received, "trailtui_s": ours, "sequential_s": plain,
            "trailtui_per_s": len(keys) / ours, "sequential_per_s": len(keys) / plain}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.s3_source", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", default=None, help="a local tree to upload instead of a generated corpus")
    parser.add_argument("--generator", default=None)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--sample", type=int, default=600, help="objects fetched both ways for objects/s")
    parser.add_argument("--repeat", type=int, default=3,
                        help="indexing runs from local disk and from the bucket, alternated (medians are reported)")
    args = parser.parse_args(argv)
    workdir, info = workdir_and_corpus(args)
    root = Path(args.corpus).expanduser().resolve() if args.corpus else workdir / f"corpus-{args.events}-{args.seed}"
    files = corpus_files(root)

    os.environ.update(_AWS_ENV)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sys.path.insert(0, str(REPO_ROOT))
    from tests.s3_server import S3TestServer
    from trailtui.core.sources.s3 import S3Options, make_client

    results: dict = {"corpus": {"root": str(root), "files": len(files), **{k: info.get(k) for k in ("events", "seed")}}}
    env = {**subprocess_env(), **_AWS_ENV}
    with S3TestServer() as server:
        client = make_client(S3Options(endpoint_url=server.endpoint_url))
        client.create_bucket(Bucket=BUCKET)
        keys = [str(path.relative_to(root)) for path in files]
        log(f"uploading {len(keys):,} objects to the local S3 server")
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda key: client.upload_file(str(root / key), BUCKET, key), keys))
        results["upload_s"] = time.perf_counter() - started
        s3 = ["--endpoint-url", server.endpoint_url]
        url = f"s3://{BUCKET}/"
        everything = S3Options(endpoint_url=server.endpoint_url)
        # The case: one account and region, two days (the corpus's last two days).
        last = _last_days(files, root, 2)
        narrow = S3Options(since=f"{last[0]}T00:00:00Z", until=f"{last[-1]}T23:59:59Z", accounts=(last.account,),
                           regions=(last.region,), endpoint_url=server.endpoint_url) if last else None

        # Alternated, so that a slow spell of a shared machine falls on both sides.
        local_runs, s3_runs = [], []
        for run in range(1, max(1, args.repeat) + 1):
            log(f"run {run}: trailtui index from local disk")
            local_runs.append(_timed_index([str(root)], workdir / "s3bench-local.sqlite", [], env))
            log(f"run {run}: trailtui index from the bucket")
            server_cpu = time.process_time()  # this process serves the S3 API (moto, the proxy)
            s3_runs.append(_timed_index([url], workdir / "s3bench-s3.sqlite", s3, env))
            s3_runs[-1]["server_cpu_s"] = time.process_time() - server_cpu
            server.take_requests()
        results["local_index"], results["s3_index"] = _median_run(local_runs), _median_run(s3_runs)
        results["local_runs"], results["s3_runs"] = local_runs, s3_runs
        log("app on the local tree, then on the bucket: time to the first rows")
        results["local_app"] = _first_screen(str(root), workdir / "s3bench-app-local.sqlite", workdir, None, env)
        results["s3_app"] = _first_screen(url, workdir / "s3bench-app-s3.sqlite", workdir, everything, env)
        if narrow is not None:
            results["s3_app_narrow"] = _first_screen(url, workdir / "s3bench-app-narrow.sqlite", workdir, narrow, env)
            results["s3_app_narrow"]["options"] = narrow.to_dict()
        log(f"objects per second: {min(args.sample, len(keys))} objects both ways")
        results["objects"] = _objects_per_second(client, keys[: args.sample], workdir)
    for stale in workdir.glob("s3bench-*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()

    local, remote = results["local_index"], results["s3_index"]
    rate_ratio = remote["rate"] / local["rate"]
    first, local_first = results["s3_app"].get("first_rows_s"), results["local_app"].get("first_rows_s")
    narrow_first = results.get("s3_app_narrow", {}).get("first_rows_s")
    options = results.get("s3_app_narrow", {}).get("options") or {}
    narrow_what = (f"one account and region, 2 days: --account {','.join(options.get('accounts', ()))} --region "
                   f"{','.join(options.get('regions', ()))} --since {options.get('since')}") if options else "(no layout)"
    objects = results["objects"]
    pairs = [s3_run["rate"] / local_run["rate"] for local_run, s3_run in zip(results["local_runs"], results["s3_runs"])]
    runs = len(pairs)
    rows = [
        (f"indexed rate, events/s{' (median)' if runs > 1 else ''}", f"{remote['rate']:,.0f} (S3)", "≥ 0.8× local",
         f"{local['rate']:,.0f} (local disk)", f"{rate_ratio:.2f}", "yes" if rate_ratio >= 0.8 else "no"),
        ("  wall time, s", f"{remote['wall_s']:.1f}", "", f"{local['wall_s']:.1f}", "", ""),
        (f"  ratio in each of {runs} runs", " ".join(f"{ratio:.2f}" for ratio in pairs), "", "", "", ""),
        ("  loader's CPU, s", f"{remote['loader_cpu_s']:.1f}", "", f"{local['loader_cpu_s']:.1f}",
         f"{remote['loader_cpu_s'] / local['loader_cpu_s']:.2f}", ""),
        ("  local S3 server's CPU, s", f"{remote['server_cpu_s']:.1f}", "", f"of {os.cpu_count()} cores", "", ""),
        ("  events indexed", f"{remote['events']:,}", "same", f"{local['events']:,}", "",
         "yes" if remote["events"] == local["events"] else "no"),
        ("time to first screen, s", f"{narrow_first:.2f} (S3)" if narrow_first else "-", "≤ 2 s",
         f"{local_first:.2f} (local disk)" if local_first else "-",
         f"{narrow_first / local_first:.2f}" if narrow_first and local_first else "-",
         "yes" if narrow_first and narrow_first <= 2 else "no"),
        ("  the whole bucket", f"{first:.2f}" if first else "-", "", "", "", ""),
        ("objects/s", f"{objects['trailtui_per_s']:,.0f} (16 threads)", "", f"{objects['sequential_per_s']:,.0f} "
         "(sequential boto3)", f"{objects['trailtui_per_s'] / objects['sequential_per_s']:.2f}", ""),
    ]
    results["rows"] = rows
    out = workdir / f"s3-results-{info.get('events') or 'corpus'}.json"
    write_json(out, results)
    print(f"S3 source: {len(files):,} objects, {local['events']:,} events; local S3 server (moto) on 127.0.0.1")
    print(text_table(("what", "trailtui", "target", "peer", "ratio", "met?"), rows, (31, 30, 14, 32, 6, 4)))
    print(f"first screen on S3: {narrow_what}")
    print(f"upload (not measured) {results['upload_s']:.0f} s; figures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
