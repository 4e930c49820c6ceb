"""The stages an audit runs, in order. A stage is listed here only once its producer exists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from secaudit.app.baseline import run_baseline_stage
from secaudit.app.detect import run_detect_stage
from secaudit.app.scan import run_scan_stage
from secaudit.app.vuln import run_vuln_stage
from secaudit.core.model import Source, StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback
from secaudit.scan import find_nmap


@dataclass(frozen=True, slots=True, kw_only=True)
class StageContext:
    """What a stage gets: the validated profile, its run folder, the run's clock time, progress."""

    profile: Profile
    run_dir: Path
    now: datetime
    progress: ProgressCallback
    history: Path | None = None  # the run's history: a stage may record into it as it goes
    run_id: str = ""


def _always(profile: Profile) -> bool:
    return True


def _nothing_needed(profile: Profile) -> None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    name: str
    source: Source
    run: Callable[[StageContext], StageOutput]
    description: str
    applies: Callable[[Profile], bool] = _always
    preflight: Callable[[Profile], None] = _nothing_needed  # raises OperationalError before the run starts


def _scan(ctx: StageContext) -> StageOutput:
    return run_scan_stage(
        ctx.profile,
        run_dir=ctx.run_dir,
        now=ctx.now,
        progress=ctx.progress,
        history=ctx.history,
        scan_id=ctx.run_id,
    )


def _scan_preflight(profile: Profile) -> None:
    find_nmap()  # OperationalError (exit 3) with the install hint, before anything is recorded


def _baseline(ctx: StageContext) -> StageOutput:
    waivers = Path(ctx.profile.baseline_waivers) if ctx.profile.baseline_waivers else None
    return run_baseline_stage(
        ctx.profile, run_dir=ctx.run_dir, now=ctx.now, progress=ctx.progress, waivers=waivers
    )


def _has_baseline_targets(profile: Profile) -> bool:
    return bool(profile.baseline_targets)


def _detect(ctx: StageContext) -> StageOutput:
    return run_detect_stage(ctx.profile, run_dir=ctx.run_dir, now=ctx.now, progress=ctx.progress)


def _has_log_sources(profile: Profile) -> bool:
    return bool(profile.log_sources)


def _vuln(ctx: StageContext) -> StageOutput:
    return run_vuln_stage(ctx.profile, run_dir=ctx.run_dir, now=ctx.now, progress=ctx.progress)


def _has_vuln(profile: Profile) -> bool:
    return profile.vuln is not None


STAGES: tuple[Stage, ...] = (
    Stage(
        name="scan",
        source=Source.SCAN,
        run=_scan,
        description="nmap scans of every authorized segment with its scan profile, then exposure rules",
        preflight=_scan_preflight,
    ),
    Stage(
        name="baseline",
        source=Source.BASELINE,
        run=_baseline,
        description="configuration baselines against the profile's baseline targets",
        applies=_has_baseline_targets,
    ),
    Stage(
        name="detect",
        source=Source.DETECTION,
        run=_detect,
        description="Sigma rules and correlations over the profile's log sources",
        applies=_has_log_sources,
    ),
    Stage(  # after the scan: it reads the services the scan wrote into the run folder
        name="vuln",
        source=Source.VULN,
        run=_vuln,
        description="known vulnerabilities of installed packages and scanned services, from imported feeds",
        applies=_has_vuln,
    ),
)
