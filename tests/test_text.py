"""Plural forms shown to users: "1 event", "2,048 events", never "1 events"."""

from __future__ import annotations

import pytest

from trailtui.core.text import plural


@pytest.mark.parametrize(
    ("count", "noun", "irregular", "expected"),
    [
        (1, "event", None, "1 event"),
        (0, "event", None, "0 events"),
        (2048, "event", None, "2,048 events"),
        (1, "source IP", None, "1 source IP"),
        (2, "source IP", None, "2 source IPs"),
        (3, "match", None, "3 matches"),
        (2, "address", None, "2 addresses"),
        (2, "entry", None, "2 entries"),
        (2, "key", None, "2 keys"),
        (-1, "duplicate", None, "-1 duplicate"),
        (5, "person", "people", "5 people"),
        (1, "person", "people", "1 person"),
    ],
)
def test_plural(count: int, noun: str, irregular: str | None, expected: str) -> None:
    assert plural(count, noun, irregular) == expected
