"""The demo network: real services with planted exposures, on loopback addresses only.

Run as root (ports below 1024)::

    python samples/demo_net.py            # start the demo services; stop with Ctrl-C or SIGTERM
    python samples/demo_net.py --list     # print address:port/proto and what each one plants
    python samples/demo_net.py --service ::1,23,telnet --service 127.20.9.1,502,modbus   # others

Every service binds one address inside 127.20.0.0/16 (the segments of samples/phuket-demo.yaml);
Linux routes all of 127.0.0.0/8 to the loopback interface, so nothing leaves the machine. The
protocols are implemented here just far enough to answer nmap's probes and its read-only NSE
scripts: Modbus/TCP identification, SNMPv1/v2c GET, a telnet-style login, an FTP banner,
TLS 1.0, an SSH key-exchange offer, RTSP, VNC and MQTT. Standard library only; the TLS server's
throw-away certificate comes from the ``openssl`` command.

Services bind loopback addresses only (127.0.0.0/8, ::1). The one exception is for tests that
build their own network namespaces: 10.213.0.0/16 is accepted when this process itself runs
inside a namespace made with ``ip netns add`` (never in the machine's own network namespace).

Tests and fixture generators import :func:`start` with their own :class:`Spec` lists.
"""

from __future__ import annotations

import argparse
import http.server
import ipaddress
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import ClassVar

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
#: Addresses tests give hosts inside network namespaces they create; allowed only when this
#: process itself runs in such a namespace (never in the machine's own network namespace).
TEST_NETNS_RANGE = ipaddress.ip_network("10.213.0.0/16")


def in_own_network_namespace() -> bool:
    """True when this process runs in a namespace made with ``ip netns add`` (not the machine's own)."""
    try:
        mine = Path("/proc/self/ns/net").stat()
        named = list(Path("/run/netns").iterdir())
        return any((n.stat().st_dev, n.stat().st_ino) == (mine.st_dev, mine.st_ino) for n in named)
    except OSError:
        return False


def allowed_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if any(ip in net for net in LOOPBACK if net.version == ip.version):
        return True
    return ip.version == 4 and ip in TEST_NETNS_RANGE and in_own_network_namespace()


@dataclass(frozen=True)
class Spec:
    """One service: where it listens, what speaks there, and what the scan should find."""

    address: str
    port: int
    kind: str  # key of HANDLERS
    plants: str = ""  # the exposure a scan should report, for humans and the --list output
    options: dict[str, str] = field(default_factory=dict)

    @property
    def proto(self) -> str:
        return "udp" if self.kind == "snmp" else "tcp"


#: The demo: segment addresses as in samples/phuket-demo.yaml.
DEMO: tuple[Spec, ...] = (
    Spec(address="127.20.1.11", port=5900, kind="vnc", plants="VNC reachable outside the management segment"),
    Spec(address="127.20.1.12", port=502, kind="modbus", plants="Modbus/TCP gateway inside the IT segment"),
    Spec(address="127.20.2.10", port=502, kind="modbus", plants="Modbus/TCP answers identification requests"),
    Spec(address="127.20.2.11", port=161, kind="snmp", plants="SNMP agent answers community 'public'"),
    Spec(address="127.20.3.10", port=80, kind="camera-http", plants="camera admin page over plain HTTP"),
    Spec(address="127.20.3.10", port=554, kind="rtsp", plants="RTSP camera stream reachable"),
    Spec(address="127.20.4.10", port=443, kind="tls10", plants="TLS 1.0 only, NULL cipher offered (grade F)"),
    Spec(address="127.20.4.11", port=1883, kind="mqtt", plants="MQTT without TLS"),
    Spec(address="127.20.5.10", port=23, kind="telnet", plants="telnet login in the DMZ"),
    Spec(address="127.20.5.11", port=21, kind="ftp", plants="FTP (cleartext) in the DMZ"),
    Spec(
        address="127.20.6.10",
        port=22,
        kind="ssh-weak",
        plants="SSH offering weak key exchange, ciphers and MACs",
    ),
)


# --------------------------------------------------------------------------------------------- TCP
class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    spec: Spec

    def handle_error(self, request: object, client_address: object) -> None:
        return  # scanners hang up mid-handshake all the time: not worth a traceback


class _TCPServer6(_TCPServer):
    address_family = socket.AF_INET6


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer
    timeout = 10.0

    def setup(self) -> None:
        self.request.settimeout(self.timeout)

    def recv(self, n: int = 4096) -> bytes:
        try:
            return bytes(self.request.recv(n))
        except (TimeoutError, OSError):
            return b""

    def send(self, data: bytes) -> bool:
        try:
            self.request.sendall(data)
        except OSError:
            return False
        return True


