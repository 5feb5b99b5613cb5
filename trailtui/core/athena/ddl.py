"""The Athena table over a trail's S3 delivery: the Athena user guide's CloudTrail DDL with
partition projection on account, region and day.

Source: "Create the table for CloudTrail logs in Athena using partition projection" (Amazon
Athena User Guide, https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html):
the columns and structs, the JsonSerDe and ``com.amazon.emr.cloudtrail.CloudTrailInputFormat``
are that page's, word for word (:data:`DOCUMENTED_COLUMNS`). The page projects one account and
Region over a ``timestamp`` partition; trailtui projects the layout CloudTrail delivers to
("Finding your CloudTrail log files", AWS CloudTrail User Guide:
``AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/``) over three partitions, ``account``
and ``region`` as enums and ``day`` as a ``yyyy/MM/dd`` date ("Supported types for partition
projection"), so that one table covers an organization trail and every query names the accounts,
Regions and days it reads: Athena then lists only those folders, and bills only what they hold.
``day`` instead of the page's ``timestamp``: a reserved word in Athena's SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from datetime import datetime, timezone

from trailtui.core.sources import layout
from trailtui.core.sources.s3 import LayoutWalker, Listing, S3Options, S3SourceError, S3Url, parse_s3_url

#: The user guide page the columns and storage clauses come from.
SOURCE_PAGE = "https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html"

#: The columns of the user guide's CloudTrail table, as the page writes them.
DOCUMENTED_COLUMNS = """\
    eventversion STRING,
    useridentity STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        invokedby: STRING,
        accesskeyid: STRING,
        username: STRING,
        onbehalfof: STRUCT<
             userid: STRING,
             identitystorearn: STRING>,
        sessioncontext: STRUCT<
            attributes: STRUCT<
                mfaauthenticated: STRING,
                creationdate: STRING>,
            sessionissuer: STRUCT<
                type: STRING,
                principalid: STRING,
                arn: STRING,
                accountid: STRING,
                username: STRING>,
            ec2roledelivery:string,
            webidfederationdata: STRUCT<
                federatedprovider: STRING,
                attributes: map<string,string>>
        >
    >,
    eventtime STRING,
    eventsource STRING,
    eventname STRING,
    awsregion STRING,
    sourceipaddress STRING,
    useragent STRING,
    errorcode STRING,
    errormessage STRING,
    requestparameters STRING,
    responseelements STRING,
    additionaleventdata STRING,
    requestid STRING,
    eventid STRING,
    readonly STRING,
    resources ARRAY<STRUCT<
        arn: STRING,
        accountid: STRING,
        type: STRING>>,
    eventtype STRING,
    apiversion STRING,
    recipientaccountid STRING,
    serviceeventdetails STRING,
    sharedeventid STRING,
    vpcendpointid STRING,
    vpcendpointaccountid STRING,
    eventcategory STRING,
    addendum STRUCT<
      reason:STRING,
      updatedfields:STRING,
      originalrequestid:STRING,
      originaleventid:STRING>,
    sessioncredentialfromconsole STRING,
    edgedevicedetails STRING,
    tlsdetails STRUCT<
      tlsversion:STRING,
      ciphersuite:STRING,
      clientprovidedhostheader:STRING>"""

#: The page's storage clauses.
STORAGE = """\
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'"""

#: The partition columns, in the layout's order: ``AWSLogs/[o-ORG/]{account}/CloudTrail/{region}/{day}``.
PARTITIONS: tuple[str, ...] = ("account", "region", "day")
#: The default table name, and what a table name may be (Athena: lower-case letters, digits, _).
DEFAULT_TABLE = "cloudtrail_logs"
TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,254}\Z")
#: The first day the ``day`` projection covers by default (the user guide's example range).
DEFAULT_FIRST_DAY = "2020/01/01"
_DAY = re.compile(r"\d{4}/\d{2}/\d{2}\Z")


class DdlError(ValueError):
    """What ``athena ddl`` cannot make a table of; ``str(err)`` says what and why."""


@dataclass(frozen=True)
class TableLocation:
    """Where a trail delivers: ``url`` the ``AWSLogs/`` folder or an organization's folder in it
    (``s3://bucket/[prefix/]AWSLogs/[o-ORG/]``), ``organization`` its ID or None."""

    url: S3Url
    organization: str | None

    @property
    def location(self) -> str:
        """The table's ``LOCATION``: ``s3://bucket/prefix`` ending in ``/``."""
        return str(self.url)

    def template(self) -> str:
        """``storage.location.template``: the partitions in the layout's folders."""
        return f"{self.location}${{account}}/{layout.LOG_FOLDER}/${{region}}/${{day}}"


