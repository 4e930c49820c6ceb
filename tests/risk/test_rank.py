from __future__ import annotations

import random

from secaudit.core.model import Asset, Criticality, Finding, Severity, Source
from secaudit.risk.rank import RISK_MODEL_VERSION, SOURCE_ORDER, rank

PLC = Asset(key="plc-karon-02", criticality=Criticality.PUBLIC_SAFETY_CRITICAL)
APP = Asset(key="cc-app-01", criticality=Criticality.CRITICAL)
KIOSK = Asset(key="kiosk-07", criticality=Criticality.LOW)


def _f(name: str, severity: Severity, asset: Asset, source: Source, evidence_key: str = "") -> Finding:
    return Finding(
        rule_id=name, source=source, severity=severity, title=name, asset=asset, evidence_key=evidence_key
    )


def _identities(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.rule_id, f.asset.key, f.evidence_key) for f in findings]


EXPECTED = [
    # severity first: a critical on a low asset outranks a high on a public-safety system
    _f("R-CRIT", Severity.CRITICAL, KIOSK, Source.BASELINE),
    # equal severity: the public-safety critical asset first
    _f("R-HIGH", Severity.HIGH, PLC, Source.BASELINE),
    # equal severity and criticality: source order detection, scan, passive, baseline
    _f("R-DET", Severity.HIGH, APP, Source.DETECTION),
    _f("R-SCAN", Severity.HIGH, APP, Source.SCAN),
    _f("R-PASSIVE", Severity.HIGH, APP, Source.PASSIVE),
    _f("R-BASE", Severity.HIGH, APP, Source.BASELINE),
    # then rule id, asset key, evidence key
    _f("R-A", Severity.MEDIUM, APP, Source.SCAN, "tcp/80"),
    _f("R-A", Severity.MEDIUM, APP, Source.SCAN, "tcp/8080"),
    _f("R-B", Severity.MEDIUM, APP, Source.SCAN, "tcp/21"),
    _f("R-C", Severity.LOW, Asset(key="a-host", criticality=Criticality.MEDIUM), Source.SCAN),
    _f("R-C", Severity.LOW, Asset(key="b-host", criticality=Criticality.MEDIUM), Source.SCAN),
    _f("R-INFO", Severity.INFO, PLC, Source.DETECTION),
]


def test_model_version() -> None:
    assert RISK_MODEL_VERSION == "rank-1"
    assert set(SOURCE_ORDER) == set(Source)


def test_rank_orders_by_severity_criticality_source_then_identity() -> None:
    shuffled = list(reversed(EXPECTED))
    assert _identities(rank(shuffled)) == _identities(EXPECTED)


def test_rank_does_not_depend_on_input_order() -> None:
    rng = random.Random(20260301)
    for _ in range(25):
        sample = EXPECTED[:]
        rng.shuffle(sample)
        assert rank(sample) == EXPECTED


def test_rank_is_pure_and_takes_any_iterable() -> None:
    given = list(reversed(EXPECTED))
    before = given[:]
    ranked = rank(f for f in given)
    assert given == before
    assert ranked is not given
    assert ranked == EXPECTED
    assert rank([]) == []
