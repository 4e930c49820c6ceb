"""Use cases of configuration baselines: the audit's baseline stage, one-off checks with waivers,
accepting a result as the CI baseline, drift against it, and Wazuh SCA policies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secaudit.baseline import BaselineRun, load_baseline, open_target, run_baseline
from secaudit.baseline.drift import (
    DriftItem,
    DriftKind,
    DriftReport,
    accept,
    compare,
    load_accepted,
    read_all,
)
from secaudit.baseline.sca import load_policy, run_policy
from secaudit.baseline.stage import RESULTS_FILE
from secaudit.baseline.stage import run_baseline_stage as _run_stage
from secaudit.baseline.waivers import WaiverSet, apply_waivers, load_waivers, unused_waivers
from secaudit.core.errors import OperationalError, UsageError
from secaudit.core.model import StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback

__all__ = [
    "RESULTS_FILE",
    "CheckOutcome",
    "accept_results",
    "baseline_drift",
    "check_baseline",
    "check_sca",
    "drift_to_dict",
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
) -> CheckOutcome:
    """One baseline (a shipped id or a .yaml path) against one target, with an optional waivers file."""
    loaded: WaiverSet | None = load_waivers(waivers) if waivers is not None else None
    checks = load_baseline(baseline)
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


def baseline_drift(accepted: Path, current: Sequence[Path]) -> DriftReport:
    """Current results held against the accepted baseline; bad input raises ConfigError (exit 2)."""
    return compare(load_accepted(accepted), read_all(current))


def drift_to_dict(report: DriftReport) -> dict[str, Any]:
    def item(i: DriftItem) -> dict[str, Any]:
        target, baseline, check = i.key
        out: dict[str, Any] = {
            "kind": i.kind.value,
            "drift": i.kind.is_drift,
            "target": target,
            "baseline": baseline,
            "check": check,
            "why": i.why,
            "accepted_status": i.accepted.status if i.accepted else None,
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
