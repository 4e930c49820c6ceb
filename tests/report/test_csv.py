from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime

from secaudit.core.model import Evidence, WaivedFinding, WaiverKind
from secaudit.report.csv_writer import COLUMNS, render_csv, safe_cell
from tests.risk.builders import scored_report

from .conftest import TRAFFIC, findings_from_every_source


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _render(report: object) -> str:
    out = io.StringIO(newline="")
    render_csv(report, out)  # type: ignore[arg-type]
    return out.getvalue()


def test_one_row_per_instance_with_stable_columns() -> None:
    telnet = findings_from_every_source()[0]
    second = replace(telnet, asset=replace(TRAFFIC, key="tc-kata-02", address="127.20.0.12"))
    report = scored_report([telnet, second, *findings_from_every_source()[1:]])
    text = _render(report)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert text.endswith("\r\n")
    rows = _rows(text)
    telnet_rows = [r for r in rows if r["rule_id"] == "SCAN-TELNET"]
    assert [r["asset"] for r in telnet_rows] == [
        "tc-kata-02",
        "tc-patong-01",
    ]  # equal scores: asset key order
    assert {r["rank"] for r in telnet_rows} == {"2"}
    baseline = next(r for r in rows if r["rule_id"] == "CIS-DEB12-5.1.20")
    assert baseline["cis_refs"] == "cis:Debian 12 5.1.20"
    assert baseline["location"] == "/etc/ssh/sshd_config:32"
    assert (baseline["decision"], baseline["score"], baseline["segment"]) == (
        "track*",
        "37.5",
        "command-center",
    )
    assert [r["fingerprint"] for r in rows[:3]] == [
        report.rows[0].finding.fingerprint,
        *report.rows[1].fingerprints,
    ]


def test_formula_cells_are_defused_and_waivers_listed() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [safe_cell(v) for v in ("+1", "-1", "@SUM(A1)", "\tx", "plain")] == [
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "plain",
    ]
    hostile = replace(findings_from_every_source()[0], title="=cmd|' /C calc'!A0", evidence_key="@A1")
    waived = WaivedFinding(
        finding=findings_from_every_source()[2],
        kind=WaiverKind.WAIVED,
        justification="-root login needed by the vendor tool",
        expires=datetime(2026, 12, 1, tzinfo=UTC),
        source="waivers.yaml:9",
    )
    rows = _rows(_render(scored_report([hostile], waived=[waived])))
    assert rows[0]["title"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["evidence_key"] == "'@A1"
    assert (rows[1]["status"], rows[1]["waiver"], rows[1]["rank"]) == ("waived", "waived", "")
    assert rows[1]["waiver_justification"] == "'-root login needed by the vendor tool"
    assert rows[1]["waiver_expires"] == "2026-12-01T07:00:00+07:00"  # in the profile's zone


def test_empty_invalid_utf8_and_huge_cells() -> None:
    assert _rows(_render(scored_report([]))) == []
    raw = b"\xff\xfebanner\x00".decode("utf-8", "surrogateescape")
    finding = replace(
        findings_from_every_source()[0],
        title=raw,
        remediation="R" * 100_000,
        evidence=(Evidence(kind="banner", summary="s", location="127.20.0.11:23/tcp"),),
    )
    text = _render(scored_report([finding]))
    text.encode("utf-8")
    row = _rows(text)[0]
    assert row["title"] == "\\xff\\xfebanner\\x00"
    assert len(row["remediation"]) < 32_100
