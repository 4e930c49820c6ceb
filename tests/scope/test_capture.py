"""The scope guard proven on the wire: tcpdump in a test-made namespace sees what a scan sends.

A scanner namespace and a target namespace (two addresses, 10.213.N.2 and 10.213.N.3) share a
veth pair; demo services listen on both target addresses. The real ``secaudit scan`` runs inside
the scanner namespace with a profile that excludes 10.213.N.3. The capture must hold packets to
.2 and none to .3; an out-of-scope and an expired-authorization scan must put nothing at all on
the wire.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.scope.netlab import Capture, NetLab, make_lab

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces and tcpdump need root"),
]

PROFILE = """\
version: 1
organisation: Capture test
authorization:
  reference: PKT-CAPTURE-1
  approver: CISO
  valid_from: 2026-01-01
  valid_until: {until}
segments:
  - name: lab
    cidrs: [{cidr}]
    kind: dmz
    owner: tests
    criticality: high
    scan_profile: standard
    exclusions: [{excluded}/32]
report:
  output_dir: {out}
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[NetLab]:
    lab = make_lab(target_hosts=(2, 3))
    try:
        lab.serve([f"{lab.address(2)},23,telnet", f"{lab.address(3)},23,telnet"])
        yield lab
    finally:
        lab.close()


def _profile(tmp_path: Path, lab: NetLab, *, until: str = "2030-12-31") -> Path:
    path = tmp_path / f"profile-{until}.yaml"
    path.write_text(
        PROFILE.format(
            until=until, cidr=f"{lab.address(2)}/31", excluded=lab.address(3), out=tmp_path / "reports"
        )
    )
    return path


def _to(packets: list, address: str) -> list:  # type: ignore[type-arg]
    """Packets addressed to ``address`` at the IP layer or asking for it in ARP."""
    from scapy.layers.inet import IP
    from scapy.layers.l2 import ARP

    out = []
    for p in packets:
        if (IP in p and p[IP].dst == address) or (ARP in p and p[ARP].pdst == address and p[ARP].op == 1):
            out.append(p)
    return out


