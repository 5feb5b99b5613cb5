"""Filter text to terms: the scanner, quoting and wildcards, negation, values, and the errors
that name the position."""

from __future__ import annotations

import re

from trailtui.core.filter.fields import _shown
from trailtui.core.filter.nodes import (
    MAX_FILTER_LENGTH,
    MAX_NESTING,
    FilterError,
    Node,
    Not,
    _Term,
    _Value,
    and_,
    negate,
    or_,
)


_SPACE = re.compile(r"\s*")
_WORD = re.compile(r'[^\s:"~]*')  # a bare word or a field name: up to space, ':', '~' or '"'
_UNQUOTED_VALUE = re.compile(r'[^\s,"]*')  # colons are fine in values (ARNs, IPv6)
# Inside parentheses a ')' also ends a word or an unquoted value (outside them it is a character).
_REGEX = re.compile(r'[^\s"]*')  # an unquoted pattern: up to a space (commas are the pattern's)
_IN_GROUP = {_WORD: re.compile(r'[^\s:"~)]*'), _UNQUOTED_VALUE: re.compile(r'[^\s,")]*'),
             _REGEX: re.compile(r'[^\s")]*')}


class _Scanner:
    """The filter text and the current offset in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0  # open parentheses: inside them a ')' ends a word or a value
        self.depth_total = 0  # groups and NOTs being read (see MAX_NESTING)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_break(self) -> bool:
        """At the end of the text or at whitespace: where a term ends."""
        char = self.peek()
        return not char or char.isspace() or (char == ")" and self.depth > 0)

    def take(self, pattern: re.Pattern) -> str:
        if self.depth and pattern in _IN_GROUP:
            pattern = _IN_GROUP[pattern]
        match = pattern.match(self.text, self.pos)
        self.pos = match.end()
        return match.group()


def _parse(text: str) -> Node | None:
    """The filter's tree (None for an empty filter). Raises FilterError on a syntax error.

    ``OR`` (or ``or``) binds loosest, then ``AND`` (or ``and``, or just whitespace), then ``NOT``
    and ``-``; parentheses group. Only bare, unquoted ``OR``/``or``/``AND``/``and``/``NOT`` are
    operators: ``"OR"`` is a word to find, and so is lowercase ``not`` (CloudTrail's messages
    say "is not authorized").
    """
    scan = _Scanner(text)
    node = _parse_or(scan)
    scan.take(_SPACE)
    if scan.pos < len(text):  # only a ')' stops the top level early
        raise FilterError(scan.pos, "no '(' before this ')' (to find the character, quote it: \")\")")
    return node


#: Bare words that mean OR elsewhere (shells, Lucene, Splunk): errors that say to write OR.
_PIPE_WORDS = frozenset(("||", "|"))
_KEYWORD = re.compile(r"(OR|or|AND|and|NOT)(?=[\s()]|\Z)")
_OPERATORS = {"OR": "OR", "or": "OR", "AND": "AND", "and": "AND", "NOT": "NOT"}


def _keyword(scan: _Scanner) -> str | None:
    """The operator at the scanner (``OR``, ``AND`` or ``NOT``, normalised), not consumed."""
    match = _KEYWORD.match(scan.text, scan.pos)
    return _OPERATORS[match.group(1)] if match else None


def _at_end(scan: _Scanner) -> bool:
    """At the end of the text, or of the group being read."""
    return scan.pos >= len(scan.text) or (scan.depth > 0 and scan.peek() == ")")


def _parse_or(scan: _Scanner) -> Node | None:
    parts = []
    while True:
        scan.take(_SPACE)
        at = scan.pos
        part = _parse_and(scan)
        if part is None:
            if parts:
                raise FilterError(at, "a term after OR")
            if _keyword(scan) == "OR":
                raise FilterError(scan.pos, 'a term before OR (to find the word, quote it: "OR")')
            return None
        parts.append(part)
        scan.take(_SPACE)
        if _keyword(scan) != "OR":
            return or_(parts)
        scan.pos += 2


def _parse_and(scan: _Scanner) -> Node | None:
    parts: list[Node] = []
    while True:
        scan.take(_SPACE)
        if _at_end(scan):
            break
        keyword = _keyword(scan)
        if keyword == "OR":
            break
        if keyword == "AND":
            if not parts:
                raise FilterError(scan.pos, 'a term before AND (to find the word, quote it: "AND")')
            scan.pos += 3
            scan.take(_SPACE)
            if _at_end(scan) or _keyword(scan) in ("OR", "AND"):
                raise FilterError(scan.pos, "a term after AND")
            continue
        parts.append(_parse_unary(scan))
    return and_(parts) if parts else None


def _parse_unary(scan: _Scanner) -> Node:
    start = scan.pos
    if _keyword(scan) == "NOT":
        scan.pos += 3
        scan.take(_SPACE)
        if _at_end(scan) or _keyword(scan) in ("OR", "AND"):
            raise FilterError(scan.pos, "a term or a group after NOT")
        with _nested(scan, start):
            return negate(_parse_unary(scan))
    if scan.peek() == "-" and _KEYWORD.match(scan.text, scan.pos + 1):
        raise FilterError(scan.pos + 1, "a term after '-' (to find the word, quote it: \"OR\")")
    if scan.text.startswith("-(", scan.pos):
        scan.pos += 1
        with _nested(scan, start):
            return Not(_parse_group(scan))
    if scan.peek() == "(":
        return _parse_group(scan)
    if scan.peek() == ")":
        raise FilterError(scan.pos, "no '(' before this ')' (to find the character, quote it: \")\")")
    if _NOT_GROUP.match(scan.text, scan.pos):
        raise FilterError(scan.pos, 'NOT or - before a group (to find the word, quote it: "not")')
    term = _parse_term(scan)
    if term.field is None and not term.values[0].wild and term.values[0].literal in _PIPE_WORDS:
        if scan.text[term.field_position] != '"':
            raise FilterError(term.field_position, f"'{term.values[0].literal}' is not an operator: write OR")
    return term


_NOT_GROUP = re.compile(r"not\s*\(")  # lowercase `not (`: meant as NOT, which a word would silently not do


class _nested:
    """Counts one level of nesting (a group or a NOT) while its body is read."""

    def __init__(self, scan: _Scanner, at: int) -> None:
        self.scan, self.at = scan, at

    def __enter__(self) -> None:
        self.scan.depth_total += 1
        if self.scan.depth_total > MAX_NESTING:
            raise FilterError(self.at, f"groups and NOTs nested at most {MAX_NESTING} deep")

    def __exit__(self, *exc) -> None:
        self.scan.depth_total -= 1


def _parse_group(scan: _Scanner) -> Node:
    """``( ... )`` at the scanner."""
    open_at = scan.pos
    scan.pos += 1
    with _nested(scan, open_at):
        scan.depth += 1
        scan.take(_SPACE)
        if scan.peek() == ")":
            raise FilterError(scan.pos, "a term inside the parentheses")
        node = _parse_or(scan)
        scan.take(_SPACE)
        if scan.peek() != ")":
            raise FilterError(open_at, "a closing ')' for the '(' opened here")
        scan.pos += 1
        scan.depth -= 1
    if not scan.at_break() and scan.peek() not in "()":
        raise FilterError(scan.pos, "a space after ')'")
    assert node is not None
    return node


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
    if scan.peek() == "~":
        if not word:
            raise FilterError(scan.pos, "a field name before '~' (to find the character, quote it: \"~\")")
        scan.pos += 1
        return _Term(negated, word, start, (_read_regex(scan, word),))
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


def _read_regex(scan: _Scanner, field: str) -> _Value:
    """The pattern after ``field~``: bare up to a space, or ``"..."`` in which ``\\"`` is a quote
    and every other backslash belongs to the pattern (``"\\d+ \\w"``)."""
    start = scan.pos
    if scan.peek() != '"':
        pattern = scan.take(_REGEX)
        if not pattern:
            raise FilterError(scan.pos, f"a regular expression after '{_shown(field)}~'")
        if scan.peek() == '"':
            raise FilterError(scan.pos, "a space before the quote (or quote the whole expression)")
        return _Value((pattern,), start, regex=True)
    text = scan.text
    scan.pos += 1
    pattern: list[str] = []
    while scan.pos < len(text):
        char = text[scan.pos]
        scan.pos += 1
        if char == '"':
            if not pattern:
                raise FilterError(start, "a regular expression inside the quotes")
            if not scan.at_break():
                raise FilterError(scan.pos, "a space after the closing quote")
            return _Value(("".join(pattern),), start, regex=True)
        if char == "\\" and scan.pos < len(text) and text[scan.pos] == '"':
            pattern.append('"')
            scan.pos += 1
        else:
            pattern.append(char)
    raise FilterError(start, "a closing '\"' for the quote opened here")


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
