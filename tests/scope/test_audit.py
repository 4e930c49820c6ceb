from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.core.errors import OperationalError
from secaudit.scope import AuditEntry, AuditTrail

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_entries_are_appended_as_json_lines(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit" / "scan-audit.jsonl")
    trail.append(
        AuditEntry(
            who="analyst",
            when=NOW,
            authorization="PKT-AUTH-7",
            argv=("nmap", "-n", "-iL", "targets.txt"),
            targets=("127.20.1.1",),
            duration_s=1.23456,
            result="completed",
            segment="command-center",
        )
    )
    trail.append(
        AuditEntry(
            who="analyst",
            when=NOW,
            authorization="PKT-AUTH-7",
            argv=(),
            targets=("127.99.0.1",),
            duration_s=0,
            result="refused",
            detail="not in any authorized segment",
        )
    )
    lines = (tmp_path / "audit" / "scan-audit.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert first["argv"] == ["nmap", "-n", "-iL", "targets.txt"]
    assert first["when"] == "2026-03-01T12:00:00+00:00"
    assert first["duration_s"] == 1.235
    assert [e["result"] for e in trail.entries()] == ["completed", "refused"]


def test_unknown_result_and_unwritable_trail(tmp_path: Path) -> None:
    entry = AuditEntry(who="a", when=NOW, authorization="x", argv=(), targets=(), duration_s=0, result="done")
    with pytest.raises(ValueError, match="audit result"):
        AuditTrail(tmp_path / "t.jsonl").append(entry)
    blocker = tmp_path / "file"
    blocker.write_text("")
    ok = AuditEntry(who="a", when=NOW, authorization="x", argv=(), targets=(), duration_s=0, result="failed")
    with pytest.raises(OperationalError, match="audit trail"):
        AuditTrail(blocker / "t.jsonl").append(ok)
