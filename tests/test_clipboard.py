"""Copy over SSH, in tmux and GNU screen: OSC 52, tmux's paste buffer, a size cap, and a message
that says truthfully whether the text reached the clipboard.

The tmux tests run a private tmux server (``tmux -L <name> -f /dev/null``, never the user's) and,
where a terminal is needed, attach a client to it in a pseudo-terminal whose output is read back:
that output is what the user's terminal emulator would receive.
"""

from __future__ import annotations

import base64
import os
import pty
import select
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from textual.app import App

from trailtui.tui import clipboard
from trailtui.tui.clipboard import (
    MAX_COPY_BASE64,
    copy_text,
    multiplexer,
    osc52,
    screen_passthrough,
    tmux_clipboard,
    tmux_passthrough,
    too_large_message,
)

PLAIN = "\x1b]52;c;aGk=\x07"  # "hi" in base64 is aGk=


def test_sequences() -> None:
    assert osc52("aGk=") == PLAIN
    assert tmux_passthrough(PLAIN) == "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
    text = "x" * 300
    sequence = osc52(base64.b64encode(text.encode()).decode())
    chunks = screen_passthrough(sequence).split("\x1b\\")[:-1]
    assert all(chunk.startswith("\x1bP") and len(chunk) <= 2 + clipboard.SCREEN_CHUNK for chunk in chunks)
    assert "".join(chunk[2:] for chunk in chunks) == sequence


def test_multiplexer_from_the_environment() -> None:
    assert multiplexer({"TMUX": "/tmp/tmux-0/default,4242,0", "STY": "x"}) == "tmux"
    assert multiplexer({"STY": "1234.pts-0.host"}) == "screen"
    assert multiplexer({}) is None


def test_size_cap_is_on_the_base64_form() -> None:
    assert too_large_message("a" * 75_000) is None  # exactly 100,000 base64 bytes
    message = too_large_message("a" * 75_001, "the whole event")
    assert message is not None and "the whole event is 75,001 bytes" in message and "100 kB" in message
    assert MAX_COPY_BASE64 == 100_000


# --- Textual's private API this module relies on ----------------------------------------------------


async def test_textual_still_lets_the_wrapped_sequences_reach_the_terminal() -> None:
    app = App()
    assert hasattr(app, "_driver"), (
        "Textual no longer has App._driver: trailtui.tui.clipboard._write_escape_sequence cannot send the "
        "tmux/GNU screen wrapped OSC 52; find Textual's new way to write raw output to the terminal"
    )
    async with app.run_test():
        write = getattr(app._driver, "write", None)
        assert callable(write), (
            "Textual's driver no longer has write(str): trailtui.tui.clipboard._write_escape_sequence cannot "
            "send the tmux/GNU screen wrapped OSC 52"
        )


