"""Turn the bytes of one log file into CloudTrail events, keeping each event's original bytes.

Shapes accepted (any of them gzipped, detected from content, not from the file name):

* an S3 delivery file ``{"Records": [event, ...]}`` ("CloudTrail log file examples" in the AWS
  CloudTrail User Guide);
* a bare JSON array of events, or a single event object;
* NDJSON, one event (or one ``{"Records": [...]}`` document) per line, as CloudWatch Logs and
  Logstash exports write them;
* ``aws cloudtrail lookup-events`` output: ``{"Events": [{"CloudTrailEvent": "<event as a JSON
  string>", ...}]}`` (each event is the string's text), and its ``Event`` objects one per line
  (JSON Lines, as plaso and ``jq -c '.Events[]'`` write them) or in a bare array;
* CloudWatch Logs: a subscription's ``DATA_MESSAGE`` records (``{"messageType": "DATA_MESSAGE",
  "logEvents": [{"message": "<event JSON>"}]}``, several back to back as Firehose writes them,
  ``CONTROL_MESSAGE`` records carrying no event), and ``aws logs filter-log-events`` /
  ``get-log-events`` output (``{"events": [{"message": ...}]}``) ("CloudWatch Logs subscription
  filters" and the AWS CLI reference);
* EventBridge events from CloudTrail (``{"detail-type": "AWS API Call via CloudTrail", "detail":
  {event}}``, one per line or in an array, as an EventBridge rule or SQS target delivers them;
  "Events from AWS services" in the EventBridge User Guide), and SQS ``receive-message`` output
  whose ``Messages[].Body`` holds them.

Several JSON values back to back on one line (``}{``, Firehose's concatenation) are read one by
one, as lines are.

CloudTrail digest files (``{"digestPublicKeyFingerprint": ..., "logFiles": [...]}``, no
``Records``; "CloudTrail digest file structure" in the user guide) and files that hold no
CloudTrail are *skipped* with a reason, not errors. Everything else that cannot be read is an
error with its position (line and column for JSON), and one bad record never costs its file's
good records.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import orjson

try:  # ISA-L inflates about twice as fast as zlib; same API (decompressobj, wbits=31 for gzip)
    from isal import isal_zlib as _inflate_lib

    _INFLATE_ERRORS: tuple[type[Exception], ...] = (_inflate_lib.error, zlib.error)
except ImportError:  # no wheel for this platform: the standard library's zlib
    _inflate_lib = zlib
    _INFLATE_ERRORS = (zlib.error,)

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
_SURROGATE = re.compile("[\ud800-\udfff]")


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


#: The most bytes one log file may hold, on disk or once gunzipped. CloudTrail delivery files are
#: a few MB; a file past this (a gzip bomb: a few MB that inflate to many GB) is refused rather
#: than read into memory.
MAX_FILE_BYTES = 1 << 30


def read_log_bytes(path: Path) -> bytes:
    """Return the decompressed bytes of ``path`` (gunzipped when it starts with the gzip magic).

    Raises :class:`FileProblem` for an unreadable file, a truncated or corrupt gzip stream, or
    content larger than :data:`MAX_FILE_BYTES`.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FileProblem(f"larger than {_size(MAX_FILE_BYTES)}: not read")
        data = path.read_bytes()
    except OSError as err:
        raise FileProblem(f"cannot read: {err.strerror or err}") from None
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, MAX_FILE_BYTES)
    return data


