"""An audit scores with the imported KEV catalogue and says which in the report's methodology; a report
rebuilt later says which catalogue scored it, and which one the run used. Synthetic KEV entries only
(tests/risk/kev_files.py)."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secaudit.app.audit import AuditOptions, AuditResult, run_audit
from secaudit.app.history import load_run_report, rebuild_report
from secaudit.app.stages import Stage, StageContext
from secaudit.catalog.kev import import_kev
from secaudit.core.errors import ConfigError
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
from secaudit.core.report import Decision
from secaudit.history.store import HistoryStore
from secaudit.report.i18n import labels
from tests.risk.kev_files import catalogue, entry, write

PROFILE = """\
version: 1
organisation: KEV City
authorization:
  reference: AUTH-KEV-1
  approver: Test approver
  valid_from: 2026-01-01
  valid_until: 2099-01-01
segments:
  - name: dmz
    cidrs: [127.0.3.0/29]
    kind: dmz
    owner: Web team
    criticality: high
assets:
  - name: portal
    role: citizen portal
    address: 127.0.3.2
    criticality: high
report:
  formats: [html, json]
"""

PORTAL = Asset(
    key="portal", address="127.0.3.2", segment="dmz", role="citizen portal", criticality=Criticality.HIGH
)
VULN = Finding(
    rule_id="EXP-OLD-CMS",
    source=Source.SCAN,
    severity=Severity.MEDIUM,
    title="Outdated content management system",
    asset=PORTAL,
    evidence_key="tcp/443",
    references=(Reference(kind=RefKind.CVE, id="CVE-2099-0007"),),
    evidence=(Evidence(kind="network", summary="version banner", location="127.0.3.2:443/tcp"),),
)


def _scan(ctx: StageContext) -> StageOutput:
    return StageOutput(
        findings=(VULN,), result=StageResult(name="scan", status=RunStatus.COMPLETED, findings=1)
    )


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(
        "secaudit.app.stages.STAGES", (Stage(name="scan", source=Source.SCAN, run=_scan, description="test"),)
    )
    (tmp_path / "city.yaml").write_text(PROFILE)
    return tmp_path


def audit(city: Path) -> AuditResult:
    options = AuditOptions(
        profile_path=city / "city.yaml", output_dir=city / "reports", history_path=city / "h.sqlite"
    )
    return run_audit(options)


def methodology_model(page: Path) -> str:
    """The risk model line of the HTML report's methodology section."""
    section = page.read_text(encoding="utf-8").split('<section id="methodology">', 1)[1]
    label = re.escape(html.escape(labels("en")["risk_model"]))
    found = re.search(rf"<dt>{label}</dt><dd[^>]*>(.*?)</dd>", section)
    assert found is not None
    return html.unescape(found.group(1))


