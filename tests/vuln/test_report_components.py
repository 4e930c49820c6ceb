"""Reports gather the per-CVE findings per vulnerable package or service (HTML in both languages,
Markdown), with the version that fixes them all and the KEV ones marked."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path

from secaudit.app.vuln import run_vuln_stage
from secaudit.catalog.profile import load_profile
from secaudit.core.report import no_progress
from secaudit.report.html import render_html
from secaudit.report.markdown import render_markdown
from secaudit.report.vulns import vulnerable_components
from tests.conftest import DEMO_PROFILE
from tests.risk.builders import scored_report
from tests.vuln.helpers import FIXTURES, NOW, filled_store


def demo_report(tmp_path: Path):  # type: ignore[no-untyped-def]
    profile = load_profile(DEMO_PROFILE, now=NOW)
    assert profile.vuln is not None
    profile = replace(profile, vuln=replace(profile.vuln, store=str(filled_store(tmp_path / "v.sqlite"))))
    run_dir = tmp_path / "run"
    (run_dir / "scan").mkdir(parents=True)
    shutil.copy(FIXTURES / "nmap-mgmt.xml", run_dir / "scan" / "mgmt.xml")
    out = run_vuln_stage(profile, run_dir=run_dir, now=NOW, progress=no_progress)
    return scored_report(list(out.findings))


def test_components_gather_cves_per_package_and_service(tmp_path: Path) -> None:
    report = demo_report(tmp_path)
    components = vulnerable_components(report.rows)
    by_name = {(c.asset.key, c.name): c for c in components}
    assert set(by_name) == {("cc-app-01", "openssh"), ("cc-app-01", "glibc"), ("jump-01", "openbsd:openssh")}
    glibc = by_name[("cc-app-01", "glibc")]
    assert glibc.fix == "2.36-9+deb12u3" and glibc.kev == ("CVE-2023-4911",) and glibc.no_fix == ()
    service = by_name[("jump-01", "openbsd:openssh")]
    assert service.kind == "service" and service.where == "127.20.6.10:22/tcp"
    assert [cve for cve, _ in service.cves] == ["CVE-2023-38408", "CVE-2023-48795"]  # best rank first
    ranks = {row.finding.rule_id: row.rank for row in report.rows if row.finding.asset.key == "jump-01"}
    assert dict(service.cves) == ranks


def test_html_in_both_languages_and_markdown_show_them(tmp_path: Path) -> None:
    report = demo_report(tmp_path)
    english, thai, markdown = io.StringIO(), io.StringIO(), io.StringIO()
    render_html(report, english, lang="en")
    render_html(report, thai, lang="th")
    render_markdown(report, markdown)
    assert "Known vulnerabilities by package or service" in english.getvalue()
    assert "ช่องโหว่ที่เปิดเผยแล้ว จำแนกตามแพ็กเกจหรือบริการ" in thai.getvalue()
    assert "รุ่นตามที่บริการแจ้ง" in thai.getvalue()
    text = markdown.getvalue()
    assert "| cc-app-01 | glibc (package) | 2.36-9+deb12u1 | 2.36-9+deb12u3 | CVE-2023-4911 #" in text
    assert "KEV" in text


def test_no_section_without_vulnerabilities() -> None:
    report = scored_report()
    page = io.StringIO()
    render_html(report, page, lang="en")
    assert 'id="vulns"' not in page.getvalue()
