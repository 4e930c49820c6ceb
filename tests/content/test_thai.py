"""Every item of our own content has its Thai beside the English, and the Thai is Thai.

Shipped baselines (every own check), exposure rules, own Sigma rules, the passive-discovery findings
made in code, and the risk model's factor and decision wording: each title, explanation and
remediation must exist and contain Thai script. Commands and paths the English remediation quotes in
backticks or as ``/etc/...`` paths are kept as they are in the Thai.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.baseline import baseline_ids, load_baseline
from secaudit.catalog.localtext import has_thai
from secaudit.core.model import LocalText
from secaudit.detect.explain import TACTIC_TH
from secaudit.detect.lint import default_rules_path, lint_paths
from secaudit.detect.loader import load_rules as load_sigma
from secaudit.report.i18n import FACTOR_TEXT, labels
from secaudit.scan import load_rules
from secaudit.scan.flows import load_flow_policy
from secaudit.scan.passive import Credential, Flow, IcsOperation, PassiveResult
from secaudit.scan.passive_findings import passive_findings
from tests.report.conftest import make_profile

PLACEHOLDERS = {"ot_engineering_workstations": ["127.20.2.5"]}  # the OT rules load only with it
PATH = re.compile(r"(?<![\w.])/(?:etc|var|usr|boot|proc|lib|run)/[\w./*-]+")


def _thai(texts: tuple[LocalText, ...], what: str) -> LocalText:
    [text] = [t for t in texts if t.lang == "th"] or [None]
    assert text is not None, f"{what} has no Thai"
    for part in ("title", "description", "remediation"):
        value = getattr(text, part)
        assert value and has_thai(value), f"{what}: Thai {part} {value!r} has no Thai script"
    return text


def _keeps_paths(english: str, thai: str, what: str) -> None:
    """A file path the English remediation names appears in the Thai as it is."""
    for path in PATH.findall(english):
        assert path.rstrip(".") in thai, f"{what}: the Thai remediation lost {path!r}"


@pytest.mark.parametrize("baseline_id", baseline_ids())
def test_every_own_check_of_the_baseline_has_thai(baseline_id: str) -> None:
    baseline = load_baseline(baseline_id)
    own = [c for c in baseline.checks if c.location.startswith(baseline.path)]
    assert own
    for check in own:
        text = _thai(check.texts, f"{baseline_id}: {check.id}")
        _keeps_paths(check.remediation, text.remediation, f"{baseline_id}: {check.id}")


def test_every_shipped_exposure_rule_has_thai() -> None:
    rules, errors = load_rules()
    assert errors == [] and len(rules) >= 14
    for rule in rules:
        _thai(rule.texts, rule.id)


def test_every_own_sigma_rule_has_thai_and_lints_clean(tmp_path: Path) -> None:
    ruleset = load_sigma([default_rules_path()], cache_dir=tmp_path, placeholders=PLACEHOLDERS)
    infos = [*ruleset.rules, *ruleset.correlation_rules]
    assert len(infos) == 23
    assert [p.reason for p in ruleset.problems if "Thai" in p.reason] == []
    for info in infos:
        _thai(info.texts, f"{info.title} ({info.location})")
    assert [p for p in lint_paths([default_rules_path()]).problems if p.check == "thai"] == []


def test_every_passive_finding_has_thai() -> None:
    profile = make_profile()
    result = PassiveResult(
        ics=[
            IcsOperation(
                client="127.10.0.9",
                server="127.20.0.11",
                protocol="modbus",
                unit=1,
                function=6,
                name="write single register",
                write=True,
                count=3,
            )
        ],
        credentials=[
            Credential(
                protocol="telnet",
                client="127.10.0.9",
                server="127.20.0.11",
                port=23,
                user="admin",
                secret="x",
            ),
            Credential(
                protocol="ftp", client="127.10.0.9", server="127.20.0.11", port=21, user="", secret="x"
            ),
            Credential(
                protocol="snmp",
                client="127.10.0.9",
                server="127.20.0.11",
                port=161,
                user="",
                secret="public",
                detail="SNMPv2c default community",
            ),
        ],
        flows=[
            Flow(
                client="127.40.0.5",
                server="127.20.0.11",
                protocol="tcp",
                port=502,
                service="modbus",
                packets=4,
                bytes=240,
            )
        ],
    )
    policy = load_flow_policy(None, profile)
    found = passive_findings(
        result, profile=profile, policy=policy, observed_at=datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert {f.rule_id for f in found} == {
        "PASSIVE-MODBUS-WRITE",
        "PASSIVE-CLEARTEXT-CREDENTIALS",
        "PASSIVE-SNMP-COMMUNITY",
        "PASSIVE-FLOW-NOT-ALLOWED",
    }
    for finding in found:
        text = _thai(finding.texts, f"{finding.rule_id} {finding.evidence_key}")
        for address in re.findall(r"127\.\d+\.\d+\.\d+", finding.description):
            assert address in text.description, f"{finding.rule_id}: the Thai lost {address}"
    snmp = next(f for f in found if f.rule_id == "PASSIVE-SNMP-COMMUNITY")
    assert "ค่าเริ่มต้น" in snmp.text_in("th").title  # the default-community variant is said in Thai too


# One term per idea (../shared/THAI-GLOSSARY.md): words that say a glossary idea another way.
NOT_THE_GLOSSARY_TERM = {
    "ผู้บุกรุก": "ผู้โจมตี",
    "ค่าตั้ง": "การตั้งค่า",
    "การพิสูจน์ตัวตน": "การยืนยันตัวตน",
    "พาสเวิร์ด": "รหัสผ่าน",
    "ยูสเซอร์": "ผู้ใช้ / บัญชีผู้ใช้",
    "แอดมิน": "ผู้ดูแลระบบ",
    "แพทช์": "แพตช์",
    "อัพเดต": "อัปเดต",
    "อัพเดท": "อัปเดต",
    "ไฟวอลล์": "ไฟร์วอลล์",
    "เซอร์ทิฟิเคต": "ใบรับรองดิจิทัล",
    "การเปิดเผยต่อเครือข่าย": "การเปิดให้เข้าถึงทางเครือข่าย",
}


def _all_thai(tmp_path: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for baseline_id in baseline_ids():
        for check in load_baseline(baseline_id).checks:
            for t in check.texts:
                texts[f"{baseline_id}: {check.id}"] = f"{t.title} {t.description} {t.remediation}"
    for rule in load_rules()[0]:
        for t in rule.texts:
            texts[rule.id] = f"{t.title} {t.description} {t.remediation}"
    ruleset = load_sigma([default_rules_path()], cache_dir=tmp_path, placeholders=PLACEHOLDERS)
    for info in [*ruleset.rules, *ruleset.correlation_rules]:
        for t in info.texts:
            texts[info.location] = f"{t.title} {t.description} {t.remediation}"
    texts.update({f"label {k}": v for k, v in labels("th").items()})
    texts.update({f"factor {k}": v["th"] for k, v in FACTOR_TEXT.items()})
    texts.update({f"tactic {k}": v for k, v in TACTIC_TH.items()})
    return texts


def test_shipped_thai_uses_the_glossary_term_for_each_idea(tmp_path: Path) -> None:
    texts = _all_thai(tmp_path)
    assert len(texts) > 400
    wrong = [
        f"{where}: '{word}' (the glossary says '{term}')"
        for where, text in texts.items()
        for word, term in NOT_THE_GLOSSARY_TERM.items()
        if word in text
    ]
    assert wrong == []
