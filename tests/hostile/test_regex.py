"""Bounded regex: a rule whose regex would backtrack without end in Python's engine is disabled for
the run and named, and the run goes on; every other rule still matches."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from secaudit.cli.main import run as cli_run
from secaudit.detect.compile import text_pred
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


# Catastrophic in a backtracking engine although no shape rule above sees it (overlapping branches,
# nested bounded repeats): the time budget is the bound that holds for every pattern.
UNSEEN = {
    "1b1e4c1a-0000-4000-8000-000000000011": "(?=x)?(a|a)+b",
    "1b1e4c1a-0000-4000-8000-000000000012": "(?<!q)(a|aa)+b",
}


@pytest.mark.parametrize("pattern", sorted(UNSEEN.values()))
def test_the_shape_check_alone_would_let_these_through(pattern: str) -> None:
    assert backtracking_risk(pattern, "") == ""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_regex_over_its_time_budget_disables_its_rule_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for rule_id, pattern in [*UNSEEN.items(), GOOD]:
        (rules / f"{rule_id}.yml").write_text(
            RULE.format(title=f"Rule {rule_id[-2:]}", id=rule_id, pattern=pattern), encoding="utf-8"
        )
    log = tmp_path / "events.jsonl"
    events = [
        {"message": "aab"},  # both hostile rules match this one quickly: a true hit, kept
        {"message": "a" * 4000 + "c"},  # exponential for both: over the budget, rules disabled
        {"message": "ab"},  # would match, but the rules are disabled by now
        {"message": "a" * 30 + "planted"},  # the good rule still matches after all that
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    hunt = ["logs", "hunt", "--rules", str(rules), "--logsource", "product=linux", "--format", "jsonl"]
    hunt += ["--workers", workers]
    started = time.monotonic()
    code = cli_run([*hunt, str(log)])
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert elapsed < 30  # without the budget: longer than the age of the universe
    hits = sorted(
        (json.loads(line)["rule_id"], json.loads(line)["record"]) for line in captured.out.splitlines()
    )
    assert hits == sorted([*((rule_id, 1) for rule_id in UNSEEN), (GOOD[0], 4)])
    err = " ".join(captured.err.split())
    assert "2 rules could not run" in err
    for rule_id in UNSEEN:
        assert f"Rule {rule_id[-2:]}" in err
    assert (
        "ran over its budget of 0.25 s on one value" in err and "rule disabled for the rest of the run" in err
    )
    # and the gate treats a rule that stopped running like one that never ran
    code = cli_run([*hunt, "--fail-on", "high", str(log)])
    assert code == 1


def test_undecodable_text_never_sends_a_regex_to_a_backtracking_engine() -> None:
    """RE2 takes no lone surrogate (undecodable input); the value is read with U+FFFD in its place,
    still on RE2, instead of falling back to an engine that backtracks (``(a|a)+b`` is linear in RE2
    and exponential in Python's re)."""
    search, _ = text_pred(("re", "(a|a)+b", "", False))
    started = time.monotonic()
    assert search("\udcff" + "a" * 4000 + "c") is False
    assert time.monotonic() - started < 5
    assert search("\udcffaab") is True
    near, _ = text_pred(("re", "x.y", "", False))
    assert near("x\udcffy") is True  # the undecodable character is still one character
