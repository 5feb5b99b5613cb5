"""The event list's moves at scale: sort by a column, an event's position, n/N and e/E, go to time.

    python -m benchmarks.list_moves [--events N] [--seed 7] [--corpus DIR] [--workdir DIR] [--quick]

Generates (or reuses) the corpus as ``benchmarks.run`` does (``gen_cloudtrail.py``, 1,000,000
events, seed 7), indexes it with ``python -m trailtui index CORPUS --db FILE`` (reused while the
files are unchanged), loads the same files into DuckDB (reused too), then times the query API the
list uses (``trailtui.core.query.EventQuery``) on the index opened read-only:

* first screen (``page(0, 50)``) and ``G`` (``page(N - 50, 50, total=N)``) sorted by
  sourceIPAddress, awsRegion and actor, both directions; where no index serves the order
  (``needs_listing``) also the listing (``ordered_ids()``) and the same pages read from it
  (``rows_for_ids``); for actor, the first screen without its index (``NOT INDEXED``), and
  the index's size;
* ``position_of`` for 20 random events (time order, by sourceIPAddress and actor, within a
  filter; by awsRegion, which no index serves, looked up in the listing);
* ``find_next`` for ``is:error`` and ``error:AccessDenied`` from the top and from 20 events in the
  middle of the list (forward, and backward from the middle);
* ``position_at_time`` for 20 random times in the corpus's span, both directions;
* DuckDB's time for the same ``ORDER BY ... LIMIT 50`` (the list's columns) on its table of the
  same files, as the peer (``actor`` is trailtui's; DuckDB orders by ``userIdentity.arn``).

Prints a table (what | trailtui | DuckDB | ratio) and writes every figure to
``<workdir>/list-moves-<N>.json``. Exit status 1 if a measurement crashed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import DUCKDB_SCREEN_COLUMNS, summarize_ms, text_table, write_json
from benchmarks.run import (
    DEFAULT_EVENTS,
    _ms,
    _ratio,
    duckdb_globs,
    log,
    subprocess_env,
    workdir_and_corpus,
)

SCREEN = 50
SAMPLES = 20  # events, anchors or times per position / search / go-to-time figure

#: The sorted orders measured, and the ORDER BY DuckDB is asked for each (its table has the
#: record's own fields; trailtui's ``actor`` is derived, ``userIdentity.arn`` is the nearest).
SORTS: tuple[tuple[str, str], ...] = (
    ("sourceIPAddress", '"sourceIPAddress" COLLATE NOCASE'),
    ("awsRegion", '"awsRegion" COLLATE NOCASE'),
    ("actor", "userIdentity.arn COLLATE NOCASE"),
)


class Moves:
    """The measurements, each kept in ``self.results`` (or its error)."""

    def __init__(self, db: Path, reps: int) -> None:
        from trailtui.core.store.index import connect

        self.conn = connect(db, readonly=True)
        self.reps = reps
        self.results: dict = {}
        self.rng = random.Random(7)

    def guarded(self, name: str, fn) -> None:
        try:
            self.results[name] = fn()
        except Exception as err:  # noqa: BLE001 - recorded, the others go on
            traceback.print_exc()
            self.results[name] = {"error": f"{type(err).__name__}: {err}"}

    def _query(self, text: str = "", column: str = "eventTime", descending: bool = True):
        from trailtui.core.filter import compile_filter
        from trailtui.core.query import EventQuery, SortOrder

        return EventQuery(self.conn, compile_filter(text), sort=SortOrder(column, descending))

    def _median_ms(self, fn, reps: int | None = None) -> float:
        samples = []
        for _ in range(reps or self.reps):
            started = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - started)
        return summarize_ms(samples)["median_ms"]

    def sorts(self) -> dict:
        out: dict = {}
        total = self._query().count()
        for column, _ in SORTS:
            for descending in (True, False):
                query = self._query("", column, descending)
                figures: dict = {"needs_listing": query.needs_listing}
                figures["first_ms"] = self._median_ms(lambda: query.page(0, SCREEN, total=total))
                figures["G_ms"] = self._median_ms(lambda: query.page(total - SCREEN, SCREEN, total=total))
                started = time.perf_counter()
                ids = query.ordered_ids()
                figures["listing_ms"] = (time.perf_counter() - started) * 1000
                figures["listed"] = len(ids)
                middle = len(ids) // 2
                figures["listed_first_ms"] = self._median_ms(lambda: query.rows_for_ids(ids[:SCREEN]))
                figures["listed_G_ms"] = self._median_ms(lambda: query.rows_for_ids(ids[-SCREEN:]))
                figures["listed_middle_ms"] = self._median_ms(lambda: query.rows_for_ids(ids[middle : middle + SCREEN]))
                assert [row.id for row in query.page(0, SCREEN, total=total)] == list(ids[:SCREEN])
                out[f"{column} {'desc' if descending else 'asc'}"] = figures
        # What the actor index saves: the same first screen with SQLite told to use no index.
        from trailtui.core.columns import DEFAULT_LIST_COLUMNS, column

        select = ", ".join(["id", *(column(name).select_sql for name in DEFAULT_LIST_COLUMNS)])
        sql = f'SELECT {select} FROM events NOT INDEXED ORDER BY "actor" DESC, "eventTime" DESC, id DESC LIMIT {SCREEN}'
        out["actor without its index"] = {
            "first_ms": self._median_ms(lambda: self.conn.execute(sql).fetchall(), min(self.reps, 3)),
            "listing_ms": self._median_ms(
                lambda: self.conn.execute(
                    'SELECT id FROM events NOT INDEXED ORDER BY "actor" DESC, "eventTime" DESC, id DESC'
                ).fetchall(),
                1,
            ),
        }
        try:
            sql = (
                "SELECT name, sum(pgsize) FROM dbstat "
                "WHERE name IN ('events_actor', 'events_sourceIPAddress') GROUP BY name"
            )
            out["index_bytes"] = dict(self.conn.execute(sql).fetchall())
        except Exception as err:  # noqa: BLE001 - dbstat is a compile-time option of SQLite
            out["index_bytes"] = {"error": str(err)}
        return out

    def _random_events(self, query, count: int) -> list[int]:
        total = query.count()
        return [query.page(self.rng.randrange(total), 1, total=total)[0].id for _ in range(count)]

    def positions(self) -> dict:
        out = {}
        for label, (text, column, descending) in {
            "time, newest first": ("", "eventTime", True),
            "sourceIPAddress ascending": ("", "sourceIPAddress", False),
            "actor descending": ("", "actor", True),
            "name:GetObject, newest first": ("name:GetObject", "eventTime", True),
        }.items():
            query = self._query(text, column, descending)
            samples = []
            for event_id in self._random_events(query, SAMPLES):
                fresh = self._query(text, column, descending)  # as after a refresh: nothing cached
                started = time.perf_counter()
                fresh.position_of(event_id)
                samples.append(time.perf_counter() - started)
            out[label] = summarize_ms(samples)
        # An order no index serves: the app holds the listing and looks positions up in it.
        query = self._query("", "awsRegion", True)
        listing = query.ordered_ids()
        samples = []
        for event_id in self._random_events(query, SAMPLES):
            started = time.perf_counter()
            query.position_of(event_id, listing=listing)
            samples.append(time.perf_counter() - started)
        out["awsRegion descending, from the listing"] = summarize_ms(samples)
        return out

    def searches(self) -> dict:
        from trailtui.core.filter import compile_filter

        out = {}
        for label, (column, descending) in {
            "time, newest first": ("eventTime", True),
            "sourceIPAddress ascending": ("sourceIPAddress", False),
        }.items():
            query = self._query("", column, descending)
            total = query.count()
            offsets = [int(total * self.rng.uniform(0.4, 0.6)) for _ in range(SAMPLES)]
            middles = [query.page(offset, 1, total=total)[0].id for offset in offsets]
            for term_text in ("is:error", "error:AccessDenied"):
                term = compile_filter(term_text)
                for where, anchors, forward in (("top", [None] * SAMPLES, True), ("middle", middles, True),
                                                ("middle, backward", middles, False)):
                    samples = []
                    for anchor in anchors:
                        fresh = self._query("", column, descending)
                        started = time.perf_counter()
                        fresh.find_next(anchor, term, forward=forward)
                        samples.append(time.perf_counter() - started)
                    out[f"{term_text} from the {where} ({label})"] = summarize_ms(samples)
        return out

    def times(self) -> dict:
        from trailtui.core.query import time_span

        first, last = time_span(self.conn)  # UTC text (the index keeps epoch seconds)
        start = datetime.fromisoformat(first.replace("Z", "+00:00"))
        span = datetime.fromisoformat(last.replace("Z", "+00:00")) - start
        moments = [(start + span * self.rng.random()).strftime("%Y-%m-%dT%H:%M:%SZ") for _ in range(SAMPLES)]
        out = {}
        for label, descending in (("newest first", True), ("oldest first", False)):
            samples = []
            for when in moments:
                fresh = self._query("", "eventTime", descending)
                started = time.perf_counter()
                fresh.position_at_time(when)
                samples.append(time.perf_counter() - started)
            out[label] = summarize_ms(samples)
        return out


def ensure_index(corpus_path: Path, db: Path) -> dict:
    """``trailtui index CORPUS --db DB`` in a subprocess (a no-op when nothing changed)."""
    log(f"indexing {corpus_path} into {db} (reused when unchanged)")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "trailtui", "index", str(corpus_path), "--db", str(db)],
        check=True, env=subprocess_env(), stdout=subprocess.DEVNULL,
    )
    return {"path": str(db), "index_s": time.perf_counter() - started}


def duckdb_peer(corpus_path: Path, duck_path: Path, reps: int) -> dict:
    """DuckDB's ORDER BY ... LIMIT 50 for each of :data:`SORTS`, both directions (and newest
    first by time), median of ``reps``, on a table of the same files (loaded once, reused)."""
    try:
        import duckdb
    except ImportError:
        return {"error": "duckdb is not installed (pip install '.[bench]')"}
    from benchmarks.workers import duckdb_load_sql

    marker = duck_path.with_name(duck_path.name + ".complete.json")
    out: dict = {"version": duckdb.__version__}
    if not (duck_path.exists() and marker.exists()):
        duck_path.unlink(missing_ok=True)
        log(f"loading the corpus into DuckDB ({duck_path})")
        started = time.perf_counter()
        con = duckdb.connect(str(duck_path))
        con.execute(duckdb_load_sql(duckdb_globs(corpus_path)))
        con.execute("CHECKPOINT")
        con.close()
        marker.write_text(json.dumps({"load_s": time.perf_counter() - started}))
    con = duckdb.connect(str(duck_path), read_only=True)
    out["rows"] = con.execute("SELECT count(*) FROM t").fetchone()[0]
    orders = {"eventTime desc": '"eventTime" DESC'}
    for column, order in SORTS:
        for descending in (True, False):
            direction = "DESC" if descending else "ASC"
            orders[f"{column} {direction.lower()}"] = f'{order} {direction} NULLS LAST, "eventTime" {direction}'
    for label, order in orders.items():
        sql = f"SELECT {DUCKDB_SCREEN_COLUMNS} FROM t ORDER BY {order} LIMIT {SCREEN}"
        con.execute(sql).fetchall()  # warm-up
        samples = []
        for _ in range(reps):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            samples.append(time.perf_counter() - started)
        out[label] = {**summarize_ms(samples), "sql": sql}
    con.close()
    return out


def table(results: dict) -> list[tuple[str, str, str, str]]:
    """Rows of (what, trailtui, DuckDB, ratio)."""
    rows: list[tuple[str, str, str, str]] = []
    duck = results.get("duckdb", {})

    def peer(label: str) -> float | None:
        return (duck.get(label) or {}).get("median_ms")

    sorts = results.get("sorts", {})
    if sorts.get("error"):
        rows.append(("sorted lists", "error: " + sorts["error"], "", ""))
    for label, fig in sorts.items():
        if not isinstance(fig, dict) or "first_ms" not in fig or label == "actor without its index":
            continue
        how = "listing needed" if fig["needs_listing"] else "index"
        duck_ms = peer(label)
        first = fig["first_ms"]
        rows.append((f"sort by {label} ({how}): first screen", _ms(first), _ms(duck_ms), _ratio(first, duck_ms)))
        rows.append(("  G (last screen)", _ms(fig["G_ms"]), "", ""))
        rows.append((f"  listing the order once ({fig['listed']:,} ids)", _ms(fig["listing_ms"]), "", ""))
        rows.append(("  then first / middle / G screens from the listing",
                     " / ".join(_ms(fig[k]) for k in ("listed_first_ms", "listed_middle_ms", "listed_G_ms")), "", ""))
    bare = sorts.get("actor without its index")
    if isinstance(bare, dict):
        sizes = sorts.get("index_bytes", {})
        size = sizes.get("events_actor") if isinstance(sizes, dict) else None
        rows.append(("actor without events_actor (NOT INDEXED): first screen / listing",
                     f"{_ms(bare['first_ms'])} / {_ms(bare['listing_ms'])}", "", ""))
        if size:
            rows.append(("  events_actor's size", f"{size / 1e6:,.1f} MB", "", ""))
    for section, title in (("positions", "position_of, 20 random events"),
                           ("searches", "find_next, 20 anchors"),
                           ("times", "position_at_time, 20 random times")):
        figures = results.get(section, {})
        if figures.get("error"):
            rows.append((title, "error: " + figures["error"], "", ""))
            continue
        rows.append((title + " (p50 / p95)", "", "", ""))
        for label, fig in figures.items():
            rows.append((f"  {label}", f"{_ms(fig['median_ms'])} / {_ms(fig['p95_ms'])}", "", ""))
    if duck.get("error"):
        rows.append(("DuckDB", "", "error: " + duck["error"], ""))
    elif "eventTime desc" in duck:
        rows.append(("DuckDB: newest first, first screen (reference)", "", _ms(peer("eventTime desc")), ""))
    return rows


def render(rows: list[tuple[str, str, str, str]]) -> str:
    return text_table(("what", "trailtui", "DuckDB", "ratio"), rows, (76, 76, 76, 76))


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose the corpus and the work directory (``ensure_corpus`` reads them)."""
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="corpus size (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", help="measure this directory instead of a generated corpus")
    parser.add_argument(
        "--workdir", help="corpus, indexes and results (default $TRAILTUI_BENCH_DIR or ~/.cache/trailtui-bench)"
    )
    parser.add_argument("--generator", help="path of gen_cloudtrail.py")


