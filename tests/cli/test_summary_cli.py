"""``secaudit audit`` prints the summary after the run, in the report's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.app.stages import Stage, StageContext
from secaudit.cli.main import run as cli_run
from secaudit.core.model import (
    Asset,
    Criticality,
    Finding,
    RunStatus,
    Severity,
    Source,
    StageOutput,
    StageResult,
)
from secaudit.report.i18n import labels

PROFILE = """\
version: 1
organisation: Test City
authorization:
  reference: AUTH-9
  approver: Test approver
  valid_from: 2026-01-01
  valid_until: 2099-01-01
segments:
  - name: lab
    cidrs: [127.0.0.0/30]
    kind: it
    owner: Lab
    criticality: high
report:
  language: {lang}
"""

TITLES = ("รหัสผ่านเริ่มต้นบนตู้ควบคุมสัญญาณไฟจราจร", "Telnet open on the gateway")


def _stage(ctx: StageContext) -> StageOutput:
    findings = tuple(
        Finding(
            rule_id=f"R-{i}",
            source=Source.BASELINE,
            severity=Severity.CRITICAL if i == 0 else Severity.LOW,
            title=title,
            asset=Asset(
                key=f"host-{i}", address=f"127.0.0.{i + 1}", criticality=Criticality.HIGH, segment="lab"
            ),
            evidence_key=f"k{i}",
        )
        for i, title in enumerate(TITLES)
    )
    result = StageResult(name="baseline", status=RunStatus.COMPLETED, findings=len(findings), items=3)
    return StageOutput(findings=findings, result=result)


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(
        "secaudit.app.stages.STAGES",
        (Stage(name="baseline", source=Source.BASELINE, run=_stage, description="t"),),
    )
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE.replace("{lang}", "en"), encoding="utf-8")
    return path


def test_audit_prints_the_summary_in_the_language_asked(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # titles on one line each; folding has its own test
    out_dir = tmp_path / "reports"
    args = ["audit", "--profile", str(profile), "--output-dir", str(out_dir), "--fail-on", "none"]
    assert cli_run([*args, "--lang", "th"]) == 0
    out = capsys.readouterr().out
    th = labels("th")
    assert th["total_findings"] in out and th["posture_score"] in out
    assert "ความเสี่ยงสูงสุด 2 อันดับจากทั้งหมด 2 รายการ" in out
    assert TITLES[0] in out and TITLES[1] in out
    assert out.index(TITLES[0]) < out.index(TITLES[1])  # ranked: the critical one first
    assert "รายงาน (html): " in out and str(out_dir) in out
    assert "Current findings" not in out

    assert cli_run(args) == 0  # the profile's language: English
    out = capsys.readouterr().out
    assert "Top 2 of 2 risks" in out and "Current findings: 2" in out
    assert "Since the previous run" in out and "Persisting 2" in out

    assert cli_run(["--quiet", *args]) == 0
    quiet = capsys.readouterr().out.strip().splitlines()
    assert quiet and all(line.startswith("Report (") for line in quiet)
