"""The demo's routine day, the background the incident stands out from (see
:mod:`trailtui.core.demo.story` for the incident and the order these run in).

Each function records one actor's activity with a :class:`~.recorder.Recorder`; times are
seconds after midnight of 2026-03-14 (UTC). Shapes per "CloudTrail record contents" (AWS
CloudTrail User Guide); S3 Glacier calls per "Logging Amazon S3 Glacier API calls with AWS
CloudTrail".
"""

from __future__ import annotations

import base64

from trailtui.core.demo import records
from trailtui.core.demo.recorder import Recorder
from trailtui.core.demo.setting import (
    ACCOUNT_ID,
    ALICE_CLI,
    ALICE_CONSOLE_KEY,
    ALICE_ID,
    ALICE_KEY,
    APP_BUCKET,
    APP_INSTANCE,
    APP_KMS_KEY,
    APP_PRIVATE_IP,
    APP_ROLE_ID,
    APP_SDK,
    APP_VPC_ENDPOINT,
    BROWSER,
    CI_CLI,
    CI_DEPLOY_ID,
    CI_DEPLOY_KEY,
    CI_RUNNER_IP,
    FINANCE_BUCKET,
    HOME_REGION,
    INVENTORY_ROLE_ID,
    LAMBDA_SDK,
    LOG_BUCKET,
    NAT_GATEWAY_IP,
    OFFICE_IP,
    OFFICE_IPV6,
    OTHER_REGION,
    PARTNER_ACCOUNT_ID,
    PARTNER_BUCKET,
    PARTNER_IP,
    PARTNER_ROLE_ID,
    PARTNER_SDK,
    PARTNER_SESSION_KEY,
    PIPELINE_ROLE_ID,
    PUBLIC_BUCKET,
    REPLICATION_ROLE_ID,
    S3_CONSOLE,
    TRAIL_ARN,
    VAULT,
    VISITOR_AGENTS,
    VISITOR_IPS,
    VISITOR_IPV6,
    WINDOW,
    at,
    logging_stopped,
    role_session,
    user,
)


