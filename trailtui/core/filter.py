"""The filter grammar of trailtui, parsed and compiled to parameterised SQL.

Grammar (the filter bar, ``trailtui browse --filter`` and ``trailtui query --filter``):

Terms are separated by whitespace and must all hold (AND). ``-term`` negates a term; a negated
term also matches events where the field is missing (``-error:*`` = events without an error).
There is no OR between terms yet: a bare ``OR``, ``|`` or ``||`` is an error that shows how to
write either value of one field (``name:GetObject,PutObject``), and a bare ``AND`` an error that
says terms are already ANDed (lowercase ``or``/``and`` are words to find; so are ``"OR"`` and
``"AND"`` quoted).

``field:value``
    Case-insensitive. ``*`` is a wildcard (``name:Get*``, ``actor:*alice*``); without ``*`` the
    value must equal the whole field. ``field:*`` means "present and not empty".
    ``field:a,b`` means a or b. A value may be double-quoted to hold spaces, commas or
    colons: ``object:"my key, with comma"``; inside quotes ``\\"`` is a quote, ``\\\\`` a
    backslash and ``\\*`` a literal star (a bare ``*`` is still a wildcard: ``agent:"aws-cli/2*"``).
    Fields are listed in :data:`FIELDS`: short aliases (``name``, ``actor``, ``ip``, ...) and
    CloudTrail's own names (``eventName``, ``userIdentity.arn``, ...), any case.
``source:s3``
    A ``source`` (or ``eventSource``) value with no ``.`` and no ``*`` gets ``.amazonaws.com``.
``ip:203.0.113.0/24``, ``ip:2001:db8::/32``
    A ``/`` in an ``ip`` (``sourceIPAddress``) value makes it a CIDR network.
``readonly:true|false``, ``category:management|data|insight|networkactivity``
    Only those values are accepted.
``is:anonymous|error|write|read|root|network|crossaccount|marked``
    ``anonymous``: an unsigned S3 request (``userIdentity.accountId`` or ``principalId`` is
    ``ANONYMOUS_PRINCIPAL``, per "Identifying Amazon S3 requests using CloudTrail" in the Amazon S3
    User Guide, or ``accountId`` is ``anonymous``, the form CloudTrail writes today); ``error``: ``errorCode`` not empty; ``write``/``read``: ``readOnly`` false/true;
    ``root``: ``userIdentity.type`` is ``Root``; ``network``: a network activity event
    (``eventCategory`` ``NetworkActivity``, a call through a VPC endpoint); ``crossaccount``: the caller's
    ``userIdentity.accountId`` differs from ``recipientAccountId`` (anonymous callers excluded);
    ``marked``: the user marked the event (its ``eventID`` is in the marks file beside the index,
    see :mod:`trailtui.core.userstate`; the SQL reads the schema ``user`` that
    ``index.connect`` attaches).
``s3:account|bucket|object``
    The Amazon S3 User Guide's level of an S3 call ("Logging Amazon S3 API calls using AWS
    CloudTrail": its lists of account-level, bucket-level and object-level actions, see
    :mod:`trailtui.core.s3`): ``eventSource`` ``s3.amazonaws.com`` and ``eventName`` in that
    list. Object-level calls are data events, the others management events.
``name:SOAPOperation``
    A ``name`` (or ``eventName``) value that is exactly, without ``*``, an operation of the S3
    user guide's SOAP table (``ListAllMyBuckets``, ``SetBucketAccessControlPolicy``, ...) also
    matches the CloudTrail ``eventName`` it is logged as (``ListBuckets``, ``PutBucketAcl``).
``since:TIME``, ``until:TIME``
    TIME is an ISO-8601 date or date-time (UTC unless it carries an offset): ``2021-07-28``,
    ``2021-07-29T12:00``, ``2021-07-28T10:00:00+02:00``; or a time relative to now: ``-90s``,
    ``-30m``, ``-2h``, ``-7d``, ``-1w``. ``since`` includes its instant. ``until`` excludes its
    instant, but a date without a time of day covers that whole day (or month ``2021-07``, year
    ``2021``, ISO week ``2021-W30``): ``until:2021-07-29`` keeps events up to 2021-07-29T23:59:59Z,
    ``until:2021-07-29T12:00`` keeps events before 12:00:00Z.
``a.json.path:value``
    Any other field with a ``.`` is a path into the event's JSON (``resources.0.ARN:*secret*``);
    segments are ``[A-Za-z0-9_@$-]+``, digits index arrays. Objects and arrays compare as compact
    JSON, numbers as JSON text, ``true``/``false`` as such; JSON ``null`` counts as missing. Keys
    are matched exactly first, then case-insensitively. Known top-level record fields
    (``tlsDetails``, ``resources``, ``@timestamp``, ...) work without a dot.
bare word, ``"quoted phrase"``
    Matches the words anywhere in the event's string and number values (full-text index; the
    values of ``extract.FREE_TEXT_SKIPPED_KEYS`` such as ``eventID`` and ``requestID`` are not
    indexed: use their fields):
    ``198.51.100.7`` finds the word sequence 198 51 100 7. Words match whole words only
    (``jmerck`` does not find ``jmerckle``; :attr:`CompiledFilter.whole_words` lists them so a UI
    can say so); ``word*`` is a prefix search (``jmerck*``); there is no suffix or infix search. FTS
    query syntax (``OR``, ``NEAR(``, ``col:``, ``^``) is never interpreted: it is text to find.
    Punctuation is not indexed, so a word with no letters or digits at all (``---``, ``"..."``)
    is ignored (it filters nothing, negated or not). To search text containing ``:``, quote
    it (``"arn:aws:iam::111122223333:user/alice"``), else the part before ``:`` is a field name.

User text never becomes SQL text: column names come from this module's whitelist and every
value is a bound parameter.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson
from dateutil.parser import isoparse, isoparser

from trailtui.core.columns import COLUMNS
from trailtui.core.ingest.decode import parse_event_json
from trailtui.core.store.originals import main_database_path, original_event
from trailtui.core.s3 import S3_EVENT_SOURCE, S3_LEVELS, soap_event_name
from trailtui.core.store.schema import ACTOR_COLUMNS, LOOKUP_COLUMNS, RECORD_COLUMNS, VALUE_LIST_COLUMNS
from trailtui.core.text import printable
from trailtui.core.times import epoch_seconds, event_time_text_sql
from trailtui.core.userstate import USER_SCHEMA

# Longer filters are refused: this bounds the number of bound parameters (SQLite allows 32766),
# the size of each LIKE pattern (SQLite allows 50,000 bytes) and the work of one keystroke.
MAX_FILTER_LENGTH = 10_000


class FilterError(ValueError):
    """A filter that does not parse or whose value is not valid for its field.

    ``position`` is the 0-based character offset in the filter text where the problem is (the
    UI puts a caret there); ``expected`` says what should have been there. ``str(err)`` reads
    ``"position 5: expected a value after 'name:'"`` (or, for an unknown field,
    ``"position 0: unknown field 'nmae' (did you mean 'name'?)"``).
    """

    def __init__(self, position: int, expected: str, message: str | None = None) -> None:
        self.position = position
        self.expected = expected
        super().__init__(f"position {position}: {message or 'expected ' + expected}")


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


@dataclass(frozen=True)
class FieldInfo:
    """One field name of the grammar.

    ``name`` is what the user types (any case), ``cloudtrail`` the CloudTrail record field(s) it
    reads, ``description`` one line for the help screen. ``kind`` says how values are compiled
    (see ``_VALUE_COMPILERS``), ``columns`` are the ``events`` columns read, ``path`` the JSON
    path for ``kind == "json"``.
    """

    name: str
    cloudtrail: str
    description: str
    kind: str = "text"
    columns: tuple[str, ...] = ()
    path: tuple[str | int, ...] = ()


#: ``eventCategory`` values ("CloudTrail record contents"), by the word the grammar takes.
_CATEGORIES = {"management": "Management", "data": "Data", "insight": "Insight", "networkactivity": "NetworkActivity"}
_CATEGORIES_EXPECTED = "management, data, insight or networkactivity"


def _alias(name: str, column: str, cloudtrail: str, description: str, kind: str = "text") -> FieldInfo:
    return FieldInfo(name, cloudtrail, description, kind, (column,))


def _json(name: str, description: str) -> FieldInfo:
    return FieldInfo(name, name, description, "json", (), (name,))


_ISSUER = "userIdentity.sessionContext.sessionIssuer.arn"

# Field meanings: "CloudTrail record contents" and "CloudTrail userIdentity element" in the AWS
# CloudTrail User Guide; bucketName/key from "Logging Amazon S3 API calls using AWS CloudTrail"
# (Amazon S3 User Guide); vaultName from "Logging Amazon S3 Glacier API calls with AWS CloudTrail".
_ALIASES: tuple[FieldInfo, ...] = (
    _alias("name", "eventName", "eventName", "the API action (GetObject, AssumeRole, ...)", "eventname"),
    _alias("source", "eventSource", "eventSource", "the service; source:s3 means s3.amazonaws.com", "source"),
    _alias("region", "awsRegion", "awsRegion", "the AWS Region of the request (us-east-1, ...)"),
    _alias("ip", "sourceIPAddress", "sourceIPAddress", "caller IP (or service host name); a/n is a CIDR", "ip"),
    FieldInfo(
        "actor",
        "userIdentity.arn, .userName, .principalId",
        "who: matches the ARN, user name, principal ID or the shown actor name",
        "text",
        ("userIdentity_arn", "userIdentity_userName", "userIdentity_principalId", "actor"),
    ),
    _alias(
        "principal",
        "principalKey",
        "userIdentity (principal)",
        "the principal: an IAM user or root ARN, the role behind a session, a service, ...",
    ),
    _alias(
        "session",
        "sessionKey",
        "userIdentity.arn @ sessionContext.attributes.creationDate",
        "one session, as '<arn> @ <creationDate>'; session:*name* matches a session name",
        "session",
    ),
    _alias(
        "issued",
        "issuedAccessKeyId",
        "responseElements.credentials.accessKeyId",
        "the access key an AssumeRole*, GetSessionToken, GetFederationToken or CreateAccessKey handed out",
    ),
    _alias("type", "userIdentity_type", "userIdentity.type", "identity type: IAMUser, AssumedRole, Root, AWSService, ..."),
    _alias("account", "userIdentity_accountId", "userIdentity.accountId", "the caller's account ID"),
    _alias("recipient", "recipientAccountId", "recipientAccountId", "the account that received the event"),
    _alias("akid", "userIdentity_accessKeyId", "userIdentity.accessKeyId", "access key ID (AKIA... long-term, ASIA... temporary)"),
    _alias("bucket", "requestParameters_bucketName", "requestParameters.bucketName", "S3 bucket name"),
    _alias("object", "requestParameters_key", "requestParameters.key", "S3 object key"),
    _alias("vault", "requestParameters_vaultName", "requestParameters.vaultName", "S3 Glacier vault name"),
    _alias("error", "errorCode", "errorCode", "error code (AccessDenied, ...); error:* is any error"),
    _alias("message", "errorMessage", "errorMessage", "error message text"),
    _alias("agent", "userAgent", "userAgent", "the caller's user agent (aws-cli/2*, console.amazonaws.com, ...)"),
    _alias("id", "eventID", "eventID", "the event's unique ID"),
    _alias("arn", "userIdentity_arn", "userIdentity.arn", "the caller's ARN"),
    _alias("user", "userIdentity_userName", "userIdentity.userName", "the caller's user name"),
    _alias("issuer", "sessionIssuer_arn", _ISSUER, "the role (or user) that issued the session"),
    _alias("resource", "resource", "requestParameters / resources", "the resource shown in the list (bucket/key, vault, first ARN)"),
    _alias("eventtype", "eventType", "eventType", "AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, ..."),
    _alias("readonly", "readOnly", "readOnly", "true or false: whether the call only reads", "flag"),
    _alias("category", "eventCategory", "eventCategory", _CATEGORIES_EXPECTED, "category"),
    FieldInfo(
        "is",
        "userIdentity, errorCode, readOnly, recipientAccountId, eventID",
        "anonymous, error, write, read, root, network, crossaccount or marked (the events you marked)",
        "is",
    ),
    FieldInfo(
        "s3",
        "eventSource, eventName",
        "account, bucket or object: the S3 user guide's level of an S3 call",
        "s3",
        ("eventSource", "eventName"),
    ),
    FieldInfo("since", "eventTime", "from this UTC time on: 2021-07-28, 2021-07-28T10:00, -2h, -7d", "since"),
    FieldInfo("until", "eventTime", "before this time; a bare date includes that whole day", "until"),
)

# CloudTrail's own names of the indexed fields, from the column catalogue.
_CLOUDTRAIL_NAMES: tuple[FieldInfo, ...] = tuple(
    _alias(column.cloudtrail, column.reads, column.cloudtrail, column.description, column.grammar)
    for column in COLUMNS
    if column.cloudtrail is not None and column.reads is not None
)

# Top-level record fields without an indexed column: read from the stored original event.
_JSON_FIELDS: tuple[FieldInfo, ...] = (
    _json("eventVersion", "record format version (1.08, ...)"),
    _json("apiVersion", "API version of the call, for some services"),
    _json("requestID", "the service's request ID"),
    _json("sharedEventID", "ID shared by the copies of a cross-account event"),
    _json("vpcEndpointId", "VPC endpoint the request came through"),
    _json("sessionCredentialFromConsole", "true if the session credentials came from the console"),
    _json("requestParameters", "request parameters (JSON)"),
    _json("responseElements", "response elements (JSON)"),
    _json("additionalEventData", "additional event data (JSON)"),
    _json("resources", "resources accessed (JSON array)"),
    _json("serviceEventDetails", "details of a service event (JSON)"),
    _json("tlsDetails", "TLS version, cipher suite, host header (JSON)"),
    _json("userIdentity", "the whole userIdentity element (JSON)"),
    _json("insightDetails", "CloudTrail Insights details (JSON)"),
    _json("addendum", "why and when an event was delivered late or changed (JSON)"),
    _json("edgeDeviceDetails", "edge device details (JSON)"),
    _json("@timestamp", "time field of Logstash-style exports"),
)

#: Every field name the grammar accepts, keyed by that name (aliases first, then CloudTrail's
#: names of indexed fields, then top-level record fields read from the original event). Any other
#: name with a ``.`` is a JSON path. Sources: "CloudTrail record contents" and "CloudTrail
#: userIdentity element" (AWS CloudTrail User Guide).
FIELDS: dict[str, FieldInfo] = {info.name: info for info in (*_ALIASES, *_CLOUDTRAIL_NAMES, *_JSON_FIELDS)}

_FIELDS_BY_LOWER: dict[str, FieldInfo] = {name.lower(): info for name, info in FIELDS.items()}

# Columns compared with COLLATE NOCASE explicitly: text columns not declared NOCASE (eventID,
# eventTime), so `=` is case-insensitive on every field as the grammar promises.
_BINARY_COLUMNS = frozenset(name for name, decl in RECORD_COLUMNS if decl.startswith("TEXT") and "NOCASE" not in decl)

# ------------------------------------------------------------------------------------ parsing

_SPACE = re.compile(r"\s*")
_WORD = re.compile(r'[^\s:"]*')  # a bare word or a field name: up to space, ':' or '"'
_UNQUOTED_VALUE = re.compile(r'[^\s,"]*')  # colons are fine in values (ARNs, IPv6)


@dataclass(frozen=True)
class _Value:
    """One value as typed. ``chunks`` are the literal pieces between ``*`` wildcards, so a value
    without wildcards has one chunk and ``*`` alone is ``("", "")``. ``position`` is where the
    value starts in the filter text."""

    chunks: tuple[str, ...]
    position: int

    @property
    def wild(self) -> bool:
        return len(self.chunks) > 1

    @property
    def anything(self) -> bool:
        """``*`` (or ``**``...): any non-empty value."""
        return self.wild and not any(self.chunks)

    @property
    def literal(self) -> str:
        """The value without wildcards (only meaningful when not :attr:`wild`)."""
        return self.chunks[0]


@dataclass(frozen=True)
class _Term:
    """One whitespace-separated term. ``field`` is None for free text (one value)."""

    negated: bool
    field: str | None
    field_position: int
    values: tuple[_Value, ...]


class _Scanner:
    """The filter text and the current offset in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_break(self) -> bool:
        """At the end of the text or at whitespace: where a term ends."""
        char = self.peek()
        return not char or char.isspace()

    def take(self, pattern: re.Pattern) -> str:
        match = pattern.match(self.text, self.pos)
        self.pos = match.end()
        return match.group()


