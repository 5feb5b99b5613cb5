"""Turn the bytes of one log file into CloudTrail events, keeping each event's original bytes.

Shapes accepted (any of them gzipped, detected from content, not from the file name):

* an S3 delivery file ``{"Records": [event, ...]}`` ("CloudTrail log file examples" in the AWS
  CloudTrail User Guide);
* a bare JSON array of events, or a single event object;
* NDJSON, one event (or one ``{"Records": [...]}`` document) per line, as CloudWatch Logs and
  Logstash exports write them;
* ``aws cloudtrail lookup-events`` output: ``{"Events": [{"CloudTrailEvent": "<event as a JSON
  string>", ...}]}`` (each event is the string's text).

CloudTrail digest files (``{"digestPublicKeyFingerprint": ..., "logFiles": [...]}``, no
``Records``; "CloudTrail digest file structure" in the user guide) and files that hold no
CloudTrail are *skipped* with a reason, not errors. Everything else that cannot be read is an
error with its position (line and column for JSON), and one bad record never costs its file's
good records.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import orjson

#: File name endings that promise a log file: content that is not JSON under such a name is an
#: error, under any other name (README.md, LICENSE, .zip) the file is skipped as "not CloudTrail".
LOG_FILE_SUFFIXES = (".json", ".json.gz", ".gz", ".jsonl", ".ndjson", ".log", ".cloudtrail")

#: Keys whose presence makes a JSON object one CloudTrail event (record contents in the user guide).
_EVENT_KEYS = frozenset(
    ("eventName", "eventID", "eventSource", "eventTime", "userIdentity", "eventVersion")
)
_DIGEST_KEYS = frozenset(("digestPublicKeyFingerprint", "digestSignatureAlgorithm", "logFiles"))

_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_RAW_DICT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class DecodedRecord:
    """One event found in a file.

    ``original`` is the event's exact bytes (for lookup-events output, the UTF-8 text of its
    ``CloudTrailEvent`` string); ``event`` is the parsed JSON object; ``index`` its 0-based
    position among the file's records; ``offset`` where ``original`` starts in the file's
    content as :func:`read_log_content` returns it (None when it is not a span of the file).
    """

    index: int
    original: bytes
    event: dict
    in_file: bool = True
    offset: int | None = None


@dataclass
class DecodedFile:
    """What :func:`decode_bytes` found in one file.

    ``outcome`` is ``"events"`` (``records`` hold the events; ``record_errors`` may list bad
    records), ``"skipped"`` (a digest or not CloudTrail; ``reason`` says which) or ``"failed"``
    (nothing usable; ``reason`` says why and where). ``record_errors`` is a list of
    ``(position, message)`` pairs such as ``("record 3", "not a JSON object (a string)")``.
    """

    outcome: str
    records: list[DecodedRecord] = field(default_factory=list)
    record_errors: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None
    shape: str | None = None


class FileProblem(Exception):
    """A whole file cannot be decoded; ``str(err)`` is the reason shown to the user."""


def read_log_bytes(path: Path) -> bytes:
    """Return the decompressed bytes of ``path`` (gunzipped when it starts with the gzip magic).

    Raises :class:`FileProblem` for an unreadable file, a truncated or corrupt gzip stream.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FileProblem(f"cannot read: {err.strerror or err}") from None
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except EOFError:
            raise FileProblem("truncated gzip: the stream ends before its end marker") from None
        except (gzip.BadGzipFile, zlib.error, OSError) as err:
            raise FileProblem(f"corrupt gzip: {err}") from None
    return data


def read_log_content(path: Path) -> bytes:
    """The content events are decoded from: :func:`read_log_bytes` without a UTF-8 BOM.

    Event offsets (:attr:`DecodedRecord.offset`) count from the start of this. Raises
    :class:`FileProblem` like :func:`read_log_bytes`.
    """
    data = read_log_bytes(path)
    return data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data


def looks_like_log_name(path: Path) -> bool:
    """True when the file name ends like a log file (see :data:`LOG_FILE_SUFFIXES`)."""
    name = path.name.lower()
    return name.endswith(LOG_FILE_SUFFIXES)


