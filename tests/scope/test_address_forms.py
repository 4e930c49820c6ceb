"""One host, many spellings: the guard judges every IPv6 form of an IPv4 host as that host.

Property tests (hypothesis) write an excluded or out-of-scope IPv4 host in every form the kernel
would deliver to it (IPv4-mapped, IPv4-compatible, NAT64, with zone ids, in full or in hex, as a
CIDR, a range or a hostname's answer) and require that no plan ever holds it. The profile loader
refuses networks and asset addresses written in an embedding form.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secaudit.catalog.profile import load_profile
from secaudit.core.addresses import canonical_address, embedded_ipv4, network_problem, tunnel_ipv4
from secaudit.core.errors import ConfigError, ScopeError
from secaudit.core.model import Criticality, SegmentKind
from secaudit.core.profile import Authorization, Profile, Segment
from secaudit.scope import ScopeGuard

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PLC_NET = ipaddress.IPv4Network("10.254.7.0/24")
EXCLUDED = ipaddress.IPv4Network("10.254.7.0/28")  # .1-.14 are excluded PLCs


def _profile() -> Profile:
    return Profile(
        path="city.yaml",
        organisation="Phuket",
        authorization=Authorization(
            reference="PKT-AUTH-9",
            approver="CISO",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2026, 12, 31, tzinfo=UTC),
        ),
        segments=(
            Segment(
                name="signals",
                cidrs=(PLC_NET,),
                kind=SegmentKind.OT,
                owner="traffic",
                criticality=Criticality.PUBLIC_SAFETY_CRITICAL,
                scan_profile="ot-safe",
                exclusions=(EXCLUDED,),
            ),
            # A wide IPv6 segment that contains the embedding ranges: it must not authorize them.
            Segment(
                name="v6-everything",
                cidrs=(ipaddress.IPv6Network("::/0"),),
                kind=SegmentKind.IT,
                owner="it",
                criticality=Criticality.HIGH,
                scan_profile="standard",
            ),
        ),
    )


def _spellings(v4: ipaddress.IPv4Address, zone: str, upper: bool, full: bool) -> list[str]:
    """Every IPv6 way to write ``v4`` that reaches it, in compressed or exploded text."""
    n = int(v4)
    hi, lo = n >> 16, n & 0xFFFF
    forms = [
        ipaddress.IPv6Address((0xFFFF << 32) | n),  # ::ffff:a.b.c.d
        ipaddress.IPv6Address(n),  # ::a.b.c.d (IPv4-compatible)
        ipaddress.IPv6Address((0x64FF9B << 96) | n),  # 64:ff9b::a.b.c.d (NAT64)
        # 64:ff9b:1::/48 (RFC 6052 layout: 16 bits, u octet, 16 bits)
        ipaddress.IPv6Address((0x64FF9B0001 << 80) | (hi << 64) | (lo << 40)),
    ]
    out = [f"::ffff:{v4}", f"::{v4}", f"64:ff9b::{v4}", f"0:0:0:0:0:ffff:{v4}"]
    for form in forms:
        text = form.exploded if full else form.compressed
        out.append(text.upper() if upper else text)
    return [t + zone if zone and "." not in t.rsplit(":", 1)[-1] else t for t in out]


excluded_hosts = st.integers(1, 14).map(lambda h: PLC_NET.network_address + h)
outside_hosts = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address).filter(lambda a: a not in PLC_NET)
zones = st.sampled_from(["", "%eth0", "%1", "%veth-plc"])


def _resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(name: str) -> Sequence[str]:
        return table[name]

    return resolve


@settings(max_examples=200, deadline=None)
@given(host=excluded_hosts, zone=zones, upper=st.booleans(), full=st.booleans())
def test_an_excluded_host_is_refused_in_every_spelling(
    host: ipaddress.IPv4Address, zone: str, upper: bool, full: bool
) -> None:
    for text in _spellings(host, zone, upper, full):
        assert canonical_address(ipaddress.ip_address(text)) == host, text
        guard = ScopeGuard(_profile(), resolver=_resolver({"plc.signals": [text]}))
        for target in (text, f"{text}/128" if "%" not in text else text, "plc.signals"):
            verdict = guard.check(target, now=NOW)
            assert not verdict.allowed, (target, verdict)
            assert [a.address for a in verdict.addresses] == [str(host)], target
            assert "excluded by segment 'signals'" in verdict.explain()
            with pytest.raises(ScopeError):
                guard.authorize([target], now=NOW)


@settings(max_examples=200, deadline=None)
@given(host=outside_hosts, zone=zones, upper=st.booleans(), full=st.booleans())
def test_an_out_of_scope_ipv4_host_is_refused_in_every_spelling(
    host: ipaddress.IPv4Address, zone: str, upper: bool, full: bool
) -> None:
    guard = ScopeGuard(_profile())
    for text in _spellings(host, zone, upper, full):
        verdict = guard.check(text, now=NOW)
        if canonical_address(ipaddress.ip_address(text)).version == 6:
            continue  # 0.0.0.0/0.0.0.1 written ::/::1 are IPv6 addresses of their own
        assert not verdict.allowed, text
        assert verdict.refused[0].address == str(host)


@settings(max_examples=100, deadline=None)
@given(first=st.integers(0, 255), size=st.integers(1, 64), mapped=st.booleans())
def test_no_plan_ever_holds_an_excluded_host(first: int, size: int, mapped: bool) -> None:
    """Ranges and CIDRs in IPv6 spelling: what is allowed is canonical and never excluded."""
    lo = int(PLC_NET.network_address) + first
    hi = min(lo + size, int(PLC_NET.broadcast_address))
    prefix = (0xFFFF << 32) if mapped else (0x64FF9B << 96)
    text = f"{ipaddress.IPv6Address(prefix | lo)}-{ipaddress.IPv6Address(prefix | hi)}"
    guard = ScopeGuard(_profile())
    verdict = guard.check(text, now=NOW)
    for a in verdict.addresses:
        ip = ipaddress.ip_address(a.address)
        assert ip.version == 4
        if a.allowed:
            assert ip not in EXCLUDED and ip in PLC_NET
    if verdict.allowed:
        plan = guard.authorize([text], now=NOW)
        assert all(s.address.version == 4 and s.address not in EXCLUDED for s in plan.addresses)
        assert {s.segment.name for s in plan.addresses} == {"signals"}


def test_a_mapped_cidr_target_is_judged_as_its_ipv4_hosts() -> None:
    guard = ScopeGuard(_profile())
    verdict = guard.check("::ffff:10.254.7.0/120", now=NOW)
    assert not verdict.allowed
    assert {a.address for a in verdict.refused} == {f"10.254.7.{i}" for i in range(1, 16)}
    allowed = guard.authorize(["::ffff:10.254.7.16/124"], now=NOW)
    assert [str(a.address) for a in allowed.addresses] == [f"10.254.7.{i}" for i in range(16, 32)]


def test_genuine_ipv6_is_untouched_and_zone_ids_are_dropped() -> None:
    assert canonical_address(ipaddress.ip_address("2001:db8::7")) == ipaddress.ip_address("2001:db8::7")
    assert str(canonical_address(ipaddress.ip_address("fe80::1%eth0"))) == "fe80::1"
    assert canonical_address(ipaddress.ip_address("::1")) == ipaddress.ip_address("::1")
    assert embedded_ipv4(ipaddress.IPv6Address("::")) is None


def test_6to4_and_teredo_forms_of_an_excluded_host_are_refused() -> None:
    guard = ScopeGuard(_profile())
    six_to_four = "2002:afe:703::1"  # a 6to4 site whose relay is 10.254.7.3
    assert tunnel_ipv4(ipaddress.ip_address(six_to_four)) == (ipaddress.IPv4Address("10.254.7.3"),)
    verdict = guard.check(six_to_four, now=NOW)
    assert not verdict.allowed
    assert "carries packets to 10.254.7.3 (6to4/Teredo)" in verdict.explain()
    assert guard.check("2002:afe:750::1", now=NOW).allowed  # relay 10.254.7.80 is not excluded


def test_network_and_broadcast_addresses_are_not_targets() -> None:
    guard = ScopeGuard(_profile())
    for target, word in (
        ("10.254.7.0", "network"),
        ("10.254.7.255", "broadcast"),
        ("::ffff:afe:7ff", "broadcast"),
    ):
        verdict = guard.check(target, now=NOW)
        assert not verdict.allowed
        assert f"is the {word} address of segment 'signals' CIDR 10.254.7.0/24" in verdict.explain()
    # A CIDR stands for its hosts: the edges are left out, not a reason to refuse it.
    plan = guard.authorize(["10.254.7.240/28"], now=NOW)
    assert [str(a.address) for a in plan.addresses] == [f"10.254.7.{i}" for i in range(240, 255)]
    assert not guard.check("10.254.7.255-10.254.7.255", now=NOW).allowed


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (
            "::ffff:10.254.7.0/120",
            "is an IPv4-mapped spelling of IPv4 network 10.254.7.0/24; write 10.254.7.0/24",
        ),
        ("64:ff9b::afe:700/120", "NAT64 spelling of IPv4 network 10.254.7.0/24"),
        ("::afe:700/120", "IPv4-compatible spelling of IPv4 network 10.254.7.0/24"),
        ("64:ff9b:1::/64", "lies in the NAT64 local-use range 64:ff9b:1::/48"),
        ("fe80::%eth0/64", "carries a zone id (%eth0)"),
    ],
)
def test_embedding_networks_are_refused_at_profile_load(tmp_path: Path, network: str, message: str) -> None:
    assert message in network_problem(ipaddress.ip_network(network))
    path = tmp_path / "city.yaml"
    path.write_text(
        f"""\
version: 1
organisation: Phuket
authorization:
  reference: PKT-AUTH-9
  approver: CISO
  valid_from: 2026-01-01
  valid_until: 2030-12-31
segments:
  - name: signals
    cidrs: ["{network}"]
    kind: ot
    owner: traffic
    criticality: high
"""
    )
    with pytest.raises(ConfigError) as info:
        load_profile(path, now=NOW)
    assert message in info.value.message
    assert f"{path}:10" in str(info.value)


def test_an_asset_address_in_mapped_form_is_refused_at_profile_load(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(
        """\
version: 1
organisation: Phuket
authorization:
  reference: PKT-AUTH-9
  approver: CISO
  valid_from: 2026-01-01
  valid_until: 2030-12-31
segments:
  - name: signals
    cidrs: [10.254.7.0/24]
    exclusions: [10.254.7.3/32]
    kind: ot
    owner: traffic
    criticality: high
assets:
  - name: plc-3
    address: "::ffff:10.254.7.3"
    role: PLC
    criticality: high
"""
    )
    with pytest.raises(ConfigError, match=r"::ffff:10\.254\.7\.3 is another spelling of 10\.254\.7\.3"):
        load_profile(path, now=NOW)
