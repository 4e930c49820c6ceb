"""Discovery use cases: passive (captures; no packet sent) and the ARP sweep (active, scoped)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from secaudit.app.locations import history_scope
from secaudit.app.scan import history_location
from secaudit.catalog.profile import load_profile
from secaudit.core.addresses import canonical_text
from secaudit.core.errors import OperationalError, UsageError
from secaudit.core.model import Finding, RunStatus
from secaudit.core.profile import Profile
from secaudit.core.serialize import finding_to_dict
from secaudit.history import HistoryStore, HostRecord, ScanRecord, ServiceRecord
from secaudit.scan.discovery import ArpHost, ArpSweep, arp_sweep
from secaudit.scan.flows import load_flow_policy
from secaudit.scan.oui import OuiTable
from secaudit.scan.passive import PassiveResult, analyze
from secaudit.scan.passive_findings import passive_findings
from secaudit.scope import AuditTrail

__all__ = ["DiscoverRun", "SweepRun", "discover_pcap", "passive_to_dict", "sweep_segment"]


@dataclass
class DiscoverRun:
    result: PassiveResult
    findings: list[Finding]
    status: RunStatus
    scan_id: str
    history: Path | None = None
    output: Path | None = None
    errors: list[str] = field(default_factory=list)


def _new_id(now: datetime, kind: str) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{kind}-{secrets.token_hex(4)}"


def discover_pcap(
    paths: Sequence[Path],
    *,
    now: datetime,
    profile_path: Path | None = None,
    flows_path: Path | None = None,
    history: Path | None = None,
    output: Path | None = None,
    oui: OuiTable | None = None,
) -> DiscoverRun:
    """Read the captures; findings need no profile, segment flows and the inventory do.

    With a profile, the hosts seen are merged into its inventory (source: passive). Raises
    :class:`OperationalError` when no capture could be read; partial reads are errors in the result.
    """
    if not paths:
        raise UsageError("no capture given", hint="name one or more files with --pcap FILE")
    if flows_path is not None and profile_path is None:
        raise UsageError("--flows needs --profile", hint="the flow policy names the profile's segments")
    profile = load_profile(profile_path, now=now, require_valid_authorization=False) if profile_path else None
    policy = load_flow_policy(flows_path, profile) if profile is not None else None
    table = oui or OuiTable.load()
    result = analyze(list(paths), vendor_of=table.vendor)
    findings = passive_findings(result, profile=profile, policy=policy, observed_at=now)
    status = RunStatus.INCOMPLETE if result.errors else RunStatus.COMPLETED
    run = DiscoverRun(
        result=result,
        findings=findings,
        status=status,
        scan_id=_new_id(now, "pcap"),
        errors=list(result.errors),
    )
    if profile is not None:
        run.history = history_location(profile, history)
        with HistoryStore.open(run.history) as store:
            store.inventory.record_scan(
                ScanRecord(
                    id=run.scan_id,
                    scope=history_scope(profile),
                    source="passive",
                    started_at=now,
                    status="incomplete" if result.errors else "completed",
                    errors=tuple(result.errors),
                ),
                _passive_hosts(result, profile),
            )
    if output is not None:
        _write(output, passive_to_dict(run))
        run.output = output
    return run


def _passive_hosts(result: PassiveResult, profile: Profile) -> list[HostRecord]:
    out = []
    for host in result.hosts:
        segment = profile.segment_of(host.address)
        services = tuple(
            ServiceRecord(protocol=s.split("/")[0], port=int(s.split("/")[1]), state="open")
            for s in host.services
        )
        out.append(
            HostRecord(
                address=canonical_text(host.address),
                mac=host.macs[0] if host.macs else "",
                vendor=host.vendor,
                segment=segment.name if segment else "",
                services=services,
            )
        )
    return out


def passive_to_dict(run: DiscoverRun) -> dict[str, object]:
    r = run.result
    return {
        "scan_id": run.scan_id,
        "status": run.status.value,
        "files": r.files,
        "packets": r.packets,
        "decoded": r.decoded,
        "errors": run.errors,
        "hosts": [
            {
                "address": h.address,
                "macs": list(h.macs),
                "vendor": h.vendor,
                "packets_sent": h.packets_sent,
                "packets_received": h.packets_received,
                "services": list(h.services),
            }
            for h in r.hosts
        ],
        "protocols": r.protocols(),
        "flows": [
            {
                "client": f.client,
                "server": f.server,
                "protocol": f.protocol,
                "port": f.port,
                "service": f.service,
                "packets": f.packets,
                "bytes": f.bytes,
            }
            for f in r.flows
        ],
        "ics": [
            {
                "client": op.client,
                "server": op.server,
                "protocol": op.protocol,
                "unit": op.unit,
                "function": op.function,
                "name": op.name,
                "write": op.write,
                "count": op.count,
            }
            for op in r.ics
        ],
        "credentials": [
            {
                "protocol": c.protocol,
                "client": c.client,
                "server": c.server,
                "port": c.port,
                "user": c.user,
                "secret": c.secret,
                "detail": c.detail,
                "count": c.count,
            }
            for c in r.credentials
        ],
        "findings": [finding_to_dict(f) for f in run.findings],
    }


def _write(path: Path, document: dict[str, object]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        )
    except OSError as e:
        raise OperationalError(f"cannot write discovery results: {e.strerror}", location=str(path)) from e


# ----------------------------------------------------------------------------------- ARP sweep
@dataclass
class SweepRun:
    sweep: ArpSweep
    scan_id: str
    history: Path | None = None


def sweep_segment(
    profile_path: Path,
    segment: str,
    *,
    now: datetime,
    interface: str | None = None,
    history: Path | None = None,
    audit_file: Path | None = None,
    timeout_s: float = 1.0,
    oui: OuiTable | None = None,
) -> SweepRun:
    """ARP-sweep one authorized segment (root); the guard refuses before any packet otherwise."""
    profile = load_profile(profile_path, now=now, require_valid_authorization=False)
    scan_id = _new_id(now, "arp")
    trail = AuditTrail(audit_file or Path(profile.report.output_dir) / "discover-audit.jsonl")
    table = oui or OuiTable.load()
    sweep = arp_sweep(
        profile,
        segment,
        now=now,
        trail=trail,
        interface=interface,
        timeout_s=timeout_s,
        vendor_of=table.vendor,
    )
    run = SweepRun(sweep=sweep, scan_id=scan_id)
    run.history = history_location(profile, history)
    with HistoryStore.open(run.history) as store:
        store.inventory.record_scan(
            ScanRecord(
                id=scan_id,
                scope=history_scope(profile),
                source="arp",
                started_at=now,
                status="incomplete" if sweep.stopped else "completed",
                coverage=tuple(sweep.coverage),
            ),
            [_arp_host(h) for h in sweep.hosts],
        )
    return run


def _arp_host(h: ArpHost) -> HostRecord:
    return HostRecord(address=h.address, mac=h.mac, vendor=h.vendor, segment=h.segment)
