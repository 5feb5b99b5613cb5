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

from typing import NamedTuple

import orjson
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from trailtui.core.decode import parse_event_json
from trailtui.core.s3 import deleted_keys_note, event_summary
from trailtui.core.text import printable
from trailtui.tui.clipboard import too_large_message

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

# Plain Rich styles (Text styles cannot use Textual theme variables).
KEY_STYLE = "bold #7aa2f7"
INDEX_STYLE = "#7aa2f7"
STRING_STYLE = "#9ece6a"
NUMBER_STYLE = "#bb9af7"
BOOL_STYLE = "italic #bb9af7"
NULL_STYLE = "dim italic"
PUNCT_STYLE = "dim"
ESCAPE_STYLE = "bold #f7768e"
ERROR_STYLE = "bold #f7768e"
HINT_STYLE = "dim italic"
SUMMARY_STYLE = "#e0af68"
NOTE_STYLE = "italic #e0af68"

HINT = "select an event"

JsonPath = tuple["str | int", ...]


class JsonData(NamedTuple):
    """A node's ``data``: its JSON path from the event root (keys and array indices, ``()`` for
    the root) and the parsed Python value there (dict, list, str, int, float, bool or None)."""

    path: JsonPath
    value: object


# ---------------------------------------------------------------------------------- labels


def _append_escaped(label: Text, text: str, style: str) -> None:
    """Append ``text`` through :func:`printable`, cut at :data:`MAX_SHOWN_CHARS`; the visible
    escapes get :data:`ESCAPE_STYLE` so a real ESC differs from a typed ``\\x1b``."""
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
            label.append(visible, ESCAPE_STYLE)
        if run:
            label.append("".join(run), style)
    if len(text) > MAX_SHOWN_CHARS:
        label.append("…", PUNCT_STYLE)


def _cut_note(label: Text, text: str) -> None:
    if len(text) > MAX_SHOWN_CHARS:
        label.append(f" ({len(text):,} chars)", PUNCT_STYLE)


def key_text(key: str | int) -> Text:
    """A key as shown: object keys escaped in :data:`KEY_STYLE`, array indices as ``[i]``."""
    label = Text()
    if isinstance(key, int):
        label.append(f"[{key}]", INDEX_STYLE)
    else:
        _append_escaped(label, key, KEY_STYLE)
        _cut_note(label, key)
    return label


def value_text(value: object) -> Text:
    """A scalar (or empty container) as JSON: strings quoted and escaped, ``true``/``null``."""
    label = Text()
    if isinstance(value, str):
        label.append('"', STRING_STYLE)
        _append_escaped(label, value, STRING_STYLE)
        label.append('"', STRING_STYLE)
        _cut_note(label, value)
    elif value is None:
        label.append("null", NULL_STYLE)
    elif isinstance(value, bool):
        label.append("true" if value else "false", BOOL_STYLE)
    elif isinstance(value, (int, float)):
        # orjson's spelling (1e+29 -> 1e29) is the JSON one; Python's str() is not.
        label.append(orjson.dumps(value).decode(), NUMBER_STYLE)
    elif isinstance(value, dict):
        label.append("{}", PUNCT_STYLE)
    elif isinstance(value, list):
        label.append("[]", PUNCT_STYLE)
    else:  # not produced by orjson.loads; shown escaped all the same
        label.append(printable(value))
    return label


def node_label(key: str | int | None, value: object) -> Text:
    """The label of one node: ``key {N}`` / ``key [N]`` for a non-empty container, else
    ``key: value``. ``key`` is ``None`` for a bare top-level scalar."""
    if isinstance(value, (dict, list)) and value:
        count = f"{{{len(value)}}}" if isinstance(value, dict) else f"[{len(value)}]"
        label = key_text(key) if key is not None else Text()
        label.append(f" {count}" if key is not None else count, PUNCT_STYLE)
        return label
    if key is None:
        return value_text(value)
    return Text.assemble(key_text(key), (": ", PUNCT_STYLE), value_text(value))


