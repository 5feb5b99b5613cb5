"""Writing filters back as text: ``parse(write(tree)) == tree`` for any tree the grammar can
hold (hypothesis draws them), texts ANDed keep an OR to itself, and an OR of indexed terms is
answered from the indexes (SQLite's query plan), not by reading every event.
"""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trailtui.core.filter import FIELDS, compile_filter
from trailtui.core.filter.nodes import Not, _Term, _Value, and_, or_
from trailtui.core.filter.terms import parse, write

#: Chunks of values: any text (controls, quotes, backslashes, stars, spaces, parentheses, commas)
#: except unpaired surrogates, which the grammar refuses.
chunks = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
values = st.lists(chunks, min_size=1, max_size=3).map(tuple).filter(lambda c: c != ("",)).map(lambda c: _Value(c))
# JSON paths (a segment may hold '-', but a name starting with it reads as a negation).
field_names = st.sampled_from(sorted(FIELDS)) | st.lists(
    st.from_regex(r"[A-Za-z0-9_@$][A-Za-z0-9_@$-]{0,5}", fullmatch=True), min_size=2, max_size=3).map(".".join)
# A pattern may hold anything but cannot end in a backslash (RE2 refuses that anyway).
patterns = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).filter(lambda p: not p.endswith("\\"))
terms = st.builds(lambda negated, value: _Term(negated, None, 0, (value,)), st.booleans(), values) | st.builds(
    lambda negated, name, vals: _Term(negated, name, 0, tuple(vals)), st.booleans(), field_names,
    st.lists(values, min_size=1, max_size=3)) | st.builds(
    lambda negated, name, pattern: _Term(negated, name, 0, (_Value((pattern,), regex=True),)), st.booleans(),
    field_names, patterns)
trees = st.recursive(
    terms,
    lambda kids: kids.filter(lambda n: not isinstance(n, _Term)).map(Not)
    | st.lists(kids, min_size=2, max_size=4).map(and_)
    | st.lists(kids, min_size=2, max_size=4).map(or_),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(trees)
def test_a_tree_written_as_text_parses_back_to_itself(tree) -> None:
    text = write(tree)
    assert parse(text) == tree, text


@settings(max_examples=200, deadline=None)
@given(trees)
def test_a_written_tree_compiles_and_runs(tree) -> None:
    from trailtui.core.filter import FilterError

    conn = sqlite3.connect(":memory:")
    try:
        compiled = compile_filter(write(tree))
    except FilterError as err:  # a value its field refuses (is:x, a bad CIDR): named, with a position
        assert "position" in str(err)
        return
    assert compiled.where.count("?") == len(compiled.params)
    conn.close()


def test_values_are_quoted_only_when_they_must_be() -> None:
    assert write(parse("name:Get* ip:10.0.0.0/8 actor:arn:aws:iam::1:user/a")) == \
        "name:Get* ip:10.0.0.0/8 actor:arn:aws:iam::1:user/a"
    assert write(parse('bucket:"a b",c "x:y" "-z" "or" ua:"Mozilla(X11)" k:"a\\*b*"')) == \
        'bucket:"a b",c "x:y" "-z" "or" ua:"Mozilla(X11)" k:"a\\*b*"'
    assert write(parse('arn~role/.*-admin$ ua~"say \\"hi\\" \\d+"')) == 'arn~"role/.*-admin$" ua~"say \\"hi\\" \\d+"'


# --------------------------------------------------------------------------- index use


def _plan(conn: sqlite3.Connection, text: str) -> list[str]:
    compiled = compile_filter(text)
    rows = conn.execute(f"EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE {compiled.where}", compiled.params)
    return [row[3] for row in rows]


def test_an_or_of_indexed_terms_reads_the_indexes(tmp_path) -> None:
    """On the real corpus (the planner's statistics need real data: on a few thousand uniform
    events any plan is cheap), an OR of terms that have an index is answered by SQLite's OR
    optimisation, each arm from its own index."""
    from tests.conftest import CORPUS
    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    if not CORPUS.is_dir():
        pytest.skip(f"real CloudTrail corpus not found at {CORPUS} (it lives in ../shared, outside the repo)")
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [str(CORPUS)])
    indexed = ["ip:203.0.113.9", "bucket:prod-data", "actor:bob", "is:root", "bob", "ip:10.0.0.0/8",
               "since:2030-01-01", "name:Get*", "error:AccessDenied", "is:crossaccount"]
    for other in indexed:
        for text in (f"name:ConsoleLogin OR {other}", f"(name:ConsoleLogin ip:1.2.3.4) OR ({other} is:read)"):
            plan = _plan(conn, text)
            # "SCAN events" alone reads every event; the FTS table's "SCAN events_fts ... INDEX" is its index.
            assert not any(line == "SCAN events" or line.startswith("SCAN events ") and "INDEX" not in line
                           for line in plan), (text, plan)
            assert any("MULTI-INDEX OR" in line for line in plan), (text, plan)
    conn.close()


