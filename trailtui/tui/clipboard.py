"""Copy text to the user's clipboard over SSH, in tmux and in GNU screen, and say truthfully
whether it got there.

OSC 52 (``ESC ] 52 ; c ; <base64> BEL``, from xterm's control sequences) asks the terminal
emulator itself to set the clipboard: the text travels in the terminal stream, so it reaches the
laptop of a user who ssh'd into a bastion host. Textual's ``App.copy_to_clipboard`` sends it (and
keeps the text in ``App.clipboard`` for pasting inside the app). Multiplexers sit in between:

* **tmux** (``$TMUX`` set) drops a program's OSC 52 unless its ``set-clipboard`` option is
  ``on`` (the default, ``external``, lets only tmux itself set the clipboard), and forwards a
  sequence wrapped in its DCS passthrough (``ESC P tmux; <sequence, every ESC doubled> ESC \\``)
  only when ``allow-passthrough`` is on (tmux(1), OPTIONS). So the text is also loaded into
  tmux's paste buffer with ``tmux load-buffer -w -`` (text on stdin, never in argv where ``ps``
  shows it): ``prefix ]`` pastes it, and ``-w`` has tmux itself send it to the clipboard of the
  attached client's terminal when tmux knows that terminal accepts OSC 52 (its ``clipboard``
  terminal feature). The pane's options and the client's terminal features are read once per
  app run (:func:`tmux_clipboard`), and :func:`copy_text`'s message says which way it went or
  why it may not reach the clipboard, with the command that fixes it.
* **GNU screen** (``$STY`` set) forwards DCS strings (``ESC P ... ESC \\``) but cuts them past
  768 bytes, so the sequence is also sent in chunks of :data:`SCREEN_CHUNK` characters, each in
  its own DCS string.

Terminals cap what they accept (xterm's default is about 100 kB), so text whose base64 form is
over :data:`MAX_COPY_BASE64` is not copied at all: :func:`copy_text` returns a result saying so
and the caller shows a notice (a cut JSON event would be worse than none).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from trailtui.core.text import plural, printable

#: Largest base64 payload sent (bytes); 100 kB of base64 is about 75 kB of text.
MAX_COPY_BASE64 = 100_000
#: GNU screen passes DCS strings of at most 768 bytes; chunks stay well below it.
SCREEN_CHUNK = 76
#: Seconds a tmux command may take before the copy goes on without it.
TMUX_TIMEOUT = 1.0

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


# --------------------------------------------------------------------------- tmux


@dataclass(frozen=True)
class TmuxClipboard:
    """What tmux will do with a copy from this pane (tmux(1): OPTIONS, FORMATS).

    ``set_clipboard``: the ``set-clipboard`` option (``"on"``, ``"external"``, ``"off"``), None
    when tmux could not be asked (``problem`` says why). ``passthrough``: ``allow-passthrough``
    is on (or ``all``) for this pane. ``terminal``: the attached client's terminal type
    (``client_termname``; "" when no client is attached). ``terminal_clipboard``: tmux knows that
    terminal accepts OSC 52 (``clipboard`` in ``client_termfeatures``), so tmux can set its
    clipboard.
    """

    set_clipboard: str | None
    passthrough: bool = False
    terminal: str = ""
    terminal_clipboard: bool = False
    problem: str | None = None


# One tmux command reads the pane's effective options (a pane may override the global ones) and
# the attached client's terminal; fields are tab-separated.
_TMUX_FORMAT = "#{set-clipboard}\t#{allow-passthrough}\t#{client_termname}\t#{client_termfeatures}"
_PROBED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tmux_clipboard(app=None, environ: Mapping[str, str] | None = None) -> TmuxClipboard:
    """Ask tmux (``display-message -p`` on ``$TMUX_PANE``) what it does with a copy; cached per
    ``app`` (once per app run). Never raises: a missing ``tmux``, a dead server or a timeout
    (:data:`TMUX_TIMEOUT` seconds) gives ``set_clipboard=None`` and the ``problem``."""
    if app is not None:
        try:
            return _PROBED[app]
        except (KeyError, TypeError):
            pass
    env = dict(os.environ if environ is None else environ)
    pane = env.get("TMUX_PANE")
    target = ["-t", pane] if pane else []
    done, output = _run_tmux(["display-message", "-p", *target, _TMUX_FORMAT], env)
    if not done:
        found = TmuxClipboard(None, problem=output)
    else:
        fields = (output.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
        setting, passthrough, terminal, features = fields
        found = TmuxClipboard(
            setting or None,
            # A flag option shows as 1/0 (tmux 3.3); from 3.4 it takes on/off/all.
            passthrough=passthrough in ("1", "on", "all"),
            terminal=terminal,
            terminal_clipboard="clipboard" in features.split(","),
            problem=None if setting else "tmux did not say its set-clipboard option",
        )
    if app is not None:
        try:
            _PROBED[app] = found
        except TypeError:
            pass
    return found


def load_tmux_buffer(text: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Put ``text`` in tmux's paste buffer with ``tmux load-buffer -w -`` (text on stdin), ``-w``
    asking tmux to send it to the attached client's clipboard too. Returns None when done, else
    why not (one line). Never raises."""
    env = dict(os.environ if environ is None else environ)
    done, output = _run_tmux(["load-buffer", "-w", "-"], env, stdin=text.encode("utf-8"))
    return None if done else output


