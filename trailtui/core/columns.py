"""Every column the event list, the CSV export and the CLI table can show, declared once.

A :class:`Column` says what a column is called (``name``: what presets, the config file and
code use; ``title``: CloudTrail's dotted field name, shown in headers), how it is read from the
index (``sql``, an expression over ``events``), how wide it starts in the list and how wide it
may grow when fitted to its values, which grammar field selects one of its values (drill-down,
pivots, search), which CloudTrail field it holds and whether the frequency table counts it.
Everything else (the list's columns, the sort keys, the CSV header, the column picker, the help
screen, the filter grammar's CloudTrail field names, the frequency table's fields, the index's
``events_view``) is built from :data:`COLUMNS`; where each record column is stored is
:mod:`trailtui.core.store.schema`'s (``column_sql``).

Field names and meanings are CloudTrail's ("CloudTrail record contents", AWS CloudTrail User
Guide); ``bucketName``, ``object`` and ``userArn`` are the column names of the S3 user guide's
Athena examples ("Identifying Amazon S3 requests using CloudTrail"), ``s3Level`` the guide's
account / bucket / object level of an S3 call (see :mod:`trailtui.core.s3`).
"""

from __future__ import annotations

from dataclasses import dataclass

from trailtui.core.s3 import s3_level_sql
from trailtui.core.store.schema import column_sql
from trailtui.core.times import event_time_text_sql


@dataclass(frozen=True)
class Column:
    """One column.

    ``name``: the key used in code, presets and the config file (an ``events`` column name such
    as ``userIdentity_arn``, or a derived name such as ``s3Level``); ``title``: the header
    (``userIdentity.arn``); ``sql``: its SELECT expression over ``events`` (trusted text, never
    from user input); ``width`` / ``max_width``: cells it starts at and at most grows to when
    fitted to its values (a user can still widen it further); ``kind``: ``"time"`` (UTC
    ISO-8601 text), ``"service"`` (an ``eventSource``, shown without ``.amazonaws.com``),
    ``"flag"`` (0/1 shown as false/true) or ``"text"``; ``field``: the filter grammar field whose
    term selects one value (``eventName`` → ``eventName:GetObject``), or None; ``description``:
    one line for the column picker and help; ``sort_index``: the SQLite index that serves an
    ``ORDER BY`` on this column (then ``eventTime``), or None when sorting by it lists the
    matches once (see ``query.EventQuery``); ``reads``: the record column
    (``schema.RECORD_COLUMNS``) whose value it shows as is, or None for a derived one (``s3Level``);
    ``cloudtrail``: the CloudTrail record field it holds, under which name the filter grammar
    also accepts it (``userIdentity.arn:...``; None for derived and alias columns), and
    ``grammar`` how the grammar reads values of that field (``filter.compile._VALUE_COMPILERS``:
    ``text``, ``eventname``, ``source``, ``ip``, ``flag``, ``category``, ``time``);
    ``facet``: True when the frequency table counts it (``facets.FACET_FIELDS``).
    """

    name: str
    title: str
    sql: str
    width: int
    max_width: int
    description: str
    kind: str = "text"
    field: str | None = None
    sort_index: str | None = None
    reads: str | None = None
    cloudtrail: str | None = None
    grammar: str = "text"
    facet: bool = False

    @property
    def select_sql(self) -> str:
        """``<sql> AS "<name>"`` (or just the quoted column when ``sql`` is the column itself)."""
        quoted = f'"{self.name}"'
        return quoted if self.sql == quoted else f'{self.sql} AS "{self.name}"'


def _column(name: str, title: str, width: int, max_width: int, description: str, **kw) -> Column:
    return Column(name, title, column_sql(name), width, max_width, description, reads=name, **kw)


def _record_field(name: str, title: str, width: int, max_width: int, description: str, **kw) -> Column:
    """A column holding the CloudTrail record field ``title`` (or ``kw["cloudtrail"]``), which
    the filter grammar accepts under that name."""
    kw.setdefault("cloudtrail", title)
    kw.setdefault("field", kw["cloudtrail"])
    return _column(name, title, width, max_width, description, **kw)


