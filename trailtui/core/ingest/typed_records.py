"""Typed decoding of S3 delivery files: the fast path of :func:`trailtui.core.ingest.prepare_file`.

A ``{"Records": [...]}`` file (or a bare ``[...]`` of records) is decoded in one msgspec call
into :class:`Record` structs: the top-level fields of "CloudTrail record contents" (AWS
CloudTrail User Guide) as strings, and the nested objects (``userIdentity``,
``requestParameters``, ...) as their exact bytes, parsed with orjson (the reference parser)
only to build the row and the free-text words. A ``userIdentity`` repeats through a file, so
its columns and words are computed once per distinct byte string.

The rows, spans and kept bytes are exactly what the reference path (``decode.decode_bytes`` +
``extract.event_row``) gives, and the free-text body holds the same distinct values as
``extract.event_text``'s, in another order (so a quoted phrase that runs from the end of one
value into the start of the next may match on one path and not the other; within a value,
phrases match alike); :func:`prepare_records` returns None for anything it does not
cover (another shape, a record with a field of another type or a top-level key outside
:class:`Record`, a string past ``MAX_COLUMN_CHARS``, nesting deeper than msgspec goes, a file
that is not valid UTF-8) and the caller takes the reference path for the file. A record that
alone does not fit takes the reference path alone (:func:`_reference_event`).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Annotated

import msgspec
import orjson

from trailtui.core.ingest import decode
from trailtui.core.ingest.extract import (
    ANONYMOUS_PRINCIPAL,
    insight_name_and_source,
    is_anonymous,
    FREE_TEXT_SKIPPED_KEYS,
    MAX_COLUMN_CHARS,
    _arn_tail,
    _flag,
    _text,
    collect_free_text,
    event_row,
    event_text,
    event_time_seconds,
    identity_columns,
    ipv4_number,
    issued_key_of_response,
    request_details,
    resource_of,
    synthetic_event_id,
    vault_name,
)

#: A top-level string field. Longer strings than a column keeps, and values of any other JSON
#: type, fail validation: that record takes the reference path (which cuts or drops them).
_Text = Annotated[str, msgspec.Meta(max_length=MAX_COLUMN_CHARS)] | None
#: ``readOnly`` / ``managementEvent``: JSON booleans, strings from some exporters (see ``_flag``).
_Flag = bool | _Text


class _SessionIssuer(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    type: _Text = None
    principalId: _Text = None
    arn: _Text = None
    accountId: _Text = None
    userName: _Text = None


class _SessionAttributes(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    creationDate: _Text = None
    mfaAuthenticated: _Text = None


class _SessionContext(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    sessionIssuer: _SessionIssuer | None = None
    attributes: _SessionAttributes | None = None
    webIdFederationData: msgspec.Raw = None
    sourceIdentity: _Text = None
    ec2RoleDelivery: _Text = None
    assumedRoot: _Text = None


class _OnBehalfOf(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    userId: _Text = None
    identityStoreArn: _Text = None


class Identity(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """``userIdentity`` ("CloudTrail userIdentity element", AWS CloudTrail User Guide)."""

    type: _Text = None
    principalId: _Text = None
    arn: _Text = None
    accountId: _Text = None
    accessKeyId: _Text = None
    userName: _Text = None
    invokedBy: _Text = None
    identityProvider: _Text = None
    credentialId: _Text = None
    sessionContext: _SessionContext | None = None
    onBehalfOf: _OnBehalfOf | None = None
    inScopeOf: msgspec.Raw = None


class Record(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The top-level fields of one CloudTrail record ("CloudTrail record contents", AWS
    CloudTrail User Guide), plus ``@timestamp`` of Logstash exports. Nested values are kept as
    their exact JSON bytes (``msgspec.Raw``; None when absent, ``Raw(b"null")`` for null).

    Unknown top-level keys are refused (their words belong in the free text), so are values of
    another type than declared: such a record is decoded by the reference path.
    """

    eventVersion: _Text = None
    eventTime: _Text = None
    timestamp: _Text = msgspec.field(default=None, name="@timestamp")
    eventSource: _Text = None
    eventName: _Text = None
    awsRegion: _Text = None
    sourceIPAddress: _Text = None
    userAgent: _Text = None
    errorCode: _Text = None
    errorMessage: _Text = None
    requestID: _Text = None
    eventID: _Text = None
    eventType: _Text = None
    apiVersion: _Text = None
    recipientAccountId: _Text = None
    sharedEventID: _Text = None
    vpcEndpointId: _Text = None
    vpcEndpointAccountId: _Text = None
    eventCategory: _Text = None
    sessionCredentialFromConsole: _Text = None
    readOnly: _Flag = None
    managementEvent: _Flag = None
    userIdentity: Identity | None = None
    requestParameters: msgspec.Raw = None
    responseElements: msgspec.Raw = None
    resources: msgspec.Raw = None
    additionalEventData: msgspec.Raw = None
    serviceEventDetails: msgspec.Raw = None
    tlsDetails: msgspec.Raw = None
    insightDetails: msgspec.Raw = None
    addendum: msgspec.Raw = None
    edgeDeviceDetails: msgspec.Raw = None