def corpus_name(corpus: dict) -> str:
    """A file-name part for a corpus of ``ensure_corpus``: ``EVENTS-SEED`` when generated, else a
    hash of its path."""
    if corpus.get("generated") is not False:
        return f"{corpus.get('events')}-{corpus.get('seed')}"
    return hashlib.sha256(str(corpus["path"]).encode()).hexdigest()[:12]


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.list_moves", description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="3 repetitions per screen instead of 7 (CI's smoke run)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    workdir, corpus = workdir_and_corpus(args)
    corpus_path = Path(corpus["path"])
    name = corpus_name(corpus)
    reps = 3 if args.quick else 7
    results: dict = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "corpus": corpus,
                     "quick": args.quick, "reps": reps}
    results["index"] = ensure_index(corpus_path, workdir / f"list-moves-{name}.sqlite")
    moves = Moves(Path(results["index"]["path"]), reps)
    events = moves._query().count()
    results["events"] = events
    log(f"measuring on {events:,} events")
    for section, fn in (("sorts", moves.sorts), ("positions", moves.positions), ("searches", moves.searches),
                        ("times", moves.times)):
        log(section)
        moves.guarded(section, fn)
        results[section] = moves.results[section]
    log("DuckDB")
    try:
        results["duckdb"] = duckdb_peer(corpus_path, workdir / f"list-moves-{name}.duckdb", reps)
    except Exception as err:  # noqa: BLE001
        traceback.print_exc()
        results["duckdb"] = {"error": f"{type(err).__name__}: {err}"}
    results["total_s"] = time.perf_counter() - started
    out_path = workdir / f"list-moves-{events}.json"
    write_json(out_path, results)
    import sqlite3

    print()
    print(f"trailtui list moves: {events:,} events · {corpus_path} · SQLite {sqlite3.sqlite_version} · "
          f"DuckDB {results['duckdb'].get('version', '-')} · medians of {reps} (screens), "
          f"p50/p95 of {SAMPLES} (the rest)")
    print()
    print(render(table(results)))
    print()
    print(f"results: {out_path}")
    print(f"measured in {results['total_s']:.0f} s")
    crashed = [name for name in ("sorts", "positions", "searches", "times", "duckdb") if results[name].get("error")]
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
