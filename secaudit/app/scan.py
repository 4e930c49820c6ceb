"""Use cases of active scanning: the audit's scan stage, scope checks, inventory and scan drift."""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from secaudit.app import locations
from secaudit.app.locations import history_scope, new_run_id
from secaudit.catalog.profile import load_profile
from secaudit.core.addresses import canonical_text
from secaudit.core.errors import OperationalError, ScopeError, SecauditError, UsageError
from secaudit.core.model import RunStatus, StageOutput
from secaudit.core.profile import IPNetwork, Profile
from secaudit.core.report import ProgressCallback
from secaudit.core.serialize import finding_to_dict, stage_to_dict
from secaudit.history import HistoryStore, HostRecord, InventoryAsset, ScanDiff, ScanRecord, ServiceRecord
from secaudit.scan import ScanOptions, read_nmap_xml, scan_segments
from secaudit.scan.nmapxml import Host, NmapRun
from secaudit.scope import Resolver, ScopeGuard, TargetVerdict, system_resolver

__all__ = [
    "ScanOptions",
    "ScanRun",
    "check_scope",
    "diff_scans",
    "hosts_from_nmap",
    "inventory",
    "record_scan_inventory",
    "run_scan_stage",
    "scan",
    "scan_begun",
]


def run_scan_stage(
    profile: Profile,
    *,
    run_dir: Path,
    now: datetime,
    progress: ProgressCallback,
    segments: Sequence[str] = (),
    options: ScanOptions | None = None,
    history: Path | None = None,
    scan_id: str = "",
) -> StageOutput:
    """Scan every segment of ``profile`` (or the named ones) with its scan profile.

    Findings carry asset, segment and criticality; raw nmap XML lands in ``run_dir/scan/`` and
    every attempt in ``run_dir/scan-audit.jsonl``. Errors are collected per segment.
    With ``history`` (and the audit's run id as ``scan_id``), hosts go into the inventory as nmap
    finishes them, as ``secaudit scan`` does: a scan cut short keeps them, marked incomplete with
    the reason; its end is recorded by :func:`record_scan_inventory` (``begun``, see
    :func:`scan_begun`).
    """
    writer: _InventoryWriter | None = None
    if history is not None and scan_id:
        writer = _InventoryWriter(
            history,
            profile,
            ScanRecord(
                id=scan_id,
                scope=history_scope(profile),
                source="scan",
                started_at=now,
                status="incomplete",
                errors=(UNFINISHED,),
            ),
            coverage=lambda: _coverage(profile, segments, (), now, options),
        )
        options = replace(options or ScanOptions(), on_hosts=writer.hosts)
    try:
        output = scan_segments(
            profile, run_dir=run_dir, now=now, progress=progress, segments=segments, options=options
        )
    except KeyboardInterrupt:
        if writer is not None:
            writer.finish(INTERRUPTED_AUDIT)
        raise
    if output.result.status is RunStatus.INTERRUPTED:
        if writer is not None:
            writer.finish(INTERRUPTED_AUDIT)
        raise KeyboardInterrupt  # the audit stops; the raw XML of what was scanned is in run_dir/scan
    return output


#: Why an audit's scan recorded as it went is incomplete when the audit is stopped mid-scan.
INTERRUPTED_AUDIT = "interrupted (Ctrl-C or SIGTERM) while the audit's scan ran: the hosts recorded are kept"


def scan_begun(store: HistoryStore, scan_id: str) -> bool:
    """Whether the scan ``scan_id`` was recorded as it ran (it saw at least one host)."""
    try:
        store.inventory.get_scan(scan_id)
    except UsageError:
        return False
    return True


def check_scope(
    profile: Profile, targets: Sequence[str], *, now: datetime, resolver: Resolver = system_resolver
) -> list[TargetVerdict]:
    """The guard's verdict for each target; sends nothing except DNS lookups of hostname targets."""
    guard = ScopeGuard(profile, resolver=resolver)
    return [guard.check(t, now=now) for t in targets]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRun:
    """A stand-alone ``secaudit scan``: where it wrote, and what the stage returned."""

    run_id: str
    run_dir: Path
    output: StageOutput
    findings_file: Path
    history: Path | None = None  # where the scan's hosts were merged into the inventory