def decode_file(path: Path) -> DecodedFile:
    """Read and decode one file; never raises for bad content (see :class:`DecodedFile`)."""
    try:
        data = read_log_bytes(path)
    except FileProblem as err:
        return DecodedFile("failed", reason=str(err))
    if "CloudTrail-Digest" in path.name:
        return DecodedFile("skipped", reason="CloudTrail digest file")
    return decode_bytes(data, log_name=looks_like_log_name(path))


def decode_bytes(data: bytes, *, log_name: bool = True) -> DecodedFile:
    """Decode the (already decompressed) bytes of a file into events.

    ``log_name`` says whether the file's name promised a log file: if so, content that is not
    JSON fails; otherwise it is skipped as not CloudTrail. Never raises for bad content.
    """
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    start = _first_non_space(data)
    if start < 0:
        if log_name:
            return DecodedFile("failed", reason="empty file" if not data else "file holds only whitespace")
        return DecodedFile("skipped", reason="empty file")
    first = data[start : start + 1]
    if first not in (b"{", b"["):
        if log_name:
            return DecodedFile("failed", reason=f"not JSON: {_describe_start(data, start)}")
        return DecodedFile("skipped", reason="not CloudTrail: not JSON")
    decoded = DecodedFile("events")
    try:
        top = msgspec.json.decode(data, type=msgspec.Raw)
    except msgspec.DecodeError as err:
        # Several JSON values in a row: NDJSON (or concatenated documents, tried line by line).
        if _is_trailing_data(err) and _first_line_is_json(data, start):
            decoded.shape = "ndjson"
            _decode_ndjson(data, decoded)
            return _finish(decoded, data)
        return DecodedFile("failed", reason=f"invalid JSON: {_json_error(err, data)}")
    _decode_value(top, decoded, where=None, base=data, top_level=True)
    return _finish(decoded, data)


def _finish(decoded: DecodedFile, data: bytes) -> DecodedFile:
    _locate(decoded, data)
    if decoded.outcome == "events" and not decoded.records and decoded.record_errors:
        # Every record was bad: the file failed, but its per-record reasons stay listed.
        decoded.outcome = "failed"
        decoded.reason = f"no readable event ({len(decoded.record_errors)} bad records)"
    return decoded


def _locate(decoded: DecodedFile, data: bytes) -> None:
    """Set each record's offset in ``data``: records come in file order, so each search starts
    where the previous record ended and finds its match within a few bytes."""
    cursor = 0
    for record in decoded.records:
        if not record.in_file:
            continue
        found = data.find(record.original, cursor)
        if found >= 0:
            record.offset = found
            cursor = found + len(record.original)


def _head(raw: bytes | msgspec.Raw) -> bytes:
    """The first byte of a JSON value (a Raw spans its value exactly: no leading space)."""
    return memoryview(raw)[:1].tobytes()


def _decode_value(
    raw: bytes | msgspec.Raw, decoded: DecodedFile, *, where: str | None, base: bytes, top_level: bool
) -> None:
    """Add the events of one JSON value (array, envelope or event) to ``decoded``.

    ``raw`` may be a ``msgspec.Raw``: it is decoded in place, so a whole file is never copied
    (msgspec reads any buffer).
    """
    head = _head(raw)
    if head == b"[":
        decoded.shape = decoded.shape or "array"
        _add_records(_RAW_LIST.decode(raw), decoded, where)
        return
    if head != b"{":
        _fail_or_record(decoded, where, f"not a JSON object or array ({_kind_of(bytes(raw))})", top_level)
        return
    obj = _RAW_DICT.decode(raw)
    if "Records" in obj:
        records = obj["Records"]
        if _head(records) != b"[":
            _fail_or_record(decoded, where, f"'Records' is not a list ({_kind_of(bytes(records))})", top_level)
            return
        decoded.shape = decoded.shape or "records"
        _add_records(_RAW_LIST.decode(records), decoded, where)
    elif "Events" in obj and _head(obj["Events"]) == b"[":
        decoded.shape = decoded.shape or "lookup-events"
        _add_lookup_events(_RAW_LIST.decode(obj["Events"]), decoded, where)
    elif _EVENT_KEYS.intersection(obj):
        decoded.shape = decoded.shape or "event"
        _add_event(bytes(raw), decoded, where or "record 0")
    elif _DIGEST_KEYS.intersection(obj):
        if top_level:
            decoded.outcome, decoded.reason = "skipped", "CloudTrail digest file"
        else:
            decoded.record_errors.append((where or "", "CloudTrail digest, not an event"))
    elif top_level:
        decoded.outcome = "skipped"
        decoded.reason = "not CloudTrail: a JSON object without Records, Events or event fields"
    else:
        decoded.record_errors.append((where or "", "JSON object without CloudTrail event fields"))


