"""Run the real trailtui app under Textual's Pilot and time what a user sees. One subprocess per run.

    python -m benchmarks.app_probe fresh  --db NEW.sqlite --corpus DIR --out R.json [--presses 100] --launched T
    python -m benchmarks.app_probe reopen --db INDEXED.sqlite --corpus DIR --out R.json --expected N --launched T

It does what ``trailtui DIR`` does (``connect(db).close()``, then ``TrailApp(db_path=..., paths=[DIR])``
with its background loader) in a headless 160x45 terminal, and times from ``T``, the
``time.time()`` at which the parent launched this process (so Python's start and the imports count).

How a frame is "on screen": Textual's compositor renders each update and hands it to
``App._display`` for the terminal. The probe's app subclass wraps ``_display``: it encodes the update
to the terminal's escape sequences as a real terminal run would (headless Textual skips that), then
records the time, the event list's cursor and row count (``app.event_list``: the main screen's
list). ``EventList.render_line`` is wrapped to note when a row with an event was painted, and
``EventList.set_query`` to note when the main screen handed the list its first count. So:

* counts on screen: the first frame after the first count reached the list (``set_query``);
* first rows: the first frame, after rows were painted, with ``event_list.count > 0``
  (``reopen``: also the first with ``count == expected``);
* key latency (``fresh``, while the loader indexes): inside the Pilot session a key event is sent
  through the app's driver, the path ``pilot.press`` and a real terminal use, at up to ``--rate``
  keys per second; latency is from just before the key is sent to the first frame composed after
  the key moved the cursor. ``EventList.watch_cursor`` is wrapped to note each cursor move that is
  not a recount's (``set_query``/``use_ids``: while the loader runs the list is recounted once a
  second and keeps the selected event selected, so the cursor's position shifts by the events that
  arrived above it; the position alone cannot tell the key's move from a recount's). The next key
  waits for that frame (latencies do not pile up). A line and a page alternate (``j`` and
  ``pagedown``, then ``k`` and ``pageup`` from the end of the list back up); a key that could not
  move the cursor (end of the list) is not counted, and turns the direction.
* ``G`` (``reopen``, loader finished): the same latency for ``G`` (jump to the last event) and ``g``.

Prints ``BENCH-MARK indexed`` when the loader has finished (``app.main_screen.indexing`` drops), so
the parent can read the memory peak of app + loader while indexing. Writes its figures as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import traceback
from pathlib import Path

from benchmarks.common import summarize_ms, write_json


class Probe:
    """What the instrumented app saw: frames and the moments that matter."""

    def __init__(self, launched: float) -> None:
        self.launched = launched
        # perf_counter -> wall time: both clocks read together once.
        self.wall_offset = time.time() - time.perf_counter()
        self.frames: list[tuple[float, int, int]] = []  # (perf_counter, cursor, count)
        self.results_at: float | None = None  # first count handed to the list (EventList.set_query)
        self.rows_painted_at: float | None = None
        self.counts_frame_at: float | None = None
        self.first_rows_at: float | None = None
        self.first_rows_count = 0
        self.full_at: float | None = None
        self.expected: int | None = None
        #: Cursor moves not made by a recount: (perf_counter, old, new), in order.
        self.moves: list[tuple[float, int, int]] = []
        self.recounting = 0  # > 0 while the list takes a new count (set_query, use_ids)

    def since_launch(self, perf: float | None) -> float | None:
        return None if perf is None else perf + self.wall_offset - self.launched


def make_app_class(probe: Probe):
    """A TrailApp subclass that reports frames to ``probe`` (the app's behaviour is unchanged).

    Returns ``(ProbeApp, rows_hook)``; ``rows_hook`` is False when the event list has no
    ``render_line`` to wrap (then the first frame with a count counts as the first rows)."""
    import trailtui.tui.app as app_module
    import trailtui.tui.event_list as event_list_module

    TrailApp = app_module.TrailApp
    event_list_class = getattr(event_list_module, "EventList", None)
    rows_hook = event_list_class is not None and hasattr(event_list_class, "render_line")
    if rows_hook:
        original_render_line = event_list_class.render_line

        def render_line(self, y):
            strip = original_render_line(self, y)
            if probe.rows_painted_at is None and _count(self) > 0:
                probe.rows_painted_at = time.perf_counter()
            return strip

        event_list_class.render_line = render_line
    if event_list_class is not None and hasattr(event_list_class, "set_query"):
        original_set_query = event_list_class.set_query

        def set_query(self, *args, **kwargs):
            # The main screen hands the list each count's query: the first is the first result.
            if probe.results_at is None:
                probe.results_at = time.perf_counter()
            probe.recounting += 1
            try:
                return original_set_query(self, *args, **kwargs)
            finally:
                probe.recounting -= 1

        event_list_class.set_query = set_query
    if event_list_class is not None and hasattr(event_list_class, "use_ids"):
        original_use_ids = event_list_class.use_ids

        def use_ids(self, *args, **kwargs):
            probe.recounting += 1
            try:
                return original_use_ids(self, *args, **kwargs)
            finally:
                probe.recounting -= 1

        event_list_class.use_ids = use_ids
    if event_list_class is not None and hasattr(event_list_class, "watch_cursor"):
        original_watch_cursor = event_list_class.watch_cursor

        # Textual passes a watcher as many arguments as it declares: keep (self, old, new).
        def watch_cursor(self, old, new):
            if not probe.recounting:
                probe.moves.append((time.perf_counter(), int(old), int(new)))
            return original_watch_cursor(self, old, new)

        event_list_class.watch_cursor = watch_cursor

    class ProbeApp(TrailApp):
        # CSS_PATH is relative to the module that defines the class: keep pointing at trailtui's.
        CSS_PATH = _css_paths(TrailApp, Path(app_module.__file__).parent)

        _probe_list = None  # the main screen's event list, once mounted (it lives as long as the app)

        def _display(self, screen, renderable) -> None:
            if renderable is not None and not getattr(self, "_batch_count", 0):
                render_segments = getattr(renderable, "render_segments", None)
                if render_segments is not None:
                    try:
                        render_segments(self.console)  # the terminal output a real run would write
                    except Exception:  # noqa: BLE001 - measuring must not break the app
                        pass
                self._probe_frame()
            super()._display(screen, renderable)

        def _probe_frame(self) -> None:
            now = time.perf_counter()
            event_list = self._probe_list
            if event_list is None:
                try:
                    event_list = self.event_list
                except Exception:  # noqa: BLE001 - not mounted yet
                    return
                self._probe_list = event_list
            cursor, count = int(event_list.cursor), _count(event_list)
            probe.frames.append((now, cursor, count))
            if probe.counts_frame_at is None and probe.results_at is not None:
                probe.counts_frame_at = now
            if probe.first_rows_at is None and count > 0 and (probe.rows_painted_at is not None or not rows_hook):
                probe.first_rows_at = now
                probe.first_rows_count = count
            if probe.full_at is None and probe.expected is not None and count >= probe.expected and probe.first_rows_at:
                probe.full_at = now

    return ProbeApp, rows_hook


def _css_paths(app_class, base: Path):
    paths = app_class.CSS_PATH
    if paths is None:
        return None
    if isinstance(paths, (str, Path)):
        return str(base / paths)
    return [str(base / path) for path in paths]


def _count(event_list) -> int:
    return int(event_list.count)


def indexing(app) -> bool:
    """Whether the app's loader is still indexing, as the app knows it (the main screen's flag;
    False before the screen is up)."""
    try:
        return bool(app.main_screen.indexing)
    except Exception:  # noqa: BLE001 - no main screen yet
        return False


class AppStopped(RuntimeError):
    """The app stopped (crashed) while the probe waited for it."""


_APP = None  # the running app, so waits can stop when it dies


async def wait_until(predicate, timeout: float, step: float = 0.005) -> bool:
    """Wait until ``predicate()`` holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        if _APP is not None and (getattr(_APP, "_exception", None) is not None or getattr(_APP, "_closed", False)):
            raise AppStopped(f"the app stopped: {getattr(_APP, '_exception', None)!r}")
        await asyncio.sleep(step)
    return True


