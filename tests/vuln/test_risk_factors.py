"""The risk model's factors for known vulnerabilities: EPSS points (with the model named), the KEV due
date, and exposure: a vulnerable package (no network evidence) vs a vulnerable service."""

from __future__ import annotations

from secaudit.core.model import Asset, Criticality, Evidence, Finding, Reference, RefKind, Severity, Source
from secaudit.report.i18n import factor_text
from secaudit.risk.decision import Exploitation
from secaudit.risk.model import RiskContext, assess

ASSET = Asset(key="h", address="127.0.0.1", criticality=Criticality.HIGH)


def finding(*attributes: tuple[str, str]) -> Finding:
    return Finding(
        rule_id="CVE-2099-0001",
        source=Source.VULN,
        severity=Severity.HIGH,
        title="t",
        asset=ASSET,
        references=(Reference(kind=RefKind.CVE, id="CVE-2099-0001"),),
        evidence=(Evidence(kind="package", summary="s", attributes=tuple(sorted(attributes))),),
    )


def values(f: Finding, ctx: RiskContext | None = None) -> dict[str, float]:
    verdict = assess(f, ctx or RiskContext())
    return {factor.value: factor.points for factor in verdict.factors}


def test_epss_adds_ten_times_its_probability_and_names_the_model() -> None:
    got = values(finding(("epss", "0.42000"), ("epss_model", "v2025.03.14")))
    assert got["EPSS 42.0% probability of exploitation in 30 days (EPSS model v2025.03.14)"] == 4.2


def test_unreadable_epss_adds_nothing_and_says_so() -> None:
    got = values(finding(("epss", "high")))
    assert got["unreadable EPSS value ignored: high"] == 0.0


def test_kev_due_date_is_shown_and_the_kev_listing_scores() -> None:
    ctx = RiskContext(kev=lambda cve: cve == "CVE-2099-0001", kev_label="KEV 2099.01.01")
    f = finding(("kev", "true"), ("kev_due", "2099-02-01"))
    got = values(f, ctx)
    assert got["CISA KEV remediation due 2099-02-01"] == 0.0
    assert got["CVE-2099-0001 in KEV 2099.01.01"] == 15.0
    assert assess(f, ctx).exploitation is Exploitation.ACTIVE


def test_a_vulnerable_service_is_network_exposure_a_package_is_not() -> None:
    package = values(finding())
    service = values(finding(("network_service", "127.0.0.1:22/tcp")))
    assert package["installed package, no network evidence"] == 0.0
    assert "service reachable on the network" not in package
    assert service["service reachable on the network"] == 5.0


def test_every_vuln_factor_is_worded_in_thai() -> None:
    ctx = RiskContext(kev=lambda cve: True, kev_label="KEV x")
    f = finding(("epss", "0.5"), ("epss_model", "m1"), ("kev_due", "2099-02-01"))
    bad = finding(("epss", "x"))
    factors = [*assess(f, ctx).factors, *assess(bad, RiskContext()).factors]
    mine = [
        x
        for x in factors
        if x.key.startswith(
            ("exploitability.epss", "exploitability.kev_due", "exploitability.bad_epss", "exposure.vuln")
        )
    ]
    assert {x.key for x in mine} == {
        "exploitability.epss_model",
        "exploitability.kev_due",
        "exploitability.bad_epss",
        "exposure.vuln_package",
    }
    for factor in mine:
        thai = factor_text(factor, "th")
        assert thai != factor.value and any("\u0e00" <= c <= "\u0e7f" for c in thai)
