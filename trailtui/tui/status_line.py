"""The status line: what the index holds, what the loader is doing, and what changed.

:class:`StatusLine` shows, left to right: the loader's progress (files, events, rate, time left,
errors) or, once done, what the index holds (events, files, skipped, load errors, duplicate
eventIDs merged); the events that arrived above the selection while indexing ("+1,204 new above
· g shows them"); and the version. While following new deliveries (``--follow``) it starts
with "following · last delivery 40 s ago · +312 new". Each part is a reactive: the screen sets
them and the line redraws itself.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from trailtui import __version__
from trailtui.core.loader import LoadProgress
from trailtui.core.text import plural


class StatusLine(Static):
    """One line at the bottom of the main screen (see the module docstring)."""

    COMPONENT_CLASSES = {"status-line--news", "status-line--problem"}

    progress: reactive[LoadProgress | None] = reactive(None, layout=False)
    """The loader's latest progress report, None before the first one."""
    indexing: reactive[bool] = reactive(False)
    """True while the loader runs."""
    summary: reactive[str] = reactive("")
    """What the index holds, once the loader is done (plain text)."""
    new_above: reactive[int] = reactive(0)
    """Events that arrived above the selection since the user last went to the top."""
    note: reactive[str] = reactive("")
    """A passing state of the list (``sorting by awsRegion…``), or empty."""
    following: reactive[bool] = reactive(False)
    """True once the first load is done and the loader follows new deliveries (``--follow``)."""
    last_delivery: reactive[float | None] = reactive(None)
    """When the last delivery with new events arrived (``time.monotonic()`` seconds), or None."""
    delivered: reactive[int] = reactive(0)
    """Events that following added since it began."""

    _ticker = None

    def watch_following(self, following: bool) -> None:
        if following and self._ticker is None:
            # "last delivery 40 s ago" ages by itself.
            self._ticker = self.set_interval(1.0, self.refresh)

    def following_text(self, now: float | None = None) -> str:
        """``following · last delivery 40 s ago · +312 new`` (``now``: ``time.monotonic()``)."""
        if self.last_delivery is None:
            return "following · no new delivery yet"
        age = max(0.0, (time.monotonic() if now is None else now) - self.last_delivery)
        if age < 90:
            ago = f"{age:.0f} s"
        elif age < 5400:
            ago = f"{age / 60:.0f} min"
        else:
            ago = f"{age / 3600:.0f} h"
        return f"following · last delivery {ago} ago · +{self.delivered:,} new"

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        progress = self.progress
        if self.indexing and progress is not None and progress.phase == "indexing free text":
            share = progress.fts_done / max(1, progress.fts_total)
            text.append(f"{plural(progress.events_added, 'event')} · field filters ready · free text: {share:.0%}")
            if progress.duplicates:
                text.append(f" · {plural(progress.duplicates, 'duplicate eventID')} merged")
        elif self.indexing and progress is not None and progress.phase not in ("", "reading"):
            text.append(f"{plural(progress.events_added, 'event')} read · {progress.phase}…")
            if progress.duplicates:
                text.append(f" · {plural(progress.duplicates, 'duplicate eventID')} merged")
        elif self.indexing and progress is not None:
            text.append(f"indexing {progress.files_done:,}/{plural(progress.files_total, 'file')} · "
                        f"{plural(progress.events_added, 'event')} · {progress.rate:,.0f}/s")
            # Estimated from the files read this time (unchanged ones take no time); not from
            # the first file or seconds, nor while an S3 listing still adds to the total.
            read, to_read = progress.files_done - progress.files_unchanged, progress.files_total - progress.files_unchanged
            if read and to_read > read and progress.elapsed >= 2 and read * 20 >= to_read and not progress.s3_listing:
                left = progress.elapsed / read * (to_read - read)
                text.append(f" · ~{left:,.0f} s left")
            if progress.download_note:
                text.append(f" · {progress.download_note}")
            if progress.duplicates:
                text.append(f" · {plural(progress.duplicates, 'duplicate')} merged")
            if progress.problems:
                text.append(f" · {plural(progress.problems, 'error')} (! lists them)",
                            self.get_component_rich_style("status-line--problem"))
        elif self.indexing:
            text.append("indexing: finding files…")
        elif self.following:
            text.append(self.following_text(), self.get_component_rich_style("status-line--news"))
            if self.summary:
                text.append(f" · {self.summary}")
        else:
            text.append(self.summary)
        if self.new_above:
            text.append("   ")
            text.append(f"+{self.new_above:,} new above · g shows them",
                        self.get_component_rich_style("status-line--news"))
        if self.note:
            text.append(f"   {self.note}")
        text.append(f"   trailtui {__version__}")
        return text
