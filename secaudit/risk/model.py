"""The risk model ``risk-2``: a 0..100 score per finding, explained factor by factor.

Pure functions over the core model. The score is the sum of five factors' points, capped at 100:

============== =================================================================== ==========
factor         what is observed                                                     points
============== =================================================================== ==========
severity       the finding's own severity                                           1 .. 35
criticality    how much the city depends on the asset                               3 .. 20
exposure       segment kind (or internet-facing tag), network reachability,         0 .. 25
               reachability across a segment boundary
exploitability CVE in the KEV catalogue (15), highest CVSS base score (0..10)       0 .. 25
active_attack  the finding is a detection (8), or a detection on the same asset (15) 0 .. 15
============== =================================================================== ==========

The exact points are the tables below; docs/risk-model.md explains them in words. Every factor
that added (or could have added) points is a :class:`~secaudit.core.report.RiskFactor`, so a report
shows why a finding ranks where it does. The model version is stored with every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from cvss import CVSS3, CVSS4, CVSSError

from secaudit.catalog.kev import Kev
from secaudit.core.model import Criticality, Finding, RefKind, SegmentKind, Severity, Source
from secaudit.core.profile import Profile
from secaudit.core.report import Decision, RiskFactor
from secaudit.risk.decision import Exploitation, Exposure, Impact, decide

RISK_MODEL_VERSION = "risk-2"
MAX_SCORE = 100.0

SEVERITY_POINTS = {
    Severity.CRITICAL: 35.0,
    Severity.HIGH: 27.0,
    Severity.MEDIUM: 17.0,
    Severity.LOW: 8.0,
    Severity.INFO: 1.0,
}
CRITICALITY_POINTS = {
    Criticality.PUBLIC_SAFETY_CRITICAL: 20.0,
    Criticality.CRITICAL: 15.0,
    Criticality.HIGH: 10.0,
    Criticality.MEDIUM: 6.0,
    Criticality.LOW: 3.0,
}
# Where the asset sits. OT and CCTV segments are meant to be closed; the DMZ is meant to be reached.
SEGMENT_POINTS = {
    SegmentKind.DMZ: 12.0,
    SegmentKind.IT: 8.0,
    SegmentKind.CCTV: 6.0,
    SegmentKind.MGMT: 5.0,
    SegmentKind.OT: 4.0,
}
INTERNET_FACING_POINTS = 15.0
UNKNOWN_SEGMENT_POINTS = 8.0  # not knowing where a host sits is no reason to trust it more than IT
INTERNET_TAGS = frozenset({"internet-facing", "internet", "public"})
NETWORK_REACHABLE_POINTS = 5.0  # a service answered on the network (scan, passive)
CROSS_SEGMENT_POINTS = 5.0
EXPOSURE_CAP = 25.0
KEV_POINTS = 15.0
EXPLOITABILITY_CAP = 25.0
DETECTION_ITSELF_POINTS = 8.0
ACTIVE_ATTACK_POINTS = 15.0
ACTIVE_ATTACK_CAP = 15.0

SEVERITY_LEVEL = {
    Severity.INFO: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}
_TRUE = frozenset({"true", "yes", "1"})
# Evidence attributes the model reads; every other attribute leaves the assessment unchanged.
RISK_ATTRIBUTES = frozenset({"reachable_from", "cross_segment", "cve", "cvss", "cvss_vector"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskContext:
    """What the model knows beyond one finding: the profile, the KEV catalogue, the run's detections.

    ``kev`` answers "is this CVE in the known-exploited catalogue?" (see :func:`with_kev`); without a
    catalogue it says no.
    ``attacked`` maps an asset key to the detection rule ids seen on it in this run.
    """

    profile: Profile | None = None
    kev: Callable[[str], bool] = field(default=lambda cve: False)
    kev_label: str = "KEV"
    attacked: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # (segment name, address) -> (segment kind, segment name): a memo, filled as findings are assessed
    segments: dict[tuple[str, str], tuple[SegmentKind | None, str]] = field(
        default_factory=dict, compare=False
    )


def describe_model(kev: Kev | None) -> str:
    """What scored a run, as stored with it and shown in a report's methodology:
    ``risk-2 (KEV 2026.11.18, released 2026-11-18)`` or ``risk-2 (no KEV catalogue)``."""
    return f"{RISK_MODEL_VERSION} ({kev.description if kev else 'no KEV catalogue'})"


def with_kev(ctx: RiskContext, kev: Kev | None) -> RiskContext:
    """``ctx`` answering KEV questions from ``kev`` (every CVE "not listed" without one)."""
    if kev is None:
        return ctx
    return replace(ctx, kev=kev.contains, kev_label=kev.label)


def detections_by_asset(findings: Iterable[Finding]) -> dict[str, tuple[str, ...]]:
    """Asset key -> sorted detection rule ids found on it (the active-attack evidence of a run)."""
    seen: dict[str, set[str]] = {}
    for finding in findings:
        if finding.source is Source.DETECTION:
            seen.setdefault(finding.asset.key, set()).add(finding.rule_id)
    return {key: tuple(sorted(rules)) for key, rules in seen.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """The model's verdict on one finding."""

    score: float
    factors: tuple[RiskFactor, ...]
    exploitation: Exploitation
    exposure: Exposure
    impact: Impact
    decision: Decision
    likelihood: int  # 1..5
    impact_level: int  # 1..5


