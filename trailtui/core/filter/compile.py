"""Terms to parameterised SQL over the index: one condition per term, values bound, column names
from the fields' whitelist; free text through the FTS index."""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson

from trailtui.core.s3 import S3_EVENT_SOURCE, S3_LEVELS, soap_event_name
from trailtui.core.store.schema import ACTOR_COLUMNS, LOOKUP_COLUMNS, VALUE_LIST_COLUMNS
from trailtui.core.times import epoch_seconds, event_time_text_sql
from trailtui.core.userstate import USER_SCHEMA
from trailtui.core.filter.fields import (
    FieldInfo,
    _BINARY_COLUMNS,
    _CATEGORIES,
    _CATEGORIES_EXPECTED,
    _lookup_field,
    _shown,
)
from trailtui.core.filter.moments import _as_utc, _time_bound
from trailtui.core.filter.nodes import And, FilterError, Node, Not, Or, _Term, _Value
from trailtui.core.filter.parse import _check_text, _parse
from trailtui.core.filter.sqlfunctions import regex_problem


@dataclass(frozen=True)
class CompiledFilter:
    """A filter ready to run: ``SELECT ... FROM events WHERE {where}`` with ``params``.

    ``where`` is an SQL boolean expression over the table ``events`` (referenced by that name,
    so it also works inside a subquery); ``"1"`` for an empty filter. ``params`` are the values
    of its ``?`` placeholders, in order. ``text`` is the filter as typed. The SQL may call the
    functions of :func:`register_sql_functions` and read the schema ``user``
    (``is:marked``; ``index.connect`` attaches it).

    ``whole_words``: the free-text words and quoted phrases (positive terms, as typed, without
    quotes) that match whole words only because they have no trailing ``*``, in order, each
    once: for ``jmerck "access denied" ali*`` it is ``("jmerck", "access denied")``, so a UI can
    say "matched as whole words: jmerck · try jmerck*". Empty when there are none.

    ``free_text``: True when a term reads the full-text index (a bare word or phrase, negated
    or not), whose filling can trail the field indexes during a load (see ``loader``).
    """

    where: str
    params: tuple
    text: str
    whole_words: tuple[str, ...] = ()
    free_text: bool = False


def compile_filter(text: str, *, now: datetime | None = None) -> CompiledFilter:
    """Compile filter ``text`` (the grammar in this module's docstring) to SQL over ``events``.

    ``now`` is the moment relative times (``since:-2h``) count back from: an aware datetime
    (a naive one is taken as UTC); default the current time. Returns a
    :class:`CompiledFilter`; raises :class:`FilterError` (with the 0-based position) if the
    text does not parse, holds a bare ``OR``/``|``/``||``/``AND`` (see the module docstring),
    names an unknown field, has a value its field does not accept (``is:``,
    ``readonly:``, ``category:``, a time, a CIDR, a JSON path) or is longer than
    :data:`MAX_FILTER_LENGTH` characters. Field meanings: :data:`FIELDS` ("CloudTrail record
    contents" and "CloudTrail userIdentity element", AWS CloudTrail User Guide). Pure function
    of its arguments; typically tens of microseconds.
    """
    _check_text(text)
    now = datetime.now(timezone.utc) if now is None else _as_utc(now)
    tree = _parse(text)
    found = _Found()
    where, params = _compile_node(tree, now, found, positive=True) if tree is not None else (None, [])
    return CompiledFilter(where or "1", tuple(params), text, tuple(found.whole_words), found.free_text)


class _Found:
    """What compiling a tree noticed: whole-word free-text values (ordered, each once) and
    whether any term reads the full-text index."""

    def __init__(self) -> None:
        self.whole_words: dict[str, None] = {}
        self.free_text = False

    def phrase(self, term: _Term, positive: bool) -> str | None:
        """The FTS phrase of free-text ``term`` (None: nothing the index could find)."""
        value = term.values[0]
        phrase = _fts_phrase(value)
        if phrase is None:
            return None
        self.free_text = True
        if positive and value.chunks[-1] != "":  # no trailing '*': whole words
            self.whole_words["*".join(value.chunks)] = None
        return phrase