#: Every column, in the order the column picker lists them. The first ones are the event
#: list's default columns (:data:`DEFAULT_LIST_COLUMNS`).
COLUMNS: tuple[Column, ...] = (
    # Stored as epoch seconds (core.times), shown as CloudTrail's text.
    Column("eventTime", "eventTime", event_time_text_sql('"eventTime"'), 19, 19, "when the call was made (UTC)",
           kind="time", sort_index="events_eventTime", reads="eventTime", cloudtrail="eventTime", grammar="time"),
    _record_field("eventName", "eventName", 14, 32, "the API call (GetObject, AssumeRole, ...)",
                  sort_index="events_eventName", grammar="eventname", facet=True),
    _record_field("errorCode", "errorCode", 12, 28, "the error the call failed with (empty when it succeeded)",
                  sort_index="events_errorCode", facet=True),
    _column("actor", "actor", 12, 32, "who: the user, role session, service or anonymous caller", field="actor",
            sort_index="events_actor", facet=True),
    _record_field("sourceIPAddress", "sourceIPAddress", 15, 39, "the caller's IP address (or the AWS service's host name)",
                  sort_index="events_sourceIPAddress", grammar="ip", facet=True),
    _column("resource", "resource", 16, 80, "what it acted on: S3 bucket/key, Glacier vault, else the first ARN",
            field="resource", facet=True),
    _record_field("eventSource", "eventSource", 6, 24, "the service (s3, iam, sts, ...)", kind="service",
                  sort_index="events_eventSource", grammar="source", facet=True),
    _record_field("awsRegion", "awsRegion", 9, 16, "the region the call went to", facet=True),
    _record_field("userAgent", "userAgent", 16, 80, "the client that made the call", facet=True),
    _record_field("recipientAccountId", "recipientAccountId", 12, 12, "the account that received the call", facet=True),
    _record_field("userIdentity_type", "userIdentity.type", 8, 16, "IAMUser, AssumedRole, Root, AWSService, ...",
                  facet=True),
    _record_field("userIdentity_arn", "userIdentity.arn", 24, 100, "the caller's ARN", facet=True),
    _record_field("userIdentity_accountId", "userIdentity.accountId", 12, 19, "the caller's account", facet=True),
    _record_field("userIdentity_accessKeyId", "userIdentity.accessKeyId", 20, 20, "the access key that signed the call",
                  sort_index="events_userIdentity_accessKeyId", facet=True),
    _record_field("userIdentity_userName", "userIdentity.userName", 12, 40, "the IAM user's name"),
    _record_field("userIdentity_principalId", "userIdentity.principalId", 20, 60, "the caller's principal id"),
    _record_field("userIdentity_invokedBy", "userIdentity.invokedBy", 16, 40,
                  "the AWS service that made the call for the caller"),
    _record_field("sessionIssuer_arn", "sessionIssuer.arn", 24, 100, "the role (or user) behind the session",
                  cloudtrail="userIdentity.sessionContext.sessionIssuer.arn"),
    _record_field("sessionIssuer_type", "sessionIssuer.type", 8, 16, "what issued the session: Role, IAMUser, Root",
                  cloudtrail="userIdentity.sessionContext.sessionIssuer.type"),
    _column("principalKey", "principal", 24, 100, "the principal: user or root ARN, role behind a session, service",
            field="principal"),
    _column("sessionKey", "session", 24, 120, "the session: ARN @ sessionContext.attributes.creationDate",
            field="session"),
    _column("issuedAccessKeyId", "issuedAccessKeyId", 20, 20, "the access key this call handed out (AssumeRole, ...)",
            field="issued"),
    _record_field("errorMessage", "errorMessage", 24, 200, "the error's message"),
    _record_field("readOnly", "readOnly", 8, 8, "true for a call that only reads", kind="flag", grammar="flag"),
    _record_field("managementEvent", "managementEvent", 8, 8, "true for a management event (false: data, Insights)",
                  kind="flag", grammar="flag"),
    _record_field("eventType", "eventType", 10, 24, "AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, ...", facet=True),
    _record_field("eventCategory", "eventCategory", 10, 10, "Management, Data or Insight", grammar="category"),
    _record_field("requestParameters_bucketName", "requestParameters.bucketName", 16, 63, "the S3 bucket",
                  sort_index="events_bucket", facet=True),
    _record_field("requestParameters_key", "requestParameters.key", 24, 1024, "the S3 object key", facet=True),
    _record_field("requestParameters_vaultName", "requestParameters.vaultName", 16, 64, "the S3 Glacier vault"),
    _record_field("eventID", "eventID", 36, 36, "the event's unique id"),
    _record_field("additionalEventData_SignatureVersion", "additionalEventData.SignatureVersion", 6, 8,
                  "the request's signature version (SigV4, SigV2: the S3 user guide finds old clients by it)"),
    _record_field("additionalEventData_aclRequired", "additionalEventData.aclRequired", 3, 3,
                  "Yes when only an ACL allowed the S3 request (the S3 user guide, before disabling ACLs)"),
    _record_field("tlsDetails_tlsVersion", "tlsDetails.tlsVersion", 7, 8, "the request's TLS version (TLSv1.2, ...)"),
    _record_field("additionalEventData_MFAUsed", "additionalEventData.MFAUsed", 3, 3,
                  "a console sign-in used MFA: Yes or No"),
    _record_field("responseElements_ConsoleLogin", "responseElements.ConsoleLogin", 7, 7,
                  "a console sign-in's result: Success or Failure"),
    Column("s3Level", "s3Level", s3_level_sql(), 7, 7,
           "the S3 user guide's level of an S3 call: account, bucket or object"),
    Column("bucketName", "bucketName", column_sql("requestParameters_bucketName"), 16, 63,
           "requestParameters.bucketName, as the S3 user guide's Athena examples name it",
           field="requestParameters.bucketName", sort_index="events_bucket", reads="requestParameters_bucketName"),
    Column("object", "object", column_sql("requestParameters_key"), 24, 1024,
           "requestParameters.key, as the S3 user guide's Athena examples name it", field="requestParameters.key",
           reads="requestParameters_key"),
    Column("userArn", "userArn", column_sql("userIdentity_arn"), 24, 100,
           "userIdentity.arn, as the S3 user guide's Athena examples name it", field="userIdentity.arn",
           reads="userIdentity_arn"),
)

