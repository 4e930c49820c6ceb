"""An aggregated row (one finding on several assets) shows where each instance was found."""

from __future__ import annotations

from dataclasses import replace

from secaudit.core.model import Asset, Criticality, Evidence, Finding, Severity, Source

from .conftest import make_report
from .htmlreport import Dom, page_data, render


def _telnet(asset: str, address: str) -> Finding:
    return Finding(
        rule_id="EXP-TELNET",
        source=Source.SCAN,
        severity=Severity.HIGH,
        title="Telnet login service reachable",
        asset=Asset(key=asset, address=address, segment="dmz", criticality=Criticality.HIGH),
        evidence_key="tcp/23",
        evidence=(Evidence(kind="network", summary="telnet banner", location=f"{address}:23/tcp"),),
    )


def test_every_instance_of_an_aggregated_row_shows_its_own_evidence() -> None:
    first, second = _telnet("portal", "127.20.5.10"), _telnet("ftp-01", "127.20.5.11")
    report = make_report([first])
    row = replace(
        report.rows[0],
        assets=(first.asset, second.asset),
        fingerprints=(first.fingerprint, second.fingerprint),
        instances=(first, second),
    )
    page = render(replace(report, rows=(row,)))
    text = " ".join(Dom(page).text)
    assert "portal: telnet banner" in text and "127.20.5.10:23/tcp" in text
    assert "ftp-01: telnet banner" in text and "127.20.5.11:23/tcp" in text
    data = page_data(page)
    assert "ftp-01: telnet banner" in data["s"]  # the embedded rows, which the script pages and searches


def test_a_single_finding_keeps_its_evidence_as_is() -> None:
    only = _telnet("portal", "127.20.5.10")
    text = " ".join(Dom(render(make_report([only]))).text)
    assert "telnet banner" in text and "portal: telnet banner" not in text