def _gunzip(data: bytes, limit: int) -> bytes:
    """Inflate every gzip member of ``data`` (checking each CRC), stopping past ``limit`` bytes."""
    parts: list[bytes] = []
    total = 0
    while True:
        inflater = _inflate_lib.decompressobj(wbits=31)  # one gzip member: header, deflate, CRC32 + size
        try:
            part = inflater.decompress(data, limit + 1 - total)
        except _INFLATE_ERRORS as err:
            raise FileProblem(f"corrupt gzip: {err}") from None
        total += len(part)
        if total > limit or inflater.unconsumed_tail:
            raise FileProblem(f"gzip that inflates to more than {_size(limit)}: not read")
        parts.append(part)
        if not inflater.eof:
            raise FileProblem("truncated gzip: the stream ends before its end marker")
        data = inflater.unused_data
        if not data.strip(b"\x00"):  # the end, or zero padding after the last member
            return parts[0] if len(parts) == 1 else b"".join(parts)
        if data[:2] != _GZIP_MAGIC:
            raise FileProblem("corrupt gzip: data after the last member")


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count:,} bytes"


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
    except (msgspec.DecodeError, RecursionError) as err:
        syntax = err if isinstance(err, msgspec.DecodeError) else None
        # Several JSON values in a row: NDJSON (or concatenated documents, tried line by line).
        if syntax is not None and _is_trailing_data(syntax) and _first_line_is_json(data, start):
            decoded.shape = "ndjson"
            _decode_ndjson(data, decoded)
            return _finish(decoded, data)
        if syntax is not None and not _is_string_problem(syntax):
            return DecodedFile("failed", reason=f"invalid JSON: {_json_error(syntax, data)}")
        # Nested deeper than msgspec goes (about 1,000 levels), or a string msgspec refuses (a
        # lone surrogate escape) that costs only its own record: split with the scanner instead.
        try:
            end = _value_end(data, start)
        except _Unbalanced as problem:
            reason = _json_error(syntax, data) if syntax is not None else str(problem)
            return DecodedFile("failed", reason=f"invalid JSON: {reason}")
        if _first_non_space(data[end:]) >= 0:
            decoded.shape = "ndjson"
            _decode_ndjson(data, decoded)
            return _finish(decoded, data)
        top = memoryview(data)[start:end]
    try:
        _decode_value(top, decoded, where=None, base=data, top_level=True)
    except _Unbalanced as err:
        return DecodedFile("failed", reason=f"invalid JSON: {err}")
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
    raw: bytes | msgspec.Raw,
    decoded: DecodedFile,
    *,
    where: str | None,
    base: bytes,
    top_level: bool,
    in_file: bool = True,
) -> None:
    """Add the events of one JSON value (array, envelope or event) to ``decoded``.

    ``raw`` may be a ``msgspec.Raw``: it is decoded in place, so a whole file is never copied
    (msgspec reads any buffer). ``in_file``: False when ``raw`` is the text of a JSON string in
    the file (a CloudWatch message, an SQS body), so its events are not spans of the file.
    """
    head = _head(raw)
    if head == b"[":
        decoded.shape = decoded.shape or "array"
        _add_records(_list_items(raw), decoded, where, in_file=in_file, envelopes=True)
        return
    if head != b"{":
        _fail_or_record(decoded, where, f"not a JSON object or array ({_kind_of(bytes(raw))})", top_level)
        return
    obj = _dict_items(raw)
    if "Records" in obj:
        records = obj["Records"]
        if _head(records) != b"[":
            _fail_or_record(decoded, where, f"'Records' is not a list ({_kind_of(bytes(records))})", top_level)
            return
        decoded.shape = decoded.shape or "records"
        _add_records(_list_items(records), decoded, where, in_file=in_file)
    elif "Events" in obj and _head(obj["Events"]) == b"[":
        decoded.shape = decoded.shape or "lookup-events"
        _add_lookup_events(_list_items(obj["Events"]), decoded, where)
    elif _is_envelope(obj):
        _add_envelope(raw, obj, decoded, where, top_level=top_level, in_file=in_file)
    elif _EVENT_KEYS.intersection(obj):
        decoded.shape = decoded.shape or "event"
        _add_event(bytes(raw), decoded, where or "record 0", in_file=in_file)
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


