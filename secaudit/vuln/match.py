"""Matching what is installed, and what answers on the network, against the stored feeds.

Installed Debian packages are matched through their *source* package (the tracker's unit) and
its version with dpkg's ordering, so a fix the distribution backported into an older upstream
version counts as fixed. "No fix yet" (tracker status ``open``) is kept apart from "fixed in X";
``undetermined`` entries are counted, never reported as vulnerable.

Network services are matched by the CPE and version nmap reports against NVD's CPE ranges. A
banner version is a claim, not proof (distributions backport fixes without changing it), so
every service match says so, and a host whose packages were matched against a distribution
feed keeps the distribution's verdict for any CVE that feed knows.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from secaudit.core.errors import ConfigError
from secaudit.vuln.feeds import CpeRange, FeedKind
from secaudit.vuln.store import VulnStore
from secaudit.vuln.version import VersionError, VersionKey, sort_key

_SOURCE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9+.-]*)(?:\s+\((?P<version>[^)]+)\))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledPackage:
    name: str
    version: str
    source: str  # source package name
    source_version: str  # the source version this binary was built from
    location: str = ""  # status file:line of the stanza


def parse_dpkg_status(text: str, location: str) -> list[InstalledPackage]:
    """Installed packages of a dpkg status file (``Status: install ok installed`` only).

    A stanza without Package or Version, or with a version dpkg would refuse, is a
    :class:`ConfigError` naming its line.
    """
    packages: list[InstalledPackage] = []
    fields: dict[str, str] = {}
    start = 1
    last = ""

    def flush() -> None:
        if not fields:
            return
        where = f"{location}:{start}"
        if not fields.get("status", "").endswith(" installed"):
            return
        name, version = fields.get("package", ""), fields.get("version", "")
        if not name or not version:
            raise ConfigError("an installed package stanza without Package or Version", location=where)
        try:
            sort_key(version)
        except VersionError as e:
            raise ConfigError(f"package {name}: {e}", location=where) from e
        source, source_version = name, version
        if fields.get("source"):
            found = _SOURCE.match(fields["source"].strip())
            if found is None:
                raise ConfigError(
                    f"package {name}: unreadable Source field {fields['source']!r}", location=where
                )
            source = found.group("name")
            source_version = found.group("version") or version
        packages.append(
            InstalledPackage(
                name=name, version=version, source=source, source_version=source_version, location=where
            )
        )

    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            flush()
            fields, start, last = {}, number + 1, ""
            continue
        if line[0] in " \t":
            continue  # a continuation line (descriptions, conffiles)
        key, sep, value = line.partition(":")
        if not sep:
            raise ConfigError(f"not a 'Field: value' line: {line[:60]!r}", location=f"{location}:{number}")
        if not fields:
            start = number
        last = key.strip().lower()
        fields[last] = value.strip()
    flush()
    return packages


def os_release(text: str) -> dict[str, str]:
    """``/etc/os-release`` as a mapping (quotes removed)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            out[key] = value.strip().strip("'\"")
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageMatch:
    """One CVE affecting one installed source package, as the distribution feed ``feed`` says."""

    cve: str
    package: str  # source package
    binaries: tuple[str, ...]  # installed binary packages built from it (the affected ones)
    installed: str  # installed source version (binary version when the feed checks binaries)
    fixed: str | None  # None: no fix yet
    release: str
    status: str
    feed: FeedKind = FeedKind.DEBIAN_TRACKER


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageResult:
    matches: list[PackageMatch]
    cves_known: frozenset[str]  # every CVE the feed says anything about for these packages
    packages: int  # installed source packages examined
    undetermined: int  # (package, CVE) pairs the distribution has not decided yet


