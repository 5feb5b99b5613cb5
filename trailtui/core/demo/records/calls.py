"""The generic CloudTrail record of an API call, and the texts records carry (times, hosts, errors).

Fields and key order follow "CloudTrail record contents" (AWS CloudTrail User Guide);
AccessDenied messages follow "Troubleshoot access denied error messages" (IAM User Guide).
``eventTime`` and ``creationDate`` are UTC ``YYYY-MM-DDTHH:MM:SSZ`` text
(:func:`trailtui.core.times.event_time_text`); STS and IAM dates in ``responseElements`` are
``Mar 14, 2026, 11:10:05 PM`` (:func:`sts_time_text`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from trailtui.core.demo.records.identities import EXAMPLE_ACCOUNT_ID


def sts_time_text(moment: datetime) -> str:
    """A moment as STS and IAM write dates in ``responseElements`` (``credentials.expiration``,
    ``accessKey.createDate``): ``datetime(2026, 3, 14, 23, 10, 5, tzinfo=timezone.utc)`` →
    ``Mar 14, 2026, 11:10:05 PM`` (UTC). Raises ValueError for a naive ``datetime``."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: give it a tzinfo (CloudTrail times are UTC)")
    moment = moment.astimezone(timezone.utc)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M:%S} {half}"


def endpoint_host(event_source: str, aws_region: str) -> str:
    """The host a client calls for ``event_source`` in ``aws_region`` (``tlsDetails.clientProvidedHostHeader``):
    ``("sts.amazonaws.com", "us-east-1")`` → ``sts.us-east-1.amazonaws.com``; IAM and sign-in are global
    (``iam.amazonaws.com``, ``signin.aws.amazon.com``)."""
    service = event_source.split(".", 1)[0]
    if service == "iam":
        return "iam.amazonaws.com"
    if service == "signin":
        return "signin.aws.amazon.com"
    return f"{service}.{aws_region}.amazonaws.com"


def client_host(source_ip_address: str, host: str) -> str | None:
    """``host`` for ``tlsDetails.clientProvidedHostHeader``, or None when ``source_ip_address`` is a
    service (``"s3.amazonaws.com"``): a service calling on someone's behalf has no TLS details."""
    return None if source_ip_address.endswith(".amazonaws.com") else host


def access_denied_message(
    principal_arn: str, action: str, resource: str | None = None, *, explicit_deny: bool = False
) -> str:
    """The ``errorMessage`` of an ``AccessDenied``, as IAM words it.

    :param principal_arn: the caller, e.g. ``"arn:aws:iam::111122223333:user/ci-deploy"``
    :param action: the IAM action, e.g. ``"s3:GetObject"``
    :param resource: the resource as the message names it, e.g. ``'"arn:aws:s3:::finance-reports"'``
        (S3 quotes it, IAM does not); None for an action on no resource
    :param explicit_deny: True for "with an explicit deny in an identity-based policy", False for
        "because no identity-based policy allows the <action> action"
    """
    on = f" on resource: {resource}" if resource is not None else ""
    why = "with an explicit deny in an identity-based policy" if explicit_deny else (
        f"because no identity-based policy allows the {action} action"
    )
    return f"User: {principal_arn} is not authorized to perform: {action}{on} {why}"