def _segment_kind(finding: Finding, ctx: RiskContext) -> tuple[SegmentKind | None, str]:
    """The kind and name of the asset's segment: named on the asset, else found from its address."""
    key = (finding.asset.segment, finding.asset.address)
    known = ctx.segments.get(key)
    if known is not None:
        return known
    profile = ctx.profile
    segment = profile.segment(finding.asset.segment) if profile and finding.asset.segment else None
    if profile and segment is None and finding.asset.address:
        segment = profile.segment_of(finding.asset.address)
    found = (segment.kind, segment.name) if segment else (None, finding.asset.segment)
    ctx.segments[key] = found
    return found


def _attributes(finding: Finding) -> Iterable[tuple[str, str]]:
    for evidence in finding.evidence:
        yield from evidence.attributes


def cross_segment(finding: Finding, own_segment: str) -> str:
    """The segment the finding says it was reached from, when that is not the asset's own, else ''."""
    for name, value in _attributes(finding):
        if name == "reachable_from" and value and value != own_segment:
            return value
        if name == "cross_segment" and value.strip().lower() in _TRUE:
            return "another segment"
    return ""


def cves(finding: Finding) -> list[str]:
    """CVE ids the finding cites (references of kind cve, evidence attributes ``cve``), upper-cased."""
    found = {r.id.strip().upper() for r in finding.references if r.kind is RefKind.CVE}
    found |= {v.strip().upper() for k, v in _attributes(finding) if k == "cve" and v.strip()}
    return sorted(found)


def cvss_vectors(finding: Finding) -> list[str]:
    """CVSS vectors cited in references or evidence attributes (``cvss``, ``cvss_vector``)."""
    found = {r.id.strip() for r in finding.references if r.id.strip().upper().startswith("CVSS:")}
    found |= {v.strip() for k, v in _attributes(finding) if k in ("cvss", "cvss_vector") and v.strip()}
    return sorted(found)


@dataclass(frozen=True, slots=True)
class _Cvss:
    vector: str
    base: float
    maturity: str  # the exploit maturity metric, "X" when not given


def parse_cvss(vector: str) -> _Cvss | None:
    """Base score and exploit maturity of a CVSS 3.x or 4.0 vector; None when it does not parse."""
    try:
        if vector.upper().startswith("CVSS:4"):
            parsed4 = CVSS4(vector)
            return _Cvss(vector, float(parsed4.base_score), str(parsed4.metrics.get("E") or "X"))
        parsed3 = CVSS3(vector)
        return _Cvss(vector, float(parsed3.base_score), str(parsed3.metrics.get("E") or "X"))
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _exposure(finding: Finding, ctx: RiskContext) -> tuple[list[RiskFactor], Exposure]:
    kind, segment_name = _segment_kind(finding, ctx)
    factors: list[RiskFactor] = []
    internet = sorted(INTERNET_TAGS.intersection(finding.asset.tags))
    if internet:
        factors.append(
            RiskFactor(name="exposure", value=f"tagged {internet[0]}", points=INTERNET_FACING_POINTS)
        )
    elif kind is not None:
        factors.append(
            RiskFactor(
                name="exposure", value=f"{kind.value} segment {segment_name}", points=SEGMENT_POINTS[kind]
            )
        )
    else:
        factors.append(RiskFactor(name="exposure", value="segment unknown", points=UNKNOWN_SEGMENT_POINTS))
    network = finding.source in (Source.SCAN, Source.PASSIVE)
    if network:
        factors.append(
            RiskFactor(
                name="exposure", value="service reachable on the network", points=NETWORK_REACHABLE_POINTS
            )
        )
    elif finding.source is Source.BASELINE:
        factors.append(RiskFactor(name="exposure", value="configuration only", points=0.0))
    crossed = cross_segment(finding, segment_name)
    if crossed:
        factors.append(
            RiskFactor(name="exposure", value=f"reachable from {crossed}", points=CROSS_SEGMENT_POINTS)
        )
    if internet or kind is SegmentKind.DMZ or crossed:
        level = Exposure.OPEN
    elif finding.source is Source.BASELINE:
        level = Exposure.SMALL
    else:
        level = Exposure.CONTROLLED
    return _capped(factors, EXPOSURE_CAP), level


