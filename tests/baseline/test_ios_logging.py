"""Cisco IOS: central logging by address, IPv6 or host name; a config fragment is said to be one."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.baseline import CheckStatus, FileTarget, load_baseline, run_baseline, run_check
from tests.baseline.fixtures import load_fixtures

HARDENED: str = load_fixtures("cisco-ios")["bases"]["hardened"]


def _check(tmp_path: Path, text: str, check_id: str = "ios-logging-host") -> tuple[CheckStatus, str]:
    path = tmp_path / "r1.cfg"
    path.write_text(text, encoding="utf-8")
    check = load_baseline("cisco-ios").check(check_id)
    assert check is not None
    result = run_check(check, FileTarget(path))
    return result.status, (result.evidence[0].value or "") if result.evidence else result.reason


@pytest.mark.parametrize(
    "line",
    [
        "logging host 10.10.50.20",
        "logging 10.10.50.20",
        "logging host syslog.phuket.city",
        "logging host ipv6 2001:db8:50::20",
        "logging host 10.10.50.20 vrf MGMT transport udp port 514",
    ],
)
def test_central_logging_by_address_ipv6_or_name(tmp_path: Path, line: str) -> None:
    text = HARDENED.replace("logging host 10.10.50.20\n", f"{line}\n")
    assert f"{line}\n" in text
    status, value = _check(tmp_path, text)
    assert status is CheckStatus.PASS, value
    assert value.startswith("logging")


@pytest.mark.parametrize("line", ["logging trap informational", "logging source-interface Loopback0"])
def test_other_logging_lines_are_no_collector(tmp_path: Path, line: str) -> None:
    text = HARDENED.replace("logging host 10.10.50.20\n", f"{line}\n")
    status, _ = _check(tmp_path, text)
    assert status is CheckStatus.FAIL


def test_a_fragment_is_named_and_absence_in_it_decides_nothing(tmp_path: Path) -> None:
    path = tmp_path / "acl-snippet.cfg"
    path.write_text("ip http server\nsnmp-server community public RO\n", encoding="utf-8")
    run = run_baseline(load_baseline("cisco-ios"), FileTarget(path))
    assert "is not a full running-config (no hostname, no version, no line sections)" in run.incomplete
    by_id = {r.check.id: r for r in run.results}
    # present lines are evidence even in a fragment
    assert by_id["ios-http-server-off"].status is CheckStatus.FAIL
    assert by_id["ios-http-server-off"].evidence[0].line == 1
    # what a fragment lacks is not a failure
    assert by_id["ios-aaa-new-model"].status is CheckStatus.NOT_APPLICABLE
    assert "not a full running-config" in by_id["ios-aaa-new-model"].reason
    assert run.count(CheckStatus.FAIL) <= 3
    # a full config carries no such notice
    full = tmp_path / "full.cfg"
    full.write_text(HARDENED, encoding="utf-8")
    assert run_baseline(load_baseline("cisco-ios"), FileTarget(full)).incomplete == ""
