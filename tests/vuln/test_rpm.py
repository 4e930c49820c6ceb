"""rpm targets: the EVR ordering held against the real rpm on generated pairs, the database of an
offline root read with the real rpm tool (never written to), and its packages matched against OSV
records of the distribution's ecosystem."""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.app.vuln import run_vuln_stage
from secaudit.catalog.profile import load_profile
from secaudit.core.profile import BaselineTarget, VulnSettings
from secaudit.core.report import no_progress
from secaudit.vuln.importer import import_files
from secaudit.vuln.rpmver import compare_evr, parse_evr
from secaudit.vuln.store import VulnStore
from tests.conftest import DEMO_PROFILE
from tests.vuln.helpers import FEEDS, FIXTURES, NOW

pytestmark = pytest.mark.skipif(
    not (shutil.which("rpm") and shutil.which("rpmbuild")), reason="needs rpm and rpmbuild"
)

PARTS = ["0", "1", "2", "10", "007", "a", "b", "rc", "~", "^", ".", "_", "+", "el9", "p1", "-", "Z", ":"]


def _generated(seed: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)

    def one() -> str:
        text = "".join(rng.choice(PARTS) for _ in range(rng.randint(1, 6)))
        return f"{rng.randint(0, 2)}:{text}" if rng.random() < 0.2 else text

    pairs = [(one(), one()) for _ in range(count)]
    return [*pairs, ("1.0~rc1", "1.0"), ("1.0^git1", "1.0"), ("1.0^git1", "1.0.1"), ("1:1.0-1", "2.0-1")]


def _rpm_vercmp(pairs: list[tuple[str, str]], folder: Path) -> list[int]:
    """rpm's own verdicts, from one rpm process running its Lua rpm.vercmp over a file of pairs."""
    listing = folder / "pairs.txt"
    listing.write_text("".join(f"{a}\t{b}\n" for a, b in pairs))
    lua = (
        f'%{{lua: for line in io.lines("{listing}") do '
        'local a, b = line:match("^(.-)\\t(.*)$"); print(rpm.vercmp(a, b) .. ",") end}'
    )
    out = subprocess.run(["rpm", "--eval", lua], capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.replace("\n", "").split(",") if x.strip()]


def test_evr_ordering_is_rpms_own(tmp_path: Path) -> None:
    pairs = _generated(15, 6000)
    verdicts = _rpm_vercmp(pairs, tmp_path)
    assert len(verdicts) == len(pairs)
    wrong = [
        (a, b, want, compare_evr(a, b))
        for (a, b), want in zip(pairs, verdicts, strict=True)
        if compare_evr(a, b) != want
    ]
    assert wrong == []
    assert parse_evr("1:8.7p1-38.el9_4.1") == ("1", "8.7p1", "38.el9_4.1")
    assert parse_evr("8.7p1") == (None, "8.7p1", None)


SPEC = """\
Name: {source}
Version: {version}
Release: {release}
Epoch: {epoch}
Summary: SYNTHETIC package for the secaudit tests
License: GPL-3.0-or-later
BuildArch: noarch
%description
SYNTHETIC package for the secaudit tests.
%package -n {binary}
Summary: SYNTHETIC binary package
%description -n {binary}
SYNTHETIC binary package.
%files -n {binary}
"""

# (source, binary, epoch, version, release): real NEVRs of Rocky Linux 9's openssh around the
# CVE-2024-6387 fix, and a synthetic package
PACKAGES = [
    ("openssh", "openssh-server", "0", "8.7p1", "38.el9"),
    ("openssh", "openssh-clients", "0", "8.7p1", "38.el9_4.1"),
    ("synth-rpm", "synth-rpm-libs", "0", "2.0", "1.el9"),
]


