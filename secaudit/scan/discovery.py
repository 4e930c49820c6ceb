"""Active discovery: an ARP sweep of one directly attached, authorized segment (needs root).

The scope guard turns the segment into explicit addresses (exclusions removed, authorization
checked) before anything is sent; only those addresses are asked for. The sweep refuses a
segment the machine does not sit on (ARP does not cross routers: the kernel's route to the
segment must have no gateway). Every attempt, refused ones included, goes to the audit trail.
scapy does the packet work behind :class:`ArpTransport`, imported only when a sweep runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from secaudit.core.errors import OperationalError, ScopeError, UsageError
from secaudit.core.profile import Profile
from secaudit.scope import AuditEntry, AuditTrail, ScopeGuard, current_user

MAX_SWEEP = 4096  # addresses per sweep: a /20 at most


@dataclass(frozen=True, slots=True, kw_only=True)
class ArpHost:
    address: str
    mac: str
    vendor: str = ""
    segment: str = ""


@dataclass
class ArpSweep:
    segment: str
    interface: str
    asked: int
    hosts: list[ArpHost] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # answers from addresses we did not ask for
    duration_s: float = 0.0


class ArpTransport(Protocol):
    def route(self, address: str) -> tuple[str, str]:
        """``(interface, gateway)`` the kernel would use for ``address`` (gateway "" when direct)."""
        ...

    def sweep(self, interface: str, addresses: Sequence[str], timeout_s: float) -> list[tuple[str, str]]:
        """``(address, mac)`` of each ARP reply to requests for ``addresses`` on ``interface``."""
        ...


class ScapyArp:
    """ARP over a raw socket with scapy (root or CAP_NET_RAW)."""

    def route(self, address: str) -> tuple[str, str]:
        import scapy.route  # noqa: PLC0415 (scapy reads routes on import: only when sweeping)
        from scapy.config import conf  # noqa: PLC0415

        assert scapy.route  # the import fills conf.route
        conf.route.resync()
        interface, _src, gateway = conf.route.route(address)
        direct = gateway in ("0.0.0.0", "", None)  # noqa: S104 (scapy's "no gateway", not a bind)
        return str(interface), "" if direct else str(gateway)

    def sweep(self, interface: str, addresses: Sequence[str], timeout_s: float) -> list[tuple[str, str]]:
        from scapy.layers.l2 import ARP, Ether  # noqa: PLC0415 (see route)
        from scapy.sendrecv import srp  # noqa: PLC0415

        answered, _ = srp(
            Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, pdst=list(addresses)),
            iface=interface,
            timeout=timeout_s,
            retry=1,
            verbose=0,
        )
        return [(str(reply.psrc), str(reply.hwsrc).lower()) for _sent, reply in answered]


def arp_sweep(
    profile: Profile,
    segment: str,
    *,
    now: datetime,
    trail: AuditTrail,
    interface: str | None = None,
    timeout_s: float = 2.0,
    transport: ArpTransport | None = None,
    vendor_of: Callable[[str], str] = lambda mac: "",
    who: str = "",
) -> ArpSweep:
    """Ask every in-scope IPv4 address of ``segment`` who has it; return the hosts that answered."""
    who = who or current_user()
    guard = ScopeGuard(profile)
    seg = guard.select_segments([segment])[0]

    def refuse(reason: str) -> None:
        trail.append(
            AuditEntry(
                who=who,
                when=now,
                authorization=profile.authorization.reference,
                argv=("arp-sweep", segment),
                targets=tuple(str(c) for c in seg.cidrs),
                duration_s=0.0,
                result="refused",
                segment=segment,
                detail=reason,
            )
        )

    try:
        plan = guard.segment_plan([segment], now=now)
    except ScopeError as e:
        refuse(e.message)
        raise
    addresses = [str(a.address) for a in plan.addresses if a.address.version == 4]
    if not addresses:
        raise UsageError(f"segment '{segment}' has no IPv4 address to sweep", location=profile.path)
    if len(addresses) > MAX_SWEEP:
        raise UsageError(
            f"segment '{segment}' has {len(addresses)} addresses; an ARP sweep covers at most {MAX_SWEEP}",
            location=profile.path,
            hint="list the used sub-networks of this segment as its CIDRs",
        )
    if os.geteuid() != 0:
        reason = "an ARP sweep sends raw Ethernet frames, which needs root (or CAP_NET_RAW)"
        refuse(reason)
        raise OperationalError(
            reason, hint="run as root, or use `secaudit scan` (connect scans work unprivileged)"
        )
    arp = transport or ScapyArp()
    route_if, gateway = arp.route(addresses[0])
    if gateway:
        reason = (
            f"segment '{segment}' is reached through gateway {gateway}: ARP only works on a local segment"
        )
        refuse(reason)
        raise ScopeError(
            reason + "; nothing was sent", location=profile.path, hint="run the sweep from a host on it"
        )
    iface = interface or route_if
    started = time.monotonic()
    try:
        replies = arp.sweep(iface, addresses, timeout_s)
    except OSError as e:
        raise OperationalError(f"ARP sweep on {iface} failed: {e}", hint="check the interface name") from e
    finally:
        duration = time.monotonic() - started
    asked = set(addresses)
    sweep = ArpSweep(segment=segment, interface=iface, asked=len(addresses), duration_s=duration)
    sweep.coverage = [str(c) for c in seg.cidrs]
    seen: dict[str, ArpHost] = {}
    for address, mac in replies:
        if address not in asked:
            sweep.ignored.append(address)
            continue
        seen.setdefault(address, ArpHost(address=address, mac=mac, vendor=vendor_of(mac), segment=segment))
    sweep.hosts = sorted(seen.values(), key=lambda h: tuple(int(x) for x in h.address.split(".")))
    trail.append(
        AuditEntry(
            who=who,
            when=now,
            authorization=profile.authorization.reference,
            argv=("arp-sweep", segment, iface),
            targets=tuple(addresses),
            duration_s=duration,
            result="completed",
            segment=segment,
            detail=f"{len(sweep.hosts)} of {len(addresses)} addresses answered",
        )
    )
    return sweep