class _Envelope(msgspec.Struct, gc=False):
    Records: list[Record]


class _RawEnvelope(msgspec.Struct, gc=False):
    Records: list[msgspec.Raw]


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_RAW_ENVELOPE = msgspec.json.Decoder(_RawEnvelope)
_ARRAY = msgspec.json.Decoder(list[Record])
_RAW_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])
_RECORD = msgspec.json.Decoder(Record)
_DECODE_ERRORS = (msgspec.DecodeError, RecursionError)


def _tuple_getter(names: list[str]):
    """A function giving the attributes ``names`` of an object as a tuple (attrgetter gives a
    bare value for one name)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        name = names[0]
        return lambda value: (getattr(value, name),)
    return lambda value: ()


def _free_text_fields(struct: type, kind: object) -> list[str]:
    """The fields of ``struct`` declared as ``kind`` whose values are free text (not under a key
    of FREE_TEXT_SKIPPED_KEYS)."""
    return [
        field.name
        for field in msgspec.structs.fields(struct)
        if field.type == kind and field.encode_name not in FREE_TEXT_SKIPPED_KEYS
    ]


def _words_getter(struct: type):
    """For ``struct``: a function giving its free-text string values and its nested raw values
    (those not read for columns too), as ``(strings, raws)`` tuples."""
    strings = _free_text_fields(struct, _Text)
    raws = [name for name in _free_text_fields(struct, msgspec.Raw) if name not in _READ_FOR_COLUMNS]
    both = _tuple_getter(strings + raws)
    split = len(strings)
    if not raws:
        return lambda value: (both(value), ())
    return lambda value: ((values := both(value))[:split], values[split:])


#: Nested values parsed for the columns anyway (their words are added from that parse).
_READ_FOR_COLUMNS = ("requestParameters", "responseElements", "resources", "additionalEventData", "tlsDetails")
_record_words = _words_getter(Record)
#: Of the values read for columns, those whose words go in the free text.
_COLUMN_VALUES_WITH_WORDS = frozenset(_free_text_fields(Record, msgspec.Raw)) & frozenset(_READ_FOR_COLUMNS)
_identity_words = _words_getter(Identity)
_context_words = _words_getter(_SessionContext)
_issuer_words = _words_getter(_SessionIssuer)
_behalf_words = _words_getter(_OnBehalfOf)
if _free_text_fields(_SessionAttributes, _Text) or _free_text_fields(_SessionAttributes, msgspec.Raw):
    raise RuntimeError("sessionContext.attributes gained free-text fields: _typed_event must read them")
_NO_IDENTITY = identity_columns({})
_EMPTY: dict = {}


class _Unfit(Exception):
    """A record the typed path cannot give the reference's answer for."""


Event = tuple[tuple, str, "bytes | None"]


def prepare_records(data: bytes, *, free_text: bool = True) -> list[Event] | None:
    """The ``(row, body, kept)`` entries of :class:`trailtui.core.ingest.PreparedFile` for the
    decompressed bytes of a delivery file (``{"Records": [...]}``) or a bare array of records,
    or None when the file is not of those shapes, not valid UTF-8 or not JSON (the caller uses
    the reference path, which says what is wrong). Raises nothing for bad content.

    Each record's byte span comes from the decoded structure: ``raw_offset`` counts from the
    file's content without a UTF-8 BOM (``decode.read_log_content``), ``raw_length`` in bytes.
    ``free_text=False`` leaves every body empty (``""``): the rows alone, for a loader that
    builds the free-text index later from the originals (and for timing the two apart).
    """
    if data.startswith(decode._UTF8_BOM):
        data = data[len(decode._UTF8_BOM) :]
    if not data.isascii():
        try:  # the reference path reports (and repairs) invalid UTF-8 record by record
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    start = decode._first_non_space(data)
    if start < 0:
        return None
    head = data[start]
    if head == 123:  # "{"
        typed, raw = _ENVELOPE, _RAW_ENVELOPE
    elif head == 91:  # "["
        typed, raw = _ARRAY, _RAW_ARRAY
    else:
        return None
    try:
        records = typed.decode(data)
    except _DECODE_ERRORS:
        records = None  # some record does not fit: decode them one by one
    else:
        if head == 123:
            records = records.Records
    try:
        items = raw.decode(data)
    except _DECODE_ERRORS:
        return None
    if head == 123:
        items = items.Records
    if records is None:
        for item in items:
            if memoryview(item)[:1] != b"{":  # a record that is no object: the reference reports it
                return None
    return _events(data, items, records, free_text)


