"""The audit's vuln stage: known vulnerabilities of installed packages and scanned services.

Packages come from the dpkg status file of each baseline target that has one (``offline:`` roots,
``local``, ``ssh://`` hosts inside the authorized scope); the distribution is the target's
os-release ``ID`` (Debian or Ubuntu) and the release its ``VERSION_CODENAME``; the profile's
``vuln.release`` stands in for targets that do not say. Debian is matched against the Debian Security Tracker
when the store holds that release, else Debian's OVAL; Ubuntu against Ubuntu's OVAL. Services come from the
nmap XML that this run's scan stage wrote into the run folder, so the stage runs after the scan.
Everything is matched against the feed store only: nothing is fetched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from secaudit.baseline import open_target
from secaudit.baseline.stage import target_asset
from secaudit.baseline.target import Target
from secaudit.catalog.kev import Kev
from secaudit.core.errors import ConfigError, OperationalError, ScopeError, SecauditError
from secaudit.core.model import Finding, RunStatus, StageOutput, StageResult
from secaudit.core.profile import BaselineTarget, Profile, VulnSettings
from secaudit.core.report import ProgressCallback, ProgressEvent
from secaudit.scan import read_nmap_xml
from secaudit.scan.stage import SCAN_DIR
from secaudit.scope import ScopeGuard
from secaudit.vuln.feeds import FeedKind
from secaudit.vuln.findings import (
    Enrichment,
    cves_of,
    osv_finding,
    package_finding,
    rpm_finding,
    service_finding,
)
from secaudit.vuln.match import (
    PackageMatch,
    Service,
    ServiceMatch,
    match_packages,
    match_services,
    os_release,
    parse_dpkg_status,
)
from secaudit.vuln.pypi import ECOSYSTEM as PYPI
from secaudit.vuln.pypi import SITE_PATTERNS, OsvMatch, PythonPackage, match_python, parse_metadata
from secaudit.vuln.rpmdb import ECOSYSTEMS as RPM_ECOSYSTEMS
from secaudit.vuln.rpmdb import RPMDB_DIRS, RPMDB_FILES, RpmMatch, match_rpm, query_rpmdb
from secaudit.vuln.store import VulnStore, default_store_path, stale_feeds

STAGE = "vuln"
RESULTS_FILE = "vuln-results.json"  # the feeds used (dates, hashes) and what was matched, per target
DPKG_STATUS = "/var/lib/dpkg/status"
OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")
# os-release ID -> the distribution feeds that speak for it, the first one holding the release wins
# (the tracker before Debian's OVAL: it tells "not affected" from "no fix yet", the OVAL cannot)
_DISTRO_FEEDS = {
    "debian": (FeedKind.DEBIAN_TRACKER, FeedKind.DEBIAN_OVAL),
    "ubuntu": (FeedKind.UBUNTU_OVAL,),
}


def store_path(settings: VulnSettings | None) -> Path:
    return Path(settings.store) if settings and settings.store else default_store_path()


def stored_kev(profile: Profile) -> Kev | None:
    """The KEV catalogue imported into the vuln stage's feed store, when the profile has that stage
    and no KEV file of its own was imported (``secaudit kev import`` / profile ``kev:``)."""
    where = store_path(profile.vuln)
    if profile.vuln is None or not where.exists():
        return None
    with VulnStore.open(where, create=False) as store:
        return store.kev_catalogue()


@dataclass(slots=True)
class _Inventory:
    """What the stage read: package matches per target, CVEs the distribution decided per asset."""

    matches: list[tuple[BaselineTarget, PackageMatch]] = field(default_factory=list)
    osv: list[tuple[BaselineTarget, OsvMatch]] = field(default_factory=list)
    rpm: list[tuple[BaselineTarget, RpmMatch]] = field(default_factory=list)
    decided: dict[str, set[str]] = field(default_factory=dict)  # asset key -> CVEs
    errors: list[str] = field(default_factory=list)
    matched: list[dict[str, object]] = field(default_factory=list)  # per target, for the results file
    targets: int = 0
    skipped: int = 0


def _python_packages(target: Target) -> list[PythonPackage]:
    """Python packages installed outside the distribution (see :mod:`secaudit.vuln.pypi`)."""
    found: list[PythonPackage] = []
    for pattern in SITE_PATTERNS:
        for site in target.glob(pattern):
            for info in target.glob(f"{site}/*.dist-info"):
                text = target.read_text(f"{info}/METADATA")
                named = parse_metadata(text) if text else None
                if named is not None:
                    found.append(PythonPackage(name=named[0], version=named[1], location=info))
    return found


def _rpmdb_files(target: Target) -> dict[str, bytes]:
    """The rpm database's files, from the first folder that holds one."""
    for folder in RPMDB_DIRS:
        files = {n: b for n in RPMDB_FILES if (b := target.read_bytes(f"{folder}/{n}")) is not None}
        if files:
            return files
    return {}