def app_server(rec: Recorder) -> None:
    """The EC2 app role: S3 PutObject/GetObject on demo-app-uploads through a VPC endpoint."""
    start, end = WINDOW
    refreshes = [at(7, 41, 12), at(9, 41, 12), at(11, 41, 12), at(13, 41, 12)]
    keys = [rec.key_id() for _ in refreshes]
    for when, key in zip(refreshes[1:], keys[1:]):
        rec.assume_role(
            when, records.aws_service("ec2.amazonaws.com"), "app-server", APP_ROLE_ID, APP_INSTANCE, key,
            ip="ec2.amazonaws.com", agent="ec2.amazonaws.com", duration=6 * 3600,
        )  # fmt: skip
    uploaded: list[str] = []
    for second in rec.times(start, end, 45.0):
        index = sum(1 for r in refreshes if r <= second) - 1
        who = role_session("app-server", APP_ROLE_ID, APP_INSTANCE, keys[index], refreshes[index], ec2=True)
        if not uploaded or rec.rng.random() < 0.6:
            key = f"uploads/2026/03/14/{rec.uuid4()}.{rec.rng.choice(('jpg', 'png', 'pdf'))}"
            uploaded.append(key)
            rec.s3(
                second, who, "PutObject", APP_BUCKET, key, ip=APP_PRIVATE_IP, agent=APP_SDK,
                read_only=False, data=True, bytes_in=rec.rng.randint(20_000, 4_000_000),
                response={"x-amz-server-side-encryption": "aws:kms",
                         "x-amz-server-side-encryption-aws-kms-key-id": APP_KMS_KEY,
                         "x-amz-server-side-encryption-bucket-key-enabled": "true"},
                vpce=APP_VPC_ENDPOINT,
            )  # fmt: skip
            if rec.rng.random() < 0.25:
                rec.kms_for_s3(second, who, "GenerateDataKey", APP_KMS_KEY, APP_BUCKET)
        else:
            key = rec.rng.choice(uploaded)
            rec.s3(
                second, who, "GetObject", APP_BUCKET, key, ip=APP_PRIVATE_IP, agent=APP_SDK,
                read_only=True, data=True, bytes_out=rec.rng.randint(20_000, 4_000_000),
                vpce=APP_VPC_ENDPOINT,
            )  # fmt: skip
            if rec.rng.random() < 0.2:
                rec.kms_for_s3(second, who, "Decrypt", APP_KMS_KEY, APP_BUCKET)
    # The nightly export chains into DataPipeline: the role's normal use, for contrast.
    since = at(8, 39, 58)
    app = role_session("app-server", APP_ROLE_ID, APP_INSTANCE, keys[0], refreshes[0], ec2=True)
    export_key = rec.key_id()
    rec.assume_role(
        since, app, "DataPipeline", PIPELINE_ROLE_ID, "nightly-export", export_key,
        ip=APP_PRIVATE_IP, agent=APP_SDK,
    )  # fmt: skip
    pipeline = role_session("DataPipeline", PIPELINE_ROLE_ID, "nightly-export", export_key, since)
    second = since + 4
    rec.s3(second, pipeline, "ListObjects", FINANCE_BUCKET, ip=NAT_GATEWAY_IP, agent=APP_SDK,
           read_only=True, data=True, params={"list-type": "2", "prefix": "2026/q1/exports/"},
           bytes_out=1_873)  # fmt: skip
    for n in range(1, 7):
        second += rec.rng.randint(20, 50)
        rec.s3(
            second, pipeline, "PutObject", FINANCE_BUCKET, f"2026/q1/exports/daily-2026-03-14-{n:02d}.parquet",
            ip=NAT_GATEWAY_IP, agent=APP_SDK, read_only=False, data=True,
            bytes_in=rec.rng.randint(2_000_000, 9_000_000),
        )  # fmt: skip


