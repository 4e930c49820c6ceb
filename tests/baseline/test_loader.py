"""Baseline files are validated at load; every error names file:line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.baseline import baseline_ids, load_baseline, load_baseline_file
from secaudit.core.errors import ConfigError

GOOD_CHECK = """
  - id: t-root-login
    title: root cannot log in over SSH
    rationale: test
    section: "5.1 SSH"
    severity: high
    references: {cis: ["Debian 12 5.1.20"]}
    probe: {type: sshd_setting, setting: permitrootlogin}
    expect: {equals: "no"}
    remediation: set it
"""


def _write(tmp_path: Path, checks: str, name: str = "t") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"id: {name}\ntitle: T\nversion: '1'\napplies_to: tests\nchecks:{checks}", encoding="utf-8"
    )
    return path


def test_shipped_baselines_load_with_stable_unique_ids() -> None:
    assert baseline_ids() == [
        "cisco-ios",
        "debian12-server",
        "docker-host",
        "nginx",
        "openssh-server",
        "postgresql",
        "ubuntu-server",
        "ubuntu2404-server",
    ]
    debian = load_baseline("debian12-server")
    ids = [c.id for c in debian.checks]
    assert len(ids) == len(set(ids)) >= 180
    assert debian.check("ssh-permit-root-login") is not None  # included from openssh-server
    assert all(c.cis_ids or c.references for c in debian.checks)
    assert load_baseline("cisco-ios").check("ios-vty-ssh-only").targets == ("file",)


def test_a_good_file_loads(tmp_path: Path) -> None:
    b = load_baseline_file(_write(tmp_path, GOOD_CHECK))
    check = b.checks[0]
    assert check.id == "t-root-login"
    assert check.targets == ("offline", "file", "local", "ssh")
    assert check.subject == "sshd_setting:permitrootlogin"
    assert check.location == f"{tmp_path / 't.yaml'}:6"


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        (
            "type: sshd_setting",
            "type: sshd_settings",
            "unknown probe 'sshd_settings' (did you mean 'sshd_setting'?)",
            12,
        ),
        (
            "setting: permitrootlogin",
            "settin: permitrootlogin",
            "unknown key 'settin' in sshd_setting (did you mean 'setting'?)",
            12,
        ),
        (
            'expect: {equals: "no"}',
            "expect: {equal: x}",
            "unknown key 'equal' in expect (did you mean 'equals'?)",
            13,
        ),
        ('expect: {equals: "no"}', "expect: {equals: no}", "'equals' is a boolean here", 13),
        ("severity: high", "severity: urgent", "unknown severity 'urgent'", 10),
        ('references: {cis: ["Debian 12 5.1.20"]}', "references: {nist: [AC-6]}", "must cite a CIS", 6),
        ("id: t-root-login", "id: T_Root", "must be lower-case words", 6),
        ('expect: {equals: "no"}', "expect: {matches: '(unclosed'}", "invalid regular expression", 13),
        ("    remediation: set it\n", "", "missing key 'remediation'", 6),
    ],
)
def test_errors_name_the_line_and_the_fix(
    tmp_path: Path, old: str, new: str, message: str, line: int
) -> None:
    assert old in GOOD_CHECK
    path = _write(tmp_path, GOOD_CHECK.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_baseline_file(path)
    assert message in info.value.message
    assert info.value.location == f"{path}:{line}"


def test_duplicate_ids_and_misnamed_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate check id 't-root-login'"):
        load_baseline_file(_write(tmp_path, GOOD_CHECK + GOOD_CHECK))
    path = _write(tmp_path, GOOD_CHECK)
    other = tmp_path / "other.yaml"
    other.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError, match="must match the file name 'other'"):
        load_baseline_file(other)
    with pytest.raises(
        ConfigError, match="unknown baseline 'debian12-servr' \\(did you mean 'debian12-server'\\?\\)"
    ):
        load_baseline("debian12-servr")


def test_a_probe_targets_limit_the_check(tmp_path: Path) -> None:
    narrowed = _write(
        tmp_path, GOOD_CHECK.replace("    remediation:", "    targets: [offline, ssh]\n    remediation:")
    )
    assert load_baseline_file(narrowed).checks[0].targets == ("offline", "ssh")
    live = GOOD_CHECK.replace("type: sshd_setting,", "type: sshd_effective,")
    path = _write(tmp_path, live.replace("    remediation:", "    targets: [offline, ssh]\n    remediation:"))
    with pytest.raises(ConfigError, match="target kind 'offline' is not supported by this check's probes"):
        load_baseline_file(path)
    assert load_baseline_file(_write(tmp_path, live)).checks[0].targets == ("local", "ssh")
