"""Attacker-chosen text never reaches the terminal raw, and markup in it is never interpreted.

Log values carry terminal escape sequences (OSC 52 clipboard writes, OSC 8 links, CSI cursor
moves, BEL, NUL, C1 controls, bidi overrides) and Rich/Textual markup (``[bold]``, ``[link=...]``,
``[@click=...]``). Checked here: :func:`printable` and friends, the command line's table, JSON,
NDJSON and CSV output, and every pane and screen of the app, down to the bytes a terminal would
receive (only SGR colour sequences may remain once the screen is rendered).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual import events
from textual.widgets import Input

from trailtui.cli import main
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.core.text import json_text_safe, printable, visible_controls
from trailtui.tui.app import TrailApp
from trailtui.tui.detail import EventDetail
from trailtui.tui.help_screen import HelpScreen
from trailtui.tui.load_errors_screen import LoadErrorsScreen
from tests.conftest import make_event, write_records
from tests.make_hostile_corpus import ALL_HOSTILE, HOSTILE, UNSAFE_CHARS, write_corpus

_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def unsafe_in(text: str) -> set[str]:
    """The characters of ``text`` (newlines aside) a terminal must not receive raw."""
    return set(text.replace("\n", "")) & UNSAFE_CHARS


# --- text helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_printable_escapes_every_control_and_bidi_mark(name: str) -> None:
    shown = printable(HOSTILE[name])
    assert not unsafe_in(shown) and "\n" not in shown
    assert printable(shown) == shown  # nothing left to escape


def test_printable_shows_sequences_as_text_and_leaves_markup_alone() -> None:
    assert printable(HOSTILE["osc52"]) == "\\x1b]52;c;ZXZpbA==\\x07"
    assert printable(HOSTILE["bidi"]) == "txt.\\u202eexe.pdf\\u2066\\u2069\\u200f"
    assert printable(HOSTILE["c1"]) == "\\x9b31m\\x9d0;title\\x9c\\x85"
    assert printable("a\x00b\x7fc\td\ne") == "a\\x00b\\x7fc\\x09d\\x0ae"
    assert printable(HOSTILE["markup"]) == HOSTILE["markup"]
    assert printable(None) == "" and printable(42) == "42"


def test_json_text_safe_keeps_the_value_and_escapes_the_rest() -> None:
    text = json.dumps({"k": ALL_HOSTILE.replace("\n", " "), "n": [1, 2.5, None]}, ensure_ascii=False)
    safe = json_text_safe(text)
    assert json.loads(safe) == json.loads(text)
    assert not unsafe_in(safe)
    assert "\\u009b31m" in safe and "\\u202e" in safe and "\\u007f" in safe


def test_visible_controls_keeps_one_character_per_character() -> None:
    shown = visible_controls(ALL_HOSTILE)
    assert len(shown) == len(ALL_HOSTILE)
    assert not unsafe_in(shown) and "\n" not in shown
    assert visible_controls("\x1b]52;c;x\x07") == "\u241b]52;c;x\u2407"


# --- command line ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_logs(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("hostile") / "corpus").root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_output_escapes_controls_and_prints_markup_literally(capsys, hostile_logs: Path, tmp_path: Path) -> None:
    code, out, err = run(capsys, "query", str(hostile_logs), "--db", str(tmp_path / "i.sqlite"),
                         "--filter", "id:hostile-*", "--oldest-first")
    assert code == 3  # the corpus's bad files are reported on stderr
    assert not unsafe_in(out) and not unsafe_in(err)
    lines = out.splitlines()
    assert len(lines) == 1 + len(HOSTILE)
    assert "Hostile/sess-osc52\\x1b]52;c;ZXZ" in lines[1]  # the osc52 event's actor, escaped
    assert "GetObject[bold red]pwn[/]" in out  # markup shown as typed


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_output_is_valid_json_of_the_original_events(capsys, hostile_logs: Path, tmp_path: Path, fmt: str) -> None:
    code, out, _ = run(capsys, "query", str(hostile_logs), "--db", str(tmp_path / "i.sqlite"),
                       "--filter", "id:hostile-*", "--format", fmt, "--oldest-first")
    assert not unsafe_in(out)
    events = json.loads(out) if fmt == "json" else [json.loads(line) for line in out.splitlines()]
    assert [event["userAgent"] for event in events] == [f"agent-{name} {value}" for name, value in HOSTILE.items()]


def test_json_output_escapes_raw_c1_and_bidi_characters(capsys, tmp_path: Path) -> None:
    # JSON may hold DEL, C1 controls and bidi marks raw inside strings (only U+0000-U+001F must
    # be escaped); a log written that way must still reach the terminal escaped.
    logs = tmp_path / "logs"
    logs.mkdir()
    event = make_event("raw-1", userAgent="csi\x9b31m bidi\u202e del\x7f")
    (logs / "raw.json").write_text(json.dumps({"Records": [event]}, ensure_ascii=False), encoding="utf-8")
    for fmt in ("ndjson", "json"):
        code, out, _ = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--format", fmt)
        assert code == 0
        assert not unsafe_in(out), fmt
        parsed = json.loads(out) if fmt == "json" else [json.loads(out)]
        assert parsed == [event]


def test_csv_neutralises_formulas_in_every_column(capsys, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    payloads = {"=": "=HYPERLINK(\"https://evil.example\")", "+": "+1+cmd|' /C calc'!A0", "-": "-2+3",
                "@": "@SUM(A1:A9)"}
    events = [
        make_event(f"f{n}", name, userAgent=payload, errorCode=payload,
                   requestParameters={"bucketName": payload, "key": "k"})
        for n, (name, payload) in enumerate(payloads.items())
    ]
    write_records(logs / "formulas.json", events)
    code, out, _ = run(capsys, "query", str(logs), "--db", str(tmp_path / "i.sqlite"), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4
    for row in rows:
        for column in ("eventName", "userAgent", "errorCode", "resource"):
            assert row[column][:1] == "'", (column, row[column])
            assert row[column][1:] in {*payloads, *payloads.values(), *(f"{p}/k" for p in payloads.values())}


def test_help_output_has_no_control_characters() -> None:
    import subprocess
    import sys

    for argv in ([], ["index"], ["query"]):
        helped = subprocess.run([sys.executable, "-m", "trailtui", *argv, "--help"], capture_output=True, text=True)
        assert helped.returncode == 0
        assert not unsafe_in(helped.stdout)


# --- the app -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_db(hostile_logs: Path, tmp_path_factory) -> Path:
    db_path = tmp_path_factory.mktemp("index") / "index.sqlite"
    index_paths(connect(db_path), [hostile_logs], workers=0)
    return db_path


def terminal_bytes(app) -> str:
    """What the terminal receives for the current screen: every line rendered to ANSI text."""
    strips = app.screen._compositor.render_strips()
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=app.size.width)
    return "".join(strip.render(console) + "\n" for strip in strips)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def assert_terminal_safe(app) -> str:
    """The screen as the terminal gets it holds no control character but SGR colours, no link
    and no click action; returns the screen's plain text."""
    stream = _SGR.sub("", terminal_bytes(app))
    assert not unsafe_in(stream), sorted(hex(ord(char)) for char in unsafe_in(stream))
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is not None:
                assert not style.link, style.link
                assert "@click" not in repr(style.meta), style.meta
    return screen_text(app)


