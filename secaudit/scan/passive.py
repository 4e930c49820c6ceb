"""Passive discovery: what a capture shows about the network, without sending a packet.

One pass over each capture with the raw reader (:mod:`secaudit.scan.pcap`): link, IP and
transport headers of every packet are read with plain indexing (no per-packet objects), so a
million packets take seconds. Payloads are decoded only where they matter: Modbus/TCP
requests, telnet and FTP logins, HTTP requests carrying Basic credentials, SNMPv1/v2c
communities. The result holds hosts (addresses, MACs), flows, protocols, ICS operations and
cleartext credentials with the secrets redacted; :mod:`secaudit.scan.passive_findings` turns it
into findings.
"""

from __future__ import annotations

import socket
import struct
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from secaudit.core.errors import OperationalError
from secaudit.scan import decoders
from secaudit.scan.pcap import (
    LINK_ETHERNET,
    LINK_IPV4,
    LINK_IPV6,
    LINK_LINUX_SLL,
    LINK_LINUX_SLL2,
    LINK_LOOP,
    LINK_NULL,
    LINK_RAW,
    CaptureError,
    CaptureFile,
)

#: Names for server ports (what a flow's protocol is called in reports).
PORT_NAMES = {
    ("tcp", 21): "ftp",
    ("tcp", 22): "ssh",
    ("tcp", 23): "telnet",
    ("tcp", 25): "smtp",
    ("udp", 53): "dns",
    ("tcp", 53): "dns",
    ("udp", 67): "dhcp",
    ("udp", 69): "tftp",
    ("tcp", 80): "http",
    ("tcp", 102): "s7comm",
    ("udp", 123): "ntp",
    ("tcp", 139): "netbios",
    ("udp", 161): "snmp",
    ("udp", 162): "snmp-trap",
    ("tcp", 443): "https",
    ("tcp", 445): "smb",
    ("udp", 514): "syslog",
    ("tcp", 502): "modbus",
    ("tcp", 554): "rtsp",
    ("tcp", 1883): "mqtt",
    ("tcp", 1911): "niagara-fox",
    ("tcp", 2404): "iec-104",
    ("tcp", 3389): "rdp",
    ("tcp", 4840): "opc-ua",
    ("tcp", 4911): "niagara-fox-tls",
    ("tcp", 5900): "vnc",
    ("tcp", 8080): "http",
    ("tcp", 8883): "mqtt-tls",
    ("tcp", 20000): "dnp3",
    ("tcp", 44818): "enip",
    ("udp", 2222): "enip-io",
    ("udp", 47808): "bacnet",
}
ICS_PROTOCOLS = frozenset(
    {"modbus", "s7comm", "dnp3", "iec-104", "opc-ua", "enip", "enip-io", "bacnet", "niagara-fox"}
)
_PROTO = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}
_KNOWN_TCP = frozenset(p for proto, p in PORT_NAMES if proto == "tcp")
_KNOWN_UDP = frozenset(p for proto, p in PORT_NAMES if proto == "udp")
_HTTP_METHODS = decoders.HTTP_METHODS
_TELNET_CAP = 16 * 1024  # bytes kept per telnet conversation


@dataclass(frozen=True, slots=True, kw_only=True)
class PassiveHost:
    address: str
    macs: tuple[str, ...] = ()
    vendor: str = ""
    packets_sent: int = 0
    packets_received: int = 0
    services: tuple[str, ...] = ()  # "tcp/502" it answered on (server side of a flow)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """All packets between one client and one server port, both directions."""

    client: str
    server: str
    protocol: str  # tcp / udp / icmp
    port: int
    service: str
    packets: int
    bytes: int
    first_seen: float = 0.0  # capture time (epoch seconds) of the flow's first and last packet
    last_seen: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class IcsOperation:
    client: str
    server: str
    protocol: str
    unit: int
    function: int
    name: str
    write: bool
    count: int
    first_seen: float = 0.0  # capture time (epoch seconds) of the first and last such request
    last_seen: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """A credential seen in cleartext; ``secret`` is already redacted."""

    protocol: str  # telnet / ftp / http-basic / snmp
    client: str
    server: str
    port: int
    user: str
    secret: str
    detail: str = ""
    count: int = 1
    first_seen: float = 0.0  # capture time (epoch seconds) of the first and last sighting
    last_seen: float = 0.0


