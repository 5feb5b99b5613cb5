"""The filter history of one index: every filter the user applied, kept between runs.

Every applied filter (typed, preset, pivot, drill-down) is pushed; Up/Down in the filter bar
walk it back. It lives in the user state file beside the index
(:mod:`trailtui.core.userstate`), so each index has its own history and a rebuilt index keeps
it. Functions take the connection of :func:`trailtui.core.userstate.open_user_state`.
"""

from __future__ import annotations

import sqlite3

from trailtui.core.times import utc_now_text

#: Entries kept; pushing one more forgets the oldest.
MAX_HISTORY = 1_000


def push_filter(user_conn: sqlite3.Connection, text: str) -> None:
    """Record that the filter ``text`` was applied now. Leading and trailing whitespace is not
    kept; an empty filter and a repeat of the newest entry are not recorded. Keeps at most
    :data:`MAX_HISTORY` entries. Raises sqlite3.Error when the file cannot be written."""
    text = text.strip()
    if not text:
        return
    newest = user_conn.execute("SELECT text FROM filter_history ORDER BY id DESC LIMIT 1").fetchone()
    if newest is not None and newest[0] == text:
        return
    user_conn.execute("INSERT INTO filter_history (text, used_at) VALUES (?, ?)", (text, utc_now_text()))
    user_conn.execute(
        "DELETE FROM filter_history WHERE id <= (SELECT id FROM filter_history ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (MAX_HISTORY,),
    )
    if user_conn.in_transaction:  # a connection not in autocommit mode
        user_conn.commit()


def filter_history(user_conn: sqlite3.Connection, limit: int = 200) -> list[str]:
    """The last ``limit`` filters applied, newest first (each as it was pushed)."""
    rows = user_conn.execute("SELECT text FROM filter_history ORDER BY id DESC LIMIT ?", (max(0, limit),))
    return [text for (text,) in rows]
