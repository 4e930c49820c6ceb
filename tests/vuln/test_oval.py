"""Debian and Ubuntu OVAL: the published format read as a stream, stored per release, and matched
with dpkg's ordering (Ubuntu: each named binary by its own installed version)."""

from __future__ import annotations

import bz2
import io
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.app.vuln import run_vuln_stage
from secaudit.catalog.profile import load_profile
from secaudit.core.errors import ConfigError
from secaudit.core.profile import BaselineTarget, VulnSettings
from secaudit.core.report import no_progress
from secaudit.vuln.feeds import DistroFix, FeedKind
from secaudit.vuln.importer import import_files
from secaudit.vuln.match import match_packages, parse_dpkg_status
from secaudit.vuln.oval import read_oval
from secaudit.vuln.store import VulnStore
from tests.conftest import DEMO_PROFILE
from tests.vuln.helpers import FEEDS, FIXTURES, NOW

DEBIAN_OVAL = FIXTURES / "oval-definitions-bookworm.xml"
UBUNTU_OVAL = FIXTURES / "com.ubuntu.jammy.cve.oval.xml"
UBUNTU_ROOT = FIXTURES / "ubuntu-jammy-root"
OPENSSH_BINARIES = ("openssh-client", "openssh-server", "openssh-sftp-server", "openssh-tests", "ssh")


def test_debian_oval_records() -> None:
    feed = read_oval(DEBIAN_OVAL.open("rb"), str(DEBIAN_OVAL))
    assert feed.kind is FeedKind.DEBIAN_OVAL and feed.version == "bookworm"
    assert feed.published is not None and feed.published.isoformat() == "2024-07-04T07:37:28.188000+00:00"
    assert [(f.package, f.cve, f.fixed, f.status, f.binaries) for f in feed.fixes] == [
        ("openssh", "CVE-2024-6387", "1:9.2p1-2+deb12u3", "resolved", ()),
        ("openssh", "CVE-2023-48795", "1:9.2p1-2+deb12u2", "resolved", ()),
        ("glibc", "CVE-2023-4911", "2.36-9+deb12u3", "resolved", ()),  # "0:" is dropped: same to dpkg
        # a bound of 0: Debian writes it for "no fix yet" and for "not affected" alike
        ("synth-zero", "CVE-2099-0201", None, "undetermined", ()),
    ]


def test_ubuntu_oval_records() -> None:
    feed = read_oval(UBUNTU_OVAL.open("rb"), str(UBUNTU_OVAL))
    assert feed.kind is FeedKind.UBUNTU_OVAL and feed.version == "jammy"
    by_key = {(f.package, f.cve): f for f in feed.fixes}
    assert set(by_key) == {
        ("openssh", "CVE-2024-6387"),
        ("glibc", "CVE-2023-4911"),
        ("synth-nofix", "CVE-2099-0101"),
        ("synth-tilde", "CVE-2099-0101"),
        ("synth-nofix", "CVE-2099-0102"),  # its unknown test (synth-unknown) is not a package check
    }
    openssh = by_key[("openssh", "CVE-2024-6387")]
    assert openssh == DistroFix(
        release="jammy",
        package="openssh",  # the source, from the criterion's comment
        cve="CVE-2024-6387",
        fixed="1:8.9p1-3ubuntu0.10",
        status="resolved",
        urgency="high",
        binaries=(*OPENSSH_BINARIES, "ssh-askpass-gnome"),  # from the constant_variable
    )
    assert by_key[("synth-nofix", "CVE-2099-0101")].status == "open"  # no state: every version
    assert by_key[("synth-nofix", "CVE-2099-0102")].status == "undetermined"  # may need fixing
    assert by_key[("synth-tilde", "CVE-2099-0101")].fixed == "2.0~rc2-1ubuntu0.1"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    packed = tmp_path / "com.ubuntu.jammy.cve.oval.xml.bz2"  # as Canonical publishes it
    packed.write_bytes(bz2.compress(UBUNTU_OVAL.read_bytes()))
    with VulnStore.open(tmp_path / "v.sqlite") as opened:
        result = import_files(opened, [DEBIAN_OVAL, packed], now=NOW)
        assert not result.errors, [str(e) for e in result.errors]
        yield opened