def _fail_or_record(decoded: DecodedFile, where: str | None, message: str, top_level: bool) -> None:
    if top_level:
        decoded.outcome, decoded.reason = "failed", message
    else:
        decoded.record_errors.append((where or "", message))


def _add_records(items: list[msgspec.Raw], decoded: DecodedFile, where: str | None) -> None:
    prefix = f"{where}, " if where else ""
    for number, item in enumerate(items):
        raw = bytes(item)
        position = f"{prefix}record {number}"
        if raw[:1] != b"{":
            decoded.record_errors.append((position, f"not a JSON object ({_kind_of(raw)})"))
            continue
        _add_event(raw, decoded, position)


def _add_lookup_events(items: list[msgspec.Raw], decoded: DecodedFile, where: str | None) -> None:
    prefix = f"{where}, " if where else ""
    for number, item in enumerate(items):
        position = f"{prefix}Events[{number}]"
        try:
            wrapper = orjson.loads(bytes(item))
            text = wrapper["CloudTrailEvent"]
            if not isinstance(text, str):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            decoded.record_errors.append((position, "no CloudTrailEvent string"))
            continue
        original = text.encode("utf-8", "surrogatepass")
        if original.lstrip()[:1] != b"{":
            decoded.record_errors.append((position, "CloudTrailEvent is not a JSON object"))
            continue
        _add_event(original, decoded, position, in_file=False)


def _add_event(raw: bytes, decoded: DecodedFile, position: str, *, in_file: bool = True) -> None:
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        decoded.record_errors.append((position, f"invalid JSON: {err}"))
        return
    if not isinstance(event, dict):
        decoded.record_errors.append((position, f"not a JSON object ({_kind_of(raw)})"))
        return
    decoded.records.append(DecodedRecord(len(decoded.records), raw, event, in_file))


def _decode_ndjson(data: bytes, decoded: DecodedFile) -> None:
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.strip()  # also drops the \r of CRLF files
        if not line:
            continue
        where = f"line {number}"
        try:
            raw = bytes(msgspec.json.decode(line, type=msgspec.Raw))
        except msgspec.DecodeError as err:
            decoded.record_errors.append((where, f"invalid JSON: {_json_error(err, line)}"))
            continue
        _decode_value(raw, decoded, where=where, base=line, top_level=False)


def _is_trailing_data(err: msgspec.DecodeError) -> bool:
    return "trailing characters" in str(err)


def _first_line_is_json(data: bytes, start: int) -> bool:
    end = data.find(b"\n", start)
    line = data[start : end if end >= 0 else len(data)].strip()
    try:
        msgspec.json.decode(line, type=msgspec.Raw)
    except msgspec.DecodeError:
        return False
    return True


def _first_non_space(data: bytes) -> int:
    for index, byte in enumerate(data[:4096]):
        if byte not in b" \t\r\n":
            return index
    return -1 if len(data) <= 4096 else len(data) - len(data.lstrip())


def _describe_start(data: bytes, start: int) -> str:
    if b"\x00" in data[:512]:
        return "binary content"
    return f"starts with {data[start:start + 16]!r}"


def _kind_of(raw: bytes) -> str:
    head = raw.lstrip()[:1]
    return {
        b"{": "an object", b"[": "an array", b'"': "a string", b"t": "a boolean", b"f": "a boolean",
        b"n": "null",
    }.get(head, "a number")


def _json_error(err: msgspec.DecodeError, data: bytes) -> str:
    """Turn msgspec's ``... (byte N)`` into ``line L, column C: ...`` (1-based)."""
    message = str(err)
    if message.startswith("JSON is malformed: "):
        message = message[len("JSON is malformed: ") :]
    if message.endswith(")") and "(byte " in message:
        head, _, tail = message.rpartition(" (byte ")
        try:
            offset = int(tail[:-1])
        except ValueError:
            return message
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        return f"line {line}, column {column}: {head}"
    return message
