"""``secaudit baseline import-sca`` through the real entry point, on an offline root in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secaudit.cli.main import run

POLICY = r"""
policy: {id: cli_test, name: CLI test policy}
checks:
  - id: 100
    title: SSH root login is off
    condition: all
    rules: ['f:/etc/ssh/sshd_config -> r:^PermitRootLogin\s+no$']
  - id: 101
    title: Password authentication is off
    condition: all
    rules: ['f:/etc/ssh/sshd_config -> r:^PasswordAuthentication\s+no$']
  - id: 102
    title: No telnet server
    condition: none
    rules: ['f:/usr/sbin/in.telnetd', 'p:in.telnetd']
"""


def _setup(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "ssh" / "sshd_config").write_text(
        "PermitRootLogin no\nPasswordAuthentication yes\n", encoding="utf-8"
    )
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    return policy, f"offline:{root}"


def test_import_sca_json_table_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy, target = _setup(tmp_path)
    assert run(["baseline", "import-sca", str(policy), "--target", target, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["baseline"]["id"] == "sca.cli_test"
    status = {r["id"]: r["status"] for r in data["results"]}
    # 102: the file rule is decided (absent); the process rule needs a live system -> not applicable
    assert status == {
        "sca.cli_test.100": "pass",
        "sca.cli_test.101": "fail",
        "sca.cli_test.102": "notapplicable",
    }
    failed = next(r for r in data["results"] if r["id"] == "sca.cli_test.101")
    assert failed["evidence"] == [
        {
            "subject": r"f:/etc/ssh/sshd_config -> r:^PasswordAuthentication\s+no$",
            "value": None,
            "file": "/etc/ssh/sshd_config",
            "line": 0,
            "note": "no matching line",
        }
    ]
    assert run(["baseline", "import-sca", str(policy), "--target", target, "--fail-on", "none"]) == 0
    out = capsys.readouterr().out
    assert "sca.cli_test.101" in out and "sca.cli_test.100" not in out  # the table lists failures
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - check: sca.cli_test.101\n"
        f"    target: {target}\n"
        "    justification: Password logins stay until the smart-card rollout finishes.\n"
        "    expires: 2099-01-01\n",
        encoding="utf-8",
    )
    args = ["baseline", "import-sca", str(policy), "--target", target, "--waivers", str(waivers), "--json"]
    assert run(args) == 0
    waived = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}["sca.cli_test.101"]
    assert waived["status"] == "waived" and waived["waiver"]["source"] == f"{waivers}:2"


def test_import_sca_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy, target = _setup(tmp_path)
    dump = tmp_path / "r1.cfg"
    dump.write_text("hostname r1\n", encoding="utf-8")
    assert run(["baseline", "import-sca", str(policy), "--target", f"file:{dump}"]) == 2
    assert "single config dump" in capsys.readouterr().err
    broken = tmp_path / "broken.yml"
    broken.write_text("policy: {id: x}\nchecks:\n  - {title: no id}\n", encoding="utf-8")
    assert run(["baseline", "import-sca", str(broken), "--target", target]) == 2
    assert f"{broken}:3: a check needs an 'id'" in capsys.readouterr().err
