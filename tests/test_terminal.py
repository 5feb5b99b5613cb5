"""The app in a real pseudo-terminal, keys arriving as a terminal sends them: a burst in one
write (a paste, a laggy SSH link to a bastion) must reach the filter bar whole.

The screen is read back with pyte (a terminal emulator in Python), so this goes through
Textual's own input parser and driver, not Pilot.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import make_event, write_records

pyte = pytest.importorskip("pyte", reason="pyte (a test extra) reads the terminal's screen")


class Terminal:
    """A program in a pseudo-terminal of ``cols`` x ``rows`` and the screen it draws."""

    def __init__(self, argv: list[str], cols: int, rows: int, env: dict[str, str]) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        main, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.process = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, env=env,
                                        start_new_session=True, close_fds=True)
        os.close(child)
        self.fd = main

    def pump(self, seconds: float = 0.1) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.stream.feed(data)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, seconds: float = 20.0) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump(0.1)
            if needle in self.text:
                return
        raise AssertionError(f"the screen never showed {needle!r}; it shows:\n{self.text}")

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)  # one write: the keys arrive together

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        os.close(self.fd)


@pytest.fixture
def terminal(tmp_path: Path):
    logs = tmp_path / "logs"
    events = [make_event(f"put-{i}", "PutObject", eventTime=f"2026-03-14T10:{i:02d}:00Z") for i in range(30)]
    events += [make_event(f"get-{i}", "GetObject", eventTime=f"2026-03-14T11:{i:02d}:00Z",
                          userIdentity={"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"})
               for i in range(5)]
    write_records(logs / "a.json", events)
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="", LINES="", XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), TRAILTUI_CONFIG=str(tmp_path / "config.toml"))
    term = Terminal([sys.executable, "-m", "trailtui", str(logs)], 120, 36, env)
    try:
        term.wait_for("35 / 35")
        yield term
    finally:
        term.close()


def test_a_burst_typed_after_slash_arrives_whole_in_the_filter(terminal: Terminal) -> None:
    terminal.write(b"/name:GetObject is:anonymous\r")
    terminal.wait_for(" 5 / 35")
    assert "name:GetObject is:anonymous" in terminal.text


def test_slash_selects_the_filter_so_a_second_burst_replaces_it(terminal: Terminal) -> None:
    terminal.write(b"/name:GetObject\r")
    terminal.wait_for(" 5 / 35")
    terminal.write(b"/is:anonymous\r")  # s, i, a would be list keys if they escaped the filter bar
    terminal.wait_for("is:anonymous")
    terminal.pump(0.5)
    assert "name:GetObjectis:anonymous" not in terminal.text
    assert " 5 / 35" in terminal.text


def test_a_bracketed_paste_lands_in_the_filter(terminal: Terminal) -> None:
    terminal.write(b"/")
    terminal.pump(0.2)
    terminal.write(b"\x1b[200~name:PutObject\x1b[201~\r")
    terminal.wait_for("30 / 35")
    assert "name:PutObject" in terminal.text


def test_filters_typed_in_bursts_are_each_one_step_back(terminal: Terminal) -> None:
    terminal.write(b"/name:GetObject\r")
    terminal.wait_for(" 5 / 35")
    terminal.write(b"/is:anonymous\r")
    terminal.wait_for("all events › name:GetObject › is:anonymous")
    terminal.write(b"\x1b")  # Esc on the list: one step back
    terminal.wait_for("all events › name:GetObject ")
    assert " 5 / 35" in terminal.text


def test_a_slash_typed_the_moment_the_app_starts_is_kept(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_records(logs / "a.json", [make_event(f"e-{i}", "GetObject" if i % 2 else "PutObject") for i in range(6)])
    env = dict(os.environ, TERM="xterm-256color", XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"), TRAILTUI_CONFIG=str(tmp_path / "config.toml"))
    term = Terminal([sys.executable, "-m", "trailtui", str(logs)], 100, 30, env)
    try:
        term.write(b"/name:PutObject\r")  # before the app has drawn anything
        term.wait_for(" 3 / 6")
        assert "name:PutObject" in term.text and term.process.poll() is None
    finally:
        term.close()
