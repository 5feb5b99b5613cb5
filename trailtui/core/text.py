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