def _parse(text: str) -> list[_Term]:
    """Split the filter into terms. Raises FilterError on a syntax error."""
    scan = _Scanner(text)
    terms: list[_Term] = []
    ends: list[int] = []
    while True:
        scan.take(_SPACE)
        if scan.pos >= len(text):
            break
        terms.append(_parse_term(scan))
        ends.append(scan.pos)
    for number, term in enumerate(terms):
        if term.field is None and text[term.field_position] != '"':  # a bare word, not a quoted one
            _refuse_operator(text, terms, ends, number)
    return terms


#: Bare words that mean OR to users of other query languages (Splunk, Lucene, shells).
_OR_WORDS = frozenset(("OR", "||", "|"))
_OR_EXAMPLE = "name:GetObject,PutObject"


def _refuse_operator(text: str, terms: list[_Term], ends: list[int], number: int) -> None:
    """Raise FilterError for a bare ``OR``/``|``/``||`` (not supported until the grammar has OR)
    or ``AND`` (terms are ANDed already) at term ``number``. Lowercase words are text to find."""
    term = terms[number]
    word = term.values[0].literal if not term.values[0].wild else ""
    if word == "AND":
        message = 'terms are already ANDed: leave AND out (to find the word, quote it: "AND")'
        raise FilterError(term.field_position, message, message)
    if word not in _OR_WORDS:
        return
    example = _OR_EXAMPLE
    if 0 < number < len(terms) - 1:
        before, after = terms[number - 1], terms[number + 1]
        if (
            before.field is not None and after.field is not None and before.field.lower() == after.field.lower()
            and not before.negated and not after.negated
        ):
            # name:GetObject OR name:PutObject -> name:GetObject,PutObject
            merged = (
                f"{before.field}:{text[before.values[0].position:ends[number - 1]]},"
                f"{text[after.values[0].position:ends[number + 1]]}"
            )
            if len(merged) <= 80:
                example = printable(merged)
    shown = "OR" if word == "OR" else f"'{word}' (OR)"
    hint = ' (to find the word, quote it: "OR")' if word == "OR" else ""
    message = f"{shown} is not supported yet: for either value of one field write {example}{hint}"
    raise FilterError(term.field_position, message, message)


