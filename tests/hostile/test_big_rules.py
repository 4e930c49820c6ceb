"""A rule with 20,000 ``contains`` values once failed to compile and took every other rule down with it;
it now compiles, matches its last value, and the rule beside it still runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secaudit.cli.main import run as cli_run


def test_a_rule_with_20000_values_runs_beside_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    values = "".join(f"      - 'needle{i:05d}x'\n" for i in range(20_000))
    (rules / "big.yml").write_text(
        "title: Many values\nid: 5a0c1d2e-0000-4000-8000-00000000beef\nstatus: test\n"
        "logsource: {product: linux}\ndetection:\n  sel:\n    message|contains:\n"
        f"{values}  condition: sel\nlevel: high\n",
        encoding="utf-8",
    )
    (rules / "good.yml").write_text(
        "title: Planted\nid: 3f1c8a4e-55aa-4e39-8c1b-0d6d8f2f9a10\nstatus: test\nlogsource: {product: linux}\n"
        "detection: {sel: {message|contains: planted}, condition: sel}\nlevel: high\n",
        encoding="utf-8",
    )
    log = tmp_path / "events.jsonl"
    events = [
        {"message": "a needle19999x here"},
        {"message": "needle2000x is not one"},
        {"message": "planted"},
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    code = cli_run(
        ["logs", "hunt", "--rules", str(rules), "--logsource", "product=linux", "--format", "jsonl", str(log)]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    hits = sorted((h["rule_title"], h["record"]) for h in map(json.loads, captured.out.splitlines()))
    assert hits == [("Many values", 1), ("Planted", 3)]
    assert "could not run" not in captured.err
