"""A pySigma backend whose queries are trailtui filters.

Sigma (https://sigmahq.io) describes detections as YAML rules; pySigma, the Sigma project's own
library, parses a rule and hands its detection to a *backend* that writes it in a query
language. This backend writes trailtui's filter grammar (:mod:`trailtui.core.filter`): CloudTrail's
field names as the rules use them (``eventSource``, ``userIdentity.arn``, ``requestParameters.x``
are all names the grammar reads), values quoted as the grammar quotes them, Sigma's ``*``
wildcards as the grammar's, ``contains``/``startswith``/``endswith`` as wildcards, ``re`` as
``field~"pattern"`` (RE2), ``cidr`` as a network, ``fieldref`` as ``same:FIELD,OTHER``,
``exists`` and ``null`` as ``field:*`` / ``-field:*``, conditions with ``AND``, ``OR``, ``NOT`` and
parentheses. Comparisons of numbers (``lt``, ``gte``...), the single-character wildcard ``?``,
case-sensitive matching (``cased``) and correlations have no equivalent: pySigma raises for them,
and the rule is reported with that reason, never approximated.
"""

from __future__ import annotations

import re
from typing import ClassVar

from sigma.conditions import ConditionAND, ConditionNOT, ConditionOR
from sigma.conversion.base import TextQueryBackend
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import RuleFailureTransformation
from sigma.types import SigmaRegularExpressionFlag

from trailtui.core.filter.terms import SAFE_VALUE_CHARS


#: Why a rule for another log source is not used (a folder of every SigmaHQ rule holds thousands).
NOT_CLOUDTRAIL = "not a CloudTrail rule (its logsource is not product: aws, service: cloudtrail)"


def cloudtrail_pipeline() -> ProcessingPipeline:
    """The processing pipeline of :class:`TrailtuiBackend`: a rule whose ``logsource`` is not
    ``product: aws, service: cloudtrail`` (Sigma's taxonomy for CloudTrail, as SigmaHQ's
    ``rules/cloud/aws/cloudtrail`` write it) fails with :data:`NOT_CLOUDTRAIL`, instead of
    running a Windows rule's ``CommandLine`` against CloudTrail events. CloudTrail's field names
    need no mapping: the rules use them as the grammar reads them."""
    return ProcessingPipeline(
        name="trailtui CloudTrail",
        priority=10,
        items=[ProcessingItem(
            identifier="trailtui_cloudtrail_only",
            transformation=RuleFailureTransformation(NOT_CLOUDTRAIL),
            rule_conditions=[LogsourceCondition(product="aws", service="cloudtrail")],
            rule_condition_negation=True,
        )],
    )


class TrailtuiBackend(TextQueryBackend):
    """Sigma rules to trailtui filter text (see the module docstring). ``convert_rule(rule)``
    returns one filter per query of the rule (one for every CloudTrail rule: a rule has one
    condition); raises ``sigma.exceptions.SigmaError`` subclasses for what cannot be written."""

    name: ClassVar[str] = "trailtui"
    formats: ClassVar[dict[str, str]] = {"default": "trailtui filter text"}
    requires_pipeline: ClassVar[bool] = False
    backend_processing_pipeline: ClassVar[ProcessingPipeline] = cloudtrail_pipeline()

    precedence: ClassVar[tuple] = (ConditionNOT, ConditionAND, ConditionOR)
    group_expression: ClassVar[str] = "({expr})"
    token_separator: str = " "
    or_token: ClassVar[str] = "OR"
    and_token: ClassVar[str] = "AND"
    not_token: ClassVar[str] = "NOT"
    eq_token: ClassVar[str] = ":"

    field_quote: ClassVar[str | None] = None
    # Values stay bare when the grammar reads them bare (letters, digits, ._:/@+=- and wildcards);
    # anything else is quoted, with '"' and '\\' escaped as the grammar reads them.
    str_quote: ClassVar[str] = '"'
    str_quote_pattern: ClassVar[re.Pattern] = re.compile("^[" + re.escape("".join(sorted(SAFE_VALUE_CHARS))) + "*]+$")
    str_quote_pattern_negation: ClassVar[bool] = True
    escape_char: ClassVar[str] = "\\"
    add_escaped: ClassVar[str] = "\\"
    wildcard_multi: ClassVar[str] = "*"
    wildcard_single: ClassVar[str | None] = None
    bool_values: ClassVar[dict] = {True: "true", False: "false"}

    re_expression: ClassVar[str] = '{field}~"{regex}"'
    re_escape_char: ClassVar[str] = "\\"
    re_escape: ClassVar[tuple[str, ...]] = ('"',)
    re_escape_escape_char: ClassVar[bool] = False  # a backslash belongs to the pattern
    re_flag_prefix: ClassVar[bool] = True
    re_flags: ClassVar[dict] = {
        SigmaRegularExpressionFlag.IGNORECASE: "i",
        SigmaRegularExpressionFlag.MULTILINE: "m",
        SigmaRegularExpressionFlag.DOTALL: "s",
    }
    cidr_expression: ClassVar[str] = "{field}:{value}"
    field_equals_field_expression: ClassVar[str] = "same:{field1},{field2}"
    field_null_expression: ClassVar[str] = "-{field}:*"
    field_exists_expression: ClassVar[str] = "{field}:*"
    field_not_exists_expression: ClassVar[str] = "-{field}:*"
    convert_or_as_in: ClassVar[bool] = True  # eventName: [A, B] as eventName:A,B
    convert_and_as_in: ClassVar[bool] = False
    in_expressions_allow_wildcards: ClassVar[bool] = True
    field_in_list_expression: ClassVar[str] = "{field}{op}{list}"
    or_in_operator: ClassVar[str] = ":"
    list_separator: ClassVar[str] = ","
    unbound_value_str_expression: ClassVar[str] = "{value}"
    unbound_value_num_expression: ClassVar[str] = "{value}"


class RuleNotConverted(Exception):
    """A Sigma rule that cannot become a trailtui filter; the message says why (pySigma's reason,
    or the grammar's: a field CloudTrail does not write, a value its field refuses)."""


def rule_filter(sigma_rule, backend: TrailtuiBackend | None = None) -> str:
    """The filter of one parsed Sigma rule (a ``sigma.rule.SigmaRule``), checked by the grammar
    (a rule of several queries gives them ORed). Raises :class:`RuleNotConverted` with the reason
    when the rule uses what the grammar cannot say (``?``, ``cased``, number comparisons,
    correlations) or names what the grammar refuses (a field CloudTrail does not write)."""
    from sigma.exceptions import SigmaError

    from trailtui.core.filter import FilterError, compile_filter

    try:
        filters = (backend or TrailtuiBackend()).convert_rule(sigma_rule)
        text = filters[0] if len(filters) == 1 else " OR ".join(f"({query})" for query in filters)
        compile_filter(text)
    except (SigmaError, NotImplementedError, FilterError) as err:
        raise RuleNotConverted(str(err)) from None
    return text


def rule_filters(yaml_text: str) -> list[str]:
    """The filter of each Sigma rule in ``yaml_text`` (see :func:`rule_filter`). Raises
    :class:`RuleNotConverted` with the reason when the text is not a Sigma rule, or a rule in it
    cannot become a filter."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    try:
        collection = SigmaCollection.from_yaml(yaml_text)
    except SigmaError as err:
        raise RuleNotConverted(str(err)) from None
    backend = TrailtuiBackend()
    return [rule_filter(sigma_rule, backend) for sigma_rule in collection.rules]
