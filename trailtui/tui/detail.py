"""The JSON detail pane: one CloudTrail event as a foldable, syntax-coloured tree.

:class:`EventDetail` is given the event's exact bytes (it never touches the index) and shows:

* the root, labelled with a title such as ``GetObject · 2026-03-14T10:00:00Z`` and ``{N}`` keys;
* one node per key, in the event's own order (orjson keeps it); objects are ``key {N}``, arrays
  ``key [N]`` (both foldable), scalars ``key: value`` with strings in JSON quotes.

Every key and value is attacker-controlled text. Labels are built as ``rich.text.Text`` pieces
(never markup, so ``[bold]x[/]`` or ``[@click=app.quit]`` show literally) from
:func:`trailtui.core.text.printable`, which shows control characters, escape sequences and bidi
marks as visible escapes (``\\x1b``, ``\\u202e``); those escapes are coloured so they stand out
from a literal backslash in the data. Strings over :data:`MAX_SHOWN_CHARS` characters are cut
with an ellipsis and a ``(N chars)`` note; copying (``c``) still gives the whole value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import orjson
from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from trailtui.core.ingest.decode import parse_event_json
from trailtui.core.s3 import deleted_keys_note, event_summary
from trailtui.core.text import printable
from trailtui.tui.clipboard import copy_and_tell
from trailtui.tui.keys import bindings
from trailtui.tui.value_viewer import ValueViewer

#: Longest string (value or key) shown in full; longer ones are cut with a "(N chars)" note.
MAX_SHOWN_CHARS = 4000

#: Containers nested deeper than this show as one line of compact JSON: Textual's Tree walks
#: its nodes recursively, and JSON (orjson reads up to 1024 levels) can nest past Python's limit.
MAX_TREE_DEPTH = 100

#: First-level containers with more scalar leaves than this start collapsed ...
LARGE_CONTAINER_LEAVES = 20
#: ... and these always start collapsed: rarely what a responder looks at first.
NOISY_KEYS = frozenset({"tlsDetails", "additionalEventData", "edgeDeviceDetails"})
#: These always start expanded (who did it, to what), however large.
ALWAYS_OPEN_KEYS = frozenset({"userIdentity", "requestParameters"})

class LabelStyles(NamedTuple):
    """The styles of a label's parts. :class:`EventDetail` fills them from its component
    classes (``event-detail--key``, ... in the stylesheet, so the theme colours them);
    :data:`PLAIN` is for labels built without a widget (tests, exports)."""

    key: Style | str = "bold"
    index: Style | str = ""
    string: Style | str = ""
    number: Style | str = ""
    boolean: Style | str = "italic"
    null: Style | str = "dim italic"
    punct: Style | str = "dim"
    escape: Style | str = "bold reverse"
    error: Style | str = "bold"
    hint: Style | str = "dim italic"
    summary: Style | str = ""
    note: Style | str = "italic"


#: Styles without colours.
PLAIN = LabelStyles()
#: The component class of each :class:`LabelStyles` field.
STYLE_CLASSES = {field: f"event-detail--{field}" for field in LabelStyles._fields}

HINT = "select an event"

JsonPath = tuple["str | int", ...]


class JsonData(NamedTuple):
    """A node's ``data``: its JSON path from the event root (keys and array indices, ``()`` for
    the root) and the parsed Python value there (dict, list, str, int, float, bool or None)."""

    path: JsonPath
    value: object


# ---------------------------------------------------------------------------------- labels


def _append_escaped(label: Text, text: str, style: Style | str, styles: LabelStyles = PLAIN) -> None:
    """Append ``text`` through :func:`printable`, cut at :data:`MAX_SHOWN_CHARS`; the visible
    escapes get ``styles.escape`` so a real ESC differs from a typed ``\\x1b``."""
    shown = text[:MAX_SHOWN_CHARS]
    escaped = printable(shown)
    if escaped == shown:
        label.append(shown, style)
    else:
        run: list[str] = []
        for char in shown:
            visible = printable(char)
            if visible == char:
                run.append(char)
                continue
            if run:
                label.append("".join(run), style)
                run = []
            label.append(visible, styles.escape)
        if run:
            label.append("".join(run), style)
    if len(text) > MAX_SHOWN_CHARS:
        label.append("…", styles.punct)


def _cut_note(label: Text, text: str, styles: LabelStyles = PLAIN) -> None:
    if len(text) > MAX_SHOWN_CHARS:
        label.append(f" ({len(text):,} chars; v shows it whole)", styles.punct)


def key_text(key: str | int, styles: LabelStyles = PLAIN) -> Text:
    """A key as shown: object keys escaped in ``styles.key``, array indices as ``[i]``."""
    label = Text()
    if isinstance(key, int):
        label.append(f"[{key}]", styles.index)
    else:
        _append_escaped(label, key, styles.key, styles)
        _cut_note(label, key, styles)
    return label


def value_text(value: object, styles: LabelStyles = PLAIN) -> Text:
    """A scalar (or empty container) as JSON: strings quoted and escaped, ``true``/``null``."""
    label = Text()
    if isinstance(value, str):
        label.append('"', styles.string)
        _append_escaped(label, value, styles.string, styles)
        label.append('"', styles.string)
        _cut_note(label, value, styles)
    elif value is None:
        label.append("null", styles.null)
    elif isinstance(value, bool):
        label.append("true" if value else "false", styles.boolean)
    elif isinstance(value, (int, float)):
        # orjson's spelling (1e+29 -> 1e29) is the JSON one; Python's str() is not.
        label.append(orjson.dumps(value).decode(), styles.number)
    elif isinstance(value, dict):
        label.append("{}", styles.punct)
    elif isinstance(value, list):
        label.append("[]", styles.punct)
    else:  # not produced by orjson.loads; shown escaped all the same
        label.append(printable(value))
    return label


def node_label(key: str | int | None, value: object, styles: LabelStyles = PLAIN) -> Text:
    """The label of one node: ``key {N}`` / ``key [N]`` for a non-empty container, else
    ``key: value``. ``key`` is ``None`` for a bare top-level scalar."""
    if isinstance(value, (dict, list)) and value:
        count = f"{{{len(value)}}}" if isinstance(value, dict) else f"[{len(value)}]"
        label = key_text(key, styles) if key is not None else Text()
        label.append(f" {count}" if key is not None else count, styles.punct)
        return label
    if key is None:
        return value_text(value, styles)
    return Text.assemble(key_text(key, styles), (": ", styles.punct), value_text(value, styles))


def _too_deep_label(key: str | int, value: object, styles: LabelStyles = PLAIN) -> Text:
    """``key: <compact JSON>`` for a container below :data:`MAX_TREE_DEPTH`."""
    label = Text.assemble(key_text(key, styles), (": ", styles.punct))
    try:
        compact = orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:  # orjson writes at most 255 levels
        label.append("… nested too deep to show (y copies the whole event)", styles.error)
        return label
    _append_escaped(label, compact, "", styles)
    _cut_note(label, compact, styles)
    return label


def path_text(path: JsonPath) -> str:
    """A JSON path for messages, e.g. ``resources[0].ARN`` (escaped, at most 200 characters)."""
    if not path:
        return "the event"
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    text = printable(text.lstrip("."))
    return text if len(text) <= 200 else text[:199] + "…"


def _leaf_count(value: object) -> int:
    """Scalars (and empty containers) under ``value``; iterative, as JSON nests up to 1024 deep."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and item:
            stack.extend(item.values())
        elif isinstance(item, list) and item:
            stack.extend(item)
        else:
            count += 1
    return count


