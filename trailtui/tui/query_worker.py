"""One interruptible query helper for every pane and view.

A :class:`QueryRunner` belongs to one widget or screen (its *owner*). ``runner.run(compute)``
runs ``compute(connection)`` in a Textual thread worker, on its own read-only connection to the
index, and posts :class:`QueryRunner.Done` to the owner with the result, the time it took and
the generation it was started as. Starting a new run interrupts the previous one inside SQLite
(``Connection.interrupt``): a filter typed fast never waits behind the query of an older
keystroke. A result or error of a superseded run is dropped without a word, so nothing has to
recognise SQLite's "interrupted" error by its text.

The owner handles ``on_query_runner_done`` and keeps only results whose ``generation`` equals
``runner.generation`` (and whose ``tag`` is what it asked for).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.dom import DOMNode
from textual.message import Message

from trailtui.core.store.index import connect


class QueryRunner:
    """Runs one query at a time for ``owner`` against the index at ``db_path``.

    ``name`` labels the worker group (one exclusive group per runner: a newer run cancels the
    older worker as well as interrupting its SQL).
    """

    class Done(Message):
        """A run finished. ``generation``: the run's number (compare with
        :attr:`QueryRunner.generation`); ``tag``: what the owner passed to :meth:`run`;
        ``result``: what ``compute`` returned (None on error); ``error``: the exception it raised
        (an ``sqlite3.Error``, ``OriginalUnavailable``, ...) or None; ``elapsed_ms``: wall time
        of ``compute`` in milliseconds."""

        def __init__(self, runner: QueryRunner, generation: int, tag: Any, result: Any, error: BaseException | None,
                     elapsed_ms: float) -> None:
            super().__init__()
            self.runner = runner
            self.generation = generation
            self.tag = tag
            self.result = result
            self.error = error
            self.elapsed_ms = elapsed_ms

        @property
        def current(self) -> bool:
            """True when no newer run of the same runner started since this one."""
            return self.generation == self.runner.generation

    #: The clock ``elapsed_ms`` is measured with (seconds, any origin). A seam for tests only:
    #: the snapshot tests (tests/test_snapshots.py) pin it so the query times the app prints
    #: ("· 12 ms") are the same on every run. A staticmethod, so a plain function set here is
    #: not bound to the runner.
    clock = staticmethod(time.perf_counter)

    def __init__(self, owner: DOMNode, db_path: Path, name: str) -> None:
        self.owner = owner
        self.db_path = Path(db_path)
        self.name = name
        #: Number of the latest run; a :class:`Done` with another number is stale.
        self.generation = 0
        self._lock = threading.Lock()
        self._running: sqlite3.Connection | None = None

    def run(self, compute: Callable[[sqlite3.Connection], Any], *, tag: Any = None) -> int:
        """Start ``compute(connection)`` in a worker, interrupting the run still going; returns
        the new generation. ``compute`` runs in a thread: it must not touch widgets."""
        self.cancel()
        self.generation += 1
        generation = self.generation
        self.owner.run_worker(
            lambda: self._work(generation, tag, compute),
            name=f"query:{self.name}",
            group=f"query:{self.name}:{id(self)}",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
        return generation

    def cancel(self) -> None:
        """Interrupt the running query, if any; its result will not be posted."""
        with self._lock:
            running = self._running
        if running is not None:
            running.interrupt()

    def _work(self, generation: int, tag: Any, compute: Callable[[sqlite3.Connection], Any]) -> None:
        started = self.clock()
        result: Any = None
        error: BaseException | None = None
        try:
            conn = connect(self.db_path, readonly=True)
        except Exception as err:  # the index cannot be opened: report it, like a failed query
            self._post(generation, tag, None, err, started)
            return
        with self._lock:
            self._running = conn
        try:
            if generation == self.generation:  # not superseded while the connection opened
                result = compute(conn)
        except Exception as err:  # reported to the owner (or dropped when superseded)
            error = err
        finally:
            with self._lock:
                if self._running is conn:
                    self._running = None
            conn.close()
        self._post(generation, tag, result, error, started)

    def _post(self, generation: int, tag: Any, result: Any, error: BaseException | None, started: float) -> None:
        if generation != self.generation:
            return  # superseded: an interrupted query's error is expected, its result unwanted
        elapsed_ms = (self.clock() - started) * 1000
        self.owner.post_message(self.Done(self, generation, tag, result, error, elapsed_ms))
