"""Passive discovery over captures built with scapy (tests/scan/pcapgen.py) and real loopback
captures made with tcpdump: hosts, vendors, flows, Modbus writes, cleartext logins (secrets
redacted everywhere), segment flows against the policy, and damaged captures."""

from __future__ import annotations

import ipaddress
import json
import struct
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.app.discover import DiscoverRun, discover_pcap, passive_to_dict
from secaudit.core.errors import ConfigError, OperationalError
from secaudit.core.model import Criticality, SegmentKind, Severity, Source
from secaudit.core.profile import Authorization, Profile, Segment
from secaudit.scan.flows import load_flow_policy
from secaudit.scan.oui import OuiTable
from secaudit.scan.passive import analyze
from secaudit.scan.passive_findings import passive_findings
from secaudit.scan.pcap import CaptureError, CaptureFile
from tests.scan import pcapgen

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
OUI = OuiTable.load()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pcapgen.write_city(tmp_path_factory.mktemp("pcap") / "city.pcap")


def city_profile() -> Profile:
    layout = (
        ("office", "10.20.1.0/24", SegmentKind.IT, Criticality.HIGH),
        ("signals", "10.20.2.0/24", SegmentKind.OT, Criticality.PUBLIC_SAFETY_CRITICAL),
        ("cctv", "10.20.3.0/24", SegmentKind.CCTV, Criticality.HIGH),
        ("edge", "10.20.5.0/24", SegmentKind.DMZ, Criticality.HIGH),
        ("mgmt", "10.20.6.0/24", SegmentKind.MGMT, Criticality.HIGH),
    )
    return Profile(
        path="city.yaml",
        organisation="test",
        authorization=Authorization(
            reference="PKT-P-1",
            approver="CISO",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2026, 12, 31, tzinfo=UTC),
        ),
        segments=tuple(
            Segment(
                name=n,
                cidrs=(ipaddress.ip_network(c),),
                kind=k,
                owner="city",
                criticality=crit,
                scan_profile="standard",
            )
            for n, c, k, crit in layout
        ),
    )


def test_hosts_vendors_flows_and_protocols(city: Path) -> None:
    result = analyze([city], vendor_of=OUI.vendor)
    assert (result.packets, result.errors) == (61, [])
    hosts = {h.address: h for h in result.hosts}
    assert sorted(hosts) == ["10.20.1.5", "10.20.2.10", "10.20.3.10", "10.20.5.10", "10.20.5.11", "10.20.6.5"]
    plc = hosts["10.20.2.10"]
    assert (plc.macs, plc.vendor, plc.services) == (
        ("00:80:f4:11:22:33",),
        "TELEMECANIQUE ELECTRIQUE",
        ("tcp/502",),
    )
    assert hosts["10.20.3.10"].vendor == "(locally administered)"
    assert hosts["10.20.1.5"].vendor == "VMware, Inc."
    flows = {(f.client, f.server, f.key): f for f in result.flows}
    assert set(flows) == {
        ("10.20.6.5", "10.20.5.10", "tcp/23"),
        ("10.20.1.5", "10.20.2.10", "tcp/502"),
        ("10.20.6.5", "10.20.5.11", "tcp/21"),
        ("10.20.1.5", "10.20.3.10", "tcp/80"),
        ("10.20.1.5", "10.20.2.11", "udp/161"),
    }
    assert flows[("10.20.1.5", "10.20.2.10", "tcp/502")].packets == 8
    assert list(result.protocols()) == ["telnet", "ftp", "modbus", "http", "snmp"]  # ties by name


def test_modbus_function_codes_with_writes_flagged(city: Path) -> None:
    ops = [(op.function, op.name, op.write, op.count) for op in analyze([city]).ics]
    assert ops == [
        (3, "read holding registers", False, 1),
        (6, "write single register", True, 2),
        (15, "write multiple coils", True, 1),
    ]


def test_cleartext_credentials_are_found_and_redacted(city: Path) -> None:
    creds = [
        (c.protocol, c.client, c.server, c.user, c.secret, c.detail) for c in analyze([city]).credentials
    ]
    assert creds == [
        ("ftp", "10.20.6.5", "10.20.5.11", "alice", "<redacted, 11 characters>", ""),
        (
            "http-basic",
            "10.20.1.5",
            "10.20.3.10",
            "admin",
            "<redacted, 9 characters>",
            "GET /cgi-bin/admin.cgi",
        ),
        ("snmp", "10.20.1.5", "10.20.2.11", "", "<redacted, 10 characters>", "SNMPv1"),
        (
            "snmp",
            "10.20.1.5",
            "10.20.2.11",
            "",
            "<redacted, 6 characters>",
            "SNMPv2c (a well-known default community)",
        ),
        ("telnet", "10.20.6.5", "10.20.5.10", "operator", "<redacted, 11 characters>", ""),
    ]


