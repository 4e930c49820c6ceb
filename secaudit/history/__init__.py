"""history layer: the SQLite store of runs and of each finding's life across runs."""

from secaudit.history.schema import SCHEMA_VERSION
from secaudit.history.store import HistoryStore, RunDiff

__all__ = ["SCHEMA_VERSION", "HistoryStore", "RunDiff"]