def _released(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def test_the_audit_uses_the_imported_catalogue_and_names_it(city: Path) -> None:
    released = _released(3)
    import_kev(write(city / "dl.json", catalogue(entry(7), version="2099.7", released=released)))
    result = audit(city)
    expected = f"risk-3 (KEV 2099.7, released {released:%Y-%m-%d})"
    assert result.run.risk_model == expected
    with HistoryStore.open(city / "h.sqlite") as store:
        assert store.get_run(result.run.id).risk_model == expected
    (row,) = result.report.rows
    assert ("exploitability", "CVE-2099-0007 in KEV 2099.7", 15.0) in [
        (f.name, f.value, f.points) for f in row.factors
    ]
    assert row.decision is Decision.ACT  # active / open (dmz) / medium impact
    assert methodology_model(result.files["html"]) == expected
    assert json.loads(result.files["json"].read_text())["run"]["risk_model"] == expected


def test_without_a_catalogue_the_methodology_says_so(city: Path) -> None:
    result = audit(city)
    assert methodology_model(result.files["html"]) == "risk-3 (no KEV catalogue)"
    (row,) = result.report.rows
    assert all(f.name != "exploitability" for f in row.factors)
    assert row.decision is Decision.ATTEND  # an automatable service on an open system: poc / open / medium


def test_a_rebuilt_report_keeps_the_scores_the_run_reported(city: Path) -> None:
    first = _released(10)
    import_kev(write(city / "a.json", catalogue(entry(1), version="A", released=first)))
    result = audit(city)  # CVE-2099-0007 not listed in A
    assert result.report.rows[0].decision is Decision.ATTEND
    used = f"risk-3 (KEV A, released {first:%Y-%m-%d})"

    # A newer catalogue lists the CVE; the run's report was signed as it was: rebuilt, it is the same.
    second = _released(1)
    import_kev(write(city / "b.json", catalogue(entry(1), entry(7), version="B", released=second)))
    files = rebuild_report(
        city / "h.sqlite", result.run.id, output_dir=city / "again", formats=("html",), lang="en"
    )
    assert methodology_model(files["html"]) == used
    rebuilt = load_run_report(city / "h.sqlite", result.run.id)
    assert rebuilt.run.risk_model == used
    assert [(r.score, r.decision, r.factors) for r in rebuilt.rows] == [
        (r.score, r.decision, r.factors) for r in result.report.rows
    ]


def test_a_run_without_stored_figures_is_scored_again_and_says_so(city: Path) -> None:
    first = _released(10)
    import_kev(write(city / "a.json", catalogue(entry(1), version="A", released=first)))
    result = audit(city)
    with closing(sqlite3.connect(city / "h.sqlite")) as conn:  # as a history written before figures were kept
        conn.execute("DELETE FROM run_reports")
        conn.commit()
    second = _released(1)
    import_kev(write(city / "b.json", catalogue(entry(1), entry(7), version="B", released=second)))
    files = rebuild_report(
        city / "h.sqlite", result.run.id, output_dir=city / "again", formats=("html",), lang="en"
    )
    expected = (
        f"risk-3 (KEV B, released {second:%Y-%m-%d}), scored again when this report was rebuilt;"
        f" the run used risk-3 (KEV A, released {first:%Y-%m-%d})"
    )
    assert methodology_model(files["html"]) == expected
    rebuilt = load_run_report(city / "h.sqlite", result.run.id)
    assert rebuilt.rows[0].decision is Decision.ACT


def test_a_broken_catalogue_stops_the_audit_before_anything_is_recorded(city: Path) -> None:
    target = city / "data" / "secaudit" / "kev.json"
    import_kev(write(city / "a.json", catalogue()))
    target.write_text(target.read_text().replace('"count": 3', '"count": 4'))
    with pytest.raises(ConfigError) as caught:
        audit(city)
    assert caught.value.location is not None and caught.value.location.startswith(f"{target}:")
    assert not (city / "h.sqlite").exists()


def test_a_profile_kev_path_is_used_instead_of_the_imported_copy(city: Path) -> None:
    released = _released(1)
    write(city / "kev-profile.json", catalogue(entry(7), version="2099.9", released=released))
    (city / "city.yaml").write_text(PROFILE + "kev: kev-profile.json\n")
    result = audit(city)  # nothing was imported into XDG_DATA_HOME: only the profile's catalogue exists
    assert result.run.risk_model == f"risk-3 (KEV 2099.9, released {released:%Y-%m-%d})"
    (row,) = result.report.rows
    assert ("exploitability", "CVE-2099-0007 in KEV 2099.9", 15.0) in [
        (f.name, f.value, f.points) for f in row.factors
    ]
    (city / "city.yaml").write_text(PROFILE + "kev: missing.json\n")
    with pytest.raises(ConfigError) as info:
        audit(city)
    assert "KEV catalogue not found" in info.value.message
    assert info.value.location == f"{city / 'city.yaml'}:{PROFILE.count(chr(10)) + 1}"
