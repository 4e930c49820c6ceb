"""Baseline results as JSON-safe data (the ``--format json`` output and the audit's results file)."""

from __future__ import annotations

from typing import Any

from secaudit.baseline.model import BaselineRun, CheckResult, Observation, SectionScore, Waiver

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


def waiver_to_dict(w: Waiver, *, expired: bool) -> dict[str, Any]:
    return {
        "kind": w.kind.value,
        "justification": w.justification,
        "approver": w.approver,
        "expires": w.expires.isoformat(),
        "source": w.location,
        "target": w.target,
        "expired": expired,
    }


def result_to_dict(r: CheckResult) -> dict[str, Any]:
    """One result; a matched waiver appears under ``waiver`` (``expired: true`` when it no longer covers)."""
    c = r.check
    out: dict[str, Any] = {
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
    if r.waiver is not None:
        out["waiver"] = waiver_to_dict(r.waiver, expired=r.waiver_expired)
    return out


def run_to_dict(run: BaselineRun) -> dict[str, Any]:
    """One baseline on one target: identity, scores per section and overall, every result."""
    return {
        "schema": RESULTS_SCHEMA,
        "baseline": {"id": run.baseline.id, "version": run.baseline.version, "title": run.baseline.title},
        "target": run.target,
        "score": _score(run.score),
        "sections": [_score(s) for s in run.sections()],
        "results": [result_to_dict(r) for r in run.results],
        **({"incomplete": run.incomplete} if run.incomplete else {}),
    }
