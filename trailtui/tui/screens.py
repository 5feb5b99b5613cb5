"""Modal screens: the help screen (every key, the filter grammar) and the load-errors view."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from trailtui.core.query import LoadProblem
from trailtui.core.text import printable

#: The keys of the app, by pane: ``(section, [(keys, what it does)])``. The help screen and the
#: README's key table are written from this.
KEY_TABLE: list[tuple[str, list[tuple[str, str]]]] = [
    ("Anywhere", [
        ("/", "focus the filter bar (the list updates as you type)"),
        ("Esc", "leave the filter bar / go back to the event list"),
        ("Tab / Shift+Tab", "next / previous pane (list, JSON detail, identity)"),
        ("s", "toggle the order: newest first / oldest first"),
        ("a", "filter to the selected event's principal (user, root, the role behind a session, service)"),
        ("S", "filter to the selected event's session (assumed-role ARN @ creationDate)"),
        ("K", "filter to the selected event's access key (accessKeyId)"),
        ("u", "credential chain up: the event that issued this event's access key (AssumeRole, ...)"),
        ("d", "credential chain down: the events signed with the key this event issued"),
        ("i", "filter to the selected event's source IP (sourceIPAddress)"),
        ("F (Shift+F)", "frequency table of the list's current column over the filter"),
        ("A (Shift+A)", "actors view: every actor of the filter ranked"),
        ("t", "timeline: pick a bar (Left / Right), Enter narrows the filter to its time"),
        ("!", "show files and records that could not be loaded"),
        ("Ctrl+P", "command palette: presets (incident response, S3 user guide), export, S3 columns"),
        ("Ctrl+S", "export the filtered events to CSV, JSON or NDJSON (progress shown; Esc cancels)"),
        ("? / F1", "this help"),
        ("q / Ctrl+C", "quit"),
    ]),
    ("Event list", [
        ("j / k, Down / Up", "next / previous event"),
        ("PgDn / PgUp, Ctrl+F / Ctrl+B", "page down / up"),
        ("g / G, Home / End", "first / last event"),
        ("Enter, double click", "open the event's JSON detail"),
        ("h / l, Left / Right", "move the current column (its title is highlighted; F counts it)"),
        ("Esc", "after a drill (frequency, actors, timeline): the previous filter and view"),
    ]),
    ("Frequency table, actors view", [
        ("j / k, g / G", "move"),
        ("Enter, click", "drill in: add the row's value (or actor) to the filter and show the list"),
        ("h / l, Left / Right", "frequency: count the previous / next field"),
        ("f", "frequency: pick the field to count"),
        ("s / p", "actors: cycle the sort column / group by principal, session or access key"),
        ("i", "actors: filter to the actor and count its source IPs"),
        ("Esc / q", "back to the event list"),
    ]),
    ("Timeline", [
        ("Left / Right, h / l", "previous / next bar (Home / End: first / last)"),
        ("Enter, double click", "narrow the filter to the bar (replaces since: / until:)"),
        ("Esc", "back to the event list"),
    ]),
    ("JSON detail", [
        ("j / k, Down / Up", "move"),
        ("Enter / Space", "expand or collapse the node"),
        ("l / Right, h / Left", "expand / collapse (h on a closed node goes to its parent)"),
        ("e / E", "expand all / collapse all"),
        ("c", "copy the selected value (OSC 52: works over SSH and in tmux; over 100 kB: refused)"),
        ("y", "copy the whole original event"),
    ]),
    ("Filter bar", [
        ("typing", "filters live; an invalid filter shows why and the last result stays"),
        ("Enter / Esc", "back to the event list"),
    ]),
]

FILTER_HELP = """\
Terms separated by spaces must all hold; -term negates one.
  field:value       case-insensitive; * is a wildcard; field:a,b means a or b; "quoted value"
  bare word         matches anywhere in the event ("quoted phrase" too; word* is a prefix)
  is:anonymous  is:error  is:write  is:read  is:root  is:crossaccount
  since:2021-07-28  until:2021-07-29T12:00  since:-2h  since:-7d   (UTC)
  requestParameters.bucketName:prod-*   any JSON path of the event
  s3:account  s3:bucket  s3:object   the S3 user guide's level of an S3 call (object = data event)
  name:ListAllMyBuckets              a SOAP operation name also finds the CloudTrail event (ListBuckets)
