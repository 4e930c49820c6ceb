"""Reports scored by the real risk model, built by hand from the report tests' findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from secaudit.core.model import Finding, Status, WaivedFinding
from secaudit.core.report import ControlCoverage, Report, Trend
from secaudit.risk.aggregate import posture_score, ranked_rows
from secaudit.risk.model import RISK_MODEL_VERSION, RiskContext, detections_by_asset
from tests.report.conftest import FIXED_FINDING, findings_from_every_source, make_report

BKK = timezone(timedelta(hours=7))
STARTED = datetime(2026, 3, 1, 2, 0, tzinfo=BKK)
EARLIER = datetime(2026, 2, 1, 2, 0, tzinfo=BKK)


def scored_report(
    findings: Sequence[Finding] | None = None,
    *,
    waived: Sequence[WaivedFinding] = (),
    compliance: Sequence[ControlCoverage] = (),
    fail_on: str = "",
    persisting: frozenset[str] = frozenset(),
) -> Report:
    """A Report over ``findings`` (default: one from every source) ranked by ``risk-3``."""
    findings = list(findings_from_every_source() if findings is None else findings)
    base = make_report([], fixed=[FIXED_FINDING])
    ctx = RiskContext(profile=base.profile, attacked=detections_by_asset(findings))

    def history(fp: str) -> tuple[Status, datetime, datetime]:
        if fp in persisting:
            return Status.PERSISTING, EARLIER, STARTED
        return Status.NEW, STARTED, STARTED

    rows = ranked_rows(findings, ctx, history)
    instances = [fp for row in rows for fp in row.fingerprints]
    profile = base.profile
    if fail_on:
        profile = replace(profile, report=replace(profile.report, fail_on=fail_on))
    return replace(
        base,
        run=replace(base.run, risk_model=RISK_MODEL_VERSION),
        profile=profile,
        rows=tuple(rows),
        waived=tuple(waived),
        compliance=tuple(compliance),
        posture_score=posture_score(rows),
        trend=Trend(
            previous_run_id=base.trend.previous_run_id,
            new=sum(1 for fp in instances if fp not in persisting),
            persisting=sum(1 for fp in instances if fp in persisting),
            fixed=1,
        ),
    )
