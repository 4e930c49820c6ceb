"""The fast matcher: logsource groups, an Aho-Corasick literal prefilter, compiled closures.

Per event: the rules whose logsource covers the event's kind (computed once per distinct LogKind),
one pass of that group's automaton over the event's lowercased values (joined by NUL) to find the
rules with at least one required literal present, then the exact compiled predicate of those
candidates only, plus the few rules that have no literal to filter on. Hits come out in event order,
then rule order. Construction builds closures only: no threads, no open files, safe to fork.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import ahocorasick  # type: ignore[import-not-found]

from secaudit.core.events import LogEvent, LogKind
from secaudit.detect.compile import Pred, compile_node
from secaudit.detect.model import RuleHit, RuleInfo
from secaudit.detect.plans import RuleSet
from secaudit.detect.reference import matched_fields
from secaudit.detect.values import sigma_view, text_of

SEPARATOR = "\x00"


@dataclass(slots=True)
class _Group:
    """The rules that apply to one LogKind."""

    always: tuple[int, ...]  # rules without literals: evaluated on every event of the kind
    automaton: Any  # ahocorasick.Automaton mapping literal -> tuple of rule indexes, or None
    size: int


def lowered(fields: dict[str, object]) -> tuple[dict[str, Any], str]:
    """The event's values as lowercased text (str, or tuple of str for lists; nulls left out), and
    the same joined by NUL for the prefilter. ``fields`` is the rule's view (values.sigma_view)."""
    low: dict[str, Any] = {}
    parts: list[str] = []
    for key, value in fields.items():
        cls = value.__class__
        if cls is str:
            text = value.lower()  # type: ignore[attr-defined]
        elif value is None:
            continue
        elif cls is list or cls is tuple:
            items = tuple(t.lower() for t in map(text_of, value) if t is not None)  # type: ignore[call-overload]
            low[key] = items
            parts.extend(items)
            continue
        else:
            text = str(text_of(value)).lower()
        low[key] = text
        parts.append(text)
    return low, SEPARATOR.join(parts)


class Engine:
    """Matches a rule set against streams of events. Build once, use in any number of processes."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._plans = ruleset.plans
        self._infos: tuple[RuleInfo, ...] = tuple(p.info for p in ruleset.plans)
        self._preds: tuple[Pred, ...] = tuple(compile_node(p.node) for p in ruleset.plans)
        self._groups: dict[LogKind, _Group] = {}

    def _group(self, kind: LogKind) -> _Group:
        members = [
            i for i, info in enumerate(self._infos) if kind.covers(info.product, info.category, info.service)
        ]
        always: list[int] = []
        by_literal: dict[str, list[int]] = {}
        for i in members:
            lits = self._plans[i].literals
            if lits is None:
                always.append(i)
            else:
                for lit in lits:
                    by_literal.setdefault(lit, []).append(i)
        automaton = None
        if by_literal:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
            for lit, rules in by_literal.items():
                automaton.add_word(lit, tuple(rules))
            automaton.make_automaton()
        group = _Group(always=tuple(always), automaton=automaton, size=len(members))
        self._groups[kind] = group
        return group

    def candidates(self, event: LogEvent) -> list[int]:
        """Indexes of the rules the prefilter lets through for ``event`` (for tests and benchmarks)."""
        group = self._groups.get(event.kind) or self._group(event.kind)
        _, hay = lowered(sigma_view(event.fields))
        found = set(group.always)
        if group.automaton is not None:
            for _, rules in group.automaton.iter(hay):
                found.update(rules)
        return sorted(found)

    def match(self, events: Iterable[LogEvent]) -> Iterator[RuleHit]:
        """Every hit of every rule (``emit=False`` rules included), in event order then rule order."""
        groups = self._groups
        preds = self._preds
        for event in events:
            kind = event.kind
            group = groups.get(kind)
            if group is None:
                group = self._group(kind)
            if not group.size:
                continue
            fields = event.fields
            for key in fields:
                if " " in key:
                    fields = sigma_view(fields)
                    break
            low, hay = lowered(fields)
            automaton = group.automaton
            if automaton is None:
                found: Iterable[int] = group.always
            else:
                cand = set(group.always)
                for _, rules in automaton.iter(hay):
                    cand.update(rules)
                if not cand:
                    continue
                found = sorted(cand) if len(cand) > 1 else cand
            for i in found:
                if preds[i](fields, low, event):
                    plan = self._plans[i]
                    yield RuleHit(plan.info, event, matched_fields(plan.node, event))
