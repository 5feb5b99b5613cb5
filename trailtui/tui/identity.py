"""The identity drill-down: who made the selected event, with which credentials, from where.

Facts come from the event's ``userIdentity`` element ("CloudTrail userIdentity element" in the
AWS CloudTrail User Guide, whose three questions the pane answers in words) and the access key
prefixes of "Unique identifiers" in the IAM User Guide (``AKIA`` long-term, ``ASIA``
temporary STS credentials). Totals for the actor come from the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from typing import NamedTuple

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from trailtui.core.ingest.decode import parse_event_json
from trailtui.core.ingest.extract import ANONYMOUS_LABEL, ANONYMOUS_PRINCIPAL, is_anonymous, principal_name
from trailtui.core.query import ActorTotals, CredentialGrant, EventFacts
from trailtui.core.text import plural, printable
from trailtui.core.times import shown_time
from trailtui.tui.keys import bindings


class PaneStyles(NamedTuple):
    """Styles of the pane's parts; :class:`IdentityPane` fills them from its component classes
    (``identity-pane--label``, ...), so the theme colours them. :data:`PLAIN` has no colours."""

    label: Style | str = "bold"
    value: Style | str = ""
    dim: Style | str = "dim"
    yes: Style | str = "bold"
    key: Style | str = "bold reverse"


PLAIN = PaneStyles()


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
            event = parse_event_json(original)
        except orjson.JSONDecodeError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("userIdentity"), dict):
            identity = event["userIdentity"]
    return IdentityFacts(facts, identity)


@dataclass(frozen=True)
class IdentityLinks:
    """How the selected event's credentials link to other events (counted in a worker).

    ``chain``: the grants behind the event's access key, nearest first (see
    ``query.credential_chain``); ``issued``: the key this event itself handed out, if any;
    ``grants_total``: how many key-issuing events the event's principal made.
    """

    chain: list[CredentialGrant]
    issued: CredentialGrant | None
    grants_total: int


def principal_label(principal: str | None) -> str:
    """How the pane names a principal key: unsigned requests in words, others whole."""
    if principal == ANONYMOUS_PRINCIPAL:
        return ANONYMOUS_LABEL
    return principal or "-"


def session_label(session: str | None) -> str | None:
    """A session key (``<arn> @ <creationDate>``) as the pane shows it: the session name (the
    ARN's last part, the rest is the principal shown above) and when it was created."""
    if not session:
        return None
    arn, _, created = session.rpartition(" @ ")
    if not arn:
        return session
    return f"{arn.rsplit('/', 1)[-1]} (created {shown_time(created)} UTC)"


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
    """The userIdentity page's three questions, each with an answer in words. The answers quote
    log values (``sessionIssuer.arn``, ``invokedBy``) as they are: escape them to show them."""
    columns = facts.columns
    kind = columns.get("userIdentity_type") or ""
    account = columns.get("userIdentity_accountId") or ""
    invoked_by = columns.get("userIdentity_invokedBy")
    anonymous = is_anonymous(account, columns.get("userIdentity_principalId"))
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


def _key_hint(text: Text, key: str, what: str, styles: PaneStyles = PLAIN) -> None:
    text.append(f" {key} ", styles.key)
    text.append(f" {what}  ")


def render_chain(facts: IdentityFacts, links: IdentityLinks | None, styles: PaneStyles = PLAIN) -> Text:
    """The credential chain, top (the human or workload that started it) to bottom (this
    event's key): each grant's caller, the call (AssumeRole, GetSessionToken, CreateAccessKey,
    ...), the principal and session its key became, and how many events the key signed. Values
    are escaped; nothing is markup."""
    columns = facts.columns
    text = Text(no_wrap=False)
    this_key = columns.get("userIdentity_accessKeyId")
    if links is not None and not (links.chain or links.issued or links.grants_total):
        if not (this_key or "").startswith("ASIA"):
            return text  # long-term or no credentials, nothing issued: no chain to draw
    text.append("Credential chain\n", "bold underline")
    if links is None:
        text.append("following the keys…\n", styles.dim)
        return text
    depth = 0
    for grant in reversed(links.chain):
        pad = "  " * depth
        text.append(pad + ("└ " if depth else ""))
        text.append(printable(grant.grantor or principal_label(grant.grantor_principal)), "bold")
        if grant.grantor_key:
            text.append(f" with {printable(grant.grantor_key)}", styles.dim)
        text.append("\n")
        text.append(pad + "  └ ")
        text.append(printable(grant.eventName or "?"), styles.yes)
        text.append(f" {printable(shown_time(grant.eventTime))} → key {printable(grant.access_key_id)}")
        text.append(f" ({plural(grant.used_events, 'event')})\n")
        if grant.principal:
            # What the key became: the role (or user) and the session it signed as.
            text.append(pad + "      as ", styles.dim)
            text.append(printable(principal_name(grant.principal)))
            if grant.session:
                text.append(f", session {printable(session_label(grant.session))}", styles.dim)
            text.append("\n")
        depth += 2
    pad = "  " * depth
    if links.chain:
        text.append(pad + "└ ")
    text.append("this event", styles.label)
    text.append(f", by {printable(columns.get('actor') or principal_label(columns.get('principalKey')))}")
    if this_key:
        text.append(f" with {printable(this_key)}", styles.dim)
    text.append("\n")
    if not links.chain and this_key and this_key.startswith("ASIA"):
        text.append("No event in these logs issued this temporary key (it was created earlier or elsewhere).\n", styles.dim)
    if links.issued is not None:
        grant = links.issued
        text.append(f"{pad}  └ ")
        text.append("it handed out ", styles.yes)
        text.append(f"key {printable(grant.access_key_id)}")
        if grant.used_events:
            text.append(f", which signed {plural(grant.used_events, 'event')}")
            if grant.principal:
                text.append(f" as {printable(principal_label(grant.principal))}")
        else:
            text.append(", never seen in use in these logs")
        text.append("\n")
    elif links.grants_total:
        text.append(f"This principal handed out {plural(links.grants_total, 'key')} (AssumeRole, CreateAccessKey, ...).\n")
    hints = Text()
    if links.chain:
        _key_hint(hints, "u", "up: the event that issued this key", styles)
    if links.issued is not None:
        _key_hint(hints, "d", "down: the events its key signed", styles)
    elif links.grants_total:
        _key_hint(hints, "d", "down: the keys this principal handed out", styles)
    if hints:
        text.append_text(hints)
        text.append("\n")
    return text


def render_identity(
    facts: IdentityFacts | None, totals: ActorTotals | None, links: IdentityLinks | None = None,
    styles: PaneStyles = PLAIN,
) -> RenderableType:
    """The pane's content, most telling first: who (actor, type), the user guide's three
    questions answered, the actor's totals, then every userIdentity field. Values are escaped
    and placed in Text objects, so nothing from the log is read as markup."""
    if facts is None:
        return Text("Select an event to see who made it.", styles.dim)
    columns = facts.columns
    kind = columns.get("userIdentity_type")
    account = columns.get("userIdentity_accountId")
    recipient = columns.get("recipientAccountId")
    anonymous = is_anonymous(account, columns.get("userIdentity_principalId"))
    kind_text = f"{kind or 'AWSAccount'}: {ANONYMOUS_LABEL}" if anonymous else (kind or "-")

    head = Text(no_wrap=False)
    if not facts.identity and not kind:
        head.append("This event has no userIdentity (an Insight event or a trimmed export).\n", styles.dim)
    else:
        head.append(printable(columns.get("actor") or "unknown actor"), "bold")
        head.append(f"  ({printable(kind_text)})\n")
    if account and recipient and account != recipient and not anonymous:
        head.append("cross-account: ", styles.yes)
        head.append(f"account {printable(account)} acted in account {printable(recipient)}\n")
    questions = Text(no_wrap=False)
    for question, answer in answers(facts):
        questions.append(question + " ", styles.label)
        # printable: the answers quote sessionIssuer.arn and invokedBy, log text.
        questions.append(printable(answer) + "\n", styles.yes if answer.startswith("Yes") else styles.value)

    keyed = Text(no_wrap=False)
    access_key = columns.get("userIdentity_accessKeyId")
    for label, value in (
        ("principal  ", principal_label(columns.get("principalKey")) if columns.get("principalKey") else None),
        ("session    ", session_label(columns.get("sessionKey"))),
        ("credential ", f"{access_key} ({access_key_kind(access_key).split(':')[0]})" if access_key else None),
    ):
        keyed.append(label, styles.label)
        keyed.append(printable(value) if value else "-", styles.value if value else styles.dim)
        keyed.append("\n")

    counts = Text(no_wrap=False)
    if totals is not None and totals.events:
        counts.append("This principal: " if totals.by == "principal" else "This actor: ", "bold underline")
        counts.append(f"{plural(totals.events, 'event')} · {plural(totals.errors, 'error')} · "
                      f"{plural(totals.source_ips, 'source IP')}\n")
        counts.append(f"first {printable(shown_time(totals.first_seen) or '-')} · "
                      f"last {printable(shown_time(totals.last_seen) or '-')} UTC\n")
        if totals.top_event_names:
            counts.append("top eventNames: ", styles.label)
            counts.append(", ".join(f"{printable(name)} {count:,}" for name, count in totals.top_event_names) + "\n")
    elif totals is None and (columns.get("principalKey") or columns.get("actorKey")):
        counts.append("counting this principal's events…\n", styles.dim)

    attributes = facts.session_attributes
    mfa = attributes.get("mfaAuthenticated")
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
        ("session created", shown_time(attributes.get("creationDate")) if attributes.get("creationDate") else None),
        ("sourceIdentity", facts.source_identity),
        ("invokedBy", columns.get("userIdentity_invokedBy")),
        ("sourceIPAddress", columns.get("sourceIPAddress")),
    ]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style=styles.label, no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value not in (None, ""):
            # Text cells, never str: a Table would read a str as Rich markup.
            grid.add_row(Text(label), Text(printable(value)))

    keys = Text("filter to: ")
    for key, what in (("a", "principal"), ("S", "session"), ("K", "access key"), ("i", "source IP")):
        _key_hint(keys, key, what, styles)
    chain = render_chain(facts, links, styles) if facts.identity or kind else Text()
    # Most telling first: who, keyed three ways, the chain their credentials came through.
    return Group(head, keyed, chain, counts, questions, grid, keys)


class IdentityPane(VerticalScroll, can_focus=True):
    """Scrollable pane showing :func:`render_identity` for the selected event; ``z`` zooms it."""

    ALLOW_MAXIMIZE = True  # containers are not zoomable by default; this pane is read like one
    BINDINGS = bindings("identity")
    COMPONENT_CLASSES = {f"identity-pane--{field}" for field in PaneStyles._fields}

    def compose(self):
        yield Static(render_identity(None, None), id="identity-body")

    @property
    def pane_styles(self) -> PaneStyles:
        """The pane's styles from the stylesheet (theme colours)."""
        return PaneStyles(*(self.get_component_rich_style(f"identity-pane--{field}") for field in PaneStyles._fields))

    def show(
        self, facts: IdentityFacts | None, totals: ActorTotals | None, links: IdentityLinks | None = None
    ) -> None:
        """Show ``facts`` (None: nothing selected), the principal's ``totals`` and the credential
        ``links`` (None: still counting)."""
        self.query_one("#identity-body", Static).update(render_identity(facts, totals, links, self.pane_styles))
