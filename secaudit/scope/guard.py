"""The scope guard: nothing is scanned unless the written authorization covers it.

Every producer that sends packets asks the guard first. A target passes only when every address
it stands for lies in an authorized segment of the profile, outside every exclusion, and the
authorization is valid at the (injected) moment. Hostnames are resolved through an injected
resolver first; one address outside scope refuses the whole target. A refusal is a
:class:`ScopeError` raised before any packet, naming the target, the address and the reason.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from secaudit.core.addresses import canonical_address, tunnel_ipv4
from secaudit.core.errors import ScopeError, UsageError
from secaudit.core.profile import Authorization, IPNetwork, MaintenanceWindow, Profile, Segment
from secaudit.scope.targets import IPAddress, Target, TargetKind, parse_target

#: Hostname -> addresses. Raise ``OSError`` (or return nothing) when the name does not resolve.
Resolver = Callable[[str], Sequence[str]]

_SHOWN = 5  # refused addresses named per target before "and N more"
RENEW_HINT = "renew the authorization and update authorization.valid_until in the profile"


def system_resolver(name: str) -> list[str]:
    """Resolve with the operating system (sends DNS queries: only called for hostname targets)."""
    infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    seen: dict[str, None] = {}
    for info in infos:
        seen[str(info[4][0]).split("%", 1)[0]] = None
    return list(seen)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressVerdict:
    """One address of a target: where it lies and whether it may be scanned."""

    address: str
    segment: str = ""
    allowed: bool
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetVerdict:
    """The guard's answer for one target. ``reason`` is set when the whole target is refused."""

    target: str
    kind: str
    allowed: bool
    reason: str = ""
    addresses: tuple[AddressVerdict, ...] = ()

    @property
    def refused(self) -> tuple[AddressVerdict, ...]:
        return tuple(a for a in self.addresses if not a.allowed)

    def explain(self) -> str:
        """One line a person can act on."""
        if self.allowed:
            segments = sorted({a.segment for a in self.addresses})
            n = len(self.addresses)
            plural = "es" if n != 1 else ""
            return f"{self.target}: in scope ({n} address{plural}, segment {', '.join(segments)})"
        if self.reason:
            return f"{self.target}: refused: {self.reason}"
        bad = self.refused
        parts = [f"{a.address} {a.reason}" for a in bad[:_SHOWN]]
        more = f" (and {len(bad) - _SHOWN} more refused addresses)" if len(bad) > _SHOWN else ""
        return f"{self.target}: refused: {'; '.join(parts)}{more}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopedAddress:
    address: IPAddress
    segment: Segment


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopePlan:
    """What the guard allowed: explicit addresses, each with its segment, under one authorization."""

    targets: tuple[str, ...]
    addresses: tuple[ScopedAddress, ...]
    authorization: Authorization
    checked_at: datetime
    exclusions: tuple[IPNetwork, ...] = field(default=())

    def segments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.segment.name for a in self.addresses))