def _parse_term(scan: _Scanner) -> _Term:
    """``[-]"phrase"``, ``[-]word`` or ``[-]field:value[,value...]``."""
    negated = scan.peek() == "-"
    if negated:
        scan.pos += 1
        if scan.at_break():
            raise FilterError(scan.pos, "a term after '-'")
    start = scan.pos
    if scan.peek() == '"':
        phrase = _read_quoted(scan, "a word or phrase inside the quotes")
        if not scan.at_break():
            raise FilterError(scan.pos, "a space after the closing quote")
        return _Term(negated, None, start, (phrase,))
    word = scan.take(_WORD)
    if scan.peek() == ":":
        if not word:
            raise FilterError(scan.pos, "a field name before ':'")
        scan.pos += 1
        return _Term(negated, word, start, _read_values(scan, word))
    if scan.peek() == '"':
        raise FilterError(scan.pos, "a space before the quote (a quote starts a word or a value)")
    return _Term(negated, None, start, (_Value(tuple(word.split("*")), start),))


def _read_values(scan: _Scanner, field: str) -> tuple[_Value, ...]:
    """The comma-separated values after ``field:``, each quoted or not."""
    values: list[_Value] = []
    while True:
        if scan.at_break() or scan.peek() == ",":
            after = f"'{_shown(field)}:'" if not values else "','"
            raise FilterError(scan.pos, f"a value after {after}")
        if scan.peek() == '"':
            values.append(_read_quoted(scan, "a value inside the quotes"))
            if not scan.at_break() and scan.peek() != ",":
                raise FilterError(scan.pos, "',' or a space after the closing quote")
        else:
            start = scan.pos
            raw = scan.take(_UNQUOTED_VALUE)
            if scan.peek() == '"':
                raise FilterError(scan.pos, "',' or a space before the quote (or quote the whole value)")
            values.append(_Value(tuple(raw.split("*")), start))
        if scan.peek() != ",":
            return tuple(values)
        scan.pos += 1