def _indexed(tmp_path, events: list[dict]):
    """``events`` indexed in one file: the connection, and a function giving the eventIDs a
    filter selects."""
    from tests.conftest import write_records
    from trailtui.core.loader import index_paths
    from trailtui.core.store.index import connect

    write_records(tmp_path / "logs" / "a.json", events)
    conn = connect(tmp_path / "index.sqlite")
    index_paths(conn, [str(tmp_path / "logs")], workers=0)

    def ids(text: str) -> set[str]:
        compiled = compile_filter(text)
        return {row[0] for row in conn.execute(f'SELECT "eventID" FROM events WHERE {compiled.where}', compiled.params)}

    return conn, ids


def test_same_compares_two_fields_of_each_event(tmp_path) -> None:
    """``same:FIELD,OTHER`` (Sigma's fieldref): alice changing her own login profile, ALICE (any
    case), alice changing bob's, and a call without a target user."""
    from tests.conftest import alice, make_event

    events = [
        make_event("own", "UpdateLoginProfile", requestParameters={"userName": "alice"}),
        make_event("own-case", "UpdateLoginProfile", requestParameters={"userName": "ALICE"}),
        make_event("other", "UpdateLoginProfile", requestParameters={"userName": "bob"}),
        make_event("none", "GetObject"),  # requestParameters without userName
    ]
    assert alice()["userName"] == "alice"
    conn, ids = _indexed(tmp_path, events)

    assert ids("same:user,requestParameters.userName") == {"own", "own-case"}
    assert ids("same:userIdentity.userName,requestParameters.userName") == {"own", "own-case"}
    assert ids("-same:user,requestParameters.userName") == {"other", "none"}
    assert ids("same:account,recipient") == {"own", "own-case", "other", "none"}
    assert ids("name:UpdateLoginProfile -same:user,requestParameters.userName") == {"other"}
    conn.close()


def test_same_account_and_recipient_is_sigmas_fieldref_for_every_kind_of_caller(tmp_path) -> None:
    """``same:userIdentity.accountId,recipientAccountId`` is read from the stored cross-account
    flag for named accounts: the answer must be the plain comparison's (equal text, case aside;
    no match when either is missing or empty) for every shape, the anonymous forms too."""
    from tests.conftest import make_event

    def caller(account):
        identity = {"type": "AWSAccount", "principalId": "AIDAEXAMPLE"}
        return identity if account is None else {**identity, "accountId": account}

    accounts = [None, "", "111122223333", "444455556666", "ANONYMOUS_PRINCIPAL", "anonymous", "Anonymous", "abc", "ABC"]
    recipients = [None, "", "111122223333", "ANONYMOUS_PRINCIPAL", "anonymous", "abc"]
    events, expected = [], set()
    for a, account in enumerate(accounts):
        for r, recipient in enumerate(recipients):
            event_id = f"a{a}-r{r}"
            events.append(make_event(event_id, "GetObject", userIdentity=caller(account), recipientAccountId=recipient))
            # Empty text is indexed as a missing field (extract._text).
            if account and recipient and account.lower() == recipient.lower():
                expected.add(event_id)
    conn, ids = _indexed(tmp_path, events)

    everything = {event["eventID"] for event in events}
    assert ids("same:userIdentity.accountId,recipientAccountId") == expected
    assert ids("same:recipient,account") == expected
    assert ids("-same:account,recipient") == everything - expected
    conn.close()