def _add_records(
    items: list[msgspec.Raw], decoded: DecodedFile, where: str | None, *, in_file: bool = True, envelopes: bool = False
) -> None:
    """Add each item as an event. ``envelopes`` (a bare array): an item that wraps events (an
    EventBridge event, a lookup-events ``Event``: :func:`_is_envelope`) is unwrapped."""
    prefix = f"{where}, " if where else ""
    for number, item in enumerate(items):
        raw = bytes(item)
        position = f"{prefix}record {number}"
        if raw[:1] != b"{":
            decoded.record_errors.append((position, f"not a JSON object ({_kind_of(raw)})"))
            continue
        if envelopes and _is_envelope(_dict_items(item)):
            _decode_value(item, decoded, where=position, base=raw, top_level=False, in_file=in_file)
            continue
        _add_event(raw, decoded, position, in_file=in_file)


def _add_lookup_events(items: list[msgspec.Raw], decoded: DecodedFile, where: str | None) -> None:
    prefix = f"{where}, " if where else ""
    for number, item in enumerate(items):
        _add_lookup_event(bytes(item), decoded, f"{prefix}Events[{number}]")


def _add_lookup_event(raw: bytes, decoded: DecodedFile, position: str) -> None:
    """One ``Event`` of lookup-events output: the event is its ``CloudTrailEvent`` string."""
    try:
        wrapper, repaired = _parse_record(raw)
        text = wrapper["CloudTrailEvent"]
        if not isinstance(text, str):
            raise TypeError
    except (orjson.JSONDecodeError, KeyError, TypeError):
        decoded.record_errors.append((position, "no CloudTrailEvent string"))
        return
    if repaired:
        decoded.record_errors.append((position, repaired))
    _add_event_text(text, decoded, position, "CloudTrailEvent")


def _add_event_text(text: str, decoded: DecodedFile, position: str, what: str) -> None:
    """An event (or events) written as a JSON string's text: not a span of the file."""
    original = text.encode("utf-8", "surrogatepass")
    if original.lstrip()[:1] != b"{":
        decoded.record_errors.append((position, f"{what} is not a JSON object"))
        return
    original = original.strip()
    try:
        obj = _dict_items(original)
    except (msgspec.DecodeError, RecursionError, _Unbalanced):
        _add_event(original, decoded, position, in_file=False)  # reports what is wrong with it
        return
    if _EVENT_KEYS.intersection(obj) or not ("Records" in obj or _is_envelope(obj)):
        _add_event(original, decoded, position, in_file=False)
    else:  # a Records document or an envelope inside the string
        _decode_value(original, decoded, where=position, base=original, top_level=False, in_file=False)


#: EventBridge ``detail-type`` of the events CloudTrail sends ("Events from AWS services",
#: Amazon EventBridge User Guide; "CloudTrail Insights events" for the last one).
CLOUDTRAIL_DETAIL_TYPES = frozenset(
    (
        "AWS API Call via CloudTrail",
        "AWS Console Sign In via CloudTrail",
        "AWS Service Event via CloudTrail",
        "AWS Console Action via CloudTrail",
        "AWS Insight via CloudTrail",
    )
)


def _is_envelope(obj: dict) -> bool:
    """An object (a dict of ``msgspec.Raw`` values) that carries events inside, not itself an event."""
    return (
        ("detail-type" in obj and "detail" in obj)
        or ("logEvents" in obj and _head(obj["logEvents"]) == b"[")
        or ("events" in obj and _head(obj["events"]) == b"[" and not _EVENT_KEYS.intersection(obj))
        or ("CloudTrailEvent" in obj and not _EVENT_KEYS.intersection(obj))
        or ("Messages" in obj and _head(obj["Messages"]) == b"[")
        or _string_of(obj.get("messageType")) in ("CONTROL_MESSAGE", "DATA_MESSAGE")
    )


