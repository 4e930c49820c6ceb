"""The risk model reads an imported KEV catalogue (synthetic entries, tests/risk/kev_files.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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
from secaudit.core.report import Decision
from secaudit.risk.aggregate import ranked_rows
from secaudit.risk.decision import Exploitation
from secaudit.risk.model import RiskContext, assess, describe_model, with_kev
from tests.report.conftest import make_profile
from tests.risk.kev_files import catalogue, entry

KEV = parse_kev(json.dumps(catalogue(entry(1), entry(42), version="2099.01.02")), "kev.json")
CTX = RiskContext(profile=make_profile())
SIGNAL = Asset(
    key="tc-patong-01",
    address="127.20.0.11",
    segment="traffic-ot",
    criticality=Criticality.PUBLIC_SAFETY_CRITICAL,
)
T0 = datetime(2099, 1, 3, tzinfo=UTC)


def _finding(cve: str, *, via: str = "reference", key: str = "tcp/80") -> Finding:
    refs = (Reference(kind=RefKind.CVE, id=cve),) if via == "reference" else ()
    attrs = (("cve", cve),) if via == "evidence" else ()
    return Finding(
        rule_id=f"EXP-VULN-{key}",
        source=Source.SCAN,
        severity=Severity.HIGH,
        title="Vulnerable web admin",
        asset=SIGNAL,
        evidence_key=key,
        references=refs,
        evidence=(Evidence(kind="network", summary="banner", attributes=attrs),),
    )


def test_a_cve_in_the_catalogue_is_exploited_and_named_with_its_version() -> None:
    listed = _finding("cve-2099-0042")
    verdict = assess(listed, with_kev(CTX, KEV))
    factors = [(f.name, f.value, f.points) for f in verdict.factors]
    assert ("exploitability", "CVE-2099-0042 in KEV 2099.01.02", 15.0) in factors
    assert verdict.exploitation is Exploitation.ACTIVE and verdict.decision is Decision.ACT
    without = assess(listed, CTX)
    assert without.exploitation is Exploitation.NONE and without.decision is Decision.ATTEND
    factor_total = sum(f.points for f in without.factors)
    assert sum(f.points for f in verdict.factors) == factor_total + 15.0
    assert verdict.score == round(75 + (factor_total + 15.0) / 4, 1)  # the Act band
    # Cited in evidence attributes works the same; a CVE not listed changes nothing.
    assert (
        assess(_finding("CVE-2099-0001", via="evidence"), with_kev(CTX, KEV)).exploitation
        is Exploitation.ACTIVE
    )
    unlisted = _finding("CVE-2099-0043")
    assert assess(unlisted, with_kev(CTX, KEV)) == assess(unlisted, CTX)


def test_without_a_catalogue_the_context_is_unchanged() -> None:
    assert with_kev(CTX, None) is CTX


def test_the_model_description_names_the_catalogue_or_its_absence() -> None:
    assert describe_model(KEV) == "risk-3 (KEV 2099.01.02, released 2099-01-02)"
    assert describe_model(None) == "risk-3 (no KEV catalogue)"


def test_ranking_puts_the_kev_listed_finding_first() -> None:
    findings = [_finding("CVE-2099-0043", key="tcp/81"), _finding("CVE-2099-0042", key="tcp/82")]

    def history(fp: str) -> tuple[Status, datetime, datetime]:
        return Status.NEW, T0, T0

    rows = ranked_rows(findings, with_kev(CTX, KEV), history)
    assert [(r.finding.evidence_key, r.decision) for r in rows] == [
        ("tcp/82", Decision.ACT),
        ("tcp/81", Decision.ATTEND),
    ]
