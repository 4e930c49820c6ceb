"""A Markdown summary for CI job pages (GitHub's job summary, GitLab's MR notes): ``summary.md``.

Posture score, counts by decision and severity, the trend against the previous run, the ten
highest-ranked rows, waived findings and stages that did not complete. Everything that came from
a finding is escaped, so a banner cannot inject links, HTML or table cells into the page.
"""

from __future__ import annotations

import re
from typing import TextIO

from secaudit.core.model import RunStatus
from secaudit.core.report import Decision, Report
from secaudit.report.summary import summarize
from secaudit.report.text import printable
from secaudit.report.vulns import vulnerable_components
from secaudit.report.writers import report_writer

TOP = 10
CELL_MAX = 160
DECISION_LABEL = {
    Decision.ACT: "Act",
    Decision.ATTEND: "Attend",
    Decision.TRACK_STAR: "Track*",
    Decision.TRACK: "Track",
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")


def md_text(value: str, limit: int = CELL_MAX) -> str:
    """``value`` on one line, Markdown and HTML special characters escaped, cut at ``limit``."""
    text = " ".join(printable(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text)


@report_writer("md", file_name="summary.md")
def render_markdown(report: Report, stream: TextIO) -> None:
    """Write the CI summary of ``report``."""
    summary = summarize(report)
    run = report.run
    out: list[str] = [
        f"## secaudit: {md_text(report.profile.organisation)}",
        "",
        f"Run `{md_text(run.id)}` ({run.status.value}), risk model `{md_text(run.risk_model or '-')}`, "
        f"authorization {md_text(report.profile.authorization.reference)}.",
        "",
    ]
    if summary.partial:
        out += [
            "> **Partial run:** a stage did not complete or reported errors; absent findings prove nothing.",
            "",
        ]
    out += [
        f"**Posture score: {report.posture_score:.1f} / 100**"
        + (
            f" (not assessed: the score covers only the stages that completed; these did not: "
            f"{md_text(', '.join(summary.not_assessed))})"
            if summary.not_assessed
            else ""
        ),
        "",
        f"{summary.findings} findings (a finding is one check or rule on one asset), in {summary.rows} "
        "ranked rows (a row groups the same finding on several assets).",
        "",
        "| unit | Act | Attend | Track* | Track | waived |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        "| rows | " + " | ".join(str(n) for _, n in summary.by_decision) + " | - |",
        "| findings | "
        + " | ".join(str(n) for _, n in summary.by_decision_findings)
        + f" | {len(report.waived)} |",
        "",
        "| unit | " + " | ".join(s.label for s, _ in summary.by_severity) + " |",
        "| --- |" + " ---: |" * len(summary.by_severity),
        "| rows | " + " | ".join(str(n) for _, n in summary.by_severity) + " |",
        "| findings | " + " | ".join(str(n) for _, n in summary.by_severity_findings) + " |",
        "",
    ]
    trend = report.trend
    if trend.previous_run_id:
        out.append(
            f"Against run `{md_text(trend.previous_run_id)}`, in findings: {trend.new} new, "
            f"{trend.persisting} persisting, {trend.fixed} fixed."
        )
    else:
        out.append(f"First run of this profile: {trend.new} findings, all new.")
    out.append("")
    rows = sorted(report.rows, key=lambda r: r.rank)[:TOP]
    if rows:
        out += [
            f"### Top {len(rows)} of {len(report.rows)}",
            "",
            "| # | decision | score | severity | finding | assets | status |",
            "| ---: | --- | ---: | --- | --- | --- | --- |",
        ]
        for row in rows:
            assets = row.assets or (row.finding.asset,)
            shown = ", ".join(a.key for a in assets[:3]) + (f" +{len(assets) - 3}" if len(assets) > 3 else "")
            out.append(
                f"| {row.rank} | {DECISION_LABEL[row.decision]} | {row.score:.1f} "
                f"| {row.finding.severity.label} | {md_text(row.finding.title)} | {md_text(shown)} "
                f"| {row.status.value} |"
            )
        out.append("")
    else:
        out += ["No open findings.", ""]
    if report.tallies:
        out += [
            "### Baseline results (checks)",
            "",
            "| asset | baseline | pass | fail | n/a | waived | error |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        out += [
            f"| {md_text(t.asset)} | {md_text(t.baseline)} | {t.passed} | {t.failed} | {t.not_applicable} "
            f"| {t.waived} | {t.errors} |"
            for t in report.tallies
        ]
        out.append("")
    components = vulnerable_components(report.rows)[:TOP]
    if components:
        out += [
            "### Known vulnerabilities by package or service",
            "",
            "| asset | package or service | installed | fixed in | CVEs (rank) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in components:
            fix = "check the installed package" if c.kind == "service" else (c.fix or "-")
            if c.no_fix:
                fix += f"; no fix yet: {', '.join(c.no_fix)}"
            cves = ", ".join(f"{cve} #{rank}" + (" KEV" if cve in c.kev else "") for cve, rank in c.cves)
            out.append(
                f"| {md_text(c.asset.key)} | {md_text(c.name)} ({c.kind}) | {md_text(c.installed)} "
                f"| {md_text(fix)} | {md_text(cves)} |"
            )
        out.append("")
    failed = [s for s in run.stages if s.status is not RunStatus.COMPLETED]
    for stage in failed:
        out.append(f"- stage **{md_text(stage.name)}**: {stage.status.value}")
        out += [f"  - {md_text(error, 400)}" for error in stage.errors[:5]]
    if failed:
        out.append("")
    stream.write("\n".join(out))
