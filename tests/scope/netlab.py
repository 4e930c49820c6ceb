"""A test-made network: a scanner namespace and a target namespace joined by one veth pair.

Addresses come from 10.213.0.0/16 and exist only inside the two namespaces; neither has a
default route, so nothing can leave them. Services in the target namespace are
samples/demo_net.py (which accepts 10.213.x.y only when it runs inside such a namespace).
:meth:`NetLab.capture` runs tcpdump on the target's interface. Everything is removed on
:meth:`NetLab.close`, which the fixtures call even when a test fails.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
SECAUDIT = REPO / ".venv" / "bin" / "secaudit"


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True, text=True)


@dataclass
class Capture:
    """A finished tcpdump capture: the pcap file and the packets read back with scapy."""

    path: Path

    control_at: float = 0.0  # when the control ping was sent (see NetLab.control)

    def packets(self) -> list:  # type: ignore[type-arg]
        import scapy.layers.inet  # registers IP (and imports scapy.layers.l2)
        import scapy.layers.l2  # noqa: F401 (registers Ethernet and ARP for rdpcap)
        from scapy.utils import rdpcap

        return list(rdpcap(str(self.path))) if self.path.stat().st_size > 24 else []


@dataclass
class NetLab:
    tag: str
    octet: int
    scanner_ns: str = field(init=False)
    target_ns: str = field(init=False)
    scanner_if: str = field(init=False)
    target_if: str = field(init=False)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.scanner_ns, self.target_ns = f"sa-{self.tag}-scan", f"sa-{self.tag}-tgt"
        self.scanner_if, self.target_if = f"sa{self.tag}s", f"sa{self.tag}t"

    def address(self, host: int) -> str:
        return f"10.213.{self.octet}.{host}"

    @property
    def subnet(self) -> str:
        return f"10.213.{self.octet}.0/24"

    # -- building and removing ---------------------------------------------------------------
    def build(self, target_hosts: Sequence[int]) -> None:
        for ns in (self.scanner_ns, self.target_ns):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            # No IPv6 on the veth: no router solicitations or DAD noise in the captures.
            self.run(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            self.run(ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        _ip(
            "link", "add", self.scanner_if, "netns", self.scanner_ns,
            "type", "veth", "peer", "name", self.target_if, "netns", self.target_ns,
        )  # fmt: skip
        _ip("-n", self.scanner_ns, "addr", "add", f"{self.address(1)}/24", "dev", self.scanner_if)
        for host in target_hosts:
            _ip("-n", self.target_ns, "addr", "add", f"{self.address(host)}/24", "dev", self.target_if)
        for ns, dev in ((self.scanner_ns, self.scanner_if), (self.target_ns, self.target_if)):
            _ip("-n", ns, "link", "set", dev, "up")
        time.sleep(0.3)

    def close(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self.processes.clear()
        for ns in (self.scanner_ns, self.target_ns):
            with suppress(subprocess.CalledProcessError):
                _ip("netns", "del", ns)

    # -- running things inside ---------------------------------------------------------------
    def run(self, ns: str, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=timeout, check=False
        )

    def secaudit(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """The real CLI, run inside the scanner namespace."""
        env = dict(os.environ, NO_COLOR="1")
        return subprocess.run(
            ["ip", "netns", "exec", self.scanner_ns, str(SECAUDIT), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )

    def serve(self, services: Sequence[str]) -> None:
        """Start demo_net services (``ADDRESS,PORT,KIND``) in the target namespace."""
        argv = [str(PYTHON), str(REPO / "samples" / "demo_net.py")]
        for service in services:
            argv += ["--service", service]
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.target_ns, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.processes.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if "services up" not in line:
            proc.wait(timeout=5)
            raise RuntimeError(
                f"demo_net did not start: {line} {proc.stderr.read().decode() if proc.stderr else ''}"
            )

    def control(self, capture: Capture) -> None:
        """A UDP datagram from the scanner to .2 port 9 (discard): proves the capture works when a
        test expects silence."""
        capture.control_at = time.time()
        send = f"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'control', ('{self.address(2)}', 9))"
        done = self.run(self.scanner_ns, python(), "-c", send)
        assert done.returncode == 0, done.stderr

    @contextmanager
    def capture(self, path: Path) -> Iterator[Capture]:
        """tcpdump on the target namespace's interface while the block runs.

        The neighbour tables are flushed first: the kernel re-validates a neighbour it talked to
        in an earlier test with ARP probes a few seconds later, which would show up here.
        """
        for ns, dev in ((self.scanner_ns, self.scanner_if), (self.target_ns, self.target_if)):
            _ip("-n", ns, "neigh", "flush", "dev", dev)
        time.sleep(0.2)
        proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.target_ns,
                "tcpdump",
                "-i",
                self.target_if,
                "-n",
                "--immediate-mode",  # else packets wait in the kernel buffer and a stop loses them
                # Immediate mode uses fixed-size ring slots of the snapshot length: 256 bytes (headers
                # and the drain marker) times 65,000 slots holds a scan's burst while tcpdump waits for
                # a core; the default 262,144-byte slots fit 8 packets in 2 MiB, and a busy machine
                # dropped hundreds.
                "-s",
                "256",
                "-B",
                "16384",  # KiB
                "-U",
                "-w",
                str(path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.processes.append(proc)
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()  # "tcpdump: listening on ..." once it captures
        if "listening on" not in line:
            raise RuntimeError(f"tcpdump did not start: {line}")
        try:
            yield Capture(path)
        finally:
            time.sleep(0.5)  # late answers and retransmissions
            self._drain(path)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
            summary = proc.stderr.read().decode()
            dropped = re.search(r"(\d+) packets? dropped by kernel", summary)
            if dropped is None or int(dropped.group(1)):
                raise AssertionError(f"tcpdump lost packets, the capture proves nothing: {summary}")

    def _drain(self, path: Path) -> None:
        """Wait until tcpdump has written everything sent so far. A busy machine may leave it behind
        the wire, and SIGINT would drop what it has not read yet: a marker datagram broadcast from the
        target namespace (not from the scanner: tests count the scanner's packets; a broadcast needs
        no ARP) must appear in the file first."""
        marker = f"secaudit-capture-drain-{time.monotonic_ns()}".encode()
        broadcast = self.address(255)
        send = (
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1); "
            f"s.sendto({marker!r}, ('{broadcast}', 9))"
        )
        done = self.run(self.target_ns, python(), "-c", send)
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 60
        while marker not in path.read_bytes():
            if time.monotonic() > deadline:
                raise AssertionError("tcpdump did not write the drain marker within 60 s")
            time.sleep(0.1)


def make_lab(target_hosts: Sequence[int]) -> NetLab:
    if os.geteuid() != 0:
        raise PermissionError("network namespaces need root")
    lab = NetLab(tag=f"{os.getpid() % 100000:05d}", octet=os.getpid() % 250 + 1)
    try:
        lab.build(target_hosts)
    except BaseException:
        lab.close()
        raise
    return lab


def python() -> str:
    return str(PYTHON if PYTHON.exists() else Path(sys.executable))
