"""Copy over SSH: OSC 52, wrapped for tmux and GNU screen, with a size cap and a notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailtui.tui import clipboard
from trailtui.tui.clipboard import (
    MAX_COPY_BASE64,
    copy_text,
    multiplexer,
    osc52_sequences,
    too_large_message,
)

PLAIN = "\x1b]52;c;aGk=\x07"  # "hi" in base64 is aGk=


def test_plain_terminal_gets_one_osc52() -> None:
    assert osc52_sequences("hi", {}) == PLAIN
    assert osc52_sequences("é", {}) == "\x1b]52;c;w6k=\x07"  # UTF-8 bytes c3 a9


def test_tmux_gets_plain_and_passthrough_with_escapes_doubled() -> None:
    env = {"TMUX": "/tmp/tmux-0/default,4242,0", "TERM": "screen-256color"}
    assert multiplexer(env) == "tmux"
    assert osc52_sequences("hi", env) == PLAIN + "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"


def test_screen_gets_the_sequence_in_short_dcs_chunks() -> None:
    env = {"STY": "1234.pts-0.host"}
    assert multiplexer(env) == "screen"
    text = "x" * 300
    sent = osc52_sequences(text, env)
    chunks = sent.split("\x1b\\")[:-1]
    assert all(chunk.startswith("\x1bP") and len(chunk) <= 2 + clipboard.SCREEN_CHUNK for chunk in chunks)
    assert "".join(chunk[2:] for chunk in chunks) == osc52_sequences(text, {})


def test_size_cap_is_on_the_base64_form() -> None:
    assert too_large_message("a" * 75_000) is None  # exactly 100,000 base64 bytes
    message = too_large_message("a" * 75_001, "the whole event")
    assert message is not None and "the whole event is 75,001 bytes" in message and "100 kB" in message
    assert MAX_COPY_BASE64 == 100_000


class FakeDriver:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)


class FakeApp:
    def __init__(self) -> None:
        self._driver = FakeDriver()
        self._clipboard = ""


def test_copy_text_writes_through_the_driver_or_refuses() -> None:
    app = FakeApp()
    result = copy_text(app, "hi", what="the value", environ={"TMUX": "x"})
    assert result.copied and result.via == "tmux"
    assert app._driver.written == [PLAIN + "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"]
    assert result.message == "Copied the value (2 bytes) via tmux"
    big = "b" * 80_000
    refused = copy_text(app, big, environ={})
    assert not refused.copied and refused.message.startswith("Not copied:")
    assert len(app._driver.written) == 1  # nothing more was sent
    assert app._clipboard == big  # the app's own clipboard still has it


# --- in the app: y and c go through the module ----------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    from tests.conftest import make_event, write_records
    from trailtui.core.index import connect
    from trailtui.core.loader import index_paths

    events = [make_event("small", "GetObject", eventTime="2026-03-14T10:00:00Z"),
              make_event("huge", "PutBucketPolicy", eventTime="2026-03-14T09:00:00Z",
                         requestParameters={"bucketName": "b", "policy": "P" * 120_000})]
    write_records(tmp_path / "logs" / "a.json", events)
    path = tmp_path / "index.sqlite"
    index_paths(connect(path), [tmp_path / "logs"])
    return path


async def test_y_in_the_app_copies_through_tmux_and_refuses_huge_events(db_path: Path, monkeypatch) -> None:
    from trailtui.tui.app import TrailApp

    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
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
        assert len(copies) == 1 and "\x1bPtmux;\x1b\x1b]52;c;" in copies[0]
        assert app.clipboard.startswith("{") and '"eventID": "small"' in app.clipboard
        await pilot.press("escape", "j")  # back to the list, the next (huge) event
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        await pilot.press("y")
        await pilot.pause()
        assert len([data for data in written if "]52;c;" in data]) == 1  # nothing more sent
        assert any(str(n.message).startswith("Not copied: the whole event is") for n in app._notifications)
