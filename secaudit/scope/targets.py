"""Target syntax: what a user may ask to scan, and the addresses it stands for.

Accepted forms: an address (``127.20.1.5``, ``::1``), a CIDR (``127.20.1.0/28``), a range of
full addresses (``127.20.1.1-127.20.1.9``), an IPv4 last-octet range (``127.20.1.1-9``) and a
hostname (resolved by an injected resolver, never here). nmap's other syntaxes (``*``, ``,``
inside octets) are refused so the expansion we check is the expansion we scan.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from secaudit.core.errors import ScopeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The most addresses one target may expand to; larger targets must be split.
MAX_ADDRESSES = 65536

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")
_SHORT_RANGE = re.compile(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3})$")


class TargetKind(Enum):
    ADDRESS = "address"
    CIDR = "cidr"
    RANGE = "range"
    HOSTNAME = "hostname"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A parsed target. ``first``/``last`` bound the addresses for address, CIDR and range."""

    text: str
    kind: TargetKind
    first: IPAddress | None = None
    last: IPAddress | None = None

    @property
    def size(self) -> int:
        if self.first is None or self.last is None:
            return 0
        return int(self.last) - int(self.first) + 1

    def addresses(self) -> Iterator[IPAddress]:
        """Every address of an address/CIDR/range target, in order (hostnames: none)."""
        if self.first is None or self.last is None:
            return
        make = ipaddress.IPv4Address if self.first.version == 4 else ipaddress.IPv6Address
        for value in range(int(self.first), int(self.last) + 1):
            yield make(value)


def _refuse(text: str, reason: str, hint: str) -> ScopeError:
    return ScopeError(f"target {text!r}: {reason}", hint=hint)


def _bounded(text: str, kind: TargetKind, first: IPAddress, last: IPAddress) -> Target:
    target = Target(text=text, kind=kind, first=first, last=last)
    if target.size > MAX_ADDRESSES:
        raise _refuse(
            text,
            f"expands to {target.size} addresses, more than {MAX_ADDRESSES}",
            "split it into smaller CIDRs or ranges",
        )
    return target


def parse_target(text: str) -> Target:
    """Parse one target; raise :class:`ScopeError` for syntax we do not accept."""
    raw = text.strip()
    if not raw:
        raise _refuse(text, "empty target", "give an address, CIDR, range or hostname")
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        pass
    else:
        return Target(text=raw, kind=TargetKind.ADDRESS, first=ip, last=ip)
    if "/" in raw:
        try:
            net = ipaddress.ip_network(raw, strict=False)
        except ValueError as e:
            raise _refuse(raw, f"not a valid CIDR ({e})", "write it like 127.20.1.0/28 or fd00::/120") from e
        return _bounded(raw, TargetKind.CIDR, net.network_address, net.broadcast_address)
    short = _SHORT_RANGE.match(raw)
    if short:
        prefix, lo, hi = short.groups()
        try:
            first = ipaddress.IPv4Address(prefix + lo)
            last = ipaddress.IPv4Address(prefix + hi)
        except ValueError as e:
            raise _refuse(raw, f"not a valid range ({e})", "write it like 127.20.1.1-9") from e
        return _range(raw, first, last)
    if "-" in raw:
        left, _, right = (part.strip() for part in raw.partition("-"))
        ends = [_maybe_ip(left), _maybe_ip(right)]
        if ends[0] is not None and ends[1] is not None:
            return _range(raw, ends[0], ends[1])
        if ends[0] is not None or ends[1] is not None:
            raise _refuse(raw, "not a valid range", "write it like 127.20.1.1-127.20.1.9 or 127.20.1.1-9")
    if any(c in raw for c in "*,[] "):
        raise _refuse(
            raw, "wildcards and lists are not accepted", "list each address, CIDR or range separately"
        )
    if _HOSTNAME.match(raw) and not raw.replace(".", "").isdigit():
        return Target(text=raw, kind=TargetKind.HOSTNAME)
    raise _refuse(raw, "not an address, CIDR, range or hostname", "check the spelling")


def _maybe_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _range(text: str, first: IPAddress, last: IPAddress) -> Target:
    if first.version != last.version:
        raise _refuse(text, "range mixes IPv4 and IPv6", "use two separate targets")
    if int(last) < int(first):
        raise _refuse(text, "range ends before it starts", "put the lower address first")
    return _bounded(text, TargetKind.RANGE, first, last)