def _events(data: bytes, items: list[msgspec.Raw], records: list[Record] | None, free_text: bool) -> list[Event] | None:
    events: list[Event] = []
    append = events.append
    cursor = 0
    find, startswith = data.find, data.startswith
    for number, item in enumerate(items):
        record = records[number] if records is not None else _record_or_none(item)
        try:
            if record is None:
                raise _Unfit
            row, body = _typed_event(record, item, free_text)
        except _Unfit:
            reference = _reference_event(item)
            if reference is None:
                return None  # the reference has errors to report for it: let it do the whole file
            row, body = reference
            if not free_text:
                body = ""
        # Where the reference's search from the cursor finds the record: a record starts with
        # "{", so when the first "{" from the cursor starts it, no earlier match exists.
        length = len(item)
        brace = find(b"{", cursor)
        if brace >= 0 and startswith(item, brace):
            found = brace
        else:
            found = find(bytes(item), cursor)
        if found >= 0:
            cursor = found + length
            append((row + (number, found, length), body, None))
        else:
            append((row + (number, None, None), body, bytes(item)))
    return events


def _record_or_none(item: msgspec.Raw) -> Record | None:
    try:
        return _RECORD.decode(item)
    except _DECODE_ERRORS:
        return None


def _reference_event(item: msgspec.Raw) -> tuple[tuple, str] | None:
    """Row and body of one record through the reference parser; None when the reference would
    report something for it (invalid JSON, a repaired string, not an object)."""
    try:
        event, note = decode._parse_record(bytes(item))
    except (orjson.JSONDecodeError, ValueError):
        return None
    if note is not None or not isinstance(event, dict):
        return None
    if not decode._EVENT_KEYS.intersection(event) and decode._is_envelope(decode._dict_items(bytes(item))):
        return None  # an EventBridge event, a lookup-events Event...: the reference unwraps it
    return event_row(event, bytes(item)), event_text(event)


def _parse(raw: msgspec.Raw) -> object:
    try:
        return orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError:  # deep nesting, a number out of range, ...: the reference's call
        raise _Unfit from None


def _typed_event(record: Record, item: msgspec.Raw, free_text: bool) -> tuple[tuple, str]:
    """The reference's ``event_row`` (without the trailing index and span) and a body with the
    same words as ``event_text``, from a decoded :class:`Record`. Raises :class:`_Unfit`."""
    identity = record.userIdentity
    if identity is None:
        who, actor = _NO_IDENTITY
    else:
        who, actor = _identity_columns(identity)
    stack: list = []
    params = _EMPTY
    if record.requestParameters is not None:
        value = _parse(record.requestParameters)
        if value is not None:
            stack.append(value)
            if type(value) is dict:
                params = value
    response = None
    if record.responseElements is not None:
        response = _parse(record.responseElements)
        if response is not None:
            stack.append(response)
    resources = None
    if record.resources is not None:
        resources = _parse(record.resources)
        if resources is not None:
            stack.append(resources)
    additional = None if record.additionalEventData is None else _parse(record.additionalEventData)
    tls = None if record.tlsDetails is None else _parse(record.tlsDetails)
    for name, value in (("additionalEventData", additional), ("tlsDetails", tls)):
        if value is not None and name in _COLUMN_VALUES_WITH_WORDS:
            stack.append(value)
    if free_text:
        strings, raws = _record_words(record)
        if identity is not None:
            more, identity_raws = _identity_words(identity)
            strings += more
            raws += identity_raws
            context = identity.sessionContext
            if context is not None:
                more, context_raws = _context_words(context)
                strings += more
                raws += context_raws
                if context.sessionIssuer is not None:
                    more, issuer_raws = _issuer_words(context.sessionIssuer)
                    strings += more
                    raws += issuer_raws
                # sessionContext.attributes: creationDate and mfaAuthenticated, both no words
            if identity.onBehalfOf is not None:
                more, behalf_raws = _behalf_words(identity.onBehalfOf)
                strings += more
                raws += behalf_raws
        words = dict.fromkeys(strings)
        for raw in raws:
            if raw is not None:
                stack.append(_parse(raw))
        if stack:
            collect_free_text(words, stack)
        words.pop(None, None)
        words.pop("", None)
        body = " ".join(words)
    else:
        body = ""

    source_ip = record.sourceIPAddress or None
    if params:
        bucket = _text(params.get("bucketName"))
        key = _text(params.get("key"))
        vault = vault_name(record.eventSource, params)
    else:
        bucket = key = vault = None
    category = record.eventCategory or None
    if category is None and record.eventType == "AwsCloudTrailInsight":
        category = "Insight"
    name, source = record.eventName or None, record.eventSource or None
    if (name is None or source is None) and record.insightDetails is not None:
        name, source = insight_name_and_source(name, source, _parse(record.insightDetails))
    read_only = record.readOnly
    management = record.managementEvent
    details = request_details(additional, tls, response)
    return (
        (
            record.eventID or synthetic_event_id(item),
            event_time_seconds(record.eventTime or record.timestamp),
            name,
            source,
            record.awsRegion or None,
            source_ip,
            ipv4_number(source_ip),
            record.userAgent or None,
            record.errorCode or None,
            record.errorMessage or None,
            None if read_only is None else _flag(read_only),
            record.eventType or None,
            category,
            None if management is None else _flag(management),
            record.recipientAccountId or None,
            *details,
            *who,
            bucket,
            key,
            vault,
            resource_of(bucket, key, vault, resources),
            *actor,
            issued_key_of_response(response),
        ),
        body,
    )


