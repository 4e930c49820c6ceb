"""The risk model ``risk-3``: a decision and a 0..100 score per finding, explained factor by factor.

Pure functions over the core model. The decision comes from SSVC-style questions (exploitation,
exposure, automatable, impact; :mod:`secaudit.risk.decision`); the score is the decision's band
floor (:data:`DECISION_FLOOR`) plus a quarter of the factor total, so a higher decision never scores
lower. The factor total is the sum of five factors' points, capped at 100:

============== =================================================================== ==========
factor         what is observed                                                     points
============== =================================================================== ==========
severity       the finding's own severity                                           1 .. 35
criticality    how much the city depends on the asset                               3 .. 20
exposure       segment kind (or internet-facing tag), network reachability,         0 .. 25
               reachability across a segment boundary
exploitability CVE in the KEV catalogue (15), highest CVSS base score (0..10),      0 .. 25
               EPSS probability of a cited CVE (10 x probability, 0..10)
active_attack  the finding is a detection (8), or a detection on the same asset (15) 0 .. 15
============== =================================================================== ==========

The exact points are the tables below; docs/risk-model.md explains them in words. Every factor
that added (or could have added) points is a :class:`~secaudit.core.report.RiskFactor`, so a report
shows why a finding ranks where it does. The model version is stored with every run.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from cvss import CVSS3, CVSS4, CVSSError

from secaudit.catalog.kev import Kev
from secaudit.core.model import Asset, Criticality, Finding, Reference, RefKind, SegmentKind, Severity, Source
from secaudit.core.profile import Profile
from secaudit.core.report import Decision, RiskFactor
from secaudit.risk.decision import Exploitation, Exposure, Impact, decide

RISK_MODEL_VERSION = "risk-3"
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
EPSS_POINTS = 10.0  # times the EPSS probability (0..1) of the likeliest cited CVE
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
RISK_ATTRIBUTES = frozenset(
    {"reachable_from", "cross_segment", "cve", "cvss", "cvss_vector", "automatable"}
    | {"epss", "epss_model", "kev_due", "network_service"}
)
# The decision sets the score's band, the factor points place the finding inside it:
# score = floor + factor total (0..100) * BAND_WIDTH / 100. A higher decision never scores lower.
DECISION_FLOOR = {Decision.ACT: 75.0, Decision.ATTEND: 50.0, Decision.TRACK_STAR: 25.0, Decision.TRACK: 0.0}
BAND_WIDTH = 25.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskContext:
    """What the model knows beyond one finding: the profile, the KEV catalogue, the run's detections.

    ``kev`` answers "is this CVE in the known-exploited catalogue?" (see :func:`with_kev`); without a
    catalogue it says no.
    ``attacked`` maps an asset key to the detection rule ids seen on it in this run.

    A context also remembers what it worked out (segments, exposure, KEV and CVSS parts, verdicts),
    so make one per run's findings: :func:`assess_all` over 100k findings then does the model's work
    only for the few combinations of inputs that differ.
    """

    profile: Profile | None = None
    kev: Callable[[str], bool] = field(default=lambda cve: False)
    kev_label: str = "KEV"
    attacked: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Memos, filled as findings are assessed. Not constructor arguments, so ``replace()`` (another
    # profile, another KEV) always starts them empty instead of sharing answers that no longer hold.
    # (segment name, address) -> (segment kind, segment name)
    segments: dict[tuple[str, str], tuple[SegmentKind | None, str]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # asset -> what the model reads from it; equal views are one object (see _asset_view)
    views: dict[Asset, _AssetView] = field(default_factory=dict, init=False, compare=False, repr=False)
    interned: dict[tuple[object, ...], _AssetView] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # (segment kind, segment name, internet tag, source, crossed) -> exposure factors and level
    exposures: dict[tuple[object, ...], tuple[tuple[RiskFactor, ...], Exposure]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # detection rule ids seen on an asset -> the active-attack factor they add
    attacks: dict[tuple[str, ...], tuple[RiskFactor, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # (severity, criticality, identities of the remembered parts above) -> the verdict
    verdicts: dict[tuple[object, ...], Assessment] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # cited CVE ids -> the KEV factor; cited vectors -> CVSS factors and exploit maturities
    kev_parts: dict[tuple[str, ...], tuple[tuple[RiskFactor, ...], bool]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    cvss_parts: dict[tuple[str, ...], tuple[tuple[RiskFactor, ...], frozenset[str]]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # cited EPSS probabilities -> the EPSS factor
    epss_parts: dict[tuple[tuple[str, str], ...], tuple[RiskFactor, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # (identities of a KEV part, a CVSS part and an EPSS part) -> exploitability factors and level
    exploits: dict[tuple[int, ...], tuple[tuple[RiskFactor, ...], Exploitation]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )


def describe_model(kev: Kev | None) -> str:
    """What scored a run, as stored with it and shown in a report's methodology:
    ``risk-3 (KEV 2026.11.18, released 2026-11-18)`` or ``risk-3 (no KEV catalogue)``."""
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


def _segment_kind(asset: Asset, ctx: RiskContext) -> tuple[SegmentKind | None, str]:
    """The kind and name of the asset's segment: named on the asset, else found from its address."""
    key = (asset.segment, asset.address)
    known = ctx.segments.get(key)
    if known is not None:
        return known
    profile = ctx.profile
    segment = profile.segment(asset.segment) if profile and asset.segment else None
    if profile and segment is None and asset.address:
        segment = profile.segment_of(asset.address)
    found = (segment.kind, segment.name) if segment else (None, asset.segment)
    ctx.segments[key] = found
    return found


