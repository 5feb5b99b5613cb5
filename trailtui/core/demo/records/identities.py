"""``userIdentity`` builders: who made a CloudTrail request, one function per identity type.

Shapes and key order follow "CloudTrail userIdentity element" (AWS CloudTrail User Guide); the
anonymous S3 caller follows "Identifying Amazon S3 requests using CloudTrail" (Amazon S3 User
Guide); the Identity Center user follows "CloudTrail use cases for IAM Identity Center" (IAM
Identity Center User Guide). Times are the text CloudTrail writes (UTC ``YYYY-MM-DDTHH:MM:SSZ``;
:func:`trailtui.core.times.event_time_text` makes it from a ``datetime``). Every function returns
a new dict, so a caller may change it. Import these from :mod:`trailtui.core.demo.records`.
"""

from __future__ import annotations

from trailtui.core.ingest.extract import ANONYMOUS_PRINCIPAL

#: The account of the AWS documentation's examples, and of the demo and the tests.
EXAMPLE_ACCOUNT_ID = "111122223333"


def _session_context(created: str, mfa_authenticated: bool, issuer: dict) -> dict:
    """``sessionContext`` of temporary credentials; ``issuer`` is ``{}`` for a console session."""
    return {
        "sessionIssuer": issuer,
        "webIdFederationData": {},
        "attributes": {"creationDate": created, "mfaAuthenticated": "true" if mfa_authenticated else "false"},
    }


def iam_user(
    user_name: str,
    *,
    principal_id: str,
    account_id: str = EXAMPLE_ACCOUNT_ID,
    access_key_id: str | None = None,
    console_session_created: str | None = None,
    mfa_authenticated: bool = False,
) -> dict:
    """An ``IAMUser`` identity: a long-term ``AKIA`` key, or a console session's ``ASIA`` key.

    :param user_name: ``userName``, e.g. ``"alice"`` (the ARN is ``arn:aws:iam::<account>:user/alice``)
    :param principal_id: ``principalId``, the user's unique ID, e.g. ``"AIDAQ3EGK2XNPV7WB4RTY"``
    :param account_id: ``accountId``, e.g. ``"111122223333"``
    :param access_key_id: ``accessKeyId``, e.g. ``"AKIAQ3EGRTWY5HPJ7KLM"``; None leaves it out
        (a console sign-in record has none)
    :param console_session_created: for a call made in the console, when the session began, e.g.
        ``"2026-03-14T08:12:37Z"``: adds ``sessionContext`` with an empty ``sessionIssuer``
    :param mfa_authenticated: ``sessionContext.attributes.mfaAuthenticated`` of that session, e.g. ``True``
    """
    identity = {
        "type": "IAMUser",
        "principalId": principal_id,
        "arn": f"arn:aws:iam::{account_id}:user/{user_name}",
        "accountId": account_id,
    }
    if access_key_id is not None:
        identity["accessKeyId"] = access_key_id
    identity["userName"] = user_name
    if console_session_created is not None:
        identity["sessionContext"] = _session_context(console_session_created, mfa_authenticated, {})
    return identity


def assumed_role(
    role_name: str,
    session_name: str,
    *,
    role_id: str,
    access_key_id: str,
    session_created: str,
    account_id: str = EXAMPLE_ACCOUNT_ID,
    mfa_authenticated: bool = False,
    ec2_role_delivery: str | None = None,
    source_identity: str | None = None,
) -> dict:
    """An ``AssumedRole`` identity: temporary credentials from AssumeRole (or an instance profile).

    :param role_name: the role, e.g. ``"DataPipeline"`` (``sessionContext.sessionIssuer.userName``)
    :param session_name: the role session name, e.g. ``"pipeline-debug"`` (last part of the ``arn``
        ``arn:aws:sts::<account>:assumed-role/DataPipeline/pipeline-debug``)
    :param role_id: the role's unique ID, e.g. ``"AROAQ3EGN3VQ7JD5RXP2W"``; ``principalId`` is
        ``<role_id>:<session_name>``
    :param access_key_id: ``accessKeyId``, e.g. ``"ASIAQ3EGL7KD2VYB6WPE"``
    :param session_created: ``sessionContext.attributes.creationDate``, e.g. ``"2026-03-14T11:10:05Z"``
    :param account_id: the role's account, e.g. ``"111122223333"``
    :param mfa_authenticated: ``sessionContext.attributes.mfaAuthenticated``, e.g. ``False``
    :param ec2_role_delivery: ``sessionContext.ec2RoleDelivery`` for instance-profile credentials,
        e.g. ``"2.0"`` (fetched with IMDSv2); None leaves it out
    :param source_identity: ``sessionContext.sourceIdentity``, e.g. ``"alice@example.com"``; None
        leaves it out
    """
    issuer = {
        "type": "Role",
        "principalId": role_id,
        "arn": f"arn:aws:iam::{account_id}:role/{role_name}",
        "accountId": account_id,
        "userName": role_name,
    }
    context = _session_context(session_created, mfa_authenticated, issuer)
    if ec2_role_delivery is not None:
        context["ec2RoleDelivery"] = ec2_role_delivery
    if source_identity is not None:
        context["sourceIdentity"] = source_identity
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session_name}",
        "arn": f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        "accountId": account_id,
        "accessKeyId": access_key_id,
        "sessionContext": context,
    }


