"""The HTML report for auditors: one self-contained file, in English or Thai.

A view is built from the immutable :class:`~secaudit.core.report.Report` in plain Python
(translated labels, formatted times, cleaned text) and handed to ``templates/report.html.j2``.
jinja2 autoescapes everything: titles, banners, log lines and config excerpts are
attacker-controlled and must stay inert. The page loads nothing: CSS and the small sorting
and filtering script are inline, references are printed as text rather than links.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO

import jinja2

from secaudit.core.model import Evidence, Finding, Reference
from secaudit.core.profile import Profile
from secaudit.core.report import Report, ReportRow
from secaudit.report.i18n import labels
from secaudit.report.summary import fixed_in_order, summarize
from secaudit.report.text import printable

TEMPLATE = "report.html.j2"

_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    # Built on first use, not at import: nothing in secaudit does I/O at import time.
    global _ENV  # noqa: PLW0603 - one cached, immutable environment per process
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("secaudit.report", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    return _ENV


def format_time(value: datetime | None) -> str:
    """``2026-03-01 02:00 +07:00``: minutes are enough for a reader; the JSON keeps the rest."""
    if value is None:
        return ""
    text = value.strftime("%Y-%m-%d %H:%M")
    offset = value.utcoffset()
    if offset is None:
        return text
    if not offset:
        return f"{text} UTC"
    return f"{text} {value.strftime('%z')[:3]}:{value.strftime('%z')[3:]}"


class _View:
    """Turns model objects into the plain values the template shows."""

    def __init__(self, report: Report, lang: str) -> None:
        self.report = report
        self.profile: Profile = report.profile
        self.lang = lang
        self.L = labels(lang)

    def label(self, family: str, value: str) -> str:
        return self.L[f"{family}.{value}"]

    def asset(self, finding: Finding) -> dict[str, Any]:
        asset = finding.asset
        segment = self.profile.segment(asset.segment) if asset.segment else None
        if segment is None and asset.address:
            segment = self.profile.segment_of(asset.address)
        return {
            "key": printable(asset.key),
            "display": printable(asset.display),
            "role": printable(asset.role),
            "segment": printable(segment.name if segment else asset.segment),
            "kind": self.label("kind", segment.kind.value) if segment else "",
            "criticality": self.label("criticality", asset.criticality.label),
            "criticality_key": asset.criticality.label,
        }

    def evidence(self, item: Evidence) -> dict[str, Any]:
        return {
            "kind": printable(item.kind),
            "summary": printable(item.summary),
            "location": printable(item.location),
            "excerpt": printable(item.excerpt),
            "attributes": [(printable(k), printable(v)) for k, v in item.attributes],
        }

    def reference(self, ref: Reference) -> dict[str, str]:
        return {"kind": ref.kind.value, "id": printable(ref.id), "url": printable(ref.url)}

    def finding(self, finding: Finding) -> dict[str, Any]:
        return {
            "anchor": f"f-{finding.fingerprint}",
            "fingerprint": finding.fingerprint,
            "rule_id": printable(finding.rule_id),
            "title": printable(finding.title),
            "severity": self.label("severity", finding.severity.label),
            "severity_key": finding.severity.label,
            "severity_level": int(finding.severity),
            "source": self.label("source", finding.source.value),
            "source_key": finding.source.value,
            "description": printable(finding.description),
            "remediation": printable(finding.remediation),
            "asset": self.asset(finding),
            "evidence": [self.evidence(e) for e in finding.evidence],
            "references": [self.reference(r) for r in finding.references],
        }

    def row(self, row: ReportRow) -> dict[str, Any]:
        view = self.finding(row.finding)
        view.update(
            rank=row.rank,
            status=self.label("status", row.status.value),
            status_key=row.status.value,
            first_seen=format_time(row.first_seen),
            first_seen_sort=row.first_seen.isoformat(),
            last_seen=format_time(row.last_seen),
        )
        return view

    def context(self) -> dict[str, Any]:
        report, run, auth = self.report, self.report.run, self.profile.authorization
        summary = summarize(report)
        rows = [self.row(r) for r in sorted(report.rows, key=lambda r: r.rank)]
        return {
            "L": self.L,
            "lang": self.lang,
            "organisation": printable(self.profile.organisation),
            "run": {
                "id": printable(run.id),
                "status": self.label("run", run.status.value),
                "status_key": run.status.value,
                "started": format_time(run.started_at),
                "finished": format_time(run.finished_at),
                "profile": printable(run.profile_path or self.profile.path),
                "tool_version": printable(run.tool_version),
                "risk_model": printable(run.risk_model),
            },
            "generated": format_time(report.generated_at),
            "auth": {
                "reference": printable(auth.reference),
                "approver": printable(auth.approver),
                "valid_from": format_time(auth.valid_from),
                "valid_until": format_time(auth.valid_until),
                "valid_at_start": auth.valid_at(run.started_at),
            },
            "summary": {
                "total": summary.total,
                "partial": summary.partial,
                "by_severity": [
                    {"key": s.label, "label": self.label("severity", s.label), "count": n}
                    for s, n in summary.by_severity
                ],
                "by_source": [
                    {"key": s.value, "label": self.label("source", s.value), "count": n}
                    for s, n in summary.by_source
                ],
            },
            "trend": {
                "previous_run_id": printable(report.trend.previous_run_id),
                "new": report.trend.new,
                "persisting": report.trend.persisting,
                "fixed": report.trend.fixed,
            },
            "stages": [
                {
                    "name": printable(stage.name),
                    "status": self.label("run", stage.status.value),
                    "status_key": stage.status.value,
                    "checked": stage.items,
                    "findings": stage.findings,
                    "skipped": stage.skipped,
                    "seconds": f"{stage.seconds:.1f}",
                    "errors": [printable(e) for e in stage.errors],
                }
                for stage in run.stages
            ],
            "rows": rows,
            "statuses_present": sorted({(r["status_key"], r["status"]) for r in rows}),
            "fixed": [self.finding(f) for f in fixed_in_order(report)],
            "segments": [
                {
                    "name": printable(seg.name),
                    "cidrs": [str(net) for net in seg.cidrs],
                    "exclusions": [str(net) for net in seg.exclusions],
                    "kind": self.label("kind", seg.kind.value),
                    "owner": printable(seg.owner),
                    "criticality": self.label("criticality", seg.criticality.label),
                    "scan_profile": printable(seg.scan_profile),
                }
                for seg in self.profile.segments
            ],
        }


def render_html(report: Report, stream: TextIO, *, lang: str = "en") -> None:
    """Write ``report`` as one self-contained HTML page in ``lang`` (``en`` or ``th``)."""
    context = _View(report, lang).context()
    for chunk in _environment().get_template(TEMPLATE).generate(context):
        stream.write(chunk)
