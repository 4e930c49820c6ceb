"""Passive discovery of real traffic: tcpdump records a telnet login and Modbus writes against the
demo services on loopback; ``secaudit discover --pcap`` reports both (the done-when of issue 4).
Also the CLI's exit codes, and the ARP sweep inside test-made namespaces (root)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from secaudit.cli.discover import discover
from secaudit.cli.main import run
from tests.scan import pcapgen
from tests.scan.test_stage_live import _demo_net
from tests.scope.netlab import PYTHON, NetLab, make_lab
from tests.scope.test_capture import _from_scanner

root = pytest.mark.skipif(os.geteuid() != 0, reason="tcpdump, ports < 1024 and namespaces need root")
ADDRESS = "127.24.0.1"
PASSWORD = "Sup3r-Secret"


def _talk(port: int, lines: list[bytes]) -> None:
    with socket.create_connection((ADDRESS, port), timeout=5) as s:
        for line in lines:
            s.recv(4096)
            s.sendall(line)
            time.sleep(0.05)
        s.recv(4096)


@pytest.fixture(scope="module")
def loopback_capture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    demo = _demo_net()
    net = demo.start([demo.Spec(ADDRESS, 23, "telnet"), demo.Spec(ADDRESS, 502, "modbus")])
    path = tmp_path_factory.mktemp("live") / "loopback.pcap"
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-n", "--immediate-mode", "-U", "-w", str(path), "host", ADDRESS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert dump.stderr is not None
        assert "listening on" in dump.stderr.readline().decode()
        # A telnet login: answer the option negotiation, then user and password.
        _talk(
            23,
            [
                b"\xff\xfc\x18\xff\xfc\x20\xff\xfc\x23\xff\xfc\x27",
                b"operator\r\n",
                PASSWORD.encode() + b"\r\n",
            ],
        )
        # Modbus: a read, then write single register (6) and write multiple registers (16).
        with socket.create_connection((ADDRESS, 502), timeout=5) as s:
            for tid, pdu in (
                (1, b"\x03\x00\x00\x00\x02"),
                (2, b"\x06\x00\x07\x00\x63"),
                (3, b"\x10\x00\x01\x00\x01\x02\x00\x05"),
            ):
                s.sendall(
                    tid.to_bytes(2, "big") + b"\x00\x00" + (len(pdu) + 1).to_bytes(2, "big") + b"\x01" + pdu
                )
                s.recv(256)
        time.sleep(0.5)
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
        if dump.stderr is not None:
            dump.stderr.close()
        net.stop()
    yield path


@root
def test_discover_reports_the_telnet_login_and_modbus_writes(loopback_capture: Path) -> None:
    result = CliRunner().invoke(discover, ["--pcap", str(loopback_capture), "--json"])
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    doc = json.loads(result.output)
    assert doc["errors"] == [] and doc["packets"] > 20
    assert [(c["protocol"], c["server"], c["user"], c["secret"]) for c in doc["credentials"]] == [
        ("telnet", ADDRESS, "operator", f"<redacted, {len(PASSWORD)} characters>")
    ]
    assert [(o["function"], o["write"]) for o in doc["ics"]] == [(3, False), (6, True), (16, True)]
    rules = sorted((f["rule_id"], f["asset"]["key"]) for f in doc["findings"])
    assert rules == [("PASSIVE-CLEARTEXT-CREDENTIALS", ADDRESS), ("PASSIVE-MODBUS-WRITE", ADDRESS)]


@root
def test_exit_codes_fail_on_partial_and_nothing_readable(
    loopback_capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["discover", "--pcap", str(loopback_capture), "--fail-on", "high", "--json"]) == 1
    capsys.readouterr()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(loopback_capture.read_bytes()[:-10])
    assert run(["-q", "discover", "--pcap", str(cut)]) == 0  # partial results, with a warning
    assert "capture cut short after" in " ".join(capsys.readouterr().err.split())
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"\x00" * 100)
    assert run(["discover", "--pcap", str(junk)]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "no capture could be read" in err and "unknown magic number 00000000" in err
    assert run(["discover", "--pcap", str(tmp_path / "missing.pcap")]) == 3
    assert run(["discover", "--flows", str(junk), "--pcap", str(cut)]) == 2
    assert run(["discover"]) == 2


@root
def test_linux_cooked_captures_are_read(tmp_path: Path) -> None:
    path = tmp_path / "any.pcap"
    dump = subprocess.Popen(
        ["tcpdump", "-i", "any", "-n", "--immediate-mode", "-U", "-w", str(path), "host", "127.24.0.2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert dump.stderr is not None
    while "listening on" not in (line := dump.stderr.readline().decode()):  # after "data link type"
        assert line, "tcpdump did not start"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        get = bytes(pcapgen.snmp()[0]["UDP"].payload)
        s.sendto(get, ("127.24.0.2", 161))
    time.sleep(0.5)
    dump.send_signal(signal.SIGINT)
    dump.wait(timeout=10)
    dump.stderr.close()
    from secaudit.scan.passive import analyze
    from secaudit.scan.pcap import LINK_LINUX_SLL, LINK_LINUX_SLL2, CaptureFile

    with CaptureFile.open(path) as capture:
        assert capture.linktype in (LINK_LINUX_SLL, LINK_LINUX_SLL2)
    result = analyze([path])
    assert [(c.protocol, c.server, c.detail) for c in result.credentials] == [
        ("snmp", "127.24.0.2", "SNMPv2c (a well-known default community)")
    ]


# --------------------------------------------------------------------------------- ARP sweep
SWEEP_PROFILE = """\
version: 1
organisation: ARP test
authorization:
  reference: PKT-ARP-1
  approver: CISO
  valid_from: 2026-01-01
  valid_until: 2030-12-31
