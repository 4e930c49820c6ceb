"""The ``th:`` block beside the English: accepted and carried by every content loader, refused with
file:line when it is wrong (unknown key, missing key, no Thai script, not a mapping)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.baseline import load_baseline_file
from secaudit.catalog.localtext import has_thai
from secaudit.core.errors import ConfigError
from secaudit.core.model import Asset, Finding, LocalText, Severity, Source
from secaudit.core.serialize import finding_from_dict, finding_to_dict
from secaudit.detect.lint import lint_paths
from secaudit.scan import load_rule_file
from tests.detect.helpers import load_text, rule_text

CHECK = """
  - id: t-root-login
    title: root cannot log in over SSH
    rationale: test
    severity: high
    references: {cis: ["Debian 12 5.1.20"]}
    probe: {type: sshd_setting, setting: permitrootlogin}
    expect: {equals: "no"}
    remediation: set PermitRootLogin no
"""
CHECK_TH = """    th:
      title: ห้ามผู้ใช้ root เข้าสู่ระบบผ่าน SSH
      rationale: >
        บัญชี root มีสิทธิ์สูงสุด
        การเข้าสู่ระบบโดยตรงทำให้ตรวจสอบย้อนหลังไม่ได้
      remediation: ตั้งค่า "PermitRootLogin no" ใน /etc/ssh/sshd_config
"""


def _baseline(tmp_path: Path, th: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(f"id: t\ntitle: T\nversion: '1'\napplies_to: tests\nchecks:{CHECK}{th}", encoding="utf-8")
    return path


def test_has_thai() -> None:
    assert has_thai("ปิดบริการ telnet")
    assert not has_thai("PermitRootLogin no")
    assert not has_thai("")


def test_baseline_check_carries_its_thai(tmp_path: Path) -> None:
    check = load_baseline_file(_baseline(tmp_path, CHECK_TH)).checks[0]
    assert check.texts == (
        LocalText(
            lang="th",
            title="ห้ามผู้ใช้ root เข้าสู่ระบบผ่าน SSH",
            description="บัญชี root มีสิทธิ์สูงสุด การเข้าสู่ระบบโดยตรงทำให้ตรวจสอบย้อนหลังไม่ได้",
            remediation='ตั้งค่า "PermitRootLogin no" ใน /etc/ssh/sshd_config',
        ),
    )


def test_baseline_check_without_thai_loads_in_english_only(tmp_path: Path) -> None:
    assert load_baseline_file(_baseline(tmp_path, "")).checks[0].texts == ()


@pytest.mark.parametrize(
    ("th", "line", "message"),
    [
        (CHECK_TH + "      description: x\n", 20, "unknown key 'description' in th of check t-root-login"),
        (CHECK_TH.replace("      remediation:", "      remedy:"), 19, "unknown key 'remedy'"),
        ("    th:\n      title: ชื่อ\n      rationale: เหตุผล\n", 15, "missing key 'remediation'"),
        (CHECK_TH.replace("ห้ามผู้ใช้ root เข้าสู่ระบบผ่าน SSH", "root cannot log in"), 15, "th title has no Thai"),
        (CHECK_TH.replace('ตั้งค่า "PermitRootLogin no" ใน', '""  #'), 19, "th remediation must be non-empty"),
        ("    th: ห้าม root\n", 14, "'th' must be a mapping"),
    ],
)
def test_baseline_thai_errors_name_the_line(tmp_path: Path, th: str, line: int, message: str) -> None:
    path = _baseline(tmp_path, th)
    with pytest.raises(ConfigError) as info:
        load_baseline_file(path)
    assert message in info.value.message
    assert info.value.location == f"{path}:{line}"


RULE = """rules:
  - id: EXP-T
    title: Telnet reachable
    severity: high
    description: Telnet sends passwords in clear text.
    remediation: Turn telnet off.
    match: {protocol: tcp, ports: [23]}
"""


def test_exposure_rule_carries_its_thai(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        RULE + "    th:\n      title: เปิดบริการ telnet\n      description: telnet ส่งรหัสผ่านโดยไม่เข้ารหัส\n"
        "      remediation: ปิดบริการ telnet แล้วใช้ SSH แทน\n",
        encoding="utf-8",
    )
    [rule] = load_rule_file(path)
    assert rule.texts == (
        LocalText(
            lang="th",
            title="เปิดบริการ telnet",
            description="telnet ส่งรหัสผ่านโดยไม่เข้ารหัส",
            remediation="ปิดบริการ telnet แล้วใช้ SSH แทน",
        ),
    )


def test_exposure_rule_thai_uses_description_not_rationale(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        RULE
        + "    th:\n      title: เปิดบริการ telnet\n      rationale: เหตุผล\n      remediation: ปิด telnet\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_rule_file(path)
    assert "unknown key 'rationale' in th of rule EXP-T" in info.value.message
    assert info.value.location == f"{path}:10"


SIGMA_TH = (
    "th:\n    title: ทดสอบการตรวจจับ\n    description: ตรวจพบการรันโปรแกรม a.exe\n"
    "    remediation: ตรวจสอบเครื่องที่รันโปรแกรม\n"
)


def test_sigma_rule_carries_its_thai_and_lints_clean(tmp_path: Path) -> None:
    text = rule_text("sel:\n  Image|endswith: '\\a.exe'\ncondition: sel") + SIGMA_TH
    ruleset = load_text(tmp_path, text)
    assert ruleset.problems == ()
    [info] = [p.info for p in ruleset.plans]
    assert info.texts == (
        LocalText(
            lang="th",
            title="ทดสอบการตรวจจับ",
            description="ตรวจพบการรันโปรแกรม a.exe",
            remediation="ตรวจสอบเครื่องที่รันโปรแกรม",
        ),
    )
    assert lint_paths([tmp_path / "rules"]).problems == ()


def test_sigma_rule_with_bad_thai_loads_in_english_and_says_why(tmp_path: Path) -> None:
    text = rule_text("sel:\n  Image|endswith: '\\a.exe'\ncondition: sel") + SIGMA_TH.replace(
        "ตรวจพบการรันโปรแกรม a.exe", "a.exe ran"
    )
    ruleset = load_text(tmp_path, text)
    [info] = [p.info for p in ruleset.plans]
    assert info.texts == ()
    [problem] = ruleset.problems
    assert "th description has no Thai script" in problem.reason
    assert not problem.skipped  # the rule still runs: a hunt's --fail-on does not count it as lost
    [lint] = lint_paths([tmp_path / "rules"]).problems
    assert lint.line == 15 and "th description has no Thai script" in lint.message


def test_finding_texts_survive_serialization_and_stay_out_of_identity() -> None:
    thai = LocalText(lang="th", title="ชื่อ", description="คำอธิบาย", remediation="วิธีแก้ไข")
    plain = Finding(
        rule_id="R-1",
        source=Source.SCAN,
        severity=Severity.HIGH,
        title="Title",
        asset=Asset(key="a"),
        description="Why",
        remediation="Fix",
        observed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    with_thai = Finding(**{**{f: getattr(plain, f) for f in plain.__dataclass_fields__}, "texts": (thai,)})
    assert with_thai == plain and with_thai.fingerprint == plain.fingerprint
    back = finding_from_dict(finding_to_dict(with_thai))
    assert back.texts == (thai,)
    assert back.text_in("th") == thai
    assert back.text_in("en").title == "Title"
    assert "texts" not in finding_to_dict(plain)