def _compile_node(
    node: Node, now: datetime, found: _Found, *, positive: bool, in_or: bool = False
) -> tuple[str | None, list]:
    """SQL and params for ``node``; None for SQL when it filters nothing (a free-text word with
    no letters or digits, alone or in a group of such). ``positive``: under an even number of
    NOTs (for :attr:`CompiledFilter.whole_words`); ``in_or``: ``node`` is an arm of an OR (its
    conditions then take the forms SQLite's OR optimisation can use: :data:`_IN_AN_OR`)."""
    if isinstance(node, _Term):
        if node.field is None:
            phrase = found.phrase(node, positive != node.negated)
            if phrase is None:
                return None, []
            return (f"NOT ({_FTS_SQL})" if node.negated else _FTS_SQL), [phrase]
        sql, params = _compile_field_term(node, now)
        return (_negated(sql) if node.negated else sql), params
    if isinstance(node, Not):
        sql, params = _compile_node(node.child, now, found, positive=not positive)
        return (None, []) if sql is None else (_negated(sql), params)
    clauses: list[str] = []
    params: list = []
    phrases: list[str] = []
    by_name = isinstance(node, And) and any(_is_positive_on(child, "eventName") for child in node.children)
    for child in node.children:
        if isinstance(node, And) and isinstance(child, _Term) and child.field is None and not child.negated:
            # One full-text query for the positive words side by side: FTS5 ANDs phrases.
            phrase = found.phrase(child, positive)
            if phrase is not None:
                phrases.append(phrase)
            continue
        arm = isinstance(node, Or) or in_or
        sql, child_params = _compile_node(child, now, found, positive=positive, in_or=isinstance(node, Or))
        if sql is not None and by_name and _is_positive_on(child, "eventSource"):
            # eventName AND eventSource (what nearly every Sigma rule says): an API name belongs
            # to one service, so the eventName index finds fewer events, but the planner's
            # averages (store.statistics) cannot know that s3 is 3/4 of the events. "+" keeps
            # eventSource from being chosen as the index.
            sql = sql.replace(_column("eventSource"), "+" + _column("eventSource"))
        if sql is not None:  # an arm that filters nothing is left out (of an OR too)
            clauses.append(_IN_AN_OR.get(sql, sql) if arm else sql)
            params.extend(child_params)
    if phrases:
        clauses.append(_FTS_SQL)
        params.append(" ".join(phrases))
    if not clauses:
        return None, []
    return _join("AND" if isinstance(node, And) else "OR", clauses), params


def _negated(sql: str) -> str:
    """Events for which ``sql`` is not true. A comparison with a missing (NULL) field is NULL,
    and NOT NULL would drop the row: a negated term keeps events that lack the field. CASE, not
    ``NOT IFNULL(sql, 0)``: SQLite evaluates a WHEN as a condition, stopping at the first arm of
    an AND (OR) that is false (true), where a function's argument is computed whole, every
    subquery in it for every event (``-same:`` of a Sigma rule, 2.8 s at 1M events)."""
    return f"(CASE WHEN {sql} THEN 0 ELSE 1 END)"


def _is_positive_on(node: Node, column: str) -> bool:
    """``node`` is a field term (not negated, not a regular expression, not ``field:*``) that
    reads ``column`` alone."""
    if not isinstance(node, _Term) or node.field is None or node.negated:
        return False
    if any(value.regex or value.anything for value in node.values):
        return False
    try:
        return _lookup_field(node.field, node.field_position).columns == (column,)
    except FilterError:
        return False


def _join(op: str, parts: list[str]) -> str:
    """``(p1 op p2 op ...)``, nested in groups of 16 so that thousands of terms stay within
    SQLite's expression depth limit (1000)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) > 16:
        parts = [_join(op, parts[i : i + 16]) for i in range(0, len(parts), 16)]
        return _join(op, parts)
    return "(" + f" {op} ".join(parts) + ")"


#: Kinds of field a regular expression (``field~pattern``) can test: their text as stored.
_REGEX_KINDS = frozenset(("text", "eventname", "source", "session", "ip", "json"))


def _compile_field_term(term: _Term, now: datetime) -> tuple[str, list]:
    """SQL for ``field:v1,v2,...``: the values' conditions ORed (``field~pattern``: a regular
    expression on the field's text, see :func:`_regex_term`)."""
    info = _lookup_field(term.field, term.field_position)
    if term.values[0].regex:
        return _regex_term(info, term.values[0], now)
    if info.kind == "same":
        return _same_term(term)
    compile_value = _VALUE_COMPILERS[info.kind]
    parts: list[str] = []
    params: list = []
    for value in term.values:
        sql, value_params = compile_value(info, value, now)
        parts.append(sql)
        params.extend(value_params)
    return _join("OR", parts), params


