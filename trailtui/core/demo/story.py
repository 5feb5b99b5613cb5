"""The demo's incident story: what happens when, to whom (2026-03-14, account 111122223333).

Background (:mod:`trailtui.core.demo.background`): an EC2 app role reads and writes
``demo-app-uploads``, a Lambda inventories EC2, AWS services act on their own, account
444455556666 exchanges files cross-account, anonymous visitors fetch ``demo-public-assets``,
``alice`` works in the console (with MFA) and the CLI, and ``ci-deploy``'s CI runner deploys.

The incident (here):

* a root console sign-in without MFA from the office, and two root calls;
* the access key of IAM user ``ci-deploy`` leaks; from 198.51.100.23 it is used for recon (a
  burst of 40 ``AccessDenied``), ``AssumeRole`` into ``DataPipeline`` (session key
  ``ASIAQ3EGL7KD2VYB6WPE``), 100 ``GetObject`` on ``finance-reports``; the bucket's public access
  block is removed and a public bucket policy put (then fetched anonymously); a user
  ``backup-svc`` with an access key is created; ``StopLogging`` hides 11:44-12:58;
* alice restarts logging and cleans up; the stolen session is then refused.

:data:`STORY` holds the numbers the README cites; they hold for every seed (only IDs and
background timing vary). Records per "CloudTrail record contents" (AWS CloudTrail User Guide),
built by :mod:`trailtui.core.demo.records`.
"""

from __future__ import annotations

import orjson

from trailtui.core.demo import background, records
from trailtui.core.demo.recorder import Recorder
from trailtui.core.demo.records import access_denied_message as denied
from trailtui.core.demo.setting import (
    ACCOUNT_ID,
    ALICE_CONSOLE_KEY,
    ALICE_ID,
    APP_BUCKET,
    ATTACKER_CLI,
    ATTACKER_IP,
    BACKUP_SVC_ID,
    BACKUP_SVC_KEY,
    BROWSER,
    CI_DEPLOY_ID,
    CI_DEPLOY_KEY,
    FINANCE_BUCKET,
    FINANCE_KMS_KEY,
    HOME_REGION,
    LOG_BUCKET,
    OFFICE_IP,
    OTHER_REGION,
    PARTNER_BUCKET,
    PIPELINE_ROLE_ID,
    PIPELINE_SESSION_KEY,
    S3_CONSOLE,
    START_LOGGING,
    STOP_LOGGING,
    TRAIL_ARN,
    at,
    role_session,
    root_user,
    sts_time,
    user,
)

#: The numbers a README can cite (all hold for every seed; only IDs and background timing vary).
STORY = {
    "date": "2026-03-14",
    "account": ACCOUNT_ID,
    "window_utc": "08:00-14:00",
    "leaked_user": "ci-deploy",
    "leaked_key": CI_DEPLOY_KEY,
    "attacker_ip": ATTACKER_IP,
    "access_denied_from_ci_deploy": 40,
    "assumed_role": "DataPipeline",
    "role_session": "pipeline-debug",
    "session_key": PIPELINE_SESSION_KEY,
    "getobject_finance_reports": 100,
    "public_bucket": FINANCE_BUCKET,
    "persistence_user": "backup-svc",
    "root_console_login_without_mfa": 1,
    "anonymous_getobject_public_assets": 15,
    "anonymous_getobject_finance_reports": 3,
    "logging_gap_utc": "11:44:51-12:58:40",
    "duplicates": 5,
}


def tell(seed: int) -> Recorder:
    """Record the whole demo day for ``seed``: background and incident, in one random stream.

    Returns the :class:`~.recorder.Recorder` holding the records (its ``rng`` continues into the
    delivery, which shuffles and re-delivers a few records).
    """
    rec = Recorder(seed)
    # The order is part of the random stream: changing it changes every later ID and time.
    background.app_server(rec)
    background.inventory(rec)
    background.service_events(rec)
    background.partner(rec)
    background.alice(rec)
    background.ci_deploy_normal(rec)
    root_login(rec)
    background.visitors(rec, STORY["anonymous_getobject_public_assets"])
    attack(rec)
    response(rec)
    return rec