def _run_tmux(args: list[str], env: dict[str, str], stdin: bytes | None = None) -> tuple[bool, str]:
    """Run ``tmux ARGS`` (the server of ``$TMUX`` in ``env``): ``(True, stdout)`` or ``(False,
    reason)``. Never raises."""
    binary = shutil.which("tmux", path=env.get("PATH"))
    if binary is None:
        return False, "the tmux command is not on PATH"
    try:
        done = subprocess.run(
            [binary, *args], input=stdin if stdin is not None else b"", capture_output=True, env=env,
            timeout=TMUX_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return False, f"tmux did not answer within {TMUX_TIMEOUT:g} s"
    except OSError as err:
        return False, f"cannot run tmux: {err.strerror or err}"
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return False, printable(reason[0] if reason else f"tmux exited with code {done.returncode}")
    return True, done.stdout.decode("utf-8", "replace")


# --------------------------------------------------------------------------- copying


@dataclass(frozen=True)
class CopyResult:
    """What :func:`copy_text` did.

    ``copied``: the text was sent (to tmux's paste buffer and/or as OSC 52); False when it was
    refused (too large) or nothing could take it. ``doubtful``: it may not have reached the
    system clipboard; ``message`` says why and how to fix it (show it as a warning).
    ``size``: bytes of UTF-8; ``encoded``: bytes of base64; ``via``: ``"tmux"``, ``"screen"`` or
    None. ``message`` is one line for the user, never containing the copied text.
    """

    copied: bool
    size: int
    encoded: int
    via: str | None
    message: str
    doubtful: bool = False


def copy_text(app, text: str, *, what: str = "the text", environ: Mapping[str, str] | None = None) -> CopyResult:
    """Copy ``text`` to the clipboard from ``app`` (a running Textual app), unless its base64 form
    is over :data:`MAX_COPY_BASE64` (then nothing is sent and ``App.clipboard`` is unchanged).

    Sends OSC 52 with Textual's ``App.copy_to_clipboard`` (which also keeps the text in
    ``App.clipboard``); under tmux also loads tmux's paste buffer and, when the pane allows
    passthrough, sends the wrapped OSC 52; under GNU screen also the chunked one (see the module
    docstring). ``what`` names the text in the message (``"the whole event"``); ``environ``
    stands for ``os.environ`` (tests). Runs at most two tmux commands of at most
    :data:`TMUX_TIMEOUT` seconds each. Never raises.
    """
    from textual.app import App

    data = text.encode("utf-8")
    encoded = encoded_size(text)
    where = multiplexer(environ)
    refused = too_large_message(text, what)
    if refused is not None:
        return CopyResult(False, len(data), encoded, where, refused)
    # Textual's own method, not app.copy_to_clipboard: an app that overrides copy_to_clipboard
    # to call this function would otherwise call itself.
    App.copy_to_clipboard(app, text)
    sequence = osc52(base64.b64encode(data).decode("ascii"))
    copied = f"Copied {what} ({plural(len(data), 'byte')})"
    if where == "screen":
        _write_escape_sequence(app, screen_passthrough(sequence))
        return CopyResult(True, len(data), encoded, where, f"{copied} through GNU screen")
    if where != "tmux":
        return CopyResult(True, len(data), encoded, where, copied)
    tmux = tmux_clipboard(app, environ)
    if tmux.passthrough:
        _write_escape_sequence(app, tmux_passthrough(sequence))
    buffer_problem = load_tmux_buffer(text, environ)
    return _tmux_result(tmux, buffer_problem, copied, len(data), encoded)


def _tmux_result(tmux: TmuxClipboard, buffer_problem: str | None, copied: str, size: int, encoded: int) -> CopyResult:
    """The honest outcome of a copy under tmux."""
    # tmux sends the clipboard sequence itself for load-buffer -w when it knows the terminal
    # takes it; set-clipboard off means it should not (tmux 3.3a still does for -w, so "may").
    by_tmux = buffer_problem is None and tmux.terminal_clipboard and tmux.set_clipboard in ("on", "external")
    # With set-clipboard on, tmux also forwards the program's own (plain) OSC 52.
    forwarded = tmux.set_clipboard == "on" and tmux.terminal_clipboard
    reached = by_tmux or forwarded or tmux.passthrough
    if buffer_problem is None:
        where = f"{copied} to tmux's paste buffer"
        if reached:
            return CopyResult(True, size, encoded, "tmux", f"{where} and the clipboard")
        return CopyResult(
            True, size, encoded, "tmux",
            f"{where} (prefix+] pastes it); it may not reach your clipboard: {_why_not(tmux)}", doubtful=True,
        )
    if reached:
        return CopyResult(
            True, size, encoded, "tmux",
            f"{copied} to the clipboard through tmux; tmux's paste buffer was not set ({buffer_problem})",
        )
    return CopyResult(
        True, size, encoded, "tmux",
        f"Sent {copied.removeprefix('Copied ')} as OSC 52, but it may not reach your clipboard: tmux's paste "
        f"buffer could not be set ({buffer_problem}), and tmux passes a program's OSC 52 on only with "
        "`tmux set -g allow-passthrough on` (or set-clipboard on)",
        doubtful=True,
    )


def _why_not(tmux: TmuxClipboard) -> str:
    """Why tmux will not pass a copy it holds in its paste buffer on to the terminal's
    clipboard, and the command that fixes it."""
    if tmux.set_clipboard is None:
        return f"tmux's settings could not be read ({tmux.problem})"
    if not tmux.terminal:
        return "no tmux client is attached to this session"
    if tmux.set_clipboard == "off":
        return "set-clipboard is off — run `tmux set -g set-clipboard on`"
    term = printable(tmux.terminal)
    return (
        f"tmux does not know that your terminal ({term}) accepts OSC 52 — run "
        f"`tmux set -as terminal-features ',{term}:clipboard'` (or `tmux set -g allow-passthrough on`)"
    )


def _write_escape_sequence(app, sequence: str) -> bool:
    """Write ``sequence`` (a wrapped OSC 52) straight to the terminal; False when the app has no
    driver (headless, or not running yet)."""
    # Textual has no public API to write raw bytes to the terminal: App.copy_to_clipboard writes
    # only a bare OSC 52, which tmux (unless set-clipboard is on) and GNU screen swallow. So the
    # wrapped forms go through the driver that owns the terminal, App._driver.write, as
    # copy_to_clipboard itself does. tests/test_clipboard.py fails loudly if a Textual upgrade
    # removes App._driver or its write().
    driver = getattr(app, "_driver", None)
    if driver is None:
        return False
    driver.write(sequence)
    return True


def copy_and_tell(node, text: str, *, what: str) -> CopyResult:
    """Copy ``text`` (see :func:`copy_text`) from ``node`` (a widget or screen of the app) and
    show the result's message: information when it surely reached the clipboard, a warning when
    it was refused or may not have (``doubtful``). Returns the :class:`CopyResult`."""
    result = copy_text(node.app, text, what=what)
    severity = "information" if result.copied and not result.doubtful else "warning"
    node.notify(result.message, severity=severity, markup=False)  # the message may quote a key name
    return result