def root(
    account_id: str = EXAMPLE_ACCOUNT_ID,
    *,
    access_key_id: str | None = None,
    console_session_created: str | None = None,
    mfa_authenticated: bool = False,
) -> dict:
    """The account's ``Root`` user.

    :param account_id: ``accountId`` and ``principalId``, e.g. ``"111122223333"``
    :param access_key_id: ``accessKeyId``, e.g. ``"ASIAQ3EGD3LQ6ZKT4NWB"`` for a console session or
        ``""`` as a console sign-in record writes it; None leaves it out
    :param console_session_created: for a call made in the console, when the session began, e.g.
        ``"2026-03-14T09:31:05Z"``: adds ``sessionContext`` with an empty ``sessionIssuer``
    :param mfa_authenticated: ``sessionContext.attributes.mfaAuthenticated`` of that session, e.g. ``False``
    """
    identity = {
        "type": "Root",
        "principalId": account_id,
        "arn": f"arn:aws:iam::{account_id}:root",
        "accountId": account_id,
    }
    if access_key_id is not None:
        identity["accessKeyId"] = access_key_id
    if console_session_created is not None:
        identity["sessionContext"] = _session_context(console_session_created, mfa_authenticated, {})
    return identity


def aws_service(invoked_by: str) -> dict:
    """An ``AWSService`` identity: a service acting with its own credentials.

    :param invoked_by: ``invokedBy``, the service's host name, e.g. ``"cloudtrail.amazonaws.com"``
    """
    return {"type": "AWSService", "invokedBy": invoked_by}


def invoked_by(identity: dict, service: str) -> dict:
    """``identity`` with ``invokedBy``: a service calling on that principal's behalf (S3 calling
    KMS for an SSE-KMS object is logged under the caller this way).

    :param identity: the principal's ``userIdentity``, e.g. from :func:`assumed_role`
    :param service: ``invokedBy``, e.g. ``"s3.amazonaws.com"``
    """
    return dict(identity, invokedBy=service)


def aws_account(account_id: str, principal_id: str) -> dict:
    """An ``AWSAccount`` identity: a principal of another account, as the resource owner's trail
    logs it.

    :param account_id: the caller's account, e.g. ``"444455556666"``
    :param principal_id: its ``principalId``, e.g. ``"AROAWX7PC5HJ2QL7VMT4N:etl-job"``
    """
    return {"type": "AWSAccount", "principalId": principal_id, "accountId": account_id}


def anonymous_caller() -> dict:
    """An unsigned (anonymous) S3 request: ``AWSAccount`` with ``accountId``
    ``ANONYMOUS_PRINCIPAL`` and an empty ``principalId``."""
    return aws_account(ANONYMOUS_PRINCIPAL, "")


def federated_user(
    federated_name: str,
    *,
    access_key_id: str,
    session_created: str,
    issuer_user_name: str,
    issuer_principal_id: str,
    account_id: str = EXAMPLE_ACCOUNT_ID,
) -> dict:
    """A ``FederatedUser`` identity: temporary credentials from GetFederationToken, issued by an
    IAM user.

    :param federated_name: the name given to GetFederationToken, e.g. ``"bob"``
        (``arn:aws:sts::<account>:federated-user/bob``, ``principalId`` ``<account>:bob``)
    :param access_key_id: ``accessKeyId``, e.g. ``"ASIAQ3EGF4DK7WM2PXQ5"``
    :param session_created: ``sessionContext.attributes.creationDate``, e.g. ``"2026-03-14T10:00:00Z"``
    :param issuer_user_name: the IAM user who called GetFederationToken, e.g. ``"alice"``
    :param issuer_principal_id: that user's unique ID, e.g. ``"AIDAQ3EGK2XNPV7WB4RTY"``
    :param account_id: ``accountId``, e.g. ``"111122223333"``
    """
    issuer = {
        "type": "IAMUser",
        "principalId": issuer_principal_id,
        "arn": f"arn:aws:iam::{account_id}:user/{issuer_user_name}",
        "accountId": account_id,
        "userName": issuer_user_name,
    }
    return {
        "type": "FederatedUser",
        "principalId": f"{account_id}:{federated_name}",
        "arn": f"arn:aws:sts::{account_id}:federated-user/{federated_name}",
        "accountId": account_id,
        "accessKeyId": access_key_id,
        "sessionContext": _session_context(session_created, False, issuer),
    }


def identity_center_user(
    user_id: str,
    *,
    identity_store_id: str,
    credential_id: str,
    account_id: str = EXAMPLE_ACCOUNT_ID,
) -> dict:
    """An ``IdentityCenterUser`` identity: a request made on behalf of an IAM Identity Center user
    (sign-in, the AWS access portal). Its calls to other services with a permission set appear as
    :func:`assumed_role` of an ``AWSReservedSSO_<set>_<suffix>`` role instead.

    :param user_id: ``onBehalfOf.userId``, e.g. ``"544894e8-80c1-707f-60e3-3ba6510dfac1"``
    :param identity_store_id: the identity store, e.g. ``"d-9067642ac7"``
        (``onBehalfOf.identityStoreArn`` is ``arn:aws:identitystore::<account>:identitystore/d-9067642ac7``)
    :param credential_id: ``credentialId``, e.g. ``"EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE"``
    :param account_id: ``accountId``, e.g. ``"111122223333"``
    """
    return {
        "type": "IdentityCenterUser",
        "accountId": account_id,
        "onBehalfOf": {
            "userId": user_id,
            "identityStoreArn": f"arn:aws:identitystore::{account_id}:identitystore/{identity_store_id}",
        },
        "credentialId": credential_id,
    }