def _string_of(raw: msgspec.Raw | None) -> str | None:
    if raw is None or _head(raw) != b'"':
        return None
    try:
        value = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _add_envelope(
    raw: bytes | msgspec.Raw, obj: dict, decoded: DecodedFile, where: str | None, *, top_level: bool, in_file: bool
) -> None:
    """The events inside an EventBridge event, a CloudWatch Logs record or export, a
    lookup-events ``Event`` or an SQS ``receive-message`` answer (see the module docstring).
    ``where``: the envelope's position in the file (None for the whole file)."""
    prefix = f"{where}, " if where else ""
    if "CloudTrailEvent" in obj:
        decoded.shape = decoded.shape or "lookup-events"
        _add_lookup_event(bytes(raw), decoded, where or "record 0")
        return
    if "detail-type" in obj:
        decoded.shape = decoded.shape or "eventbridge"
        detail_type = _string_of(obj["detail-type"])
        detail = obj["detail"]
        if _head(detail) == b"{" and (detail_type in CLOUDTRAIL_DETAIL_TYPES or _EVENT_KEYS.intersection(_dict_items(detail))):
            _add_event(bytes(detail), decoded, f"{prefix}detail", in_file=in_file)
        elif top_level:
            decoded.outcome = "skipped"
            decoded.reason = f"not CloudTrail: an EventBridge event of detail-type {detail_type!r}"
        else:
            decoded.record_errors.append((where or "", f"EventBridge event not from CloudTrail (detail-type {detail_type!r})"))
        return
    if "Messages" in obj:
        decoded.shape = decoded.shape or "sqs"
        _add_string_fields(obj, "Messages", "Body", decoded, prefix)
        return
    decoded.shape = decoded.shape or "cloudwatch-logs"
    if _string_of(obj.get("messageType")) == "CONTROL_MESSAGE" or not ("logEvents" in obj or "events" in obj):
        # CloudWatch's check that a subscription's destination is reachable: no events.
        if top_level:
            decoded.outcome, decoded.reason = "skipped", "CloudWatch Logs control message (no events)"
        return
    _add_string_fields(obj, "logEvents" if "logEvents" in obj else "events", "message", decoded, prefix)


def _add_string_fields(obj: dict, key: str, field: str, decoded: DecodedFile, prefix: str) -> None:
    """The events written as the string ``field`` of each object in the list ``obj[key]``
    (CloudWatch's ``logEvents[].message``, SQS's ``Messages[].Body``)."""
    for number, item in enumerate(_list_items(obj[key])):
        text = _string_of(_dict_items(item).get(field)) if _head(item) == b"{" else None
        position = f"{prefix}{key}[{number}]"
        if text is None:
            decoded.record_errors.append((position, f"no {field} string"))
        else:
            _add_event_text(text, decoded, position, field)


def _add_event(raw: bytes, decoded: DecodedFile, position: str, *, in_file: bool = True) -> None:
    """Parse one event's bytes and add it (or the reason it cannot be read)."""
    try:
        event, repaired = _parse_record(raw)
    except orjson.JSONDecodeError as err:
        decoded.record_errors.append((position, f"invalid JSON: {err}"))
        return
    if not isinstance(event, dict):
        decoded.record_errors.append((position, f"not a JSON object ({_kind_of(raw)})"))
        return
    if repaired:
        decoded.record_errors.append((position, repaired))
    decoded.records.append(DecodedRecord(len(decoded.records), raw, event, in_file))


_JSON_TOKEN = re.compile(
    r'\s*(?:([{}\[\],:])|("(?:[^"\\]|\\.)*")|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null))',
    re.DOTALL,
)
_LITERALS = {"true": True, "false": False, "null": None}


