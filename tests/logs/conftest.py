"""Fixtures for the log reader tests: our own samples, SigmaHQ's regression data, a read helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from secaudit.core.events import LogEvent
from secaudit.logs import ReadStats, read_events

Reader = Callable[..., tuple[list[LogEvent], ReadStats]]


@pytest.fixture
def fixtures() -> Path:
    return Path(__file__).resolve().parents[1] / "fixtures" / "logs"


@pytest.fixture
def regression() -> Path:
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "sigmahq" / "regression_data"


@pytest.fixture
def read() -> Reader:
    """read(*paths, **options) -> (events, stats) through the public read_events."""

    def run(*paths: Path | str, **options: object) -> tuple[list[LogEvent], ReadStats]:
        stats = ReadStats()
        events = list(read_events([str(p) for p in paths], stats=stats, **options))  # type: ignore[arg-type]
        return events, stats

    return run
