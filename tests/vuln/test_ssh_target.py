"""The vuln stage over a real ssh target: sshd on 127.0.0.1 with throw-away keys
(tests/baseline/sshd_server.py) serves this machine's own /etc/os-release and dpkg status over SFTP.

The expected matches are worked out apart from secaudit: the installed source versions from
``dpkg-query`` and each record's verdict from ``dpkg --compare-versions``. Beside the demo tracker's
real records, the test's own tracker carries SYNTHETIC records for two of the machine's real source
packages: one fixed in a version above any real one (must match), one fixed long ago (must not)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.app.vuln import run_vuln_stage
from secaudit.catalog.profile import load_profile
from secaudit.cli.main import run
from secaudit.core.report import no_progress
from tests.baseline.sshd_server import Sshd, running_sshd
from tests.vuln.helpers import FEEDS

pytestmark = pytest.mark.skipif(
    not (Path("/var/lib/dpkg/status").exists() and shutil.which("dpkg-query")), reason="needs a dpkg host"
)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with running_sshd(tmp_path_factory.mktemp("vuln-sshd")) as server:
        yield server


def _installed_sources() -> dict[str, str]:
    """Source package -> source version of what dpkg says is installed (the oldest binary's)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Status}\t${source:Package}\t${source:Version}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        status, source, version = line.split("\t")
        if status == "installed" and (source not in found or _lt(version, found[source])):
            found[source] = version
    return found


def _lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


def _release() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.partition("=")[2].strip('"')
    return ""


def test_dpkg_status_read_over_ssh_is_matched(sshd: Sshd, tmp_path: Path) -> None:
    release = _release()
    sources = _installed_sources()
    assert "openssh" in sources and "glibc" in sources  # sshd_server.py needs both
    tracker = json.loads((FEEDS / "debian-tracker.json").read_text())
    synthetic = {
        "openssh": ("CVE-2099-0501", "1:99.0-1"),  # above any real openssh: affected
        "glibc": ("CVE-2099-0502", "2.0-1"),  # below any glibc Debian ships: not affected
    }
    for source, (cve, fixed) in synthetic.items():
        tracker[source][cve] = {
            "description": "SYNTHETIC record of the ssh target test.",
            "releases": {release: {"status": "resolved", "fixed_version": fixed, "urgency": "high"}},
        }
    feed = tmp_path / "tracker.json"
    feed.write_text(json.dumps(tracker))
    store = tmp_path / "v.sqlite"
    assert run(["vuln", "import", "--store", str(store), str(feed), str(FEEDS / "nvd-cves.json")]) == 0
    profile_path = tmp_path / "city.yaml"
    profile_path.write_text(
        f"""\
organisation: Test city
authorization: {{reference: T-1, approver: Test, valid_from: 2020-01-01, valid_until: 2099-12-31}}
segments:
  - {{name: mgmt, cidrs: [127.0.0.0/30], kind: mgmt, owner: IT, criticality: high}}
baseline_targets:
  - target: "{sshd.spec()}"
    baselines: [openssh-server]
vuln: {{store: {store}, max_feed_age_days: 36500}}
"""
    )
    profile = load_profile(profile_path)
    out = run_vuln_stage(profile, run_dir=tmp_path / "run", now=datetime.now(UTC), progress=no_progress)
    assert out.result.errors == ()
    expected = {
        (cve, source)
        for source, issues in tracker.items()
        if source in sources
        for cve, entry in issues.items()
        if (state := entry["releases"].get(release))
        and state["status"] == "resolved"
        and state["fixed_version"] != "0"
        and _lt(sources[source], state["fixed_version"])
    }
    assert ("CVE-2099-0501", "openssh") in expected and ("CVE-2099-0502", "glibc") not in expected
    assert {(f.rule_id, f.evidence_key.removeprefix("deb:")) for f in out.findings} == expected
    synthetic_hit = next(f for f in out.findings if f.rule_id == "CVE-2099-0501")
    attributes = dict(synthetic_hit.evidence[0].attributes)
    assert attributes["installed"] == sources["openssh"] and attributes["target"] == sshd.spec()
    results = json.loads((tmp_path / "run" / "vuln-results.json").read_text())
    [target] = results["targets"]
    assert (target["distribution"], target["feed"], target["release"]) == (
        "debian",
        "debian-tracker",
        release,
    )
    assert target["source_packages"] == len(sources)
