"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers: ``findings.sarif``.

One run; ``tool.driver.rules`` holds each rule or check that has a result, with its title,
description, remediation as help, tags and a ``security-severity`` GitHub understands. Every
result has a physical location, because GitHub refuses a whole upload when one result lacks it:

- configuration findings point at the file and line of their evidence (``path:line``; for an
  ``offline:DIR`` target, the file inside DIR);
- detections point at the log file of their evidence (``file#record``);
- network findings, which have no file, point at the audit profile (``default_uri``).

GitHub shows at most 5,000 results per run, so at most :data:`MAX_RESULTS` are written, highest
ranked first; ``runs[0].properties.secaudit`` says how many there were and how many were left out.
``partialFingerprints`` carries secaudit's own fingerprint, so GitHub tracks a finding across runs
exactly as secaudit's history does.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TextIO
from urllib.parse import quote

from secaudit.core.model import Finding, RunStatus, Severity, Source
from secaudit.core.report import Report
from secaudit.report.text import encodable, encodable_data
from secaudit.report.writers import report_writer

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 5000
FINGERPRINT_KEY = "secaudit/v1"
MESSAGE_MAX = 2000  # characters of a result message; the whole evidence stays in findings.json

# GitHub reads security-severity as a number in a string: >= 9.0 critical, 7.0-8.9 high,
# 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_FILE_LINE = re.compile(r"^(?P<path>.+?):(?P<line>[1-9][0-9]{0,8})$")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One result to write: an instance finding plus what the report knows about its row."""

    finding: Finding
    properties: dict[str, Any] = field(default_factory=dict)
    suppression: dict[str, Any] = field(default_factory=dict)  # a waived or accepted finding


def _uri(path: str, base_dir: Path | None) -> str:
    """A URI reference for ``path``: relative (POSIX, percent-encoded) when it can be, else ``file://``."""
    candidate = Path(encodable(path))
    if base_dir is not None and candidate.is_absolute():
        with contextlib.suppress(ValueError):
            candidate = candidate.relative_to(base_dir)
    if candidate.is_absolute():
        return "file://" + quote(candidate.as_posix())
    return quote(PurePosixPath(candidate.as_posix()).as_posix())


def _on_disk(path: str, attributes: tuple[tuple[str, str], ...]) -> str:
    """Where a file of an ``offline:DIR`` target really is: its path is inside the target's root."""
    target = dict(attributes).get("target", "")
    if target.startswith("offline:") and path.startswith("/"):
        return str(Path(target.removeprefix("offline:")) / path.lstrip("/"))
    return path


def physical_location(
    finding: Finding, *, default_uri: str, base_dir: Path | None, base_id: str = ""
) -> dict[str, Any]:
    """Where GitHub shows the finding: the evidence file and line, else ``default_uri``; with
    ``base_id``, a relative URI says it is relative to that base (``uriBaseId``)."""
    found = _physical_location(finding, default_uri=default_uri, base_dir=base_dir)
    artifact = found["artifactLocation"]
    if base_id and not artifact["uri"].startswith("file:"):
        artifact["uriBaseId"] = base_id
    return found


def _physical_location(finding: Finding, *, default_uri: str, base_dir: Path | None) -> dict[str, Any]:
    for evidence in finding.evidence:
        location = evidence.location.strip()
        if not location:
            continue
        if finding.source is Source.BASELINE or evidence.kind == "config":
            match = _FILE_LINE.match(location)
            path = _on_disk(match["path"] if match else location, evidence.attributes)
            if match:
                return {
                    "artifactLocation": {"uri": _uri(path, base_dir)},
                    "region": {"startLine": int(match["line"])},
                }
            return {"artifactLocation": {"uri": _uri(path, base_dir)}}
        if finding.source is Source.DETECTION and "#" in location:
            return {"artifactLocation": {"uri": _uri(location.split("#", 1)[0], base_dir)}}
    return {"artifactLocation": {"uri": _uri(default_uri, base_dir)}, "region": {"startLine": 1}}


def _message(finding: Finding) -> str:
    parts = [f"{finding.title} on {finding.asset.display}"]
    parts += [e.summary for e in finding.evidence if e.summary]
    text = ". ".join(parts)
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"


def _rule(finding: Finding) -> dict[str, Any]:
    tags = ["security", finding.source.value]
    tags += sorted({str(ref) for ref in finding.references})
    help_text = finding.remediation or finding.description or finding.title
    return {
        "id": finding.rule_id,
        "name": finding.rule_id,
        "shortDescription": {"text": finding.title or finding.rule_id},
        "fullDescription": {"text": finding.description or finding.title or finding.rule_id},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVEL[finding.severity]},
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "precision": "high",
            "problem.severity": LEVEL[finding.severity]
            if finding.severity > Severity.LOW
            else "recommendation",
        },
    }