@dataclass(frozen=True, slots=True)
class _AssetView:
    """What the model reads from an asset; two assets with equal views get equal verdicts."""

    criticality: Criticality
    kind: SegmentKind | None
    segment: str  # its segment's name ('' or an undeclared name when the profile has none)
    internet: str  # the first internet-facing tag, '' when it has none
    attack: tuple[RiskFactor, ...]  # the active-attack factor of its findings that are not detections


def _asset_view(asset: Asset, ctx: RiskContext) -> _AssetView:
    view = ctx.views.get(asset)
    if view is None:
        kind, segment = _segment_kind(asset, ctx)
        internet = sorted(INTERNET_TAGS.intersection(asset.tags))
        attack = _attack_factors(ctx.attacked.get(asset.key), ctx)
        content = (asset.criticality, kind, segment, internet[0] if internet else "", id(attack))
        view = ctx.interned.get(content)
        if view is None:
            view = ctx.interned[content] = _AssetView(
                asset.criticality, kind, segment, internet[0] if internet else "", attack
            )
        ctx.views[asset] = view
    return view


Attributes = tuple[tuple[str, str], ...]


def risk_attributes(finding: Finding) -> Attributes:
    """The evidence attributes the model reads (:data:`RISK_ATTRIBUTES`), in evidence order."""
    evidence = finding.evidence
    if len(evidence) == 1:  # the usual case, and the hot path when ranking 100k findings
        attributes = evidence[0].attributes
        return tuple([pair for pair in attributes if pair[0] in RISK_ATTRIBUTES]) if attributes else ()
    return tuple([pair for item in evidence for pair in item.attributes if pair[0] in RISK_ATTRIBUTES])


def _crossed(attributes: Attributes, own_segment: str) -> str:
    for name, value in attributes:
        if name == "reachable_from" and value and value != own_segment:
            return value
        if name == "cross_segment" and value.strip().lower() in _TRUE:
            return "another segment"
    return ""


def cross_segment(finding: Finding, own_segment: str) -> str:
    """The segment the finding says it was reached from, when that is not the asset's own, else ''."""
    return _crossed(risk_attributes(finding), own_segment)


