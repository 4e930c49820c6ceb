"""The risk model: hand-built findings whose score, decision and order follow from their factors."""

from __future__ import annotations

from dataclasses import replace

from secaudit.core.model import Asset, Criticality, Evidence, Finding, Reference, RefKind, Severity, Source
from secaudit.core.report import Decision, RiskFactor
from secaudit.risk.decision import DECISION_TABLE, Exploitation, Exposure, Impact, decide
from secaudit.risk.model import RISK_MODEL_VERSION, RiskContext, assess, detections_by_asset
from tests.report.conftest import make_profile

PROFILE = make_profile()  # segments: command-center (it), traffic-ot (ot), cctv, dmz
CTX = RiskContext(profile=PROFILE)

SIGNAL = Asset(
    key="tc-patong-01",
    address="127.20.0.11",
    segment="traffic-ot",
    criticality=Criticality.PUBLIC_SAFETY_CRITICAL,
)
WEB = Asset(key="dmz-web-01", address="127.40.0.8", criticality=Criticality.HIGH)  # segment from address
APP = Asset(key="cc-app-01", address="127.10.0.5", segment="command-center", criticality=Criticality.CRITICAL)


def _finding(
    rule: str, severity: Severity, asset: Asset, source: Source = Source.SCAN, **kw: object
) -> Finding:
    return Finding(rule_id=rule, source=source, severity=severity, title=rule, asset=asset, **kw)  # type: ignore[arg-type]


def _factors(finding: Finding, ctx: RiskContext = CTX) -> list[tuple[str, str, float]]:
    return [(f.name, f.value, f.points) for f in assess(finding, ctx).factors]


def test_version() -> None:
    assert RISK_MODEL_VERSION == "risk-3"


def _band(decision: Decision, factors: tuple[RiskFactor, ...]) -> float:
    """What the score must be: the decision's band floor plus a quarter of the factor points."""
    floor = {Decision.ACT: 75.0, Decision.ATTEND: 50.0, Decision.TRACK_STAR: 25.0, Decision.TRACK: 0.0}
    return round(floor[decision] + sum(f.points for f in factors) / 4, 1)


def test_telnet_on_a_signal_controller_is_explained_factor_by_factor() -> None:
    verdict = assess(_finding("EXP-TELNET", Severity.HIGH, SIGNAL), CTX)
    assert [(f.name, f.value, f.points) for f in verdict.factors] == [
        ("severity", "high", 27.0),
        ("criticality", "public-safety-critical", 20.0),
        ("exposure", "ot segment traffic-ot", 4.0),
        ("exposure", "service reachable on the network", 5.0),
        (
            "decision",
            "attend: exploitation none, exposure controlled, automatable yes, impact high;"
            " score = 50 + 56 factor points x 0.25",
            0.0,
        ),
    ]
    assert sum(f.points for f in verdict.factors) == 56.0
    assert verdict.score == 64.0 == _band(verdict.decision, verdict.factors)
    assert (verdict.decision, verdict.likelihood, verdict.impact_level) == (Decision.ATTEND, 2, 5)


def test_the_dmz_is_open_and_a_cross_segment_path_opens_an_internal_host() -> None:
    web = assess(_finding("EXP-FTP", Severity.MEDIUM, WEB), CTX)
    assert ("exposure", "dmz segment dmz", 12.0) in [(f.name, f.value, f.points) for f in web.factors]
    assert web.exposure is Exposure.OPEN
    crossing = _finding(
        "EXP-MODBUS-UNAUTHENTICATED",
        Severity.HIGH,
        SIGNAL,
        evidence=(Evidence(kind="network", summary="502 open", attributes=(("reachable_from", "dmz"),)),),
    )
    verdict = assess(crossing, CTX)
    assert ("exposure", "reachable from dmz", 5.0) in [(f.name, f.value, f.points) for f in verdict.factors]
    assert verdict.exposure is Exposure.OPEN
    # an open service a scanner can use: exploitation counts as poc; poc / open / high
    assert (verdict.exploitation, verdict.decision) == (Exploitation.POC, Decision.ACT)
    same_segment = replace(
        crossing,
        evidence=(Evidence(kind="network", summary="502", attributes=(("reachable_from", "traffic-ot"),)),),
    )
    assert assess(same_segment, CTX).exposure is Exposure.CONTROLLED


def test_configuration_only_findings_have_small_exposure() -> None:
    verdict = assess(_finding("ssh-permit-root-login", Severity.HIGH, APP, Source.BASELINE), CTX)
    assert ("exposure", "configuration only", 0.0) in [(f.name, f.value, f.points) for f in verdict.factors]
    assert (verdict.exposure, verdict.decision) == (Exposure.SMALL, Decision.TRACK_STAR)


