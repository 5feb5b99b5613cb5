"""A trailtui filter as Athena SQL over the table of :mod:`trailtui.core.athena.ddl`.

The same grammar, parsed by the same parser (:mod:`trailtui.core.filter.parse`), compiled a
second way: to a Trino expression on the Athena user guide's CloudTrail table, built as a
sqlglot syntax tree, so that every value from the user reaches the SQL as a string literal
(sqlglot writes it, quotes doubled), never as text spliced into it. Matching follows trailtui's:
ASCII case aside (``translate`` of the capitals on both sides, as SQLite's NOCASE), ``*`` wildcards as ``LIKE`` with ``%``/``_``/``\\``
escaped, ``field:*`` as "has a non-empty value", a negated term keeping events that lack the
field (``CASE WHEN c THEN false ELSE true END``, never ``NOT c``, which drops NULLs).

Some terms cannot run in Athena: free text (trailtui's full-text index), the identity keys and
display columns trailtui derives at load time (``actor``, ``principal``, ``session``,
``resource``, ``issued``), marks, regular expressions (Athena's engine is not RE2), and fields
the documented table does not hold (``managementEvent``, undocumented keys). Each is replaced by
``TRUE`` under an even number of negations and ``FALSE`` under an odd one, so Athena returns a
superset of the events the filter matches, and is named in :attr:`AthenaQuery.notes`: trailtui
applies the whole filter to what comes back.

Every query names its partitions (:data:`~trailtui.core.athena.ddl.PARTITIONS`): the accounts
and Regions asked for, and the ``day`` folders of the time window, from its first day to
``late_days`` past its last (the folder date is the delivery date, never before the event; "a
log file delivered at a specific time can contain records written at any point before that
time": "CloudTrail log file examples", AWS CloudTrail User Guide). Times are resolved to absolute
UTC when the query is made: the same text gives the same SQL.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlglot
from sqlglot import exp

from trailtui.core.athena.ddl import DEFAULT_TABLE, check_names
from trailtui.core.filter.compile import _like_pattern, compile_filter
from trailtui.core.filter.fields import _CATEGORIES, _CATEGORIES_EXPECTED, FieldInfo, _lookup_field
from trailtui.core.filter.moments import _time_bound
from trailtui.core.filter.nodes import And, FilterError, Node, Not, _Term, _Value
from trailtui.core.filter.parse import _check_text, _parse
from trailtui.core.filter.terms import write_value
from trailtui.core.s3 import S3_EVENT_SOURCE, S3_LEVELS, soap_event_name
from trailtui.core.text import ascii_lower

#: trailtui's columns (``store.schema``) -> the Athena table's expression for the same field
#: (Trino SQL, constant text: column names and JSON paths, never user text). Columns trailtui
#: derives at load time (actor, principalKey, sessionKey, resource, issuedAccessKeyId) and
#: fields the documented table lacks (managementEvent) are not here: their terms run locally.
ATHENA_EXPRESSIONS: dict[str, str] = {
    "eventName": "eventname",
    "eventSource": "eventsource",
    "awsRegion": "awsregion",
    "sourceIPAddress": "sourceipaddress",
    "userAgent": "useragent",
    "errorCode": "errorcode",
    "errorMessage": "errormessage",
    "eventType": "eventtype",
    "eventCategory": "eventcategory",
    "recipientAccountId": "recipientaccountid",
    "eventID": "eventid",
    "readOnly": "readonly",
    "userIdentity_type": "useridentity.type",
    "userIdentity_arn": "useridentity.arn",
    "userIdentity_accountId": "useridentity.accountid",
    "userIdentity_principalId": "useridentity.principalid",
    "userIdentity_accessKeyId": "useridentity.accesskeyid",
    "userIdentity_userName": "useridentity.username",
    "userIdentity_invokedBy": "useridentity.invokedby",
    "sessionIssuer_arn": "useridentity.sessioncontext.sessionissuer.arn",
    "sessionIssuer_type": "useridentity.sessioncontext.sessionissuer.type",
    "requestParameters_bucketName": "json_extract_scalar(requestparameters, '$.bucketName')",
    "requestParameters_key": "json_extract_scalar(requestparameters, '$.key')",
    "additionalEventData_SignatureVersion": "json_extract_scalar(additionaleventdata, '$.SignatureVersion')",
    "additionalEventData_aclRequired": "json_extract_scalar(additionaleventdata, '$.aclRequired')",
    "additionalEventData_MFAUsed": "json_extract_scalar(additionaleventdata, '$.MFAUsed')",
    "responseElements_ConsoleLogin": "json_extract_scalar(responseelements, '$.ConsoleLogin')",
    "tlsDetails_tlsVersion": "tlsdetails.tlsversion",
}
#: Top-level record fields held in the table as their JSON text: a JSON path into them is read
#: with ``json_extract_scalar`` (scalars) or ``json_format(json_extract(...))`` (objects, arrays).
JSON_TEXT_COLUMNS: dict[str, str] = {
    "requestparameters": "requestparameters",
    "responseelements": "responseelements",
    "additionaleventdata": "additionaleventdata",
    "serviceeventdetails": "serviceeventdetails",
}
#: What ``athena sql`` selects: the object each event came from (``"$path"``, what ``athena run``
#: downloads), then enough to read the result in the console.
SELECTED = ('"$path"', "eventid", "eventtime", "eventsource", "eventname", "useridentity.arn",
            "sourceipaddress", "errorcode")
#: What ``athena run`` selects: each object holding matches (``"$path"``, what it downloads) with
#: how many events matched in it and their first and last eventTime.
PATHS_SELECTED = ('"$path"', "count(eventid) AS events", "min(eventtime) AS first_event",
                  "max(eventtime) AS last_event")
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_JSON_CASE_NOTE = ("JSON keys are looked up in Athena as typed, in camelCase and in PascalCase; trailtui finds any "
                   "case, so an event whose key is written otherwise is not found in Athena")


class LocalTerm(Exception):
    """A term Athena cannot evaluate as trailtui does; ``str(err)`` says why."""


@dataclass
class AthenaQuery:
    """The Athena SQL of one filter: ``sql`` (Trino, values as escaped literals), ``notes`` (one
    line per term applied locally, and about the days scanned), ``days`` (the ``day`` partition
    range ``(first, last)`` as ``YYYY/MM/DD``, or None when the filter has no time bound)."""

    sql: str
    notes: list[str] = field(default_factory=list)
    days: tuple[str, str] | None = None


def _expression(text: str) -> exp.Expression:
    """A constant expression of :data:`ATHENA_EXPRESSIONS` (our text, never the user's)."""
    return sqlglot.parse_one(text, read="trino")


_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


def _lower(node: exp.Expression) -> exp.Expression:
    """``node`` folded as :func:`~trailtui.core.text.ascii_lower` folds: ``translate`` of the ASCII capitals, not
    ``lower()``, which folds every Unicode capital and would make a negated term drop events
    trailtui keeps (``-message:É``)."""
    return exp.Anonymous(this="translate", expressions=[node, exp.Literal.string(_UPPER), exp.Literal.string(_LOWER)])


def _not(node: exp.Expression) -> exp.Expression:
    """Events for which ``node`` is not true: NULL (a missing field) counts as not true, as in
    trailtui (``compile._negated``)."""
    return exp.Case(ifs=[exp.If(this=node, true=exp.false())], default=exp.true())


def _present(target: exp.Expression) -> exp.Expression:
    """``target`` has a non-empty value (trailtui's ``field:*``)."""
    return exp.NEQ(this=exp.Coalesce(this=target, expressions=[exp.Literal.string("")]), expression=exp.Literal.string(""))


def _match(target: exp.Expression, value: _Value) -> exp.Expression:
    """``target`` against one value as trailtui matches text: present, LIKE, or equal, case aside."""
    if value.regex:
        raise LocalTerm("a regular expression (Athena's regex engine is not RE2)")
    if value.anything:
        return _present(target)
    if value.wild:
        like = exp.Like(this=_lower(target), expression=exp.Literal.string(ascii_lower(_like_pattern(value))))
        return exp.Escape(this=like, expression=exp.Literal.string("\\"))
    return exp.EQ(this=_lower(target), expression=exp.Literal.string(ascii_lower(value.literal)))


def _any(parts: list[exp.Expression]) -> exp.Expression:
    return parts[0] if len(parts) == 1 else exp.Paren(this=exp.or_(*parts))


def _columns_of(info: FieldInfo) -> list[exp.Expression]:
    missing = [column for column in info.columns if column not in ATHENA_EXPRESSIONS]
    if missing or not info.columns:
        raise LocalTerm(f"{info.name} is not a column of the Athena table (trailtui derives it when indexing)"
                        if missing and missing[0] in ("actor", "actorKey", "principalKey", "sessionKey", "resource",
                                                        "issuedAccessKeyId")
                        else f"{info.name} is not in the documented Athena table")
    return [_expression(ATHENA_EXPRESSIONS[column]) for column in info.columns]


def _json_path(info: FieldInfo) -> exp.Expression:
    """A JSON path into one of :data:`JSON_TEXT_COLUMNS`: scalars as text, objects and arrays as
    their JSON text (trailtui matches an object's compact JSON too)."""
    head, *rest = info.path
    column = JSON_TEXT_COLUMNS.get(str(head).lower())
    if column is None:
        raise LocalTerm(f"{info.name}: only requestParameters, responseElements, additionalEventData and "
                        "serviceEventDetails are JSON text in the Athena table")
    if not rest:
        return _expression(column)
    for step in rest:
        if isinstance(step, str) and not _SIMPLE_KEY.match(step):
            raise LocalTerm(f"{info.name}: a JSON key Athena's path syntax would need quoted")
    # trailtui looks a key up case aside when it is missing as typed; Athena's JSON paths match
    # case exactly. The path as typed, then in camelCase and in PascalCase (CloudTrail writes
    # both: requestParameters.maxResults, and MaxResults for some services) keep Athena's answer
    # a superset in practice; other case differences are a documented gap.
    spellings = dict.fromkeys(
        "$" + "".join(f"[{step}]" if isinstance(step, int) else "." + change(step) for step in rest)
        for change in (str, lambda key: key[:1].lower() + key[1:], lambda key: key[:1].upper() + key[1:])
    )
    scalars = [exp.Anonymous(this="json_extract_scalar", expressions=[_expression(column), exp.Literal.string(path)])
               for path in spellings]
    # json_format of a JSON null is 'null': trailtui takes a null leaf as missing.
    wholes = [exp.Nullif(this=exp.Anonymous(this="json_format", expressions=[exp.Anonymous(
        this="json_extract", expressions=[_expression(column), exp.Literal.string(path)])]),
        expression=exp.Literal.string("null")) for path in spellings]
    first, *others = scalars + wholes
    return exp.Coalesce(this=first, expressions=others)


def _cidr(network: str) -> exp.Expression:
    """``sourceIPAddress`` in a network, as trailtui's ``ip:a/n``. Trino's IPADDRESS holds IPv4 as
    IPv4-mapped IPv6, so the address's version is checked too (trailtui: another version never
    matches); a service host name does not cast and does not match."""
    try:
        parsed = ipaddress.ip_network(network, strict=False)
    except ValueError:
        raise LocalTerm("not an IP network") from None
    contains = exp.Anonymous(this="contains", expressions=[
        exp.Literal.string(str(parsed)),
        exp.TryCast(this=exp.column("sourceipaddress"), to=exp.DataType.build("IPADDRESS", dialect="trino")),
    ])
    version = exp.Anonymous(this="strpos", expressions=[exp.column("sourceipaddress"), exp.Literal.string(":")])
    same_version = exp.GT if parsed.version == 6 else exp.EQ
    return exp.and_(contains, same_version(this=version, expression=exp.Literal.number(0)))


def _is(word: str) -> exp.Expression:
    """``is:WORD`` on the Athena table, as ``compile._IS_CONDITIONS`` on the index."""
    account = _expression("useridentity.accountid")
    if word == "error":
        return _present(_expression("errorcode"))
    if word in ("read", "write"):
        return exp.EQ(this=_lower(_expression("readonly")), expression=exp.Literal.string("true" if word == "read" else "false"))
    if word == "root":
        return exp.EQ(this=_lower(_expression("useridentity.type")), expression=exp.Literal.string("root"))
    if word == "network":
        return exp.EQ(this=_lower(_expression("eventcategory")), expression=exp.Literal.string("networkactivity"))
    if word == "anonymous":
        # extract.is_anonymous: either form CloudTrail has written, compared exactly.
        return exp.Paren(this=exp.or_(
            exp.EQ(this=account, expression=exp.Literal.string("ANONYMOUS_PRINCIPAL")),
            exp.EQ(this=_expression("useridentity.principalid"), expression=exp.Literal.string("ANONYMOUS_PRINCIPAL")),
            exp.EQ(this=account.copy(), expression=exp.Literal.string("anonymous")),
        ))
    if word == "crossaccount":
        # store.shard.cross_account: a caller account that is set, not anonymous, and not the recipient.
        recipient = _expression("recipientaccountid")
        return exp.and_(
            _present(account),
            _present(recipient),
            exp.Not(this=exp.In(this=_lower(account.copy()), expressions=[
                exp.Literal.string("anonymous_principal"), exp.Literal.string("anonymous")])),
            exp.NEQ(this=_lower(account.copy()), expression=_lower(recipient.copy())),
        )
    if word == "marked":
        raise LocalTerm("marks live beside the local index")
    raise LocalTerm(f"is:{word}")


def _value(info: FieldInfo, value: _Value, now: datetime) -> exp.Expression:
    """One value of a field term (the values of ``field:a,b`` are ORed by the caller)."""
    kind = info.kind
    if kind in ("text", "eventname", "source", "ip"):
        if kind == "source" and not value.wild and "." not in value.literal:
            value = _Value((value.literal + ".amazonaws.com",), value.position)
        if kind == "ip" and not value.wild and "/" in value.literal:
            return _cidr(value.literal)
        found = _any([_match(column, value) for column in _columns_of(info)])
        logged_as = soap_event_name(value.literal) if kind == "eventname" and not value.wild else None
        if logged_as is not None and logged_as.lower() != value.literal.lower():
            found = _any([found, _match(_columns_of(info)[0], _Value((logged_as,), value.position))])
        return found
    if kind == "flag":
        if info.columns != ("readOnly",):
            raise LocalTerm(f"{info.name} is not in the documented Athena table")
        word = None if value.wild else value.literal.lower()
        if word not in ("true", "false"):
            raise FilterError(value.position, "true or false")
        return exp.EQ(this=_lower(_expression("readonly")), expression=exp.Literal.string(word))
    if kind == "category":
        category = None if value.wild else _CATEGORIES.get(value.literal.lower())
        if category is None:
            raise FilterError(value.position, _CATEGORIES_EXPECTED)
        return exp.EQ(this=_lower(_expression("eventcategory")), expression=exp.Literal.string(category.lower()))
    if kind == "is":
        return _is(value.literal.lower() if not value.wild else "*")
    if kind == "since":
        return exp.GTE(this=_expression("eventtime"), expression=exp.Literal.string(_time_bound(value, now, until=False)))
    if kind == "until":
        return exp.LT(this=_expression("eventtime"), expression=exp.Literal.string(_time_bound(value, now, until=True)))
    if kind == "time":
        if value.anything:
            return exp.Not(this=exp.Is(this=_expression("eventtime"), expression=exp.Null()))
        if not value.wild:
            return exp.EQ(this=_expression("eventtime"), expression=exp.Literal.string(value.literal.upper()))
        return _match(_expression("eventtime"), value)
    if kind == "s3":
        level = None if value.wild else value.literal.lower()
        if level not in S3_LEVELS:
            raise FilterError(value.position, "one of " + ", ".join(S3_LEVELS))
        names = [exp.Literal.string(name.lower()) for name in sorted(S3_LEVELS[level])]
        return exp.Paren(this=exp.and_(
            exp.EQ(this=_lower(_expression("eventsource")), expression=exp.Literal.string(S3_EVENT_SOURCE)),
            exp.In(this=_lower(_expression("eventname")), expressions=names),
        ))
    if kind == "json":
        return _match(_json_path(info), value)
    raise LocalTerm(f"{info.name} ({kind}) is kept in trailtui's index only")


def _same(term: _Term) -> exp.Expression:
    """``same:A,B`` when both are one column of the table: the texts equal, case aside."""
    if len(term.values) != 2:
        raise LocalTerm("same: takes two fields")
    sides = []
    for name in term.values:
        if name.wild or name.regex:
            raise LocalTerm("same: takes two field names")
        info = _lookup_field(name.literal, name.position)
        sides.append(_json_path(info) if info.kind == "json" else _columns_of(info)[0] if len(info.columns) == 1
                     else None)
        if sides[-1] is None:
            raise LocalTerm(f"{info.name} is not one field")
    return exp.EQ(this=_lower(sides[0]), expression=_lower(sides[1]))


def _term_text(term: _Term) -> str:
    """A term as the user would type it again (for the notes)."""
    if term.field is None:
        return ("-" if term.negated else "") + write_value(term.values[0])
    values = ",".join(write_value(value) for value in term.values)
    return f"{'-' if term.negated else ''}{term.field}{'~' if term.values[0].regex else ':'}{values}"


def _compile(node: Node, now: datetime, notes: list[str], *, positive: bool) -> exp.Expression:
    """The Trino condition of ``node``; a term that must run locally becomes TRUE (``positive``:
    under an even number of negations) or FALSE, so the result is a superset."""
    if isinstance(node, _Term):
        try:
            if node.field is None:
                raise LocalTerm("free text needs trailtui's full-text index")
            info = _lookup_field(node.field, node.field_position)
            if node.values[0].regex:
                raise LocalTerm("a regular expression (Athena's regex engine is not RE2)")
            if info.kind == "same":
                found = _same(node)
            else:
                found = _any([_value(info, value, now) for value in node.values])
            if info.kind == "json" and len(info.path) > 1 and _JSON_CASE_NOTE not in notes:
                notes.append(_JSON_CASE_NOTE)
        except LocalTerm as reason:
            notes.append(f"applied locally, not in Athena: {_term_text(node)!r} ({reason})")
            return exp.true() if positive else exp.false()
        return _not(found) if node.negated else found
    if isinstance(node, Not):
        child = _compile(node.child, now, notes, positive=not positive)
        return _constant(not _is_true(child)) if isinstance(child, exp.Boolean) else _not(child)
    parts = [_compile(child, now, notes, positive=positive) for child in node.children]
    # A local term's TRUE/FALSE folded away: "x AND TRUE" is x, "x OR TRUE" is TRUE.
    absorbing = isinstance(node, And) is False  # an OR is decided by a TRUE, an AND by a FALSE
    if any(isinstance(part, exp.Boolean) and _is_true(part) == absorbing for part in parts):
        return _constant(absorbing)
    parts = [part for part in parts if not isinstance(part, exp.Boolean)]
    if not parts:
        return _constant(not absorbing)
    if len(parts) == 1:
        return parts[0]
    return exp.Paren(this=exp.and_(*parts) if isinstance(node, And) else exp.or_(*parts))


def _is_true(node: exp.Boolean) -> bool:
    return bool(node.this)


def _constant(value: bool) -> exp.Expression:
    return exp.true() if value else exp.false()


def _top_level_window(tree: Node | None, now: datetime) -> tuple[str | None, str | None]:
    """The latest ``since:`` and earliest ``until:`` ANDed at the top (UTC ISO-8601), or None."""
    terms = tree.children if isinstance(tree, And) else [tree] if tree is not None else []
    since = until = None
    for term in terms:
        if not isinstance(term, _Term) or term.negated or term.field is None:
            continue
        kind = _lookup_field(term.field, term.field_position).kind
        if kind not in ("since", "until") or len(term.values) != 1:
            continue
        bound = _time_bound(term.values[0], now, until=kind == "until")
        if kind == "since":
            since = bound if since is None else max(since, bound)
        else:
            until = bound if until is None else min(until, bound)
    return since, until


def _day(moment: str, slack: int) -> str | None:
    """The ``day`` folder (``YYYY/MM/DD``) ``slack`` days after the UTC time ``moment``; None
    past the calendar's ends (year 1 or 9999: no bound on that side)."""
    try:
        when = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ") + timedelta(days=slack)
    except OverflowError:
        return None
    return f"{when.year:04d}/{when.month:02d}/{when.day:02d}"  # %Y drops a year's leading zeros


def athena_query(
    text: str,
    *,
    accounts: list[str],
    regions: list[str],
    table: str = DEFAULT_TABLE,
    limit: int | None = None,
    now: datetime | None = None,
    late_days: int = 1,
    paths_only: bool = False,
) -> AthenaQuery:
    """The Athena SQL of the filter ``text`` on ``table`` for ``accounts`` and ``regions`` (the
    partitions to read: both required). ``now`` resolves relative times (default the current UTC
    time). ``late_days``: the day folders read after the window's last day (events delivered
    that much later are found; CloudTrail's log file examples: "a log file delivered at a
    specific time can contain records written at any point before that time"). ``paths_only``:
    one row per object (:data:`PATHS_SELECTED`: what ``athena run`` needs; a row per object,
    not per event) instead of :data:`SELECTED`. Raises :class:`FilterError` (with the position) for a filter the grammar
    refuses, and ValueError for no or malformed accounts, Regions, table name, limit or
    late_days."""
    check_names(table, accounts, regions, needed="a query names the {kind}s it reads")
    if limit is not None and limit < 0:
        raise ValueError("limit: 0 or more")
    if late_days < 0:
        raise ValueError("late days: 0 or more")
    now = now or datetime.now(timezone.utc)
    # The local compiler first: it refuses exactly what the grammar refuses (a bad time, CIDR,
    # is: word, regex), with the position; what it accepts, this one can write or leave local.
    compile_filter(text, now=now)
    _check_text(text)
    tree = _parse(text)
    notes: list[str] = []
    conditions: list[exp.Expression] = [
        exp.In(this=exp.column("account"), expressions=[exp.Literal.string(a) for a in sorted(set(accounts))]),
        exp.In(this=exp.column("region"), expressions=[exp.Literal.string(r) for r in sorted(set(regions))]),
    ]
    since, until = _top_level_window(tree, now)
    # A folder holds what was delivered that day (UTC), never before the event: the window's
    # first day is the first folder, and late deliveries reach up to late_days past its last.
    first = _day(since, 0) if since else None
    last = _day(until if until else now.strftime("%Y-%m-%dT%H:%M:%SZ"), late_days) if since or until else None
    days = (first, last) if first and last else None
    if first and last:
        conditions.append(exp.Between(this=exp.column("day"), low=exp.Literal.string(first),
                                      high=exp.Literal.string(last)))
    elif first:
        conditions.append(exp.GTE(this=exp.column("day"), expression=exp.Literal.string(first)))
    elif last:
        conditions.append(exp.LTE(this=exp.column("day"), expression=exp.Literal.string(last)))
        notes.append(f"no since: at the top of the filter: every day folder up to {last} is read (and billed)")
    else:
        notes.append("no since:/until: at the top of the filter: every day folder since the table's first day "
                     "is read (and billed); add --since")
    if last:
        notes.append(f"events delivered more than {late_days} day(s) after the window are not read (--late-days)")
    if tree is not None:
        condition = _compile(tree, now, notes, positive=True)
        if not isinstance(condition, exp.Boolean):  # TRUE: every term runs locally
            conditions.append(condition)
    if paths_only:
        select = exp.select(*(sqlglot.parse_one(column, read="trino") for column in PATHS_SELECTED))
    else:
        select = exp.select(*(_expression(name) for name in SELECTED))
    select = select.from_(exp.to_table(table)).where(exp.and_(*conditions))
    if paths_only:
        select = select.group_by(_expression('"$path"'))
    if limit is not None:
        select = select.limit(limit)
        if any(note.startswith("applied locally") for note in notes):
            notes.append("LIMIT applies to Athena's answer before the terms applied locally: fewer may match")
    return AthenaQuery(select.sql(dialect="trino", pretty=True) + "\n", notes, days)
