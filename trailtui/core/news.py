"""The events that follow rounds added and that match a filter, each eventID once.

``trailtui query --follow`` prints each new matching event as it arrives. "New" is by eventID,
not by row: a local file that grows (a collector appending lines) is read again whole, and its
events get new rows; CloudTrail also delivers some events twice (overlapping trails). So the
eventIDs that matched when following began, and every one printed since, are remembered in a
temporary table of the writer's connection (on disk, not in memory: ``temp_store = FILE``), and a
temporary trigger notes each row the loader inserts.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from trailtui.core.filter import CompiledFilter


class NewMatches:
    """Tracks the rows inserted on ``conn`` (the connection the follow rounds write through)
    that match ``compiled``, and hands each new eventID out once.

    On creation every eventID matching now counts as seen. After each round, :meth:`take`
    returns a :class:`CompiledFilter` selecting exactly the matching events whose eventID was
    not seen before (then seen), or None when there are none. Raises ``sqlite3.Error`` as the
    index does.
    """

    def __init__(self, conn: sqlite3.Connection, compiled: CompiledFilter) -> None:
        self.conn = conn
        self.compiled = compiled
        with conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS follow_inserted (id INTEGER PRIMARY KEY)")
            conn.execute('CREATE TEMP TABLE IF NOT EXISTS follow_seen ("eventID" TEXT PRIMARY KEY)')
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS follow_new (id INTEGER PRIMARY KEY)")
            # A TEMP trigger on a main table: it lives and dies with this connection, and the
            # index file never learns of it (other readers and writers are untouched).
            conn.execute(
                "CREATE TEMP TRIGGER IF NOT EXISTS follow_note AFTER INSERT ON main.events "
                "BEGIN INSERT OR IGNORE INTO follow_inserted (id) VALUES (new.id); END"
            )
            conn.execute(
                'INSERT OR IGNORE INTO temp.follow_seen SELECT "eventID" FROM events'
                f' WHERE "eventID" IS NOT NULL AND ({compiled.where})',
                compiled.params,
            )

    def take(self) -> CompiledFilter | None:
        """The events that arrived since the last call (or creation), match the filter, and
        carry an eventID not handed out before; None when there are none."""
        conn, compiled = self.conn, self.compiled
        with conn:
            conn.execute("DELETE FROM temp.follow_new")
            conn.execute(
                "INSERT INTO temp.follow_new SELECT id FROM events"
                " WHERE id IN (SELECT id FROM temp.follow_inserted)"
                f' AND ({compiled.where})'
                ' AND ("eventID" IS NULL OR "eventID" NOT IN (SELECT "eventID" FROM temp.follow_seen))',
                compiled.params,
            )
            conn.execute("DELETE FROM temp.follow_inserted")
            found = conn.execute("SELECT count(*) FROM temp.follow_new").fetchone()[0]
            conn.execute(
                'INSERT OR IGNORE INTO temp.follow_seen SELECT "eventID" FROM events'
                ' WHERE id IN (SELECT id FROM temp.follow_new) AND "eventID" IS NOT NULL'
            )
        if not found:
            return None
        return replace(compiled, where="events.id IN (SELECT id FROM temp.follow_new)", params=())
