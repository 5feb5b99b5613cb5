"""The filter grammar of trailtui, parsed and compiled to parameterised SQL.

Grammar (the filter bar, ``trailtui browse --filter`` and ``trailtui query --filter``):

Terms are separated by whitespace and must all hold (AND). ``-term`` negates a term; a negated
term also matches events where the field is missing (``-error:*`` = events without an error).
``OR``/``or`` between terms means either; ``AND``/``and`` may be written between terms; ``NOT``
(or ``-`` glued to a group) negates; parentheses group. Precedence: NOT, then AND, then OR.
Only bare operators are operators: ``"OR"`` is a word to find, and lowercase ``not`` is always a
word (``not (`` is an error that says to write ``NOT``); ``|`` and ``||`` are errors. Inside
parentheses a ``)`` ends a word or a value; outside them it is a character (``ua:Mozilla(X11)``).
Groups and NOTs nest at most :data:`~trailtui.core.filter.nodes.MAX_NESTING` deep.

``field~pattern``
    A regular expression (RE2 syntax; linear time) found anywhere in the field's text, case-
    sensitive unless the pattern says ``(?i)``: ``arn~"assumed-role/.*-admin/"``. Bare up to a
    space, or quoted (``\\"`` is a quote; every other backslash belongs to the pattern). Text
    fields, JSON paths, ``name``, ``source``, ``ip`` and ``session`` only.

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

from trailtui.core.filter.compile import CompiledFilter, compile_filter
from trailtui.core.filter.fields import FIELDS, FieldInfo
from trailtui.core.filter.moments import parse_time
from trailtui.core.filter.nodes import MAX_FILTER_LENGTH, FilterError
from trailtui.core.filter.sqlfunctions import register_sql_functions

__all__ = [
    "CompiledFilter", "FIELDS", "FieldInfo", "FilterError", "MAX_FILTER_LENGTH", "compile_filter", "parse_time",
    "register_sql_functions",
]
