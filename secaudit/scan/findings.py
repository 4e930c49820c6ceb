"""From parsed nmap results to findings: each rule over each open port of each host."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from secaudit.core.model import Asset, Evidence, Finding, Source
from secaudit.core.profile import Profile
from secaudit.scan.nmapxml import Host, NmapRun, Port
from secaudit.scan.rules import ExposureRule

PRODUCER = "secaudit.scan"
EXCERPT_MAX = 600


def asset_for(profile: Profile, host: Host) -> Asset:
    """The inventory asset at this address, else the address itself, with segment and criticality."""
    return profile.address_asset(host.ip, hostname=host.hostnames[0][0] if host.hostnames else "")


def _evidence(host: Host, port: Port, excerpt: str) -> Evidence:
    service = port.service
    where = f"{host.ip}:{port.number}/{port.protocol}"
    attributes = [("state", port.state), ("reason", port.reason)]
    name = ""
    if service is not None:
        name = service.name + (" over TLS" if service.tunnel == "ssl" else "")
        attributes += [
            ("service", service.name),
            ("identified_by", "version probe" if service.probed else "port number"),
        ]
        if service.product:
            attributes.append(("product", service.product))
        if service.version:
            attributes.append(("version", service.version))
        attributes += [("cpe", cpe) for cpe in service.cpes]
    if not excerpt and service is not None:
        excerpt = service.banner
    if len(excerpt) > EXCERPT_MAX:
        excerpt = excerpt[:EXCERPT_MAX] + " …"
    return Evidence(
        kind="network",
        summary=f"{name or 'port'} open on {where}",
        location=where,
        excerpt=excerpt,
        attributes=tuple(sorted((k, v) for k, v in attributes if v)),
    )


def findings_for(
    run: NmapRun, profile: Profile, rules: Sequence[ExposureRule], *, observed_at: datetime | None = None
) -> list[Finding]:
    """Every (rule, host, port) match as a :class:`Finding`, sorted by fingerprint inputs."""
    out: list[Finding] = []
    for host in run.up_hosts():
        if not host.ip:
            continue
        segment = profile.segment_of(host.ip)
        kind = segment.kind if segment else None
        asset = asset_for(profile, host)
        for port in host.ports:
            for rule in rules:
                ok, excerpt = rule.matches(port, kind, host.ended or run.ended or observed_at, host.scripts)
                if not ok:
                    continue
                out.append(
                    Finding(
                        rule_id=rule.id,
                        source=Source.SCAN,
                        severity=rule.severity,
                        title=rule.title,
                        asset=asset,
                        description=rule.description,
                        remediation=rule.remediation,
                        evidence_key=f"{port.protocol}/{port.number}",
                        evidence=(_evidence(host, port, excerpt),),
                        references=rule.references,
                        observed_at=host.ended or run.ended or observed_at,
                        producer=PRODUCER,
                        texts=rule.texts,
                    )
                )
    out.sort(key=lambda f: (f.asset.key, f.evidence_key, f.rule_id))
    return out
