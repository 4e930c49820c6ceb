from __future__ import annotations

import io
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from secaudit.core.errors import UsageError
from secaudit.core.model import Asset, Criticality, Evidence, Reference, RefKind, RunStatus, StageResult
from secaudit.core.profile import LANGUAGES
from secaudit.core.report import Report
from secaudit.report import html as html_module
from secaudit.report.html import render_html
from secaudit.report.i18n import CATALOGUE, labels

from .conftest import FIXED_FINDING, findings_from_every_source, make_report

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
THAI = re.compile("[\u0e00-\u0e7f]")


class Dom(HTMLParser):
    """Every start tag with its attributes, the text (entities decoded), and style/script bodies."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._raw: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._raw = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag: str) -> None:
        self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw == "style":
            self.styles.append(data)
        elif self._raw == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def ids(self) -> list[str]:
        return [str(a["id"]) for _, a in self.tags if a.get("id")]


def _render(report: Report, lang: str = "en") -> str:
    out = io.StringIO()
    render_html(report, out, lang=lang)
    return out.getvalue()


def test_page_loads_nothing_from_anywhere(full_report: Report) -> None:
    page = _render(full_report)
    dom = Dom(page)
    ids = set(dom.ids())
    for tag, attrs in dom.tags:
        for name, value in attrs.items():
            assert name not in ("src", "srcset", "action", "formaction", "poster", "data"), (tag, name)
            if name in ("href", "xlink:href"):
                assert value and value.startswith("#") and value[1:] in ids, (tag, value)
    assert dom.all("link") == [] and dom.all("iframe") == [] and dom.all("img") == []
    css = "".join(dom.styles)
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert "http" not in css
    assert len(dom.scripts) == 1 and "http" not in dom.scripts[0] and "fetch(" not in dom.scripts[0]
    # a reference's URL is shown as text, never as a link
    assert "https://attack.mitre.org/" in "".join(dom.text)


def test_findings_table_follows_the_ranking(full_report: Report) -> None:
    dom = Dom(_render(full_report))
    hrefs = [a["href"] for a in dom.all("a") if str(a["href"]).startswith("#f-")]
    ranked = [f"#f-{row.finding.fingerprint}" for row in full_report.rows]
    assert hrefs[: len(ranked)] == ranked  # table links, in rank order
    rows = [a for a in dom.all("tr") if "data-severity" in a]
    assert [(r["data-severity"], r["data-source"], r["data-status"]) for r in rows] == [
        (row.finding.severity.label, row.finding.source.value, row.status.value) for row in full_report.rows
    ]


def test_content_sections(full_report: Report) -> None:
    page = _render(full_report)
    text = " ".join(Dom(page).text)
    for needle in (
        "Phuket City Municipality",
        "PKT-SC-2026-014",
        "valid when the run started",
        "Password spraying against the domain controller",
        "tc-patong-01",
        "Public-safety critical",
        "OT (control systems)",
        "Log detection",
        "Configuration baseline",
        "Passive discovery",
        "Network scan",
        "/etc/ssh/sshd_config:32",
        "PermitRootLogin yes",
        "Set PermitRootLogin no",
        "attack: T1110.003",
        "Anonymous FTP on the DMZ file server",  # fixed since the last run
        "127.20.0.0/24",
        "Traffic Engineering",
        "rank-1",
        "20260201T020000-pkt",
    ):
        assert needle in text, needle
    assert "This run is incomplete" not in text
    for anchor in ("summary", "findings", "details", "fixed", "scope", "methodology"):
        assert anchor in Dom(page).ids()
    assert "<pre>PermitRootLogin yes</pre>" in page


def test_segment_is_derived_from_the_address_when_the_asset_has_none(full_report: Report) -> None:
    camera = next(r.finding for r in full_report.rows if r.finding.asset.key == "127.30.0.21")
    assert camera.asset.segment == ""
    page = _render(full_report)
    article = page.split(f'id="f-{camera.fingerprint}"', 1)[1].split("</article>", 1)[0]
    assert "cctv (CCTV)" in article
    assert "Camera stream readable without authentication" in article


@pytest.mark.parametrize("payload", [SCRIPT, IMG])
def test_attacker_text_stays_inert(payload: str) -> None:
    hostile = replace(
        findings_from_every_source()[0],
        title=f"Banner {payload}",
        description=payload,
        remediation=payload,
        asset=Asset(
            key=f"host-{payload}",
            hostname=payload,
            address="127.20.0.99",
            role=payload,
            segment=payload,
            criticality=Criticality.HIGH,
        ),
        evidence=(
            Evidence(
                kind=payload,
                summary=payload,
                location=payload,
                excerpt=f"220 {payload}\r\n",
                attributes=((payload, payload),),
            ),
        ),
        references=(Reference(kind=RefKind.URL, id=payload, url=f"javascript:{payload}"),),
    )
    stage = StageResult(name="scan", status=RunStatus.INCOMPLETE, errors=(payload,))
    report = make_report([hostile], stages=[stage], fixed=[replace(FIXED_FINDING, title=payload)])
    page = _render(report)
    dom = Dom(page)
    assert dom.all("img") == []
    assert len(dom.all("script")) == 1  # ours
    for tag, attrs in dom.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not any("javascript:" in str(value) for value in attrs.values()), (tag, attrs)
    assert payload not in page
    text = "".join(dom.text)
    assert text.count(payload) >= 10  # shown, as text, everywhere it was given


def test_thai_report_uses_thai_labels(full_report: Report) -> None:
    page = _render(full_report, "th")
    dom = Dom(page)
    assert dom.all("html") == [{"lang": "th"}]
    text = " ".join(dom.text)
    th = labels("th")
    for key in ("report_title", "summary", "findings", "details", "remediation", "scope", "methodology"):
        assert th[key] in text, key
    assert "Executive summary" not in text and "Remediation" not in text
    assert th["severity.critical"] in text and th["criticality.public-safety-critical"] in text
    css = "".join(dom.styles)
    assert '"TH Sarabun New", "TH Sarabun PSK", Sarabun, "Noto Sans Thai"' in css


def test_every_label_exists_in_every_language() -> None:
    for key, texts in CATALOGUE.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(t.strip() for t in texts.values()), key
        assert THAI.search(texts["th"]), key
        assert not THAI.search(texts["en"]), key
    with pytest.raises(UsageError) as info:
        labels("fr")
    assert info.value.hint == "use one of: en, th"


def test_template_uses_only_catalogued_labels() -> None:
    template = (Path(html_module.__file__).parent / "templates" / "report.html.j2").read_text("utf-8")
    used = set(re.findall(r"""L\[["']([^"']+)["']\]""", template))
    assert used, "the template reads labels as L['key']"
    assert used <= set(CATALOGUE)
    assert not re.search(r"\bL\.\w", template), "use L['key']: L.items would be dict.items"


def test_empty_report_says_what_was_checked(empty_report: Report) -> None:
    for lang in LANGUAGES:
        page = _render(empty_report, lang)
        dom = Dom(page)
        text = " ".join(dom.text)
        assert labels(lang)["no_findings_title"] in text
        assert "no-findings" in dom.ids()
        assert "findings-table" not in dom.ids()
        assert dom.scripts == []
        assert "scan: 12" in text
        assert "command-center, traffic-ot, cctv, dmz" in text
        assert labels(lang)["no_fixed"] in text


def test_partial_failure_is_visible() -> None:
    failed = StageResult(
        name="logs",
        status=RunStatus.FAILED,
        errors=("logs/cc-dc-01/security.evtx: not an EVTX file",),
    )
    report = make_report(findings_from_every_source()[:2], stages=[failed], status=RunStatus.INCOMPLETE)
    text = " ".join(Dom(_render(report)).text)
    assert "This run is incomplete" in text
    assert "logs/cc-dc-01/security.evtx: not an EVTX file" in text
    assert "Failed" in text and "Incomplete" in text


def test_expired_authorization_is_flagged(full_report: Report) -> None:
    auth = replace(full_report.profile.authorization, valid_until=full_report.run.started_at.replace(month=2))
    report = replace(full_report, profile=replace(full_report.profile, authorization=auth))
    assert "NOT valid when the run started" in _render(report)


def test_invalid_utf8_and_control_characters_render() -> None:
    banner = b"\x1b[2J\x07SSH-2.0-\xff".decode("utf-8", "surrogateescape")
    finding = replace(findings_from_every_source()[0], evidence=(Evidence(kind="banner", summary=banner),))
    page = _render(make_report([finding]))
    page.encode("utf-8")
    assert "\\x1b[2J\\x07SSH-2.0-\\xff" in page
    assert "\x07" not in page and "\x1b" not in page


def test_output_is_byte_identical_across_renders(full_report: Report) -> None:
    for lang in LANGUAGES:
        assert _render(full_report, lang).encode() == _render(full_report, lang).encode()
