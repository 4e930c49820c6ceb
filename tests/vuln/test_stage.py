"""The audit's vuln stage on the demo profile: the offline snapshot's packages and the services of
real nmap XML (the demo's mgmt segment), matched against the demo feeds."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.app.vuln import run_vuln_stage, stored_kev
from secaudit.catalog.profile import load_profile
from secaudit.core.errors import OperationalError
from secaudit.core.model import RunStatus, Severity, Source
from secaudit.core.profile import Profile, VulnSettings
from secaudit.core.report import no_progress
from secaudit.vuln.findings import severity_of
from tests.conftest import DEMO_PROFILE
from tests.vuln.helpers import FIXTURES, NOW, filled_store


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    loaded = load_profile(DEMO_PROFILE, now=NOW)
    store = filled_store(tmp_path / "v.sqlite")
    assert loaded.vuln is not None
    return replace(loaded, vuln=replace(loaded.vuln, store=str(store), max_feed_age_days=30))


def run_dir_with_scan(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    (run_dir / "scan").mkdir(parents=True)
    shutil.copy(FIXTURES / "nmap-mgmt.xml", run_dir / "scan" / "mgmt.xml")
    return run_dir


def test_snapshot_packages_and_scanned_services(profile: Profile, tmp_path: Path) -> None:
    run_dir = run_dir_with_scan(tmp_path)
    out = run_vuln_stage(profile, run_dir=run_dir, now=NOW, progress=no_progress)
    assert out.result.status is RunStatus.COMPLETED and out.result.errors == ()
    results = json.loads((run_dir / "vuln-results.json").read_text())
    assert out.artifacts == (str(run_dir / "vuln-results.json"),)
    assert {f["kind"] for f in results["feeds"]} == {"debian-tracker", "nvd", "kev", "epss"}
    assert results["targets"][0]["target"].endswith("samples/snapshots/cc-app01")
    assert [{k: v for k, v in t.items() if k != "target"} for t in results["targets"]] == [
        {
            "distribution": "debian",  # no os-release in the snapshot: Debian, release from the profile
            "feed": "debian-tracker",
            "release": "bookworm",
            "source_packages": 18,  # 19 installed binaries; openssh-server and -client share a source
            "matches": 2,
            "no_fix_yet": 0,
            "undetermined": 0,
        }
    ]
    assert results["services"] == {
        "with_application_cpe": 1,
        "matches": 2,
        "left_to_the_distribution_verdict": 0,
    }
    found = {(f.rule_id, f.asset.key, f.evidence_key) for f in out.findings}
    assert found == {
        # openssh 1:9.2p1-2+deb12u2: regreSSHion fixed in deb12u3; Terrapin (deb12u2) and
        # CVE-2023-38408 (deb12u1) are fixed by Debian's backports
        ("CVE-2024-6387", "cc-app-01", "deb:openssh"),
        ("CVE-2023-4911", "cc-app-01", "deb:glibc"),
        # jump-01 answers "OpenSSH 7.4": inside NVD's ranges of these two, not of CVE-2024-6387
        ("CVE-2023-38408", "jump-01", "tcp/22"),
        ("CVE-2023-48795", "jump-01", "tcp/22"),
    }
    by_id = {(f.rule_id, f.asset.key): f for f in out.findings}
    glibc = by_id[("CVE-2023-4911", "cc-app-01")]
    attributes = dict(glibc.evidence[0].attributes)
    assert attributes["installed"] == "2.36-9+deb12u1" and attributes["fixed"] == "2.36-9+deb12u3"
    assert attributes["kev"] == "true" and attributes["kev_due"] == "2023-12-12"
    assert attributes["epss_model"] == "synthetic-demo-not-real-scores"
    assert "apt-get install --only-upgrade libc6" in glibc.remediation
    assert glibc.source is Source.VULN and glibc.severity is Severity.HIGH
    service = by_id[("CVE-2023-38408", "jump-01")]
    assert (
        severity_of(9.8) is Severity.CRITICAL and service.severity is Severity.HIGH
    )  # a claim, one step lower
    assert "claim, not proof" in service.description
    # Thai beside the English: the words in Thai, commands and versions as they are
    thai = glibc.text_in("th")
    assert thai.title == "CVE-2023-4911 ในแพ็กเกจ Debian glibc"
    assert "แก้ไขแล้วในรุ่น 2.36-9+deb12u3" in thai.description and "KEV" in thai.description
    assert "apt-get install --only-upgrade libc6" in thai.remediation
    assert "ไม่ใช่หลักฐาน" in service.text_in("th").description


def test_a_host_with_a_distribution_verdict_keeps_it(profile: Profile, tmp_path: Path) -> None:
    """The same OpenSSH 7.4 banner on cc-app-01, whose packages Debian's tracker decided: no service
    finding for a CVE the tracker knows."""
    run_dir = run_dir_with_scan(tmp_path)
    xml = (run_dir / "scan" / "mgmt.xml").read_text().replace('addr="127.20.6.10"', 'addr="127.20.1.10"')
    (run_dir / "scan" / "mgmt.xml").write_text(xml)
    out = run_vuln_stage(profile, run_dir=run_dir, now=NOW, progress=no_progress)
    assert {(f.rule_id, f.evidence_key) for f in out.findings if f.asset.key == "cc-app-01"} == {
        ("CVE-2024-6387", "deb:openssh"),
        ("CVE-2023-4911", "deb:glibc"),
    }


def test_stale_feeds_and_unknown_release_are_reported(profile: Profile, tmp_path: Path) -> None:
    assert profile.vuln is not None
    later = NOW.replace(year=2027)
    odd = replace(profile, vuln=replace(profile.vuln, release="trixie", max_feed_age_days=7))
    out = run_vuln_stage(odd, run_dir=tmp_path, now=later, progress=no_progress)
    assert out.findings == ()
    assert any(
        "no debian-tracker or debian-oval feed in the store has release trixie" in e
        for e in out.result.errors
    )
    assert sum("days old" in e for e in out.result.errors) == 4


def test_no_store_is_an_operational_error(tmp_path: Path) -> None:
    profile = replace(load_profile(DEMO_PROFILE, now=NOW), vuln=VulnSettings(store=str(tmp_path / "none")))
    with pytest.raises(OperationalError, match="no vulnerability feed store"):
        run_vuln_stage(profile, run_dir=tmp_path, now=NOW, progress=no_progress)


def test_the_store_kev_stands_in_for_a_missing_kev_file(profile: Profile) -> None:
    kev = stored_kev(profile)
    assert kev is not None and kev.contains("CVE-2023-4911") and kev.version == "2026.12.07-subset"
