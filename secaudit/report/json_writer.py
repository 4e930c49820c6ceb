"""The machine-readable report: ``findings.json``, schema ``secaudit.findings/1``.

Shape (the JSON Schema in ``schema/findings-1.schema.json`` is the normative description)::

    {
      "schema": "secaudit.findings/1",
      "generated_at": ISO 8601,
      "run": {id, status, profile, started_at, finished_at, tool_version, risk_model,
              stages: [{name, status, findings, items, skipped, errors: [str], seconds}]},
      "organisation": str,
      "authorization": {reference, approver, valid_from, valid_until},
      "trend": {previous_run_id: str | null, new, persisting, fixed},
      "summary": {total, fixed, partial, by_severity: {critical..info}, by_source: {...}},
      "findings": [{rank, status, first_seen, last_seen, fingerprint, rule_id, source,
                    severity, title, ..., asset: {...}, evidence: [...], references: [...]}],
      "fixed": [{fingerprint, rule_id, ..., the finding as it was last seen}]
    }

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

from secaudit.core.report import Report, ReportRow
from secaudit.core.serialize import finding_to_dict, stage_to_dict
from secaudit.report.summary import fixed_in_order, summarize
from secaudit.report.text import encodable_data

SCHEMA_ID = "secaudit.findings/1"
SCHEMA_RESOURCE = "schema/findings-1.schema.json"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _row(row: ReportRow) -> dict[str, Any]:
    entry = finding_to_dict(row.finding)
    entry.update(
        rank=row.rank,
        status=row.status.value,
        first_seen=_time(row.first_seen),
        last_seen=_time(row.last_seen),
    )
    return entry


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-shaped data in schema ``secaudit.findings/1``."""
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
            "fixed": summary.fixed,
            "partial": summary.partial,
            "by_severity": {severity.label: count for severity, count in summary.by_severity},
            "by_source": {source.value: count for source, count in summary.by_source},
        },
        "findings": [_row(row) for row in sorted(report.rows, key=lambda r: r.rank)],
        "fixed": [finding_to_dict(finding) for finding in fixed_in_order(report)],
    }


def render_json(report: Report, stream: TextIO) -> None:
    """Write ``report`` as ``secaudit.findings/1`` JSON (UTF-8 text, sorted keys, newline at end)."""
    json.dump(encodable_data(report_to_dict(report)), stream, ensure_ascii=False, indent=2, sort_keys=True)
    stream.write("\n")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``secaudit.findings/1``, as shipped in the package."""
    text = resources.files("secaudit.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
