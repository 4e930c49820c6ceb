"""Bounded regex: a rule whose regex would backtrack without end in Python's engine is disabled for
the run and named, and the run goes on; every other rule still matches."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from secaudit.cli.main import run as cli_run
from secaudit.detect.ir import backtracking_risk

RULE = """\
title: {title}
id: {id}
status: test
logsource: {{product: linux}}
detection:
  sel:
    message|re: '{pattern}'
  condition: sel
level: high
"""
HOSTILE = {
    "1b1e4c1a-0000-4000-8000-000000000001": "(a+)+(?=b)",
    "1b1e4c1a-0000-4000-8000-000000000002": r"(a+)+\1b",
    "1b1e4c1a-0000-4000-8000-000000000003": "(?=.*a)(?=.*x).*c.*d",
}
GOOD = ("1b1e4c1a-0000-4000-8000-0000000000aa", "^(?!x)a+planted")


@pytest.mark.parametrize(
    ("pattern", "risky"),
    [
        ("(a+)+(?=b)", True),
        (r"(a+)+\1b", True),
        ("(?:a{1,5})+(?=x)", True),
        (r"(\w+)\1", True),
        ("(?=.*a)(?=.*b).*c", True),
        ("^(?!.*foo).*bar", False),  # two unbounded repeats: quadratic on 4,096 characters at worst
        (r"(\w)\1", False),
        ("foo(?!bar)", False),
        ("(?>a+)+(?=b)", False),  # atomic: never backtracks
    ],
)
def test_backtracking_risk_by_shape(pattern: str, risky: bool) -> None:
    assert bool(backtracking_risk(pattern, "")) is risky


def test_catastrophic_regexes_are_disabled_and_named_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for rule_id, pattern in [*HOSTILE.items(), GOOD]:
        (rules / f"{rule_id}.yml").write_text(
            RULE.format(title=f"Rule {rule_id[-2:]}", id=rule_id, pattern=pattern), encoding="utf-8"
        )
    log = tmp_path / "events.jsonl"
    events = [{"message": "a" * 50_000 + "c"}, {"message": "a" * 30 + "planted"}]
    log.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    started = time.monotonic()
    code = cli_run(
        ["logs", "hunt", "--rules", str(rules), "--logsource", "product=linux", "--format", "jsonl", str(log)]
    )
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert elapsed < 30
    hits = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    assert {h["rule_id"] for h in hits} == {GOOD[0]}
    for rule_id in HOSTILE:  # each disabled rule is named, with why
        assert rule_id in captured.err or f"Rule {rule_id[-2:]}" in captured.err, captured.err
    assert "backtrack" in captured.err
