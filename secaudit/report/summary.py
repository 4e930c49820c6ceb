"""Figures every writer shows: counts by severity, source, decision and status, in findings and in
rows; whether the run is partial."""

from __future__ import annotations

from dataclasses import dataclass

from secaudit.core.model import CheckedItem, CheckOutcome, Finding, RunStatus, Severity, Source, Status
from secaudit.core.report import Decision, Report, ReportRow

SEVERITIES_DESC: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Counts over a report's current rows (fixed findings are counted apart), in two named units.

    A *finding* is one check or rule on one asset (one fingerprint): history, the trend, the stage
    table and the posture score count findings. A *row* is one entry of the ranked list: identical
    findings (same rule, same title) on several assets make one row. Every ``by_*`` count comes in
    both units: ``by_severity`` counts rows (what the list below shows), ``by_severity_findings``
    the findings in them. When no row groups several assets the two are equal.
    """

    total: int  # rows
    findings: int  # findings in those rows
    by_severity: tuple[tuple[Severity, int], ...]  # rows, every severity, highest first
    by_severity_findings: tuple[tuple[Severity, int], ...]
    by_source: tuple[tuple[Source, int], ...]  # rows, every source, in declaration order
    by_source_findings: tuple[tuple[Source, int], ...]
    by_decision: tuple[tuple[Decision, int], ...]  # rows, most urgent first
    by_decision_findings: tuple[tuple[Decision, int], ...]
    by_status: tuple[tuple[Status, int], ...]  # rows, every status, in declaration order
    fixed: int
    stage_errors: int
    partial: bool  # the run did not complete, or a stage reported errors
    # Stages that did not complete: the posture score says nothing about what they cover, so no
    # writer may show it as a clean score on its own.
    not_assessed: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return self.total

    @property
    def grouped(self) -> bool:
        """Some row groups findings on several assets: rows and findings differ."""
        return self.findings != self.total


def row_findings(row: ReportRow) -> int:
    """How many findings a row stands for (one per asset it was found on)."""
    return len(row.fingerprints) or 1


def summarize(report: Report) -> Summary:
    severities = dict.fromkeys(SEVERITIES_DESC, 0)
    severity_findings = dict.fromkeys(SEVERITIES_DESC, 0)
    sources = dict.fromkeys(Source, 0)
    source_findings = dict.fromkeys(Source, 0)
    decisions = dict.fromkeys(Decision, 0)
    decision_findings = dict.fromkeys(Decision, 0)
    statuses = dict.fromkeys(Status, 0)
    for row in report.rows:
        n = row_findings(row)
        severities[row.finding.severity] += 1
        severity_findings[row.finding.severity] += n
        sources[row.finding.source] += 1
        source_findings[row.finding.source] += n
        decisions[row.decision] += 1
        decision_findings[row.decision] += n
        statuses[row.status] += 1
    stage_errors = sum(len(stage.errors) for stage in report.run.stages)
    partial = (
        report.run.status is not RunStatus.COMPLETED
        or stage_errors > 0
        or any(stage.status is not RunStatus.COMPLETED for stage in report.run.stages)
    )
    return Summary(
        total=len(report.rows),
        findings=sum(severity_findings.values()),
        by_severity=tuple(severities.items()),
        by_severity_findings=tuple(severity_findings.items()),
        by_source=tuple(sources.items()),
        by_source_findings=tuple(source_findings.items()),
        by_decision=tuple(decisions.items()),
        by_decision_findings=tuple(decision_findings.items()),
        by_status=tuple(statuses.items()),
        fixed=len(report.fixed),
        stage_errors=stage_errors,
        partial=partial,
        not_assessed=tuple(s.name for s in report.run.stages if s.status is not RunStatus.COMPLETED),
    )


def at_or_above(report: Report, threshold: Severity) -> int:
    """Findings (not rows) whose severity reaches ``threshold``: what a --fail-on gate counts."""
    return sum(row_findings(row) for row in report.rows if row.finding.severity >= threshold)


def fixed_in_order(report: Report) -> list[Finding]:
    """Fixed findings in a stable order (severity desc, rule, asset, evidence key), whatever
    order history handed them over in."""
    return sorted(report.fixed, key=lambda f: (-int(f.severity), f.rule_id, f.asset.key, f.evidence_key))


def checked_in_order(report: Report) -> list[CheckedItem]:
    """Passed and not-applicable checks by asset, baseline, outcome (passed first) and check id."""
    order = {CheckOutcome.PASSED: 0, CheckOutcome.NOT_APPLICABLE: 1}
    return sorted(
        report.checked,
        key=lambda c: (
            c.finding.asset.key,
            c.baseline,
            order[c.outcome],
            c.finding.rule_id,
            c.finding.evidence_key,
        ),
    )