def scan(
    profile: Profile,
    *,
    now: datetime,
    progress: ProgressCallback,
    segments: Sequence[str] = (),
    targets: Sequence[str] = (),
    output: Path | None = None,
    options: ScanOptions | None = None,
    history: Path | None = None,
    record: bool = True,
) -> ScanRun:
    """Scan outside a full audit: refuse at once when the authorization does not cover ``now``,
    then write raw XML, the audit trail and ``scan-findings.json`` into the run folder
    (``<profile report folder>/<run-id>/`` unless ``output`` is given). With ``targets`` only
    those are scanned, and one out-of-scope target refuses the whole scan before any packet.
    Unless ``record`` is false, the hosts seen are merged into the inventory of the history
    (``history``, else $SECAUDIT_HISTORY, the profile's ``history``, ``<output_dir>/history.sqlite``)."""
    guard = ScopeGuard(profile)
    guard.select_segments(segments)  # unknown names: UsageError before anything else
    problem = guard.authorization_problem(now)
    if problem:
        raise ScopeError(
            f"scan refused, nothing was sent: {problem}",
            location=profile.path,
            hint=guard.authorization_hint(now),
        )
    run_id = new_run_id(now, None if output else Path(profile.report.output_dir))
    run_dir = output or Path(profile.report.output_dir) / run_id
    writer: _InventoryWriter | None = None
    if record:
        # Hosts go into history as nmap finishes them; the scan's end is recorded below.
        writer = _InventoryWriter(
            history_location(profile, history),
            profile,
            ScanRecord(
                id=run_id,
                scope=history_scope(profile),
                source="scan",
                started_at=now,
                status="incomplete",
                errors=(UNFINISHED,),
            ),
            coverage=lambda: _coverage(profile, segments, targets, now, options),
        )
        options = replace(options or ScanOptions(), on_hosts=writer.hosts)
    try:
        result = scan_segments(
            profile,
            run_dir=run_dir,
            now=now,
            progress=progress,
            segments=segments,
            targets=targets,
            options=options,
        )
    except KeyboardInterrupt:
        if writer is not None:
            writer.finish("interrupted (Ctrl-C or SIGTERM) while the scan ran: the hosts recorded are kept")
        raise
    findings_file = run_dir / "scan-findings.json"
    document = {
        "run_id": run_id,
        "profile": profile.path,
        "authorization": profile.authorization.reference,
        "started_at": now.isoformat(),
        "stage": stage_to_dict(result.result),
        "artifacts": list(result.artifacts),
        "findings": [finding_to_dict(f) for f in result.findings],
    }
    try:
        findings_file.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    except OSError as e:
        raise OperationalError(f"cannot write scan results: {e.strerror}", location=str(findings_file)) from e
    history_path = None
    # An interrupted scan is recorded too (as incomplete): what it saw is kept. A failed one is
    # recorded only if some of its hosts already were.
    if writer is not None and (writer.begun or result.result.status is not RunStatus.FAILED):
        history_path = writer.path
        with HistoryStore.open(history_path) as store:
            record_scan_inventory(
                store,
                profile,
                scan_id=run_id,
                started_at=now,
                output=result,
                coverage=writer.coverage(),
                begun=writer.begun,
            )
    return ScanRun(
        run_id=run_id, run_dir=run_dir, output=result, findings_file=findings_file, history=history_path
    )


def history_location(profile: Profile, history: Path | None) -> Path:
    """Where the audit keeps this profile's history (the same rule as ``secaudit audit``)."""
    return locations.history_location(profile, Path(profile.report.output_dir), history)


