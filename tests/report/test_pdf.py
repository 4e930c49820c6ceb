"""The PDF report, looked at: a demo-sized audit (the demo profile's real baseline and detect
stages, and its scan stage from the demo's recorded nmap XML) is recorded in history, then
`secaudit report --format pdf` prints report.pdf and report.th.pdf through headless Chromium.
Poppler reads them back: pages, words per page, rows with their details, repeated headers, the
footer, and the fonts that draw the Thai text."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from secaudit.app.audit import AuditOptions, AuditResult, run_audit
from secaudit.app.stages import STAGES, Stage, StageContext
from secaudit.cli.main import run as cli_run
from secaudit.core.model import RunStatus, Source, StageOutput, StageResult
from secaudit.report import pdf as pdf_module
from secaudit.report.i18n import labels
from secaudit.report.pdf import find_browser
from secaudit.scan.findings import findings_for
from secaudit.scan.nmapxml import read_nmap_xml
from secaudit.scan.rules import load_rules
from tests.conftest import DEMO_PROFILE

NMAP = Path(__file__).resolve().parents[1] / "fixtures" / "nmap"
POPPLER = all(shutil.which(tool) for tool in ("pdfinfo", "pdftotext", "pdffonts", "pdftoppm"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("chromium") and POPPLER),
        reason="chromium and poppler-utils are not installed (make install installs them)",
    ),
]
MAX_PAGES = 40
MIN_WORDS = 40
THAI_FAMILIES = ("Laksaman", "Sarabun", "Loma", "Garuda", "Norasi", "Kinnari", "Waree", "Umpush", "Tlwg")


def _recorded_scan(ctx: StageContext) -> StageOutput:
    """The demo's scan stage from nmap XML recorded against the demo services (no packet sent)."""
    rules = load_rules()[0]
    findings = []
    for name in ("demo-city-data.xml", "demo-traffic-control.xml"):
        findings += findings_for(read_nmap_xml(NMAP / name), ctx.profile, rules, observed_at=ctx.now)
    result = StageResult(name="scan", status=RunStatus.COMPLETED, findings=len(findings), items=2)
    return StageOutput(findings=tuple(findings), result=result)


@dataclass(frozen=True)
class Printed:
    audit: AuditResult
    pdf: dict[str, Path]  # lang -> file
    history: Path


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Printed]:
    tmp = tmp_path_factory.mktemp("pdf")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(tmp / "data"))  # no KEV catalogue from the machine
        registry = [
            Stage(name="scan", source=Source.SCAN, run=_recorded_scan, description="recorded nmap XML"),
            *(s for s in STAGES if s.name in ("baseline", "detect")),
        ]
        options = AuditOptions(
            profile_path=DEMO_PROFILE,
            output_dir=tmp / "audit",
            history_path=tmp / "history.sqlite",
            formats=("json",),
        )
        audit = run_audit(options, registry=registry)
        out = tmp / "reports"
        argv = [
            "report",
            "--history",
            str(tmp / "history.sqlite"),
            "--output-dir",
            str(out),
            "--format",
            "pdf",
        ]
        assert cli_run(argv) == 0
    folder = out / audit.run.id
    yield Printed(
        audit=audit,
        pdf={"en": folder / "report.pdf", "th": folder / "report.th.pdf"},
        history=tmp / "history.sqlite",
    )


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@functools.cache
def _pages(pdf: Path) -> list[str]:
    """Each page's text, laid out as printed (pdftotext -layout), in page order."""
    count = int(re.search(r"^Pages:\s+(\d+)$", _run("pdfinfo", str(pdf)), re.M).group(1))  # type: ignore[union-attr]
    return [
        _run("pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-") for n in range(1, count + 1)
    ]


@pytest.mark.parametrize("lang", ["en", "th"])
def test_the_demo_report_prints_on_at_most_40_full_pages(printed: Printed, lang: str) -> None:
    pdf = printed.pdf[lang]
    assert _run("file", "-b", str(pdf)).startswith("PDF document")
    info = _run("pdfinfo", str(pdf))
    assert re.search(r"Page size:\s+59[45]\.\d+ x 84[12]\.\d+ pts \(A4\)", info)
    pages = _pages(pdf)
    assert len(printed.audit.report.rows) >= 70  # demo-sized
    assert 3 <= len(pages) <= MAX_PAGES
    words = [len(text.split()) for text in pages]
    thin = [(n, w) for n, w in enumerate(words[:-1], start=1) if w < MIN_WORDS]
    assert not thin, f"pages with fewer than {MIN_WORDS} words: {thin}"
    # every page carries the footer: the run id and "page n of m"
    L = labels(lang)
    for n, text in enumerate(pages, start=1):
        footer = L["page_of"].replace("{page}", str(n)).replace("{pages}", str(len(pages)))
        assert footer in text, (n, footer)
        assert printed.audit.run.id in text, n


