"""The built-in demo behind ``trailtui --demo``: a small, realistic S3 data-theft incident.

:func:`write_demo_logs` writes CloudTrail log files the way a trail delivers them to S3, so a new
user can try trailtui with no logs of their own. Everything comes from one seeded
:class:`random.Random` and the files are gzipped with ``mtime=0``: the same seed gives
byte-identical files (with the same Python ``zlib``).

Layout under ``dest`` ("CloudTrail log file examples" / "Finding your CloudTrail log files" in the
AWS CloudTrail User Guide)::

    AWSLogs/111122223333/CloudTrail/<region>/2026/03/14/
        111122223333_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 letters and digits>.json.gz
    AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/
        111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_<YYYYMMDDTHHmmssZ>.json.gz
    .trailtui-demo-<seed>          (marker, written last: the demo is complete)

Each log file is the gzip of ``{"Records": [record, ...]}`` and holds about five minutes of one
region's events, named by its delivery minute (the end of those five minutes). Records follow
"CloudTrail record contents" and "CloudTrail userIdentity element" (AWS CloudTrail User Guide) and,
for S3, "Logging Amazon S3 API calls using AWS CloudTrail" / "Identifying Amazon S3 requests using
CloudTrail" (Amazon S3 User Guide); S3 Glacier records follow "Logging Amazon S3 Glacier API
calls with AWS CloudTrail". Times are UTC ``YYYY-MM-DDTHH:MM:SSZ``; ``bytesTransferredIn`` and
``bytesTransferredOut`` are bytes. The one digest file follows "CloudTrail digest file
structure" (it holds no ``Records``: readers must skip it); its ``hashValue`` entries are the
real SHA-256 of the listed files' uncompressed bytes.

The story, 2026-03-14 08:00-14:00 UTC, account 111122223333 (see :data:`STORY` for a summary):

* background: an EC2 app role ``app-server`` (instance ``i-0abc12345def67890``) reads and writes
  ``demo-app-uploads`` through a VPC endpoint, with the KMS calls S3 makes for it; a Lambda
  ``inventory-collector`` runs EC2 ``Describe*`` in us-east-1 and eu-west-1 every 10 minutes;
  AWS services (ec2, lambda, s3, cloudtrail) assume roles and check the log bucket's ACL;
  account 444455556666 reads and writes bucket ``partner-exchange`` cross-account; anonymous
  visitors fetch ``demo-public-assets``; ``alice`` signs in to the console with MFA and works.
* a root console sign-in without MFA from the office, and two root calls.
* the attack: the access key of IAM user ``ci-deploy`` leaks; from 198.51.100.23 it is used for
  recon (a burst of 40 ``AccessDenied``), ``AssumeRole`` into ``DataPipeline``, 100
  ``GetObject`` on ``finance-reports``, the bucket's public access block is removed and a public
  bucket policy put (then fetched anonymously), a user ``backup-svc`` with an access key is
  created, and ``StopLogging`` hides 11:44-12:58; alice restarts logging and cleans up.
* 5 records are delivered twice (same ``eventID``, same bytes) in consecutive files, as
  CloudTrail sometimes does.

Standard library plus orjson only; never imports textual.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import random
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

#: Bumped whenever the generated demo changes, so a cached older demo is rewritten.
DEMO_VERSION = 1

ACCOUNT_ID = "111122223333"
PARTNER_ACCOUNT_ID = "444455556666"
HOME_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
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
_WINDOW = (8 * 3600, 14 * 3600)  # events fall in [08:00:00, 14:00:00)
_FILE_SECONDS = 300

#: The numbers a README can cite (all hold for every seed; only IDs and background timing vary).
STORY = {
    "date": "2026-03-14",
    "window_utc": "08:00-14:00",
    "leaked_user": "ci-deploy",
    "leaked_key": CI_DEPLOY_KEY,
    "attacker_ip": ATTACKER_IP,
    "access_denied_from_ci_deploy": 40,
    "assumed_role": "DataPipeline",
    "role_session": "pipeline-debug",
    "session_key": PIPELINE_SESSION_KEY,
    "getobject_finance_reports": 100,
    "anonymous_getobject_public_assets": 15,
    "anonymous_getobject_finance_reports": 3,
    "persistence_user": "backup-svc",
    "logging_gap_utc": "11:44:51-12:58:40",
    "duplicates": 5,
}

_ALNUM = string.ascii_letters + string.digits
_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX = "0123456789abcdef"

_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)
_ATTACKER_CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/{}"
_CI_CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0-1057-aws exe/x86_64.ubuntu.22 prompt/off command/{}"
_ALICE_CLI = "aws-cli/2.17.4 Python/3.12.4 Darwin/23.5.0 exe/arm64 prompt/off command/{}"
_APP_SDK = (
    "aws-sdk-java/2.25.60 Linux/6.1.92-99.174.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.3+9-LTS "
    "Java/21.0.3 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/standard"
)
_LAMBDA_SDK = (
    "Boto3/1.34.101 md/Botocore#1.34.101 ua/2.0 os/linux#5.10.216-225.855.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy "
    "Botocore/1.34.101"
)
_PARTNER_SDK = "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1"
_S3_CONSOLE = (
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]"
)
_VISITOR_AGENTS = (
    _BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "curl/8.5.0",
)


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`write_demo_logs` wrote (or found already written).

    ``files`` counts the log files (``.json.gz`` holding ``Records``; the one digest file is not
    counted), ``events`` the records in them with re-delivered copies counted each time,
    ``duplicates`` the records delivered a second time (so ``events - duplicates`` distinct
    ``eventID`` values), ``root`` the folder holding ``AWSLogs``.
    """

    files: int
    events: int
    root: Path
    duplicates: int = 0

    @property
    def distinct_events(self) -> int:
        """Events once each (``events - duplicates``)."""
        return self.events - self.duplicates


