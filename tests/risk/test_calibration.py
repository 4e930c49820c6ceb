"""The calibration table of docs/risk-model.md is what the model does: each row is built as a finding
and assessed, and its decision must be the table's. Across the table, a higher decision never has a
lower score. Table-driven: rows added to the doc (new factors, new cases) are checked with no change
here, as long as they use the columns and signals the doc describes."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    Reference,
    RefKind,
    SegmentKind,
    Severity,
    Source,
)
from secaudit.core.profile import Authorization, Profile, Segment
from secaudit.core.report import Decision
from secaudit.risk.model import RiskContext, assess
from tests.history.history_builders import at

DOC = Path(__file__).resolve().parents[2] / "docs" / "risk-model.md"
SIGNALS = {"kev", "poc", "attacked", "from-it"}
KEV_CVE = "CVE-2099-4242"
POC_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N/E:P"
DECISIONS = {
    "Act": Decision.ACT,
    "Attend": Decision.ATTEND,
    "Track*": Decision.TRACK_STAR,
    "Track": Decision.TRACK,
}
ORDER = [Decision.TRACK, Decision.TRACK_STAR, Decision.ATTEND, Decision.ACT]


@dataclass(frozen=True)
class Case:
    number: str
    title: str
    source: Source
    severity: Severity
    criticality: Criticality
    where: str
    signals: frozenset[str]
    decision: Decision


def calibration_table(text: str) -> list[Case]:
    block = text.split("<!-- calibration:start -->", 1)[1].split("<!-- calibration:end -->", 1)[0]
    lines = [line.strip() for line in block.strip().splitlines()]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["#", "finding", "source", "severity", "criticality", "where", "signals", "decision"]
    cases = []
    for line in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        signals = (
            frozenset()
            if cells["signals"] == "-"
            else frozenset(s.strip() for s in cells["signals"].split(","))
        )
        assert signals <= SIGNALS, (cells["#"], signals - SIGNALS)
        cases.append(
            Case(
                number=cells["#"],
                title=cells["finding"],
                source=Source(cells["source"]),
                severity=Severity.parse(cells["severity"]),
                criticality=Criticality.parse(cells["criticality"]),
                where=cells["where"],
                signals=signals,
                decision=DECISIONS[re.sub(r"\\", "", cells["decision"])],
            )
        )
    return cases


CASES = calibration_table(DOC.read_text(encoding="utf-8"))


def _segment(name: str, kind: SegmentKind, net: str) -> Segment:
    return Segment(
        name=name,
        cidrs=(ipaddress.ip_network(net),),
        kind=kind,
        owner="City IT",
        criticality=Criticality.HIGH,
        scan_profile="default",
    )


PROFILE = Profile(
    path="calibration.yaml",
    organisation="Calibration City",
    authorization=Authorization(reference="CAL-1", approver="CIO", valid_from=at(-1), valid_until=at(1)),
    segments=tuple(
        _segment(kind.value, kind, f"127.60.{i}.0/24")
        for i, kind in enumerate(
            (SegmentKind.DMZ, SegmentKind.IT, SegmentKind.OT, SegmentKind.CCTV, SegmentKind.MGMT)
        )
    ),
)


def build(case: Case) -> tuple[Finding, RiskContext]:
    if case.where == "internet":
        asset = Asset(
            key=f"host-{case.number}",
            address="127.61.0.1",
            tags=("internet-facing",),
            criticality=case.criticality,
        )
    elif case.where == "unknown":
        asset = Asset(key=f"host-{case.number}", address="127.62.0.1", criticality=case.criticality)
    else:
        asset = Asset(
            key=f"host-{case.number}", segment=SegmentKind(case.where).value, criticality=case.criticality
        )
    references = []
    attributes = []
    if "kev" in case.signals:
        references.append(Reference(kind=RefKind.CVE, id=KEV_CVE))
    if "poc" in case.signals:
        attributes.append(("cvss", POC_VECTOR))
    if "from-it" in case.signals:
        attributes.append(("reachable_from", "it"))
    finding = Finding(
        rule_id=f"CAL-{case.number}",
        source=case.source,
        severity=case.severity,
        title=case.title,
        asset=asset,
        references=tuple(references),
        evidence=(Evidence(kind="calibration", summary=case.title, attributes=tuple(attributes)),),
    )
    attacked = {asset.key: ("sigma-calibration",)} if "attacked" in case.signals else {}
    ctx = RiskContext(
        profile=PROFILE, kev=lambda cve: cve == KEV_CVE, kev_label="KEV test", attacked=attacked
    )
    return finding, ctx


def test_the_table_is_representative() -> None:
    assert len(CASES) >= 20
    assert {c.decision for c in CASES} == set(Decision)
    assert {c.source for c in CASES} >= {Source.SCAN, Source.BASELINE, Source.DETECTION}
    assert all(c.number == str(i) for i, c in enumerate(CASES, start=1))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.number}-{c.title}" for c in CASES])
def test_each_calibration_finding_gets_its_documented_decision(case: Case) -> None:
    finding, ctx = build(case)
    verdict = assess(finding, ctx)
    assert verdict.decision is case.decision, [f.value for f in verdict.factors]


def test_across_the_table_a_higher_decision_never_scores_lower() -> None:
    verdicts = [assess(*build(case)) for case in CASES]
    for a in verdicts:
        for b in verdicts:
            if ORDER.index(a.decision) > ORDER.index(b.decision):
                assert a.score >= b.score, (a, b)
