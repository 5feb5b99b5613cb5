"""Ready-made filters: the S3 user guide's Athena examples and incident-response questions.

A :class:`Preset` is an ordinary filter (the grammar of :mod:`trailtui.core.filter`): the app puts
its text in the filter bar, where it can be edited, and ``trailtui query --preset NAME`` runs it.
Some presets also choose the columns shown or exported.

Sources:

* "Identifying Amazon S3 requests using CloudTrail" (Amazon S3 User Guide), section "Athena query
  examples for identifying Amazon S3 object access requests": all ``PutObject`` requests, all
  ``GetObject`` requests and all anonymous requests in a time range, printing ``eventTime,
  eventName, eventSource, sourceIpAddress, userAgent, bucketName, object, userArn``
  (:data:`ATHENA_COLUMNS`). The guide's anonymous example tests ``userIdentity.accountId`` (one
  version) or ``userIdentity.principalId`` (another) for ``ANONYMOUS_PRINCIPAL``; ``is:anonymous``
  tests both, and today's form (``accountId`` ``anonymous``: ``extract.is_anonymous``). Its ``eventTime BETWEEN a AND b`` becomes ``since:a until:b`` terms
  (:func:`preset_filter`), which the user picks.
* The incident-response presets use CloudTrail's record contents ("CloudTrail record contents",
  "CloudTrail userIdentity element", "AWS Management Console sign-in events" in the AWS CloudTrail
  User Guide: ``additionalEventData.MFAUsed``, ``responseElements.ConsoleLogin``) and the API names
  of IAM, STS, CloudTrail, GuardDuty, AWS Config, EC2, S3, Secrets Manager, Systems Manager and
  KMS. Where the grammar cannot say exactly what the question asks, the preset's ``why`` says how
  it approximates it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

#: The columns of the user guide's Athena examples, as trailtui names them (see
#: ``columns.COLUMNS``: ``bucketName`` is ``requestParameters.bucketName``, ``object``
#: ``requestParameters.key``, ``userArn`` ``userIdentity.arn``).
ATHENA_COLUMNS: tuple[str, ...] = (
    "eventTime", "eventName", "eventSource", "sourceIPAddress", "userAgent", "bucketName", "object", "userArn",
)


@dataclass(frozen=True)
class Preset:
    """One ready-made filter.

    ``name`` is what ``--preset`` takes (lowercase, dashes); ``title`` one line for lists and the
    command palette; ``why`` one line on why a responder looks at these events (and how the
    filter approximates the question where it must); ``filter`` the filter text; ``columns`` the
    columns to show and export (names of ``columns.BY_NAME``; None
    for the default); ``time_range`` True when the user is expected to add a ``since:``/``until:``
    range (the Athena examples); ``group`` ``"S3 user guide"`` or ``"incident response"``.
    """

    name: str
    title: str
    why: str
    filter: str
    columns: tuple[str, ...] | None = None
    time_range: bool = False
    group: str = "incident response"


_ACTOR_COLUMNS = ("eventTime", "actor", "eventName", "eventSource", "sourceIPAddress", "errorCode")
_DELETE_COLUMNS = ("eventTime", "actor", "eventName", "bucketName", "object", "sourceIPAddress", "errorCode")

#: Every preset: the S3 user guide's three Athena examples, then the incident-response presets.
PRESETS: tuple[Preset, ...] = (
    Preset(
        "s3-put-object",
        "S3: all PutObject requests (user guide Athena example)",
        "Who wrote which objects, from where: the S3 user guide's first Athena example; add the time range.",
        "name:PutObject",
        ATHENA_COLUMNS,
        True,
        "S3 user guide",
    ),
    Preset(
        "s3-get-object",
        "S3: all GetObject requests (user guide Athena example)",
        "Who read which objects, from where (data theft): the user guide's second Athena example; add the time range.",
        "name:GetObject",
        ATHENA_COLUMNS,
        True,
        "S3 user guide",
    ),
    Preset(
        "s3-anonymous",
        "S3: all anonymous requests (user guide Athena example)",
        "Unsigned requests (userIdentity ANONYMOUS_PRINCIPAL, or accountId anonymous as CloudTrail writes it "
        "today) reach only public buckets or objects: "
        "what the world read or wrote. The user guide's third Athena example; add the time range.",
        "is:anonymous",
        ATHENA_COLUMNS,
        True,
        "S3 user guide",
    ),
    Preset(
        "console-login-no-mfa",
        "Console sign-in without MFA",
        "A password alone opened the console (additionalEventData.MFAUsed No, sign-in succeeded). "
        "Federated sign-ins (AssumedRole) are left out: their MFA happens at the identity provider.",
        "source:signin name:ConsoleLogin responseElements.ConsoleLogin:Success additionalEventData.MFAUsed:No "
        "-type:AssumedRole",
    ),
    Preset(
        "console-login-failed",
        "Failed console sign-ins",
        "Password guessing or credential stuffing against console users (responseElements.ConsoleLogin Failure).",
        "source:signin name:ConsoleLogin responseElements.ConsoleLogin:Failure",
        _ACTOR_COLUMNS,
    ),
    Preset(
        "root-activity",
        "Root user activity",
        "The root user cannot be limited by IAM and should almost never be used; any call it makes "
        "(not AWS service events or calls a service made for it) needs an explanation.",
        "is:root -userIdentity.invokedBy:* -eventtype:AwsServiceEvent",
    ),
    Preset(
        "access-denied",
        "AccessDenied bursts, by actor",
        "Stolen credentials probing what they may do fail loudly: many denials from one actor in a short "
        "time. Press A (Actors) or Shift+F (frequency) on these to count them per actor.",
        "error:AccessDenied,AccessDeniedException,UnauthorizedOperation,Client.UnauthorizedOperation",
        _ACTOR_COLUMNS,
    ),
    Preset(
        "new-credentials",
        "New access keys, users and login profiles",
        "Persistence: an attacker mints credentials that outlive the stolen ones (CreateAccessKey, CreateUser, "
        "Create/UpdateLoginProfile).",
        "source:iam name:CreateAccessKey,CreateUser,CreateLoginProfile,UpdateLoginProfile",
    ),
    Preset(
        "privilege-escalation",
        "Policy attachment (privilege escalation)",
        "Attaching or writing policies, new default policy versions, group membership and trust-policy changes "
        "raise an identity's own privileges.",
        "source:iam name:AttachUserPolicy,AttachRolePolicy,AttachGroupPolicy,PutUserPolicy,PutRolePolicy,"
        "PutGroupPolicy,CreatePolicyVersion,SetDefaultPolicyVersion,AddUserToGroup,UpdateAssumeRolePolicy",
    ),
    Preset(
        "logging-tampering",
        "Logging tampering (CloudTrail, GuardDuty, Config, flow logs)",
        "Attackers blind defenders first: trails stopped, deleted or narrowed, GuardDuty detectors deleted or "
        "changed (UpdateDetector may only change settings: read it), Config recorders stopped, flow logs deleted.",
        "name:StopLogging,DeleteTrail,UpdateTrail,PutEventSelectors,PutInsightSelectors,DeleteEventDataStore,"
        "StopEventDataStoreIngestion,DeleteDetector,UpdateDetector,DisassociateFromMasterAccount,"
        "DisassociateFromAdministratorAccount,StopConfigurationRecorder,DeleteConfigurationRecorder,"
        "DeleteDeliveryChannel,DeleteFlowLogs",
    ),
    Preset(
        "bucket-made-public",
        "S3 bucket access opened (policy, ACL, public access block)",
        "Every change that can make a bucket or object public: bucket policies, ACLs, public access blocks "
        "removed or changed. The grammar cannot read a policy's Principal: open the event to check it.",
        "source:s3 name:PutBucketPolicy,PutBucketAcl,PutObjectAcl,DeleteBucketPublicAccessBlock,"
        "PutBucketPublicAccessBlock,DeleteAccountPublicAccessBlock,PutAccountPublicAccessBlock",
    ),
    Preset(
        "security-group-open-world",
        "Security group opened to the world (0.0.0.0/0)",
        "An ingress rule for 0.0.0.0/0 exposes the instances behind it to the internet. Approximated with the "
        'full-text phrase "0.0.0.0/0" in the request (IPv6 ::/0 is not found this way).',
        'source:ec2 name:AuthorizeSecurityGroupIngress,ModifySecurityGroupRules "0.0.0.0/0"',
    ),
    Preset(
        "secrets-read",
        "Secrets and parameters read",
        "Secrets Manager secrets and SSM parameters hold passwords and keys: reads by unusual actors are how "
        "an intrusion spreads (GetParameter* also reads plain parameters: see requestParameters.withDecryption).",
        "source:secretsmanager,ssm name:GetSecretValue,BatchGetSecretValue,GetParameter,GetParameters,"
        "GetParametersByPath",
        _ACTOR_COLUMNS,
    ),
    Preset(
        "instance-credentials-outside",
        "Instance-role credentials used from outside",
        "EC2 instance-profile sessions (role session named i-...) calling from an address that is not private "
        "or an AWS service: stolen from the metadata service? trailtui cannot know the instance's own IP, so "
        "compare the addresses (i filters to one).",
        'arn:*:assumed-role/*/i-* -ip:10.0.0.0/8 -ip:172.16.0.0/12 -ip:192.168.0.0/16 -ip:*.amazonaws.com '
        '-ip:"AWS Internal"',
        _ACTOR_COLUMNS,
    ),
    Preset(
        "mass-delete-objects",
        "Mass DeleteObject",
        "Ransom or sabotage deletes many objects fast. Press A (Actors) or Shift+F (frequency) to count per "
        "actor and bucket; DeleteObjects events do not log the deleted keys.",
        "source:s3 name:DeleteObject,DeleteObjects",
        _DELETE_COLUMNS,
    ),
    Preset(
        "caller-identity-recon",
        "Who-am-I calls (GetCallerIdentity)",
        "Usually the first call made with freshly stolen keys: it needs no permission and names the identity.",
        "source:sts name:GetCallerIdentity",
        _ACTOR_COLUMNS,
    ),
    Preset(
        "mfa-removed",
        "MFA devices deactivated or deleted",
        "Removing a user's MFA device lets a stolen password sign in alone.",
        "source:iam name:DeactivateMFADevice,DeleteVirtualMFADevice",
    ),
    Preset(
        "kms-key-deletion",
        "KMS keys disabled or scheduled for deletion",
        "Data encrypted under a deleted key is lost for good: a ransom and sabotage technique.",
        "source:kms name:ScheduleKeyDeletion,DisableKey",
    ),
)

_BY_NAME: dict[str, Preset] = {preset.name: preset for preset in PRESETS}


class UnknownPreset(KeyError):
    """``--preset`` named no preset; ``str(err)`` names it and suggests the closest names."""

    def __init__(self, name: str) -> None:
        self.name = name
        close = difflib.get_close_matches(name.lower(), _BY_NAME, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (trailtui query --list-presets lists them)"
        super().__init__(f"no preset named {name!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (case-insensitive). Raises :class:`UnknownPreset`."""
    preset = _BY_NAME.get(name.lower())
    if preset is None:
        raise UnknownPreset(name)
    return preset


def preset_filter(preset: Preset, *, since: str | None = None, until: str | None = None, extra: str = "") -> str:
    """The filter text of ``preset`` with an optional time range and more terms ANDed.

    ``since``/``until`` are values of the grammar's ``since:``/``until:`` (UTC ISO-8601 or
    relative like ``-7d``); ``extra`` is more filter text. The result is only text: compile it
    with ``compile_filter`` (which reports a bad time or term with its position).
    """
    from trailtui.core.filter.terms import and_text, field_term

    parts = [preset.filter]
    if since:
        parts.append(field_term("since", since))
    if until:
        parts.append(field_term("until", until))
    return and_text(*parts, extra)


def time_span_terms(first: str | None, last: str | None) -> str:
    """``since:FIRST until:LAST+1s`` for events from ``first`` to ``last`` inclusive (UTC
    ``YYYY-MM-DDTHH:MM:SSZ``, the index's ``eventTime`` form; ``until:`` excludes its instant,
    so one second is added). Empty when either is None or not in that form."""
    if not first or not last:
        return ""
    try:
        end = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(seconds=1)
        datetime.strptime(first, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return ""
    return f"since:{first} until:{end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