def write_demo_logs(dest: Path, *, seed: int = 2026) -> DemoSummary:
    """Write the demo CloudTrail logs for ``seed`` under ``dest`` and return what is there.

    Deterministic: the same seed writes byte-identical files. Idempotent: when ``dest`` already
    holds the complete demo for this seed and :data:`DEMO_VERSION` (its marker file
    ``dest/.trailtui-demo-<seed>`` lists files that all exist), nothing is written. Otherwise the
    demo is (re)written, each file atomically, the marker last; files listed by an older demo
    marker in ``dest`` (another seed or version) and not part of this demo are removed, so
    ``dest`` holds one demo at a time. Nothing else in ``dest`` is touched.
    """
    dest = Path(dest)
    marker = dest / f".trailtui-demo-{seed}"
    found = _read_marker(marker, seed)
    if found is not None and all((dest / rel).is_file() for rel in found[1]):
        return found[0]

    demo = _Demo(seed)
    demo.story()
    files, digest, duplicates = demo.files()
    wanted = {rel for rel, _, _ in files} | {digest[0]}
    _remove_old_demos(dest, wanted)
    for rel, data, _ in files:
        _write_atomic(dest / rel, data)
    _write_atomic(dest / digest[0], digest[1])
    events = sum(count for _, _, count in files)
    summary = DemoSummary(files=len(files), events=events, root=dest, duplicates=duplicates)
    _write_atomic(
        marker,
        orjson.dumps(
            {
                "generator": "trailtui demo",
                "version": DEMO_VERSION,
                "seed": seed,
                "files": summary.files,
                "events": summary.events,
                "duplicates": summary.duplicates,
                "paths": sorted(wanted),
            },
            option=orjson.OPT_INDENT_2,
        ),
    )
    return summary


# --------------------------------------------------------------------------------------------
# Writing


def _read_marker(marker: Path, seed: int) -> tuple[DemoSummary, list[str]] | None:
    try:
        data = orjson.loads(marker.read_bytes())
        if data.get("version") != DEMO_VERSION or data.get("seed") != seed:
            return None
        summary = DemoSummary(
            files=int(data["files"]),
            events=int(data["events"]),
            root=marker.parent,
            duplicates=int(data["duplicates"]),
        )
        paths = [str(p) for p in data["paths"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return summary, paths


def _remove_old_demos(dest: Path, keep: set[str]) -> None:
    """Delete the files listed by any demo marker in ``dest`` that this demo does not write."""
    if not dest.is_dir():
        return
    for old in sorted(dest.glob(".trailtui-demo-*")):
        try:
            paths = orjson.loads(old.read_bytes()).get("paths", [])
        except (OSError, ValueError, AttributeError):
            paths = []
        for rel in paths:
            if not isinstance(rel, str) or rel in keep or ".." in Path(rel).parts or Path(rel).is_absolute():
                continue
            try:
                (dest / rel).unlink()
            except OSError:
                pass
        try:
            old.unlink()
        except OSError:
            pass


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


# --------------------------------------------------------------------------------------------
# Formatting helpers


def _iso(second: int) -> str:
    """``second`` after midnight of the demo day as CloudTrail's ``YYYY-MM-DDTHH:MM:SSZ``."""
    return (DEMO_DAY + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aws_date(second: int) -> str:
    """The ``Mar 14, 2026, 11:10:05 PM`` form STS and IAM use in ``responseElements``."""
    moment = DEMO_DAY + timedelta(seconds=second)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M:%S} {half}"


def _at(hours: int, minutes: int, seconds: int = 0) -> int:
    return hours * 3600 + minutes * 60 + seconds


def _in_gap(second: int) -> bool:
    """True while the trail is stopped (nothing is logged between StopLogging and StartLogging)."""
    return STOP_LOGGING < second < START_LOGGING


def _s3_host(bucket: str) -> str:
    return f"{bucket}.s3.{HOME_REGION}.amazonaws.com"


def _tls_host(source: str, region: str) -> str:
    service = source.split(".", 1)[0]
    if service == "iam":
        return "iam.amazonaws.com"
    if service == "signin":
        return "signin.aws.amazon.com"
    return f"{service}.{region}.amazonaws.com"


# --------------------------------------------------------------------------------------------
# userIdentity shapes ("CloudTrail userIdentity element")


def _iam_user(name: str, principal: str, key: str | None, console_since: int | None = None) -> dict:
    """An IAM user: long-term ``AKIA`` key, or (``console_since``) a console session's ``ASIA`` key."""
    identity = {
        "type": "IAMUser",
        "principalId": principal,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
        "accountId": ACCOUNT_ID,
    }
    if key is not None:
        identity["accessKeyId"] = key
    identity["userName"] = name
    if console_since is not None:
        identity["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": _iso(console_since), "mfaAuthenticated": "true"},
        }
    return identity


def _role_session(
    role: str, role_id: str, session: str, key: str, since: int, *, account: str = ACCOUNT_ID, ec2: bool = False
) -> dict:
    """Temporary credentials from AssumeRole: ``ASIA`` key and the issuing role in ``sessionIssuer``."""
    context: dict = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id,
            "arn": f"arn:aws:iam::{account}:role/{role}",
            "accountId": account,
            "userName": role,
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": _iso(since), "mfaAuthenticated": "false"},
    }
    if ec2:
        context["ec2RoleDelivery"] = "2.0"  # instance profile credentials fetched with IMDSv2
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": context,
    }


def _root(console_since: int | None) -> dict:
    identity = {
        "type": "Root",
        "principalId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:root",
        "accountId": ACCOUNT_ID,
        "accessKeyId": "" if console_since is None else ROOT_CONSOLE_KEY,
    }
    if console_since is not None:
        identity["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": _iso(console_since), "mfaAuthenticated": "false"},
        }
    return identity


def _service(name: str) -> dict:
    return {"type": "AWSService", "invokedBy": name}


ANONYMOUS = {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}


# --------------------------------------------------------------------------------------------
# The generator


