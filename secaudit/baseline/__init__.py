"""Configuration baselines: CIS-style checks as data, typed probes, offline and file targets."""

from secaudit.baseline.engine import judge, run_baseline, run_check
from secaudit.baseline.loader import baseline_ids, default_dir, load_baseline, load_baseline_file
from secaudit.baseline.model import (
    Baseline,
    BaselineRun,
    Check,
    CheckResult,
    CheckStatus,
    Observation,
    SectionScore,
)
from secaudit.baseline.results import result_to_dict, run_to_dict
from secaudit.baseline.target import (
    CommandResult,
    FileTarget,
    LocalTarget,
    NotApplicable,
    OfflineTarget,
    ProbeError,
    Target,
    open_target,
)

__all__ = [
    "Baseline",
    "BaselineRun",
    "Check",
    "CheckResult",
    "CheckStatus",
    "CommandResult",
    "FileTarget",
    "LocalTarget",
    "NotApplicable",
    "Observation",
    "OfflineTarget",
    "ProbeError",
    "SectionScore",
    "Target",
    "baseline_ids",
    "default_dir",
    "judge",
    "load_baseline",
    "load_baseline_file",
    "open_target",
    "result_to_dict",
    "run_baseline",
    "run_check",
    "run_to_dict",
]
