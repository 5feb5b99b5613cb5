"""Write a hostile CloudTrail corpus: attacker-chosen field values and every kind of bad file.

    python -m tests.make_hostile_corpus OUT [--huge]

Used by ``tests/test_hostile.py`` and ``tests/test_render_safety.py``, and by hand to open the
corpus in a real terminal (``trailtui OUT``) and check that escapes show as text and the terminal
is left as it was. ``--huge`` adds the 50 MB single-event file.

Every string here is made up; the event shape follows "CloudTrail record contents" in the AWS
CloudTrail User Guide (``tests.conftest.make_event``, ``trailtui.core.demo.records``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import make_event  # noqa: E402
from trailtui.core.demo.records import assumed_role  # noqa: E402

#: Terminal control sequences and Rich/Textual markup an attacker can put in a logged field.
HOSTILE: dict[str, str] = {
    "osc52": "\x1b]52;c;ZXZpbA==\x07",  # write "evil" to the clipboard
    "osc8": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",  # a hyperlink
    "csi": "\x1b[2J\x1b[H\x1b[31mRED\x1b[0m\x1b[5A",  # clear screen, home, colour, cursor up
    "bel_nul": "ring\x07\x00nul",
    "c1": "\x9b31m\x9d0;title\x9c\x85",  # 8-bit CSI, OSC, ST, NEL
    "bidi": "txt.\u202eexe.pdf\u2066\u2069\u200f",  # right-to-left override: reads "fdp.exe"
    "del_cr_tab": "a\x7fb\rc\td\ne",
    "markup": "[bold red]pwn[/] [link=https://evil.example]x[/link] [@click=app.quit]quit[/]",
    "markup_close": "[/]",
}

#: Each value of HOSTILE joined: one string carrying every trick.
ALL_HOSTILE = " | ".join(HOSTILE.values())

#: Control characters and bidi marks that must never reach a terminal raw.
UNSAFE_CHARS = frozenset(
    [chr(code) for code in range(0x20)] + [chr(code) for code in range(0x7F, 0xA0)]
    + ["\u200e", "\u200f", "\u061c", "\ufeff"] + [chr(code) for code in range(0x202A, 0x202F)]
    + [chr(code) for code in range(0x2066, 0x206A)]
)


def hostile_events() -> list[dict]:
    """Events whose attacker-controlled fields (userAgent, object key, role session name,
    errorMessage, request parameters, even eventName) carry :data:`HOSTILE` strings."""
    events = []
    for number, (name, value) in enumerate(HOSTILE.items()):
        session = f"sess-{name}{value}"
        identity = assumed_role("Hostile", session, role_id="AROAEXAMPLEHOSTILE",
                                access_key_id=f"ASIAHOSTILE{number:09d}", session_created="2026-03-14T09:00:00Z")
        events.append(make_event(
            f"hostile-{name}",
            f"GetObject{value}" if name in ("markup", "csi") else "GetObject",
            eventTime=f"2026-03-14T12:{number:02d}:00Z",
            userIdentity=identity,
            userAgent=f"agent-{name} {value}",
            errorCode=f"AccessDenied{value}",
            errorMessage=f"denied {value}",
            requestParameters={"bucketName": f"bucket-{name}", "key": f"key-{name}/{value}",
                               f"param{value}": value},
        ))
    return events


def good_events(prefix: str, count: int, hour: int = 10) -> list[dict]:
    """``count`` ordinary events with ids ``<prefix>-<n>``."""
    return [make_event(f"{prefix}-{n}", eventTime=f"2026-03-14T{hour:02d}:{n % 60:02d}:00Z") for n in range(count)]


def records(events: list) -> bytes:
    return json.dumps({"Records": events}).encode()


@dataclass
class BadFile:
    """One bad input: its file name under ``bad/``, its bytes, the reason the user must see (a
    substring of the file's failure or of one of its record errors), and the event ids in it
    that must still load."""

    name: str
    content: bytes
    reason: str | None
    loads: list[str] = field(default_factory=list)


def deep_event(event_id: str, depth: int) -> bytes:
    """An event whose ``requestParameters`` is nested ``depth`` arrays deep."""
    head = json.dumps(make_event(event_id))[:-1]
    return head.encode() + b', "nested": ' + b"[" * depth + b"]" * depth + b"}"


def bad_files(*, huge: bool = False) -> list[BadFile]:
    """Every kind of bad file the issue lists (plus the good events hidden among them)."""
    truncated = gzip.compress(records(good_events("lost", 50)))[:-40]
    utf8_good = json.dumps(make_event("utf8-good")).encode()
    utf8_bad = json.dumps(make_event("utf8-bad", userAgent="AGENT")).encode().replace(b"AGENT", b"bad \xff\xfe bytes")
    crlf = "\r\n".join(json.dumps(event) for event in good_events("crlf", 3)).encode() + b"\r\n"
    no_id = make_event("x", eventTime="2026-03-14T09:00:00Z")
    del no_id["eventID"]
    no_time = make_event("no-time")
    del no_time["eventTime"]
    neither = make_event("x", userAgent="neither")
    del neither["eventID"], neither["eventTime"]
    formats = [
        make_event("time-space", eventTime="2026-03-14 08:30:00"),
        make_event("time-offset", eventTime="2026-03-14T10:30:00.123+02:00"),
        make_event("time-rfc2822", eventTime="Sat, 14 Mar 2026 08:30:00 GMT"),
        make_event("time-junk", eventTime="yesterday-ish \x1b[31m"),
        make_event("time-number", eventTime=1773477000),
    ]
    files = [
        BadFile("truncated.json.gz", truncated, "truncated gzip"),
        BadFile("empty.json", b"", "empty file"),
        BadFile("junk.json", bytes(range(256)) * 64, "not JSON: binary content"),
        BadFile("invalid-utf8.json", b'{"Records": [' + utf8_bad + b", " + utf8_good + b"]}", "invalid UTF-8",
                ["utf8-bad", "utf8-good"]),
        BadFile("lone-surrogate.json", records([make_event("surrogate", userAgent="X")]).replace(b'"X"', b'"\\ud800"'),
                "lone UTF-16 surrogate", ["surrogate"]),
        BadFile("bom.json", b"\xef\xbb\xbf" + records([make_event("bom-1")]), None, ["bom-1"]),
        BadFile("crlf.ndjson", crlf, None, ["crlf-0", "crlf-1", "crlf-2"]),
        BadFile("deep.json", b'{"Records": [' + deep_event("deep-1", 100_000) + b", "
                + json.dumps(make_event("deep-2")).encode() + b"]}", None, ["deep-1", "deep-2"]),
        BadFile("deep-junk.json", b"[" * 100_000 + b"]" * 100_000, "not a JSON object (an array)"),
        BadFile("deep-unclosed.json", b'{"Records": [' + b"[" * 100_000, "brackets do not close"),
        BadFile("records-not-list.json", b'{"Records": {"eventID": "nope"}}', "'Records' is not a list"),
        BadFile("records-not-objects.json", records(["a string", 42, None, [1], make_event("obj-1")]),
                "not a JSON object (a string)", ["obj-1"]),
        BadFile("no-id-no-time.json", records([no_id, no_time, neither]), None, ["no-time"]),
        BadFile("time-formats.json", records(formats), None, [event["eventID"] for event in formats]),
        # A file name is attacker-chosen too (an S3 object key synced to disk).
        BadFile("evil-\x1b]52;c;ZXZpbA==\x07[bold]name[@click=app.quit].json", b"\x1b[2J not json", "not JSON"),
    ]
    if huge:
        big = make_event("huge-1", userAgent="huge", requestParameters={"bucketName": "big", "key": "k" * (50 * 1024 * 1024)})
        files.append(BadFile("huge.json", records([big]), None, ["huge-1"]))
    return files


@dataclass
class Corpus:
    """What :func:`write_corpus` wrote: ``root`` to open, ``good_ids`` every eventID that must
    load, ``bad`` the bad files (their paths are ``root / "bad" / name``), ``missing`` a path
    that does not exist, ``loop`` the directory holding a symbolic link loop."""

    root: Path
    good_ids: set[str]
    bad: list[BadFile]
    missing: Path
    loop: Path


def write_corpus(root: Path, *, huge: bool = False) -> Corpus:
    """Write the hostile corpus under ``root`` (created if needed) and describe it."""
    root = Path(root)
    trail = root / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14"
    trail.mkdir(parents=True, exist_ok=True)
    good = good_events("good", 40)
    (trail / "111122223333_CloudTrail_us-east-1_20260314T1000Z_good.json.gz").write_bytes(gzip.compress(records(good)))
    hostile = hostile_events()
    (trail / "111122223333_CloudTrail_us-east-1_20260314T1200Z_hostile.json.gz").write_bytes(gzip.compress(records(hostile)))
    ids = {event["eventID"] for event in good + hostile}
    bad_dir = root / "bad"
    bad_dir.mkdir(exist_ok=True)
    files = bad_files(huge=huge)
    for bad in files:
        (bad_dir / bad.name).write_bytes(bad.content)
        ids.update(bad.loads)
    loop = root / "loop"
    loop.mkdir(exist_ok=True)
    link = loop / "again"
    if not link.is_symlink():
        os.symlink("..", link)  # loop/again -> root: walking it would never end
    return Corpus(root, ids, files, root / "does-not-exist", loop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a hostile CloudTrail corpus for trailtui.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--huge", action="store_true", help="also write a 50 MB single-event file")
    args = parser.parse_args(argv)
    corpus = write_corpus(args.out, huge=args.huge)
    print(f"wrote {len(corpus.good_ids)} loadable events and {len(corpus.bad)} bad files under {corpus.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
