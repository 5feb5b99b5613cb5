"""Every key of the app, declared once: id, keys, action, words, and where it works.

Each widget and screen builds its ``BINDINGS`` from :data:`KEYS` with :func:`bindings`, the
help screen lists :data:`KEYS` by :data:`SECTIONS`, the footer shows the ones marked
``footer``, and the README's key table is :func:`markdown_table` (a test keeps them equal).
So a key cannot do one thing and be documented as another (VisiData's ``addCommand``,
Harlequin's key maps and Posting's binding ids are the models).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from textual.binding import Binding
from textual.keys import KEY_NAME_REPLACEMENTS, format_key


@dataclass(frozen=True)
class Key:
    """One key binding.

    ``id``: ``scope.name`` (Textual binding id, unique); ``keys``: Textual key names,
    comma-separated (``"down,j"``); ``action``: the Textual action string it runs, or None for a
    key a Textual widget handles itself (listed in help only); ``description``: a few words for
    the footer and the palette; ``help``: one line for the help screen; ``footer``: shown in
    the footer; ``priority``: checked before the focused widget sees the key (see
    :data:`PRIORITY_WHY`); ``display``: how help shows the keys, when the key names do not say it
    well (``"j / k"``); ``in_help``: False for the second key of a pair that help and the
    README list on the first one's line (``k`` with ``j``).
    """

    id: str
    keys: str
    action: str | None
    description: str
    help: str
    footer: bool = False
    priority: bool = False
    display: str | None = None
    in_help: bool = True

    @property
    def scope(self) -> str:
        """The part of :attr:`id` before the dot: which widget or screen the key belongs to."""
        return self.id.split(".", 1)[0]

    @property
    def shown_keys(self) -> str:
        """The keys as help shows them: :attr:`display`, else each key name formatted
        (``question_mark`` → ``?``, ``ctrl+s`` → ``Ctrl+S``) and joined with ``, ``."""
        if self.display:
            return self.display
        return ", ".join(key_label(name) for name in self.keys.split(","))


#: Why some keys are priority bindings: keys arrive in bursts (a paste, a laggy SSH link); the
#: app hands each key to the widget focused when it arrives, so a key that moves the focus must
#: act before the next key of the burst is handed out, or the rest of the burst runs as the old
#: widget's keys (``/name:x`` would run ``n``, ``a``, ...).
PRIORITY_WHY = "moves the focus; must act before the rest of a burst of keys is handed out"

_SPECIAL_LABELS = {
    "escape": "Esc", "enter": "Enter", "tab": "Tab", "shift+tab": "Shift+Tab", "backspace": "Backspace",
    "space": "Space", "home": "Home", "end": "End", "pageup": "PgUp", "pagedown": "PgDn", "up": "Up",
    "down": "Down", "left": "Left", "right": "Right", "f1": "F1", "delete": "Del",
}


def key_label(name: str) -> str:
    """A Textual key name as a person reads it: ``question_mark`` → ``?``, ``ctrl+s`` →
    ``Ctrl+S``, ``pagedown`` → ``PgDn``, ``G`` → ``G``."""
    if name in _SPECIAL_LABELS:
        return _SPECIAL_LABELS[name]
    if name.startswith("ctrl+"):
        return "Ctrl+" + key_label(name[5:]).upper()
    if len(name) == 1:
        return name
    return format_key(name)


def key_for(character: str) -> str:
    """The Textual key name of a typed ``character`` (``a`` → ``a``, ``/`` → ``slash``, `` `` →
    ``space``), as Textual's input parser names it; a test checks them against each other."""
    if character.isalnum():
        return character
    try:
        key = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return character
    return KEY_NAME_REPLACEMENTS.get(key, key)


#: Help sections in the order the help screen shows them: scope -> title.
SECTIONS: dict[str, str] = {
    "app": "Anywhere",
    "main": "Main screen (any pane)",
    "list": "Event list",
    "filter": "Filter bar",
    "detail": "JSON detail",
    "identity": "Identity pane",
    "timeline": "Timeline",
    "table": "Tables: frequency, actors, marks, detections, load errors",
    "sheet": "Frequency table, actors view",
    "frequency": "Frequency table",
    "actors": "Actors view",
    "marks": "Marks and notes (incident timeline)",
    "detections": "Detections (Sigma rules with hits)",
    "help": "Help",
    "export": "Export dialog",
    "errors": "Load errors",
    "viewer": "Value viewer",
    "dialog": "Dialogs",
}

