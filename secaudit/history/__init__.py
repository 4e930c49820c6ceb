"""history layer: the SQLite store of runs, of each finding's life across runs, and the inventory."""

from secaudit.history.inventory import (
    HostRecord,
    Inventory,
    InventoryAsset,
    ScanDiff,
    ScanRecord,
    ServiceChange,
    ServiceRecord,
    diff_scans,
)
from secaudit.history.schema import SCHEMA_VERSION
from secaudit.history.store import HistoryStore, RunDiff

__all__ = [
    "SCHEMA_VERSION",
    "HistoryStore",
    "HostRecord",
    "Inventory",
    "InventoryAsset",
    "RunDiff",
    "ScanDiff",
    "ScanRecord",
    "ServiceChange",
    "ServiceRecord",
    "diff_scans",
]
