"""The network inventory in history: what each scan saw, merged into assets, and drift between scans.

A *scan* is one look at the network: a stand-alone ``secaudit scan``, an audit's scan stage,
an ARP sweep or a passive capture. Each records the hosts it saw (address, MAC, vendor,
hostname, segment, services with product, version and CPEs). Assets merge every scan of a
scope: a MAC or hostname once seen is kept when a later scan cannot see it (a routed scan has
no MAC), ``first_seen`` stays, ``last_seen`` moves. Services come from the latest active scan;
a passive capture only adds services it saw in use.

Drift (:func:`diff_scans`) compares two scans like ndiff: new and gone hosts, ports opened and
closed, service or version changes, over the addresses both scans covered (a scan of one
segment does not make the other segments' hosts look gone).
"""

from __future__ import annotations

import ipaddress
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from secaudit.core.errors import HistoryError, UsageError
from secaudit.history.codec import dump_json, from_db_time, to_db_time
from secaudit.history.connection import database_error

SCAN_SOURCES = ("scan", "arp", "passive")
SCAN_STATUSES = ("completed", "incomplete", "failed")
OPEN_STATES = ("open", "open|filtered")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRecord:
    """One port of a host as a scan saw it."""

    protocol: str
    port: int
    state: str = "open"
    name: str = ""
    product: str = ""
    version: str = ""
    cpes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.port}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def label(self) -> str:
        """``name product version`` (what drift compares), e.g. ``ssh OpenSSH 9.2p1``."""
        return " ".join(p for p in (self.name, self.product, self.version) if p)

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "port": self.port,
            "state": self.state,
            "name": self.name,
            "product": self.product,
            "version": self.version,
            "cpes": list(self.cpes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceRecord:
        return cls(
            protocol=str(data["protocol"]),
            port=int(data["port"]),
            state=str(data.get("state", "open")),
            name=str(data.get("name", "")),
            product=str(data.get("product", "")),
            version=str(data.get("version", "")),
            cpes=tuple(str(c) for c in data.get("cpes", ())),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class HostRecord:
    """One host as one scan saw it."""

    address: str
    mac: str = ""
    vendor: str = ""
    hostname: str = ""
    segment: str = ""
    services: tuple[ServiceRecord, ...] = ()

    @property
    def cpes(self) -> tuple[str, ...]:
        return tuple(sorted({c for s in self.services for c in s.cpes}))

    def open_services(self) -> dict[str, ServiceRecord]:
        return {s.key: s for s in self.services if s.is_open}

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "mac": self.mac,
            "vendor": self.vendor,
            "hostname": self.hostname,
            "segment": self.segment,
            "services": [s.to_dict() for s in sorted(self.services, key=_service_order)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostRecord:
        return cls(
            address=str(data["address"]),
            mac=str(data.get("mac", "")),
            vendor=str(data.get("vendor", "")),
            hostname=str(data.get("hostname", "")),
            segment=str(data.get("segment", "")),
            services=tuple(ServiceRecord.from_dict(s) for s in data.get("services", ())),
        )


def _service_order(s: ServiceRecord) -> tuple[str, int]:
    return (s.protocol, s.port)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRecord:
    """One scan as history keeps it."""

    id: str
    scope: str
    source: str
    started_at: datetime
    status: str
    coverage: tuple[str, ...] = ()  # networks scanned ("127.20.1.0/28", "10.0.0.5/32"); () = unknown
    errors: tuple[str, ...] = ()

    def covers(self, address: str) -> bool:
        if not self.coverage:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == n.version and ip in n for n in _networks(self.coverage))


def _networks(texts: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for text in texts:
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryAsset:
    """One address of a scope, merged over every scan that saw it."""

    host: HostRecord
    first_seen: datetime
    last_seen: datetime
    first_scan_id: str
    last_scan_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceChange:
    address: str
    key: str  # "tcp/22"
    before: str  # ServiceRecord.label
    after: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanDiff:
    """What changed from scan ``a`` (older) to scan ``b``; every part sorted."""

    a: ScanRecord
    b: ScanRecord
    new_hosts: tuple[HostRecord, ...] = ()
    gone_hosts: tuple[HostRecord, ...] = ()
    opened: tuple[tuple[str, ServiceRecord], ...] = ()  # (address, service)
    closed: tuple[tuple[str, ServiceRecord], ...] = ()
    changed: tuple[ServiceChange, ...] = ()

    @property
    def same(self) -> bool:
        return not (self.new_hosts or self.gone_hosts or self.opened or self.closed or self.changed)


def _address_key(address: str) -> tuple[int, str]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (9, address)
    return (ip.version, f"{int(ip):040d}")


def diff_scans(
    a: ScanRecord, a_hosts: Iterable[HostRecord], b: ScanRecord, b_hosts: Iterable[HostRecord]
) -> ScanDiff:
    """Drift from ``a`` to ``b`` over the addresses both scans covered."""

    def covered(h: HostRecord) -> bool:
        return a.covers(h.address) and b.covers(h.address)

    before = {h.address: h for h in a_hosts if covered(h)}
    after = {h.address: h for h in b_hosts if covered(h)}
    opened: list[tuple[str, ServiceRecord]] = []
    closed: list[tuple[str, ServiceRecord]] = []
    changed: list[ServiceChange] = []
    for address in sorted(set(before) & set(after), key=_address_key):
        old, new = before[address].open_services(), after[address].open_services()
        opened += [(address, new[k]) for k in sorted(set(new) - set(old), key=_port_key)]
        closed += [(address, old[k]) for k in sorted(set(old) - set(new), key=_port_key)]
        changed += [
            ServiceChange(address=address, key=k, before=old[k].label, after=new[k].label)
            for k in sorted(set(old) & set(new), key=_port_key)
            if old[k].label != new[k].label
        ]
    return ScanDiff(
        a=a,
        b=b,
        new_hosts=tuple(after[x] for x in sorted(set(after) - set(before), key=_address_key)),
        gone_hosts=tuple(before[x] for x in sorted(set(before) - set(after), key=_address_key)),
        opened=tuple(opened),
        closed=tuple(closed),
        changed=tuple(changed),
    )


def _port_key(key: str) -> tuple[str, int]:
    proto, _, port = key.partition("/")
    return (proto, int(port) if port.isdigit() else 0)


def _merge(old: HostRecord, new: HostRecord, *, passive: bool) -> HostRecord:
    if passive:
        services = {s.key: s for s in old.services}
        for s in new.services:
            services.setdefault(s.key, s)
        merged = tuple(services.values())
    else:
        merged = new.services
    return HostRecord(
        address=new.address,
        mac=new.mac or old.mac,
        vendor=new.vendor or old.vendor,
        hostname=new.hostname or old.hostname,
        segment=new.segment or old.segment,
        services=merged,
    )


class Inventory:
    """Inventory reads and writes on an open history connection (see ``HistoryStore.inventory``)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path

    def _fail(self, e: sqlite3.Error, action: str) -> HistoryError:
        return database_error(e, str(self._path), action)

    def record_scan(self, scan: ScanRecord, hosts: Sequence[HostRecord]) -> None:
        """Store one scan and what it saw, and merge its hosts into the scope's assets (one transaction)."""
        with self._transaction(f"record scan {scan.id}") as conn:
            self._insert_scan(conn, scan)
            self._add_hosts(conn, scan, hosts)

    # A scan recorded as it goes: its row first (status 'incomplete', with why), then its hosts
    # batch by batch, then its end. A scan whose process died keeps the hosts already added and
    # stays 'incomplete' with the reason given at the start.
    def begin_scan(self, scan: ScanRecord) -> None:
        """Store a scan that is starting (no hosts yet); :meth:`add_scan_hosts` adds them."""
        with self._transaction(f"record scan {scan.id}") as conn:
            self._insert_scan(conn, scan)

    def add_scan_hosts(self, scan: ScanRecord, hosts: Sequence[HostRecord]) -> None:
        """Add hosts to a begun scan and merge them into the assets; a host added again replaces
        what the scan held of it."""
        with self._transaction(f"add hosts to scan {scan.id}") as conn:
            if not conn.execute("SELECT 1 FROM scans WHERE id = ?", (scan.id,)).fetchone():
                raise HistoryError(f"scan {scan.id!r} was not begun", location=str(self._path))
            self._add_hosts(conn, scan, hosts)

    def finish_scan(self, scan_id: str, *, status: str, errors: Sequence[str]) -> None:
        """Record how a begun scan ended."""
        if status not in SCAN_STATUSES:
            raise ValueError(f"scan status must be in {SCAN_STATUSES}")
        with self._transaction(f"finish scan {scan_id}") as conn:
            done = conn.execute(
                "UPDATE scans SET status = ?, errors = ? WHERE id = ?",
                (status, dump_json(list(errors)), scan_id),
            )
            if done.rowcount != 1:
                raise HistoryError(f"scan {scan_id!r} was not begun", location=str(self._path))

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise self._fail(e, action) from e

    def _insert_scan(self, conn: sqlite3.Connection, scan: ScanRecord) -> None:
        if scan.source not in SCAN_SOURCES or scan.status not in SCAN_STATUSES:
            raise ValueError(f"scan source/status must be in {SCAN_SOURCES}/{SCAN_STATUSES}")
        if conn.execute("SELECT 1 FROM scans WHERE id = ?", (scan.id,)).fetchone():
            raise HistoryError(
                f"scan {scan.id!r} is already recorded",
                location=str(self._path),
                hint="give every scan a fresh id",
            )
        conn.execute(
            "INSERT INTO scans (id, scope, source, started_at, status, coverage, errors)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                scan.id,
                scan.scope,
                scan.source,
                to_db_time(scan.started_at),
                scan.status,
                dump_json(list(scan.coverage)),
                dump_json(list(scan.errors)),
            ),
        )

    def _add_hosts(self, conn: sqlite3.Connection, scan: ScanRecord, hosts: Sequence[HostRecord]) -> None:
        seen_at = to_db_time(scan.started_at)
        unique = {h.address: h for h in hosts}
        conn.executemany(
            "INSERT INTO scan_hosts (scan_id, address, host) VALUES (?, ?, ?)"
            " ON CONFLICT (scan_id, address) DO UPDATE SET host = excluded.host",
            [(scan.id, a, dump_json(h.to_dict())) for a, h in unique.items()],
        )
        for host in unique.values():
            self._upsert(conn, scan, host, seen_at)

    def _upsert(self, conn: sqlite3.Connection, scan: ScanRecord, host: HostRecord, seen_at: str) -> None:
        row = conn.execute(
            "SELECT mac, vendor, hostname, segment, services FROM assets WHERE scope = ? AND address = ?",
            (scan.scope, host.address),
        ).fetchone()
        if row is not None:
            old = HostRecord(
                address=host.address,
                mac=row["mac"],
                vendor=row["vendor"],
                hostname=row["hostname"],
                segment=row["segment"],
                services=tuple(ServiceRecord.from_dict(s) for s in json.loads(row["services"])),
            )
            host = _merge(old, host, passive=scan.source != "scan")
        services = dump_json([s.to_dict() for s in sorted(host.services, key=_service_order)])
        conn.execute(
            "INSERT INTO assets (scope, address, mac, vendor, hostname, segment, services,"
            " first_seen, last_seen, first_scan_id, last_scan_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (scope, address) DO UPDATE SET mac = excluded.mac, vendor = excluded.vendor,"
            " hostname = excluded.hostname, segment = excluded.segment, services = excluded.services,"
            " last_seen = max(last_seen, excluded.last_seen), last_scan_id = CASE WHEN excluded.last_seen"
            " >= last_seen THEN excluded.last_scan_id ELSE last_scan_id END",
            (
                scan.scope,
                host.address,
                host.mac,
                host.vendor,
                host.hostname,
                host.segment,
                services,
                seen_at,
                seen_at,
                scan.id,
                scan.id,
            ),
        )

    # -- reading ----------------------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[object], action: str) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise self._fail(e, action) from e

    @staticmethod
    def _scan(row: sqlite3.Row) -> ScanRecord:
        return ScanRecord(
            id=row["id"],
            scope=row["scope"],
            source=row["source"],
            started_at=from_db_time(row["started_at"]),
            status=row["status"],
            coverage=tuple(json.loads(row["coverage"])),
            errors=tuple(json.loads(row["errors"])),
        )

    def get_scan(self, scan_id: str) -> ScanRecord:
        rows = self._rows("SELECT * FROM scans WHERE id = ?", (scan_id,), "read a scan")
        if not rows:
            raise UsageError(
                f"no scan {scan_id!r} in this history",
                location=str(self._path),
                hint="use a scan id that `secaudit scan --json` printed as run_id, or check the history path",
            )
        return self._scan(rows[0])

    def list_scans(self, scope: str, *, source: str = "scan", limit: int = 20) -> list[ScanRecord]:
        """The latest scans of ``scope`` from ``source``, newest first."""
        rows = self._rows(
            "SELECT * FROM scans WHERE scope = ? AND source = ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (scope, source, limit),
            "list scans",
        )
        return [self._scan(r) for r in rows]

    def scan_hosts(self, scan_id: str) -> list[HostRecord]:
        self.get_scan(scan_id)
        rows = self._rows(
            "SELECT host FROM scan_hosts WHERE scan_id = ?", (scan_id,), "read the hosts of a scan"
        )
        return sorted(
            (HostRecord.from_dict(json.loads(r["host"])) for r in rows), key=lambda h: _address_key(h.address)
        )

    def assets(self, scope: str) -> list[InventoryAsset]:
        """Every address of ``scope`` ever seen, merged, in address order."""
        rows = self._rows("SELECT * FROM assets WHERE scope = ?", (scope,), "read the inventory")
        out = [
            InventoryAsset(
                host=HostRecord(
                    address=r["address"],
                    mac=r["mac"],
                    vendor=r["vendor"],
                    hostname=r["hostname"],
                    segment=r["segment"],
                    services=tuple(ServiceRecord.from_dict(s) for s in json.loads(r["services"])),
                ),
                first_seen=from_db_time(r["first_seen"]),
                last_seen=from_db_time(r["last_seen"]),
                first_scan_id=r["first_scan_id"],
                last_scan_id=r["last_scan_id"],
            )
            for r in rows
        ]
        return sorted(out, key=lambda a: _address_key(a.host.address))

    def diff(self, scan_a: str, scan_b: str) -> ScanDiff:
        """Drift from ``scan_a`` to ``scan_b`` (given in either order; the older is the base)."""
        a, b = self.get_scan(scan_a), self.get_scan(scan_b)
        if a.scope != b.scope:
            raise UsageError(
                f"scans {a.id} and {b.id} belong to different profiles",
                location=str(self._path),
                hint="compare two scans of the same profile",
            )
        if (b.started_at, b.id) < (a.started_at, a.id):
            a, b = b, a
        return diff_scans(a, self.scan_hosts(a.id), b, self.scan_hosts(b.id))
