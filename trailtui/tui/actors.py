"""The actors view (``A``): every actor of the current filter ranked, with its events, errors,
distinct source IPs and user agents, first and last seen; Enter filters the list to one.

Actors are grouped by principal, session or credential (``p`` switches, see
:data:`trailtui.core.facets.ACTOR_GROUPINGS`); ``s`` cycles the sort column. The ranking is one
``GROUP BY`` (:func:`trailtui.core.facets.actor_ranking`).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.widgets import DataTable

from trailtui.core.facets import ACTOR_GROUPINGS, ACTOR_SORTS, ActorRanking, ActorRow, actor_ranking, actor_term
from trailtui.core.filter import CompiledFilter
from trailtui.core.text import printable
from trailtui.tui.drill import DrillRequest, SheetScreen, crumb

#: Column titles of the sort keys, in the order ``s`` cycles through them.
SORT_TITLES: dict[str, str] = {
    "events": "events",
    "errors": "errors",
    "source_ips": "IPs",
    "user_agents": "agents",
    "first_seen": "first seen (UTC)",
    "last_seen": "last seen (UTC)",
    "actor": "actor",
}

#: What a row without a grouping value stands for, per grouping.
_NONE_LABELS = {"principal": "(no principal)", "session": "(no session)", "credential": "(no access key)"}


def _time_cell(value: str | None, compact: bool, *, gap: bool) -> Text:
    """``eventTime`` as a cell: whole (UTC ISO-8601), or ``MM-DD HH:MM`` when ``compact``."""
    shown = printable(value[5:16].replace("T", " ") if compact else value) if value else ""
    return Text(shown.ljust(11 if compact else 20) + (" " if gap else ""))


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis, else padded to it."""
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


