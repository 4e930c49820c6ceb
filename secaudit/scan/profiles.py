"""Scan profiles and the nmap option allow-list.

nmap is never given a user-supplied argument string. A :class:`ScanProfile` is typed data; the
argv is built from it here and then checked token by token against :data:`ALLOWED_OPTIONS` and
:data:`ALLOWED_SCRIPTS`, so even a hand-built profile cannot smuggle in ``--script-args-file``,
``-oN /etc/...``, ``--datadir`` or an extra target.

Profiles:

- ``ot-safe`` (default for OT and CCTV segments): no version detection (``-sV`` silently runs
  ~44 NSE scripts), no OS detection, only the read-only NSE scripts listed, the ICS ports nmap's
  top-1000 list misses, a slow rate, a probe delay and one probe in flight.
- ``standard``: low TCP ports plus the ICS and common service ports, light version detection and
  a few safe scripts that read TLS, SSH, HTTP and SNMP facts, and snmp-brute with a short fixed
  list of guessable communities (one GET each; not in ``ot-safe``: an OT segment runs it only if
  its profile sets a scan profile that has it).
- ``deep``: every TCP port, full version and OS detection; allowed only inside a maintenance
  window of the authorization (the stage checks the window).
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from secaudit.core.errors import ConfigError
from secaudit.core.profile import SCAN_PROFILES

#: ICS and building-automation ports (TCP) missing from nmap's top-1000 list.
ICS_TCP_PORTS = (102, 502, 1883, 1911, 2404, 4840, 4911, 8883, 20000, 44818)
#: UDP ports of SNMP (NTCIP signal controllers), BACnet/IP and EtherNet/IP implicit messaging.
ICS_UDP_PORTS = (161, 2222, 47808)
#: Management and camera ports worth knowing on any device segment.
MGMT_TCP_PORTS = (21, 22, 23, 80, 139, 443, 445, 554, 3389, 5900, 8000, 8080, 8443, 8554)
#: Common service ports above 1024 that the standard profile adds to 1-1024 (databases, caches,
#: brokers, remote management, web consoles: Grafana 3000, Kibana 5601, Docker 2375/2376,
#: Prometheus 9090/9100, Jenkins and others on 8080/8081).
EXTRA_TCP_PORTS = (
    1433, 1521, 2049, 2375, 2376, 3000, 3306, 5432, 5601, 5900, 5985, 5986, 6379, 8000, 8080, 8081,
    8443, 8554, 9090, 9100, 9200, 11211, 27017,
)  # fmt: skip
#: UDP services a city network exposes by mistake: DNS, NTP, IPMI, SSDP.
SERVICE_UDP_PORTS = (53, 123, 623, 1900)

#: NSE scripts secaudit may run at all. Each only reads: no writes, no brute force, no DoS.
ALLOWED_SCRIPTS = frozenset(
    {
        # ICS identification (read-only requests)
        "modbus-discover",  # Modbus device identification (function 43/14) and slave-id reads
        "s7-info",  # S7comm SZL reads
        "enip-info",  # EtherNet/IP List Identity
        "bacnet-info",  # BACnet ReadProperty of the device object
        "snmp-info",  # SNMPv3 engine discovery (no community needed)
        "snmp-sysdescr",  # one SNMP GET of sysDescr with community "public": proves a default community
        # service facts
        "ssl-enum-ciphers",
        "ssh2-enum-algos",
        "http-headers",
        "http-title",
        "ssl-cert",
        "ftp-anon",
        "smb-protocols",
        "rdp-enum-encryption",
        "vnc-info",
        "rtsp-methods",
        # unauthenticated service facts (each sends the one request a client would, reads the answer)
        "redis-info",  # INFO without a password: answers only when no password is set
        "memcached-info",  # "stats" on the text protocol
        "mqtt-subscribe",  # anonymous CONNECT, then listens to $SYS/# for a few seconds
        "upnp-info",  # one SSDP M-SEARCH, then the device description it points to
        "dns-recursion",  # one recursive A query; reads the RA flag
        # Windows, BMC and time services (each asks what a client's negotiation would)
        "smb2-security-mode",  # one SMB2 negotiate; reads whether signing is required
        "ipmi-version",  # "Get Channel Authentication Capabilities" (RMCP, no login)
        "ntp-info",  # a time request and ntpq's read-variables (mode 6) request; no monlist
        # guessable credentials, read-only: only with the fixed short list of SCRIPT_ARGS
        "snmp-brute",  # one SNMP GET of sysUpTime per community of SNMP_COMMUNITIES_FILE
    }
)

#: The communities snmp-brute tries, one GET each: "public" and the guessable ones beyond it, as
#: data beside this module. "public" is listed because snmp-sysdescr then asks with the community
#: snmp-brute found (so its answer proves "public" only when snmp-brute found that one too; see
#: EXP-SNMP-DEFAULT-COMMUNITY). One community a line, nothing else: snmp-brute would send a
#: comment line as a community too.
SNMP_COMMUNITIES_FILE = Path(__file__).with_name("snmp-communities.txt")
_MAX_COMMUNITIES = 16
_COMMUNITY = re.compile(r"^[A-Za-z0-9_.@-]{1,32}$")


def snmp_communities(path: Path = SNMP_COMMUNITIES_FILE) -> tuple[str, ...]:
    """The communities of ``path``, checked: a short list of plain words, so snmp-brute stays a
    handful of GETs per agent (without the file it would fall back to nmap's own longer list)."""
    if any(c in str(path) for c in ',={}" \n'):
        raise ConfigError(
            "the SNMP community list's path holds a character nmap's --script-args cannot carry",
            location=str(path),
            hint="install secaudit under a path without commas, spaces, quotes, braces or '='",
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"cannot read the SNMP community list: {e.strerror}", location=str(path)) from e
    for number, line in enumerate(lines, 1):
        if not _COMMUNITY.match(line):
            raise ConfigError(
                f"SNMP community {line!r} is not a plain word of 1-32 letters, digits or _.@-",
                location=f"{path}:{number}",
                hint="one community a line, no comments or blank lines",
            )
    if not 0 < len(lines) <= _MAX_COMMUNITIES:
        raise ConfigError(
            f"the SNMP community list holds {len(lines)} communities; 1 to {_MAX_COMMUNITIES} are allowed",
            location=str(path),
        )
    return tuple(lines)


#: The only ``--script-args`` values nmap may get, per script that needs one (as data): a script
#: listed here runs only with its value, so snmp-brute never falls back to nmap's own list.
SCRIPT_ARGS: dict[str, str] = {"snmp-brute": f"snmp-brute.communitiesdb={SNMP_COMMUNITIES_FILE}"}

#: Options and how their value (if any) must look. Nothing else reaches nmap.
_PORTS = re.compile(r"^(?:[TU]:)?\d{1,5}(?:-\d{1,5})?(?:,(?:[TU]:)?\d{1,5}(?:-\d{1,5})?)*$")
_DURATION = re.compile(r"^\d{1,6}(?:ms|s|m)$")
_NUMBER = re.compile(r"^\d{1,6}$")
_SCRIPTS = re.compile(r"^[a-z0-9-]+(?:,[a-z0-9-]+)*$")
ALLOWED_OPTIONS: dict[str, re.Pattern[str] | None] = {
    "-n": None,
    "-6": None,
    "-sS": None,
    "-sT": None,
    "-sU": None,
    "-sV": None,
    "-O": None,
    "-Pn": None,
    "--version-light": None,
    "--reason": None,
    "--noninteractive": None,
    "--unprivileged": None,
    "-T3": None,
    "-T4": None,
    "-p": _PORTS,
    "--script": _SCRIPTS,
    "--script-args": None,  # value: exactly SCRIPT_ARGS of the scripts run; checked separately
    "--max-rate": _NUMBER,
    "--scan-delay": _DURATION,
    "--max-parallelism": _NUMBER,
    "--max-retries": _NUMBER,
    "--host-timeout": _DURATION,
    "--script-timeout": _DURATION,
    "--max-hostgroup": _NUMBER,
    # host discovery, run on its own before the port scan (see build_discovery_args)
    "-sn": None,
    "-PE": None,
    "-PR": None,
    "--initial-rtt-timeout": _DURATION,
    "--max-rtt-timeout": _DURATION,
    "-iL": None,  # value is a path we wrote; checked separately
    "--excludefile": None,  # idem
}
_PATH_OPTIONS = ("-iL", "--excludefile")
_VALUE_OPTIONS = (*_PATH_OPTIONS, "--script-args")
#: Options whose value is written in the same token (``-PS80,443``): TCP SYN ping to ports.
_ATTACHED: dict[str, re.Pattern[str]] = {"-PS": re.compile(r"^\d{1,5}(?:,\d{1,5}){0,15}$")}


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanProfile:
    name: str
    tcp_ports: str  # nmap port spec without T:/U: prefixes, e.g. "1-1024,1883"
    udp_ports: str = ""
    version_detection: bool = False
    version_light: bool = False
    os_detection: bool = False
    scripts: tuple[str, ...] = ()
    timing: str = ""  # "-T3" / "-T4" / ""
    max_rate: int = 0  # packets per second, 0: nmap decides
    scan_delay: str = ""  # e.g. "50ms"
    max_parallelism: int = 0
    max_retries: int = 2
    host_timeout: str = "10m"
    script_timeout: str = "30s"
    needs_maintenance_window: bool = False
    #: nmap writes (and flushes) results one host group at a time: small groups mean a stopped
    #: scan (end of authorization, timeout, Ctrl-C) keeps more of what it already scanned.
    max_hostgroup: int = 0
    #: Host discovery on a routed segment: ICMP echo (root only) and TCP SYN to these ports, and
    #: nothing else (nmap's default adds an ACK to port 80 and an ICMP timestamp request).
    #: Empty: nmap's default probes. On a local segment (no gateway) nmap asks by ARP instead.
    ping_tcp_ports: tuple[int, ...] = ()

    def with_timing(self, **changes: object) -> ScanProfile:
        """A copy with other pacing (tests and benchmarks); the allow-list still applies."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _ports(numbers: Sequence[int]) -> str:
    return ",".join(str(p) for p in sorted(set(numbers)))


PROFILES: dict[str, ScanProfile] = {
    "ot-safe": ScanProfile(
        name="ot-safe",
        tcp_ports=_ports(ICS_TCP_PORTS + MGMT_TCP_PORTS),
        udp_ports=_ports(ICS_UDP_PORTS),
        scripts=("modbus-discover", "s7-info", "enip-info", "bacnet-info", "snmp-info", "snmp-sysdescr"),
        max_rate=20,
        scan_delay="50ms",
        max_parallelism=1,
        max_retries=1,
        host_timeout="5m",
        script_timeout="20s",
        max_hostgroup=4,  # one probe in flight anyway: small groups cost nothing and stream results
        ping_tcp_ports=(80, 102, 443, 502, 44818),  # ports this profile scans anyway
    ),
    "standard": ScanProfile(
        name="standard",
        tcp_ports="1-1024," + _ports(ICS_TCP_PORTS + EXTRA_TCP_PORTS),
        udp_ports=_ports(ICS_UDP_PORTS + SERVICE_UDP_PORTS),
        version_detection=True,
        version_light=True,
        scripts=(
            "ssl-enum-ciphers",
            "ssl-cert",
            "ssh2-enum-algos",
            "http-headers",
            "http-title",
            "snmp-info",
            "snmp-sysdescr",
            "snmp-brute",
            "ftp-anon",
            "vnc-info",
            "redis-info",
            "memcached-info",
            "mqtt-subscribe",
            "upnp-info",
            "dns-recursion",
            "smb-protocols",
            "smb2-security-mode",
            "rdp-enum-encryption",
            "ipmi-version",
            "ntp-info",
        ),
        timing="-T4",
        max_retries=2,
        host_timeout="10m",
        max_hostgroup=32,
    ),
    "deep": ScanProfile(
        name="deep",
        tcp_ports="1-65535",
        udp_ports=_ports((*ICS_UDP_PORTS, 53, 69, 123, 500, 623, 1900, 5353)),
        version_detection=True,
        os_detection=True,
        scripts=tuple(sorted(ALLOWED_SCRIPTS)),
        timing="-T4",
        max_retries=2,
        host_timeout="30m",
        script_timeout="60s",
        needs_maintenance_window=True,
        max_hostgroup=4,
    ),
}
assert set(PROFILES) == set(SCAN_PROFILES)


def get_profile(name: str) -> ScanProfile:
    try:
        return PROFILES[name]
    except KeyError as e:
        raise ConfigError(
            f"unknown scan profile '{name}'", hint=f"use one of: {', '.join(sorted(PROFILES))}"
        ) from e


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The nmap arguments for one invocation and what was left out and why."""

    args: tuple[str, ...]
    notes: tuple[str, ...] = ()


def build_args(
    profile: ScanProfile,
    *,
    targets_file: Path,
    exclude_file: Path | None,
    ipv6: bool,
    privileged: bool,
    discovered: bool = False,
) -> Plan:
    """nmap arguments (without the binary and python-nmap's ``-oX -``) for one scan.
    ``discovered``: the targets are hosts a discovery run found up (no second discovery)."""
    notes: list[str] = []
    args: list[str] = ["-n", "--reason", "--noninteractive"]  # -n: never send DNS queries
    if ipv6:
        args.append("-6")
    if discovered:
        args.append("-Pn")
    udp = profile.udp_ports
    if privileged:
        args.append("-sS")
        if udp:
            args.append("-sU")
    else:
        args += ["-sT", "--unprivileged"]
        if udp:
            notes.append(f"UDP ports {udp} not scanned: UDP scans need root (or CAP_NET_RAW); run as root")
            udp = ""
    if profile.version_detection:
        args.append("-sV")
        if profile.version_light:
            args.append("--version-light")
    if profile.os_detection:
        if privileged:
            args.append("-O")
        else:
            notes.append("OS detection skipped: it needs root (raw packets); run as root")
    ports = f"T:{profile.tcp_ports}" + (f",U:{udp}" if udp else "")
    args += ["-p", ports]
    if profile.scripts:
        args += ["--script", ",".join(profile.scripts), "--script-timeout", profile.script_timeout]
        script_args = [SCRIPT_ARGS[s] for s in profile.scripts if s in SCRIPT_ARGS]
        if script_args:
            if "snmp-brute" in profile.scripts:
                snmp_communities()  # a broken list is a configuration error before any packet
            args += ["--script-args", ",".join(script_args)]
    if profile.timing:
        args.append(profile.timing)
    if profile.max_rate:
        args += ["--max-rate", str(profile.max_rate)]
    if profile.scan_delay:
        args += ["--scan-delay", profile.scan_delay]
    if profile.max_parallelism:
        args += ["--max-parallelism", str(profile.max_parallelism)]
    args += ["--max-retries", str(profile.max_retries), "--host-timeout", profile.host_timeout]
    if profile.max_hostgroup:
        args += ["--max-hostgroup", str(profile.max_hostgroup)]
    args += ["-iL", str(targets_file)]
    if exclude_file is not None:
        args += ["--excludefile", str(exclude_file)]
    check_args(args)
    return Plan(args=tuple(args), notes=tuple(notes))


#: Round-trip timeouts of the discovery run on a segment the scanner sits on: an ARP answer
#: comes within milliseconds there, and nmap's default (1 s to begin with, one probe in flight on
#: OT segments) spent most of an OT segment's time waiting for addresses nobody holds.
LOCAL_RTT = ("--initial-rtt-timeout", "100ms", "--max-rtt-timeout", "250ms")


def build_discovery_args(
    profile: ScanProfile,
    *,
    targets_file: Path,
    exclude_file: Path | None,
    ipv6: bool,
    privileged: bool,
    local: bool,
) -> Plan:
    """nmap arguments for host discovery alone (``-sn``), paced like the profile's port scan.

    The stage runs it before the port scan and then scans only the hosts found up (``-Pn``),
    so host groups hold live hosts only. ``local``: the segment is on a link of the scanner
    (ARP, short timeouts); otherwise only the probes the profile names (``ping_tcp_ports``)."""
    args: list[str] = ["-n", "--reason", "--noninteractive"]
    if ipv6:
        args.append("-6")
    args.append("-sn")
    if local and privileged and not ipv6:
        args.append("-PR")
        args += LOCAL_RTT
    elif profile.ping_tcp_ports:
        if privileged:
            args.append("-PE")
        args.append("-PS" + ",".join(str(p) for p in profile.ping_tcp_ports))
    if not privileged:
        args.append("--unprivileged")
    if profile.timing:
        args.append(profile.timing)
    if profile.max_rate:
        args += ["--max-rate", str(profile.max_rate)]
    if profile.scan_delay:
        args += ["--scan-delay", profile.scan_delay]
    args += ["--max-retries", str(profile.max_retries)]
    args += ["-iL", str(targets_file)]
    if exclude_file is not None:
        args += ["--excludefile", str(exclude_file)]
    check_args(args)
    return Plan(args=tuple(args))


def check_args(args: Sequence[str]) -> None:
    """Refuse any token outside the allow-list (defence in depth: :func:`build_args` made them)."""
    i = 0
    while i < len(args):
        option = args[i]
        attached = next((o for o in _ATTACHED if option.startswith(o) and option != o), "")
        if attached:
            if not _ATTACHED[attached].match(option[len(attached) :]):
                raise ConfigError(f"value of nmap option {option!r} is not allowed")
            i += 1
            continue
        if option not in ALLOWED_OPTIONS:
            raise ConfigError(
                f"nmap option {option!r} is not allowed", hint="scan options come from scan profiles"
            )
        pattern = ALLOWED_OPTIONS[option]
        takes_value = pattern is not None or option in _VALUE_OPTIONS
        if takes_value:
            if i + 1 >= len(args):
                raise ConfigError(f"nmap option {option} needs a value")
            value = args[i + 1]
            if pattern is not None and not pattern.match(value):
                raise ConfigError(f"value {value!r} of nmap option {option} is not allowed")
            if option == "--script":
                bad = sorted(set(value.split(",")) - ALLOWED_SCRIPTS)
                if bad:
                    raise ConfigError(
                        f"NSE script(s) {', '.join(bad)} not in the read-only allow-list",
                        hint=f"allowed: {', '.join(sorted(ALLOWED_SCRIPTS))}",
                    )
            if option in _PATH_OPTIONS and (value.startswith("-") or "\n" in value):
                raise ConfigError(f"path {value!r} for {option} is not allowed")
            i += 2
        else:
            i += 1
    _check_script_args(args)


def _check_script_args(args: Sequence[str]) -> None:
    """``--script-args`` at most once, and exactly the :data:`SCRIPT_ARGS` of the scripts run
    (given whenever one of them runs)."""
    scripts: list[str] = []
    given: list[str] = []
    for option, value in itertools.pairwise(args):
        if option == "--script":
            scripts += value.split(",")
        elif option == "--script-args":
            given.append(value)
    wanted = [SCRIPT_ARGS[s] for s in scripts if s in SCRIPT_ARGS]
    if len(given) > 1 or (given and given[0] != ",".join(wanted)) or (wanted and not given):
        raise ConfigError(
            f"nmap --script-args {given[0] if given else '(none)'!r} is not the one allowed for the "
            f"scripts run ({', '.join(wanted) or 'none'})",
            hint="script arguments come from SCRIPT_ARGS in secaudit/scan/profiles.py",
        )


def args_string(args: Sequence[str]) -> str:
    """The argument string python-nmap splits back into exactly ``args``."""
    return shlex.join(args)
