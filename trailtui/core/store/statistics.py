"""The planner's statistics for the events indexes, made to say how selective a value is.

``ANALYZE`` with ``PRAGMA analysis_limit`` samples each index (fast at a million events), but a
sample of a few thousand entries of ``events_eventName`` and of ``events_eventSource`` both see
one value, so both get the same estimate of rows per value, and SQLite picks the first index
that fits: ``eventSource = 's3.amazonaws.com' AND eventName = 'PutBucketVersioning'`` then
reads every S3 event (760k of the benchmark's 1M) instead of the few PutBucketVersioning ones.
Sigma rules say both almost always. :func:`refine_value_statistics` replaces the estimate of
each index that leads with a column whose distinct values the loader lists (``column_values``)
by the true average: events with a value / distinct values ("The SQLite Query Optimizer Overview" and the
``sqlite_stat1`` format in the SQLite documentation: the second integer is the average number
of rows with the same value in the index's first column).
"""

from __future__ import annotations

import sqlite3

from trailtui.core.store.schema import EVENT_INDEXES, LOOKUP_COLUMNS, VALUE_LIST_COLUMNS


def refine_value_statistics(conn: sqlite3.Connection) -> int:
    """Rewrite ``sqlite_stat1`` for the events indexes whose leading column is one of
    :data:`~trailtui.core.store.schema.VALUE_LIST_COLUMNS` stored in ``events``; returns how many
    rows it changed (0 when ``ANALYZE`` has not run). ``conn`` plans with them at once; the
    caller commits, and other connections opened after that plan with them too."""
    try:
        stats = dict(conn.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'events'"))
    except sqlite3.OperationalError:  # no sqlite_stat1: never analysed
        return 0
    total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    changed = 0
    for name, columns in EVENT_INDEXES:
        leading = columns.split(",")[0].strip().strip('"')
        if name not in stats or leading not in VALUE_LIST_COLUMNS or leading in LOOKUP_COLUMNS:
            continue
        distinct = conn.execute("SELECT count(*) FROM column_values WHERE column_name = ?", (leading,)).fetchone()[0]
        parts = stats[name].split()
        if distinct == 0 or len(parts) < 2 or not parts[1].isdigit():
            continue
        # Events without a value (most have no errorCode) are never what an equality looks for.
        valued = conn.execute(f'SELECT count(*) FROM events WHERE "{leading}" IS NOT NULL').fetchone()[0]
        parts[0], parts[1] = str(total), str(max(1, -(-valued // distinct)))
        conn.execute("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = 'events' AND idx = ?", (" ".join(parts), name))
        changed += 1
    if changed:
        # Loaded with the schema: this connection plans with the new figures only after SQLite
        # reads them again ("ANALYZE sqlite_schema" reloads them; sqlite_master is its older name).
        conn.execute("ANALYZE sqlite_master")
    return changed
