"""The app's link to the loader process: one thread reads its pipe and posts messages.

:class:`LoaderLink` starts a :class:`~trailtui.core.loader.BackgroundLoader` and, in one
thread worker, turns each JSON line it writes into a Textual message posted to the link's
owner: :class:`LoaderLink.Progress` (coalescing: a progress report still queued is replaced by
a newer one, so a slow screen never falls behind the loader), then :class:`LoaderLink.Finished`
or :class:`LoaderLink.Failed`, then :class:`LoaderLink.Detecting` (coalescing) and
:class:`LoaderLink.Detected` as the detection rules run; when following new deliveries, a
:class:`LoaderLink.Delivered` after each round, and the rules' messages again.
"""

from __future__ import annotations

from pathlib import Path

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import get_current_worker

from trailtui.core.loader import BackgroundLoader, LoadProgress


def _progress(payload: dict) -> LoadProgress:
    """A :class:`LoadProgress` from a message payload (unknown keys ignored)."""
    return LoadProgress(**{name: payload[name] for name in LoadProgress.__dataclass_fields__ if name in payload})


class LoaderLink:
    """Indexes ``paths`` into ``db_path`` in a loader process and reports to ``owner``."""

    class Progress(Message):
        """The loader's progress so far (``progress``: files and events, see ``LoadProgress``)."""

        def __init__(self, progress: LoadProgress) -> None:
            super().__init__()
            self.progress = progress

        def can_replace(self, message: Message) -> bool:
            """A newer report makes an older one still in the queue pointless."""
            return isinstance(message, LoaderLink.Progress)

    class Finished(Message):
        """The loader finished: ``progress`` (final counts), ``failures`` (files that failed),
        ``record_problems`` (bad records), ``notices`` (e.g. the index was rebuilt); the texts
        come from log files and are escaped by whoever shows them."""

        def __init__(self, progress: LoadProgress, failures: list, record_problems: list, notices: list[str]) -> None:
            super().__init__()
            self.progress = progress
            self.failures = failures
            self.record_problems = record_problems
            self.notices = notices

    class Delivered(Message):
        """A follow round ended (``--follow``): ``progress`` holds the round's counts
        (``files_read``, ``events_added``, ``files_held``...), ``failures`` and
        ``record_problems`` its problems, ``error`` why the round could not run (S3 unusable),
        or None. Texts come from log files and S3: escape them."""

        def __init__(self, progress: LoadProgress, failures: list, record_problems: list, error: str | None) -> None:
            super().__init__()
            self.progress = progress
            self.failures = failures
            self.record_problems = record_problems
            self.error = error

    class Detecting(Message):
        """The loader is running the detection rules: ``done`` of ``total`` have run."""

        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

        def can_replace(self, message: Message) -> bool:
            """A newer count makes an older one still in the queue pointless."""
            return isinstance(message, LoaderLink.Detecting)

    class Detected(Message):
        """A detection run ended: ``rules`` run, ``hits`` new this time, ``seconds``,
        ``problems`` (``[path, reason]`` of rule files not used), ``failed`` (``[title,
        reason]`` of rules whose SQL failed) and ``error`` (why no rule could run, else None).
        Texts come from rule files: escape them."""

        def __init__(self, rules: int, hits: int, seconds: float, problems: list, failed: list,
                     error: str | None = None) -> None:
            super().__init__()
            self.rules = rules
            self.hits = hits
            self.seconds = seconds
            self.problems = problems
            self.failed = failed
            self.error = error

    class Failed(Message):
        """The loader stopped with an error (``reason``; may quote a path: escape it)."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self, owner: DOMNode, db_path: Path, paths: list[str], s3_options=None, follow_interval: float | None = None,
        rules: list[str] | None = None,
    ) -> None:
        self.owner = owner
        self.loader = BackgroundLoader(db_path, paths, s3_options, follow_interval, rules)

    def start(self) -> None:
        """Start the loader process and the thread that reads it."""
        self.loader.start()
        self.owner.run_worker(self._read, name="loader-link", group="loader-link", thread=True, exit_on_error=False)

    def stop(self) -> None:
        """Stop the loader process (what it committed stays indexed)."""
        self.loader.stop()

    def _read(self) -> None:
        worker = get_current_worker()
        for kind, payload in self.loader.messages():
            if worker.is_cancelled:
                return
            if kind == "progress" and isinstance(payload, dict):
                self.owner.post_message(self.Progress(_progress(payload)))
            elif kind == "done" and isinstance(payload, dict):
                self.owner.post_message(
                    self.Finished(
                        _progress(payload),
                        list(payload.get("failures", ())),
                        list(payload.get("record_problems", ())),
                        [str(notice) for notice in payload.get("notices", ())],
                    )
                )
            elif kind == "follow" and isinstance(payload, dict):
                error = payload.get("error")
                self.owner.post_message(
                    self.Delivered(
                        _progress(payload),
                        list(payload.get("failures", ())),
                        list(payload.get("record_problems", ())),
                        None if error is None else str(error),
                    )
                )
            elif kind == "detecting" and isinstance(payload, dict):
                self.owner.post_message(self.Detecting(int(payload.get("done", 0)), int(payload.get("total", 0))))
            elif kind == "detected" and isinstance(payload, dict):
                self.owner.post_message(self.Detected(
                    int(payload.get("rules", 0)), int(payload.get("hits", 0)), float(payload.get("seconds", 0.0)),
                    list(payload.get("problems", ())), list(payload.get("failed", ())),
                    None if payload.get("error") is None else str(payload["error"]),
                ))
            elif kind == "error":
                self.owner.post_message(self.Failed(str(payload)))