def _rpm(
    profile: Profile,
    store: VulnStore,
    entry: BaselineTarget,
    facts: dict[str, str],
    files: dict[str, bytes],
    ecosystems: set[str],
    found: _Inventory,
) -> None:
    ecosystem = f"{RPM_ECOSYSTEMS[facts['ID']]}:{facts.get('VERSION_ID', '').split('.')[0]}"
    if ecosystem not in ecosystems:
        found.skipped += 1
        found.errors.append(
            f"{entry.target}: no OSV feed for {ecosystem} in the store, rpm packages not matched"
        )
        return
    try:
        packages = query_rpmdb(files, entry.target)
    except SecauditError as e:
        found.skipped += 1
        found.errors.append(f"{entry.target}: {e}")
        return
    matches = match_rpm(store, packages, ecosystem)
    found.rpm += [(entry, m) for m in matches]
    found.targets += 1
    found.matched.append(
        {
            "target": entry.target,
            "distribution": facts["ID"],
            "feed": FeedKind.OSV.value,
            "ecosystem": ecosystem,
            "rpm_packages": len(packages),
            "matches": len(matches),
            "no_fix_yet": sum(m.fixed is None for m in matches),
        }
    )
    # the distribution decided these CVEs for this host: its verdict stands over banner matches
    names = {p.name for p in packages} | {p.source for p in packages}
    decided = {a.cve for items in store.osv(ecosystem, sorted(names)).values() for a in items if a.cve}
    found.decided.setdefault(target_asset(profile, entry).key, set()).update(decided)


def _packages(profile: Profile, store: VulnStore, now: datetime, found: _Inventory) -> None:
    settings = profile.vuln or VulnSettings()
    base = Path(profile.path).resolve().parent if profile.path else Path.cwd()
    guard = ScopeGuard(profile)
    releases = {origin: set(store.releases(origin)) for feeds in _DISTRO_FEEDS.values() for origin in feeds}
    ecosystems = {e for f in store.feeds() if f.kind is FeedKind.OSV for e in f.version.split(",")}
    with_osv = PYPI in ecosystems

    def scope(address: str) -> None:
        verdict = guard.check(address, now=now)
        if not verdict.allowed:
            raise ScopeError(f"not connecting: {verdict.explain()}", location=profile.path)

    for entry in profile.baseline_targets:
        if entry.target.startswith("file:"):
            continue  # one configuration file: no package database
        try:
            with open_target(entry.target, base=base, scope=scope) as target:
                status = target.read_text(DPKG_STATUS)
                facts = next((os_release(t) for p in OS_RELEASE if (t := target.read_text(p))), {})
                python = _python_packages(target) if with_osv else []
                rpmdb = _rpmdb_files(target) if status is None and facts.get("ID") in RPM_ECOSYSTEMS else {}
        except SecauditError as e:
            found.errors.append(f"{entry.target}: {e}")
            found.skipped += 1
            continue
        if python:
            osv = match_python(store, python)
            found.osv += [(entry, m) for m in osv.matches]
            found.matched.append(
                {
                    "target": entry.target,
                    "feed": FeedKind.OSV.value,
                    "ecosystem": PYPI,
                    "python_packages": osv.packages,
                    "matches": len(osv.matches),
                    "no_fix_yet": sum(m.fixed is None for m in osv.matches),
                    "unordered_versions": osv.unordered,
                    "withdrawn_records": osv.withdrawn,
                }
            )
        if status is None and rpmdb:
            _rpm(profile, store, entry, facts, rpmdb, ecosystems, found)
            continue
        if status is None:
            found.skipped += 1
            found.errors.append(f"{entry.target}: no {DPKG_STATUS}, packages not matched")
            continue
        release = facts.get("VERSION_CODENAME") or settings.release  # the profile's for roots that do not say
        distro = facts.get("ID", "debian")
        if distro not in _DISTRO_FEEDS:
            if not settings.release:
                found.skipped += 1
                found.errors.append(
                    f"{entry.target}: {distro} is not matched (Debian and Ubuntu feeds are read; "
                    "set vuln.release in the profile to match it as Debian)"
                )
                continue
            distro = "debian"
        origin = next((o for o in _DISTRO_FEEDS[distro] if release in releases.get(o, ())), None)
        if not release or origin is None:
            found.skipped += 1
            names = " or ".join(o.value for o in _DISTRO_FEEDS[distro])
            found.errors.append(
                f"{entry.target}: no {names} feed in the store has release {release or '(unknown)'}"
                + ("" if release else ": set vuln.release in the profile")
            )
            continue
        try:
            packages = parse_dpkg_status(status, f"{entry.target}:{DPKG_STATUS}")
        except ConfigError as e:
            found.errors.append(str(e))
            found.skipped += 1
            continue
        result = match_packages(store, packages, release, origin)
        found.matched.append(
            {
                "target": entry.target,
                "distribution": distro,
                "feed": origin.value,
                "release": release,
                "source_packages": result.packages,
                "matches": len(result.matches),
                "no_fix_yet": sum(m.fixed is None for m in result.matches),
                "undetermined": result.undetermined,
            }
        )
        found.targets += 1
        key = target_asset(profile, entry).key
        found.decided.setdefault(key, set()).update(result.cves_known)
        found.matches += [(entry, m) for m in result.matches]


