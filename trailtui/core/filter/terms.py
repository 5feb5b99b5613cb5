"""Filters written as text: the one place that quotes values and puts texts together.

- :func:`quote_value` / :func:`field_term`: a value (any text from a log) as a term that selects
  exactly it: what drill-downs, pivots, presets and ``--since`` write.
- :func:`write` / :func:`parse`: a parsed tree back to text that parses to the same tree.
- :func:`and_text`: texts ANDed. Side by side, terms are ANDed, and AND binds tighter than OR:
  ``a OR b`` followed by ``since:X`` would read ``a OR (b since:X)``, so a text whose top level
  is an OR is put in parentheses first.
"""

from __future__ import annotations

from trailtui.core.filter.nodes import And, FilterError, Node, Not, Or, _Term, _Value
from trailtui.core.filter.parse import _parse
from trailtui.core.text import printable


def has_top_level_or(text: str) -> bool:
    """True when ``text`` has an OR outside any parentheses (False for a text that does not
    parse): ``a OR b`` yes, ``(a OR b)`` and ``(a OR b) c`` no."""
    try:
        if not isinstance(_parse(text), Or):
            return False
    except FilterError:
        return False
    stripped = text.strip()
    if stripped.startswith("(") and stripped.endswith(")"):
        try:
            _parse(stripped[1:-1])
            return False  # one group around it all: its OR is inside parentheses
        except FilterError:
            pass  # "(a) OR (b)": the first '(' closes before the end
    return True


def and_text(*texts: str) -> str:
    """``texts`` ANDed as one filter text: the non-blank ones, stripped, joined by spaces, each
    whose top level is an OR in parentheses (``and_text("a OR b", "since:X")`` is
    ``(a OR b) since:X``; a text alone is kept as typed). A text that does not parse is kept as written: compiling the result
    reports it with its position."""
    parts = [text.strip() for text in texts if text.strip()]
    if len(parts) < 2:
        return "".join(parts)  # nothing to AND it with: kept as typed
    return " ".join(f"({part})" if has_top_level_or(part) else part for part in parts)


# --------------------------------------------------------------------------- writing a tree back



#: Characters a value may hold and stay unquoted.
SAFE_VALUE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@+=-")
#: Bare words the parser reads as operators (or refuses): written quoted as free text.
_OPERATOR_WORDS = frozenset(("OR", "or", "AND", "and", "NOT", "not"))


def quote_value(value: str) -> str:
    """``value`` written as one value of the filter grammar (see :mod:`trailtui.core.filter`).

    Plain values (letters, digits, ``._:/@+=-``) stay bare; anything else is double-quoted with
    ``"``, ``\\`` and ``*`` escaped, so ``field:<result>`` matches exactly ``value`` (case
    aside). A character :func:`~trailtui.core.text.printable` would escape (control characters,
    bidi overrides: attacker text) becomes a ``*`` wildcard instead, so the filter bar never
    holds a terminal escape; such a term may then match a few more values than ``value``.
    An empty value gives ``""``, which the grammar refuses (a missing value is ``-field:*``,
    see :func:`trailtui.core.facets.value_term`).
    """
    if value and set(value) <= SAFE_VALUE_CHARS:
        return value
    parts = []
    for char in value:
        if char in '"\\*':
            parts.append("\\" + char)
        elif printable(char) != char:
            parts.append("*")
        else:
            parts.append(char)
    return '"' + "".join(parts) + '"'


def field_term(field: str, value: str) -> str:
    """The filter term ``field:value`` that selects exactly ``value`` (case aside), quoted as
    :func:`quote_value` does: what a drill-down, a pivot or ``--since`` adds to a filter."""
    return f"{field}:{quote_value(value)}"


def write_value(value: _Value, *, free_text: bool = False) -> str:
    """One value as the grammar reads it back: bare when every chunk is plain (letters, digits,
    ``._:/@+=-``), ``*`` between chunks; else double-quoted with ``"``, ``\\`` and a literal
    ``*`` escaped. ``free_text``: a bare word must also not look like a field (``:``), a
    negation (leading ``-``) or an operator. Raises ValueError for the empty value (``("",)``),
    which the grammar refuses."""
    chunks = value.chunks
    if chunks == ("",):
        raise ValueError("the grammar has no empty value")
    bare = "*".join(chunks)
    plain = all(set(chunk) <= SAFE_VALUE_CHARS for chunk in chunks)
    if free_text:
        plain = plain and ":" not in bare and not bare.startswith("-") and bare not in _OPERATOR_WORDS
    if plain:
        return bare
    return '"' + "*".join(chunk.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*") for chunk in chunks) + '"'


def write(node: Node) -> str:
    """``node`` (a parsed filter) as filter text that parses back to an equal tree: terms as
    :func:`write_value` writes their values, ANDs side by side, ORs with ``OR`` (an OR inside an
    AND in parentheses), ``-`` before a negated term and ``-( )`` around any other negation."""
    if isinstance(node, _Term):
        sign = "-" if node.negated else ""
        if node.field is None:
            return sign + write_value(node.values[0], free_text=True)
        if node.values[0].regex:
            return f'{sign}{node.field}~"' + node.values[0].chunks[0].replace('"', '\\"') + '"'
        return f"{sign}{node.field}:" + ",".join(write_value(value) for value in node.values)
    if isinstance(node, Not):
        return f"-({write(node.child)})"
    if isinstance(node, And):
        return " ".join(f"({write(child)})" if isinstance(child, Or) else write(child) for child in node.children)
    return " OR ".join(write(child) for child in node.children)


def parse(text: str) -> Node | None:
    """``text`` as a tree (None when empty); raises FilterError as :func:`compile_filter` would
    for a syntax error (field names and values are checked when compiling)."""
    return _parse(text)
