"""Amazon S3 and S3 Glacier events as the AWS user guides describe them.

Sources (Amazon S3 User Guide, "Logging Amazon S3 API calls using AWS CloudTrail", pages
"Amazon S3 CloudTrail events" and its earlier single-page form "Logging Amazon S3 API Calls by
Using AWS CloudTrail"):

* the lists of **account-level**, **bucket-level** and **object-level** actions tracked by
  CloudTrail logging (:data:`ACCOUNT_LEVEL`, :data:`BUCKET_LEVEL`, :data:`OBJECT_LEVEL`). The
  guide has changed over the years; these sets are the union of its versions (the older table
  also lists ``DeleteBucketWebsite``, ``GetObjectTorrent`` and ``SelectObjectContent``, and spells
  the request-payment events ``GetBucketRequestPay``/``PutBucketRequestPay``: both spellings are
  kept);
* its notes: the ``OPTIONS object`` action "is treated like a bucket-level action" (it checks the
  bucket's CORS configuration; CloudTrail names that event ``PreflightRequest`` -- the stored guide
  text names only the REST operation, the event name is from real CloudTrail records); "GET Bucket
  (List Objects) Version 2", "GET Bucket Object versions", "HEAD Bucket" and "Delete Multiple
  Objects" are logged as object-level actions (data events) under conditions (CloudTrail names
  them ``ListObjects``, ``ListObjectVersions``, ``HeadBucket`` and ``DeleteObjects``;
  ``ListObjectsV2`` is kept as well for exports that spell it so); and "CloudTrail does not log key
  names for the keys that are deleted using the Delete Multiple Objects operation"
  (:data:`DELETE_OBJECTS_NOTE`);
* the table "Amazon S3 SOAP Actions Tracked by CloudTrail Logging" (:data:`SOAP_TO_CLOUDTRAIL`).

Object-level actions are CloudTrail *data* events (off by default); bucket- and account-level
actions are *management* events ("Amazon S3 data events in CloudTrail" on the same page).

S3 Glacier: "Logging Amazon S3 Glacier API calls with AWS CloudTrail" (Amazon S3 Glacier
Developer Guide): every Glacier API action is logged with ``eventSource``
``glacier.amazonaws.com``, and the vault is ``requestParameters.vaultName``
(:func:`trailtui.core.ingest.extract.event_row` indexes it; :func:`glacier_vault` reads it from an event).

This module is pure data and small functions: no I/O, no SQL text from user input.
"""

from __future__ import annotations

import re

#: ``eventSource`` of Amazon S3 API calls.
S3_EVENT_SOURCE = "s3.amazonaws.com"
#: ``eventSource`` of Amazon S3 Glacier API calls.
GLACIER_EVENT_SOURCE = "glacier.amazonaws.com"

#: "Amazon S3 account-level actions tracked by CloudTrail logging".
ACCOUNT_LEVEL: frozenset[str] = frozenset(
    ("DeleteAccountPublicAccessBlock", "GetAccountPublicAccessBlock", "PutAccountPublicAccessBlock")
)

#: "Amazon S3 bucket-level actions tracked by CloudTrail logging", plus ``PreflightRequest``
#: (the guide's note on ``OPTIONS object``).
BUCKET_LEVEL: frozenset[str] = frozenset(
    (
        "CreateBucket", "DeleteBucket", "DeleteBucketCors", "DeleteBucketEncryption",
        "DeleteBucketLifecycle", "DeleteBucketPolicy", "DeleteBucketReplication", "DeleteBucketTagging",
        "DeleteBucketPublicAccessBlock", "DeleteBucketWebsite",
        "GetBucketAcl", "GetBucketCors", "GetBucketEncryption", "GetBucketLifecycle", "GetBucketLocation",
        "GetBucketLogging", "GetBucketNotification", "GetObjectLockConfiguration", "GetBucketPolicy",
        "GetBucketReplication", "GetBucketRequestPayment", "GetBucketRequestPay", "GetBucketTagging",
        "GetBucketVersioning", "GetBucketWebsite", "GetBucketPublicAccessBlock", "ListBuckets",
        "PutBucketAcl", "PutBucketCors", "PutBucketEncryption", "PutBucketLifecycle", "PutBucketLogging",
        "PutBucketNotification", "PutBucketPolicy", "PutBucketReplication", "PutBucketRequestPayment",
        "PutBucketRequestPay", "PutBucketTagging", "PutBucketVersioning", "PutBucketWebsite",
        "PutBucketPublicAccessBlock",
        "PreflightRequest",  # OPTIONS object: "treated like a bucket-level action"
    )
)

#: "Amazon S3 object-level actions tracked by AWS CloudTrail logging", plus the bucket
#: operations the guide says are logged as object-level actions (List Objects v2, List Object
#: Versions, HEAD Bucket, Delete Multiple Objects).
OBJECT_LEVEL: frozenset[str] = frozenset(
    (
        "AbortMultipartUpload", "CompleteMultipartUpload", "DeleteObjects", "DeleteObject", "GetObject",
        "GetObjectAcl", "GetObjectAttributes", "GetObjectTagging", "GetObjectTorrent", "HeadObject",
        "CreateMultipartUpload", "ListParts", "PostObject", "RestoreObject", "PutObject", "PutObjectAcl",
        "PutObjectTagging", "CopyObject", "SelectObjectContent", "UploadPart", "UploadPartCopy",
        # "In addition to these operations, you can use the following bucket-level operations to
        # get CloudTrail logs as object-level Amazon S3 actions":
        "ListObjects", "ListObjectsV2", "ListObjectVersions", "HeadBucket",
    )
)