def _exploitability(finding: Finding, ctx: RiskContext) -> tuple[list[RiskFactor], Exploitation]:
    factors: list[RiskFactor] = []
    level = Exploitation.NONE
    listed = [cve for cve in cves(finding) if ctx.kev(cve)]
    if listed:
        factors.append(
            RiskFactor(
                name="exploitability", value=f"{', '.join(listed)} in {ctx.kev_label}", points=KEV_POINTS
            )
        )
        level = Exploitation.ACTIVE
    parsed = []
    for vector in cvss_vectors(finding):
        result = parse_cvss(vector)
        if result is None:
            factors.append(
                RiskFactor(
                    name="exploitability", value=f"unreadable CVSS vector ignored: {vector[:80]}", points=0.0
                )
            )
        else:
            parsed.append(result)
    if parsed:
        best = max(parsed, key=lambda c: (c.base, c.vector))
        factors.append(
            RiskFactor(
                name="exploitability", value=f"CVSS base {best.base:.1f} ({best.vector})", points=best.base
            )
        )
        maturities = {c.maturity for c in parsed}
        if "A" in maturities:  # CVSS 4.0: attacked
            level = Exploitation.ACTIVE
        elif level is Exploitation.NONE and maturities & {"P", "F", "H"}:
            level = Exploitation.POC
    return _capped(factors, EXPLOITABILITY_CAP), level


def _active_attack(finding: Finding, ctx: RiskContext) -> list[RiskFactor]:
    if finding.source is Source.DETECTION:
        return [
            RiskFactor(
                name="active_attack",
                value="the finding is a detection of activity",
                points=DETECTION_ITSELF_POINTS,
            )
        ]
    rules = ctx.attacked.get(finding.asset.key, ())
    if rules:
        shown = ", ".join(rules[:3]) + (f" +{len(rules) - 3}" if len(rules) > 3 else "")
        return [
            RiskFactor(
                name="active_attack",
                value=f"detection on the same asset: {shown}",
                points=ACTIVE_ATTACK_POINTS,
            )
        ]
    return []


def _capped(factors: list[RiskFactor], cap: float) -> list[RiskFactor]:
    """Keep the factors; when their sum passes ``cap``, add a negative factor that says so."""
    total = sum(f.points for f in factors)
    if total > cap:
        name = factors[0].name
        factors.append(RiskFactor(name=name, value=f"{name} capped at {cap:g}", points=cap - total))
    return factors


def _impact(finding: Finding) -> Impact:
    crit = finding.asset.criticality
    level = 2 if crit >= Criticality.CRITICAL else 1 if crit is Criticality.HIGH else 0
    if finding.severity <= Severity.LOW:
        level -= 1
    elif finding.severity is Severity.CRITICAL:
        level += 1
    return (Impact.LOW, Impact.MEDIUM, Impact.HIGH)[max(0, min(2, level))]


_EXPLOITATION_STEP = {Exploitation.NONE: 0, Exploitation.POC: 1, Exploitation.ACTIVE: 2}
_EXPOSURE_STEP = {Exposure.SMALL: 0, Exposure.CONTROLLED: 1, Exposure.OPEN: 2}


def assessment_key(finding: Finding) -> tuple[object, ...]:
    """Everything :func:`assess` reads from a finding: equal keys (in one context) give equal verdicts."""
    attributes = tuple(
        (name, value)
        for evidence in finding.evidence
        for name, value in evidence.attributes
        if name in RISK_ATTRIBUTES
    )
    return (finding.severity, finding.source, finding.asset, finding.references, attributes)


def assess(finding: Finding, ctx: RiskContext) -> Assessment:
    """Score, explain and decide one finding."""
    factors = [
        RiskFactor(name="severity", value=finding.severity.label, points=SEVERITY_POINTS[finding.severity]),
        RiskFactor(
            name="criticality",
            value=finding.asset.criticality.label,
            points=CRITICALITY_POINTS[finding.asset.criticality],
        ),
    ]
    exposure_factors, exposure = _exposure(finding, ctx)
    exploit_factors, exploitation = _exploitability(finding, ctx)
    attack_factors = _active_attack(finding, ctx)
    if attack_factors and exploitation is not Exploitation.ACTIVE:
        exploitation = Exploitation.ACTIVE
    factors += exposure_factors + exploit_factors + attack_factors
    total = sum(f.points for f in factors)
    score = round(min(MAX_SCORE, max(0.0, total)), 1)
    if total > MAX_SCORE:
        factors.append(
            RiskFactor(name="cap", value=f"score capped at {MAX_SCORE:g}", points=round(MAX_SCORE - total, 1))
        )
    impact = _impact(finding)
    crit_level = int(finding.asset.criticality)
    informational = finding.severity is Severity.INFO
    decision = decide(exploitation, exposure, impact, informational=informational)
    why = f"exploitation {exploitation.value}, exposure {exposure.value}, impact {impact.value}"
    factors.append(
        RiskFactor(
            name="decision",
            value=f"{decision.value}: " + ("informational finding" if informational else why),
            points=0.0,
        )
    )
    return Assessment(
        score=score,
        factors=tuple(factors),
        exploitation=exploitation,
        exposure=exposure,
        impact=impact,
        decision=decision,
        likelihood=1 + _EXPLOITATION_STEP[exploitation] + _EXPOSURE_STEP[exposure],
        impact_level=max(1, min(5, math.ceil((SEVERITY_LEVEL[finding.severity] + crit_level) / 2))),
    )
