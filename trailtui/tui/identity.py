"""The identity drill-down: who made the selected event, with which credentials, from where.

Facts come from the event's ``userIdentity`` element ("CloudTrail userIdentity element" in the
AWS CloudTrail User Guide, whose three questions the pane answers in words) and the access key
prefixes of "Unique identifiers" in the IAM User Guide (``AKIA`` long-term, ``ASIA``
temporary STS credentials). Totals for the actor come from the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from trailtui.core.extract import ANONYMOUS_PRINCIPAL
from trailtui.core.query import ActorTotals, EventFacts
from trailtui.core.text import printable

_LABEL = "bold #7aa2f7"
_VALUE = ""
_DIM = "dim"
_YES = "bold #e0af68"


@dataclass(frozen=True)
class IdentityFacts:
    """What the pane shows about one event's identity.

    ``columns`` are the event's indexed columns; ``identity`` its parsed ``userIdentity`` object
    (``{}`` when absent); ``source_identity`` the ``sourceIdentity`` if the session carries one.
    """

    facts: EventFacts
    identity: dict

    @property
    def columns(self) -> dict:
        return self.facts.columns

    @property
    def session_attributes(self) -> dict:
        context = self.identity.get("sessionContext")
        attributes = context.get("attributes") if isinstance(context, dict) else None
        return attributes if isinstance(attributes, dict) else {}

    @property
    def source_identity(self) -> str | None:
        context = self.identity.get("sessionContext")
        value = context.get("sourceIdentity") if isinstance(context, dict) else None
        return value if isinstance(value, str) and value else None


def identity_facts(facts: EventFacts, original: bytes | None) -> IdentityFacts:
    """Combine an event's indexed columns with its ``userIdentity`` parsed from ``original``."""
    identity: dict = {}
    if original:
        try:
            event = orjson.loads(original)
        except orjson.JSONDecodeError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("userIdentity"), dict):
            identity = event["userIdentity"]
    return IdentityFacts(facts, identity)


def access_key_kind(access_key_id: str | None) -> str:
    """Describe an access key id by its prefix ("Unique identifiers", IAM User Guide)."""
    if not access_key_id:
        return "none recorded"
    if access_key_id.startswith("AKIA"):
        return "AKIA: long-term key of an IAM user or the root user"
    if access_key_id.startswith("ASIA"):
        return "ASIA: temporary credentials from STS (a role or federated session)"
    return "unrecognised prefix"


def answers(facts: IdentityFacts) -> list[tuple[str, str]]:
    """The userIdentity page's three questions, each with an answer in words."""
    columns = facts.columns
    kind = columns.get("userIdentity_type") or ""
    account = columns.get("userIdentity_accountId") or ""
    invoked_by = columns.get("userIdentity_invokedBy")
    anonymous = account == ANONYMOUS_PRINCIPAL or columns.get("userIdentity_principalId") == ANONYMOUS_PRINCIPAL
    if anonymous:
        root_or_user = "No: an anonymous (unsigned) request, no credentials at all"
    elif kind == "Root":
        root_or_user = "Yes: the account's root user credentials"
    elif kind == "IAMUser":
        root_or_user = "Yes: an IAM user's credentials"
    else:
        root_or_user = "No"
    if kind == "AssumedRole":
        issuer = columns.get("sessionIssuer_arn") or "a role"
        temporary = f"Yes: a session of role {issuer}"
    elif kind == "FederatedUser":
        temporary = "Yes: a federated user session (GetFederationToken)"
    elif (columns.get("userIdentity_accessKeyId") or "").startswith("ASIA"):
        temporary = "Yes: temporary (ASIA) credentials"
    else:
        temporary = "No"
    if kind == "AWSService" or invoked_by:
        service = f"Yes: {invoked_by or 'an AWS service'}"
    else:
        service = "No"
    return [
        ("Root or IAM user credentials?", root_or_user),
        ("Temporary credentials for a role or federated user?", temporary),
        ("Made by another AWS service?", service),
    ]


