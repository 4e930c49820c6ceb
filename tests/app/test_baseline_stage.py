"""The audit's baseline stage on the demo snapshots: findings, results file, collected errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from secaudit.app.baseline import RESULTS_FILE, run_baseline_stage
from secaudit.core.model import Criticality, RunStatus, SegmentKind, Source
from secaudit.core.profile import Authorization, BaselineTarget, InventoryAsset, Profile, Segment
from secaudit.core.report import ProgressEvent

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)


def _profile(targets: tuple[BaselineTarget, ...]) -> Profile:
    return Profile(
        path=str(REPO / "samples" / "stage-test.yaml"),  # relative targets resolve against samples/
        organisation="Phuket test",
        authorization=Authorization(
            reference="T-1", approver="tester", valid_from=datetime(2026, 1, 1, tzinfo=UTC), valid_until=NOW
        ),
        segments=(
            Segment(
                name="command-center",
                cidrs=(),
                kind=SegmentKind.IT,
                owner="x",
                criticality=Criticality.HIGH,
                scan_profile="standard",
            ),
        ),
        assets=(
            InventoryAsset(
                name="cc-app-01",
                address="127.20.1.10",
                criticality=Criticality.HIGH,
                segment="command-center",
            ),
            InventoryAsset(name="core-rtr-01", address="127.20.6.1", criticality=Criticality.CRITICAL),
        ),
        baseline_targets=targets,
    )


DEMO = (
    BaselineTarget(target="offline:snapshots/cc-app01", baselines=("debian12-server",), asset="cc-app-01"),
    BaselineTarget(target="file:snapshots/cc-core-rtr01.cfg", baselines=("cisco-ios",), asset="core-rtr-01"),
    BaselineTarget(target="file:snapshots/portal-nginx.conf", baselines=("nginx",)),
)


def test_demo_snapshots_become_findings(tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    out = run_baseline_stage(_profile(DEMO), run_dir=tmp_path, now=NOW, progress=events.append)
    assert out.result.status is RunStatus.COMPLETED, out.result.errors
    by_rule = {f.rule_id: f for f in out.findings}
    root = by_rule["ssh-permit-root-login"]
    assert root.source is Source.BASELINE
    assert root.asset.key == "cc-app-01" and root.asset.criticality is Criticality.HIGH
    assert root.evidence[0].location == "/etc/ssh/sshd_config:3"
    assert root.evidence[0].excerpt == "yes"
    assert root.evidence_key == "sshd_setting:permitrootlogin"
    assert "cis:Debian 12 5.1.20" in [str(r) for r in root.references]
    assert (
        by_rule["deb12-net-ip-forwarding-off"].evidence[0].location == "/etc/sysctl.d/70-vms-streaming.conf:2"
    )
    telnet = by_rule["ios-vty-ssh-only"]
    assert telnet.asset.key == "core-rtr-01"
    assert [e.excerpt for e in telnet.evidence] == ["telnet ssh", "telnet"]
    assert (
        by_rule["ios-snmp-no-default-community"]
        .evidence[0]
        .summary.startswith("snmp-server community public")
    )
    tls = by_rule["nginx-tls-modern-protocols"]
    assert tls.asset.key == "file:snapshots/portal-nginx.conf"  # not in the inventory: keyed by target
    assert "TLSv1" in tls.evidence[0].excerpt
    assert "nginx-server-tokens-off" in by_rule
    # the planted symlink to /etc/shadow never reached the host's file
    assert "deb12-no-empty-passwords" in by_rule
    results = json.loads((tmp_path / RESULTS_FILE).read_text())
    statuses = {r["status"] for run in results["runs"] for r in run["results"]}
    assert {"pass", "fail", "notapplicable"} <= statuses
    assert [run["asset"] for run in results["runs"]] == [
        "cc-app-01",
        "core-rtr-01",
        "file:snapshots/portal-nginx.conf",
    ]
    assert out.artifacts == (RESULTS_FILE,)
    assert events[-1].done == events[-1].total == 3
    # fingerprints are stable from run to run
    again = run_baseline_stage(_profile(DEMO), run_dir=tmp_path / "2", now=NOW, progress=lambda e: None)
    assert sorted(f.fingerprint for f in again.findings) == sorted(f.fingerprint for f in out.findings)


def test_errors_are_collected_per_target_and_the_rest_runs(tmp_path: Path) -> None:
    targets = (
        BaselineTarget(target="offline:snapshots/no-such-root", baselines=("debian12-server",)),
        BaselineTarget(target="file:snapshots/cc-core-rtr01.cfg", baselines=("cisco-ios", "cisco-iso")),
    )
    out = run_baseline_stage(_profile(targets), run_dir=tmp_path, now=NOW, progress=lambda e: None)
    assert out.result.status is RunStatus.INCOMPLETE
    assert out.result.skipped == 1
    assert any("no-such-root" in e for e in out.result.errors)
    assert any("unknown baseline 'cisco-iso' (did you mean 'cisco-ios'?)" in e for e in out.result.errors)
    assert {f.rule_id for f in out.findings} >= {"ios-vty-ssh-only", "ios-http-server-off"}


def test_demo_waivers_reach_the_audit_stage_as_waived_findings(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from secaudit.app.stages import STAGES, StageContext
    from secaudit.catalog.profile import load_profile
    from secaudit.core.model import WaiverKind
    from tests.conftest import DEMO_PROFILE

    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    profile = load_profile(DEMO_PROFILE, now=now)
    stage = next(s for s in STAGES if s.name == "baseline")
    out = stage.run(StageContext(profile=profile, run_dir=tmp_path, now=now, progress=lambda e: None))
    waived = {w.finding.rule_id: w for w in out.waived}
    assert set(waived) == {"ios-cdp-off", "ios-http-server-off"}
    assert waived["ios-http-server-off"].kind is WaiverKind.ACCEPTED
    assert waived["ios-cdp-off"].finding.asset.key == "core-rtr-01"
    assert not {f.rule_id for f in out.findings} & set(waived)
