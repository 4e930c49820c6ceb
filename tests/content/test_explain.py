"""A SigmaHQ rule keeps its English title; the Thai report explains it in Thai from what it declares."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.app.detect import _Group, group_finding
from secaudit.catalog.localtext import has_thai
from secaudit.core.model import Asset
from secaudit.detect.explain import LEVEL_TH, TACTIC_TH, explain_th, tactics, techniques
from secaudit.detect.lint_checks import TACTICS
from secaudit.detect.loader import load_rules
from secaudit.detect.model import RuleInfo
from tests.conftest import SHARED

SIGMAHQ = SHARED / "sigmahq" / "rules"
FOLDERS = ("linux/auditd", "windows/builtin/security", "windows/registry/registry_set")

pytestmark = pytest.mark.skipif(not SIGMAHQ.is_dir(), reason="the SigmaHQ checkout in ../shared is absent")


def test_every_attack_tactic_the_linter_knows_has_a_thai_name() -> None:
    assert set(TACTIC_TH) == set(TACTICS)
    assert all(has_thai(name) for name in TACTIC_TH.values())
    assert TACTIC_TH["persistence"] == "การฝังตัวในระบบ"  # the glossary's terms
    assert TACTIC_TH["lateral-movement"] == "การเคลื่อนย้ายภายในเครือข่าย"


def test_sigmahq_rules_get_a_thai_explanation_from_their_own_metadata(tmp_path: Path) -> None:
    ruleset = load_rules([SIGMAHQ / f for f in FOLDERS], cache_dir=tmp_path)
    infos = [*ruleset.rules, *ruleset.correlation_rules]
    assert len(infos) > 100
    for info in infos:
        assert info.texts == ()  # SigmaHQ rules carry no Thai of their own
        thai = explain_th(info)
        assert thai.title == info.title  # the author's English title is kept
        assert has_thai(thai.description) and has_thai(thai.remediation)
        assert f"ความรุนแรงตามที่กฎกำหนด: {LEVEL_TH[info.level]}" in thai.description
        for tactic in tactics(info):
            assert f"{TACTIC_TH[tactic]} ({tactic})" in thai.description
        for technique in techniques(info):
            assert technique in thai.description
        if info.product:
            assert f"ผลิตภัณฑ์ {info.product}" in thai.description


def test_a_detection_finding_carries_the_thai_explanation() -> None:
    rule = RuleInfo(
        id="0f06a3a5-6a09-413f-8743-e6cf35561297",
        title="Service Installed By Unusual Client",
        level="high",
        author="Tim Rauch",
        tags=("attack.privilege-escalation", "attack.t1543"),
        product="windows",
        service="system",
        location="sigmahq/rules/windows/builtin/system/x.yml:1",
    )
    group = _Group(
        rule=rule,
        asset=Asset(key="op-ws-01"),
        count=3,
        first=datetime(2026, 11, 20, 22, 0, tzinfo=UTC),
        last=datetime(2026, 11, 20, 22, 5, tzinfo=UTC),
    )
    finding = group_finding(group)
    thai = finding.text_in("th")
    assert thai.title == "Service Installed By Unusual Client"
    assert "การยกระดับสิทธิ์ (privilege-escalation)" in thai.description
    assert "T1543" in thai.description and "บริการ system" in thai.description
    assert "ตรงกับกฎ 3 ครั้ง" in thai.description and "Tim Rauch" in thai.description
    assert finding.text_in("en").description == finding.description  # the English is untouched