def _cves(references: tuple[Reference, ...], attributes: Attributes) -> tuple[str, ...]:
    if not references and not attributes:
        return ()
    found = {r.id.strip().upper() for r in references if r.kind is RefKind.CVE}
    found |= {v.strip().upper() for k, v in attributes if k == "cve" and v.strip()}
    return tuple(sorted(found))


def cves(finding: Finding) -> list[str]:
    """CVE ids the finding cites (references of kind cve, evidence attributes ``cve``), upper-cased."""
    return list(_cves(finding.references, risk_attributes(finding)))


def _vectors(references: tuple[Reference, ...], attributes: Attributes) -> tuple[str, ...]:
    if not references and not attributes:
        return ()
    found = {r.id.strip() for r in references if r.id.strip().upper().startswith("CVSS:")}
    found |= {v.strip() for k, v in attributes if k in ("cvss", "cvss_vector") and v.strip()}
    return tuple(sorted(found))


def cvss_vectors(finding: Finding) -> list[str]:
    """CVSS vectors cited in references or evidence attributes (``cvss``, ``cvss_vector``)."""
    return list(_vectors(finding.references, risk_attributes(finding)))


@dataclass(frozen=True, slots=True)
class _Cvss:
    vector: str
    base: float
    maturity: str  # the exploit maturity metric, "X" when not given


@functools.lru_cache(maxsize=4096)  # a run cites few distinct vectors; the cvss package is slow
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


def _exposure(
    view: _AssetView, source: Source, attributes: Attributes, ctx: RiskContext
) -> tuple[tuple[RiskFactor, ...], Exposure]:
    kind, segment_name, internet = view.kind, view.segment, view.internet
    crossed = _crossed(attributes, segment_name)
    # a known vulnerability of a service that answered on the network (not of an installed package)
    vuln_service = source is Source.VULN and any(name == "network_service" for name, _ in attributes)
    key = (kind, segment_name, internet, source, crossed, vuln_service)
    known = ctx.exposures.get(key)
    if known is not None:
        return known
    factors: list[RiskFactor] = []
    if internet:
        factors.append(
            RiskFactor(
                name="exposure",
                value=f"tagged {internet}",
                points=INTERNET_FACING_POINTS,
                key="exposure.tagged",
                args=(("tag", internet),),
            )
        )
    elif kind is not None:
        factors.append(
            RiskFactor(
                name="exposure",
                value=f"{kind.value} segment {segment_name}",
                points=SEGMENT_POINTS[kind],
                key="exposure.segment",
                args=(("kind", kind.value), ("segment", segment_name)),
            )
        )
    else:
        factors.append(
            RiskFactor(
                name="exposure",
                value="segment unknown",
                points=UNKNOWN_SEGMENT_POINTS,
                key="exposure.unknown_segment",
            )
        )
    network = source in (Source.SCAN, Source.PASSIVE) or vuln_service
    if network:
        factors.append(
            RiskFactor(
                name="exposure",
                value="service reachable on the network",
                points=NETWORK_REACHABLE_POINTS,
                key="exposure.network",
            )
        )
    elif source is Source.BASELINE:
        factors.append(
            RiskFactor(name="exposure", value="configuration only", points=0.0, key="exposure.configuration")
        )
    elif source is Source.VULN:
        factors.append(
            RiskFactor(
                name="exposure",
                value="installed package, no network evidence",
                points=0.0,
                key="exposure.vuln_package",
            )
        )
    if crossed:
        factors.append(
            RiskFactor(
                name="exposure",
                value=f"reachable from {crossed}",
                points=CROSS_SEGMENT_POINTS,
                key="exposure.crossed",
                args=(("from", crossed),),
            )
        )
    open_system = bool(internet) or kind is SegmentKind.DMZ
    if crossed or (open_system and source is not Source.BASELINE):
        level = Exposure.OPEN
    elif source is Source.BASELINE:
        # A configuration weakness is reached only through what the system offers: on an open
        # system that is a controlled exposure, elsewhere a small one.
        level = Exposure.CONTROLLED if open_system else Exposure.SMALL
    else:
        level = Exposure.CONTROLLED
    found = ctx.exposures[key] = (tuple(_capped(factors, EXPOSURE_CAP)), level)
    return found


