from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from secaudit.core.errors import ScopeError, UsageError
from secaudit.core.profile import Profile
from secaudit.scope import ScopeGuard

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(name: str) -> Sequence[str]:
        if name not in table:
            raise OSError(f"[Errno -2] Name or service not known: {name}")
        return table[name]

    return resolve


NAMES = {
    "hmi.traffic": ["127.20.2.3"],
    "split.cctv": ["127.20.2.3", "127.99.0.1"],
    "excluded.traffic": ["127.20.2.14"],
    "v6.lab": ["::1"],
}


@pytest.fixture
def guard(profile: Profile) -> ScopeGuard:
    return ScopeGuard(profile, resolver=resolver(NAMES))


def test_in_scope_targets_give_explicit_addresses_with_segments(guard: ScopeGuard) -> None:
    plan = guard.authorize(["127.20.1.1-3", "hmi.traffic", "::1"], now=NOW)
    got = {(str(a.address), a.segment.name) for a in plan.addresses}
    assert got == {
        ("127.20.1.1", "command-center"),
        ("127.20.1.2", "command-center"),
        ("127.20.1.3", "command-center"),
        ("127.20.2.3", "traffic-control"),
        ("::1", "lab6"),
    }
    assert plan.authorization.reference == "PKT-AUTH-7"
    assert [str(n) for n in plan.exclusions] == ["127.20.2.14/32"]


def test_address_outside_every_segment_is_named(guard: ScopeGuard) -> None:
    with pytest.raises(ScopeError) as info:
        guard.authorize(["127.20.1.5", "127.20.9.1"], now=NOW)
    text = str(info.value)
    assert "127.20.9.1: refused: 127.20.9.1 is not in any authorized segment" in text
    assert "127.20.1.5:" not in text  # the in-scope target is not among the refusals
    assert "nothing was sent" in text
    assert info.value.location == "profile.yaml"


def test_cidr_touching_an_exclusion_is_refused_naming_the_excluded_address(guard: ScopeGuard) -> None:
    verdict = guard.check("127.20.2.0/28", now=NOW)
    assert not verdict.allowed
    assert [a.address for a in verdict.refused] == ["127.20.2.14"]
    assert "excluded by segment 'traffic-control' exclusion 127.20.2.14/32" in verdict.explain()
    assert guard.check("127.20.2.1-13", now=NOW).allowed


def test_cidr_spilling_out_of_the_segment_is_refused(guard: ScopeGuard) -> None:
    verdict = guard.check("127.20.1.0/27", now=NOW)
    assert not verdict.allowed
    assert verdict.refused[0].address == "127.20.1.16"
    assert len(verdict.refused) == 16
    assert "(and 11 more refused addresses)" in verdict.explain()


def test_hostname_with_one_address_outside_is_refused(guard: ScopeGuard) -> None:
    verdict = guard.check("split.cctv", now=NOW)
    assert not verdict.allowed
    assert [a.address for a in verdict.refused] == ["127.99.0.1"]
    assert guard.check("v6.lab", now=NOW).allowed
    assert not guard.check("excluded.traffic", now=NOW).allowed


def test_unresolvable_hostname_is_refused_with_reason(guard: ScopeGuard) -> None:
    verdict = guard.check("ghost.cctv", now=NOW)
    assert not verdict.allowed
    assert "does not resolve" in verdict.reason
    assert verdict.kind == "hostname"


@pytest.mark.parametrize(
    ("moment", "hint"),
    [
        # Not yet valid: renewing would not help; the start date is what to check.
        (datetime(2025, 12, 31, 23, 59, tzinfo=UTC), "the authorization starts at 2026-01-01T00:00:00"),
        (datetime(2026, 6, 30, 0, 0, 1, tzinfo=UTC), "renew the authorization"),
    ],
)
def test_authorization_outside_its_validity_refuses_everything(
    guard: ScopeGuard, moment: datetime, hint: str
) -> None:
    verdict = guard.check("127.20.1.1", now=moment)
    assert not verdict.allowed
    assert "authorization PKT-AUTH-7 is valid from 2026-01-01" in verdict.reason
    with pytest.raises(ScopeError) as info:
        guard.authorize(["127.20.1.1"], now=moment)
    assert info.value.hint.startswith(hint)
    with pytest.raises(ScopeError, match="not at") as info:
        guard.segment_plan(["command-center"], now=moment)
    assert info.value.hint.startswith(hint)


def test_segment_plan_lists_hosts_minus_exclusions(guard: ScopeGuard) -> None:
    plan = guard.segment_plan(["traffic-control"], now=NOW)
    got = [str(a.address) for a in plan.addresses]
    assert got == [f"127.20.2.{i}" for i in range(1, 15) if i != 14]
    assert plan.segments() == ("traffic-control",)
    everything = guard.segment_plan([], now=NOW)
    assert set(everything.segments()) == {"command-center", "traffic-control", "lab6"}
    assert ipaddress.ip_address("::1") in {a.address for a in everything.addresses}


def test_unknown_segment_is_a_usage_error(guard: ScopeGuard) -> None:
    with pytest.raises(UsageError, match="unknown segment 'trafic-control'"):
        guard.segment_plan(["trafic-control"], now=NOW)


def test_maintenance_window(guard: ScopeGuard) -> None:
    assert guard.maintenance_window(NOW) is not None
    assert guard.maintenance_window(NOW + timedelta(hours=2)) is None


def test_naive_clock_is_refused(guard: ScopeGuard) -> None:
    with pytest.raises(UsageError, match="time zone"):
        guard.check("127.20.1.1", now=datetime(2026, 3, 1))
