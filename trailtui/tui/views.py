"""The app's side of the views over the whole filter: the frequency table (``F``), the actors
view (``A``), the timeline (``t``), drilling in from them and Esc back out.

:class:`ViewsMixin` is mixed into :class:`trailtui.tui.app.TrailApp`; it relies on the app's
``db_path``, ``_compiled`` (the filter the list shows), ``set_filter``, ``event_list``,
``drill_path`` (a :class:`~trailtui.tui.drill.DrillPath`) and the ``#filter``, ``#timeline``
and ``#breadcrumbs`` widgets.
"""

from __future__ import annotations

from textual.widgets import Input, Static

from trailtui.core.facets import facet_field, with_time_range
from trailtui.core.filter import CompiledFilter
from trailtui.core.text import printable
from trailtui.tui.actors import ActorsScreen
from trailtui.tui.drill import DrillPath, DrillRequest, DrillStep, breadcrumbs
from trailtui.tui.frequency import FrequencyScreen
from trailtui.tui.timeline import Timeline

#: Actions that act on the main screen's panes; disabled while a table screen is on top.
_MAIN_SCREEN_ACTIONS = frozenset({"cycle_pane"})


class ViewsMixin:
    """Frequency table, actors view, timeline and the drill path (see the module docstring)."""

    drill_path: DrillPath

    @property
    def timeline(self) -> Timeline:
        return self.query_one("#timeline", Timeline)  # type: ignore[attr-defined]

    def _filter_text(self) -> str:
        return self.query_one("#filter", Input).value  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab / Shift+Tab cycle the main screen's panes only while it is the active screen
        (on a table screen they move the focus there as usual)."""
        if action in _MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1:  # type: ignore[attr-defined]
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]

    # ------------------------------------------------------------------ opening the views

    def action_frequency(self, field_name: str = "") -> None:
        """Open the frequency table of ``field_name`` (default: the list's current column)."""
        name = field_name or self.event_list.current_attribute  # type: ignore[attr-defined]
        if name == "eventTime":
            self.action_focus_timeline()
            return
        field = facet_field(name)
        if field is None:
            message = f"No frequency table for {printable(name)}; press f in one to pick a field."
            self.notify(message, severity="warning", markup=False)  # type: ignore[attr-defined]
            return
        compiled: CompiledFilter = self._compiled  # type: ignore[attr-defined]
        screen = FrequencyScreen(self.db_path, compiled, self._crumbs(), field)  # type: ignore[attr-defined]
        self.push_screen(screen, self._sheet_closed)  # type: ignore[attr-defined]

    def action_actors(self) -> None:
        """Open the actors view of the current filter."""
        compiled: CompiledFilter = self._compiled  # type: ignore[attr-defined]
        screen = ActorsScreen(self.db_path, compiled, self._crumbs())  # type: ignore[attr-defined]
        self.push_screen(screen, self._sheet_closed)  # type: ignore[attr-defined]

    def action_focus_timeline(self) -> None:
        """Focus the timeline to pick a bar (Esc goes back to the list)."""
        timeline = self.timeline
        if timeline.histogram is None:
            self.notify("The timeline has nothing to show for this filter.", severity="warning")  # type: ignore[attr-defined]
            return
        self.screen.remove_class("-identity")  # type: ignore[attr-defined]
        self.set_focus(timeline)  # type: ignore[attr-defined]

    def _crumbs(self) -> list[str]:
        self.drill_path.sync(self._filter_text())
        return self.drill_path.labels(self._compiled.text)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ drilling

    def _sheet_closed(self, request: DrillRequest | None) -> None:
        if request is None:
            self.event_list.focus()  # type: ignore[attr-defined]
            return
        reopen = request.reopen

        def restore() -> None:
            if reopen is not None:
                self.push_screen(reopen(), self._sheet_closed)  # type: ignore[attr-defined]

        before = self._compiled.text  # type: ignore[attr-defined]
        after = " ".join(part for part in (before.strip(), request.term) if part)
        self.drill(after, request.crumb, restore)
        if request.then is not None:
            request.then()

    def on_timeline_narrow(self, message: Timeline.Narrow) -> None:
        """Enter on a timeline bar: the filter's time range becomes that bar's."""
        before = self._compiled.text  # type: ignore[attr-defined]
        start = message.start
        timeline = self.timeline

        def restore() -> None:
            timeline.select_time(start)
            self.set_focus(timeline)  # type: ignore[attr-defined]

        self.drill(with_time_range(before, message.since, message.until), f"time: {message.label}", restore)

    def drill(self, text: str, crumb: str, restore=None) -> None:
        """Make ``text`` the filter, remembering the current one so Esc on the list restores it
        (and then calls ``restore``); ``crumb`` is the step's breadcrumb."""
        self.drill_path.sync(self._filter_text())
        before = self._compiled.text  # type: ignore[attr-defined]
        self.drill_path.push(DrillStep(before, text, crumb, restore))
        self.set_filter(text)  # type: ignore[attr-defined]
        self.event_list.focus()  # type: ignore[attr-defined]
        self._show_breadcrumbs()

    def drill_back(self) -> bool:
        """Undo the last drill if the filter is still the one it made: the previous filter
        comes back and the view it came from reopens. False when there is nothing to undo."""
        self.drill_path.sync(self._filter_text())
        step = self.drill_path.pop()
        if step is None:
            return False
        self.set_filter(step.before)  # type: ignore[attr-defined]
        self._show_breadcrumbs()
        if step.restore is not None:
            step.restore()
        return True

    def views_results_shown(self, compiled: CompiledFilter, *, loading: bool) -> None:
        """Called when the list shows a filter's results: refresh the timeline and breadcrumbs."""
        self.drill_path.sync(compiled.text)
        self._show_breadcrumbs()
        self.timeline.show_filter(compiled, throttle=loading)

    def _show_breadcrumbs(self) -> None:
        bar = self.query_one("#breadcrumbs", Static)  # type: ignore[attr-defined]
        if not self.drill_path:
            bar.remove_class("-visible")
            return
        hint = "   Esc: back one step"
        width = (bar.size.width or self.size.width) - 2 - len(hint)  # type: ignore[attr-defined]
        text = breadcrumbs(self.drill_path.labels(self._filter_text()), width=max(20, width))
        text.append(hint, "dim")
        bar.update(text)
        bar.add_class("-visible")