class ActorsScreen(SheetScreen):
    """The actors of the events ``compiled`` matches, one row each.

    ``grouping`` is a key of ``ACTOR_GROUPINGS``, ``sort`` one of ``ACTOR_SORTS``; ``select``
    puts the cursor on the actor with that key once ranked (reopening after Esc). Dismissed with
    a :class:`~trailtui.tui.drill.DrillRequest` on Enter (or ``i``: the actor's source IPs), None
    on Esc.
    """

    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", id="actors.sort"),
        Binding("p", "cycle_grouping", "Principal/session/key", id="actors.grouping"),
        Binding("i", "source_ips", "Its IPs", id="actors.ips"),
    ]

    def __init__(
        self,
        db_path: Path,
        compiled: CompiledFilter,
        crumbs: list[str],
        *,
        grouping: str = "principal",
        sort: str = "events",
        select: str | None = None,
    ) -> None:
        super().__init__(db_path, compiled, crumbs)
        self.grouping = grouping if grouping in ACTOR_GROUPINGS else "principal"
        self.sort = sort if sort in ACTOR_SORTS else "events"
        self._select = select
        self.ranking: ActorRanking | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self._rank()

    def _rank(self) -> None:
        grouping = ACTOR_GROUPINGS[self.grouping]
        compiled, sort = self.compiled, self.sort
        sheet = self.query_one("#sheet")
        sheet.border_title = f"Actors by {grouping.name} · sorted by {SORT_TITLES[sort]}"
        sheet.border_subtitle = "Enter filter to actor · i its IPs · s sort · p principal/session/key · Esc back"
        self.show_crumbs(f"actors by {grouping.name}")
        self.load(lambda conn: actor_ranking(conn, compiled, grouping, sort=sort))

    def loaded(self, result: object, elapsed_ms: float) -> None:
        assert isinstance(result, ActorRanking)
        if self.ranking is not None and self._select is None:
            # Re-sorted or regrouped: keep the cursor on the same actor when it is still there.
            current = self._current_row()
            if current is not None and result.grouping == self.ranking.grouping:
                self._select = current.key
        self.ranking = result
        table = self.table
        table.clear(columns=True)
        table.cell_padding = 0  # one space between columns (below), not two: 80 columns hold a service name
        width = self.size.width - 4
        compact = width < 110
        show_key = width >= 150
        time_width = 11 if compact else 20
        agents = "UAs" if compact else "agents"
        numbers = [("events", "events"), ("errors", "errors"), ("source_ips", "IPs"), ("user_agents", agents)]
        counts = {key: [f"{getattr(row, key):,}" for row in result.rows] for key, _ in numbers}
        # The sort column is named in the border title; wide tables also mark it with ▼.
        marked = {key: title + (" ▼" if key == self.sort and not compact else "") for key, title in numbers}
        number_widths = {key: max([len(marked[key]), *(len(v) for v in counts[key])]) for key, _ in numbers}
        fixed = sum(number_widths.values()) + 2 * time_width + (7 if show_key else 6)
        spare = max(14, width - fixed - 1)
        actor_width = min(40, spare // 3) if show_key else min(48, spare)
        key_width = spare - actor_width - 1
        columns: list[tuple[str, str, int, bool]] = [("actor", "actor", actor_width, False)]
        if show_key:
            columns.append(("key", result.grouping.name, key_width, False))
        columns += [(key, marked[key], number_widths[key], True) for key, _ in numbers]
        columns += [
            ("first_seen", "first seen" if compact else "first seen (UTC)", time_width, False),
            ("last_seen", "last seen" if compact else "last seen (UTC)", time_width, False),
        ]
        for position, (key, title, column_width, numeric) in enumerate(columns):
            gap = 0 if position == len(columns) - 1 else 1
            title = title + (" ▼" if key == self.sort and not numeric and not compact else "")
            # Numbers padded by hand: DataTable cells do not honour Text.justify.
            label = title.rjust(column_width) if numeric else _fit(title, column_width)
            table.add_column(Text(label + " " * gap, "bold"), width=column_width + gap, key=key)
        select_row = 0
        none_label = _NONE_LABELS.get(result.grouping.name, "(none)")
        for index, row in enumerate(result.rows):
            if row.actor:
                name = Text(_fit(printable(row.actor), actor_width) + " ")
            else:
                name = Text(_fit(none_label if row.key is None else "(several)", actor_width) + " ", "italic dim")
            cells: list[Text] = [name]
            if show_key:
                key_text = _fit(printable(row.key), key_width) + " " if row.key else _fit(none_label, key_width) + " "
                cells.append(Text(key_text, "" if row.key else "italic dim"))
            for key, _ in numbers:
                value = counts[key][index].rjust(number_widths[key]) + " "
                cells.append(Text(value, "red" if key == "errors" and row.errors else ""))
            cells += [_time_cell(row.first_seen, compact, gap=True), _time_cell(row.last_seen, compact, gap=False)]
            table.add_row(*cells, key=str(index))
            if self._select is not None and row.key == self._select:
                select_row = index
        self._select = None
        if result.rows:
            table.move_cursor(row=select_row)
        info = Text()
        kind = f"{result.grouping.name}{'s' if result.actors != 1 else ''}"
        if len(result.rows) < result.actors:
            info.append(f"top {len(result.rows):,} of {result.actors:,} {kind}", "bold")
        else:
            info.append(f"{result.actors:,} {kind}")
        info.append(f" · {result.total:,} events · {elapsed_ms:,.0f} ms")
        if not result.rows:
            info.append(" · no events match the filter")
        self.show_info(info)

    def _current_row(self) -> ActorRow | None:
        ranking = self.ranking
        if ranking is None or not ranking.rows:
            return None
        return ranking.rows[min(self.table.cursor_row, len(ranking.rows) - 1)]

    # ------------------------------------------------------------------ actions

    def action_cycle_sort(self) -> None:
        sorts = list(SORT_TITLES)
        self.sort = sorts[(sorts.index(self.sort) + 1) % len(sorts)]
        self._rank()

    def action_cycle_grouping(self) -> None:
        names = list(ACTOR_GROUPINGS)
        self.grouping = names[(names.index(self.grouping) + 1) % len(names)]
        self._rank()

    def _request(self, *, then_field: str | None = None) -> DrillRequest | None:
        row = self._current_row()
        if row is None or self.ranking is None:
            return None
        grouping = self.ranking.grouping
        db_path, compiled, crumbs = self.db_path, self.compiled, self.crumbs
        grouping_name, sort, key = self.grouping, self.sort, row.key
        app = self.app
        then = None
        if then_field is not None:
            frequency = getattr(app, "action_frequency", None)
            then = (lambda: frequency(then_field)) if frequency is not None else None
        return DrillRequest(
            term=actor_term(grouping, row),
            crumb=crumb(grouping.name, row.actor or row.key),
            reopen=lambda: ActorsScreen(db_path, compiled, crumbs, grouping=grouping_name, sort=sort, select=key),
            then=then,
        )

    def action_drill(self) -> None:
        request = self._request()
        if request is not None:
            self.dismiss(request)

    def action_source_ips(self) -> None:
        """Filter to the actor, then count its ``sourceIPAddress`` values."""
        request = self._request(then_field="sourceIPAddress")
        if request is not None:
            self.dismiss(request)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        """Enter, or a click on the highlighted row."""
        self.action_drill()