def parse_event_json(raw: bytes | str) -> object:
    """Parse one JSON value (an event) of any nesting depth.

    orjson first (fast; some versions refuse nesting deeper than about 1,000 levels, which an
    attacker can write); on a depth error, an iterative parser of this module, so 100,000 levels
    cost memory, never the stack. Raises :class:`orjson.JSONDecodeError` (a ValueError) for text
    that is not one JSON value.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        if "depth" not in str(err) and "recursion" not in str(err).lower():
            raise
        refused = err
    try:
        return _parse_iteratively(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except ValueError:
        raise refused from None


def _parse_iteratively(text: str) -> object:
    """A strict JSON parser with an explicit stack (see :func:`parse_event_json`). Raises
    ValueError naming the character where the text stops being JSON."""
    # One frame per open container: [container, pending key, what may come next]. "next" is
    # "value" (or a closing bracket when the container is still empty), "key", ":" or ",".
    frames: list[list] = []
    position = 0

    def fail(what: str) -> ValueError:
        return ValueError(f"invalid JSON at character {position}: {what}")

    while True:
        match = _JSON_TOKEN.match(text, position)
        if match is None:
            raise fail("not a JSON token" if text[position:].strip() else "unexpected end")
        position = match.end()
        punct, string, number, literal = match.groups()
        frame = frames[-1] if frames else None
        expect = frame[2] if frame else "value"
        if punct in ("}", "]"):
            if frame is None or (punct == "}") != isinstance(frame[0], dict):
                raise fail(f"unbalanced {punct!r}")
            if expect not in (",", "first"):
                raise fail(f"{punct!r} where a value was expected")
            value = frames.pop()[0]
        elif punct == ",":
            if expect != ",":
                raise fail("unexpected ','")
            frame[2] = "key" if isinstance(frame[0], dict) else "value"
            continue
        elif punct == ":":
            if expect != ":":
                raise fail("unexpected ':'")
            frame[2] = "value"
            continue
        elif expect == "key" or (expect == "first" and isinstance(frame[0], dict)):
            if string is None:
                raise fail("an object key must be a string")
            frame[1] = json.loads(string)
            frame[2] = ":"
            continue
        elif expect not in ("value", "first"):
            raise fail(f"expected {expect!r}")
        elif punct in ("{", "["):
            frames.append([{} if punct == "{" else [], None, "first"])
            continue
        elif string is not None or number is not None:
            value = json.loads(string if string is not None else number)
        else:
            value = _LITERALS[literal]
        if not frames:
            if text[position:].strip():
                raise fail("extra data after the value")
            return value
        frame = frames[-1]
        if isinstance(frame[0], dict):
            frame[0][frame[1]] = value
        else:
            frame[0].append(value)
        frame[2] = ","


def _parse_record(raw: bytes) -> tuple[object, str | None]:
    """Parse one record with orjson; returns ``(value, None)``.

    A record orjson refuses only for its text (bytes that are not UTF-8, a lone UTF-16 surrogate
    escape such as ``\\ud800``) is still an event an attacker may have shaped to hide: it is
    parsed with the bad characters replaced by U+FFFD and returned with a note saying so.
    Raises :class:`orjson.JSONDecodeError` for anything else.
    """
    try:
        return parse_event_json(raw), None
    except orjson.JSONDecodeError as err:
        refused = err
    if "UTF-8" not in str(refused) and "surrogate" not in str(refused):
        raise refused
    try:
        raw.decode("utf-8")
        problem = "a lone UTF-16 surrogate escape (\\ud800-\\udfff)"
    except UnicodeDecodeError as bad:
        problem = f"invalid UTF-8 (byte 0x{raw[bad.start]:02x} at byte {bad.start} of the record)"
    try:
        value = _without_surrogates(json.loads(raw.decode("utf-8", "replace")))
    except (ValueError, RecursionError):
        raise refused from None
    return value, f"{problem}: loaded with U+FFFD in place of the bad characters"


def _without_surrogates(value: object) -> object:
    """``value`` (parsed JSON) with every lone surrogate in its strings and keys replaced by
    U+FFFD, so it can be stored and shown. Iterative: nesting depth does not matter."""

    def clean(text: str) -> str:
        return _SURROGATE.sub("\ufffd", text)

    root: list = [value]
    stack: list = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = clean(item)
        elif isinstance(item, list):
            stack.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            if any(_SURROGATE.search(name) for name in item):
                rebuilt = {clean(name): child for name, child in item.items()}
                item.clear()
                item.update(rebuilt)
            stack.extend((item, name) for name in item)
    return root[0]


def _decode_ndjson(data: bytes, decoded: DecodedFile) -> None:
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.strip()  # also drops the \r of CRLF files
        if line:
            _decode_line_value(line, decoded, f"line {number}")


def _split_values(line: bytes) -> list[bytes]:
    """The JSON values written back to back on one line (``}{``, as Firehose concatenates
    CloudWatch Logs records); ``[line]`` when they cannot be told apart (its error is then
    reported as it is)."""
    values, position, size = [], 0, len(line)
    try:
        while position < size:
            if line[position] not in b"{[":
                return [line]
            end = _value_end(line, position)
            values.append(line[position:end])
            position = end
            while position < size and line[position] in b" \t\r":
                position += 1
    except _Unbalanced:
        return [line]
    return values


def _decode_line_value(line: bytes, decoded: DecodedFile, where: str) -> None:
    """Add the events of one NDJSON line (several values on it are read one by one)."""
    try:
        try:
            raw = bytes(msgspec.json.decode(line, type=msgspec.Raw))
        except (msgspec.DecodeError, RecursionError) as err:
            if isinstance(err, msgspec.DecodeError) and _is_trailing_data(err):
                values = _split_values(line)
                if len(values) > 1:
                    for count, value in enumerate(values, start=1):
                        _decode_line_value(value, decoded, f"{where}, value {count}")
                    return
            if isinstance(err, msgspec.DecodeError) and not _is_string_problem(err):
                raise
            try:
                end = _value_end(line, 0)
            except _Unbalanced:
                if isinstance(err, msgspec.DecodeError):
                    raise err from None
                raise
            if end != len(line):
                raise _Unbalanced("more than one JSON value on the line") from None
            raw = line
        _decode_value(raw, decoded, where=where, base=line, top_level=False)
    except msgspec.DecodeError as err:
        decoded.record_errors.append((where, f"invalid JSON: {_json_error(err, line)}"))
    except _Unbalanced as err:
        decoded.record_errors.append((where, f"invalid JSON: {err}"))


def _is_trailing_data(err: msgspec.DecodeError) -> bool:
    return "trailing characters" in str(err)


def _first_line_is_json(data: bytes, start: int) -> bool:
    end = data.find(b"\n", start)
    line = _split_values(data[start : end if end >= 0 else len(data)].strip())[0]
    try:
        msgspec.json.decode(line, type=msgspec.Raw)
    except (msgspec.DecodeError, RecursionError) as err:
        if isinstance(err, msgspec.DecodeError) and not _is_string_problem(err):
            return False
        try:
            return _value_end(line, 0) == len(line)
        except _Unbalanced:
            return False
    return True


def _is_string_problem(err: msgspec.DecodeError) -> bool:
    """True when msgspec refused a string's content (a lone surrogate escape, bad UTF-8), not
    the JSON's syntax; msgspec reports a lone high surrogate at the very end as truncation."""
    message = str(err).lower()
    return any(word in message for word in ("surrogate", "hex escape", "utf-8", "utf-16", "truncated"))


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