def api_call(
    event_name: str,
    event_source: str,
    *,
    user_identity: dict,
    event_time: str,
    event_id: str,
    source_ip_address: str,
    user_agent: str,
    read_only: bool,
    aws_region: str = "us-east-1",
    request_parameters: dict | None = None,
    response_elements: dict | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    additional_event_data: dict | None = None,
    request_id: str | None = None,
    resources: list | None = None,
    event_type: str = "AwsApiCall",
    management_event: bool = True,
    recipient_account_id: str = EXAMPLE_ACCOUNT_ID,
    shared_event_id: str | None = None,
    vpc_endpoint_id: str | None = None,
    client_provided_host_header: str | None = None,
    session_credential_from_console: bool = False,
    event_version: str = "1.08",
    **fields,
) -> dict:
    """One CloudTrail record of an API call. Optional fields given as None are left out, except
    ``requestParameters`` and ``responseElements``, which CloudTrail always writes (``null`` if empty).

    :param event_name: ``eventName``, e.g. ``"GetCallerIdentity"``
    :param event_source: ``eventSource``, e.g. ``"sts.amazonaws.com"``
    :param user_identity: ``userIdentity``, e.g. :func:`iam_user` ``("alice", principal_id="AIDA...")``
    :param event_time: ``eventTime``, e.g. ``"2026-03-14T10:00:00Z"``
    :param event_id: ``eventID``, e.g. ``"6f1c3c8e-2b8a-4f0e-9d3a-7c1e5b2a9d40"``
    :param source_ip_address: ``sourceIPAddress``, e.g. ``"198.51.100.23"`` or ``"s3.amazonaws.com"``
    :param user_agent: ``userAgent``, e.g. ``"aws-cli/2.15.30 Python/3.11.8"``
    :param read_only: ``readOnly``, e.g. ``True`` for a Get/List/Describe call
    :param aws_region: ``awsRegion``, e.g. ``"eu-west-1"``
    :param request_parameters: ``requestParameters``, e.g. ``{"userName": "backup-svc"}``
    :param response_elements: ``responseElements``, e.g. ``{"ConsoleLogin": "Success"}``
    :param error_code: ``errorCode``, e.g. ``"AccessDenied"``
    :param error_message: ``errorMessage``, e.g. from :func:`access_denied_message`
    :param additional_event_data: ``additionalEventData``, e.g. ``{"MFAUsed": "No"}``
    :param request_id: ``requestID``, e.g. ``"3d9a6b0e-..."`` (console sign-ins have none)
    :param resources: ``resources``, e.g. ``[{"accountId": "111122223333", "type": "AWS::IAM::Role", "ARN": "..."}]``
    :param event_type: ``eventType``, e.g. ``"AwsConsoleSignIn"``
    :param management_event: ``managementEvent``; False makes ``eventCategory`` ``"Data"``
    :param recipient_account_id: ``recipientAccountId`` (and ``vpcEndpointAccountId``), e.g. ``"111122223333"``
    :param shared_event_id: ``sharedEventID`` of a cross-account call, e.g. ``"0b6f..."``
    :param vpc_endpoint_id: ``vpcEndpointId``, e.g. ``"vpce-0a1b2c3d4e5f60718"``
    :param client_provided_host_header: adds ``tlsDetails`` (TLSv1.3) with this host, e.g. from
        :func:`endpoint_host`; None leaves ``tlsDetails`` out
    :param session_credential_from_console: ``sessionCredentialFromConsole: "true"`` when True
    :param event_version: ``eventVersion``, e.g. ``"1.09"``
    :param fields: any top-level fields, set last as given, e.g. ``errorCode="AccessDenied"``
    """
    record: dict = {
        "eventVersion": event_version,
        "userIdentity": user_identity,
        "eventTime": event_time,
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": aws_region,
        "sourceIPAddress": source_ip_address,
        "userAgent": user_agent,
    }
    if error_code is not None:
        record["errorCode"] = error_code
    if error_message is not None:
        record["errorMessage"] = error_message
    record["requestParameters"] = request_parameters
    record["responseElements"] = response_elements
    if additional_event_data is not None:
        record["additionalEventData"] = additional_event_data
    if request_id is not None:
        record["requestID"] = request_id
    record["eventID"] = event_id
    record["readOnly"] = read_only
    if resources is not None:
        record["resources"] = resources
    record["eventType"] = event_type
    record["managementEvent"] = management_event
    record["recipientAccountId"] = recipient_account_id
    if shared_event_id is not None:
        record["sharedEventID"] = shared_event_id
    if vpc_endpoint_id is not None:
        record["vpcEndpointId"] = vpc_endpoint_id
        record["vpcEndpointAccountId"] = recipient_account_id
    record["eventCategory"] = "Management" if management_event else "Data"
    if client_provided_host_header is not None:
        record["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": client_provided_host_header,
        }
    if session_credential_from_console:
        record["sessionCredentialFromConsole"] = "true"
    record.update(fields)
    return record