def test_import_keeps_each_feed_and_release_apart(store: VulnStore) -> None:
    feeds = {f.kind: f for f in store.feeds()}
    assert set(feeds) == {FeedKind.DEBIAN_OVAL, FeedKind.UBUNTU_OVAL}
    assert feeds[FeedKind.UBUNTU_OVAL].name == "com.ubuntu.jammy.cve.oval.xml.bz2"
    assert feeds[FeedKind.UBUNTU_OVAL].dated_by == "publisher" and feeds[FeedKind.UBUNTU_OVAL].records == 5
    assert store.releases(FeedKind.UBUNTU_OVAL) == ["jammy"]
    assert store.releases(FeedKind.DEBIAN_OVAL) == ["bookworm"]
    assert store.releases(FeedKind.DEBIAN_TRACKER) == []
    assert store.distro_fixes("jammy", ["openssh"]) == {}  # the tracker has no jammy
    # the tracker replaces its own records only; the OVAL of bookworm stays
    result = import_files(store, [FEEDS / "debian-tracker.json"], now=NOW)
    assert not result.errors
    assert store.releases(FeedKind.DEBIAN_OVAL) == ["bookworm"]
    assert "glibc" in store.distro_fixes("bookworm", ["glibc"], FeedKind.DEBIAN_OVAL)
    # a second file of the same release replaces the first (and its feed entry)
    result = import_files(store, [UBUNTU_OVAL], now=NOW)
    assert [f.name for f in store.feeds() if f.kind is FeedKind.UBUNTU_OVAL] == [
        "com.ubuntu.jammy.cve.oval.xml"
    ]


def test_ubuntu_binaries_are_compared_by_their_own_version(store: VulnStore) -> None:
    status = (UBUNTU_ROOT / "var/lib/dpkg/status").read_text()
    packages = parse_dpkg_status(status, "status")
    result = match_packages(store, packages, "jammy", FeedKind.UBUNTU_OVAL)
    found = {(m.cve, m.package, m.binaries, m.installed, m.fixed, m.status) for m in result.matches}
    assert found == {
        # openssh-client is at the fix, openssh-server is not: only the server is affected
        (
            "CVE-2024-6387",
            "openssh",
            ("openssh-server",),
            "1:8.9p1-3ubuntu0.6",
            "1:8.9p1-3ubuntu0.10",
            "resolved",
        ),
        ("CVE-2099-0101", "synth-nofix", ("synth-nofix",), "1.0-1", None, "open"),
        # 2.0~rc1 sorts before 2.0~rc2; the library is already at the fixed version
        ("CVE-2099-0101", "synth-tilde", ("synth-tilde",), "2.0~rc1-1", "2.0~rc2-1ubuntu0.1", "resolved"),
    }
    assert all(m.feed is FeedKind.UBUNTU_OVAL for m in result.matches)
    assert result.undetermined == 1  # CVE-2099-0102, not triaged
    # libc6/libc-bin are at 2.35-0ubuntu3.4: fixed, but the distribution has decided the CVE
    assert "CVE-2023-4911" in result.cves_known


