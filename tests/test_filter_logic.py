"""OR, AND, NOT and parentheses against an independent evaluation over real events.

The corpus is Stratus Red Team's detonation logs (``../shared/corpus``: 310 events, each eventID
once). Each atom is a filter term beside a predicate on the raw JSON written here from CloudTrail's
field names, not from trailtui. Hypothesis draws trees of atoms; the test writes each tree as text
with its own renderer (``OR``/``or``, a space, ``AND`` or ``and``, ``NOT`` or ``-``, redundant
parentheses, all at random), so the parser is checked independently of ``terms.write``; the
expected eventIDs come from set algebra over the predicates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS
from trailtui.core.filter import compile_filter

STRATUS = CORPUS / "stratus-red-team-detonation-logs"


def _get(event: dict, *path: str):
    for key in path:
        event = event.get(key) if isinstance(event, dict) else None
    return event


def _text(value) -> str:
    return value.lower() if isinstance(value, str) else ""


#: (filter term, predicate on the raw event). Values compare case-insensitively, as the grammar says.
ATOMS: list[tuple[str, object]] = [
    ("name:GetPasswordData", lambda e: _text(e.get("eventName")) == "getpassworddata"),
    ("name:Describe*", lambda e: _text(e.get("eventName")).startswith("describe")),
    ("source:ssm", lambda e: _text(e.get("eventSource")) == "ssm.amazonaws.com"),
    ("source:ec2", lambda e: _text(e.get("eventSource")) == "ec2.amazonaws.com"),
    ("type:AssumedRole", lambda e: _text(_get(e, "userIdentity", "type")) == "assumedrole"),
    ("is:error", lambda e: bool(e.get("errorCode"))),
    ("error:Client.UnauthorizedOperation", lambda e: _text(e.get("errorCode")) == "client.unauthorizedoperation"),
    ("ip:18.236.253.47", lambda e: e.get("sourceIPAddress") == "18.236.253.47"),
    ("region:us-north-2r", lambda e: _text(e.get("awsRegion")) == "us-north-2r"),
    ("readonly:true", lambda e: e.get("readOnly") is True),
    ("requestParameters.instanceId:*", lambda e: bool(_get(e, "requestParameters", "instanceId"))),
    # Regular expressions (RE2 in trailtui, Python's re here: the same on these patterns).
    ('name~"^Describe(Instances|InstanceAttribute)$"',
     lambda e: bool(re.search(r"^Describe(Instances|InstanceAttribute)$", e.get("eventName") or ""))),
    ('arn~"assumed-role/[^/]+/"', lambda e: bool(re.search(r"assumed-role/[^/]+/", _get(e, "userIdentity", "arn") or ""))),
    (r"ip~^18\.", lambda e: bool(re.search(r"^18\.", e.get("sourceIPAddress") or ""))),
]


@dataclass(frozen=True)
class Tree:
    """A drawn filter: ``kind`` "atom" (``atom`` index), "not", "and" or "or" (``children``)."""

    kind: str
    atom: int = 0
    children: tuple = ()


atoms = st.integers(0, len(ATOMS) - 1).map(lambda n: Tree("atom", n))
trees = st.recursive(
    atoms,
    lambda kids: kids.map(lambda k: Tree("not", children=(k,)))
    | st.lists(kids, min_size=2, max_size=3).map(lambda c: Tree("and", children=tuple(c)))
    | st.lists(kids, min_size=2, max_size=3).map(lambda c: Tree("or", children=tuple(c))),
    max_leaves=7,
)


def render(tree: Tree, draw) -> str:
    """The tree as filter text, spelled at random; parenthesised wherever precedence needs it
    (and sometimes where it does not)."""
    def wrapped(child: Tree, needs: bool) -> str:
        text = render(child, draw)
        return f"({text})" if needs or draw(st.booleans()) else text

    if tree.kind == "atom":
        return ATOMS[tree.atom][0]
    if tree.kind == "not":
        child = tree.children[0]
        if draw(st.booleans()):
            return "NOT " + wrapped(child, child.kind in ("and", "or"))
        return "-(" + render(child, draw) + ")" if child.kind != "atom" or draw(st.booleans()) else "-" + render(child, draw)
    if tree.kind == "and":
        joiner = draw(st.sampled_from([" ", " AND ", " and "]))
        return joiner.join(wrapped(child, child.kind == "or") for child in tree.children)
    joiner = draw(st.sampled_from([" OR ", " or "]))
    return joiner.join(wrapped(child, False) for child in tree.children)


def expected(tree: Tree, sets: list[set[str]], every: set[str]) -> set[str]:
    if tree.kind == "atom":
        return sets[tree.atom]
    if tree.kind == "not":
        return every - expected(tree.children[0], sets, every)
    parts = [expected(child, sets, every) for child in tree.children]
    result = set(parts[0])
    for part in parts[1:]:
        result = result & part if tree.kind == "and" else result | part
    return result


@pytest.fixture(scope="module")
def stratus(tmp_path_factory):
    if not STRATUS.is_dir():
        pytest.skip(f"Stratus Red Team corpus not found at {STRATUS} (it lives in ../shared, outside the repo)")
    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    events = []
    for path in sorted(STRATUS.rglob("*.json")):
        loaded = json.loads(Path(path).read_text())
        events += loaded if isinstance(loaded, list) else loaded.get("Records", [])
    conn = connect(tmp_path_factory.mktemp("stratus") / "index.sqlite")
    index_paths(conn, [str(STRATUS)], workers=0)
    every = {event["eventID"] for event in events}
    assert len(every) == len(events) == conn.execute("SELECT count(*) FROM events").fetchone()[0]
    sets = [{event["eventID"] for event in events if predicate(event)} for _, predicate in ATOMS]
    yield conn, sets, every
    conn.close()


def _matching(conn, text: str) -> set[str]:
    compiled = compile_filter(text)
    return {row[0] for row in conn.execute(f'SELECT "eventID" FROM events WHERE {compiled.where}', compiled.params)}


def test_each_atom_matches_what_its_predicate_says(stratus) -> None:
    conn, sets, every = stratus
    for (text, _), wanted in zip(ATOMS, sets):
        assert 0 < len(wanted) < len(every), text  # every atom splits the corpus
        assert _matching(conn, text) == wanted, text


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_drawn_filter_matches_the_set_algebra_of_its_atoms(stratus, data) -> None:
    conn, sets, every = stratus
    tree = data.draw(trees)
    text = render(tree, data.draw)
    assert _matching(conn, text) == expected(tree, sets, every), text


@pytest.mark.parametrize(("text", "meaning"), [
    ("source:ssm is:error OR type:AssumedRole", lambda a, every: (a("source:ssm") & a("is:error")) | a("type:AssumedRole")),
    ("source:ssm OR is:error type:AssumedRole", lambda a, every: a("source:ssm") | (a("is:error") & a("type:AssumedRole"))),
    ("NOT source:ssm is:error", lambda a, every: (every - a("source:ssm")) & a("is:error")),
    ("-(source:ssm OR is:error) readonly:true", lambda a, every: (every - (a("source:ssm") | a("is:error"))) & a("readonly:true")),
    ("source:ssm and is:error or type:AssumedRole and readonly:true",
     lambda a, every: (a("source:ssm") & a("is:error")) | (a("type:AssumedRole") & a("readonly:true"))),
])
def test_precedence_on_real_events(stratus, text: str, meaning) -> None:
    conn, sets, every = stratus
    by_text = {atom: wanted for (atom, _), wanted in zip(ATOMS, sets)}
    wanted = meaning(by_text.__getitem__, every)
    assert wanted  # not trivially empty
    assert _matching(conn, text) == wanted