def _coverage(
    profile: Profile,
    segments: Sequence[str],
    targets: Sequence[str],
    now: datetime,
    options: ScanOptions | None,
) -> tuple[str, ...]:
    """The networks a scan covered: its targets' addresses, else its segments' CIDRs."""
    guard = ScopeGuard(profile, resolver=(options.resolver if options else None) or system_resolver)
    if targets:
        plan = guard.authorize(targets, now=now)  # the scan passed this very check
        return tuple(str(a.address) for a in plan.addresses)
    return tuple(str(net) for seg in guard.select_segments(segments) for net in seg.cidrs)


#: What a scan recorded while it runs says until its end is recorded: it stays if the process
#: died first (killed, power loss), and the hosts recorded until then are kept.
UNFINISHED = (
    "not finished: hosts were recorded as they were scanned, and the scan's end never was "
    "(the process stopped first)"
)


class _InventoryWriter:
    """Records a stand-alone scan in history as it goes: the scan's row with its first hosts
    (a scan that sees nothing leaves no row until its end), then each batch of hosts as nmap
    finishes it. Called from the segments' worker threads: one at a time, each with its own
    connection."""

    def __init__(
        self, path: Path, profile: Profile, scan: ScanRecord, *, coverage: Callable[[], tuple[str, ...]]
    ) -> None:
        self.path = path
        self.profile = profile
        self.scan = scan
        self._coverage = coverage
        self._covered: tuple[str, ...] | None = None
        self._lock = threading.Lock()
        self.begun = False

    def coverage(self) -> tuple[str, ...]:
        if self._covered is None:
            self._covered = self._coverage()
        return self._covered

    def hosts(self, segment: str, hosts: tuple[Host, ...]) -> None:
        records = host_records(hosts, self.profile)
        with self._lock, HistoryStore.open(self.path) as store:
            if not self.begun:
                self.scan = replace(self.scan, coverage=self.coverage())
                store.inventory.begin_scan(self.scan)
                self.begun = True
            store.inventory.add_scan_hosts(self.scan, records)

    def finish(self, reason: str) -> None:
        """Mark a begun scan cut short (its hosts stay); nothing if none was recorded."""
        with self._lock:
            if not self.begun:
                return
            try:
                with HistoryStore.open(self.path) as store:
                    store.inventory.finish_scan(self.scan.id, status="incomplete", errors=(reason,))
            except SecauditError:
                return  # the scan stays marked unfinished, which is still true


def hosts_from_nmap(run: NmapRun, profile: Profile) -> list[HostRecord]:
    """Inventory records of the hosts nmap saw up: addresses, MAC, names, open services, CPEs."""
    return host_records(run.up_hosts(), profile)


def host_records(hosts: Iterable[Host], profile: Profile) -> list[HostRecord]:
    """Inventory records of nmap hosts (see :func:`hosts_from_nmap`)."""
    out = []
    for host in hosts:
        if not host.ip:
            continue
        segment = profile.segment_of(host.ip)
        mac = next((a for a in host.addresses if a.type == "mac"), None)
        services = tuple(
            ServiceRecord(
                protocol=port.protocol,
                port=port.number,
                state=port.state,
                name=port.service.name if port.service else "",
                product=port.service.product if port.service else "",
                version=port.service.version if port.service else "",
                cpes=port.service.cpes if port.service else (),
            )
            for port in host.open_ports()
        )
        out.append(
            HostRecord(
                address=canonical_text(host.ip),
                mac=mac.addr.lower() if mac else "",
                vendor=mac.vendor if mac else "",
                hostname=host.hostnames[0][0] if host.hostnames else "",
                segment=segment.name if segment else "",
                services=services,
            )
        )
    return out


