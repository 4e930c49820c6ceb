"""Use cases of active scanning: the audit's scan stage and scope checks."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from secaudit.core.errors import OperationalError, ScopeError
from secaudit.core.model import StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback
from secaudit.core.serialize import finding_to_dict, stage_to_dict
from secaudit.scan import ScanOptions, scan_segments
from secaudit.scope import Resolver, ScopeGuard, TargetVerdict, system_resolver

__all__ = ["ScanOptions", "ScanRun", "check_scope", "run_scan_stage", "scan"]


def run_scan_stage(
    profile: Profile,
    *,
    run_dir: Path,
    now: datetime,
    progress: ProgressCallback,
    segments: Sequence[str] = (),
    options: ScanOptions | None = None,
) -> StageOutput:
    """Scan every segment of ``profile`` (or the named ones) with its scan profile.

    Findings carry asset, segment and criticality; raw nmap XML lands in ``run_dir/scan/`` and
    every attempt in ``run_dir/scan-audit.jsonl``. Errors are collected per segment.
    """
    return scan_segments(
        profile, run_dir=run_dir, now=now, progress=progress, segments=segments, options=options
    )


def check_scope(
    profile: Profile, targets: Sequence[str], *, now: datetime, resolver: Resolver = system_resolver
) -> list[TargetVerdict]:
    """The guard's verdict for each target; sends nothing except DNS lookups of hostname targets."""
    guard = ScopeGuard(profile, resolver=resolver)
    return [guard.check(t, now=now) for t in targets]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRun:
    """A stand-alone ``secaudit scan``: where it wrote, and what the stage returned."""

    run_id: str
    run_dir: Path
    output: StageOutput
    findings_file: Path


def scan(
    profile: Profile,
    *,
    now: datetime,
    progress: ProgressCallback,
    segments: Sequence[str] = (),
    targets: Sequence[str] = (),
    output: Path | None = None,
    options: ScanOptions | None = None,
) -> ScanRun:
    """Scan outside a full audit: refuse at once when the authorization does not cover ``now``,
    then write raw XML, the audit trail and ``scan-findings.json`` into the run folder
    (``<profile report folder>/<run-id>/`` unless ``output`` is given). With ``targets`` only
    those are scanned, and one out-of-scope target refuses the whole scan before any packet."""
    guard = ScopeGuard(profile)
    guard.select_segments(segments)  # unknown names: UsageError before anything else
    problem = guard.authorization_problem(now)
    if problem:
        raise ScopeError(
            f"scan refused, nothing was sent: {problem}",
            location=profile.path,
            hint="renew the authorization and update authorization.valid_until in the profile",
        )
    run_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"
    run_dir = output or Path(profile.report.output_dir) / run_id
    result = scan_segments(
        profile,
        run_dir=run_dir,
        now=now,
        progress=progress,
        segments=segments,
        targets=targets,
        options=options,
    )
    findings_file = run_dir / "scan-findings.json"
    document = {
        "run_id": run_id,
        "profile": profile.path,
        "authorization": profile.authorization.reference,
        "started_at": now.isoformat(),
        "stage": stage_to_dict(result.result),
        "artifacts": list(result.artifacts),
        "findings": [finding_to_dict(f) for f in result.findings],
    }
    try:
        findings_file.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    except OSError as e:
        raise OperationalError(f"cannot write scan results: {e.strerror}", location=str(findings_file)) from e
    return ScanRun(run_id=run_id, run_dir=run_dir, output=result, findings_file=findings_file)
