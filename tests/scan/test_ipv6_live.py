"""IPv6: the real nmap scans a service on ::1 through the scope guard (the -6 argv, its own files)."""

from __future__ import annotations

import ipaddress
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.core.model import Criticality, RunStatus, SegmentKind, Severity
from secaudit.core.profile import Authorization, Profile, Segment
from secaudit.scan import ScanOptions, scan_segments
from tests.scan.test_stage_live import _demo_net

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _profile() -> Profile:
    return Profile(
        path="v6.yaml",
        organisation="test",
        authorization=Authorization(
            reference="PKT-V6-1",
            approver="CISO",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2026, 12, 31, tzinfo=UTC),
        ),
        segments=(
            Segment(
                name="edge6",
                cidrs=(ipaddress.ip_network("::1/128"),),
                kind=SegmentKind.DMZ,
                owner="city",
                criticality=Criticality.HIGH,
                scan_profile="standard",
            ),
        ),
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="port 23 and SYN scans need root")
def test_ipv6_loopback_service_is_scanned(tmp_path: Path) -> None:
    demo = _demo_net()
    net = demo.start([demo.Spec("::1", 23, "telnet")])
    try:
        out = scan_segments(
            _profile(), run_dir=tmp_path, now=NOW, progress=lambda e: None, options=ScanOptions(who="t")
        )
    finally:
        net.stop()
    assert out.result.status is RunStatus.COMPLETED, out.result.errors
    assert [(f.rule_id, f.asset.key, f.asset.segment, f.evidence_key, f.severity) for f in out.findings] == [
        ("EXP-TELNET", "::1", "edge6", "tcp/23", Severity.HIGH)
    ]
    assert (tmp_path / "scan" / "edge6-v6.targets").read_text().split() == ["::1"]
    argv = json.loads((tmp_path / "scan-audit.jsonl").read_text().splitlines()[-1])["argv"]  # the port scan
    assert "-6" in argv
