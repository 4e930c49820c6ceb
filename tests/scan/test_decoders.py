"""The payload decoders and link layers of passive discovery, on hostile and unusual input."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.layers.snmp import SNMP
from scapy.packet import Raw
from scapy.utils import wrpcap

from secaudit.scan import decoders
from secaudit.scan.passive import analyze


def test_modbus_several_requests_in_one_segment_and_garbage() -> None:
    two = bytes.fromhex("000100000006010600070063" + "00020000000601100001000102")
    assert list(decoders.modbus_requests(two)) == [(1, 6), (1, 16)]
    assert list(decoders.modbus_requests(b"\x00\x01\x00\x05\x00\x06\x01\x06")) == []  # protocol id 5
    assert list(decoders.modbus_requests(b"\x00\x01")) == []


def test_snmp_v1_v2c_communities_but_not_v3_or_junk() -> None:
    assert decoders.snmp_community(bytes(SNMP(version=1, community="c1ty"))) == ("v2c", "c1ty")
    assert decoders.snmp_community(bytes(SNMP(version=0, community="x"))) == ("v1", "x")
    v3 = bytes.fromhex("303e020103")  # version 3: no community field
    assert decoders.snmp_community(v3 + b"\x00" * 10) is None
    assert decoders.snmp_community(b"\x30\x84\xff\xff\xff\xff") is None
    assert decoders.snmp_community(b"") is None


def test_http_basic_needs_valid_base64_and_a_colon() -> None:
    good = base64.b64encode(b"ops:pa:ss").decode()
    request = f"POST /login HTTP/1.1\r\nauthorization:  Basic {good}\r\n\r\n".encode()
    assert decoders.http_basic(request) == ("ops", "pa:ss", "POST /login")
    assert decoders.http_basic(b"GET / HTTP/1.1\r\nAuthorization: Basic !!!!\r\n\r\n") is None
    nocolon = base64.b64encode(b"justuser").decode()
    assert decoders.http_basic(f"GET / HTTP/1.1\r\nAuthorization: Basic {nocolon}\r\n".encode()) is None
    assert decoders.http_basic(b"GET / HTTP/1.1\r\nAuthorization: Bearer abc\r\n") is None


def test_telnet_line_editing_negotiation_and_line_mode() -> None:
    events = [
        (False, b"\xff\xfb\x01\xff\xfa\x18\x01\xff\xf0login: "),  # WILL ECHO, a subnegotiation, prompt
        (True, b"roo"),
        (True, b"\x7ft"),  # DEL removes the second 'o'
        (True, b"\r\n"),
        (False, b"Password: "),
        (True, b"ab\xff\xffc\r\x00"),  # an escaped 0xff inside the password
        (False, b"Login incorrect\r\nlogin: "),
        (True, b"second\r\n"),
        (False, b"Password:"),
        (True, b"pw2\n"),
    ]
    assert decoders.telnet_logins(events) == [("rot", "ab\xffc"), ("second", "pw2")]
    assert decoders.telnet_logins([(True, b"typed before any prompt\r\n")]) == []
    assert decoders.redact("ab\xffc") == "<redacted, 4 characters>"


def test_vlan_tags_ipv6_fragments_and_snap_lengths(tmp_path: Path) -> None:
    mac = {"src": "00:0c:29:00:00:01", "dst": "00:0c:29:00:00:02"}
    ftp = b"USER bob\r\nPASS s3cret\r\n"
    packets = [
        Ether(**mac)
        / Dot1Q(vlan=20)
        / IP(src="10.1.0.5", dst="10.2.0.9")
        / TCP(sport=4000, dport=21)
        / Raw(ftp),
        Ether(**mac)
        / IPv6(src="fd00::5", dst="fd00::9")
        / TCP(sport=4001, dport=502)
        / Raw(bytes.fromhex("000100000006010500010000")),
        Ether(**mac) / IP(src="10.1.0.5", dst="10.2.0.9", frag=100, proto=17) / Raw(b"\x00" * 40),
    ]
    path = tmp_path / "odd.pcap"
    wrpcap(str(path), packets)
    # Cut the capture length of the first record to 40 bytes, as a small snap length would.
    data = bytearray(path.read_bytes())
    caplen_at = 24 + 8
    struct.pack_into("<I", data, caplen_at, 40)
    first_len = struct.unpack_from("<I", data, caplen_at + 4)[0]
    snapped = bytes(data[: 24 + 16 + 40]) + bytes(data[24 + 16 + first_len :])
    path.write_bytes(snapped)
    result = analyze([path])
    assert (result.packets, result.errors) == (3, [])
    assert [(op.client, op.function, op.write) for op in result.ics] == [("fd00::5", 5, True)]
    assert result.credentials == []  # the snapped FTP payload is gone: nothing invented
    # The snapped packet lost its TCP header (no ports); the fragment has none: both keep their protocol.
    assert sorted((f.client, f.server, f.key, f.service) for f in result.flows) == [
        ("10.1.0.5", "10.2.0.9", "tcp/0", "tcp"),
        ("10.1.0.5", "10.2.0.9", "udp/0", "udp"),
        ("fd00::5", "fd00::9", "tcp/502", "modbus"),
    ]
    full = tmp_path / "full.pcap"
    wrpcap(str(full), packets[:1])
    (cred,) = analyze([full]).credentials
    assert (cred.protocol, cred.user, cred.secret) == ("ftp", "bob", "<redacted, 6 characters>")


def test_udp_to_snmp_is_decoded_only_on_snmp_ports(tmp_path: Path) -> None:
    path = tmp_path / "snmp.pcap"
    wrpcap(
        str(path),
        [
            Ether()
            / IP(src="10.1.0.5", dst="10.2.0.9")
            / UDP(sport=5000, dport=161)
            / SNMP(community="pub1"),
            Ether()
            / IP(src="10.1.0.5", dst="10.2.0.9")
            / UDP(sport=5000, dport=9999)
            / SNMP(community="other"),
        ],
    )
    assert [(c.server, c.port, c.secret) for c in analyze([path]).credentials] == [
        ("10.2.0.9", 161, "<redacted, 4 characters>")
    ]
