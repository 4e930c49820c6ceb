"""Faults handled like data: tracebacks only on -vv, a closed stdout ends quietly, SIGTERM interrupts."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from secaudit.app.lock import audit_lock
from secaudit.app.stages import Stage, StageContext
from secaudit.cli.main import run as cli_run
from secaudit.core.errors import OperationalError
from secaudit.core.model import RunStatus, Source, StageOutput, StageResult
from tests.conftest import DEMO_PROFILE
from tests.hostile.test_secrets import PROFILE


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("planted bug")


@pytest.mark.parametrize(
    ("flags", "traceback"), [([], False), (["-v"], False), (["-vv"], True), (["-v", "-v"], True)]
)
def test_vv_prints_the_traceback_of_an_internal_error(
    flags: list[str], traceback: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("secaudit.cli.profile.load_profile", _boom)
    assert cli_run([*flags, "profile", "validate", str(DEMO_PROFILE)]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: planted bug" in err
    assert ("Traceback (most recent call last)" in err) is traceback
    assert ("run again with -vv" in err) is not traceback


def _secaudit(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    code = "import sys; from secaudit.cli.main import main; main()"
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs
    )


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    line = {"@timestamp": "2026-01-01T00:00:00Z", "message": "planted", "host": "h"}
    log.write_text("".join(json.dumps({**line, "n": i}) + "\n" for i in range(20_000)), encoding="utf-8")
    rule = tmp_path / "rule.yml"
    rule.write_text(
        "title: Planted\nid: 3f1c8a4e-55aa-4e39-8c1b-0d6d8f2f9a10\nstatus: test\nlogsource: {product: linux}\n"
        "detection: {sel: {message: planted}, condition: sel}\nlevel: low\n",
        encoding="utf-8",
    )
    proc = _secaudit(
        "logs", "hunt", "--rules", str(rule), "--logsource", "product=linux", "--format", "jsonl", str(log)
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # what `| head -1` does: read one line, then close
    proc.stdout.close()
    code = proc.wait(timeout=300)  # a hang (a pool worker left behind) fails here, not forever
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert code == 0, err
    assert b"Planted" in first
    assert "Traceback" not in err and "Broken pipe" not in err and "Exception ignored" not in err, err


def test_sigterm_is_an_interruption_not_a_crash(tmp_path: Path) -> None:
    fifo = tmp_path / "stdin"
    os.mkfifo(fifo)
    # `logs hunt -` waits on stdin that never comes: the run is busy when the signal arrives
    writer = os.open(fifo, os.O_RDWR)  # keeps the FIFO open so the reader blocks, not ends
    try:
        with fifo.open("rb") as stdin:
            proc = _secaudit("logs", "hunt", "--format", "jsonl", "-", stdin=stdin)
            time.sleep(3)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 130
            assert proc.stderr is not None
            err = proc.stderr.read().decode()
            proc.stderr.close()
            assert proc.stdout is not None
            proc.stdout.close()
    finally:
        os.close(writer)
    assert "interrupted" in err and "Traceback" not in err


def _clean_scan(ctx: StageContext) -> StageOutput:
    return StageOutput(findings=(), result=StageResult(name="scan", status=RunStatus.COMPLETED, items=3))


def _broken_detect(ctx: StageContext) -> StageOutput:
    raise OperationalError("the log folder vanished", location="/logs")


def test_an_incomplete_stage_never_leaves_a_clean_posture_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No findings and a failed detection stage: every rendering of the 100/100 says what it misses."""
    monkeypatch.delenv("SECAUDIT_HISTORY", raising=False)
    monkeypatch.setattr(
        "secaudit.app.stages.STAGES",
        (
            Stage(name="scan", source=Source.SCAN, run=_clean_scan, description="t"),
            Stage(name="detect", source=Source.DETECTION, run=_broken_detect, description="t"),
        ),
    )
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    out = tmp_path / "reports"
    formats = [x for f in ("html", "json", "md") for x in ("--format", f)]
    code = cli_run(
        ["audit", "--profile", str(profile), "--output-dir", str(out), "--fail-on", "none", *formats]
    )
    assert code == 3  # an incomplete run
    printed = capsys.readouterr().out
    assert (
        "100.0 / 100 (not assessed: the score covers only the stages that completed; these did not: detect)"
        in (" ".join(printed.split()))
    )
    report = json.loads(next(out.rglob("findings.json")).read_text(encoding="utf-8"))
    assert report["posture_score"] == 100.0 and report["posture_not_assessed"] == ["detect"]
    assert "these did not: detect" in next(out.rglob("summary.md")).read_text(encoding="utf-8")
    html = next(out.rglob("report.html")).read_text(encoding="utf-8")
    assert 'id="posture-not-assessed"' in html and "detect" in html


