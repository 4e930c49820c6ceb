"""The Thai report says each finding's own words in Thai: title, explanation, remediation, and what
each risk factor observed and why the decision was taken; the English report is unchanged."""

from __future__ import annotations

import re
import string
from dataclasses import replace
from pathlib import Path

from secaudit.catalog.localtext import has_thai
from secaudit.core.model import Finding, LocalText
from secaudit.core.report import RiskFactor
from secaudit.report.html_data import COLUMN
from secaudit.report.i18n import FACTOR_TEXT, factor_text
from tests.report.conftest import findings_from_every_source
from tests.risk.builders import scored_report

from .htmlreport import page_data, render

RISK_MODEL = Path(__file__).resolve().parents[2] / "secaudit" / "risk" / "model.py"


def _thai(finding: Finding) -> Finding:
    return replace(
        finding,
        texts=(
            LocalText(
                lang="th",
                title=f"ข้อตรวจพบ {finding.rule_id}",
                description=f"เหตุใดจึงสำคัญ {finding.rule_id}",
                remediation=f"วิธีแก้ไข {finding.rule_id} ด้วย sshd -T",
            ),
        ),
    )


def _rows(page: str) -> list[dict[str, object]]:
    data = page_data(page)
    strings = data["s"]
    assert isinstance(strings, list)
    rows = data["rows"]
    assert isinstance(rows, list)
    return [
        {
            "rule": strings[row[COLUMN["rule_id"]]],
            "title": strings[row[COLUMN["title"]]],
            "description": strings[row[COLUMN["description"]]],
            "remediation": strings[row[COLUMN["remediation"]]],
            "factors": [strings[value] for _name, value, _points in row[COLUMN["factors"]]],
        }
        for row in rows
    ]


def test_thai_page_shows_each_findings_thai_and_english_page_its_english() -> None:
    findings = [_thai(f) for f in findings_from_every_source()]
    report = scored_report(findings)
    english = {f.rule_id: f for f in findings}
    thai_rows = _rows(render(report, "th"))
    assert {r["rule"] for r in thai_rows} == set(english)
    for row in thai_rows:
        rule = str(row["rule"])
        assert (row["title"], row["description"], row["remediation"]) == (
            f"ข้อตรวจพบ {rule}",
            f"เหตุใดจึงสำคัญ {rule}",
            f"วิธีแก้ไข {rule} ด้วย sshd -T",
        )
    for row in _rows(render(report, "en")):
        finding = english[str(row["rule"])]
        assert (row["title"], row["description"], row["remediation"]) == (
            finding.title,
            finding.description,
            finding.remediation,
        )
    page = render(report, "th")
    first = next(r for r in report.rows if r.rank == 1).finding
    assert f"ข้อตรวจพบ {first.rule_id}" in page  # the server-rendered first page too


def test_a_finding_without_thai_falls_back_to_its_english() -> None:
    findings = findings_from_every_source()
    rows = _rows(render(scored_report(findings), "th"))
    assert {r["title"] for r in rows} == {f.title for f in findings}


def test_every_risk_factor_and_decision_reason_is_thai_on_the_thai_page() -> None:
    report = scored_report([_thai(f) for f in findings_from_every_source()])
    factors = {f for row in report.rows for f in row.factors}
    assert {f.name for f in factors} >= {"severity", "criticality", "exposure", "active_attack", "decision"}
    for factor in factors:
        thai = factor_text(factor, "th")
        assert has_thai(thai), f"{factor.key or factor.name}: {thai!r}"
        assert factor_text(factor, "en") == factor.value
    shown = {value for row in _rows(render(report, "th")) for value in row["factors"]}  # type: ignore[attr-defined]
    assert shown and all(has_thai(v) for v in shown)
    decision = next(f for f in factors if f.name == "decision" and f.key == "decision.table")
    words = factor_text(decision, "th")
    assert words.split(":")[0] in {"ดำเนินการทันที", "เร่งดำเนินการ", "ติดตามใกล้ชิด", "ติดตาม"}


def test_every_factor_the_risk_model_can_give_has_thai_wording_with_its_arguments() -> None:
    source = RISK_MODEL.read_text(encoding="utf-8")
    keys = set(re.findall(r'key="([a-z_]+\.[a-z_]+)"', source))
    assert len(keys) >= 14
    assert keys == set(FACTOR_TEXT)
    for key, texts in FACTOR_TEXT.items():
        assert has_thai(texts["th"]), key
        placeholders = {name for _, name, _, _ in string.Formatter().parse(texts["th"]) if name}
        after = source[source.index(f'key="{key}"') :]
        args = set(re.findall(r'\("([a-z]+)", ', after[: after.find(")\n")]))
        assert placeholders == args, f"{key}: wording uses {placeholders}, the factor gives {args}"


def test_a_factor_recorded_with_fewer_arguments_than_todays_wording_shows_its_own_words() -> None:
    old = RiskFactor(
        name="decision",
        value="act: exploitation active, exposure open, impact high",
        points=0.0,
        key="decision.table",
        args=(("decision", "act"),),  # an older model's record: today's wording names more
    )
    assert factor_text(old, "th") == old.value