def _exploitability(
    finding: Finding, attributes: Attributes, ctx: RiskContext
) -> tuple[tuple[RiskFactor, ...], Exploitation]:
    kev_part = _kev_part(_cves(finding.references, attributes), ctx)
    cvss_part = _cvss_part(_vectors(finding.references, attributes), ctx)
    epss_part = _epss_part(attributes, ctx)
    key = (id(kev_part), id(cvss_part), id(epss_part))  # remembered objects: identity stands for content
    known = ctx.exploits.get(key)
    if known is not None:
        return known
    kev_factors, listed = kev_part
    cvss_factors, maturities = cvss_part
    level = Exploitation.ACTIVE if listed else Exploitation.NONE
    if "A" in maturities:  # CVSS 4.0: attacked
        level = Exploitation.ACTIVE
    elif level is Exploitation.NONE and maturities & {"P", "F", "H"}:
        level = Exploitation.POC
    factors = _capped([*kev_factors, *cvss_factors, *epss_part], EXPLOITABILITY_CAP)
    found = ctx.exploits[key] = (tuple(factors), level)
    return found


_EPSS_KEYS = frozenset({"epss", "epss_model", "kev_due"})


def _epss_part(attributes: Attributes, ctx: RiskContext) -> tuple[RiskFactor, ...]:
    """The EPSS factor: 10 x the highest cited EPSS probability (evidence attribute ``epss``, its
    model in ``epss_model``), and CISA's KEV due date (``kev_due``, no points: the KEV factor counts).
    Unreadable values add nothing and say so."""
    cited = tuple(sorted({(k, v.strip()) for k, v in attributes if k in _EPSS_KEYS and v.strip()}))
    if not cited:
        return _NO_FACTORS
    known = ctx.epss_parts.get(cited)
    if known is None:
        values = []
        model = next((v for k, v in cited if k == "epss_model"), "")
        dues = sorted(v for k, v in cited if k == "kev_due")
        for key, text in cited:
            if key != "epss":
                continue
            try:
                value = float(text)
            except ValueError:
                continue
            if 0.0 <= value <= 1.0:
                values.append(value)
        factors = []
        if values and model:
            best = max(values)
            factors.append(
                RiskFactor(
                    name="exploitability",
                    value=f"EPSS {best:.1%} probability of exploitation in 30 days (EPSS model {model[:60]})",
                    points=round(EPSS_POINTS * best, 1),
                    key="exploitability.epss_model",
                    args=(("probability", f"{best:.1%}"), ("model", model[:60])),
                )
            )
        elif values:
            best = max(values)
            factors.append(
                RiskFactor(
                    name="exploitability",
                    value=f"EPSS {best:.1%} probability of exploitation in 30 days",
                    points=round(EPSS_POINTS * best, 1),
                    key="exploitability.epss",
                    args=(("probability", f"{best:.1%}"),),
                )
            )
        elif any(k == "epss" for k, _ in cited):
            shown = next(v for k, v in cited if k == "epss")
            factors.append(
                RiskFactor(
                    name="exploitability",
                    value=f"unreadable EPSS value ignored: {shown[:20]}",
                    points=0.0,
                    key="exploitability.bad_epss",
                    args=(("value", shown[:20]),),
                )
            )
        if dues:
            factors.append(
                RiskFactor(
                    name="exploitability",
                    value=f"CISA KEV remediation due {dues[0][:10]}",
                    points=0.0,
                    key="exploitability.kev_due",
                    args=(("due", dues[0][:10]),),
                )
            )
        known = ctx.epss_parts[cited] = tuple(factors)
    return known


