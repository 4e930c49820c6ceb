"""Wazuh SCA policies in the syntax of current Wazuh releases (our own policies, written into
tmp_path): checks named by ``name:``, requirements that read /proc on an offline root, escaped
``\\$`` and undefined ``$word`` in regexes, PCRE2 classes, compliance as a mapping, and a loud
exit 3 when nothing could be checked."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from secaudit.baseline import CheckStatus, OfflineTarget
from secaudit.baseline.pcre import PcreUnsupported, compile_pcre, translate
from secaudit.baseline.sca import load_policy, run_policy
from secaudit.cli.main import run
from secaudit.core.model import RefKind

# The shape of Wazuh's current Debian policies: requirements with name:, the kernel type read from
# /proc, checks with name:, compliance as one mapping, mitre ids.
POLICY = r"""
policy:
  id: "city_deb12"
  file: "city_deb12.yml"
  name: "Phuket Debian 12 checks"
  description: "Our own checks in current SCA syntax."
requirements:
  name: "Debian 12 on Linux"
  description: "Only Debian 12."
  condition: all
  rules:
    - "f:/etc/debian_version -> r:^12\\."
    - "f:/proc/sys/kernel/ostype -> r:Linux"
    - "f:/etc/os-release -> r:NAME= && r:Debian"
variables:
  $pam: /etc/pam.d/common-password
checks:
  - id: 500
    name: "Root's PATH holds no empty entry."
    description: "d"
    rationale: "r"
    remediation: "m"
    compliance:
      nist_800_53: ["CM-6"]
      iso_27001: ["A.12.1.1"]
    mitre:
      technique:
        id: ["T1574"]
        name: ["Hijack Execution Flow"]
    condition: none
    rules:
      - 'f:/root/.profile -> r:PATH=\S*::'
  - id: 501
    name: "PS1 keeps a literal dollar sign."
    condition: all
    regex_type: pcre2
    rules:
      - 'f:/root/.profile -> r:PS1=.*\$word'
  - id: 502
    name: "An undefined $word in content is text, not a variable."
    condition: all
    regex_type: pcre2
    rules:
      - 'f:/root/.profile -> r:cost \$word|^PRICE=\d+\$?$'
  - id: 503
    name: 'pam_unix hashes with yescrypt (\H, a PCRE2 class).'
    condition: all
    regex_type: pcre2
    rules:
      - 'f:$pam -> r:^\h*password\h+\H+\h+pam_unix\.so\h.*yescrypt'
  - id: 504
    name: "Digits through a POSIX class."
    condition: all
    regex_type: pcre2
    rules:
      - 'f:/etc/debian_version -> r:^[[:digit:]]+\.[[:digit:]]+$'
  - id: 505
    title: "An old policy names its check with title."
    condition: all
    rules:
      - 'f:/etc/shadow'
