"""The pieces a filter is parsed into: values (wildcard chunks) and terms, the error a filter
that does not parse raises, and the length limit."""

from __future__ import annotations

from dataclasses import dataclass




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
    position: int

    @property
    def wild(self) -> bool:
        return len(self.chunks) > 1

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
    field_position: int
    values: tuple[_Value, ...]
