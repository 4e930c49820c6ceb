"""Report files get the mode a plain open() gives (0o666 less the umask), like the evidence and
history beside them, so an auditor's account can read what a root job wrote; nothing the audit
writes is writable by others, even under a umask of 0. The rebuilt report follows the same rule."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from secaudit.app.audit import AuditOptions, run_audit
from secaudit.app.history import rebuild_report
from secaudit.app.stages import Stage, StageContext
from secaudit.core.model import RunStatus, Source, StageOutput, StageResult
from tests.app.test_report_rebuild import OPEN, PROFILE


def _stage(ctx: StageContext) -> StageOutput:
    return StageOutput(
        findings=(OPEN,), result=StageResult(name="baseline", status=RunStatus.COMPLETED, findings=1)
    )


@pytest.fixture
def umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o000, 0o664)]
)
def test_report_files_follow_the_umask_and_nothing_is_world_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: None, mask: int, expected: int
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(
        "secaudit.app.stages.STAGES",
        (Stage(name="baseline", source=Source.BASELINE, run=_stage, description="t"),),
    )
    profile = tmp_path / "city.yaml"
    profile.write_text(PROFILE)
    os.umask(mask)
    history = tmp_path / "h.sqlite"
    result = run_audit(
        AuditOptions(profile_path=profile, output_dir=tmp_path / "reports", history_path=history)
    )
    assert result.files
    for path in result.files.values():
        assert _mode(path) == expected, path.name
    evidence = tmp_path / "evidence.txt"
    evidence.write_text("x")  # what a plain open() gives, as evidence files are written
    assert _mode(evidence) & 0o775 == expected & 0o775
    assert not _mode(result.run_dir) & 0o002
    for item in (history, history.with_name("h.sqlite-wal")):
        if item.exists():
            assert not _mode(item) & 0o002, item.name
    again = rebuild_report(
        history, result.run.id, output_dir=tmp_path / "again", formats=("json",), lang="en"
    )
    assert _mode(again["json"]) == expected