async def settle(pilot) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_list_detail_and_identity_show_escaped_text(hostile_db: Path) -> None:
    app = TrailApp(db_path=hostile_db, start_loader=False, initial_filter="id:hostile-osc52,hostile-markup,hostile-csi")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        text = assert_terminal_safe(app)
        assert "Hostile/sess-osc52\\x1b]52" in text  # the list's actor column
        assert "GetObject[bold red]p" in text
        assert "GetObject\\x1b[2J" in text
        for _ in range(3):  # each event in the detail and identity panes
            await pilot.press("j")
            await settle(pilot)
            assert_terminal_safe(app)
        await pilot.press("enter", "e")  # open the JSON detail, everything expanded
        await settle(pilot)
        assert isinstance(app.focused, EventDetail)
        text = assert_terminal_safe(app)
        assert 'userAgent: "agent-osc52 \\x1b]52;c;ZXZpbA==\\x07"' in text  # the oldest: the osc52 event
        await pilot.press("tab")  # the identity pane
        await settle(pilot)
        text = assert_terminal_safe(app)
        assert "Hostile/sess-osc52\\x1b]52;c;ZXZpbA==\\x07" in text
        assert app.is_running  # no injected action ran


async def test_views_show_escaped_values(hostile_db: Path) -> None:
    app = TrailApp(db_path=hostile_db, start_loader=False, initial_filter="id:hostile-*")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        for keys in (["F"], ["escape", "A"], ["escape", "t"]):
            await pilot.press(*keys)
            await settle(pilot)
            assert_terminal_safe(app)
        await pilot.press("escape", "escape", "F")
        await settle(pilot)
        text = assert_terminal_safe(app)
        assert "GetObject\\x1b[2J\\x1b[H\\x1b[31mRED" in text  # the eventName frequency table
        assert "[link=https://evil.example]x[/link]" in text