class _Demo:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # (second, sequence, region, record); sequence keeps creation order among equal seconds.
        self.events: list[tuple[int, int, str, dict]] = []

    # ---- random values --------------------------------------------------------------------

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def s3_request_id(self) -> str:
        return f"{self.rng.getrandbits(64):016X}"

    def amz_id_2(self) -> str:
        return base64.b64encode(self.rng.randbytes(57)).decode("ascii")

    def key_id(self, prefix: str = "ASIAQ3EG") -> str:
        return prefix + "".join(self.rng.choice(_KEY_CHARS) for _ in range(20 - len(prefix)))

    def session_token(self) -> str:
        return "IQoJb3JpZ2luX2VjE" + base64.b64encode(self.rng.randbytes(180)).decode("ascii")

    def hexstr(self, length: int) -> str:
        return "".join(self.rng.choice(_HEX) for _ in range(length))

    def times(self, start: int, end: int, mean_gap: float) -> list[int]:
        """Seconds in ``[start, end)`` of a Poisson process with ``mean_gap`` seconds between events."""
        found, now = [], float(start)
        while True:
            now += self.rng.expovariate(1.0 / mean_gap)
            if now >= end:
                return found
            found.append(int(now))

    # ---- records ("CloudTrail record contents") ---------------------------------------------

    def add(
        self,
        second: int,
        identity: dict,
        source: str,
        name: str,
        *,
        ip: str,
        agent: str,
        region: str = HOME_REGION,
        params: dict | None = None,
        response: dict | None = None,
        read_only: bool,
        data: bool = False,
        resources: list | None = None,
        extra: dict | None = None,
        error: tuple[str, str] | None = None,
        console: bool = False,
        shared: bool = False,
        vpce: str | None = None,
        tls_host: str | None = None,
        event_type: str = "AwsApiCall",
        version: str = "1.08",
        request_id: str | None = None,
    ) -> dict | None:
        """Append one record (key order as CloudTrail writes it).

        Returns None, adding nothing, while logging is stopped or outside the demo's window.
        """
        if _in_gap(second) or not _WINDOW[0] <= second < _WINDOW[1]:
            return None
        record: dict = {
            "eventVersion": version,
            "userIdentity": identity,
            "eventTime": _iso(second),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error is not None:
            record["errorCode"], record["errorMessage"] = error
        record["requestParameters"] = params
        record["responseElements"] = response
        if extra is not None:
            record["additionalEventData"] = extra
        if event_type != "AwsConsoleSignIn":
            record["requestID"] = request_id or self.uuid4()
        record["eventID"] = self.uuid4()
        record["readOnly"] = read_only
        if resources is not None:
            record["resources"] = resources
        record["eventType"] = event_type
        record["managementEvent"] = not data
        record["recipientAccountId"] = ACCOUNT_ID
        if shared:
            record["sharedEventID"] = self.uuid4()
        if vpce is not None:
            record["vpcEndpointId"] = vpce
            record["vpcEndpointAccountId"] = ACCOUNT_ID
        record["eventCategory"] = "Data" if data else "Management"
        if not ip.endswith(".amazonaws.com"):  # a service calling on someone's behalf has no TLS details
            record["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": tls_host or _tls_host(source, region),
            }
        if console:
            record["sessionCredentialFromConsole"] = "true"
        self.events.append((second, len(self.events), region, record))
        return record

    def s3(
        self,
        second: int,
        identity: dict,
        name: str,
        bucket: str | None,
        key: str | None = None,
        *,
        ip: str,
        agent: str,
        read_only: bool,
        data: bool,
        params: dict | None = None,
        response: dict | None = None,
        bytes_in: int = 0,
        bytes_out: int = 0,
        error: str | None = None,
        console: bool = False,
        shared: bool = False,
        vpce: str | None = None,
    ) -> dict | None:
        """An S3 record (S3 User Guide, "Logging Amazon S3 API calls using AWS CloudTrail").

        ``bucket`` None is a service-level call (ListBuckets). ``error`` is an AccessDenied
        message. S3 wraps SDK user agents in brackets and uses 16-hex-digit request IDs.
        """
        anonymous = identity.get("accountId") == "ANONYMOUS_PRINCIPAL"
        host = _s3_host(bucket) if bucket else f"s3.{HOME_REGION}.amazonaws.com"
        request: dict = {}
        if bucket:
            request["bucketName"] = bucket
        request["Host"] = host
        if key is not None:
            request["key"] = key
        if params:
            request.update(params)
        extra: dict = {}
        if not anonymous:
            extra["SignatureVersion"] = "SigV4"
        extra["CipherSuite"] = "TLS_AES_128_GCM_SHA256"
        extra["bytesTransferredIn"] = bytes_in
        if not anonymous:
            extra["AuthenticationMethod"] = "AuthHeader"
        extra["x-amz-id-2"] = self.amz_id_2()
        extra["bytesTransferredOut"] = bytes_out
        resources = None
        if bucket:
            resources = [{"accountId": ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
            if key is not None:
                resources.insert(0, {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"})
        if not agent.startswith("[") and not ip.endswith(".amazonaws.com") and agent != "AWS Internal":
            agent = f"[{agent}]"
        return self.add(
            second,
            identity,
            "s3.amazonaws.com",
            name,
            ip=ip,
            agent=agent,
            params=request,
            response=response,
            read_only=read_only,
            data=data,
            resources=resources,
            extra=extra,
            error=("AccessDenied", error) if error else None,
            console=console,
            shared=shared,
            vpce=vpce,
            tls_host=host,
            version="1.09",
            request_id=self.s3_request_id(),
        )

    def kms_for_s3(self, second: int, identity: dict, name: str, key_arn: str, bucket: str) -> None:
        """The KMS call S3 makes for an SSE-KMS object, logged under the caller with ``invokedBy``."""
        invoked = dict(identity, invokedBy="s3.amazonaws.com")
        params: dict = {"encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{bucket}"}}
        if name == "GenerateDataKey":
            params = {"keyId": key_arn, **params, "keySpec": "AES_256"}
        else:
            params["encryptionAlgorithm"] = "SYMMETRIC_DEFAULT"
        self.add(
            second,
            invoked,
            "kms.amazonaws.com",
            name,
            ip="s3.amazonaws.com",
            agent="s3.amazonaws.com",
            params=params,
            read_only=True,
            resources=[{"accountId": ACCOUNT_ID, "type": "AWS::KMS::Key", "ARN": key_arn}],
        )

    def assume_role(
        self,
        second: int,
        identity: dict,
        role: str,
        role_id: str,
        session: str,
        key: str,
        *,
        ip: str,
        agent: str,
        duration: int = 3600,
        duration_param: bool = False,
    ) -> dict | None:
        params: dict = {"roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", "roleSessionName": session}
        if duration_param:
            params["durationSeconds"] = duration
        response = {
            "credentials": {
                "accessKeyId": key,
                "sessionToken": self.session_token(),
                "expiration": _aws_date(second + duration),
            },
            "assumedRoleUser": {
                "assumedRoleId": f"{role_id}:{session}",
                "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/{session}",
            },
        }
        return self.add(
            second,
            identity,
            "sts.amazonaws.com",
            "AssumeRole",
            ip=ip,
            agent=agent,
            params=params,
            response=response,
            read_only=True,
            resources=[
                {"accountId": ACCOUNT_ID, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"}
            ],
        )

    def console_login(self, second: int, identity: dict, *, mfa: bool, ip: str, mfa_arn: str | None = None) -> None:
        extra = {
            "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if mfa else "No",
        }
        if mfa_arn:
            extra["MFAIdentifier"] = mfa_arn
        self.add(
            second,
            identity,
            "signin.amazonaws.com",
            "ConsoleLogin",
            ip=ip,
            agent=_BROWSER,
            response={"ConsoleLogin": "Success"},
            read_only=False,
            extra=extra,
            event_type="AwsConsoleSignIn",
            version="1.09",
        )

    # ---- the story ----------------------------------------------------------------------------

    def story(self) -> None:
        # Order matters only for the random stream; every call below is deterministic.
        self.app_server()
        self.inventory()
        self.service_events()
        self.partner()
        self.alice()
        self.ci_deploy_normal()
        self.root_login()
        self.visitors()
        self.attack()
        self.response()

    def app_server(self) -> None:
        """The EC2 app role: S3 PutObject/GetObject on demo-app-uploads through a VPC endpoint."""
        start, end = _WINDOW
        refreshes = [_at(7, 41, 12), _at(9, 41, 12), _at(11, 41, 12), _at(13, 41, 12)]
        keys = [self.key_id() for _ in refreshes]
        for when, key in zip(refreshes[1:], keys[1:]):
            self.assume_role(
                when, _service("ec2.amazonaws.com"), "app-server", APP_ROLE_ID, APP_INSTANCE, key,
                ip="ec2.amazonaws.com", agent="ec2.amazonaws.com", duration=6 * 3600,
            )  # fmt: skip
        uploaded: list[str] = []
        for second in self.times(start, end, 45.0):
            index = sum(1 for r in refreshes if r <= second) - 1
            who = _role_session("app-server", APP_ROLE_ID, APP_INSTANCE, keys[index], refreshes[index], ec2=True)
            if not uploaded or self.rng.random() < 0.6:
                key = f"uploads/2026/03/14/{self.uuid4()}.{self.rng.choice(('jpg', 'png', 'pdf'))}"
                uploaded.append(key)
                self.s3(
                    second, who, "PutObject", APP_BUCKET, key, ip=APP_PRIVATE_IP, agent=_APP_SDK,
                    read_only=False, data=True, bytes_in=self.rng.randint(20_000, 4_000_000),
                    response={"x-amz-server-side-encryption": "aws:kms",
                              "x-amz-server-side-encryption-aws-kms-key-id": APP_KMS_KEY,
                              "x-amz-server-side-encryption-bucket-key-enabled": "true"},
                    vpce=APP_VPC_ENDPOINT,
                )  # fmt: skip
                if self.rng.random() < 0.25:
                    self.kms_for_s3(second, who, "GenerateDataKey", APP_KMS_KEY, APP_BUCKET)
            else:
                key = self.rng.choice(uploaded)
                self.s3(
                    second, who, "GetObject", APP_BUCKET, key, ip=APP_PRIVATE_IP, agent=_APP_SDK,
                    read_only=True, data=True, bytes_out=self.rng.randint(20_000, 4_000_000),
                    vpce=APP_VPC_ENDPOINT,
                )  # fmt: skip
                if self.rng.random() < 0.2:
                    self.kms_for_s3(second, who, "Decrypt", APP_KMS_KEY, APP_BUCKET)
        # The nightly export chains into DataPipeline: the role's normal use, for contrast.
        since = _at(8, 39, 58)
        app = _role_session("app-server", APP_ROLE_ID, APP_INSTANCE, keys[0], refreshes[0], ec2=True)
        export_key = self.key_id()
        self.assume_role(
            since, app, "DataPipeline", PIPELINE_ROLE_ID, "nightly-export", export_key,
            ip=APP_PRIVATE_IP, agent=_APP_SDK,
        )  # fmt: skip
        pipeline = _role_session("DataPipeline", PIPELINE_ROLE_ID, "nightly-export", export_key, since)
        second = since + 4
        self.s3(second, pipeline, "ListObjects", FINANCE_BUCKET, ip=NAT_GATEWAY_IP, agent=_APP_SDK,
                read_only=True, data=True, params={"list-type": "2", "prefix": "2026/q1/exports/"},
                bytes_out=1_873)  # fmt: skip
        for n in range(1, 7):
            second += self.rng.randint(20, 50)
            self.s3(
                second, pipeline, "PutObject", FINANCE_BUCKET, f"2026/q1/exports/daily-2026-03-14-{n:02d}.parquet",
                ip=NAT_GATEWAY_IP, agent=_APP_SDK, read_only=False, data=True,
                bytes_in=self.rng.randint(2_000_000, 9_000_000),
            )  # fmt: skip

    def inventory(self) -> None:
        """A Lambda inventories EC2 in both regions every ten minutes."""
        cold_starts = [_at(8, 0, 3), _at(10, 10, 4), _at(13, 0, 2)]
        keys = [self.key_id() for _ in cold_starts]
        for when, key in zip(cold_starts, keys):
            self.assume_role(
                when - 1, _service("lambda.amazonaws.com"), "inventory-collector", INVENTORY_ROLE_ID,
                "inventory-collector", key, ip="lambda.amazonaws.com", agent="lambda.amazonaws.com",
                duration=12 * 3600,
            )  # fmt: skip
        calls = (
            ("DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
            ("DescribeVolumes", {"volumeSet": {}, "filterSet": {}}),
            ("DescribeSecurityGroups", {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}),
            ("DescribeSnapshots", {"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]},
                                   "sharedUsersSet": {}, "filterSet": {}}),
        )  # fmt: skip
        for run in range(_WINDOW[0], _WINDOW[1], 600):
            second = run + 2 + self.rng.randint(0, 3)
            index = max(i for i, when in enumerate(cold_starts) if when <= second or i == 0)
            who = _role_session("inventory-collector", INVENTORY_ROLE_ID, "inventory-collector",
                                keys[index], cold_starts[index])  # fmt: skip
            for region in (HOME_REGION, OTHER_REGION):
                for name, params in calls:
                    second += self.rng.randint(0, 1)
                    self.add(second, who, "ec2.amazonaws.com", name, region=region, ip=NAT_GATEWAY_IP,
                             agent=_LAMBDA_SDK, params=params, read_only=True)  # fmt: skip

    def service_events(self) -> None:
        """AWS services acting on their own: CloudTrail checks its bucket, S3 replication."""
        for second in (_at(8, 47, 2), _at(10, 47, 5), _at(13, 17, 3)):
            self.s3(second, _service("cloudtrail.amazonaws.com"), "GetBucketAcl", LOG_BUCKET,
                    ip="cloudtrail.amazonaws.com", agent="cloudtrail.amazonaws.com", read_only=True,
                    data=False, params={"acl": ""})  # fmt: skip
        for second in (_at(8, 20, 31), _at(13, 20, 33)):
            self.assume_role(second, _service("s3.amazonaws.com"), "s3-replication", REPLICATION_ROLE_ID,
                             "s3-replication", self.key_id(), ip="s3.amazonaws.com", agent="s3.amazonaws.com")  # fmt: skip

    def partner(self) -> None:
        """Account 444455556666 exchanges files through bucket partner-exchange (cross-account)."""
        since = _at(7, 55, 0)
        etl = _role_session("partner-etl", PARTNER_ROLE_ID, "etl-job", PARTNER_SESSION_KEY, since,
                            account=PARTNER_ACCOUNT_ID)  # fmt: skip
        uploader = {"type": "AWSAccount", "principalId": f"{PARTNER_ROLE_ID}:etl-job", "accountId": PARTNER_ACCOUNT_ID}
        batch = 0
        for second in self.times(_WINDOW[0], _WINDOW[1], 900.0):
            batch += 1
            self.s3(second, etl, "ListObjects", PARTNER_BUCKET, ip=PARTNER_IP, agent=_PARTNER_SDK,
                    read_only=True, data=True, params={"list-type": "2", "prefix": "outbound/2026-03-14/"},
                    bytes_out=self.rng.randint(900, 4_000), shared=True)  # fmt: skip
            for n in range(self.rng.randint(1, 2)):
                second += self.rng.randint(1, 4)
                self.s3(second, etl, "GetObject", PARTNER_BUCKET, f"outbound/2026-03-14/orders-{batch:03d}-{n}.csv",
                        ip=PARTNER_IP, agent=_PARTNER_SDK, read_only=True, data=True,
                        bytes_out=self.rng.randint(40_000, 900_000), shared=True)  # fmt: skip
            if batch % 3 == 0:
                second += self.rng.randint(5, 30)
                self.s3(second, uploader, "PutObject", PARTNER_BUCKET, f"inbound/2026-03-14/invoices-{batch:03d}.csv",
                        ip=PARTNER_IP, agent=_PARTNER_SDK, read_only=False, data=True,
                        bytes_in=self.rng.randint(30_000, 400_000), shared=True)  # fmt: skip

    def alice(self) -> None:
        """IAM user alice: console sign-in with MFA, console work, CLI work with her AKIA key."""
        login = _at(8, 12, 37)
        self.console_login(login, _iam_user("alice", ALICE_ID, None), mfa=True, ip=OFFICE_IP,
                           mfa_arn=f"arn:aws:iam::{ACCOUNT_ID}:mfa/alice")  # fmt: skip
        console = _iam_user("alice", ALICE_ID, ALICE_CONSOLE_KEY, console_since=login)
        steps = [  # (service, eventName, region, requestParameters; for S3 the bucket)
            ("ec2", "DescribeInstances", HOME_REGION, {"instancesSet": {}, "filterSet": {}}),
            ("ec2", "DescribeSecurityGroups", HOME_REGION,
             {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}),
            ("ec2", "DescribeVpcs", HOME_REGION, {"vpcSet": {}, "filterSet": {}}),
            ("s3", "ListBuckets", HOME_REGION, None),
            ("s3", "GetBucketLocation", HOME_REGION, APP_BUCKET),
            ("s3", "GetBucketVersioning", HOME_REGION, APP_BUCKET),
            ("cloudtrail", "DescribeTrails", HOME_REGION, {"trailNameList": [], "includeShadowTrails": False}),
            ("cloudtrail", "GetTrailStatus", HOME_REGION, {"name": TRAIL_ARN}),
            ("ec2", "DescribeInstances", OTHER_REGION, {"instancesSet": {}, "filterSet": {}}),
            ("ec2", "DescribeVolumes", OTHER_REGION, {"volumeSet": {}, "filterSet": {}}),
            ("iam", "ListUsers", HOME_REGION, {}),
            ("iam", "GetUser", HOME_REGION, {"userName": "ci-deploy"}),
            ("iam", "ListAccessKeys", HOME_REGION, {"userName": "ci-deploy"}),
            ("ec2", "DescribeInstances", HOME_REGION, {"instancesSet": {}, "filterSet": {}}),
        ]  # fmt: skip
        second = login + 40
        for i, (service, name, region, params) in enumerate(steps * 2):
            second += self.rng.randint(45, 420)
            ip = OFFICE_IPV6 if i in (5, 19) else OFFICE_IP  # the dual-stack laptop sometimes goes out over IPv6
            if service == "s3":
                self.s3(second, console, name, params, ip=ip, agent=_S3_CONSOLE, read_only=True,
                        data=False, params={"versioning": ""} if name == "GetBucketVersioning" else
                        {"location": ""} if name == "GetBucketLocation" else None, console=True)  # fmt: skip
            else:
                self.add(second, console, f"{service}.amazonaws.com", name, region=region, ip=ip,
                         agent="AWS Internal", params=params or None, read_only=True, console=True)  # fmt: skip
        # CLI with her long-term key: an upload, a Glacier archive, a look at eu-west-1.
        cli = _iam_user("alice", ALICE_ID, ALICE_KEY)
        second = _at(9, 5, 12)
        self.add(second, cli, "sts.amazonaws.com", "GetCallerIdentity", ip=OFFICE_IP,
                 agent=_ALICE_CLI.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
        second += 21
        self.s3(second, cli, "ListBuckets", None, ip=OFFICE_IP, agent=_ALICE_CLI.format("s3.ls"),
                read_only=True, data=False)  # fmt: skip
        for n in range(1, 4):
            second += self.rng.randint(3, 9)
            self.s3(second, cli, "PutObject", APP_BUCKET, f"manual/2026-03-14/release-notes-{n}.pdf", ip=OFFICE_IP,
                    agent=_ALICE_CLI.format("s3.cp"), read_only=False, data=True,
                    bytes_in=self.rng.randint(80_000, 600_000))  # fmt: skip
        second = _at(9, 14, 3)
        self.add(second, cli, "glacier.amazonaws.com", "ListVaults", ip=OFFICE_IP,
                 agent=_ALICE_CLI.format("glacier.list-vaults"), params={"accountId": "-"}, read_only=True)  # fmt: skip
        for n, name in enumerate(("q4-2025-close.tar.gz", "q4-2025-audit.tar.gz")):
            second += self.rng.randint(30, 90)
            archive = base64.urlsafe_b64encode(self.rng.randbytes(102)).decode("ascii").rstrip("=")
            checksum = self.hexstr(64)
            self.add(second, cli, "glacier.amazonaws.com", "UploadArchive", ip=OFFICE_IP,
                     agent=_ALICE_CLI.format("glacier.upload-archive"),
                     params={"accountId": "-", "vaultName": VAULT, "archiveDescription": name, "checksum": checksum},
                     response={"location": f"/{ACCOUNT_ID}/vaults/{VAULT}/archives/{archive}",
                               "checksum": checksum, "archiveId": archive},
                     read_only=False)  # fmt: skip
        second = _at(9, 22, 40)
        self.add(second, cli, "ec2.amazonaws.com", "DescribeInstances", region=OTHER_REGION, ip=OFFICE_IP,
                 agent=_ALICE_CLI.format("ec2.describe-instances"), params={"instancesSet": {}, "filterSet": {}},
                 read_only=True)  # fmt: skip

    def ci_deploy_normal(self) -> None:
        """ci-deploy's normal use: the CI runner syncs the static site to demo-public-assets."""
        ci = _iam_user("ci-deploy", CI_DEPLOY_ID, CI_DEPLOY_KEY)
        for start, build in ((_at(8, 31, 10), "a41f9c2"), (_at(10, 4, 22), "c7d03e8")):
            second = start
            self.add(second, ci, "sts.amazonaws.com", "GetCallerIdentity", ip=CI_RUNNER_IP,
                     agent=_CI_CLI.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
            second += 3
            self.s3(second, ci, "ListObjects", PUBLIC_BUCKET, ip=CI_RUNNER_IP, agent=_CI_CLI.format("s3.sync"),
                    read_only=True, data=True, params={"list-type": "2", "prefix": "", "encoding-type": "url"},
                    bytes_out=2_411)  # fmt: skip
            for key in ("index.html", f"js/app.{build}.js", f"css/site.{build}.css", "img/logo.png"):
                second += self.rng.randint(0, 2)
                self.s3(second, ci, "PutObject", PUBLIC_BUCKET, key, ip=CI_RUNNER_IP, agent=_CI_CLI.format("s3.sync"),
                        read_only=False, data=True, bytes_in=self.rng.randint(3_000, 350_000))  # fmt: skip

    def root_login(self) -> None:
        """A root console sign-in without MFA from the office, and two root calls."""
        login = _at(9, 31, 5)
        self.console_login(login, _root(None), mfa=False, ip=OFFICE_IP)
        root = _root(login)
        self.add(login + 35, root, "iam.amazonaws.com", "GetAccountSummary", ip=OFFICE_IP, agent="AWS Internal",
                 read_only=True, console=True)  # fmt: skip
        self.add(login + 61, root, "iam.amazonaws.com", "ListAccountAliases", ip=OFFICE_IP, agent="AWS Internal",
                 read_only=True, console=True)  # fmt: skip

    def visitors(self) -> None:
        """15 anonymous GetObject on the public website bucket (S3 User Guide's anonymous shape)."""
        seconds: list[int] = []
        while len(seconds) < STORY["anonymous_getobject_public_assets"]:
            second = self.rng.randrange(*_WINDOW)
            if not _in_gap(second) and second not in seconds:
                seconds.append(second)
        pages = ("index.html", "css/site.css", "js/app.js", "img/logo.png", "favicon.ico")
        for n, second in enumerate(sorted(seconds)):
            ip = VISITOR_IPV6[n // 7] if n in (3, 10) else self.rng.choice(VISITOR_IPS)
            self.s3(second, ANONYMOUS, "GetObject", PUBLIC_BUCKET, self.rng.choice(pages), ip=ip,
                    agent=self.rng.choice(_VISITOR_AGENTS), read_only=True, data=True,
                    bytes_out=self.rng.randint(800, 180_000))  # fmt: skip

    def attack(self) -> None:
        """The leaked ci-deploy key: recon, denied burst, AssumeRole, exfiltration, persistence."""
        ci = _iam_user("ci-deploy", CI_DEPLOY_ID, CI_DEPLOY_KEY)
        ip, cli = ATTACKER_IP, _ATTACKER_CLI
        user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/ci-deploy"
        second = _at(11, 2, 14)
        self.add(second, ci, "sts.amazonaws.com", "GetCallerIdentity", ip=ip,
                 agent=cli.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
        second += 17
        self.s3(second, ci, "ListBuckets", None, ip=ip, agent=cli.format("s3.ls"), read_only=True, data=False)
        for region in (HOME_REGION, OTHER_REGION):
            second += self.rng.randint(4, 9)
            self.add(second, ci, "ec2.amazonaws.com", "DescribeInstances", region=region, ip=ip,
                     agent=cli.format("ec2.describe-instances"), params={"instancesSet": {}, "filterSet": {}},
                     read_only=True,
                     error=("Client.UnauthorizedOperation",
                            f"You are not authorized to perform this operation. User: {user_arn} is not authorized "
                            "to perform: ec2:DescribeInstances because no identity-based policy allows the "
                            "ec2:DescribeInstances action"))  # fmt: skip

        def denied(action: str, resource: str) -> str:
            return (f"User: {user_arn} is not authorized to perform: {action} on resource: {resource} "
                    f"because no identity-based policy allows the {action} action")  # fmt: skip

        me = {"userName": "ci-deploy"}
        iam_calls = (  # (eventName, requestParameters, resource the error names)
            ("ListUsers", {}, "user/"),
            ("ListRoles", {}, "role/"),
            ("ListPolicies", {"scope": "Local"}, "policy/"),
            ("GetAccountAuthorizationDetails", {}, "*"),
            ("ListAttachedUserPolicies", me, "user/ci-deploy"),
            ("ListUserPolicies", me, "user/ci-deploy"),
            ("GetUser", {}, "user/ci-deploy"),
            ("ListGroupsForUser", me, "user/ci-deploy"),
            ("ListAccessKeys", me, "user/ci-deploy"),
            ("ListMFADevices", {}, "user/ci-deploy"),
            ("GetAccountSummary", {}, "*"),
            ("ListInstanceProfiles", {}, "instance-profile/"),
        )
        second = _at(11, 3, 20)
        for name, params, resource in iam_calls:
            second += self.rng.randint(1, 6)
            target = resource if resource == "*" else f"arn:aws:iam::{ACCOUNT_ID}:{resource}"
            action = "iam:" + name
            self.add(second, ci, "iam.amazonaws.com", name, ip=ip, agent=cli.format("iam." + _kebab(name)),
                     params=params or None, read_only=True, error=("AccessDenied", denied(action, target)))  # fmt: skip
        s3_calls = (
            ("GetBucketPolicy", "s3:GetBucketPolicy", {"policy": ""}),
            ("GetBucketAcl", "s3:GetBucketAcl", {"acl": ""}),
            ("GetBucketPolicyStatus", "s3:GetBucketPolicyStatus", {"policyStatus": ""}),
            ("GetBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", {"publicAccessBlock": ""}),
            ("ListObjects", "s3:ListBucket", {"list-type": "2", "prefix": "", "encoding-type": "url"}),
        )
        for bucket in (FINANCE_BUCKET, APP_BUCKET, PARTNER_BUCKET, LOG_BUCKET):
            for name, action, params in s3_calls:
                second += self.rng.randint(0, 4)
                self.s3(second, ci, name, bucket, ip=ip, agent=cli.format("s3api." + _kebab(name)),
                        read_only=True, data=name == "ListObjects", params=params,
                        error=denied(action, f'"arn:aws:s3:::{bucket}"'))  # fmt: skip
        for n in range(1, 9):
            key = f"2026/q1/payroll-{n:03d}.csv"
            second += self.rng.randint(1, 5)
            message = denied("s3:GetObject", f'"arn:aws:s3:::{FINANCE_BUCKET}/{key}"')
            self.s3(second, ci, "GetObject", FINANCE_BUCKET, key, ip=ip, agent=cli.format("s3.cp"),
                    read_only=True, data=True, error=message)  # fmt: skip

        # The pivot: ci-deploy may assume DataPipeline (the CI triggers the pipeline).
        since = _at(11, 10, 5)
        self.assume_role(since, ci, "DataPipeline", PIPELINE_ROLE_ID, "pipeline-debug", PIPELINE_SESSION_KEY,
                         ip=ip, agent=cli.format("sts.assume-role"), duration=12 * 3600, duration_param=True)  # fmt: skip
        role = _role_session("DataPipeline", PIPELINE_ROLE_ID, "pipeline-debug", PIPELINE_SESSION_KEY, since)
        second = since + 36
        self.add(second, role, "sts.amazonaws.com", "GetCallerIdentity", ip=ip,
                 agent=cli.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
        for prefix in ("", "2026/", "2026/q1/"):
            second += self.rng.randint(5, 9)
            self.s3(second, role, "ListObjects", FINANCE_BUCKET, ip=ip, agent=cli.format("s3.ls"), read_only=True,
                    data=True, params={"list-type": "2", "prefix": prefix, "delimiter": "/", "encoding-type": "url"},
                    bytes_out=self.rng.randint(1_500, 9_000))  # fmt: skip
        keys = (
            [f"2026/q1/payroll-{n:03d}.csv" for n in range(1, 41)]
            + [f"2026/q1/invoices-{n:03d}.csv" for n in range(1, 31)]
            + [f"2025/q4/payroll-{n:03d}.csv" for n in range(1, 21)]
            + [f"2026/q1/board/forecast-v{n}.xlsx" for n in range(1, 11)]
        )
        second = _at(11, 12, 3)
        for n, key in enumerate(keys):
            self.s3(second, role, "GetObject", FINANCE_BUCKET, key, ip=ip, agent=cli.format("s3.sync"),
                    read_only=True, data=True, bytes_out=self.rng.randint(40_000, 2_500_000))  # fmt: skip
            if n in (0, 37):
                self.kms_for_s3(second, role, "Decrypt", FINANCE_KMS_KEY, FINANCE_BUCKET)
            second += self.rng.randint(0, 3)

        # Make the bucket public and check it from outside.
        second = _at(11, 33, 10)
        self.s3(second, role, "DeleteBucketPublicAccessBlock", FINANCE_BUCKET, ip=ip,
                agent=cli.format("s3api.delete-public-access-block"), read_only=False, data=False,
                params={"publicAccessBlock": ""})  # fmt: skip
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{FINANCE_BUCKET}/*"}],
        }  # fmt: skip
        second += 31
        self.s3(second, role, "PutBucketPolicy", FINANCE_BUCKET, ip=ip, agent=cli.format("s3api.put-bucket-policy"),
                read_only=False, data=False, params={"bucketPolicy": policy, "policy": ""})  # fmt: skip
        second = _at(11, 35, 12)
        for key in ("2026/q1/payroll-001.csv", "2026/q1/payroll-002.csv", "2026/q1/board/forecast-v10.xlsx"):
            second += self.rng.randint(10, 40)
            self.s3(second, ANONYMOUS, "GetObject", FINANCE_BUCKET, key, ip=ip, agent="curl/8.5.0",
                    read_only=True, data=True, bytes_out=self.rng.randint(40_000, 2_500_000))  # fmt: skip

        # Persistence: an admin user with a key of its own.
        second = _at(11, 38, 2)
        self.add(second, role, "iam.amazonaws.com", "CreateUser", ip=ip, agent=cli.format("iam.create-user"),
                 params={"userName": "backup-svc"},
                 response={"user": {"path": "/", "userName": "backup-svc", "userId": BACKUP_SVC_ID,
                                    "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/backup-svc",
                                    "createDate": _aws_date(second)}},
                 read_only=False)  # fmt: skip
        second += 18
        self.add(second, role, "iam.amazonaws.com", "AttachUserPolicy", ip=ip,
                 agent=cli.format("iam.attach-user-policy"),
                 params={"userName": "backup-svc", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
                 read_only=False)  # fmt: skip
        second += 24
        self.add(second, role, "iam.amazonaws.com", "CreateAccessKey", ip=ip, agent=cli.format("iam.create-access-key"),
                 params={"userName": "backup-svc"},
                 response={"accessKey": {"userName": "backup-svc", "accessKeyId": BACKUP_SVC_KEY,
                                         "status": "Active", "createDate": _aws_date(second)}},
                 read_only=False)  # fmt: skip
        self.add(STOP_LOGGING, role, "cloudtrail.amazonaws.com", "StopLogging", ip=ip,
                 agent=cli.format("cloudtrail.stop-logging"), params={"name": TRAIL_ARN}, read_only=False)  # fmt: skip

    def response(self) -> None:
        """alice notices the stopped trail, restarts it and cleans up; the stolen session is refused."""
        console = _iam_user("alice", ALICE_ID, ALICE_CONSOLE_KEY, console_since=_at(8, 12, 37))
        s3_console = dict(ip=OFFICE_IP, agent=_S3_CONSOLE, read_only=False, data=False, console=True)
        steps = [
            (START_LOGGING, "cloudtrail", "StartLogging", {"name": TRAIL_ARN}),
            (_at(13, 0, 12), "iam", "UpdateAccessKey",
             {"userName": "ci-deploy", "accessKeyId": CI_DEPLOY_KEY, "status": "Inactive"}),
            (_at(13, 1, 5), "iam", "DeleteAccessKey", {"userName": "backup-svc", "accessKeyId": BACKUP_SVC_KEY}),
            (_at(13, 1, 30), "iam", "DetachUserPolicy",
             {"userName": "backup-svc", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            (_at(13, 1, 52), "iam", "DeleteUser", {"userName": "backup-svc"}),
            (_at(13, 3, 10), "iam", "PutRolePolicy",
             {"roleName": "DataPipeline", "policyName": "AWSRevokeOlderSessions",
              "policyDocument": orjson.dumps({"Version": "2012-10-17", "Statement": [
                  {"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
                   "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-03-14T13:03:10.000Z"}}}]}).decode()}),
        ]  # fmt: skip
        for second, service, name, params in steps:
            self.add(second, console, f"{service}.amazonaws.com", name, ip=OFFICE_IP, agent="AWS Internal",
                     params=params, read_only=False, console=True)  # fmt: skip
        self.s3(_at(13, 4, 25), console, "PutBucketPublicAccessBlock", FINANCE_BUCKET,
                params={"publicAccessBlock": "", "PublicAccessBlockConfiguration": {
                    "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "RestrictPublicBuckets": True,
                    "BlockPublicPolicy": True, "BlockPublicAcls": True, "IgnorePublicAcls": True}},
                **s3_console)  # fmt: skip
        self.s3(_at(13, 4, 48), console, "DeleteBucketPolicy", FINANCE_BUCKET, params={"policy": ""}, **s3_console)
        # The attacker's 12-hour session still exists but the revocation policy now denies it.
        role = _role_session("DataPipeline", PIPELINE_ROLE_ID, "pipeline-debug", PIPELINE_SESSION_KEY, _at(11, 10, 5))
        role_arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/DataPipeline/pipeline-debug"
        second = _at(13, 15, 2)
        for n in (41, 42, 43):
            key = f"2026/q1/payroll-{n:03d}.csv"
            second += self.rng.randint(1, 4)
            self.s3(second, role, "GetObject", FINANCE_BUCKET, key, ip=ATTACKER_IP,
                    agent=_ATTACKER_CLI.format("s3.cp"), read_only=True, data=True,
                    error=(f"User: {role_arn} is not authorized to perform: s3:GetObject on resource: "
                           f'"arn:aws:s3:::{FINANCE_BUCKET}/{key}" with an explicit deny in an identity-based policy'))  # fmt: skip

    # ---- files --------------------------------------------------------------------------------

    def files(self) -> tuple[list[tuple[str, bytes, int]], tuple[str, bytes], int]:
        """Group the records into ~5-minute files per region, add re-deliveries and the digest.

        Returns ``(log files, digest file, duplicates)``: each log file is ``(path relative to
        dest, gzip bytes, records)``, the digest ``(path, gzip bytes)``.
        """
        self.events.sort(key=lambda item: (item[0], item[1]))
        buckets: dict[tuple[str, int], list[tuple[int, bytes, bool]]] = {}
        for second, _, region, record in self.events:
            arn = record["userIdentity"].get("arn", "")
            routine = "assumed-role/app-server/" in arn or "assumed-role/inventory-collector/" in arn
            slot = buckets.setdefault((region, second // _FILE_SECONDS), [])
            slot.append((second, orjson.dumps(record), routine))
        order = sorted(buckets, key=lambda item: (item[1], item[0] != HOME_REGION))
        for slot in order:  # real files are mostly, not strictly, in time order
            records = buckets[slot]
            for i in range(len(records) - 1):
                if self.rng.random() < 0.04:
                    records[i], records[i + 1] = records[i + 1], records[i]
        # Re-deliver a few routine records (never story ones, so the story's counts hold with or
        # without deduplication) at the start of the region's next file.
        home = [slot for slot in order if slot[0] == HOME_REGION]
        eligible = [i for i in range(len(home) - 1) if any(item[2] for item in buckets[home[i]])]
        duplicates = STORY["duplicates"]
        for index in sorted(self.rng.sample(eligible, duplicates)):
            routine = [item for item in buckets[home[index]] if item[2]]
            buckets[home[index + 1]].insert(0, routine[self.rng.randrange(len(routine))])
        files: list[tuple[str, bytes, int]] = []
        listing: list[tuple[str, int, str, bytes, list[int]]] = []  # what the digest lists
        for region, slot in order:
            records = buckets[(region, slot)]
            delivered = (slot + 1) * _FILE_SECONDS
            stamp = (DEMO_DAY + timedelta(seconds=delivered)).strftime("%Y%m%dT%H%MZ")
            folder = f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{region}/{DEMO_DAY:%Y/%m/%d}"
            unique = "".join(self.rng.choice(_ALNUM) for _ in range(16))
            rel = f"{folder}/{ACCOUNT_ID}_CloudTrail_{region}_{stamp}_{unique}.json.gz"
            raw = b'{"Records":[' + b",".join(item[1] for item in records) + b"]}"
            files.append((rel, gzip.compress(raw, compresslevel=6, mtime=0), len(records)))
            listing.append((region, delivered, rel, raw, [item[0] for item in records]))
        digest = self.digest(listing)
        return files, digest, duplicates

    def digest(self, listing: list[tuple[str, int, str, bytes, list[int]]]) -> tuple[str, bytes]:
        """One hourly digest for us-east-1 ("CloudTrail digest file structure"), before the attack.

        ``listing`` holds ``(region, delivery second, path, uncompressed bytes, event seconds)``.
        """
        start, end = _at(9, 58, 12), _at(10, 58, 12)
        log_files = []
        times: list[int] = []
        for region, delivered, rel, raw, seconds in listing:
            if region != HOME_REGION or not start < delivered <= end:
                continue
            times += seconds
            log_files.append(
                {
                    "s3Bucket": LOG_BUCKET,
                    "s3Object": rel,
                    "hashValue": hashlib.sha256(raw).hexdigest(),
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": _iso(max(seconds)),
                    "oldestEventTime": _iso(min(seconds)),
                }
            )
        folder = f"AWSLogs/{ACCOUNT_ID}/CloudTrail-Digest/{HOME_REGION}/{DEMO_DAY:%Y/%m/%d}"
        name = lambda second: (  # noqa: E731
            f"{folder}/{ACCOUNT_ID}_CloudTrail-Digest_{HOME_REGION}_{TRAIL_NAME}_{HOME_REGION}_"
            f"{(DEMO_DAY + timedelta(seconds=second)):%Y%m%dT%H%M%SZ}.json.gz"
        )
        body = {
            "awsAccountId": ACCOUNT_ID,
            "digestStartTime": _iso(start),
            "digestEndTime": _iso(end),
            "digestS3Bucket": LOG_BUCKET,
            "digestS3Object": name(end),
            "digestPublicKeyFingerprint": self.hexstr(32),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": _iso(max(times)),
            "oldestEventTime": _iso(min(times)),
            "previousDigestS3Bucket": LOG_BUCKET,
            "previousDigestS3Object": name(start),
            "previousDigestHashValue": self.hexstr(64),
            "previousDigestHashAlgorithm": "SHA-256",
            "previousDigestSignature": self.hexstr(512),
            "logFiles": log_files,
        }
        return name(end), gzip.compress(orjson.dumps(body), compresslevel=6, mtime=0)


def _kebab(name: str) -> str:
    """``ListAttachedUserPolicies`` -> ``list-attached-user-policies`` (the CLI command name)."""
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("-")
        out.append(char.lower())
    return "".join(out)
