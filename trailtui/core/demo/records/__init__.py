"""Record builders: the one place that knows how to build a realistic CloudTrail record.

The demo (:mod:`trailtui.core.demo.story`) and the tests (``tests/conftest.make_event``) build
their events here. Each builder is a pure function: the same arguments give the same dict, its
keys in the order CloudTrail writes them; IDs (``eventID``, ``requestID``, keys, tokens) are
arguments, never invented here. Event builders take ``**fields``, top-level fields set last as
given (``errorCode="AccessDenied"``), for what a builder does not model.

- who: :mod:`.identities` (``userIdentity`` per "CloudTrail userIdentity element", AWS CloudTrail
  User Guide): :func:`iam_user`, :func:`assumed_role`, :func:`root`, :func:`aws_service`,
  :func:`invoked_by`, :func:`aws_account`, :func:`anonymous_caller`, :func:`federated_user`,
  :func:`identity_center_user`;
- any API call and the texts records carry: :mod:`.calls` (per "CloudTrail record contents"):
  :func:`api_call`, :func:`access_denied_message`, :func:`endpoint_host`, :func:`sts_time_text`;
- S3: :mod:`.s3`: :func:`s3_call` (bucket and object level, data events), :func:`kms_call_for_s3`;
- sessions and keys: :mod:`.credentials`: :func:`assume_role_call`, :func:`create_access_key_call`,
  :func:`console_login`.

Times are the text a record carries (UTC ``YYYY-MM-DDTHH:MM:SSZ`` from
:func:`trailtui.core.times.event_time_text`); sizes are bytes.
"""

from __future__ import annotations

from trailtui.core.demo.records.calls import access_denied_message, api_call, endpoint_host, sts_time_text
from trailtui.core.demo.records.credentials import (
    CONSOLE_HOME,
    assume_role_call,
    console_login,
    create_access_key_call,
)
from trailtui.core.demo.records.identities import (
    EXAMPLE_ACCOUNT_ID,
    anonymous_caller,
    assumed_role,
    aws_account,
    aws_service,
    federated_user,
    iam_user,
    identity_center_user,
    invoked_by,
    root,
)
from trailtui.core.demo.records.s3 import kms_call_for_s3, s3_call
from trailtui.core.ingest.extract import ANONYMOUS_PRINCIPAL

__all__ = [
    "ANONYMOUS_PRINCIPAL",
    "CONSOLE_HOME",
    "EXAMPLE_ACCOUNT_ID",
    "access_denied_message",
    "anonymous_caller",
    "api_call",
    "assume_role_call",
    "assumed_role",
    "aws_account",
    "aws_service",
    "console_login",
    "create_access_key_call",
    "endpoint_host",
    "federated_user",
    "iam_user",
    "identity_center_user",
    "invoked_by",
    "kms_call_for_s3",
    "root",
    "s3_call",
    "sts_time_text",
]
