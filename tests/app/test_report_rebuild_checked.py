"""Passed and not-applicable baseline checks are shown, with their evidence: per asset and baseline in
the HTML (collapsed, both languages), in findings.json and findings.csv, with the rule-result counts
in the executive summary; and a report rebuilt from history shows the same. Real baseline stage over
the demo's nginx configuration."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from secaudit.app.audit import AuditOptions, AuditResult, run_audit
from secaudit.app.history import load_run_report, rebuild_report
from secaudit.core.model import CheckOutcome, Source
from secaudit.report.i18n import labels
from tests.app.test_report_rebuild import PROFILE

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "snapshots" / "portal-nginx.conf"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Path]:
    tmp = tmp_path_factory.mktemp("checked")
    shutil.copy(SAMPLE, tmp / "portal-nginx.conf")
    profile = PROFILE.replace("report:\n  formats: [html, json]\n", "")
    profile += (
        "baseline_targets:\n  - target: file:portal-nginx.conf\n    baselines: [nginx]\n    asset: core-rtr-01\n"
        "report:\n  languages: [en, th]\n  formats: [html, json, csv, md]\n"
    )
    (tmp / "city.yaml").write_text(profile)
    history = tmp / "h.sqlite"
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_DATA_HOME", str(tmp / "data"))
    try:
        result = run_audit(
            AuditOptions(
                profile_path=tmp / "city.yaml",
                output_dir=tmp / "reports",
                history_path=history,
                stages=("baseline",),
            )
        )
    finally:
        mp.undo()
    return result, history


def test_the_stage_reports_every_check_it_ran(audited: tuple[AuditResult, Path]) -> None:
    result, _ = audited
    report = result.report
    (tally,) = report.tallies
    assert (tally.asset, tally.baseline) == ("core-rtr-01", "nginx")
    passed = [c for c in report.checked if c.outcome is CheckOutcome.PASSED]
    na = [c for c in report.checked if c.outcome is CheckOutcome.NOT_APPLICABLE]
    failed = [f for row in report.rows for f in row.all_instances if f.source is Source.BASELINE]
    assert passed and (tally.passed, tally.not_applicable, tally.failed) == (
        len(passed),
        len(na),
        len(failed),
    )
    assert {c.finding.rule_id for c in report.checked}.isdisjoint({f.rule_id for f in failed})
    for item in passed:
        assert item.finding.title.startswith("Met: ") and item.finding.evidence
        assert any("portal-nginx.conf" in e.location for e in item.finding.evidence), item.finding.rule_id


@pytest.mark.parametrize("page", ["report.html", "report.th.html"])
def test_html_lists_passed_checks_collapsed_with_evidence(
    audited: tuple[AuditResult, Path], page: str
) -> None:
    result, _ = audited
    L = labels("th" if "th" in page else "en")
    html = (result.run_dir / page).read_text(encoding="utf-8")
    section = html.split('<section id="checked">', 1)[1].split("</section>", 1)[0]
    assert section.count("<details") == 1 and "<details open" not in section
    for item in result.report.checked:
        assert f'<code class="muted">{item.finding.rule_id}</code>' in section
    assert L["check.pass"] in section and "portal-nginx.conf" in section
    (tally,) = result.report.tallies
    summary = html.split('id="baseline-results">', 1)[1].split("</table>", 1)[0]
    cells = summary.split("<tbody>", 1)[1]
    for n in (tally.passed, tally.failed, tally.not_applicable, tally.waived, tally.errors):
        assert f'<td class="num">{n}</td>' in cells


def test_json_and_csv_carry_the_passed_checks(audited: tuple[AuditResult, Path]) -> None:
    result, _ = audited
    data = json.loads((result.run_dir / "findings.json").read_text())
    (tally,) = data["baselines"]
    assert tally["pass"] == sum(1 for c in data["checked"] if c["outcome"] == "pass")
    assert all(c["finding"]["evidence"] for c in data["checked"])
    rows = list(csv.DictReader(io.StringIO((result.run_dir / "findings.csv").read_text(), newline="")))
    assert sorted(r["rule_id"] for r in rows if r["status"] in ("pass", "notapplicable")) == sorted(
        c["finding"]["rule_id"] for c in data["checked"]
    )
    assert "| core-rtr-01 | nginx | " in (result.run_dir / "summary.md").read_text()


def test_the_rebuilt_report_shows_the_same_checks(audited: tuple[AuditResult, Path], tmp_path: Path) -> None:
    result, history = audited
    assert load_run_report(history, result.run.id) == result.report
    files = rebuild_report(history, result.run.id, output_dir=tmp_path, formats=(), lang=None)
    for name in ("report.html", "report.th.html", "findings.json", "findings.csv", "summary.md"):
        assert (tmp_path / result.run.id / name).read_bytes() == (result.run_dir / name).read_bytes(), name
    assert files