@dataclass
class PassiveResult:
    files: list[str] = field(default_factory=list)
    packets: int = 0
    decoded: int = 0  # packets with a readable IP header
    hosts: list[PassiveHost] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    ics: list[IcsOperation] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # per file: unreadable, truncated, skipped links

    def protocols(self) -> dict[str, int]:
        """Packets per protocol name over all flows, most first."""
        counts: Counter[str] = Counter()
        for f in self.flows:
            counts[f.service] += f.packets
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _addr(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def _mac(raw: bytes) -> str:
    return raw.hex(":")


class _State:
    """Everything gathered so far; bytes-keyed until the end for speed."""

    def __init__(self) -> None:
        self.flows: dict[
            tuple[bytes, bytes, int, int, int], list[float]
        ] = {}  # n, bytes, from server, first, last
        self.macs: set[tuple[bytes, bytes]] = set()
        self.modbus: Counter[tuple[bytes, bytes, int, int]] = Counter()
        self.creds: Counter[tuple[str, bytes, bytes, int, str, str, str]] = Counter()
        self.seen: dict[tuple[object, ...], list[float]] = {}  # ICS/credential key -> [first, last]
        self.now = 0.0  # capture time of the packet being read (set only before payload handlers)
        self.ftp_user: dict[tuple[bytes, bytes, int], str] = {}
        self.telnet: dict[tuple[bytes, bytes, int], list[tuple[bool, bytes]]] = {}
        self.telnet_size: Counter[tuple[bytes, bytes, int]] = Counter()
        self.telnet_times: dict[tuple[bytes, bytes, int], float] = {}  # first packet of a conversation
        self.packets = 0
        self.decoded = 0

    def saw(self, key: tuple[object, ...]) -> None:
        times = self.seen.get(key)
        if times is None:
            self.seen[key] = [self.now, self.now]
        else:
            times[0] = min(times[0], self.now)
            times[1] = max(times[1], self.now)

    def times(self, key: tuple[object, ...]) -> dict[str, float]:
        first, last = self.seen.get(key, (0.0, 0.0))
        return {"first_seen": first, "last_seen": last}

    # -- payload handlers (called for a tiny share of packets) -----------------------------
    def tcp_payload(self, src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> None:
        if dport == 502:
            for unit, function in decoders.modbus_requests(payload):
                self.modbus[(src, dst, unit, function)] += 1
                self.saw((src, dst, unit, function))
        elif dport == 23 or sport == 23:
            key = (src, dst, sport) if dport == 23 else (dst, src, dport)
            if self.telnet_size[key] < _TELNET_CAP:
                self.telnet.setdefault(key, []).append((dport == 23, payload))
                self.telnet_times.setdefault(key, self.now)
                self.telnet_size[key] += len(payload)
        elif dport == 21:
            for command, argument in decoders.ftp_commands(payload):
                conn = (src, dst, sport)
                if command == "USER":
                    self.ftp_user[conn] = argument
                else:
                    user = self.ftp_user.get(conn, "")
                    cred = ("ftp", src, dst, dport, user, decoders.redact(argument), "")
                    self.creds[cred] += 1
                    self.saw(cred)
        if payload[:4] in _HTTP_METHODS:
            found = decoders.http_basic(payload)
            if found is not None:
                user, password, request = found
                cred = ("http-basic", src, dst, dport, user, decoders.redact(password), request)
                self.creds[cred] += 1
                self.saw(cred)

    def udp_payload(self, src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> None:
        found = decoders.snmp_community(payload)
        if found is not None and dport in (161, 162):
            version, community = found
            default = " (a well-known default community)" if community in ("public", "private") else ""
            key = ("snmp", src, dst, dport, "", decoders.redact(community), f"SNMP{version}{default}")
            self.creds[key] += 1
            self.saw(key)


def _link_offset(linktype: int, data: bytes) -> tuple[int, int, bytes]:
    """``(ethertype, offset of the network header, source MAC or b"")`` for non-fast-path links."""
    if linktype == LINK_LINUX_SLL and len(data) >= 16:
        return struct.unpack_from("!H", data, 14)[0], 16, data[6:12] if data[4:6] == b"\x00\x06" else b""
    if linktype == LINK_LINUX_SLL2 and len(data) >= 20:
        return struct.unpack_from("!H", data, 0)[0], 20, data[12:18] if data[10] == 6 else b""
    if linktype in (LINK_RAW, LINK_IPV4, LINK_IPV6) and data:
        return (0x0800 if data[0] >> 4 == 4 else 0x86DD), 0, b""
    if linktype in (LINK_NULL, LINK_LOOP) and len(data) >= 4:
        family = struct.unpack_from("<I" if linktype == LINK_NULL and data[0] else "!I", data, 0)[0]
        return (0x0800 if family == 2 else 0x86DD if family in (10, 24, 28, 30) else 0), 4, b""
    return 0, 0, b""


def analyze(
    paths: Sequence[Path],
    *,
    vendor_of: Callable[[str], str] = lambda mac: "",
    progress: Callable[[str, int], None] = lambda path, packets: None,
) -> PassiveResult:
    """Read every capture and gather hosts, flows, ICS operations and credentials.

    A file that cannot be read is an error in the result; the other files are still read. A
    capture cut short keeps every packet before the cut. Raises :class:`OperationalError` only
    when no file could be read at all.
    """
    state = _State()
    result = PassiveResult()
    readable = 0
    for path in paths:
        try:
            capture = CaptureFile.open(Path(path))
        except CaptureError as e:
            result.errors.append(f"{e.location}: {e.message} (hint: {e.hint})")
            continue
        readable += 1
        result.files.append(str(path))
        with capture:
            before = state.packets
            _read(capture, state)
            progress(str(path), state.packets - before)
            if capture.truncated:
                result.errors.append(
                    f"{path}: capture cut short after {capture.records_read} packets: {capture.truncated}; "
                    "the packets before the cut were analysed"
                )
            result.errors.extend(f"{path}: {p}" for p in capture.problems)
    if paths and not readable:
        raise OperationalError(
            "no capture could be read:\n  " + "\n  ".join(result.errors),
            hint="give pcap or pcapng files written by tcpdump, dumpcap or Wireshark",
        )
    _finish(state, result, vendor_of)
    return result


def _read(capture: CaptureFile, st: _State) -> None:
    """The hot loop: kept flat (no helper calls per packet) for speed."""
    flows = st.flows
    macs_add = st.macs.add
    tcp_payload, udp_payload = st.tcp_payload, st.udp_payload
    known_tcp, known_udp, http_methods = _KNOWN_TCP, _KNOWN_UDP, _HTTP_METHODS
    unpack_ports = struct.Struct("!HH").unpack_from
    packets = decoded = 0
    for ts, linktype, data in capture.records():
        packets += 1
        if linktype == LINK_ETHERNET:
            if len(data) < 14:
                continue
            etype = (data[12] << 8) | data[13]
            off = 14
            if etype == 0x8100 and len(data) >= 18:  # one VLAN tag
                etype = (data[16] << 8) | data[17]
                off = 18
            smac = data[6:12]
        else:
            etype, off, smac = _link_offset(linktype, data)
        if etype == 0x0800:
            if len(data) < off + 20:
                continue
            ihl = (data[off] & 15) * 4
            proto = data[off + 9]
            src = data[off + 12 : off + 16]
            dst = data[off + 16 : off + 20]
            l4 = off + ihl
            end = off + ((data[off + 2] << 8) | data[off + 3])  # Ethernet pads short frames
            if (data[off + 6] & 0x1F) or data[off + 7]:  # a later fragment: no transport header
                l4 = len(data)  # counted under its protocol, without ports
        elif etype == 0x86DD:
            if len(data) < off + 40:
                continue
            proto = data[off + 6]
            src = data[off + 8 : off + 24]
            dst = data[off + 24 : off + 40]
            l4 = off + 40
            end = l4 + ((data[off + 4] << 8) | data[off + 5])
        elif etype == 0x0806:
            if len(data) >= off + 28 and data[off + 4] == 6 and data[off + 5] == 4:  # Ethernet/IPv4 ARP
                macs_add((data[off + 8 : off + 14], data[off + 14 : off + 18]))
            continue
        else:
            continue
        decoded += 1
        if smac:
            macs_add((smac, src))
        sport = dport = 0
        if proto == 6 and len(data) >= l4 + 20:
            sport, dport = unpack_ports(data, l4)
            start = l4 + ((data[l4 + 12] >> 4) * 4)
            if end > start and (
                dport in (502, 23, 21) or sport == 23 or data[start : start + 4] in http_methods
            ):
                st.now = ts
                tcp_payload(src, dst, sport, dport, data[start:end])
            if sport in known_tcp and dport not in known_tcp:
                key = (dst, src, 6, dport, sport)  # client first, server port last
            elif dport in known_tcp or dport < sport:
                key = (src, dst, 6, sport, dport)
            else:
                key = (dst, src, 6, dport, sport)
        elif proto == 17 and len(data) >= l4 + 8:
            sport, dport = unpack_ports(data, l4)
            if dport in (161, 162):
                st.now = ts
                udp_payload(src, dst, sport, dport, data[l4 + 8 : end])
            if sport in known_udp and dport not in known_udp:
                key = (dst, src, 17, dport, sport)
            elif dport in known_udp or dport < sport:
                key = (src, dst, 17, sport, dport)
            else:
                key = (dst, src, 17, dport, sport)
        else:
            key = (src, dst, proto, 0, 0)
        counts = flows.get(key)
        if counts is None:
            counts = flows[key] = [0, 0, 0, ts, ts]
        counts[0] += 1
        counts[1] += len(data)
        if ts > counts[4]:
            counts[4] = ts
        elif ts < counts[3]:
            counts[3] = ts
        if key[0] is dst:
            counts[2] += 1  # a packet from the server side
    st.packets += packets
    st.decoded += decoded


def _finish(st: _State, result: PassiveResult, vendor_of: Callable[[str], str]) -> None:
    result.packets, result.decoded = st.packets, st.decoded
    # Flows: one per (client, server, protocol, server port); client source ports merged.
    merged: dict[tuple[bytes, bytes, int, int], list[float]] = {}  # n, bytes, first, last
    sent: Counter[bytes] = Counter()
    received: Counter[bytes] = Counter()
    for (client, server, proto, _cport, sport), (nf, sizef, from_serverf, first, last) in st.flows.items():
        n, size, from_server = int(nf), int(sizef), int(from_serverf)
        m = merged.setdefault((client, server, proto, sport), [0, 0, first, last])
        m[0] += n
        m[1] += size
        m[2], m[3] = min(m[2], first), max(m[3], last)
        sent[client] += n - from_server
        received[server] += n - from_server
        sent[server] += from_server
        received[client] += from_server
    services: dict[bytes, set[str]] = {}
    for (client, server, proto, port), (nm, sizem, first, last) in merged.items():
        pname = _PROTO.get(proto, f"ip-{proto}")
        service = PORT_NAMES.get((pname, port), f"{pname}/{port}" if port else pname)
        result.flows.append(
            Flow(
                client=_addr(client),
                server=_addr(server),
                protocol=pname,
                port=port,
                service=service,
                packets=int(nm),
                bytes=int(sizem),
                first_seen=first,
                last_seen=last,
            )
        )
        if port and pname in ("tcp", "udp") and (pname, port) in PORT_NAMES:
            services.setdefault(server, set()).add(f"{pname}/{port}")
    result.flows.sort(key=lambda f: (-f.packets, f.client, f.server, f.key))

    macs_of: dict[bytes, set[bytes]] = {}
    for mac, ip in st.macs:
        if mac != b"\x00" * 6 and mac[0] & 1 == 0:  # not broadcast/multicast sources
            macs_of.setdefault(ip, set()).add(mac)
    addresses = {raw for raw, n in sent.items() if n} | set(macs_of)  # hosts that spoke
    for raw in addresses:
        if len(raw) == 4 and (raw[0] >= 224 or raw in (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff")):
            continue  # multicast/broadcast destinations are not hosts
        if len(raw) == 16 and raw[0] == 0xFF:
            continue
        macs = tuple(sorted(_mac(m) for m in macs_of.get(raw, ())))
        result.hosts.append(
            PassiveHost(
                address=_addr(raw),
                macs=macs,
                vendor="; ".join(dict.fromkeys(v for v in (vendor_of(m) for m in macs) if v)),
                packets_sent=sent[raw],
                packets_received=received[raw],
                services=tuple(sorted(services.get(raw, ()))),
            )
        )
    result.hosts.sort(key=lambda h: (":" in h.address, _sort_key(h.address)))

    for (client, server, unit, function), count in sorted(st.modbus.items()):
        result.ics.append(
            IcsOperation(
                client=_addr(client),
                server=_addr(server),
                protocol="modbus",
                unit=unit,
                function=function,
                name=decoders.MODBUS_FUNCTIONS.get(function, f"function {function}"),
                write=function in decoders.MODBUS_WRITES,
                count=count,
                **st.times((client, server, unit, function)),
            )
        )
    for (client, server, _cport), events in st.telnet.items():
        for user, password in decoders.telnet_logins(events):
            key = ("telnet", client, server, 23, user, decoders.redact(password), "")
            st.creds[key] += 1
            st.now = st.telnet_times.get((client, server, _cport), 0.0)
            st.saw(key)
    for (kind, client, server, port, user, secret, detail), count in sorted(st.creds.items()):
        result.credentials.append(
            Credential(
                protocol=kind,
                client=_addr(client),
                server=_addr(server),
                port=port,
                user=user,
                secret=secret,
                detail=detail,
                count=count,
                **st.times((kind, client, server, port, user, secret, detail)),
            )
        )


def _sort_key(address: str) -> tuple[int, ...]:
    try:
        raw = socket.inet_pton(socket.AF_INET6 if ":" in address else socket.AF_INET, address)
    except OSError:
        return (0,)
    return tuple(raw)
