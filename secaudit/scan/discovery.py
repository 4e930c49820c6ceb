"""Active discovery: an ARP sweep of one directly attached, authorized segment (needs root).

The scope guard turns the segment into explicit addresses (exclusions removed, authorization
checked) before anything is sent; only those addresses are asked for. The sweep refuses a
segment the machine does not sit on (ARP does not cross routers: the kernel's route to the
segment must have no gateway), and an ``interface`` that is not the one the kernel's route to
the segment uses. Requests are paced like the segment's scan profile (``ot-safe``: at most 20
per second) and the sweep is cut to what fits before the authorization ends. Every attempt,
refused ones included, goes to the audit trail. scapy does the packet work behind
:class:`ArpTransport`, imported only when a sweep runs.
"""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from secaudit.core.errors import OperationalError, ScopeError, UsageError
from secaudit.core.profile import Profile
from secaudit.scan.profiles import PROFILES
from secaudit.scope import AuditEntry, AuditTrail, ScopeGuard, current_user
from secaudit.scope.guard import RENEW_HINT

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
    interval_s: float = 0.0  # pause between two requests (the scan profile's rate)
    stopped: str = ""  # why the sweep asked fewer than all addresses ("" when it asked all)


class ArpTransport(Protocol):
    def route(self, address: str) -> tuple[str, str]:
        """``(interface, gateway)`` the kernel would use for ``address`` (gateway "" when direct)."""
        ...

    def sweep(
        self,
        interface: str,
        addresses: Sequence[str],
        timeout_s: float,
        *,
        interval_s: float,
        retries: int,
        stop_at: float = math.inf,
    ) -> tuple[list[tuple[str, str]], list[str]]:
        """``(address, mac)`` of each ARP reply to requests for ``addresses`` on ``interface``,
        one request every ``interval_s`` seconds, unanswered ones asked ``retries`` times more;
        and the addresses asked. No request leaves after ``stop_at`` (``time.monotonic()``),
        however slowly the machine sends: the addresses not reached by then are not asked."""
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

    def sweep(
        self,
        interface: str,
        addresses: Sequence[str],
        timeout_s: float,
        *,
        interval_s: float,
        retries: int,
        stop_at: float = math.inf,
    ) -> tuple[list[tuple[str, str]], list[str]]:
        # Each request is sent by us, on our own clock, so a slow machine stretches the sweep
        # but never sends past ``stop_at``; a sniffer started first collects the replies.
        from scapy.config import conf  # noqa: PLC0415 (see route)
        from scapy.layers.l2 import ARP, Ether  # noqa: PLC0415
        from scapy.sendrecv import AsyncSniffer  # noqa: PLC0415

        replies: dict[str, str] = {}

        def keep(packet: object) -> None:
            arp = packet[ARP]  # type: ignore[index]
            replies.setdefault(str(arp.psrc), str(arp.hwsrc).lower())

        sniffer = AsyncSniffer(
            iface=interface,
            store=False,
            lfilter=lambda p: ARP in p and p[ARP].op == 2,
            prn=keep,
        )
        sniffer.start()
        time.sleep(0.2)  # the sniffer's socket is open before the first request
        sock = conf.L2socket(iface=interface)
        asked: list[str] = []
        try:
            pending = list(addresses)
            for _round in range(1 + retries):
                next_at = time.monotonic()
                for address in pending:
                    now = time.monotonic()
                    if now < next_at:
                        time.sleep(next_at - now)
                    if time.monotonic() >= stop_at:
                        break
                    sock.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, pdst=address))
                    if _round == 0:
                        asked.append(address)
                    next_at = max(next_at + interval_s, time.monotonic())
                time.sleep(timeout_s)  # late replies (listening is not sending)
                pending = [a for a in asked if a not in replies]
                if not pending or time.monotonic() >= stop_at:
                    break
        finally:
            sock.close()
            sniffer.stop()
        return list(replies.items()), asked


def _pace(scan_profile: str) -> float:
    """Seconds between two ARP requests: the scan profile's packet rate (0: not limited)."""
    profile = PROFILES.get(scan_profile)
    return 1.0 / profile.max_rate if profile is not None and profile.max_rate else 0.0


