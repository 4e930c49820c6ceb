"""Figures every writer shows: counts by severity, source and status; whether the run is partial."""

from __future__ import annotations

from dataclasses import dataclass

from secaudit.core.model import Finding, RunStatus, Severity, Source, Status
from secaudit.core.report import Report

SEVERITIES_DESC: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Counts over a report's current rows (fixed findings are counted apart)."""

    total: int
    by_severity: tuple[tuple[Severity, int], ...]  # every severity, highest first
    by_source: tuple[tuple[Source, int], ...]  # every source, in declaration order
    by_status: tuple[tuple[Status, int], ...]  # every status, in declaration order
    fixed: int
    stage_errors: int
    partial: bool  # the run did not complete, or a stage reported errors


def summarize(report: Report) -> Summary:
    severities = dict.fromkeys(SEVERITIES_DESC, 0)
    sources = dict.fromkeys(Source, 0)
    statuses = dict.fromkeys(Status, 0)
    for row in report.rows:
        severities[row.finding.severity] += 1
        sources[row.finding.source] += 1
        statuses[row.status] += 1
    stage_errors = sum(len(stage.errors) for stage in report.run.stages)
    partial = (
        report.run.status is not RunStatus.COMPLETED
        or stage_errors > 0
        or any(stage.status is not RunStatus.COMPLETED for stage in report.run.stages)
    )
    return Summary(
        total=len(report.rows),
        by_severity=tuple(severities.items()),
        by_source=tuple(sources.items()),
        by_status=tuple(statuses.items()),
        fixed=len(report.fixed),
        stage_errors=stage_errors,
        partial=partial,
    )


def fixed_in_order(report: Report) -> list[Finding]:
    """Fixed findings in a stable order (severity desc, rule, asset, evidence key), whatever
    order history handed them over in."""
    return sorted(report.fixed, key=lambda f: (-int(f.severity), f.rule_id, f.asset.key, f.evidence_key))