def _read_quoted(scan: _Scanner, expected_inside: str) -> _Value:
    """A ``"..."`` value at the scanner: ``\\"``, ``\\\\`` and ``\\*`` are escapes, ``*`` a
    wildcard; any other backslash is literal (Windows paths, regexes in user agents)."""
    text, open_at = scan.text, scan.pos
    scan.pos += 1
    chunks: list[str] = []
    current: list[str] = []
    while scan.pos < len(text):
        char = text[scan.pos]
        scan.pos += 1
        if char == '"':
            chunks.append("".join(current))
            if chunks == [""]:
                raise FilterError(open_at, expected_inside)
            return _Value(tuple(chunks), open_at)
        if char == "\\" and scan.pos < len(text) and text[scan.pos] in '"\\*':
            current.append(text[scan.pos])
            scan.pos += 1
        elif char == "*":
            chunks.append("".join(current))
            current = []
        else:
            current.append(char)
    raise FilterError(open_at, "a closing '\"' for the quote opened here")


def _shown(text: str) -> str:
    """User text for an error message: short, and with terminal escapes made harmless."""
    return printable(text if len(text) <= 40 else text[:39] + "…")


# ------------------------------------------------------------------------------------ compiling


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
    clauses: list[str] = []
    params: list = []
    phrases: list[str] = []
    whole_words: dict[str, None] = {}  # ordered, each once
    free_text = False
    for term in _parse(text):
        if term.field is None:
            value = term.values[0]
            phrase = _fts_phrase(value)
            if phrase is None:
                continue  # no letters or digits: nothing the full-text index could find
            free_text = True
            if term.negated:
                clauses.append(f"NOT ({_FTS_SQL})")
                params.append(phrase)
            else:
                phrases.append(phrase)
                if value.chunks[-1] != "":  # no trailing '*': whole words
                    whole_words["*".join(value.chunks)] = None
            continue
        sql, term_params = _compile_field_term(term, now)
        # IFNULL: a comparison with a missing (NULL) field is NULL, and NOT NULL would drop
        # the row; a negated term must keep events that lack the field.
        clauses.append(f"NOT IFNULL({sql}, 0)" if term.negated else sql)
        params.extend(term_params)
    if phrases:
        # One full-text query for all positive words: FTS5 ANDs space-separated phrases.
        clauses.append(_FTS_SQL)
        params.append(" ".join(phrases))
    return CompiledFilter(
        _join("AND", clauses) if clauses else "1", tuple(params), text, tuple(whole_words), free_text
    )


