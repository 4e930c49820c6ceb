"""Labels for human-readable reports, in every language a report can be written in.

One catalogue: each key maps to its text per language, so a label cannot exist in one
language only (a test checks every key against :data:`secaudit.core.profile.LANGUAGES`).
Enum values have keys of the form ``<family>.<value>``: ``severity.high``,
``criticality.public-safety-critical``, ``source.scan``, ``status.new``, ``run.incomplete``,
``kind.ot``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from secaudit.core.errors import UsageError
from secaudit.core.profile import LANGUAGES
from secaudit.core.report import RiskFactor

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
        "time_zone": {"en": "Times shown in", "th": "เวลาในรายงานนี้"},
        "time_zone_value": {"en": "{zone} (UTC{offset})", "th": "เขตเวลา {zone} (UTC{offset})"},
        "buddhist_era_note": {"en": "years in the Buddhist era (B.E.)", "th": "ปีเป็นพุทธศักราช (พ.ศ.)"},
        # Executive summary
        "summary": {"en": "Executive summary", "th": "บทสรุปสำหรับผู้บริหาร"},
        "total_findings": {"en": "Current findings", "th": "ข้อตรวจพบปัจจุบัน"},
        "by_severity": {"en": "By severity", "th": "จำแนกตามระดับความรุนแรง"},
        "by_source": {"en": "By source", "th": "จำแนกตามแหล่งที่มา"},
        "trend": {"en": "Since the previous run", "th": "เทียบกับการตรวจครั้งก่อน"},
        "per_asset": {"en": "counted per asset", "th": "นับแยกตามสินทรัพย์"},
        "findings_in_rows": {
            "en": "{findings}, in {rows} ranked rows",
            "th": "{findings} รายการ ใน {rows} แถวของรายการจัดอันดับ",
        },
        "units_note": {
            "en": "A finding is one check or rule that failed on one asset. A row of the ranked list "
            "groups the same finding on several assets. Counts by decision, severity and source are "
            "rows (the list below), with the findings in them; history, the trend, the stage table and "
            "the posture score count findings.",
            "th": "ข้อตรวจพบหนึ่งรายการคือรายการตรวจหรือกฎหนึ่งข้อที่ไม่ผ่านบนสินทรัพย์หนึ่งรายการ "
            "แถวหนึ่งในรายการจัดอันดับรวมข้อตรวจพบเดียวกันที่พบบนหลายสินทรัพย์ไว้ด้วยกัน "
            "จำนวนตามการตัดสินใจ ความรุนแรง และแหล่งที่มานับเป็นแถว (ตามรายการด้านล่าง) "
            "พร้อมจำนวนข้อตรวจพบในแถวเหล่านั้น ส่วนประวัติ แนวโน้ม ตารางขั้นตอน "
            "และคะแนนสถานะนับเป็นข้อตรวจพบ",
        },
        "rows_unit": {"en": "Rows", "th": "แถว"},
        "findings_unit": {"en": "Findings", "th": "ข้อตรวจพบ"},
        "n_findings": {"en": "{n} findings", "th": "ข้อตรวจพบ {n} รายการ"},
        "rows_by_decision": {"en": "Rows by decision", "th": "แถวจำแนกตามการตัดสินใจ"},
        "trend_in_findings": {
            "en": "Since the previous run ({run}), in findings",
            "th": "เทียบกับการตรวจครั้งก่อน ({run}) นับเป็นข้อตรวจพบ",
        },
        "trend_first_run": {
            "en": "First run of this profile: every finding is new",
            "th": "การตรวจครั้งแรกของโปรไฟล์นี้ ข้อตรวจพบทุกรายการเป็นรายการใหม่",
        },
        "baseline_results": {
            "en": "Baseline results per asset",
            "th": "ผลการตรวจตามเกณฑ์การตั้งค่าความปลอดภัยแยกตามสินทรัพย์",
        },
        "baseline_results_note": {
            "en": "Counts of checks, not findings: a failed check is one finding; passed and not "
            'applicable checks are listed with their evidence under "Passed and not applicable checks".',
            "th": "ตัวเลขนับเป็นรายการตรวจ ไม่ใช่ข้อตรวจพบ รายการตรวจที่ไม่ผ่านหนึ่งรายการคือข้อตรวจพบหนึ่งรายการ "
            'รายการตรวจที่ผ่านและไม่เกี่ยวข้องแสดงพร้อมหลักฐานในหัวข้อ "รายการตรวจที่ผ่านและไม่เกี่ยวข้อง"',
        },
        "baseline": {"en": "Baseline", "th": "เกณฑ์การตั้งค่าความปลอดภัย"},
        "result": {"en": "Result", "th": "ผลการตรวจ"},
        "check.pass": {"en": "Passed", "th": "ผ่าน"},
        "check.fail": {"en": "Failed", "th": "ไม่ผ่าน"},
        "check.notapplicable": {"en": "Not applicable", "th": "ไม่เกี่ยวข้อง"},
        "check.waived": {"en": "Waived or accepted", "th": "ได้รับการยกเว้นหรือยอมรับความเสี่ยง"},
        "check.error": {"en": "Error", "th": "ข้อผิดพลาด"},
        "checked_title": {"en": "Passed and not applicable checks", "th": "รายการตรวจที่ผ่านและไม่เกี่ยวข้อง"},
        "checked_help": {
            "en": "Every baseline check that passed or did not apply, per asset and baseline, with the "
            "evidence it saw. Open a group to read it.",
            "th": "รายการตรวจตามเกณฑ์ทุกรายการที่ผ่านหรือไม่เกี่ยวข้อง แยกตามสินทรัพย์และเกณฑ์ "
            "พร้อมหลักฐานที่ตรวจพบ เปิดแต่ละกลุ่มเพื่ออ่านรายละเอียด",
        },
        "checked_print_note": {
            "en": "Printed: counts per asset and baseline only. Every passed check with its evidence is in "
            "this report on screen, in findings.csv and in findings.json.",
            "th": "ฉบับพิมพ์แสดงเฉพาะจำนวนตามสินทรัพย์และเกณฑ์ รายการตรวจที่ผ่านทุกรายการพร้อมหลักฐาน"
            "อยู่ในรายงานนี้บนหน้าจอ ในไฟล์ findings.csv และ findings.json",
        },
        "no_checked": {
            "en": "No baseline check passed or was found not applicable in this run.",
            "th": "การตรวจครั้งนี้ไม่มีรายการตรวจตามเกณฑ์ที่ผ่านหรือไม่เกี่ยวข้อง",
        },
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
            "en": "title, asset, rule, segment or evidence",
            "th": "ชื่อข้อตรวจพบ สินทรัพย์ กฎ ส่วนเครือข่าย หรือหลักฐาน",
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
            "en": "Findings are ranked by the risk model named above. Its score weighs the finding's "
            "severity, how much the city depends on the asset (public-safety critical systems highest), "
            "its exposure on the network, how easily it can be exploited, and any sign of an attack in "
            'progress; each finding\'s "Why it matters" lists the factors and the points each added. '
            "Ties are broken by rule and asset, so the same findings always appear in the same order.",
            "th": "ข้อตรวจพบเรียงตามแบบจำลองความเสี่ยงที่ระบุไว้ข้างต้น คะแนนพิจารณาจากความรุนแรงของข้อตรวจพบ "
            "ความสำคัญของสินทรัพย์ต่อเมือง (ระบบที่สำคัญต่อความปลอดภัยสาธารณะสูงสุด) การเปิดให้เข้าถึงทางเครือข่าย "
            'ความง่ายในการโจมตี และร่องรอยการโจมตีที่กำลังเกิดขึ้น ส่วน "เหตุใดจึงสำคัญ" ของแต่ละข้อตรวจพบ '
            "แสดงปัจจัยและคะแนนที่แต่ละปัจจัยเพิ่มขึ้น หากคะแนนเท่ากันจะเรียงตามกฎและสินทรัพย์ "
            "ข้อตรวจพบชุดเดียวกันจึงเรียงลำดับเหมือนเดิมทุกครั้ง",
        },
        "inert_note": {
            "en": "Text taken from scanned systems, logs and configuration files is shown as plain text "
            "and never executed.",
            "th": "ข้อความที่ได้จากระบบที่สแกน บันทึก (log) และไฟล์การตั้งค่า แสดงเป็นข้อความธรรมดาเท่านั้นและไม่ถูกประมวลผล",
        },
        "generated_by": {"en": "Generated by secaudit", "th": "จัดทำโดย secaudit"},
        # Risk, decisions, heat map
        "posture_score": {"en": "Posture score", "th": "คะแนนสถานะความมั่นคงปลอดภัย"},
        "posture_help": {
            "en": "0 to 100, higher is better: what the open findings leave of a clean score.",
            "th": "ตั้งแต่ 0 ถึง 100 ยิ่งสูงยิ่งดี คือคะแนนที่เหลือหลังหักผลของข้อตรวจพบที่ยังไม่แก้ไข",
        },
        "posture_not_assessed": {
            "en": "not assessed: the score covers only the stages that completed; these did not",
            "th": "ยังไม่ได้ประเมินครบ: คะแนนนี้ครอบคลุมเฉพาะขั้นตอนที่ดำเนินการเสร็จ ขั้นตอนต่อไปนี้ไม่เสร็จ",
        },
        "by_decision": {"en": "By decision", "th": "จำแนกตามการตัดสินใจ"},
        "decision": {"en": "Decision", "th": "การตัดสินใจ"},
        "score": {"en": "Score", "th": "คะแนน"},
        "waived_or_accepted": {"en": "Waived or accepted", "th": "ได้รับการยกเว้นหรือยอมรับความเสี่ยง"},
        "decision.act": {"en": "Act", "th": "ดำเนินการทันที"},
        "decision.attend": {"en": "Attend", "th": "เร่งดำเนินการ"},
        "decision.track*": {"en": "Track*", "th": "ติดตามใกล้ชิด"},
        "decision.track": {"en": "Track", "th": "ติดตาม"},
        "decision_help.act": {
            "en": "Fix now, outside the normal maintenance cycle.",
            "th": "แก้ไขทันทีโดยไม่ต้องรอรอบบำรุงรักษาปกติ",
        },
        "decision_help.attend": {
            "en": "Fix soon, with leadership attention.",
            "th": "แก้ไขโดยเร็วและแจ้งให้ผู้บริหารทราบ",
        },
        "decision_help.track*": {
            "en": "Fix in the normal cycle and watch closely.",
            "th": "แก้ไขตามรอบปกติและเฝ้าระวังอย่างใกล้ชิด",
        },
        "decision_help.track": {"en": "Fix in the normal cycle.", "th": "แก้ไขตามรอบปกติ"},
        "heatmap": {"en": "Likelihood and impact", "th": "โอกาสเกิดและผลกระทบ"},
        "heatmap_help": {
            "en": "How many findings fall in each cell. Select a cell to show only its findings in the "
            "table; select it again to show all.",
            "th": "จำนวนข้อตรวจพบในแต่ละช่อง คลิกช่องเพื่อแสดงเฉพาะข้อตรวจพบของช่องนั้นในตาราง คลิกซ้ำเพื่อแสดงทั้งหมด",
        },
        "likelihood": {"en": "Likelihood", "th": "โอกาสเกิด"},
        "impact": {"en": "Impact", "th": "ผลกระทบ"},
        "why_it_matters": {"en": "Why it matters", "th": "เหตุใดจึงสำคัญ"},
        "why_intro": {
            "en": "Risk score {score} of 100, decision: {decision}. What the score is made of:",
            "th": "คะแนนความเสี่ยง {score} จาก 100 การตัดสินใจ: {decision} องค์ประกอบของคะแนนมีดังนี้",
        },
        "points": {"en": "{points} points", "th": "{points} คะแนน"},
        "no_factors": {
            "en": "The risk model recorded no factors for this finding.",
            "th": "แบบจำลองความเสี่ยงไม่ได้บันทึกปัจจัยของข้อตรวจพบนี้",
        },
        "factor.severity": {"en": "Severity of the finding", "th": "ความรุนแรงของข้อตรวจพบ"},
        "factor.criticality": {
            "en": "How much the city depends on the asset",
            "th": "ความสำคัญของสินทรัพย์ต่อเมือง",
        },
        "factor.exposure": {"en": "Exposure on the network", "th": "การเปิดให้เข้าถึงทางเครือข่าย"},
        "factor.exploitability": {"en": "Exploitability", "th": "ความง่ายในการโจมตี"},
        "factor.active_attack": {
            "en": "Evidence of an attack in progress",
            "th": "หลักฐานการโจมตีที่กำลังเกิดขึ้น",
        },
        "factor.cap": {"en": "Score limit", "th": "เพดานคะแนน"},
        "factor.decision": {"en": "Why this decision", "th": "เหตุผลของการตัดสินใจ"},
        "affected_assets": {"en": "Affected assets", "th": "สินทรัพย์ที่ได้รับผลกระทบ"},
        "more_assets": {"en": "and {n} more", "th": "และอีก {n} รายการ"},
        "no_segment": {"en": "outside every segment", "th": "ไม่อยู่ในส่วนเครือข่ายใด"},
        "truncated_note": {
            "en": "cut: {shown} of {total} characters shown",
            "th": "ตัดทอน: แสดง {shown} จาก {total} อักขระ",
        },
        # Table controls
        "clear_filters": {"en": "Clear filters", "th": "ล้างตัวกรอง"},
        "previous_page": {"en": "Previous page", "th": "หน้าก่อนหน้า"},
        "next_page": {"en": "Next page", "th": "หน้าถัดไป"},
        "page_of": {"en": "Page {page} of {pages}", "th": "หน้า {page} จาก {pages}"},
        "noscript_note": {
            "en": "Scripts are off in this browser: the {shown} highest-ranked of {total} findings are "
            "shown, without filters. findings.json holds every finding.",
            "th": "เบราว์เซอร์นี้ปิดการทำงานของสคริปต์ จึงแสดงเฉพาะข้อตรวจพบลำดับสูงสุด {shown} รายการจากทั้งหมด "
            "{total} รายการ และใช้ตัวกรองไม่ได้ ไฟล์ findings.json มีข้อตรวจพบครบทุกรายการ",
        },
        "no_match": {"en": "No finding matches these filters.", "th": "ไม่มีข้อตรวจพบที่ตรงกับตัวกรองนี้"},
        # Views per segment and per asset
        "by_segment": {"en": "Findings per segment", "th": "ข้อตรวจพบตามส่วนเครือข่าย"},
        "by_asset": {"en": "Findings per asset", "th": "ข้อตรวจพบตามสินทรัพย์"},
        "vulns_title": {
            "en": "Known vulnerabilities by package or service",
            "th": "ช่องโหว่ที่เปิดเผยแล้ว จำแนกตามแพ็กเกจหรือบริการ",
        },
        "vulns_help": {
            "en": "Each CVE is its own ranked finding (its rank after #); here they are gathered per "
            "package or service on each asset, with the version that fixes them all.",
            "th": "CVE แต่ละรายการเป็นข้อตรวจพบที่จัดลำดับแยกกัน (ลำดับอยู่หลังเครื่องหมาย #) ส่วนนี้รวบรวมไว้ตามแพ็กเกจหรือบริการ"
            "บนแต่ละสินทรัพย์ พร้อมรุ่นที่แก้ไขได้ทั้งหมด",
        },
        "vuln_component": {"en": "Package or service", "th": "แพ็กเกจหรือบริการ"},
        "vuln_installed": {"en": "Installed", "th": "รุ่นที่ติดตั้ง"},
        "vuln_fix": {"en": "Fixed in", "th": "แก้ไขแล้วในรุ่น"},
        "vuln_cves": {"en": "CVEs", "th": "รายการ CVE"},
        "vuln_no_fix": {"en": "no fix yet", "th": "ยังไม่มีแพตช์"},
        "vuln_fix_service": {
            "en": "check the installed package",
            "th": "ตรวจสอบแพ็กเกจที่ติดตั้งจริง",
        },
        "vuln_kind.package": {"en": "installed package", "th": "แพ็กเกจที่ติดตั้ง"},
        "vuln_kind.service": {"en": "version claimed by the service", "th": "รุ่นตามที่บริการแจ้ง"},
        "highest_score": {"en": "Highest score", "th": "คะแนนสูงสุด"},
        "highest_decision": {"en": "Most urgent decision", "th": "การตัดสินใจที่เร่งด่วนที่สุด"},
        "more_assets_note": {
            "en": "The {shown} riskiest of {total} assets are listed; search the findings table for the "
            "others.",
            "th": "แสดง {shown} สินทรัพย์ที่เสี่ยงที่สุดจากทั้งหมด {total} รายการ ค้นหาสินทรัพย์อื่นได้ในตารางข้อตรวจพบ",
        },
        "listed_note": {
            "en": "{shown} of {total} are listed here; findings.json holds them all.",
            "th": "แสดงที่นี่ {shown} จาก {total} รายการ ไฟล์ findings.json มีครบทุกรายการ",
        },
        # Waivers and risk acceptances
        "waived_title": {"en": "Waived and accepted risks", "th": "ความเสี่ยงที่ได้รับการยกเว้นและยอมรับ"},
        "waived_help": {
            "en": "Present findings that a waiver or a risk acceptance covers. They are not counted as open "
            "findings, and they come back when the waiver expires.",
            "th": "ข้อตรวจพบที่ยังมีอยู่แต่มีการยกเว้นหรือการยอมรับความเสี่ยงรองรับ ไม่นับเป็นข้อตรวจพบที่ค้างอยู่ "
            "และจะกลับมาเมื่อการยกเว้นหมดอายุ",
        },
        "waiver_kind": {"en": "Type", "th": "ประเภท"},
        "waiver.waived": {"en": "Waived", "th": "ยกเว้น"},
        "waiver.accepted": {"en": "Risk accepted", "th": "ยอมรับความเสี่ยง"},
        "justification": {"en": "Justification", "th": "เหตุผล"},
        "approved_by": {"en": "Approved by", "th": "ผู้อนุมัติ"},
        "expires": {"en": "Expires", "th": "หมดอายุ"},
        "no_expiry": {"en": "no expiry recorded", "th": "ไม่ได้ระบุวันหมดอายุ"},
        "expired": {"en": "expired", "th": "หมดอายุแล้ว"},
        "no_waived": {
            "en": "No finding is waived or accepted in this run.",
            "th": "ไม่มีข้อตรวจพบที่ได้รับการยกเว้นหรือยอมรับความเสี่ยงในการตรวจครั้งนี้",
        },
        # Compliance
        "compliance": {"en": "Compliance coverage", "th": "ความครอบคลุมตามมาตรฐาน"},
        "framework": {"en": "Framework", "th": "กรอบมาตรฐาน"},
        "controls": {"en": "Controls in the framework", "th": "มาตรการทั้งหมดในกรอบมาตรฐาน"},
        "controls_checked": {"en": "Assessed", "th": "ได้ประเมิน"},
        "controls_passed": {"en": "Passed", "th": "ผ่าน"},
        "controls_failing": {"en": "Failed", "th": "ไม่ผ่าน"},
        "controls_na": {"en": "Not applicable", "th": "ไม่เกี่ยวข้อง"},
        "controls_unassessed": {"en": "Not assessed", "th": "ยังไม่ได้ประเมิน"},
        "coverage": {"en": "Assessed of the framework", "th": "ความครอบคลุมของกรอบมาตรฐาน"},
        "controls_detail": {"en": "assessed controls", "th": "มาตรการที่ได้ประเมิน"},
        "controls_unassessed_list": {"en": "controls not assessed", "th": "มาตรการที่ยังไม่ได้ประเมิน"},
        "compliance_note": {
            "en": "Counted against every control of each framework. A control is assessed when a check "
            "or rule citing it produced a result in this run; it failed when any of them failed (an open "
            "finding or an accepted risk), passed when all that applied passed, and is not applicable when "
            "none applied. Checks and rules count once, not per asset. An exposure rule that ran with the "
            "scan and found nothing counts as passed, even where no host of its kind was present; one "
            "limited to segment kinds the profile does not have counts as not applicable. An own Sigma "
            "rule that found nothing counts as passed only when the hunt read events of its log source; "
            "otherwise it looked at nothing and counts as not applicable.",
            "th": "นับเทียบกับมาตรการทั้งหมดของแต่ละกรอบมาตรฐาน มาตรการหนึ่งถือว่าได้ประเมินเมื่อรายการตรวจหรือกฎที่อ้างถึง"
            "มาตรการนั้นให้ผลในการตรวจครั้งนี้ ถือว่าไม่ผ่านเมื่อรายการใดไม่ผ่าน (มีข้อตรวจพบค้างอยู่หรือเป็นความเสี่ยงที่ยอมรับ) "
            "ถือว่าผ่านเมื่อทุกรายการที่เกี่ยวข้องผ่าน และถือว่าไม่เกี่ยวข้องเมื่อไม่มีรายการใดเกี่ยวข้อง "
            "รายการตรวจและกฎนับครั้งเดียว ไม่นับแยกตามสินทรัพย์ กฎการเปิดให้เข้าถึงที่ทำงานพร้อมการสแกนแล้วไม่พบสิ่งใด นับว่าผ่าน "
            "แม้ไม่มีเครื่องประเภทที่กฎนั้นตรวจอยู่เลย ส่วนกฎที่จำกัดไว้เฉพาะประเภทส่วนเครือข่ายที่โปรไฟล์ไม่มี นับว่าไม่เกี่ยวข้อง "
            "กฎ Sigma ของ secaudit ที่ไม่พบสิ่งใด นับว่าผ่านเฉพาะเมื่อการค้นหาได้อ่านบันทึกจากแหล่งบันทึกของกฎนั้น "
            "มิฉะนั้นกฎนั้นไม่ได้ตรวจสิ่งใดเลยและนับว่าไม่เกี่ยวข้อง",
        },
        "control": {"en": "Control", "th": "มาตรการ"},
        "control_name": {"en": "Name", "th": "ชื่อ"},
        "checks_mapped": {"en": "Checks and rules with a result", "th": "รายการตรวจและกฎที่ให้ผล"},
        "checks_failing": {"en": "Failed", "th": "ไม่ผ่าน"},
        "checks_passing": {"en": "Passed", "th": "ผ่าน"},
        "control.failed": {"en": "Failed", "th": "ไม่ผ่าน"},
        "control.passed": {"en": "Passed", "th": "ผ่าน"},
        "control.notapplicable": {"en": "Not applicable", "th": "ไม่เกี่ยวข้อง"},
        "control.unassessed": {"en": "Not assessed", "th": "ยังไม่ได้ประเมิน"},
        "no_compliance": {
            "en": "No compliance mapping was applied to this run.",
            "th": "การตรวจครั้งนี้ไม่ได้เทียบกับกรอบมาตรฐานใด",
        },
        "framework.cis-controls-v8": {"en": "CIS Controls v8", "th": "มาตรการ CIS รุ่น 8"},
        "framework.nist-csf-2.0": {"en": "NIST Cybersecurity Framework 2.0", "th": "กรอบ NIST CSF รุ่น 2.0"},
        "framework.iso27001-2022": {
            "en": "ISO/IEC 27001:2022 Annex A",
            "th": "มาตรฐาน ISO/IEC 27001:2022 ภาคผนวก ก",
        },
        "framework.th-cii-2562": {
            "en": "Thai Cybersecurity Act B.E. 2562: CII minimum standard",
            "th": "มาตรฐานขั้นต่ำโครงสร้างพื้นฐานสำคัญทางสารสนเทศ ตาม พ.ร.บ. การรักษาความมั่นคงปลอดภัยไซเบอร์ พ.ศ. 2562",
        },
        # Scope and methodology
        "maintenance_windows": {"en": "Maintenance windows", "th": "ช่วงเวลาบำรุงรักษา"},
        "rules_with_findings": {
            "en": "Rules and checks with findings",
            "th": "กฎและรายการตรวจที่พบข้อบกพร่อง",
        },
        "items_per_stage": {"en": "Items checked per stage", "th": "จำนวนรายการที่ตรวจในแต่ละขั้นตอน"},
        "controls_mapped": {"en": "Controls in the catalogues", "th": "มาตรการในแคตตาล็อก"},
        "frameworks_count": {"en": "{n} frameworks", "th": "{n} กรอบมาตรฐาน"},
        # Terminal summary
        "top_risks": {"en": "Top {n} of {total} risks", "th": "ความเสี่ยงสูงสุด {n} อันดับจากทั้งหมด {total} รายการ"},
        "stage_line": {
            "en": "findings: {findings}, items checked: {items}, {seconds} s",
            "th": "ข้อตรวจพบ {findings} รายการ ตรวจ {items} รายการ ใช้เวลา {seconds} วินาที",
        },
        "stage_error": {"en": "error", "th": "ข้อผิดพลาด"},
        "fail_on_line": {
            "en": "Fails at severity: {severity} or above",
            "th": "ถือว่าไม่ผ่านเมื่อพบความรุนแรงระดับ {severity} ขึ้นไป",
        },
        "report_file": {"en": "Report ({format}): {path}", "th": "รายงาน ({format}): {path}"},
        "gate_tripped": {
            "en": "exit 1: {n} findings at or above {severity}",
            "th": "รหัสออก 1: พบข้อตรวจพบ {n} รายการที่ความรุนแรงระดับ {severity} ขึ้นไป",
        },
        "gate_clear": {
            "en": "gate: none at or above {severity} (exit 0)",
            "th": "เกณฑ์: ไม่พบข้อตรวจพบที่ความรุนแรงระดับ {severity} ขึ้นไป (รหัสออก 0)",
        },
        "gate_off": {
            "en": "gate: off, no --fail-on severity set (exit 0)",
            "th": "เกณฑ์: ไม่ได้กำหนดระดับ --fail-on (รหัสออก 0)",
        },
        "gate_incomplete": {
            "en": "exit 3: the run did not complete; findings that are absent prove nothing",
            "th": "รหัสออก 3: การตรวจไม่สมบูรณ์ การไม่พบข้อตรวจพบจึงไม่ได้ยืนยันว่าไม่มีปัญหา",
        },
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
        "source.baseline": {"en": "Configuration baseline", "th": "การตรวจตามเกณฑ์การตั้งค่าความปลอดภัย"},
        "source.detection": {"en": "Log detection", "th": "การตรวจจับจากบันทึก (log)"},
        "source.vuln": {"en": "Known vulnerability", "th": "ช่องโหว่ที่เปิดเผยแล้ว (CVE)"},
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


# What a risk factor observed (RiskFactor.key -> wording), for languages other than English: the
# English is the factor's own ``value``. Placeholders are the factor's ``args``; an argument with a
# label of its own ("kind" "ot" -> "kind.ot", "decision" "act" -> "decision.act") is shown by it.
FACTOR_TEXT: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "exposure.tagged": {"th": "สินทรัพย์ติดแท็ก {tag}"},
        "exposure.segment": {"th": "อยู่ในส่วนเครือข่าย {segment} ประเภท{kind}"},
        "exposure.unknown_segment": {"th": "ไม่ทราบว่าอยู่ในส่วนเครือข่ายใด"},
        "exposure.network": {"th": "บริการเข้าถึงได้ทางเครือข่าย"},
        "exposure.configuration": {"th": "เป็นข้อบกพร่องของการตั้งค่าเท่านั้น"},
        "exposure.vuln_package": {"th": "แพ็กเกจที่ติดตั้งอยู่ ไม่มีหลักฐานว่าเข้าถึงได้ทางเครือข่าย"},
        "exposure.crossed": {"th": "เข้าถึงได้ข้ามส่วนเครือข่ายจาก {from}"},
        "exploitability.kev": {"th": "{cves} อยู่ในรายการช่องโหว่ที่ถูกใช้โจมตีจริง ({catalogue})"},
        "exploitability.bad_vector": {"th": "ไม่นำเวกเตอร์ CVSS ที่อ่านไม่ได้มาคิดคะแนน: {vector}"},
        "exploitability.cvss": {"th": "คะแนนพื้นฐาน CVSS {base} ({vector})"},
        "exploitability.epss": {"th": "EPSS: โอกาสถูกใช้โจมตีภายใน 30 วัน {probability}"},
        "exploitability.epss_model": {
            "th": "EPSS: โอกาสถูกใช้โจมตีภายใน 30 วัน {probability} (แบบจำลอง EPSS {model})"
        },
        "exploitability.bad_epss": {"th": "ไม่นำค่า EPSS ที่อ่านไม่ได้มาคิดคะแนน: {value}"},
        "exploitability.kev_due": {"th": "CISA กำหนดให้แก้ไขช่องโหว่ KEV ภายใน {due}"},
        "active_attack.detection": {"th": "ข้อตรวจพบนี้คือการตรวจจับกิจกรรมที่เกิดขึ้นจริง"},
        "active_attack.same_asset": {"th": "มีการตรวจจับบนสินทรัพย์เดียวกัน: {rules}"},
        "cap.part": {"th": "จำกัดคะแนนด้าน{factor}ไว้ที่ {cap}"},
        "cap.score": {"th": "จำกัดคะแนนรวมไว้ที่ {cap}"},
        "decision.informational": {
            "th": "{decision}: เป็นข้อตรวจพบระดับข้อมูล คะแนน = {floor} + คะแนนปัจจัยรวม {total} x 0.25"
        },
        "decision.table": {
            "th": "{decision}: การใช้ประโยชน์จากช่องโหว่ {exploitation} การเปิดให้เข้าถึง {exposure} "
            "โจมตีแบบอัตโนมัติได้ {automatable} ผลกระทบ {impact} คะแนน = {floor} + คะแนนปัจจัยรวม {total} x 0.25"
        },
    }
)

# The words of the decision table's inputs (secaudit.risk.decision), for FACTOR_TEXT arguments.
FACTOR_ARGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "exploitation.none": {"th": "ยังไม่พบ"},
        "exploitation.poc": {"th": "มีโค้ดสาธิตการโจมตีเผยแพร่"},
        "exploitation.active": {"th": "ถูกใช้โจมตีจริงแล้ว"},
        "exposure.small": {"th": "จำกัด"},
        "exposure.controlled": {"th": "อยู่ในเครือข่ายภายในที่ควบคุมได้"},
        "exposure.open": {"th": "เปิดกว้าง"},
        "automatable.yes": {"th": "ได้"},
        "automatable.no": {"th": "ไม่ได้"},
        "impact.low": {"th": "ต่ำ"},
        "impact.medium": {"th": "ปานกลาง"},
        "impact.high": {"th": "สูง"},
    }
)


def factor_text(factor: RiskFactor, lang: str) -> str:
    """What a risk factor observed, in ``lang``: its ``value`` in English (or when no wording exists),
    else :data:`FACTOR_TEXT`'s with the arguments filled in."""
    if lang == "en":
        return factor.value
    L = _labels(lang)
    if not factor.key:  # severity and criticality factors hold one of our own labels' keys
        return L.get(f"{factor.name}.{factor.value}", factor.value)
    template = FACTOR_TEXT.get(factor.key, {}).get(lang)
    if template is None:
        return factor.value
    words = {}
    for name, value in factor.args:
        key = f"{name}.{value}"
        words[name] = FACTOR_ARGS.get(key, {}).get(lang) or L.get(key) or value
    try:
        return template.format_map(words)
    except (KeyError, IndexError, ValueError):
        # A factor recorded by an older risk model lacks an argument today's wording names: a report
        # rebuilt from history shows the factor's own (English) words rather than fail.
        return factor.value


def labels(lang: str) -> dict[str, str]:
    """Every label in ``lang``; raise :class:`UsageError` for a language we do not write."""
    if lang not in LANGUAGES:
        raise UsageError(
            f"unknown report language {lang!r}",
            hint=f"use one of: {', '.join(LANGUAGES)}",
        )
    return {key: texts[lang] for key, texts in CATALOGUE.items()}


@functools.cache
def _labels(lang: str) -> Mapping[str, str]:
    return MappingProxyType(labels(lang))