def test_secrets_never_reach_results_findings_or_inventory(city: Path, tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE_YAML.format(out=tmp_path / "reports"))
    run = discover_pcap([city], now=NOW, profile_path=profile, output=tmp_path / "out.json", oui=OUI)
    history = (tmp_path / "reports" / "history.sqlite").read_bytes()
    document = (tmp_path / "out.json").read_text() + json.dumps(passive_to_dict(run)) + repr(run)
    for secret in pcapgen.SECRETS:
        assert secret not in document
        assert secret.encode() not in history
    assert 'public"' not in document and "public'" not in document  # named a default, never printed


def test_findings_without_a_profile(city: Path) -> None:
    findings = passive_findings(analyze([city]), profile=None, policy=None, observed_at=NOW)
    got = [(f.rule_id, f.asset.key, f.evidence_key, f.severity) for f in findings]
    assert got == [
        ("PASSIVE-CLEARTEXT-CREDENTIALS", "10.20.3.10", "http-basic admin from 10.20.1.5", Severity.HIGH),
        ("PASSIVE-CLEARTEXT-CREDENTIALS", "10.20.5.10", "telnet operator from 10.20.6.5", Severity.HIGH),
        ("PASSIVE-CLEARTEXT-CREDENTIALS", "10.20.5.11", "ftp alice from 10.20.6.5", Severity.HIGH),
        ("PASSIVE-MODBUS-WRITE", "10.20.2.10", "modbus write from 10.20.1.5", Severity.HIGH),
        ("PASSIVE-SNMP-COMMUNITY", "10.20.2.11", "snmpv1 community from 10.20.1.5", Severity.MEDIUM),
        ("PASSIVE-SNMP-COMMUNITY", "10.20.2.11", "snmpv2c community from 10.20.1.5", Severity.HIGH),
    ]
    assert {f.source for f in findings} == {Source.PASSIVE}
    assert len({f.fingerprint for f in findings}) == len(findings)


def test_flows_the_zone_model_does_not_allow(city: Path) -> None:
    profile = city_profile()
    findings = passive_findings(
        analyze([city]), profile=profile, policy=load_flow_policy(None, profile), observed_at=NOW
    )
    flows = [
        (f.asset.key, f.evidence_key, f.severity, f.asset.criticality)
        for f in findings
        if f.rule_id == "PASSIVE-FLOW-NOT-ALLOWED"
    ]
    # mgmt -> dmz (telnet, ftp) is allowed; office (it) -> signals (ot) and -> cctv are not.
    assert flows == [
        ("10.20.2.10", "tcp/502 from 10.20.1.5", Severity.HIGH, Criticality.PUBLIC_SAFETY_CRITICAL),
        ("10.20.2.11", "udp/161 from 10.20.1.5", Severity.HIGH, Criticality.PUBLIC_SAFETY_CRITICAL),
        ("10.20.3.10", "tcp/80 from 10.20.1.5", Severity.HIGH, Criticality.HIGH),
    ]
    modbus = next(f for f in findings if f.evidence_key == "tcp/502 from 10.20.1.5")
    assert "no conduit from it segment 'office' to ot segment 'signals' for tcp/502" in modbus.description


def test_a_policy_file_allows_conduits_and_names_bad_lines(city: Path, tmp_path: Path) -> None:
    profile = city_profile()
    policy_file = tmp_path / "flows.yaml"
    policy_file.write_text(
        "allow:\n  - from: office\n    to: signals\n    ports: [tcp/502]\n    reason: SCADA polling\n"
    )
    policy = load_flow_policy(policy_file, profile)
    findings = passive_findings(analyze([city]), profile=profile, policy=policy, observed_at=NOW)
    flagged = sorted(f.evidence_key for f in findings if f.rule_id == "PASSIVE-FLOW-NOT-ALLOWED")
    assert flagged == ["tcp/80 from 10.20.1.5", "udp/161 from 10.20.1.5"]
    assert policy.check("office", "signals", "tcp/502") == (
        True,
        f"allowed by {policy_file}:2 (SCADA polling)",
    )
    policy_file.write_text("allow:\n  - from: office\n    to: signal\n")
    with pytest.raises(ConfigError) as info:
        load_flow_policy(policy_file, profile)
    assert info.value.location == f"{policy_file}:3"
    assert "'signal' is not a segment" in info.value.message