def table_location(text: str) -> TableLocation:
    """The :class:`TableLocation` of an ``s3://`` URL: the ``AWSLogs/`` folder, an organization's
    folder in it, or the bucket (or a trail's prefix) above ``AWSLogs/`` (which is then added).
    Raises :class:`DdlError` for a URL deeper in the layout (an account, Region or day folder:
    those are the partitions; name them with ``--accounts``/``--regions``) or outside it."""
    try:
        url = parse_s3_url(text)
    except S3SourceError as err:
        raise DdlError(str(err)) from None
    position = layout.position_of(url.prefix)
    if position.level == "outside" and position.conforms:
        url = S3Url(url.bucket, layout.normalise_prefix(url.prefix) + layout.AWSLOGS + "/")
        position = layout.position_of(url.prefix)
    if position.level not in ("awslogs", "organization") or not position.conforms:
        raise DdlError(
            f"{text}: a table covers the AWSLogs/ folder or an organization's folder in it "
            f"(s3://BUCKET/AWSLogs/ or s3://BUCKET/AWSLogs/o-ORG/); accounts, Regions and days are its "
            "partitions: name them with --accounts and --regions"
        )
    return TableLocation(S3Url(url.bucket, layout.normalise_prefix(url.prefix)), position.organization)


def discover_partitions(client, where: TableLocation, options: S3Options) -> tuple[list[str], list[str], Listing]:
    """The accounts and Regions delivered under ``where``, found by listing the layout's folders
    one level at a time (``S3.ListObjectsV2`` with a delimiter: the account folders, then each
    account's ``CloudTrail/`` Regions; no log object is listed), kept to ``options.accounts`` /
    ``options.regions`` when given. Returns ``(accounts, regions, listing)``, sorted; the
    listing counts the requests and holds the prefixes that could not be listed. Raises
    ``S3SourceError`` when S3 cannot be used at all (no credentials)."""
    listing = Listing()
    walker = LayoutWalker(client, where.url.bucket, options, datetime.now(timezone.utc).date(), listing, to_regions=True)
    accounts, regions = set(), set()
    for prefix, _ in walker.walk(layout.position_of(where.url.prefix)):
        position = layout.position_of(prefix)
        if position.account and position.region:
            accounts.add(position.account)
            regions.add(position.region)
    return sorted(accounts), sorted(regions), listing


def check_names(table: str, accounts: list[str], regions: list[str], *, needed: str) -> None:
    """Raise :class:`DdlError` unless ``table`` is an Athena table name and ``accounts`` and
    ``regions`` are non-empty lists of AWS account IDs and Regions (the layout's forms);
    ``needed`` says why an empty list cannot do (``{kind}`` is filled in)."""
    if not TABLE_NAME.match(table):
        raise DdlError(f"table name {table!r}: lower-case letters, digits and _ (Athena's rule), not starting with a digit")
    for kind, values, pattern in (("account", accounts, layout.ACCOUNT_ID), ("Region", regions, layout.REGION)):
        if not values:
            raise DdlError(f"no {kind}: {needed.format(kind=kind)} (--{kind.lower()}s)")
        for value in values:
            if not pattern.match(value):
                raise DdlError(f"{value!r} is not an AWS {kind}")


def _literal(text: str) -> str:
    """A Hive string literal: Hive's lexer reads ``\\'`` as a quote inside one (two quotes
    side by side are two literals, joined), and ``\\\\`` as a backslash."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_table(
    where: TableLocation,
    *,
    accounts: list[str],
    regions: list[str],
    table: str = DEFAULT_TABLE,
    first_day: str = DEFAULT_FIRST_DAY,
) -> str:
    """The ``CREATE EXTERNAL TABLE`` statement (text ending in a newline) of the CloudTrail table
    over ``where``, projecting ``accounts`` (12-digit IDs) and ``regions`` (``us-east-1``...) as
    enums and the days from ``first_day`` (``YYYY/MM/DD``) to today. Raises :class:`DdlError`
    for an empty or malformed account, Region, table name or day."""
    check_names(table, accounts, regions, needed="partition projection needs every {kind} the table covers")
    if not _DAY.match(first_day):
        raise DdlError(f"first day {first_day!r}: YYYY/MM/DD")
    properties = [
        ("projection.enabled", "true"),
        ("projection.account.type", "enum"),
        ("projection.account.values", ",".join(sorted(set(accounts)))),
        ("projection.region.type", "enum"),
        ("projection.region.values", ",".join(sorted(set(regions)))),
        ("projection.day.type", "date"),
        ("projection.day.format", "yyyy/MM/dd"),
        ("projection.day.range", f"{first_day},NOW"),
        ("projection.day.interval", "1"),
        ("projection.day.interval.unit", "DAYS"),
        ("storage.location.template", where.template()),
    ]
    partitions = ", ".join(f"`{name}` string" for name in PARTITIONS)
    # No comment lines in the statement: Athena's DDL runs them as part of it (said on stderr).
    lines = [
        f"CREATE EXTERNAL TABLE `{table}` (",
        DOCUMENTED_COLUMNS,
        ")",
        f"PARTITIONED BY ({partitions})",
        STORAGE,
        f"LOCATION {_literal(where.location)}",
        "TBLPROPERTIES (",
        ",\n".join(f"  {_literal(key)}={_literal(value)}" for key, value in properties),
        ")",
    ]
    return "\n".join(lines) + "\n"
