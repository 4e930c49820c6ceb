"""One count vocabulary in every writer: a *finding* is one check or rule on one asset, a *row*
groups identical findings across assets. Every count on the summary names its unit and adds up to
the rows below it. The fixture report has one row holding the same finding on two assets."""

from __future__ import annotations

import io
import json
import re

import pytest

from secaudit.core.model import Severity, Source
from secaudit.core.report import Decision, Report
from secaudit.report.i18n import labels
from secaudit.report.json_writer import render_json
from secaudit.report.markdown import render_markdown
from secaudit.report.summary import at_or_above, summarize

from .htmlreport import Dom, full_risk_report, render


@pytest.fixture
def report() -> Report:
    return full_risk_report()


def _findings(report: Report) -> int:
    return sum(len(r.fingerprints) or 1 for r in report.rows)


def test_the_fixture_has_rows_that_group_findings(report: Report) -> None:
    assert _findings(report) == len(report.rows) + 1


def test_summary_counts_both_units_and_they_add_up(report: Report) -> None:
    summary = summarize(report)
    assert (summary.rows, summary.findings, summary.grouped) == (len(report.rows), _findings(report), True)
    for by_rows, by_findings in (
        (summary.by_severity, summary.by_severity_findings),
        (summary.by_source, summary.by_source_findings),
        (summary.by_decision, summary.by_decision_findings),
    ):
        assert sum(n for _, n in by_rows) == summary.rows
        assert sum(n for _, n in by_findings) == summary.findings
    telnet = next(r for r in report.rows if len(r.fingerprints) == 2)
    assert (
        dict(summary.by_decision_findings)[telnet.decision] == dict(summary.by_decision)[telnet.decision] + 1
    )
    assert at_or_above(report, Severity.HIGH) == sum(
        len(r.fingerprints) or 1 for r in report.rows if r.finding.severity >= Severity.HIGH
    )


def test_json_names_rows_and_findings(report: Report) -> None:
    out = io.StringIO()
    render_json(report, out)
    data = json.loads(out.getvalue())["summary"]
    assert data["total"] == len(report.rows) and data["instances"] == _findings(report)
    assert sum(data["by_decision"].values()) == data["total"]
    assert sum(data["by_decision_findings"].values()) == data["instances"]
    assert (
        sum(data["by_severity_findings"].values())
        == sum(data["by_source_findings"].values())
        == data["instances"]
    )
    assert data["by_source_findings"][Source.SCAN.value] == data["by_source"][Source.SCAN.value] + 1


@pytest.mark.parametrize("lang", ["en", "th"])
def test_html_summary_names_its_units_and_traces_to_the_rows(report: Report, lang: str) -> None:
    L = labels(lang)
    page = render(report, lang)
    summary = page.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert Dom(summary.split('id="units-note">', 1)[1].split("</p>", 1)[0]).flat() == L["units_note"]
    card = Dom(summary.split('id="findings-card">', 1)[1].split("</div>", 1)[0]).flat()
    expected = (
        L["findings_in_rows"]
        .replace("{findings}", str(_findings(report)))
        .replace("{rows}", str(len(report.rows)))
    )
    assert card == f"{_findings(report)} {L['total_findings']} {expected}"
    for decision in Decision:
        rows = [r for r in report.rows if r.decision is decision]
        button = summary.split(f'data-decision="{decision.value}"', 1)[1].split("</button>", 1)[0]
        assert button.startswith(f'><span class="n">{len(rows)}</span>')
        found = L["n_findings"].replace("{n}", str(sum(len(r.fingerprints) or 1 for r in rows)))
        assert f"{L['rows_unit']} · {found}" in Dom(button).flat()
    table = summary.split('id="severity-table">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<td class="num">(\d+)</td>', table)
    for i, severity in enumerate(sorted(Severity, reverse=True)):
        rows = [r for r in report.rows if r.finding.severity is severity]
        assert cells[2 * i : 2 * i + 2] == [str(len(rows)), str(sum(len(r.fingerprints) or 1 for r in rows))]


def test_markdown_names_its_units(report: Report) -> None:
    out = io.StringIO()
    render_markdown(report, out)
    text = out.getvalue()
    assert (
        f"{_findings(report)} findings (a finding is one check or rule on one asset), in {len(report.rows)} ranked rows"
        in text
    )
    assert "| rows | " in text and "| findings | " in text
