"""A fixed input for the risk model and ranking that reaches every path they have, and its digest.

Built from arithmetic on the index only (no random module, no clock), so the same findings come out
on every Python and machine. ``tests/risk/golden/ranking.json`` holds the output of the model as it
was before it was made faster; ``test_ranking_pinned.py`` checks the output never moved. CVE ids are
synthetic (year 2099) and the KEV catalogue is our own (tests/risk/kev_files.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from secaudit.catalog.kev import parse_kev
from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    Reference,
    RefKind,
    Severity,
    Source,
    Status,
)
from secaudit.core.report import ReportRow
from secaudit.risk.aggregate import posture_score, ranked_rows
from secaudit.risk.model import RiskContext, detections_by_asset, with_kev
from tests.report.conftest import make_profile
from tests.risk.kev_files import catalogue, entry

BKK = timezone(timedelta(hours=7))
T0 = datetime(2026, 1, 1, tzinfo=BKK)
KEV = parse_kev(json.dumps(catalogue(*(entry(n) for n in range(1, 200, 3)))), "kev.json")

# Where assets sit: named segments, segments derived from the address, and nowhere known.
_PLACES = (
    ("traffic-ot", "127.20.0"),
    ("", "127.20.0"),
    ("command-center", "127.10.0"),
    ("", "127.30.0"),
    ("dmz", "127.40.0"),
    ("", "127.99.0"),  # in no segment of the profile
    ("cctv", "127.30.0"),
    ("no-such-segment", "127.10.0"),
)
_TAGS = ((), ("internet-facing",), ("ntcip",), ("public", "kiosk"), ())
_VECTORS = (
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",  # 10.0: with KEV, past the exploitability cap
    "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:L/I:L/A:N/E:P",
    "CVSS:3.0/AV:A/AC:L/PR:N/UI:R/S:C/C:H/I:N/A:N/E:F",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A",
    "CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N/E:P",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X",  # unreadable: A:X is not a base value
    "not a vector at all",
)
_SEGMENT_NAMES = ("traffic-ot", "command-center", "cctv", "dmz", "")


def _asset(n: int) -> Asset:
    segment, net = _PLACES[n % len(_PLACES)]
    return Asset(
        key=f"asset-{n:02d}" if n % 6 else f"{net}.{n + 1}",
        address=f"{net}.{n + 1}" if n % 9 else "",
        hostname=f"h{n}.city.example" if n % 4 == 0 else "",
        segment=segment,
        criticality=Criticality(n % 5 + 1),
        tags=_TAGS[n % len(_TAGS)],
    )


ASSETS = tuple(_asset(n) for n in range(60))


def _title(rule: int, i: int) -> str:
    base = f"Synthetic weakness {rule}"
    variants = (base, base.upper(), f"  {base}  ", base.replace(" ", "   "), f"{base} (variant)")
    return variants[(i // 7) % len(variants)] if rule % 3 == 0 else base


def _references(i: int) -> tuple[Reference, ...]:
    refs: list[Reference] = []
    if i % 4 == 0:
        refs.append(Reference(kind=RefKind.CVE, id=f"CVE-2099-{i % 211:04d}"))
    if i % 10 == 3:
        refs.append(Reference(kind=RefKind.CVE, id=f"cve-2099-{(i * 7) % 211:04d} "))
    if i % 6 == 1:
        refs.append(Reference(kind=RefKind.URL, id=_VECTORS[i % len(_VECTORS)]))
    if i % 11 == 2:
        refs.append(Reference(kind=RefKind.ATTACK, id="T1110.003"))
    return tuple(refs)


def _attributes(i: int, asset: Asset) -> tuple[tuple[str, str], ...]:
    attrs: dict[str, str] = {}
    if i % 5 == 0:
        attrs["reachable_from"] = _SEGMENT_NAMES[i % len(_SEGMENT_NAMES)] or asset.segment
    if i % 13 == 4:
        attrs["cross_segment"] = ("yes", "no", "TRUE", " 1 ")[i % 4]
    if i % 8 == 5:
        attrs["cve"] = f"CVE-2099-{(i * 3) % 211:04d}"
    if i % 9 == 2:
        attrs["cvss" if i % 2 else "cvss_vector"] = _VECTORS[(i // 9) % len(_VECTORS)]
    if i % 3 == 0:
        attrs["port"] = str(i % 1024)  # read by no factor
    return tuple(sorted(attrs.items()))


def fixed_findings(count: int = 900) -> list[Finding]:
    """``count`` findings from every source on 60 assets, 45 rules, a few given twice."""
    out: list[Finding] = []
    for i in range(count):
        asset = ASSETS[(i * 7) % len(ASSETS)]
        rule = i % 45
        source = (Source.SCAN, Source.BASELINE, Source.PASSIVE, Source.DETECTION, Source.SCAN)[(i // 3) % 5]
        evidence = (
            Evidence(
                kind="observed",
                summary=f"item {i}",
                location=f"/etc/x{i % 17}.conf:{i}",
                attributes=_attributes(i, asset),
            ),
        )
        if i % 17 == 0:  # a second evidence item that cites its own vector
            evidence += (Evidence(kind="extra", summary="more", attributes=(("cvss", _VECTORS[i % 6]),)),)
        out.append(
            Finding(
                rule_id=f"RULE-{rule:02d}",
                source=source,
                severity=Severity((i * 3) % 5),
                title=_title(rule, i),
                asset=asset,
                evidence_key=f"item-{i % 400}",
                evidence=evidence,
                references=_references(i),
            )
        )
    out += out[10:14]  # the same findings reported twice
    return out + _extremes()


GATEWAY = Asset(
    key="ext-gw-01",
    address="127.40.0.200",
    segment="dmz",
    criticality=Criticality.PUBLIC_SAFETY_CRITICAL,
    tags=("internet-facing",),
)


def _extremes() -> list[Finding]:
    """Findings that pass every cap: exploitability (KEV + CVSS 10), the score's 100, and an asset
    with more detection rules than a factor lists."""
    detections = [
        Finding(
            rule_id=f"SIGMA-{n}",
            source=Source.DETECTION,
            severity=Severity.HIGH,
            title=f"Detection {n}",
            asset=GATEWAY,
            evidence_key=f"event-{n}",
        )
        for n in range(5)
    ]
    worst = Finding(
        rule_id="EXP-GATEWAY-RCE",
        source=Source.SCAN,
        severity=Severity.CRITICAL,
        title="Remote code execution on the alert gateway",
        asset=GATEWAY,
        evidence_key="tcp/8443",
        references=(Reference(kind=RefKind.CVE, id="CVE-2099-0001"),),
        evidence=(
            Evidence(
                kind="network",
                summary="banner",
                attributes=(("cvss", _VECTORS[1]), ("reachable_from", "command-center")),
            ),
        ),
    )
    return [*detections, worst]


def history(fp: str) -> tuple[Status, datetime, datetime]:
    """A fixed history: a third of the fingerprints new, the others first seen days earlier."""
    n = int(fp[:4], 16)
    if n % 3 == 0:
        return Status.NEW, T0, T0
    return Status.PERSISTING, T0 - timedelta(days=n % 40), T0 - timedelta(hours=n % 24)


def rank(findings: list[Finding], *, kev: bool = True) -> list[ReportRow]:
    ctx = RiskContext(profile=make_profile(), attacked=detections_by_asset(findings))
    return ranked_rows(findings, with_kev(ctx, KEV if kev else None), history)


def distinct(findings: list[Finding]) -> list[Finding]:
    """The same findings with titles that never aggregate: one row each, every score visible."""
    return [replace(f, title=f"{f.title} #{i}") for i, f in enumerate(findings)]


def compact(rows: list[ReportRow]) -> dict[str, Any]:
    """A one-row-per-finding ranking in short: order, score, decision, axes, factors hashed."""
    return {
        "posture": posture_score(rows),
        "rows": [
            " ".join(
                (
                    r.finding.fingerprint[:12],
                    f"{r.score:g}",
                    r.decision.value,
                    f"{r.likelihood}x{r.impact}",
                    hashlib.sha256(
                        json.dumps([[f.name, f.value, f.points] for f in r.factors]).encode()
                    ).hexdigest()[:12],
                )
            )
            for r in rows
        ],
    }


def digest(rows: list[ReportRow]) -> dict[str, Any]:
    """Everything a ranking decides, as JSON: rows in order with scores, decisions and factors."""
    return {
        "posture": posture_score(rows),
        "rows": [
            {
                "rank": r.rank,
                "rule": r.finding.rule_id,
                "title": r.finding.title,
                "top": r.finding.fingerprint,
                "status": r.status.value,
                "first": r.first_seen.isoformat(),
                "last": r.last_seen.isoformat(),
                "score": r.score,
                "decision": r.decision.value,
                "likelihood": r.likelihood,
                "impact": r.impact,
                "assets": [a.key for a in r.assets],
                "instances": list(r.fingerprints),
                "factors": [[f.name, f.value, f.points] for f in r.factors],
            }
            for r in rows
        ],
    }
