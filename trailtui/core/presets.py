"""Ready-made filters: the built-in rule pack's rules, picked by name.

The presets are the rules of the built-in Sigma pack (``trailtui/core/detect/pack``): one
mechanism whether a rule runs as a detection or is picked by hand. A preset is an ordinary
filter (the grammar of :mod:`trailtui.core.filter`, written by :mod:`trailtui.core.detect.backend`
from the rule's detection): the app puts its text in the filter bar, where it can be edited, and
``trailtui query --preset NAME`` runs it. Some presets also choose the columns shown or exported
(the rule's ``fields``).

Sources (each rule's ``references`` name its pages):

* "Identifying Amazon S3 requests using CloudTrail" (Amazon S3 User Guide), section "Athena query
  examples for identifying Amazon S3 object access requests": all ``PutObject`` requests, all
  ``GetObject`` requests and all anonymous requests in a time range, printing ``eventTime,
  eventName, eventSource, sourceIpAddress, userAgent, bucketName, object, userArn``
  (:data:`ATHENA_COLUMNS`). The guide's anonymous example tests ``userIdentity.accountId`` (one
  version) or ``userIdentity.principalId`` (another) for ``ANONYMOUS_PRINCIPAL``; the
  ``s3-anonymous`` rule tests both, and today's form (``accountId`` ``anonymous``:
  ``extract.is_anonymous``). Its ``eventTime BETWEEN a AND b`` becomes ``since:a until:b`` terms
  (:func:`preset_filter`), which the user picks. The same page's Signature Version 2 and
  ``aclRequired`` questions are rules too.
* The incident-response rules use CloudTrail's record contents ("CloudTrail record contents",
  "CloudTrail userIdentity element", "AWS Management Console sign-in events" in the AWS CloudTrail
  User Guide: ``additionalEventData.MFAUsed``, ``responseElements.ConsoleLogin``) and the API names
  of IAM, STS, CloudTrail, GuardDuty, AWS Config, EC2, S3, S3 Glacier, Secrets Manager, Systems
  Manager and KMS. Where a rule cannot say exactly what the question asks, its description says how
  it approximates it.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta, timezone

from trailtui.core.detect.rules import Rule, builtin_rules

#: The columns of the user guide's Athena examples, as trailtui names them (see
#: ``columns.COLUMNS``: ``bucketName`` is ``requestParameters.bucketName``, ``object``
#: ``requestParameters.key``, ``userArn`` ``userIdentity.arn``).
ATHENA_COLUMNS: tuple[str, ...] = (
    "eventTime", "eventName", "eventSource", "sourceIPAddress", "userAgent", "bucketName", "object", "userArn",
)


#: A preset is a rule of the built-in pack (:func:`trailtui.core.detect.rules.builtin_rules`):
#: its ``name`` is what ``--preset`` takes, its ``why`` (the rule's description), ``filter``,
#: ``columns`` (the rule's Sigma ``fields``), ``time_range`` and ``group`` say the rest.
Preset = Rule


def __getattr__(name: str):
    # PRESETS is read when first used: loading the pack imports pySigma (about 0.2 s), which the
    # app's first screen does not need.
    if name == "PRESETS":
        return builtin_rules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _by_name() -> dict[str, Preset]:
    return {preset.name: preset for preset in builtin_rules()}


class UnknownPreset(KeyError):
    """``--preset`` named no preset; ``str(err)`` names it and suggests the closest names."""

    def __init__(self, name: str) -> None:
        self.name = name
        close = difflib.get_close_matches(name.lower(), _by_name(), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (trailtui query --list-presets lists them)"
        super().__init__(f"no preset named {name!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (case-insensitive). Raises :class:`UnknownPreset`."""
    preset = _by_name().get(name.lower())
    if preset is None:
        raise UnknownPreset(name)
    return preset


def preset_filter(preset: Preset, *, since: str | None = None, until: str | None = None, extra: str = "") -> str:
    """The filter text of ``preset`` with an optional time range and more terms ANDed.

    ``since``/``until`` are values of the grammar's ``since:``/``until:`` (UTC ISO-8601 or
    relative like ``-7d``); ``extra`` is more filter text. The result is only text: compile it
    with ``compile_filter`` (which reports a bad time or term with its position).
    """
    from trailtui.core.filter.terms import and_text, field_term

    parts = [preset.filter]
    if since:
        parts.append(field_term("since", since))
    if until:
        parts.append(field_term("until", until))
    return and_text(*parts, extra)


def time_span_terms(first: str | None, last: str | None) -> str:
    """``since:FIRST until:LAST+1s`` for events from ``first`` to ``last`` inclusive (UTC
    ``YYYY-MM-DDTHH:MM:SSZ``, the index's ``eventTime`` form; ``until:`` excludes its instant,
    so one second is added). Empty when either is None or not in that form."""
    if not first or not last:
        return ""
    try:
        end = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(seconds=1)
        datetime.strptime(first, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return ""
    return f"since:{first} until:{end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
