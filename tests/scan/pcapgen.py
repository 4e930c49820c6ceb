"""Test captures built with scapy (an implementation independent of ours): a small city network
with Modbus writes, a telnet login typed one key at a time, FTP, HTTP Basic and SNMP.

Addresses are documentation-style private ones that exist only inside the file; nothing is sent.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

from scapy.asn1.asn1 import ASN1_OID
from scapy.contrib.modbus import (
    ModbusADURequest,
    ModbusPDU0FWriteMultipleCoilsRequest,
    ModbusPDU03ReadHoldingRegistersRequest,
    ModbusPDU06WriteSingleRegisterRequest,
)
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

# Segments as in tests: it 10.20.1.0/24, ot 10.20.2.0/24, cctv 10.20.3.0/24, dmz 10.20.5.0/24,
# mgmt 10.20.6.0/24.
HMI = ("10.20.1.5", "00:0c:29:aa:00:05")  # VMware guest in the IT segment
PLC = ("10.20.2.10", "00:80:f4:11:22:33")  # Telemecanique (Schneider) controller
SNMP_AGENT = ("10.20.2.11", "00:80:f4:11:22:44")
CAMERA = ("10.20.3.10", "02:00:00:00:03:10")  # locally administered MAC
JUMP = ("10.20.6.5", "00:0c:29:aa:06:05")
TELNET_SERVER = ("10.20.5.10", "00:0c:29:aa:05:10")
FTP_SERVER = ("10.20.5.11", "00:0c:29:aa:05:11")

TELNET_USER, TELNET_PASSWORD = "operator", "Tr4ffic!Sig"
FTP_USER, FTP_PASSWORD = "alice", "hunter2-ftp"
HTTP_USER, HTTP_PASSWORD = "admin", "camera123"
SECRETS = (TELNET_PASSWORD, FTP_PASSWORD, HTTP_PASSWORD, "n0tDefault")


class Conversation:
    """A TCP conversation with correct sequence numbers, handshake included."""

    def __init__(self, client: tuple[str, str], server: tuple[str, str], sport: int, dport: int) -> None:
        self.client, self.server, self.sport, self.dport = client, server, sport, dport
        self.cseq, self.sseq = 1000, 5000
        self.packets: list[Packet] = []
        self._send(True, "S", b"")
        self._send(False, "SA", b"")
        self._send(True, "A", b"")

    def _send(self, from_client: bool, flags: str, payload: bytes) -> None:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sport, dport = (self.sport, self.dport) if from_client else (self.dport, self.sport)
        seq, ack = (self.cseq, self.sseq) if from_client else (self.sseq, self.cseq)
        packet = (
            Ether(src=src[1], dst=dst[1])
            / IP(src=src[0], dst=dst[0])
            / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack if "A" in flags else 0)
        )
        if payload:
            packet = packet / Raw(payload)
        self.packets.append(packet)
        step = len(payload) + (1 if "S" in flags or "F" in flags else 0)
        if from_client:
            self.cseq += step
        else:
            self.sseq += step

    def client_says(self, payload: bytes) -> None:
        self._send(True, "PA", payload)

    def server_says(self, payload: bytes) -> None:
        self._send(False, "PA", payload)


def modbus() -> list[Packet]:
    c = Conversation(HMI, PLC, 40001, 502)
    c.client_says(bytes(ModbusADURequest(transId=1, unitId=1) / ModbusPDU03ReadHoldingRegistersRequest()))
    c.server_says(b"\x00\x01\x00\x00\x00\x05\x01\x03\x02\x00\x2a")
    c.client_says(
        bytes(
            ModbusADURequest(transId=2, unitId=1)
            / ModbusPDU06WriteSingleRegisterRequest(registerAddr=7, registerValue=99)
        )
    )
    c.client_says(
        bytes(
            ModbusADURequest(transId=3, unitId=1)
            / ModbusPDU06WriteSingleRegisterRequest(registerAddr=8, registerValue=1)
        )
    )
    c.client_says(
        bytes(
            ModbusADURequest(transId=4, unitId=1)
            / ModbusPDU0FWriteMultipleCoilsRequest(startAddr=0, quantityOutput=8, outputsValue=[0xFF])
        )
    )
    return c.packets


def telnet() -> list[Packet]:
    c = Conversation(JUMP, TELNET_SERVER, 40023, 23)
    c.server_says(b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01")  # DO TTYPE, DO TSPEED, WILL ECHO
    c.client_says(b"\xff\xfc\x18\xff\xfc\x20\xff\xfd\x01")
    c.server_says(b"\r\nsignal-gw login: ")
    for ch in TELNET_USER:
        c.client_says(ch.encode())
        c.server_says(ch.encode())  # echo
    c.client_says(b"\r\x00")
    c.server_says(b"\r\nPassword: ")
    for ch in TELNET_PASSWORD:
        c.client_says(ch.encode())  # no echo for passwords
    c.client_says(b"\r\x00")
    c.server_says(b"\r\nLast login: never\r\n$ ")
    return c.packets


def ftp() -> list[Packet]:
    c = Conversation(JUMP, FTP_SERVER, 40021, 21)
    c.server_says(b"220 city ftp\r\n")
    c.client_says(f"USER {FTP_USER}\r\n".encode())
    c.server_says(b"331 Password required\r\n")
    c.client_says(f"PASS {FTP_PASSWORD}\r\n".encode())
    c.server_says(b"230 Logged in\r\n")
    return c.packets


def http_basic() -> list[Packet]:
    c = Conversation(HMI, CAMERA, 40080, 80)
    token = base64.b64encode(f"{HTTP_USER}:{HTTP_PASSWORD}".encode()).decode()
    c.client_says(
        f"GET /cgi-bin/admin.cgi HTTP/1.1\r\nHost: {CAMERA[0]}\r\nAuthorization: Basic {token}\r\n\r\n".encode()
    )
    c.server_says(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    return c.packets


def snmp() -> list[Packet]:
    out = []
    for version, community, sport in ((1, "public", 40161), (0, "n0tDefault", 40162)):
        get = SNMP(
            version=version,
            community=community,
            PDU=SNMPget(varbindlist=[SNMPvarbind(oid=ASN1_OID("1.3.6.1.2.1.1.1.0"))]),
        )
        out.append(
            Ether(src=HMI[1], dst=SNMP_AGENT[1])
            / IP(src=HMI[0], dst=SNMP_AGENT[0])
            / UDP(sport=sport, dport=161)
            / get
        )
    return out


def arp() -> list[Packet]:
    return [
        Ether(src=PLC[1], dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PLC[1], psrc=PLC[0], pdst="10.20.2.1"),
    ]


def city_packets() -> list[Packet]:
    return arp() + modbus() + telnet() + ftp() + http_basic() + snmp()


def write_city(path: Path) -> Path:
    wrpcap(str(path), city_packets())
    return path


def background(n: int) -> Iterator[Packet]:
    """Bulk traffic for size tests: TCP and UDP between many hosts."""
    for i in range(n):
        src = f"10.30.{(i >> 8) & 0xFF}.{i & 0xFF}"
        yield (
            Ether(src="00:0c:29:00:00:01", dst="00:0c:29:00:00:02")
            / IP(src=src, dst="10.30.255.1")
            / TCP(sport=30000 + i % 1000, dport=443, flags="A")
        )
