"""Calls that start sessions or hand out keys: STS AssumeRole, IAM CreateAccessKey, ConsoleLogin.

Their ``responseElements`` carry the key a later call signs with, which is how trailtui follows
a credential chain. Per "CloudTrail record contents", "AWS Management Console sign-in events"
(AWS CloudTrail User Guide) and "Logging IAM and AWS STS API calls with AWS CloudTrail" (IAM
User Guide).
"""

from __future__ import annotations

from trailtui.core.demo.records.calls import api_call, client_host, endpoint_host
from trailtui.core.demo.records.identities import EXAMPLE_ACCOUNT_ID

#: ``additionalEventData.LoginTo`` of a console sign-in.
CONSOLE_HOME = "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB"


def assume_role_call(
    role_name: str,
    session_name: str,
    *,
    user_identity: dict,
    role_id: str,
    issued_access_key_id: str,
    expiration: str,
    event_time: str,
    event_id: str,
    source_ip_address: str,
    user_agent: str,
    session_token: str | None = None,
    duration_seconds: int | None = None,
    role_account_id: str = EXAMPLE_ACCOUNT_ID,
    request_id: str | None = None,
    aws_region: str = "us-east-1",
    recipient_account_id: str = EXAMPLE_ACCOUNT_ID,
    **fields,
) -> dict:
    """STS AssumeRole: ``responseElements.credentials.accessKeyId`` is the key the new session
    signs with (its calls show it as ``userIdentity.accessKeyId``).

    :param role_name: the role assumed, e.g. ``"DataPipeline"`` (``requestParameters.roleArn``
        ``arn:aws:iam::<role account>:role/DataPipeline``)
    :param session_name: ``requestParameters.roleSessionName``, e.g. ``"pipeline-debug"``
    :param user_identity: the caller, e.g. :func:`iam_user`, or :func:`aws_service` for a service
    :param role_id: the role's unique ID, e.g. ``"AROAQ3EGN3VQ7JD5RXP2W"`` (in ``assumedRoleUser``)
    :param issued_access_key_id: ``responseElements.credentials.accessKeyId``, e.g. ``"ASIAQ3EGL7KD2VYB6WPE"``
    :param expiration: ``credentials.expiration``, e.g. ``"Mar 14, 2026, 11:10:05 PM"`` (:func:`sts_time_text`)
    :param session_token: ``credentials.sessionToken``, e.g. ``"IQoJb3JpZ2luX2VjE..."``; None leaves it out
    :param duration_seconds: ``requestParameters.durationSeconds``, e.g. ``43200``; None leaves it out
    :param role_account_id: the role's account, e.g. ``"111122223333"``
    """
    role_arn = f"arn:aws:iam::{role_account_id}:role/{role_name}"
    params: dict = {"roleArn": role_arn, "roleSessionName": session_name}
    if duration_seconds is not None:
        params["durationSeconds"] = duration_seconds
    credentials = {"accessKeyId": issued_access_key_id}
    if session_token is not None:
        credentials["sessionToken"] = session_token
    credentials["expiration"] = expiration
    response = {
        "credentials": credentials,
        "assumedRoleUser": {
            "assumedRoleId": f"{role_id}:{session_name}",
            "arn": f"arn:aws:sts::{role_account_id}:assumed-role/{role_name}/{session_name}",
        },
    }
    return api_call(
        "AssumeRole",
        "sts.amazonaws.com",
        user_identity=user_identity,
        event_time=event_time,
        event_id=event_id,
        source_ip_address=source_ip_address,
        user_agent=user_agent,
        read_only=True,
        aws_region=aws_region,
        request_parameters=params,
        response_elements=response,
        request_id=request_id,
        resources=[{"accountId": role_account_id, "type": "AWS::IAM::Role", "ARN": role_arn}],
        recipient_account_id=recipient_account_id,
        client_provided_host_header=client_host(source_ip_address, endpoint_host("sts.amazonaws.com", aws_region)),
        **fields,
    )


def create_access_key_call(
    user_name: str,
    *,
    user_identity: dict,
    access_key_id: str,
    event_time: str,
    event_id: str,
    source_ip_address: str,
    user_agent: str,
    create_date: str | None = None,
    status: str = "Active",
    request_id: str | None = None,
    recipient_account_id: str = EXAMPLE_ACCOUNT_ID,
    **fields,
) -> dict:
    """IAM CreateAccessKey: ``responseElements.accessKey.accessKeyId`` is the new long-term key.

    :param user_name: the user the key is for, e.g. ``"backup-svc"``
    :param user_identity: the caller, e.g. :func:`assumed_role`
    :param access_key_id: the new key, e.g. ``"AKIAQ3EGJ6MW3RCX4YHN"``
    :param create_date: ``accessKey.createDate``, e.g. ``"Mar 14, 2026, 11:38:44 AM"``; None leaves it out
    :param status: ``accessKey.status``, e.g. ``"Active"``
    """
    access_key = {"userName": user_name, "accessKeyId": access_key_id, "status": status}
    if create_date is not None:
        access_key["createDate"] = create_date
    return api_call(
        "CreateAccessKey",
        "iam.amazonaws.com",
        user_identity=user_identity,
        event_time=event_time,
        event_id=event_id,
        source_ip_address=source_ip_address,
        user_agent=user_agent,
        read_only=False,
        request_parameters={"userName": user_name},
        response_elements={"accessKey": access_key},
        request_id=request_id,
        recipient_account_id=recipient_account_id,
        client_provided_host_header=client_host(source_ip_address, "iam.amazonaws.com"),
        **fields,
    )


def console_login(
    user_identity: dict,
    *,
    event_time: str,
    event_id: str,
    source_ip_address: str,
    user_agent: str,
    mfa_used: bool,
    mfa_identifier: str | None = None,
    success: bool = True,
    login_to: str = CONSOLE_HOME,
    aws_region: str = "us-east-1",
    recipient_account_id: str = EXAMPLE_ACCOUNT_ID,
    **fields,
) -> dict:
    """A ``ConsoleLogin`` (``eventType`` ``AwsConsoleSignIn``, no ``requestID``).

    :param user_identity: who signed in, e.g. :func:`root` ``(access_key_id="")`` or :func:`iam_user`
    :param mfa_used: ``additionalEventData.MFAUsed`` ``"Yes"`` / ``"No"``
    :param mfa_identifier: ``additionalEventData.MFAIdentifier``, e.g. ``"arn:aws:iam::111122223333:mfa/alice"``
    :param success: ``responseElements.ConsoleLogin`` ``"Success"``; False gives ``"Failure"`` with
        ``errorMessage`` ``"Failed authentication"``
    :param login_to: ``additionalEventData.LoginTo``, e.g. ``"https://console.aws.amazon.com/console/home"``
    """
    extra = {"LoginTo": login_to, "MobileVersion": "No", "MFAUsed": "Yes" if mfa_used else "No"}
    if mfa_identifier:
        extra["MFAIdentifier"] = mfa_identifier
    return api_call(
        "ConsoleLogin",
        "signin.amazonaws.com",
        user_identity=user_identity,
        event_time=event_time,
        event_id=event_id,
        source_ip_address=source_ip_address,
        user_agent=user_agent,
        read_only=False,
        aws_region=aws_region,
        response_elements={"ConsoleLogin": "Success" if success else "Failure"},
        error_message=None if success else "Failed authentication",
        additional_event_data=extra,
        event_type="AwsConsoleSignIn",
        recipient_account_id=recipient_account_id,
        client_provided_host_header=client_host(source_ip_address, "signin.aws.amazon.com"),
        event_version="1.09",
        **fields,
    )
