"""Running rules over an index, and the detections kept in it.

:func:`run_rules` runs every rule's filter on the events of an index and keeps what it found in
two tables of the index (``store.schema``): ``detection_rules`` (each rule of the last
run: its Sigma metadata, filter, hit count, first and last hit, and how far it has run) and
``detection_hits`` (one row per event and rule, for rules of level :data:`MARKED_LEVEL` or
above: the event list's marker and the detail pane read them). Informational rules, the S3
user guide's questions, are counted but their events are not listed there: "every GetObject"
is a question, not a detection.

Runs are incremental: event ids are never reused (``store.writer``), so a rule that has run
through id N only looks at events after N next time, unless its filter changed or events
were removed since (a changed file re-read, duplicates settled): then every rule runs again.
Each rule commits on its own, highest level first, so a reader sees results while the rest run.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from trailtui.core.detect.rules import LEVELS, Rule, attack_tactics, level_rank
from trailtui.core.times import event_time_text_of

#: Rules of this level and above have their hits listed in ``detection_hits``.
MARKED_LEVEL = "low"

#: SQLite's generic error code (a statement that cannot run: a rule's SQL), as opposed to the
#: index's own failures (SQLITE_BUSY, SQLITE_FULL, SQLITE_IOERR, ...): those are raised.
_SQLITE_ERROR = 1

# meta keys: the highest event id and the number of events up to it when the last run ended.
_THROUGH_KEY = "detections_through"
_COUNT_KEY = "detections_events"


@dataclass
class DetectionRun:
    """What one :func:`run_rules` did: ``rules`` run, ``hits`` found by this run (new hits, all
    levels), ``full`` (every event was looked at, not only new ones), ``seconds``, and
    ``problems``: ``(rule title, reason)`` for rules whose filter failed on this index."""

    rules: int = 0
    hits: int = 0
    full: bool = False
    seconds: float = 0.0
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Detection:
    """One rule's result as kept in the index: the rule's ``id``, ``name``, ``title``,
    ``level``, ``tags`` and ``filter``; ``hits`` (events it matches), ``first_seen`` and
    ``last_seen`` (UTC ISO-8601 ``eventTime`` of its first and last hit, None without hits),
    ``path`` (its file), ``description``, ``problem`` (why it could not run, else None) and
    ``key`` (its row in ``detection_rules``, what ``detection_hits.rule`` holds)."""

    key: int
    id: str
    name: str
    title: str
    level: str
    tags: tuple[str, ...]
    filter: str
    hits: int
    first_seen: str | None
    last_seen: str | None
    path: str
    description: str
    problem: str | None

    @property
    def tactics(self) -> tuple[str, ...]:
        """The ATT&CK tactics among the tags (``attack.persistence`` → ``persistence``)."""
        return attack_tactics(self.tags)

    @property
    def level_rank(self) -> int:
        """0 (informational) to 4 (critical)."""
        return level_rank(self.level)


_RULE_PATHS_KEY = "detections_rule_paths"


def rule_paths_for(conn: sqlite3.Connection, given: list[str]) -> list[str]:
    """The ``--rules`` paths of a run on the index open on ``conn``: ``given`` (made absolute)
    when there are any, and then remembered in the index; else the paths remembered from the
    last run that named some (those that still exist), so ``trailtui detect --rules DIR`` then
    ``trailtui`` on the same logs runs the same rules and keeps their results. ``conn`` must be
    a writer connection when ``given`` is not empty."""
    if given:
        paths = [str(Path(path).expanduser().absolute()) for path in given]
        with conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_RULE_PATHS_KEY, json.dumps(paths)))
        return paths
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_RULE_PATHS_KEY,)).fetchone()
    try:
        remembered = json.loads(row[0]) if row else []
    except ValueError:
        return []
    return [path for path in remembered if isinstance(path, str) and Path(path).exists()]


def _meta(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row and str(row[0]).isdigit() else 0


def _sync_rules(conn: sqlite3.Connection, rules: list[Rule], full: bool) -> dict[str, tuple[int, int]]:
    """Make ``detection_rules`` hold exactly ``rules``; returns rule id -> (row, checked through).
    A rule whose filter changed, or whose level moved across :data:`MARKED_LEVEL` (its events
    listed in ``detection_hits`` or not), or every rule when ``full``, runs again over every
    event (``checked_through`` 0; its old hits are replaced when it has run, so a reader sees
    them until then). Rows that would not change are not written."""
    marked = LEVELS.index(MARKED_LEVEL)
    stored = {row[1]: row for row in conn.execute(
        "SELECT id, rule_id, name, title, level, level_rank, tags, filter, path, description FROM detection_rules")}
    wanted = {rule.id for rule in rules}
    for rule_id, (key, *_) in stored.items():
        if rule_id not in wanted:
            conn.execute("DELETE FROM detection_hits WHERE rule = ?", (key,))
            conn.execute("DELETE FROM detection_rules WHERE id = ?", (key,))
    if full:
        conn.execute("UPDATE detection_rules SET checked_through = 0")
    for rule in rules:
        values = (rule.name, rule.title, rule.level, rule.level_rank, json.dumps(list(rule.tags)), rule.filter,
                  rule.path, rule.description)
        if rule.id in stored:
            key, _, *old = stored[rule.id]
            if tuple(old) == values:
                continue
            if old[5] != rule.filter or (old[3] >= marked) != (rule.level_rank >= marked):
                conn.execute("UPDATE detection_rules SET checked_through = 0 WHERE id = ?", (key,))
            conn.execute("UPDATE detection_rules SET name = ?, title = ?, level = ?, level_rank = ?, tags = ?, "
                         "filter = ?, path = ?, description = ? WHERE id = ?", (*values, key))
        else:
            conn.execute("INSERT INTO detection_rules (rule_id, name, title, level, level_rank, tags, filter, path, "
                         "description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (rule.id, *values))
    return {rule_id: (key, checked)
            for key, rule_id, checked in conn.execute("SELECT id, rule_id, checked_through FROM detection_rules")}


def run_rules(conn: sqlite3.Connection, rules: list[Rule], *, on_rule=None) -> DetectionRun:
    """Run ``rules`` over the index open on ``conn`` (a writer connection; the caller holds the
    indexing lock) and keep the results (see the module's docstring); rules no longer given
    are forgotten with their hits. ``on_rule(detection)`` is called with each rule's
    :class:`Detection` once it is committed, highest level first. A rule whose SQL fails on
    this index is recorded with its ``problem`` and the others still run; ``sqlite3.Error`` from
    the index itself (locked, full disk) is raised."""
    from trailtui.core.filter import compile_filter

    started = time.perf_counter()
    run = DetectionRun()
    through = conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0
    last_through = _meta(conn, _THROUGH_KEY)
    # Ids are never reused: fewer events at or below the last run's highest id means some
    # were removed (and perhaps replaced under new ids): their hits are gone too.
    kept = conn.execute("SELECT count(*) FROM events WHERE id <= ?", (last_through,)).fetchone()[0]
    run.full = kept != _meta(conn, _COUNT_KEY) or last_through > through
    with conn:
        rows = _sync_rules(conn, rules, run.full)
    total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    for rule in sorted(rules, key=lambda rule: -rule.level_rank):
        key, checked = rows[rule.id]
        if checked >= through:
            continue
        run.rules += 1
        compiled = compile_filter(rule.filter)
        if checked and (through - checked) * 8 < total:
            # A few new events: walk them by id (NOT INDEXED still lets SQLite use the rowid range).
            source, bounds = "events NOT INDEXED", "events.id > ? AND events.id <= ?"
        else:
            # "+" keeps the id bounds from being taken for an index range: the rule's own terms
            # choose the index (eventName, say), the bounds are checked on what it finds.
            source, bounds = "events", "+events.id > ? AND +events.id <= ?"
        where = f"{bounds} AND ({compiled.where})"
        params = (checked, through, *compiled.params)
        try:
            with conn:
                if not checked:  # from the first event: what an earlier run found is replaced
                    conn.execute("DELETE FROM detection_hits WHERE rule = ?", (key,))
                    conn.execute("UPDATE detection_rules SET hits = 0, first_seen = NULL, last_seen = NULL "
                                 "WHERE id = ?", (key,))
                if rule.level_rank >= LEVELS.index(MARKED_LEVEL):
                    found = conn.execute(
                        f"INSERT OR IGNORE INTO detection_hits SELECT events.id, {key:d} FROM {source} WHERE {where}",
                        params,
                    ).rowcount
                    # The span of the new hits from the hits themselves: the filter runs once.
                    first, last = conn.execute(
                        'SELECT min(e."eventTime"), max(e."eventTime") FROM detection_hits h '
                        "JOIN events e ON e.id = h.event_id WHERE h.rule = ? AND h.event_id > ?", (key, checked),
                    ).fetchone()
                else:
                    found, first, last = conn.execute(
                        f'SELECT count(*), min("eventTime"), max("eventTime") FROM {source} WHERE {where}', params
                    ).fetchone()
                # min/max of a value and NULL is NULL: a run without new hits keeps the span.
                conn.execute(
                    "UPDATE detection_rules SET hits = hits + ?, first_seen = coalesce(min(first_seen, ?), first_seen, ?), "
                    "last_seen = coalesce(max(last_seen, ?), last_seen, ?), checked_through = ?, problem = NULL "
                    "WHERE id = ?",
                    (found, first, first, last, last, through, key),
                )
        except sqlite3.OperationalError as err:
            text = str(err)
            if "interrupted" in text or "user-defined function raised exception" in text:
                # Ctrl+C (or the loader's SIGTERM) while SQLite ran one of trailtui's SQL
                # functions, which never raise otherwise: sqlite3 reports it as this error.
                raise KeyboardInterrupt from err
            if getattr(err, "sqlite_errorcode", _SQLITE_ERROR) != _SQLITE_ERROR:
                raise  # the index itself: locked, full disk, read-only (Python 3.11+ tells)
            reason = text.splitlines()[0]
            run.problems.append((rule.title, reason))
            with conn:
                conn.execute("UPDATE detection_rules SET problem = ? WHERE id = ?", (reason, key))
            continue
        run.hits += found
        if on_rule is not None:
            on_rule(detection_by_key(conn, key))
    with conn:
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_THROUGH_KEY, str(through)))
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_COUNT_KEY, str(total)))
    run.seconds = time.perf_counter() - started
    return run


_DETECTION_SELECT = (
    "SELECT id, rule_id, name, title, level, tags, filter, hits, first_seen, last_seen, path, description, problem "
    "FROM detection_rules "
)


def _detection(row: tuple) -> Detection:
    key, rule_id, name, title, level, tags, text, hits, first, last, path, description, problem = row
    return Detection(
        key, rule_id, name, title, level, tuple(json.loads(tags)), text, hits,
        event_time_text_of(first), event_time_text_of(last),
        path, description, problem,
    )


def detection_by_key(conn: sqlite3.Connection, key: int) -> Detection:
    """The :class:`Detection` in row ``key`` of ``detection_rules``. Raises KeyError if none."""
    row = conn.execute(_DETECTION_SELECT + "WHERE id = ?", (key,)).fetchone()
    if row is None:
        raise KeyError(key)
    return _detection(row)


def detections(conn: sqlite3.Connection, *, with_hits: bool = True, min_level: str = "informational") -> list[Detection]:
    """The rules of the last run, as the Detections view lists them: highest level first, then
    most hits, then title; only those with hits unless ``with_hits`` is False; only those of
    ``min_level`` (one of :data:`LEVELS`) or above. Empty before the first run."""
    rank = LEVELS.index(min_level)
    where = "WHERE level_rank >= ?" + (" AND hits > 0" if with_hits else "")
    rows = conn.execute(_DETECTION_SELECT + where + " ORDER BY level_rank DESC, hits DESC, title", (rank,))
    return [_detection(row) for row in rows]


def detections_of_event(conn: sqlite3.Connection, event_id: int) -> list[Detection]:
    """The rules (of level :data:`MARKED_LEVEL` and above) that hit event ``events.id =
    event_id``, highest level first."""
    rows = conn.execute(
        _DETECTION_SELECT + "WHERE id IN (SELECT rule FROM detection_hits WHERE event_id = ?) "
        "ORDER BY level_rank DESC, title", (event_id,),
    )
    return [_detection(row) for row in rows]


def hit_levels(conn: sqlite3.Connection, event_ids: list[int]) -> dict[int, str]:
    """For each of ``event_ids`` that a rule hit, the highest level among those rules (the
    event list's marker). Ids without hits are left out."""
    if not event_ids:
        return {}
    marks = ",".join("?" for _ in event_ids)
    rows = conn.execute(
        f"SELECT h.event_id, max(r.level_rank) FROM detection_hits h JOIN detection_rules r ON r.id = h.rule "
        f"WHERE h.event_id IN ({marks}) GROUP BY h.event_id", event_ids,
    )
    return {event_id: LEVELS[rank] for event_id, rank in rows}
