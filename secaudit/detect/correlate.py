"""Sigma correlation rules: compile them into plans, and correlate rule hits into correlation hits.

Semantics (Sigma correlation specification v2.x, made precise where it leaves room):

- **Buffering and order.** :class:`Correlator` buffers every hit of a referenced rule and evaluates
  at :meth:`Correlator.finish`. Hits may arrive in any order (several files, several workers): they
  are sorted by ``(timestamp, source, record)`` before any window is built, so the result does not
  depend on arrival order. The same (rule, source, record) fed twice counts once.
- **Events without a timestamp** cannot be placed in a time window: they are skipped and counted
  per rule in :attr:`Correlator.untimed`.
- **Group-by.** Events are grouped by the string value of each group-by field; an alias names a
  different field per referenced rule. An event lacking a group-by field belongs to no group: it is
  skipped and counted per correlation in :attr:`Correlator.ungrouped`. No group-by: one group.
- **Timespan.** Thresholds that more events can only help reach ("at least": gt/gte, and
  extended temporal conditions without ``not``) use a sliding window: at each event, in order, the
  window holds the group's events at most ``timespan`` seconds older than it, inclusive (two events
  exactly ``timespan`` apart share a window; one second more and they do not), so the correlation
  fires the moment the threshold is reached. Every other condition (lt, lte, eq, neq, a range, a
  ``not``) would be trivially met by some part of a window, so it is evaluated once per tumbling
  window: the first starts at the group's first event and spans ``timespan`` seconds, the next
  starts at the first event after it, and so on. temporal_ordered takes gt/gte only.
- **Aggregates.** event_count: events in the window; value_count: distinct values of the condition
  field (events lacking it do not count); value_sum / value_avg / value_percentile / value_median:
  over the numeric values of the field (numbers, or strings that read as numbers; others ignored;
  no numeric value, no evaluation). Percentiles interpolate linearly between closest ranks (the
  median is the 50th). temporal: how many distinct referenced rules occur in the window (default
  condition: all of them), or an extended boolean condition over which rules occur;
  temporal_ordered: the longest prefix of the referenced rules that occurs in order in the window
  (order is the sort order above, so two syslog lines of the same second keep their file order).
- **Conditions**: gt, gte, lt, lte, eq, neq; several criteria (a range) must all hold.
- **One hit per episode.** Sliding windows that satisfy the condition and overlap are merged
  into one :class:`CorrelationHit` whose events are the union of those windows (for
  temporal_ordered, from the first event of the ordered chain). Its ``value`` is the highest
  aggregate reached for gt/gte, the lowest for lt/lte, the first otherwise.
- **Chaining.** A correlation may reference another correlation: the inner correlation's hits are
  its events, placed in time at the moment the inner condition was first met, with the inner
  hit's group values as fields (and any field all its events share).
"""

from __future__ import annotations

import bisect
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.rule import SigmaRuleBase

from secaudit.core.events import LogEvent
from secaudit.detect.model import CorrelationHit, RuleHit, RuleInfo, RuleProblem, UnsupportedRule

TYPES: tuple[str, ...] = (
    "event_count",
    "value_count",
    "temporal",
    "temporal_ordered",
    "value_sum",
    "value_avg",
    "value_percentile",
    "value_median",
)
OPERATORS: tuple[str, ...] = ("gt", "gte", "lt", "lte", "eq", "neq")
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "neq": operator.ne,
}
VALUE_TYPES = frozenset({"value_count", "value_sum", "value_avg", "value_percentile", "value_median"})

# An extended temporal condition as nested tuples: ("rule", id) | ("not", e) | ("and"|"or", e, e, ...)
Expression = tuple[Any, ...]


def rule_key(rule: SigmaRuleBase) -> str:
    """The id a rule is known by in hits: its ``id`` as text, else its ``name``, else its title."""
    if rule.id is not None:
        return str(rule.id)
    return rule.name or rule.title


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationPlan:
    """A correlation rule compiled for the :class:`Correlator`: plain, frozen and picklable."""

    info: RuleInfo
    type: str  # one of TYPES
    rules: tuple[str, ...]  # ids of the referenced rules (or correlations), in the rule's order
    group_by: tuple[str, ...] = ()
    aliases: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # alias -> ((rule id, field), ...)
    timespan: int = 60  # seconds
    conditions: tuple[tuple[str, float], ...] = (("gte", 1.0),)  # (operator, value), all must hold
    fields: tuple[str, ...] = ()  # the condition field(s) of value_* types
    percentile: float | None = None
    expression: Expression | None = None  # extended temporal condition
    location: str = ""

    @property
    def id(self) -> str:
        return self.info.id

    def field_for(self, rule_id: str, name: str) -> str:
        """The event field that holds group-by field ``name`` in events of ``rule_id`` (aliases)."""
        for alias, mapping in self.aliases:
            if alias == name:
                for rid, field_name in mapping:
                    if rid == rule_id:
                        return field_name
        return name


