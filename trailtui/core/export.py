"""Write events out as NDJSON, keeping each original event byte for byte where JSON allows."""

from __future__ import annotations

import re

# A JSON string (kept as is) or a run of whitespace outside strings (removed).
_STRING_OR_SPACE = re.compile(rb'("(?:[^"\\]|\\.)*")|[ \t\r\n]+', re.DOTALL)


def minify_json(original: bytes) -> bytes:
    """Return ``original`` (one JSON value) on a single line.

    Valid JSON never holds a raw newline inside a string, so an event already on one line is
    returned unchanged (the same bytes). Otherwise (a pretty-printed export) the whitespace between
    tokens is removed and every token, strings and numbers included, keeps its exact bytes.
    """
    if b"\n" not in original and b"\r" not in original:
        return original
    return _STRING_OR_SPACE.sub(lambda match: match.group(1) or b"", original)
