"""The stages an audit runs, in order. A stage is listed here only once its producer exists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from secaudit.core.model import Source, StageOutput
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback


@dataclass(frozen=True, slots=True, kw_only=True)
class StageContext:
    """What a stage gets: the validated profile, its run folder, the run's clock time, progress."""

    profile: Profile
    run_dir: Path
    now: datetime
    progress: ProgressCallback


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


STAGES: tuple[Stage, ...] = ()
