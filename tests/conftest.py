"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEMO_PROFILE = REPO / "samples" / "phuket-demo.yaml"


@pytest.fixture
def repo() -> Path:
    return REPO
