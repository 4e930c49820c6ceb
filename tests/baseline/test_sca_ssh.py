"""An SCA policy over a real ssh target: sshd on 127.0.0.1 with throw-away keys (tests/baseline/sshd_server.py).

Files are read over SFTP, commands run as a fixed argv over the ssh channel, processes come from the
host's /proc: the same policy gives "not applicable" for the live rules on an offline root."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from secaudit.baseline import open_target
from secaudit.baseline.sca import load_policy, run_policy
from secaudit.cli.main import run
from tests.baseline.sshd_server import Sshd, running_sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with running_sshd(tmp_path_factory.mktemp("sca-sshd")) as server:
        yield server


def _policy(tmp_path: Path, sshd: Sshd) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(
        rf"""
policy: {{id: ssh_test, name: SCA over ssh}}
variables:
  $cfg: {sshd.config}
checks:
  - {{id: 1, title: max auth tries at most 4, condition: all,
     rules: ['f:$cfg -> n:^MaxAuthTries\s+(\d+) compare <= 4']}}
  - {{id: 2, title: client alive interval at most 200 (fails), condition: all,
     rules: ['f:$cfg -> n:^ClientAliveInterval\s+(\d+) compare <= 200']}}
  - {{id: 3, title: no password logins, condition: all, rules: ['f:$cfg -> r:^PasswordAuthentication no$']}}
  - {{id: 4, title: the kernel is Linux, condition: all, rules: ['c:uname -s -> r:^Linux$']}}
  - {{id: 5, title: sshd runs, condition: all, rules: ['p:sshd']}}
  - {{id: 6, title: no telnet daemon, condition: none, rules: ['p:in.telnetd', 'f:/usr/sbin/in.telnetd']}}
  - {{id: 7, title: piped command, condition: all, rules: ['c:ps ax | grep sshd']}}
""",
        encoding="utf-8",
    )
    return path


def test_policy_over_ssh(sshd: Sshd, tmp_path: Path) -> None:
    policy = load_policy(_policy(tmp_path, sshd))
    with open_target(sshd.spec()) as target:
        result = run_policy(policy, target)
    got = {r.check.id.rsplit(".", 1)[1]: r for r in result.results}
    assert {k: r.status.value for k, r in got.items()} == {
        "1": "pass",
        "2": "fail",
        "3": "pass",
        "4": "pass",
        "5": "pass",
        "6": "pass",
        "7": "error",
    }
    (tries,) = got["1"].evidence
    assert (tries.file, tries.value) == (str(sshd.config), "MaxAuthTries 3")
    assert got["4"].evidence[0].value == "Linux"
    assert any(o.file.startswith("/proc/") for o in got["5"].evidence)
    assert "shell syntax (|)" in got["7"].reason

    # the same policy on an offline copy of the file: live rules cannot be decided there
    root = tmp_path / "root"
    copy = root / str(sshd.config).lstrip("/")
    copy.parent.mkdir(parents=True)
    copy.write_text(sshd.config.read_text(encoding="utf-8"), encoding="utf-8")
    offline = run_policy(policy, open_target(f"offline:{root}"))
    statuses = {r.check.id.rsplit(".", 1)[1]: r.status.value for r in offline.results}
    assert statuses["1"] == "pass" and statuses["4"] == "notapplicable" and statuses["5"] == "notapplicable"


def test_import_sca_cli_over_ssh(sshd: Sshd, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = _policy(tmp_path, sshd)
    assert run(["baseline", "import-sca", str(policy), "--target", sshd.spec(), "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)  # 3: check 7 is an error, so the result is incomplete
    assert data["target"].startswith(f"ssh://{sshd.user}@127.0.0.1:{sshd.port}")
    assert {r["id"]: r["status"] for r in data["results"]}["sca.ssh_test.2"] == "fail"
