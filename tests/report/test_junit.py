from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from xml.etree import ElementTree

from secaudit.core.model import Evidence, RunStatus, StageResult, WaivedFinding, WaiverKind
from secaudit.report.junit import JUnitCase, render_junit, render_junit_cases
from tests.risk.builders import scored_report

from .conftest import findings_from_every_source


def _parse(text: str) -> ElementTree.Element:
    return ElementTree.fromstring(text.encode("utf-8"))


def test_cases_are_escaped_counted_and_parse_back() -> None:
    cases = [
        JUnitCase(name='a "quoted" <name>', classname="x.y", status="pass", detail="out & about"),
        JUnitCase(
            name="bad",
            classname="x.y",
            status="fail",
            message="it <failed>",
            detail="line\n2",
            file="f",
            line=3,
        ),
        JUnitCase(name="later", classname="x.z", status="skip", message="waived"),
        JUnitCase(
            name="broken", classname="x.z", status="error", message="boom\x00\x1b", detail="\ud800 \ufffe"
        ),
    ]
    out = io.StringIO()
    render_junit_cases(cases, out, suite="unit")
    root = _parse(out.getvalue())
    suite = root.find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "1",
        "errors": "1",
        "skipped": "1",
    }
    first, bad, later, broken = suite.findall("testcase")
    assert first.get("name") == 'a "quoted" <name>'
    assert first.findtext("system-out") == "out & about"
    failure = bad.find("failure")
    assert failure is not None and failure.get("message") == "it <failed>" and failure.text == "line\n2"
    assert (bad.get("file"), bad.get("line")) == ("f", "3")
    assert later.find("skipped") is not None
    error = broken.find("error")
    assert error is not None and error.get("message") == "boom\\x00\\x1b"
    assert error.text == "\ufffd \\ufffe"


def test_report_fails_at_or_above_fail_on_and_lists_waivers_and_stage_errors() -> None:
    waived = WaivedFinding(
        finding=findings_from_every_source()[4],
        kind=WaiverKind.ACCEPTED,
        justification="Camera replaced in Q3",
        approved_by="CISO",
        expires=datetime(2026, 9, 30, tzinfo=UTC),
        source="waivers.yaml:4",
    )
    report = scored_report(findings_from_every_source()[:4], waived=[waived], fail_on="high")
    report = replace(
        report,
        run=replace(
            report.run,
            stages=(
                StageResult(name="scan", status=RunStatus.COMPLETED),
                StageResult(name="logs", status=RunStatus.FAILED, errors=("security.evtx: bad chunk",)),
            ),
        ),
    )
    out = io.StringIO()
    render_junit(report, out)
    suite = _parse(out.getvalue()).find("testsuite")
    assert suite is not None
    # one group per asset under its source and segment; dots in an address never make packages
    by_class = {
        (c.get("classname"), (c.get("name") or "").split(" [")[0]): c for c in suite.findall("testcase")
    }
    cases = {f"{name} on {str(cls).rsplit('.', 1)[-1]}": c for (cls, name), c in by_class.items()}
    cases["stage logs"] = by_class[("secaudit.stage", "stage logs")]
    classes = {str(cls) for cls, _ in by_class}
    assert "secaudit.scan.traffic-ot.tc-patong-01" in classes
    assert all(cls.count(".") == 3 for cls in classes if cls != "secaudit.stage")
    assert cases["SCAN-TELNET on tc-patong-01"].find("failure") is not None
    assert cases["CIS-DEB12-5.1.20 on cc-app-01"].get("line") == "32"
    modbus = cases["PASSIVE-MODBUS-WRITE on tc-patong-01"]  # medium: below fail_on
    assert modbus.find("failure") is None
    assert "Modbus write requests" in (modbus.findtext("system-out") or "")
    skipped = cases["SCAN-RTSP-NOAUTH on 127_30_0_21"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "accepted until 2026-09-30: Camera replaced in Q3"
    error = cases["stage logs"].find("error")
    assert error is not None and error.text == "security.evtx: bad chunk"
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("3", "1", "1")


def test_without_fail_on_nothing_fails_and_empty_reports_are_valid() -> None:
    out = io.StringIO()
    render_junit(scored_report(), out)
    suite = _parse(out.getvalue()).find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    out = io.StringIO()
    render_junit(scored_report([]), out)
    suite = _parse(out.getvalue()).find("testsuite")
    assert suite is not None
    assert [c.get("name") for c in suite.findall("testcase")] == [
        "stage scan",
        "stage baseline",
        "stage logs",
    ]


def test_huge_and_invalid_evidence_still_parses() -> None:
    raw = b"SSH-2.0-\xff\x00\x07".decode("utf-8", "surrogateescape")
    finding = replace(
        findings_from_every_source()[0],
        evidence=(Evidence(kind="banner", summary=raw + "A" * 2_000_000),),
    )
    out = io.StringIO()
    render_junit(scored_report([finding], fail_on="low"), out)
    suite = _parse(out.getvalue()).find("testsuite")
    assert suite is not None
    failure = suite.findall("testcase")[-1].find("failure")
    assert failure is not None and failure.text is not None
    assert "SSH-2.0-\\xff\\x00\\x07" in failure.text
    assert len(failure.text) < 70_000