def _kev_part(cited: tuple[str, ...], ctx: RiskContext) -> tuple[tuple[RiskFactor, ...], bool]:
    """The KEV factor of the cited CVE ids (none when none is listed), and whether one is."""
    known = ctx.kev_parts.get(cited)
    if known is None:
        listed = [cve for cve in cited if ctx.kev(cve)]
        factors = (
            (
                RiskFactor(
                    name="exploitability",
                    value=f"{', '.join(listed)} in {ctx.kev_label}",
                    points=KEV_POINTS,
                    key="exploitability.kev",
                    args=(("cves", ", ".join(listed)), ("catalogue", ctx.kev_label)),
                ),
            )
            if listed
            else ()
        )
        known = ctx.kev_parts[cited] = (factors, bool(listed))
    return known


def _cvss_part(vectors: tuple[str, ...], ctx: RiskContext) -> tuple[tuple[RiskFactor, ...], frozenset[str]]:
    """The CVSS factors of the cited vectors (unreadable ones, then the highest base score), and the
    exploit maturities of the readable ones."""
    known = ctx.cvss_parts.get(vectors)
    if known is not None:
        return known
    factors = []
    parsed = []
    for vector in vectors:
        result = parse_cvss(vector)
        if result is None:
            factors.append(
                RiskFactor(
                    name="exploitability",
                    value=f"unreadable CVSS vector ignored: {vector[:80]}",
                    points=0.0,
                    key="exploitability.bad_vector",
                    args=(("vector", vector[:80]),),
                )
            )
        else:
            parsed.append(result)
    if parsed:
        best = max(parsed, key=lambda c: (c.base, c.vector))
        factors.append(
            RiskFactor(
                name="exploitability",
                value=f"CVSS base {best.base:.1f} ({best.vector})",
                points=best.base,
                key="exploitability.cvss",
                args=(("base", f"{best.base:.1f}"), ("vector", best.vector)),
            )
        )
    found = ctx.cvss_parts[vectors] = (tuple(factors), frozenset(c.maturity for c in parsed))
    return found


_DETECTION_ITSELF = (
    RiskFactor(
        name="active_attack",
        value="the finding is a detection of activity",
        points=DETECTION_ITSELF_POINTS,
        key="active_attack.detection",
    ),
)


_NO_FACTORS: tuple[RiskFactor, ...] = ()


def _attack_factors(rules: tuple[str, ...] | None, ctx: RiskContext) -> tuple[RiskFactor, ...]:
    """The active-attack factor for an asset with these detection rules (none without)."""
    if not rules:
        return _NO_FACTORS
    known = ctx.attacks.get(rules)
    if known is None:
        shown = ", ".join(rules[:3]) + (f" +{len(rules) - 3}" if len(rules) > 3 else "")
        factor = RiskFactor(
            name="active_attack",
            value=f"detection on the same asset: {shown}",
            points=ACTIVE_ATTACK_POINTS,
            key="active_attack.same_asset",
            args=(("rules", shown),),
        )
        known = ctx.attacks[rules] = (factor,)
    return known


def _capped(factors: list[RiskFactor], cap: float) -> list[RiskFactor]:
    """Keep the factors; when their sum passes ``cap``, add a negative factor that says so."""
    total = sum(f.points for f in factors)
    if total > cap:
        name = factors[0].name
        factors.append(
            RiskFactor(
                name=name,
                value=f"{name} capped at {cap:g}",
                points=cap - total,
                key="cap.part",
                args=(("factor", name), ("cap", f"{cap:g}")),
            )
        )
    return factors


def _impact(severity: Severity, crit: Criticality) -> Impact:
    """Mission and well-being impact: severity level (info 1 .. critical 5) plus asset criticality
    (low 1 .. public-safety-critical 5); 8 or more is high, 5 or more medium, else low."""
    total = SEVERITY_LEVEL[severity] + int(crit)
    return Impact.HIGH if total >= 8 else Impact.MEDIUM if total >= 5 else Impact.LOW


