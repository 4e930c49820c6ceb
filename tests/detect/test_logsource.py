"""Which rules apply to which events: the logsource test on its own (issue 17, item 8: the reference
matcher calls the same LogKind.covers, so the differential test cannot see a mutant of its service
check). Stated from the Sigma specification: a named product, category or service must be one the
event has; an absent one means any; names compare without case."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.core.events import LogKind
from secaudit.detect.engine import Engine

from .helpers import event, load_text

AUTH = LogKind(product="linux", categories=frozenset(), services=frozenset({"auth", "sshd"}))
SECURITY = LogKind(product="windows", categories=frozenset(), services=frozenset({"security"}))


@pytest.mark.parametrize(
    ("kind", "rule", "applies"),
    [
        (AUTH, ("linux", None, "sshd"), True),
        (AUTH, ("linux", None, "auth"), True),
        (AUTH, ("linux", None, "sudo"), False),  # a service the event does not have
        (AUTH, (None, None, "sshd"), True),
        (AUTH, (None, None, None), True),
        (AUTH, ("windows", None, "sshd"), False),
        (AUTH, ("linux", "process_creation", None), False),
        (SECURITY, ("Windows", None, "Security"), True),  # no case
        (SECURITY, ("windows", None, "system"), False),
        (SECURITY, ("windows", None, None), True),
    ],
)
def test_covers(kind: LogKind, rule: tuple[str | None, str | None, str | None], applies: bool) -> None:
    assert kind.covers(*rule) is applies


def _rule(rule_id: str, service: str) -> str:
    return (
        f"title: Service {service}\nid: {rule_id}\nstatus: test\nauthor: secaudit tests\n"
        f"logsource:\n    product: linux\n    service: {service}\n"
        "detection:\n    sel:\n        message|contains: 'Accepted password'\n    condition: sel\n"
        "level: high\n"
    )


def test_the_engine_runs_only_the_rules_of_the_events_service(tmp_path: Path) -> None:
    ruleset = load_text(
        tmp_path,
        _rule("aaaaaaaa-0000-4000-8000-0000000000a1", "sshd")
        + "---\n"
        + _rule("bbbbbbbb-0000-4000-8000-0000000000b2", "sudo"),
    )
    line = {"message": "Accepted password for op01 from 10.0.0.5 port 50522 ssh2"}
    hits = list(Engine(ruleset).match([event(line, kind=AUTH)]))
    assert [h.rule.title for h in hits] == ["Service sshd"]
