"""A Thai explanation of a Sigma rule that has no Thai of its own (SigmaHQ's, a user's), built only
from what the rule declares: its level, its ATT&CK tactics and techniques, its log source.

The rule's title stays English, as its author wrote it; the explanation says in Thai what kind of
activity it looks for, so no finding in the Thai report is without Thai text. Technique ids stay as
ATT&CK writes them (``T1110.001``): their names would need MITRE's data, which is never fetched;
each tactic is glossed in Thai.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from secaudit.core.model import LocalText
from secaudit.detect.model import RuleInfo

LEVEL_TH: Mapping[str, str] = MappingProxyType(
    {
        "informational": "ข้อมูล",
        "low": "ต่ำ",
        "medium": "ปานกลาง",
        "high": "สูง",
        "critical": "วิกฤต",
    }
)

# The ATT&CK tactics (Enterprise, and the three ICS-only ones) in the Thai the glossary fixes.
TACTIC_TH: Mapping[str, str] = MappingProxyType(
    {
        "reconnaissance": "การสอดแนมเป้าหมาย",
        "resource-development": "การเตรียมทรัพยากรสำหรับการโจมตี",
        "initial-access": "การเข้าถึงระบบครั้งแรก",
        "execution": "การสั่งรันโค้ดหรือคำสั่ง",
        "persistence": "การฝังตัวในระบบ",
        "privilege-escalation": "การยกระดับสิทธิ์",
        "defense-evasion": "การหลบเลี่ยงการป้องกัน",
        "stealth": "การซ่อนร่องรอย",
        "defense-impairment": "การทำให้ระบบป้องกันใช้งานไม่ได้",
        "credential-access": "การเข้าถึงข้อมูลรับรอง",
        "discovery": "การสำรวจระบบและเครือข่าย",
        "lateral-movement": "การเคลื่อนย้ายภายในเครือข่าย",
        "collection": "การรวบรวมข้อมูล",
        "command-and-control": "การควบคุมและสั่งการ (C2)",
        "exfiltration": "การลักลอบนำข้อมูลออก",
        "impact": "การสร้างความเสียหายต่อระบบหรือข้อมูล",
        "evasion": "การหลบเลี่ยงการตรวจจับ",
        "inhibit-response-function": "การขัดขวางกลไกตอบสนองด้านความปลอดภัยของระบบควบคุม",
        "impair-process-control": "การรบกวนการควบคุมกระบวนการ",
    }
)

# Log source categories the SigmaHQ rules use most, in Thai; others are shown as written.
CATEGORY_TH: Mapping[str, str] = MappingProxyType(
    {
        "process_creation": "การสร้างโปรเซส",
        "file_event": "การสร้างหรือแก้ไขไฟล์",
        "file_delete": "การลบไฟล์",
        "registry_set": "การตั้งค่ารีจิสทรี",
        "registry_event": "การเปลี่ยนแปลงรีจิสทรี",
        "registry_add": "การเพิ่มคีย์รีจิสทรี",
        "registry_delete": "การลบคีย์รีจิสทรี",
        "image_load": "การโหลดไลบรารี",
        "network_connection": "การเชื่อมต่อเครือข่าย",
        "dns_query": "การสอบถาม DNS",
        "dns": "การสอบถาม DNS",
        "ps_script": "สคริปต์ PowerShell",
        "ps_module": "โมดูล PowerShell",
        "pipe_created": "การสร้าง named pipe",
        "create_remote_thread": "การสร้างเธรดในโปรเซสอื่น",
        "process_access": "การเข้าถึงหน่วยความจำของโปรเซสอื่น",
        "webserver": "บันทึกของเว็บเซิร์ฟเวอร์",
        "proxy": "บันทึกของพร็อกซี",
        "firewall": "บันทึกของไฟร์วอลล์",
        "antivirus": "บันทึกของโปรแกรมป้องกันมัลแวร์",
    }
)


def tactics(rule: RuleInfo) -> list[str]:
    """The ATT&CK tactics a rule's tags name, in tag order (``attack.persistence``)."""
    out = []
    for tag in rule.tags:
        name = tag.lower().removeprefix("attack.")
        if tag.lower().startswith("attack.") and name in TACTIC_TH and name not in out:
            out.append(name)
    return out


def techniques(rule: RuleInfo) -> list[str]:
    """The ATT&CK technique ids a rule's tags name (``T1110.001``)."""
    out = []
    for tag in rule.tags:
        lower = tag.lower()
        if lower.startswith("attack.t") and lower[8:9].isdigit():
            out.append(tag[7:].upper())
    return list(dict.fromkeys(out))


def log_source_th(rule: RuleInfo) -> str:
    """The rule's log source in words: product, then category (in Thai where known), then service."""
    parts = []
    if rule.product:
        parts.append(f"ผลิตภัณฑ์ {rule.product}")
    if rule.category:
        known = CATEGORY_TH.get(rule.category)
        parts.append(f"ประเภท {known} ({rule.category})" if known else f"ประเภท {rule.category}")
    if rule.service:
        parts.append(f"บริการ {rule.service}")
    return " ".join(parts) if parts else "ไม่ได้ระบุ"


def explain_th(rule: RuleInfo) -> LocalText:
    """Thai title, explanation and remediation for a rule without Thai of its own. The title is the
    rule's English title; the explanation is built from the rule's declared metadata only."""
    level = LEVEL_TH.get(rule.level, "ไม่ได้ระบุ")
    named = tactics(rule)
    ids = techniques(rule)
    if named:
        attack = "พฤติกรรมในกลยุทธ์ ATT&CK " + ", ".join(f"{TACTIC_TH[t]} ({t})" for t in named)
    else:
        attack = "พฤติกรรมที่กฎไม่ได้ระบุกลยุทธ์ ATT&CK"
    if ids:
        attack += f" เทคนิค {', '.join(ids)}"
    kind = "กฎเชื่อมโยงเหตุการณ์" if rule.correlation else "กฎการตรวจจับ"
    parts = [
        f"{kind} Sigma จากแหล่งภายนอก (ชื่อกฎคงเป็นภาษาอังกฤษตามต้นฉบับ) ความรุนแรงตามที่กฎกำหนด: {level}",
        f"กฎนี้ตรวจหา{attack} จากแหล่งบันทึก {log_source_th(rule)}",
    ]
    if rule.description:
        parts.append(f"คำอธิบายของผู้เขียนกฎ (ภาษาอังกฤษ): {' '.join(rule.description.split())}")
    remediation = (
        "ตรวจสอบเหตุการณ์ที่ตรงกับกฎว่าเป็นการกระทำของผู้มีสิทธิ์หรือไม่ หากไม่ใช่ ให้ดำเนินการตามขั้นตอนรับมือ"
        "เหตุการณ์ภัยคุกคามทางไซเบอร์ หากเป็นพฤติกรรมที่คาดไว้ ให้ปรับกฎหรือบันทึกการยกเว้นพร้อมเหตุผล"
    )
    if rule.falsepositives:
        remediation += f" กรณีที่อาจแจ้งเตือนผิดพลาดที่ทราบ (ภาษาอังกฤษ): {'; '.join(rule.falsepositives)}"
    return LocalText(lang="th", title=rule.title, description=" ".join(parts), remediation=remediation)
