"""Use cases of configuration baselines: the audit's baseline stage, one-off checks with waivers,
accepting a result as the CI baseline, drift against it, and Wazuh SCA policies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from secaudit import __version__
from secaudit.baseline import BaselineRun, load_baseline, open_target, run_baseline, run_to_dict
from secaudit.baseline.drift import (
    DriftItem,
    DriftKind,
    DriftReport,
    ResultRecord,
    accept,
    compare,
    load_accepted,
    read_all,
    record_finding,
    records_from_dict,
)
from secaudit.baseline.sca import load_policy, run_policy
from secaudit.baseline.stage import RESULTS_FILE
from secaudit.baseline.stage import run_baseline_stage as _run_stage
from secaudit.baseline.waivers import WaiverSet, apply_waivers, load_waivers, unused_waivers
from secaudit.core.errors import OperationalError, UsageError
from secaudit.core.model import StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback
from secaudit.report.junit import CaseStatus, JUnitCase, render_junit_cases
from secaudit.report.sarif import render_sarif_findings

__all__ = [
    "RESULTS_FILE",
    "CheckOutcome",
    "accept_results",
    "baseline_drift",
    "check_baseline",
    "check_sca",
    "drift_to_dict",
    "render_check",
    "render_drift",
    "run_baseline_stage",
]
DRIFT_SCHEMA = "secaudit.baseline-drift/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """One baseline on one target, waivers applied, with the waivers that matched nothing."""

    run: BaselineRun
    unused_waivers: tuple[str, ...] = ()


def run_baseline_stage(
    profile: Profile,
    *,
    run_dir: Path,
    now: datetime,
    progress: ProgressCallback,
    waivers: Path | None = None,
) -> StageOutput:
    """Run the profile's baseline targets; failed checks become findings (waived ones go to
    ``StageOutput.waived``), all results go to ``run_dir/baseline-results.json``. Errors are
    collected per target; a broken waivers file is a configuration error before anything runs."""
    loaded = load_waivers(waivers) if waivers is not None else None
    return _run_stage(profile, run_dir=run_dir, now=now, progress=progress, waivers=loaded)


def check_baseline(
    baseline: str,
    target: str,
    *,
    waivers: Path | None = None,
    now: datetime | None = None,
    level: int = 1,
    kind: str = "server",
) -> CheckOutcome:
    """One baseline (a shipped id or a .yaml path) against one target, with an optional waivers file;
    only the checks of the CIS ``kind`` profile up to ``level`` run."""
    loaded: WaiverSet | None = load_waivers(waivers) if waivers is not None else None
    checks = load_baseline(baseline).at_level(level, kind)
    with open_target(target) as opened:
        run = run_baseline(checks, opened)
    return _waive(run, loaded, target, now)


def check_sca(
    policy: Path,
    target: str,
    *,
    waivers: Path | None = None,
    now: datetime | None = None,
) -> CheckOutcome:
    """A user-supplied Wazuh SCA policy against one target (offline:DIR, local or ssh://)."""
    loaded: WaiverSet | None = load_waivers(waivers) if waivers is not None else None
    parsed = load_policy(policy)
    with open_target(target) as opened:
        run = run_policy(parsed, opened)
    return _waive(run, loaded, target, now)


def _waive(run: BaselineRun, waivers: WaiverSet | None, target: str, now: datetime | None) -> CheckOutcome:
    if waivers is None:
        return CheckOutcome(run=run)
    run = apply_waivers(run, waivers, now=now or datetime.now(UTC), names=(target,))
    return CheckOutcome(run=run, unused_waivers=tuple(unused_waivers(waivers, [run])))


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` through a temporary file renamed into place (a killed run leaves the old file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise OperationalError(f"cannot write: {e.strerror}", location=str(path)) from e


def accept_results(results: Sequence[Path], out: Path, *, now: datetime | None = None) -> dict[str, Any]:
    """Record ``results`` as the accepted baseline in ``out``; returns what was written."""
    records = read_all(results)
    if not records:
        raise UsageError("the results hold no check results", hint="run 'secaudit baseline check' first")
    data = accept(records, now=now or datetime.now(UTC), sources=[str(p) for p in results])
    _write_atomic(out, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return data


def baseline_drift(
    accepted: Path, current: Sequence[Path], *, allow_missing_targets: bool = False
) -> DriftReport:
    """Current results held against the accepted baseline; bad input raises ConfigError (exit 2).
    An accepted target with no current result is drift unless ``allow_missing_targets``."""
    return compare(load_accepted(accepted), read_all(current), allow_missing_targets=allow_missing_targets)


def drift_to_dict(report: DriftReport) -> dict[str, Any]:
    def item(i: DriftItem) -> dict[str, Any]:
        target, baseline, check = i.key
        out: dict[str, Any] = {
            "kind": i.kind.value,
            "drift": report.is_drift(i),
            "target": target,
            "baseline": baseline,
            "check": check,
            "why": i.why,
            "accepted_status": i.accepted.status if i.accepted else None,
            "accepted_evidence": list(i.accepted.evidence or ()) if i.accepted else None,
            "status": i.current.status if i.current else None,
        }
        if i.current is not None:
            out["title"] = i.current.title
            out["severity"] = i.current.severity.label
            out["evidence"] = list(i.current.data.get("evidence", []))
            out["locations"] = [f"{p}:{n}" if n else p for p, n in i.current.locations()]
        return out

    return {
        "schema": DRIFT_SCHEMA,
        "drift": len(report.drift),
        "compared": report.compared,
        "counts": {k.value: report.count(k) for k in DriftKind},
        "items": [item(i) for i in report.items],
    }


# ---------------------------------------------------------------- JUnit and SARIF

_CASE_STATUS: dict[str, CaseStatus] = {
    "pass": "pass",
    "fail": "fail",
    "error": "error",
    "notapplicable": "skip",
    "waived": "skip",
}
_DRIFT_TITLE = {
    DriftKind.NEW_FAILURE: "New failure",
    DriftKind.CHANGED: "Changed evidence",
    DriftKind.EXPIRED_WAIVER: "Waiver expired",
}


def _where(record: ResultRecord) -> tuple[str, int]:
    locations = record.locations()
    return locations[0] if locations else (record.default_file(), 0)


def _detail(record: ResultRecord, *extra: str) -> str:
    data = record.data
    lines = [*extra]
    if data.get("expectation"):
        lines.append(f"expected: {data['expectation']}")
    for o, (path, line) in zip(
        [o for o in data.get("evidence", []) if isinstance(o, dict) and o.get("file")],
        record.locations(),
        strict=True,
    ):
        value = "(not set)" if o.get("value") is None else o.get("value")
        note = f" [{o['note']}]" if o.get("note") else ""
        lines.append(
            f"evidence: {o.get('subject', '')} = {value}{note} @ {path}:{line}"
            if line
            else f"evidence: {o.get('subject', '')} = {value}{note} @ {path}"
        )
    waiver = data.get("waiver")
    if isinstance(waiver, dict):
        state = "expired" if waiver.get("expired") else waiver.get("kind", "waived")
        lines.append(
            f"waiver ({state}, until {str(waiver.get('expires', ''))[:10]}, approved by "
            f"{waiver.get('approver') or '-'}, {waiver.get('source', '')}): {waiver.get('justification', '')}"
        )
    if data.get("remediation"):
        lines.append(f"remediation: {data['remediation']}")
    return "\n".join(lines)


def _case(record: ResultRecord, status: CaseStatus, message: str, *extra: str) -> JUnitCase:
    path, line = _where(record)
    return JUnitCase(
        name=f"{record.check}: {record.title}",
        classname=f"{record.baseline}.{record.target}",
        status=status,
        message=message,
        detail=_detail(record, *extra),
        file=path,
        line=line,
    )


def check_records(run: BaselineRun, *, source: str) -> list[ResultRecord]:
    """A run's results as records (host paths for evidence); ``source`` stands in for a results file."""
    return records_from_dict(run_to_dict(run), Path(source))


def render_check(
    run: BaselineRun, fmt: str, stream: TextIO, *, source: str, base_dir: Path | None = None
) -> None:
    """One checked baseline as JUnit (a case per check) or SARIF (a result per failed check).

    ``source`` is the file results without a file of their own point at (the baseline or policy)."""
    records = check_records(run, source=source)
    if fmt == "junit":
        cases = []
        for r in records:
            status = _CASE_STATUS.get(r.status, "error")
            message = str(r.data.get("reason", "")) or r.status
            if r.status == "fail" and r.waiver_expired:
                message = f"waiver expired: {message}"
            cases.append(_case(r, status, message))
        render_junit_cases(cases, stream, suite=f"secaudit baseline {run.baseline.id} on {run.target}")
    elif fmt == "sarif":
        findings = [record_finding(r) for r in records if r.status == "fail"]
        render_sarif_findings(
            findings, stream, tool_version=__version__, default_uri=source, base_dir=base_dir or Path.cwd()
        )
    else:
        raise UsageError(f"unknown format {fmt!r}", hint="use junit or sarif")


def render_drift(
    report: DriftReport, fmt: str, stream: TextIO, *, accepted: Path, base_dir: Path | None = None
) -> None:
    """Drift as JUnit (a failed case per drifted check; accepted, waived, fixed and missing ones
    pass or are skipped) or SARIF (a result per drifted check)."""
    if fmt == "junit":
        cases: list[JUnitCase] = []
        for item in report.items:
            target, baseline, check = item.key
            if item.current is None:
                cases.append(
                    JUnitCase(
                        name=f"{check}: {item.accepted.title if item.accepted else 'target not checked'}",
                        classname=f"{baseline}.{target}",
                        status="fail" if report.is_drift(item) else "skip",
                        message=item.why,
                        file=str(accepted),
                    )
                )
                continue
            status: CaseStatus = (
                "fail" if report.is_drift(item) else "error" if item.kind is DriftKind.ERROR else "pass"
            )
            if item.kind is DriftKind.WAIVED:
                status = "skip"
            cases.append(
                _case(item.current, status, f"{item.kind.value}: {item.why}", f"drift: {item.kind.value}")
            )
        if not cases:
            cases.append(
                JUnitCase(
                    name="baseline drift",
                    classname="secaudit.drift",
                    status="pass",
                    message=f"{report.compared} results as accepted",
                    file=str(accepted),
                )
            )
        render_junit_cases(cases, stream, suite="secaudit baseline drift")
    elif fmt == "sarif":
        findings = [
            record_finding(
                i.current,
                title=f"{_DRIFT_TITLE[i.kind]}: {i.current.title}",
                description=f"{i.why}. {i.current.data.get('reason', '')}".strip(),
            )
            for i in report.drift
            if i.current is not None
        ]
        render_sarif_findings(
            findings,
            stream,
            tool_version=__version__,
            default_uri=str(accepted),
            base_dir=base_dir or Path.cwd(),
        )
    else:
        raise UsageError(f"unknown format {fmt!r}", hint="use junit or sarif")
