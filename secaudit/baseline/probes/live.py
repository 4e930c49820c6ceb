"""Live-only probes: command output, running processes, the running kernel's parameters and the
OpenSSH server's effective settings (``sshd -T``). They run on ``local`` and ``ssh`` targets;
on an offline root or a config dump the engine reports them "not applicable" with the reason."""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import LIVE, Param, probe
from secaudit.baseline.probes.sshd import ALIASES, _normalize
from secaudit.baseline.target import COMMAND_TIMEOUT, CommandNotFound, NotApplicable, ProbeError, Target

SSHD_CONFIG = "/etc/ssh/sshd_config"


def _timeout(p: Mapping[str, Any]) -> float:
    value = p.get("timeout", int(COMMAND_TIMEOUT))
    if not isinstance(value, int) or not 1 <= value <= 600:
        raise ProbeError(f"timeout must be 1-600 seconds, got {value!r}")
    return float(value)


@probe(
    "command",
    targets=LIVE,
    params=(
        Param(name="argv", type=list, required=True),
        Param(name="regex", type=str, default=""),
        Param(name="value", type=str, default="stdout", choices=("stdout", "status")),
        Param(name="timeout", type=int, default=int(COMMAND_TIMEOUT)),
    ),
)
def command(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Run ``argv`` (a fixed list of words, never a shell). ``value: status`` observes the exit
    status; else each output line matching ``regex`` (value: its first capture group, else the line),
    one unset observation when none match; without ``regex`` the whole output, stripped."""
    argv = [str(a) for a in p["argv"]]
    result = target.run(argv, timeout=_timeout(p))
    shown = result.shown
    attrs = (("status", str(result.status)),)
    if p.get("value") == "status":
        return [Observation(subject=shown, value=str(result.status), file=shown, attrs=attrs)]
    regex = p.get("regex", "")
    if not regex:
        return [Observation(subject=shown, value=result.stdout.strip(), file=shown, attrs=attrs)]
    rx = re.compile(regex, re.IGNORECASE)
    out = []
    for number, line in enumerate(result.stdout.splitlines(), 1):
        m = rx.search(line)
        if m:
            value = m.group(1) if rx.groups and m.group(1) is not None else m.group(0)
            out.append(Observation(subject=shown, value=value.strip(), file=shown, line=number, attrs=attrs))
    return out or [
        Observation(subject=shown, value=None, file=shown, note="no matching output line", attrs=attrs)
    ]


def _processes(target: Target) -> list[tuple[int, str, str]]:
    """(pid, comm, command line) of every process, read from the target's /proc."""

    def build() -> list[tuple[int, str, str]]:
        names = target.listdir("/proc")
        if names is None:
            raise NotApplicable("the target has no /proc: not a running Linux system")
        out = []
        for name in names:
            if not name.isdigit():
                continue
            try:
                comm = (target.read_bytes(f"/proc/{name}/comm") or b"").decode(errors="replace").strip()
                raw = target.read_bytes(f"/proc/{name}/cmdline") or b""
            except ProbeError:
                continue  # the process ended, or belongs to someone we may not look at
            if not comm:
                continue
            args = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
            out.append((int(name), comm, args or f"[{comm}]"))
        return out

    return target.memo("processes", build)


@probe(
    "process",
    targets=LIVE,
    params=(Param(name="name", type=str, required=True), Param(name="regex", type=str, default="")),
)
def process(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Running processes whose name (``/proc/PID/comm``, or the base name of the program) is
    ``name`` and, when ``regex`` is given, whose command line matches it; value is the command
    line. One unset observation ("not running") when there is none."""
    name = p["name"]
    rx = re.compile(p["regex"]) if p.get("regex") else None
    out = []
    for pid, comm, args in _processes(target):
        program = posixpath.basename(args.split(" ", 1)[0]) if args else ""
        if name not in {comm, program} and not (len(name) > 15 and name[:15] == comm):
            continue
        if rx is not None and not rx.search(args):
            continue
        out.append(
            Observation(subject=name, value=args, file=f"/proc/{pid}/cmdline", attrs=(("pid", str(pid)),))
        )
    return out or [Observation(subject=name, value=None, file="/proc", note="not running")]


@probe("sysctl_running", targets=LIVE, params=(Param(name="key", type=str, required=True),))
def sysctl_running(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The running kernel's value of a parameter, read from ``/proc/sys`` (whitespace between
    several numbers becomes one space); unset when the kernel has no such parameter."""
    key = p["key"].replace("/", ".")
    if ".." in key or key.startswith("."):
        raise ProbeError(f"'{key}' is not a kernel parameter name")
    if target.info("/proc/sys") is None:
        raise NotApplicable("the target has no /proc/sys: not a running Linux system")
    path = "/proc/sys/" + key.replace(".", "/")
    text = target.read_text(path)
    if text is None:
        return [
            Observation(subject=key, value=None, file=path, note="no such parameter on the running kernel")
        ]
    return [Observation(subject=key, value=" ".join(text.split()), file=path, note="running kernel")]


def _sshd_t(target: Target, config: str, connection: str) -> dict[str, list[str]]:
    def build() -> dict[str, list[str]]:
        argv = ["sshd", "-T"]
        if config:
            argv += ["-f", config]
        if connection:
            argv += ["-C", connection]
        try:
            result = target.run(argv)
        except CommandNotFound as e:
            raise NotApplicable(f"no OpenSSH server on the target ({e})") from e
        if result.status != 0:
            first = (result.stderr.strip().splitlines() or ["no message"])[0]
            raise ProbeError(f"'{result.shown}' failed (exit {result.status}): {first}")
        values: dict[str, list[str]] = {}
        for line in result.stdout.splitlines():
            keyword, _, value = line.strip().partition(" ")
            if keyword:
                values.setdefault(keyword.lower(), []).append(value.strip())
        if not values:
            raise ProbeError(f"'{result.shown}' printed no settings")
        return values

    return target.memo(("sshd-T", config, connection), build)


@probe(
    "sshd_effective",
    targets=LIVE,
    params=(
        Param(name="setting", type=str, required=True),
        Param(name="config", type=str, default=""),
        Param(name="connection", type=str, default=""),
    ),
)
def sshd_effective(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The OpenSSH server's effective value of one keyword as ``sshd -T`` prints it (so every
    Include, default and, with ``connection`` like ``user=root,host=h,addr=10.0.0.1``, the Match
    blocks that apply are taken into account). ``config`` audits another sshd_config than the
    default. Unset when sshd -T does not print the keyword."""
    keyword = ALIASES.get(p["setting"].lower(), p["setting"].lower())
    config = p.get("config", "")
    values = _sshd_t(target, config, p.get("connection", ""))
    where = config or SSHD_CONFIG
    if keyword not in values:
        return [Observation(subject=keyword, value=None, file=where, note="not printed by sshd -T")]
    value = " ".join(values[keyword])
    return [
        Observation(subject=keyword, value=_normalize(keyword, value), file=where, note="effective (sshd -T)")
    ]


# /proc/net socket tables: protocol -> (file, the state a listening socket has there). An unbound
# UDP socket that ``ss -uln`` lists shows as state 07 (closed, i.e. not connected).
_SOCKET_TABLES = {
    4: (("tcp", "/proc/net/tcp", "0A"), ("udp", "/proc/net/udp", "07")),
    6: (("tcp", "/proc/net/tcp6", "0A"), ("udp", "/proc/net/udp6", "07")),
}
_RULE_PORTS = re.compile(r"(?:--dports?|--destination-ports?|\bdpts?:)\s*([0-9][0-9,:]*)")


def _socket_address(field: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """``0100007F:0016`` -> (127.0.0.1, 22): the kernel prints each 32-bit word of the address in
    host byte order (little-endian on x86-64 and arm64)."""
    raw, _, port = field.partition(":")
    data = bytes.fromhex(raw)
    words = b"".join(data[i : i + 4][::-1] for i in range(0, len(data), 4))
    addr = ipaddress.IPv4Address(words) if len(words) == 4 else ipaddress.IPv6Address(words)
    return addr, int(port, 16)


def _loopback(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or (mapped is not None and mapped.is_loopback)


@probe(
    "ports_without_rule",
    targets=LIVE,
    params=(
        Param(name="rules", type=str, required=True),
        Param(name="family", type=str, default="any", choices=("4", "6", "any")),
    ),
)
def ports_without_rule(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Listening ports on a non-loopback address (from the running kernel's /proc/net tables, as
    ``ss -tuln`` lists them) that no rule in the saved firewall rules ``rules`` (a path or glob:
    ufw's user.rules, iptables-persistent's rules.v4) names as a destination port. Value: the
    protocol/port and the address it listens on; one unset observation when every port has a rule."""
    families = (4, 6) if p.get("family", "any") == "any" else (int(p["family"]),)
    rule_files = target.glob(p["rules"]) if any(ch in p["rules"] for ch in "*?[") else [p["rules"]]
    covered: set[int] = set()
    read = []
    for path in rule_files:
        text = target.read_text(path)
        if text is None:
            continue
        read.append(path)
        for spec in _RULE_PORTS.findall(text):
            for part in spec.split(","):
                low, _, high = part.partition(":")
                if low.isdigit():
                    covered.update(range(int(low), int(high or low) + 1))
    listening: dict[tuple[str, int], str] = {}
    tables = 0
    for family in families:
        for proto, table, state in _SOCKET_TABLES[family]:
            text = target.read_text(table)
            if text is None:
                continue
            tables += 1
            for line in text.splitlines()[1:]:
                fields = line.split()
                if len(fields) < 4 or fields[3] != state:
                    continue
                addr, port = _socket_address(fields[1])
                if not _loopback(addr):
                    listening.setdefault((proto, port), str(addr))
    if tables == 0:
        raise NotApplicable("the target has no /proc/net socket tables: not a running Linux system")
    where = ", ".join(read) or p["rules"]
    out = [
        Observation(
            subject=f"{proto}/{port} on {addr}",
            value=f"{proto}/{port}",
            file=where,
            note=f"listening on {addr}; no rule names port {port}",
        )
        for (proto, port), addr in sorted(listening.items())
        if port not in covered
    ]
    return out or [
        Observation(subject="open ports", value=None, file=where, note="every listening port has a rule")
    ]