def _from_scanner(capture: Capture, lab: NetLab) -> list:  # type: ignore[type-arg]
    """Packets the scanner sent before the control datagram, which itself must have been seen."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import ARP

    scanner = lab.address(1)
    sent = [
        p
        for p in capture.packets()
        if (IP in p and p[IP].src == scanner) or (ARP in p and p[ARP].psrc == scanner)
    ]
    assert capture.control_at, "call lab.control(capture) inside the capture block"
    assert any(UDP in p and p[UDP].dport == 9 and float(p.time) >= capture.control_at for p in sent), (
        "the capture saw nothing"
    )
    return [p.summary() for p in sent if float(p.time) < capture.control_at]


def test_excluded_host_receives_zero_packets(lab: NetLab, tmp_path: Path) -> None:
    profile = _profile(tmp_path, lab)
    with lab.capture(tmp_path / "scan.pcap") as capture:
        done = lab.secaudit("scan", "--profile", str(profile), "--output", str(tmp_path / "run"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed", result["errors"]
    assert [(f["rule_id"], f["asset"], f["segment"]) for f in result["findings"]] == [
        ("EXP-TELNET", lab.address(2), "lab")
    ]
    packets = capture.packets()
    to_allowed = _to(packets, lab.address(2))
    assert len(to_allowed) > 100  # a port scan of ~1,100 ports reached the allowed host
    assert _to(packets, lab.address(3)) == []
    # The excluded host was also handed to nmap as an exclusion, and never as a target.
    assert (tmp_path / "run" / "scan" / "lab.targets").read_text().split() == [lab.address(2)]
    assert (tmp_path / "run" / "scan" / "lab.exclude").read_text().split() == [f"{lab.address(3)}/32"]


def test_out_of_scope_target_is_refused_with_nothing_sent(lab: NetLab, tmp_path: Path) -> None:
    profile = _profile(tmp_path, lab)
    with lab.capture(tmp_path / "refused.pcap") as capture:
        excluded = lab.secaudit("scan", "--profile", str(profile), "--target", lab.address(3))
        outside = lab.secaudit(
            "scan", "--profile", str(profile), "--target", lab.address(2), "--target", lab.address(9)
        )
        lab.control(capture)
    assert excluded.returncode == 2, excluded.stderr
    assert f"{lab.address(3)} is excluded by segment 'lab'" in excluded.stderr
    assert outside.returncode == 2, outside.stderr
    assert f"{lab.address(9)} is not in any authorized segment" in outside.stderr
    assert _from_scanner(capture, lab) == []


def test_expired_authorization_is_refused_with_nothing_sent(lab: NetLab, tmp_path: Path) -> None:
    profile = _profile(tmp_path, lab, until="2026-01-31")
    with lab.capture(tmp_path / "expired.pcap") as capture:
        done = lab.secaudit("scan", "--profile", str(profile), "--output", str(tmp_path / "run"))
        lab.control(capture)
    assert done.returncode == 2, done.stderr
    assert "authorization PKT-CAPTURE-1 is valid from" in done.stderr
    assert _from_scanner(capture, lab) == []
    assert not (tmp_path / "run" / "scan").exists()


def test_a_target_inside_scope_is_scanned_alone(lab: NetLab, tmp_path: Path) -> None:
    profile = _profile(tmp_path, lab)
    with lab.capture(tmp_path / "target.pcap") as capture:
        done = lab.secaudit(
            "scan",
            "--profile",
            str(profile),
            "--target",
            lab.address(2),
            "--output",
            str(tmp_path / "t"),
            "--json",
        )
    assert done.returncode == 0, done.stderr
    assert [f["asset"] for f in json.loads(done.stdout)["findings"]] == [lab.address(2)]
    packets = capture.packets()
    assert _to(packets, lab.address(2))
    assert _to(packets, lab.address(3)) == []


# -- one host, every spelling ---------------------------------------------------------------------
def test_an_excluded_host_written_in_ipv6_forms_receives_zero_packets(lab: NetLab, tmp_path: Path) -> None:
    """IPv4-mapped, NAT64 and compatible spellings of the excluded host are refused before any
    packet; a mapped spelling of the allowed host is scanned as its IPv4 address."""
    profile = _profile(tmp_path, lab)
    excluded, allowed = lab.address(3), lab.address(2)
    spellings = [f"::ffff:{excluded}", f"64:ff9b::{excluded}", f"::{excluded}", f"::ffff:{allowed}/127"]
    with lab.capture(tmp_path / "forms.pcap") as capture:
        refused = [lab.secaudit("scan", "--profile", str(profile), "--target", t) for t in spellings]
        done = lab.secaudit(
            "scan", "--profile", str(profile), "--target", f"::ffff:{allowed}",
            "--output", str(tmp_path / "mapped"), "--json",
        )  # fmt: skip
        lab.control(capture)
    for target, result in zip(spellings, refused, strict=True):
        assert result.returncode == 2, (target, result.stderr)
        assert f"{excluded} is excluded by segment 'lab'" in result.stderr, target
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mapped" / "scan" / "lab.targets").read_text().split() == [allowed]
    assert not (tmp_path / "mapped" / "scan" / "lab-v6.targets").exists()
    assert [f["asset"] for f in json.loads(done.stdout)["findings"]] == [allowed]
    packets = capture.packets()
    assert _to(packets, allowed)
    assert _to(packets, excluded) == []


def test_a_segment_written_in_mapped_form_is_refused_at_load(lab: NetLab, tmp_path: Path) -> None:
    path = tmp_path / "mapped.yaml"
    path.write_text(
        PROFILE.format(
            until="2030-12-31",
            cidr=f"'::ffff:{lab.address(2)}/127'",
            excluded=lab.address(3),
            out=tmp_path / "reports",
        )
    )
    with lab.capture(tmp_path / "mapped.pcap") as capture:
        done = lab.secaudit("scan", "--profile", str(path))
        lab.control(capture)
    assert done.returncode == 2, done.stderr
    assert f"is an IPv4-mapped spelling of IPv4 network {lab.address(2)}/31" in done.stderr
    assert _from_scanner(capture, lab) == []


# -- the authorization holds for the whole scan -----------------------------------------------------
SLOW_HOSTS = range(10, 31)  # extra addresses of the target namespace for the cut-short scans


@pytest.mark.slow
@pytest.mark.parametrize("limit", ["valid_until", "maintenance_window"])
def test_no_packet_leaves_after_the_authorization_or_window_ends(
    lab: NetLab, tmp_path: Path, limit: str
) -> None:
    """A scan that would take 35 s is given 20 s: it stops before the end, keeps the hosts
    it finished, says why, exits 3, and tcpdump sees nothing from the scanner after the end."""
    for host in SLOW_HOSTS:
        lab.run(lab.target_ns, "ip", "addr", "replace", f"{lab.address(host)}/24", "dev", lab.target_if)
    start = datetime.now(UTC)
    end = start + timedelta(seconds=20)
    stamp = end.isoformat(timespec="seconds")
    until, window, scan_profile = stamp, "", "ot-safe"
    if limit == "maintenance_window":
        until, scan_profile = "2030-12-31", "deep"
        window = f"  maintenance_windows:\n    - start: {start.isoformat(timespec='seconds')}\n      end: {stamp}\n"
    path = tmp_path / "cut.yaml"
    path.write_text(
        PROFILE.format(until=until, cidr=f"{lab.address(0)}/27", excluded=lab.address(3), out=tmp_path)
        .replace("scan_profile: standard", f"scan_profile: {scan_profile}")
        .replace("segments:\n", window + "segments:\n")
    )
    end_epoch = datetime.fromisoformat(stamp).timestamp()
    try:
        with lab.capture(tmp_path / "cut.pcap") as capture:
            done = lab.secaudit(
                "scan", "--profile", str(path), "--output", str(tmp_path / "run"), "--json", timeout=120
            )
            lab.control(capture)
    finally:
        for host in SLOW_HOSTS:
            lab.run(lab.target_ns, "ip", "addr", "del", f"{lab.address(host)}/24", "dev", lab.target_if)
    assert done.returncode == 3, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "incomplete", (result, (tmp_path / "run" / "scan-audit.jsonl").read_text())
    assert any("stopped at" in e and "before the end of the authorization" in e for e in result["errors"])
    sent = _sent_by(capture, lab.address(1))
    assert len(sent) > 20  # the scan did run until the stop
    late = [round(t - end_epoch, 3) for t in sent if t >= end_epoch]
    assert late == []
    trail = [json.loads(line) for line in (tmp_path / "run" / "scan-audit.jsonl").read_text().splitlines()]
    assert trail[-1]["result"] in ("partial", "failed")
    assert "stopped at" in trail[-1]["detail"]


def _sent_by(capture: Capture, address: str) -> list[float]:
    """Times of the frames ``address`` sent (IPv4 source or ARP sender) before the control
    datagram, which must itself be in the capture. Read raw: a deep scan leaves ~10^5 frames,
    too many for scapy's decoder."""
    from secaudit.scan.pcap import CaptureFile

    source = ipaddress.IPv4Address(address).packed
    times: list[float] = []
    control = False
    with CaptureFile.open(capture.path) as pcap:
        for ts, _link, frame in pcap.records():
            kind = frame[12:14]
            if kind == b"\x08\x00" and frame[26:30] == source:
                if frame[23] == 17 and frame[36:38] == (9).to_bytes(2, "big") and ts >= capture.control_at:
                    control = True
                elif ts < capture.control_at:
                    times.append(ts)
            elif kind == b"\x08\x06" and frame[28:32] == source and ts < capture.control_at:
                times.append(ts)
    assert control, "the capture saw nothing"
    return times
