"""The scan stage with the real nmap binary against real services on loopback addresses.

Services come from samples/demo_net.py, bound to 127.21.x.y (all of 127.0.0.0/8 is loopback on
Linux): nothing leaves the machine. Segments are small so the module stays well under two
minutes; the ot-safe profile keeps its real pacing.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from secaudit.core.errors import ScopeError
from secaudit.core.model import Criticality, RunStatus, SegmentKind, Severity
from secaudit.core.profile import Authorization, MaintenanceWindow, Profile, Segment
from secaudit.core.report import ProgressEvent
from secaudit.scan import PROFILES, NmapOutput, ProcessNmapRunner, ScanOptions, scan_segments
from secaudit.scan.runner import OutputCallback

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="SYN/UDP scans and ports < 1024 need root")


def _demo_net() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_net", REPO / "samples" / "demo_net.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_net"] = module
    spec.loader.exec_module(module)
    return module


def _segment(name: str, cidr: str, kind: SegmentKind, scan_profile: str, exclusions: str = "") -> Segment:
    return Segment(
        name=name,
        cidrs=(ipaddress.ip_network(cidr),),
        kind=kind,
        owner="city",
        criticality=Criticality.HIGH if kind is not SegmentKind.OT else Criticality.PUBLIC_SAFETY_CRITICAL,
        scan_profile=scan_profile,
        exclusions=tuple(ipaddress.ip_network(x) for x in exclusions.split()),
    )


def live_profile(valid_until: datetime = datetime(2026, 12, 31, tzinfo=UTC), deep: bool = False) -> Profile:
    return Profile(
        path="live.yaml",
        organisation="test",
        authorization=Authorization(
            reference="PKT-LIVE-1",
            approver="CISO",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=valid_until,
            maintenance_windows=(
                MaintenanceWindow(
                    start=datetime(2026, 5, 2, tzinfo=UTC), end=datetime(2026, 5, 3, tzinfo=UTC)
                ),
            ),
        ),
        segments=(
            _segment("office", "127.21.1.0/30", SegmentKind.IT, "deep" if deep else "standard"),
            _segment("signals", "127.21.2.0/29", SegmentKind.OT, "ot-safe", "127.21.2.6/32"),
            _segment("edge", "127.21.5.0/30", SegmentKind.DMZ, "standard"),
        ),
    )


class CountingRunner:
    """The real runner, counting invocations (to prove refusals happen before any nmap run)."""

    def __init__(self) -> None:
        self.real = ProcessNmapRunner()
        self.calls: list[tuple[str, ...]] = []

    def run(
        self, args: Sequence[str], *, timeout_s: float, on_output: OutputCallback | None = None
    ) -> NmapOutput:
        self.calls.append(tuple(args))
        return self.real.run(args, timeout_s=timeout_s, on_output=on_output)


@pytest.fixture(scope="module")
def network() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("binding ports < 1024 needs root")
    demo = _demo_net()
    spec = demo.Spec
    net = demo.start(
        [
            spec("127.21.1.1", 5900, "vnc"),
            spec("127.21.2.1", 502, "modbus"),
            spec("127.21.2.2", 161, "snmp"),
            spec("127.21.2.6", 502, "modbus"),  # excluded: must never be scanned
            spec("127.21.5.1", 23, "telnet"),
        ]
    )
    yield
    net.stop()


@pytest.fixture(scope="module")
def full_scan(network: None, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    run_dir = tmp_path_factory.mktemp("run")
    events: list[ProgressEvent] = []
    runner = CountingRunner()
    out = scan_segments(
        live_profile(),
        run_dir=run_dir,
        now=NOW,
        progress=events.append,
        options=ScanOptions(runner=runner, who="tester"),
    )
    return out, run_dir, events, runner


@needs_root
def test_planted_exposures_are_found_with_their_severities(full_scan) -> None:  # type: ignore[no-untyped-def]
    out, _, events, _ = full_scan
    got = {(f.rule_id, f.asset.key, f.asset.segment, f.evidence_key, f.severity) for f in out.findings}
    assert got == {
        ("EXP-REMOTE-DESKTOP-OUTSIDE-MGMT", "127.21.1.1", "office", "tcp/5900", Severity.HIGH),
        ("EXP-MODBUS-UNAUTHENTICATED", "127.21.2.1", "signals", "tcp/502", Severity.MEDIUM),
        ("EXP-SNMP-DEFAULT-COMMUNITY", "127.21.2.2", "signals", "udp/161", Severity.HIGH),
        ("EXP-TELNET", "127.21.5.1", "edge", "tcp/23", Severity.HIGH),
    }
    assert out.result.status is RunStatus.COMPLETED, out.result.errors
    assert out.result.findings == 4
    assert [e.message for e in events] == ["office", "signals", "edge", "done"]
    modbus = next(f for f in out.findings if f.rule_id == "EXP-MODBUS-UNAUTHENTICATED")
    assert modbus.asset.criticality is Criticality.PUBLIC_SAFETY_CRITICAL
    assert "Phuket Demo Signals" in modbus.evidence[0].excerpt


@needs_root
def test_excluded_host_is_never_a_target_and_raw_xml_is_kept(full_scan) -> None:  # type: ignore[no-untyped-def]
    out, run_dir, _, _ = full_scan
    targets = (run_dir / "scan" / "signals.targets").read_text().split()
    assert targets == ["127.21.2.1", "127.21.2.2", "127.21.2.3", "127.21.2.4", "127.21.2.5"]
    assert (run_dir / "scan" / "signals.exclude").read_text().split() == ["127.21.2.6/32"]
    xml = (run_dir / "scan" / "signals.xml").read_text()
    assert 'addr="127.21.2.6"' not in xml
    assert 'addr="127.21.2.1"' in xml
    assert sorted(Path(a).name for a in out.artifacts) == ["edge.xml", "office.xml", "signals.xml"]


@needs_root
def test_audit_trail_records_each_scan(full_scan) -> None:  # type: ignore[no-untyped-def]
    _, run_dir, _, runner = full_scan
    entries = [json.loads(line) for line in (run_dir / "scan-audit.jsonl").read_text().splitlines()]
    # Segments run at the same time: per segment host discovery (-sn), then the port scan of the
    # hosts found up (-Pn), in the order they finished.
    pings = [e for e in entries if "-sn" in e["argv"]]
    scans = [e for e in entries if "-sn" not in e["argv"]]
    assert (
        sorted(e["segment"] for e in pings)
        == sorted(e["segment"] for e in scans)
        == ["edge", "office", "signals"]
    )
    ping = next(e for e in pings if e["segment"] == "signals")
    signals = next(e for e in scans if e["segment"] == "signals")
    assert ping["when"] <= signals["when"] and "-Pn" in signals["argv"] and "-Pn" not in ping["argv"]
    assert set(signals["targets"]) <= set(ping["targets"])
    assert ping["detail"].startswith(
        f"host discovery: {len(signals['targets'])} of {len(ping['targets'])} addresses up"
    )
    # ot-safe's own probes only (loopback is not an Ethernet link: no ARP), paced like its scan
    assert {"-PE", "-PS80,102,443,502,44818", "--scan-delay", "--max-rate"} <= set(ping["argv"])
    assert not {"-PA", "-PP", "-PR", "-sV", "-sU", "--script"} & set(ping["argv"])
    assert signals["who"] == "tester"
    assert signals["authorization"] == "PKT-LIVE-1"
    assert signals["result"] == "completed"
    # nmap started through setpriv, so that it dies with secaudit (parent-death signal)
    nmap_at = signals["argv"].index(runner.real.binary)
    assert signals["argv"][:nmap_at] == ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"]
    assert signals["argv"][nmap_at : nmap_at + 3] == [runner.real.binary, "-oX", "-"]
    assert signals["argv"][nmap_at + 3 :] in [list(call) for call in runner.calls]
    assert "-sV" not in signals["argv"] and "--max-parallelism" in signals["argv"]
    assert signals["targets"][0] == "127.21.2.1"
    assert signals["duration_s"] > 0


def test_expired_authorization_is_refused_before_any_nmap_run(tmp_path: Path) -> None:
    runner = CountingRunner()
    out = scan_segments(
        live_profile(valid_until=datetime(2026, 4, 30, tzinfo=UTC)),
        run_dir=tmp_path,
        now=NOW,
        progress=lambda e: None,
        options=ScanOptions(runner=runner, who="tester"),
    )
    assert runner.calls == []
    assert out.result.status is RunStatus.FAILED
    assert len(out.result.errors) == 3
    assert "authorization PKT-LIVE-1 is valid from" in out.result.errors[0]
    trail = [json.loads(x) for x in (tmp_path / "scan-audit.jsonl").read_text().splitlines()]
    assert {e["result"] for e in trail} == {"refused"}
    assert not list((tmp_path / "scan").glob("*.xml"))


def test_deep_outside_a_maintenance_window_is_refused(tmp_path: Path) -> None:
    runner = CountingRunner()
    # Every chosen segment refused: a scope error (exit 2) before anything, not an empty scan.
    with pytest.raises(ScopeError, match="only inside a maintenance window") as info:
        scan_segments(
            live_profile(deep=True),
            run_dir=tmp_path,
            now=NOW,
            progress=lambda e: None,
            segments=["office"],
            options=ScanOptions(runner=runner),
        )
    assert runner.calls == []
    assert info.value.exit_code == 2
    assert "nothing was sent" in info.value.message
    # With another segment allowed, the deep one is refused on its own and the rest scan.
    quick = dict(PROFILES)
    quick["ot-safe"] = replace(PROFILES["ot-safe"], tcp_ports="502", scripts=(), scan_delay="", max_rate=0)
    out = scan_segments(
        live_profile(deep=True),
        run_dir=tmp_path,
        now=NOW,
        progress=lambda e: None,
        segments=["office", "signals"],
        options=ScanOptions(runner=runner, privileged=False, profiles=quick),
    )
    assert len(runner.calls) == 2  # signals' host discovery, then its port scan
    assert "only inside a maintenance window" in out.result.errors[0]
    assert out.result.status is RunStatus.INCOMPLETE


@needs_root
def test_a_broken_segment_does_not_lose_the_others(network: None, tmp_path: Path) -> None:
    profiles = dict(PROFILES)
    profiles["standard"] = replace(PROFILES["standard"], scripts=("http-title", "smb-brute"))
    out = scan_segments(
        live_profile(),
        run_dir=tmp_path,
        now=NOW,
        progress=lambda e: None,
        segments=["office", "signals"],
        options=ScanOptions(profiles=profiles),
    )
    assert out.result.status is RunStatus.INCOMPLETE
    assert out.result.errors[0].startswith("segment office: ")
    assert "smb-brute" in out.result.errors[0]
    assert {f.rule_id for f in out.findings} == {"EXP-MODBUS-UNAUTHENTICATED", "EXP-SNMP-DEFAULT-COMMUNITY"}


@needs_root
def test_without_root_connect_scan_still_finds_tcp_exposures(network: None, tmp_path: Path) -> None:
    out = scan_segments(
        live_profile(),
        run_dir=tmp_path,
        now=NOW,
        progress=lambda e: None,
        segments=["edge"],
        options=ScanOptions(privileged=False),
    )
    assert [(f.rule_id, f.asset.key) for f in out.findings] == [("EXP-TELNET", "127.21.5.1")]
    assert any("UDP ports" in e and "need root" in e for e in out.result.errors)
    argv = json.loads((tmp_path / "scan-audit.jsonl").read_text().splitlines()[-1])["argv"]  # the port scan
    assert "-sT" in argv and "-sS" not in argv
