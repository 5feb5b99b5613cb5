"""The typed decoding path of ``ingest.prepare_file`` gives what the reference path gives.

Same outcome, reasons, record errors, rows (record index and byte span included) and kept
bytes; bodies with the same distinct values (so the same FTS5 tokens: checked with a real
``unicode61 remove_diacritics 2`` table too). Checked on every file of the real corpora
(../shared/corpus, ../shared/corpus-more), the hostile corpus, a synthetic corpus and generated
events whose fields have any JSON type.
"""

from __future__ import annotations

import gzip
import itertools
import json
import sqlite3
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, make_event
from tests.make_hostile_corpus import write_corpus
from trailtui.core.ingest import decode
from trailtui.core.ingest.decode import read_log_bytes
from trailtui.core.demo.records import assumed_role, iam_user
from trailtui.core.ingest.prepare import prepare_file, prepare_file_reference
from trailtui.core.ingest.typed_records import prepare_records

CORPUS_MORE = CORPUS.parent / "corpus-more"
GENERATOR = CORPUS.parent / "tools" / "gen_cloudtrail.py"


def body_pieces(body: str) -> Counter:
    """The body's space-separated pieces: equal for two bodies holding the same distinct values
    in any order (each body lists each distinct value once)."""
    return Counter(body.split(" "))


def assert_same(path: Path) -> int:
    """Compare the typed and the reference path on one file; return its event count."""
    fast, reference = prepare_file(str(path)), prepare_file_reference(str(path))
    assert (fast.outcome, fast.reason, fast.record_errors) == (reference.outcome, reference.reason, reference.record_errors), path
    assert len(fast.events) == len(reference.events), path
    for (row, body, kept), (ref_row, ref_body, ref_kept) in zip(fast.events, reference.events):
        assert row == ref_row, (path, row[0])
        assert kept == ref_kept, (path, row[0])
        assert body_pieces(body) == body_pieces(ref_body), (path, row[0])
    return len(fast.events)


def assert_same_tree(root: Path) -> int:
    paths = sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())
    return sum(assert_same(path) for path in paths)


def test_real_corpus_gives_the_same_events(corpus: Path) -> None:
    assert assert_same_tree(corpus) > 40_000


def test_more_real_corpus_gives_the_same_events() -> None:
    if not CORPUS_MORE.is_dir():
        pytest.skip(f"second real corpus not found at {CORPUS_MORE} (it lives in ../shared, outside the repo)")
    assert assert_same_tree(CORPUS_MORE) > 10_000


