"""Pull the indexed fields out of one parsed CloudTrail event.

Field meanings follow "CloudTrail record contents" and "CloudTrail userIdentity element" in the
AWS CloudTrail User Guide, and the S3 fields "Logging Amazon S3 API calls using AWS CloudTrail"
in the Amazon S3 User Guide (``requestParameters.bucketName`` / ``key``) and "Logging Amazon S3
Glacier API calls with AWS CloudTrail" (``requestParameters.vaultName``, also in the request
path ``/-/vaults/<name>``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import timezone

from dateutil import parser as date_parser

from trailtui.core.times import epoch_seconds

#: ``userIdentity.accountId`` / ``principalId`` of an unsigned S3 request (S3 User Guide,
#: "Identifying Amazon S3 requests using CloudTrail"), and trailtui's principal key for every
#: unsigned request.
ANONYMOUS_PRINCIPAL = "ANONYMOUS_PRINCIPAL"
#: ``userIdentity.accountId`` of an unsigned request as CloudTrail writes it today
#: (``{"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}``; seen in real S3 data
#: events from December 2022 on, ../shared/corpus-more/projector-hsa-s3-homework).
ANONYMOUS_ACCOUNT = "anonymous"


def is_anonymous(account: object, principal_id: object) -> bool:
    """True when ``userIdentity.accountId``/``principalId`` say the request was unsigned, in
    either form CloudTrail has written (:data:`ANONYMOUS_PRINCIPAL`, the older;
    :data:`ANONYMOUS_ACCOUNT`, today's)."""
    return account == ANONYMOUS_PRINCIPAL or principal_id == ANONYMOUS_PRINCIPAL or account == ANONYMOUS_ACCOUNT

# CloudTrail's own form, with field ranges checked (a day beyond its month is caught below).
_CANONICAL_TIME = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ\Z")


def normalize_event_time(value: object) -> str | None:
    """Return ``value`` as a UTC ``YYYY-MM-DDTHH:MM:SSZ`` string, or None if it is no time.

    CloudTrail writes that exact form; exports and other tools write fractions, offsets or a
    space instead of ``T`` (parsed with dateutil; a time without zone is taken as UTC).
    Sub-second digits are dropped: the list sorts and filters by second.
    """
    if not isinstance(value, str) or not value:
        return None
    canonical = _CANONICAL_TIME.match(value)
    if canonical and canonical.group(2) <= "28":
        return value
    try:
        moment = date_parser.isoparse(value)
    except (ValueError, OverflowError):
        try:
            moment = date_parser.parse(value)
        except (ValueError, OverflowError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        utc = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    # Four-digit years always (strftime's %Y drops leading zeros on glibc): string order = time order.
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def event_time_seconds(value: object) -> int | None:
    """``eventTime`` as the index stores it: :func:`normalize_event_time`'s moment in whole
    seconds since the Unix epoch (UTC), None when it is no time (or one before year 1)."""
    text = normalize_event_time(value)
    try:
        return epoch_seconds(text)
    except ValueError:  # year 0000 passes the canonical pattern and no calendar
        return None


def ipv4_number(address: str | None) -> int | None:
    """Return an IPv4 ``sourceIPAddress`` as an integer, None for anything else.

    CloudTrail puts a service host name (``s3.amazonaws.com``) there when a service called on
    the user's behalf (record contents, ``sourceIPAddress``).
    """
    if not address or not address[0].isdigit() or ":" in address:
        return None
    return _ipv4_number(address)


# Logs repeat a few addresses many times: parse each once (bounded).
@functools.lru_cache(maxsize=16384)
def _ipv4_number(address: str) -> int | None:
    parts = address.split(".")
    # Plain decimal octets only (leading zeros refused, as ipaddress does): the loader calls this
    # for every event, and ipaddress.IPv4Address costs ~3 us.
    if len(parts) != 4:
        return None
    number = 0
    for part in parts:
        if not part.isdigit() or not part.isascii() or len(part) > 3 or (part[0] == "0" and len(part) > 1):
            return None
        octet = int(part)
        if octet > 255:
            return None
        number = number * 256 + octet
    return number


#: Longest value an ``events`` column keeps, in characters. Longer values (an attacker's 50 MB
#: object key) are cut there in the index only: the list shows a screenful of them anyway, and
#: the detail pane, JSON filters and exports read the original event, which stays whole.
MAX_COLUMN_CHARS = 4096

#: Longest string value the free-text index takes from one field, in characters (the words after
#: it are not searchable as free text; JSON-path filters still read the whole value).
MAX_FREE_TEXT_CHARS = 65536


def _text(value: object) -> str | None:
    if type(value) is str:  # the common case first: this runs ~30 times per event
        if len(value) > MAX_COLUMN_CHARS:
            return value[:MAX_COLUMN_CHARS]
        return value or None
    if value is None:
        return None
    if isinstance(value, str):
        return value[:MAX_COLUMN_CHARS] or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _flag(value: object) -> int | None:
    """``readOnly`` / ``managementEvent``: JSON booleans, but some exporters write strings."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "false"):
            return int(lowered == "true")
    return None


def _arn_tail(arn: str | None) -> str | None:
    if not arn:
        return None
    return arn.split(":", 5)[-1] if arn.count(":") >= 5 else arn


#: How trailtui names the principal of an unsigned request (``ANONYMOUS_PRINCIPAL``).
ANONYMOUS_LABEL = "anonymous (unsigned request)"


def principal_name(principal: str | None) -> str:
    """A :func:`principal_key` as a short name: an ARN by its resource (``role/DataPipeline``,
    ``user/alice``, ``root``), an unsigned request as :data:`ANONYMOUS_LABEL`, anything else
    (a service, ``account:<id>``) as it is; ``-`` for None."""
    if principal == ANONYMOUS_PRINCIPAL:
        return ANONYMOUS_LABEL
    return _arn_tail(principal) or "-"


def actor_name(identity: dict) -> str:
    """A short display name for ``userIdentity``: who did it, as a responder says it.

    IAMUser -> user name; AssumedRole -> ``role/session``; Root -> ``root (account)``;
    AWSService -> the service (``invokedBy``); anonymous -> ``anonymous``; AWSAccount -> ``account
    N``; IdentityCenterUser -> ``onBehalfOf.userId``; otherwise the ARN's resource part or the
    principalId. Types from "CloudTrail userIdentity element".
    """
    kind = identity.get("type")
    arn = _text(identity.get("arn"))
    account = _text(identity.get("accountId"))
    if is_anonymous(account, identity.get("principalId")):
        return "anonymous"
    if kind == "Root":
        return f"root ({account})" if account else "root"
    if kind == "IAMUser" and identity.get("userName"):
        return str(identity["userName"])
    if kind == "AssumedRole" and arn and ":assumed-role/" in arn:
        return arn.split(":assumed-role/", 1)[1]
    if kind == "AWSService" or (not kind and identity.get("invokedBy")):
        return _text(identity.get("invokedBy")) or "AWS service"
    if kind == "AWSAccount":
        return f"account {account}" if account else "AWS account"
    if kind == "IdentityCenterUser":
        behalf = identity.get("onBehalfOf")
        if isinstance(behalf, dict) and behalf.get("userId"):
            return f"identity-center {behalf['userId']}"
    tail = _arn_tail(arn)
    if tail:
        return tail
    return _text(identity.get("userName")) or _text(identity.get("principalId")) or (kind or "unknown")


def actor_key(identity: dict) -> str | None:
    """The key that groups one actor's events: the ARN, else principalId, else the Identity
    Center user (``onBehalfOf.userId``, "CloudTrail userIdentity element"), else
    invokedBy, else ``account:<accountId>``."""
    behalf = identity.get("onBehalfOf")
    if not identity.get("arn") and isinstance(behalf, dict) and _text(behalf.get("userId")):
        return f"identity-center:{behalf['userId']}"
    for name in ("arn", "principalId", "invokedBy"):
        value = _text(identity.get(name))
        if value:
            return value
    account = _text(identity.get("accountId"))
    if account:
        return f"account:{account}"
    return None


def principal_key(identity: dict, key: str | None = None) -> str | None:
    """The principal behind ``userIdentity``: the first of the three ways trailtui keys an actor.

    IAMUser and Root -> their ARN; AssumedRole -> the role (``sessionContext.sessionIssuer.arn``,
    else the role derived from the ``assumed-role`` ARN); FederatedUser -> the IAM user that
    called GetFederationToken (the session issuer); AWSService -> ``invokedBy``;
    IdentityCenterUser -> ``identity-center:<onBehalfOf.userId>``; an unsigned request ->
    ``ANONYMOUS_PRINCIPAL``; AWSAccount (another account) -> ``account:<accountId>``; other types
    (SAMLUser, WebIdentityUser, Unknown) -> their ARN, else principalId. Types from "CloudTrail
    userIdentity element" (AWS CloudTrail User Guide). None for an empty ``userIdentity``.
    ``key``: the identity's :func:`actor_key`, when the caller has it already (the loader does).
    """
    account = _text(identity.get("accountId"))
    if is_anonymous(account, identity.get("principalId")):
        return ANONYMOUS_PRINCIPAL
    kind = identity.get("type")
    arn = _text(identity.get("arn"))
    if kind in ("AssumedRole", "FederatedUser"):
        context = identity.get("sessionContext")
        issuer = context.get("sessionIssuer") if isinstance(context, dict) else None
        issuer_arn = _text(issuer.get("arn")) if isinstance(issuer, dict) else None
        if issuer_arn:
            return issuer_arn
        if arn and ":assumed-role/" in arn:
            # arn:aws:sts::A:assumed-role/ROLE/SESSION -> arn:aws:iam::A:role/ROLE (path unknown).
            head, _, tail = arn.partition(":assumed-role/")
            return head.replace(":sts:", ":iam:", 1) + ":role/" + tail.split("/", 1)[0]
    if kind == "AWSService" or (not kind and not arn and identity.get("invokedBy")):
        return _text(identity.get("invokedBy")) or arn
    if kind == "AWSAccount" and account and not arn:
        return f"account:{account}"
    return key if key is not None else actor_key(identity)


def session_key(identity: dict) -> str | None:
    """The session of ``userIdentity``: the second way trailtui keys an actor.

    ``<arn> @ <sessionContext.attributes.creationDate>`` for identities that carry a session
    creation date (assumed-role and federated sessions, GetSessionToken credentials, console
    sessions); None for long-term credentials and service calls. The creation date is kept as the
    log wrote it (UTC ISO-8601). Source: "CloudTrail userIdentity element", sessionContext.
    """
    context = identity.get("sessionContext")
    attributes = context.get("attributes") if isinstance(context, dict) else None
    created = _text(attributes.get("creationDate")) if isinstance(attributes, dict) else None
    if not created:
        return None
    who = _text(identity.get("arn")) or _text(identity.get("principalId"))
    return f"{who} @ {created}" if who else None


def issued_access_key_id(event: dict) -> str | None:
    """The access key id an event hands out, or None.

    ``responseElements.credentials.accessKeyId`` of the STS calls that return credentials
    (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity, GetFederationToken,
    GetSessionToken: "AWS STS API reference" / "Logging IAM and AWS STS API calls with AWS
    CloudTrail" in the IAM User Guide), or ``responseElements.accessKey.accessKeyId`` of
    CreateAccessKey. Events later signed with that key belong to what this event created.
    """
    return issued_key_of_response(event.get("responseElements"))


def issued_key_of_response(response: object) -> str | None:
    """:func:`issued_access_key_id` from the parsed ``responseElements`` value alone (any type)."""
    if not isinstance(response, dict):
        return None
    for holder in ("credentials", "accessKey"):
        inner = response.get(holder)
        if isinstance(inner, dict):
            key = _text(inner.get("accessKeyId"))
            if key:
                return key
    return None


def request_details(additional: object, tls: object, response: object) -> tuple[str | None, ...]:
    """``(additionalEventData.SignatureVersion, additionalEventData.aclRequired,
    tlsDetails.tlsVersion, additionalEventData.MFAUsed, responseElements.ConsoleLogin)`` of an
    event (the parsed objects, or anything else for none): how the S3 user guide identifies
    Signature Version 2 requests and requests that needed an ACL ("Identifying Amazon S3
    requests using CloudTrail"), the TLS version ("CloudTrail record contents", tlsDetails), and
    whether a console sign-in used MFA and succeeded ("AWS Management Console sign-in events",
    AWS CloudTrail User Guide). Values that are not text are None."""
    if not isinstance(additional, dict):
        additional = {}
    return (
        _text(additional.get("SignatureVersion")),
        _text(additional.get("aclRequired")),
        _text(tls.get("tlsVersion")) if isinstance(tls, dict) else None,
        _text(additional.get("MFAUsed")),
        _text(response.get("ConsoleLogin")) if isinstance(response, dict) else None,
    )


def vault_name(event_source: object, params: dict) -> str | None:
    """``requestParameters.vaultName`` of an event (``params``: its parsed requestParameters,
    ``{}`` when absent or not an object; ``event_source``: its raw ``eventSource`` value)."""
    name = _text(params.get("vaultName"))
    if name or event_source != "glacier.amazonaws.com":
        return name
    return None


def resource_of(bucket: str | None, key: str | None, vault: str | None, resources: object) -> str | None:
    """The ``resource`` column: ``bucket/key``, ``bucket``, ``vault/<name>``, else the first
    ``resources[].ARN`` (``resources``: the event's parsed ``resources`` value, any type)."""
    if bucket:
        return f"{bucket}/{key}" if key else bucket
    if vault:
        return f"vault/{vault}"
    if isinstance(resources, list):
        for item in resources:
            if isinstance(item, dict):
                arn = _text(item.get("ARN") or item.get("arn"))
                if arn:
                    return arn
    return None


def synthetic_event_id(original: bytes) -> str:
    """A stable id for an event without ``eventID``: a hash of its original bytes."""
    return "synthetic-" + hashlib.blake2b(original, digest_size=12).hexdigest()


def identity_columns(identity: dict) -> tuple[tuple, tuple]:
    """The record columns that depend on ``userIdentity`` alone, in two runs as they sit in
    :data:`schema.RECORD_COLUMNS`: ``(type, arn, accountId, principalId, accessKeyId, userName,
    invokedBy, sessionContext.sessionIssuer.arn, sessionContext.sessionIssuer.type)`` and ``(actor, actorKey, principalKey,
    sessionKey)``. ``identity`` is the parsed ``userIdentity`` (``{}`` when it is missing or not
    an object). Never raises; fields of the wrong type are None."""
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, dict) else None
    identity_key = actor_key(identity)  # also the principal of most identity types: computed once
    return (
        (
            _text(identity.get("type")),
            _text(identity.get("arn")),
            _text(identity.get("accountId")),
            _text(identity.get("principalId")),
            _text(identity.get("accessKeyId")),
            _text(identity.get("userName")),
            _text(identity.get("invokedBy")),
            _text(issuer.get("arn")) if isinstance(issuer, dict) else None,
            _text(issuer.get("type")) if isinstance(issuer, dict) else None,
        ),
        (
            actor_name(identity) if identity else None,
            identity_key,
            principal_key(identity, identity_key),
            session_key(identity),
        ),
    )


def insight_name_and_source(name: str | None, source: str | None, details: object) -> tuple[str | None, str | None]:
    """``eventName`` and ``eventSource`` of an event, taken from ``insightDetails`` where the
    top level lacks them: an Insights event names the API it is about there ("CloudTrail
    Insights events record contents": ``insightDetails.eventName``, ``.eventSource``)."""
    if isinstance(details, dict):
        name = name or _text(details.get("eventName"))
        source = source or _text(details.get("eventSource"))
    return name, source


def event_row(event: dict, original: bytes) -> tuple:
    """Return the record column values of one event, in :data:`schema.RECORD_COLUMNS` order,
    without the trailing ``record_index``, ``raw_offset`` and ``raw_length`` (``prepare`` adds
    those).

    ``event`` is the parsed record, ``original`` its exact bytes (for a synthetic ``eventID``).
    Missing fields are None; never raises for odd shapes (fields of the wrong type are None).
    """
    identity = event.get("userIdentity")
    if not isinstance(identity, dict):
        identity = {}
    params = event.get("requestParameters")
    if not isinstance(params, dict):
        params = {}
    event_id = _text(event.get("eventID")) or synthetic_event_id(original)
    # Logstash-processed exports drop eventTime and keep @timestamp (see the corpus notes).
    event_time = event_time_seconds(event.get("eventTime") or event.get("@timestamp"))
    source_ip = _text(event.get("sourceIPAddress"))
    bucket = _text(params.get("bucketName"))
    key = _text(params.get("key"))
    vault = vault_name(event.get("eventSource"), params)
    category = _text(event.get("eventCategory"))
    if category is None and event.get("eventType") == "AwsCloudTrailInsight":
        category = "Insight"
    who, actor = identity_columns(identity)
    name, source = _text(event.get("eventName")), _text(event.get("eventSource"))
    if name is None or source is None:
        name, source = insight_name_and_source(name, source, event.get("insightDetails"))
    return (
        event_id,
        event_time,
        name,
        source,
        _text(event.get("awsRegion")),
        source_ip,
        ipv4_number(source_ip),
        _text(event.get("userAgent")),
        _text(event.get("errorCode")),
        _text(event.get("errorMessage")),
        _flag(event.get("readOnly")),
        _text(event.get("eventType")),
        category,
        _flag(event.get("managementEvent")),
        _text(event.get("recipientAccountId")),
        *request_details(event.get("additionalEventData"), event.get("tlsDetails"), event.get("responseElements")),
        *who,
        bucket,
        key,
        vault,
        resource_of(bucket, key, vault, event.get("resources")),
        *actor,
        issued_key_of_response(event.get("responseElements")),
    )


#: Keys whose values stay out of the free-text index: unique identifiers and boilerplate that
#: nobody searches by word (``id:`` and JSON-path fields still find them). Leaving them out
#: halves the full-text index and makes it 2.5x faster to build: random IDs are each a new
#: term (measured on 96k synthetic events: 342 -> 191 bytes and 68k -> 166k events/s).
FREE_TEXT_SKIPPED_KEYS = frozenset(
    (
        "eventID", "requestID", "sharedEventID", "eventVersion", "eventTime", "eventType",
        "eventCategory", "managementEvent", "readOnly", "x-amz-id-2", "tlsVersion", "cipherSuite",
        "CipherSuite", "SignatureVersion", "AuthenticationMethod", "sessionToken", "creationDate",
        "mfaAuthenticated", "bytesTransferredIn", "bytesTransferredOut",
    )
)


def event_text(event: object) -> str:
    """The free-text (FTS) body of an event: its distinct string and number values, space-joined.

    Keys are left out (every event has the same ones), and so are the values of
    :data:`FREE_TEXT_SKIPPED_KEYS`. Iterative, so deep nesting cannot overflow the stack.
    """
    values: dict[str, None] = {}
    collect_free_text(values, [event])
    return " ".join(values)


def collect_free_text(values: dict[str, None], stack: list) -> None:
    """Add to ``values`` (a dict used as an ordered set) the free-text words of every parsed
    JSON value in ``stack`` (consumed), with :func:`event_text`'s rules: strings (cut at
    :data:`MAX_FREE_TEXT_CHARS`) and numbers, not keys, booleans or nulls, nothing under a key
    of :data:`FREE_TEXT_SKIPPED_KEYS`."""
    # On the loader's hot path: type() identity checks, and a dict that both dedupes the values
    # and keeps their order (about twice as fast as isinstance chains and a list plus a set).
    skipped = FREE_TEXT_SKIPPED_KEYS
    pop, push = stack.pop, stack.append
    while stack:
        value = pop()
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                item_kind = type(item)
                if item_kind is str:
                    if item and key not in skipped:
                        values[item if len(item) <= MAX_FREE_TEXT_CHARS else item[:MAX_FREE_TEXT_CHARS]] = None
                elif item is not None and key not in skipped:
                    push(item)
        elif kind is str:
            if value:
                values[value if len(value) <= MAX_FREE_TEXT_CHARS else value[:MAX_FREE_TEXT_CHARS]] = None
        elif kind is list:
            stack.extend(value)
        elif kind is int or kind is float:
            values[str(value)] = None
