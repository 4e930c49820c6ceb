"""The HTML report stays valid and readable on bad input: nothing, too much, huge or broken text."""

from __future__ import annotations

from dataclasses import replace

from secaudit.core.model import Evidence
from secaudit.core.profile import LANGUAGES
from secaudit.report.html import PAGE_SIZE
from secaudit.report.html_data import COLUMN, EXCERPT
from secaudit.report.i18n import labels
from secaudit.report.text import clip

from .conftest import findings_from_every_source, make_report
from .htmlreport import Dom, big_report, page_data, render, with_risk


def test_zero_findings_in_every_language(empty_report: object) -> None:
    for lang in LANGUAGES:
        page = render(empty_report, lang)  # type: ignore[arg-type]
        dom = Dom(page)
        assert dom.problems == []
        assert labels(lang)["no_findings_title"] in dom.flat()
        assert "report-data" not in dom.ids() and dom.scripts == []
        assert "100.0 / 100" in dom.flat()  # nothing open: a clean posture


def test_a_hundred_thousand_findings() -> None:
    report = big_report(100_000)
    page = render(report)
    dom = Dom(page)
    assert dom.problems == []
    bodies = [a["id"] for name, a in dom.tags if name == "tbody" and "data-decision" in a]
    assert len(bodies) == PAGE_SIZE and bodies[0] == f"f-{report.rows[0].fingerprints[0]}"
    data = page_data(page)
    rows = data["rows"]
    strings = data["s"]
    assert isinstance(rows, list) and isinstance(strings, list) and len(rows) == 100_000
    last = rows[-1]
    assert last[COLUMN["rank"]] == 100_000 and last[COLUMN["fingerprint"]] == report.rows[-1].fingerprints[0]
    assert strings[last[COLUMN["evidence"]][0][1]] == report.rows[-1].finding.evidence[0].summary
    assert "Page 1 of 1000" in dom.flat()
    assert len(page.encode()) < 60_000_000  # strings shared: about 300 bytes a finding


def test_huge_evidence_is_cut_visibly_with_its_size() -> None:
    huge = "A" * 3_000_000 + "<script>window.__xss=1</script>"
    banner = "B" * 50_000
    finding = replace(
        findings_from_every_source()[0],
        title="T" * 10_000,
        evidence=(
            Evidence(kind="banner", summary=banner, excerpt=huge, attributes=(("header", "H" * 30_000),)),
        ),
    )
    page = render(with_risk(make_report([finding])))
    assert len(page) < 1_000_000
    dom = Dom(page)
    assert dom.problems == []
    text = dom.flat()
    assert f"cut: 65,536 of {len(huge):,} characters shown" in text
    assert "A" * EXCERPT in page and "A" * (EXCERPT + 1) not in page
    assert "cut: 2,000 of 10,000 characters shown" in text  # the title
    assert "cut: 20,000 of 50,000 characters shown" in text  # the summary
    assert "cut: 20,000 of 30,000 characters shown" in text  # the attribute
    assert "window.__xss" not in page
    evidence = page_data(page)["rows"][0][COLUMN["evidence"]][0]  # type: ignore[index]
    assert evidence[4] == len(huge)  # the script says the same from the data


def test_invalid_utf8_surrogates_and_controls_render() -> None:
    banner = b"\x1b[2J\x07SSH-2.0-\xff\xfe".decode("utf-8", "surrogateescape")
    lone = "half a pair: \ud83d and \udfff end"
    finding = replace(
        findings_from_every_source()[0],
        title=f"Banner {banner}",
        evidence=(Evidence(kind="banner", summary=banner, excerpt=lone, location="\x00nul"),),
    )
    page = render(with_risk(make_report([finding])))
    page.encode("utf-8")  # would raise on a lone surrogate
    dom = Dom(page)
    assert dom.problems == []
    text = dom.flat()
    assert "\\x1b[2J\\x07SSH-2.0-\\xff\\xfe" in text
    assert "half a pair: \ufffd and \ufffd end" in text
    assert "\\x00nul" in text
    assert "\x07" not in page and "\x1b" not in page and "\x00" not in page
    data = page_data(page)
    strings = data["s"]
    assert isinstance(strings, list)
    assert "Banner \\x1b[2J\\x07SSH-2.0-\\xff\\xfe" in strings


def test_a_cut_never_separates_a_thai_mark_from_its_letter() -> None:
    word = "น้ำ"  # NO NU, MAI THO (a combining tone mark), SARA AM
    kept, size = clip("ก" * 9 + word, 10)
    assert size == 12
    assert kept == "ก" * 9  # cutting after NO NU would strand MAI THO: the letter goes with it
    kept, _ = clip("ก" * 9 + word, 11)
    assert kept == "ก" * 9 + "น้"  # SARA AM is a letter of its own: the cut may fall before it
    assert clip("short", 10) == ("short", 5)