def _children(value: object) -> list[tuple[str | int, object]]:
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return list(enumerate(value))
    return []


# ---------------------------------------------------------------------------------- widget


class EventDetail(Tree[JsonData]):
    """The selected event's JSON as a tree; see the module docstring for what is shown.

    Each node's ``data`` is a :class:`JsonData` (path, value); the hint root has ``None``. The
    app calls :meth:`show_event` with the event's original bytes and ``title``; ``c`` and ``y``
    copy through :func:`trailtui.tui.clipboard.copy_text` (OSC 52, works over SSH; tmux's paste
    buffer too), which refuses text over its size cap with a notice; ``v`` shows the selected
    value whole in a :class:`~trailtui.tui.value_viewer.ValueViewer`. The pane's border title carries the S3
    user guide's level of an S3 call or the vault of a Glacier call, and a DeleteObjects event
    gets a first line noting that CloudTrail does not log the deleted keys (:mod:`trailtui.core.s3`).
    """

    BINDINGS = bindings("detail")
    COMPONENT_CLASSES = set(STYLE_CLASSES.values())

    def __init__(
        self,
        label: str | Text = HINT,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(label, None, name=name, id=id, classes=classes, disabled=disabled)
        self._original: bytes | None = None
        self._nodes_by_path: dict[JsonPath, TreeNode[JsonData]] = {}
        self._base_title: str | None = None  # the border title the app gave, before any summary

    @property
    def label_styles(self) -> LabelStyles:
        """The label styles from the stylesheet's component classes (theme colours)."""
        return LabelStyles(*(self.get_component_rich_style(STYLE_CLASSES[field]) for field in LabelStyles._fields))

    def process_label(self, label: str | Text) -> Text:
        """Labels given as ``str`` are plain text, escaped, never Rich markup."""
        if isinstance(label, str):
            label = Text(printable(label))
        return super().process_label(label)

    # ------------------------------------------------------------------------ content

    def show_event(self, original: bytes | None, *, title: str = "", detections: Sequence[tuple[str, str]] = ()) -> None:
        """Show the event whose exact bytes are ``original`` (``None``/empty: the hint).

        ``detections``: ``(level, rule title)`` of the detection rules that hit the event,
        named on the first line (rule titles come from rule files: escaped like any value).

        Invalid JSON shows one node ``not valid JSON: <raw text, escaped>`` with the reason.
        If the node under the cursor has the same JSON path in the new event (and is shown),
        the cursor stays on it, so stepping through events keeps e.g. ``requestParameters.key``.
        """
        if isinstance(original, str):
            original = original.encode("utf-8")
        elif isinstance(original, (bytearray, memoryview)):
            original = bytes(original)
        previous = self.cursor_node.data if self.cursor_node is not None else None
        keep_path = previous.path if isinstance(previous, JsonData) else None

        self.clear()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._nodes_by_path = {}
        styles = self._styles = self.label_styles
        self._original = original or None
        root = self.root
        if not original:
            self._show_summary(None)
            root.set_label(Text(HINT, styles.hint))
            root.data = None
            root.allow_expand = False
            self._place_cursor(root)
            return

        root.allow_expand = True
        title_text = Text()
        _append_escaped(title_text, title or "event", "bold")
        try:
            event = parse_event_json(original)
        except orjson.JSONDecodeError as error:
            raw = original.decode("utf-8", errors="replace")
            self._show_summary(None)
            root.set_label(title_text)
            root.data = None
            label = Text.assemble(("not valid JSON: ", styles.error))
            _append_escaped(label, raw, "", styles)
            _cut_note(label, raw, styles)
            label.append(f"  ({printable(error)})", styles.punct)
            root.add_leaf(label, JsonData((), raw))
            root.expand()
            self._place_cursor(root)
            return

        if isinstance(event, (dict, list)) and event:
            count = f" {{{len(event)}}}" if isinstance(event, dict) else f" [{len(event)}]"
            title_text.append(count, styles.punct)
        self._show_summary(event_summary(event))  # S3 user guide level, or the Glacier vault
        root.set_label(title_text)
        root.data = JsonData((), event)
        self._nodes_by_path[()] = root
        if detections:
            label = Text.assemble(("detections: ", styles.error))
            for number, (level, rule_title) in enumerate(detections):
                if number:
                    label.append(" · ", styles.punct)
                _append_escaped(label, rule_title, styles.error, styles)
                label.append(f" ({level})", styles.punct)
            root.add_leaf(label, None)
        note = deleted_keys_note(event)
        if note:
            root.add_leaf(Text.assemble(("note: ", styles.note), (note, styles.note)), None)
        self._build_nodes(root, event)
        root.expand()

        target = root
        if keep_path is not None:
            node = self._nodes_by_path.get(keep_path)
            if node is not None and self._is_shown(node):
                target = node
        self._place_cursor(target)

    def _show_summary(self, summary: str | None) -> None:
        """Put ``summary`` (event text, escaped) after the pane's border title, as a Text (a
        str title would be read as markup)."""
        if self._base_title is None:
            self._base_title = self.border_title or ""
        title = Text(self._base_title)
        if summary:
            title.append(" · ")
            styles = self.label_styles
            _append_escaped(title, summary, styles.summary, styles)
        self.border_title = title

    def _build_nodes(self, root: TreeNode[JsonData], event: object) -> None:
        """Add every node below ``root``, choosing which containers start open.

        First-level containers open unless noisy (:data:`NOISY_KEYS`) or large (more than
        :data:`LARGE_CONTAINER_LEAVES` leaves), :data:`ALWAYS_OPEN_KEYS` always; a small open
        one is opened all the way down (userIdentity.sessionContext, resources[0]). Iterative:
        JSON may nest deeper than Python's recursion limit.
        """
        styles = self._styles
        if not isinstance(event, (dict, list)):
            root.add_leaf(node_label(None, event, styles), JsonData((), event))
            return
        # (parent node, its path, its value, whether its containers open)
        stack: list[tuple[TreeNode[JsonData], JsonPath, object, bool]] = []
        for key, value in _children(event):
            path: JsonPath = (key,)
            if isinstance(value, (dict, list)) and value:
                leaves = _leaf_count(value)
                small = leaves <= LARGE_CONTAINER_LEAVES
                is_open = key in ALWAYS_OPEN_KEYS or (small and key not in NOISY_KEYS)
                node = root.add(node_label(key, value, styles), JsonData(path, value), expand=is_open)
                stack.append((node, path, value, is_open and small))
            else:
                node = root.add_leaf(node_label(key, value, styles), JsonData(path, value))
            self._nodes_by_path[path] = node
        while stack:
            parent, parent_path, parent_value, whole = stack.pop()
            for key, value in _children(parent_value):
                path = (*parent_path, key)
                if isinstance(value, (dict, list)) and value and len(path) >= MAX_TREE_DEPTH:
                    node = parent.add_leaf(_too_deep_label(key, value, styles), JsonData(path, value))
                elif isinstance(value, (dict, list)) and value:
                    node = parent.add(node_label(key, value, styles), JsonData(path, value), expand=whole)
                    stack.append((node, path, value, whole))
                else:
                    node = parent.add_leaf(node_label(key, value, styles), JsonData(path, value))
                self._nodes_by_path[path] = node

    @staticmethod
    def _is_shown(node: TreeNode[JsonData]) -> bool:
        parent = node.parent
        while parent is not None:
            if not parent.is_expanded:
                return False
            parent = parent.parent
        return True

    def _place_cursor(self, node: TreeNode[JsonData]) -> None:
        """Put the cursor on ``node`` (which must be shown) after the lines are rebuilt.

        Tree numbers its lines lazily, so after a rebuild ``node.line`` is stale until the lines
        are listed again; reading the public ``last_line`` lists them (a test in test_detail
        fails if a Textual upgrade changes that: the cursor would land on the wrong key).
        """
        self.last_line  # noqa: B018 - lists the lines again, so node.line is current
        self.cursor_line = max(node.line, 0)
        self.scroll_to_line(self.cursor_line, animate=False)

    # ------------------------------------------------------------------------ folding

    def expand_all(self) -> None:
        """Expand every node; the cursor stays on its node."""
        cursor = self.cursor_node
        self.root.expand_all()
        if cursor is not None:
            self._place_cursor(cursor)

    def collapse_all(self) -> None:
        """Collapse every node but the root (its keys stay listed); the cursor moves to the
        first-level node it was under."""
        cursor = self.cursor_node
        while cursor is not None and cursor.parent is not None and cursor.parent is not self.root:
            cursor = cursor.parent
        self.root.collapse_all()
        self.root.expand()
        self._place_cursor(cursor if cursor is not None else self.root)

    def action_expand_all(self) -> None:
        self.expand_all()

    def action_collapse_all(self) -> None:
        self.collapse_all()

    def action_expand_node(self) -> None:
        """``l``: expand a collapsed node; on an expanded one go to its first child (jless)."""
        node = self.cursor_node
        if node is None or not node.allow_expand or not node.children:
            return
        if node.is_collapsed:
            node.expand()
        else:
            self._place_cursor(node.children[0])

    def action_collapse_node(self) -> None:
        """``h``: collapse an expanded node; on a collapsed node or a leaf go to its parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded and node.children:
            node.collapse()
            self._place_cursor(node)
        elif node.parent is not None:
            self._place_cursor(node.parent)

    # ------------------------------------------------------------------------ copying

    def selected_value_text(self) -> str | None:
        """The text ``c`` copies for the node under the cursor, or ``None`` if there is none.

        Strings are the raw value (no quotes, no escaping: what the log holds); objects and
        arrays pretty JSON (two-space indent); numbers, booleans and null their JSON spelling.
        Raises ``orjson.JSONEncodeError`` for containers nested deeper than orjson writes (255).
        """
        node = self.cursor_node
        data = node.data if node is not None else None
        if not isinstance(data, JsonData):
            return None
        value = data.value
        if isinstance(value, str):
            return value
        if isinstance(value, (dict, list)):
            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
        return orjson.dumps(value).decode("utf-8")

    def event_text(self) -> str | None:
        """The shown event's original bytes as UTF-8 text, exactly (whitespace and ``\\u00e9``
        escapes as written); ``None`` when no event is shown. Invalid UTF-8 becomes U+FFFD."""
        if self._original is None:
            return None
        return self._original.decode("utf-8", errors="replace")

    def _selected(self) -> tuple[str, str] | None:
        """``(text, what)`` of the node under the cursor for copying or viewing, or None
        (after telling the user why)."""
        node = self.cursor_node
        try:
            text = self.selected_value_text()
        except orjson.JSONEncodeError as error:
            self.notify(f"Cannot copy: {printable(error)}", severity="error", markup=False)
            return None
        if text is None or node is None:
            self.notify("Nothing selected: move to a value first.", severity="warning", markup=False)
            return None
        data = node.data
        where = path_text(data.path) if isinstance(data, JsonData) else "value"
        if isinstance(data, JsonData) and isinstance(data.value, (dict, list)):
            return text, f"{where} as JSON"
        return text, where

    def action_copy_value(self) -> None:
        """``c``: copy the selected value (a string as logged, a container as pretty JSON)."""
        selected = self._selected()
        if selected is not None:
            text, what = selected
            # markup=False everywhere: the path is made of the event's (attacker-chosen) keys.
            copy_and_tell(self, text, what=what)

    def action_copy_event(self) -> None:
        """``y``: copy the whole original event, exactly as logged."""
        text = self.event_text()
        if text is None:
            self.notify("No event to copy.", severity="warning", markup=False)
            return
        copy_and_tell(self, text, what="the whole event")

    def action_view_value(self) -> None:
        """``v``: the selected value whole, wrapped, in the value viewer."""
        selected = self._selected()
        if selected is not None:
            text, what = selected
            self.app.push_screen(ValueViewer(what, text))

    def action_scroll_sideways(self, cells: int) -> None:
        """``<`` / ``>``: scroll the tree sideways by ``cells`` (long values run past the edge)."""
        self.scroll_relative(x=cells, animate=False)