def match_packages(
    store: VulnStore,
    packages: Sequence[InstalledPackage],
    release: str,
    origin: FeedKind = FeedKind.DEBIAN_TRACKER,
) -> PackageResult:
    """Installed packages against one distribution feed's records of ``release``.

    Records of the source as a whole (the tracker, Debian's OVAL) compare the installed *source*
    version; records that name binary packages (Ubuntu's OVAL) compare each named binary that is
    installed by its own version, as an OVAL ``dpkginfo_test`` does, and a source none of whose
    named binaries is installed is not affected.
    """
    by_source: dict[str, list[InstalledPackage]] = {}
    for pkg in packages:
        by_source.setdefault(pkg.source, []).append(pkg)
    fixes = store.distro_fixes(release, list(by_source), origin)
    matches: list[PackageMatch] = []
    known: set[str] = set()
    undetermined = 0
    for source, entries in fixes.items():
        installed = by_source[source]
        # binaries of one source normally share its version; if not, the oldest decides
        version = min((p.source_version for p in installed), key=sort_key)
        have = sort_key(version)
        binaries = tuple(sorted({p.name for p in installed}))
        for entry in entries:
            known.add(entry.cve)
            if entry.status == "undetermined":
                undetermined += 1
                continue
            affected_version, affected = version, binaries
            if entry.binaries:
                named = [p for p in installed if p.name in entry.binaries]
                hit = [p for p in named if entry.fixed is None or sort_key(p.version) < _key(entry.fixed)]
                if not hit:
                    continue
                affected_version = min((p.version for p in hit), key=sort_key)
                affected = tuple(sorted({p.name for p in hit}))
            elif entry.fixed is not None and have >= _key(entry.fixed):
                continue
            matches.append(
                PackageMatch(
                    cve=entry.cve,
                    package=source,
                    binaries=affected,
                    installed=affected_version,
                    fixed=entry.fixed,
                    release=release,
                    status=entry.status,
                    feed=origin,
                )
            )
    matches.sort(key=lambda m: (m.package, m.cve))
    return PackageResult(
        matches=matches, cves_known=frozenset(known), packages=len(by_source), undetermined=undetermined
    )


def _key(version: str) -> VersionKey:
    try:
        return sort_key(version)
    except VersionError:
        return sort_key("0")  # a fixed version the tracker wrote badly never hides a match


# -- services ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """A service as a scan saw it: where, what product and version it claims, its CPEs."""

    address: str
    port: int
    proto: str
    product: str
    version: str
    cpes: tuple[str, ...]
    platform_cpes: tuple[str, ...] = ()  # the host's OS CPEs nmap guessed (best OS match)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceMatch:
    cve: str
    service: Service
    vendor: str
    product: str
    version: str  # the version the match was made with
    rule: str  # the range that matched, in words
    platform: str = ""  # NVD's "running on" condition in words, when it could not be checked


def _cpe_fields(cpe: str) -> tuple[str, str, str, str] | None:
    """(part, vendor, product, version) of a CPE 2.2 URI or 2.3 name."""
    if cpe.startswith("cpe:/"):
        parts = cpe[5:].split(":")
        parts += [""] * (4 - len(parts))
        return parts[0], parts[1].lower(), parts[2].lower(), parts[3]
    parts = cpe.split(":")
    if len(parts) >= 6 and parts[:2] == ["cpe", "2.3"]:
        return parts[2], parts[3].lower(), parts[4].lower(), parts[5]
    return None


def platform_state(groups: tuple[tuple[str, ...], ...], known: Sequence[str]) -> str:
    """Whether NVD's "running on" groups hold for a host whose CPEs ``known`` are: ``holds``,
    ``fails`` (a CPE of the same kind is known and none of the group's matches it) or ``unknown``."""
    have = [f for f in map(_cpe_fields, known) if f is not None]
    state = "holds"
    for group in groups:
        wanted = [f for f in map(_cpe_fields, group) if f is not None]
        if any(
            (part, vendor, product) == (h[0], h[1], h[2])
            and (version in _UNBOUND or h[3].startswith(version))
            for part, vendor, product, version in wanted
            for h in have
        ):
            continue
        if any(h[0] == w[0] for w in wanted for h in have):
            return "fails"  # the host is known to run something else of that kind
        state = "unknown"
    return state