class ModbusHandler(_Handler):
    """Modbus/TCP unit 1: report slave id (0x11), read device identification (0x2B/0x0E),
    read holding registers (0x03); exception 1 (illegal function) for the rest."""

    OBJECTS = (b"Phuket Demo Signals", b"TSC-2000", b"v4.2.1")

    def handle(self) -> None:
        buffer = b""
        while True:
            data = self.recv()
            if not data:
                return
            buffer += data
            while len(buffer) >= 8:
                tid, pid, length = struct.unpack(">HHH", buffer[:6])
                if pid != 0 or length > 260:
                    return  # not Modbus/TCP (protocol id 0, short frames): hang up, as devices do
                if len(buffer) < 6 + length or length < 2:
                    break
                frame, buffer = buffer[6 : 6 + length], buffer[6 + length :]
                unit, function, body = frame[0], frame[1], frame[2:]
                pdu = self.answer(function, body)
                if not self.send(struct.pack(">HHHB", tid, pid, len(pdu) + 1, unit) + pdu):
                    return

    def answer(self, function: int, body: bytes) -> bytes:
        if function == 0x11:
            ident = b"TSC-2000 signal controller"
            payload = ident + b"\xff"  # run indicator: on
            return bytes([0x11, len(payload)]) + payload
        if function == 0x2B and body[:1] == b"\x0e":
            first = body[2] if len(body) > 2 else 0
            objects = b"".join(bytes([i, len(v)]) + v for i, v in enumerate(self.OBJECTS) if i >= first)
            count = len(self.OBJECTS) - min(first, len(self.OBJECTS))
            return bytes([0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, count]) + objects
        if function == 0x03 and len(body) >= 4:
            count = min(struct.unpack(">H", body[2:4])[0], 125)
            return bytes([0x03, 2 * count]) + b"\x00\x00" * count
        return bytes([function | 0x80, 0x01])


