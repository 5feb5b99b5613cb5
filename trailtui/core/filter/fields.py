"""The fields of the grammar, declared once as data: aliases (``name:``, ``actor:``, ``ip:``...),
every CloudTrail record column by its CloudTrail name, JSON paths; and how a typed field name is
looked up (any case, or a dotted JSON path)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from trailtui.core.columns import COLUMNS
from trailtui.core.store.schema import RECORD_COLUMNS
from trailtui.core.text import printable
from trailtui.core.filter.nodes import FilterError


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
        "same",
        "any two fields",
        "same:FIELD,OTHER: the two fields hold the same text (any case); Sigma's fieldref",
        "same",
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


def _shown(text: str) -> str:
    """User text for an error message: short, and with terminal escapes made harmless."""
    return printable(text if len(text) <= 40 else text[:39] + "…")


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
