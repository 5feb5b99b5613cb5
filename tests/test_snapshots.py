"""SVG snapshot tests: the main scenes of the app, on the built-in demo, at 80x24 and 160x48.

Each test drives the real app with the keys a user would press and compares the screen with the
SVG accepted before, in ``tests/__snapshots__/test_snapshots/`` (``pytest-textual-snapshot``'s
``snap_compare``), so a layout regression (a cut title, a pane squeezed to nothing, text over
text) fails CI. When a change to the screen is meant, look at the report a failing run writes
(``snapshot_report.html``), then accept the new screens:

    pytest tests/test_snapshots.py --snapshot-update

The snapshots were made with the Textual version the ``test`` extra pins; another version may
draw the same screen differently.

What makes them repeatable: the demo is the same every run (a fixed seed and fixed times); the
app reads no config file of the user's (``config_path`` points into the test's folder), and its
marks and filter history start empty (conftest gives every test its own XDG directories); the
query times it prints ("· 12 ms") are pinned to 0 through :attr:`QueryRunner.clock`; the
input cursor does not blink; a filter that must not be applied part way is pasted, not typed;
and every step waits for the timers and query workers it started before the next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from trailtui.core.demo import write_demo_logs
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.tui.app import TrailApp
from trailtui.tui.query_worker import QueryRunner

#: The two terminal sizes every scene is taken at: the smallest a responder's laptop split
#: gives, and a large screen.
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]

#: The theme the snapshots are drawn in (Textual's default).
THEME = "textual-dark"


@pytest.fixture(autouse=True)
def pinned_query_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every query takes "0 ms": the time QueryRunner measures varies from run to run."""
    monkeypatch.setattr(QueryRunner, "clock", staticmethod(lambda: 0.0))


@pytest.fixture
def demo_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], TrailApp]:
    """Builds the app on a fresh index of the built-in demo in the test's folder, with its own
    config file there (never the user's) naming the theme, so neither the user's config nor
    ``TEXTUAL_THEME`` changes the colours; ``NO_COLOR`` is unset for the same reason. The index
    is named by a path relative to that folder, so no per-run temporary path can reach the
    screen."""
    logs = tmp_path / "demo"
    write_demo_logs(logs)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    db_path = Path("index.sqlite")
    index_paths(connect(db_path), [logs / "AWSLogs"])
    config_path = tmp_path / "config.toml"
    config_path.write_text(f'theme = "{THEME}"\n', encoding="utf-8")

    def make() -> TrailApp:
        return TrailApp(db_path=db_path, start_loader=False, config_path=config_path)

    return make


#: Seconds to wait after a step before waiting for the workers: longer than the timers that
#: start queries (the filter bar's debounce, 0.15 s; the timeline's recount after a resize,
#: 0.3 s), so the queries they start are running, or done, when the workers are waited for.
SETTLE_SECONDS = 0.4


async def settle(pilot) -> None:
    """Let the timers that start queries fire, then wait until no query worker is left (a
    finished query may start the next: the count, then the rows, then the selected event)
    and the screen has drawn what they posted."""
    from textual.worker import WorkerCancelled

    await pilot.pause(SETTLE_SECONDS)
    for _ in range(20):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive query replaced by a newer one: wait for that one
            pass
        await pilot.pause()
        if all(worker.is_finished for worker in pilot.app.workers):
            return


def steady_cursors(app: TrailApp) -> None:
    """Stop the text cursors of the screen's input boxes blinking (Textual's public
    ``Input.cursor_blink``): a blinking cursor is drawn or not depending on when the screen is
    taken. The cursor stays drawn in the focused box, as it is between blinks."""
    for box in app.screen.query(Input):
        box.cursor_blink = False


class ToColumn(str):
    """A step that presses ``l`` until the list's current column is this one (its name), as a
    user watching the header would; fails if ``l`` never gets there."""