#: Columns by name.
BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}

#: The event list's columns unless a preset, the palette or the config file says otherwise.
DEFAULT_LIST_COLUMNS: tuple[str, ...] = (
    "eventTime", "eventName", "errorCode", "actor", "sourceIPAddress", "resource", "eventSource", "awsRegion",
    "userAgent", "recipientAccountId",
)

#: The palette's "S3 columns": level, bucket and key of each S3 call.
S3_LIST_COLUMNS: tuple[str, ...] = (
    "eventTime", "eventName", "s3Level", "actor", "sourceIPAddress", "bucketName", "object", "errorCode",
)

#: Columns of a CSV export when no preset chooses them.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "eventTime", "eventName", "eventSource", "actor", "sourceIPAddress", "awsRegion", "resource",
    "errorCode", "userIdentity_arn", "userAgent", "recipientAccountId", "eventID",
)


#: Narrowest and widest a list column can be made (cells), by the keys or the config file.
COLUMN_WIDTH_RANGE: tuple[int, int] = (4, 1024)


class UnknownColumn(ValueError):
    """A column name that is not in :data:`COLUMNS` (from a preset, the config file or code)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown column {name!r}")
        self.name = name


def column(name: str) -> Column:
    """The :class:`Column` called ``name``. Raises :class:`UnknownColumn` for any other name."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownColumn(name) from None


def is_known_column(name: str) -> bool:
    """True if ``name`` is a column of :data:`COLUMNS`."""
    return name in BY_NAME
