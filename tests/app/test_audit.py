"""The audit orchestration with real history, real files and real report writers.

Producers are injected as small stages of our own, so the run's bookkeeping (trend, fixed,
partial failure, interruption, locking) is checked exactly; the real producers have their own tests.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.app.audit import AuditOptions, run_audit
from secaudit.app.lock import audit_lock
from secaudit.app.stages import Stage, StageContext
from secaudit.cli.main import run as cli_run
from secaudit.core.errors import ConfigError, LockedError, OperationalError
from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    RunStatus,
    Severity,
    Source,
    StageOutput,
    StageResult,
)

PROFILE = """\
version: 1
organisation: Test City
authorization:
  reference: AUTH-9
  approver: Test approver
  valid_from: 2026-01-01
  valid_until: 2099-01-01
segments:
  - name: lab
    cidrs: [127.0.0.0/30]
    kind: it
    owner: Lab
    criticality: high
report:
  fail_on: high
"""


def finding(rule: str, sev: Severity, source: Source = Source.BASELINE, key: str = "") -> Finding:
    return Finding(
        rule_id=rule,
        source=source,
        severity=sev,
        title=f"{rule} title <b>",
        asset=Asset(key="host-1", address="127.0.0.1", criticality=Criticality.HIGH, segment="lab"),
        evidence_key=key or rule,
        evidence=(Evidence(kind="file", summary="seen", location="/etc/x:3", excerpt="X yes"),),
        remediation="fix it",
    )


class Producer:
    """A stage whose output each test sets; it fails or is interrupted on request."""

    def __init__(self, name: str, source: Source) -> None:
        self.name = name
        self.source = source
        self.findings: list[Finding] = []
        self.fail: BaseException | None = None

    def __call__(self, ctx: StageContext) -> StageOutput:
        assert ctx.run_dir.is_dir()
        if self.fail is not None:
            raise self.fail
        return StageOutput(
            findings=tuple(self.findings),
            result=StageResult(
                name=self.name, status=RunStatus.COMPLETED, findings=len(self.findings), items=1
            ),
        )

    def stage(self) -> Stage:
        return Stage(name=self.name, source=self.source, run=self, description="test producer")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[AuditOptions, Producer, Producer]:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    options = AuditOptions(profile_path=profile, output_dir=tmp_path / "reports")
    return options, Producer("baseline", Source.BASELINE), Producer("scan", Source.SCAN)


def test_three_runs_track_new_persisting_and_fixed(setup: tuple[AuditOptions, Producer, Producer]) -> None:
    options, base, scan = setup
    registry = [base.stage(), scan.stage()]
    a, b, c = (finding("A", Severity.LOW), finding("B", Severity.HIGH), finding("C", Severity.CRITICAL))
    base.findings = [a, b]
    first = run_audit(options, registry=registry)
    assert first.run.status is RunStatus.COMPLETED
    assert [r.finding.rule_id for r in first.report.rows] == ["B", "A"]  # ranked by severity
    assert {r.status.value for r in first.report.rows} == {"new"}

    base.findings = [b, c]
    second = run_audit(options, registry=registry)
    assert second.report.trend.previous_run_id == first.run.id
    assert [(r.finding.rule_id, r.status.value) for r in second.report.rows] == [
        ("C", "new"),
        ("B", "persisting"),
    ]
    assert [f.rule_id for f in second.report.fixed] == ["A"]
    row_b = second.report.rows[1]
    assert row_b.first_seen == first.run.started_at < row_b.last_seen

    data = json.loads(second.files["json"].read_text())
    assert data["run"]["id"] == second.run.id
    assert [f["rule_id"] for f in data["findings"]] == ["C", "B"]
    html = second.files["html"].read_text()
    assert "C title &lt;b&gt;" in html and "C title <b>" not in html
    # the first run's report is still there, untouched
    assert json.loads(first.files["json"].read_text())["run"]["id"] == first.run.id


def test_a_failed_stage_keeps_other_results_and_never_fakes_fixed(
    setup: tuple[AuditOptions, Producer, Producer],
) -> None:
    options, base, scan = setup
    registry = [base.stage(), scan.stage()]
    base.findings = [finding("A", Severity.MEDIUM)]
    scan.findings = [finding("S", Severity.HIGH, Source.SCAN, key="tcp/23")]
    run_audit(options, registry=registry)
    scan.fail = OperationalError("nmap died", hint="look at it")
    base.findings = []
    result = run_audit(options, registry=registry)
    assert result.run.status is RunStatus.INCOMPLETE
    failed = next(s for s in result.run.stages if s.name == "scan")
    assert failed.status is RunStatus.FAILED and "nmap died" in failed.errors[0]
    # A's source completed without it: fixed. S's source failed: not fixed.
    assert [f.rule_id for f in result.report.fixed] == ["A"]


def test_broken_profile_writes_nothing(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE.replace("kind: it", "kind: itt"))
    out = tmp_path / "reports"
    with pytest.raises(ConfigError) as info:
        run_audit(AuditOptions(profile_path=profile, output_dir=out), registry=[])
    assert info.value.location == f"{profile}:11"
    assert not out.exists()


def test_unwritable_output_fails_before_history(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    history = tmp_path / "h.sqlite"
    options = AuditOptions(profile_path=profile, output_dir=blocker / "reports", history_path=history)
    with pytest.raises(OperationalError) as info:
        run_audit(options, registry=[])
    assert "--output-dir" in (info.value.hint or "")
    assert not history.exists()


def test_interrupted_run_is_recorded_and_reraised(setup: tuple[AuditOptions, Producer, Producer]) -> None:
    options, base, _ = setup
    base.fail = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        run_audit(options, registry=[base.stage()])
    con = sqlite3.connect(options.output_dir / "history.sqlite")  # type: ignore[operator]
    assert con.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    con.close()


def test_lock_refuses_a_second_audit(setup: tuple[AuditOptions, Producer, Producer]) -> None:
    options, base, _ = setup
    assert options.output_dir is not None
    lock = options.output_dir / "history.sqlite.lock"
    with audit_lock(lock, run_id="holder"), pytest.raises(LockedError, match="run holder"):
        run_audit(options, registry=[base.stage()])
    # released afterwards: the next run goes through
    assert run_audit(options, registry=[base.stage()]).run.status is RunStatus.COMPLETED


def test_lock_held_by_another_process_and_released_when_it_dies(tmp_path: Path) -> None:
    lock = tmp_path / "h.lock"
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from secaudit.app.lock import audit_lock
        with audit_lock(Path({str(lock)!r}), run_id="other"):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(LockedError, match=f"pid {holder.pid}"), audit_lock(lock, run_id="me"):
                pass
        finally:
            holder.kill()
    with audit_lock(lock, run_id="me"):  # the kernel released the dead holder's lock
        pass


def test_cli_exit_codes(
    setup: tuple[AuditOptions, Producer, Producer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    options, base, scan = setup
    monkeypatch.setattr("secaudit.app.stages.STAGES", (base.stage(), scan.stage()))
    args = ["audit", "--profile", str(options.profile_path), "--output-dir", str(options.output_dir)]
    base.findings = [finding("A", Severity.MEDIUM)]
    assert cli_run(args) == 0  # below the profile's fail_on: high
    assert cli_run([*args, "--fail-on", "medium"]) == 1
    base.findings = [finding("B", Severity.HIGH)]
    assert cli_run(args) == 1
    assert cli_run([*args, "--fail-on", "none"]) == 0
    capsys.readouterr()
    scan.fail = RuntimeError("bug in a producer")
    assert cli_run([*args, "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "incomplete" and out["exit_code"] == 3
    assert "internal error in stage scan" in out["stages"][1]["errors"][0]
    base.fail = KeyboardInterrupt()
    assert cli_run(args) == 130
    bad = options.profile_path.with_name("bad.yaml")
    bad.write_text(PROFILE.replace("AUTH-9", "AUTH-9\n  reference: AUTH-10"))
    assert cli_run(["audit", "--profile", str(bad)]) == 2
    assert "duplicate key 'reference'" in capsys.readouterr().err


def test_schedule_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE)
    assert cli_run(["schedule", "--systemd", "--every", "weekly", "--profile", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "OnCalendar=Mon *-*-* 02:00:00" in out
    assert f"audit --profile {profile.resolve()}" in out
    assert "SuccessExitStatus=1" in out
    assert cli_run(["schedule", "--cron", "--profile", str(profile)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("0 2 * * * cd ") and line.endswith(f"--profile {profile.resolve()}")
    assert cli_run(["schedule", "--profile", str(profile)]) == 2
    expired = PROFILE.replace("2099-01-01", "2026-02-01")
    profile.write_text(expired)
    assert cli_run(["schedule", "--cron", "--profile", str(profile)]) == 2
    assert "expired on 2026-02-01" in capsys.readouterr().err


def test_missing_nmap_exits_3_with_the_fix_before_anything_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = tmp_path / "reports"
    assert cli_run(["audit", "--profile", str(profile), "--output-dir", str(out)]) == 3
    err = capsys.readouterr().err
    assert "nmap not found" in err and "apt-get install" in err
    assert not out.exists()


def test_an_audit_scan_joins_the_inventory(
    setup: tuple[AuditOptions, Producer, Producer], tmp_path: Path
) -> None:
    """What the audit's scan stage saw (its raw nmap XML) is merged into the profile's inventory."""
    from secaudit.app.audit import history_location, history_scope
    from secaudit.catalog.profile import load_profile
    from secaudit.history.store import HistoryStore

    options, base, _ = setup
    xml = tmp_path / "seen.xml"
    xml.write_bytes(
        (Path(__file__).resolve().parents[1] / "fixtures" / "nmap" / "demo-city-data.xml").read_bytes()
    )

    def scan_run(ctx: StageContext) -> StageOutput:
        return StageOutput(
            findings=(),
            result=StageResult(name="scan", status=RunStatus.COMPLETED, items=1),
            artifacts=(str(xml),),
        )

    registry = [base.stage(), Stage(name="scan", source=Source.SCAN, run=scan_run, description="xml")]
    result = run_audit(options, registry=registry)
    profile = load_profile(options.profile_path, now=result.run.started_at)
    path = history_location(profile, options.output_dir, None)
    with HistoryStore.open(path) as store:
        assets = store.inventory.assets(history_scope(profile))
    addresses = {a.host.address for a in assets}
    assert "127.20.4.10" in addresses
    assert all(a.first_scan_id == result.run.id for a in assets)


def test_two_audits_started_in_the_same_second_get_distinct_runs(
    setup: tuple[AuditOptions, Producer, Producer], monkeypatch: pytest.MonkeyPatch
) -> None:
    options, base, scan = setup
    registry = [base.stage(), scan.stage()]
    base.findings = [finding("A", Severity.LOW)]
    moment = datetime(2026, 12, 7, 6, 27, 37, tzinfo=UTC)
    draws = iter(["c4a1c4a1", "c4a1c4a1", "0b5e0b5e"])  # the second audit first draws the first's id
    monkeypatch.setattr("secaudit.app.locations.secrets.token_hex", lambda n: next(draws))
    first = run_audit(options, registry=registry, clock=lambda: moment)
    second = run_audit(options, registry=registry, clock=lambda: moment)
    assert (first.run.id, second.run.id) == ("20261207T062737Z-c4a1c4a1", "20261207T062737Z-0b5e0b5e")
    assert first.run.status is second.run.status is RunStatus.COMPLETED
    assert first.files["json"].parent != second.files["json"].parent
    assert json.loads(first.files["json"].read_text())["run"]["id"] == first.run.id
