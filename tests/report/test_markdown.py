from __future__ import annotations

import io
import re
from dataclasses import replace

from secaudit.core.model import RunStatus, StageResult
from secaudit.core.report import Report
from secaudit.report.markdown import md_text, render_markdown
from tests.risk.builders import scored_report

from .conftest import findings_from_every_source


def _render(report: Report) -> str:
    out = io.StringIO()
    render_markdown(report, out)
    return out.getvalue()


def test_summary_has_posture_decisions_trend_and_top_rows() -> None:
    report = scored_report()
    text = _render(report)
    assert f"**Posture score: {report.posture_score:.1f} / 100**" in text
    assert "| 1 | 2 | 1 | 1 | 0 |" in text  # act, attend, track*, track, waived
    assert "Against run `20260201T020000-pkt`, in findings: 5 new, 0 persisting, 1 fixed." in text
    lines = [line for line in text.splitlines() if line.startswith("| 1 | Act")]
    assert lines == [
        "| 1 | Act | 91.5 | critical | Password spraying against the domain controller | cc-dc-01 | new |"
    ]


def test_only_ten_rows_and_untrusted_text_is_inert() -> None:
    template = findings_from_every_source()[0]
    findings = [
        replace(template, rule_id=f"R{i:02d}", title=f"t{i} | <img src=x onerror=alert(1)> [x](http://evil)")
        for i in range(25)
    ]
    text = _render(scored_report(findings))
    assert "### Top 10 of 25" in text
    table = [line for line in text.splitlines() if line.startswith("| ") and "onerror" in line]
    assert len(table) == 10
    assert not any(re.search(r"(?<!\\)[<>\[\]]", line) for line in table)  # every bracket escaped
    assert "t0 \\| \\<img src=x onerror=alert(1)\\> \\[x\\](http://evil)" in text


def test_empty_and_partial_runs() -> None:
    report = scored_report([])
    report = replace(
        report,
        run=replace(
            report.run,
            status=RunStatus.INCOMPLETE,
            stages=(
                StageResult(name="scan", status=RunStatus.FAILED, errors=("nmap: exit 1\nsecond line",)),
            ),
        ),
    )
    text = _render(report)
    assert "No open findings." in text
    assert "**Partial run:**" in text
    assert "- stage **scan**: failed" in text
    assert "  - nmap: exit 1 second line" in text
    assert md_text("a" * 500).endswith("…")