# ------------------------------------------------------------------ nesting too deep for msgspec
#
# msgspec decodes (and skips) nested values recursively and raises RecursionError about 1,000
# levels down. orjson has no such limit, so an event nested 100,000 levels deep is still a valid
# event; only the splitting of a file into its records needs another way. The scanner below is
# iterative and linear in the size of the value: it looks only at brackets, commas, colons and
# string boundaries, and leaves validating each record to orjson.

_STRUCTURE = re.compile(rb'[\[\]{},:"]')
_SCALAR_END = re.compile(rb'[\s\[\]{},:"]')
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")


class _Unbalanced(ValueError):
    """A value too deep for msgspec whose brackets or strings do not close; the message says so."""


def _string_end(data: bytes, quote: int) -> int:
    """The index after the string whose opening quote is at ``quote``."""
    search = quote + 1
    while True:
        close = data.find(b'"', search)
        if close < 0:
            raise _Unbalanced(f"unterminated string starting at byte {quote}")
        backslashes = 0
        while data[close - 1 - backslashes] == _BACKSLASH:
            backslashes += 1
        if backslashes % 2 == 0:
            return close + 1
        search = close + 1


def _scan(data: bytes, start: int) -> tuple[list[tuple[int, int]], int]:
    """Spans ``(begin, end)`` of the direct children of the array or object opening at
    ``data[start]``, and the index after its closing bracket. An object's children alternate key,
    value. Raises :class:`_Unbalanced`."""
    spans: list[tuple[int, int]] = []
    depth = 0
    item = start + 1
    position = start
    while True:
        match = _STRUCTURE.search(data, position)
        if match is None:
            raise _Unbalanced("brackets do not close (the value is nested more than 1,000 levels deep)")
        at = match.start()
        char = data[at]
        position = at + 1
        if char == _QUOTE:
            position = _string_end(data, at)
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
            if depth == 0:
                _add_span(spans, data, item, at)
                return spans, at + 1
            if depth < 0:
                raise _Unbalanced(f"unexpected {chr(char)!r} at byte {at}")
        elif depth == 1:  # a comma or colon between two children
            if not _add_span(spans, data, item, at):
                raise _Unbalanced(f"missing value before byte {at}")
            item = at + 1