def send_key(app, key: str) -> bool:
    """Send ``key`` through the app's driver, as ``pilot.press`` (and a terminal) does, without
    Pilot's wait-for-idle afterwards (it sleeps at least 40 ms per key and waits while the app is
    busy, which would cap the rate near 7 keys/s while the loader runs). False if not possible."""
    from textual import events

    driver = getattr(app, "_driver", None)
    if driver is None or not hasattr(driver, "send_message"):
        return False
    key_event = events.Key(key, key if len(key) == 1 else None)
    key_event.set_sender(app)
    driver.send_message(key_event)
    return True


async def key_latency(app, pilot, probe: Probe, key: str, timeout: float = 10.0) -> tuple[float | None, bool]:
    """Press ``key``; seconds until the first frame composed after the key moved the cursor.

    None if the key did not move the cursor (end of the list) within ``timeout``.
    """
    loading = indexing(app)
    moves_before, frames_before = len(probe.moves), len(probe.frames)
    started = time.perf_counter()
    if not send_key(app, key):
        await pilot.press(key)
    if not await wait_until(lambda: len(probe.moves) > moves_before, timeout, 0.001):
        return None, loading
    # A move past the end is clamped back inside the same call: both moves are in by now.
    moves = probe.moves[moves_before:]
    if moves[-1][2] == moves[0][1]:
        return None, loading
    moved_at = moves[-1][0]

    def shown_at() -> float | None:
        for frame_time, _, _ in probe.frames[frames_before:]:
            if frame_time >= moved_at:
                return frame_time
        return None

    if not await wait_until(lambda: shown_at() is not None, timeout, 0.001):
        return timeout, loading
    return shown_at() - started, loading