#: Every key. Order within a scope is the footer's and help's order.
KEYS: tuple[Key, ...] = (
    # -------------------------------------------------------------- anywhere
    Key("app.help", "question_mark,f1", "app.help", "Help", "this help: every key and the filter grammar"),
    Key("app.palette", "ctrl+p", None, "Palette",
        "command palette: presets (incident response, S3 user guide), columns, marks, export, themes"),
    Key("app.quit", "q", "app.quit", "Quit", "quit (Ctrl+Q too); the index, marks and history are kept"),
    # -------------------------------------------------------------- main screen
    # Help again, first: the footer lists the focused screen's keys before the app's, and at 80
    # columns it has room for only the first few.
    Key("main.help", "question_mark,f1", "app.help", "Help", "help", footer=True, in_help=False),
    Key("main.filter", "slash", "focus_filter", "Filter",
        "filter bar: the whole filter is selected, so typing replaces it (End keeps it to extend)",
        footer=True, priority=True),
    Key("main.back", "escape", "back", "Back",
        "back: to the list from another pane; on the list, the previous filter (typed, pivot, drill, preset)",
        display="Esc, Backspace", priority=True, footer=True),
    Key("main.undo", "backspace", "back", "Back", "back one filter", in_help=False),
    Key("main.filter_done", "enter", "filter_done", "Done", "leave the filter bar for the list", priority=True,
        in_help=False, footer=True),
    Key("main.next_pane", "tab", "cycle_pane(1)", "Next pane", "next / previous pane: list, JSON detail, identity",
        priority=True, display="Tab / Shift+Tab"),
    Key("main.prev_pane", "shift+tab", "cycle_pane(-1)", "Previous pane", "previous pane", priority=True,
        in_help=False),
    Key("main.zoom", "z", "zoom", "Zoom", "zoom the focused pane to the whole screen (z or Esc again: back)"),
    Key("main.order", "s", "reverse_order", "Reverse", "reverse the order (newest / oldest first, or the sort column's)"),
    Key("main.principal", "a", "pivot('principal')", "Principal",
        "filter to the selected event's principal (user, root, role behind a session, service)"),
    Key("main.session", "S", "pivot('session')", "Session",
        "filter to the selected event's session (assumed-role ARN @ creationDate)"),
    Key("main.key", "K", "pivot('credential')", "Key", "filter to the selected event's access key (accessKeyId)"),
    Key("main.ip", "i", "pivot('ip')", "IP", "filter to the selected event's sourceIPAddress"),
    Key("main.chain_up", "u", "chain('up')", "Chain up",
        "credential chain up: the event that issued this event's access key (AssumeRole, ...)"),
    Key("main.chain_down", "d", "chain('down')", "Chain down",
        "credential chain down: what the key this event issued signed (or the keys its principal handed out)"),
    Key("main.find", "f", "find", "Find", "find: type a term (filter grammar); n / N go to the next / previous match"),
    Key("main.find_next", "n", "find_next(True)", "Next match",
        "next / previous event matching the find term (the filter stays)", display="n / N"),
    Key("main.find_prev", "N", "find_next(False)", "Previous match", "previous event matching the find term",
        in_help=False),
    Key("main.next_error", "e", "next_error(True)", "Next error",
        "next / previous event with an errorCode (f error:AccessDenied, then n: one error code)", display="e / E"),
    Key("main.prev_error", "E", "next_error(False)", "Previous error", "previous event with an errorCode",
        in_help=False),
    Key("main.goto_time", "colon", "goto_time", "Go to time",
        "go to time: the first event at or after a UTC time (2026-03-14T10:00, -2h)"),
    Key("main.mark", "m", "toggle_mark", "Mark", "mark / unmark the selected event (kept between runs)", footer=True),
    Key("main.note", "M", "edit_note", "Note", "write a note on the selected event (marks it)"),
    Key("main.marks", "apostrophe", "show_marks", "Marks", "marks and notes in time order: the incident timeline"),
    Key("main.detections", "D", "show_detections", "Detections",
        "detections: the Sigma rules that hit, highest level first (▲ in the list marks their events)"),
    Key("main.frequency", "F", "frequency", "Frequency",
        "frequency table of the list's current column (on eventTime: the timeline)", footer=True),
    Key("main.actors", "A", "actors", "Actors", "actors view: every actor of the filter ranked", footer=True),
    Key("main.timeline", "t", "focus_timeline", "Timeline", "timeline: pick a bar, Enter narrows the filter to it"),
    Key("main.export", "ctrl+s", "export", "Export", "export the filtered events to CSV, JSON or NDJSON"),
    Key("main.errors", "exclamation_mark", "show_load_errors", "Load errors",
        "files and records that could not be loaded, with the reason"),
    # -------------------------------------------------------------- event list
    Key("list.down", "down,j", "cursor_down", "Down", "next event", display="j / k, Down / Up"),
    Key("list.up", "up,k", "cursor_up", "Up", "previous event", display="k, Up", in_help=False),
    Key("list.page_down", "pagedown,ctrl+f", "page_down", "Page down", "page down / up",
        display="PgDn / PgUp, Ctrl+F / Ctrl+B"),
    Key("list.page_up", "pageup,ctrl+b", "page_up", "Page up", "page up", display="PgUp, Ctrl+B", in_help=False),
    Key("list.first", "home,g", "first", "First", "first / last event", display="g / G, Home / End"),
    Key("list.last", "end,G", "last", "Last", "last event", display="G, End", in_help=False),
    Key("list.open", "enter", "open", "Open", "open the event's JSON detail (double click too)"),
    Key("list.column_left", "left,h", "column(-1)", "Column left",
        "current column left / right; the list scrolls sideways to follow", display="h / l, Left / Right"),
    Key("list.column_right", "right,l", "column(1)", "Column right", "current column right", display="l, Right", in_help=False),
    Key("list.sort_ascending", "left_square_bracket", "sort(False)", "Sort ascending",
        "sort by the current column, ascending / descending (by the index)", display="[ / ]"),
    Key("list.sort_descending", "right_square_bracket", "sort(True)", "Sort descending",
        "sort by the current column, descending", display="]", in_help=False),
    Key("list.hide_column", "minus", "hide_column", "Hide column", "hide the current column"),
    Key("list.show_columns", "plus", "pick_columns", "Columns", "show, hide and order columns (every CloudTrail column)"),
    Key("list.fit_column", "underscore", "fit_column", "Fit column",
        "widen the current column to its longest value on screen / back (VisiData's _)"),
    Key("list.narrow_column", "less_than_sign", "resize_column(-4)", "Narrower", "current column narrower / wider",
        display="< / >"),
    Key("list.widen_column", "greater_than_sign", "resize_column(4)", "Wider", "current column wider", display=">", in_help=False),
    Key("list.view_cell", "v", "view_cell", "View value", "view the current cell's whole value (wrapped)"),
    Key("list.copy_cell", "c", "copy_cell", "Copy value", "copy the current cell's value (OSC 52; tmux buffer)"),
    Key("list.copy_event", "y", "copy_event", "Copy event", "copy the selected event's original JSON"),
    # -------------------------------------------------------------- filter bar
    Key("filter.history_back", "up", "history(-1)", "History", "older / newer filter from the history (kept per index)",
        display="Up / Down", footer=True),
    Key("filter.history_forward", "down", "history(1)", "Newer filter", "newer filter from the history", display="Down", in_help=False),
    Key("filter.done", "enter", None, "Done", "back to the list (the filter is already applied as you type)"),
    Key("filter.leave", "escape", None, "Leave", "back to the list"),
    Key("filter.clear", "ctrl+u", None, "Clear", "delete to the start of the line"),
    # -------------------------------------------------------------- JSON detail
    Key("detail.down", "down,j", "cursor_down", "Down", "move", display="j / k, Down / Up"),
    Key("detail.up", "up,k", "cursor_up", "Up", "move up", display="k, Up", in_help=False),
    Key("detail.toggle", "enter,space", "toggle_node", "Toggle", "expand or collapse the node", display="Enter / Space"),
    Key("detail.expand", "right,l", "expand_node", "Expand", "expand / collapse (h on a closed node: its parent)",
        display="l / h, Right / Left"),
    Key("detail.collapse", "left,h", "collapse_node", "Collapse", "collapse, or go to the parent", display="h, Left", in_help=False),
    Key("detail.expand_all", "e", "expand_all", "Expand all", "expand all / collapse all", display="e / E"),
    Key("detail.collapse_all", "E", "collapse_all", "Collapse all", "collapse all", display="E", in_help=False),
    Key("detail.scroll_left", "less_than_sign", "scroll_sideways(-8)", "Scroll left", "scroll sideways (long values)",
        display="< / >"),
    Key("detail.scroll_right", "greater_than_sign", "scroll_sideways(8)", "Scroll right", "scroll right", display=">", in_help=False),
    Key("detail.view_value", "v", "view_value", "View", "view the selected value whole (wrapped)", footer=True),
    Key("detail.copy_value", "c", "copy_value", "Copy", "copy the selected value (OSC 52; tmux buffer)", footer=True),
    Key("detail.copy_event", "y", "copy_event", "Copy event", "copy the whole original event", footer=True),
    # -------------------------------------------------------------- identity pane
    Key("identity.down", "j", "scroll_down", "Down", "scroll (arrows, PgUp / PgDn too)", display="j / k"),
    Key("identity.up", "k", "scroll_up", "Up", "scroll up", in_help=False),
    # -------------------------------------------------------------- timeline
    Key("timeline.earlier", "left,h", "move(-1)", "Earlier", "previous / next bar", display="h / l, Left / Right"),
    Key("timeline.later", "right,l", "move(1)", "Later", "next bar", display="l, Right", in_help=False),
    Key("timeline.first", "home,g", "move_to(0)", "First", "first / last bar", display="g / G, Home / End"),
    Key("timeline.last", "end,G", "move_to(-1)", "Last", "last bar", display="G, End", in_help=False),
    Key("timeline.narrow", "enter", "narrow", "Narrow", "narrow the filter to the bar (replaces since: / until:)"),
    # -------------------------------------------------------------- sheets: frequency, actors, marks
    Key("table.down", "j", "cursor_down", "Down", "move (arrows, PgUp / PgDn too)", display="j / k, g / G"),
    Key("table.up", "k", "cursor_up", "Up", "move up", display="k", in_help=False),
    Key("table.first", "g", "scroll_top", "First", "first row", display="g", in_help=False),
    Key("table.last", "G", "scroll_bottom", "Last", "last row", display="G", in_help=False),
    Key("table.drill", "enter", None, "Drill in", "drill in: the row's value (or actor) goes into the filter"),
    Key("sheet.help", "question_mark,f1", "app.help", "Help", "help", footer=True, in_help=False),
    Key("sheet.back", "escape,q", "close", "Back", "back to the event list", footer=True, display="Esc, q"),
    Key("sheet.filter", "slash", "edit_filter", "Filter", "back to the list with the filter bar focused", footer=True),
    Key("frequency.prev_field", "left,h", "cycle_field(-1)", "Prev field", "count the previous / next field",
        footer=True, priority=True, display="h / l, Left / Right"),
    Key("frequency.next_field", "right,l", "cycle_field(1)", "Next field", "count the next field", footer=True,
        priority=True, display="l, Right", in_help=False),
    Key("frequency.pick_field", "f", "pick_field", "Field…", "pick the field to count", footer=True),
    Key("actors.sort", "s", "cycle_sort", "Sort", "cycle the sort column", footer=True),
    Key("actors.grouping", "p", "cycle_grouping", "Principal/session/key",
        "group by principal, session or access key", footer=True),
    Key("actors.ips", "i", "source_ips", "Its IPs", "filter to the actor and count its source IPs", footer=True),
    Key("actors.view", "v", "view_actor", "View", "the actor's whole name, principal, session or key, and account"),
    Key("marks.go", "enter", "go_to_mark", "Go to event", "show the marked events in the list, this one selected",
        footer=True),
    Key("marks.note", "M,n", "edit_note", "Note", "write or change the note", footer=True, display="M, n"),
    Key("marks.unmark", "x,delete", "unmark", "Unmark", "remove the mark (and its note)", footer=True, display="x, Del"),
    Key("marks.view", "v", "view_mark", "View", "the mark's event, time, actor and whole note, wrapped", footer=True),
    Key("marks.export", "ctrl+s", "export_timeline", "Export",
        "export the incident timeline: Markdown and CSV, with the original events as NDJSON", footer=True),
    Key("detections.go", "enter", "show_hits", "Show hits",
        "put the rule's filter in the filter bar and show its events", footer=True),
    Key("detections.view", "v", "view_rule", "View rule", "the rule whole: description, tags, file, filter",
        footer=True),
    # -------------------------------------------------------------- help, value viewer, dialogs
    Key("help.close", "escape,q,question_mark,f1", "close", "Close", "close the help", footer=True,
        display="Esc, q, ?, F1"),
    Key("help.down", "j", "scroll_down", "Down", "scroll (arrows, PgUp / PgDn too)", display="j / k"),
    Key("help.up", "k", "scroll_up", "Up", "scroll up", display="k", in_help=False),
    Key("viewer.copy", "c", "copy", "Copy", "copy the whole value", footer=True),
    Key("viewer.wrap", "w", "toggle_wrap", "Wrap", "wrap long lines on / off", footer=True),
    Key("viewer.close", "escape,q,v", "close", "Close", "close", footer=True, display="Esc, q, v"),
    Key("export.cancel", "escape", "cancel", "Cancel", "cancel the export (its partial file is removed) or close",
        footer=True),
    Key("export.format_prev", "up", "format(-1)", "Previous format", "previous / next format (CSV, JSON, NDJSON)",
        display="Up / Down"),
    Key("export.format_next", "down", "format(1)", "Next format", "next format", in_help=False),
    Key("errors.close", "escape,q,exclamation_mark", "close", "Close", "close the load errors", footer=True,
        display="Esc, q, !"),
    Key("dialog.close", "escape", "close", "Close", "close the dialog (pickers, prompts)"),
)

