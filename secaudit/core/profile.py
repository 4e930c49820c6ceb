"""The audit profile: who authorized what, which segments and assets exist, what to check.

Frozen dataclasses only; ``secaudit.catalog.profile`` reads and validates the YAML.
Network values are kept as ``ipaddress`` objects so nothing downstream re-parses text.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from secaudit.core.addresses import canonical_text, parse_address
from secaudit.core.model import Asset, Criticality, SegmentKind

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LANGUAGES = ("en", "th")
# Year numbering of the Thai report: Gregorian (2026) or the Buddhist era of Thai government
# documents (พ.ศ. 2569 = 2026 + 543). The English report is always Gregorian.
THAI_ERAS = ("gregorian", "buddhist")
SCAN_PROFILES = ("ot-safe", "standard", "deep")


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceWindow:
    """A window inside which intrusive ("deep") scanning is allowed."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    """The written authorization every active scan stands on."""

    reference: str
    approver: str
    valid_from: datetime
    valid_until: datetime
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment <= self.valid_until


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """An authorized network segment."""

    name: str
    cidrs: tuple[IPNetwork, ...]
    kind: SegmentKind
    owner: str
    criticality: Criticality
    scan_profile: str
    exclusions: tuple[IPNetwork, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryAsset:
    """An asset the city knows it has."""

    name: str
    address: str = ""
    hostname: str = ""
    role: str = ""
    criticality: Criticality = Criticality.MEDIUM
    segment: str = ""  # derived from the address when not given
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineTarget:
    """A configuration target: ``offline:DIR``, ``local``, ``ssh://user@host`` or ``file:PATH``."""

    target: str
    baselines: tuple[str, ...]
    asset: str = ""  # inventory name the results belong to


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSource:
    """Logs to hunt in."""

    name: str
    paths: tuple[str, ...]
    format: str = "auto"
    asset: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSettings:
    """``language`` is the main report's (report.html); ``languages`` every language an HTML
    report is written in: the first is ``language``, each other one is report.<lang>.html."""

    language: str = "en"
    formats: tuple[str, ...] = ("html", "json")
    languages: tuple[str, ...] = ()
    output_dir: str = "reports"
    fail_on: str = ""  # severity name; empty means never fail on findings
    thai_era: str = "gregorian"  # one of THAI_ERAS: how the Thai report numbers years


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionSettings:
    """How the detect stage hunts: which Sigma rules (empty: secaudit's own) and the values of
    ``|expand`` placeholders, e.g. the engineering workstations allowed to write Modbus."""

    rules: tuple[str, ...] = ()
    placeholders: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VulnSettings:
    """The vuln stage: which feed store (empty: the one `secaudit vuln import` fills), how old a feed
    may be before the audit warns, and the distribution release of targets that do not say."""

    store: str = ""
    max_feed_age_days: int = 7
    release: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A whole audit profile. ``path`` is where it was read from (for locations in messages)."""

    path: str
    organisation: str
    authorization: Authorization
    segments: tuple[Segment, ...]
    assets: tuple[InventoryAsset, ...] = ()
    baseline_targets: tuple[BaselineTarget, ...] = ()
    baseline_waivers: str = ""  # waivers.yaml for baseline checks (absolute path); empty: none
    kev_path: str = ""  # a CISA KEV catalogue (absolute path); empty: the one `secaudit kev import` stored
    log_sources: tuple[LogSource, ...] = ()
    detection: DetectionSettings = DetectionSettings()
    report: ReportSettings = ReportSettings()
    history_path: str = ""  # empty: the default location
    timezone: str = "UTC"  # IANA name; every time a report shows is in this zone, with its offset
    vuln: VulnSettings | None = None  # None: no vuln stage

    def segment(self, name: str) -> Segment | None:
        return next((s for s in self.segments if s.name == name), None)

    def asset(self, name: str) -> InventoryAsset | None:
        return next((a for a in self.assets if a.name == name), None)

    def inventory_asset(self, inv: InventoryAsset, *, hostname: str = "") -> Asset:
        """An inventory entry as the asset of a finding; ``hostname`` stands in when it has none."""
        segment = inv.segment or (seg.name if (seg := self.segment_of(inv.address)) else "")
        return Asset(
            key=inv.name,
            address=inv.address,
            hostname=inv.hostname or hostname,
            role=inv.role,
            segment=segment,
            criticality=inv.criticality,
            tags=inv.tags,
        )

    def address_asset(self, address: str, *, hostname: str = "") -> Asset:
        """The inventory asset at ``address``, else the address itself with its segment's criticality."""
        address = canonical_text(address)
        known = next((a for a in self.assets if a.address == address), None)
        if known is not None:
            return self.inventory_asset(known, hostname=hostname)
        segment = self.segment_of(address)
        return Asset(
            key=address,
            address=address,
            hostname=hostname,
            segment=segment.name if segment else "",
            criticality=segment.criticality if segment else Criticality.MEDIUM,
        )

    def segment_of(self, address: str) -> Segment | None:
        """The segment whose CIDRs contain ``address`` (most specific wins), or None."""
        try:
            ip = parse_address(address)  # canonical: ::ffff:10.0.0.3 lies where 10.0.0.3 lies
        except ValueError:
            return None
        best: tuple[int, Segment] | None = None
        for seg in self.segments:
            for net in seg.cidrs:
                if ip.version == net.version and ip in net and (best is None or net.prefixlen > best[0]):
                    best = (net.prefixlen, seg)
        return best[1] if best else None
