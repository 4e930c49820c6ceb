"""NVD "running on" configurations: an AND of the vulnerable software and a platform. The match
needs the platform where the scan tells it; where it cannot tell, the finding says so and is one
more step lower - never raised."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.core.model import Asset, Severity
from secaudit.vuln.feeds import read_nvd
from secaudit.vuln.findings import Enrichment, service_finding
from secaudit.vuln.importer import import_files
from secaudit.vuln.match import Service, match_services, platform_state
from secaudit.vuln.store import VulnStore
from tests.vuln.helpers import FIXTURES, NOW

FEED = FIXTURES / "nvd-running-on-synthetic.json"
WINDOWS = "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*"
LINUX_OR_BSD = ("cpe:2.3:o:freebsd:freebsd:*:*:*:*:*:*:*:*", "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*")


def test_the_platform_node_is_kept_with_the_range() -> None:
    feed = read_nvd(FEED.read_text(), str(FEED))
    assert [(r.cve, r.product, r.start_incl, r.end_excl, r.platforms) for r in feed.ranges] == [
        ("CVE-2099-0301", "platformd", "1.0", "1.9", ((WINDOWS,),)),
        ("CVE-2099-0302", "platformd", "1.0", "1.9", (LINUX_OR_BSD,)),
    ]


@pytest.mark.parametrize(
    ("known", "state"),
    [
        (("cpe:/o:linux:linux_kernel",), "holds"),
        (("cpe:/o:linux:linux_kernel:5.10",), "holds"),
        (("cpe:/o:microsoft:windows_10",), "fails"),  # an OS is known, and it is neither
        (("cpe:/a:synthetic:platformd:1.2",), "unknown"),  # no OS known at all
        ((), "unknown"),
    ],
)
def test_platform_state(known: tuple[str, ...], state: str) -> None:
    assert platform_state((LINUX_OR_BSD,), known) == state


def svc(*platform: str, service_cpes: tuple[str, ...] = ()) -> Service:
    return Service(
        address="127.20.9.9",
        port=8443,
        proto="tcp",
        product="platformd",
        version="1.2",
        cpes=("cpe:/a:synthetic:platformd:1.2", *service_cpes),
        platform_cpes=platform,
    )


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with VulnStore.open(tmp_path / "v.sqlite") as opened:
        assert not import_files(opened, [FEED], now=NOW).errors
        yield opened


def test_a_known_platform_decides(store: VulnStore) -> None:
    linux_host = svc(service_cpes=("cpe:/o:linux:linux_kernel",))  # nmap often puts the OS on the service
    matches, _ = match_services(store, [linux_host])
    assert [(m.cve, m.platform) for m in matches] == [("CVE-2099-0302", "")]  # Windows-only CVE dropped
    windows_host = svc("cpe:/o:microsoft:windows")  # from nmap's OS guess of the host
    matches, _ = match_services(store, [windows_host])
    assert [(m.cve, m.platform) for m in matches] == [("CVE-2099-0301", "")]


def test_an_unknown_platform_is_stated_and_lowered(store: VulnStore) -> None:
    matches, _ = match_services(store, [svc()])
    assert [(m.cve, m.platform) for m in matches] == [
        ("CVE-2099-0301", "(microsoft:windows)"),
        ("CVE-2099-0302", "(freebsd:freebsd or linux:linux_kernel)"),
    ]
    info = Enrichment(cves=store.cve_info(["CVE-2099-0301"]), epss={}, kev={})
    asset = Asset(key="127.20.9.9", address="127.20.9.9")
    now = datetime(2099, 1, 2, tzinfo=UTC)
    uncertain = service_finding(matches[0], asset, info, now=now)
    certain = service_finding(
        match_services(store, [svc("cpe:/o:microsoft:windows")])[0][0], asset, info, now=now
    )
    assert certain.severity is Severity.HIGH  # CVSS 9.8, one step lower: a banner is a claim
    assert uncertain.severity is Severity.MEDIUM  # and one more: the platform is not known
    assert (
        "Uncertain: NVD lists it as affected only when running on (microsoft:windows)"
        in uncertain.description
    )
    assert (
        dict(uncertain.evidence[0].attributes)["platform_condition"]
        == "uncertain: running on (microsoft:windows)"
    )
    assert "ไม่แน่ชัด" in uncertain.text_in("th").description and "ไม่แน่ชัด" in uncertain.text_in("th").title
