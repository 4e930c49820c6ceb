"""`secaudit report --run ID` rebuilds a run's report from history with its waived and accepted
findings: the same list (kind, justification, approver, expiry, source) in the Report, the JSON and
the HTML as the audit itself wrote."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from secaudit.app.audit import AuditOptions, AuditResult, run_audit
from secaudit.app.history import load_run_report
from secaudit.app.stages import Stage, StageContext
from secaudit.cli.main import run as cli_run
from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    RunStatus,
    Severity,
    Source,
    StageOutput,
    StageResult,
    WaivedFinding,
    WaiverKind,
)
from secaudit.report.i18n import labels

BKK = timezone(timedelta(hours=7))

PROFILE = """\
version: 1
organisation: Rebuild City
authorization:
  reference: AUTH-REBUILD-1
  approver: Test approver
  valid_from: 2026-01-01
  valid_until: 2099-01-01
segments:
  - name: core
    cidrs: [127.0.2.0/29]
    kind: mgmt
    owner: Network Operations
    criticality: critical
assets:
  - name: core-rtr-01
    role: core router
    address: 127.0.2.2
    criticality: critical
report:
  formats: [html, json]
"""

ROUTER = Asset(
    key="core-rtr-01",
    address="127.0.2.2",
    segment="core",
    role="core router",
    criticality=Criticality.CRITICAL,
)


def _check(rule_id: str, key: str, line: int, severity: Severity) -> Finding:
    return Finding(
        rule_id=rule_id,
        source=Source.BASELINE,
        severity=severity,
        title=f"Not met: {rule_id}",
        asset=ROUTER,
        evidence_key=key,
        evidence=(Evidence(kind="config", summary=key, location=f"configs/core-rtr-01.cfg:{line}"),),
        remediation=f"no {key}",
    )


OPEN = _check("ios-no-telnet", "transport input telnet", 40, Severity.HIGH)
WAIVED = (
    WaivedFinding(
        finding=_check("ios-no-cdp", "cdp run", 12, Severity.LOW),
        kind=WaiverKind.WAIVED,
        justification="CDP feeds the NOC topology map; it is filtered at the segment edge",
        approved_by="Network Operations",
        expires=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        source="waivers.yaml:4",
    ),
    WaivedFinding(
        finding=_check("ios-no-http-server", "ip http server", 20, Severity.MEDIUM),
        kind=WaiverKind.ACCEPTED,
        justification="the signal vendor's tool needs the HTTP API until the Q3 firmware <img src=x onerror=1>",
        approved_by="Director, City Digital Office",
        expires=datetime(2099, 3, 31, 18, 0, tzinfo=BKK),
        source="waivers.yaml:11",
    ),
)


def _baseline_stage(ctx: StageContext) -> StageOutput:
    return StageOutput(
        findings=(OPEN,),
        result=StageResult(name="baseline", status=RunStatus.COMPLETED, findings=1, items=3),
        waived=WAIVED,
    )


@pytest.fixture
def audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AuditResult, Path]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # no KEV catalogue from the machine
    profile = tmp_path / "city.yaml"
    profile.write_text(PROFILE)
    stage = Stage(name="baseline", source=Source.BASELINE, run=_baseline_stage, description="test")
    monkeypatch.setattr("secaudit.app.stages.STAGES", (stage,))
    history = tmp_path / "h.sqlite"
    options = AuditOptions(profile_path=profile, output_dir=tmp_path / "reports", history_path=history)
    return run_audit(options), history


class _WaivedTable(HTMLParser):
    """The cell texts of each row of the HTML report's waived table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", "waived-table") in attrs:
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def waived_table(path: Path) -> list[list[str]]:
    parser = _WaivedTable()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.rows


def test_the_rebuilt_report_holds_the_runs_waived_findings(audited: tuple[AuditResult, Path]) -> None:
    result, history = audited
    assert result.report.waived == WAIVED
    rebuilt = load_run_report(history, result.run.id)
    assert rebuilt.waived == WAIVED
    assert [(w.kind, w.justification, w.approved_by, w.expires, w.source) for w in rebuilt.waived] == [
        (
            WaiverKind.WAIVED,
            WAIVED[0].justification,
            "Network Operations",
            WAIVED[0].expires,
            "waivers.yaml:4",
        ),
        (
            WaiverKind.ACCEPTED,
            WAIVED[1].justification,
            "Director, City Digital Office",
            datetime(2099, 3, 31, 18, 0, tzinfo=BKK),
            "waivers.yaml:11",
        ),
    ]
    # The waived findings stay out of the ranking, as in the audit's own report.
    assert [row.finding.rule_id for row in rebuilt.rows] == ["ios-no-telnet"]
    assert rebuilt.posture_score == result.report.posture_score


def test_secaudit_report_writes_the_same_waived_list_as_the_audit(
    audited: tuple[AuditResult, Path], tmp_path: Path
) -> None:
    result, history = audited
    out = tmp_path / "rebuilt"
    argv = ["report", "--run", result.run.id, "--history", str(history), "--output-dir", str(out)]
    code = cli_run([*argv, "--format", "json", "--format", "html"])
    assert code == 0
    original, again = result.run_dir, out / result.run.id

    first = json.loads((original / "findings.json").read_text())["waived"]
    second = json.loads((again / "findings.json").read_text())["waived"]
    assert second == first
    assert [(w["kind"], w["justification"], w["expires"]) for w in second] == [
        ("waived", WAIVED[0].justification, "2026-12-31T23:59:59+00:00"),
        ("accepted", WAIVED[1].justification, "2099-03-31T18:00:00+07:00"),
    ]
    assert [w["finding"]["fingerprint"] for w in second] == [w.finding.fingerprint for w in WAIVED]

    table = waived_table(again / "report.html")
    assert table == waived_table(original / "report.html")
    by_rule = {row[1].split()[-1]: row for row in table}
    assert set(by_rule) == {"ios-no-cdp", "ios-no-http-server"}
    cdp, http = by_rule["ios-no-cdp"], by_rule["ios-no-http-server"]
    label = labels("en")
    assert cdp[0] == label["waiver.waived"] and http[0] == label["waiver.accepted"]
    assert cdp[3] == f"{WAIVED[0].justification} waivers.yaml:4"
    assert http[3] == f"{WAIVED[1].justification} waivers.yaml:11"  # the markup stays text
    assert cdp[4] == "Network Operations" and http[4] == "Director, City Digital Office"
    assert (
        cdp[5].startswith("2026-12-31 23:59 UTC") and http[5] == "2099-03-31 11:00 UTC"
    )  # the profile has no timezone: UTC
    assert "<img src=x" not in (again / "report.html").read_text().split('id="waived-table"')[1]
