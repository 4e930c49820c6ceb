"""The HTML report in a real browser: Debian's headless Chromium driven by selenium.

Checks what only a browser can: the script runs without console errors (a Content-Security-Policy
violation is one), the filters, search, heat map and pages work on the embedded data, the Thai
report shows Thai labels, and attacker-controlled text never executes.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from secaudit.core.model import Evidence
from secaudit.core.report import Report
from secaudit.report.html import PAGE_SIZE
from secaudit.report.i18n import labels

from .conftest import findings_from_every_source, make_report
from .htmlreport import many_findings, render, with_risk

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed (make test installs them)",
)

XSS_TITLE = "Banner <script>window.__xss=1</script> on the controller"
XSS_EVIDENCE = '<img src=x onerror="window.__xss=1"> and <script>window.__xss=1</script>'


def _report() -> Report:
    hostile = replace(
        findings_from_every_source()[0],
        title=XSS_TITLE,
        evidence_key="tcp/2323",
        evidence=(
            Evidence(kind="banner", summary=XSS_EVIDENCE, location=XSS_EVIDENCE, excerpt=XSS_EVIDENCE),
        ),
    )
    findings = [*findings_from_every_source(), hostile, *many_findings(2 * PAGE_SIZE + 30)]
    return with_risk(make_report(findings))


@pytest.fixture(scope="module")
def report() -> Report:
    return _report()


@pytest.fixture(scope="module")
def pages(report: Report, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("browser")
    out = {}
    for lang in ("en", "th"):
        path = folder / f"report.{lang}.html"
        path.write_text(render(report, lang), encoding="utf-8")
        out[lang] = path
    return out


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def _open(driver: WebDriver, path: Path) -> None:
    driver.get(path.as_uri())
    driver.get_log("browser")  # type: ignore[no-untyped-call]  # start each test with an empty log


def _errors(driver: WebDriver) -> list[dict[str, object]]:
    log = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry for entry in log if entry["level"] in ("SEVERE", "WARNING")]


def _visible_ids(driver: WebDriver) -> list[str]:
    return [
        str(b.get_attribute("id"))
        for b in driver.find_elements(By.CSS_SELECTOR, "#findings-table tbody.finding")
    ]


def _count(driver: WebDriver) -> int:
    return int(driver.find_element(By.ID, "f-count").text)


def _settle(driver: WebDriver, count: int) -> None:
    """Wait until the table shows ``count`` matches: typing filters after a short debounce."""
    WebDriverWait(driver, 10).until(lambda d: _count(d) == count)


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered scanlines of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if chunk == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif chunk == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    lines: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        lines.append(bytes(line))
        previous = line
    return width, height, lines


def test_report_opens_without_errors_and_screenshots(
    driver: WebDriver, pages: dict[str, Path], tmp_path: Path
) -> None:
    _open(driver, pages["en"])
    assert driver.title.startswith("Security posture report")
    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot))
    width, height, lines = _png_pixels(shot.read_bytes())
    assert (width, height) == (1400, 1000) or width >= 800
    channels = len(lines[0]) // width
    colours = {line[x : x + 3] for line in lines[::8] for x in range(0, len(line), channels * 8)}
    assert len(colours) > 20, "the screenshot is blank"
    dark = sum(
        1 for line in lines[::8] for x in range(0, len(line), channels * 8) if sum(line[x : x + 3]) < 200
    )
    assert dark > 50, "no text was drawn"
    assert _errors(driver) == []


def test_search_and_filters_narrow_the_rows(
    driver: WebDriver, pages: dict[str, Path], report: Report
) -> None:
    _open(driver, pages["en"])
    total = len(report.rows)
    assert _count(driver) == total
    first = [f"f-{r.fingerprints[0]}" for r in report.rows[:PAGE_SIZE]]
    assert _visible_ids(driver) == first
    spray = next(r for r in report.rows if r.finding.title.startswith("Password spraying"))
    search = driver.find_element(By.ID, "f-search")
    search.send_keys("password SPRAYING")
    _settle(driver, 1)
    assert _visible_ids(driver) == [f"f-{spray.fingerprints[0]}"]
    assert _count(driver) == 1
    # a row the script rendered opens its details like a server-rendered one
    driver.find_element(By.CSS_SELECTOR, "tbody.finding button.toggle").click()
    detail = driver.find_element(By.CSS_SELECTOR, "tbody.finding tr.detail")
    assert detail.is_displayed()
    assert (
        "Evidence of an attack in progress: Sigma detection on the same asset (+10.0 points)" in detail.text
    )
    assert "Severity of the finding: Critical (+50.0 points)" in detail.text  # a label, translated
    assert "41 failed logons for 38 accounts in 2 minutes" in detail.text
    search.clear()
    search.send_keys("on host 7")
    expected = [f"f-{r.fingerprints[0]}" for r in report.rows if "on host 7" in r.finding.title.lower()]
    _settle(driver, len(expected))
    assert len(expected) > 1 and _visible_ids(driver) == expected[:PAGE_SIZE]
    search.clear()
    driver.find_element(By.ID, "f-clear").click()
    driver.execute_script(
        "var s = document.getElementById('f-decision'); s.value = 'act'; s.dispatchEvent(new Event('change'));"
    )
    acts = [f"f-{r.fingerprints[0]}" for r in report.rows if r.decision.value == "act"]
    assert _count(driver) == len(acts) and _visible_ids(driver) == acts[:PAGE_SIZE]
    driver.find_element(By.ID, "f-clear").click()
    driver.find_element(By.ID, "p-next").click()
    assert _visible_ids(driver) == [f"f-{r.fingerprints[0]}" for r in report.rows[PAGE_SIZE : 2 * PAGE_SIZE]]
    assert driver.find_element(By.ID, "p-info").text == "Page 2 of 3"
    driver.find_element(By.CSS_SELECTOR, "th button[data-sort='title']").click()
    titles = sorted(report.rows, key=lambda r: (r.finding.title.lower(), r.rank))
    assert _visible_ids(driver) == [f"f-{r.fingerprints[0]}" for r in titles[:PAGE_SIZE]]
    assert _errors(driver) == []


def test_heat_map_cell_filters_the_table(driver: WebDriver, pages: dict[str, Path], report: Report) -> None:
    _open(driver, pages["en"])
    cell = (report.rows[0].likelihood, report.rows[0].impact)
    button = driver.find_element(By.CSS_SELECTOR, f".heat button[data-l='{cell[0]}'][data-i='{cell[1]}']")
    expected = [f"f-{r.fingerprints[0]}" for r in report.rows if (r.likelihood, r.impact) == cell]
    assert button.text == str(len(expected))
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert _count(driver) == len(expected) < len(report.rows)
    assert _visible_ids(driver) == expected[:PAGE_SIZE]
    chip = driver.find_element(By.ID, "f-cell")
    assert chip.text == f"Likelihood {cell[0]} · Impact {cell[1]}"
    button.click()  # again: every row
    assert _count(driver) == len(report.rows) and not chip.is_displayed()
    assert _errors(driver) == []


def test_printing_shows_every_row(driver: WebDriver, pages: dict[str, Path], report: Report) -> None:
    _open(driver, pages["en"])
    driver.execute_script("window.dispatchEvent(new Event('beforeprint'));")
    assert len(_visible_ids(driver)) == len(report.rows)
    driver.execute_script("window.dispatchEvent(new Event('afterprint'));")
    assert len(_visible_ids(driver)) == PAGE_SIZE
    # the print style sheet: controls hidden, every finding's details shown, compliance lists open
    controls = driver.find_element(By.CSS_SELECTOR, ".controls")
    detail = driver.find_element(By.CSS_SELECTOR, "tbody.finding tr.detail")
    assert controls.is_displayed() and not detail.is_displayed()
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not controls.is_displayed() and detail.is_displayed()
        assert not driver.find_element(By.ID, "p-next").is_displayed()
        # a row is kept with the start of its detail; a long detail may continue on the next page
        rules = driver.execute_script(
            "var b = document.querySelector('tbody.finding');"
            "return [getComputedStyle(b.querySelector('tr.main')).breakAfter,"
            " getComputedStyle(b.querySelector('tr.detail')).breakInside]"
        )
        assert rules == ["avoid", "auto"]
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert _errors(driver) == []


def test_thai_report_shows_thai_labels(driver: WebDriver, pages: dict[str, Path], report: Report) -> None:
    _open(driver, pages["th"])
    th = labels("th")
    headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "h2")]
    assert th["summary"] in headings and th["findings"] in headings and th["compliance"] in headings
    driver.find_element(By.ID, "f-search").send_keys("password")
    _settle(driver, 1)
    body = driver.find_element(By.CSS_SELECTOR, "tbody.finding")
    row = body.find_element(By.CSS_SELECTOR, "tr.main")
    assert th["decision.act"] in row.text and th["source.detection"] in row.text  # drawn by the script
    body.find_element(By.CSS_SELECTOR, "button.toggle").click()
    detail = body.find_element(By.CSS_SELECTOR, "tr.detail").text
    assert th["why_it_matters"] in detail and th["evidence"] in detail and th["affected_assets"] in detail
    # Thai is drawn with a Thai font: a vowel or tone mark adds no width to its letter (a missing
    # glyph would be a box of its own)
    widths = driver.execute_script(
        "var s = document.createElement('span'); document.body.appendChild(s); var w = [];"
        "['\u0e01', '\u0e01\u0e34\u0e48'].forEach(function (t) { s.textContent = t; w.push(s.offsetWidth); });"
        "s.remove(); return w;"
    )
    assert widths[0] > 0 and widths[0] == widths[1], widths
    # every Latin word the script wrote comes from the data, none from an English label
    allowed = set(re.findall(r"[A-Za-z]{2,}", f"{report!r} {' '.join(th.values())}"))
    assert set(re.findall(r"[A-Za-z]{2,}", body.text)) <= allowed
    assert driver.execute_script("return document.documentElement.lang") == "th"
    assert _errors(driver) == []


def test_attacker_text_never_executes(driver: WebDriver, pages: dict[str, Path]) -> None:
    for lang in ("en", "th"):
        _open(driver, pages[lang])

        def clean() -> None:
            assert driver.execute_script("return typeof window.__xss") == "undefined"
            assert driver.find_elements(By.TAG_NAME, "img") == []
            assert len(driver.find_elements(By.TAG_NAME, "script")) == 2
            assert driver.find_elements(By.CSS_SELECTOR, "[onerror]") == []

        clean()
        # server-rendered: open the details of the hostile row
        toggle = next(b for b in driver.find_elements(By.CSS_SELECTOR, "button.toggle") if "__xss" in b.text)
        assert toggle.text == XSS_TITLE
        toggle.click()
        clean()
        # script-rendered: search brings the same row back through the embedded data
        driver.find_element(By.ID, "f-search").send_keys("__xss")
        _settle(driver, 1)
        rows = driver.find_elements(By.CSS_SELECTOR, "tbody.finding")
        assert len(rows) == 1
        rows[0].find_element(By.CSS_SELECTOR, "button.toggle").click()
        assert XSS_EVIDENCE in rows[0].find_element(By.TAG_NAME, "pre").text
        clean()
        assert _errors(driver) == []