def _check_rows(pages: list[str], lang: str, rows: int) -> None:
    L = labels(lang)
    decisions = "|".join(re.escape(L[f"decision.{d}"]) for d in ("act", "attend", "track*", "track"))
    row = re.compile(rf"^\s*(\d+)\s+({decisions})\s*(\d+\.\d)\s")
    why = L["why_it_matters"]
    header = [L["rank"], L["score"], L["finding"], L["asset"]]
    seen: list[int] = []
    for n, text in enumerate(pages, start=1):
        lines = text.splitlines()
        starts = [i for i, line in enumerate(lines) if row.match(line)]
        if not starts:
            continue
        # the findings table's header is repeated at the top of every page that holds rows (under
        # the section's heading on the first one)
        top = [line for line in lines[: starts[0]] if line.strip()][:2]
        assert any(all(word in line for word in header) for line in top), (n, top)
        # each row is followed on the same page by the start of its own detail
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(lines)
            detail = "\n".join(lines[start:end])
            assert why in detail, (n, lines[start])
            score = row.match(lines[start]).group(3)  # type: ignore[union-attr]
            assert re.search(rf"\b{re.escape(score)}\b", detail.split(why, 1)[1]), (n, lines[start])
            seen.append(int(row.match(lines[start]).group(1)))  # type: ignore[union-attr]
    assert seen == list(range(1, rows + 1))


@pytest.mark.parametrize("lang", ["en", "th"])
def test_every_row_is_printed_once_with_its_detail_on_its_page_under_a_repeated_header(
    printed: Printed, lang: str
) -> None:
    _check_rows(_pages(printed.pdf[lang]), lang, len(printed.audit.report.rows))


def test_printing_report_html_from_the_browser_gives_the_same_paper(printed: Printed, tmp_path: Path) -> None:
    """Chromium's own print of the screen page (its script renders every row before printing)."""
    html = tmp_path / "report.html"
    argv = [
        "report",
        "--history",
        str(printed.history),
        "--format",
        "html",
        "--lang",
        "en",
        "--output",
        str(html),
    ]
    assert cli_run(argv) == 0
    pdf = tmp_path / "browser.pdf"
    args = [
        find_browser(),
        *pdf_module.FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--print-to-pdf={pdf}",
    ]
    subprocess.run([*args, "--no-sandbox", html.as_uri()], capture_output=True, timeout=300, check=True)
    pages = _pages(pdf)
    assert len(pages) <= MAX_PAGES
    _check_rows(pages, "en", len(printed.audit.report.rows))


def test_thai_text_is_drawn_with_a_thai_font(printed: Printed) -> None:
    pdf = printed.pdf["th"]
    fonts = _run("pdffonts", str(pdf)).splitlines()[2:]
    embedded = [line.split()[0].split("+")[-1] for line in fonts if line.split()[-5:-3] == ["yes", "yes"]]
    assert all(line.split()[-5] == "yes" for line in fonts), fonts  # every font is embedded
    assert any(any(f.startswith(t) for t in THAI_FAMILIES) for f in embedded), embedded
    # The Thai labels come back out of the PDF as Thai text: their glyphs were drawn from a font
    # that maps them to Thai letters (a missing glyph, "tofu", maps to nothing).
    text = _run("pdftotext", str(pdf), "-")
    L = labels("th")
    for key in ("report_title", "summary", "findings", "why_it_matters", "remediation", "scope"):
        assert L[key] in text, key
    thai = len(re.findall(r"[\u0E00-\u0E7F]", text))
    assert thai > 5_000
    # and the cover, rendered to pixels, carries ink where its text is (poppler draws the page)
    pgm = subprocess.run(
        ["pdftoppm", "-gray", "-r", "60", "-f", "1", "-l", "1", str(pdf)], capture_output=True, check=True
    ).stdout
    pixels = pgm.split(b"\n", 3)[3]
    assert sum(1 for p in pixels if p < 160) > len(pixels) // 200


def test_times_in_the_pdf_are_the_profiles(printed: Printed) -> None:
    en = _run("pdftotext", str(printed.pdf["en"]), "-")
    th = _run("pdftotext", str(printed.pdf["th"]), "-")
    assert "Asia/Bangkok (UTC+07:00)" in en
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \+07:00", en)
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", en)
    # the demo profile dates the Thai report in the Buddhist era
    year = printed.audit.run.started_at.astimezone(ZoneInfo("Asia/Bangkok")).year
    assert f" {year + 543} " in th.replace("\n", " ")
    assert "(UTC+07:00)" in th


def test_thai_era_option_overrides_the_profile(printed: Printed, tmp_path: Path) -> None:
    out = tmp_path / "th.html"
    base = [
        "report",
        "--history",
        str(printed.history),
        "--format",
        "html",
        "--lang",
        "th",
        "--output",
        str(out),
    ]
    assert cli_run([*base, "--thai-era", "gregorian"]) == 0
    gregorian = out.read_text(encoding="utf-8")
    assert cli_run(base) == 0  # the demo profile's report.thai_era: buddhist
    buddhist = out.read_text(encoding="utf-8")
    year = printed.audit.run.started_at.astimezone(ZoneInfo("Asia/Bangkok")).year
    assert re.search(rf"{year}-\d\d-\d\d \d\d:\d\d \+07:00", gregorian)
    assert f"{year + 543} " in buddhist and not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \+07:00", buddhist)
    assert cli_run([*base, "--thai-era", "bhuddist"]) == 2


def test_detection_spans_are_in_the_profile_zone(printed: Printed) -> None:
    spans = [
        re.search(r"between (\S+) and (\S+)\.", row.finding.description)
        for row in printed.audit.report.rows
        if row.finding.source is Source.DETECTION
    ]
    assert spans and all(spans)
    for match in spans:
        assert match is not None and all(t.endswith("+07:00") for t in match.groups()), match
