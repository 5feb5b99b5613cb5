"""Pivots: from the selected event to a filter on one of its identities or on its credential chain.

``a`` (principal), ``S`` (session), ``K`` (access key) and ``i`` (source IP) filter to the
selected event's identity, keyed three ways as in the README ("Following an identity");
``u``/``d`` walk the credential chain. Each function returns a :class:`Pivot`: the filter text
and the step's breadcrumb, or the reason there is none (shown to the user). Identity keys come
from the event's indexed columns (``events.principalKey``, ``sessionKey``,
``userIdentity_accessKeyId``; meanings per "CloudTrail userIdentity element", AWS CloudTrail
User Guide).
"""

from __future__ import annotations

from dataclasses import dataclass

from trailtui.core.ingest.extract import ANONYMOUS_PRINCIPAL, principal_name
from trailtui.core.filter.terms import field_term as filter_term
from trailtui.tui.filter_history import crumb
from trailtui.tui.identity import IdentityLinks

#: What each identity pivot is called in messages.
PIVOT_NAMES = {"principal": "principal", "session": "session", "credential": "accessKeyId", "ip": "sourceIPAddress"}


@dataclass(frozen=True)
class Pivot:
    """A pivot's outcome: ``text`` (the new filter) and ``crumb``, or ``problem`` (why there is
    no pivot, for the user) with ``text`` empty."""

    text: str = ""
    crumb: str = ""
    problem: str = ""


def identity_pivot(what: str, columns: dict) -> Pivot:
    """The filter to the selected event's ``what`` (``principal``, ``session``,
    ``credential`` or ``ip``) from its indexed ``columns``. Raises ValueError for another
    ``what``."""
    if what not in PIVOT_NAMES:
        raise ValueError(f"unknown pivot {what!r}: one of {', '.join(PIVOT_NAMES)}")
    if what == "principal":
        principal = columns.get("principalKey")
        if principal == ANONYMOUS_PRINCIPAL:
            return Pivot("is:anonymous", "principal: anonymous")
        if principal:
            return Pivot(filter_term("principal", principal), crumb("principal", principal_name(principal)))
        if columns.get("actor"):
            return Pivot(filter_term("actor", columns["actor"]), crumb("actor", columns["actor"]))
    elif what == "session" and columns.get("sessionKey"):
        session = columns["sessionKey"]
        return Pivot(filter_term("session", session), crumb("session", session.rpartition(" @ ")[0].rsplit("/", 1)[-1]))
    elif what == "credential" and columns.get("userIdentity_accessKeyId"):
        key = columns["userIdentity_accessKeyId"]
        return Pivot(filter_term("akid", key), crumb("key", key))
    elif what == "ip" and columns.get("sourceIPAddress"):
        address = columns["sourceIPAddress"]
        return Pivot(filter_term("ip", address), crumb("ip", address))
    return Pivot(problem=f"The selected event has no {PIVOT_NAMES[what]}.")


def chain_pivot(direction: str, columns: dict, links: IdentityLinks | None) -> Pivot:
    """``u`` (``direction`` ``"up"``): the event that issued the selected event's access key.
    ``d`` (``"down"``): the events signed with the key the selected event issued, or, on any
    other event, the key-issuing events of its principal. ``links`` is the identity pane's
    count of the chain (None while it is still being counted)."""
    if links is None:
        return Pivot(problem="Still following this event's keys; try again in a moment.")
    if direction == "up":
        if not links.chain:
            return Pivot(problem="No event in these logs issued this event's access key.")
        key = links.chain[0].access_key_id
        return Pivot(filter_term("issued", key), crumb("issued", key))
    if links.issued is not None:
        key = links.issued.access_key_id
        return Pivot(filter_term("akid", key), crumb("signed with", key))
    principal = columns.get("principalKey")
    if links.grants_total and principal:
        return Pivot(filter_term("principal", principal) + " issued:*", crumb("keys handed out by", principal_name(principal)))
    return Pivot(problem="This event handed out no access key, and its principal none either.")
