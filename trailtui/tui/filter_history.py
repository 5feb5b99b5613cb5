"""The way back: every filter the user applied, one step each, and the breadcrumbs that show them.

Every change of the filter is a :class:`FilterStep`, whatever made it: typing (one step per
visit to the filter bar), a pivot (``a``, ``S``, ``K``, ``i``, ``u``, ``d``), a preset, a drill
from the frequency table, actors view or timeline, or the marks view. ``Esc`` (or Backspace) on
the list undoes the last step: the filter before it comes back, with the event that was
selected then and, for a drill, the view it came from. The breadcrumb line shows the steps, the
oldest giving way to ``…`` when the terminal is narrow.

The texts are also kept per index between runs (``core.history``) for the filter bar's
Up/Down; that is a recall list, this is an undo stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text

from trailtui.core.text import printable

#: Shown as the first breadcrumb when the steps started from an empty filter.
ALL_EVENTS = "all events"
#: Breadcrumb separator.
SEPARATOR = " › "
#: Longest breadcrumb, in characters (a value may be a 2 KB user agent).
CRUMB_WIDTH = 48
#: Steps kept; older ones are forgotten.
MAX_STEPS = 200


def crumb(label: str, value: str | None) -> str:
    """One breadcrumb: ``label: value``, the value escaped (:func:`printable`) and shortened to
    :data:`CRUMB_WIDTH`; None or ``""`` shows as ``(missing)``."""
    shown = printable(value) if value else "(missing)"
    if len(shown) > CRUMB_WIDTH:
        shown = shown[: CRUMB_WIDTH - 1] + "…"
    return f"{printable(label)}: {shown}"


@dataclass(frozen=True)
class FilterStep:
    """One change of the filter: the text ``before`` and ``after`` it, its breadcrumb, the
    ``events.id`` selected before it (restored by undo, when it still matches), and
    ``restore``, which reopens the view a drill came from (called after the filter is back)."""

    before: str
    after: str
    crumb: str
    selected_before: int | None = None
    restore: Callable[[], object] | None = None


class FilterHistory:
    """The steps that led to the current filter, oldest first (an undo stack)."""

    def __init__(self) -> None:
        self.steps: list[FilterStep] = []

    def __len__(self) -> int:
        return len(self.steps)

    def push(self, step: FilterStep) -> None:
        """Record a step (the filter is now ``step.after``); a step that changes nothing is
        not recorded."""
        if step.before == step.after and step.restore is None:
            return
        self.steps.append(step)
        del self.steps[:-MAX_STEPS]

    def pop(self) -> FilterStep | None:
        """Remove and return the last step, or None when there is none."""
        return self.steps.pop() if self.steps else None

    def labels(self, current: str) -> list[str]:
        """The breadcrumbs: where the steps started (that filter, or :data:`ALL_EVENTS`), then
        one per step; with no steps, just ``current``."""
        base = self.steps[0].before if self.steps else current
        return [printable(base) if base.strip() else ALL_EVENTS, *(step.crumb for step in self.steps)]


def breadcrumbs(labels: list[str], current: str | None = None, *, width: int | None = None) -> Text:
    """``labels`` joined by :data:`SEPARATOR`, then ``current`` (what a view shows) in bold;
    the labels must already be escaped (see :func:`crumb`). Longer than ``width`` cells, the
    oldest crumbs give way to ``…``: the end of the path is what the user is looking at."""
    text = Text(no_wrap=True, overflow="ellipsis")
    last = len(labels) - 1
    parts = [(label, "bold" if current is None and index == last else "") for index, label in enumerate(labels)]
    if current is not None:
        parts.append((printable(current), "bold"))
    # Drop the oldest crumbs, never the last (what is shown now): one too long alone is cut by
    # the Text's ellipsis instead.
    while width is not None and len(parts) > 2 and len(SEPARATOR.join(label for label, _ in parts)) > width:
        parts = [("…", "dim"), *parts[2:]] if parts[0][0] == "…" else [("…", "dim"), *parts[1:]]
    if width is not None and len(parts) == 2 and parts[0][0] != "…" and len(SEPARATOR.join(label for label, _ in parts)) > width:
        parts = [("…", "dim"), parts[1]]
    for index, (label, style) in enumerate(parts):
        # No part starts with a space: SVG screenshots stretch each part over its cells.
        text.append(label + (" " if index < len(parts) - 1 else ""), style)
        if index < len(parts) - 1:
            text.append(SEPARATOR.lstrip(), "dim")
    return text