def platform_words(groups: tuple[tuple[str, ...], ...]) -> str:
    def one(cpe: str) -> str:
        fields = _cpe_fields(cpe)
        if fields is None:
            return cpe
        _, vendor, product, version = fields
        return f"{vendor}:{product}" + ("" if version in _UNBOUND else f" {version}")

    return " and ".join("(" + " or ".join(one(c) for c in group) + ")" for group in groups)


_UNBOUND = frozenset({"*", "-", ""})


def service_cpe(service: Service) -> tuple[str, str, str] | None:
    """(vendor, product, version) of the service's application CPE, the version completed from the
    banner when the CPE names none."""
    for cpe in service.cpes:
        parts = cpe.split(":")
        if cpe.startswith("cpe:/a:") and len(parts) >= 4:
            vendor, product = parts[2], parts[3]
            version = parts[4] if len(parts) > 4 else ""
            if not version and service.version:
                version = service.version.split()[0]
            if version:
                return vendor.lower(), product.lower(), version
        if cpe.startswith("cpe:2.3:a:") and len(parts) >= 6:
            version = (
                parts[5]
                if parts[5] not in _UNBOUND
                else service.version.split()[0]
                if service.version
                else ""
            )
            if version:
                return parts[3].lower(), parts[4].lower(), version
    return None


def _in_range(have: VersionKey, item: CpeRange) -> str | None:
    """The range in words when ``have`` lies in it, else None."""
    bounded = item.start_incl or item.start_excl or item.end_incl or item.end_excl
    if not bounded:
        if item.version in _UNBOUND:
            return None  # "every version": too vague to claim from a banner
        return f"version {item.version}" if _key(item.version) == have else None
    words = []
    for bound, ok, text in (
        (item.start_incl, operator.ge, ">= "),
        (item.start_excl, operator.gt, "> "),
        (item.end_incl, operator.le, "<= "),
        (item.end_excl, operator.lt, "< "),
    ):
        if bound:
            if not ok(have, _key(bound)):
                return None
            words.append(text + bound)
    return "versions " + ", ".join(words)


def match_services(store: VulnStore, services: Iterable[Service]) -> tuple[list[ServiceMatch], int]:
    """Every (service, CVE) whose claimed version lies in an NVD range; and how many services had no
    application CPE with a version (not matched).

    A range that NVD lists only when running on a platform (an ``AND`` configuration) matches when
    the host's CPEs (the service's own and nmap's OS guess) satisfy it; when they show another
    platform of that kind it does not match; when nothing is known of it, the match carries the
    condition in words (``platform``) for the finding to state as uncertain.
    """
    named: list[tuple[Service, tuple[str, str, str]]] = []
    unmatched = 0
    for service in services:
        cpe = service_cpe(service)
        if cpe is None:
            unmatched += 1
        else:
            named.append((service, cpe))
    ranges = store.ranges([(v, p) for _, (v, p, _) in named])
    out: list[ServiceMatch] = []
    for service, (vendor, product, version) in named:
        try:
            have = sort_key(version)
        except VersionError:
            unmatched += 1
            continue
        known = (*service.cpes, *service.platform_cpes)
        found: dict[str, ServiceMatch] = {}
        for item in ranges.get((vendor, product), ()):
            if item.cve in found and not found[item.cve].platform:
                continue  # already matched without a condition
            rule = _in_range(have, item)
            if rule is None:
                continue
            state = platform_state(item.platforms, known) if item.platforms else "holds"
            if state == "fails":
                continue
            if item.cve in found and state != "holds":
                continue
            found[item.cve] = ServiceMatch(
                cve=item.cve,
                service=service,
                vendor=vendor,
                product=product,
                version=version,
                rule=rule,
                platform=platform_words(item.platforms) if state == "unknown" else "",
            )
        out.extend(found.values())
    out.sort(key=lambda m: (m.service.address, m.service.port, m.cve))
    return out, unmatched
