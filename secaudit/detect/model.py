"""What the detection layer hands upward: rule descriptions, problems, hits.

The contract between the loader, the engine, the correlator and the app layer. Frozen, picklable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from secaudit.core.events import LogEvent
from secaudit.core.model import LocalText, Reference

LEVELS: tuple[str, ...] = ("informational", "low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleInfo:
    """A loaded rule (or correlation rule) as reports and outputs describe it.

    ``emit`` is False for a base rule that a correlation references without ``generate: true``: the
    engine still matches it (the correlator needs its hits) but its own hits are not output.
    ``location`` is "path:line" of the rule document.
    """

    id: str
    title: str
    level: str = ""  # one of LEVELS, "" when the rule has none
    status: str = ""
    author: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    product: str | None = None
    category: str | None = None
    service: str | None = None
    location: str = ""
    correlation: str = ""  # the correlation type for a correlation rule, "" for a detection rule
    emit: bool = True
    texts: tuple[LocalText, ...] = ()  # the rule's own ``th:`` block (our rules; see thai_block)
    compliance: tuple[Reference, ...] = ()  # the controls the rule's ``compliance:`` block cites


class UnsupportedRule(Exception):
    """A rule uses a construct the engine cannot evaluate; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleProblem:
    """A rule that could not be loaded, or loaded only in part. Reported; never aborts a run.

    ``skipped`` is true when the rule does not run at all (a hunt names these even under -q, and a
    --fail-on gate at or below ``level`` fails on them); false for a rule that runs with a limit."""

    location: str  # "path:line"
    reason: str
    rule_id: str = ""
    title: str = ""
    level: str = ""  # the rule's declared level, "" when it could not be read
    skipped: bool = True


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One event matched by one rule. ``matched_fields`` are the event fields the rule's satisfied
    selections refer to, with their values."""

    rule: RuleInfo
    event: LogEvent
    matched_fields: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CorrelationHit:
    """A correlation rule that fired: its group, the aggregate it reached, and the events behind it."""

    rule: RuleInfo
    group: tuple[tuple[str, str], ...]  # (group-by field, value), in the rule's group-by order
    value: float  # the count, distinct count, sum, average or percentile that met the condition
    first: datetime
    last: datetime
    events: tuple[LogEvent, ...]  # the contributing events, in time order
