"""Helpers for detection tests: write rules to a temporary folder, load, match with both matchers."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from secaudit.core.events import LogEvent, LogKind
from secaudit.detect.engine import Engine
from secaudit.detect.loader import RuleSet, load_rules
from secaudit.detect.reference import reference_matches

SYSMON_PROCESS = LogKind("windows", frozenset({"process_creation"}), frozenset({"sysmon"}))
WHEN = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def rule_text(
    detection: str, *, rule_id: str = "11111111-1111-4111-8111-111111111111", level: str = "high"
) -> str:
    body = textwrap.indent(textwrap.dedent(detection).strip(), "    ")
    return (
        f"title: Test rule {rule_id[:8]}\n"
        f"id: {rule_id}\n"
        "status: test\n"
        "author: secaudit tests\n"
        "logsource:\n    product: windows\n    category: process_creation\n"
        f"detection:\n{body}\n"
        f"level: {level}\n"
    )


def load_text(tmp_path: Path, text: str, name: str = "rule.yml", **kwargs: object) -> RuleSet:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return load_rules([folder], cache_dir=tmp_path / "cache", **kwargs)  # type: ignore[arg-type]


def event(fields: dict[str, object], *, record: int = 1, kind: LogKind = SYSMON_PROCESS) -> LogEvent:
    return LogEvent(fields=fields, kind=kind, source="test.jsonl", record=record, timestamp=WHEN)


def both(ruleset: RuleSet, events: Sequence[LogEvent]) -> set[tuple[str, int]]:
    """(rule id, record) pairs the engine reports; asserts the reference matcher reports the same."""
    fast = {(h.rule.id, h.event.record) for h in Engine(ruleset).match(events)}
    slow = {
        (plan.info.id, ev.record)
        for ev in events
        for plan in ruleset.plans
        if ev.kind.covers(plan.info.product, plan.info.category, plan.info.service)
        and reference_matches(plan.node, ev)
    }
    assert fast == slow
    return fast
