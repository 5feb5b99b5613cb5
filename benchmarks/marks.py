"""How fast ``is:marked`` and the incident timeline are, beside the same events named explicitly.

    python -m benchmarks.marks --db INDEX [--marks 10,100,1000] [--reps 20] [--seed 7]

INDEX is a finished trailtui index (e.g. one ``python -m benchmarks.run --keep`` built, or
``trailtui index CORPUS --db INDEX``). For each number of marks K, K random events are marked in
INDEX's user state file (the marks this run adds are removed at the end), then, on a read-only
connection as the app opens it, each question is asked as the event list asks it
(``EventQuery.count()`` + ``.page(0, 50)``), one warm-up then up to ``--reps`` timed runs:

- ``is:marked`` and ``-is:marked`` (the filter: a subquery on the attached ``user.marks``);
- the peer: the same events as an explicit ``eventID IN (?, ?, ...)`` list of bound parameters
  (what a filter naming every eventID would compile to), and its negation;
- ``incident_timeline`` (the marks joined to their events).

Prints one table: median and p95 in ms, and the ratio is:marked / explicit list (below 1: faster).
"""

from __future__ import annotations

import argparse
import random
import sys

from benchmarks.common import time_repeated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.marks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a finished trailtui index")
    parser.add_argument("--marks", default="10,100,1000", help="numbers of marked events to measure")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from trailtui.core.filter import CompiledFilter, compile_filter
    from trailtui.core.store.index import connect
    from trailtui.core.marks import incident_timeline, unmark
    from trailtui.core.query import EventQuery, total_events
    from trailtui.core.userstate import open_user_state

    reader = connect(args.db, readonly=True)
    user = open_user_state(args.db)
    total = total_events(reader)
    already = {row[0] for row in user.execute("SELECT eventID FROM marks")}
    max_id = reader.execute("SELECT max(id) FROM events").fetchone()[0]
    rng = random.Random(args.seed)
    print(f"index {args.db}: {total:,} events; {len(already)} marks there before this run", file=sys.stderr)

    def count_and_page(compiled: CompiledFilter):
        def once():
            query = EventQuery(reader, compiled)
            count = query.count()
            rows = query.page(0, 50, dense=EventQuery.is_dense(count, total))
            return count, len(rows)

        return once

    rows: list[tuple] = []
    added: list[str] = []
    try:
        for k in (int(part) for part in args.marks.split(",")):
            for event_id in added:  # each K on its own
                unmark(user, event_id)
            added.clear()
            ids: list[str] = []
            while len(ids) < k:
                picked = rng.sample(range(1, max_id + 1), k - len(ids))
                marks_ = ",".join("?" * len(picked))
                ids += [row[0] for row in reader.execute(f"SELECT eventID FROM events WHERE id IN ({marks_})", picked)]
                ids = list(dict.fromkeys(ids))
            for event_id in ids:
                if event_id not in already:
                    user.execute("INSERT OR IGNORE INTO marks (eventID, note, marked_at) VALUES (?, '', '')", (event_id,))
                    added.append(event_id)
            wanted = sorted(already | set(added))
            listed = ", ".join("?" * len(wanted))
            explicit = CompiledFilter(f'events."eventID" IN ({listed})', tuple(wanted), "")
            explicit_not = CompiledFilter(f'NOT (events."eventID" IN ({listed}))', tuple(wanted), "")
            for label, ours, peer in (
                ("is:marked", compile_filter("is:marked"), explicit),
                ("-is:marked", compile_filter("-is:marked"), explicit_not),
            ):
                mine, (count, _) = time_repeated(count_and_page(ours), reps=args.reps)
                theirs, (peer_count, _) = time_repeated(count_and_page(peer), reps=args.reps)
                if count != peer_count:
                    print(f"warning: {label} counted {count}, the explicit list {peer_count}", file=sys.stderr)
                rows.append((f"{label} ({len(wanted)} marks, {count:,} matches)", mine, theirs))
            timeline, entries = time_repeated(lambda: incident_timeline(reader), reps=args.reps)
            rows.append((f"incident_timeline ({len(entries)} entries)", timeline, None))
    finally:
        for event_id in added:
            unmark(user, event_id)
        user.close()
        reader.close()

    print(f"{'question (count + first 50 rows)':<52} {'median ms':>10} {'p95 ms':>8} {'explicit IN ms':>15} {'ratio':>6}")
    for label, mine, theirs in rows:
        peer = f"{theirs['median_ms']:>15.2f}" if theirs else f"{'':>15}"
        ratio = f"{mine['median_ms'] / theirs['median_ms']:>6.2f}" if theirs and theirs["median_ms"] else f"{'':>6}"
        print(f"{label:<52} {mine['median_ms']:>10.2f} {mine['p95_ms']:>8.2f} {peer} {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
