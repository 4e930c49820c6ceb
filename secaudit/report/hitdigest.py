"""What a hunt found, at a glance: hits and rules by level, the hosts with most hits per level, the
share of events with hits, the time span of the hits and the days with most of them.

A hunt feeds every hit to :class:`HitDigest` (as to any hit writer); it keeps counts, not hits, so its
memory grows with the number of rules, hosts and days, never with the number of hits. The terminal
summary and ``--json`` are drawn from it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from secaudit.core.events import LogEvent
from secaudit.detect.model import LEVELS, CorrelationHit, RuleHit
from secaudit.report.hits import event_host

Hit = RuleHit | CorrelationHit
NO_HOST = "(no host)"


@dataclass(slots=True)
class LevelDigest:
    hits: int = 0
    rules: set[str] = field(default_factory=set)
    hosts: Counter[str] = field(default_factory=Counter)


class HitDigest:
    """Counts of the hits of one hunt; ``write`` takes each hit, ``close`` does nothing."""

    def __init__(self) -> None:
        self.levels: dict[str, LevelDigest] = defaultdict(LevelDigest)
        self.events_with_hits: set[tuple[str, int]] = set()
        self.days: Counter[date] = Counter()
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.untimed = 0

    def write(self, hit: Hit) -> None:
        if isinstance(hit, RuleHit):
            events: tuple[LogEvent, ...] = (hit.event,)
            when: datetime | None = hit.event.timestamp
        else:
            events, when = hit.events, hit.first
        level = self.levels[hit.rule.level or "unknown"]
        level.hits += 1
        level.rules.add(hit.rule.id)
        host = event_host(events[0].fields) if events else ""
        level.hosts[host or NO_HOST] += 1
        for event in events:
            self.events_with_hits.add((event.source, event.record))
        if when is None:
            self.untimed += 1
            return
        self.days[when.date()] += 1
        self.first = when if self.first is None or when < self.first else self.first
        self.last = when if self.last is None or when > self.last else self.last

    def close(self) -> None:
        """Nothing to flush: the digest is read after the hunt."""

    @property
    def hits(self) -> int:
        return sum(d.hits for d in self.levels.values())

    def ordered_levels(self) -> list[tuple[str, LevelDigest]]:
        """Levels with hits, the most severe first (a level no rule declared comes last)."""
        rank = {lvl: i for i, lvl in enumerate(reversed(LEVELS))}
        return sorted(self.levels.items(), key=lambda item: rank.get(item[0], len(rank)))

    def top_days(self, count: int = 3) -> list[tuple[date, int]]:
        return sorted(self.days.items(), key=lambda item: (-item[1], item[0]))[:count]

    def to_dict(self, *, top_hosts: int = 5, top_days: int = 5) -> dict[str, Any]:
        """JSON-safe figures (``logs hunt --json``)."""
        return {
            "by_level": {
                level: {
                    "hits": d.hits,
                    "rules": len(d.rules),
                    "top_hosts": [{"host": h, "hits": n} for h, n in _top(d.hosts, top_hosts)],
                }
                for level, d in self.ordered_levels()
            },
            "events_with_hits": len(self.events_with_hits),
            "first_hit": self.first.isoformat() if self.first else None,
            "last_hit": self.last.isoformat() if self.last else None,
            "hits_without_time": self.untimed,
            "top_days": [{"date": d.isoformat(), "hits": n} for d, n in self.top_days(top_days)],
        }


def _top(counter: Counter[str], count: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:count]


def top_hosts(digest: LevelDigest, count: int = 3) -> list[tuple[str, int]]:
    return _top(digest.hosts, count)
