"""The demo city's Thai report: every finding says its title, explanation and remediation in Thai.

The audit runs on the demo profile with the real baseline stage (the demo's offline snapshots), the
real detect stage (the demo's collected logs) and the shipped exposure rules applied to nmap's
recorded XML of the demo segments (tests/fixtures/nmap/demo-*.xml, from a real scan of the demo
services): no packet is sent. Then Debian's headless Chromium opens report.th.html and reads the
titles it draws, on the server-rendered page and in rows the script renders after a search.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from secaudit.app.audit import AuditOptions, AuditResult, run_audit
from secaudit.app.stages import STAGES, Stage, StageContext
from secaudit.catalog.localtext import has_thai
from secaudit.core.model import RunStatus, Source, StageOutput, StageResult
from secaudit.report.json_writer import json_schema
from secaudit.scan import findings_for, load_rules, read_nmap_xml
from tests.conftest import DEMO_PROFILE

NMAP = Path(__file__).resolve().parents[1] / "fixtures" / "nmap"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


def _recorded_scan(ctx: StageContext) -> StageOutput:
    rules, errors = load_rules()
    assert errors == []
    findings = []
    for xml in sorted(NMAP.glob("demo-*.xml")):
        findings += findings_for(read_nmap_xml(xml), ctx.profile, rules, observed_at=ctx.now)
    return StageOutput(
        findings=tuple(findings),
        result=StageResult(name="scan", status=RunStatus.COMPLETED, findings=len(findings), items=2),
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    out = tmp_path_factory.mktemp("demo")
    scan = Stage(name="scan", source=Source.SCAN, run=_recorded_scan, description="recorded nmap XML")
    registry = [scan, *(s for s in STAGES if s.name != "scan")]
    options = AuditOptions(
        profile_path=DEMO_PROFILE,
        output_dir=out,
        history_path=out / "history.sqlite",
        formats=("html", "json"),
    )
    return run_audit(options, registry=registry)


def _rows(page: str) -> list[dict[str, str]]:
    match = DATA.search(page)
    assert match, "the page embeds its rows"
    data = json.loads(match.group(1))
    strings, column = data["s"], {name: i for i, name in enumerate(data["fields"])}
    return [
        {name: strings[row[column[name]]] for name in ("rule_id", "title", "description", "remediation")}
        | {"factors": " ".join(strings[f[1]] for f in row[column["factors"]])}
        for row in data["rows"]
    ]


def test_every_finding_of_the_demo_is_thai_in_the_thai_report(demo: AuditResult) -> None:
    sources = {row.finding.source for row in demo.report.rows}
    assert sources >= {Source.SCAN, Source.BASELINE, Source.DETECTION}
    page = demo.files["html.th"].read_text(encoding="utf-8")
    rows = _rows(page)
    assert len(rows) == len(demo.report.rows) >= 40
    for row in rows:
        for part in ("title", "description", "remediation", "factors"):
            assert has_thai(row[part]), f"{row['rule_id']}: {part} is not Thai: {row[part][:120]!r}"
    english = _rows(demo.files["html"].read_text(encoding="utf-8"))
    assert not any(has_thai(row["title"]) for row in english)  # the English report stays English
    for item in demo.report.waived:  # waived and accepted findings are listed by their Thai title too
        assert item.finding.text_in("th").title in page


def test_findings_json_carries_the_thai_within_its_schema(demo: AuditResult) -> None:
    data = json.loads(demo.files["json"].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json_schema()).validate(data)
    assert data["findings"]
    for entry in data["findings"]:
        thai = entry["texts"]["th"]
        assert all(has_thai(thai[part]) for part in ("title", "description", "remediation")), entry["rule_id"]


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (make test installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def test_the_thai_page_shows_thai_titles_in_the_browser(demo: AuditResult, driver: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.wait import WebDriverWait

    assert isinstance(driver, WebDriver)
    driver.get(demo.files["html.th"].as_uri())

    def titles() -> list[str]:
        return [
            b.text
            for b in driver.find_elements(By.CSS_SELECTOR, "#findings-table tbody.finding button.toggle")
        ]

    first = titles()
    assert first and all(has_thai(t) for t in first), first
    driver.find_element(By.CSS_SELECTOR, "tbody.finding button.toggle").click()
    detail = driver.find_element(By.CSS_SELECTOR, "tbody.finding tr.detail")
    assert detail.is_displayed()
    prose = [p.text for p in detail.find_elements(By.CSS_SELECTOR, "p.prose")]
    assert len(prose) >= 2 and all(has_thai(p) for p in prose), prose
    assert "วิธีแก้ไข" in detail.text and "เหตุใดจึงสำคัญ" in detail.text
    # rows the script draws from the embedded data: a search re-renders the table
    total = int(driver.find_element(By.ID, "f-count").text)
    driver.find_element(By.ID, "f-search").send_keys("ssh")
    WebDriverWait(driver, 10).until(lambda d: int(d.find_element(By.ID, "f-count").text) < total)
    shown = titles()
    assert shown and len(shown) < len(first) and all(has_thai(t) for t in shown), shown