async def run(args) -> dict:
    probe = Probe(args.launched)
    probe.expected = args.expected
    from trailtui.core.store.index import connect

    db = Path(args.db)
    connect(db).close()  # as `trailtui DIR` does before the UI starts
    ProbeApp, rows_hook = make_app_class(probe)
    s3_options = None
    if args.s3_options:  # an s3:// corpus on an S3-compatible server (benchmarks.s3_source)
        import json

        from trailtui.core.sources.s3 import S3Options

        s3_options = S3Options.from_dict(json.loads(args.s3_options))
    app = ProbeApp(db_path=db, paths=[args.corpus], s3_options=s3_options)
    global _APP
    _APP = app
    out: dict = {"mode": args.mode, "rows_hook": rows_hook}
    width, height = (int(part) for part in args.size.split("x"))
    loader_done: list[float] = []

    async def watch_loader() -> None:
        # The moment the app learns the loader finished (the main screen's `indexing`, set when
        # the screen is made, drops).
        await wait_until(lambda: not indexing(app), 10 * args.timeout, 0.02)
        loader_done.append(time.perf_counter())

    async with app.run_test(size=(width, height)) as pilot:
        out["app_ready_s"] = probe.since_launch(time.perf_counter())
        watcher = asyncio.create_task(watch_loader())
        await wait_until(lambda: probe.first_rows_at is not None, args.timeout)
        out["counts_on_screen_s"] = probe.since_launch(probe.counts_frame_at)
        out["first_rows_s"] = probe.since_launch(probe.first_rows_at)
        out["first_rows_count"] = probe.first_rows_count
        if args.mode == "reopen":
            await wait_until(lambda: probe.full_at is not None, args.timeout)
            out["full_count_s"] = probe.since_launch(probe.full_at)
        if args.mode == "fresh":
            out["keys"] = await press_keys(app, pilot, probe, args)
        await wait_until(lambda: bool(loader_done), args.timeout, 0.02)
        watcher.cancel()
        out["loader_done_s"] = probe.since_launch(loader_done[0]) if loader_done else None
        print("BENCH-MARK indexed", flush=True)
        await pilot.pause(0.2)
        out["final_count"] = _count(app.event_list)
        if args.mode == "reopen":
            out["jump_keys"] = await jump_keys(app, pilot, probe, args.jumps)
    out["frames"] = len(probe.frames)
    return out


#: The keys pressed while the loader runs, by direction: a line and a page at a time.
KEYS_DOWN, KEYS_UP = ("j", "pagedown"), ("k", "pageup")


async def press_keys(app, pilot, probe: Probe, args) -> dict:
    """``--presses`` keys at up to ``--rate`` per second: a line and a page alternately, down the
    list and, once a key meets the end, back up (and down again at the top). While the loader
    runs the selected event keeps its place as newer events arrive above it, so the cursor soon
    sits near the end of the list: always pressing down would mostly measure keys that cannot
    move. ``line`` holds j and k, ``page`` PgDn and PgUp."""
    interval = 1.0 / args.rate
    samples: dict[str, list[float]] = {"line": [], "page": []}
    during_load = skipped = turns = 0
    keys = KEYS_DOWN
    next_at = phase_started = time.perf_counter()
    for number in range(args.presses):
        kind = "line" if number % 2 == 0 else "page"
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        next_at = max(next_at + interval, time.perf_counter())
        latency, loading = await key_latency(app, pilot, probe, keys[number % 2], timeout=2.0)
        if latency is None:
            skipped += 1
            keys = KEYS_UP if keys is KEYS_DOWN else KEYS_DOWN
            turns += 1
            continue
        samples[kind].append(latency)
        during_load += loading
    every = samples["line"] + samples["page"]
    phase = time.perf_counter() - phase_started
    return {
        "phase_s": phase,
        "achieved_rate_per_s": args.presses / phase if phase > 0 else None,
        "all": summarize_ms(every),
        "line": summarize_ms(samples["line"]),
        "page": summarize_ms(samples["page"]),
        "during_load": during_load,
        "measured": len(every),
        "skipped_no_move": skipped,
        "turns": turns,
        "rate_per_s": args.rate,
    }


async def jump_keys(app, pilot, probe: Probe, times: int) -> dict:
    samples: dict[str, list[float]] = {"G": [], "g": []}
    for _ in range(times):
        for key in ("G", "g"):
            latency, _ = await key_latency(app, pilot, probe, key)
            if latency is not None:
                samples[key].append(latency)
            await asyncio.sleep(0.05)
    return {key: summarize_ms(values) for key, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_probe")
    parser.add_argument("mode", choices=("fresh", "reopen"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--expected", type=int, default=None, help="events in the finished index")
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="key presses per second")
    parser.add_argument("--jumps", type=int, default=5)
    parser.add_argument("--size", default="160x45")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each stage")
    parser.add_argument("--launched", type=float, default=None, help="time.time() when the parent launched us")
    parser.add_argument("--s3-options", default=None, help="S3Options.to_dict() as JSON, for an s3:// --corpus")
    args = parser.parse_args(argv)
    if args.launched is None:
        args.launched = time.time()
    try:
        result = asyncio.run(run(args))
    except Exception as err:  # noqa: BLE001
        write_json(
            args.out, {"error": f"{type(err).__name__}: {err}"[:300], "traceback": traceback.format_exc()[-3000:]}
        )
        traceback.print_exc()
        return 1
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