def _check_text(text: str) -> None:
    """Refuse text SQLite could not bind or run (see :data:`MAX_FILTER_LENGTH`)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(MAX_FILTER_LENGTH, f"a filter of at most {MAX_FILTER_LENGTH} characters")
    surrogate = re.search("[\ud800-\udfff]", text)
    if surrogate:
        raise FilterError(surrogate.start(), "text without unpaired surrogate characters")


def _join(op: str, parts: list[str]) -> str:
    """``(p1 op p2 op ...)``, nested in groups of 16 so that thousands of terms stay within
    SQLite's expression depth limit (1000)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) > 16:
        parts = [_join(op, parts[i : i + 16]) for i in range(0, len(parts), 16)]
        return _join(op, parts)
    return "(" + f" {op} ".join(parts) + ")"


def _compile_field_term(term: _Term, now: datetime) -> tuple[str, list]:
    """SQL for ``field:v1,v2,...``: the values' conditions ORed."""
    info = _lookup_field(term.field, term.field_position)
    compile_value = _VALUE_COMPILERS[info.kind]
    parts: list[str] = []
    params: list = []
    for value in term.values:
        sql, value_params = compile_value(info, value, now)
        parts.append(sql)
        params.extend(value_params)
    return _join("OR", parts), params


def _lookup_field(name: str, position: int) -> FieldInfo:
    """The field typed at ``position``: a known name (any case) or a JSON path."""
    info = _FIELDS_BY_LOWER.get(name.lower())
    if info is not None:
        return info
    if "." in name:
        return _json_path_field(name, position)
    suggestion = difflib.get_close_matches(name.lower(), _FIELDS_BY_LOWER, n=1, cutoff=0.6)
    hints = [f"did you mean '{_FIELDS_BY_LOWER[suggestion[0]].name}'?" if suggestion else "see the help for the list"]
    if name[:1].isdigit() or name.lower() in ("http", "https"):
        hints.append('to search text with a colon, quote it: "a:b"')  # IPv6 addresses, URLs
    hint = "; ".join(hints)
    raise FilterError(position, f"a known field name ({hint})", f"unknown field '{_shown(name)}' ({hint})")


