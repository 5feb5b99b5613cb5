"""The command palette (Ctrl+P): presets, columns, layout, marks and export.

:class:`TrailCommands` is a Textual command :class:`~textual.command.Provider` (the pattern of
darrenburns/posting's ``commands.py``): with an empty query it lists every command (discovery),
otherwise it fuzzy-matches the query against each command's title and keywords (a preset's
``--preset`` name too). A preset's help line is its "why"; choosing it puts its filter in the
filter bar, where it stays editable (``MainScreen.apply_preset``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from textual.command import DiscoveryHit, Hit, Hits, Provider

from trailtui.core.columns import S3_LIST_COLUMNS
from trailtui.core import presets


class PaletteCommand(NamedTuple):
    """One palette entry: the ``title`` shown, extra ``keywords`` matched too, the ``run``
    callable and its ``help`` line."""

    title: str
    keywords: str
    run: Callable[[], object]
    help: str


def palette_commands(app) -> list[PaletteCommand]:
    """The palette's commands for ``app`` (a ``TrailApp``): the Detections view, every preset of
    :data:`trailtui.core.presets.PRESETS`, then columns, layout, marks and export."""
    screen = app.main_screen
    commands = [
        PaletteCommand("Detections: the rules that hit (D)", "detections sigma rules alerts attack hits",
                       screen.action_show_detections,
                       "Rules with hits, highest level first; Enter shows a rule's events"),
    ]
    commands += [
        PaletteCommand(f"Preset: {preset.title}", preset.name, partial(screen.apply_preset, preset), preset.why)
        for preset in presets.PRESETS  # the built-in rule pack: read when the palette first opens
    ]
    commands += [
        PaletteCommand("Export the filtered events (Ctrl+S)", "save csv json ndjson file", screen.action_export,
                       "Write the current filter's events to a CSV, JSON or NDJSON file"),
        PaletteCommand("Marks and notes: the incident timeline (')", "bookmarks notes timeline incident",
                       screen.action_show_marks, "The marked events in time order; Ctrl+S there exports them"),
        PaletteCommand("Columns: pick (+)", "show hide columns fields", partial(screen.event_list.action_pick_columns),
                       "Show or hide any CloudTrail column of the list"),
        PaletteCommand("Columns: S3 (level, bucket, object key)", "s3 bucket key object level",
                       partial(screen.set_list_columns, S3_LIST_COLUMNS),
                       "Show each S3 call's user-guide level (account/bucket/object), bucket and key"),
        PaletteCommand("Columns: default", "reset columns", partial(screen.set_list_columns, None),
                       "Back to time, eventName, errorCode, actor, IP, resource, service, region, ..."),
    ]
    for layout, words in (("auto", "side by side when wide, stacked when narrow"), ("right", "always side by side"),
                          ("below", "always stacked"), ("hidden", "list only; Enter opens the detail full screen")):
        commands.append(PaletteCommand(f"Layout: side pane {layout}", f"layout side pane {layout}",
                                       partial(screen.set_side_pane, layout), f"JSON detail and identity: {words}"))
    return commands


class TrailCommands(Provider):
    """trailtui's commands in the command palette."""

    async def discover(self) -> Hits:
        """Every command, presets first, when nothing is typed yet."""
        for command in palette_commands(self.app):
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        """The commands whose title (or keywords) fuzzy-match ``query``."""
        matcher = self.matcher(query)
        for command in palette_commands(self.app):
            score = max(matcher.match(command.title), matcher.match(command.keywords) * 0.9)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, text=command.title, help=command.help)