#: Keys by id.
BY_ID: dict[str, Key] = {key.id: key for key in KEYS}


def keys_in(scope: str) -> list[Key]:
    """The :data:`KEYS` of one ``scope`` (``"list"``, ``"main"``, ...), in declaration order."""
    return [key for key in KEYS if key.scope == scope]


def bindings(scope: str) -> list[Binding]:
    """Textual ``Binding`` objects for the keys of ``scope`` that run an action (ids, footer
    flags and priorities from the table)."""
    return [
        Binding(key.keys, key.action, key.description, show=key.footer, priority=key.priority, id=key.id,
                tooltip=key.help)
        for key in keys_in(scope)
        if key.action is not None
    ]


def markdown_table() -> str:
    """The README's key table, generated from :data:`KEYS` (``| Keys | Where | What it does |``).
    Keys with the same help line and section are listed once (``j / k``)."""
    lines = ["| Keys | Where | What it does |", "|---|---|---|"]
    for scope, title in SECTIONS.items():
        for key in keys_in(scope):
            if not key.in_help:
                continue
            shown = key.shown_keys.replace("|", "\\|")
            lines.append(f"| `{shown}` | {title} | {key.help} |")
    return "\n".join(lines)


def help_rows(scope: str) -> list[tuple[str, str]]:
    """``(keys, help line)`` for the help screen, pairs (``j / k``) listed once."""
    rows = []
    for key in keys_in(scope):
        if not key.in_help:
            continue
        rows.append((key.shown_keys, key.help))
    return rows



if __name__ == "__main__":  # python -m trailtui.tui.keys: print the README's key table
    print(markdown_table())
