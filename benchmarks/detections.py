"""Detection rules at scale: trailtui's rule run against pySigma's SQLite backend, same rules, same events.

    python -m benchmarks.detections [--events N] [--seed 7] [--corpus DIR] [--workdir DIR]
                                    [--index FILE] [--rules PATH ...]

Generates (or reuses) the corpus as ``benchmarks.run`` does (``gen_cloudtrail.py``, 1,000,000
events, seed 7) and indexes it with ``python -m trailtui index CORPUS --db FILE`` (reused while
the files are unchanged; ``--index FILE`` copies an existing index of the corpus instead). The
rules are those of ``trailtui detect --rules PATH``: ``load_rules(rule_sources(PATHS))``, the
built-in pack plus ``--rules`` (default: SigmaHQ's CloudTrail rules in ``/work/shared/sigma/rules``).

trailtui, on a fresh copy of the index (no detections yet; building the index is not counted):

* ``run_rules`` over every rule: total seconds (issue's target: 10 s at 1M events);
* time to first results: from the start of ``run_rules`` to the first ``on_rule`` callback (the
  rule's results are committed and readable; target 1 s), and to the first rule with hits;
* a second ``run_rules`` with no new events (incremental: nothing to look at);
* the slowest rules: the time between consecutive ``on_rule`` callbacks (the first rule's
  includes the run's setup), with their hits; total hits and rules with hits.

The peer, measured in the same run: pySigma's SQLite backend (``pysigma-backend-sqlite``)
converts the same rule files to SQL, run over a flat SQLite table of the same events (``logs``:
one ``TEXT COLLATE NOCASE`` column per field any rule names, as the backend's own runtime adds
them, dotted names as written; nested values JSON text, booleans ``'true'``/``'false'``; the
first copy of each eventID, as trailtui keeps), read from the corpus with orjson, without
indexes, then again with an index on eventName. Each rule's query runs as ``SELECT count(*)
FROM (<the backend's query>)``: it only counts, where trailtui also writes the hits of every rule
of level low and above, so the ratio leans toward the peer. REGEXP is a Python ``re.search``
function, as Zircolite registers. Building the table (and the index) is timed apart, not in the
ratio. Rules the peer cannot convert are listed; so are rules both ran whose hit counts differ.

Prints a table (what | trailtui | target | peer | ratio | met?; ratio = trailtui / peer) and
writes every figure, with each rule's hits and seconds on both sides, to
``<workdir>/detections-<N>.json``. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import re
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import text_table, write_json
from benchmarks.list_moves import add_corpus_arguments, corpus_name, ensure_index
from benchmarks.run import (
    _ratio,
    _s,
    corpus_files,
    index_companions,
    log,
    workdir_and_corpus,
)

#: SigmaHQ's CloudTrail rules (test data beside the checkout), the default ``--rules``.
SIGMA_RULES = "/work/shared/sigma/rules"
#: The issue's targets: every rule over a 1M-event index, and the first rule's results readable.
TOTAL_TARGET_S = 10.0
TARGET_EVENTS = 1_000_000
FIRST_RESULTS_TARGET_S = 1.0
#: What a re-run with no new events should cost (not a target of the issue: shown for reference).
RERUN_EXPECTED_S = 0.1
#: Slowest rules listed.
SLOWEST = 5
#: The peer's flat table.
PEER_TABLE = "logs"


# ------------------------------------------------------------------------------------ the rules


def rule_files(sources: list) -> list[Path]:
    """The rule files under ``sources`` in the order ``load_rules`` reads them: a folder's
    ``*.yml``/``*.yaml`` sorted, a file as given."""
    files: list[Path] = []
    for source in sources:
        path = Path(source).expanduser()
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        elif path.is_file():
            files.append(path)
    return files


def convert_for_peer(files: list[Path]) -> dict:
    """Each rule of ``files`` converted by pySigma's SQLite backend: ``rules`` (id, title, path,
    sql: the backend's queries joined by UNION ALL when it writes several), ``failed`` (path,
    title, reason), ``fields`` (every field a converted rule names, sorted) and ``seconds``.
    Rules with an id already seen are kept once, as ``load_rules`` does."""
    import yaml
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    started = time.perf_counter()
    backend = sqliteBackend()
    rules: list[dict] = []
    failed: list[dict] = []
    fields: set[str] = set()
    seen: set[str] = set()
    for path in files:
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
        except (OSError, SigmaError, ValueError, yaml.YAMLError) as err:
            failed.append({"path": str(path), "title": path.stem, "reason": _first_line(err)})
            continue
        for problem in collection.errors:
            failed.append({"path": str(path), "title": path.stem, "reason": _first_line(problem)})
        for rule in collection.rules:
            rule_id = str(rule.id) if rule.id else path.stem
            if rule_id in seen:
                continue
            seen.add(rule_id)
            try:
                queries = backend.convert_rule(rule)
            except SigmaError as err:
                failed.append({"path": str(path), "title": str(rule.title), "reason": _first_line(err)})
                continue
            fields.update(backend.required_fields(rule))
            rules.append({"id": rule_id, "title": str(rule.title), "path": str(path),
                          "sql": " UNION ALL ".join(queries)})
    return {"rules": rules, "failed": failed, "fields": sorted(fields), "seconds": time.perf_counter() - started,
            "backend": _version("pysigma-backend-sqlite"), "pysigma": _version("pysigma")}


def _first_line(error: object) -> str:
    """The first line of an error's message (SQL and YAML errors run over several)."""
    return next(iter(str(error).splitlines()), "")