@pytest.fixture(scope="module")
def rocky_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the fixture root with an rpm database made by the real rpmbuild and rpm."""
    work = tmp_path_factory.mktemp("rpm")
    root = work / "root"
    shutil.copytree(FIXTURES / "rocky9-root", root)
    (root / "var/lib/rpm").mkdir(parents=True)
    for source, binary, epoch, version, release in PACKAGES:
        spec = work / f"{binary}.spec"
        spec.write_text(
            SPEC.format(source=source, binary=binary, epoch=epoch, version=version, release=release)
        )
        subprocess.run(
            [
                "rpmbuild",
                "-bb",
                "--define",
                f"_topdir {work / 'build'}",
                "--define",
                "_build_id_links none",
                str(spec),
            ],
            check=True,
            capture_output=True,
        )
    built = sorted((work / "build" / "RPMS" / "noarch").glob("*.rpm"))
    subprocess.run(
        [
            "rpm",
            "--dbpath",
            str(root / "var/lib/rpm"),
            "-i",
            "--justdb",
            "--nodeps",
            "--nosignature",
            *map(str, built),
        ],
        check=True,
        capture_output=True,
    )
    # what rpm leaves beside a database it wrote is not part of a quiet root
    for extra in (root / "var/lib/rpm").glob("rpmdb.sqlite-shm"):
        extra.unlink()
    yield root


def test_an_offline_rocky_root_is_matched_read_only(rocky_root: Path, tmp_path: Path) -> None:
    with VulnStore.open(tmp_path / "v.sqlite") as store:
        result = import_files(store, [FIXTURES / "osv-rocky.json", FEEDS / "nvd-cves.json"], now=NOW)
        assert not result.errors
    before = sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in (rocky_root / "var/lib/rpm").iterdir()
    )
    profile = replace(
        load_profile(DEMO_PROFILE, now=NOW),
        baseline_targets=(BaselineTarget(target=f"offline:{rocky_root}", baselines=(), asset="cc-app-01"),),
        vuln=VulnSettings(store=str(tmp_path / "v.sqlite"), max_feed_age_days=36500),
    )
    out = run_vuln_stage(profile, run_dir=tmp_path / "run", now=NOW, progress=no_progress)
    assert out.result.errors == ()
    after = sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in (rocky_root / "var/lib/rpm").iterdir()
    )
    assert after == before  # the root is never written to
    found = {(f.rule_id, f.evidence_key, dict(f.evidence[0].attributes)["installed"]) for f in out.findings}
    assert found == {
        # openssh-server before the fix; openssh-clients is at 8.7p1-38.el9_4.1
        ("CVE-2024-6387", "rpm:openssh-server", "8.7p1-38.el9"),
        # matched through its source package; the fix has epoch 1, the installed package none
        ("CVE-2099-0701", "rpm:synth-rpm-libs", "2.0-1.el9"),
    }
    server = next(f for f in out.findings if f.rule_id == "CVE-2024-6387")
    assert server.title == "CVE-2024-6387 in Rocky Linux:9 package openssh-server"
    assert "dnf upgrade openssh-server" in server.remediation and "8.7p1-38.el9_4.1" in server.remediation
    assert "RLSA-2024:4312" in server.description
    thai = server.text_in("th")
    assert (
        thai.title == "CVE-2024-6387 ในแพ็กเกจ Rocky Linux:9 openssh-server"
        and "dnf upgrade" in thai.remediation
    )
    results = (tmp_path / "run" / "vuln-results.json").read_text()
    assert '"ecosystem": "Rocky Linux:9"' in results and '"rpm_packages": 3' in results


def test_without_a_feed_for_the_release_the_target_is_skipped_with_a_reason(
    rocky_root: Path, tmp_path: Path
) -> None:
    with VulnStore.open(tmp_path / "v.sqlite") as store:
        assert not import_files(store, [FEEDS / "nvd-cves.json"], now=NOW).errors
    profile = replace(
        load_profile(DEMO_PROFILE, now=NOW),
        baseline_targets=(BaselineTarget(target=f"offline:{rocky_root}", baselines=(), asset="cc-app-01"),),
        vuln=VulnSettings(store=str(tmp_path / "v.sqlite"), max_feed_age_days=36500),
    )
    out = run_vuln_stage(profile, run_dir=tmp_path / "run", now=NOW, progress=no_progress)
    assert out.findings == () and out.result.skipped == 1
    assert any("no OSV feed for Rocky Linux:9" in e for e in out.result.errors)
