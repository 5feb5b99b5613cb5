"""The actors view (``A``): every actor of the current filter ranked, with its events, errors,
distinct source IPs and user agents, first and last seen; Enter filters the list to one.

Actors are grouped by principal, session or credential (``p`` switches, see
:data:`trailtui.core.facets.ACTOR_GROUPINGS`); ``s`` cycles the sort column. The ranking is one
``GROUP BY`` (:func:`trailtui.core.facets.actor_ranking`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.widgets import DataTable

from trailtui.core.facets import ACTOR_GROUPINGS, ACTOR_SORTS, ActorRanking, ActorRow, actor_ranking, actor_term
from trailtui.core.filter import CompiledFilter
from trailtui.core.text import fit, fit_middle, plural, printable
from trailtui.core.times import shown_minute, shown_time
from trailtui.tui.filter_history import crumb
from trailtui.tui.keys import bindings
from trailtui.tui.sheet import DrillRequest, SheetScreen
from trailtui.tui.value_viewer import ValueViewer

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
_NUMBERS = ("events", "errors", "source_ips", "user_agents")


@dataclass(frozen=True)
class ActorLayout:
    """How the actors table is laid out for one ranking and width: ``columns`` as
    ``(name, title, width, numeric)``; ``time`` formats first/last seen; ``why_key`` says why
    the account or key column is shown (names that collide), or ''."""

    columns: list[tuple[str, str, int, bool]]
    time: Callable[[str | None], str]
    why_key: str


def actor_layout(ranking: ActorRanking, width: int) -> ActorLayout:
    """Lay out ``ranking`` in ``width`` cells.

    Display names can collide (the same user name in 14 accounts, one role session name on
    four instances): the ``userIdentity.accountId`` column is shown when two rows share a name,
    and the grouping key (principal ARN, session, access key) when two rows still share name and
    account, or whenever the terminal is wide (150 cells). Times always carry the year
    (``2024-08-01 15:26``, seconds too from 160 cells). Spare width goes to the actor and key
    columns, up to their longest value; when the columns need more than ``width`` the table
    scrolls sideways.
    """
    rows = ranking.rows
    names = Counter((row.actor or "") for row in rows)
    pairs = Counter(((row.actor or ""), row.account or "") for row in rows)
    show_account = any(count > 1 for name, count in names.items() if name)
    show_key = width >= 150 or any(count > 1 for (name, _), count in pairs.items() if name)
    why = ""
    if show_key and any(count > 1 for (name, _), count in pairs.items() if name):
        why = f"same names: the {ranking.grouping.name} column tells them apart"
    elif show_account:
        why = "same names in several accounts: see accountId"
    seconds = width >= 160
    time_format = shown_time if seconds else shown_minute
    time_width = 19 if seconds else 16
    counts = {key: [f"{getattr(row, key):,}" for row in rows] for key in _NUMBERS}
    titles = {key: SORT_TITLES[key] for key in _NUMBERS}
    numbers = [(key, titles[key], max([len(titles[key]) + 2, *(len(v) for v in counts[key])]), True)
               for key in _NUMBERS]
    fixed = sum(column[2] + 1 for column in numbers) + 2 * (time_width + 1)
    account_width = 12 if show_account else 0
    fixed += account_width + (1 if show_account else 0)
    longest_actor = max([5, *(len(printable(row.actor or "")) for row in rows)])
    longest_key = max([8, *(len(printable(row.key or "")) for row in rows)]) if show_key else 0
    spare = max(0, width - fixed - (1 if show_key else 0))
    actor_width = min(longest_actor, max(14, spare if not show_key else spare // 3))
    key_width = min(longest_key, max(20, spare - actor_width)) if show_key else 0
    if show_key and actor_width + key_width < spare:  # room left: give it back to the actor
        actor_width = min(longest_actor, spare - key_width)
    columns: list[tuple[str, str, int, bool]] = [("actor", "actor", actor_width, False)]
    if show_account:
        columns.append(("account", "accountId", account_width, False))
    if show_key:
        columns.append(("key", ranking.grouping.name, key_width, False))
    columns += numbers
    columns += [("first_seen", "first seen UTC", time_width, False), ("last_seen", "last seen UTC", time_width, False)]
    return ActorLayout(columns, time_format, why)


class ActorsScreen(SheetScreen):
    """The actors of the events ``compiled`` matches, one row each.

    ``grouping`` is a key of ``ACTOR_GROUPINGS``, ``sort`` one of ``ACTOR_SORTS``; ``select``
    puts the cursor on the actor with that key once ranked (reopening after Esc). Dismissed with
    a :class:`~trailtui.tui.sheet.DrillRequest` on Enter (or ``i``: the actor's source IPs), None
    on Esc.
    """

    BINDINGS = bindings("actors")
    COMPONENT_CLASSES = {"actors--errors", "actors--missing"}

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
        self._elapsed_ms = 0.0

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

    def recount(self) -> None:
        self._rank()  # loaded() keeps the cursor on the same actor

    def loaded(self, result: object, elapsed_ms: float) -> None:
        assert isinstance(result, ActorRanking)
        if self.ranking is not None and self._select is None:
            # Re-sorted or regrouped: keep the cursor on the same actor when it is still there.
            current = self._current_row()
            if current is not None and result.grouping == self.ranking.grouping:
                self._select = current.key
        self.ranking = result
        self._elapsed_ms = elapsed_ms
        table = self.table
        table.clear(columns=True)
        table.cell_padding = 0  # one space between columns (below), not two: 80 columns hold more
        layout = actor_layout(result, self.size.width - 4)
        for name, title, width, numeric in layout.columns:
            gap = 0 if name == layout.columns[-1][0] else 1
            marked = title + (" ▼" if name == self.sort else "")
            # Numbers padded by hand: DataTable cells do not honour Text.justify.
            label = marked.rjust(width) if numeric else fit(marked, width)
            table.add_column(Text(label + " " * gap, "bold"), width=width + gap, key=name)
        error_style = self.get_component_rich_style("actors--errors")
        missing_style = self.get_component_rich_style("actors--missing")
        select_row = 0
        none_label = _NONE_LABELS.get(result.grouping.name, "(none)")
        for index, row in enumerate(result.rows):
            cells: list[Text] = []
            for name, _title, width, numeric in layout.columns:
                gap = "" if name == layout.columns[-1][0] else " "
                if numeric:
                    value = getattr(row, name)
                    style = error_style if name == "errors" and value else ""
                    cells.append(Text(f"{value:,}".rjust(width) + gap, style))
                elif name in ("first_seen", "last_seen"):
                    cells.append(Text(fit(layout.time(getattr(row, name)), width) + gap))
                elif name == "actor":
                    if row.actor:
                        cells.append(Text(fit_middle(printable(row.actor), width) + gap))
                    else:
                        label = none_label if row.key is None else "(several)"
                        cells.append(Text(fit(label, width) + gap, missing_style))
                elif name == "account":
                    cells.append(Text(fit(printable(row.account or ""), width) + gap))
                else:  # the grouping key
                    shown = printable(row.key) if row.key else none_label
                    cells.append(Text(fit_middle(shown, width) + gap, "" if row.key else missing_style))
            table.add_row(*cells, key=str(index))
            if self._select is not None and row.key == self._select:
                select_row = index
        self._select = None
        if result.rows:
            table.move_cursor(row=select_row)
        info = Text()
        kind = plural(result.actors, result.grouping.name)
        if len(result.rows) < result.actors:
            info.append(f"top {len(result.rows):,} of {kind}", "bold")
        else:
            info.append(kind)
        info.append(f" · {plural(result.total, 'event')} · {elapsed_ms:,.0f} ms")
        if layout.why_key:
            info.append(f" · {layout.why_key}")
        if not result.rows:
            info.append(" · no events match the filter")
        self.show_info(info)

    def on_resize(self) -> None:
        if self.ranking is not None:
            self.loaded(self.ranking, self._elapsed_ms)

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
        return DrillRequest(
            term=actor_term(grouping, row),
            crumb=crumb(grouping.name, row.actor or row.key),
            reopen=lambda: ActorsScreen(db_path, compiled, crumbs, grouping=grouping_name, sort=sort, select=key),
            then_frequency=then_field,
        )

    def action_view_actor(self) -> None:
        """``v``: the selected actor's whole name, key and account (cells cut them)."""
        row = self._current_row()
        if row is None or self.ranking is None:
            return
        lines = [f"actor: {row.actor or '(several)'}", f"{self.ranking.grouping.name}: {row.key or '(none)'}",
                 f"userIdentity.accountId: {row.account or '(several)'}",
                 f"{plural(row.events, 'event')} · {plural(row.errors, 'error')} · "
                 f"{plural(row.source_ips, 'source IP')} · {plural(row.user_agents, 'user agent')}",
                 f"first seen {shown_time(row.first_seen)} UTC · last seen {shown_time(row.last_seen)} UTC"]
        self.app.push_screen(ValueViewer("actor", "\n".join(lines)))

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
