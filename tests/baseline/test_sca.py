"""Wazuh SCA policies (our own small policies in the SCA syntax, written into tmp_path): every rule
type and operator, pass and fail, undecidable rules, unsupported constructs and loader errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secaudit.baseline import CheckStatus, LocalTarget, OfflineTarget, result_to_dict
from secaudit.baseline.sca import Unsupported, command_argv, load_policy, run_policy
from secaudit.core.errors import ConfigError, UsageError
from secaudit.core.model import RefKind

ROOT_FILES = {
    "etc/ssh/sshd_config": "# test\nPermitRootLogin no\nMaxAuthTries 4\nClientAliveInterval 300\nProtocol 2\n",
    "etc/login.defs": "PASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\nUMASK 027\n",
    "etc/fstab": "/dev/sda1 / ext4 defaults 0 1\ntmpfs /tmp tmpfs nodev,nosuid,noexec 0 0\n",
    "etc/cron.d/backup": "0 3 * * * root /usr/local/bin/backup\n",
    "etc/cron.d/sub/cleanup": "30 4 * * * root rm -rf /var/tmp/old\n",
    "etc/debian_version": "12.5\n",
    "bin/blob": "\x00\x01binary",
}


def _root(tmp_path: Path) -> OfflineTarget:
    root = tmp_path / "root"
    for rel, text in ROOT_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "var" / "log").mkdir(parents=True)
    return OfflineTarget(root)


POLICY = r"""
policy:
  id: city_test
  name: Phuket test policy
  description: Our own checks in the SCA syntax
  regex_type: pcre2
requirements:
  title: Debian system
  condition: any
  rules:
    - 'f:/etc/debian_version'
variables:
  $sshd: /etc/ssh/sshd_config
  $defs: [/etc/nonexistent.defs, /etc/login.defs]
