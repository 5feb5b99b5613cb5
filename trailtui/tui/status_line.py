"""The status line: what the index holds, what the loader is doing, and what changed.

:class:`StatusLine` shows, left to right: the loader's progress (files, events, rate, time left,
errors) or, once done, what the index holds (events, files, skipped, load errors, duplicate
eventIDs merged); the events that arrived above the selection while indexing ("+1,204 new above
· g shows them"); and the version. Each part is a reactive: the screen sets
them and the line redraws itself.
"""

from __future__ import annotations

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
            if progress.files_done and progress.files_total > progress.files_done and progress.elapsed > 0:
                left = progress.elapsed / progress.files_done * (progress.files_total - progress.files_done)
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