def _add_span(spans: list[tuple[int, int]], data: bytes, begin: int, end: int) -> bool:
    while begin < end and data[begin] in b" \t\r\n":
        begin += 1
    while end > begin and data[end - 1] in b" \t\r\n":
        end -= 1
    if begin < end:
        spans.append((begin, end))
        return True
    return False


def _value_end(data: bytes, start: int) -> int:
    """The index after the JSON value starting at ``data[start]`` (an array, object or string;
    anything else ends at the next structural character or space)."""
    char = data[start]
    if char in _OPENERS:
        return _scan(data, start)[1]
    if char == _QUOTE:
        return _string_end(data, start)
    match = _SCALAR_END.search(data, start)
    return match.start() if match else len(data)


def _list_items(raw: bytes | msgspec.Raw | memoryview) -> list:
    """The elements of a JSON array, each as its exact bytes (``msgspec.Raw`` or ``bytes``)."""
    try:
        return _RAW_LIST.decode(raw)
    except (RecursionError, msgspec.DecodeError, UnicodeDecodeError):
        data = bytes(raw)
        spans, _ = _scan(data, 0)
        return [data[begin:end] for begin, end in spans]


def _dict_items(raw: bytes | msgspec.Raw | memoryview) -> dict:
    """The members of a JSON object, key -> the value's exact bytes (``msgspec.Raw`` or ``bytes``)."""
    try:
        return _RAW_DICT.decode(raw)
    except (RecursionError, msgspec.DecodeError, UnicodeDecodeError):
        data = bytes(raw)
        spans, _ = _scan(data, 0)
        if len(spans) % 2:
            raise _Unbalanced("an object member has no value") from None
        members = {}
        for (key_begin, key_end), (value_begin, value_end) in zip(spans[0::2], spans[1::2]):
            try:
                key, _ = _parse_record(data[key_begin:key_end])
            except orjson.JSONDecodeError:
                key = None
            if not isinstance(key, str):
                raise _Unbalanced(f"object key at byte {key_begin} is not a string") from None
            members[key] = data[value_begin:value_end]
        return members