def _too_deep_label(key: str | int, value: object) -> Text:
    """``key: <compact JSON>`` for a container below :data:`MAX_TREE_DEPTH`."""
    label = Text.assemble(key_text(key), (": ", PUNCT_STYLE))
    try:
        compact = orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:  # orjson writes at most 255 levels
        label.append("… nested too deep to show (y copies the whole event)", ERROR_STYLE)
        return label
    _append_escaped(label, compact, "")
    _cut_note(label, compact)
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
    copy through :meth:`textual.app.App.copy_to_clipboard` (OSC 52, works over SSH; trailtui's
    app routes it through :mod:`trailtui.tui.clipboard`, which wraps it for tmux), refusing text
    over the clipboard module's size cap with a notice. The pane's border title carries the S3
    user guide's level of an S3 call or the vault of a Glacier call, and a DeleteObjects event
    gets a first line noting that CloudTrail does not log the deleted keys (:mod:`trailtui.core.s3`).
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Toggle", show=False, id="detail.select"),
        Binding("space", "toggle_node", "Toggle", show=False, id="detail.toggle"),
        Binding("down,j", "cursor_down", "Down", show=False, id="detail.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="detail.up"),
        Binding("right,l", "expand_node", "Expand", show=False, id="detail.expand"),
        Binding("left,h", "collapse_node", "Collapse / parent", show=False, id="detail.collapse"),
        Binding("e", "expand_all", "Expand all", id="detail.expand_all"),
        Binding("E", "collapse_all", "Collapse all", id="detail.collapse_all"),
        Binding("c", "copy_value", "Copy value", id="detail.copy_value"),
        Binding("y", "copy_event", "Copy event", id="detail.copy_event"),
    ]

    DEFAULT_CSS = """
    EventDetail {
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    """

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

    def process_label(self, label: str | Text) -> Text:
        """Labels given as ``str`` are plain text, escaped, never Rich markup."""
        if isinstance(label, str):
            label = Text(printable(label))
        return super().process_label(label)

    # ------------------------------------------------------------------------ content

    def show_event(self, original: bytes | None, *, title: str = "") -> None:
        """Show the event whose exact bytes are ``original`` (``None``/empty: the hint).

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
        self._original = original or None
        root = self.root
        if not original:
            self._show_summary(None)
            root.set_label(Text(HINT, HINT_STYLE))
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
            label = Text.assemble(("not valid JSON: ", ERROR_STYLE))
            _append_escaped(label, raw, "")
            _cut_note(label, raw)
            label.append(f"  ({printable(error)})", PUNCT_STYLE)
            root.add_leaf(label, JsonData((), raw))
            root.expand()
            self._place_cursor(root)
            return

        if isinstance(event, (dict, list)) and event:
            count = f" {{{len(event)}}}" if isinstance(event, dict) else f" [{len(event)}]"
            title_text.append(count, PUNCT_STYLE)
        self._show_summary(event_summary(event))  # S3 user guide level, or the Glacier vault
        root.set_label(title_text)
        root.data = JsonData((), event)
        self._nodes_by_path[()] = root
        note = deleted_keys_note(event)
        if note:
            root.add_leaf(Text.assemble(("note: ", NOTE_STYLE), (note, NOTE_STYLE)), None)
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
            _append_escaped(title, summary, SUMMARY_STYLE)
        self.border_title = title

    def _build_nodes(self, root: TreeNode[JsonData], event: object) -> None:
        """Add every node below ``root``, choosing which containers start open.

        First-level containers open unless noisy (:data:`NOISY_KEYS`) or large (more than
        :data:`LARGE_CONTAINER_LEAVES` leaves), :data:`ALWAYS_OPEN_KEYS` always; a small open
        one is opened all the way down (userIdentity.sessionContext, resources[0]). Iterative:
        JSON may nest deeper than Python's recursion limit.
        """
        if not isinstance(event, (dict, list)):
            root.add_leaf(node_label(None, event), JsonData((), event))
            return
        # (parent node, its path, its value, whether its containers open)
        stack: list[tuple[TreeNode[JsonData], JsonPath, object, bool]] = []
        for key, value in _children(event):
            path: JsonPath = (key,)
            if isinstance(value, (dict, list)) and value:
                leaves = _leaf_count(value)
                small = leaves <= LARGE_CONTAINER_LEAVES
                is_open = key in ALWAYS_OPEN_KEYS or (small and key not in NOISY_KEYS)
                node = root.add(node_label(key, value), JsonData(path, value), expand=is_open)
                stack.append((node, path, value, is_open and small))
            else:
                node = root.add_leaf(node_label(key, value), JsonData(path, value))
            self._nodes_by_path[path] = node
        while stack:
            parent, parent_path, parent_value, whole = stack.pop()
            for key, value in _children(parent_value):
                path = (*parent_path, key)
                if isinstance(value, (dict, list)) and value and len(path) >= MAX_TREE_DEPTH:
                    node = parent.add_leaf(_too_deep_label(key, value), JsonData(path, value))
                elif isinstance(value, (dict, list)) and value:
                    node = parent.add(node_label(key, value), JsonData(path, value), expand=whole)
                    stack.append((node, path, value, whole))
                else:
                    node = parent.add_leaf(node_label(key, value), JsonData(path, value))
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

        Tree keeps the old cursor node's line number across rebuilds; reading ``_tree_lines``
        first renumbers the lines so ``node.line`` is current.
        """
        self._tree_lines  # noqa: B018 - rebuilds the line list (and every node's line)
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

    def action_copy_value(self) -> None:
        node = self.cursor_node
        try:
            text = self.selected_value_text()
        except orjson.JSONEncodeError as error:
            self.notify(f"Cannot copy: {printable(error)}", severity="error", markup=False)
            return
        if text is None or node is None:
            self.notify("Nothing to copy: select a value first.", severity="warning", markup=False)
            return
        data = node.data
        where = path_text(data.path) if isinstance(data, JsonData) else "value"
        if isinstance(data, JsonData) and isinstance(data.value, (dict, list)):
            what = f"{where} as JSON"
        else:
            what = where
        refused = too_large_message(text, what)  # OSC 52 size cap (trailtui.tui.clipboard)
        if refused:
            self.notify(refused, severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(text)
        # markup=False: the path is made of the event's (attacker-chosen) keys.
        self.notify(f"Copied {what} ({len(text):,} characters)", markup=False)

    def action_copy_event(self) -> None:
        text = self.event_text()
        if text is None or self._original is None:
            self.notify("No event to copy.", severity="warning", markup=False)
            return
        refused = too_large_message(text, "the whole event")  # OSC 52 size cap (trailtui.tui.clipboard)
        if refused:
            self.notify(refused, severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the whole event ({len(self._original):,} bytes)", markup=False)
