"""A rebuilt report is the original report: every format, byte for byte, for each run of a history
holding two runs, after the KEV catalogue and the history itself have moved on.

The audits run real stages' plumbing with producers replaced by fixed findings (the producers have
their own tests); everything from the history write to the report files is the real code.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.app.audit import AuditOptions, AuditResult, run_audit
from secaudit.app.history import load_run_report
from secaudit.app.stages import Stage, StageContext
from secaudit.catalog.kev import import_kev
from secaudit.cli.main import run as cli_run
from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    Reference,
    RefKind,
    RunStatus,
    Severity,
    Source,
    StageOutput,
    StageResult,
)
from secaudit.core.report import Status
from tests.risk.kev_files import catalogue, entry, write

PROFILE = """\
version: 1
organisation: Rebuild City
authorization:
  reference: AUTH-REBUILD-2
  approver: Test approver
  valid_from: 2026-01-01
  valid_until: 2099-01-01
segments:
  - name: dmz
    cidrs: [127.0.4.0/29]
    kind: dmz
    owner: Web team
    criticality: high
  - name: core
    cidrs: [127.0.4.8/29]
    kind: mgmt
    owner: Network Operations
    criticality: critical
assets:
  - name: portal
    role: citizen portal
    address: 127.0.4.2
    criticality: high
  - name: app-01
    role: application server
    address: 127.0.4.10
    criticality: critical
  - name: app-02
    role: application server
    address: 127.0.4.11
    criticality: critical
report:
  languages: [en, th]
  formats: [html, json, sarif, junit, csv, md]
  fail_on: critical
