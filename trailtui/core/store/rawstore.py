"""How the original bytes of each event are kept in the index (table ``event_raw``).

The detail pane and ``--format ndjson`` must give back an event exactly as it stood in its file,
so the loader stores the event's own byte span, compressed with zlib and a preset dictionary of
the text every CloudTrail record repeats (field names of "CloudTrail record contents" in the
AWS CloudTrail User Guide). The dictionary is part of the format: changing it needs a
``SCHEMA_VERSION`` bump.
"""

from __future__ import annotations

import zlib

from trailtui.core.ingest.decode import parse_event_json

# Strings most CloudTrail records share; zlib finds back-references into them, so a ~1.4 KB
# event compresses to far less than it would alone. Most frequent text goes last (closest).
_ZDICT = (
    b'"sessionCredentialFromConsole":"true","edgeDeviceDetails":null,"insightDetails":'
    b'"serviceEventDetails":null,"sharedEventID":"","vpcEndpointId":"vpce-","addendum":'
    b'"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256",'
    b'"bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"","bytesTransferredOut":0},'
    b'"tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256",'
    b'"clientProvidedHostHeader":".s3.amazonaws.com"},'
    b'"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::"},{"accountId":"",'
    b'"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::"}],"eventType":"AwsApiCall",'
    b'"managementEvent":false,"recipientAccountId":"","eventCategory":"Data",'
    b'"readOnly":true,"requestID":"","eventID":"","errorCode":"AccessDenied","errorMessage":"Access Denied",'
    b'"requestParameters":{"bucketName":"","Host":".s3.amazonaws.com","key":""},'
    b'"responseElements":null,"userAgent":"[aws-cli/2. Python/3. Linux/ botocore/1.]",'
    b'"sourceIPAddress":"","awsRegion":"us-east-1","eventName":"","eventSource":"s3.amazonaws.com",'
    b'"eventTime":"T00:00:00Z","userIdentity":{"type":"AssumedRole","principalId":"AROA:",'
    b'"arn":"arn:aws:sts:::assumed-role/","accountId":"","accessKeyId":"ASIA",'
    b'"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam:::role/",'
    b'"accountId":"","userName":""},"webIdFederationData":{},"attributes":{'
    b'"creationDate":"T00:00:00Z","mfaAuthenticated":"false"}},"invokedBy":".amazonaws.com"},'
    b'{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA",'
    b'"arn":"arn:aws:iam:::user/","accountId":"","accessKeyId":"AKIA","userName":""},'
)

# Level 1 and an 8 KiB window: compressing is on the loader's hot path. Measured on 2,118 SANS
# events (1,459 B each): this packs to 476 B in 17 us; the default 32 KiB window took 89 us per
# event (its state is set up per event) for 480 B, and level 6 saved ~2% more.
_LEVEL = 1
_WBITS = -13  # raw deflate, 2**13 window: the dictionary (< 8 KiB) fits it whole
_MEMLEVEL = 8


def pack_event(original: bytes) -> bytes:
    """Compress one event's original bytes for the ``event_raw.raw`` column.

    ``original`` is the exact byte span of the event in its (decompressed) file. Returns the
    zlib stream (raw deflate with the preset dictionary). Inverse: :func:`unpack_event`.
    """
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEMLEVEL, zlib.Z_DEFAULT_STRATEGY, _ZDICT)
    return packer.compress(original) + packer.flush()


def unpack_event(packed: bytes) -> bytes:
    """Return the original bytes of an event from its ``event_raw.raw`` value.

    Raises :class:`zlib.error` if ``packed`` was not written by :func:`pack_event`.
    """
    unpacker = zlib.decompressobj(_WBITS, _ZDICT)
    return unpacker.decompress(packed) + unpacker.flush()


def unpack_event_json(packed: bytes) -> object:
    """Return the event of an ``event_raw.raw`` value parsed into Python objects (with
    :func:`trailtui.core.ingest.decode.parse_event_json`, so nesting depth does not matter).

    Raises :class:`zlib.error` or :class:`orjson.JSONDecodeError` on a value this module did not
    write.
    """
    return parse_event_json(unpack_event(packed))
