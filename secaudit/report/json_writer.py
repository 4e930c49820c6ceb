"""The machine-readable report: ``findings.json``, schema ``secaudit.findings/2``.

Shape (the JSON Schema in ``schema/findings-2.schema.json`` is the normative description)::

    {
      "schema": "secaudit.findings/2",
      "generated_at": ISO 8601,
      "run": {id, status, profile, started_at, finished_at, tool_version, risk_model,
              stages: [{name, status, findings, items, skipped, errors: [str], seconds}]},
      "organisation": str,
      "authorization": {reference, approver, valid_from, valid_until},
      "trend": {previous_run_id: str | null, new, persisting, fixed},
      "summary": {total, instances, fixed, waived, partial, by_severity: {critical..info},
                  by_source: {...}, by_decision: {act, attend, track*, track},
                  by_severity_findings, by_source_findings, by_decision_findings},
      "posture_score": 0..100 (higher is better),
      "posture_not_assessed": [stage names that did not complete: the score does not cover them],
      "findings": [{rank, status, first_seen, last_seen, score, decision, likelihood, impact,
                    factors: [{name, value, points}], assets: [{...}], fingerprints: [str],
                    fingerprint, rule_id, source, severity, title, ..., asset: {...},
                    evidence: [...], references: [...]}],
      "waived": [{kind, justification, approved_by, expires, source, finding: {...}}],
      "compliance": [{framework, control, name, name_th, status, checked, failing, passing,
                      not_applicable, framework_controls}],   # every control of every framework
      "compliance_summary": [{framework, controls, assessed, passed, failed, not_applicable,
                              unassessed, unassessed_controls}],
      "fixed": [{fingerprint, rule_id, ..., the finding as it was last seen}],
      "baselines": [{asset, baseline, target, pass, fail, notapplicable, waived, error}],
      "checked": [{outcome: pass | notapplicable, baseline, reason, finding: {...}}]
    }

``baselines`` is the rule-result summary per asset and baseline; ``checked`` lists every check that
passed or did not apply, with the evidence it saw (the same shape as a finding, never counted as one).

Version 2 adds the risk (score, decision, factors, heat-map axes), aggregation (one entry per
group of identical findings: ``assets`` and ``fingerprints`` list every instance, the entry's own
``asset`` and ``fingerprint`` are the highest-risk instance's), waived findings and compliance.

Counts come in two units (see :class:`~secaudit.report.summary.Summary`): a *finding* is one check
or rule on one asset, a *row* (an entry of ``findings``) groups identical findings across assets.
``summary.total`` and ``by_severity``/``by_source``/``by_decision`` count rows; ``summary.instances``
and the ``*_findings`` maps count findings, as ``trend`` and history do.

``findings`` are in rank order (``rank`` starts at 1). Each finding entry is
:func:`secaudit.core.serialize.finding_to_dict` plus the row's history fields, so
``finding_from_dict`` reads an entry back. Keys are sorted and every time comes from the
report, so the same report always gives the same bytes. A consumer must ignore keys it does
not know; a change that removes or retypes a key bumps the version.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any, TextIO

import orjson

from secaudit.core.model import WaivedFinding
from secaudit.core.report import ControlCoverage, Report, ReportRow, coverage_summary
from secaudit.core.serialize import asset_to_dict, finding_to_dict, stage_to_dict
from secaudit.report.summary import checked_in_order, fixed_in_order, summarize
from secaudit.report.text import encodable_data
from secaudit.report.writers import report_writer

SCHEMA_ID = "secaudit.findings/2"
SCHEMA_RESOURCE = "schema/findings-2.schema.json"
_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _row(row: ReportRow) -> dict[str, Any]:
    entry = finding_to_dict(row.finding)
    entry.update(
        rank=row.rank,
        status=row.status.value,
        first_seen=_time(row.first_seen),
        last_seen=_time(row.last_seen),
        score=round(row.score, 1),
        decision=row.decision.value,
        likelihood=row.likelihood,
        impact=row.impact,
        factors=[{"name": f.name, "value": f.value, "points": round(f.points, 1)} for f in row.factors],
        assets=[asset_to_dict(asset) for asset in (row.assets or (row.finding.asset,))],
        fingerprints=list(row.fingerprints or (row.finding.fingerprint,)),
    )
    return entry


def _waived(waived: WaivedFinding) -> dict[str, Any]:
    return {
        "kind": waived.kind.value,
        "justification": waived.justification,
        "approved_by": waived.approved_by,
        "expires": _time(waived.expires),
        "source": waived.source,
        "finding": finding_to_dict(waived.finding),
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-shaped data in schema ``secaudit.findings/2``."""
    run = report.run
    auth = report.profile.authorization
    summary = summarize(report)
    return {
        "schema": SCHEMA_ID,
        "generated_at": _time(report.generated_at),
        "run": {
            "id": run.id,
            "status": run.status.value,
            "profile": run.profile_path,
            "started_at": _time(run.started_at),
            "finished_at": _time(run.finished_at),
            "tool_version": run.tool_version,
            "risk_model": run.risk_model,
            "stages": [stage_to_dict(stage) for stage in run.stages],
        },
        "organisation": report.profile.organisation,
        "authorization": {
            "reference": auth.reference,
            "approver": auth.approver,
            "valid_from": _time(auth.valid_from),
            "valid_until": _time(auth.valid_until),
        },
        "trend": {
            "previous_run_id": report.trend.previous_run_id or None,
            "new": report.trend.new,
            "persisting": report.trend.persisting,
            "fixed": report.trend.fixed,
        },
        "summary": {
            "total": summary.total,
            "instances": summary.findings,
            "fixed": summary.fixed,
            "waived": len(report.waived),
            "partial": summary.partial,
            "by_severity": {severity.label: count for severity, count in summary.by_severity},
            "by_source": {source.value: count for source, count in summary.by_source},
            "by_decision": {decision.value: count for decision, count in summary.by_decision},
            "by_severity_findings": {s.label: count for s, count in summary.by_severity_findings},
            "by_source_findings": {s.value: count for s, count in summary.by_source_findings},
            "by_decision_findings": {d.value: count for d, count in summary.by_decision_findings},
        },
        "posture_score": round(report.posture_score, 1),
        "posture_not_assessed": list(summary.not_assessed),
        "findings": [_row(row) for row in sorted(report.rows, key=lambda r: r.rank)],
        "waived": [_waived(w) for w in report.waived],
        "compliance": [
            {
                "framework": c.framework,
                "control": c.control,
                "name": c.name,
                "name_th": c.name_th,
                "status": c.status,
                "checked": c.checked,
                "failing": c.failing,
                "passing": c.passing,
                "not_applicable": c.not_applicable,
                "framework_controls": c.framework_controls,
            }
            for c in report.compliance
        ],
        "compliance_summary": _compliance_summary(report),
        "fixed": [finding_to_dict(finding) for finding in fixed_in_order(report)],
        "baselines": [
            {
                "asset": t.asset,
                "baseline": t.baseline,
                "target": t.target,
                "pass": t.passed,
                "fail": t.failed,
                "notapplicable": t.not_applicable,
                "waived": t.waived,
                "error": t.errors,
            }
            for t in report.tallies
        ],
        "checked": [
            {
                "outcome": c.outcome.value,
                "baseline": c.baseline,
                "reason": c.reason,
                "finding": finding_to_dict(c.finding),
            }
            for c in checked_in_order(report)
        ],
    }


def _compliance_summary(report: Report) -> list[dict[str, Any]]:
    """Per framework: its controls, how many were assessed, of those passed / failed / not
    applicable, and the ids of the controls not assessed."""
    frameworks: dict[str, list[ControlCoverage]] = {}
    for control in report.compliance:
        frameworks.setdefault(control.framework, []).append(control)
    return [
        {
            "framework": framework,
            **coverage_summary(controls),
            "unassessed_controls": [c.control for c in controls if c.status == "unassessed"],
        }
        for framework, controls in frameworks.items()
    ]


@report_writer("json", file_name="findings.json")
def render_json(report: Report, stream: TextIO) -> None:
    """Write ``report`` as ``secaudit.findings/2`` JSON (UTF-8 text, sorted keys, newline at end)."""
    data = report_to_dict(report)
    try:
        text = orjson.dumps(data, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # lone surrogates (bytes that were not UTF-8): show them, then encode
        text = orjson.dumps(encodable_data(data), option=_ORJSON_OPTIONS)
    stream.write(text.decode("utf-8"))
    stream.write("\n")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``secaudit.findings/2``, as shipped in the package."""
    text = resources.files("secaudit.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
