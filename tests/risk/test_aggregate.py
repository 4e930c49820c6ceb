"""Aggregation of identical findings, a ranking stable between runs, and the posture score."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from secaudit.core.model import Asset, Criticality, Finding, Severity, Source, Status
from secaudit.core.report import Decision
from secaudit.risk.aggregate import posture_score, ranked_rows
from secaudit.risk.model import RiskContext, detections_by_asset
from tests.report.conftest import make_profile

BKK = timezone(timedelta(hours=7))
T0 = datetime(2026, 1, 1, tzinfo=BKK)
T1 = datetime(2026, 2, 1, tzinfo=BKK)
T2 = datetime(2026, 3, 1, tzinfo=BKK)
PROFILE = make_profile()


def _asset(key: str, address: str, crit: Criticality = Criticality.HIGH) -> Asset:
    return Asset(key=key, address=address, criticality=crit)


def _telnet(asset: Asset, key: str = "tcp/23") -> Finding:
    return Finding(
        rule_id="EXP-TELNET",
        source=Source.SCAN,
        severity=Severity.HIGH,
        title="Telnet  login service reachable",
        asset=asset,
        evidence_key=key,
    )


SIGNAL = _asset("tc-patong-01", "127.20.0.11", Criticality.PUBLIC_SAFETY_CRITICAL)
CAMERA = _asset("cam-07", "127.30.0.7")
APP = _asset("cc-app-01", "127.10.0.5", Criticality.CRITICAL)


def _history(old: set[str]):  # type: ignore[no-untyped-def]
    def lookup(fp: str) -> tuple[Status, datetime, datetime]:
        if fp in old:
            return Status.PERSISTING, T0, T2
        return Status.NEW, T2, T2

    return lookup


def _rows(findings: list[Finding], old: set[str] | None = None):  # type: ignore[no-untyped-def]
    ctx = RiskContext(profile=PROFILE, attacked=detections_by_asset(findings))
    return ranked_rows(findings, ctx, _history(old or set()))


def test_identical_findings_on_several_assets_are_one_row() -> None:
    on_camera, on_signal = _telnet(CAMERA), _telnet(SIGNAL)
    retitled = replace(_telnet(APP), title="telnet login service REACHABLE")  # same title, other case/spaces
    other_port = _telnet(SIGNAL, "tcp/2323")
    rows = _rows([on_camera, on_signal, retitled, other_port], old={on_camera.fingerprint})
    (row,) = rows
    # the highest-risk instance leads: the public-safety-critical controller; equal scores by asset key
    assert [a.key for a in row.assets] == ["tc-patong-01", "tc-patong-01", "cc-app-01", "cam-07"]
    assert [f.evidence_key for f in row.instances] == ["tcp/23", "tcp/2323", "tcp/23", "tcp/23"]
    assert row.fingerprints == tuple(f.fingerprint for f in row.instances)
    assert row.finding == on_signal
    # the leader's score: Attend band 50 + (27 high + 20 psc + 4 ot + 5 reachable) / 4
    assert row.score == 64.0
    assert row.status is Status.NEW  # one instance is new
    assert (row.first_seen, row.last_seen) == (T0, T2)


def test_ranking_follows_the_factors() -> None:
    detection = Finding(
        rule_id="sigma-ssh-brute-force",
        source=Source.DETECTION,
        severity=Severity.MEDIUM,
        title="SSH brute force",
        asset=APP,
    )
    weak_ssh = Finding(
        rule_id="ssh-max-auth-tries",
        source=Source.BASELINE,
        severity=Severity.MEDIUM,
        title="Not met: few login attempts",
        asset=APP,
    )
    same_elsewhere = replace(weak_ssh, asset=replace(APP, key="cc-app-02", address="127.10.0.6"))
    camera_telnet = _telnet(CAMERA)
    rows = _rows([same_elsewhere, camera_telnet, weak_ssh, detection])
    order = [(r.finding.rule_id, r.finding.asset.key, r.score, r.decision) for r in rows]
    assert order == [
        # 17 medium + 15 critical + 8 it + 8 (the detection itself) = 48; active / controlled /
        # medium impact: attend, 50 + 48 / 4
        ("sigma-ssh-brute-force", "cc-app-01", 62.0, Decision.ATTEND),
        # 17 medium + 15 critical + 8 it + 15 detection on the same asset = 55; a configuration
        # weakness of an attacked host: poc / small / medium: track*, 25 + 55 / 4
        ("ssh-max-auth-tries", "cc-app-01", 38.8, Decision.TRACK_STAR),
        # 27 high + 10 high asset + 6 cctv + 5 reachable = 48; none / controlled / medium: track*, 25 + 48 / 4
        ("EXP-TELNET", "cam-07", 37.0, Decision.TRACK_STAR),
    ]
    # the weak-ssh row aggregates both servers; the attacked one leads it
    assert [a.key for a in rows[1].assets] == ["cc-app-01", "cc-app-02"]
    assert [r.rank for r in rows] == [1, 2, 3]
    assert rows[1].factors[-2].value == "detection on the same asset: sigma-ssh-brute-force"


def test_a_higher_decision_never_scores_lower() -> None:
    camera = _telnet(CAMERA)  # 27 + 10 + 6 + 5 = 48; none / controlled / medium: track*
    medium = replace(_telnet(replace(CAMERA, key="cam-09", address="127.30.0.9")), rule_id="M", title="m")
    medium = replace(medium, severity=Severity.MEDIUM)  # 17 + 10 + 6 + 5 = 38: track*
    kiosk = _asset("kiosk-3", "127.10.0.30", Criticality.LOW)
    seen = Finding(
        rule_id="sigma-x", source=Source.DETECTION, severity=Severity.MEDIUM, title="x", asset=kiosk
    )
    # 17 + 3 + 8 + 8 = 36, but someone is acting now: active / controlled / low impact: attend,
    # so its score is in the Attend band (50 + 36 / 4) above both Track* rows (25 + 48 / 4, 25 + 38 / 4)
    rows = _rows([medium, camera, seen])
    assert [(r.finding.rule_id, r.score, r.decision) for r in rows] == [
        ("sigma-x", 59.0, Decision.ATTEND),
        ("EXP-TELNET", 37.0, Decision.TRACK_STAR),
        ("M", 34.5, Decision.TRACK_STAR),
    ]
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)


def test_ranking_is_stable_whatever_the_input_order() -> None:
    findings = []
    for i in range(40):
        asset = _asset(f"host-{i % 7}", f"127.10.0.{i % 7 + 10}", list(Criticality)[i % 5])
        findings.append(
            Finding(
                rule_id=f"R{i % 9}",
                source=list(Source)[i % 4],
                severity=list(Severity)[i % 5],
                title=f"rule {i % 9}",
                asset=asset,
                evidence_key=f"k{i % 3}",
            )
        )
    expected = [(r.rank, r.fingerprints, r.score) for r in _rows(findings)]
    for seed in range(5):
        shuffled = findings[:]
        random.Random(seed).shuffle(shuffled)
        assert [(r.rank, r.fingerprints, r.score) for r in _rows(shuffled)] == expected


def test_ties_break_by_rule_id_then_asset() -> None:
    a = replace(_telnet(CAMERA), rule_id="B-RULE", title="b")
    b = replace(_telnet(replace(CAMERA, key="cam-01", address="127.30.0.1")), rule_id="A-RULE", title="a")
    c = replace(_telnet(replace(CAMERA, key="cam-00", address="127.30.0.2")), rule_id="B-RULE", title="b2")
    rows = _rows([a, c, b])
    assert [(r.finding.rule_id, r.finding.asset.key) for r in rows] == [
        ("A-RULE", "cam-01"),
        ("B-RULE", "cam-00"),
        ("B-RULE", "cam-07"),
    ]


def test_posture_score() -> None:
    assert posture_score([]) == 100.0
    act = Finding(
        rule_id="X",
        source=Source.SCAN,
        severity=Severity.CRITICAL,
        title="x",
        asset=replace(SIGNAL, tags=("internet",)),
    )
    rows = _rows([act], old=set())
    # an internet-facing service a scanner can use (poc), open, high impact -> act (10 points): 100 * 50 / 60
    assert rows[0].decision is Decision.ACT
    assert posture_score(rows) == 83.3
    five = _rows([replace(act, asset=replace(act.asset, key=f"h{i}")) for i in range(5)])
    assert posture_score(five) == round(100 * 50 / 100, 1)
    info = _rows([replace(act, severity=Severity.INFO)])
    assert posture_score(info) == 100.0
