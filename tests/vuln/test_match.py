"""Matching: source packages with dpkg's ordering (epochs, tildes, backports), fixed vs no fix,
and service versions against NVD ranges (bounds included or excluded exactly)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.core.errors import ConfigError
from secaudit.vuln.importer import import_files
from secaudit.vuln.match import (
    InstalledPackage,
    Service,
    match_packages,
    match_services,
    parse_dpkg_status,
    service_cpe,
)
from secaudit.vuln.store import VulnStore
from tests.vuln.helpers import FIXTURES, NOW

STATUS = """\
Package: openssh-server
Status: install ok installed
Source: openssh
Version: 1:9.2p1-2+deb12u2
Description: x
 continued description line: Package: not-a-package

Package: libssl3
Status: install ok installed
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2+b1

Package: telnet
Status: deinstall ok config-files
Version: 0.17-44
"""


def test_dpkg_status_installed_packages_with_their_source() -> None:
    packages = parse_dpkg_status(STATUS, "root:/var/lib/dpkg/status")
    assert packages == [
        InstalledPackage(
            name="openssh-server",
            version="1:9.2p1-2+deb12u2",
            source="openssh",
            source_version="1:9.2p1-2+deb12u2",
            location="root:/var/lib/dpkg/status:1",
        ),
        InstalledPackage(
            name="libssl3",
            version="3.0.11-1~deb12u2+b1",
            source="openssl",
            source_version="3.0.11-1~deb12u2",  # a binNMU: the source version is the one in brackets
            location="root:/var/lib/dpkg/status:8",
        ),
    ]


def test_dpkg_status_bad_version_names_the_stanza() -> None:
    with pytest.raises(ConfigError, match="package bad") as caught:
        parse_dpkg_status(STATUS + "\nPackage: bad\nStatus: install ok installed\nVersion: 1.0-\n", "s")
    assert caught.value.location == "s:17"


def pkg(name: str, version: str) -> InstalledPackage:
    return InstalledPackage(name=name, version=version, source=name, source_version=version)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with VulnStore.open(tmp_path / "v.sqlite") as opened:
        result = import_files(
            opened, [FIXTURES / "tracker-synthetic.json", FIXTURES / "nvd-synthetic.json"], now=NOW
        )
        assert not result.errors
        yield opened


@pytest.mark.parametrize(
    ("package", "version", "expected"),
    [
        ("synth-epoch", "9.9-9", {("CVE-2099-0001", "1:1.0-1")}),  # no epoch < epoch 1
        ("synth-epoch", "1:1.0-1", set()),
        ("synth-tilde", "2.0~rc1-1", {("CVE-2099-0002", "2.0-1")}),  # a pre-release is older
        ("synth-tilde", "2.0-1~bpo12+1", {("CVE-2099-0002", "2.0-1")}),
        ("synth-tilde", "2.0-1+b1", set()),
        ("synth-backport", "3.1-2+deb12u1", set()),  # the backported fix counts as fixed
        ("synth-backport", "3.1-2", {("CVE-2099-0006", "3.1-2+deb12u1")}),
        ("synth-nofix", "1.0-1", {("CVE-2099-0003", None), ("CVE-2099-0005", None)}),
    ],
)
def test_package_matches(
    store: VulnStore, package: str, version: str, expected: set[tuple[str, str | None]]
) -> None:
    result = match_packages(store, [pkg(package, version)], "bookworm")
    assert {(m.cve, m.fixed) for m in result.matches} == expected


def test_undetermined_is_counted_not_reported(store: VulnStore) -> None:
    result = match_packages(store, [pkg("synth-nofix", "1.0-1")], "bookworm")
    assert result.undetermined == 1
    assert "CVE-2099-0004" in result.cves_known
    assert "CVE-2099-0004" not in {m.cve for m in result.matches}


def test_another_release_has_nothing(store: VulnStore) -> None:
    assert match_packages(store, [pkg("synth-epoch", "0.1-1")], "trixie").matches == []


def svc(version: str, cpe: str = "") -> Service:
    return Service(
        address="127.0.0.1",
        port=22,
        proto="tcp",
        product="synthd",
        version=version,
        cpes=(cpe or f"cpe:/a:synthetic:synthd:{version}",),
    )


@pytest.mark.parametrize(
    ("version", "matched"),
    [("1.9", False), ("2.0", True), ("2.3.9", True), ("2.4", False), ("2.4p1", False), ("1.5", True)],
)
def test_service_ranges(store: VulnStore, version: str, matched: bool) -> None:
    matches, _ = match_services(store, [svc(version)])
    assert bool(matches) is matched
    if matched:
        assert matches[0].cve == "CVE-2099-0003"


def test_service_without_a_versioned_cpe_is_not_matched(store: VulnStore) -> None:
    matches, unmatched = match_services(store, [svc("", cpe="cpe:/a:synthetic:synthd")])
    assert matches == [] and unmatched == 1


def test_cpe_version_comes_from_the_banner_when_the_cpe_has_none() -> None:
    service = Service(
        address="127.0.0.1",
        port=22,
        proto="tcp",
        product="OpenSSH",
        version="9.2p1 Debian 2+deb12u2",
        cpes=("cpe:/o:linux:linux_kernel", "cpe:/a:openbsd:openssh"),
    )
    assert service_cpe(service) == ("openbsd", "openssh", "9.2p1")
