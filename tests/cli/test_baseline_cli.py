"""``secaudit baseline list/check`` through the real entry point."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from secaudit.cli.main import run

REPO = Path(__file__).resolve().parents[2]


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["baseline", "list", "--json"]) == 0
    listed = {b["id"]: b for b in json.loads(capsys.readouterr().out)}
    assert listed["debian12-server"]["checks"] >= 180
    assert listed["cisco-ios"]["targets"] == ["file"]
    cov = listed["debian12-server"]["coverage"]
    assert cov["benchmark"] == "CIS Debian Linux 12 Benchmark v1.1.0"
    assert (cov["level"], cov["profile"], cov["automated"]) == (1, "server", 230)
    assert cov["decided"] == 230 and cov["missing"] == []
    assert listed["cisco-ios"]["coverage"] is None  # no benchmark reference data for IOS


def test_check_json_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"file:{REPO / 'samples/snapshots/cc-core-rtr01.cfg'}"
    assert run(["baseline", "check", "--baseline", "cisco-ios", "--target", target, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    results = {r["id"]: r for r in data["results"]}
    assert results["ios-vty-ssh-only"]["status"] == "fail"
    assert results["ios-vty-ssh-only"]["evidence"][0]["line"] == 47
    assert results["ios-ssh-version-2"]["status"] == "pass"
    assert data["score"]["score"] == round(
        100 * data["score"]["pass"] / (data["score"]["pass"] + data["score"]["fail"]), 1
    )
    assert run(["baseline", "check", "--baseline", "cisco-ios", "--target", target, "--fail-on", "none"]) == 0


def test_check_table_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"file:{REPO / 'samples/snapshots/portal-nginx.conf'}"
    assert run(["baseline", "check", "--baseline", "nginx", "--target", target]) == 1
    out = capsys.readouterr().out
    assert "nginx-server-tokens-off" in out and "overall" in out
    assert run(["baseline", "check", "--baseline", "nginx", "--target", "ftp:/etc/nginx.conf"]) == 2
    assert "unknown target 'ftp:/etc/nginx.conf'" in capsys.readouterr().err
    assert run(["baseline", "check", "--baseline", "ngnix", "--target", target]) == 2
    assert "did you mean 'nginx'" in capsys.readouterr().err


def _waivers(tmp_path: Path) -> Path:
    """A waiver valid for a year, one that expired yesterday and one that matches nothing."""
    today = date.today()
    path = tmp_path / "waivers.yaml"
    path.write_text(
        f"""waivers:
  - check: ios-cdp-off
    target: "file:*cc-core-rtr01.cfg"
    justification: The access switches below discover this router over CDP.
    approver: Head of Network Operations
    expires: {today + timedelta(days=365)}
  - check: ios-http-server-off
    target: "file:*cc-core-rtr01.cfg"
    kind: accepted
    justification: The monitoring appliance polls the HTTP API until its upgrade.
    approver: CISO
    expires: {today - timedelta(days=1)}
  - check: ios-cdp-of
    target: "file:*cc-core-rtr01.cfg"
    justification: A typo in the check id must be reported, not silently ignored.
    expires: {today + timedelta(days=30)}
""",
        encoding="utf-8",
    )
    return path


def test_check_with_waivers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = _waivers(tmp_path)
    target = f"file:{REPO / 'samples/snapshots/cc-core-rtr01.cfg'}"
    args = ["baseline", "check", "--baseline", "cisco-ios", "--target", target, "--waivers", str(waivers)]
    assert run([*args, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    results = {r["id"]: r for r in data["results"]}
    assert results["ios-cdp-off"]["status"] == "waived"
    assert results["ios-cdp-off"]["waiver"]["source"] == f"{waivers}:2"
    # the HTTP waiver expired yesterday: the check fails again, and is reported as expired
    assert results["ios-http-server-off"]["status"] == "fail"
    assert results["ios-http-server-off"]["waiver"]["expired"] is True
    assert data["unused_waivers"] == [
        f"{waivers}:13: waiver for 'ios-cdp-of' on 'file:*cc-core-rtr01.cfg' matched no failed check"
        " (did you mean 'ios-cdp-off'?)"
    ]
    assert run([*args, "--all"]) == 1
    captured = capsys.readouterr()
    rows = {line.split("│")[1].strip(): line for line in captured.out.splitlines() if line.count("│") > 3}
    assert "expired" in rows and "waived" in rows and "fail" in rows
    assert "ios-http-server-off" in rows["expired"] and "ios-cdp-off" in rows["waived"]
    assert "did you mean" in captured.err
    assert run([*args[:-1], str(tmp_path / "missing.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_check_level_selects_cis_profile_levels(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"offline:{REPO / 'samples/snapshots/cc-app01'}"
    args = ["baseline", "check", "--baseline", "debian12-server", "--target", target, "--format", "json"]
    run(args)
    level1 = {r["id"] for r in json.loads(capsys.readouterr().out)["results"]}
    run([*args, "--level", "2"])
    level2 = {r["id"] for r in json.loads(capsys.readouterr().out)["results"]}
    # dccp (3.2.1) and DisableForwarding (5.1.8) are Level 2 server controls in CIS Debian 12 v1.1.0
    assert {"deb12-kmod-dccp-disabled", "ssh-forwarding-disabled"} <= level2 - level1
    assert "deb12-perm-shadow" in level1 & level2
    assert run([*args, "--level", "3"]) == 2