checks:
  - {id: 1, title: file exists, condition: all, rules: ['f:/etc/fstab']}
  - {id: 2, title: file exists (fail), condition: all, rules: ['f:/etc/shadow']}
  - {id: 3, title: not file, condition: all, rules: ['not f:/etc/hosts.equiv']}
  - {id: 4, title: not file (fail), condition: all, rules: ['not f:/etc/fstab']}
  - {id: 5, title: regex, condition: all, rules: ['f:$sshd -> r:^\s*permitrootlogin\s+no']}
  - {id: 6, title: regex (fail), condition: all, rules: ['f:$sshd -> r:^PermitRootLogin\s+yes']}
  - {id: 7, title: negated expression and &&, condition: all,
     rules: ['f:/etc/fstab -> r:\s/tmp\s && r:noexec && !r:exec,']}
  - {id: 8, title: negated expression (fail), condition: all, rules: ['f:/etc/fstab -> r:\s/tmp\s && !r:noexec']}
  - {id: 9, title: n lte, condition: all, rules: ['f:$sshd -> n:^MaxAuthTries\s+(\d+) compare <= 4']}
  - {id: 10, title: n lt (fail), condition: all, rules: ['f:$sshd -> n:^MaxAuthTries\s+(\d+) compare < 4']}
  - {id: 11, title: n eq, condition: all, rules: ['f:$sshd -> n:^ClientAliveInterval\s+(\d+) compare == 300']}
  - {id: 12, title: n ne (fail), condition: all, rules: ['f:$sshd -> n:^ClientAliveInterval\s+(\d+) compare != 300']}
  - {id: 13, title: n gte, condition: all, rules: ['f:$defs -> n:^PASS_MIN_DAYS\s+(\d+) compare >= 1']}
  - {id: 14, title: n gt (fail), condition: all, rules: ['f:$defs -> n:^PASS_MAX_DAYS\s+(\d+) compare > 365']}
  - {id: 15, title: literal line, condition: all, rules: ['f:/etc/login.defs -> UMASK 027']}
  - {id: 16, title: literal line (fail), condition: all, rules: ['f:/etc/login.defs -> UMASK 022']}
  - {id: 17, title: directory, condition: all, rules: ['d:/var/log']}
  - {id: 18, title: directory (fail), condition: all, rules: ['d:/var/spool/cron']}
  - {id: 19, title: file in directory, condition: all, rules: ['d:/etc/cron.d -> r:^clean']}
  - {id: 20, title: file content in directory, condition: none, rules: ['d:/etc/cron.d -> r:. -> r:rm -rf']}
  - {id: 21, title: named file in directory, condition: all, rules: ['d:/etc/cron.d -> backup -> r:backup$']}
  - {id: 22, title: any passes, condition: any, rules: ['f:/etc/shadow', 'f:/etc/fstab']}
  - {id: 23, title: any fails, condition: any, rules: ['f:/etc/shadow', 'f:/etc/gshadow']}
  - {id: 24, title: none passes, condition: none, rules: ['f:/etc/shadow', 'f:$sshd -> r:^Protocol\s+1']}
  - {id: 25, title: none fails, condition: none, rules: ['f:/etc/shadow', 'f:$sshd -> r:^Protocol\s+2']}
  - {id: 26, title: content of a missing file, condition: all, rules: ['f:/etc/sudoers -> r:NOPASSWD']}
  - {id: 27, title: command offline, condition: all, rules: ['c:uname -s -> r:Linux']}
  - {id: 28, title: process offline, condition: all, rules: ['p:sshd']}
  - {id: 29, title: registry, condition: all, rules: ['r:HKEY_LOCAL_MACHINE\Software\Policies -> Audit']}
  - {id: 30, title: a decided rule wins over an undecided one in all, condition: all,
     rules: ['f:/etc/sudoers -> r:x', 'f:/etc/shadow']}
  - {id: 31, title: shell syntax, condition: all, rules: ['c:cat /etc/passwd | grep root']}
  - {id: 32, title: bad regex, condition: all, rules: ['f:/etc/fstab -> r:(unclosed']}
  - {id: 33, title: bad operator, condition: all, rules: ['f:/etc/fstab -> n:^x (\d+) compare =< 3']}
  - {id: 34, title: unknown rule type, condition: all, rules: ['x:/etc/fstab']}
  - {id: 35, title: unknown condition, condition: most, rules: ['f:/etc/fstab']}
  - {id: 36, title: undefined variable, condition: all, rules: ['f:$nope -> r:x']}
  - {id: 37, title: binary content, condition: all, rules: ['f:/bin/blob -> r:x']}
  - id: 38
    title: compliance and references
    compliance:
      - cis: ['5.2.7']
      - cis_csc_v8: ['4.1']
      - pci_dss: ['2.2']
    references: ['https://example.org/hardening']
    condition: all
    rules: ['f:/etc/fstab']
  - {id: 39, title: n lt, condition: all, rules: ['f:$sshd -> n:^MaxAuthTries\s+(\d+) compare < 5']}
  - {id: 40, title: n lte (fail), condition: all, rules: ['f:$sshd -> n:^MaxAuthTries\s+(\d+) compare <= 3']}
  - {id: 41, title: n eq (fail), condition: all, rules: ['f:$sshd -> n:^ClientAliveInterval\s+(\d+) compare == 301']}
  - {id: 42, title: n ne, condition: all, rules: ['f:$sshd -> n:^ClientAliveInterval\s+(\d+) compare != 301']}
  - {id: 43, title: n gte (fail), condition: all, rules: ['f:$defs -> n:^PASS_MIN_DAYS\s+(\d+) compare >= 2']}
  - {id: 44, title: n gt, condition: all, rules: ['f:$defs -> n:^PASS_MAX_DAYS\s+(\d+) compare > 364']}
  - {id: 45, title: file in directory (fail), condition: all, rules: ['d:/etc/cron.d -> r:^daily']}
  - {id: 46, title: named file content (fail), condition: all, rules: ['d:/etc/cron.d -> backup -> r:^0 4 ']}
  - {id: 47, title: content in directory, condition: all, rules: ['d:/etc/cron.d -> r:. -> r:^0 3 ']}
