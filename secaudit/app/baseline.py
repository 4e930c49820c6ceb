"""Use cases of configuration baselines: the audit's baseline stage and one-off checks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from secaudit.baseline import BaselineRun, load_baseline, open_target, run_baseline
from secaudit.baseline.stage import RESULTS_FILE
from secaudit.baseline.stage import run_baseline_stage as _run_stage
from secaudit.core.model import StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback

__all__ = ["RESULTS_FILE", "check_baseline", "run_baseline_stage"]


def run_baseline_stage(
    profile: Profile, *, run_dir: Path, now: datetime, progress: ProgressCallback
) -> StageOutput:
    """Run the profile's baseline targets; failed checks become findings, all results go to
    ``run_dir/baseline-results.json``. Errors are collected per target."""
    return _run_stage(profile, run_dir=run_dir, now=now, progress=progress)


def check_baseline(baseline: str, target: str) -> BaselineRun:
    """One baseline (a shipped id or a .yaml path) against one target (offline:DIR or file:PATH)."""
    return run_baseline(load_baseline(baseline), open_target(target))