def inventory(rec: Recorder) -> None:
    """A Lambda inventories EC2 in both regions every ten minutes."""
    cold_starts = [at(8, 0, 3), at(10, 10, 4), at(13, 0, 2)]
    keys = [rec.key_id() for _ in cold_starts]
    for when, key in zip(cold_starts, keys):
        rec.assume_role(
            when - 1, records.aws_service("lambda.amazonaws.com"), "inventory-collector", INVENTORY_ROLE_ID,
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
    for run in range(WINDOW[0], WINDOW[1], 600):
        second = run + 2 + rec.rng.randint(0, 3)
        index = max(i for i, when in enumerate(cold_starts) if when <= second or i == 0)
        who = role_session("inventory-collector", INVENTORY_ROLE_ID, "inventory-collector",
                           keys[index], cold_starts[index])  # fmt: skip
        for region in (HOME_REGION, OTHER_REGION):
            for name, params in calls:
                second += rec.rng.randint(0, 1)
                rec.add(second, who, "ec2.amazonaws.com", name, region=region, ip=NAT_GATEWAY_IP,
                        agent=LAMBDA_SDK, params=params, read_only=True)  # fmt: skip


def service_events(rec: Recorder) -> None:
    """AWS services acting on their own: CloudTrail checks its bucket, S3 replication."""
    for second in (at(8, 47, 2), at(10, 47, 5), at(13, 17, 3)):
        rec.s3(second, records.aws_service("cloudtrail.amazonaws.com"), "GetBucketAcl", LOG_BUCKET,
               ip="cloudtrail.amazonaws.com", agent="cloudtrail.amazonaws.com", read_only=True,
               data=False, params={"acl": ""})  # fmt: skip
    for second in (at(8, 20, 31), at(13, 20, 33)):
        rec.assume_role(second, records.aws_service("s3.amazonaws.com"), "s3-replication", REPLICATION_ROLE_ID,
                        "s3-replication", rec.key_id(), ip="s3.amazonaws.com", agent="s3.amazonaws.com")  # fmt: skip


def partner(rec: Recorder) -> None:
    """Account 444455556666 exchanges files through bucket partner-exchange (cross-account)."""
    since = at(7, 55, 0)
    etl = role_session("partner-etl", PARTNER_ROLE_ID, "etl-job", PARTNER_SESSION_KEY, since,
                       account=PARTNER_ACCOUNT_ID)  # fmt: skip
    uploader = records.aws_account(PARTNER_ACCOUNT_ID, f"{PARTNER_ROLE_ID}:etl-job")
    batch = 0
    for second in rec.times(WINDOW[0], WINDOW[1], 900.0):
        batch += 1
        rec.s3(second, etl, "ListObjects", PARTNER_BUCKET, ip=PARTNER_IP, agent=PARTNER_SDK,
               read_only=True, data=True, params={"list-type": "2", "prefix": "outbound/2026-03-14/"},
               bytes_out=rec.rng.randint(900, 4_000), shared=True)  # fmt: skip
        for n in range(rec.rng.randint(1, 2)):
            second += rec.rng.randint(1, 4)
            rec.s3(second, etl, "GetObject", PARTNER_BUCKET, f"outbound/2026-03-14/orders-{batch:03d}-{n}.csv",
                   ip=PARTNER_IP, agent=PARTNER_SDK, read_only=True, data=True,
                   bytes_out=rec.rng.randint(40_000, 900_000), shared=True)  # fmt: skip
        if batch % 3 == 0:
            second += rec.rng.randint(5, 30)
            rec.s3(second, uploader, "PutObject", PARTNER_BUCKET, f"inbound/2026-03-14/invoices-{batch:03d}.csv",
                   ip=PARTNER_IP, agent=PARTNER_SDK, read_only=False, data=True,
                   bytes_in=rec.rng.randint(30_000, 400_000), shared=True)  # fmt: skip


def alice(rec: Recorder) -> None:
    """IAM user alice: console sign-in with MFA, console work, CLI work with her AKIA key."""
    login = at(8, 12, 37)
    rec.console_login(login, user("alice", ALICE_ID, None), mfa=True, ip=OFFICE_IP, agent=BROWSER,
                      mfa_arn=f"arn:aws:iam::{ACCOUNT_ID}:mfa/alice")  # fmt: skip
    console = user("alice", ALICE_ID, ALICE_CONSOLE_KEY, console_since=login)
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
        second += rec.rng.randint(45, 420)
        ip = OFFICE_IPV6 if i in (5, 19) else OFFICE_IP  # the dual-stack laptop sometimes goes out over IPv6
        if service == "s3":
            rec.s3(second, console, name, params, ip=ip, agent=S3_CONSOLE, read_only=True,
                   data=False, params={"versioning": ""} if name == "GetBucketVersioning" else
                   {"location": ""} if name == "GetBucketLocation" else None, console=True)  # fmt: skip
        else:
            rec.add(second, console, f"{service}.amazonaws.com", name, region=region, ip=ip,
                    agent="AWS Internal", params=params or None, read_only=True, console=True)  # fmt: skip
    # CLI with her long-term key: an upload, a Glacier archive, a look at eu-west-1.
    cli = user("alice", ALICE_ID, ALICE_KEY)
    second = at(9, 5, 12)
    rec.add(second, cli, "sts.amazonaws.com", "GetCallerIdentity", ip=OFFICE_IP,
            agent=ALICE_CLI.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
    second += 21
    rec.s3(second, cli, "ListBuckets", None, ip=OFFICE_IP, agent=ALICE_CLI.format("s3.ls"),
           read_only=True, data=False)  # fmt: skip
    for n in range(1, 4):
        second += rec.rng.randint(3, 9)
        rec.s3(second, cli, "PutObject", APP_BUCKET, f"manual/2026-03-14/release-notes-{n}.pdf", ip=OFFICE_IP,
               agent=ALICE_CLI.format("s3.cp"), read_only=False, data=True,
               bytes_in=rec.rng.randint(80_000, 600_000))  # fmt: skip
    second = at(9, 14, 3)
    rec.add(second, cli, "glacier.amazonaws.com", "ListVaults", ip=OFFICE_IP,
            agent=ALICE_CLI.format("glacier.list-vaults"), params={"accountId": "-"}, read_only=True)  # fmt: skip
    for n, name in enumerate(("q4-2025-close.tar.gz", "q4-2025-audit.tar.gz")):
        second += rec.rng.randint(30, 90)
        archive = base64.urlsafe_b64encode(rec.rng.randbytes(102)).decode("ascii").rstrip("=")
        checksum = rec.hexstr(64)
        rec.add(second, cli, "glacier.amazonaws.com", "UploadArchive", ip=OFFICE_IP,
                agent=ALICE_CLI.format("glacier.upload-archive"),
                params={"accountId": "-", "vaultName": VAULT, "archiveDescription": name, "checksum": checksum},
                response={"location": f"/{ACCOUNT_ID}/vaults/{VAULT}/archives/{archive}",
                          "checksum": checksum, "archiveId": archive},
                read_only=False)  # fmt: skip
    second = at(9, 22, 40)
    rec.add(second, cli, "ec2.amazonaws.com", "DescribeInstances", region=OTHER_REGION, ip=OFFICE_IP,
            agent=ALICE_CLI.format("ec2.describe-instances"), params={"instancesSet": {}, "filterSet": {}},
            read_only=True)  # fmt: skip


def ci_deploy_normal(rec: Recorder) -> None:
    """ci-deploy's normal use: the CI runner syncs the static site to demo-public-assets."""
    ci = user("ci-deploy", CI_DEPLOY_ID, CI_DEPLOY_KEY)
    for start, build in ((at(8, 31, 10), "a41f9c2"), (at(10, 4, 22), "c7d03e8")):
        second = start
        rec.add(second, ci, "sts.amazonaws.com", "GetCallerIdentity", ip=CI_RUNNER_IP,
                agent=CI_CLI.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
        second += 3
        rec.s3(second, ci, "ListObjects", PUBLIC_BUCKET, ip=CI_RUNNER_IP, agent=CI_CLI.format("s3.sync"),
               read_only=True, data=True, params={"list-type": "2", "prefix": "", "encoding-type": "url"},
               bytes_out=2_411)  # fmt: skip
        for key in ("index.html", f"js/app.{build}.js", f"css/site.{build}.css", "img/logo.png"):
            second += rec.rng.randint(0, 2)
            rec.s3(second, ci, "PutObject", PUBLIC_BUCKET, key, ip=CI_RUNNER_IP, agent=CI_CLI.format("s3.sync"),
                   read_only=False, data=True, bytes_in=rec.rng.randint(3_000, 350_000))  # fmt: skip


def visitors(rec: Recorder, count: int) -> None:
    """``count`` anonymous GetObject on the public website bucket (S3 User Guide's anonymous shape)."""
    seconds: list[int] = []
    while len(seconds) < count:
        second = rec.rng.randrange(*WINDOW)
        if not logging_stopped(second) and second not in seconds:
            seconds.append(second)
    pages = ("index.html", "css/site.css", "js/app.js", "img/logo.png", "favicon.ico")
    for n, second in enumerate(sorted(seconds)):
        ip = VISITOR_IPV6[n // 7] if n in (3, 10) else rec.rng.choice(VISITOR_IPS)
        rec.s3(second, records.anonymous_caller(), "GetObject", PUBLIC_BUCKET, rec.rng.choice(pages), ip=ip,
               agent=rec.rng.choice(VISITOR_AGENTS), read_only=True, data=True,
               bytes_out=rec.rng.randint(800, 180_000))  # fmt: skip
