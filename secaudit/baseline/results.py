"""Baseline results as JSON-safe data (the ``--format json`` output and the audit's results file)."""

from __future__ import annotations

from typing import Any

from secaudit.baseline.model import BaselineRun, CheckResult, Observation, SectionScore

RESULTS_SCHEMA = "secaudit.baseline-results/1"


def _observation(o: Observation) -> dict[str, Any]:
    out: dict[str, Any] = {"subject": o.subject, "value": o.value, "file": o.file, "line": o.line}
    if o.note:
        out["note"] = o.note
    if o.attrs:
        out["attrs"] = dict(o.attrs)
    return out


def _score(s: SectionScore) -> dict[str, Any]:
    return {"section": s.section, "pass": s.passed, "fail": s.failed, "other": s.other, "score": s.percent}


def result_to_dict(r: CheckResult) -> dict[str, Any]:
    c = r.check
    return {
        "id": c.id,
        "title": c.title,
        "section": c.section,
        "severity": c.severity.label,
        "status": r.status.value,
        "reason": r.reason,
        "expectation": r.expectation,
        "evidence": [_observation(o) for o in r.evidence],
        "references": [str(ref) for ref in c.references],
        "remediation": c.remediation,
    }


def run_to_dict(run: BaselineRun) -> dict[str, Any]:
    """One baseline on one target: identity, scores per section and overall, every result."""
    return {
        "schema": RESULTS_SCHEMA,
        "baseline": {"id": run.baseline.id, "version": run.baseline.version, "title": run.baseline.title},
        "target": run.target,
        "score": _score(run.score),
        "sections": [_score(s) for s in run.sections()],
        "results": [result_to_dict(r) for r in run.results],
    }