class Paste(str):
    """A step that pastes this text into the focused widget, as a terminal's bracketed paste
    does (one ``Paste`` event to the app). Typed key by key, a filter would be applied part way
    whenever the keys came slower than the filter bar's debounce, and an invalid filter keeps
    the last valid one's result: the scene would depend on the machine's speed."""


def play(*steps: Sequence[str]) -> Callable[[object], Awaitable[None]]:
    """A ``run_before`` that plays ``steps`` in turn, settling after each (a key that starts a
    query, then the keys that act on its result). A step is the keys pressed in one go, or a
    :class:`ToColumn` or a :class:`Paste`."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for step in steps:
            steady_cursors(pilot.app)
            if isinstance(step, Paste):
                pilot.app.post_message(events.Paste(step))
            elif isinstance(step, ToColumn):
                event_list = pilot.app.event_list
                for _ in range(len(event_list.columns)):
                    if event_list.current == step:
                        break
                    await pilot.press("l")
                assert event_list.current == step, f"l never reached {step}: {event_list.columns}"
            else:
                await pilot.press(*step)
            await settle(pilot)

    return run_before


def filter_keys(text: str) -> list[str]:
    """The keys that type ``text`` into the filter bar and apply it: ``/``, the text, Enter."""
    return ["slash", *text, "enter"]


#: name -> the steps that make the scene (see :func:`play`).
SCENES: dict[str, list] = {
    # The main screen, the fourth event selected: the list and the JSON detail (and, at 160
    # columns, the timeline and the identity pane).
    "main": [["j", "j", "j"]],
    # A filter with results: the anonymous reads of S3 objects, and their count.
    "filter": [filter_keys("name:GetObject is:anonymous")],
    # A filter that does not parse (OR is not in the grammar), pasted: the error and its caret,
    # the list still showing the last valid filter's events (all of them).
    "invalid_filter": [["slash"], Paste("(name:GetObject OR name:PutObject")],
    # Enter on the list: the JSON detail focused.
    "detail": [["j"], ["enter"]],
    # Tab Tab: the identity pane focused (who signed, the credential chain).
    "identity": [["j"], ["tab", "tab"]],
    # A: every actor of the filter, ranked.
    "actors": [["A"]],
    # F: the frequency table of the list's current column (eventName).
    "frequency": [["F"]],
    # ?: the help screen, built from the key table.
    "help": [["question_mark"]],
    # l to the resource column, v: the value viewer with the whole bucket/key.
    "value_viewer": [["j"], ToColumn("resource"), ["v"]],
    # Two marks, one with a note, then ': the incident timeline view.
    "marks": [["j", "m"], ["j", "j", "M"], [*"exfil starts here", "enter"], ["apostrophe"]],
    # z: the list zoomed to the whole screen.
    "zoomed_list": [["z"]],
    # l to sourceIPAddress, [: the list sorted by it, ascending.
    "sorted_by_ip": [ToColumn("sourceIPAddress"), ["left_square_bracket"]],
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", list(SCENES))
def test_scene(scene: str, size: tuple[int, int], demo_app, snap_compare) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=play(*SCENES[scene]))


@pytest.fixture
def detected_demo_app(demo_app) -> Callable[[], TrailApp]:
    """The demo app on an index the built-in rule pack has run over (as the loader does after
    indexing)."""
    from trailtui.core.detect.rules import builtin_rules
    from trailtui.core.detect.runner import run_rules

    conn = connect(Path("index.sqlite"))
    run_rules(conn, list(builtin_rules()))
    conn.close()
    return demo_app


#: Scenes on the index with detections: D, the Detections view; Enter on its top rule, the hit
#: in the list (▲) with the rule named in the JSON detail.
DETECTION_SCENES: dict[str, list] = {
    "detections": [["D"]],
    "detection_hit": [["D"], ["enter"]],
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", list(DETECTION_SCENES))
def test_detection_scene(scene: str, size: tuple[int, int], detected_demo_app, snap_compare) -> None:
    assert snap_compare(detected_demo_app(), terminal_size=size, run_before=play(*DETECTION_SCENES[scene]))
