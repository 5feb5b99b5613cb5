"""The JSON detail pane (trailtui.tui.detail.EventDetail), driven through a one-widget app."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.app import App, ComposeResult

from trailtui.tui.app import STYLESHEETS
from trailtui.tui.detail import MAX_SHOWN_CHARS, MAX_TREE_DEPTH, EventDetail, JsonData

# An S3 data event as CloudTrail writes it (record contents per the CloudTrail User Guide),
# hand-formatted: the odd spacing and the \u00e9 escape must survive a `y` copy byte for byte.
GET_OBJECT = b"""{"eventVersion": "1.09",
  "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLEROLE:alice-session",
    "arn": "arn:aws:sts::111122223333:assumed-role/DataReader/alice-session",
    "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLEKEY000001",
    "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLE",
        "arn": "arn:aws:iam::111122223333:role/DataReader", "accountId": "111122223333",
        "userName": "DataReader"},
      "webIdFederationData": {},
      "attributes": {"creationDate": "2026-03-14T09:58:12Z", "mfaAuthenticated": "false"}}},
  "eventTime": "2026-03-14T10:00:00Z",
  "eventSource": "s3.amazonaws.com",
  "eventName": "GetObject",
  "awsRegion": "us-east-1",
  "sourceIPAddress": "198.51.100.7",
  "userAgent": "[aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.ubuntu.22]",
  "requestParameters": {"bucketName": "finance-reports", "Host": "finance-reports.s3.us-east-1.amazonaws.com",
    "key": "q1/r\\u00e9sum\\u00e9 2026.pdf"},
  "responseElements": null,
  "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
    "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "EXAMPLEid2",
    "bytesTransferredOut": 48213},
  "requestID": "EXAMPLE8Q1R2S3T4", "eventID": "8a3f0c5e-1b2d-4e6f-9a7b-0c1d2e3f4a5b",
  "readOnly": true,
  "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::finance-reports/q1/r\\u00e9sum\\u00e9 2026.pdf"},
    {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::finance-reports"}],
  "eventType": "AwsApiCall", "managementEvent": false, "recipientAccountId": "111122223333",
  "eventCategory": "Data",
  "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
    "clientProvidedHostHeader": "finance-reports.s3.us-east-1.amazonaws.com"}
}
"""

TITLE = "GetObject · 2026-03-14T10:00:00Z"
KEY = "q1/r\u00e9sum\u00e9 2026.pdf"


class DetailApp(App):
    #: The app's stylesheets: the detail's colours (escapes set apart) come from them.
    CSS_PATH = STYLESHEETS

    def compose(self) -> ComposeResult:
        yield EventDetail("event", id="detail")


def walk(node):
    yield node
    for child in node.children:
        yield from walk(child)


def node_at(tree: EventDetail, path: tuple):
    for node in walk(tree.root):
        if isinstance(node.data, JsonData) and node.data.path == path and node is not tree.root:
            return node
    raise AssertionError(f"no node at {path}")


def labels(node) -> list[str]:
    return [child.label.plain for child in node.children]


async def move_to(pilot, tree: EventDetail, path: tuple) -> None:
    """Press j until the cursor is on ``path`` (what a user would do)."""
    for _ in range(100):
        data = tree.cursor_node.data if tree.cursor_node else None
        if isinstance(data, JsonData) and data.path == path:
            return
        await pilot.press("j")
    raise AssertionError(f"cursor never reached {path}")


@pytest.fixture
def clipboard(monkeypatch):
    """Returns (app, copied, notes): copies and notifications recorded, nothing sent."""
    monkeypatch.delenv("TMUX", raising=False)  # plain OSC 52 through App.copy_to_clipboard
    monkeypatch.delenv("STY", raising=False)
    app = DetailApp()
    copied: list[str] = []
    notes: list[str] = []
    # copy_text sends plain OSC 52 through Textual's App.copy_to_clipboard: record it instead.
    monkeypatch.setattr(App, "copy_to_clipboard", lambda self, text: copied.append(text))
    original_notify = App.notify

    def notify(self, message, **kwargs):
        notes.append(message)
        original_notify(self, message, **kwargs)

    monkeypatch.setattr(DetailApp, "notify", notify)
    return app, copied, notes


async def test_shows_keys_in_order_with_json_values():
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        await pilot.pause()
        assert tree.root.label.plain == TITLE + " {20}"
        assert list(orjson.loads(GET_OBJECT)) == [child.data.path[0] for child in tree.root.children]
        shown = labels(tree.root)
        assert 'eventName: "GetObject"' in shown
        assert 'eventVersion: "1.09"' in shown
        assert "readOnly: true" in shown
        assert "managementEvent: false" in shown
        assert "responseElements: null" in shown
        assert "userIdentity {6}" in shown
        assert "resources [2]" in shown
        # Square brackets in a value are text, not markup.
        assert 'userAgent: "[aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.ubuntu.22]"' in shown
        request = node_at(tree, ("requestParameters",))
        assert labels(request) == [
            'bucketName: "finance-reports"',
            'Host: "finance-reports.s3.us-east-1.amazonaws.com"',
            f'key: "{KEY}"',
        ]
        assert labels(node_at(tree, ("resources",))) == ["[0] {2}", "[1] {3}"]
        assert "bytesTransferredOut: 48213" in labels(node_at(tree, ("additionalEventData",)))
        assert labels(node_at(tree, ("userIdentity", "sessionContext")))[1] == "webIdFederationData: {}"
        # Each node keeps its path and value for copying.
        assert node_at(tree, ("resources", 1, "ARN")).data == JsonData(
            ("resources", 1, "ARN"), "arn:aws:s3:::finance-reports"
        )


async def test_default_folding_shows_who_and_what_first():
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        await pilot.pause()
        assert tree.root.is_expanded
        assert node_at(tree, ("userIdentity",)).is_expanded
        # A small identity is open all the way down: the role behind the session is visible.
        assert node_at(tree, ("userIdentity", "sessionContext", "sessionIssuer")).is_expanded
        assert node_at(tree, ("requestParameters",)).is_expanded
        assert node_at(tree, ("resources",)).is_expanded
        assert node_at(tree, ("resources", 0)).is_expanded
        assert node_at(tree, ("additionalEventData",)).is_collapsed
        assert node_at(tree, ("tlsDetails",)).is_collapsed
        assert tree.cursor_node is tree.root

        # A large responseElements starts closed; a large requestParameters stays open.
        event = orjson.loads(GET_OBJECT)
        event["responseElements"] = {"instancesSet": {"items": [{"n": i, "id": f"i-{i}"} for i in range(15)]}}
        event["requestParameters"] = {f"p{i}": i for i in range(30)}
        tree.show_event(orjson.dumps(event), title=TITLE)
        await pilot.pause()
        assert node_at(tree, ("responseElements",)).is_collapsed
        assert node_at(tree, ("requestParameters",)).is_expanded
        assert labels(node_at(tree, ("responseElements",))) == ["instancesSet {1}"]


async def test_e_expands_everything_and_shift_e_collapses():
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        tree.focus()
        await pilot.pause()
        containers = [node for node in walk(tree.root) if node.children]
        await pilot.press("e")
        assert all(node.is_expanded for node in containers)
        await move_to(pilot, tree, ("tlsDetails", "tlsVersion"))
        await pilot.press("E")
        assert tree.root.is_expanded
        assert all(node.is_collapsed for node in containers if node is not tree.root)
        # The cursor lands on the first-level node it was under, which is still shown.
        assert tree.cursor_node is node_at(tree, ("tlsDetails",))
        assert len(labels(tree.root)) == 20


async def test_h_l_and_arrows_fold_like_jless():
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        tree.focus()
        await pilot.pause()
        extra = node_at(tree, ("additionalEventData",))
        await move_to(pilot, tree, ("additionalEventData",))
        await pilot.press("l")
        assert extra.is_expanded
        await pilot.press("l")  # already open: into its first child
        assert tree.cursor_node.data.path == ("additionalEventData", "SignatureVersion")
        await pilot.press("h")  # a leaf: up to its parent
        assert tree.cursor_node is extra
        await pilot.press("h")  # open: collapse it
        assert extra.is_collapsed and tree.cursor_node is extra
        await pilot.press("h")  # closed: up to its parent
        assert tree.cursor_node is tree.root
        await move_to(pilot, tree, ("additionalEventData",))
        await pilot.press("right")
        assert extra.is_expanded
        await pilot.press("left")
        assert extra.is_collapsed
        await pilot.press("space")
        assert extra.is_expanded
        await pilot.press("enter")
        assert extra.is_collapsed
        await pilot.press("k")
        assert tree.cursor_node.data.path == ("responseElements",)
        await pilot.press("down", "up", "up")
        assert tree.cursor_node.data.path == ("requestParameters", "key")


async def test_c_copies_raw_string_and_pretty_json(clipboard):
    app, copied, notes = clipboard
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        tree.focus()
        await pilot.pause()
        await move_to(pilot, tree, ("requestParameters", "key"))
        await pilot.press("c")
        assert copied == [KEY]  # the value itself: no quotes, the \u00e9 escape decoded
        assert notes[-1] == f"Copied requestParameters.key ({len(KEY.encode())} bytes)"

        await move_to(pilot, tree, ("resources",))
        await pilot.press("k")
        await move_to(pilot, tree, ("readOnly",))
        await pilot.press("c")
        assert copied[-1] == "true"

        tree.move_cursor(node_at(tree, ("userIdentity",)))
        await pilot.press("c")
        identity = orjson.loads(GET_OBJECT)["userIdentity"]
        assert copied[-1] == orjson.dumps(identity, option=orjson.OPT_INDENT_2).decode()
        assert notes[-1].startswith("Copied userIdentity as JSON (")
        assert tree.selected_value_text() == copied[-1]


async def test_y_copies_the_original_bytes_exactly(clipboard):
    app, copied, notes = clipboard
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        tree.focus()
        await pilot.pause()
        await pilot.press("y")
        assert copied == [GET_OBJECT.decode("utf-8")]
        assert "\\u00e9" in copied[0] and "\n  " in copied[0]
        assert tree.event_text() == copied[0]
        assert notes[-1] == f"Copied the whole event ({len(GET_OBJECT):,} bytes)"


async def test_hostile_values_show_escaped_and_literal(clipboard):
    app, copied, _notes = clipboard
    hostile = "\x1b]52;c;ZXZpbA==\x07 [bold red]pwn[/] [@click=app.quit]x\u202e"
    event = {
        "eventName": "GetObject",
        "requestParameters": {"key": hostile, "[@click=app.quit]k": "[link=https://evil.example]y[/link]"},
    }
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(orjson.dumps(event), title="[@click=app.quit]title")
        tree.focus()
        await pilot.pause()
        assert tree.root.label.plain == "[@click=app.quit]title {2}"
        label = node_at(tree, ("requestParameters", "key")).label
        assert label.plain == 'key: "\\x1b]52;c;ZXZpbA==\\x07 [bold red]pwn[/] [@click=app.quit]x\\u202e"'
        assert "\x1b" not in label.plain and "\x07" not in label.plain
        # The escapes are coloured apart from the text around them; no span carries an action.
        escapes = [label.plain[span.start : span.end] for span in label.spans if span.style == tree.label_styles.escape]
        assert escapes == ["\\x1b", "\\x07", "\\u202e"]
        assert not any("@click" in str(span.style) or "link" in str(span.style) for span in label.spans)
        other = node_at(tree, ("requestParameters", "[@click=app.quit]k")).label
        assert other.plain == '[@click=app.quit]k: "[link=https://evil.example]y[/link]"'

        # Clicking the lines and using the keys does not run the injected action.
        for line in range(4):
            await pilot.click(EventDetail, offset=(12, line))
        await pilot.press("e")  # the clicks may have folded requestParameters
        await move_to(pilot, tree, ("requestParameters", "key"))
        await pilot.press("c")
        await pilot.pause()
        assert app.is_running
        assert copied == [hostile]  # the raw value; OSC 52 base64-encodes it on the wire


async def test_invalid_json_shows_the_raw_text_escaped(clipboard):
    app, copied, _notes = clipboard
    raw = b'{"eventName": "GetObject", "x": "\x1b[2J'
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(raw, title="broken")
        tree.focus()
        await pilot.pause()
        assert tree.root.label.plain == "broken"
        (node,) = tree.root.children
        assert node.label.plain.startswith('not valid JSON: {"eventName": "GetObject", "x": "\\x1b[2J  (')
        assert "\x1b" not in node.label.plain
        await pilot.press("j", "c", "y")
        assert copied == [raw.decode(), raw.decode()]


async def test_none_and_empty_show_the_hint(clipboard):
    app, copied, notes = clipboard
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        await pilot.pause()
        for nothing in (None, b""):
            tree.show_event(nothing)
            tree.focus()
            await pilot.pause()
            assert tree.root.label.plain == "select an event"
            assert not tree.root.children
            assert tree.selected_value_text() is None and tree.event_text() is None
            await pilot.press("c", "y", "e", "E", "h", "l")
        assert copied == []
        assert notes[-2:] == ["Nothing selected: move to a value first.", "No event to copy."]


async def test_long_values_are_cut_but_copied_whole(clipboard):
    app, copied, _notes = clipboard
    long_value = "A" * 5000
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(orjson.dumps({"eventName": "PutBucketPolicy", "policy": long_value}))
        tree.focus()
        await pilot.pause()
        label = node_at(tree, ("policy",)).label.plain
        assert label == 'policy: "' + "A" * MAX_SHOWN_CHARS + '…" (5,000 chars; v shows it whole)'
        await move_to(pilot, tree, ("policy",))
        await pilot.press("c")
        assert copied == [long_value]


async def test_cursor_keeps_its_path_across_events():
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        tree.focus()
        await pilot.pause()
        await move_to(pilot, tree, ("requestParameters", "key"))
        other = orjson.loads(GET_OBJECT)
        other["requestParameters"]["key"] = "q2/other.csv"
        tree.show_event(orjson.dumps(other), title="next")
        await pilot.pause()
        assert tree.cursor_node.data == JsonData(("requestParameters", "key"), "q2/other.csv")
        tree.show_event(b'{"eventName": "ConsoleLogin"}', title="login")
        await pilot.pause()
        assert tree.cursor_node is tree.root


async def test_deep_nesting_and_bare_values_do_not_break(clipboard):
    app, copied, notes = clipboard
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        deep = b"[" * 1000 + b"1" + b"]" * 1000  # deeper than Python's recursion limit
        tree.show_event(deep, title="deep")
        tree.focus()
        await pilot.pause()
        await pilot.press("e")
        deepest = max(walk(tree.root), key=lambda node: len(node.data.path))
        assert len(deepest.data.path) == MAX_TREE_DEPTH
        assert deepest.label.plain == "[0]: … nested too deep to show (y copies the whole event)"
        tree.move_cursor(deepest)
        await pilot.press("c", "y", "E")
        assert copied == [deep.decode()]
        assert notes[0].startswith("Cannot copy: ")

        shallower = b"[" * 150 + b"1" + b"]" * 150
        tree.show_event(shallower, title="deep")
        await pilot.pause()
        tree.expand_all()
        deepest = max(walk(tree.root), key=lambda node: len(node.data.path))
        assert deepest.label.plain == "[0]: " + "[" * 50 + "1" + "]" * 50
        tree.show_event(b'"just a string"', title="scalar")
        await pilot.pause()
        assert labels(tree.root) == ['"just a string"']


async def test_bindings_are_named_for_footer_and_keymaps():
    ids = {binding.id: binding for binding in EventDetail.BINDINGS}
    assert {"detail.copy_value", "detail.copy_event", "detail.expand_all", "detail.collapse_all"} <= set(ids)
    assert all(binding.description for binding in EventDetail.BINDINGS)
    assert ids["detail.collapse_all"].key == "E"


async def test_screenshot_renders(tmp_path):
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(EventDetail)
        tree.show_event(GET_OBJECT, title=TITLE)
        tree.focus()
        await pilot.pause()
        path = app.save_screenshot(filename="detail.svg", path=tmp_path)
    svg = (tmp_path / "detail.svg").read_text(encoding="utf-8")
    assert path.endswith("detail.svg")
    assert "GetObject" in svg
    assert "userIdentity" in svg