# ---------------------------------------------------------------- userIdentity, typed
#
# extract.identity_columns on the typed Identity: every string here is already a str of at most
# MAX_COLUMN_CHARS characters or None, so extract._text(value) is ``value or None``. The
# equivalence tests (tests/test_ingest_fast.py) compare the two on the corpus and on generated
# identities of every userIdentity type.


def _identity_columns(identity: Identity) -> tuple[tuple, tuple]:
    kind = identity.type
    arn = identity.arn or None
    account = identity.accountId or None
    principal_id = identity.principalId
    invoked_by = identity.invokedBy or None
    context = identity.sessionContext
    issuer = context.sessionIssuer if context is not None else None
    issuer_arn = issuer.arn or None if issuer is not None else None
    if kind is None and not any(getattr(identity, name) is not None for name in _IDENTITY_FIELDS):
        # {} and {"type": null} decode alike, but only the first is an empty identity.
        raise _Unfit
    behalf = identity.onBehalfOf
    center_user = behalf.userId if behalf is not None else None  # Identity Center user
    # actor_key: the Identity Center user when there is no ARN, else the ARN, else principalId,
    # else invokedBy, else account:<accountId>
    if center_user and not arn:
        key = f"identity-center:{center_user}"
    else:
        key = arn or principal_id or invoked_by or (f"account:{account}" if account else None)
    anonymous = is_anonymous(account, principal_id)
    # actor_name
    if anonymous:
        name = "anonymous"
    elif kind == "Root":
        name = f"root ({account})" if account else "root"
    elif kind == "IAMUser" and identity.userName:
        name = identity.userName
    elif kind == "AssumedRole" and arn and ":assumed-role/" in arn:
        name = arn.split(":assumed-role/", 1)[1]
    elif kind == "AWSService" or (not kind and invoked_by):
        name = invoked_by or "AWS service"
    elif kind == "AWSAccount":
        name = f"account {account}" if account else "AWS account"
    elif kind == "IdentityCenterUser" and center_user:
        name = f"identity-center {center_user}"
    else:
        name = _arn_tail(arn) or identity.userName or principal_id or kind or "unknown"
    # principal_key
    principal = None
    if anonymous:
        principal = ANONYMOUS_PRINCIPAL
    else:
        if kind in ("AssumedRole", "FederatedUser"):
            if issuer_arn:
                principal = issuer_arn
            elif arn and ":assumed-role/" in arn:
                head, _, tail = arn.partition(":assumed-role/")
                principal = head.replace(":sts:", ":iam:", 1) + ":role/" + tail.split("/", 1)[0]
        if principal is None:
            if kind == "AWSService" or (not kind and not arn and invoked_by):
                principal = invoked_by or arn
            elif kind == "AWSAccount" and account and not arn:
                principal = f"account:{account}"
            else:
                principal = key
    # session_key
    attributes = context.attributes if context is not None else None
    created = attributes.creationDate if attributes is not None else None
    session = None
    if created:
        holder = arn or principal_id
        if holder:
            session = f"{holder} @ {created}"
    return (
        (kind or None, arn, account, principal_id or None, identity.accessKeyId or None, identity.userName or None,
         invoked_by, issuer_arn, issuer.type or None if issuer is not None else None),
        (name, key, principal, session),
    )


_IDENTITY_FIELDS = tuple(field.name for field in msgspec.structs.fields(Identity))
