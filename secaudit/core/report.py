"""The immutable input of every report writer: one run, its ranked rows and its trend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from secaudit.core.model import Finding, Run, Status, WaivedFinding
from secaudit.core.profile import Profile


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRow:
    """One ranked finding with its history."""

    rank: int
    finding: Finding
    status: Status
    first_seen: datetime
    last_seen: datetime


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
    generated_at: datetime


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
