"""The Debian 12 baseline's former gaps: every automated Level 1 server recommendation of CIS Debian
12 v1.1.0 has a check, and the two kinds of false pass the Ubuntu 24.04 port found are closed here
too (a journald drop-in overriding journald.conf; a client installed under its real package name
while the check looked only at the transitional one)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from secaudit.baseline import Baseline, CheckStatus, load_baseline, run_check
from secaudit.baseline.benchmarks import baseline_coverage
from tests.baseline.fixtures import build_case, load_fixtures

BASELINE = "debian12-server"


@functools.cache
def _baseline() -> Baseline:
    return load_baseline(BASELINE)


def _status(check_id: str, files: dict[str, Any], tmp_path: Path) -> CheckStatus:
    check = _baseline().check(check_id)
    assert check is not None, check_id
    tmp_path.mkdir(parents=True, exist_ok=True)
    return run_check(
        check, build_case(load_fixtures(BASELINE), {"base": "hardened", "files": files}, tmp_path)
    ).status


def _with_package(name: str, version: str = "1.0-1") -> str:
    status: str = load_fixtures(BASELINE)["bases"]["hardened"]["var/lib/dpkg/status"]
    return status + (
        f"\nPackage: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
        f"Version: {version}\nDescription: fixture package {name}\n"
    )


def test_every_automated_level_1_server_recommendation_has_a_check() -> None:
    coverage = baseline_coverage(_baseline())
    assert coverage is not None
    assert coverage.total == 230
    assert len(coverage.covered) == 230


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, CheckStatus.PASS),
        # the last assignment wins: a drop-in undoing journald.conf's setting was a false pass
        ({"etc/systemd/journald.conf.d/90-volatile.conf": "[Journal]\nStorage=volatile\n"}, CheckStatus.FAIL),
        ({"etc/systemd/journald.conf.d/99-reset.conf": "[Journal]\nStorage=\n"}, CheckStatus.FAIL),
    ],
    ids=["hardened", "drop-in volatile", "drop-in reset"],
)
def test_journald_storage_is_read_as_systemd_reads_it(
    files: dict[str, Any], expected: CheckStatus, tmp_path: Path
) -> None:
    assert _status("deb12-journald-persistent", files, tmp_path) is expected


@pytest.mark.parametrize(
    ("check_id", "package"),
    [
        ("deb12-client-telnet-absent", "inetutils-telnet"),
        ("deb12-client-ftp-absent", "tnftp"),
        ("deb12-client-ftp-absent", "inetutils-ftp"),
        ("deb12-client-talk-absent", "inetutils-talk"),
        ("deb12-svc-dhcp-server-absent", "kea-dhcp4-server"),
        ("deb12-svc-imap-server-absent", "dovecot-pop3d"),
    ],
)
def test_a_client_or_server_under_its_real_package_name_fails(
    check_id: str, package: str, tmp_path: Path
) -> None:
    assert _status(check_id, {}, tmp_path / "base") is CheckStatus.PASS
    assert (
        _status(check_id, {"var/lib/dpkg/status": _with_package(package)}, tmp_path / "with")
        is CheckStatus.FAIL
    )


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.5.2-6+deb12u1", CheckStatus.PASS),  # bookworm's
        ("1.5.2-6", CheckStatus.PASS),
        ("1.5.3-5", CheckStatus.PASS),
        ("1.6.1-1", CheckStatus.PASS),
        ("1.5.2-5", CheckStatus.FAIL),
        ("1.4.0-9+deb11u1", CheckStatus.FAIL),  # bullseye's, left after an upgrade
    ],
)
def test_pam_versions(version: str, expected: CheckStatus, tmp_path: Path) -> None:
    status: str = load_fixtures(BASELINE)["bases"]["hardened"]["var/lib/dpkg/status"]
    for package, check_id in (
        ("libpam-runtime", "deb12-pam-runtime-version"),
        ("libpam-modules", "deb12-pam-modules-version"),
    ):
        changed = status.replace(
            f"Package: {package}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
            "Version: 1.5.2-6+deb12u1\n",
            f"Package: {package}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
            f"Version: {version}\n",
        )
        assert changed != status or version == "1.5.2-6+deb12u1"
        assert _status(check_id, {"var/lib/dpkg/status": changed}, tmp_path / package) is expected
