"""Filter text to terms: the scanner, quoting and wildcards, negation, values, and the errors
that name the position."""

from __future__ import annotations

import re

from trailtui.core.text import printable
from trailtui.core.filter.fields import _shown
from trailtui.core.filter.nodes import FilterError, MAX_FILTER_LENGTH, _Term, _Value


_SPACE = re.compile(r"\s*")
_WORD = re.compile(r'[^\s:"]*')  # a bare word or a field name: up to space, ':' or '"'
_UNQUOTED_VALUE = re.compile(r'[^\s,"]*')  # colons are fine in values (ARNs, IPv6)


class _Scanner:
    """The filter text and the current offset in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_break(self) -> bool:
        """At the end of the text or at whitespace: where a term ends."""
        char = self.peek()
        return not char or char.isspace()

    def take(self, pattern: re.Pattern) -> str:
        match = pattern.match(self.text, self.pos)
        self.pos = match.end()
        return match.group()


def _parse(text: str) -> list[_Term]:
    """Split the filter into terms. Raises FilterError on a syntax error."""
    scan = _Scanner(text)
    terms: list[_Term] = []
    ends: list[int] = []
    while True:
        scan.take(_SPACE)
        if scan.pos >= len(text):
            break
        terms.append(_parse_term(scan))
        ends.append(scan.pos)
    for number, term in enumerate(terms):
        if term.field is None and text[term.field_position] != '"':  # a bare word, not a quoted one
            _refuse_operator(text, terms, ends, number)
    return terms


#: Bare words that mean OR to users of other query languages (Splunk, Lucene, shells).
_OR_WORDS = frozenset(("OR", "||", "|"))
_OR_EXAMPLE = "name:GetObject,PutObject"


def _refuse_operator(text: str, terms: list[_Term], ends: list[int], number: int) -> None:
    """Raise FilterError for a bare ``OR``/``|``/``||`` (not supported until the grammar has OR)
    or ``AND`` (terms are ANDed already) at term ``number``. Lowercase words are text to find."""
    term = terms[number]
    word = term.values[0].literal if not term.values[0].wild else ""
    if word == "AND":
        message = 'terms are already ANDed: leave AND out (to find the word, quote it: "AND")'
        raise FilterError(term.field_position, message, message)
    if word not in _OR_WORDS:
        return
    example = _OR_EXAMPLE
    if 0 < number < len(terms) - 1:
        before, after = terms[number - 1], terms[number + 1]
        if (
            before.field is not None and after.field is not None and before.field.lower() == after.field.lower()
            and not before.negated and not after.negated
        ):
            # name:GetObject OR name:PutObject -> name:GetObject,PutObject
            merged = (
                f"{before.field}:{text[before.values[0].position:ends[number - 1]]},"
                f"{text[after.values[0].position:ends[number + 1]]}"
            )
            if len(merged) <= 80:
                example = printable(merged)
    shown = "OR" if word == "OR" else f"'{word}' (OR)"
    hint = ' (to find the word, quote it: "OR")' if word == "OR" else ""
    message = f"{shown} is not supported yet: for either value of one field write {example}{hint}"
    raise FilterError(term.field_position, message, message)


def _parse_term(scan: _Scanner) -> _Term:
    """``[-]"phrase"``, ``[-]word`` or ``[-]field:value[,value...]``."""
    negated = scan.peek() == "-"
    if negated:
        scan.pos += 1
        if scan.at_break():
            raise FilterError(scan.pos, "a term after '-'")
    start = scan.pos
    if scan.peek() == '"':
        phrase = _read_quoted(scan, "a word or phrase inside the quotes")
        if not scan.at_break():
            raise FilterError(scan.pos, "a space after the closing quote")
        return _Term(negated, None, start, (phrase,))
    word = scan.take(_WORD)
    if scan.peek() == ":":
        if not word:
            raise FilterError(scan.pos, "a field name before ':'")
        scan.pos += 1
        return _Term(negated, word, start, _read_values(scan, word))
    if scan.peek() == '"':
        raise FilterError(scan.pos, "a space before the quote (a quote starts a word or a value)")
    return _Term(negated, None, start, (_Value(tuple(word.split("*")), start),))


def _read_values(scan: _Scanner, field: str) -> tuple[_Value, ...]:
    """The comma-separated values after ``field:``, each quoted or not."""
    values: list[_Value] = []
    while True:
        if scan.at_break() or scan.peek() == ",":
            after = f"'{_shown(field)}:'" if not values else "','"
            raise FilterError(scan.pos, f"a value after {after}")
        if scan.peek() == '"':
            values.append(_read_quoted(scan, "a value inside the quotes"))
            if not scan.at_break() and scan.peek() != ",":
                raise FilterError(scan.pos, "',' or a space after the closing quote")
        else:
            start = scan.pos
            raw = scan.take(_UNQUOTED_VALUE)
            if scan.peek() == '"':
                raise FilterError(scan.pos, "',' or a space before the quote (or quote the whole value)")
            values.append(_Value(tuple(raw.split("*")), start))
        if scan.peek() != ",":
            return tuple(values)
        scan.pos += 1


def _read_quoted(scan: _Scanner, expected_inside: str) -> _Value:
    """A ``"..."`` value at the scanner: ``\\"``, ``\\\\`` and ``\\*`` are escapes, ``*`` a
    wildcard; any other backslash is literal (Windows paths, regexes in user agents)."""
    text, open_at = scan.text, scan.pos
    scan.pos += 1
    chunks: list[str] = []
    current: list[str] = []
    while scan.pos < len(text):
        char = text[scan.pos]
        scan.pos += 1
        if char == '"':
            chunks.append("".join(current))
            if chunks == [""]:
                raise FilterError(open_at, expected_inside)
            return _Value(tuple(chunks), open_at)
        if char == "\\" and scan.pos < len(text) and text[scan.pos] in '"\\*':
            current.append(text[scan.pos])
            scan.pos += 1
        elif char == "*":
            chunks.append("".join(current))
            current = []
        else:
            current.append(char)
    raise FilterError(open_at, "a closing '\"' for the quote opened here")


def _check_text(text: str) -> None:
    """Refuse text SQLite could not bind or run (see :data:`MAX_FILTER_LENGTH`)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(MAX_FILTER_LENGTH, f"a filter of at most {MAX_FILTER_LENGTH} characters")
    surrogate = re.search("[\ud800-\udfff]", text)
    if surrogate:
        raise FilterError(surrogate.start(), "text without unpaired surrogate characters")
