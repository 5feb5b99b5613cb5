"""Sigma rule files loaded as trailtui rules, and the events each one hits in an index.

A :class:`Rule` is a Sigma rule (https://sigmahq.io, "Sigma rules specification") reduced to what
trailtui shows and runs: its id, title, level, ATT&CK tags and the filter its detection compiles
to (:mod:`trailtui.core.detect.backend`). :func:`load_rules` reads rule files and folders;
every file or rule that cannot be used is returned as a :class:`RuleProblem` naming it and why,
never skipped silently. :func:`rule_hits` runs one rule's filter on an index.

Rules come from three places (:func:`rule_sources`): the built-in pack (:data:`PACK_DIR`, Sigma
YAML written for trailtui: the S3 user guide's questions and the incident-response checks that
were the presets), the ``rules`` directory beside the config file (:func:`user_rules_dir`), and
``--rules DIR``. The pack's rules are also the presets (:mod:`trailtui.core.presets`): one
mechanism, whether a rule runs as a detection or is picked from the palette.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path


#: ATT&CK ids in tags (techniques t1098, t1098.001; groups g0016; software s0002): not tactics.
_ATTACK_ID = re.compile(r"[tgs]\d{4}(\.\d{3})?", re.IGNORECASE)
#: Sigma's levels, lowest first ("Sigma rules specification", level).
LEVELS = ("informational", "low", "medium", "high", "critical")
#: The built-in pack: one folder per group (``s3-user-guide``, ``incident-response``), one Sigma
#: rule per file, named by the rule's ``name``.
PACK_DIR = Path(__file__).with_name("pack")
#: The pack's folders as groups are shown (palette, ``--list-presets``).
PACK_GROUPS = {"s3-user-guide": "S3 user guide", "incident-response": "incident response"}
#: The rule attribute (a Sigma custom attribute) that asks for a ``since:``/``until:`` range: the
#: S3 user guide's Athena examples take one.
TIME_RANGE_ATTRIBUTE = "trailtui_time_range"


def attack_tactics(tags: tuple[str, ...]) -> tuple[str, ...]:
    """The ATT&CK tactics among Sigma ``tags`` (``attack.persistence`` → ``persistence``; not
    techniques, groups or software: ``attack.t1098``)."""
    names = (tag[len("attack."):] for tag in tags if tag.startswith("attack."))
    return tuple(name for name in names if not _ATTACK_ID.fullmatch(name))


def level_rank(level: str) -> int:
    """0 (informational) to 4 (critical); 0 for a level Sigma does not name."""
    return LEVELS.index(level) if level in LEVELS else 0


@dataclass(frozen=True)
class Rule:
    """One Sigma rule as a filter: ``id`` (the rule's UUID, or the file name without one),
    ``title``, ``level`` (one of :data:`LEVELS`, ``"informational"`` when the rule has none),
    ``tags`` (``attack.t1098``...), ``filter`` (trailtui filter text), ``path`` (its file),
    ``description`` (why a responder looks at these events), ``name`` (the rule's ``name``, else
    the file name without suffix: what ``--preset`` takes), ``columns`` (the rule's ``fields`` when
    all are trailtui columns, ``columns.BY_NAME``; else None), ``time_range`` (the rule asks for a
    ``since:``/``until:`` range: :data:`TIME_RANGE_ATTRIBUTE`), ``group`` (where it comes from:
    a :data:`PACK_GROUPS` title, or the rules directory or file given)."""

    id: str
    title: str
    level: str
    tags: tuple[str, ...]
    filter: str
    path: str
    description: str = ""
    name: str = ""
    columns: tuple[str, ...] | None = None
    time_range: bool = False
    group: str = ""

    @property
    def why(self) -> str:
        """The description, as the palette and ``--list-presets`` call it."""
        return self.description

    @property
    def level_rank(self) -> int:
        """0 (informational) to 4 (critical)."""
        return level_rank(self.level)

    @property
    def tactics(self) -> tuple[str, ...]:
        """The ATT&CK tactics among the tags (:func:`attack_tactics`)."""
        return attack_tactics(self.tags)


@dataclass(frozen=True)
class RuleProblem:
    """A rule file, or a rule in it, that is not used: ``path`` and ``reason`` (one line)."""

    path: str
    reason: str


def problem_lines(problems: list[RuleProblem]) -> list[str]:
    """One line per rule problem (``rule not used: PATH: REASON``), except rules for other log
    sources (a whole SigmaHQ checkout holds thousands): past three, one line counts them and
    names the first. The lines hold file text: escape them for a terminal."""
    from trailtui.core.detect.backend import NOT_CLOUDTRAIL

    elsewhere = [problem for problem in problems if NOT_CLOUDTRAIL in problem.reason]
    grouped = len(elsewhere) > 3
    lines = [f"rule not used: {problem.path}: {problem.reason}"
             for problem in problems if not (grouped and NOT_CLOUDTRAIL in problem.reason)]
    if grouped:
        lines.append(f"{len(elsewhere):,} rules not used: {NOT_CLOUDTRAIL} (the first: {elsewhere[0].path})")
    return lines


def _rule_files(paths: list[str | os.PathLike]) -> tuple[list[tuple[Path, str]], list[RuleProblem]]:
    """Each rule file under ``paths`` with its group (see :attr:`Rule.group`)."""
    files: list[tuple[Path, str]] = []
    problems: list[RuleProblem] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found_files = (p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            for found in sorted(found_files):
                group = PACK_GROUPS.get(found.parent.name) if found.parent.parent == PACK_DIR else None
                files.append((found, group or str(given)))
        elif path.is_file():
            files.append((path, str(given)))
        else:
            problems.append(RuleProblem(str(path), "no such file or directory"))
    return files, problems


def _columns(fields) -> tuple[str, ...] | None:
    from trailtui.core.columns import is_known_column

    names = tuple(str(name) for name in fields or ())
    return names if names and all(is_known_column(name) for name in names) else None


def load_rules(paths: list[str | os.PathLike]) -> tuple[list[Rule], list[RuleProblem]]:
    """The rules in ``paths`` (rule files, and folders searched for ``*.yml``/``*.yaml``, hidden
    folders left out), in path order, and a :class:`RuleProblem` for each path that does not
    exist, file that is not a Sigma rule or holds none, rule that cannot become a filter (with
    pySigma's or the grammar's reason), and rule whose id an earlier one has. A rule of the
    user's with the id of a built-in one (:data:`PACK_DIR`) replaces it: that is how a pack rule
    is edited."""
    # pySigma is imported here, not at the top: the app reaches this module on its first screen.
    from sigma.collection import SigmaCollection

    from trailtui.core.detect.backend import RuleNotConverted, TrailtuiBackend, rule_filter

    files, problems = _rule_files(paths)
    rules: dict[str, Rule] = {}
    backend = TrailtuiBackend()
    for path, group in files:
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
        except Exception as err:  # noqa: BLE001 - pySigma and PyYAML raise many kinds for a bad file
            problems.append(RuleProblem(str(path), f"not a Sigma rule: {err or type(err).__name__}".splitlines()[0]))
            continue
        for problem in collection.errors:
            problems.append(RuleProblem(str(path), str(problem).splitlines()[0]))
        if not collection.rules and not collection.errors:
            problems.append(RuleProblem(str(path), "no Sigma rule in the file"))
        for sigma_rule in collection.rules:
            rule_id = str(sigma_rule.id) if sigma_rule.id else path.stem
            earlier = rules.get(rule_id)
            if earlier is not None and not _is_builtin(earlier.path):
                problems.append(RuleProblem(str(path), f"{sigma_rule.title}: the same id as {earlier.path}, "
                                                       "which is used"))
                continue
            try:
                text = rule_filter(sigma_rule, backend)
            except RuleNotConverted as err:
                problems.append(RuleProblem(str(path), f"{sigma_rule.title}: {err}".splitlines()[0]))
                continue
            except Exception as err:  # noqa: BLE001 - a rule pySigma cannot convert in a way it does not name
                problems.append(RuleProblem(str(path), f"{sigma_rule.title}: cannot be converted ({err!r})"))
                continue
            rules[rule_id] = Rule(
                id=rule_id,
                title=str(sigma_rule.title or path.stem),
                level=sigma_rule.level.name.lower() if sigma_rule.level else "informational",
                tags=tuple(str(tag) for tag in sigma_rule.tags or ()),
                filter=text,
                path=str(path),
                description=" ".join(str(sigma_rule.description or "").split()),
                name=str(sigma_rule.name or path.stem),
                columns=_columns(sigma_rule.fields),
                time_range=sigma_rule.custom_attributes.get(TIME_RANGE_ATTRIBUTE) is True,
                group=group,
            )
    return list(rules.values()), problems


def _is_builtin(path: str) -> bool:
    return Path(path).parent.parent == PACK_DIR


@functools.cache
def builtin_rules() -> tuple[Rule, ...]:
    """The built-in pack's rules (:data:`PACK_DIR`), S3 user guide first. Raises RuntimeError
    if one does not load: the pack ships with trailtui and a test loads every rule."""
    rules, problems = load_rules([PACK_DIR / folder for folder in PACK_GROUPS])
    if problems:
        raise RuntimeError(f"built-in rule pack: {problems[0].path}: {problems[0].reason}")
    return tuple(rules)


def user_rules_dir() -> Path:
    """The user's own rules: ``rules/`` beside the config file (``~/.config/trailtui/rules`` on
    Linux; :func:`trailtui.core.config.config_path`). It need not exist."""
    from trailtui.core.config import config_path

    return config_path().with_name("rules")


def rule_sources(extra: list[str | os.PathLike] | None = None) -> list[str | os.PathLike]:
    """Where the rules of a run come from, in order: the pack's folders, the user's rules
    directory when it exists, then ``extra`` (``--rules`` paths, which must exist)."""
    sources: list[str | os.PathLike] = [PACK_DIR / folder for folder in PACK_GROUPS]
    if user_rules_dir().is_dir():
        sources.append(user_rules_dir())
    return sources + list(extra or ())


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
