"""SARIF level and security-severity for every severity (issue 17, item 8: mutants of the medium and
critical entries survived). GitHub code scanning reads ``security-severity`` as a number in bands:
>= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low; SARIF's ``level`` is error, warning or
note. Each severity must land in its own band, and the levels must not decrease with severity."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from secaudit.core.model import Asset, Evidence, Finding, Severity, Source
from secaudit.report.sarif import render_sarif_findings

BANDS = {  # GitHub's bands for security-severity
    Severity.CRITICAL: (9.0, 10.0),
    Severity.HIGH: (7.0, 8.9),
    Severity.MEDIUM: (4.0, 6.9),
    Severity.LOW: (0.1, 3.9),
}
LEVEL_ORDER = ["none", "note", "warning", "error"]


def _results(tmp_path: Path) -> dict[Severity, tuple[str, float]]:
    findings = [
        Finding(
            rule_id=f"rule-{severity.name.lower()}",
            source=Source.BASELINE,
            severity=severity,
            title=f"A {severity.name.lower()} finding",
            asset=Asset(key="web-01"),
            evidence=(Evidence(kind="config", summary="seen", location=f"{tmp_path / 'x.conf'}:3"),),
        )
        for severity in Severity
    ]
    out = io.StringIO()
    render_sarif_findings(findings, out, tool_version="1", default_uri="t.txt", base_dir=tmp_path)
    run = json.loads(out.getvalue())["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    got = {}
    for result in run["results"]:
        rule = rules[result["ruleId"]]
        assert rule["defaultConfiguration"]["level"] == result["level"]
        severity = Severity[result["ruleId"].removeprefix("rule-").upper()]
        got[severity] = (result["level"], float(rule["properties"]["security-severity"]))
    return got


def test_every_severity_is_in_its_github_band(tmp_path: Path) -> None:
    got = _results(tmp_path)
    assert set(got) == set(Severity)
    for severity, (low, high) in BANDS.items():
        assert low <= got[severity][1] <= high, severity
    assert got[Severity.INFO][1] == 0.0  # informational: no security severity


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "note"),
        (Severity.INFO, "note"),
    ],
)
def test_sarif_level_of_each_severity(tmp_path: Path, severity: Severity, level: str) -> None:
    assert _results(tmp_path)[severity][0] == level


def test_levels_never_decrease_with_severity(tmp_path: Path) -> None:
    got = _results(tmp_path)
    ordered = sorted(got, key=int)
    ranks = [LEVEL_ORDER.index(got[s][0]) for s in ordered]
    assert ranks == sorted(ranks)
