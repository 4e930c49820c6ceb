from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.core.errors import UsageError
from secaudit.core.model import Asset, Criticality, Evidence, Reference, RefKind, RunStatus, StageResult
from secaudit.core.profile import LANGUAGES
from secaudit.core.report import ControlCoverage, Report
from secaudit.report import html as html_module
from secaudit.report.html import PAGE_SIZE
from secaudit.report.html_data import COLUMN
from secaudit.report.i18n import CATALOGUE, labels

from .conftest import FIXED_FINDING, findings_from_every_source, make_report
from .htmlreport import (
    ACCEPTED,
    SIGNAL_02,
    WAIVED,
    Dom,
    big_report,
    full_risk_report,
    page_data,
    render,
    with_risk,
)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
THAI = re.compile("[\u0e00-\u0e7f]")
TEMPLATES = Path(html_module.__file__).parent / "templates"


@pytest.fixture
def report() -> Report:
    return full_risk_report()


def _section(page: str, ident: str) -> str:
    return page.split(f'<section id="{ident}">', 1)[1].split("</section>", 1)[0]


def test_page_loads_nothing_from_anywhere(report: Report) -> None:
    page = render(report)
    dom = Dom(page)
    assert dom.problems == []
    ids = set(dom.ids())
    for tag, attrs in dom.tags:
        for name, value in attrs.items():
            assert name not in ("src", "srcset", "action", "formaction", "poster", "data"), (tag, name)
            if name in ("href", "xlink:href"):
                assert value and value.startswith("#") and value[1:] in ids, (tag, value)
    assert dom.all("link") == [] and dom.all("iframe") == [] and dom.all("img") == []
    css = "".join(dom.styles)
    assert "url(" not in css and "@import" not in css and "http" not in css
    # fonts only from the machine: every @font-face source is local()
    faces = re.findall(r"@font-face\s*\{([^}]*)\}", css)
    for face in faces:
        sources = re.search(r"src:([^;]*);", face)
        assert sources and re.fullmatch(
            r'\s*local\("[^"]+"\)(\s*,\s*local\("[^"]+"\))*\s*', sources.group(1)
        ), face
    scripts = dom.all("script")
    assert scripts == [{"type": "application/json", "id": "report-data"}, {}]
    code = dom.scripts[1]
    for banned in (
        "http",
        "fetch(",
        "XMLHttpRequest",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "eval(",
        "document.write",
    ):
        assert banned not in code, banned
    # the policy allows our script, by its hash, and nothing else: not even an injected inline one
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    policy = next(a["content"] for a in dom.all("meta") if a.get("http-equiv") == "Content-Security-Policy")
    assert policy == (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
        "base-uri 'none'; form-action 'none'"
    )
    assert "https://attack.mitre.org/" in dom.joined()  # a reference's URL is text, never a link


def test_findings_table_follows_the_ranking(report: Report) -> None:
    dom = Dom(render(report))
    bodies = [a for name, a in dom.tags if name == "tbody" and "data-decision" in a]
    assert [b["id"] for b in bodies] == [f"f-{row.fingerprints[0]}" for row in report.rows]
    assert [(b["data-decision"], b["data-severity"], b["data-source"], b["data-status"]) for b in bodies] == [
        (r.decision.value, r.finding.severity.label, r.finding.source.value, r.status.value)
        for r in report.rows
    ]
    assert [(b["data-l"], b["data-i"]) for b in bodies] == [
        (str(r.likelihood), str(r.impact)) for r in report.rows
    ]


def test_content_sections(report: Report) -> None:
    page = render(report)
    text = Dom(page).joined()
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
        "61.2",  # posture score
    ):
        assert needle in text, needle
    assert "This run is incomplete" not in text
    for anchor in (
        "summary",
        "heatmap",
        "findings",
        "segments",
        "assets",
        "waived",
        "fixed",
        "compliance",
        "scope",
        "methodology",
    ):
        assert anchor in Dom(page).ids()
    assert "<pre>PermitRootLogin yes</pre>" in page


