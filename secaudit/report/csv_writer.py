"""CSV for audit working papers: ``findings.csv``.

One row per finding instance (an aggregated report row on five assets gives five CSV rows with
the same rank), then one row per waived or accepted finding (status ``waived``, no rank), then one
row per baseline check that passed or did not apply (status ``pass`` / ``notapplicable``, no rank),
with the evidence location it saw. The
columns are :data:`COLUMNS`, always in that order; new columns are only ever appended.

Spreadsheets run cells that start with ``=``, ``+``, ``-``, ``@`` (and tab or carriage return) as
formulas, and banners or log lines are attacker-controlled: such text cells get a leading ``'``.
Lone surrogates and control characters are shown as ``\\xNN``; RFC 4180 quoting, CRLF line ends.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO

from secaudit.core.model import Finding, RefKind
from secaudit.core.report import Report, ReportRow
from secaudit.report.dates import TimeFormat
from secaudit.report.summary import checked_in_order
from secaudit.report.text import printable
from secaudit.report.writers import report_writer

COLUMNS = (
    "rank",
    "score",
    "decision",
    "likelihood",
    "impact",
    "severity",
    "status",
    "rule_id",
    "title",
    "source",
    "asset",
    "address",
    "hostname",
    "segment",
    "criticality",
    "evidence_key",
    "location",
    "cis_refs",
    "control_refs",
    "cve_refs",
    "first_seen",
    "last_seen",
    "fingerprint",
    "remediation",
    "waiver",
    "waiver_justification",
    "waiver_expires",
)
CELL_MAX = 32_000  # spreadsheets refuse longer cells (Excel: 32,767 characters)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL_REFS = (RefKind.CIS_CONTROLS, RefKind.NIST, RefKind.ISO27001, RefKind.NIST_CSF, RefKind.TH_CII)


def safe_cell(value: str) -> str:
    """A text cell that no spreadsheet runs as a formula, and that encodes as UTF-8."""
    text = printable(value).replace("\r\n", "\n")
    if len(text) > CELL_MAX:
        text = text[:CELL_MAX] + " …"
    return "'" + text if text.startswith(_FORMULA_START) else text


def _refs(finding: Finding, kinds: Iterable[RefKind]) -> str:
    wanted = set(kinds)
    return "; ".join(str(r) for r in finding.references if r.kind in wanted)


def _time(value: datetime | None, zone: TimeFormat) -> str:
    """ISO 8601 in the profile's time zone, with its offset (working papers are read locally)."""
    return zone.local(value).isoformat() if value else ""


def _finding_cells(finding: Finding) -> dict[str, str]:
    location = next((e.location for e in finding.evidence if e.location), "")
    asset = finding.asset
    return {
        "severity": finding.severity.label,
        "rule_id": finding.rule_id,
        "title": finding.title,
        "source": finding.source.value,
        "asset": asset.key,
        "address": asset.address,
        "hostname": asset.hostname,
        "segment": asset.segment,
        "criticality": asset.criticality.label,
        "evidence_key": finding.evidence_key,
        "location": location,
        "cis_refs": _refs(finding, (RefKind.CIS,)),
        "control_refs": _refs(finding, _CONTROL_REFS),
        "cve_refs": _refs(finding, (RefKind.CVE,)),
        "fingerprint": finding.fingerprint,
        "remediation": finding.remediation,
    }


def _row_cells(row: ReportRow, finding: Finding, zone: TimeFormat) -> dict[str, str]:
    cells = _finding_cells(finding)
    cells.update(
        rank=str(row.rank),
        score=f"{row.score:.1f}",
        decision=row.decision.value,
        likelihood=str(row.likelihood),
        impact=str(row.impact),
        status=row.status.value,
        first_seen=_time(row.first_seen, zone),
        last_seen=_time(row.last_seen, zone),
    )
    return cells


@report_writer("csv", file_name="findings.csv")
def render_csv(report: Report, stream: TextIO) -> None:
    """Write every finding instance, every waived finding, then every baseline check that passed
    (status ``pass``) or did not apply (``notapplicable``), as CSV with :data:`COLUMNS`."""
    writer = csv.writer(stream, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    zone = TimeFormat(report.profile.timezone)
    for row in sorted(report.rows, key=lambda r: r.rank):
        for finding in row.all_instances:
            cells = _row_cells(row, finding, zone)
            writer.writerow([safe_cell(cells.get(column, "")) for column in COLUMNS])
    for waived in report.waived:
        cells = _finding_cells(waived.finding)
        cells.update(
            status="waived",
            waiver=waived.kind.value,
            waiver_justification=waived.justification,
            waiver_expires=_time(waived.expires, zone),
        )
        writer.writerow([safe_cell(cells.get(column, "")) for column in COLUMNS])
    for item in checked_in_order(report):
        cells = _finding_cells(item.finding)
        cells.update(status=item.outcome.value)
        writer.writerow([safe_cell(cells.get(column, "")) for column in COLUMNS])
