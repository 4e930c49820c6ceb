"""The inventory in history: scans recorded in one transaction, assets merged, drift by coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secaudit.core.errors import HistoryError, UsageError
from secaudit.history import HistoryStore, HostRecord, ScanRecord, ServiceRecord, diff_scans

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
SSH92 = ServiceRecord(protocol="tcp", port=22, name="ssh", product="OpenSSH", version="9.2p1",
                      cpes=("cpe:/a:openbsd:openssh:9.2p1",))  # fmt: skip
SSH74 = ServiceRecord(protocol="tcp", port=22, name="ssh", product="OpenSSH", version="7.4")
HTTP = ServiceRecord(protocol="tcp", port=80, name="http")
MODBUS = ServiceRecord(protocol="tcp", port=502, name="modbus")


def scan(
    sid: str, hours: int, coverage: tuple[str, ...] = ("10.0.1.0/24",), source: str = "scan"
) -> ScanRecord:
    return ScanRecord(
        id=sid, scope="city", source=source, started_at=T0 + timedelta(hours=hours), status="completed",
        coverage=coverage,
    )  # fmt: skip


def host(address: str, *services: ServiceRecord, mac: str = "", segment: str = "office") -> HostRecord:
    return HostRecord(address=address, mac=mac, segment=segment, services=services)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with HistoryStore.open(tmp_path / "h.sqlite") as s:
        yield s


def test_assets_merge_across_scans(store: HistoryStore) -> None:
    inv = store.inventory
    inv.record_scan(scan("s1", 0), [host("10.0.1.5", SSH74, mac="00:11:22:33:44:55"), host("10.0.1.9", HTTP)])
    inv.record_scan(scan("s2", 1), [host("10.0.1.5", SSH92, HTTP)])  # routed scan: no MAC
    assets = {a.host.address: a for a in inv.assets("city")}
    five = assets["10.0.1.5"]
    assert five.host.mac == "00:11:22:33:44:55"  # kept from the first scan
    assert [s.label for s in five.host.services] == ["ssh OpenSSH 9.2p1", "http"]
    assert five.host.cpes == ("cpe:/a:openbsd:openssh:9.2p1",)
    assert (five.first_scan_id, five.last_scan_id) == ("s1", "s2")
    assert (five.first_seen, five.last_seen) == (T0, T0 + timedelta(hours=1))
    assert (assets["10.0.1.9"].last_scan_id, assets["10.0.1.9"].last_seen) == ("s1", T0)
    assert inv.assets("other-profile") == []


def test_passive_capture_adds_services_without_removing_scanned_ones(store: HistoryStore) -> None:
    inv = store.inventory
    inv.record_scan(scan("s1", 0), [host("10.0.1.5", SSH92)])
    inv.record_scan(scan("p1", 1, source="passive"), [host("10.0.1.5", MODBUS, mac="aa:bb:cc:00:00:01")])
    (asset,) = inv.assets("city")
    assert [s.key for s in asset.host.services] == ["tcp/22", "tcp/502"]
    assert asset.host.mac == "aa:bb:cc:00:00:01"
    assert [s.id for s in inv.list_scans("city")] == ["s1"]  # drift compares active scans only
    assert [s.id for s in inv.list_scans("city", source="passive")] == ["p1"]


def test_diff_reports_hosts_ports_and_versions(store: HistoryStore) -> None:
    inv = store.inventory
    inv.record_scan(scan("s1", 0), [host("10.0.1.5", SSH74, HTTP), host("10.0.1.7")])
    inv.record_scan(scan("s2", 1), [host("10.0.1.5", SSH92, MODBUS), host("10.0.1.8", HTTP)])
    diff = inv.diff("s2", "s1")  # either order: the older is the base
    assert (diff.a.id, diff.b.id, diff.same) == ("s1", "s2", False)
    assert [h.address for h in diff.new_hosts] == ["10.0.1.8"]
    assert [h.address for h in diff.gone_hosts] == ["10.0.1.7"]
    assert [(a, s.key) for a, s in diff.opened] == [("10.0.1.5", "tcp/502")]
    assert [(a, s.key) for a, s in diff.closed] == [("10.0.1.5", "tcp/80")]
    assert [(c.address, c.key, c.before, c.after) for c in diff.changed] == [
        ("10.0.1.5", "tcp/22", "ssh OpenSSH 7.4", "ssh OpenSSH 9.2p1")
    ]
    assert inv.diff("s1", "s1").same


def test_diff_compares_only_what_both_scans_covered() -> None:
    a = scan("a", 0, coverage=("10.0.1.0/24", "10.0.2.0/24"))
    b = scan("b", 1, coverage=("10.0.2.0/24",))
    diff = diff_scans(a, [host("10.0.1.5", SSH92), host("10.0.2.5", HTTP)], b, [host("10.0.2.5", HTTP)])
    assert diff.same


def test_a_scan_is_recorded_once_and_unknown_ids_are_usage_errors(store: HistoryStore) -> None:
    store.inventory.record_scan(scan("s1", 0), [host("10.0.1.5")])
    with pytest.raises(HistoryError, match="already recorded"):
        store.inventory.record_scan(scan("s1", 0), [host("10.0.1.6")])
    assert [h.address for h in store.inventory.scan_hosts("s1")] == ["10.0.1.5"]  # rolled back whole
    with pytest.raises(UsageError, match="no scan 'nope'"):
        store.inventory.diff("s1", "nope")