def render_identity(facts: IdentityFacts | None, totals: ActorTotals | None) -> RenderableType:
    """The pane's content, most telling first: who (actor, type), the user guide's three
    questions answered, the actor's totals, then every userIdentity field. Values are escaped
    and placed in Text objects, so nothing from the log is read as markup."""
    if facts is None:
        return Text("Select an event to see who made it.", _DIM)
    columns = facts.columns
    kind = columns.get("userIdentity_type")
    account = columns.get("userIdentity_accountId")
    recipient = columns.get("recipientAccountId")
    anonymous = account == ANONYMOUS_PRINCIPAL or columns.get("userIdentity_principalId") == ANONYMOUS_PRINCIPAL
    kind_text = f"{kind or 'AWSAccount'}: anonymous (unsigned request)" if anonymous else (kind or "-")

    head = Text(no_wrap=False)
    if not facts.identity and not kind:
        head.append("This event has no userIdentity (an Insight event or a trimmed export).\n", _DIM)
    else:
        head.append(printable(columns.get("actor") or "unknown actor"), "bold")
        head.append(f"  ({printable(kind_text)})\n")
    if account and recipient and account != recipient and not anonymous:
        head.append("cross-account: ", _YES)
        head.append(f"account {printable(account)} acted in account {printable(recipient)}\n")
    for question, answer in answers(facts):
        head.append(question + " ", _LABEL)
        head.append(answer + "\n", _YES if answer.startswith("Yes") else _VALUE)

    counts = Text(no_wrap=False)
    if totals is not None and totals.events:
        counts.append("This actor: ", "bold underline")
        counts.append(f"{totals.events:,} events · {totals.errors:,} errors · {totals.source_ips:,} source IPs\n")
        counts.append(f"first {printable(totals.first_seen or '-')} · last {printable(totals.last_seen or '-')}\n")
        if totals.top_event_names:
            counts.append("top eventNames: ", _LABEL)
            counts.append(", ".join(f"{printable(name)} {count:,}" for name, count in totals.top_event_names) + "\n")
    elif totals is None and columns.get("actorKey"):
        counts.append("counting this actor's events…\n", _DIM)

    attributes = facts.session_attributes
    mfa = attributes.get("mfaAuthenticated")
    access_key = columns.get("userIdentity_accessKeyId")
    rows = [
        ("type", kind_text),
        ("arn", columns.get("userIdentity_arn")),
        ("accountId", account),
        ("recipientAccountId", recipient),
        ("principalId", columns.get("userIdentity_principalId")),
        ("userName", columns.get("userIdentity_userName")),
        ("accessKeyId", access_key),
        ("  kind", access_key_kind(access_key) if access_key else None),
        ("sessionIssuer", columns.get("sessionIssuer_arn")),
        ("MFA", {"true": "yes", "false": "no"}.get(str(mfa).lower()) if mfa is not None else None),
        ("session created", attributes.get("creationDate")),
        ("sourceIdentity", facts.source_identity),
        ("invokedBy", columns.get("userIdentity_invokedBy")),
        ("sourceIPAddress", columns.get("sourceIPAddress")),
    ]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style=_LABEL, no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value not in (None, ""):
            # Text cells, never str: a Table would read a str as Rich markup.
            grid.add_row(Text(label), Text(printable(value)))

    keys = Text("\n")
    for key, what in (("a", " this actor  "), ("K", " this access key  "), ("i", " this source IP")):
        keys.append(key, "bold reverse")
        keys.append(what)
    return Group(head, counts, grid, keys)


class IdentityPane(VerticalScroll, can_focus=True):
    """Scrollable pane showing :func:`render_identity` for the selected event."""

    DEFAULT_CSS = """
    IdentityPane { padding: 0 1; }
    IdentityPane > Static { width: 1fr; }
    """

    def compose(self):
        yield Static(render_identity(None, None), id="identity-body")

    def show(self, facts: IdentityFacts | None, totals: ActorTotals | None) -> None:
        """Show ``facts`` (None: nothing selected) and the actor's ``totals`` (None: still counting)."""
        self.query_one("#identity-body", Static).update(render_identity(facts, totals))