"""

ROOT = {
    "etc/debian_version": "12.5\n",
    "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION="12"\n',
    "etc/passwd": "root:x:0:0:root:/root:/bin/bash\n",
    "root/.profile": "PATH=/usr/sbin:/usr/bin\nPS1='\\u$word '\nPRICE=10$\n",
    "etc/pam.d/common-password": "password\trequired\tpam_unix.so obscure yescrypt\n",
}


def _write(tmp_path: Path, files: dict[str, str], policy: str = POLICY) -> tuple[Path, Path]:
    root = tmp_path / "root"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    path = tmp_path / "policy.yml"
    path.write_text(policy, encoding="utf-8")
    return path, root


def test_a_current_policy_runs_on_an_offline_root_with_names(tmp_path: Path) -> None:
    policy_path, root = _write(tmp_path, ROOT)
    policy = load_policy(policy_path)
    run_ = run_policy(policy, OfflineTarget(root))
    assert run_.incomplete == ""
    res = {r.check.id.rsplit(".", 1)[1]: r for r in run_.results}
    assert res["500"].check.title == "Root's PATH holds no empty entry."
    assert res["505"].check.title == "An old policy names its check with title."
    refs = {(r.kind, r.id) for r in res["500"].check.references}
    assert {(RefKind.NIST, "CM-6"), (RefKind.ISO27001, "A.12.1.1"), (RefKind.ATTACK, "T1574")} <= refs
    status = {k: r.status for k, r in res.items()}
    assert status == {
        "500": CheckStatus.PASS,
        "501": CheckStatus.PASS,  # \$word: a literal dollar, not an undefined variable
        "502": CheckStatus.PASS,
        "503": CheckStatus.PASS,
        "504": CheckStatus.PASS,
        "505": CheckStatus.FAIL,  # no /etc/shadow in this root
    }
    assert res["503"].evidence[0].line == 1


def test_the_same_policy_fails_where_the_root_breaks_it(tmp_path: Path) -> None:
    broken = dict(ROOT)
    broken["root/.profile"] = "PATH=/usr/sbin::/usr/bin\nPS1='\\u word '\n"
    broken["etc/pam.d/common-password"] = "password required pam_unix.so obscure sha512\n"
    policy_path, root = _write(tmp_path, broken)
    res = {
        r.check.id.rsplit(".", 1)[1]: r
        for r in run_policy(load_policy(policy_path), OfflineTarget(root)).results
    }
    assert res["500"].status is CheckStatus.FAIL
    assert res["500"].evidence[0].value == "PATH=/usr/sbin::/usr/bin"
    assert res["501"].status is CheckStatus.FAIL
    assert res["503"].status is CheckStatus.FAIL


def test_the_kernel_type_of_an_offline_root_is_known_but_other_proc_files_are_not(tmp_path: Path) -> None:
    policy = POLICY.replace(
        '"f:/proc/sys/kernel/ostype -> r:Linux"', '"f:/proc/sys/kernel/ostype -> r:Darwin"'
    )
    policy_path, root = _write(tmp_path, ROOT, policy)
    run_ = run_policy(load_policy(policy_path), OfflineTarget(root))
    assert "are not met" in run_.incomplete  # decided: a Linux root is not Darwin
    assert {r.status for r in run_.results} == {CheckStatus.NOT_APPLICABLE}

    policy = POLICY.replace('"f:/proc/sys/kernel/ostype -> r:Linux"', '"f:/proc/cpuinfo -> r:flags"')
    policy_path, root = _write(tmp_path, ROOT, policy)
    run_ = run_policy(load_policy(policy_path), OfflineTarget(root))
    assert "cannot be evaluated on this offline target" in run_.incomplete
    assert "/proc/cpuinfo" in run_.incomplete


def test_import_sca_exits_3_loudly_when_nothing_was_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = POLICY.replace('"f:/proc/sys/kernel/ostype -> r:Linux"', '"f:/proc/cpuinfo -> r:flags"')
    policy_path, root = _write(tmp_path, ROOT, policy)
    args = ["baseline", "import-sca", str(policy_path), "--target", f"offline:{root}", "--format", "json"]
    assert run(args) == 3
    captured = capsys.readouterr()
    said = " ".join(captured.err.split())  # the console wraps long lines
    assert "NOTHING CHECKED" in said
    assert "cannot be evaluated on this offline target: /proc/cpuinfo" in said
    assert "cannot be evaluated" in json.loads(captured.out)["incomplete"]
    assert run([*args, "--allow-undecided"]) == 0  # all n/a, nothing failed: as the user asked
    assert "ignored (--allow-undecided)" in " ".join(capsys.readouterr().err.split())
    # the requirements hold: real results, exit 1 for the failing check
    good_policy, _ = _write(tmp_path / "ok", ROOT)
    assert run(["baseline", "import-sca", str(good_policy), "--target", f"offline:{root}"]) == 1
    assert "NOTHING CHECKED" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("pcre", "hits", "misses"),
    [
        (r"^\h*key\h*=\h*\H+$", ["  key =\tv", "key=v"], ["key = ", "key\n= v"]),
        (r"^[[:alpha:]_]+[[:space:]]*$", ["ab_ ", "Z"], ["a1", ""]),
        (r"^\Qa.b*\E$", ["a.b*"], ["axb*", "a.bb"]),
        (r"(?<key>\w+)=\k<key>", ["x=x"], ["x=y"]),
        (r"^a(?i)B$", ["ab", "AB"], ["a"]),
        (r"[]x]+", ["]x]"], ["y"]),
        (r"\x{41}\z", ["A"], ["B"]),
        (r"[a&&b]", ["&"], ["c"]),
        # nothing to repeat: the character itself, as OS_Regex-era policies write it
        (r"* hard core 0", ["* hard core 0x", "x* hard core 0"], ["@staff hard core 0", " hard core 0"]),
        (r"^+x|*y", ["+x", "a*y"], ["x", "y", "a+x"]),
        (r"a*b", ["b", "aab"], ["a*"]),
        # OS_Regex's \p (punctuation), as older stock policies write it; PCRE2 has no bare \p
        (r"^\w+:\p:", ["daemon:*:19000", "svc:!:1"], ["root:$y$j9T$abc:1", "x:a:"]),
        (r"[a\p]x", ["%x", "ax", "{x"], ["bx"]),
        (r"^x\.**lo$", ["x..lo", "xlo"], ["x lo"]),  # PCRE2's \. is a dot (OS_Regex's was any character)
        (r"a\**b", ["ab", "a**b"], ["a-b"]),
    ],
)
def test_pcre_translation(pcre: str, hits: list[str], misses: list[str]) -> None:
    rx = compile_pcre(pcre)
    for text in hits:
        assert rx.search(text), (pcre, translate(pcre), text)
    for text in misses:
        assert not rx.search(text), (pcre, translate(pcre), text)


@pytest.mark.parametrize("pcre", [r"a\Kb", r"[\H]", r"[[:^digit:]]", r"[[:nope:]]", r"(unclosed", r"\pL"])
def test_pcre_we_cannot_translate_is_refused(pcre: str) -> None:
    with pytest.raises(PcreUnsupported):
        compile_pcre(pcre)
    assert re.escape("x")  # the module stays importable and usable after a refusal


DEBIAN_POLICY = r"""
policy: {id: city_root, name: "Checks on the real Debian 12 root"}
requirements:
  name: "Debian 12 on Linux"
  condition: all
  rules:
    - 'f:/etc/debian_version -> r:^12\.'
    - 'f:/proc/sys/kernel/ostype -> r:Linux'
    - 'f:/etc/os-release -> r:NAME= && r:Debian'
    - 'f:/etc/os-release -> r:VERSION= && r:12'