class ScopeGuard:
    """Checks targets against a profile. Pure apart from the injected resolver."""

    def __init__(self, profile: Profile, *, resolver: Resolver = system_resolver) -> None:
        self.profile = profile
        self.resolver = resolver

    # -- the authorization -------------------------------------------------------------------
    def authorization_problem(self, now: datetime) -> str:
        """Why the authorization does not cover ``now``, or ``""`` when it does."""
        auth = self.profile.authorization
        if now.tzinfo is None:
            raise UsageError("the clock gave a time without a time zone", hint="pass an aware datetime (UTC)")
        if not auth.reference:
            return "the profile has no authorization reference"
        if not auth.valid_at(now):
            return (
                f"authorization {auth.reference} is valid from {auth.valid_from.isoformat()} "
                f"until {auth.valid_until.isoformat()}, not at {now.isoformat()}"
            )
        return ""

    def authorization_hint(self, now: datetime) -> str:
        """What to do about :meth:`authorization_problem` at ``now``."""
        auth = self.profile.authorization
        if auth.reference and now < auth.valid_from:
            return (
                f"the authorization starts at {auth.valid_from.isoformat()}: scan from then on, "
                "or correct authorization.valid_from if the written authorization says otherwise"
            )
        return RENEW_HINT

    def maintenance_window(self, now: datetime) -> MaintenanceWindow | None:
        """The maintenance window covering ``now``, if any (deep scans need one)."""
        return next(
            (w for w in self.profile.authorization.maintenance_windows if w.start <= now <= w.end),
            None,
        )

    # -- single addresses and targets ---------------------------------------------------------
    def check_address(self, ip: IPAddress) -> AddressVerdict:
        """Where ``ip`` lies and whether it may be scanned, judged on its canonical form.

        ``::ffff:10.254.7.3``, ``::10.254.7.3``, and ``64:ff9b::afe:703`` all
        reach the same host, so all are judged (and reported) as ``10.254.7.3``; a zone id is
        dropped (``fe80::1%eth0`` is ``fe80::1``).
        """
        written = ip
        ip = canonical_address(ip)
        spelled = f" (written {written})" if ip != written else ""
        segment = self.profile.segment_of(str(ip))
        if segment is None:
            return AddressVerdict(
                address=str(ip), allowed=False, reason=f"is not in any authorized segment{spelled}"
            )
        edge = _edge_of(ip, segment)
        if edge:
            return AddressVerdict(address=str(ip), segment=segment.name, allowed=False, reason=edge + spelled)
        for seg in self.profile.segments:
            if not any(_within(ip, net) for net in seg.cidrs):
                continue
            for net in seg.exclusions:
                if _within(ip, net):
                    return AddressVerdict(
                        address=str(ip),
                        segment=seg.name,
                        allowed=False,
                        reason=f"is excluded by segment '{seg.name}' exclusion {net}{spelled}",
                    )
        for carried in tunnel_ipv4(ip):
            excluded = self.check_address(carried)
            if excluded.segment and not excluded.allowed:
                return AddressVerdict(
                    address=str(ip),
                    segment=segment.name,
                    allowed=False,
                    reason=f"carries packets to {carried} (6to4/Teredo), which {excluded.reason}",
                )
        return AddressVerdict(address=str(ip), segment=segment.name, allowed=True)

    def check(self, target: str, *, now: datetime) -> TargetVerdict:
        """The verdict for one target (never raises for scope reasons; see :meth:`authorize`)."""
        try:
            parsed = parse_target(target)
        except ScopeError as e:
            reason = e.message.split(": ", 1)[-1]
            return TargetVerdict(target=target, kind="invalid", allowed=False, reason=reason)
        problem = self.authorization_problem(now)
        if problem:
            return TargetVerdict(target=parsed.text, kind=parsed.kind.value, allowed=False, reason=problem)
        addresses, reason = self._expand(parsed)
        if parsed.kind in (TargetKind.CIDR, TargetKind.RANGE):
            # A CIDR or range stands for its hosts: the segment's network and broadcast addresses
            # (which would reach every host of the link) are left out, as nmap's own sweeps would not.
            addresses = [ip for ip in addresses if not _edge_of(ip, self.profile.segment_of(str(ip)))]
            if not addresses and not reason:
                reason = "holds only network or broadcast addresses of its segment"
        if reason:
            return TargetVerdict(target=parsed.text, kind=parsed.kind.value, allowed=False, reason=reason)
        verdicts = tuple(self.check_address(ip) for ip in addresses)
        return TargetVerdict(
            target=parsed.text,
            kind=parsed.kind.value,
            allowed=all(v.allowed for v in verdicts),
            addresses=verdicts,
        )

    def _expand(self, target: Target) -> tuple[list[IPAddress], str]:
        if target.kind is not TargetKind.HOSTNAME:
            return list(dict.fromkeys(canonical_address(ip) for ip in target.addresses())), ""
        try:
            raw = list(self.resolver(target.text))
        except (OSError, UnicodeError) as e:
            return [], f"hostname does not resolve ({e})"
        if not raw:
            return [], "hostname does not resolve (no addresses)"
        out: list[IPAddress] = []
        for text in raw:
            try:
                out.append(canonical_address(ipaddress.ip_address(text)))
            except ValueError:
                return [], f"resolver returned {text!r}, which is not an address"
        return list(dict.fromkeys(out)), ""

    # -- plans --------------------------------------------------------------------------------
    def authorize(self, targets: Sequence[str], *, now: datetime) -> ScopePlan:
        """Allow all targets or raise :class:`ScopeError` explaining every refusal."""
        if not targets:
            raise UsageError("no targets given", hint="name at least one address, CIDR, range or hostname")
        verdicts = [self.check(t, now=now) for t in targets]
        refused = [v for v in verdicts if not v.allowed]
        if refused:
            raise ScopeError(
                "out of scope, nothing was sent:\n  " + "\n  ".join(v.explain() for v in refused),
                location=self.profile.path,
                hint=self.authorization_hint(now) if self.authorization_problem(now) else _hint(refused),
            )
        scoped: dict[IPAddress, ScopedAddress] = {}
        for verdict in verdicts:
            for a in verdict.addresses:
                ip = ipaddress.ip_address(a.address)
                segment = self.profile.segment(a.segment)
                if segment is not None:  # always set for allowed addresses
                    scoped.setdefault(ip, ScopedAddress(address=ip, segment=segment))
        return self._plan(tuple(v.target for v in verdicts), tuple(scoped.values()), now)

    def segment_plan(self, names: Sequence[str], *, now: datetime) -> ScopePlan:
        """Every host address of the named segments (all when empty), minus exclusions."""
        chosen = self.select_segments(names)
        problem = self.authorization_problem(now)
        if problem:
            raise ScopeError(
                f"scan of segment(s) {', '.join(s.name for s in chosen)} refused, "
                f"nothing was sent: {problem}",
                location=self.profile.path,
                hint=self.authorization_hint(now),
            )
        scoped: dict[IPAddress, ScopedAddress] = {}
        for seg in chosen:
            for net in seg.cidrs:
                if net.num_addresses > 65536:
                    raise ScopeError(
                        f"segment '{seg.name}' CIDR {net} has {net.num_addresses} addresses, "
                        "too many to scan",
                        location=self.profile.path,
                        hint="list the used sub-networks of this segment as its CIDRs",
                    )
                hosts = list(net.hosts()) if net.num_addresses > 2 else list(net)
                for host in hosts:
                    ip = canonical_address(ipaddress.ip_address(str(host)))
                    verdict = self.check_address(ip)
                    # Another, more specific segment may own the address: it is scanned with that one.
                    if verdict.allowed and verdict.segment == seg.name:
                        scoped.setdefault(ip, ScopedAddress(address=ip, segment=seg))
        return self._plan(tuple(s.name for s in chosen), tuple(scoped.values()), now)

    def select_segments(self, names: Sequence[str]) -> list[Segment]:
        if not names:
            return list(self.profile.segments)
        out = []
        for name in names:
            seg = self.profile.segment(name)
            if seg is None:
                known = ", ".join(s.name for s in self.profile.segments)
                raise UsageError(
                    f"unknown segment '{name}'", location=self.profile.path, hint=f"use one of: {known}"
                )
            out.append(seg)
        return out

    def _plan(
        self, targets: tuple[str, ...], addresses: tuple[ScopedAddress, ...], now: datetime
    ) -> ScopePlan:
        segs = {a.segment.name for a in addresses}
        exclusions = tuple(net for s in self.profile.segments if s.name in segs for net in s.exclusions)
        return ScopePlan(
            targets=targets,
            addresses=addresses,
            authorization=self.profile.authorization,
            checked_at=now,
            exclusions=exclusions,
        )


def _within(ip: IPAddress, net: IPNetwork) -> bool:
    return ip.version == net.version and ip in net


def _edge_of(ip: IPAddress, segment: Segment | None) -> str:
    """Why ``ip`` is no host of its segment (network or broadcast address), else ``""``."""
    if segment is None or ip.version != 4:
        return ""
    nets = [n for n in segment.cidrs if _within(ip, n) and n.prefixlen <= 30]
    for net in sorted(nets, key=lambda n: -n.prefixlen)[:1]:
        if ip == net.network_address:
            return f"is the network address of segment '{segment.name}' CIDR {net}, not a host"
        if ip == net.broadcast_address:
            return f"is the broadcast address of segment '{segment.name}' CIDR {net}: it reaches every host"
    return ""


def _hint(refused: list[TargetVerdict]) -> str:
    if any(v.kind == "hostname" for v in refused):
        return "scan only names that resolve inside authorized segments, or scan the in-scope addresses"
    return (
        "remove these targets, or add their segment to the profile once the written authorization covers it"
    )