def test_why_it_matters_explains_the_score_in_words(report: Report) -> None:
    page = render(report)
    spray = next(r for r in report.rows if r.finding.source.value == "detection")
    body = page.split(f'id="f-{spray.fingerprints[0]}"', 1)[1].split("</tbody>", 1)[0]
    text = Dom(body).joined()
    assert f"Risk score {spray.score:.1f} of 100, decision: Act." in text
    assert "Severity of the finding: Critical (+50.0 points)" in text
    assert "How much the city depends on the asset: Critical (+32.0 points)" in text
    assert "Evidence of an attack in progress: Sigma detection on the same asset (+10.0 points)" in text


def test_aggregated_row_lists_every_asset(report: Report) -> None:
    telnet = next(r for r in report.rows if r.finding.rule_id == "SCAN-TELNET")
    body = render(report).split(f'id="f-{telnet.fingerprints[0]}"', 1)[1].split("</tbody>", 1)[0]
    text = Dom(body).flat()
    assert "Affected assets (2)" in text
    assert "tc-patong-01 (127.20.0.11) and 1 more" in text
    assert "[tc-kata-02]" in text and "traffic-ot (OT (control systems))" in text
    assert f"{telnet.fingerprints[0]} (+1)" in text and SIGNAL_02.key != telnet.finding.asset.key


def test_summary_counts_decisions_and_trend(report: Report) -> None:
    summary = _section(render(report), "summary")
    dom = Dom(summary)
    cards = {str(a["data-decision"]): None for a in dom.all("button")}
    assert list(cards) == ["act", "attend", "track*", "track"]
    for decision in ("act", "attend", "track*", "track"):
        count = sum(1 for r in report.rows if r.decision.value == decision)
        card = summary.split(f'data-decision="{decision}"', 1)[1]
        assert card.startswith(f'><span class="n">{count}</span>'), decision
    trend = Dom(summary.split('id="trend-table">', 1)[1].split("</table>", 1)[0]).flat()
    assert trend == "Previous run 20260201T020000-pkt New 4 Persisting 1 Fixed 1"


def test_heat_map_counts_each_cell(report: Report) -> None:
    heat = _section(render(report), "heatmap")
    cells = {
        (int(lk), int(im)): int(n)
        for lk, im, n in re.findall(r'data-l="(\d)" data-i="(\d)"[^>]*>(\d+)</button>', heat)
    }
    assert len(cells) == 25
    for (lk, im), shown in cells.items():
        assert shown == sum(1 for r in report.rows if (r.likelihood, r.impact) == (lk, im)), (lk, im)
    assert sum(cells.values()) == len(report.rows) and max(cells.values()) >= 1


def test_views_per_segment_and_per_asset(report: Report) -> None:
    page = render(report)
    segments = Dom(_section(page, "segments"))
    rows = [" ".join(segments.text[i].split()) for i in range(len(segments.text))]
    assert "traffic-ot" in rows
    table = _section(page, "segments").split("<tbody>", 1)[1]
    traffic = table.split('data-segment="traffic-ot"', 1)[1].split("</tr>", 1)[0]
    counts = re.findall(r'<td class="num">([^<]*)</td>', traffic)
    ot_rows = [r for r in report.rows if any(a.segment == "traffic-ot" for a in r.assets)]
    # counted in findings, one per asset: the aggregated row on two traffic controllers counts two
    ot_findings = sum(1 for r in report.rows for a in r.assets if a.segment == "traffic-ot")
    assert len(ot_rows) == 2 and counts[0] == str(ot_findings) == "3"
    assert counts[-1] == f"{max(r.score for r in ot_rows):.1f}"
    assets = Dom(_section(page, "assets"))
    keys = [a["data-asset"] for a in assets.all("button")]
    assert keys[:2] == ["cc-dc-01", "tc-patong-01"]  # the riskiest assets first
    assert set(keys) == {"cc-dc-01", "tc-patong-01", "tc-kata-02", "cc-app-01", "127.30.0.21"}


