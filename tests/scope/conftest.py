from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from secaudit.core.model import Criticality, SegmentKind
from secaudit.core.profile import Authorization, MaintenanceWindow, Profile, Segment

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def segment(name: str, cidrs: str, kind: SegmentKind, exclusions: str = "") -> Segment:
    return Segment(
        name=name,
        cidrs=tuple(ipaddress.ip_network(c) for c in cidrs.split()),
        kind=kind,
        owner="city",
        criticality=Criticality.HIGH,
        scan_profile="ot-safe" if kind in (SegmentKind.OT, SegmentKind.CCTV) else "standard",
        exclusions=tuple(ipaddress.ip_network(c) for c in exclusions.split()),
    )


@pytest.fixture
def profile() -> Profile:
    return Profile(
        path="profile.yaml",
        organisation="Phuket test",
        authorization=Authorization(
            reference="PKT-AUTH-7",
            approver="CISO",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2026, 6, 30, tzinfo=UTC),
            maintenance_windows=(
                MaintenanceWindow(
                    start=datetime(2026, 3, 1, 11, tzinfo=UTC), end=datetime(2026, 3, 1, 13, tzinfo=UTC)
                ),
            ),
        ),
        segments=(
            segment("command-center", "127.20.1.0/28", SegmentKind.IT),
            segment("traffic-control", "127.20.2.0/28", SegmentKind.OT, "127.20.2.14/32"),
            segment("lab6", "::1/128", SegmentKind.IT),
        ),
    )
