from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.core.model import Criticality, SegmentKind
from secaudit.core.profile import Authorization, InventoryAsset, MaintenanceWindow, Profile, Segment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nmap"

LAYOUT = (  # the demo layout (samples/phuket-demo.yaml)
    ("command-center", "127.20.1.0/28", SegmentKind.IT, Criticality.HIGH, ""),
    (
        "traffic-control",
        "127.20.2.0/28",
        SegmentKind.OT,
        Criticality.PUBLIC_SAFETY_CRITICAL,
        "127.20.2.14/32",
    ),
    ("cctv", "127.20.3.0/28", SegmentKind.CCTV, Criticality.HIGH, ""),
    ("city-data", "127.20.4.0/28", SegmentKind.IT, Criticality.CRITICAL, ""),
    ("dmz", "127.20.5.0/28", SegmentKind.DMZ, Criticality.HIGH, ""),
    ("mgmt", "127.20.6.0/28", SegmentKind.MGMT, Criticality.HIGH, ""),
)


def make_profile(layout=LAYOUT, *, valid_until=datetime(2030, 12, 31, tzinfo=UTC), windows=()) -> Profile:  # type: ignore[no-untyped-def]
    return Profile(
        path="tests/phuket-test.yaml",
        organisation="Phuket test",
        authorization=Authorization(
            reference="PKT-TEST-1",
            approver="CISO",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=valid_until,
            maintenance_windows=tuple(MaintenanceWindow(start=s, end=e) for s, e in windows),
        ),
        segments=tuple(
            Segment(
                name=name,
                cidrs=(ipaddress.ip_network(cidr),),
                kind=kind,
                owner="city",
                criticality=crit,
                scan_profile="ot-safe" if kind in (SegmentKind.OT, SegmentKind.CCTV) else "standard",
                exclusions=tuple(ipaddress.ip_network(x) for x in excl.split()),
            )
            for name, cidr, kind, crit, excl in layout
        ),
        assets=(
            InventoryAsset(
                name="signal-ctl-01",
                address="127.20.2.10",
                role="Traffic-signal controller",
                criticality=Criticality.PUBLIC_SAFETY_CRITICAL,
                segment="traffic-control",
            ),
        ),
    )


@pytest.fixture
def profile() -> Profile:
    return make_profile()


@pytest.fixture
def profile_factory():  # type: ignore[no-untyped-def]
    return make_profile
