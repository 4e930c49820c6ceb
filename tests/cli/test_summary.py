"""The terminal summary: counts, top risks, Thai labels, and Thai columns that line up."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from secaudit.cli.summary import print_audit_summary, top_risks
from secaudit.core.model import LocalText, RunStatus, Severity
from secaudit.core.report import Report, ReportRow
from secaudit.report.i18n import labels
from tests.report.htmlreport import full_risk_report

# Thai marks that sit above or below their letter and take no cell of their own.
THAI_MARKS = {0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)}
BOX = "┏┃┡│└┗┣┠╇╋┳┻━─"
THAI_TITLES = (
    "พบรหัสผ่านเริ่มต้นบนตู้ควบคุมสัญญาณไฟจราจรที่สี่แยกป่าตอง",
    "กล้องวงจรปิดเปิดให้ดูภาพสดได้โดยไม่ต้องยืนยันตัวตน",
    "ระบบแจ้งเตือนภัยฉุกเฉินยอมรับคำสั่งจากเครือข่ายไอที",
    "น้ำ ท่วม ห้อง เซิร์ฟเวอร์ ศูนย์ควบคุม เมืองภูเก็ต",
    "บัญชีผู้ดูแลระบบที่ไม่ได้ใช้งานยังเปิดอยู่บนเครื่องแม่ข่ายฐานข้อมูลเมือง",
)


def display_width(text: str) -> int:
    """Cells a text takes in a terminal that follows wcwidth: combining marks and format
    characters take none, wide and full-width characters two, everything else one."""
    width = 0
    for char in text:
        if ord(char) in THAI_MARKS or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _thai_report() -> Report:
    report = full_risk_report()
    rows = []
    for row, title in zip(report.rows, THAI_TITLES, strict=True):
        asset = replace(row.finding.asset, hostname=f"ตู้ควบคุม-{row.rank}", address="")
        rows.append(replace(row, finding=replace(row.finding, title=title, asset=asset), assets=(asset,)))
    return replace(report, rows=tuple(rows))


def _print(report: Report, lang: str, width: int, *, top: int = 10, quiet: bool = False) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    files = {"html": Path("/reports/r1/report.html")}
    print_audit_summary(
        console, report, lang=lang, files=files, threshold=Severity.HIGH, quiet=quiet, top=top
    )
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_rich_measures_thai_marks_as_wcwidth_does() -> None:
    # what the alignment below depends on: rich gives the marks no cell, like wcwidth
    for text in ("น้ำ", "ที่", *THAI_TITLES, *labels("th").values()):
        assert cell_len(text) == display_width(text), text


@pytest.mark.parametrize("width", [44, 60, 80, 101, 132])
def test_thai_table_lines_all_have_the_same_display_width(width: int) -> None:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(top_risks(_thai_report(), "th"))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    lines = [line for line in out.splitlines() if line and line[0] in BOX]
    assert len(lines) >= 5 + 4  # borders, header and five rows
    widths = {display_width(line) for line in lines}
    assert len(widths) == 1, sorted((display_width(line), line) for line in lines)
    assert widths.pop() <= width
    marks = 0
    for line in lines:
        for i, char in enumerate(line):
            if ord(char) in THAI_MARKS:
                marks += 1
                # never stranded at the start of a cell, after a space or the border
                assert "\u0e01" <= line[i - 1] <= "\u0e4e", (line, i)
    assert marks > 20  # the test did see Thai marks


def test_thai_titles_are_kept_whole_when_there_is_room() -> None:
    out = _print(_thai_report(), "th", 200)
    for title in THAI_TITLES:
        assert title in out


def test_english_summary_counts_and_ranks() -> None:
    report = full_risk_report()
    out = _print(report, "en", 160)
    # one row aggregates the same finding on two assets: both units are named
    assert "Current findings: 6, in 5 ranked rows" in out
    assert "Rows by decision: Act 1, Attend 3, Track* 0, Track 1" in out
    assert "Posture score: 61.2 / 100" in out
    assert "Waived or accepted: 2 findings" in out
    assert "Since the previous run (20260201T020000-pkt), in findings: New 4, Persisting 1, Fixed 1" in out
    assert "Top 5 of 5 risks" in out
    rows = [line for line in out.splitlines() if line.startswith("│") and line.split("│")[1].strip()]
    got = [tuple(cell.strip() for cell in line.split("│")[1:7]) for line in rows]
    assert got == [
        (
            str(r.rank),
            r.decision.value.capitalize(),
            f"{r.score:.1f}",
            r.finding.severity.label.capitalize(),
            r.finding.title,
            _asset(r),
        )
        for r in report.rows
    ]
    assert "  Completed scan: findings: 2, items checked: 12, 93.2 s" in out
    # the last line is the gate: the exit code and why (four findings, one row of them on two assets)
    assert out.rstrip().splitlines()[-2:] == [
        "Report (html): /reports/r1/report.html",
        "exit 1: 4 findings at or above High",
    ]


def _asset(row: ReportRow) -> str:
    assets = row.assets
    more = f" and {len(assets) - 1} more" if len(assets) > 1 else ""
    return f"{assets[0].display}{more}"


def test_top_limits_the_table_and_quiet_prints_only_files() -> None:
    report = full_risk_report()
    out = _print(report, "en", 160, top=2)
    assert "Top 2 of 5 risks" in out
    assert report.rows[1].finding.title in out and report.rows[2].finding.title not in out
    quiet = _print(report, "en", 160, quiet=True)
    assert quiet.strip() == "Report (html): /reports/r1/report.html"


def test_thai_summary_has_thai_labels_only() -> None:
    out = _print(_thai_report(), "th", 160)
    th, en = labels("th"), labels("en")
    for key in (
        "total_findings",
        "posture_score",
        "decision.act",
        "rank",
        "decision",
        "score",
        "finding",
        "asset",
    ):
        assert th[key] in out, key
    for key in ("total_findings", "posture_score", "waived_or_accepted", "trend", "rank", "finding", "asset"):
        assert en[key] not in out, key
    assert out.rstrip().endswith("รหัสออก 1: พบข้อตรวจพบ 4 รายการที่ความรุนแรงระดับ สูง ขึ้นไป")
    assert "รายงาน (html): /reports/r1/report.html" in out
    assert " Act " not in out and "Completed" not in out


def test_terminal_control_sequences_and_markup_in_findings_are_printed_inert() -> None:
    report = full_risk_report()
    hostile = report.rows[0]
    title = "\x1b[2J\x1b]0;owned\x07[bold red]fake[/bold red] \ud83d"
    rows = (replace(hostile, finding=replace(hostile.finding, title=title)), *report.rows[1:])
    out = _print(replace(report, rows=rows), "en", 200)
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J\\x1b]0;owned\\x07[bold red]fake[/bold red] \ufffd" in out


def test_no_per_asset_count_when_every_row_is_one_finding() -> None:
    from tests.report.conftest import findings_from_every_source, make_report

    out = _print(make_report(findings_from_every_source()), "en", 160)
    assert "Current findings: " in out
    assert "counted per asset" not in out


def _column(out: str, index: int) -> list[str]:
    """The cells of one column of the top-risks table, each row's folded lines joined back (spaces
    dropped: where a line breaks is rich's choice)."""
    cells: list[str] = []
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        parts = line.split("│")
        if parts[1].strip():  # a rank: a new row
            cells.append("")
        cells[-1] += "".join(parts[index].split())
    return cells


