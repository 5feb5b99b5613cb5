"""Sigma rule files loaded as trailtui rules, and the events each one hits in an index.

A :class:`Rule` is a Sigma rule (https://sigmahq.io, "Sigma rules specification") reduced to what
trailtui shows and runs: its id, title, level, ATT&CK tags and the filter its detection compiles
to (:mod:`trailtui.core.detect.backend`). :func:`load_rules` reads rule files and folders;
every file or rule that cannot be used is returned as a :class:`RuleProblem` naming it and why,
never skipped silently. :func:`rule_hits` runs one rule's filter on an index.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from trailtui.core.detect.backend import RuleNotConverted, TrailtuiBackend, rule_filter

#: ATT&CK ids in tags (techniques t1098, t1098.001; groups g0016; software s0002): not tactics.
_ATTACK_ID = re.compile(r"[tgs]\d{4}(\.\d{3})?", re.IGNORECASE)
#: Sigma's levels, lowest first ("Sigma rules specification", level).
LEVELS = ("informational", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class Rule:
    """One Sigma rule as a filter: ``id`` (the rule's UUID, or the file name without one),
    ``title``, ``level`` (one of :data:`LEVELS`, ``"informational"`` when the rule has none),
    ``tags`` (``attack.t1098``...), ``filter`` (trailtui filter text), ``path`` (its file),
    ``description``."""

    id: str
    title: str
    level: str
    tags: tuple[str, ...]
    filter: str
    path: str
    description: str = ""

    @property
    def level_rank(self) -> int:
        """0 (informational) to 4 (critical)."""
        return LEVELS.index(self.level) if self.level in LEVELS else 0

    @property
    def tactics(self) -> tuple[str, ...]:
        """The ATT&CK tactics among the tags (``attack.persistence`` → ``persistence``)."""
        names = (tag[len("attack."):] for tag in self.tags if tag.startswith("attack."))
        return tuple(name for name in names if not _ATTACK_ID.fullmatch(name))


@dataclass(frozen=True)
class RuleProblem:
    """A rule file, or a rule in it, that is not used: ``path`` and ``reason`` (one line)."""

    path: str
    reason: str


def _rule_files(paths: list[str | os.PathLike]) -> tuple[list[Path], list[RuleProblem]]:
    files: list[Path] = []
    problems: list[RuleProblem] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            problems.append(RuleProblem(str(path), "no such file or directory"))
    return files, problems


def load_rules(paths: list[str | os.PathLike]) -> tuple[list[Rule], list[RuleProblem]]:
    """The rules in ``paths`` (rule files, and folders searched for ``*.yml``/``*.yaml``), in
    path order, and a :class:`RuleProblem` for each path that does not exist, file that is not a
    Sigma rule, and rule that cannot become a filter (with pySigma's or the grammar's reason).
    Rules with the same id are kept once (the first)."""
    import yaml
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    files, problems = _rule_files(paths)
    rules: list[Rule] = []
    seen: set[str] = set()
    backend = TrailtuiBackend()
    for path in files:
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SigmaError, ValueError, yaml.YAMLError) as err:
            problems.append(RuleProblem(str(path), f"not a Sigma rule: {err}".splitlines()[0]))
            continue
        for problem in collection.errors:
            problems.append(RuleProblem(str(path), str(problem).splitlines()[0]))
        for sigma_rule in collection.rules:
            rule_id = str(sigma_rule.id) if sigma_rule.id else path.stem
            if rule_id in seen:
                continue
            try:
                text = rule_filter(sigma_rule, backend)
            except RuleNotConverted as err:
                problems.append(RuleProblem(str(path), f"{sigma_rule.title}: {err}".splitlines()[0]))
                continue
            seen.add(rule_id)
            rules.append(Rule(
                id=rule_id,
                title=str(sigma_rule.title or path.stem),
                level=sigma_rule.level.name.lower() if sigma_rule.level else "informational",
                tags=tuple(str(tag) for tag in sigma_rule.tags or ()),
                filter=text,
                path=str(path),
                description=str(sigma_rule.description or ""),
            ))
    return rules, problems


@dataclass(frozen=True)
class RuleHit:
    """One event a rule hit: its ``eventID``, ``eventTime`` (UTC ISO-8601 text) and ``actor``
    as the list shows it."""

    eventID: str
    eventTime: str
    actor: str


def rule_hits(conn: sqlite3.Connection, rule: Rule, *, limit: int | None = None) -> list[RuleHit]:
    """The events of the index on ``conn`` that ``rule`` hits, oldest first (at most ``limit``).
    Raises ``sqlite3.Error`` as the index does."""
    from trailtui.core.filter import compile_filter
    from trailtui.core.query import EventQuery

    query = EventQuery(conn, compile_filter(rule.filter), newest_first=False)
    return [RuleHit(str(event_id or ""), str(time or ""), str(actor or ""))
            for event_id, time, actor in query.iter_rows(["eventID", "eventTime", "actor"], limit)]