def test_waived_and_accepted_risks_are_listed_apart(report: Report) -> None:
    page = render(report)
    waived = Dom(_section(page, "waived")).flat()
    for needle in (
        WAIVED.justification,
        "Head of City IT Operations",
        "2026-09-30 00:00 +07:00",
        "waivers.yaml:12",
        "Risk accepted",
        ACCEPTED.justification,
        "Director, Traffic Engineering",
        "2026-02-01 00:00 +07:00 expired",
    ):
        assert needle in waived, needle
    assert waived.count("expired") == 1
    findings = _section(page, "findings")
    assert WAIVED.finding.title not in findings and ACCEPTED.finding.title not in findings
    assert WAIVED.finding.title not in json.dumps(page_data(page))


def test_compliance_is_rendered_per_framework_generically(report: Report) -> None:
    section = _section(render(report), "compliance")
    summary = Dom(section.split("</table>", 1)[0]).joined()
    lines = [" ".join(line.split()) for line in re.split(r"\s{2,}", summary) if line.strip()]
    # controls in the framework, assessed, passed, failed, not applicable, not assessed, assessed share
    # rounded down: 2 of 3 is 66 %, and 100 % only when every control of the framework was assessed
    assert "CIS Controls v8 3 2 1 1 0 1 66%" in " ".join(lines)
    assert "Thai Cybersecurity Act B.E. 2562: CII minimum standard 1 1 0 1 0 0 100%" in " ".join(lines)
    assert "city-internal-2026 1 1 0 1 0 0 100%" in " ".join(lines)  # unknown frameworks keep their id
    whole = replace(
        report,
        compliance=tuple(
            replace(c, framework_controls=153) for c in report.compliance if c.framework == "cis-controls-v8"
        ),
    )
    summary = Dom(_section(render(whole), "compliance").split("</table>", 1)[0]).joined()
    assert "CIS Controls v8 153 2 1 1 0 151 1%" in " ".join(" ".join(summary.split()).split())
    cis = section.split('<details class="controls-list" data-framework="cis-controls-v8"', 1)[1].split(
        "</details>", 1
    )[0]
    states = re.findall(r'class="ctl-(\w+)"', cis)
    assert states == ["failed", "passed"]  # the assessed controls; the others are listed apart, collapsed
    rest = section.split('<details class="controls-unassessed" data-framework="cis-controls-v8"', 1)[1]
    rest = rest.split("</details>", 1)[0]
    assert (
        "Collect audit logs" in rest
        and "Secure network architecture" not in rest
        and " open" not in rest[:40]
    )


def test_the_thai_report_names_controls_in_thai_and_counts_not_applicable(report: Report) -> None:
    named = replace(
        report,
        compliance=(
            *report.compliance,
            ControlCoverage(
                framework="iso27001-2022",
                control="A.8.9",
                name="Manage configuration",
                name_th="บริหารจัดการการตั้งค่า",
                checked=5,
                failing=0,
                passing=2,
                not_applicable=3,
                framework_controls=93,
            ),
        ),
    )
    for lang, name, other in (
        ("th", "บริหารจัดการการตั้งค่า", "Manage configuration"),
        ("en", "Manage configuration", "บริหารจัดการการตั้งค่า"),
    ):
        section = _section(render(named, lang), "compliance")
        iso = section.split('<details class="controls-list" data-framework="iso27001-2022"', 1)[1]
        iso = " ".join(Dom(iso.split("</details>", 1)[0]).joined().split())
        assert f"A.8.9 {name} 5 0 2 3" in iso and other not in iso
    summary = " ".join(Dom(_section(render(named), "compliance").split("</table>", 1)[0]).joined().split())
    assert "ISO/IEC 27001:2022 Annex A 93 1 1 0 0 92 1%" in summary


def test_methodology_counts_rules_and_checks(report: Report) -> None:
    text = " ".join(Dom(_section(render(report), "methodology")).joined().split())
    # scan: SCAN-TELNET, SCAN-RTSP-NOAUTH and the accepted SCAN-SNMP-V2C; baseline: two CIS checks
    assert (
        "Rules and checks with findings 7 (Network scan: 3, Passive discovery: 1, Configuration baseline: 2, Log detection: 1, Known vulnerability: 0)"
        in text
    )
    assert "Items checked per stage scan: 12, baseline: 207, logs: 88412" in text
    assert "Controls in the catalogues 5 (3 frameworks)" in text
    assert "rank-1" in text and "0.1.0" in text