def _services(run_dir: Path, errors: list[str]) -> Iterator[Service]:
    for path in sorted((run_dir / SCAN_DIR).glob("*.xml")):
        try:
            run = read_nmap_xml(path)
        except SecauditError as e:
            errors.append(f"{path.name}: {e}")
            continue
        for host in run.up_hosts():
            address = next((a.addr for a in host.addresses if a.type in ("ipv4", "ipv6")), "")
            best = max(host.os_matches, key=lambda m: m.accuracy, default=None)
            platform = tuple(c for k in (best.classes if best else ()) for c in k.cpes)
            for port in host.open_ports():
                svc = port.service
                if address and svc is not None and svc.probed and svc.cpes:
                    yield Service(
                        address=address,
                        port=port.number,
                        proto=port.protocol,
                        product=svc.product,
                        version=svc.version,
                        cpes=svc.cpes,
                        platform_cpes=platform,
                    )


def run_vuln_stage(
    profile: Profile, *, run_dir: Path, now: datetime, progress: ProgressCallback
) -> StageOutput:
    started = time.perf_counter()
    settings = profile.vuln or VulnSettings()
    where = store_path(settings)
    if not where.exists():
        raise OperationalError(
            "no vulnerability feed store",
            location=str(where),
            hint="import feeds first: secaudit vuln import FILE... (or set vuln.store in the profile)",
        )
    found = _Inventory()
    findings: list[Finding] = []
    with VulnStore.open(where, create=False) as store:
        feeds = store.feeds()
        found.errors += stale_feeds(feeds, now, timedelta(days=settings.max_feed_age_days))
        progress(ProgressEvent(task=STAGE, done=0, total=2, message="installed packages"))
        _packages(profile, store, now, found)
        progress(ProgressEvent(task=STAGE, done=1, total=2, message="scanned services"))
        services = list(_services(run_dir, found.errors))
        service_matches, _ = match_services(store, services)
        kept: list[tuple[ServiceMatch, str]] = []
        decided_by_distribution = 0
        for match in service_matches:
            asset = profile.address_asset(match.service.address)
            if match.cve in found.decided.get(asset.key, set()):
                decided_by_distribution += 1
                continue  # the distribution's verdict for this host stands
            kept.append((match, asset.key))
        cves = cves_of(
            [m for _, m in found.matches],
            [m for m, _ in kept],
            [*(m for _, m in found.osv), *(m for _, m in found.rpm)],
        )
        info = Enrichment(
            cves=store.cve_info(cves),
            epss=store.epss(cves),
            kev=store.kev(cves),
            epss_model=next((f.version for f in feeds if f.kind is FeedKind.EPSS), ""),
        )
    withdrawn = {cve for cve, record in info.cves.items() if record.withdrawn}
    for entry, package_match in found.matches:
        if package_match.cve not in withdrawn:
            asset = target_asset(profile, entry)
            findings.append(package_finding(package_match, asset, info, target=entry.target, now=now))
    for entry, osv_match in found.osv:
        if osv_match.record.cve not in withdrawn:
            asset = target_asset(profile, entry)
            findings.append(osv_finding(osv_match, asset, info, target=entry.target, now=now))
    for entry, rpm_match in found.rpm:
        if rpm_match.record.cve not in withdrawn:
            asset = target_asset(profile, entry)
            findings.append(rpm_finding(rpm_match, asset, info, target=entry.target, now=now))
    for service_match, _ in kept:
        if service_match.cve not in withdrawn:
            asset = profile.address_asset(service_match.service.address)
            findings.append(service_finding(service_match, asset, info, now=now))
    progress(ProgressEvent(task=STAGE, done=2, total=2, message=f"{len(findings)} findings"))
    results = {
        "store": str(where),
        "feeds": [
            {
                "kind": f.kind.value,
                "name": f.name,
                "sha256": f.sha256,
                "published": f.published.isoformat() if f.published else None,
                "dated_by": f.dated_by,
                "age_days": f.age(now).days,
                "version": f.version,
            }
            for f in feeds
        ],
        "targets": found.matched,
        "services": {
            "with_application_cpe": len(services),
            "matches": len(service_matches),
            "left_to_the_distribution_verdict": decided_by_distribution,
        },
        "withdrawn_cves_dropped": sorted(withdrawn & set(cves)),
        "findings": len(findings),
    }
    artifact = run_dir / RESULTS_FILE
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        artifact.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as e:
        found.errors.append(f"cannot write {artifact}: {e.strerror or e}")
    return StageOutput(
        artifacts=(str(artifact),) if artifact.exists() else (),
        findings=tuple(findings),
        result=StageResult(
            name=STAGE,
            status=RunStatus.COMPLETED,
            findings=len(findings),
            items=found.targets + len(services),
            skipped=found.skipped,
            errors=tuple(found.errors),
            seconds=time.perf_counter() - started,
        ),
    )
