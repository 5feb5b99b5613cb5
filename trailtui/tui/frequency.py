"""The frequency table (Shift+F, as in VisiData): the values of one field over the current
filter, with counts, percentages and bars; Enter drills into a value.

Counts come from :func:`trailtui.core.facets.value_counts` (one ``GROUP BY``), so the table
costs the same for a hundred events or a million.
"""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from trailtui.core.facets import FACET_FIELDS, FacetField, ValueCounts, value_counts, value_term
from trailtui.core.filter import CompiledFilter
from trailtui.core.text import plural, printable
from trailtui.tui.filter_history import crumb
from trailtui.tui.keys import bindings
from trailtui.tui.message_bar import MessageBar
from trailtui.tui.sheet import DrillRequest, SheetScreen, bar

#: Shown for events where the field is absent, null or empty (Enter drills with ``-field:*``).
MISSING = "(missing)"


def value_text(value: str | None, missing_style: Style | str = "") -> Text:
    """A value as a table cell: escaped, or :data:`MISSING` in ``missing_style``."""
    if value is None:
        return Text(MISSING, missing_style)
    return Text(printable(value), no_wrap=True, overflow="ellipsis")


class FrequencyScreen(SheetScreen):
    """Values of ``field`` among the events ``compiled`` matches, most frequent first.

    ``crumbs`` are the breadcrumbs of the filter (see ``FilterHistory.labels``); ``select`` puts
    the cursor on that value once counted (reopening after Esc). Dismissed with a
    :class:`~trailtui.tui.sheet.DrillRequest` on Enter, None on Esc.
    """

    COMPONENT_CLASSES = {"frequency--bar", "frequency--missing"}

    BINDINGS = bindings("frequency")

    def __init__(
        self,
        db_path: Path,
        compiled: CompiledFilter,
        crumbs: list[str],
        field: FacetField,
        *,
        select: str | None = None,
    ) -> None:
        super().__init__(db_path, compiled, crumbs)
        self.field = field
        self._select: tuple[str | None] | None = (select,) if select is not None else None
        self.counts: ValueCounts | None = None
        self._elapsed_ms = 0.0

    def on_mount(self) -> None:
        super().on_mount()
        self._count()

    def _count(self) -> None:
        field, compiled = self.field, self.compiled
        self.query_one("#sheet").border_title = f"Frequency: {field.name}"
        self.query_one("#sheet").border_subtitle = "←/→ field · f pick · Enter drill in · Esc back"
        self.show_crumbs(field.name)
        self.table.clear(columns=True)
        self.counts = None
        self.load(lambda conn: value_counts(conn, compiled, field))

    def recount(self) -> None:
        field, compiled = self.field, self.compiled
        counts = self.counts
        if counts is not None and counts.rows and self._select is None:
            self._select = (counts.rows[min(self.table.cursor_row, len(counts.rows) - 1)].value,)
        self.load(lambda conn: value_counts(conn, compiled, field))

    def loaded(self, result: object, elapsed_ms: float) -> None:
        assert isinstance(result, ValueCounts)
        self.counts = result
        self._elapsed_ms = elapsed_ms
        table = self.table
        table.clear(columns=True)
        width = max(40, self.size.width - 4)
        bar_width = max(8, min(30, width // 4))
        count_width = max(5, len(f"{result.rows[0].count:,}") if result.rows else 0)
        # DataTable pads every cell with one space on each side.
        # As wide as the longest value (counts and bars stay near their names), at most what is left.
        longest = max((len(value_text(row.value).plain) for row in result.rows), default=12)
        value_width = max(12, min(longest + 2, width - bar_width - count_width - 5 - 8))
        table.add_column(Text(self.field.name, "bold"), width=value_width, key="value")
        # Numbers padded by hand: DataTable cells do not honour Text.justify.
        table.add_column(Text("count".rjust(count_width), "bold"), width=count_width, key="count")
        table.add_column(Text("%".rjust(5), "bold"), width=5, key="percent")
        table.add_column(Text(""), width=bar_width, key="bar")
        peak = max((row.count for row in result.rows), default=0)
        bar_style = self.get_component_rich_style("frequency--bar")
        select_row = 0
        for index, row in enumerate(result.rows):
            share = row.count / result.total if result.total else 0.0
            table.add_row(
                value_text(row.value, self.get_component_rich_style("frequency--missing")),
                Text(f"{row.count:,}".rjust(count_width)),
                Text(f"{share * 100:.1f}".rjust(5)),
                Text(bar(row.count / peak if peak else 0.0, bar_width), bar_style),
                key=str(index),
            )
            if self._select is not None and _same(row.value, self._select[0]):
                select_row = index
        self._select = None
        if result.rows:
            table.move_cursor(row=select_row)
        shown = len(result.rows)
        info = Text()
        if shown < result.distinct:
            info.append(f"top {shown:,} of {result.distinct:,} distinct values", "bold")
        else:
            info.append(plural(result.distinct, "distinct value"))
        info.append(f" · {plural(result.total, 'event')} · {elapsed_ms:,.0f} ms")
        if not result.rows:
            info.append(" · no events match the filter")
        self.show_info(info)

    def on_resize(self) -> None:
        if self.counts is not None:  # the value column and the bars follow the width
            self.loaded(self.counts, self._elapsed_ms)

    # ------------------------------------------------------------------ actions

    def action_cycle_field(self, step: int) -> None:
        fields = list(FACET_FIELDS)
        index = fields.index(self.field) if self.field in fields else 0
        self.field = fields[(index + step) % len(fields)]
        self._count()

    def action_pick_field(self) -> None:
        self.app.push_screen(FieldPicker(self.field), self._picked)

    def _picked(self, field: FacetField | None) -> None:
        if field is not None and field != self.field:
            self.field = field
            self._count()

    def action_drill(self) -> None:
        counts = self.counts
        if counts is None or not counts.rows:
            return
        row = counts.rows[min(self.table.cursor_row, len(counts.rows) - 1)]
        db_path, compiled, crumbs, field, value = self.db_path, self.compiled, self.crumbs, self.field, row.value
        self.dismiss(
            DrillRequest(
                term=value_term(field, value),
                crumb=crumb(field.name, value),
                reopen=lambda: FrequencyScreen(db_path, compiled, crumbs, field, select=value),
            )
        )

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        """Enter, or a click on the highlighted row."""
        self.action_drill()


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.lower() == b.lower()


class FieldPicker(ModalScreen["FacetField | None"]):
    """A small list of :data:`~trailtui.core.facets.FACET_FIELDS` to count; Enter picks one,
    Esc keeps the current field."""

    BINDINGS = bindings("dialog")

    def __init__(self, current: FacetField) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Count which field?"
            yield OptionList(*(Option(field.name, id=field.column) for field in FACET_FIELDS))
            yield MessageBar()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = next((i for i, f in enumerate(FACET_FIELDS) if f == self.current), 0)
        options.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(FACET_FIELDS[event.option_index])
