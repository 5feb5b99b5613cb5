"""Make attacker-controlled log text safe to show in a terminal.

Every CloudTrail field can carry text an attacker chose (``userAgent``, object keys, session
names, ``errorMessage``). Before any of it reaches a terminal, control characters and escape
sequences (ESC, BEL, NUL, C1 controls, DEL) and the Unicode bidirectional overrides are shown as
visible escapes (``\\x1b``, ``\\u202e``), so ``\\x1b]52;...`` cannot write the clipboard or move
the cursor. Rich markup is never involved here: the UI builds ``rich.text.Text`` objects, whose
content is not parsed as markup.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: one event field is one screen line), DEL, C1 controls,
# and the bidi embedding/override/isolate marks that can reorder what a line appears to say.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """Return ``value`` as one line of text with every unsafe character visibly escaped.

    ``None`` becomes ``""``. A literal backslash is left as is. Never raises.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escape, text)


# Characters that valid JSON may hold raw inside strings but a terminal must not receive raw:
# DEL, the C1 controls (U+009B is an 8-bit CSI) and the bidi marks, plus any C0 control but tab
# (which is whitespace outside strings; raw C0 inside a string is already invalid JSON).
_JSON_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff\u2028\u2029]")


def json_text_safe(text: str) -> str:
    """Return JSON text with every character :func:`printable` would escape written as a JSON
    ``\\uXXXX`` escape instead: the same JSON value, safe to print to a terminal.

    ``text`` is one JSON document (an event on one line). Outside strings valid JSON holds only
    structural characters, literals and whitespace, so only string contents change. Never raises.
    """
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "Control Pictures": ␀ ... ␟ (ESC shows as ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls and bidi marks


def visible_controls(text: str) -> str:
    """Return ``text`` with each unsafe character (see :func:`printable`) replaced by ONE visible
    character of one cell: a control picture (``␛`` for ESC) or U+FFFD.

    For widgets that edit text (the filter bar): the shown text keeps the value's length, so
    cursor positions still line up, while the value itself stays as typed or pasted. Never raises.
    """
    return _UNSAFE.sub(_picture, text)


# Endings that take "es" in the plural ("2 matches", "2 addresses").
_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """``text`` with ASCII capitals made small and nothing else: how SQLite's NOCASE and LIKE
    compare, so how every trailtui filter matches text (``É`` stays ``É``)."""
    return text.translate(_ASCII_LOWER)


def plural(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` (with thousands separators) and ``noun``, in the plural unless ``count`` is 1.

    ``plural`` gives an irregular form; otherwise the last word of ``noun`` takes ``es`` after
    s/x/z/ch/sh, ``ies`` for a consonant + ``y``, else ``s``. Only 1 and -1 are singular
    ("0 events"). Never raises for an int ``count``.

    >>> plural(1, "event"), plural(2048, "event"), plural(1, "source IP"), plural(3, "source IP")
    ('1 event', '2,048 events', '1 source IP', '3 source IPs')
    >>> plural(2, "match"), plural(2, "entry"), plural(2, "key"), plural(2, "index", "indexes")
    ('2 matches', '2 entries', '2 keys', '2 indexes')
    """
    if abs(count) == 1:
        return f"{count:,} {noun}"
    if plural is None:
        lowered = noun.lower()
        if lowered.endswith(_SIBILANT_ENDINGS):
            plural = noun + "es"
        elif len(noun) > 1 and lowered.endswith("y") and lowered[-2] not in "aeiou":
            plural = noun[:-1] + "ies"
        else:
            plural = noun + "s"
    return f"{count:,} {plural}"


def fit(text: str, width: int) -> str:
    """``text`` padded to ``width`` cells, or cut with an ellipsis (``GetObjectAcl…``)."""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


def fit_middle(text: str, width: int) -> str:
    """``text`` padded to ``width`` cells, or cut in the middle (``role/aws-res…SSO_Admin_1a2b``):
    actor names and ARNs differ at their start (``cloudtrail.…``, ``ec2.…``) or at their end (the
    role, the session, the key), so both ends are kept."""
    if len(text) <= width:
        return text.ljust(width)
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]
