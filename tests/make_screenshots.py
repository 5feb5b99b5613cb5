"""Write the README's SVG screenshots into screenshots/, from the built-in demo.

    python -m tests.make_screenshots

Each screenshot is the real app, driven with Pilot, saved by ``App.save_screenshot``.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from trailtui.core.demo import write_demo_logs
from trailtui.core.detect.rules import builtin_rules
from trailtui.core.detect.runner import run_rules
from trailtui.core.store.index import connect
from trailtui.core.loader import index_paths
from trailtui.tui.app import TrailApp

OUT = Path(__file__).resolve().parents[1] / "screenshots"

#: name -> (terminal size, filter typed, keys pressed after it)
SHOTS: dict[str, tuple[tuple[int, int], str, list[str]]] = {
    "main": ((200, 50), "", ["j", "j", "j"]),
    "filter": ((200, 50), "name:GetObject is:anonymous", []),
    "identity": ((200, 50), "akid:ASIAQ3EGL7KD2VYB6WPE is:error", ["tab", "tab"]),
    "detail": ((160, 45), "name:StopLogging", ["enter", "j", "j", "j"]),
    "small": ((80, 24), "bucket:finance-reports", ["j"]),
    "palette": ((120, 36), "", ["ctrl+p", *"anonymous requests"]),
    "preset": ((200, 50), "", ["ctrl+p", *"all anonymous requests", "enter", "escape"]),
    "export": ((120, 36), "name:GetObject is:anonymous", ["ctrl+s"]),
    # The views over the whole filter: the actors of the errors, their IPs, the timeline.
    "actors": ((160, 40), "", ["A"]),
    "frequency": ((160, 40), "is:error", ["A", "i", "l"]),
    "timeline": ((200, 50), "", ["t", "left", "left"]),
    # Reading every column: walked sideways to sourceIPAddress, sorted by it.
    "columns": ((120, 36), "is:error", ["l", "l", "l", "left_square_bracket", "l"]),
    # The incident timeline: three marks, two notes.
    "marks": ((160, 40), "is:error actor:*ci-deploy*", [
        "m", "j", "M", *"first AccessDenied from the leaked key", "enter", "j", "j", "M",
        *"enumerating buckets", "enter", "apostrophe"]),
    # Detections: the rules that hit, then Enter on the top one: its event (▲), the rule named in
    # the JSON detail, the credential chain behind it in the identity pane.
    "detections": ((160, 40), "", ["D"]),
    "detection_hit": ((200, 50), "", ["D", "enter"]),
}


async def shoot(db_path: Path, name: str, size: tuple[int, int], text: str, keys: list[str]) -> Path:
    # A config file of its own: the user's theme and columns must not change the pictures.
    app = TrailApp(db_path=db_path, start_loader=False, config_path=db_path.parent / f"{name}.toml")
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        if text:
            await pilot.press("slash", *text, "enter")
        await pilot.pause(0.4)
        await app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.1)
        await pilot.pause(0.4)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        return Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT)))


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp) / "demo"
        write_demo_logs(logs)
        db_path = Path(tmp) / "index.sqlite"
        conn = connect(db_path)
        index_paths(conn, [logs / "AWSLogs"])
        run_rules(conn, list(builtin_rules()))  # as the app's loader does once the files are indexed
        conn.close()
        for name, (size, text, keys) in SHOTS.items():
            print(await shoot(db_path, name, size, text, keys))


if __name__ == "__main__":
    asyncio.run(main())
