"""The demo's setting: its account, places, people, keys and clock (who and where; the story
in :mod:`trailtui.core.demo.story` says what happens when).

Addresses are documentation ranges (RFC 5737, RFC 3849). Key and principal IDs are made up in
the real shapes ("IAM identifiers", IAM User Guide, unique ID prefixes): ``AKIA`` long-term and ``ASIA``
temporary access keys, ``AIDA`` users, ``AROA`` roles; those of one account share their first
eight characters, as real ones do. Times in the story are whole seconds after midnight UTC of
:data:`DEMO_DAY`; :func:`at` writes them, :func:`event_time` and :func:`sts_time` turn them into
the text records carry.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from trailtui.core.demo import records
from trailtui.core.times import event_time_text

ACCOUNT_ID = "111122223333"
PARTNER_ACCOUNT_ID = "444455556666"
HOME_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
#: Midnight (UTC) of the demo's one day; times below are seconds after it.
DEMO_DAY = datetime(2026, 3, 14, tzinfo=timezone.utc)
TRAIL_NAME = "management-events"
TRAIL_ARN = f"arn:aws:cloudtrail:{HOME_REGION}:{ACCOUNT_ID}:trail/{TRAIL_NAME}"
LOG_BUCKET = f"aws-cloudtrail-logs-{ACCOUNT_ID}-7d3f9a21"

APP_BUCKET = "demo-app-uploads"
FINANCE_BUCKET = "finance-reports"
PUBLIC_BUCKET = "demo-public-assets"
PARTNER_BUCKET = "partner-exchange"
VAULT = "finance-archive"

# IPv4 documentation ranges (RFC 5737) and the IPv6 one (RFC 3849), split by who uses them:
# 192.0.2.0/24 is the company's own egress, 198.51.100.0/24 the attacker, 203.0.113.0/24 the
# rest of the internet.
ATTACKER_IP = "198.51.100.23"
OFFICE_IP = "192.0.2.44"
OFFICE_IPV6 = "2001:db8:4f1a:12::25"
CI_RUNNER_IP = "192.0.2.10"
NAT_GATEWAY_IP = "192.0.2.150"
PARTNER_IP = "203.0.113.40"
APP_PRIVATE_IP = "10.0.12.34"
APP_VPC_ENDPOINT = "vpce-0a1b2c3d4e5f60718"
VISITOR_IPS = ("203.0.113.7", "203.0.113.58", "203.0.113.91", "203.0.113.133", "203.0.113.201")
VISITOR_IPV6 = ("2001:db8:9c0:1::42", "2001:db8:77e::1b")

# Access keys of this account share their first eight characters, as real key IDs do.
ALICE_KEY = "AKIAQ3EGRTWY5HPJ7KLM"
CI_DEPLOY_KEY = "AKIAQ3EGVN4XZ2D6BQ5T"
BACKUP_SVC_KEY = "AKIAQ3EGJ6MW3RCX4YHN"
PIPELINE_SESSION_KEY = "ASIAQ3EGL7KD2VYB6WPE"
ALICE_CONSOLE_KEY = "ASIAQ3EGM5WB2YQX7HTC"
ROOT_CONSOLE_KEY = "ASIAQ3EGD3LQ6ZKT4NWB"
PARTNER_SESSION_KEY = "ASIAWX7PQ2NL5KD3TRBE"

ALICE_ID = "AIDAQ3EGK2XNPV7WB4RTY"
CI_DEPLOY_ID = "AIDAQ3EGT5MZ3QH6YKW2P"
BACKUP_SVC_ID = "AIDAQ3EGW7RC2LJ5XNB4D"
APP_ROLE_ID = "AROAQ3EGB6TX4WZ2MHK7Q"
PIPELINE_ROLE_ID = "AROAQ3EGN3VQ7JD5RXP2W"
INVENTORY_ROLE_ID = "AROAQ3EGH2YL6KB4TQC7M"
REPLICATION_ROLE_ID = "AROAQ3EGZ4PD7WN3XKF6R"
PARTNER_ROLE_ID = "AROAWX7PC5HJ2QL7VMT4N"

APP_INSTANCE = "i-0abc12345def67890"
APP_KMS_KEY = f"arn:aws:kms:{HOME_REGION}:{ACCOUNT_ID}:key/5f0c2e8a-3b1d-4c7e-9a64-2d8f1b7e0c53"
FINANCE_KMS_KEY = f"arn:aws:kms:{HOME_REGION}:{ACCOUNT_ID}:key/b7e41d09-8c2a-4f35-a1d6-6e9c03f2b418"

#: Seconds after midnight: StopLogging (the last event before the gap) and StartLogging.
STOP_LOGGING = 11 * 3600 + 44 * 60 + 51
START_LOGGING = 12 * 3600 + 58 * 60 + 40
#: Seconds after midnight: events fall in [08:00:00, 14:00:00).
WINDOW = (8 * 3600, 14 * 3600)

# userAgent of each caller (as their SDK, CLI or browser writes it).
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)
ATTACKER_CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/{}"
CI_CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0-1057-aws exe/x86_64.ubuntu.22 prompt/off command/{}"
ALICE_CLI = "aws-cli/2.17.4 Python/3.12.4 Darwin/23.5.0 exe/arm64 prompt/off command/{}"
APP_SDK = (
    "aws-sdk-java/2.25.60 Linux/6.1.92-99.174.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.3+9-LTS "
    "Java/21.0.3 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/standard"
)
LAMBDA_SDK = (
    "Boto3/1.34.101 md/Botocore#1.34.101 ua/2.0 os/linux#5.10.216-225.855.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy "
    "Botocore/1.34.101"
)
PARTNER_SDK = "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1"
S3_CONSOLE = (
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]"
)
VISITOR_AGENTS = (
    BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "curl/8.5.0",
)


def at(hours: int, minutes: int, seconds: int = 0) -> int:
    """Seconds after midnight of :data:`DEMO_DAY`: ``at(11, 10, 5)`` → ``40205``."""
    return hours * 3600 + minutes * 60 + seconds


def moment(second: int) -> datetime:
    """``second`` after midnight of :data:`DEMO_DAY` as a UTC ``datetime``."""
    return DEMO_DAY + timedelta(seconds=second)


def event_time(second: int) -> str:
    """``second`` after midnight as ``eventTime`` text: ``event_time(at(11, 10, 5))`` → ``2026-03-14T11:10:05Z``."""
    return event_time_text(moment(second))


def sts_time(second: int) -> str:
    """``second`` after midnight as STS and IAM write dates: ``Mar 14, 2026, 11:10:05 AM``."""
    return records.sts_time_text(moment(second))


def logging_stopped(second: int) -> bool:
    """True while the trail is stopped (nothing is logged between StopLogging and StartLogging)."""
    return STOP_LOGGING < second < START_LOGGING


# ---- the cast's identities (seconds after midnight in, records' identity builders out) ----------


def user(name: str, principal_id: str, key: str | None = None, console_since: int | None = None) -> dict:
    """IAM user ``name`` of the demo account, signing with ``key``; with ``console_since`` (the
    second the console sign-in happened, with MFA) a console session."""
    since = None if console_since is None else event_time(console_since)
    return records.iam_user(name, principal_id=principal_id, account_id=ACCOUNT_ID, access_key_id=key,
                            console_session_created=since, mfa_authenticated=True)  # fmt: skip


def role_session(
    role: str, role_id: str, session: str, key: str, since: int, *, account: str = ACCOUNT_ID, ec2: bool = False
) -> dict:
    """A session of ``role`` begun at ``since`` signing with ``key``; ``ec2``: instance-profile
    credentials fetched with IMDSv2."""
    return records.assumed_role(role, session, role_id=role_id, access_key_id=key, session_created=event_time(since),
                                account_id=account, ec2_role_delivery="2.0" if ec2 else None)  # fmt: skip


def root_user(console_since: int | None) -> dict:
    """The demo account's root user: as a console sign-in records it (``console_since`` None,
    empty ``accessKeyId``) or in the console session begun at ``console_since`` (no MFA)."""
    if console_since is None:
        return records.root(ACCOUNT_ID, access_key_id="")
    return records.root(ACCOUNT_ID, access_key_id=ROOT_CONSOLE_KEY, console_session_created=event_time(console_since))