Examples:
  name:GetObject is:anonymous          bucket:finance-* is:error
  actor:*alice* -error:*               ip:203.0.113.0/24 since:-1d
  source:s3 name:PutObject,DeleteObject   recipient:111122223333 is:crossaccount"""


def help_text() -> RenderableType:
    """The help screen's content: every key, then the filter grammar and its fields."""
    from trailtui.core.filter import FIELDS

    parts: list = [Text("trailtui keys\n", "bold underline")]
    for section, keys in KEY_TABLE:
        parts.append(Text(section, "bold #7aa2f7"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True, min_width=30)
        grid.add_column()
        for key, what in keys:
            grid.add_row(Text(key), Text(what))
        parts += [grid, Text("")]
    parts.append(Text("Filter grammar\n", "bold underline"))
    parts.append(Text(FILTER_HELP + "\n"))
    parts.append(Text("Short field names", "bold #7aa2f7"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(style="#9ece6a")
    grid.add_column()
    same = []
    for info in FIELDS.values():
        if info.name.lower() == info.cloudtrail.lower():
            same.append(info.name)
        else:
            grid.add_row(Text(info.name), Text(info.cloudtrail), Text(info.description))
    parts += [grid, Text("")]
    parts.append(Text("CloudTrail's own field names work too", "bold #7aa2f7"))
    parts.append(Text(", ".join(same) + ", and any other JSON path (a.b.0.c).", overflow="fold"))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """Every key binding and the filter grammar. Esc, q, ? or F1 close it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
        Binding("j,down", "scroll('down')", "Down", show=False),
        Binding("k,up", "scroll('up')", "Up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Help — Esc to close"
            yield Static(help_text())

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_relative(y=1 if direction == "down" else -1, animate=False)


class LoadErrorsScreen(ModalScreen[None]):
    """Files and records that could not be loaded, each with its path, position and reason."""

    BINDINGS = [Binding("escape,q,exclamation_mark", "dismiss", "Close", id="errors.close")]

    DEFAULT_CSS = """
    LoadErrorsScreen { align: center middle; }
    LoadErrorsScreen > Vertical {
        width: 95%; height: 90%; border: round $error; background: $surface;
    }
    LoadErrorsScreen DataTable { height: 1fr; }
    LoadErrorsScreen #errors-empty { padding: 1 2; }
    LoadErrorsScreen #errors-selected { height: auto; max-height: 8; padding: 0 1; border-top: solid $error; }
    """

    def __init__(self, problems: list[LoadProblem]) -> None:
        super().__init__()
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Load errors ({len(self.problems)}) — Esc to close"
            if not self.problems:
                yield Static("Every file loaded. Nothing to report.", id="errors-empty")
                return
            table: DataTable = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("file", "position", "problem")
            for problem in self.problems:
                # Text cells, never str: DataTable would read a str as Rich markup. The table
                # shows the file's name; the selected problem's whole path and reason are wrapped
                # below, so nothing needs horizontal scrolling in 80 columns.
                table.add_row(Text(printable(Path(problem.path).name)), Text(printable(problem.position or "whole file")),
                              Text(printable(problem.message)))
            yield table
            yield Static(self._selected_text(0), id="errors-selected")

    def _selected_text(self, row: int) -> Text:
        problem = self.problems[row]
        text = Text(printable(problem.path), "bold")
        text.append(f"\n{printable(problem.position or 'whole file')}: ", "dim")
        text.append(printable(problem.message))
        return text

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.problems):
            self.query_one("#errors-selected", Static).update(self._selected_text(event.cursor_row))