def test_pcapng_gives_the_same_results(city: Path, tmp_path: Path) -> None:
    from scapy.utils import PcapNgWriter

    path = tmp_path / "city.pcapng"
    with PcapNgWriter(str(path)) as writer:
        for packet in pcapgen.city_packets():
            writer.write(packet)
    a, b = analyze([city]), analyze([path])
    assert (b.packets, b.errors) == (61, [])
    assert _untimed(b) == _untimed(a)
    assert all(0 < f.first_seen <= f.last_seen for f in b.flows)


def _untimed(result):  # type: ignore[no-untyped-def]
    """Flows, ICS operations and credentials without capture times (two captures of the same
    packets written at different moments)."""
    return tuple(
        [replace(x, first_seen=0.0, last_seen=0.0) for x in items]
        for items in (result.flows, result.ics, result.credentials)
    )


def test_a_capture_cut_short_keeps_the_packets_before_the_cut(city: Path, tmp_path: Path) -> None:
    data = city.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) - 30])  # the last record loses its end
    result = analyze([cut])
    assert result.packets == 60
    assert len(result.errors) == 1 and "capture cut short after 60 packets" in result.errors[0]
    assert "is cut short" in result.errors[0]
    assert [op.function for op in result.ics if op.write] == [6, 15]


def test_unknown_link_types_and_non_captures_are_refused(city: Path, tmp_path: Path) -> None:
    usb = tmp_path / "usb.pcap"
    usb.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 189) + b"\x00" * 40)
    text = tmp_path / "notes.txt"
    text.write_text("not a capture\n")
    with pytest.raises(CaptureError) as info:
        CaptureFile.open(usb)
    assert "link type 189 is not one passive discovery decodes" in info.value.message
    assert "Ethernet (1)" in (info.value.hint or "")
    with pytest.raises(OperationalError) as failed:
        analyze([usb, text])
    assert "no capture could be read" in failed.value.message
    assert "unknown magic number 6e6f7420" in failed.value.message
    partial = analyze([usb, city])  # one good file is enough to report
    assert partial.packets == 61 and partial.files == [str(city)]
    assert "link type 189" in partial.errors[0]


PROFILE_YAML = """version: 1
organisation: Passive test
authorization:
  reference: PKT-P-1
  approver: CISO
  valid_from: 2026-01-01
  valid_until: 2030-12-31
segments:
  - name: office
    cidrs: [10.20.1.0/24]
    kind: it
    owner: city
    criticality: high
  - name: signals
    cidrs: [10.20.2.0/24]
    kind: ot
    owner: city
    criticality: public-safety-critical
report:
  output_dir: {out}
"""


def test_discovered_hosts_join_the_inventory(city: Path, tmp_path: Path) -> None:
    from secaudit.history import HistoryStore

    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE_YAML.format(out=tmp_path / "reports"))
    run: DiscoverRun = discover_pcap([city], now=NOW, profile_path=profile, oui=OUI)
    assert run.history == tmp_path / "reports" / "history.sqlite"
    with HistoryStore.open(run.history) as store:
        assets = {a.host.address: a.host for a in store.inventory.assets(str(profile.resolve()))}
        (scan,) = store.inventory.list_scans(str(profile.resolve()), source="passive")
    assert scan.id == run.scan_id and scan.status == "completed"
    plc = assets["10.20.2.10"]
    assert (plc.mac, plc.vendor, plc.segment, [s.key for s in plc.services]) == (
        "00:80:f4:11:22:33", "TELEMECANIQUE ELECTRIQUE", "signals", ["tcp/502"],
    )  # fmt: skip


def test_the_shipped_fixture_reads_like_a_fresh_capture(city: Path) -> None:
    shipped = analyze([Path(__file__).resolve().parents[1] / "fixtures" / "pcap" / "city.pcap"])
    fresh = analyze([city])
    assert (shipped.packets, shipped.errors) == (61, [])
    assert _untimed(shipped) == _untimed(fresh)


def test_findings_carry_capture_times_and_every_modbus_function_code(city: Path) -> None:
    """Observed when the capture saw it (not when analysed); a write finding lists each code."""
    result = analyze([city])
    analysed = datetime(2030, 1, 1, tzinfo=UTC)
    findings = passive_findings(result, profile=None, policy=None, observed_at=analysed)
    assert findings
    first_packet = min(f.first_seen for f in result.flows)
    for f in findings:
        assert f.observed_at < analysed
        assert f.observed_at.timestamp() >= first_packet - 1e-3
        attrs = dict(f.evidence[0].attributes)
        assert attrs["first_seen"] <= attrs["last_seen"]
    writes = [f for f in findings if f.rule_id == "PASSIVE-MODBUS-WRITE"]
    codes = sorted({op.function for op in result.ics if op.write})
    assert len(codes) > 1
    assert [dict(f.evidence[0].attributes)["functions"] for f in writes] == [", ".join(map(str, codes))]