segments:
  - name: lab
    cidrs: [{cidr}]
    kind: ot
    owner: tests
    criticality: high
    exclusions: [{excluded}/32]
report:
  output_dir: {out}
"""

SWEEP = """
import sys
from secaudit.cli.main import run
sys.exit(run(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[NetLab]:
    lab = make_lab(target_hosts=(2, 3, 4))
    try:
        yield lab
    finally:
        lab.close()


@root
def test_arp_sweep_finds_hosts_and_never_asks_for_the_excluded_one(lab: NetLab, tmp_path: Path) -> None:
    profile = tmp_path / "arp.yaml"
    profile.write_text(  # a DMZ segment: the standard profile does not pace ARP
        SWEEP_PROFILE.format(cidr=lab.subnet, excluded=lab.address(3), out=tmp_path / "reports").replace(
            "kind: ot", "kind: dmz"
        )
    )
    with lab.capture(tmp_path / "arp.pcap") as capture:
        done = lab.run(
            lab.scanner_ns,
            str(PYTHON),
            "-c",
            SWEEP,
            "discover",
            "--arp",
            "lab",
            "--profile",
            str(profile),
            "--json",
        )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [h["address"] for h in doc["hosts"]] == [lab.address(2), lab.address(4)]
    assert doc["asked"] == 253  # .1-.254 minus the excluded .3
    from scapy.layers.l2 import ARP

    asked = {p[ARP].pdst for p in capture.packets() if ARP in p and p[ARP].op == 1}
    assert lab.address(2) in asked and lab.address(3) not in asked
    trail = [json.loads(x) for x in (tmp_path / "reports" / "discover-audit.jsonl").read_text().splitlines()]
    assert [(e["result"], e["segment"]) for e in trail] == [("completed", "lab")]


@root
def test_arp_sweep_with_an_expired_authorization_sends_nothing(lab: NetLab, tmp_path: Path) -> None:
    profile = tmp_path / "arp.yaml"
    text = SWEEP_PROFILE.format(cidr=lab.subnet, excluded=lab.address(3), out=tmp_path / "reports")
    profile.write_text(text.replace("valid_until: 2030-12-31", "valid_until: 2026-02-01"))
    with lab.capture(tmp_path / "none.pcap") as capture:
        done = lab.run(
            lab.scanner_ns, str(PYTHON), "-c", SWEEP, "discover", "--arp", "lab", "--profile", str(profile)
        )
        lab.control(capture)
    assert done.returncode == 2, done.stderr
    assert "authorization PKT-ARP-1 is valid from" in done.stderr
    assert _from_scanner(capture, lab) == []


def _sweep(lab: NetLab, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return lab.run(
        lab.scanner_ns,
        str(PYTHON),
        "-c",
        SWEEP,
        "discover",
        "--arp",
        "lab",
        "--profile",
        str(profile),
        *extra,
    )


def _requests(capture) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    from scapy.layers.l2 import ARP

    return [(float(p.time), p[ARP].pdst) for p in capture.packets() if ARP in p and p[ARP].op == 1]


@root
def test_arp_on_an_ot_segment_is_paced_like_its_scan_profile(lab: NetLab, tmp_path: Path) -> None:
    """ot-safe allows 20 packets/s: ARP requests leave at most that fast (was 504 in 2.4 s)."""
    profile = tmp_path / "arp.yaml"
    profile.write_text(
        SWEEP_PROFILE.format(cidr=f"{lab.address(0)}/27", excluded=lab.address(3), out=tmp_path / "reports")
    )
    with lab.capture(tmp_path / "paced.pcap") as capture:
        done = _sweep(lab, profile, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["interval_s"] == pytest.approx(0.05)
    assert [h["address"] for h in doc["hosts"]] == [lab.address(2), lab.address(4)]
    times = sorted(t for t, pdst in _requests(capture) if pdst != lab.address(1))
    assert len(times) >= 29  # .1-.30 minus the excluded .3, plus the retry of the silent ones
    # Any 21 consecutive requests span at least a second (20 per second, small jitter allowed).
    assert min(times[i + 20] - times[i] for i in range(len(times) - 20)) > 0.9


@root
def test_arp_refuses_an_interface_without_the_segment_route(lab: NetLab, tmp_path: Path) -> None:
    profile = tmp_path / "arp.yaml"
    profile.write_text(
        SWEEP_PROFILE.format(cidr=lab.subnet, excluded=lab.address(3), out=tmp_path / "reports")
    )
    with lab.capture(tmp_path / "wrong-if.pcap") as capture:
        done = _sweep(lab, profile, "--interface", "lo")
        lab.control(capture)
    assert done.returncode == 2, done.stderr
    assert (
        f"interface lo does not carry the route to segment 'lab' (the kernel reaches it through {lab.scanner_if})"
        in (done.stderr)
    )
    assert _from_scanner(capture, lab) == []


@root
def test_arp_sweep_stops_before_the_authorization_ends(lab: NetLab, tmp_path: Path) -> None:
    """A paced /24 sweep takes ~27 s; with 16 s left only what fits is asked, and nothing after,
    however slowly a loaded machine sends (each request checks the deadline before it leaves)."""
    from datetime import UTC, datetime, timedelta

    end = (datetime.now(UTC) + timedelta(seconds=16)).isoformat(timespec="seconds")
    profile = tmp_path / "arp.yaml"
    text = SWEEP_PROFILE.format(cidr=lab.subnet, excluded=lab.address(3), out=tmp_path / "reports")
    profile.write_text(text.replace("valid_until: 2030-12-31", f"valid_until: {end}"))
    with lab.capture(tmp_path / "cut.pcap") as capture:
        done = _sweep(lab, profile, "--json")
    assert done.returncode == 3, done.stderr
    doc = json.loads(done.stdout)
    assert 0 < doc["asked"] < 253
    assert doc["stopped"].startswith(f"only {doc['asked']} of 253 addresses asked: authorization PKT-ARP-1")
    requests = _requests(capture)
    assert requests
    assert max(t for t, _ in requests) < datetime.fromisoformat(end).timestamp()


LAGGING_SWEEP = """
import json, sys, time
from secaudit.scan.discovery import ScapyArp
t0, wall = time.monotonic(), time.time()
replies, asked = ScapyArp().sweep(
    sys.argv[1], sys.argv[2].split(","), 0.3, interval_s=0.2, retries=1, stop_at=t0 + 2.0
)
print(json.dumps({"asked": asked, "replies": replies, "wall": wall}))
"""


@root
def test_arp_requests_stop_at_the_deadline_whatever_was_planned(lab: NetLab, tmp_path: Path) -> None:
    """The sweep itself refuses to send after its deadline: 40 addresses at 5 per second would
    take 8 s; with 2 s given, about 10 are asked, and the capture holds exactly those."""
    addresses = [lab.address(h) for h in range(2, 42) if h != 3]
    with lab.capture(tmp_path / "deadline.pcap") as capture:
        done = lab.run(lab.scanner_ns, str(PYTHON), "-c", LAGGING_SWEEP, lab.scanner_if, ",".join(addresses))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert 5 <= len(doc["asked"]) <= 11 and doc["asked"] == addresses[: len(doc["asked"])]
    assert {a for a, _ in doc["replies"]} <= {lab.address(2), lab.address(4)}
    requests = _requests(capture)
    assert sorted(p for _, p in requests) == sorted(doc["asked"])  # each once: no retry round left
    assert max(t for t, _ in requests) < doc["wall"] + 2.0
