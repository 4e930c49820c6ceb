"""One spelling per host: canonical IP addresses and networks.

The same IPv4 host can be written as an IPv6 address in several ways, and the kernel delivers
packets for each of them to the IPv4 host: IPv4-mapped (``::ffff:10.254.7.3``, what a dual-stack
socket uses), IPv4-compatible (``::10.254.7.3``, deprecated, still routed by a ``sit`` tunnel)
and the NAT64 prefixes (``64:ff9b::/96`` and the local-use ``64:ff9b:1::/48`` of RFC 8215, which
a NAT64 gateway translates to the embedded IPv4 address). A zone id (``fe80::1%eth0``) names an
interface, not another host. Every address is turned into its canonical form once, before any
comparison, so an exclusion written one way holds against a target written another way.

6to4 (``2002::/16``) and Teredo (``2001::/32``) addresses are other hosts (a relay, a client
behind NAT), but packets to them are carried to the embedded IPv4 address: :func:`tunnel_ipv4`
names those so the scope guard can refuse them when that address is excluded.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_6TO4 = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")
_LOW32 = 0xFFFFFFFF

#: IPv6 ranges whose addresses stand for an IPv4 host (name, network), for messages.
EMBEDDING_RANGES: tuple[tuple[str, ipaddress.IPv6Network], ...] = (
    ("IPv4-mapped", _MAPPED),
    ("IPv4-compatible", _COMPATIBLE),
    ("NAT64", _NAT64),
    ("NAT64 local-use", _NAT64_LOCAL),
)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 host an IPv6 spelling stands for, or None when it is a genuine IPv6 address."""
    value = int(ip)
    if ip in _MAPPED:
        return ipaddress.IPv4Address(value & _LOW32)
    if ip in _COMPATIBLE:
        # :: (unspecified) and ::1 (loopback) are IPv6 addresses of their own.
        return ipaddress.IPv4Address(value & _LOW32) if value > 1 else None
    if ip in _NAT64:
        return ipaddress.IPv4Address(value & _LOW32)
    if ip in _NAT64_LOCAL:
        # RFC 6052 layout for a /48 prefix: 16 bits of IPv4, the 8-bit "u" octet, 16 bits more.
        return ipaddress.IPv4Address((((value >> 64) & 0xFFFF) << 16) | ((value >> 40) & 0xFFFF))
    return None


def canonical_address(ip: IPAddress) -> IPAddress:
    """``ip`` without zone id, and as IPv4 when it is an IPv6 spelling of an IPv4 host."""
    if ip.version == 4:
        return ip
    assert isinstance(ip, ipaddress.IPv6Address)
    v4 = embedded_ipv4(ip)
    if v4 is not None:
        return v4
    return ipaddress.IPv6Address(int(ip)) if ip.scope_id else ip


def parse_address(text: str) -> IPAddress:
    """Parse and canonicalize; :class:`ValueError` when ``text`` is not an address."""
    return canonical_address(ipaddress.ip_address(text.strip()))


def canonical_text(text: str) -> str:
    """The canonical spelling of an address, or ``text`` unchanged when it is not one."""
    try:
        return str(parse_address(text))
    except ValueError:
        return text


def tunnel_ipv4(ip: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """IPv4 addresses that packets to ``ip`` are carried to through 6to4 or Teredo (else none)."""
    if ip.version == 4:
        return ()
    assert isinstance(ip, ipaddress.IPv6Address)
    out: list[ipaddress.IPv4Address] = []
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)  # (server, client)
    return tuple(out)


def network_problem(net: IPNetwork) -> str:
    """Why ``net`` may not stand in a profile as written (``""`` when it may).

    Networks inside an IPv4-embedding range must be written in IPv4 so that one host has one
    spelling; a zone id belongs to an interface, not to a network.
    """
    if net.version == 4:
        return ""
    assert isinstance(net, ipaddress.IPv6Network)
    if net.network_address.scope_id:
        return f"{net} carries a zone id (%{net.network_address.scope_id}); write the network without it"
    for name, embedding in EMBEDDING_RANGES:
        if net.subnet_of(embedding) and not (embedding is _COMPATIBLE and net.num_addresses <= 2):
            first = embedded_ipv4(net.network_address)
            if embedding is not _NAT64_LOCAL and first is not None and net.prefixlen >= 96:
                v4 = ipaddress.IPv4Network(f"{first}/{net.prefixlen - 96}", strict=False)
                article = "an" if name.startswith("I") else "a"
                return f"{net} is {article} {name} spelling of IPv4 network {v4}; write {v4}"
            return f"{net} lies in the {name} range {embedding}; write the IPv4 networks it stands for"
    return ""


def address_problem(text: str) -> str:
    """Why an address may not stand in a profile as written (``""`` when it may).

    :class:`ValueError` when ``text`` is no address at all.
    """
    ip = ipaddress.ip_address(text.strip())
    canonical = canonical_address(ip)
    if canonical != ip:
        return f"{text.strip()} is another spelling of {canonical}; write {canonical}"
    return ""
