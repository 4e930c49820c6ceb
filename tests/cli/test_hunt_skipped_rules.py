"""A rule that cannot run is never silent: named under -q and --json, and a --fail-on gate at or below
its level fails unless --allow-skipped-rules (issue 17, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secaudit.cli.main import run

REPO = Path(__file__).resolve().parents[2]
LOGS = REPO / "samples" / "logs"
OT_RULES = REPO / "rules" / "sigma" / "ot"  # both need %ot_engineering_workstations%


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def hunt(tmp_path: Path, *args: str) -> list[str]:
    return ["-q", "logs", "hunt", *args, str(LOGS), "-o", str(tmp_path / "hits.jsonl")]


def test_quiet_hunt_names_the_skipped_critical_rules_and_the_gate_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(hunt(tmp_path, "--fail-on", "critical")) == 1
    err = capsys.readouterr().err
    assert "2 rules could not run (2 critical)" in err
    assert "Modbus Write from a Host Other Than an Engineering Workstation" in err
    assert "DNP3 Control or Write Request" in err
    assert "zeek_modbus_write_unexpected_host.yml:1" in err
    assert "exit 1: 2 rule(s) at or above critical could not run" in err


def test_allow_skipped_rules_lets_the_gate_pass_but_still_lists_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(hunt(tmp_path, "--fail-on", "critical", "--allow-skipped-rules")) == 0
    assert "2 rules could not run (2 critical)" in capsys.readouterr().err


def test_with_the_placeholder_values_the_rules_run_and_one_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = tmp_path / "placeholders.yaml"
    values.write_text("ot_engineering_workstations: [127.20.1.11]\n", encoding="utf-8")
    argv = hunt(tmp_path, "--rules", str(OT_RULES), "--placeholders", str(values), "--fail-on", "critical")
    assert run(argv) == 1  # now for a real reason: the demo's Modbus write from a non-engineering host
    assert "could not run" not in capsys.readouterr().err
    hits = [json.loads(line) for line in (tmp_path / "hits.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {h["rule_title"] for h in hits} == {
        "Modbus Write from a Host Other Than an Engineering Workstation"
    }


def test_a_gate_above_the_skipped_rules_level_is_not_tripped_by_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    source = (OT_RULES / "zeek_modbus_write_unexpected_host.yml").read_text(encoding="utf-8")
    (rules / "low.yml").write_text(source.replace("level: critical", "level: low"), encoding="utf-8")
    assert "level: low" in (rules / "low.yml").read_text(encoding="utf-8")
    (rules / "runs.yml").write_text(
        (REPO / "rules" / "sigma" / "linux" / "lnx_sudo_shell.yml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert run(hunt(tmp_path, "--rules", str(rules), "--fail-on", "critical")) == 0
    assert "1 rules could not run (1 low)" in capsys.readouterr().err


def test_json_summary_marks_skipped_rules_with_their_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["logs", "hunt", "--json", str(LOGS), "-o", str(tmp_path / "hits.jsonl")]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["rules_skipped"] == 2
    skipped = [p for p in summary["rule_problems"] if p["skipped"]]
    assert {p["level"] for p in skipped} == {"critical"}
    assert "2 rules could not run" in err