@pytest.mark.parametrize("width", [80, 60])
def test_identifiers_and_addresses_are_folded_never_cut(width: int) -> None:
    long_host = "signal-controller-patong-junction-0001.traffic.phuket-demo.example"
    report = full_risk_report()
    first = report.rows[0]
    asset = replace(first.finding.asset, hostname=long_host, address="127.20.1.250")
    rule = "EXP-SNMP-DEFAULT-COMMUNITY-ON-SIGNAL-CONTROLLER"
    finding = replace(first.finding, asset=asset, rule_id=rule, title=f"{rule} on 127.20.1.250")
    rows = (replace(first, finding=finding, assets=(asset,)), *report.rows[1:])
    out = _print(replace(report, rows=rows), "en", width)
    assert "…" not in out
    assert _column(out, 5)[0] == f"{rule}on127.20.1.250"  # folded lines joined: every character kept
    assert _column(out, 6)[0] == f"{long_host}(127.20.1.250)"


def test_the_gate_line_says_which_exit_and_why() -> None:
    report = full_risk_report()
    assert _print(report, "en", 120).rstrip().endswith("exit 1: 4 findings at or above High")
    console = Console(file=io.StringIO(), width=120, color_system=None)
    for threshold, line in (
        (Severity.CRITICAL, "exit 1: 1 findings at or above Critical"),
        (None, "gate: off, no --fail-on severity set (exit 0)"),
    ):
        print_audit_summary(console, report, lang="en", files={}, threshold=threshold)
        assert console.file.getvalue().rstrip().endswith(line)  # type: ignore[attr-defined]
    clean = replace(report, rows=tuple(r for r in report.rows if r.finding.severity < Severity.HIGH))
    print_audit_summary(console, clean, lang="en", files={}, threshold=Severity.HIGH)
    assert console.file.getvalue().rstrip().endswith("gate: none at or above High (exit 0)")  # type: ignore[attr-defined]
    partial = replace(report, run=replace(report.run, status=RunStatus.INCOMPLETE))
    print_audit_summary(console, partial, lang="en", files={}, threshold=Severity.HIGH)
    assert (
        console.file.getvalue()
        .rstrip()
        .endswith(  # type: ignore[attr-defined]
            "exit 3: the run did not complete; findings that are absent prove nothing"
        )
    )


def test_top_risks_say_each_findings_own_thai_title_in_thai() -> None:
    report = full_risk_report()
    first = report.rows[0]
    thai = LocalText(lang="th", title="ปิดบริการ telnet บนตัวควบคุมสัญญาณไฟจราจร")
    rows = (replace(first, finding=replace(first.finding, texts=(thai,))), *report.rows[1:])
    report = replace(report, rows=rows)
    assert thai.title in _print(report, "th", 200)
    english = _print(report, "en", 200)
    assert first.finding.title in english and thai.title not in english
