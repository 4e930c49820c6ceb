"""Known vulnerabilities gathered per vulnerable package or service on each asset, for display.

The ranked list keeps one row per CVE (one finding per asset, package or service, and CVE); an
operator fixes a package, not a CVE, so reports also show, per (asset, package or service), every
CVE with its rank, whether any is in CISA KEV, and the version that fixes them all (the highest
fixed version, in dpkg's ordering, or the OSV ecosystem's for Python and rpm packages), or that one
has no fix yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import InvalidVersion

from secaudit.core.model import Asset, Source
from secaudit.core.report import Decision, ReportRow
from secaudit.vuln.osv import ordering
from secaudit.vuln.version import VersionError, sort_key


@dataclass(frozen=True, slots=True, kw_only=True)
class VulnerableComponent:
    asset: Asset
    kind: str  # "package" (installed, from a distribution feed) or "service" (a scanned banner)
    name: str  # the source package, or vendor:product
    where: str  # the target for a package, host:port/proto for a service
    installed: str
    fix: str  # the version that fixes every listed CVE ("" when none does yet, or for services)
    no_fix: tuple[str, ...]  # CVEs without a fixed version yet
    cves: tuple[tuple[str, int], ...]  # (CVE, rank of its row), best rank first
    kev: tuple[str, ...]  # the listed CVEs that are in CISA KEV
    decision: Decision  # the decision of its best-ranked row
    score: float


def _highest(versions: Iterable[str], ecosystem: str = "") -> str:
    """The highest version in the ecosystem's ordering (dpkg's for distribution packages)."""
    order = ordering(ecosystem) if ecosystem else None
    best, best_key = "", None
    for version in versions:
        try:
            key = order(version) if order else sort_key(version)
        except (VersionError, InvalidVersion):
            continue
        if best_key is None or key > best_key:
            best, best_key = version, key
    return best


def vulnerable_components(rows: Iterable[ReportRow]) -> list[VulnerableComponent]:
    """Every (asset, package or service) with known vulnerabilities, best-ranked first."""
    groups: dict[tuple[str, str, str], list[tuple[ReportRow, dict[str, str], Asset]]] = {}
    for row in rows:
        for finding in row.all_instances:
            if finding.source is not Source.VULN or not finding.evidence:
                continue
            attributes = dict(finding.evidence[0].attributes)
            kind = "service" if "network_service" in attributes else "package"
            name = attributes.get("package") or attributes.get("product") or finding.rule_id
            # a Python package is one per environment: its .dist-info folder tells them apart
            where = (
                attributes.get("network_service")
                or attributes.get("location")
                or attributes.get("target", "")
            )
            groups.setdefault((finding.asset.key, kind, f"{name}\x1f{where}"), []).append(
                (row, attributes, finding.asset)
            )
    out = []
    for (_, kind, key), members in groups.items():
        name, where = key.split("\x1f", 1)
        members.sort(key=lambda m: (m[0].rank, m[1].get("cve", "")))
        top_row, top_attributes, asset = members[0]
        cves = tuple(dict.fromkeys((a.get("cve", ""), r.rank) for r, a, _ in members))
        fixed = [a.get("fixed", "") for _, a, _ in members]
        no_fix = tuple(a.get("cve", "") for _, a, _ in members if kind == "package" and not a.get("fixed"))
        out.append(
            VulnerableComponent(
                asset=asset,
                kind=kind,
                name=name,
                where=where,
                installed=top_attributes.get("installed", ""),
                fix=_highest((f for f in fixed if f), top_attributes.get("ecosystem", ""))
                if kind == "package"
                else "",
                no_fix=no_fix,
                cves=cves,
                kev=tuple(a.get("cve", "") for _, a, _ in members if a.get("kev") == "true"),
                decision=top_row.decision,
                score=top_row.score,
            )
        )
    out.sort(key=lambda c: (c.cves[0][1], c.asset.key, c.name))
    return out
