"""Delivering the demo's records as a trail delivers them to S3: files, names, re-deliveries, a digest.

Layout ("CloudTrail log file examples" / "Finding your CloudTrail log files", AWS CloudTrail
User Guide)::

    AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 letters and digits>.json.gz
    AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
        <account>_CloudTrail-Digest_<region>_<trail>_<region>_<YYYYMMDDTHHMMSSZ>.json.gz

Each log file is the gzip (``mtime=0``, so the same records give the same bytes) of
``{"Records":[record,...]}`` and holds about five minutes of one region's records, named by its
delivery minute (the end of those five minutes) and dated by it. As real trails do, records
within a file are mostly, not strictly, in time order, and a few are delivered twice (same
``eventID``, same bytes) at the start of the region's next file. The digest follows "CloudTrail
digest file structure": it holds no ``Records`` (readers must skip it) and its ``hashValue``
entries are the real SHA-256 of the listed files' uncompressed bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import string
from dataclasses import dataclass
from datetime import datetime

import orjson

from trailtui.core.demo.recorder import random_hex
from trailtui.core.demo.setting import ACCOUNT_ID, HOME_REGION, LOG_BUCKET, TRAIL_NAME, at, event_time, moment

#: Seconds of records in one log file.
FILE_SECONDS = 300

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Delivery:
    """What a trail delivered: ``log_files`` as ``(path under the destination, gzip bytes,
    records in it)``, the ``digest`` as ``(path, gzip bytes)``, and how many records were
    ``duplicates`` (delivered a second time)."""

    log_files: list[tuple[str, bytes, int]]
    digest: tuple[str, bytes]
    duplicates: int


def log_file_path(account_id: str, region: str, delivered: datetime, unique: str) -> str:
    """Where a trail puts a log file delivered at ``delivered`` (UTC):
    ``("111122223333", "us-east-1", 2026-03-14 10:05 UTC, "Xk3...")`` →
    ``AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/111122223333_CloudTrail_us-east-1_20260314T1005Z_Xk3....json.gz``.
    ``unique`` is the file's 16 letters and digits."""
    folder = f"AWSLogs/{account_id}/CloudTrail/{region}/{delivered:%Y/%m/%d}"
    return f"{folder}/{account_id}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{unique}.json.gz"


def digest_file_path(account_id: str, region: str, trail_name: str, end: datetime) -> str:
    """Where a trail puts the digest covering the hour up to ``end`` (UTC), e.g.
    ``AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20260314T105812Z.json.gz``."""
    folder = f"AWSLogs/{account_id}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}"
    return f"{folder}/{account_id}_CloudTrail-Digest_{region}_{trail_name}_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz"


def records_document(records: list[bytes]) -> bytes:
    """``{"Records":[...]}`` of already-serialised records (uncompressed bytes)."""
    return b'{"Records":[' + b",".join(records) + b"]}"


def _routine(record: dict) -> bool:
    """A background record (app server, inventory Lambda): the only ones re-delivered, so the
    story's counts hold with or without deduplication."""
    arn = record["userIdentity"].get("arn", "")
    return "assumed-role/app-server/" in arn or "assumed-role/inventory-collector/" in arn


def deliver(events: list[tuple[int, int, str, dict]], rng: random.Random, *, duplicates: int) -> Delivery:
    """Group ``events`` (``(second after midnight, sequence, awsRegion, record)``, as a
    :class:`~.recorder.Recorder` keeps them) into ~5-minute files per region, re-deliver
    ``duplicates`` background records and write the digest, drawing from ``rng``.

    Raises ValueError when fewer than ``duplicates`` files hold a background record.
    """
    events = sorted(events, key=lambda item: (item[0], item[1]))
    slots: dict[tuple[str, int], list[tuple[int, bytes, bool]]] = {}
    for second, _, region, record in events:
        slot = slots.setdefault((region, second // FILE_SECONDS), [])
        slot.append((second, orjson.dumps(record), _routine(record)))
    order = sorted(slots, key=lambda item: (item[1], item[0] != HOME_REGION))
    for slot in order:  # real files are mostly, not strictly, in time order
        records = slots[slot]
        for i in range(len(records) - 1):
            if rng.random() < 0.04:
                records[i], records[i + 1] = records[i + 1], records[i]
    home = [slot for slot in order if slot[0] == HOME_REGION]
    eligible = [i for i in range(len(home) - 1) if any(item[2] for item in slots[home[i]])]
    for index in sorted(rng.sample(eligible, duplicates)):
        routine = [item for item in slots[home[index]] if item[2]]
        slots[home[index + 1]].insert(0, routine[rng.randrange(len(routine))])
    log_files: list[tuple[str, bytes, int]] = []
    listing: list[tuple[str, int, str, bytes, list[int]]] = []  # what the digest lists
    for region, slot in order:
        records = slots[(region, slot)]
        delivered = (slot + 1) * FILE_SECONDS
        unique = "".join(rng.choice(_ALNUM) for _ in range(16))
        path = log_file_path(ACCOUNT_ID, region, moment(delivered), unique)
        raw = records_document([item[1] for item in records])
        log_files.append((path, gzip.compress(raw, compresslevel=6, mtime=0), len(records)))
        listing.append((region, delivered, path, raw, [item[0] for item in records]))
    return Delivery(log_files, _digest(listing, rng), duplicates)


def _digest(listing: list[tuple[str, int, str, bytes, list[int]]], rng: random.Random) -> tuple[str, bytes]:
    """One hourly digest for the home region, before the attack.

    ``listing`` holds ``(region, delivery second, path, uncompressed bytes, event seconds)``.
    """
    start, end = at(9, 58, 12), at(10, 58, 12)
    log_files = []
    times: list[int] = []
    for region, delivered, path, raw, seconds in listing:
        if region != HOME_REGION or not start < delivered <= end:
            continue
        times += seconds
        log_files.append(
            {
                "s3Bucket": LOG_BUCKET,
                "s3Object": path,
                "hashValue": hashlib.sha256(raw).hexdigest(),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": event_time(max(seconds)),
                "oldestEventTime": event_time(min(seconds)),
            }
        )
    path = digest_file_path(ACCOUNT_ID, HOME_REGION, TRAIL_NAME, moment(end))
    body = {
        "awsAccountId": ACCOUNT_ID,
        "digestStartTime": event_time(start),
        "digestEndTime": event_time(end),
        "digestS3Bucket": LOG_BUCKET,
        "digestS3Object": path,
        "digestPublicKeyFingerprint": random_hex(rng, 32),
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": event_time(max(times)),
        "oldestEventTime": event_time(min(times)),
        "previousDigestS3Bucket": LOG_BUCKET,
        "previousDigestS3Object": digest_file_path(ACCOUNT_ID, HOME_REGION, TRAIL_NAME, moment(start)),
        "previousDigestHashValue": random_hex(rng, 64),
        "previousDigestHashAlgorithm": "SHA-256",
        "previousDigestSignature": random_hex(rng, 512),
        "logFiles": log_files,
    }
    return path, gzip.compress(orjson.dumps(body), compresslevel=6, mtime=0)