#: The levels, in the order the filter help lists them: ``s3:account``, ``s3:bucket``, ``s3:object``.
S3_LEVELS: dict[str, frozenset[str]] = {"account": ACCOUNT_LEVEL, "bucket": BUCKET_LEVEL, "object": OBJECT_LEVEL}

#: "Amazon S3 SOAP Actions Tracked by CloudTrail Logging": SOAP operation -> CloudTrail
#: ``eventName``.
SOAP_TO_CLOUDTRAIL: dict[str, str] = {
    "ListAllMyBuckets": "ListBuckets",
    "CreateBucket": "CreateBucket",
    "DeleteBucket": "DeleteBucket",
    "GetBucketAccessControlPolicy": "GetBucketAcl",
    "SetBucketAccessControlPolicy": "PutBucketAcl",
    "GetBucketLoggingStatus": "GetBucketLogging",
    "SetBucketLoggingStatus": "PutBucketLogging",
}

#: Shown with every ``DeleteObjects`` event (the guide's note on Delete Multiple Objects).
DELETE_OBJECTS_NOTE = (
    "CloudTrail does not log the key names deleted by DeleteObjects (Delete Multiple Objects); "
    "only the bucket is recorded (Amazon S3 User Guide)"
)

_LEVEL_BY_NAME: dict[str, str] = {
    name.lower(): level for level, names in S3_LEVELS.items() for name in names
}
_SOAP_BY_LOWER: dict[str, str] = {soap.lower(): name for soap, name in SOAP_TO_CLOUDTRAIL.items()}

# Every name above is a plain identifier; the SQL of `s3:` and the s3Level column inline them.
assert all(re.fullmatch(r"[A-Za-z0-9]+", name) for names in S3_LEVELS.values() for name in names)


def s3_level(event_source: str | None, event_name: str | None) -> str | None:
    """The user guide's level of an S3 event: ``"account"``, ``"bucket"`` or ``"object"``.

    ``None`` when ``event_source`` is not ``s3.amazonaws.com`` or ``event_name`` is in none of
    the guide's lists (S3 APIs newer than the guide, such as ``PutBucketOwnershipControls``).
    Both arguments compare case-insensitively, as the filter does.
    """
    if not event_source or not event_name or event_source.lower() != S3_EVENT_SOURCE:
        return None
    return _LEVEL_BY_NAME.get(event_name.lower())


def s3_event_kind(level: str | None) -> str | None:
    """``"data event"`` for object-level actions, ``"management event"`` for bucket- and
    account-level ones, ``None`` for no level ("Amazon S3 data events in CloudTrail")."""
    if level == "object":
        return "data event"
    if level in ("bucket", "account"):
        return "management event"
    return None


def soap_event_name(name: str) -> str | None:
    """The CloudTrail ``eventName`` a SOAP operation is logged as (``ListAllMyBuckets`` ->
    ``ListBuckets``), matched case-insensitively; ``None`` if ``name`` is not in the guide's SOAP
    table."""
    return _SOAP_BY_LOWER.get(name.lower())


def glacier_vault(event: dict) -> str | None:
    """The vault of an S3 Glacier call: ``requestParameters.vaultName`` of an event whose
    ``eventSource`` is ``glacier.amazonaws.com``; ``None`` otherwise or when it is missing."""
    if not isinstance(event, dict) or event.get("eventSource") != GLACIER_EVENT_SOURCE:
        return None
    params = event.get("requestParameters")
    vault = params.get("vaultName") if isinstance(params, dict) else None
    return vault if isinstance(vault, str) and vault else None


def event_summary(event: object) -> str | None:
    """One line for the detail pane's header: the S3 level and kind (``S3 object-level · data
    event``) or the Glacier vault (``S3 Glacier · vault photos``); ``None`` for other events.

    The vault name is the event's (attacker-controlled) text: callers escape it for display.
    """
    if not isinstance(event, dict):
        return None
    source, name = event.get("eventSource"), event.get("eventName")
    level = s3_level(source if isinstance(source, str) else None, name if isinstance(name, str) else None)
    if level is not None:
        return f"S3 {level}-level · {s3_event_kind(level)}"
    vault = glacier_vault(event)
    if vault is not None:
        return f"S3 Glacier · vault {vault}"
    if source == GLACIER_EVENT_SOURCE:
        return "S3 Glacier"
    return None


def deleted_keys_note(event: object) -> str | None:
    """:data:`DELETE_OBJECTS_NOTE` for an S3 ``DeleteObjects`` event, else ``None``."""
    if isinstance(event, dict) and event.get("eventSource") == S3_EVENT_SOURCE and event.get("eventName") == "DeleteObjects":
        return DELETE_OBJECTS_NOTE
    return None


def s3_level_sql(source_column: str = '"eventSource"', name_column: str = '"eventName"') -> str:
    """An SQL expression giving :func:`s3_level` of a row (``'account'``, ``'bucket'``,
    ``'object'`` or NULL). The names are this module's constants, inlined as SQL string literals
    (checked to be plain identifiers at import); the columns are the caller's (trusted) SQL."""
    whens = " ".join(
        f"WHEN {name_column} IN ({', '.join(repr(name) for name in sorted(names))}) THEN '{level}'"
        for level, names in S3_LEVELS.items()
    )
    return f"(CASE WHEN {source_column} = '{S3_EVENT_SOURCE}' THEN CASE {whens} END END)"
