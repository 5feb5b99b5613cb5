"""S3 calls as CloudTrail logs them, and the KMS calls S3 makes for SSE-KMS objects.

Per "Logging Amazon S3 API calls using AWS CloudTrail" and "Identifying Amazon S3 requests using
CloudTrail" (Amazon S3 User Guide). Sizes are bytes.
"""

from __future__ import annotations

from trailtui.core.demo.records.calls import api_call, client_host
from trailtui.core.demo.records.identities import EXAMPLE_ACCOUNT_ID, invoked_by
from trailtui.core.ingest.extract import ANONYMOUS_PRINCIPAL


def s3_call(
    event_name: str,
    bucket_name: str | None,
    key: str | None = None,
    *,
    user_identity: dict,
    event_time: str,
    event_id: str,
    source_ip_address: str,
    user_agent: str,
    read_only: bool,
    management_event: bool,
    aws_region: str = "us-east-1",
    request_parameters: dict | None = None,
    response_elements: dict | None = None,
    bytes_transferred_in: int = 0,
    bytes_transferred_out: int = 0,
    access_denied: str | None = None,
    request_id: str | None = None,
    amz_id_2: str | None = None,
    recipient_account_id: str = EXAMPLE_ACCOUNT_ID,
    **fields,
) -> dict:
    """An S3 API call: bucket-level (management) or object-level (data event).

    S3 adds ``Host`` (and ``bucketName``, ``key``) to ``requestParameters``, the bucket and object to
    ``resources``, the transfer sizes to ``additionalEventData`` (with ``SignatureVersion`` and
    ``AuthenticationMethod`` for signed requests only), wraps an SDK's ``userAgent`` in brackets
    and writes ``eventVersion`` 1.09. The other keyword arguments are :func:`api_call`'s.

    :param event_name: ``eventName``, e.g. ``"GetObject"``
    :param bucket_name: ``requestParameters.bucketName``, e.g. ``"finance-reports"``; None for a
        call on no bucket (ListBuckets)
    :param key: ``requestParameters.key``, e.g. ``"2026/q1/payroll-001.csv"``; None for a bucket call
    :param management_event: False for an object-level data event (GetObject, PutObject, ListObjects)
    :param request_parameters: merged after ``bucketName``, ``Host`` and ``key``, e.g. ``{"acl": ""}``
    :param bytes_transferred_in: ``additionalEventData.bytesTransferredIn``, e.g. ``48213`` (bytes)
    :param bytes_transferred_out: ``additionalEventData.bytesTransferredOut``, e.g. ``1873`` (bytes)
    :param access_denied: makes the call an ``AccessDenied`` with this ``errorMessage``
    :param request_id: ``requestID``, S3's 16 hex digits, e.g. ``"8A3F0C2D9B1E4F70"``
    :param amz_id_2: ``additionalEventData.x-amz-id-2``, e.g. ``"Xq3...=="``; None leaves it out
    """
    host = f"{bucket_name}.s3.{aws_region}.amazonaws.com" if bucket_name else f"s3.{aws_region}.amazonaws.com"
    request: dict = {}
    if bucket_name:
        request["bucketName"] = bucket_name
    request["Host"] = host
    if key is not None:
        request["key"] = key
    if request_parameters:
        request.update(request_parameters)
    signed = user_identity.get("accountId") != ANONYMOUS_PRINCIPAL
    extra: dict = {}
    if signed:
        extra["SignatureVersion"] = "SigV4"
    extra["CipherSuite"] = "TLS_AES_128_GCM_SHA256"
    extra["bytesTransferredIn"] = bytes_transferred_in
    if signed:
        extra["AuthenticationMethod"] = "AuthHeader"
    if amz_id_2 is not None:
        extra["x-amz-id-2"] = amz_id_2
    extra["bytesTransferredOut"] = bytes_transferred_out
    resources = None
    if bucket_name:
        bucket = {"accountId": recipient_account_id, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket_name}"}
        resources = [bucket]
        if key is not None:
            resources.insert(0, {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket_name}/{key}"})
    wrapped = user_agent.startswith("[") or source_ip_address.endswith(".amazonaws.com") or user_agent == "AWS Internal"
    return api_call(
        event_name,
        "s3.amazonaws.com",
        user_identity=user_identity,
        event_time=event_time,
        event_id=event_id,
        source_ip_address=source_ip_address,
        user_agent=user_agent if wrapped else f"[{user_agent}]",
        read_only=read_only,
        aws_region=aws_region,
        request_parameters=request,
        response_elements=response_elements,
        error_code="AccessDenied" if access_denied else None,
        error_message=access_denied or None,
        additional_event_data=extra,
        request_id=request_id,
        resources=resources,
        management_event=management_event,
        recipient_account_id=recipient_account_id,
        client_provided_host_header=client_host(source_ip_address, host),
        event_version="1.09",
        **fields,
    )


def kms_call_for_s3(
    event_name: str,
    *,
    user_identity: dict,
    key_arn: str,
    bucket_name: str,
    event_time: str,
    event_id: str,
    request_id: str | None = None,
    aws_region: str = "us-east-1",
    recipient_account_id: str = EXAMPLE_ACCOUNT_ID,
    **fields,
) -> dict:
    """The KMS call S3 makes for an SSE-KMS object, logged under the S3 caller with ``invokedBy``
    (``sourceIPAddress`` and ``userAgent`` ``s3.amazonaws.com``).

    :param event_name: ``"GenerateDataKey"`` (PutObject) or ``"Decrypt"`` (GetObject)
    :param user_identity: the S3 caller's ``userIdentity``; ``invokedBy`` is added to a copy
    :param key_arn: the KMS key, e.g. ``"arn:aws:kms:us-east-1:111122223333:key/5f0c2e8a-..."``
    :param bucket_name: the bucket of the object, in ``encryptionContext``, e.g. ``"demo-app-uploads"``
    """
    params: dict = {"encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{bucket_name}"}}
    if event_name == "GenerateDataKey":
        params = {"keyId": key_arn, **params, "keySpec": "AES_256"}
    else:
        params["encryptionAlgorithm"] = "SYMMETRIC_DEFAULT"
    return api_call(
        event_name,
        "kms.amazonaws.com",
        user_identity=invoked_by(user_identity, "s3.amazonaws.com"),
        event_time=event_time,
        event_id=event_id,
        source_ip_address="s3.amazonaws.com",
        user_agent="s3.amazonaws.com",
        read_only=True,
        aws_region=aws_region,
        request_parameters=params,
        request_id=request_id,
        resources=[{"accountId": recipient_account_id, "type": "AWS::KMS::Key", "ARN": key_arn}],
        recipient_account_id=recipient_account_id,
        **fields,
    )