_SEGMENT = re.compile(r"[A-Za-z0-9_@$-]+")


def _json_path_field(name: str, position: int) -> FieldInfo:
    """A ``a.b.0.c`` field: validated segments, digits as array indexes."""
    path: list[str | int] = []
    offset = position
    for segment in name.split("."):
        if not _SEGMENT.fullmatch(segment):
            raise FilterError(offset, "a JSON path segment: letters, digits, _ @ $ - (or an array index)")
        path.append(int(segment) if segment.isdigit() else segment)
        offset += len(segment) + 1
    return FieldInfo(name, name, "JSON path", "json", (), tuple(path))


# --- value compilers: (field, value, now) -> (SQL condition, params) -------------------------


def _match(expr: str, value: _Value, *, nocase: bool = False) -> tuple[str, list]:
    """``expr`` compared with one value: present, LIKE pattern, or equality."""
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
        if value.wild and not value.anything and column in VALUE_LIST_COLUMNS:
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
        lookups.append(f"{_column(id_column)} IN (SELECT id FROM {table} WHERE {_join('OR', table_parts)})")
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
    "crossaccount": f"{_column('crossAccount')} = 1",
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

# --- times ---------------------------------------------------------------------------------

_RELATIVE = re.compile(r"-(\d{1,9})([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TIME_EXPECTED = "an ISO date or time (2021-07-28, 2021-07-28T10:00, 2021-07-28T10:00:00+02:00) or -90s, -30m, -2h, -7d, -1w"
_ISO_DATE = isoparser()


def parse_time(text: str, *, now: datetime | None = None) -> str:
    """A moment typed by the user (go to time), as ``eventTime``'s UTC ISO-8601 text
    (``2026-03-14T10:00:00Z``): the syntax of ``since:`` (an ISO date or date-time, UTC unless it
    carries an offset, the date and time may be separated by a space as the list shows them;
    or ``-90s``, ``-30m``, ``-2h``, ``-7d``, ``-1w`` back from ``now``, default the current
    time). A date alone is the start of that day. Raises :class:`FilterError` whose position is
    where the time starts in ``text`` (surrounding spaces are ignored)."""
    now = datetime.now(timezone.utc) if now is None else _as_utc(now)
    stripped = text.strip()
    position = len(text) - len(text.lstrip())
    if not stripped:
        raise FilterError(position, _TIME_EXPECTED)
    return _time_bound(_Value((stripped,), position), now, until=False)


def _time_bound(value: _Value, now: datetime, *, until: bool) -> str:
    """The ``eventTime`` bound (``YYYY-MM-DDTHH:MM:SSZ``) of a since/until value."""
    if value.wild:
        raise FilterError(value.position, _TIME_EXPECTED)
    text = value.literal
    try:
        relative = _RELATIVE.fullmatch(text)
        if relative:
            amount, unit = relative.groups()
            moment = now - timedelta(seconds=int(amount) * _UNIT_SECONDS[unit.lower()])
        else:
            moment = _absolute_time(text, until=until)
        return _utc_text(moment)
    except (ValueError, OverflowError):
        raise FilterError(value.position, _TIME_EXPECTED) from None


def _absolute_time(text: str, *, until: bool) -> datetime:
    """An ISO date or date-time as an aware datetime. A date alone is the start of its period
    (day, ISO week, month or year), or for ``until`` the start of the next period, so the whole
    date is included. Raises ValueError."""
    try:
        day = _ISO_DATE.parse_isodate(text)
    except ValueError:
        day = None
    if day is None:
        return _as_utc(isoparse(text))
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    if not until:
        return start
    if re.fullmatch(r"\d{4}", text):
        return start.replace(year=start.year + 1)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    if re.fullmatch(r"\d{4}-?W\d{2}", text, re.IGNORECASE):
        return start + timedelta(weeks=1)
    return start + timedelta(days=1)


def _as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _utc_text(moment: datetime) -> str:
    """``eventTime``'s format. Fractions round up: eventTime has whole seconds, and an event at
    second S is at or after T.f (and before it) exactly when S >= ceil(T.f)."""
    moment = _as_utc(moment)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


# --- free text -------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------- SQL functions


def register_sql_functions(conn: sqlite3.Connection) -> None:
    """Register on ``conn`` the SQL functions compiled filters call. Both are deterministic and
    never raise (they return NULL on bad input, since an exception would abort the query):

    ``trailtui_ip_in_cidr(ip_text, cidr_text)``
        1 if the address is in the network (IPv4 or IPv6, host bits of the network ignored), 0
        if not (or of the other IP version), NULL if either is not an address / network.
    ``trailtui_json_value(event_id, path_json)``
        ``event_id`` is an ``events.id``, whose original event is read (on a second, read-only
        connection to the same file) with :func:`trailtui.core.store.originals.original_event`;
        ``path_json`` a JSON list of object keys (strings) and array indexes (integers). Returns
        the leaf as text: strings as is, numbers and ``true``/``false`` as JSON text, objects and
        arrays as compact JSON; NULL when a step is missing or the leaf is JSON ``null``. A key
        missing exactly is looked up case-insensitively.
    """
    conn.create_function("trailtui_ip_in_cidr", 2, _ip_in_cidr, deterministic=True)
    conn.create_function("trailtui_json_value", 2, _json_value_function(main_database_path(conn)), deterministic=True)


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


def _json_value_function(db_path: str | None) -> Callable[[object, object], str | None]:
    """A ``trailtui_json_value`` reading originals through its own connection to ``db_path``
    (an SQL function may not run queries on the connection that calls it), with a one-event
    cache: the terms of one filter ask the same row for several paths, and reading + parsing
    is the expensive part."""
    last: tuple[object, object] = (None, None)  # (event id, parsed event); swapped atomically
    side: list[sqlite3.Connection] = []

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