def compile_correlation(rule: SigmaCorrelationRule, info: RuleInfo, *, location: str) -> CorrelationPlan:
    """Compile a parsed, reference-resolved pySigma correlation rule; UnsupportedRule says why not."""
    kind = str(rule.type.name).lower() if rule.type is not None else ""
    if kind not in TYPES:
        raise UnsupportedRule(f"correlation type {kind or '(none)'!r} is not one of {', '.join(TYPES)}")
    refs = list(rule.referenced_rules or rule.rules or [])
    if not refs:
        raise UnsupportedRule("the correlation references no rule")
    by_reference: dict[str, str] = {}
    ids: list[str] = []
    for ref in refs:
        target = _resolved(ref)
        rid = rule_key(target)
        for name in (ref.reference, rid, target.name):
            if name:
                by_reference[str(name)] = rid
        if rid not in ids:
            ids.append(rid)
    aliases: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for alias in rule.aliases:
        pairs = []
        for ref, field_name in alias.mapping.items():
            if ref.reference not in by_reference:
                raise UnsupportedRule(
                    f"alias {alias.alias!r} names rule {ref.reference!r}, "
                    "which the correlation does not reference"
                )
            pairs.append((by_reference[ref.reference], str(field_name)))
        aliases.append((alias.alias, tuple(pairs)))
    conditions: tuple[tuple[str, float], ...] = ()
    fields: tuple[str, ...] = ()
    percentile: float | None = None
    expression: Expression | None = None
    cond = rule.condition
    if isinstance(cond, SigmaExtendedCorrelationCondition):
        if kind != "temporal":
            raise UnsupportedRule(
                "an extended (boolean) condition is only evaluated for temporal correlations"
            )
        expression = _expression(cond.parsed, by_reference)
    elif isinstance(cond, SigmaCorrelationCondition):
        conditions = ((cond.op.name.lower(), float(cond.count)),)
        if cond.fieldref is not None:
            fields = (cond.fieldref,) if isinstance(cond.fieldref, str) else tuple(cond.fieldref)
        if cond.percentile is not None:
            percentile = float(cond.percentile)
    else:
        raise UnsupportedRule("the correlation has no condition")
    for op, _ in conditions:
        if op not in OPERATORS:
            raise UnsupportedRule(f"condition operator {op!r} is not one of {', '.join(OPERATORS)}")
    if kind == "temporal_ordered" and any(op not in {"gt", "gte"} for op, _ in conditions):
        raise UnsupportedRule(
            "temporal_ordered takes a gt or gte condition (events in order, at least N rules)"
        )
    if kind in VALUE_TYPES and not fields:
        raise UnsupportedRule(f"{kind} needs a condition field")
    if kind in VALUE_TYPES - {"value_count"} and len(fields) != 1:
        raise UnsupportedRule(f"{kind} aggregates exactly one field, not {len(fields)}")
    if kind == "value_median":
        percentile = 50.0
    if kind == "value_percentile":
        if percentile is None:
            raise UnsupportedRule("value_percentile needs a 'percentile' in its condition")
        if not 0 <= percentile <= 100:
            raise UnsupportedRule(f"percentile {percentile:g} is outside 0..100")
    return CorrelationPlan(
        info=info,
        type=kind,
        rules=tuple(ids),
        group_by=tuple(str(g) for g in rule.group_by or ()),
        aliases=tuple(aliases),
        timespan=int(rule.timespan.seconds),
        conditions=conditions,
        fields=fields,
        percentile=percentile,
        expression=expression,
        location=location,
    )


def _resolved(ref: SigmaRuleReference) -> SigmaRuleBase:
    try:
        return ref.rule
    except AttributeError:
        raise UnsupportedRule(
            f"referenced rule {ref.reference!r} was not found among the loaded rules"
        ) from None