def test_hostile_corpus_gives_the_same_events(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    assert assert_same_tree(corpus.root) >= len(corpus.good_ids)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """3,000 events from ../shared/tools/gen_cloudtrail.py (every userIdentity type it makes)."""
    if not GENERATOR.is_file():
        pytest.skip(f"corpus generator not found at {GENERATOR} (it lives in ../shared, outside the repo)")
    out = tmp_path_factory.mktemp("synthetic") / "corpus"
    subprocess.run([sys.executable, str(GENERATOR), str(out), "--events", "3000", "--seed", "11", "--per-file", "300"],
                   check=True, capture_output=True)
    return out


def test_synthetic_corpus_takes_the_typed_path_and_gives_the_same_events(synthetic: Path) -> None:
    files = sorted(synthetic.rglob("*.json.gz"))
    assert files
    declined = [path for path in files if prepare_records(read_log_bytes(path)) is None]
    assert not declined  # else this comparison would test the reference against itself
    assert assert_same_tree(synthetic) == 3000


def test_bodies_have_the_same_fts5_tokens(synthetic: Path, tmp_path: Path) -> None:
    """The FTS5 tokenizer the index uses sees the same words in both bodies."""
    corpus = write_corpus(tmp_path / "hostile")
    paths = sorted(synthetic.rglob("*.json.gz"))[:3] + sorted(p for p in corpus.root.rglob("*") if p.is_file())
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE body USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE words USING fts5vocab(body, instance)")
    compared = 0
    for path in paths:
        for (_, body, _), (_, ref_body, _) in zip(prepare_file(str(path)).events, prepare_file_reference(str(path)).events):
            conn.execute("DELETE FROM body")
            conn.executemany("INSERT INTO body(rowid, text) VALUES (?, ?)", [(1, body), (2, ref_body)])
            tokens = {doc: set() for doc in (1, 2)}
            for term, doc in conn.execute("SELECT term, doc FROM words"):
                tokens[doc].add(term)
            assert tokens[1] == tokens[2] and tokens[1], path
            compared += 1
    assert compared > 500


# ------------------------------------------------------------------ generated events, odd types

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["", "true", "FALSE", "AwsCloudTrailInsight", "ANONYMOUS_PRINCIPAL"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
texts = st.none() | st.sampled_from(["", "ANONYMOUS_PRINCIPAL", "x" * 5000, "é" * 4097, "é" * 4096]) | st.text(max_size=12)
arns = st.sampled_from([
    "arn:aws:sts::111122223333:assumed-role/Admin/alice", "arn:aws:iam::111122223333:user/bob",
    "arn:aws:iam::111122223333:root", "not-an-arn", "", "a:b:c:d:e:f/g",
]) | st.none()
kinds = st.sampled_from(["IAMUser", "AssumedRole", "Root", "AWSService", "AWSAccount", "FederatedUser",
                         "IdentityCenterUser", "SAMLUser", "Unknown", ""]) | st.none()
def field(expected):
    """A value of the expected type most of the time (so most records stay on the typed path),
    any JSON value sometimes."""
    return st.one_of(*[expected] * 7, json_values)


issuers = st.fixed_dictionaries({}, optional={"arn": field(arns), "type": field(texts), "userName": field(texts),
                                              "accountId": field(texts), "principalId": field(texts)})
contexts = st.fixed_dictionaries({}, optional={
    "sessionIssuer": field(issuers),
    "attributes": field(st.fixed_dictionaries({}, optional={"creationDate": field(texts),
                                                            "mfaAuthenticated": field(texts)})),
    "webIdFederationData": json_values, "sourceIdentity": field(texts), "ec2RoleDelivery": field(texts),
})
identities = st.fixed_dictionaries({}, optional={
    "type": field(kinds), "arn": field(arns), "principalId": field(texts), "accountId": field(texts),
    "accessKeyId": field(texts), "userName": field(texts), "invokedBy": field(texts),
    "sessionContext": field(contexts), "credentialId": field(texts), "inScopeOf": json_values,
    "onBehalfOf": field(st.fixed_dictionaries({}, optional={"userId": field(texts), "identityStoreArn": field(texts)})),
})
params = st.fixed_dictionaries({}, optional={"bucketName": field(texts), "key": field(texts), "vaultName": field(texts),
                                             "other": json_values})
responses = st.fixed_dictionaries({}, optional={
    "credentials": field(st.fixed_dictionaries({}, optional={"accessKeyId": field(texts)})),
    "accessKey": field(st.fixed_dictionaries({}, optional={"accessKeyId": field(texts)})),
})
resources = st.lists(field(st.fixed_dictionaries({}, optional={"ARN": field(arns), "arn": field(arns)})), max_size=3)
times = st.sampled_from(["2026-03-14T10:00:00Z", "2026-02-30T10:00:00Z", "2026-03-14 10:00:00", "junk", ""]) | st.none()
events = st.fixed_dictionaries({}, optional={
    "eventID": field(texts), "eventTime": field(times), "@timestamp": field(times), "eventName": field(texts),
    "eventSource": field(st.sampled_from(["s3.amazonaws.com", "glacier.amazonaws.com"]) | texts),
    "awsRegion": field(texts), "sourceIPAddress": field(st.sampled_from(["198.51.100.7", "010.1.1.1", "::1"]) | texts),
    "userAgent": field(texts), "errorCode": field(texts), "errorMessage": field(texts),
    "readOnly": field(st.booleans() | st.sampled_from(["true", "False", "yes"])),
    "managementEvent": field(st.booleans() | st.sampled_from(["TRUE", "false"])),
    "eventType": field(st.sampled_from(["AwsApiCall", "AwsCloudTrailInsight"]) | texts),
    "eventCategory": field(texts), "recipientAccountId": field(texts), "requestID": field(texts),
    "userIdentity": field(identities), "requestParameters": field(params), "responseElements": field(responses),
    "resources": field(resources), "additionalEventData": json_values, "tlsDetails": json_values,
    "unknownTopLevel": json_values,
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(events, min_size=1, max_size=6), st.booleans(), st.sampled_from([None, 1]), st.booleans())
def test_generated_events_give_the_same_rows_and_words(tmp_path: Path, batch, ascii_only, indent, bare_array) -> None:
    document = batch if bare_array else {"Records": batch}
    path = tmp_path / "generated.json"
    path.write_text(json.dumps(document, ensure_ascii=ascii_only, indent=indent), encoding="utf-8")
    assert_same(path)


def test_every_identity_branch_gives_the_same_actor_columns(tmp_path: Path) -> None:
    """Each combination of the userIdentity fields the actor columns read ("CloudTrail
    userIdentity element": every type, ARNs of each kind, missing or anonymous accounts and
    principals, session issuers, Identity Center users, session creation dates)."""
    variants = itertools.product(
        ["IAMUser", "AssumedRole", "Root", "AWSService", "AWSAccount", "FederatedUser", "IdentityCenterUser",
         "SAMLUser", "", None],
        ["arn:aws:sts::111122223333:assumed-role/Admin/alice", "arn:aws:iam::111122223333:user/bob", "", None],
        ["111122223333", "ANONYMOUS_PRINCIPAL", None],
        ["AIDAEXAMPLE", "ANONYMOUS_PRINCIPAL", None],
        [None, "arn:aws:iam::111122223333:role/Admin"],  # sessionContext.sessionIssuer.arn
        [None, "bob"],  # userName
        [None, "ec2.amazonaws.com"],  # invokedBy
        [None, "user-0001"],  # onBehalfOf.userId
        [None, "2026-03-14T09:00:00Z"],  # sessionContext.attributes.creationDate
    )
    batch = []
    for number, (kind, arn, account, principal, issuer, user, invoked, center, created) in enumerate(variants):
        identity = {"type": kind, "arn": arn, "accountId": account, "principalId": principal, "userName": user,
                    "invokedBy": invoked}
        identity = {key: value for key, value in identity.items() if value is not None or number % 3 == 0}
        if issuer or created:
            identity["sessionContext"] = {"sessionIssuer": {"arn": issuer}, "attributes": {"creationDate": created}}
        if center:
            identity["onBehalfOf"] = {"userId": center}
        batch.append(make_event(f"id-{number}", userIdentity=identity))
    path = tmp_path / "identities.json"
    path.write_text(json.dumps({"Records": batch}))
    assert prepare_records(path.read_bytes()) is not None
    assert assert_same(path) == len(batch) > 2000


def test_typical_identities_take_the_typed_path(tmp_path: Path) -> None:
    """Each ordinary record decodes typed (else the tests above compare the reference with itself)."""
    batch = [
        make_event("e1"),
        make_event("e2", userIdentity=assumed_role("Admin", "alice", role_id="AROAEXAMPLE", access_key_id="ASIAEXAMPLE",
                                                   session_created="2026-03-14T09:00:00Z")),
        make_event("e3", userIdentity=iam_user("bob", principal_id="AIDABOB", access_key_id="AKIABOB"), errorCode="AccessDenied"),
    ]
    data = json.dumps({"Records": batch}).encode()
    events = prepare_records(data)
    assert events is not None and [row[0] for row, _, _ in events] == ["e1", "e2", "e3"]
    path = tmp_path / "typical.json"
    path.write_bytes(data)
    assert assert_same(path) == 3


def test_odd_records_alone_take_the_reference_path(tmp_path: Path) -> None:
    """A record of another shape costs only itself the typed path: the file's others stay typed
    and the results still match the reference."""
    odd = make_event("odd", userAgent=12, userIdentity={})
    long = make_event("long", userAgent="a" * 5000)
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"Records": [make_event("a"), odd, long, make_event("b")]}))
    assert prepare_records(path.read_bytes()) is not None
    assert assert_same(path) == 4


def test_gunzip_without_isal_reads_and_refuses_the_same(tmp_path: Path, monkeypatch) -> None:
    """Where no isal wheel installs, the stdlib's zlib inflates with the same limits and messages."""
    good = tmp_path / "good.json.gz"
    good.write_bytes(gzip.compress(json.dumps({"Records": [make_event("z1")]}).encode()))
    truncated = tmp_path / "truncated.json.gz"
    truncated.write_bytes(gzip.compress(b'{"Records":[' + b"1" * 5000)[:-30])
    with_isal = [prepare_file(str(good)), prepare_file(str(truncated))]
    monkeypatch.setattr(decode, "_inflate_lib", zlib)
    monkeypatch.setattr(decode, "_INFLATE_ERRORS", (zlib.error,))
    without = [prepare_file(str(good)), prepare_file(str(truncated))]
    assert [row[0] for row, _, _ in without[0].events] == ["z1"] == [row[0] for row, _, _ in with_isal[0].events]
    assert without[1].outcome == with_isal[1].outcome == "failed"
    assert without[1].reason.startswith("truncated gzip") and with_isal[1].reason.startswith("truncated gzip")