AUDIT_SCRIPT = """
import sys, time
from secaudit.app import stages
from secaudit.core.model import RunStatus, Source, StageOutput, StageResult

def slow(ctx):
    print("stage started", flush=True)
    time.sleep(120)
    return StageOutput(findings=(), result=StageResult(name="scan", status=RunStatus.COMPLETED))

stages.STAGES = (stages.Stage(name="scan", source=Source.SCAN, run=slow, description="t"),)
from secaudit.cli.main import main
main()
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_audit_is_marked_interrupted_and_releases_its_lock(
    tmp_path: Path, sig: signal.Signals
) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    history = tmp_path / "h.sqlite"
    args = [
        "audit",
        "--profile",
        str(profile),
        "--output-dir",
        str(tmp_path / "r"),
        "--history",
        str(history),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", AUDIT_SCRIPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == b"stage started"
    proc.send_signal(sig)
    code = proc.wait(timeout=120)
    err = proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    with sqlite3.connect(history) as db:
        assert [r[0] for r in db.execute("SELECT status FROM runs")] == ["interrupted"]
    with audit_lock(history.with_name(history.name + ".lock"), run_id="next"):
        pass  # the stopped run's lock was released


def test_a_lock_file_left_with_garbage_is_recovered_and_never_echoed(tmp_path: Path) -> None:
    lock = tmp_path / "h.sqlite.lock"
    lock.write_bytes(b"\x1b]52;c;" + b"x" * 100_000)  # a holder note from nobody we know, never held
    with audit_lock(lock, run_id="mine"):
        note = json.loads(lock.read_bytes())
        assert note["run_id"] == "mine" and note["pid"] == os.getpid()
    assert lock.read_bytes() == b""  # released, note cleared


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system with no space left: a 64 KiB tmpfs mounted for the test, then filled."""
    mount = tmp_path / "full"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount)],
            capture_output=True,
            check=False,
        ).returncode
    ):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        filler = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while os.write(filler, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(filler)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_the_audit_lock_holds_on_a_full_disk(full_disk: Path) -> None:
    """After a run filled the disk, the next audit still takes its lock: the holder note is only a
    note (it cannot be written), the kernel's lock is what counts, and a second run is still refused."""
    lock = full_disk / "history.sqlite.lock"
    try:
        lock.touch()  # the earlier run left it (a tmpfs inode needs no data block)
    except OSError:
        pytest.skip("no inode left either")
    with pytest.raises(OSError):
        (full_disk / "probe").write_bytes(b"x" * 8192)  # the disk is really full
    with audit_lock(lock, run_id="after-disk-full"):
        holder = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held for real
        finally:
            os.close(holder)
    with audit_lock(lock, run_id="next"):
        pass  # released again


MANY_FINDINGS_SCRIPT = """
import sys
from secaudit.app import stages
from secaudit.core.model import (
    Asset, Criticality, Evidence, Finding, RunStatus, Severity, Source, StageOutput, StageResult,
)

def many(ctx):
    asset = Asset(key="host-1", address="127.0.0.1", criticality=Criticality.HIGH, segment="lab")
    found = tuple(
        Finding(rule_id=f"R{i}", source=Source.BASELINE, severity=Severity.MEDIUM, title=f"check {i}",
                asset=asset, evidence_key=f"R{i}",
                evidence=(Evidence(kind="file", summary="seen", location=f"/etc/x:{i}", excerpt="x"),))
        for i in range(3000)
    )
    print("stage finished", flush=True)
    return StageOutput(findings=found, result=StageResult(name="baseline", status=RunStatus.COMPLETED))

stages.STAGES = (stages.Stage(name="baseline", source=Source.BASELINE, run=many, description="t"),)
from secaudit.cli.main import main
main()
"""


def test_ctrl_c_at_any_moment_of_the_history_write_never_leaves_a_running_run(tmp_path: Path) -> None:
    """The review saw 2 of 5 Ctrl-C during the history write leave the run 'running'. Five audits with
    3,000 findings each are interrupted at five moments after their stage ended (while history is
    written, the report built, the files written): the run is never left 'running', the lock is
    always released, and a run marked interrupted exits 130."""
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    outcomes = []
    for attempt, delay in enumerate((0.0, 0.05, 0.15, 0.4, 0.8)):
        history = tmp_path / f"h{attempt}.sqlite"
        args = ["audit", "--profile", str(profile), "--output-dir", str(tmp_path / f"r{attempt}")]
        args += ["--history", str(history), "--format", "json", "--fail-on", "none"]
        proc = subprocess.Popen(
            [sys.executable, "-c", MANY_FINDINGS_SCRIPT, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().strip() == b"stage finished"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
        err = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
        assert "Traceback" not in err, err
        with sqlite3.connect(history) as db:
            statuses = [r[0] for r in db.execute("SELECT status FROM runs")]
        assert len(statuses) == 1 and statuses[0] != "running", (delay, statuses, err)
        if statuses[0] == "interrupted":
            assert code == 130, err
        with audit_lock(history.with_name(history.name + ".lock"), run_id="next"):
            pass
        outcomes.append((code, statuses[0]))
    assert any(status == "interrupted" for _, status in outcomes), outcomes  # the signals did land mid-run