def _expression(node: object, by_reference: Mapping[str, str]) -> Expression:
    if isinstance(node, SigmaRuleReference):
        if node.reference not in by_reference:
            raise UnsupportedRule(f"the condition names rule {node.reference!r}, which is not referenced")
        return ("rule", by_reference[node.reference])
    if isinstance(node, CorrelationConditionNOT):
        return ("not", _expression(node.args[0], by_reference))
    if isinstance(node, CorrelationConditionAND | CorrelationConditionOR):
        op = "and" if isinstance(node, CorrelationConditionAND) else "or"
        return (op, *(_expression(arg, by_reference) for arg in node.args))
    raise UnsupportedRule(f"unknown element {type(node).__name__} in the extended condition")


def evaluate_expression(expression: Expression, present: Iterable[str] | frozenset[str]) -> bool:
    """True if the extended condition holds when exactly the rules in ``present`` occurred."""
    seen = present if isinstance(present, frozenset) else frozenset(present)
    op = expression[0]
    if op == "rule":
        return expression[1] in seen
    if op == "not":
        return not evaluate_expression(expression[1], seen)
    if op == "and":
        return all(evaluate_expression(e, seen) for e in expression[1:])
    return any(evaluate_expression(e, seen) for e in expression[1:])


def holds(conditions: Sequence[tuple[str, float]], value: float) -> bool:
    """True if ``value`` meets every (operator, threshold) criterion."""
    return all(COMPARE[op](value, threshold) for op, threshold in conditions)


def percentile_of(ordered: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100) of sorted values, interpolating linearly between ranks."""
    pos = (len(ordered) - 1) * p / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def numeric(value: object) -> float | None:
    """A field value as a number, or None (booleans, non-numeric text, NaN and infinities are not)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@dataclass(slots=True)
class _Item:
    """One input of a correlation: a rule hit, or the hit of a chained correlation."""

    rule_id: str
    at: datetime
    us: int  # ``at`` in integer microseconds since the epoch: exact window arithmetic, fast
    order: tuple[str, int]  # (source, record): ties at the same timestamp keep file order
    fields: Mapping[str, object]
    events: tuple[LogEvent, ...]
    group: Mapping[str, str] | None = None  # a chained hit's group values

    def get(self, name: str) -> tuple[bool, object]:
        if self.group is not None and name in self.group:
            return True, self.group[name]
        if name in self.fields:
            return True, self.fields[name]
        if len(self.events) > 1:  # a chained hit: a field all its events share
            values = {repr(e.fields.get(name)) for e in self.events}
            if len(values) == 1 and name in self.events[0].fields:
                return True, self.events[0].fields[name]
        return False, None


@dataclass(slots=True)
class _Episode:
    start: int
    end: int
    fired_at: datetime
    value: float