checks:
  - id: 1
    name: "Passwords expire within a year."
    condition: all
    rules: ['f:/etc/login.defs -> n:^PASS_MAX_DAYS\h+(\d+) compare <= 365']
  - id: 2
    name: "root has a shadowed password entry."
    condition: all
    rules: ['f:/etc/passwd -> r:^root:x:0:0:']
"""


@pytest.mark.slow
def test_a_debian_policy_decides_on_the_real_offline_root(debian_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(DEBIAN_POLICY, encoding="utf-8")
    run_ = run_policy(load_policy(path), OfflineTarget(debian_root))
    assert run_.incomplete == ""
    res = {r.check.title: r for r in run_.results}
    expiry = res["Passwords expire within a year."]
    assert expiry.status is CheckStatus.FAIL
    assert expiry.evidence[0].file == "/etc/login.defs"
    assert res["root has a shadowed password entry."].status is CheckStatus.PASS


# A bare '*' with nothing to repeat, as older stock policies write the limits.conf wildcard domain.
LIMITS_POLICY = r"""
policy: {id: city_limits, name: "Core dumps limited for every user"}
checks:
  - id: 1
    title: "Every user has a hard core limit of 0."
    condition: any
    rules:
      - 'f:/etc/security/limits.conf -> r:* hard core 0'
      - 'd:/etc/security/limits.d -> r:\.conf$ -> r:* hard core 0'
"""


@pytest.mark.parametrize(
    ("conf", "status"),
    [
        ("# the city rule\n* hard core 0\n", "pass"),
        ("*\thard\tcore\t0\n", "fail"),  # tabs: the pattern asks for single spaces
        ("@staff hard core 0\n", "fail"),  # one group only, not every user
        ("#* hard core 0\n", "pass"),  # the stock rule does not exclude comments: we match as written
    ],
)
def test_a_bare_star_is_the_wildcard_domain_not_a_regex_error(tmp_path: Path, conf: str, status: str) -> None:
    root = tmp_path / "root"
    (root / "etc" / "security" / "limits.d").mkdir(parents=True)
    (root / "etc" / "security" / "limits.conf").write_text(conf, encoding="utf-8")
    path = tmp_path / "policy.yml"
    path.write_text(LIMITS_POLICY, encoding="utf-8")
    (res,) = run_policy(load_policy(path), OfflineTarget(root)).results
    assert res.status.value == status, res.reason


# The operator touching its number, as older stock policies write it.
COMPARE_POLICY = r"""
policy: {id: city_lockout, name: "Lockout after few failures"}
checks:
  - id: 1
    title: "At most 5 failures before lockout."
    condition: all
    rules: ['f:/etc/security/faillock.conf -> n:^deny\s*=\s*(\d+) compare <=5']
"""


@pytest.mark.parametrize(("deny", "status"), [("3", "pass"), ("5", "pass"), ("6", "fail")])
def test_a_compare_operator_may_touch_its_number(tmp_path: Path, deny: str, status: str) -> None:
    root = tmp_path / "root"
    (root / "etc" / "security").mkdir(parents=True)
    (root / "etc" / "security" / "faillock.conf").write_text(f"deny = {deny}\n", encoding="utf-8")
    path = tmp_path / "policy.yml"
    path.write_text(COMPARE_POLICY, encoding="utf-8")
    (res,) = run_policy(load_policy(path), OfflineTarget(root)).results
    assert res.status.value == status, res.reason


STOCK = Path(os.environ.get("SECAUDIT_WAZUH_POLICY", "/tmp/wazuh/cis_debian12.yml"))


@pytest.mark.slow
def test_the_stock_wazuh_debian_policy_on_the_real_root(debian_root: Path) -> None:
    """Wazuh's own GPL policy is never shipped: this runs only where someone put a copy."""
    if not STOCK.is_file():
        pytest.skip(f"no stock Wazuh policy at {STOCK} (set SECAUDIT_WAZUH_POLICY to run this)")
    run_ = run_policy(load_policy(STOCK), OfflineTarget(debian_root))
    assert run_.incomplete == ""  # its requirements (Debian 12 on Linux) hold on this root
    statuses = [r.status for r in run_.results]
    assert CheckStatus.PASS in statuses and CheckStatus.FAIL in statuses
    assert all(r.check.title for r in run_.results)
    bad_regex = [r.reason for r in run_.results if r.status is CheckStatus.ERROR and "regex" in r.reason]
    assert bad_regex == []
