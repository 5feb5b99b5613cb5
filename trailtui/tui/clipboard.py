"""Copy text to the user's clipboard with OSC 52, so it works over SSH, in tmux and GNU screen.

OSC 52 (``ESC ] 52 ; c ; <base64> BEL``, from xterm's control sequences) asks the terminal
emulator itself to set the clipboard: the text travels in the terminal stream, so it reaches the
laptop of a user who ssh'd into a bastion host. Multiplexers sit in between:

* **tmux** (``$TMUX`` set) forwards a sequence wrapped in its DCS passthrough
  (``ESC P tmux; <sequence with every ESC doubled> ESC \\``) when ``allow-passthrough`` is on,
  and itself understands a plain OSC 52 when ``set-clipboard`` is on. :func:`osc52_sequences`
  therefore emits both: the plain one first, then the wrapped one.
* **GNU screen** (``$STY`` set) forwards DCS strings (``ESC P ... ESC \\``) but cuts them past
  768 bytes, so the sequence is sent in chunks of :data:`SCREEN_CHUNK` characters, each in its
  own DCS string.

Terminals cap what they accept (xterm's default is about 100 kB), so text whose base64 form is
over :data:`MAX_COPY_BASE64` is not sent at all: :func:`copy_text` returns a result saying so and
the caller shows a notice (a cut JSON event would be worse than none). The text is still kept in
the app's own clipboard (``App.clipboard``) for pasting inside trailtui.

Textual's ``App.copy_to_clipboard`` writes a bare OSC 52 through the app's driver; this module
writes its sequences through the same driver (``app._driver.write``), which is how anything
reaches the terminal while Textual owns it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass

#: Largest base64 payload sent (bytes); 100 kB of base64 is about 75 kB of text.
MAX_COPY_BASE64 = 100_000
#: GNU screen passes DCS strings of at most 768 bytes; chunks stay well below it.
SCREEN_CHUNK = 76

_ESC = "\x1b"
_BEL = "\x07"
_ST = _ESC + "\\"


def osc52(payload_base64: str) -> str:
    """The OSC 52 sequence setting the clipboard (``c``) to the base64 text ``payload_base64``."""
    return f"{_ESC}]52;c;{payload_base64}{_BEL}"


def tmux_passthrough(sequence: str) -> str:
    """``sequence`` wrapped for tmux's DCS passthrough: ``ESC P tmux;`` + the sequence with every
    ESC doubled + ``ESC \\``."""
    return f"{_ESC}Ptmux;" + sequence.replace(_ESC, _ESC + _ESC) + _ST


def screen_passthrough(sequence: str, chunk: int = SCREEN_CHUNK) -> str:
    """``sequence`` in GNU screen DCS strings of at most ``chunk`` characters each."""
    return "".join(f"{_ESC}P{sequence[start:start + chunk]}{_ST}" for start in range(0, len(sequence), chunk))


def multiplexer(environ: Mapping[str, str] | None = None) -> str | None:
    """``"tmux"`` if ``$TMUX`` is set, else ``"screen"`` if ``$STY`` is set, else None."""
    env = os.environ if environ is None else environ
    if env.get("TMUX"):
        return "tmux"
    if env.get("STY"):
        return "screen"
    return None


def osc52_sequences(text: str, environ: Mapping[str, str] | None = None) -> str:
    """What to write to the terminal to copy ``text`` (UTF-8, base64) under the multiplexer of
    ``environ`` (default ``os.environ``; see the module docstring). Does not check the size."""
    sequence = osc52(base64.b64encode(text.encode("utf-8")).decode("ascii"))
    where = multiplexer(environ)
    if where == "tmux":
        return sequence + tmux_passthrough(sequence)
    if where == "screen":
        return screen_passthrough(sequence)
    return sequence


@dataclass(frozen=True)
class CopyResult:
    """What :func:`copy_text` did: ``copied`` (sent to the terminal), ``size`` (bytes of UTF-8),
    ``encoded`` (bytes of base64), ``via`` (``"tmux"``, ``"screen"`` or None) and ``message``, a
    one-line notice for the user (never containing the copied text)."""

    copied: bool
    size: int
    encoded: int
    via: str | None
    message: str


def encoded_size(text: str) -> int:
    """Bytes of the base64 form of ``text`` (UTF-8): what the terminal receives."""
    return (len(text.encode("utf-8")) + 2) // 3 * 4


def too_large_message(text: str, what: str = "the text") -> str | None:
    """The notice for ``text`` whose base64 form is over :data:`MAX_COPY_BASE64`, else None."""
    if encoded_size(text) <= MAX_COPY_BASE64:
        return None
    size = len(text.encode("utf-8"))
    return (
        f"Not copied: {what} is {size:,} bytes, over the {MAX_COPY_BASE64 // 1000} kB of base64 that "
        "terminals accept through OSC 52. Export it with Ctrl+S instead."
    )


def copy_text(app, text: str, *, what: str = "the text", environ: Mapping[str, str] | None = None) -> CopyResult:
    """Copy ``text`` to the terminal's clipboard through ``app``'s driver (OSC 52, wrapped for
    tmux or screen), unless its base64 form is over :data:`MAX_COPY_BASE64`.

    ``what`` names the text in the notice (``"the whole event"``). The text always goes to
    ``app``'s own clipboard (pasting inside the app). Never raises for a missing driver (headless
    or not yet running): nothing is written then, and the result still says ``copied``.
    """
    data = text.encode("utf-8")
    encoded = encoded_size(text)
    app._clipboard = text  # Textual's own clipboard (App.clipboard), as App.copy_to_clipboard keeps it
    where = multiplexer(environ)
    refused = too_large_message(text, what)
    if refused is not None:
        return CopyResult(False, len(data), encoded, where, refused)
    driver = getattr(app, "_driver", None)
    if driver is not None:
        driver.write(osc52_sequences(text, environ))
    via = f" via {where}" if where else ""
    return CopyResult(True, len(data), encoded, where, f"Copied {what} ({len(data):,} bytes){via}")