class Correlator:
    """Feeds on rule hits, then evaluates every correlation plan at :meth:`finish`.

    ``untimed`` counts hits skipped for lack of a timestamp (by rule id); ``ungrouped`` counts
    events skipped because a group-by field was missing (by correlation id); ``problems`` lists
    correlations that cannot run (a reference cycle).
    """

    def __init__(self, plans: Iterable[CorrelationPlan]) -> None:
        self.plans = {plan.id: plan for plan in plans}
        self.untimed: Counter[str] = Counter()
        self.ungrouped: Counter[str] = Counter()
        self.problems: list[RuleProblem] = []
        self._wanted = {rid for plan in self.plans.values() for rid in plan.rules}
        self._hits: dict[str, list[RuleHit]] = defaultdict(list)
        self._seen: set[tuple[str, str, int]] = set()
        self._order = self._topological()

    def _topological(self) -> list[CorrelationPlan]:
        done: dict[str, bool] = {}  # id -> finished (False while on the stack)
        order: list[CorrelationPlan] = []
        cyclic: set[str] = set()

        def visit(plan: CorrelationPlan, stack: tuple[str, ...]) -> None:
            if done.get(plan.id) is False:
                cyclic.update(stack[stack.index(plan.id) :])
                return
            if plan.id in done:
                return
            done[plan.id] = False
            for rid in plan.rules:
                if rid in self.plans:
                    visit(self.plans[rid], (*stack, plan.id))
            done[plan.id] = True
            order.append(plan)

        for plan in self.plans.values():
            visit(plan, ())
        for rid in sorted(cyclic):
            plan = self.plans[rid]
            self.problems.append(
                RuleProblem(
                    location=plan.info.location or plan.location,
                    reason="correlation references itself through a chain of correlations; not evaluated",
                    rule_id=rid,
                    title=plan.info.title,
                    level=plan.info.level,
                )
            )
        return [p for p in order if p.id not in cyclic]

    def feed(self, hit: RuleHit) -> None:
        """Buffer a hit if some correlation references its rule; others are ignored."""
        rid = hit.rule.id
        if rid not in self._wanted:
            return
        key = (rid, hit.event.source, hit.event.record)
        if key in self._seen:
            return
        self._seen.add(key)
        if hit.event.timestamp is None:
            self.untimed[rid] += 1
            return
        self._hits[rid].append(hit)

    def finish(self) -> list[CorrelationHit]:
        """Every correlation hit of plans that emit (``info.emit``), sorted by time, rule, group."""
        fired: dict[str, list[tuple[CorrelationHit, datetime]]] = {}
        out: list[CorrelationHit] = []
        for plan in self._order:
            items: list[_Item] = []
            for rid in plan.rules:
                if rid in fired:
                    items.extend(_chained_item(rid, hit, at) for hit, at in fired[rid])
                else:
                    items.extend(_hit_item(hit) for hit in self._hits.get(rid, ()))
            fired[plan.id] = self._evaluate(plan, items)
            if plan.info.emit:
                out.extend(hit for hit, _ in fired[plan.id])
        out.sort(key=lambda h: (h.first, h.rule.id, h.group, h.last))
        return out

    def _evaluate(self, plan: CorrelationPlan, items: list[_Item]) -> list[tuple[CorrelationHit, datetime]]:
        groups: dict[tuple[str, ...], list[_Item]] = defaultdict(list)
        for item in items:
            key = []
            for name in plan.group_by:
                found, value = item.get(plan.field_for(item.rule_id, name))
                if not found or value is None:
                    break
                key.append(str(value))
            else:
                groups[tuple(key)].append(item)
                continue
            self.ungrouped[plan.id] += 1
        result: list[tuple[CorrelationHit, datetime]] = []
        for values, members in groups.items():
            members.sort(key=lambda i: (i.us, i.order, plan.rules.index(i.rule_id)))
            episodes = (
                _ordered(plan, members) if plan.type == "temporal_ordered" else _windowed(plan, members)
            )
            group = tuple(zip(plan.group_by, values, strict=True))
            for ep in episodes:
                result.append((_hit(plan, group, members[ep.start : ep.end + 1], ep.value), ep.fired_at))
        return result


def _hit_item(hit: RuleHit) -> _Item:
    event = hit.event
    assert event.timestamp is not None  # untimed hits are never buffered
    at = event.timestamp
    return _Item(hit.rule.id, at, _micros(at), (event.source, event.record), event.fields, (event,))


def _chained_item(rule_id: str, hit: CorrelationHit, at: datetime) -> _Item:
    first = hit.events[0] if hit.events else None
    order = (first.source, first.record) if first else ("", 0)
    return _Item(rule_id, at, _micros(at), order, {}, hit.events, dict(hit.group))


def _micros(at: datetime) -> int:
    return round(at.timestamp() * 1_000_000)


def _hit(
    plan: CorrelationPlan, group: tuple[tuple[str, str], ...], items: list[_Item], value: float
) -> CorrelationHit:
    events: dict[tuple[str, int], LogEvent] = {}
    for item in items:
        for event in item.events:
            events.setdefault((event.source, event.record), event)
    timed = sorted(events.values(), key=lambda e: (e.timestamp or items[0].at, e.source, e.record))
    first = timed[0].timestamp or items[0].at
    last = max((e.timestamp for e in timed if e.timestamp is not None), default=items[-1].at)
    return CorrelationHit(
        rule=plan.info, group=group, value=value, first=first, last=last, events=tuple(timed)
    )


