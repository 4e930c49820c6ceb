"""Use cases of active scanning: the audit's scan stage and scope checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from secaudit.core.model import StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback
from secaudit.scan import ScanOptions, scan_segments
from secaudit.scope import Resolver, ScopeGuard, TargetVerdict, system_resolver

__all__ = ["ScanOptions", "check_scope", "run_scan_stage"]


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
