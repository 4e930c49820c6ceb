"""``secaudit scope check`` and ``secaudit scan`` through click's CliRunner, with real nmap."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from secaudit.cli.common import ExitWith
from secaudit.cli.scan import scan, scope
from secaudit.core.errors import ExitCode, ScopeError

REPO = Path(__file__).resolve().parents[2]

PROFILE = """version: 1
organisation: CLI test
authorization:
  reference: PKT-CLI-1
  approver: CISO
  valid_from: 2026-01-01
  valid_until: {until}
segments:
  - name: edge
    cidrs: [127.22.5.0/30]
    kind: dmz
    owner: city
    criticality: high
  - name: signals
    cidrs: [127.22.2.0/29]
    kind: ot
    owner: city
    criticality: public-safety-critical
    exclusions: [127.22.2.6/32]
report:
  output_dir: {out}
"""


def write_profile(tmp_path: Path, until: str = "2099-12-31") -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE.format(until=until, out=tmp_path / "reports"))
    return path


def test_scope_check_in_scope_exits_0_and_explains(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        scope, ["check", "--profile", str(write_profile(tmp_path)), "127.22.5.1", "127.22.2.1-5"]
    )
    assert result.exit_code == 0, result.output
    assert "127.22.5.1: in scope (1 address, segment edge)" in result.output
    assert "127.22.2.1-5: in scope (5 addresses, segment signals)" in result.output


def test_scope_check_refusals_exit_2_naming_address_and_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        scope, ["check", "--profile", str(write_profile(tmp_path)), "--json", "127.22.2.0/29", "127.22.9.9"]
    )
    assert isinstance(result.exception, ExitWith) and result.exception.code is ExitCode.USAGE
    verdicts = json.loads(result.output)
    assert [v["in_scope"] for v in verdicts] == [False, False]
    assert "127.22.2.6 is excluded by segment 'signals' exclusion 127.22.2.6/32" in verdicts[0]["explanation"]
    assert verdicts[1]["addresses"] == [
        {
            "address": "127.22.9.9",
            "segment": "",
            "in_scope": False,
            "reason": "is not in any authorized segment",
        }
    ]


def test_scope_check_with_expired_authorization(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        scope, ["check", "--profile", str(write_profile(tmp_path, "2026-01-31")), "127.22.5.1"]
    )
    assert isinstance(result.exception, ExitWith)
    assert "authorization PKT-CLI-1 is valid from 2026-01-01" in result.output


def test_scan_with_expired_authorization_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(scan, ["--profile", str(write_profile(tmp_path, "2026-01-31"))])
    assert isinstance(result.exception, ScopeError)
    assert result.exception.exit_code == ExitCode.USAGE
    assert "nothing was sent" in str(result.exception)
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="port 23 and SYN scans need root")
def test_scan_writes_findings_and_raw_xml(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("demo_net", REPO / "samples" / "demo_net.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    sys.modules["demo_net"] = demo
    spec.loader.exec_module(demo)
    net = demo.start([demo.Spec("127.22.5.1", 23, "telnet")])
    try:
        out = tmp_path / "run"
        result = CliRunner().invoke(
            scan,
            ["--profile", str(write_profile(tmp_path)), "--segment", "edge", "--output", str(out), "--json"],
        )
    finally:
        net.stop()
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "completed"
    assert [(f["rule_id"], f["asset"], f["location"], f["severity"]) for f in data["findings"]] == [
        ("EXP-TELNET", "127.22.5.1", "127.22.5.1:23/tcp", "high")
    ]
    saved = json.loads((out / "scan-findings.json").read_text())
    assert saved["findings"][0]["rule_id"] == "EXP-TELNET"
    assert saved["authorization"] == "PKT-CLI-1"
    assert (out / "scan" / "edge.xml").read_text().startswith("<?xml")
    trail = [json.loads(x) for x in (out / "scan-audit.jsonl").read_text().splitlines()]
    assert [(e["result"], "-sn" in e["argv"]) for e in trail] == [("completed", True), ("completed", False)]