class Terminal:
    """A running Textual app whose terminal output (every driver write) is recorded."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.written: list[str] = []
        app._driver.write = self.written.append  # type: ignore[union-attr,method-assign]

    def osc52(self) -> list[str]:
        return [data for data in self.written if "]52;c;" in data]


@pytest.fixture
async def terminal():
    app = App()
    async with app.run_test():
        yield Terminal(app)


async def test_plain_terminal_gets_one_osc52_and_the_app_keeps_the_text(terminal: Terminal) -> None:
    result = copy_text(terminal.app, "hi", what="the value", environ={})
    assert result == clipboard.CopyResult(True, 2, 4, None, "Copied the value (2 bytes)")
    assert terminal.written == [PLAIN]
    assert terminal.app.clipboard == "hi"


async def test_screen_gets_the_chunked_sequence_too(terminal: Terminal) -> None:
    result = copy_text(terminal.app, "é", environ={"STY": "1234.pts-0.host"})
    sequence = "\x1b]52;c;w6k=\x07"  # UTF-8 bytes c3 a9
    assert terminal.written == [sequence, screen_passthrough(sequence)]
    assert result.message == "Copied the text (2 bytes) through GNU screen" and not result.doubtful


async def test_over_the_cap_nothing_is_sent_anywhere(terminal: Terminal, monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(clipboard, "_run_tmux", lambda *args, **kw: calls.append(args) or (True, ""))
    terminal.app.copy_to_clipboard("before")
    terminal.written.clear()
    result = copy_text(terminal.app, "b" * 80_000, what="the whole event", environ={"TMUX": "/nowhere,1,0"})
    assert not result.copied and result.message.startswith("Not copied: the whole event is 80,000 bytes")
    assert terminal.written == [] and calls == []
    assert terminal.app.clipboard == "before"


# --- tmux: a private server ----------------------------------------------------------------------------


class TmuxServer:
    """A private tmux server (its own socket) with one detached session, optionally with a client
    attached in a pseudo-terminal of the given ``$TERM``."""

    def __init__(self) -> None:
        self.name = f"trailtui-test-{uuid.uuid4().hex[:8]}"
        # The socket lives in a directory of its own (short: a socket path is at most 107 bytes).
        self.tmpdir = Path(tempfile.mkdtemp(prefix="trailtui-tmux-"))
        self.base_env = {key: value for key, value in os.environ.items() if key not in ("TMUX", "TMUX_PANE")}
        self.base_env["TERM"] = "xterm-256color"
        self.base_env["TMUX_TMPDIR"] = str(self.tmpdir)
        self.tmux("new-session", "-d", "-x", "80", "-y", "24")
        socket = self.tmux("display-message", "-p", "#{socket_path}").strip()
        self.pane = self.tmux("display-message", "-p", "#{pane_id}").strip()
        # What the app sees when it runs in that pane.
        self.env = dict(self.base_env, TMUX=f"{socket},{os.getpid()},0", TMUX_PANE=self.pane)
        self.output = b""
        self._client: int | None = None
        self._fd: int | None = None

    def tmux(self, *args: str, env: dict | None = None) -> str:
        done = subprocess.run(["tmux", "-L", self.name, "-f", "/dev/null", *args], capture_output=True,
                              env=env or self.base_env, timeout=10)
        assert done.returncode == 0, done.stderr
        return done.stdout.decode()

    def attach(self, term: str) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the client, in its own pseudo-terminal
            os.execvpe("tmux", ["tmux", "-L", self.name, "-f", "/dev/null", "attach"], dict(self.base_env, TERM=term))
        self._client, self._fd = pid, fd
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 5
        while self.tmux("display-message", "-p", "#{session_attached}").strip() != "1":
            assert time.monotonic() < deadline, "the tmux client did not attach"
            time.sleep(0.05)

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.1)
                if ready:
                    chunk = os.read(self._fd, 65536)
                    if not chunk:
                        return
                    self.output += chunk
            except (OSError, ValueError):
                return

    def terminal_received(self, needle: bytes, wait: float = 3.0) -> bool:
        deadline = time.monotonic() + wait
        while needle not in self.output:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def buffer(self) -> str:
        return self.tmux("show-buffer")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.name, "-f", "/dev/null", "kill-server"], capture_output=True,
                       env=self.base_env, timeout=10)
        if self._client is not None:
            try:
                os.waitpid(self._client, 0)
            except ChildProcessError:
                pass
        if self._fd is not None:
            os.close(self._fd)
        shutil.rmtree(self.tmpdir, ignore_errors=True)


@pytest.fixture
def tmux():
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: the tmux copy tests need a real tmux server")
    server = TmuxServer()
    try:
        yield server
    finally:
        server.close()


def _b64(text: str) -> bytes:
    return base64.b64encode(text.encode()).decode().encode()


async def test_tmux_defaults_load_the_buffer_and_tmux_sets_the_clipboard(terminal: Terminal, tmux: TmuxServer) -> None:
    tmux.attach("xterm-256color")  # tmux knows xterm* takes OSC 52; set-clipboard is external
    result = copy_text(terminal.app, "Copied → ünïcode\n", what="the value", environ=tmux.env)
    assert tmux.buffer() == "Copied → ünïcode\n"
    assert result.message == "Copied the value (21 bytes) to tmux's paste buffer and the clipboard"
    assert result.copied and not result.doubtful and result.via == "tmux"
    # tmux itself sent the clipboard sequence to the user's terminal ...
    assert tmux.terminal_received(b"]52;;" + _b64("Copied → ünïcode\n")), tmux.output[-300:]
    # ... and no wrapped sequence was written, since passthrough is off.
    assert terminal.written == ["\x1b]52;c;" + _b64("Copied → ünïcode\n").decode() + "\x07"]


async def test_tmux_with_set_clipboard_off_says_it_may_not_arrive_and_how_to_fix_it(terminal: Terminal,
                                                                                      tmux: TmuxServer) -> None:
    tmux.attach("xterm-256color")
    tmux.tmux("set", "-g", "set-clipboard", "off")
    result = copy_text(terminal.app, "secret-key-id", environ=tmux.env)
    assert tmux.buffer() == "secret-key-id"
    assert result.doubtful and result.copied
    assert result.message == (
        "Copied the text (13 bytes) to tmux's paste buffer (prefix+] pastes it); it may not reach your "
        "clipboard: set-clipboard is off — run `tmux set -g set-clipboard on`"
    )


async def test_tmux_passthrough_sends_the_wrapped_sequence_and_it_reaches_the_terminal(terminal: Terminal,
                                                                                         tmux: TmuxServer) -> None:
    tmux.attach("xterm-256color")
    tmux.tmux("set", "-g", "set-clipboard", "off")
    tmux.tmux("set", "-p", "-t", tmux.pane, "allow-passthrough", "on")  # a pane option, read for this pane
    result = copy_text(terminal.app, "arn:aws:iam::111122223333:user/alice", environ=tmux.env)
    assert not result.doubtful and result.message.endswith("to tmux's paste buffer and the clipboard")
    sequence = "\x1b]52;c;" + _b64("arn:aws:iam::111122223333:user/alice").decode() + "\x07"
    assert terminal.written == [sequence, tmux_passthrough(sequence)]
    # What the app wrote, written inside the pane, comes out of tmux as the plain OSC 52.
    script = tmux.tmpdir / "wrapped"
    script.write_text(tmux_passthrough(sequence))
    tmux.tmux("respawn-pane", "-k", "-t", tmux.pane, f"cat {script}; sleep 5")
    assert tmux.terminal_received(sequence.encode()), tmux.output[-300:]


async def test_tmux_on_a_terminal_it_does_not_know_names_the_terminal_feature(terminal: Terminal,
                                                                              tmux: TmuxServer) -> None:
    tmux.attach("screen")  # tmux's defaults give screen* no clipboard feature
    result = copy_text(terminal.app, "x", environ=tmux.env)
    assert tmux.buffer() == "x" and result.doubtful
    assert "tmux does not know that your terminal (screen) accepts OSC 52" in result.message
    assert "`tmux set -as terminal-features ',screen:clipboard'`" in result.message


async def test_tmux_without_an_attached_client_says_so(terminal: Terminal, tmux: TmuxServer) -> None:
    result = copy_text(terminal.app, "x", environ=tmux.env)
    assert tmux.buffer() == "x" and result.doubtful
    assert result.message.endswith("it may not reach your clipboard: no tmux client is attached to this session")


async def test_tmux_settings_are_read_once_per_app_and_the_text_never_goes_in_argv(terminal: Terminal,
                                                                                    tmux: TmuxServer,
                                                                                    monkeypatch) -> None:
    runs: list[tuple[list[str], bytes]] = []
    real_run = subprocess.run

    def recording_run(args, **kwargs):
        runs.append((list(args), kwargs.get("input") or b""))
        return real_run(args, **kwargs)

    monkeypatch.setattr(clipboard.subprocess, "run", recording_run)
    for text in ("AKIAEXAMPLEALICE0001", "second"):
        copy_text(terminal.app, text, environ=tmux.env)
    commands = [args[1] for args, _ in runs]
    assert commands == ["display-message", "load-buffer", "load-buffer"]
    assert [stdin for args, stdin in runs if args[1] == "load-buffer"] == [b"AKIAEXAMPLEALICE0001", b"second"]
    assert not any("AKIA" in arg for args, _ in runs for arg in args)
    assert tmux.buffer() == "second"


async def test_unreachable_tmux_is_reported_not_claimed(terminal: Terminal, tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    env = dict(os.environ, TMUX=f"{tmp_path / 'no-server'},1,0", TMUX_PANE="%0")
    result = copy_text(terminal.app, "x", environ=env)
    assert result.doubtful
    assert result.message.startswith("Sent the text (1 byte) as OSC 52, but it may not reach your clipboard: "
                                     "tmux's paste buffer could not be set (")
    assert "allow-passthrough on" in result.message
    assert tmux_clipboard(None, env).set_clipboard is None


# --- in the app: y goes through the module ------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    from tests.conftest import make_event, write_records
    from trailtui.core.store.index import connect
    from trailtui.core.loader import index_paths

    events = [make_event("small", "GetObject", eventTime="2026-03-14T10:00:00Z"),
              make_event("huge", "PutBucketPolicy", eventTime="2026-03-14T09:00:00Z",
                         requestParameters={"bucketName": "b", "policy": "P" * 120_000})]
    write_records(tmp_path / "logs" / "a.json", events)
    path = tmp_path / "index.sqlite"
    index_paths(connect(path), [tmp_path / "logs"])
    return path


async def test_y_in_the_app_copies_and_refuses_huge_events(db_path: Path, tmp_path: Path, monkeypatch) -> None:
    from trailtui.tui.app import TrailApp

    # A tmux that cannot be reached (never the user's own server).
    monkeypatch.setenv("TMUX", f"{tmp_path / 'no-server'},1,0")
    app = TrailApp(db_path=db_path, start_loader=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        written: list[str] = []
        monkeypatch.setattr(app._driver, "write", written.append)
        await pilot.press("enter")  # open the newest event (GetObject) in the detail pane
        await pilot.pause(0.2)
        await pilot.press("y")
        await pilot.pause()
        copies = [data for data in written if "]52;c;" in data]
        assert len(copies) == 1 and copies[0].startswith("\x1b]52;c;")
        assert app.clipboard.startswith("{") and '"eventID": "small"' in app.clipboard
        await pilot.press("escape", "j")  # back to the list, the next (huge) event
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        await pilot.press("y")
        await pilot.pause()
        assert len([data for data in written if "]52;c;" in data]) == 1  # nothing more sent
        assert any(text.startswith("Not copied: the whole event is") for _, text in app.messages)
