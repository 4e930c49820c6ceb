"""Use cases of configuration baselines: the audit's baseline stage, one-off checks with waivers,
accepting a result as the CI baseline, drift against it, and Wazuh SCA policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from secaudit.baseline import BaselineRun, load_baseline, open_target, run_baseline
from secaudit.baseline.stage import RESULTS_FILE
from secaudit.baseline.stage import run_baseline_stage as _run_stage
from secaudit.baseline.waivers import WaiverSet, apply_waivers, load_waivers, unused_waivers
from secaudit.core.model import StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback

__all__ = ["RESULTS_FILE", "CheckOutcome", "check_baseline", "run_baseline_stage"]


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
) -> CheckOutcome:
    """One baseline (a shipped id or a .yaml path) against one target, with an optional waivers file."""
    loaded: WaiverSet | None = load_waivers(waivers) if waivers is not None else None
    run = run_baseline(load_baseline(baseline), open_target(target))
    if loaded is None:
        return CheckOutcome(run=run)
    run = apply_waivers(run, loaded, now=now or datetime.now(UTC), names=(target,))
    return CheckOutcome(run=run, unused_waivers=tuple(unused_waivers(loaded, [run])))
