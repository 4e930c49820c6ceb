"""OSV for Python packages installed outside the distribution: the published record format, the
schema's range semantics (introduced / fixed / last_affected, several intervals in one range) with
PEP 440 ordering, and the audit's findings in both languages."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.app.vuln import run_vuln_stage
from secaudit.catalog.profile import load_profile
from secaudit.core.errors import ConfigError
from secaudit.core.profile import BaselineTarget, VulnSettings
from secaudit.core.report import no_progress
from secaudit.report.vulns import vulnerable_components
from secaudit.vuln.feeds import FeedKind
from secaudit.vuln.importer import import_files
from secaudit.vuln.osv import OsvAffected, affected, first_fix, read_osv
from secaudit.vuln.store import VulnStore
from tests.conftest import DEMO_PROFILE
from tests.risk.builders import scored_report
from tests.vuln.helpers import FEEDS, FIXTURES, NOW

OSV = FIXTURES / "osv-pypi.json"
ROOT = FIXTURES / "ubuntu-jammy-root"


def records() -> dict[str, OsvAffected]:
    return {a.osv_id: a for a in read_osv(OSV.read_text(), str(OSV)).osv}


@pytest.mark.parametrize(
    ("osv_id", "version", "hit", "fix"),
    [
        ("GHSA-v845-jxx5-vc9f", "1.26.16", True, "1.26.17"),
        ("GHSA-v845-jxx5-vc9f", "1.26.17", False, None),
        ("GHSA-v845-jxx5-vc9f", "1.26.18", False, None),  # between the two intervals
        ("GHSA-v845-jxx5-vc9f", "2.0.0", True, "2.0.6"),
        ("GHSA-v845-jxx5-vc9f", "2.0.6", False, None),
        ("GHSA-v845-jxx5-vc9f", "2.0.0rc1", False, None),  # PEP 440: a pre-release before 2.0.0
        ("GHSA-j8r2-6x86-q33q", "2.2.1", False, None),  # before "introduced"
        ("GHSA-j8r2-6x86-q33q", "2.30.0", True, "2.31.0"),
        ("GHSA-j8r2-6x86-q33q", "2.31.0.post1", False, None),
        ("GHSA-h5c8-rqwp-cp95", "3.1.2", True, "3.1.3"),
        ("SYNTH-2099-0601", "1.4.2", True, None),  # last_affected is inclusive
        ("SYNTH-2099-0601", "1.4.3", False, None),
        ("SYNTH-2099-0601", "0.9.1", True, None),  # listed in versions
        ("SYNTH-2099-0601", "0.9.2", False, None),
    ],
)
def test_osv_range_semantics(osv_id: str, version: str, hit: bool, fix: str | None) -> None:
    item = records()[osv_id]
    assert affected(item, version) is hit
    if hit:
        assert first_fix(item, version) == fix


def test_records_keep_their_cve_and_normalised_names() -> None:
    found = records()
    assert (
        found["GHSA-h5c8-rqwp-cp95"].package == "jinja2"
        and found["GHSA-h5c8-rqwp-cp95"].rule_id == "CVE-2024-22195"
    )
    assert found["SYNTH-2099-0601"].package == "synth-py"  # PEP 503
    assert found["SYNTH-2099-0602"].withdrawn and found["SYNTH-2099-0602"].rule_id == "SYNTH-2099-0602"


def test_a_bad_event_refuses_the_file_at_its_line(tmp_path: Path) -> None:
    text = OSV.read_text().replace('"fixed": "2.31.0"', '"fixed": "two"')
    with pytest.raises(ConfigError, match="requests fixed 'two' is not a PyPI version") as caught:
        read_osv(text, "osv.json")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"GHSA-j8r2-6x86-q33q"' in row)
    assert caught.value.location == f"osv.json:{line}"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    bulk = tmp_path / "all.zip"  # osv.dev's bulk form: one record per member
    with zipfile.ZipFile(bulk, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in json.loads(OSV.read_text()):
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    with VulnStore.open(tmp_path / "v.sqlite") as opened:
        result = import_files(opened, [bulk, FEEDS / "nvd-cves.json"], now=NOW)
        assert not result.errors, [str(e) for e in result.errors]
        yield opened


def test_the_zip_is_imported(store: VulnStore) -> None:
    [osv] = [f for f in store.feeds() if f.kind is FeedKind.OSV]
    assert (osv.name, osv.records, osv.version) == ("all.zip", 5, "PyPI")
    assert set(store.osv("PyPI", ["urllib3", "requests"])) == {"urllib3", "requests"}


def test_the_stage_reads_pip_and_venv_packages_not_the_distributions(
    store: VulnStore, tmp_path: Path
) -> None:
    demo = load_profile(DEMO_PROFILE, now=NOW)
    profile = replace(
        demo,
        baseline_targets=(BaselineTarget(target=f"offline:{ROOT}", baselines=(), asset="cc-app-01"),),
        vuln=VulnSettings(store=str(store.path), max_feed_age_days=36500),
    )
    out = run_vuln_stage(profile, run_dir=tmp_path / "run", now=NOW, progress=no_progress)
    found = {
        (f.rule_id, dict(f.evidence[0].attributes)["package"], dict(f.evidence[0].attributes)["installed"])
        for f in out.findings
    }
    assert found == {
        ("CVE-2023-43804", "urllib3", "1.26.16"),  # /usr/local: pip
        ("CVE-2023-43804", "urllib3", "2.0.5"),  # the venv's 2.x copy
        ("CVE-2023-32681", "requests", "2.28.1"),
        ("CVE-2099-0601", "synth-py", "1.4.2"),
        # Jinja2 3.1.3 is at the fix; /usr/lib/python3/dist-packages is the distribution's (not read);
        # the withdrawn record is dropped
    }
    requests = next(f for f in out.findings if f.rule_id == "CVE-2023-32681")
    assert requests.title == "CVE-2023-32681 in Python package requests"
    assert requests.evidence_key == "pypi:/opt/dispatch/venv/lib/python3.10/site-packages:requests"
    assert "pip install --upgrade 'requests>=2.31.0'" in requests.remediation
    assert "according to OSV record GHSA-j8r2-6x86-q33q (PyPI): fixed in 2.31.0" in requests.description
    assert any(r.url == "https://osv.dev/vulnerability/GHSA-j8r2-6x86-q33q" for r in requests.references)
    thai = requests.text_in("th")
    assert (
        thai.title == "CVE-2023-32681 ในแพ็กเกจ Python requests" and "แก้ไขแล้วในรุ่น 2.31.0" in thai.description
    )
    nofix = next(f for f in out.findings if f.rule_id == "CVE-2099-0601")
    assert nofix.title.endswith("(no fix yet)") and "ยังไม่มีแพตช์" in nofix.text_in("th").title
    results = json.loads((tmp_path / "run" / "vuln-results.json").read_text())
    [python] = [t for t in results["targets"] if t.get("ecosystem") == "PyPI"]
    assert (python["python_packages"], python["matches"], python["withdrawn_records"]) == (5, 4, 1)


def test_components_keep_each_environment_apart_with_the_pep440_fix(store: VulnStore, tmp_path: Path) -> None:
    demo = load_profile(DEMO_PROFILE, now=NOW)
    profile = replace(
        demo,
        baseline_targets=(BaselineTarget(target=f"offline:{ROOT}", baselines=(), asset="cc-app-01"),),
        vuln=VulnSettings(store=str(store.path), max_feed_age_days=36500),
    )
    out = run_vuln_stage(profile, run_dir=tmp_path / "run", now=NOW, progress=no_progress)
    components = {
        (c.name, c.installed): c for c in vulnerable_components(scored_report(list(out.findings)).rows)
    }
    # the two urllib3 installations are two components, each with its own fix
    assert components[("urllib3", "1.26.16")].fix == "1.26.17"
    assert components[("urllib3", "2.0.5")].fix == "2.0.6"
    assert components[("synth-py", "1.4.2")].no_fix == ("CVE-2099-0601",)
