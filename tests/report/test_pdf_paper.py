"""The page written for paper (the PDF's HTML), the footer's CSS, and how `pdf` fails without a
browser. No browser runs here; tests/report/test_pdf.py prints and reads real PDFs."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.app.reporting import write_reports
from secaudit.core.errors import ExitCode, OperationalError
from secaudit.core.report import Report
from secaudit.report.html import PAGE_SIZE, css_string, render_html
from secaudit.report.pdf import BROWSER_ENV, render_pdf

from .htmlreport import Dom, big_report, render


def _paper(report: Report, lang: str = "en") -> str:
    out = io.StringIO()
    render_html(report, out, lang=lang, paper=True)
    return out.getvalue()


def test_paper_has_every_row_with_its_detail_open_and_no_controls() -> None:
    report = big_report(PAGE_SIZE + 37)
    page = _paper(report)
    dom = Dom(page)
    assert dom.problems == []
    tags = [tag for tag, _ in dom.tags]
    for control in ("button", "input", "select", "script", "noscript"):
        assert control not in tags, control
    bodies = [a["id"] for tag, a in dom.tags if tag == "tbody" and "finding" in str(a.get("class", ""))]
    assert bodies == [f"f-{r.fingerprints[0]}" for r in report.rows]  # all rows, in rank order
    details = [a for tag, a in dom.tags if tag == "tr" and a.get("class") == "detail"]
    assert len(details) == len(report.rows) and not any("hidden" in a for a in details)
    assert all("open" in a for tag, a in dom.tags if tag == "details")
    ids = dom.ids()
    assert len(ids) == len(set(ids))  # the cover's copy of the scope adds no second id
    # the screen page keeps its controls and pages
    screen = Dom(render(report))
    assert "button" in [tag for tag, _ in screen.tags]
    assert (
        sum(1 for tag, a in screen.tags if tag == "tbody" and a.get("id", "").startswith("f-")) == PAGE_SIZE
    )


def test_the_cover_shows_authorization_and_scope(full_report: Report) -> None:
    page = _paper(full_report)
    cover = Dom(page.split("<main>", 1)[0]).flat()
    auth = full_report.profile.authorization
    for text in (
        auth.reference,
        auth.approver,
        "Maintenance windows",
        "127.20.0.0/24",
        "Traffic Engineering",
    ):
        assert text in cover, text


def test_footer_text_is_escaped_css() -> None:
    hostile = 'run</style><script>alert(1)</script>"; } body { display: none } x'
    literal = css_string(hostile)
    assert literal.startswith('"') and literal.endswith('"')
    inner = literal[1:-1]
    assert not re.search(r'[<>"{};/]', inner)  # nothing can end the string, the rule or the element
    assert inner.startswith("run\\3c \\2f style\\3e ")
    assert css_string("ทดสอบ") == '"\\e17 \\e14 \\e2a \\e2d \\e1a "'


def test_the_footer_names_the_run_and_counts_pages(full_report: Report) -> None:
    run = replace(full_report.run, id="20260301T020000Z-</style>")
    page = _paper(replace(full_report, run=run), "th")
    style = page.split("@bottom-left", 1)[1].split("</style>", 1)[0]
    assert "counter(page)" in style and "counter(pages)" in style
    assert "\\3c \\2f style\\3e" in style  # the run id's "</style>" stays inside the CSS string
    assert "\\e2b \\e19 \\e49 \\e32" in style  # หน้า


def test_without_a_browser_pdf_fails_with_exit_3_after_the_other_files(
    full_report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BROWSER_ENV, str(tmp_path / "no-such-chromium"))
    with pytest.raises(OperationalError) as info:
        render_pdf(full_report, io.BytesIO())
    assert info.value.exit_code is ExitCode.OPERATIONAL
    assert BROWSER_ENV in info.value.message and info.value.hint
    with pytest.raises(OperationalError):
        write_reports(full_report, tmp_path / "out", formats=("pdf", "json", "html"), lang="en")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["findings.json", "report.html"]


def test_a_profile_may_ask_for_pdf(tmp_path: Path) -> None:
    from secaudit.catalog.profile import load_profile
    from tests.catalog.test_profile import BASE, NOW

    path = tmp_path / "p.yaml"
    path.write_text(BASE + "report:\n  languages: [en, th]\n  formats: [html, pdf]\n")
    assert load_profile(path, now=NOW).report.formats == ("html", "pdf")
