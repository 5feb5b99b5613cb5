"""The pieces a filter is parsed into: values (wildcard chunks) and terms, the error a filter
that does not parse raises, and the length limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# Longer filters are refused: this bounds the number of bound parameters (SQLite allows 32766),
# the size of each LIKE pattern (SQLite allows 50,000 bytes) and the work of one keystroke.
MAX_FILTER_LENGTH = 10_000


class FilterError(ValueError):
    """A filter that does not parse or whose value is not valid for its field.

    ``position`` is the 0-based character offset in the filter text where the problem is (the
    UI puts a caret there); ``expected`` says what should have been there. ``str(err)`` reads
    ``"position 5: expected a value after 'name:'"`` (or, for an unknown field,
    ``"position 0: unknown field 'nmae' (did you mean 'name'?)"``).
    """

    def __init__(self, position: int, expected: str, message: str | None = None) -> None:
        self.position = position
        self.expected = expected
        super().__init__(f"position {position}: {message or 'expected ' + expected}")


@dataclass(frozen=True)
class _Value:
    """One value as typed. ``chunks`` are the literal pieces between ``*`` wildcards, so a value
    without wildcards has one chunk and ``*`` alone is ``("", "")``. ``position`` is where the
    value starts in the filter text."""

    chunks: tuple[str, ...]
    position: int = field(default=-1, compare=False)  # where it was typed: not part of its meaning
    #: ``field~pattern``: ``chunks`` is the one pattern (RE2 syntax), and ``*`` is the regex's own.
    regex: bool = False

    @property
    def wild(self) -> bool:
        return len(self.chunks) > 1 and not self.regex

    @property
    def anything(self) -> bool:
        """``*`` (or ``**``...): any non-empty value."""
        return self.wild and not any(self.chunks)

    @property
    def literal(self) -> str:
        """The value without wildcards (only meaningful when not :attr:`wild`)."""
        return self.chunks[0]


@dataclass(frozen=True)
class _Term:
    """One whitespace-separated term. ``field`` is None for free text (one value)."""

    negated: bool
    field: str | None
    field_position: int = field(compare=False)
    values: tuple[_Value, ...]


#: Groups and NOTs nest at most this deep: bounds Python's recursion and SQLite's expression
#: depth (1000) for the longest filter.
MAX_NESTING = 32


@dataclass(frozen=True)
class Not:
    """``NOT group`` or ``-(...)``: the child does not hold (a missing field counts as not holding).
    A negated single term is a :class:`_Term` with ``negated`` set instead."""

    child: Node


@dataclass(frozen=True)
class And:
    """Every child holds (terms side by side, or joined by ``AND``); two or more children, none an And."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child holds (``OR``); two or more children, none an Or."""

    children: tuple[Node, ...]


Node = Union[_Term, Not, And, Or]


def and_(nodes: list[Node]) -> Node:
    """The And of ``nodes`` (one or more), nested Ands flattened; a single node as it is."""
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.children if isinstance(node, And) else (node,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(nodes: list[Node]) -> Node:
    """The Or of ``nodes`` (one or more), nested Ors flattened; a single node as it is."""
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.children if isinstance(node, Or) else (node,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def negate(node: Node) -> Node:
    """``NOT node``: a single term is negated in place (``-term``), anything else wrapped."""
    if isinstance(node, _Term):
        return _Term(not node.negated, node.field, node.field_position, node.values)
    return Not(node)