"""

PORTAL = Asset(
    key="portal", address="127.0.4.2", segment="dmz", role="citizen portal", criticality=Criticality.HIGH
)
APP1 = Asset(key="app-01", address="127.0.4.10", segment="core", criticality=Criticality.CRITICAL)
APP2 = Asset(key="app-02", address="127.0.4.11", segment="core", criticality=Criticality.CRITICAL)


def scan_finding(rule: str, port: int, severity: Severity, *, cve: str = "") -> Finding:
    return Finding(
        rule_id=rule,
        source=Source.SCAN,
        severity=severity,
        title=f"{rule} reachable",
        asset=PORTAL,
        evidence_key=f"tcp/{port}",
        references=(Reference(kind=RefKind.CVE, id=cve),) if cve else (),
        evidence=(Evidence(kind="network", summary="banner", location=f"127.0.4.2:{port}/tcp"),),
    )


def check_finding(rule: str, asset: Asset, severity: Severity) -> Finding:
    return Finding(
        rule_id=rule,
        source=Source.BASELINE,
        severity=severity,
        title=f"Not met: {rule}",
        asset=asset,
        evidence_key="/etc/ssh/sshd_config",
        evidence=(Evidence(kind="config", summary=rule, location="/etc/ssh/sshd_config:3"),),
        remediation=f"set {rule}",
    )


TELNET = scan_finding("EXP-TELNET", 23, Severity.HIGH)
CMS = scan_finding("EXP-OLD-CMS", 443, Severity.MEDIUM, cve="CVE-2099-0007")
FTP = scan_finding("EXP-FTP", 21, Severity.HIGH)
ROOT1 = check_finding("ssh-permit-root-login", APP1, Severity.HIGH)
ROOT2 = check_finding("ssh-permit-root-login", APP2, Severity.HIGH)
BANNER = check_finding("ssh-banner", APP1, Severity.LOW)

# What each run's producers find. The second run fixes telnet, finds FTP, keeps the rest.
_RUNS = {"n": 0}  # audits done in the current test
FOUND: dict[str, list[tuple[Finding, ...]]] = {
    "scan": [(TELNET, CMS), (CMS, FTP)],
    # Two baselines sharing a check find ROOT1 twice: one finding.
    "baseline": [(ROOT1, ROOT2, BANNER, ROOT1), (ROOT1, ROOT2, BANNER, ROOT1)],
}


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    _RUNS["n"] = 0

    def producer(name: str) -> Stage:
        def run(ctx: StageContext) -> StageOutput:
            found = FOUND[name][min(_RUNS["n"], 1)]
            return StageOutput(
                findings=found,
                result=StageResult(name=name, status=RunStatus.COMPLETED, findings=len(found), items=5),
            )

        source = Source.SCAN if name == "scan" else Source.BASELINE
        return Stage(name=name, source=source, run=run, description="test")

    monkeypatch.setattr("secaudit.app.stages.STAGES", (producer("scan"), producer("baseline")))
    (tmp_path / "city.yaml").write_text(PROFILE)
    return tmp_path


def audit(city: Path, profile: Path | None = None) -> AuditResult:
    options = AuditOptions(
        profile_path=profile or city / "city.yaml",
        output_dir=city / "reports",
        history_path=city / "h.sqlite",
    )
    result = run_audit(options)
    _RUNS["n"] += 1
    return result


FILES = (
    "report.html",
    "report.th.html",
    "findings.json",
    "findings.sarif",
    "junit.xml",
    "findings.csv",
    "summary.md",
)


def test_every_format_rebuilt_from_a_two_run_history_is_the_original(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_kev(write(city / "a.json", catalogue(entry(7), version="A")))  # CVE-2099-0007 listed
    first = audit(city)
    second = audit(city)
    # The world moves on: a catalogue that no longer lists the CVE, and a third run that changes
    # every finding's last sighting in history.
    import_kev(write(city / "b.json", catalogue(entry(1), version="B")))
    audit(city)

    # The profile named relative to where the audit ran (as `make demo` does); rebuilt from elsewhere.
    monkeypatch.chdir(city)
    third = audit(city, Path("city.yaml"))
    (city / "elsewhere").mkdir()
    monkeypatch.chdir(city / "elsewhere")
    for result in (first, second, third):
        out = city / "rebuilt"
        argv = [
            "report",
            "--run",
            result.run.id,
            "--history",
            str(city / "h.sqlite"),
            "--output-dir",
            str(out),
        ]
        assert cli_run(argv) == 0
        for name in FILES:
            original = (result.run_dir / name).read_bytes()
            again = (out / result.run.id / name).read_bytes()
            assert again == original, f"{name} of run {result.run.id} differs when rebuilt"
        rebuilt = load_run_report(city / "h.sqlite", result.run.id)
        # the profile is loaded again from its resolved path; everything computed is the run's own
        assert Path(rebuilt.profile.path).resolve() == Path(city / "city.yaml").resolve()
        assert replace(rebuilt, profile=result.report.profile) == result.report


def test_the_stored_figures_are_the_runs_own(city: Path) -> None:
    import_kev(write(city / "a.json", catalogue(entry(7), version="A")))
    first = audit(city)
    second = audit(city)
    # One finding per fingerprint: ROOT1 found twice is one finding, in the stage count too.
    assert [f.fingerprint for row in first.report.rows for f in row.all_instances].count(
        ROOT1.fingerprint
    ) == 1
    baseline = next(s for s in first.run.stages if s.name == "baseline")
    assert baseline.findings == 3
    assert first.report.trend.new == 5 and first.report.trend.persisting == 0
    # Run 2: FTP is new, telnet fixed, the rest persisting; the row of ROOT1+ROOT2 aggregates two.
    assert (second.report.trend.new, second.report.trend.persisting, second.report.trend.fixed) == (1, 4, 1)
    assert [f.fingerprint for f in second.report.fixed] == [TELNET.fingerprint]
    root = next(r for r in second.report.rows if r.finding.rule_id == "ssh-permit-root-login")
    assert set(root.fingerprints) == {ROOT1.fingerprint, ROOT2.fingerprint}
    assert root.status is Status.PERSISTING and root.first_seen == first.run.started_at
    assert root.last_seen == second.run.started_at
    cms = next(r for r in first.report.rows if r.finding.rule_id == "EXP-OLD-CMS")
    assert any("in KEV A" in f.value for f in cms.factors)
    data = json.loads((first.run_dir / "findings.json").read_text())
    assert data["summary"]["total"] == len(first.report.rows)