class TelnetHandler(_Handler):
    """A telnet-style login: option negotiation, a banner and a login prompt that never succeeds."""

    def handle(self) -> None:
        # Like telnetd: option negotiation first, the banner once the client has answered.
        if not self.send(b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"):
            return
        for prompt in (b"\r\nPhuket DMZ edge router\r\nlogin: ", b"Password: ", b"\r\nLogin incorrect\r\n"):
            if not self.recv():
                return
            self.send(prompt)


class FTPHandler(_Handler):
    def handle(self) -> None:
        if not self.send(b"220 (vsFTPd 3.0.3)\r\n"):
            return
        while True:
            line = self.recv()
            if not line:
                return
            verb = line.split(b" ", 1)[0].strip().upper()
            reply = {
                b"USER": b"331 Please specify the password.\r\n",
                b"PASS": b"530 Login incorrect.\r\n",
                b"SYST": b"215 UNIX Type: L8\r\n",
                b"FEAT": b"211-Features:\r\n PASV\r\n211 End\r\n",
                b"QUIT": b"221 Goodbye.\r\n",
            }.get(verb, b"530 Please login with USER and PASS.\r\n")
            if not self.send(reply) or verb == b"QUIT":
                return


class SSHHandler(_Handler):
    """Sends an SSH identification and a KEXINIT offer, then ends: enough for ssh2-enum-algos."""

    WEAK: ClassVar[dict[str, str]] = {
        "kex": "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,curve25519-sha256",
        "hostkey": "ssh-rsa,ssh-dss",
        "cipher": "aes128-ctr,3des-cbc,aes128-cbc,arcfour",
        "mac": "hmac-sha2-256,hmac-md5,hmac-sha1-96",
    }
    STRONG: ClassVar[dict[str, str]] = {
        "kex": "curve25519-sha256,curve25519-sha256@libssh.org",
        "hostkey": "ssh-ed25519,rsa-sha2-512",
        "cipher": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
        "mac": "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
    }

    def handle(self) -> None:
        algos = self.STRONG if self.server.spec.options.get("algorithms") == "strong" else self.WEAK
        banner = self.server.spec.options.get("banner", "SSH-2.0-OpenSSH_7.4")
        if not self.send(banner.encode() + b"\r\n"):
            return
        self.recv(256)  # the client's identification

        def name_list(text: str) -> bytes:
            return struct.pack(">I", len(text)) + text.encode()

        payload = bytes([20]) + bytes(range(16))  # SSH_MSG_KEXINIT + cookie
        for text in (
            algos["kex"],
            algos["hostkey"],
            algos["cipher"],
            algos["cipher"],
            algos["mac"],
            algos["mac"],
            "none,zlib@openssh.com",
            "none,zlib@openssh.com",
            "",
            "",
        ):
            payload += name_list(text)
        payload += b"\x00" + b"\x00\x00\x00\x00"
        padding = 8 - ((len(payload) + 5) % 8)
        padding += 8 if padding < 4 else 0
        packet = struct.pack(">IB", len(payload) + padding + 1, padding) + payload + b"\x00" * padding
        self.send(packet)
        self.recv(4096)


class RTSPHandler(_Handler):
    def handle(self) -> None:
        while True:
            request = self.recv()
            if not request:
                return
            cseq = b"1"
            for line in request.split(b"\r\n"):
                if line.lower().startswith(b"cseq:"):
                    cseq = line.split(b":", 1)[1].strip()
            if not request.upper().startswith((b"OPTIONS", b"DESCRIBE", b"SETUP", b"PLAY", b"GET_PARAMETER")):
                self.send(b"RTSP/1.0 400 Bad Request\r\n\r\n")
                return
            self.send(
                b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nServer: DemoCam RTSP 1.0\r\n"
                b"Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE\r\n\r\n"
            )


class VNCHandler(_Handler):
    def handle(self) -> None:
        if self.send(b"RFB 003.008\n") and self.recv(12):
            self.send(b"\x01\x02")  # one security type: VNC authentication
            self.recv()


class MQTTHandler(_Handler):
    def handle(self) -> None:
        data = self.recv()
        if data[:1] == b"\x10":  # CONNECT
            self.send(b"\x20\x02\x00\x00")  # CONNACK, accepted
            self.recv()


class SilentHandler(_Handler):
    """Accepts and says nothing (a port that is open but speaks no protocol we know)."""

    def handle(self) -> None:
        while self.recv():
            pass


class _HTTPHandler(http.server.BaseHTTPRequestHandler):
    server_version = "DemoCam-httpd/2.1"
    sys_version = ""
    page = b"<html><head><title>IP Camera Admin Login</title></head><body>login</body></html>"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


def _camera_http(spec: Spec) -> type[socketserver.BaseRequestHandler]:
    title = spec.options.get("title", "IP Camera Admin Login").encode()

    class Handler(_HTTPHandler):
        page = b"<html><head><title>" + title + b"</title></head><body>login</body></html>"

    return Handler


# ---------------------------------------------------------------------------------------- SNMP
def _ber_len(data: bytes, i: int) -> tuple[int, int]:
    first = data[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    return int.from_bytes(data[i + 1 : i + 1 + n], "big"), i + 1 + n


def _tlv(data: bytes, i: int) -> tuple[int, bytes, int]:
    tag = data[i]
    length, start = _ber_len(data, i + 1)
    return tag, data[start : start + length], start + length


def _enc(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + value


def _int(value: int) -> bytes:
    return _enc(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def _decode_oid(raw: bytes) -> str:
    parts = [raw[0] // 40, raw[0] % 40]
    value = 0
    for b in raw[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


class SNMPAgent(socketserver.ThreadingUDPServer):
    """SNMPv1/v2c GET (and GETNEXT as GET) for the system group, for one community."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.community = spec.options.get("community", "public").encode()
        self.values = {
            "1.3.6.1.2.1.1.1.0": _enc(0x04, b"NTCIP 1202 signal controller TSC-2000 fw 4.2.1"),
            "1.3.6.1.2.1.1.3.0": _enc(0x43, (4213377).to_bytes(4, "big")),
            "1.3.6.1.2.1.1.5.0": _enc(0x04, b"signal-ctl-01"),
        }
        super().__init__((spec.address, spec.port), _SNMPHandler)


class _SNMPHandler(socketserver.BaseRequestHandler):
    server: SNMPAgent

    def handle(self) -> None:
        data, sock = self.request
        try:
            reply = self.answer(data)
        except (IndexError, ValueError):
            return  # not a message we understand: stay silent, as agents do
        if reply:
            sock.sendto(reply, self.client_address)

    def answer(self, data: bytes) -> bytes:
        tag, message, _ = _tlv(data, 0)
        if tag != 0x30:
            return b""
        _, version, i = _tlv(message, 0)
        _, community, i = _tlv(message, i)
        pdu_tag, pdu, _ = _tlv(message, i)
        if (
            int.from_bytes(version, "big") > 1
            or community != self.server.community
            or pdu_tag not in (0xA0, 0xA1)
        ):
            return b""  # SNMPv3, wrong community or not a GET: no answer
        _, request_id, j = _tlv(pdu, 0)
        _, _, j = _tlv(pdu, j)
        _, _, j = _tlv(pdu, j)
        _, bindings, _ = _tlv(pdu, j)
        out, k, error = b"", 0, 0
        while k < len(bindings):
            _, binding, k = _tlv(bindings, k)
            _, oid_raw, _ = _tlv(binding, 0)
            value = self.server.values.get(_decode_oid(oid_raw))
            if value is None:
                error = 2  # noSuchName
                value = b"\x05\x00"
            out += _enc(0x30, _enc(0x06, oid_raw) + value)
        body = _enc(0x02, request_id) + _int(error) + _int(1 if error else 0) + _enc(0x30, out)
        return _enc(0x30, _enc(0x02, version) + _enc(0x04, community) + _enc(0xA2, body))


# ----------------------------------------------------------------------------------------- TLS
def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30"),
            *("-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _tls_context(spec: Spec, folder: Path) -> ssl.SSLContext:
    cert, key = _certificate(folder, f"demo-{spec.address}-{spec.port}")
    with warnings.catch_warnings():  # TLS 1.0 is deprecated: that is the point of this server
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if spec.options.get("tls") == "modern":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("AES128-SHA:NULL-SHA:@SECLEVEL=0")
    ctx.load_cert_chain(cert, key)
    return ctx


class _TLSServer(_TCPServer):
    context: ssl.SSLContext

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        sock.settimeout(10)
        # The handshake happens on first read, in the handler's thread, not in the accept loop.
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


class _TLSHTTPHandler(_HTTPHandler):
    page = b"<html><head><title>City data API</title></head><body>ok</body></html>"


# ------------------------------------------------------------------------------------- running
HANDLERS: dict[str, Callable[[Spec], type[socketserver.BaseRequestHandler]]] = {
    "modbus": lambda s: ModbusHandler,
    "telnet": lambda s: TelnetHandler,
    "ftp": lambda s: FTPHandler,
    "ssh-weak": lambda s: SSHHandler,
    "rtsp": lambda s: RTSPHandler,
    "vnc": lambda s: VNCHandler,
    "mqtt": lambda s: MQTTHandler,
    "camera-http": _camera_http,
    "tls10": lambda s: _TLSHTTPHandler,
    "silent": lambda s: SilentHandler,
}


class Network:
    """Running services; :meth:`stop` shuts every one down and frees its port."""

    def __init__(self) -> None:
        self.servers: list[socketserver.BaseServer] = []
        self.threads: list[threading.Thread] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="secaudit-demo-")

    def add(self, spec: Spec) -> None:
        if not allowed_address(spec.address):
            raise ValueError(
                f"{spec.address} is not a loopback address; the demo never leaves 127.0.0.0/8 and ::1 "
                f"({TEST_NETNS_RANGE} only inside a test's own network namespace)"
            )
        six = ipaddress.ip_address(spec.address).version == 6
        server: socketserver.BaseServer
        if spec.kind == "snmp":
            server = SNMPAgent(spec)
        elif spec.kind == "tls10":
            tls = _TLSServer((spec.address, spec.port), HANDLERS[spec.kind](spec))
            tls.spec = spec
            tls.context = _tls_context(spec, Path(self._tmp.name))
            server = tls
        else:
            tcp = (_TCPServer6 if six else _TCPServer)((spec.address, spec.port), HANDLERS[spec.kind](spec))
            tcp.spec = spec
            server = tcp
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        self.servers.append(server)
        self.threads.append(thread)

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        self.servers.clear()
        self.threads.clear()
        self._tmp.cleanup()


def start(specs: Sequence[Spec]) -> Network:
    """Start every service (all or nothing: a failure stops the ones already started)."""
    network = Network()
    try:
        for spec in specs:
            network.add(spec)
    except BaseException:
        network.stop()
        raise
    return network


def _parse_service(text: str) -> Spec:
    address, port, kind = [*text.split(","), "", ""][:3]
    if kind not in HANDLERS and kind != "snmp":
        raise ValueError(
            f"--service {text!r}: unknown kind {kind!r} (one of {', '.join(sorted(HANDLERS))}, snmp)"
        )
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--service {text!r}: port must be 1-65535")
    ipaddress.ip_address(address)  # ValueError names the bad address
    return Spec(address=address, port=int(port), kind=kind)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--list", action="store_true", help="print the services and exit")
    parser.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="ADDRESS,PORT,KIND",
        help="run this service instead of the demo (repeatable), e.g. 127.20.9.1,23,telnet",
    )
    args = parser.parse_args(argv)
    specs = DEMO
    if args.service:
        try:
            specs = tuple(_parse_service(text) for text in args.service)
        except ValueError as e:
            parser.error(str(e))
    if args.list:
        for spec in specs:
            print(f"{spec.address}:{spec.port}/{spec.proto}\t{spec.kind}\t{spec.plants}")
        return 0
    try:
        network = start(specs)
    except OSError as e:
        print(
            f"demo_net: cannot start a service: {e} (run as root; is another demo running?)", file=sys.stderr
        )
        return 3
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"demo_net: {len(specs)} services up; stop with Ctrl-C or SIGTERM", flush=True)
    stop.wait()
    network.stop()
    print("demo_net: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
