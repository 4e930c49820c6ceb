"""The audit trail: one JSON line per scan attempt, refused ones included.

Who ran it, when, under which authorization, the exact nmap argv, the targets, how long it took
and how it ended. Append-only; each line is flushed and synced so a crash keeps what was sent.
"""

from __future__ import annotations

import getpass
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from secaudit.core.errors import OperationalError

RESULTS = ("completed", "partial", "failed", "refused", "interrupted")


def current_user() -> str:
    """The person behind the run: the sudo caller when run through sudo."""
    for var in ("SUDO_USER", "LOGNAME", "USER"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid:{os.getuid()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    who: str
    when: datetime
    authorization: str
    argv: tuple[str, ...]
    targets: tuple[str, ...]
    duration_s: float
    result: str
    segment: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "who": self.who,
            "when": self.when.isoformat(),
            "authorization": self.authorization,
            "segment": self.segment,
            "argv": list(self.argv),
            "targets": list(self.targets),
            "duration_s": round(self.duration_s, 3),
            "result": self.result,
            "detail": self.detail,
        }


class AuditTrail:
    """Appends :class:`AuditEntry` lines to one file (one line at a time across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, entry: AuditEntry) -> None:
        if entry.result not in RESULTS:
            raise ValueError(f"audit result must be one of {RESULTS}, not {entry.result!r}")
        line = json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as e:
            raise OperationalError(
                f"cannot write the scan audit trail: {e.strerror}",
                location=str(self.path),
                hint="make the folder writable; scans are not run without an audit trail",
            ) from e

    def entries(self) -> list[dict[str, Any]]:
        """Every entry so far, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