def root_login(rec: Recorder) -> None:
    """A root console sign-in without MFA from the office, and two root calls."""
    login = at(9, 31, 5)
    rec.console_login(login, root_user(None), mfa=False, ip=OFFICE_IP, agent=BROWSER)
    root = root_user(login)
    rec.add(login + 35, root, "iam.amazonaws.com", "GetAccountSummary", ip=OFFICE_IP, agent="AWS Internal",
            read_only=True, console=True)  # fmt: skip
    rec.add(login + 61, root, "iam.amazonaws.com", "ListAccountAliases", ip=OFFICE_IP, agent="AWS Internal",
            read_only=True, console=True)  # fmt: skip


def attack(rec: Recorder) -> None:
    """The leaked ci-deploy key: recon, denied burst, AssumeRole, exfiltration, persistence."""
    ci = user("ci-deploy", CI_DEPLOY_ID, CI_DEPLOY_KEY)
    ip, cli = ATTACKER_IP, ATTACKER_CLI
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/ci-deploy"
    second = at(11, 2, 14)
    rec.add(second, ci, "sts.amazonaws.com", "GetCallerIdentity", ip=ip,
            agent=cli.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
    second += 17
    rec.s3(second, ci, "ListBuckets", None, ip=ip, agent=cli.format("s3.ls"), read_only=True, data=False)
    for region in (HOME_REGION, OTHER_REGION):
        second += rec.rng.randint(4, 9)
        rec.add(second, ci, "ec2.amazonaws.com", "DescribeInstances", region=region, ip=ip,
                agent=cli.format("ec2.describe-instances"), params={"instancesSet": {}, "filterSet": {}},
                read_only=True,
                error=("Client.UnauthorizedOperation", "You are not authorized to perform this operation. "
                       + denied(user_arn, "ec2:DescribeInstances")))  # fmt: skip

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
    second = at(11, 3, 20)
    for name, params, resource in iam_calls:
        second += rec.rng.randint(1, 6)
        target = resource if resource == "*" else f"arn:aws:iam::{ACCOUNT_ID}:{resource}"
        action = "iam:" + name
        rec.add(second, ci, "iam.amazonaws.com", name, ip=ip, agent=cli.format("iam." + _kebab(name)),
                params=params or None, read_only=True,
                error=("AccessDenied", denied(user_arn, action, target)))  # fmt: skip
    s3_calls = (
        ("GetBucketPolicy", "s3:GetBucketPolicy", {"policy": ""}),
        ("GetBucketAcl", "s3:GetBucketAcl", {"acl": ""}),
        ("GetBucketPolicyStatus", "s3:GetBucketPolicyStatus", {"policyStatus": ""}),
        ("GetBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", {"publicAccessBlock": ""}),
        ("ListObjects", "s3:ListBucket", {"list-type": "2", "prefix": "", "encoding-type": "url"}),
    )
    for bucket in (FINANCE_BUCKET, APP_BUCKET, PARTNER_BUCKET, LOG_BUCKET):
        for name, action, params in s3_calls:
            second += rec.rng.randint(0, 4)
            rec.s3(second, ci, name, bucket, ip=ip, agent=cli.format("s3api." + _kebab(name)),
                   read_only=True, data=name == "ListObjects", params=params,
                   error=denied(user_arn, action, f'"arn:aws:s3:::{bucket}"'))  # fmt: skip
    for n in range(1, 9):
        key = f"2026/q1/payroll-{n:03d}.csv"
        second += rec.rng.randint(1, 5)
        message = denied(user_arn, "s3:GetObject", f'"arn:aws:s3:::{FINANCE_BUCKET}/{key}"')
        rec.s3(second, ci, "GetObject", FINANCE_BUCKET, key, ip=ip, agent=cli.format("s3.cp"),
               read_only=True, data=True, error=message)  # fmt: skip

    # The pivot: ci-deploy may assume DataPipeline (the CI triggers the pipeline).
    since = at(11, 10, 5)
    rec.assume_role(since, ci, "DataPipeline", PIPELINE_ROLE_ID, "pipeline-debug", PIPELINE_SESSION_KEY,
                    ip=ip, agent=cli.format("sts.assume-role"), duration=12 * 3600, duration_param=True)  # fmt: skip
    role = role_session("DataPipeline", PIPELINE_ROLE_ID, "pipeline-debug", PIPELINE_SESSION_KEY, since)
    second = since + 36
    rec.add(second, role, "sts.amazonaws.com", "GetCallerIdentity", ip=ip,
            agent=cli.format("sts.get-caller-identity"), read_only=True)  # fmt: skip
    for prefix in ("", "2026/", "2026/q1/"):
        second += rec.rng.randint(5, 9)
        rec.s3(second, role, "ListObjects", FINANCE_BUCKET, ip=ip, agent=cli.format("s3.ls"), read_only=True,
               data=True, params={"list-type": "2", "prefix": prefix, "delimiter": "/", "encoding-type": "url"},
               bytes_out=rec.rng.randint(1_500, 9_000))  # fmt: skip
    keys = (
        [f"2026/q1/payroll-{n:03d}.csv" for n in range(1, 41)]
        + [f"2026/q1/invoices-{n:03d}.csv" for n in range(1, 31)]
        + [f"2025/q4/payroll-{n:03d}.csv" for n in range(1, 21)]
        + [f"2026/q1/board/forecast-v{n}.xlsx" for n in range(1, 11)]
    )
    second = at(11, 12, 3)
    for n, key in enumerate(keys):
        rec.s3(second, role, "GetObject", FINANCE_BUCKET, key, ip=ip, agent=cli.format("s3.sync"),
               read_only=True, data=True, bytes_out=rec.rng.randint(40_000, 2_500_000))  # fmt: skip
        if n in (0, 37):
            rec.kms_for_s3(second, role, "Decrypt", FINANCE_KMS_KEY, FINANCE_BUCKET)
        second += rec.rng.randint(0, 3)

    # Make the bucket public and check it from outside.
    second = at(11, 33, 10)
    rec.s3(second, role, "DeleteBucketPublicAccessBlock", FINANCE_BUCKET, ip=ip,
           agent=cli.format("s3api.delete-public-access-block"), read_only=False, data=False,
           params={"publicAccessBlock": ""})  # fmt: skip
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{FINANCE_BUCKET}/*"}],
    }  # fmt: skip
    second += 31
    rec.s3(second, role, "PutBucketPolicy", FINANCE_BUCKET, ip=ip, agent=cli.format("s3api.put-bucket-policy"),
           read_only=False, data=False, params={"bucketPolicy": policy, "policy": ""})  # fmt: skip
    second = at(11, 35, 12)
    for key in ("2026/q1/payroll-001.csv", "2026/q1/payroll-002.csv", "2026/q1/board/forecast-v10.xlsx"):
        second += rec.rng.randint(10, 40)
        rec.s3(second, records.anonymous_caller(), "GetObject", FINANCE_BUCKET, key, ip=ip, agent="curl/8.5.0",
               read_only=True, data=True, bytes_out=rec.rng.randint(40_000, 2_500_000))  # fmt: skip

    # Persistence: an admin user with a key of its own.
    second = at(11, 38, 2)
    rec.add(second, role, "iam.amazonaws.com", "CreateUser", ip=ip, agent=cli.format("iam.create-user"),
            params={"userName": "backup-svc"},
            response={"user": {"path": "/", "userName": "backup-svc", "userId": BACKUP_SVC_ID,
                               "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/backup-svc",
                               "createDate": sts_time(second)}},
            read_only=False)  # fmt: skip
    second += 18
    rec.add(second, role, "iam.amazonaws.com", "AttachUserPolicy", ip=ip,
            agent=cli.format("iam.attach-user-policy"),
            params={"userName": "backup-svc", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            read_only=False)  # fmt: skip
    second += 24
    rec.create_access_key(second, role, "backup-svc", BACKUP_SVC_KEY, ip=ip, agent=cli.format("iam.create-access-key"))
    rec.add(STOP_LOGGING, role, "cloudtrail.amazonaws.com", "StopLogging", ip=ip,
            agent=cli.format("cloudtrail.stop-logging"), params={"name": TRAIL_ARN}, read_only=False)  # fmt: skip


def response(rec: Recorder) -> None:
    """alice notices the stopped trail, restarts it and cleans up; the stolen session is refused."""
    console = user("alice", ALICE_ID, ALICE_CONSOLE_KEY, console_since=at(8, 12, 37))
    s3_console = dict(ip=OFFICE_IP, agent=S3_CONSOLE, read_only=False, data=False, console=True)
    steps = [
        (START_LOGGING, "cloudtrail", "StartLogging", {"name": TRAIL_ARN}),
        (at(13, 0, 12), "iam", "UpdateAccessKey",
         {"userName": "ci-deploy", "accessKeyId": CI_DEPLOY_KEY, "status": "Inactive"}),
        (at(13, 1, 5), "iam", "DeleteAccessKey", {"userName": "backup-svc", "accessKeyId": BACKUP_SVC_KEY}),
        (at(13, 1, 30), "iam", "DetachUserPolicy",
         {"userName": "backup-svc", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        (at(13, 1, 52), "iam", "DeleteUser", {"userName": "backup-svc"}),
        (at(13, 3, 10), "iam", "PutRolePolicy",
         {"roleName": "DataPipeline", "policyName": "AWSRevokeOlderSessions",
          "policyDocument": orjson.dumps({"Version": "2012-10-17", "Statement": [
              {"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
               "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-03-14T13:03:10.000Z"}}}]}).decode()}),
    ]  # fmt: skip
    for second, service, name, params in steps:
        rec.add(second, console, f"{service}.amazonaws.com", name, ip=OFFICE_IP, agent="AWS Internal",
                params=params, read_only=False, console=True)  # fmt: skip
    rec.s3(at(13, 4, 25), console, "PutBucketPublicAccessBlock", FINANCE_BUCKET,
           params={"publicAccessBlock": "", "PublicAccessBlockConfiguration": {
               "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "RestrictPublicBuckets": True,
               "BlockPublicPolicy": True, "BlockPublicAcls": True, "IgnorePublicAcls": True}},
           **s3_console)  # fmt: skip
    rec.s3(at(13, 4, 48), console, "DeleteBucketPolicy", FINANCE_BUCKET, params={"policy": ""}, **s3_console)
    # The attacker's 12-hour session still exists but the revocation policy now denies it.
    role = role_session("DataPipeline", PIPELINE_ROLE_ID, "pipeline-debug", PIPELINE_SESSION_KEY, at(11, 10, 5))
    role_arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/DataPipeline/pipeline-debug"
    second = at(13, 15, 2)
    for n in (41, 42, 43):
        key = f"2026/q1/payroll-{n:03d}.csv"
        second += rec.rng.randint(1, 4)
        rec.s3(second, role, "GetObject", FINANCE_BUCKET, key, ip=ATTACKER_IP,
               agent=ATTACKER_CLI.format("s3.cp"), read_only=True, data=True,
               error=denied(role_arn, "s3:GetObject", f'"arn:aws:s3:::{FINANCE_BUCKET}/{key}"',
                            explicit_deny=True))  # fmt: skip


def _kebab(name: str) -> str:
    """``ListAttachedUserPolicies`` -> ``list-attached-user-policies`` (the CLI command name)."""
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("-")
        out.append(char.lower())
    return "".join(out)