def arp_sweep(
    profile: Profile,
    segment: str,
    *,
    now: datetime,
    trail: AuditTrail,
    interface: str | None = None,
    timeout_s: float = 1.0,
    transport: ArpTransport | None = None,
    vendor_of: Callable[[str], str] = lambda mac: "",
    who: str = "",
    margin_s: float = 1.0,
) -> ArpSweep:
    """Ask every in-scope IPv4 address of ``segment`` who has it; return the hosts that answered.

    The last request leaves at least ``margin_s`` before the authorization ends: when the whole
    sweep would not fit, only the addresses that fit are asked and ``stopped`` says why.
    """
    started = time.monotonic()
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
    firsts = [next((a for a in addresses if ipaddress.ip_address(a) in net), "") for net in seg.cidrs]
    routes = {arp.route(a) for a in firsts if a}
    for _route_if, gateway in sorted(routes):
        if gateway:
            reason = (
                f"segment '{segment}' is reached through gateway {gateway}: ARP only works on a local segment"
            )
            refuse(reason)
            raise ScopeError(
                reason + "; nothing was sent", location=profile.path, hint="run the sweep from a host on it"
            )
    route_ifs = sorted({r[0] for r in routes})
    if interface and route_ifs != [interface]:
        reason = (
            f"interface {interface} does not carry the route to segment '{segment}' "
            f"(the kernel reaches it through {', '.join(route_ifs)}): "
            "ARP requests there would go onto another link"
        )
        refuse(reason)
        raise ScopeError(
            reason + "; nothing was sent",
            location=profile.path,
            hint=f"leave out --interface, or name {', '.join(route_ifs)}",
        )
    if len(route_ifs) != 1:
        reason = f"segment '{segment}' is reached through several interfaces ({', '.join(route_ifs)})"
        refuse(reason)
        raise ScopeError(
            reason + "; nothing was sent",
            location=profile.path,
            hint="split the segment so each of its CIDRs lies on one link",
        )
    iface = route_ifs[0]
    pace = _pace(seg.scan_profile)
    retries = 1
    # Cut the sweep to what fits before the authorization ends (each round: the requests,
    # paced, then the wait for late answers; unanswered addresses are asked again once).
    elapsed = time.monotonic() - started
    left = (profile.authorization.valid_until - now).total_seconds() - elapsed - margin_s
    per_round = left / (1 + retries) - timeout_s
    fit = len(addresses) if pace == 0 else max(0, int(per_round / pace) + 1) if per_round >= 0 else 0
    stopped = ""
    if per_round < 0 or fit == 0:
        reason = (
            f"authorization {profile.authorization.reference} ends at "
            f"{profile.authorization.valid_until.isoformat()}: no time left for an ARP sweep"
        )
        refuse(reason)
        raise ScopeError(reason + "; nothing was sent", location=profile.path, hint=RENEW_HINT)
    planned = list(addresses)
    if fit < len(addresses):
        stopped = (
            f"only {fit} of {len(addresses)} addresses asked: authorization "
            f"{profile.authorization.reference} ends at {profile.authorization.valid_until.isoformat()}"
        )
        addresses = addresses[:fit]
    sweep_started = time.monotonic()
    try:
        # Planned to fit; the deadline holds even if the machine sends slower than planned.
        stop_at = started + (profile.authorization.valid_until - now).total_seconds() - margin_s
        replies, reached = arp.sweep(
            iface, addresses, timeout_s, interval_s=pace, retries=retries, stop_at=stop_at
        )
    except OSError as e:
        raise OperationalError(f"ARP sweep on {iface} failed: {e}", hint="check the interface name") from e
    finally:
        duration = time.monotonic() - sweep_started
    if len(reached) < len(addresses):  # the machine sent slower than planned: cut at the deadline
        stopped = (
            f"only {len(reached)} of {len(planned)} addresses asked: authorization "
            f"{profile.authorization.reference} ends at {profile.authorization.valid_until.isoformat()}"
            " (requests went out slower than planned and were stopped before it)"
        )
        addresses = list(reached)
    asked = set(addresses)
    sweep = ArpSweep(
        segment=segment,
        interface=iface,
        asked=len(addresses),
        duration_s=duration,
        interval_s=pace,
        stopped=stopped,
    )
    # Coverage: what was asked (a cut sweep covers only its addresses).
    sweep.coverage = [str(c) for c in seg.cidrs] if not stopped else list(addresses)
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
            result="partial" if stopped else "completed",
            segment=segment,
            detail="; ".join(
                x
                for x in (
                    f"{len(sweep.hosts)} of {len(addresses)} addresses answered",
                    f"one request every {pace:.3f} s" if pace else "",
                    stopped,
                )
                if x
            ),
        )
    )
    return sweep