"""

EXPECTED = {
    1: "pass", 2: "fail", 3: "pass", 4: "fail", 5: "pass", 6: "fail", 7: "pass", 8: "fail",
    9: "pass", 10: "fail", 11: "pass", 12: "fail", 13: "pass", 14: "fail", 15: "pass", 16: "fail",
    17: "pass", 18: "fail", 19: "pass", 20: "fail", 21: "pass", 22: "pass", 23: "fail", 24: "pass",
    25: "fail", 26: "notapplicable", 27: "notapplicable", 28: "notapplicable", 29: "notapplicable",
    30: "fail", 31: "error", 32: "error", 33: "error", 34: "error", 35: "error", 36: "error",
    37: "error", 38: "pass", 39: "pass", 40: "fail", 41: "fail", 42: "pass", 43: "fail", 44: "pass",
    45: "fail", 46: "fail", 47: "pass",
}  # fmt: skip


def _policy(tmp_path: Path, text: str = POLICY) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_rule_type_and_operator(tmp_path: Path) -> None:
    policy = load_policy(_policy(tmp_path))
    run = run_policy(policy, _root(tmp_path))
    got = {int(r.check.id.rsplit(".", 1)[1]): r.status.value for r in run.results}
    assert got == EXPECTED
    res = {int(r.check.id.rsplit(".", 1)[1]): r for r in run.results}
    assert run.baseline.id == "sca.city_test" and res[1].check.id == "sca.city_test.1"

    # evidence: file and line inside the root, the matched line as the value
    (five,) = res[5].evidence
    assert (five.file, five.line, five.value) == ("/etc/ssh/sshd_config", 2, "PermitRootLogin no")
    (twenty,) = res[20].evidence
    assert (twenty.file, twenty.line) == (
        "/etc/cron.d/sub/cleanup",
        1,
    )  # directories are searched recursively
    assert res[20].reason.startswith("forbidden: ")
    assert res[13].evidence[0].file == "/etc/login.defs"  # a variable holding a list of paths: any of them
    assert res[6].evidence[0].note == "no matching line"

    # reasons name what could not be decided or run
    assert "no such file, its content cannot be checked" in res[26].reason
    assert "needs a live target" in res[27].reason
    assert "need a live system" in res[28].reason
    assert "registry rules need a live Windows target" in res[29].reason
    assert "shell syntax (|)" in res[31].reason
    assert "regex /(unclosed/" in res[32].reason
    assert "unknown compare operator '=<'" in res[33].reason
    assert "unknown rule type" in res[34].reason and res[34].reason.startswith(f"{tmp_path / 'policy.yml'}:")
    assert "condition 'most'" in res[35].reason
    assert "variable $nope is not defined" in res[36].reason
    assert "binary" in res[37].reason

    refs = {(r.kind, r.id) for r in res[38].check.references}
    assert refs == {
        (RefKind.CIS, "5.2.7"),
        (RefKind.CIS_CONTROLS, "4.1"),
        (RefKind.URL, "https://example.org/hardening"),
    }
    assert result_to_dict(res[5])["expectation"].startswith("all of (sca:f:$sshd")


def test_unmet_requirements_make_every_check_not_applicable(tmp_path: Path) -> None:
    target = _root(tmp_path)
    (Path(target.root) / "etc" / "debian_version").unlink()
    run = run_policy(load_policy(_policy(tmp_path)), target)
    by_status = {
        r.status for r in run.results if r.check.id not in {f"sca.city_test.{n}" for n in range(31, 36)}
    }
    assert by_status == {CheckStatus.NOT_APPLICABLE}
    first = run.results[0]
    assert first.reason.startswith("the policy's requirements (Debian system) are not met")
    # checks that cannot even be parsed stay errors
    assert next(r for r in run.results if r.check.id == "sca.city_test.35").status is CheckStatus.ERROR


def test_commands_and_processes_on_the_live_host(tmp_path: Path) -> None:
    me = Path("/proc/self/comm").read_text(encoding="utf-8").strip()
    text = f"""