async def test_load_errors_and_help_screens_show_escaped_text(hostile_db: Path) -> None:
    app = TrailApp(db_path=hostile_db, start_loader=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, LoadErrorsScreen)
        text = assert_terminal_safe(app)
        assert "evil-\\x1b]52;c;ZXZpbA==\\x07[bold]name[@click=app.quit].json" in text
        assert "not JSON: starts with b'\\x1b[2J not json'" in text
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "is:anonymous" in assert_terminal_safe(app)


async def test_text_pasted_into_the_filter_bar_shows_controls_as_pictures(hostile_db: Path) -> None:
    app = TrailApp(db_path=hostile_db, start_loader=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        filter_bar = app.query_one("#filter-input", Input)
        filter_bar.post_message(events.Paste(HOSTILE["osc52"] + " " + HOSTILE["c1"] + HOSTILE["bidi"]))
        await settle(pilot)
        assert filter_bar.value.startswith("\x1b]52;c;ZXZpbA==\x07 ")  # the value is what was pasted
        text = assert_terminal_safe(app)
        assert "\u241b]52;c;ZXZpbA==" in text
        # A value with markup and escapes set from a key (the actor's session) is safe too.
        app.set_filter(ALL_HOSTILE)
        await settle(pilot)
        assert_terminal_safe(app)


async def test_the_identity_answers_quote_the_session_issuer_and_service_escaped(tmp_path: Path) -> None:
    """The user guide's three questions are answered with log values (sessionIssuer.arn,
    invokedBy): the whole pane, zoomed so nothing is scrolled out, reaches the terminal safe."""
    from tests.conftest import make_event, write_records
    from trailtui.core.demo.records import assumed_role

    identity = assumed_role("Evil", "sess", role_id="AROAEVIL", access_key_id="ASIAEVIL000000000001",
                            session_created="2026-03-14T09:00:00Z")
    identity["sessionContext"]["sessionIssuer"]["arn"] = "arn:aws:iam::111122223333:role/\x1b]52;c;ZXZpbA==\x1b\\x"
    identity["invokedBy"] = "svc\x1b[2J\x1b[Hspoof"
    write_records(tmp_path / "logs" / "a.json", [make_event("hostile-issuer", "GetObject", userIdentity=identity)])
    db_path = tmp_path / "index.sqlite"
    index_paths(connect(db_path), [tmp_path / "logs"], workers=0)
    app = TrailApp(db_path=db_path, start_loader=False, config_path=tmp_path / "config.toml")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")
        await settle(pilot)
        await pilot.press("z")  # the identity pane on the whole screen: every line of it drawn
        await settle(pilot)
        text = " ".join(assert_terminal_safe(app).replace("│", " ").split())
        assert "Made by another AWS service? Yes: svc\\x1b[2J\\x1b[Hspoof" in text
        assert "Yes: a session of role arn:aws:iam::111122223333:role/\\x1b]52;c;ZXZpbA==\\x1b\\x" in text