def test_segment_is_derived_from_the_address_when_the_asset_has_none(report: Report) -> None:
    camera = next(r for r in report.rows if r.finding.asset.key == "127.30.0.21")
    assert camera.finding.asset.segment == ""
    body = render(report).split(f'id="f-{camera.fingerprints[0]}"', 1)[1].split("</tbody>", 1)[0]
    assert "cctv (CCTV)" in body
    assert "Camera stream readable without authentication" in body


def test_only_the_first_page_is_rendered_and_every_row_is_embedded() -> None:
    report = big_report(PAGE_SIZE * 2 + 17)
    page = render(report)
    dom = Dom(page)
    assert dom.problems == []
    bodies = [a["id"] for name, a in dom.tags if name == "tbody" and "data-decision" in a]
    assert bodies == [f"f-{r.fingerprints[0]}" for r in report.rows[:PAGE_SIZE]]
    data = page_data(page)
    rows = data["rows"]
    assert isinstance(rows, list) and len(rows) == len(report.rows)
    strings = data["s"]
    assert isinstance(strings, list)
    assert [r[COLUMN["rank"]] for r in rows] == list(range(1, len(report.rows) + 1))
    assert [strings[r[COLUMN["title"]]] for r in rows] == [r.finding.title for r in report.rows]
    assert [r[COLUMN["fingerprint"]] for r in rows] == [r.fingerprints[0] for r in report.rows]
    assert "Page 1 of 3" in dom.joined()


@pytest.mark.parametrize("payload", [SCRIPT, IMG, "</script><script>alert(1)</script>", "<!--<script>"])
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
    report = with_risk(make_report([hostile], stages=[stage], fixed=[replace(FIXED_FINDING, title=payload)]))
    page = render(report)
    dom = Dom(page)
    assert dom.problems == []
    assert dom.all("img") == []
    assert len(dom.all("script")) == 2  # the data and ours
    for tag, attrs in dom.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not any("javascript:" in str(value) for value in attrs.values()), (tag, attrs)
    assert payload not in page
    assert dom.joined().count(payload) >= 10  # shown, as text, everywhere it was given
    raw = page.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in raw and ">" not in raw and "&" not in raw  # nothing can close or reopen the element
    assert payload in json.dumps(page_data(page), ensure_ascii=False)  # and the data still says it


def test_thai_report_uses_thai_labels(report: Report) -> None:
    page = render(report, "th")
    dom = Dom(page)
    assert dom.all("html") == [{"lang": "th"}]
    text = dom.joined()
    th = labels("th")
    for key in (
        "report_title",
        "summary",
        "findings",
        "remediation",
        "scope",
        "methodology",
        "why_it_matters",
        "heatmap",
        "compliance",
        "waived_title",
        "decision.act",
    ):
        assert th[key] in text, key
    assert "Executive summary" not in text and "Remediation" not in text
    assert th["severity.critical"] in text and th["criticality.public-safety-critical"] in text
    css = "".join(dom.styles)
    assert '"TH Sarabun New", "TH Sarabun PSK", Sarabun, "Noto Sans Thai"' in css
    assert page_data(page)["labels"] == th


def test_no_english_label_leaks_into_the_thai_page(report: Report) -> None:
    page = render(report, "th")
    dom = Dom(page)
    nodes = {" ".join(t.split()) for t in dom.text if t.strip()}
    attributes = {
        str(v)
        for _, attrs in dom.tags
        for k, v in attrs.items()
        if k in ("placeholder", "title", "aria-label")
    }
    english = labels("en")
    thai = labels("th")
    for key, text in english.items():
        if text == thai[key]:
            continue
        assert text not in nodes, key
        assert not any(text in value for value in attributes), key
    # Every Latin word on the Thai page comes from the report's own data or from a Thai label
    # (names such as "ISO/IEC" or "findings.json"): no English slipped in from the template.
    fingerprints = [f.fingerprint for f in report.fixed] + [w.finding.fingerprint for w in report.waived]
    corpus = f"{report!r} {fingerprints} {' '.join(thai.values())}"
    allowed = set(re.findall(r"[A-Za-z]{2,}", corpus))
    for node in nodes | attributes:
        stray = set(re.findall(r"[A-Za-z]{2,}", node)) - allowed
        assert not stray, (node, stray)