policy: {{id: live_test, name: live}}
checks:
  - {{id: 1, title: command output, condition: all, rules: ['c:uname -s -> r:^Linux$']}}
  - {{id: 2, title: command output (fail), condition: all, rules: ['c:uname -s -> r:^Darwin$']}}
  - {{id: 3, title: command status, condition: all, rules: ['c:true']}}
  - {{id: 4, title: command status (fail), condition: all, rules: ['c:false']}}
  - {{id: 5, title: process, condition: all, rules: ['p:{me}']}}
  - {{id: 6, title: process (fail), condition: all, rules: ['p:no-such-daemon-xyz']}}
  - {{id: 7, title: not process, condition: all, rules: ['not p:no-such-daemon-xyz']}}
  - {{id: 8, title: missing program, condition: all, rules: ['c:no-such-program-xyz --version']}}
  - {{id: 9, title: a shell, condition: all, rules: ["c:sh -c 'echo hi'"]}}
  - {{id: 10, title: numeric output, condition: all, rules: ['c:id -u -> n:^(\\d+)$ compare == {os.getuid()}']}}
"""
    run = run_policy(load_policy(_policy(tmp_path, text)), LocalTarget())
    got = {r.check.id.rsplit(".", 1)[1]: r.status.value for r in run.results}
    assert got == {
        "1": "pass",
        "2": "fail",
        "3": "pass",
        "4": "fail",
        "5": "pass",
        "6": "fail",
        "7": "pass",
        "8": "notapplicable",
        "9": "error",
        "10": "pass",
    }
    res = {r.check.id.rsplit(".", 1)[1]: r for r in run.results}
    assert res["1"].evidence[0].value == "Linux" and res["1"].evidence[0].file == "uname -s"
    assert res["5"].evidence[0].file.startswith("/proc/")
    assert "never runs commands through a shell" in res["9"].reason


def test_command_argv_is_fixed_words() -> None:
    assert command_argv("sshd -T -C 'user=root,host=h'") == ["sshd", "-T", "-C", "user=root,host=h"]
    assert command_argv("grep -E '^(a|b)$' /etc/x") == ["grep", "-E", "^(a|b)$", "/etc/x"]
    for bad in ("ls; rm -rf /", "echo $(id)", "cat x > y", "a|b", "echo `id`", "/bin/bash -c id", "x &"):
        with pytest.raises(Unsupported, match="shell"):
            command_argv(bad)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("checks: []\n", 1, "missing key 'policy'"),
        ("policy: {name: x}\nchecks: []\n", 1, "'policy' needs an 'id'"),
        ("policy: {id: p}\nchecks:\n  - {title: no id}\n", 3, "a check needs an 'id'"),
        (
            "policy: {id: p}\nchecks:\n  - {id: 1, condition: all, rules: ['f:/a']}\n  - {id: 1}\n",
            4,
            "repeats",
        ),
        ("policy: {id: p}\nvariables: {sshd: /x}\nchecks: []\n", 2, "must start with '$'"),
        ("policy: {id: p}\nrequirements: {condition: all, rules: ['q:/x']}\nchecks: []\n", 2, "requirements"),
        ("policy: {id: p}\nchecks: []\nchekcs: []\n", 3, "did you mean 'checks'"),
        ("policy: {id: p\n", 2, "invalid YAML"),
    ],
)
def test_policy_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _policy(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert info.value.location == f"{path}:{line}", str(info.value)
    assert message in str(info.value)


def test_a_file_target_is_refused(tmp_path: Path) -> None:
    from secaudit.baseline import FileTarget

    dump = tmp_path / "r1.cfg"
    dump.write_text("hostname r1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="single config dump"):
        run_policy(load_policy(_policy(tmp_path)), FileTarget(dump))
