"""The immutable input of every report writer: one run, its ranked rows and its trend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from secaudit.core.model import Asset, BaselineTally, CheckedItem, Finding, Run, Status, WaivedFinding
from secaudit.core.profile import Profile


class Decision(Enum):
    """What to do about a finding, in the style of CISA's SSVC deployer decisions."""

    ACT = "act"  # fix now, out of cycle
    ATTEND = "attend"  # fix soon, with attention from leadership
    TRACK_STAR = "track*"  # fix in the normal cycle, watch closely
    TRACK = "track"  # fix in the normal cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFactor:
    """One factor of a risk score, as the report explains it."""

    name: str  # severity | criticality | exposure | exploitability | active_attack
    value: str  # what was observed, in words ("public-safety-critical", "CVE-2024-1234 in KEV")
    points: float  # what it added to the score
    # ``value`` as a message key and its arguments, so a report can say it in another language:
    # key "exposure.segment", args (("kind", "ot"), ("segment", "signals")); "" for a bare label.
    # (Derived from ``value``: not part of a factor's identity.)
    key: str = field(default="", compare=False)
    args: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRow:
    """One ranked row: a finding with its history and its risk.

    Identical findings on several assets aggregate into one row: ``finding`` is the highest-risk
    instance, ``assets`` every asset it was found on (``finding.asset`` first) and ``fingerprints``
    the instances' fingerprints in the same order; ``instances`` the instance findings themselves, in
    the same order (empty on rows built before aggregation: then ``finding`` is the only instance).
    """

    rank: int
    finding: Finding
    status: Status
    first_seen: datetime
    last_seen: datetime
    score: float = 0.0  # 0..100
    decision: Decision = Decision.TRACK
    factors: tuple[RiskFactor, ...] = ()
    likelihood: int = 1  # 1..5, for the heat map
    impact: int = 1  # 1..5
    assets: tuple[Asset, ...] = ()
    fingerprints: tuple[str, ...] = ()
    instances: tuple[Finding, ...] = ()

    @property
    def all_instances(self) -> tuple[Finding, ...]:
        """Every instance of the row, ``finding`` first; never empty."""
        return self.instances or (self.finding,)


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlCoverage:
    """One control of a compliance framework and what the run's results say about it.

    ``checked`` counts the checks and rules citing the control that produced a result in this run
    (per check or rule, not per asset); of those, ``failing`` have an open finding (or an accepted
    risk), ``passing`` passed everywhere they ran, ``not_applicable`` did not apply (or are waived).
    A control no result cites is not assessed (``checked == 0``): it is never counted as met.
    """

    framework: str  # "cis-controls-v8", "nist-csf-2.0", "iso27001-2022", "th-cii-2562"
    control: str  # the framework's own id ("4.1", "PR.AA-01", "A.8.9", "protect")
    name: str  # our own short name
    checked: int  # checks and rules citing it that produced a result
    failing: int  # of those, how many failed
    framework_controls: int = 0  # controls in the whole framework (0: unknown, only those listed)
    passing: int = 0  # of those, how many passed
    not_applicable: int = 0  # of those, how many did not apply
    name_th: str = ""  # our own short name in Thai

    @property
    def status(self) -> str:
        """``failed`` (any citing check or rule failed), ``passed``, ``notapplicable``, or
        ``unassessed`` (nothing citing it produced a result)."""
        if self.failing:
            return "failed"
        if self.passing:
            return "passed"
        if self.not_applicable:
            return "notapplicable"
        return "unassessed"


def coverage_summary(controls: Sequence[ControlCoverage]) -> dict[str, int]:
    """One framework's controls counted: in the framework, assessed, and of those passed, failed
    and not applicable, then not assessed (``controls``: that framework's entries of a report)."""
    statuses = [c.status for c in controls]
    total = max(len(controls), max((c.framework_controls for c in controls), default=0))
    assessed = len(statuses) - statuses.count("unassessed")
    return {
        "controls": total,
        "assessed": assessed,
        "passed": statuses.count("passed"),
        "failed": statuses.count("failed"),
        "not_applicable": statuses.count("notapplicable"),
        "unassessed": total - assessed,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Trend:
    """This run against the previous completed run of the same profile."""

    previous_run_id: str = ""
    new: int = 0
    persisting: int = 0
    fixed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    run: Run
    profile: Profile
    rows: tuple[ReportRow, ...]
    fixed: tuple[Finding, ...] = ()
    waived: tuple[WaivedFinding, ...] = ()
    trend: Trend = Trend()
    compliance: tuple[ControlCoverage, ...] = ()
    posture_score: float = 100.0  # 0..100, higher is better
    generated_at: datetime
    checked: tuple[CheckedItem, ...] = ()  # baseline checks that passed or did not apply
    tallies: tuple[BaselineTally, ...] = ()  # per asset and baseline: pass / fail / n/a counts


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressEvent:
    """Progress of a long task, reported through a callback so ``core`` never imports rich."""

    task: str
    done: int
    total: int | None = None
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The default progress callback: ignore."""
