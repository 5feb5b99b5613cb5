"""Measurements that run in their own subprocess, started by ``benchmarks.run``.

    python -m benchmarks.workers queries --db INDEX --events N --out RESULT.json [--reps R] [--needle WORD]
    python -m benchmarks.workers duckdb  --corpus DIR --db FILE.duckdb --events N --out RESULT.json [--reps R] [--no-queries]

``queries`` opens a finished trailtui index read-only and times the public query API the app
uses: filters (``compile_filter`` + ``EventQuery.count()`` + ``.page(0, 50)``, i.e. the count and
the first screen), jumps (``.page(offset, 50)``) and an identity pane's totals (``actor_totals``).

``duckdb`` loads the corpus into a DuckDB database file with ``read_json`` (one row per event),
prints ``BENCH-MARK loaded`` so the parent can read the peak memory of the load, then asks the same
field questions (count + first 50 rows newest first).

Each writes its figures as JSON to ``--out``; a question that fails is recorded as
``{"error": ...}`` and the others go on.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from benchmarks.common import DUCKDB_SCREEN_COLUMNS, FIELD_FILTERS, FREE_TEXT_WORDS, time_repeated, write_json

SCREEN_ROWS = 50


def _error(err: BaseException) -> dict:
    return {"error": f"{type(err).__name__}: {err}".strip()[:300], "traceback": traceback.format_exc()[-2000:]}


# ----------------------------------------------------------------------------------- trailtui


def run_queries(args) -> dict:
    from trailtui.core.filter import compile_filter
    from trailtui.core.store.index import connect
    from trailtui.core.query import EventQuery, actor_totals, total_events

    conn = connect(args.db, readonly=True)
    out: dict = {"events": total_events(conn)}
    reps, budget = args.reps, args.budget

    def filter_case(text: str) -> dict:
        def once():
            query = EventQuery(conn, compile_filter(text))
            count = query.count()
            # As the app does: a filter matching a large share pages along the time index.
            rows = query.page(0, SCREEN_ROWS, dense=EventQuery.is_dense(count, out["events"]))
            return count, len(rows)

        try:
            summary, (count, shown) = time_repeated(once, reps=reps, budget_s=budget)
            return {**summary, "count": count, "rows": shown}
        except Exception as err:  # noqa: BLE001 - recorded, the run goes on
            return _error(err)

    out["field"] = {text: filter_case(text) for text, _ in FIELD_FILTERS}
    words = list(FREE_TEXT_WORDS) + ([args.needle] if args.needle else [])
    out["text"] = {word: filter_case(word) for word in words}

    # Jumps: the whole list (empty filter), newest first, as the app shows it.
    total = out["events"]
    jumps = {}
    targets = {"page at 90%": int(total * 0.9), "G (last page)": max(0, total - SCREEN_ROWS)}
    for label, offset in targets.items():
        try:
            query = EventQuery(conn, compile_filter(""))
            summary, rows = time_repeated(
                # As the list asks: it knows the match count.
                lambda query=query, offset=offset: query.page(offset, SCREEN_ROWS, total=total),
                reps=args.jump_reps,
                warmup=0,
                budget_s=budget,
            )
            jumps[label] = {**summary, "offset": offset, "rows": len(rows)}
        except Exception as err:  # noqa: BLE001
            jumps[label] = _error(err)
    out["jump"] = jumps

    # Identity totals for the busiest principal, as the identity pane shows them (finding it is
    # not timed).
    try:
        key, events = conn.execute(
            # principalKey lives in actors (schema.LOOKUP_COLUMNS): count per actor, then per key.
            'SELECT a."principalKey", count(*) FROM events e JOIN actors a ON a.id = e."actorId" '
            "WHERE a.\"principalKey\" <> '' GROUP BY a.\"principalKey\" ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        summary, totals = time_repeated(
            lambda: actor_totals(conn, key, by="principal"), reps=args.jump_reps, warmup=0, budget_s=budget
        )
        out["actor_totals"] = {**summary, "actor_key": key, "actor_events": events, "totals_events": totals.events}
    except Exception as err:  # noqa: BLE001
        out["actor_totals"] = _error(err)
    conn.close()
    return out


# ----------------------------------------------------------------------------------- DuckDB


def duckdb_load_sql(globs: list[str], maximum_object_size: int | None = None) -> str:
    """DuckDB SQL that loads CloudTrail files (``{"Records": [...]}``) one row per event.

    ``read_json`` reads each file as one object with a ``Records`` list; ``unnest(...,
    max_depth := 2)`` turns the list into rows and each record's top-level fields into columns.
    ``maximum_object_size`` is left at DuckDB's default (16 MB) unless a file needs more: its
    read buffers grow with it, and so would DuckDB's memory figure.
    """
    files = "[" + ", ".join("'" + g.replace("'", "''") + "'" for g in globs) + "]"
    extra = f", maximum_object_size = {maximum_object_size}" if maximum_object_size else ""
    return f"CREATE TABLE t AS SELECT unnest(Records, max_depth := 2) FROM read_json({files}, format = 'auto'{extra})"


def run_duckdb(args) -> dict:
    import os

    import duckdb

    for suffix in ("", ".wal"):
        try:
            os.unlink(args.db + suffix)
        except FileNotFoundError:
            pass
    out: dict = {"duckdb_version": duckdb.__version__}
    started = time.perf_counter()
    con = duckdb.connect(args.db)
    sql = duckdb_load_sql(args.glob)
    try:
        con.execute(sql)
    except duckdb.Error as err:
        if "maximum_object_size" not in str(err):
            raise
        # A file larger than the default limit: retry with a larger one (and time the retry only).
        out["first_attempt_error"] = str(err)[:300]
        con.execute("DROP TABLE IF EXISTS t")
        sql = duckdb_load_sql(args.glob, 256 * 1024 * 1024)
        started = time.perf_counter()
        con.execute(sql)
    out["load_sql"] = sql
    con.execute("CHECKPOINT")
    out["load_s"] = time.perf_counter() - started
    print("BENCH-MARK loaded", flush=True)
    try:
        import resource

        out["ru_maxrss_after_load"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except (ImportError, OSError):
        pass
    out["rows"] = con.execute("SELECT count(*) FROM t").fetchone()[0]
    out["db_bytes"] = sum(os.path.getsize(args.db + s) for s in ("", ".wal") if os.path.exists(args.db + s))
    out["threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
    if args.queries:
        field = {}
        for text, where in FIELD_FILTERS:

            def once(where=where):
                count = con.execute(f"SELECT count(*) FROM t WHERE {where}").fetchone()[0]
                rows = con.execute(
                    f'SELECT {DUCKDB_SCREEN_COLUMNS} FROM t WHERE {where} ORDER BY "eventTime" DESC LIMIT {SCREEN_ROWS}'
                ).fetchall()
                return count, len(rows)

            try:
                summary, (count, shown) = time_repeated(once, reps=args.reps, budget_s=args.budget)
                field[text] = {**summary, "count": count, "rows": shown, "where": where}
            except Exception as err:  # noqa: BLE001
                field[text] = _error(err)
        out["field"] = field
    con.close()
    return out


# ----------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers")
    sub = parser.add_subparsers(dest="what", required=True)
    q = sub.add_parser("queries")
    q.add_argument("--db", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--reps", type=int, default=20)
    q.add_argument("--jump-reps", type=int, default=10)
    q.add_argument("--budget", type=float, default=20.0, help="seconds of timed calls per question at most")
    q.add_argument("--needle", default="")
    d = sub.add_parser("duckdb")
    d.add_argument("--glob", action="append", required=True)
    d.add_argument("--db", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--reps", type=int, default=20)
    d.add_argument("--budget", type=float, default=20.0)
    d.add_argument("--no-queries", dest="queries", action="store_false")
    args = parser.parse_args(argv)
    try:
        result = run_queries(args) if args.what == "queries" else run_duckdb(args)
    except Exception as err:  # noqa: BLE001 - the parent reads the error from the JSON
        write_json(args.out, _error(err))
        traceback.print_exc()
        return 1
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