def _automatable(source: Source, attributes: Attributes) -> bool:
    """Can an attacker find and use this weakness with a scanner, without a human step? Yes for a
    service that answered on the network (scan, passive); an evidence attribute ``automatable``
    (yes/no) says otherwise."""
    for name, value in attributes:
        if name == "automatable":
            return value.strip().lower() in _TRUE
    return source in (Source.SCAN, Source.PASSIVE)


_EXPLOITATION_STEP = {Exploitation.NONE: 0, Exploitation.POC: 1, Exploitation.ACTIVE: 2}
_EXPOSURE_STEP = {Exposure.SMALL: 0, Exposure.CONTROLLED: 1, Exposure.OPEN: 2}


_SEVERITY_FACTORS = {
    s: RiskFactor(name="severity", value=s.label, points=points) for s, points in SEVERITY_POINTS.items()
}
_CRITICALITY_FACTORS = {
    c: RiskFactor(name="criticality", value=c.label, points=points)
    for c, points in CRITICALITY_POINTS.items()
}


def assess(finding: Finding, ctx: RiskContext) -> Assessment:
    """Score, explain and decide one finding.

    The parts that many findings share (what the model reads from the asset, where it sits, which
    CVEs and vectors are cited) are worked out once per context and remembered in it.
    """
    return _assess(finding, risk_attributes(finding), _asset_view(finding.asset, ctx), ctx)


def assess_all(findings: Iterable[Finding], ctx: RiskContext) -> list[tuple[Finding, Assessment]]:
    """Every finding with its verdict, in the order given; findings that give the model the same
    inputs (severity, source, an equal view of the asset, references, risk attributes) are assessed
    once."""
    verdicts: dict[tuple[object, ...], Assessment] = {}
    out: list[tuple[Finding, Assessment]] = []
    # Producers share one Asset object among a host's findings: look views up by identity first
    # (hashing an Asset runs Python code). The asset is kept in the entry, so its id stays its own.
    by_identity: dict[int, tuple[Asset, _AssetView]] = {}
    known_verdict, append = verdicts.get, out.append  # bound once: this loop runs per finding
    relevant = RISK_ATTRIBUTES
    for finding in findings:
        evidence = finding.evidence  # risk_attributes(), inlined: this loop runs per finding
        if len(evidence) == 1:
            pairs = evidence[0].attributes
            attributes = tuple([pair for pair in pairs if pair[0] in relevant]) if pairs else ()
        else:
            attributes = risk_attributes(finding)
        asset = finding.asset
        entry = by_identity.get(id(asset))
        if entry is None or entry[0] is not asset:
            entry = by_identity[id(asset)] = (asset, _asset_view(asset, ctx))
        view = entry[1]
        # Enum members are singletons: id(source) is a cheaper key than the member (hashed in Python).
        key = (finding.severity, id(finding.source), id(view), finding.references, attributes)
        verdict = known_verdict(key)
        if verdict is None:
            verdict = verdicts[key] = _assess(finding, attributes, view, ctx)
        append((finding, verdict))
    return out


def _assess(finding: Finding, attributes: Attributes, view: _AssetView, ctx: RiskContext) -> Assessment:
    source = finding.source
    exposed = _exposure(view, source, attributes, ctx)
    exploits = _exploitability(finding, attributes, ctx)
    attack_factors = _DETECTION_ITSELF if source is Source.DETECTION else view.attack
    automatable = _automatable(source, attributes)
    reached = source is not Source.BASELINE  # activity on the asset reaches it directly
    # The parts are remembered objects, so their identities stand for their contents.
    key = (
        finding.severity,
        view.criticality,
        id(exposed),
        id(exploits),
        id(attack_factors),
        automatable,
        reached,
    )
    known = ctx.verdicts.get(key)
    if known is None:
        known = ctx.verdicts[key] = _verdict(
            finding.severity,
            view.criticality,
            exposed,
            exploits,
            attack_factors,
            automatable=automatable,
            reached=reached,
        )
    return known


