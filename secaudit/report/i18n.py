"""Labels for human-readable reports, in every language a report can be written in.

One catalogue: each key maps to its text per language, so a label cannot exist in one
language only (a test checks every key against :data:`secaudit.core.profile.LANGUAGES`).
Enum values have keys of the form ``<family>.<value>``: ``severity.high``,
``criticality.public-safety-critical``, ``source.scan``, ``status.new``, ``run.incomplete``,
``kind.ot``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from secaudit.core.errors import UsageError
from secaudit.core.profile import LANGUAGES

CATALOGUE: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        # Header
        "report_title": {"en": "Security posture report", "th": "รายงานสถานะความมั่นคงปลอดภัยไซเบอร์"},
        "organisation": {"en": "Organisation", "th": "หน่วยงาน"},
        "run_id": {"en": "Run", "th": "รหัสการตรวจ"},
        "run_status": {"en": "Run status", "th": "สถานะการตรวจ"},
        "started": {"en": "Started", "th": "เริ่มตรวจ"},
        "finished": {"en": "Finished", "th": "ตรวจเสร็จ"},
        "generated": {"en": "Report generated", "th": "จัดทำรายงานเมื่อ"},
        "not_recorded": {"en": "not recorded", "th": "ไม่ได้บันทึก"},
        "authorization": {"en": "Authorization", "th": "หนังสืออนุญาตให้ตรวจ"},
        "auth_reference": {"en": "Reference", "th": "เลขที่อ้างอิง"},
        "auth_approver": {"en": "Approved by", "th": "ผู้อนุมัติ"},
        "auth_validity": {"en": "Valid", "th": "ระยะเวลาที่มีผล"},
        "auth_valid_at_start": {"en": "valid when the run started", "th": "มีผลขณะเริ่มการตรวจ"},
        "auth_invalid_at_start": {
            "en": "NOT valid when the run started",
            "th": "ไม่มีผลขณะเริ่มการตรวจ",
        },
        "date_to": {"en": "to", "th": "ถึง"},
        # Executive summary
        "summary": {"en": "Executive summary", "th": "บทสรุปสำหรับผู้บริหาร"},
        "total_findings": {"en": "Current findings", "th": "ข้อตรวจพบปัจจุบัน"},
        "by_severity": {"en": "By severity", "th": "จำแนกตามระดับความรุนแรง"},
        "by_source": {"en": "By source", "th": "จำแนกตามแหล่งที่มา"},
        "trend": {"en": "Since the previous run", "th": "เทียบกับการตรวจครั้งก่อน"},
        "previous_run": {"en": "Previous run", "th": "การตรวจครั้งก่อน"},
        "first_run": {"en": "none: this is the first run", "th": "ไม่มี เป็นการตรวจครั้งแรก"},
        "count": {"en": "Count", "th": "จำนวน"},
        "partial_warning": {
            "en": "This run is incomplete: at least one stage failed or reported errors. The findings "
            "below are what the finished parts produced; a missing finding does not prove a problem "
            "is absent.",
            "th": "การตรวจครั้งนี้ไม่สมบูรณ์ มีอย่างน้อยหนึ่งขั้นตอนที่ล้มเหลวหรือรายงานข้อผิดพลาด "
            "ข้อตรวจพบด้านล่างมาจากส่วนที่ทำงานเสร็จเท่านั้น การไม่พบปัญหาจึงไม่ได้ยืนยันว่าไม่มีปัญหา",
        },
        "stages": {"en": "Stages", "th": "ขั้นตอนการตรวจ"},
        "stage": {"en": "Stage", "th": "ขั้นตอน"},
        "status": {"en": "Status", "th": "สถานะ"},
        "items": {"en": "Items checked", "th": "รายการที่ตรวจ"},
        "skipped": {"en": "Skipped", "th": "ข้าม"},
        "seconds": {"en": "Seconds", "th": "วินาที"},
        "errors": {"en": "Errors", "th": "ข้อผิดพลาด"},
        "no_stages": {"en": "No stage ran.", "th": "ไม่มีขั้นตอนใดทำงาน"},
        # Findings table
        "findings": {"en": "Findings, highest risk first", "th": "ข้อตรวจพบ เรียงจากความเสี่ยงสูงไปต่ำ"},
        "findings_count": {"en": "Findings", "th": "ข้อตรวจพบ"},
        "rank": {"en": "Rank", "th": "ลำดับ"},
        "severity": {"en": "Severity", "th": "ความรุนแรง"},
        "finding": {"en": "Finding", "th": "ข้อตรวจพบ"},
        "asset": {"en": "Asset", "th": "สินทรัพย์"},
        "segment": {"en": "Segment", "th": "ส่วนเครือข่าย"},
        "criticality": {"en": "Criticality", "th": "ระดับความสำคัญ"},
        "source": {"en": "Source", "th": "แหล่งที่มา"},
        "first_seen": {"en": "First seen", "th": "พบครั้งแรก"},
        "last_seen": {"en": "Last seen", "th": "พบล่าสุด"},
        "search": {"en": "Search", "th": "ค้นหา"},
        "search_hint": {
            "en": "title, asset, rule or segment",
            "th": "ชื่อข้อตรวจพบ สินทรัพย์ กฎ หรือส่วนเครือข่าย",
        },
        "all": {"en": "All", "th": "ทั้งหมด"},
        "sort_hint": {
            "en": "Select a column heading to sort by it.",
            "th": "คลิกหัวคอลัมน์เพื่อเรียงลำดับตามคอลัมน์นั้น",
        },
        "shown": {"en": "shown", "th": "รายการที่แสดง"},
        "no_findings_title": {"en": "No findings", "th": "ไม่พบข้อบกพร่อง"},
        "no_findings_body": {
            "en": "This run reported no findings. This is what was checked:",
            "th": "การตรวจครั้งนี้ไม่พบข้อบกพร่อง รายการที่ได้ตรวจมีดังนี้",
        },
        "segments_in_scope": {"en": "Segments in scope", "th": "ส่วนเครือข่ายในขอบเขต"},
        # Finding details
        "details": {"en": "Finding details", "th": "รายละเอียดข้อตรวจพบ"},
        "rule": {"en": "Rule", "th": "กฎ"},
        "fingerprint": {"en": "Fingerprint", "th": "รหัสประจำข้อตรวจพบ"},
        "description": {"en": "Description", "th": "คำอธิบาย"},
        "evidence": {"en": "Evidence", "th": "หลักฐาน"},
        "evidence_kind": {"en": "Kind", "th": "ประเภท"},
        "location": {"en": "Location", "th": "ตำแหน่ง"},
        "observed": {"en": "Observed", "th": "สิ่งที่พบ"},
        "attributes": {"en": "Attributes", "th": "ข้อมูลประกอบ"},
        "remediation": {"en": "Remediation", "th": "วิธีแก้ไข"},
        "references": {"en": "References", "th": "เอกสารอ้างอิง"},
        "none": {"en": "none", "th": "ไม่มี"},
        "unknown": {"en": "unknown", "th": "ไม่ทราบ"},
        "back_to_table": {"en": "Back to the findings table", "th": "กลับไปยังตารางข้อตรวจพบ"},
        # Fixed, scope, methodology
        "fixed_title": {"en": "Fixed since the previous run", "th": "แก้ไขแล้วนับจากการตรวจครั้งก่อน"},
        "no_fixed": {
            "en": "Nothing seen in the previous run has been fixed.",
            "th": "ยังไม่มีข้อตรวจพบจากการตรวจครั้งก่อนที่ได้รับการแก้ไข",
        },
        "scope": {"en": "Scope", "th": "ขอบเขตการตรวจ"},
        "networks": {"en": "Networks", "th": "เครือข่าย (CIDR)"},
        "kind": {"en": "Kind", "th": "ประเภท"},
        "owner": {"en": "Owner agency", "th": "หน่วยงานเจ้าของ"},
        "scan_profile": {"en": "Scan profile", "th": "รูปแบบการสแกน"},
        "exclusions": {"en": "Excluded", "th": "ที่ยกเว้น"},
        "no_segments": {"en": "The profile defines no segment.", "th": "โปรไฟล์ไม่ได้กำหนดส่วนเครือข่าย"},
        "methodology": {"en": "Methodology", "th": "วิธีการตรวจ"},
        "tool_version": {"en": "secaudit version", "th": "รุ่นของ secaudit"},
        "risk_model": {"en": "Risk model", "th": "แบบจำลองความเสี่ยง"},
        "profile": {"en": "Audit profile", "th": "โปรไฟล์การตรวจ"},
        "stages_run": {"en": "Stages run", "th": "ขั้นตอนที่ดำเนินการ"},
        "ranking_explained": {
            "en": "Findings are ordered by severity, then by how much the city depends on the asset "
            "(public-safety critical first), then by source (log detections, network scans, passive "
            "observation, configuration baselines), then by rule and asset, so that the same findings "
            "always appear in the same order.",
            "th": "ข้อตรวจพบเรียงตามระดับความรุนแรง ตามด้วยระดับความสำคัญของสินทรัพย์ต่อเมือง "
            "(ระบบที่สำคัญต่อความปลอดภัยสาธารณะมาก่อน) ตามด้วยแหล่งที่มา (การตรวจจับจากล็อก "
            "การสแกนเครือข่าย การสังเกตการณ์แบบพาสซีฟ และการตรวจค่าตั้งมาตรฐาน) แล้วจึงเรียงตามกฎและสินทรัพย์ "
            "ข้อตรวจพบชุดเดียวกันจึงเรียงลำดับเหมือนเดิมทุกครั้ง",
        },
        "inert_note": {
            "en": "Text taken from scanned systems, logs and configuration files is shown as plain text "
            "and never executed.",
            "th": "ข้อความที่ได้จากระบบที่สแกน ล็อก และไฟล์ค่าตั้ง แสดงเป็นข้อความธรรมดาเท่านั้นและไม่ถูกประมวลผล",
        },
        "generated_by": {"en": "Generated by secaudit", "th": "จัดทำโดย secaudit"},
        # Severity
        "severity.critical": {"en": "Critical", "th": "วิกฤต"},
        "severity.high": {"en": "High", "th": "สูง"},
        "severity.medium": {"en": "Medium", "th": "ปานกลาง"},
        "severity.low": {"en": "Low", "th": "ต่ำ"},
        "severity.info": {"en": "Info", "th": "ข้อมูล"},
        # Asset criticality
        "criticality.public-safety-critical": {
            "en": "Public-safety critical",
            "th": "สำคัญยิ่งต่อความปลอดภัยสาธารณะ",
        },
        "criticality.critical": {"en": "Critical", "th": "สำคัญยิ่ง"},
        "criticality.high": {"en": "High", "th": "สูง"},
        "criticality.medium": {"en": "Medium", "th": "ปานกลาง"},
        "criticality.low": {"en": "Low", "th": "ต่ำ"},
        # Finding source
        "source.scan": {"en": "Network scan", "th": "การสแกนเครือข่าย"},
        "source.passive": {"en": "Passive discovery", "th": "การสังเกตการณ์แบบพาสซีฟ"},
        "source.baseline": {"en": "Configuration baseline", "th": "การตรวจค่าตั้งมาตรฐาน"},
        "source.detection": {"en": "Log detection", "th": "การตรวจจับจากล็อก"},
        # Finding status
        "status.new": {"en": "New", "th": "ใหม่"},
        "status.persisting": {"en": "Persisting", "th": "ยังคงอยู่"},
        "status.fixed": {"en": "Fixed", "th": "แก้ไขแล้ว"},
        "status.waived": {"en": "Waived", "th": "ได้รับการยกเว้น"},
        # Run and stage status
        "run.running": {"en": "Running", "th": "กำลังดำเนินการ"},
        "run.completed": {"en": "Completed", "th": "เสร็จสมบูรณ์"},
        "run.incomplete": {"en": "Incomplete", "th": "ไม่สมบูรณ์"},
        "run.failed": {"en": "Failed", "th": "ล้มเหลว"},
        "run.interrupted": {"en": "Interrupted", "th": "ถูกขัดจังหวะ"},
        # Segment kind
        "kind.it": {"en": "IT", "th": "ไอที"},
        "kind.ot": {"en": "OT (control systems)", "th": "โอที (ระบบควบคุม)"},
        "kind.cctv": {"en": "CCTV", "th": "กล้องวงจรปิด"},
        "kind.dmz": {"en": "DMZ", "th": "ดีเอ็มแซด (เขตเชื่อมต่อภายนอก)"},
        "kind.mgmt": {"en": "Management", "th": "เครือข่ายบริหารจัดการ"},
    }
)


def labels(lang: str) -> dict[str, str]:
    """Every label in ``lang``; raise :class:`UsageError` for a language we do not write."""
    if lang not in LANGUAGES:
        raise UsageError(
            f"unknown report language {lang!r}",
            hint=f"use one of: {', '.join(LANGUAGES)}",
        )
    return {key: texts[lang] for key, texts in CATALOGUE.items()}