def record_scan_inventory(
    store: HistoryStore,
    profile: Profile,
    *,
    scan_id: str,
    started_at: datetime,
    output: StageOutput,
    coverage: Sequence[str],
    begun: bool = False,
) -> list[HostRecord]:
    """Merge what a scan stage saw (its raw nmap XML artifacts) into the profile's inventory.

    The audit calls this with its run id after the scan stage; ``secaudit scan`` with its own.
    A truncated XML adds the hosts it holds (the scan is then recorded as incomplete). With
    ``begun``, the scan was recorded as it ran: its hosts are completed and its end recorded.
    """
    hosts: dict[str, HostRecord] = {}
    errors = list(output.result.errors)
    for artifact in output.artifacts:
        if not artifact.endswith(".xml"):
            continue
        try:
            run = read_nmap_xml(Path(artifact))
        except SecauditError as e:
            errors.append(str(e))
            continue
        for host in hosts_from_nmap(run, profile):
            hosts.setdefault(host.address, host)
    status = {RunStatus.COMPLETED: "completed", RunStatus.FAILED: "failed"}.get(
        output.result.status, "incomplete"
    )
    if output.result.status is RunStatus.INTERRUPTED:
        errors.insert(0, "interrupted (Ctrl-C or SIGTERM): the hosts scanned before are kept")
    scan = ScanRecord(
        id=scan_id,
        scope=history_scope(profile),
        source="scan",
        started_at=started_at,
        status=status,
        coverage=tuple(coverage),
        errors=tuple(errors),
    )
    if begun:
        store.inventory.add_scan_hosts(scan, list(hosts.values()))
        store.inventory.finish_scan(scan_id, status=status, errors=scan.errors)
    else:
        store.inventory.record_scan(scan, list(hosts.values()))
    return list(hosts.values())


def inventory(profile_path: Path, *, now: datetime, history: Path | None = None) -> list[InventoryAsset]:
    """Every address the profile's scans, sweeps and captures have seen, merged, in address order."""
    profile = load_profile(profile_path, now=now, require_valid_authorization=False)
    path = _existing_history(profile, history)
    with HistoryStore.open(path) as store:
        return store.inventory.assets(history_scope(profile))


def _existing_history(profile: Profile, history: Path | None) -> Path:
    path = history_location(profile, history)
    if not path.exists():
        raise UsageError(
            "no history database here",
            location=str(path),
            hint="run `secaudit scan --profile FILE` twice first, or point --history at its history.sqlite",
        )
    return path


def diff_scans(
    profile_path: Path,
    *,
    now: datetime,
    scan_a: str | None = None,
    scan_b: str | None = None,
    history: Path | None = None,
) -> ScanDiff:
    """Drift between two recorded scans of a profile (default: its last two completed scans)."""
    profile = load_profile(profile_path, now=now, require_valid_authorization=False)
    path = _existing_history(profile, history)
    with HistoryStore.open(path) as store:
        if scan_a and scan_b:
            return _comparable(store.inventory.diff(scan_a, scan_b))
        if scan_a or scan_b:
            raise UsageError("give two scan ids, or none for the last two scans of the profile")
        # Default: the last two complete scans (a cut-short scan would show hosts as gone).
        recent = store.inventory.list_scans(history_scope(profile), limit=100)
        scans = [s for s in recent if s.status == "completed"][:2]
        if len(scans) < 2:
            raise UsageError(
                f"the history holds {len(scans)} completed scan(s) of this profile; drift needs two",
                location=str(path),
                hint="run `secaudit scan --profile FILE` again, then compare",
            )
        return _comparable(store.inventory.diff(scans[1].id, scans[0].id))


def _comparable(diff: ScanDiff) -> ScanDiff:
    """The diff, unless the two scans covered no address in common: then "no change" would be a
    false all-clear, so it is a usage error (exit 2) naming what each covered."""
    a, b = _networks(diff.a.coverage), _networks(diff.b.coverage)
    if a and b and not any(x.version == y.version and x.overlaps(y) for x in a for y in b):
        raise UsageError(
            f"scans {diff.a.id} and {diff.b.id} covered no address in common "
            f"({', '.join(diff.a.coverage[:3])} vs {', '.join(diff.b.coverage[:3])}): nothing to compare",
            hint="compare two scans of the same segments or targets",
        )
    return diff


def _networks(coverage: Sequence[str]) -> list[IPNetwork]:
    out: list[IPNetwork] = []
    for text in coverage:
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
    return out