@functools.cache
def _decision_factor(
    decision: Decision,
    exploitation: Exploitation,
    exposure: Exposure,
    impact: Impact,
    informational: bool,
    automatable: bool,
    total: float,
) -> RiskFactor:
    floor = DECISION_FLOOR[decision]
    auto = "yes" if automatable else "no"
    band = f"score = {floor:g} + {total:g} factor points x {BAND_WIDTH / MAX_SCORE:g}"
    why = (
        f"exploitation {exploitation.value}, exposure {exposure.value}, automatable {auto}, "
        f"impact {impact.value}; {band}"
    )
    if informational:
        return RiskFactor(
            name="decision",
            value=f"{decision.value}: informational finding; {band}",
            points=0.0,
            key="decision.informational",
            args=(("decision", decision.value), ("floor", f"{floor:g}"), ("total", f"{total:g}")),
        )
    return RiskFactor(
        name="decision",
        value=f"{decision.value}: {why}",
        points=0.0,
        key="decision.table",
        args=(
            ("decision", decision.value),
            ("exploitation", exploitation.value),
            ("exposure", exposure.value),
            ("automatable", auto),
            ("impact", impact.value),
            ("floor", f"{floor:g}"),
            ("total", f"{total:g}"),
        ),
    )


def _verdict(
    severity: Severity,
    criticality: Criticality,
    exposed: tuple[tuple[RiskFactor, ...], Exposure],
    exploits: tuple[tuple[RiskFactor, ...], Exploitation],
    attack_factors: tuple[RiskFactor, ...],
    *,
    automatable: bool,
    reached: bool,
) -> Assessment:
    exposure_factors, exposure = exposed
    exploit_factors, exploitation = exploits
    factors = [_SEVERITY_FACTORS[severity], _CRITICALITY_FACTORS[criticality]]
    if attack_factors and exploitation is not Exploitation.ACTIVE:
        # Activity on the asset: what it reaches (a detection, an exposed service) counts as
        # exploited; a configuration weakness of the same host as within reach (poc), not as used.
        exploitation = Exploitation.ACTIVE if reached else Exploitation.POC
    if automatable and exposure is Exposure.OPEN and exploitation is Exploitation.NONE:
        # An open service a scanner finds and uses: exploit code is a commodity (telnet, FTP logins).
        exploitation = Exploitation.POC
    factors += exposure_factors + exploit_factors + attack_factors
    total = sum(f.points for f in factors)
    capped = round(min(MAX_SCORE, max(0.0, total)), 1)
    if total > MAX_SCORE:
        factors.append(
            RiskFactor(
                name="cap",
                value=f"score capped at {MAX_SCORE:g}",
                points=round(MAX_SCORE - total, 1),
                key="cap.score",
                args=(("cap", f"{MAX_SCORE:g}"),),
            )
        )
    impact = _impact(severity, criticality)
    crit_level = int(criticality)
    informational = severity is Severity.INFO
    decision = decide(exploitation, exposure, impact, informational=informational)
    factors.append(
        _decision_factor(decision, exploitation, exposure, impact, informational, automatable, capped)
    )
    score = round(DECISION_FLOOR[decision] + capped * BAND_WIDTH / MAX_SCORE, 1)
    return Assessment(
        score=score,
        factors=tuple(factors),
        exploitation=exploitation,
        exposure=exposure,
        impact=impact,
        decision=decision,
        likelihood=1 + _EXPLOITATION_STEP[exploitation] + _EXPOSURE_STEP[exposure],
        impact_level=max(1, min(5, math.ceil((SEVERITY_LEVEL[severity] + crit_level) / 2))),
    )