def test_every_label_exists_in_every_language() -> None:
    for key, texts in CATALOGUE.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(t.strip() for t in texts.values()), key
        assert THAI.search(texts["th"]), key
        assert not THAI.search(texts["en"]), key
        assert set(re.findall(r"\{\w+\}", texts["en"])) == set(re.findall(r"\{\w+\}", texts["th"])), key
    assert labels("en").keys() == labels("th").keys()
    with pytest.raises(UsageError) as info:
        labels("fr")
    assert info.value.hint == "use one of: en, th"


def test_template_and_script_use_only_catalogued_labels() -> None:
    template = (TEMPLATES / "report.html.j2").read_text("utf-8")
    used = set(re.findall(r"""L\[["']([^"']+)["']\]""", template))
    assert used, "the template reads labels as L['key']"
    assert used <= set(CATALOGUE)
    assert not re.search(r"\bL\.\w", template), "use L['key']: L.items would be dict.items"
    script = (TEMPLATES / "report.js").read_text("utf-8")
    in_script = set(re.findall(r"\bL\.(\w+)", script))
    assert in_script and in_script <= set(CATALOGUE)
    for family in re.findall(r'L\["(\w+)\." \+', script):
        assert any(key.startswith(f"{family}.") for key in CATALOGUE), family


def test_empty_report_says_what_was_checked(empty_report: Report) -> None:
    for lang in LANGUAGES:
        page = render(empty_report, lang)
        dom = Dom(page)
        assert dom.problems == []
        text = dom.joined()
        assert labels(lang)["no_findings_title"] in text
        assert "no-findings" in dom.ids()
        assert "findings-table" not in dom.ids()
        assert dom.scripts == []
        assert "script-src 'none';" in str(dom.all("meta")[1]["content"])
        assert "scan: 12" in text
        assert "command-center, traffic-ot, cctv, dmz" in text
        assert labels(lang)["no_fixed"] in text and labels(lang)["no_waived"] in text


def test_partial_failure_is_visible() -> None:
    failed = StageResult(
        name="logs",
        status=RunStatus.FAILED,
        errors=("logs/cc-dc-01/security.evtx: not an EVTX file",),
    )
    report = make_report(findings_from_every_source()[:2], stages=[failed], status=RunStatus.INCOMPLETE)
    text = Dom(render(report)).joined()
    assert "This run is incomplete" in text
    assert "logs/cc-dc-01/security.evtx: not an EVTX file" in text
    assert "Failed" in text and "Incomplete" in text


def test_expired_authorization_is_flagged(report: Report) -> None:
    auth = replace(report.profile.authorization, valid_until=report.run.started_at.replace(month=2))
    expired = replace(report, profile=replace(report.profile, authorization=auth))
    assert "NOT valid when the run started" in render(expired)


def test_print_styles_show_every_row_and_keep_a_finding_together(report: Report) -> None:
    css = "".join(Dom(render(report)).styles)
    printing = css.split("@media print", 1)[1]
    assert ".controls, .pager, .noprint" in printing and "display: none !important" in printing
    assert "tr.detail[hidden] { display: table-row !important; }" in printing
    assert "tbody.finding" in printing and "break-inside: avoid" in printing
    script = (TEMPLATES / "report.js").read_text("utf-8")
    assert 'addEventListener("beforeprint"' in script and "order.forEach" in script.split("beforeprint", 1)[1]


def test_output_is_byte_identical_across_renders(report: Report) -> None:
    for lang in LANGUAGES:
        assert render(report, lang).encode() == render(report, lang).encode()