def _document(
    entries: Sequence[_Entry],
    total: int,
    *,
    tool_version: str,
    default_uri: str,
    base_dir: Path | None,
    run_properties: dict[str, Any],
    successful: bool,
    base_id: str = "",
) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for entry in entries:
        finding = entry.finding
        if finding.rule_id not in index:
            index[finding.rule_id] = len(rules)
            rules.append(_rule(finding))
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "ruleIndex": index[finding.rule_id],
            "level": LEVEL[finding.severity],
            "message": {"text": _message(finding)},
            "locations": [
                {
                    "physicalLocation": physical_location(
                        finding, default_uri=default_uri, base_dir=base_dir, base_id=base_id
                    )
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
            "properties": {
                "asset": finding.asset.key,
                "segment": finding.asset.segment,
                "severity": finding.severity.label,
                "source": finding.source.value,
                **entry.properties,
            },
        }
        if entry.suppression:
            result["suppressions"] = [entry.suppression]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "secaudit",
                        "version": tool_version or "0",
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": successful}],
                **(
                    {"originalUriBaseIds": {base_id: {"uri": base_dir.as_uri() + "/"}}}
                    if base_id and base_dir is not None
                    else {}
                ),
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "secaudit": {
                        "results_total": total,
                        "results_written": len(results),
                        "results_left_out": total - len(results),
                        **run_properties,
                    }
                },
            }
        ],
    }


def _dump(document: dict[str, Any], stream: TextIO) -> None:
    json.dump(encodable_data(document), stream, ensure_ascii=False, indent=1, sort_keys=False)
    stream.write("\n")


def _severity_order(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-int(f.severity), -int(f.asset.criticality)))


def render_sarif_findings(
    findings: Sequence[Finding],
    stream: TextIO,
    *,
    tool_version: str,
    default_uri: str,
    base_dir: Path | None = None,
) -> None:
    """Write ``findings`` as one SARIF 2.1.0 run.

    Findings are ordered by severity, then asset criticality (stable: equal findings keep the
    caller's order), and at most :data:`MAX_RESULTS` are written. ``default_uri`` is the file
    findings without a file of their own point at (the profile, a target list); paths are made
    relative to ``base_dir`` when they lie under it.
    """
    ordered = _severity_order(findings)
    entries = [_Entry(f) for f in ordered[:MAX_RESULTS]]
    document = _document(
        entries,
        len(ordered),
        tool_version=tool_version,
        default_uri=default_uri,
        base_dir=base_dir,
        run_properties={},
        successful=True,
    )
    _dump(document, stream)


PROFILE_ROOT = "PROFILEROOT"


@report_writer("sarif", file_name="findings.sarif")
def render_sarif(report: Report, stream: TextIO) -> None:
    """Write the report as SARIF: one result per finding instance, in rank order, then one per waived
    or accepted finding as a suppressed result (at most 5,000 in all).

    Locations are relative to the folder of the audit profile (``uriBaseId`` PROFILEROOT, resolved in
    ``originalUriBaseIds``): files of offline targets kept beside the profile, and the profile itself
    for network findings. Never the current directory or the tool's own install path, so the same
    run gives the same SARIF wherever it is written from. A waived finding carries an external
    suppression with its justification, approver, expiry and where the waiver is written; each
    result's ``properties`` add the row's rank, risk score and decision.
    """
    entries: list[_Entry] = []
    total = sum(len(row.all_instances) for row in report.rows) + len(report.waived)
    for row in sorted(report.rows, key=lambda r: r.rank):
        for instance in row.all_instances:
            if len(entries) >= MAX_RESULTS:
                break
            entries.append(
                _Entry(
                    instance,
                    {
                        "rank": row.rank,
                        "score": row.score,
                        "decision": row.decision.value,
                        "status": row.status.value,
                    },
                )
            )
        if len(entries) >= MAX_RESULTS:
            break
    for waived in report.waived:
        if len(entries) >= MAX_RESULTS:
            break
        entries.append(
            _Entry(
                waived.finding,
                {"status": "waived"},
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": waived.justification,
                    "properties": {
                        "waiver": waived.kind.value,
                        "approved_by": waived.approved_by,
                        "expires": waived.expires.isoformat() if waived.expires else None,
                        "source": waived.source,
                    },
                },
            )
        )
    # As given on the command line the profile path may be relative to wherever the audit ran:
    # resolved, it is the same file for the audit and for a report rebuilt from elsewhere.
    profile_path = report.profile.path or report.run.profile_path
    profile_file = Path(profile_path).resolve() if profile_path else None
    document = _document(
        entries,
        total,
        tool_version=report.run.tool_version,
        default_uri=str(profile_file or ""),
        base_dir=profile_file.parent if profile_file else None,
        base_id=PROFILE_ROOT if profile_path else "",
        run_properties={
            "run_id": report.run.id,
            "risk_model": report.run.risk_model,
            "posture_score": report.posture_score,
            "suppressed": min(len(report.waived), max(0, MAX_RESULTS - (total - len(report.waived)))),
        },
        successful=report.run.status is RunStatus.COMPLETED,
    )
    _dump(document, stream)
