"""The scope guard proven on the wire: tcpdump in a test-made namespace sees what a scan sends.

A scanner namespace and a target namespace (two addresses, 10.213.N.2 and 10.213.N.3) share a
veth pair; demo services listen on both target addresses. The real ``secaudit scan`` runs inside
the scanner namespace with a profile that excludes 10.213.N.3. The capture must hold packets to
.2 and none to .3; an out-of-scope and an expired-authorization scan must put nothing at all on
the wire.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
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