def _regex_term(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``field~pattern``: RE2 ``pattern`` found anywhere in the field's text as CloudTrail wrote
    it (case-sensitive unless ``(?i)``; anchor with ``^``/``$`` for the whole value), each of
    the field's columns ORed as for ``field:``. Raises FilterError for a pattern RE2 refuses
    or a field that is not text (``is:``, ``readonly:``, times)."""
    if info.kind not in _REGEX_KINDS:
        raise FilterError(value.position, f"a field of text before '~' ({_shown(info.name)} takes values, not a regular expression)")
    problem = regex_problem(value.chunks[0])
    if problem is not None:
        raise FilterError(value.position, f"a regular expression RE2 accepts ({_shown(problem)})")
    if info.kind == "json":
        return _json_value(info, value, now)
    return _text_value(info, value, now)


def _match(expr: str, value: _Value, *, nocase: bool = False) -> tuple[str, list]:
    """``expr`` compared with one value: present, LIKE pattern, equality, or a regular expression."""
    if value.regex:
        return f"trailtui_regexp(?, {expr})", [value.chunks[0]]
    if value.anything:
        return f"IFNULL({expr}, '') <> ''", []
    if value.wild:
        return f"{expr} LIKE ? ESCAPE '\\'", [_like_pattern(value)]
    return f"{expr} = ?{' COLLATE NOCASE' if nocase else ''}", [value.literal]


def _like_pattern(value: _Value) -> str:
    """The LIKE pattern of a wildcard value: the user's ``%``, ``_`` and ``\\`` are literal."""
    escaped = (chunk.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for chunk in value.chunks)
    return "%".join(escaped)


def _column(name: str) -> str:
    return f'events."{name}"'


def _text_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """The value against each of the field's columns (ORed: ``actor`` reads four).

    Columns kept in a lookup table (identity columns in ``actors``, the call's setting in
    ``contexts``: ``schema.LOOKUP_COLUMNS``) are tested once per distinct row of that table,
    then the matching rows' events are found through the event's id column (``actorId`` has an
    index of its own).
    """
    parts: list[str] = []
    params: list = []
    looked_up: dict[tuple[str, str], tuple[list[str], list]] = {}
    for column in info.columns:
        lookup = ("actors", "actorId") if column in ACTOR_COLUMNS else LOOKUP_COLUMNS.get(column)
        if lookup is not None:
            table_parts, table_params = looked_up.setdefault(lookup, ([], []))
            sql, column_params = _match(f'{lookup[0]}."{column}"', value, nocase=column in _BINARY_COLUMNS)
            table_parts.append(sql)
            table_params.extend(column_params)
            continue
        if value.regex and column in VALUE_LIST_COLUMNS:
            # The pattern on the column's few distinct values, then the events through its index.
            sql = (
                f"{_column(column)} IN (SELECT value FROM column_values WHERE column_name = ? "
                "AND trailtui_regexp(?, value))"
            )
            column_params = [column, value.chunks[0]]
        elif value.wild and not value.anything and column in VALUE_LIST_COLUMNS:
            # LIKE on the column's few distinct values, then the events through its index.
            sql = (
                f"{_column(column)} IN (SELECT value FROM column_values WHERE column_name = ? "
                "AND value LIKE ? ESCAPE '\\')"
            )
            column_params = [column, _like_pattern(value)]
        else:
            sql, column_params = _match(_column(column), value, nocase=column in _BINARY_COLUMNS)
        parts.append(sql)
        params.extend(column_params)
    lookups, lookup_params = [], []
    for (table, id_column), (table_parts, table_params) in looked_up.items():
        # "Has a value" matches most actors (contexts) and their events; SQLite takes the IN list
        # for a few dozen rows and would look every actor's events up through events_actorId
        # (1.5 s for eventSource:s3 userIdentity.accountId:* at 1M events, 0.4 s reading the
        # eventSource index): "+" leaves the choice of index to the other terms.
        reference = ("+" if value.anything else "") + _column(id_column)
        lookups.append(f"{reference} IN (SELECT id FROM {table} WHERE {_join('OR', table_parts)})")
        lookup_params.extend(table_params)
    return _join("OR", lookups + parts), lookup_params + params


def _session_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``sessionKey`` (``<arn> @ <creationDate>``, see ``extract.session_key``). An exact value
    first finds the session's actors by its ARN (indexed), then checks the whole key."""
    sql, params = _match(_column("sessionKey"), value)
    if value.wild or " @ " not in value.literal:
        return sql, params
    arn = value.literal.rsplit(" @ ", 1)[0]
    return f"{_column('actorId')} IN (SELECT id FROM actors WHERE userIdentity_arn = ?) AND {sql}", [arn, *params]


def _source_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``source:s3`` is ``s3.amazonaws.com``, the form eventSource takes for AWS services."""
    if not value.wild and "." not in value.literal:
        value = _Value((value.literal + ".amazonaws.com",), value.position)
    return _text_value(info, value, now)


def _ip_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """An address (text match) or, with a ``/``, a CIDR network."""
    if value.wild or "/" not in value.literal:
        return _text_value(info, value, now)
    try:
        network = ipaddress.ip_network(value.literal, strict=False)
    except ValueError:
        raise FilterError(value.position, "an IP network like 203.0.113.0/24 or 2001:db8::/32") from None
    if network.version == 4:
        # sourceIPv4 holds IPv4 addresses as integers: an indexed range scan.
        return f"{_column('sourceIPv4')} BETWEEN ? AND ?", [int(network.network_address), int(network.broadcast_address)]
    return f"trailtui_ip_in_cidr({_column('sourceIPAddress')}, ?)", [str(network)]


def _choice(value: _Value, choices: dict[str, str], expected: str) -> str:
    """What ``choices`` maps the (lowercased) value to: our own SQL or parameter, never the
    user's text. Raises FilterError naming the choices."""
    choice = None if value.wild else choices.get(value.literal.lower())
    if choice is None:
        raise FilterError(value.position, expected)
    return choice


_FLAGS = {"true": "1", "false": "0"}


def _flag_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``readOnly``/``managementEvent``: stored as 1/0 (the literal comes from ``_FLAGS``)."""
    return f"{_column(info.columns[0])} = {_choice(value, _FLAGS, 'true or false')}", []




def _category_sql(category: str) -> str:
    """Events of one ``eventCategory`` (a constant of :data:`_CATEGORIES`): a few contexts,
    then their events."""
    return f"{_column('contextId')} IN (SELECT id FROM contexts WHERE eventCategory = '{category}')"


def _category_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``eventCategory``: Management, Data, Insight or NetworkActivity ("CloudTrail record
    contents"; network activity events for VPC endpoints: "Logging network activity events")."""
    category = _choice(value, _CATEGORIES, _CATEGORIES_EXPECTED)
    return f"{_column('contextId')} IN (SELECT id FROM contexts WHERE eventCategory = ?)", [category]


def _nonempty(column: str) -> str:
    return f"IFNULL({_column(column)}, '') <> ''"


_ANONYMOUS = "'ANONYMOUS_PRINCIPAL'"  # S3 User Guide, "Identifying Amazon S3 requests using CloudTrail"

def _actor_is(condition: str) -> str:
    """Events whose identity (a row of ``actors``, where the identity columns live) meets
    ``condition``: a few actors tested, their events found through ``events_actorId``."""
    return f"{_column('actorId')} IN (SELECT id FROM actors WHERE {condition})"


_CROSS_ACCOUNT = f"{_column('crossAccount')} = 1"
#: Conditions whose index is partial (``schema.PARTIAL_INDEXES``): SQLite's OR optimisation does
#: not use a partial index for an arm of an OR, so there each reads its index in a subquery of its
#: own (at 1M events: ``name:ConsoleLogin OR is:crossaccount`` 84 ms, against 502 ms scanning).
#: Alone, the plain form is faster (6 ms against 555 ms).
_IN_AN_OR: dict[str, str] = {
    _CROSS_ACCOUNT: f"events.id IN (SELECT id FROM events WHERE {_CROSS_ACCOUNT})",
}

_IS_CONDITIONS: dict[str, str] = {
    # principalKey is ANONYMOUS_PRINCIPAL for both forms CloudTrail writes (extract.is_anonymous).
    "anonymous": _actor_is(f"principalKey = {_ANONYMOUS}"),
    "error": _nonempty("errorCode"),
    "write": f"{_column('readOnly')} = 0",
    "read": f"{_column('readOnly')} = 1",
    "root": _actor_is("userIdentity_type = 'Root'"),
    # Network activity events (eventType AwsVpceEvent): calls through a VPC endpoint.
    "network": _category_sql(_CATEGORIES["networkactivity"]),
    # Decided per (actor, context) when the index was written (store.shard.cross_account).
    "crossaccount": _CROSS_ACCOUNT,
    # The user's marks, kept by eventID beside the index; the few marks find their events through
    # the events_eventID unique index.
    "marked": f"{_column('eventID')} IN (SELECT eventID FROM {USER_SCHEMA}.marks)",
}


_IS_EXPECTED = "one of " + ", ".join(_IS_CONDITIONS)


def _is_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``is:NAME``: a fixed condition (module docstring)."""
    return _choice(value, _IS_CONDITIONS, _IS_EXPECTED), []


def _since_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    # The index keeps eventTime as epoch seconds (core.times).
    return f"{_column('eventTime')} >= ?", [epoch_seconds(_time_bound(value, now, until=False))]


def _until_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    return f"{_column('eventTime')} < ?", [epoch_seconds(_time_bound(value, now, until=True))]


def _event_time_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``eventTime:VALUE`` against CloudTrail's text of the time (the index keeps epoch seconds):
    a whole time in that form (any case) is one indexed equality, anything else (``2021-07-29*``)
    is matched against the text of every event's time."""
    if not value.wild:
        try:
            seconds = epoch_seconds(value.literal.upper())
        except ValueError:
            seconds = None
        if seconds is not None:
            return f"{_column('eventTime')} = ?", [seconds]
    if value.anything:
        return f"{_column('eventTime')} IS NOT NULL", []
    return _match(event_time_text_sql(_column("eventTime")), value, nocase=True)


_JSON_EXPR = "trailtui_json_value(events.id, ?)"


def _json_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """A JSON path of the original event (see :func:`register_sql_functions`)."""
    sql, params = _match(_JSON_EXPR, value, nocase=True)
    return sql, [orjson.dumps(list(info.path)).decode(), *params]


def _event_name_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``eventName``; a SOAP operation name of the S3 user guide's table ("Amazon S3 SOAP
    Actions Tracked by CloudTrail Logging") also matches the CloudTrail name it is logged as."""
    sql, params = _text_value(info, value, now)
    logged_as = None if value.wild else soap_event_name(value.literal)
    if logged_as is None or logged_as.lower() == value.literal.lower():
        return sql, params
    other, other_params = _text_value(info, _Value((logged_as,), value.position), now)
    return _join("OR", [sql, other]), [*params, *other_params]


_S3_EXPECTED = "one of " + ", ".join(S3_LEVELS)


def _s3_value(info: FieldInfo, value: _Value, now: datetime) -> tuple[str, list]:
    """``s3:LEVEL``: an S3 call whose eventName is in the user guide's list for LEVEL
    ("Logging Amazon S3 API calls using AWS CloudTrail", see :mod:`trailtui.core.s3`)."""
    level = None if value.wild else value.literal.lower()
    if level not in S3_LEVELS:
        raise FilterError(value.position, _S3_EXPECTED)
    names = sorted(S3_LEVELS[level])
    marks = ", ".join("?" * len(names))
    sql = f"({_column('eventSource')} = ? AND {_column('eventName')} IN ({marks}))"
    return sql, [S3_EVENT_SOURCE, *names]


def _field_text_sql(name_value: _Value) -> tuple[str, list]:
    """SQL for the text of the field named by ``name_value`` (``same:``): a column of ``events``,
    of ``actors``/``contexts`` (through the event's id column), or a JSON path. Raises
    FilterError for a name that is not one field of one value (``actor`` reads four)."""
    if name_value.wild or name_value.regex:
        raise FilterError(name_value.position, "a field name (no wildcards)")
    info = _lookup_field(name_value.literal, name_value.position)
    if info.kind == "json":
        return _JSON_EXPR, [orjson.dumps(list(info.path)).decode()]
    if len(info.columns) != 1 or info.kind in ("is", "s3", "same", "since", "until"):
        raise FilterError(name_value.position, f"a field of one value ({_shown(info.name)} is not one)")
    column = info.columns[0]
    lookup = ("actors", "actorId") if column in ACTOR_COLUMNS else LOOKUP_COLUMNS.get(column)
    if lookup is not None:
        table, id_column = lookup
        return f'(SELECT {table}."{column}" FROM {table} WHERE {table}.id = {_column(id_column)})', []
    return _column(column), []


def _same_term(term: _Term) -> tuple[str, list]:
    """``same:FIELD,OTHER``: the two fields' texts are equal, case aside (Sigma's ``fieldref``
    modifier); an event lacking either field does not match (``-same:`` keeps it)."""
    if len(term.values) != 2:
        position = term.values[-1].position if term.values else term.field_position
        raise FilterError(position, "two field names: same:FIELD,OTHER")
    first, first_params = _field_text_sql(term.values[0])
    second, second_params = _field_text_sql(term.values[1])
    compared = f"{first} = {second} COLLATE NOCASE"
    names = {_lookup_field(value.literal, value.position).columns for value in term.values}
    if names == {("userIdentity_accountId",), ("recipientAccountId",)}:
        return _SAME_ACCOUNT.format(compared=compared), [*first_params, *second_params]
    return compared, [*first_params, *second_params]


#: ``same:userIdentity.accountId,recipientAccountId`` (a caller in the account that received the
#: event) from the flag the loader stores (``store.shard.cross_account``): for a caller account
#: that is set and not anonymous, and a recipient that is set, the two are equal exactly when the
#: event is not cross-account; other callers are compared as written. Reading both lookup tables
#: for each event took 2.2 s over the 760k S3 events of the benchmark corpus.
_NAMED_ACCOUNT = "IFNULL(userIdentity_accountId, '') <> '' AND lower(userIdentity_accountId) NOT IN ('anonymous_principal', 'anonymous')"
_SAME_ACCOUNT = (
    f"((+{_actor_is(_NAMED_ACCOUNT)} AND +{_column('contextId')} IN "
    f"(SELECT id FROM contexts WHERE IFNULL(recipientAccountId, '') <> '') AND {_column('crossAccount')} IS NULL) "
    f"OR ({_actor_is(f'NOT ({_NAMED_ACCOUNT})')} AND {{compared}}))"
)  # "+": the lists hold most actors and contexts, no index to choose them by (see _text_value)


_VALUE_COMPILERS: dict[str, Callable[[FieldInfo, _Value, datetime], tuple[str, list]]] = {
    "text": _text_value,
    "time": _event_time_value,
    "eventname": _event_name_value,
    "s3": _s3_value,
    "source": _source_value,
    "session": _session_value,
    "ip": _ip_value,
    "flag": _flag_value,
    "category": _category_value,
    "is": _is_value,
    "since": _since_value,
    "until": _until_value,
    "json": _json_value,
}


_FTS_SQL = "events.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)"


def _fts_phrase(value: _Value) -> str | None:
    """The FTS5 query of a bare word or quoted phrase, or None if it has no token characters.

    The text becomes one FTS5 string literal (``"..."`` with ``"`` doubled), so FTS5 syntax in
    it is never interpreted and the table's unicode61 tokenizer splits it as it split the events
    (``198.51.100.7`` -> the phrase 198 51 100 7). A trailing ``*`` makes the last token a prefix.
    """
    prefix = value.wild and value.chunks[-1] == ""
    # An inner '*' is punctuation to FTS; NUL would end the FTS5 string ("unterminated string").
    words = " ".join(value.chunks).replace("\x00", " ").strip()
    if not any(_is_token_char(char) for char in words):
        return None
    return '"' + words.replace('"', '""') + '"' + (" *" if prefix else "")


def _is_token_char(char: str) -> bool:
    """What unicode61 indexes by default: letters, numbers and private-use (``L* N* Co``)."""
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"