def _version(package: str) -> str:
    """The installed version of ``package``, "-" when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


# ------------------------------------------------------------------------------------ trailtui


def fresh_copy(base: Path, dest: Path) -> float:
    """Copy the index ``base`` (and its WAL) to ``dest``, removing what an earlier run left there
    (the index's companions and its user state file); returns the seconds the copy took."""
    from trailtui.core.userstate import user_state_path

    for stale in index_companions(dest):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for suffix in ("", "-wal", "-shm"):
        Path(str(user_state_path(dest)) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    shutil.copyfile(base, dest)
    wal = Path(str(base) + "-wal")
    if wal.exists() and wal.stat().st_size:
        shutil.copyfile(wal, Path(str(dest) + "-wal"))
    return time.perf_counter() - started


def measure_trailtui(db: Path, rules: list) -> dict:
    """``run_rules`` over ``rules`` on the index ``db`` (without detections), then again with
    no new events: total seconds, when each rule's results were committed (``on_rule``), and
    each rule's hits."""
    from trailtui.core.detect.runner import run_rules
    from trailtui.core.store.index import connect, indexing_lock

    conn = connect(db)
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    committed: list[tuple[float, object]] = []
    with indexing_lock(conn):
        started = time.perf_counter()
        run = run_rules(conn, rules, on_rule=lambda detection: committed.append((time.perf_counter(), detection)))
        again = run_rules(conn, rules)
    conn.close()
    per_rule = []
    previous = started
    for at, detection in committed:
        per_rule.append({"id": detection.id, "title": detection.title, "level": detection.level,
                         "hits": detection.hits, "seconds": at - previous, "committed_s": at - started})
        previous = at
    with_hits = [rule for rule in per_rule if rule["hits"]]
    return {
        "events": events,
        "rules": run.rules,
        "full": run.full,
        "seconds": run.seconds,
        "hits": run.hits,
        "rules_with_hits": len(with_hits),
        "first_results_s": per_rule[0]["committed_s"] if per_rule else None,
        "first_hits_s": with_hits[0]["committed_s"] if with_hits else None,
        "first_hits_rule": with_hits[0]["title"] if with_hits else None,
        "problems": [list(problem) for problem in run.problems],
        "rerun": {"seconds": again.seconds, "rules": again.rules, "hits": again.hits, "full": again.full},
        "per_rule": per_rule,
    }


# ------------------------------------------------------------------------------------ the peer


def _quoted(name: str) -> str:
    """``name`` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _flat(value) -> str | None:
    """A record's value as the flat table holds it: text as is, booleans ``'true'``/``'false'``,
    numbers as text, objects and lists as JSON text, None as NULL."""
    import orjson

    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return orjson.dumps(value).decode()


def _lookup(record: dict, parts: list[str]):
    """The value at the dotted path ``parts`` of ``record`` (None where a step is missing or not
    an object)."""
    value = record
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def build_flat_table(files: list[Path], fields: list[str], db: Path) -> dict:
    """The peer's table: ``PEER_TABLE`` in a new SQLite file ``db``, one ``TEXT COLLATE NOCASE``
    column per name in ``fields``, one row per event of ``files`` (gzipped or plain
    ``{"Records": [...]}``; the first copy of an eventID). Returns rows, duplicates skipped and
    seconds."""
    import orjson

    for stale in (db, Path(str(db) + "-journal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    paths = [field.split(".") for field in fields]
    conn = sqlite3.connect(db)
    columns = ", ".join(f"{_quoted(field)} TEXT COLLATE NOCASE" for field in fields)
    conn.execute(f"CREATE TABLE {PEER_TABLE} ({columns})")
    insert = f"INSERT INTO {PEER_TABLE} VALUES ({', '.join('?' for _ in fields)})"
    seen: set[str] = set()
    rows = duplicates = 0
    with conn:
        for path in files:
            raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
            batch = []
            for record in orjson.loads(raw).get("Records") or []:
                event_id = record.get("eventID")
                if event_id in seen:
                    duplicates += 1
                    continue
                seen.add(event_id)
                batch.append(tuple(_flat(_lookup(record, parts)) for parts in paths))
            conn.executemany(insert, batch)
            rows += len(batch)
    conn.close()
    return {"path": str(db), "rows": rows, "duplicates": duplicates, "columns": len(fields),
            "seconds": time.perf_counter() - started, "bytes": db.stat().st_size}


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern:
    """``text`` compiled once."""
    return re.compile(text)


def _regexp(pattern: str, value) -> bool:
    """SQLite's ``value REGEXP pattern``: ``re.search``, false for NULL (Zircolite's function)."""
    return value is not None and _pattern(pattern).search(str(value)) is not None


def run_peer(db: Path, rules: list[dict]) -> dict:
    """Each rule's query over the flat table in ``db``, counted: total seconds, and per rule
    hits and seconds (or the SQLite error)."""
    conn = sqlite3.connect(db)
    conn.create_function("regexp", 2, _regexp, deterministic=True)
    per_rule = []
    started = time.perf_counter()
    for rule in rules:
        began = time.perf_counter()
        try:
            hits = conn.execute(f"SELECT count(*) FROM ({rule['sql']})").fetchone()[0]
            per_rule.append({"id": rule["id"], "title": rule["title"], "hits": hits,
                             "seconds": time.perf_counter() - began})
        except sqlite3.Error as err:
            per_rule.append({"id": rule["id"], "title": rule["title"], "error": _first_line(err)})
    seconds = time.perf_counter() - started
    conn.close()
    ran = [rule for rule in per_rule if "error" not in rule]
    return {"seconds": seconds, "rules": len(ran), "hits": sum(rule["hits"] for rule in ran),
            "rules_with_hits": sum(1 for rule in ran if rule["hits"]), "per_rule": per_rule}


def index_event_name(db: Path) -> float:
    """Create an index on the flat table's eventName; returns the seconds it took."""
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    with conn:
        conn.execute(f'CREATE INDEX {PEER_TABLE}_eventName ON {PEER_TABLE} ("eventName")')
    conn.close()
    return time.perf_counter() - started


def hit_differences(ours: list[dict], peer: list[dict]) -> list[dict]:
    """The rules both ran whose hit counts differ: title, trailtui's hits, the peer's."""
    peer_hits = {rule["id"]: rule["hits"] for rule in peer if "error" not in rule}
    return [{"title": rule["title"], "trailtui": rule["hits"], "peer": peer_hits[rule["id"]]}
            for rule in ours if rule["id"] in peer_hits and peer_hits[rule["id"]] != rule["hits"]]


# ------------------------------------------------------------------------------------ the table


def _time(seconds: float | None) -> str:
    """Milliseconds below a second, else seconds."""
    if seconds is None:
        return "-"
    return f"{seconds * 1000:,.0f} ms" if seconds < 1 else _s(seconds)


def _met(ok: bool) -> str:
    """The met? column."""
    return "yes" if ok else "no"


def build_rows(results: dict) -> list[tuple[str, ...]]:
    """The table's rows: (what, trailtui, target, peer, ratio, met?)."""
    ours, peer, indexed = results["trailtui"], results["peer"], results["peer_indexed"]
    flat, converted = results["flat_table"], results["peer_rules"]
    at_scale = ours["events"] >= TARGET_EVENTS
    per_rule_ours = ours["seconds"] / ours["rules"] if ours["rules"] else None
    per_rule_peer = peer["seconds"] / peer["rules"] if peer["rules"] else None
    per_rule_indexed = indexed["seconds"] / indexed["rules"] if indexed["rules"] else None
    peer_time = {rule["id"]: rule.get("seconds") for rule in peer["per_rule"]}
    rows = [
        ("rules", f"{ours['rules']} run ({len(results['rule_problems'])} not usable)", "",
         f"{peer['rules']} run ({len(converted['failed'])} not converted)", "", ""),
        ("all rules over a fresh index", _time(ours["seconds"]), f"≤ {TOTAL_TARGET_S:.0f} s at 1M",
         f"{_time(peer['seconds'])} (no index)", _ratio(ours["seconds"], peer["seconds"]),
         _met(ours["seconds"] <= TOTAL_TARGET_S) if at_scale else "n/a"),
        ("  peer with an index on eventName", "", "", _time(indexed["seconds"]),
         _ratio(ours["seconds"], indexed["seconds"]), ""),
        ("  per rule", _time(per_rule_ours), "",
         f"{_time(per_rule_peer)} / {_time(per_rule_indexed)} (indexed)",
         _ratio(per_rule_ours, per_rule_peer), ""),
        ("time to first results", _time(ours["first_results_s"]), f"≤ {FIRST_RESULTS_TARGET_S:.0f} s", "", "",
         _met(ours["first_results_s"] is not None and ours["first_results_s"] <= FIRST_RESULTS_TARGET_S)),
        ("  to the first rule with hits", _time(ours["first_hits_s"]), "", "", "", ""),
        ("re-run, no new events", f"{_time(ours['rerun']['seconds'])} ({ours['rerun']['rules']} rules run)",
         f"≈ {RERUN_EXPECTED_S} s", "", "", ""),
        ("hits, all rules", f"{ours['hits']:,}", "", f"{peer['hits']:,}", "", ""),
        ("rules with hits", f"{ours['rules_with_hits']}", "", f"{peer['rules_with_hits']}", "", ""),
        (f"slowest {SLOWEST} rules (time, hits)", "", "", "same rule, no index", "", ""),
    ]
    for rule in sorted(ours["per_rule"], key=lambda rule: -rule["seconds"])[:SLOWEST]:
        theirs = peer_time.get(rule["id"])
        rows.append((f"  {rule['title']}", f"{_time(rule['seconds'])}, {rule['hits']:,}", "", _time(theirs),
                     _ratio(rule["seconds"], theirs), ""))
    rows += [
        ("not in the ratio: loading the rules", _time(results["rules_load_s"]), "", _time(converted["seconds"]),
         "", ""),
        ("  copying the index / building the flat table", _time(results["index_copy_s"]), "",
         f"{_time(flat['seconds'])} ({flat['rows']:,} rows, {flat['columns']} columns)", "", ""),
        ("  index on eventName", "", "", _time(results["event_name_index_s"]), "", ""),
    ]
    return rows


def print_report(results: dict, out_path: Path) -> None:
    """The heading, the table, then the lists: rules not usable or not converted, rules whose
    hit counts differ."""
    ours, flat = results["trailtui"], results["flat_table"]
    print()
    print(f"trailtui detections: {ours['events']:,} events · {results['corpus']['path']} · SQLite "
          f"{sqlite3.sqlite_version} · peer: pySigma {results['peer_rules']['pysigma']}, "
          f"pysigma-backend-sqlite {results['peer_rules']['backend']} on a flat table of {flat['rows']:,} rows")
    print()
    print(text_table(("what", "trailtui", "target", "peer", "ratio", "met?"), build_rows(results),
                     (56, 32, 16, 46, 6, 4)))
    print()
    if flat["rows"] != ours["events"]:
        print(f"note: the flat table holds {flat['rows']:,} events, the index {ours['events']:,}")
    for problem in results["rule_problems"]:
        print(f"trailtui: rule not usable: {problem['path']}: {problem['reason']}")
    for title, reason in ours["problems"]:
        print(f"trailtui: rule failed: {title}: {reason}")
    for failure in results["peer_rules"]["failed"]:
        print(f"peer: rule not converted: {failure['path']}: {failure['title']}: {failure['reason']}")
    for rule in results["peer"]["per_rule"]:
        if "error" in rule:
            print(f"peer: rule failed: {rule['title']}: {rule['error']}")
    differences = results["hit_differences"]
    if differences:
        print(f"hit counts that differ ({len(differences)} of the rules both ran; matching semantics differ: "
              "trailtui's filters vs the backend's SQL over NOCASE text and JSON-encoded objects):")
        print(text_table(("rule", "trailtui", "peer"),
                         [(d["title"], f"{d['trailtui']:,}", f"{d['peer']:,}") for d in differences], (70, 12, 12)))
    else:
        print("hit counts: the same for every rule both ran")
    print()
    print(f"results: {out_path}")
    print(f"measured in {results['total_s']:.0f} s")


# ------------------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None):
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.detections", description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--index", help="an existing index of the corpus, copied instead of indexing the corpus")
    parser.add_argument("--rules", nargs="*", default=[SIGMA_RULES],
                        help=f"rule files or folders besides the built-in pack (default {SIGMA_RULES})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure trailtui, then the peer; print the table and write the JSON. Returns 0."""
    args = parse_args(argv)
    started = time.perf_counter()
    workdir, corpus = workdir_and_corpus(args)
    corpus_path = Path(corpus["path"])
    name = corpus_name(corpus)
    base = Path(args.index).expanduser() if args.index else Path(
        ensure_index(corpus_path, workdir / f"detect-{name}.sqlite")["path"])
    results: dict = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "corpus": corpus,
                     "base_index": str(base)}

    from trailtui.core.detect.rules import load_rules, rule_sources

    log("loading the rules")
    loading = time.perf_counter()
    sources = rule_sources(args.rules)
    rules, problems = load_rules(sources)
    results["rules_load_s"] = time.perf_counter() - loading
    results["rule_problems"] = [{"path": problem.path, "reason": problem.reason} for problem in problems]
    results["peer_rules"] = convert_for_peer(rule_files(sources))

    run_db = workdir / "detect.sqlite"
    log(f"copying {base} to {run_db}")
    results["index_copy_s"] = fresh_copy(base, run_db)
    log(f"trailtui: {len(rules)} rules")
    results["trailtui"] = measure_trailtui(run_db, rules)

    flat_db = workdir / f"detect-flat-{name}.sqlite"
    log(f"peer: flat table of {len(results['peer_rules']['fields'])} fields in {flat_db}")
    results["flat_table"] = build_flat_table(corpus_files(corpus_path), results["peer_rules"]["fields"], flat_db)
    log(f"peer: {len(results['peer_rules']['rules'])} rules, no index")
    results["peer"] = run_peer(flat_db, results["peer_rules"]["rules"])
    results["event_name_index_s"] = index_event_name(flat_db)
    log("peer: the same rules with an index on eventName")
    results["peer_indexed"] = run_peer(flat_db, results["peer_rules"]["rules"])
    results["hit_differences"] = hit_differences(results["trailtui"]["per_rule"], results["peer"]["per_rule"])
    results["total_s"] = time.perf_counter() - started

    out_path = workdir / f"detections-{results['trailtui']['events']}.json"
    results["rows"] = build_rows(results)
    write_json(out_path, results)
    print_report(results, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
