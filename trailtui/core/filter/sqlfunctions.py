"""The SQL functions compiled filters call, registered on each connection."""

from __future__ import annotations

import functools
import ipaddress
import sqlite3
from collections.abc import Callable

import orjson

from trailtui.core.ingest.decode import parse_event_json
from trailtui.core.store.originals import main_database_path, original_event


def register_sql_functions(conn: sqlite3.Connection) -> None:
    """Register on ``conn`` the SQL functions compiled filters call. Both are deterministic and
    never raise (they return NULL on bad input, since an exception would abort the query):

    ``trailtui_ip_in_cidr(ip_text, cidr_text)``
        1 if the address is in the network (IPv4 or IPv6, host bits of the network ignored), 0
        if not (or of the other IP version), NULL if either is not an address / network.
    ``trailtui_regexp(pattern, text)``
        1 if the RE2 ``pattern`` matches anywhere in ``text`` (case-sensitive unless the pattern
        says ``(?i)``), 0 if not, NULL when ``text`` is NULL or the pattern does not compile.
        RE2 runs in time linear in the text: no pattern (a Sigma rule's, say) can make a
        filter backtrack for ever.
    ``trailtui_json_value(event_id, path_json)``
        ``event_id`` is an ``events.id``, whose original event is read (on a second, read-only
        connection to the same file) with :func:`trailtui.core.store.originals.original_event`;
        ``path_json`` a JSON list of object keys (strings) and array indexes (integers). Returns
        the leaf as text: strings as is, numbers and ``true``/``false`` as JSON text, objects and
        arrays as compact JSON; NULL when a step is missing or the leaf is JSON ``null``. A key
        missing exactly is looked up case-insensitively.
    """
    conn.create_function("trailtui_ip_in_cidr", 2, _ip_in_cidr, deterministic=True)
    conn.create_function("trailtui_regexp", 2, _regexp, deterministic=True)
    conn.create_function("trailtui_json_value", 2, _json_value_function(main_database_path(conn)), deterministic=True)


def _re2_options():
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print a refused pattern on stderr, over the app's screen
    return options


@functools.lru_cache(maxsize=256)
def _compiled_regex(pattern: str):
    import re2

    try:
        return re2.compile(pattern, _re2_options())
    except re2.error:
        return None


def _regexp(pattern: object, text: object) -> int | None:
    if not isinstance(pattern, str) or text is None:
        return None
    compiled = _compiled_regex(pattern)
    if compiled is None:
        return None
    return 1 if compiled.search(text if isinstance(text, str) else str(text)) else 0


def regex_problem(pattern: str) -> str | None:
    """Why RE2 refuses ``pattern`` (its message), or None when it compiles."""
    import re2

    try:
        re2.compile(pattern, _re2_options())
    except re2.error as err:
        detail = err.args[0] if err.args else b""
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        return text or "not a valid regular expression"
    return None


@functools.lru_cache(maxsize=64)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def _ip_in_cidr(ip_text: object, cidr_text: object) -> int | None:
    if not isinstance(ip_text, str) or not isinstance(cidr_text, str):
        return None
    try:
        return int(ipaddress.ip_address(ip_text) in _network(cidr_text))
    except Exception:  # noqa: BLE001 - an SQL function must not raise (it would abort the query)
        return None


#: How many ``trailtui_json_value`` results a connection keeps (a few MB).
_CACHED_VALUES = 100_000


def _json_value_function(db_path: str | None) -> Callable[[object, object], str | None]:
    """A ``trailtui_json_value`` reading originals through its own connection to ``db_path``
    (an SQL function may not run queries on the connection that calls it), with a one-event
    cache (the terms of one filter ask the same row for several paths, and reading + parsing
    is the expensive part) and a cache of the last :data:`_CACHED_VALUES` values found (the
    rules of a detection run ask the same few paths of the same events: the three console
    sign-in rules each read every ConsoleLogin's ``responseElements.ConsoleLogin``). Event ids
    are never reused and an event's original never changes under it (``store.originals``
    refuses a changed file), so a cached value cannot go stale."""
    last: tuple[object, object] = (None, None)  # (event id, parsed event); swapped atomically
    side: list[sqlite3.Connection] = []

    @functools.lru_cache(maxsize=_CACHED_VALUES)
    def trailtui_json_value(event_id: object, path_json: object) -> str | None:
        nonlocal last
        try:
            path = _parse_path(path_json)
            if path is None or not isinstance(event_id, int) or db_path is None:
                return None
            cached_id, event = last
            if event_id != cached_id:
                if not side:
                    side.append(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False))
                original = original_event(side[0], event_id)
                if original is None:
                    return None
                event = parse_event_json(original)  # any depth: an attacker chooses it
                last = (event_id, event)
            return _leaf_text(_walk(event, path))
        except Exception:  # noqa: BLE001 - an SQL function must not raise (it would abort the query)
            return None

    return trailtui_json_value


@functools.lru_cache(maxsize=256)
def _parse_path(path_json: object) -> tuple[str | int, ...] | None:
    """A JSON path parameter as a tuple of keys and indexes, None if it is not one."""
    try:
        path = orjson.loads(path_json)
    except (orjson.JSONDecodeError, TypeError):
        return None
    if not isinstance(path, list) or not all(isinstance(step, (str, int)) and not isinstance(step, bool) for step in path):
        return None
    return tuple(path)


def _walk(node: object, path: tuple[str | int, ...]) -> object:
    """The value at ``path`` in ``node``, or None if some step is missing."""
    for step in path:
        if isinstance(node, dict):
            key = str(step)
            if key in node:
                node = node[key]
            else:
                lowered = key.lower()
                node = next((item for name, item in node.items() if name.lower() == lowered), None)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return None
    return node


def _leaf_text(node: object) -> str | None:
    if node is None:
        return None
    if isinstance(node, str):
        return node
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, int):
        return str(node)
    return orjson.dumps(node).decode()  # floats as JSON numbers, objects/arrays compact
