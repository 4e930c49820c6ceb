"""Shared paths and a store filled from the demo feeds (real records, see samples/feeds/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from secaudit.vuln.importer import import_files
from secaudit.vuln.store import VulnStore

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "samples" / "feeds"
FIXTURES = REPO / "tests" / "fixtures" / "vuln"
DEMO_FEEDS = sorted([*FEEDS.glob("*.json"), *FEEDS.glob("*.csv")])
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def filled_store(path: Path, *extra: Path) -> Path:
    with VulnStore.open(path) as store:
        result = import_files(store, [*DEMO_FEEDS, *extra], now=NOW)
    assert not result.errors, [str(e) for e in result.errors]
    return path
