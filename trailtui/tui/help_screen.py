"""The help screen: every key (built from :data:`trailtui.tui.keys.KEYS`, so it cannot drift
from what the keys do) and the filter grammar with its field names (from
:data:`trailtui.core.filter.FIELDS`)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from trailtui.tui.keys import SECTIONS, bindings, help_rows
from trailtui.tui.message_bar import MessageBar

FILTER_HELP = """\
Terms separated by spaces must all hold; -term negates one; OR, AND, NOT and (parentheses) combine them.
  field:value       case-insensitive; * is a wildcard; field:a,b means a or b; "quoted value"
  field~regex       a regular expression on the field (RE2, case-sensitive): arn~"assumed-role/.*-admin/"
  bare word         matches whole words anywhere in the event ("quoted phrase" too; word* is a prefix)
  is:anonymous  is:error  is:write  is:read  is:root  is:crossaccount  is:marked
  since:2021-07-28  until:2021-07-29T12:00  since:-2h  since:-7d   (UTC)
  requestParameters.bucketName:prod-*   any JSON path of the event
  s3:account  s3:bucket  s3:object   the S3 user guide's level of an S3 call (object = data event)
  name:ListAllMyBuckets              a SOAP operation name also finds the CloudTrail event (ListBuckets)
Examples:
  name:GetObject is:anonymous          bucket:finance-* is:error
  actor:*alice* -error:*               ip:203.0.113.0/24 since:-1d
  source:s3 name:PutObject,DeleteObject   recipient:111122223333 is:crossaccount
  (name:ConsoleLogin error:*) OR (is:root -is:read)"""


def help_text(section_style: Style | str = "bold", field_style: Style | str = "") -> RenderableType:
    """The help's content: every key by section, then the filter grammar and its fields."""
    from trailtui.core.filter import FIELDS

    parts: list = [Text("trailtui keys\n", "bold underline")]
    # One key column width for every section, so the sections line up.
    key_width = max(len(keys) for scope in SECTIONS for keys, _what in help_rows(scope))
    for scope, title in SECTIONS.items():
        rows = help_rows(scope)
        if not rows:
            continue
        parts.append(Text(title, section_style))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True, min_width=key_width, max_width=key_width)
        grid.add_column()
        for keys, what in rows:
            grid.add_row(Text(keys), Text(what))
        parts += [grid, Text("")]
    parts.append(Text("Filter grammar\n", "bold underline"))
    parts.append(Text(FILTER_HELP + "\n"))
    parts.append(Text("Short field names", section_style))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(style=field_style)
    grid.add_column()
    same = []
    for info in FIELDS.values():
        if info.name.lower() == info.cloudtrail.lower():
            same.append(info.name)
        else:
            grid.add_row(Text(info.name), Text(info.cloudtrail), Text(info.description))
    parts += [grid, Text("")]
    parts.append(Text("CloudTrail's own field names work too", section_style))
    parts.append(Text(", ".join(same) + ", and any other JSON path (a.b.0.c).", overflow="fold"))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """Every key binding and the filter grammar. Esc, q, ? or F1 close it."""

    BINDINGS = bindings("help")
    COMPONENT_CLASSES = {"help-screen--section", "help-screen--field"}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body", classes="dialog") as body:
            body.border_title = "Help — Esc to close"
            yield Static(id="help-text")
            yield MessageBar()
        yield Footer()

    def on_mount(self) -> None:
        text = help_text(self.get_component_rich_style("help-screen--section"),
                         self.get_component_rich_style("help-screen--field"))
        self.query_one("#help-text", Static).update(text)
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll_down(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=1, animate=False)

    def action_scroll_up(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=-1, animate=False)
