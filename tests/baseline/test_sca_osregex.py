"""Wazuh reads a rule's regex with OS_Regex unless the check (or its policy) says ``regex_type: pcre2``.
In OS_Regex ``\\.`` is any character and a plain ``.`` is a dot, ``\\s`` a space, ``\\p`` punctuation:
read with PCRE2 semantics, a policy written for OS_Regex gives false fails, and through a ``none``
condition could give a false pass. These are our own checks in both engines' syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.baseline import CheckStatus, OfflineTarget
from secaudit.baseline.pcre import PcreUnsupported, compile_osregex
from secaudit.baseline.sca import load_policy, run_policy


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        (r"\.+.rules$", ["audit.rules", "10-base.rules"], ["auditxrules", "rules"]),  # \. any, . a dot
        (r"^\s*PermitRootLogin\s+no", ["  PermitRootLogin no"], ["\tPermitRootLogin no"]),  # \s: a space
        (r"^\w+:\p:", ["daemon:*:19000", "svc-1:!:x"], ["root:x:0", "a b:*:"]),
        (r"^(\d+)\.\d", ["12.4"], ["x12"]),
        (r"\$HOME|^umask 0\d7", ["cd $HOME", "umask 027"], ["HOME", "umask 022"]),
        (r"a[b]?", ["a[b]?"], ["ab"]),  # no classes or ? in OS_Regex: they are the characters
        (r"*ssh", ["*ssh"], ["ssh"]),  # nothing to repeat: the star itself
        (r"lo\.**\.*0/0", ["lo    *    0/0"], ["lo 0/0"]),  # a second star is a star (iptables' "*")
    ],
)
def test_osregex_means_what_wazuh_means(pattern: str, matches: list[str], misses: list[str]) -> None:
    rx = compile_osregex(pattern)
    assert [m for m in matches if not rx.search(m)] == []
    assert [m for m in misses if rx.search(m)] == []


def test_a_lone_backslash_is_refused() -> None:
    with pytest.raises(PcreUnsupported, match="lone backslash"):
        compile_osregex("abc\\")


POLICY = r"""
policy: {id: engines, name: Both regex engines}
checks:
  - id: 1
    title: Audit rules exist (OS_Regex, the default)
    condition: all
    rules: ['d:/etc/audit/rules.d -> r:\.+.rules$']
  - id: 2
    title: The same pattern read as PCRE2 needs a dot before "rules" that is not there
    regex_type: pcre2
    condition: all
    rules: ['d:/etc/audit/rules.d -> r:\.+.rules$']
  - id: 3
    title: No sudoers drop-in grants NOPASSWD (a none condition over an OS_Regex name filter)
    condition: none
    rules: ['d:/etc/sudoers.d -> r:\.* -> r:NOPASSWD']
  - id: 4
    title: PCRE2 by check
    regex_type: pcre2
    condition: all
    rules: ['f:/etc/login.defs -> r:^UMASK\h+0[0-7]7$']
  - id: 5
    title: An unknown engine is an error of this check only
    regex_type: perl
    condition: all
    rules: ['f:/etc/login.defs']
"""


def test_each_check_reads_its_regexes_with_its_engine(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/audit/rules.d").mkdir(parents=True)
    (root / "etc/audit/rules.d/audit.rules").write_text("-w /etc/passwd -p wa\n", encoding="utf-8")
    (root / "etc/sudoers.d").mkdir()
    (root / "etc/sudoers.d/operators").write_text("somchai ALL=(ALL) NOPASSWD: ALL\n", encoding="utf-8")
    (root / "etc/login.defs").write_text("UMASK\t027\n", encoding="utf-8")
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    run = run_policy(load_policy(policy), OfflineTarget(root))
    status = {r.check.id.rsplit(".", 1)[1]: r.status for r in run.results}
    assert status == {
        "1": CheckStatus.PASS,
        "2": CheckStatus.FAIL,
        # read as PCRE2, "\.*" would match only names holding a dot: the NOPASSWD file would be
        # skipped and the none condition pass; as OS_Regex every name matches and the grant is seen
        "3": CheckStatus.FAIL,
        "4": CheckStatus.PASS,
        "5": CheckStatus.ERROR,
    }