def test_debian_oval_matches_source_versions(store: VulnStore) -> None:
    status = (
        "Package: openssh-server\nStatus: install ok installed\nSource: openssh\nVersion: 1:9.2p1-2+deb12u2\n\n"
        "Package: synth-zero\nStatus: install ok installed\nVersion: 1.0-1\n"
    )
    result = match_packages(store, parse_dpkg_status(status, "s"), "bookworm", FeedKind.DEBIAN_OVAL)
    assert [(m.cve, m.fixed) for m in result.matches] == [("CVE-2024-6387", "1:9.2p1-2+deb12u3")]
    assert result.undetermined == 1


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (b"<oval_definitions><definitions>\n<definition id='x'>\n</oval_definitions>", "not well-formed", 3),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE oval_definitions [<!ENTITY a "b">]>\n<oval_definitions/>',
            "refused",
            2,
        ),
        (b"<rss>\n</rss>", "not <oval_definitions>", 1),
    ],
)
def test_a_file_that_is_not_oval_is_refused_with_its_line(text: bytes, message: str, line: int) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        read_oval(io.BytesIO(text), "feed.xml")
    assert caught.value.location == f"feed.xml:{line}"


def test_a_definition_pointing_nowhere_refuses_the_file_with_its_line() -> None:
    text = UBUNTU_OVAL.read_text().replace(
        'test_ref="oval:com.ubuntu.jammy:tst:202349110000000"', 'test_ref="oval:com.ubuntu.jammy:tst:1"'
    )
    with pytest.raises(ConfigError, match="tst:1', not in the file") as caught:
        read_oval(io.BytesIO(text.encode()), "jammy.xml")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "def:202349110000000" in row)
    assert caught.value.location == f"jammy.xml:{line}"


def test_a_version_1_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema', '1');"
        "CREATE TABLE distro_fix (release TEXT NOT NULL, package TEXT NOT NULL, cve TEXT NOT NULL, fixed TEXT,"
        " status TEXT NOT NULL, urgency TEXT NOT NULL, PRIMARY KEY (release, package, cve)) WITHOUT ROWID;"
        "INSERT INTO distro_fix VALUES ('bookworm', 'openssh', 'CVE-2024-6387', '1:9.2p1-2+deb12u3', 'resolved', '');"
    )
    conn.commit()
    conn.close()
    with VulnStore.open(path) as opened:
        fixes = opened.distro_fixes("bookworm", ["openssh"])
    assert [(f.cve, f.fixed) for f in fixes["openssh"]] == [("CVE-2024-6387", "1:9.2p1-2+deb12u3")]


def test_the_stage_matches_an_ubuntu_root_in_both_languages(store: VulnStore, tmp_path: Path) -> None:
    demo = load_profile(DEMO_PROFILE, now=NOW)
    profile = replace(
        demo,
        baseline_targets=(BaselineTarget(target=f"offline:{UBUNTU_ROOT}", baselines=(), asset="cc-app-01"),),
        vuln=VulnSettings(store=str(store.path), max_feed_age_days=36500),
    )
    out = run_vuln_stage(profile, run_dir=tmp_path / "run", now=NOW, progress=no_progress)
    assert out.result.errors == ()
    findings = {f.rule_id: f for f in out.findings if f.evidence_key == "deb:openssh"}
    regresshion = findings["CVE-2024-6387"]
    assert regresshion.title == "CVE-2024-6387 in Ubuntu package openssh"
    assert "according to Ubuntu's OVAL definitions (Ubuntu CVE Tracker) for jammy" in regresshion.description
    assert "apt-get install --only-upgrade openssh-server" in regresshion.remediation
    assert any(r.url == "https://ubuntu.com/security/CVE-2024-6387" for r in regresshion.references)
    thai = regresshion.text_in("th")
    assert thai.title == "CVE-2024-6387 ในแพ็กเกจ Ubuntu openssh"
    assert "OVAL ของ Ubuntu" in thai.description and "1:8.9p1-3ubuntu0.10" in thai.description
    assert {(f.rule_id, f.evidence_key) for f in out.findings} == {
        ("CVE-2024-6387", "deb:openssh"),
        ("CVE-2099-0101", "deb:synth-nofix"),
        ("CVE-2099-0101", "deb:synth-tilde"),
    }
    results = (tmp_path / "run" / "vuln-results.json").read_text()
    assert '"feed": "ubuntu-oval"' in results and '"distribution": "ubuntu"' in results