class _Aggregate:
    """The running aggregate of a sliding window: add on the right, remove on the left."""

    def __init__(self, plan: CorrelationPlan) -> None:
        self.plan = plan
        self.count = 0
        self.values: Counter[object] = Counter()
        self.total = 0.0
        self.numbers = 0
        self.ordered: list[float] = []

    def _value_of(self, item: _Item) -> object:
        if len(self.plan.fields) == 1:
            found, value = item.get(self.plan.fields[0])
            return value if found else None
        parts = []
        for name in self.plan.fields:
            found, value = item.get(name)
            if not found or value is None:
                return None
            parts.append(repr(value))
        return tuple(parts)

    def add(self, item: _Item, sign: int = 1) -> None:
        kind = self.plan.type
        self.count += sign
        if kind == "temporal":
            self._count(item.rule_id, sign)
        elif kind == "value_count":
            value = self._value_of(item)
            if value is not None:
                self._count(value if isinstance(value, tuple) else str(value), sign)
        elif kind in VALUE_TYPES:
            number = numeric(self._value_of(item))
            if number is not None:
                self.total += sign * number
                self.numbers += sign
                if sign > 0:
                    bisect.insort(self.ordered, number)
                else:
                    del self.ordered[bisect.bisect_left(self.ordered, number)]

    def _count(self, key: object, sign: int) -> None:
        left = self.values[key] + sign
        if left:
            self.values[key] = left
        else:
            del self.values[key]

    def value(self) -> float | None:
        kind = self.plan.type
        if kind == "event_count":
            return float(self.count)
        if kind in {"temporal", "value_count"}:
            return float(len(self.values))
        if self.numbers == 0:
            return None
        if kind == "value_sum":
            return self.total
        if kind == "value_avg":
            return math.fsum(self.ordered) / len(self.ordered)
        assert self.plan.percentile is not None
        return percentile_of(self.ordered, self.plan.percentile)

    def fires(self) -> tuple[bool, float | None]:
        value = self.value()
        if self.plan.expression is not None:
            return evaluate_expression(self.plan.expression, frozenset(str(k) for k in self.values)), value
        if value is None:
            return False, None
        return holds(self.plan.conditions, value), value


def _monotone(plan: CorrelationPlan) -> bool:
    """True when adding events can only help meet the condition: then a sliding window is exact."""
    if plan.expression is not None:
        return not _negates(plan.expression)
    return all(op in {"gt", "gte"} for op, _ in plan.conditions)


def _negates(expression: Expression) -> bool:
    if expression[0] == "not":
        return True
    return expression[0] != "rule" and any(_negates(e) for e in expression[1:])


def _windowed(plan: CorrelationPlan, items: list[_Item]) -> list[_Episode]:
    span = plan.timespan * 1_000_000
    aggregate = _Aggregate(plan)
    episodes: list[_Episode] = []
    left = 0
    if not _monotone(plan):
        return _tumbling(plan, items)
    for right, item in enumerate(items):
        aggregate.add(item)
        while item.us - items[left].us > span:
            aggregate.add(items[left], -1)
            left += 1
        ok, value = aggregate.fires()
        if ok:
            _extend(plan, episodes, left, right, item.at, value if value is not None else 0.0)
    return episodes


def _tumbling(plan: CorrelationPlan, items: list[_Item]) -> list[_Episode]:
    """One evaluation per tumbling window, the first starting at the group's first event."""
    span = plan.timespan * 1_000_000
    episodes: list[_Episode] = []
    left = 0
    while left < len(items):
        aggregate = _Aggregate(plan)
        right = left
        while right < len(items) and items[right].us - items[left].us <= span:
            aggregate.add(items[right])
            right += 1
        ok, value = aggregate.fires()
        if ok:
            last = right - 1
            episodes.append(_Episode(start=left, end=last, fired_at=items[last].at, value=value or 0.0))
        left = right
    return episodes


def _ordered(plan: CorrelationPlan, items: list[_Item]) -> list[_Episode]:
    """temporal_ordered: at each item, the longest prefix of ``plan.rules`` matched in order, with the
    latest possible start (so the window test is exact): start[k] is the index where the most recent
    in-order chain of rules[0..k] begins."""
    span = plan.timespan * 1_000_000
    steps = {rid: [k for k, r in enumerate(plan.rules) if r == rid] for rid in plan.rules}
    start: list[int | None] = [None] * len(plan.rules)
    episodes: list[_Episode] = []
    for right, item in enumerate(items):
        for k in reversed(steps.get(item.rule_id, [])):
            start[k] = right if k == 0 else start[k - 1]
        matched, chain_start = 0, right
        for k, s in enumerate(start):
            if s is None or item.us - items[s].us > span:
                break
            matched, chain_start = k + 1, s
        if matched and holds(plan.conditions, float(matched)):
            _extend(plan, episodes, chain_start, right, item.at, float(matched))
    return episodes


def _extend(
    plan: CorrelationPlan, episodes: list[_Episode], left: int, right: int, at: datetime, value: float
) -> None:
    """Merge a firing window into the current episode when they overlap, else open a new one."""
    if episodes and left <= episodes[-1].end:
        ep = episodes[-1]
        ep.start = min(ep.start, left)
        ep.end = right
        op = plan.conditions[0][0] if plan.conditions else ""
        if op in {"gt", "gte"}:
            ep.value = max(ep.value, value)
        elif op in {"lt", "lte"}:
            ep.value = min(ep.value, value)
        return
    episodes.append(_Episode(start=left, end=right, fired_at=at, value=value))