def test_kev_and_cvss_raise_exploitability() -> None:
    kev = {"CVE-2023-46604"}
    ctx = replace(CTX, kev=lambda cve: cve in kev, kev_label="KEV 2026-11-01")
    finding = _finding(
        "EXP-ACTIVEMQ",
        Severity.CRITICAL,
        APP,
        references=(
            Reference(kind=RefKind.CVE, id="cve-2023-46604"),
            Reference(kind=RefKind.URL, id="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        ),
    )
    verdict = assess(finding, ctx)
    factors = [(f.name, f.value, f.points) for f in verdict.factors]
    assert ("exploitability", "CVE-2023-46604 in KEV 2026-11-01", 15.0) in factors
    assert ("exploitability", "CVSS base 9.8 (CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H)", 9.8) in factors
    assert verdict.exploitation is Exploitation.ACTIVE
    assert verdict.decision is Decision.ACT
    # factors 35 + 15 + 8 + 5 + 15 + 9.8 = 87.8; Act: 75 + 87.8 / 4
    assert sum(f.points for f in verdict.factors) == 87.8
    assert verdict.score == 97.0
    without_kev = assess(finding, CTX)
    assert without_kev.exploitation is Exploitation.NONE and without_kev.decision is Decision.ATTEND
    assert without_kev.score == 68.2  # Attend: 50 + 72.8 / 4


def test_cvss_exploit_maturity_and_bad_vectors() -> None:
    poc = _finding(
        "X",
        Severity.HIGH,
        APP,
        evidence=(
            Evidence(
                kind="network",
                summary="s",
                attributes=(("cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F"),),
            ),
        ),
    )
    assert assess(poc, CTX).exploitation is Exploitation.POC
    attacked = replace(
        poc,
        evidence=(
            Evidence(
                kind="network",
                summary="s",
                attributes=(
                    ("cvss_vector", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A"),
                ),
            ),
        ),
    )
    assert assess(attacked, CTX).exploitation is Exploitation.ACTIVE
    broken = replace(
        poc, evidence=(Evidence(kind="network", summary="s", attributes=(("cvss", "CVSS:3.1/AV:Q"),)),)
    )
    verdict = assess(broken, CTX)
    assert ("exploitability", "unreadable CVSS vector ignored: CVSS:3.1/AV:Q", 0.0) in [
        (f.name, f.value, f.points) for f in verdict.factors
    ]
    assert verdict.exploitation is Exploitation.NONE


def test_a_detection_on_the_same_asset_raises_the_others() -> None:
    detection = _finding("sigma-brute-force", Severity.HIGH, APP, Source.DETECTION)
    weak = _finding("ssh-max-auth-tries", Severity.MEDIUM, APP, Source.BASELINE)
    elsewhere = _finding(
        "ssh-max-auth-tries", Severity.MEDIUM, replace(APP, key="cc-app-02"), Source.BASELINE
    )
    ctx = replace(CTX, attacked=detections_by_asset([detection, weak, elsewhere]))
    raised, calm = assess(weak, ctx), assess(elsewhere, ctx)
    assert ("active_attack", "detection on the same asset: sigma-brute-force", 15.0) in [
        (f.name, f.value, f.points) for f in raised.factors
    ]
    assert sum(f.points for f in raised.factors) == sum(f.points for f in calm.factors) + 15.0
    # a configuration weakness of an attacked host is within reach (poc), not itself exploited
    assert (raised.exploitation, raised.decision) == (Exploitation.POC, Decision.TRACK_STAR)
    assert (calm.exploitation, calm.decision) == (Exploitation.NONE, Decision.TRACK)
    assert raised.score > calm.score
    telnet = _finding("EXP-TELNET", Severity.HIGH, APP)
    assert assess(telnet, ctx).exploitation is Exploitation.ACTIVE  # an exposed service of that host
    itself = assess(detection, ctx)
    assert ("active_attack", "the finding is a detection of activity", 8.0) in [
        (f.name, f.value, f.points) for f in itself.factors
    ]


def test_internet_tag_unknown_segment_caps_and_info() -> None:
    exposed = replace(APP, tags=("internet-facing",))
    verdict = assess(_finding("X", Severity.LOW, exposed), CTX)
    assert ("exposure", "tagged internet-facing", 15.0) in [
        (f.name, f.value, f.points) for f in verdict.factors
    ]
    stray = assess(_finding("X", Severity.LOW, Asset(key="10.9.9.9", address="10.9.9.9")), CTX)
    assert ("exposure", "segment unknown", 8.0) in [(f.name, f.value, f.points) for f in stray.factors]
    info = assess(_finding("X", Severity.INFO, replace(APP, tags=("internet",))), CTX)
    assert info.decision is Decision.TRACK
    assert info.factors[-1].value.startswith("track: informational finding; score = 0 + ")
    many = tuple(Reference(kind=RefKind.URL, id=v) for v in ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",))
    kev_all = replace(CTX, kev=lambda cve: True)
    top = _finding(
        "Y",
        Severity.CRITICAL,
        replace(SIGNAL, tags=("internet-facing",)),
        references=(*many, Reference(kind=RefKind.CVE, id="CVE-2024-0001")),
        evidence=(Evidence(kind="n", summary="s", attributes=(("cross_segment", "yes"),)),),
    )
    capped = assess(top, replace(kev_all, attacked={SIGNAL.key: ("r",)}))
    assert capped.score == 100.0 and capped.decision is Decision.ACT
    assert capped.factors[-2].name == "cap" and capped.factors[-2].points < 0
    assert sum(f.points for f in capped.factors) == 100.0


def test_the_decision_table_is_complete_and_monotone() -> None:
    assert len(DECISION_TABLE) == 27
    order = [Decision.TRACK, Decision.TRACK_STAR, Decision.ATTEND, Decision.ACT]
    expl = list(Exploitation)
    expo = list(Exposure)
    imp = [Impact.LOW, Impact.MEDIUM, Impact.HIGH]
    for e in expl:
        for x in expo:
            for i in imp:
                here = order.index(decide(e, x, i))
                for bigger in (
                    (expl[min(expl.index(e) + 1, 2)], x, i),
                    (e, expo[min(expo.index(x) + 1, 2)], i),
                    (e, x, imp[min(imp.index(i) + 1, 2)]),
                ):
                    assert order.index(decide(*bigger)) >= here, (e, x, i, bigger)
    assert decide(Exploitation.ACTIVE, Exposure.OPEN, Impact.HIGH, informational=True) is Decision.TRACK
