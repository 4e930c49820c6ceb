from __future__ import annotations

import ipaddress

import pytest

from secaudit.core.errors import ScopeError
from secaudit.scope import MAX_ADDRESSES, TargetKind, parse_target


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("127.20.1.5", TargetKind.ADDRESS, "127.20.1.5", "127.20.1.5"),
        ("::1", TargetKind.ADDRESS, "::1", "::1"),
        ("127.20.1.0/30", TargetKind.CIDR, "127.20.1.0", "127.20.1.3"),
        ("127.20.1.5/30", TargetKind.CIDR, "127.20.1.4", "127.20.1.7"),
        ("fd00::/126", TargetKind.CIDR, "fd00::", "fd00::3"),
        ("127.20.1.1-127.20.1.9", TargetKind.RANGE, "127.20.1.1", "127.20.1.9"),
        ("127.20.1.1-9", TargetKind.RANGE, "127.20.1.1", "127.20.1.9"),
        ("::1-::3", TargetKind.RANGE, "::1", "::3"),
    ],
)
def test_address_forms_expand_to_exact_bounds(text: str, kind: TargetKind, first: str, last: str) -> None:
    target = parse_target(text)
    assert target.kind is kind
    addresses = list(target.addresses())
    assert addresses[0] == ipaddress.ip_address(first)
    assert addresses[-1] == ipaddress.ip_address(last)
    assert len(addresses) == target.size


@pytest.mark.parametrize("text", ["nvr-01.cctv.phuket.example", "localhost", "scada-hmi"])
def test_hostnames_are_recognised_and_not_resolved(text: str) -> None:
    target = parse_target(text)
    assert target.kind is TargetKind.HOSTNAME
    assert list(target.addresses()) == []


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("127.20.1.9-1", "ends before it starts"),
        ("127.20.1.1-::5", "mixes IPv4 and IPv6"),
        ("127.20.*.1", "wildcards"),
        ("127.20.1.1,2", "wildcards"),
        ("127.20.1.0/33", "not a valid CIDR"),
        ("127.20.1.1-nope", "not a valid range"),
        ("10.0.0.0/8", "more than"),
        ("", "empty"),
        ("300.1.1.1", "not an address"),
    ],
)
def test_bad_targets_are_refused_with_reason(text: str, needle: str) -> None:
    with pytest.raises(ScopeError) as info:
        parse_target(text)
    assert needle in str(info.value)
    assert info.value.hint


def test_limit_is_inclusive() -> None:
    assert parse_target("127.0.0.0/16").size == MAX_ADDRESSES
