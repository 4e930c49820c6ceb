"""JUnit XML for CI systems: ``junit.xml``.

:func:`render_junit_cases` writes any list of :class:`JUnitCase` as one ``<testsuite>`` inside
``<testsuites>``, with counts. Text is escaped, and characters XML 1.0 cannot carry at all (C0
controls, lone surrogates, U+FFFE/U+FFFF) are shown as ``\\xNN`` / ``\\uNNNN``, so any evidence gives
a file a JUnit parser reads.

:func:`render_junit` maps a report onto cases:

- one case per finding instance, in rank order: **failure** when its severity is at or above the
  profile's ``report.fail_on``, else **passed** with the finding in ``system-out`` (the CI page
  still shows it); with no ``fail_on`` every finding passes, as the audit's exit code does;
- one case per waived or accepted finding: **skipped**, with the justification and expiry;
- one case per stage: **error** when the stage did not complete (its results cannot be trusted),
  else passed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TextIO
from xml.sax.saxutils import escape, quoteattr

from secaudit.core.model import Finding, RunStatus, Severity
from secaudit.core.report import Report
from secaudit.report.text import encodable
from secaudit.report.writers import report_writer

CaseStatus = Literal["pass", "fail", "skip", "error"]
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DETAIL_MAX = 64 * 1024  # characters of one case's detail text


@dataclass(frozen=True, slots=True, kw_only=True)
class JUnitCase:
    """One test case. ``message`` is the one-line reason; ``detail`` the body text."""

    name: str
    classname: str
    status: CaseStatus
    message: str = ""
    detail: str = ""
    file: str = ""
    line: int = 0


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """``text`` made representable in XML 1.0 (not yet escaped)."""
    return _NOT_XML.sub(_shown, encodable(text))


def _attr(value: str) -> str:
    return quoteattr(xml_text(value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _body(value: str) -> str:
    text = xml_text(value)
    if len(text) > DETAIL_MAX:
        text = text[:DETAIL_MAX] + " …"
    return escape(text)


def render_junit_cases(cases: Sequence[JUnitCase], stream: TextIO, *, suite: str) -> None:
    """Write ``cases`` as a JUnit XML document with one test suite named ``suite``."""
    failures = sum(1 for c in cases if c.status == "fail")
    errors = sum(1 for c in cases if c.status == "error")
    skipped = sum(1 for c in cases if c.status == "skip")
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    counts = f'tests="{len(cases)}" failures="{failures}" errors="{errors}" skipped="{skipped}"'
    stream.write(f"<testsuites name={_attr(suite)} {counts}>\n")
    stream.write(f"  <testsuite name={_attr(suite)} {counts}>\n")
    for case in cases:
        attrs = f"name={_attr(case.name)} classname={_attr(case.classname)}"
        if case.file:
            attrs += f" file={_attr(case.file)}"
        if case.line > 0:
            attrs += f' line="{case.line}"'
        stream.write(f"    <testcase {attrs}>")
        if case.status == "fail":
            stream.write(
                f'<failure message={_attr(case.message)} type="finding">{_body(case.detail)}</failure>'
            )
        elif case.status == "error":
            stream.write(f'<error message={_attr(case.message)} type="error">{_body(case.detail)}</error>')
        elif case.status == "skip":
            stream.write(f"<skipped message={_attr(case.message)}/>")
            if case.detail:
                stream.write(f"<system-out>{_body(case.detail)}</system-out>")
        elif case.detail:
            stream.write(f"<system-out>{_body(case.detail)}</system-out>")
        stream.write("</testcase>\n")
    stream.write("  </testsuite>\n</testsuites>\n")


def _detail(finding: Finding, extra: Sequence[str] = ()) -> str:
    lines = [
        f"{finding.severity.label}: {finding.title}",
        f"asset: {finding.asset.display} (segment {finding.asset.segment or '-'})",
        f"rule: {finding.rule_id}  fingerprint: {finding.fingerprint}",
        *extra,
    ]
    lines += [
        f"evidence: {e.summary} @ {e.location}" if e.location else f"evidence: {e.summary}"
        for e in finding.evidence
    ]
    if finding.remediation:
        lines.append(f"remediation: {finding.remediation}")
    return "\n".join(lines)


def _file_line(finding: Finding) -> tuple[str, int]:
    for evidence in finding.evidence:
        path, sep, line = evidence.location.rpartition(":")
        if evidence.kind == "config" and sep and line.isdigit():
            return path, int(line)
    return "", 0


def _part(text: str) -> str:
    """One dot-free part of a class name (CI servers split class names at dots into packages)."""
    cleaned = re.sub(r"[^A-Za-z0-9_\-]+", "_", text).strip("_")
    return cleaned or "_"


def case_names(finding: Finding) -> tuple[str, str]:
    """(classname, name) of a finding's case: ``secaudit.<source>.<segment>.<asset>`` and the rule
    id (with the evidence key when there is one). Jenkins groups by everything before the last dot
    (package ``secaudit.baseline.dmz``, class the asset) and GitLab by the class name: either way one
    group per asset, under its source and segment. Dots inside a segment or asset (an address) are
    replaced, so they never make packages of their own."""
    classname = ".".join(
        (
            "secaudit",
            finding.source.value,
            _part(finding.asset.segment or "unsegmented"),
            _part(finding.asset.key),
        )
    )
    name = f"{finding.rule_id} [{finding.evidence_key}]" if finding.evidence_key else finding.rule_id
    return classname, name


def report_cases(report: Report) -> list[JUnitCase]:
    """The cases :func:`render_junit` writes (see the module documentation)."""
    threshold = Severity.parse(report.profile.report.fail_on) if report.profile.report.fail_on else None
    cases: list[JUnitCase] = []
    for stage in report.run.stages:
        ok = stage.status is RunStatus.COMPLETED
        cases.append(
            JUnitCase(
                name=f"stage {stage.name}",
                classname="secaudit.stage",
                status="pass" if ok else "error",
                message="" if ok else f"stage {stage.name} {stage.status.value}",
                detail="\n".join(stage.errors),
            )
        )
    for row in sorted(report.rows, key=lambda r: r.rank):
        for finding in row.all_instances:
            failing = threshold is not None and finding.severity >= threshold
            file, line = _file_line(finding)
            classname, name = case_names(finding)
            cases.append(
                JUnitCase(
                    name=name,
                    classname=classname,
                    status="fail" if failing else "pass",
                    message=f"{finding.severity.label}: {finding.title}" if failing else "",
                    detail=_detail(
                        finding,
                        (f"rank {row.rank}, score {row.score:g}, {row.decision.value}, {row.status.value}",),
                    ),
                    file=file,
                    line=line,
                )
            )
    for waived in report.waived:
        finding = waived.finding
        expiry = waived.expires.date().isoformat() if waived.expires else "no expiry"
        classname, name = case_names(finding)
        cases.append(
            JUnitCase(
                name=name,
                classname=classname,
                status="skip",
                message=f"{waived.kind.value} until {expiry}: {waived.justification}",
                detail=_detail(
                    finding, (f"approved by: {waived.approved_by or '-'}  ({waived.source or '-'})",)
                ),
            )
        )
    return cases


@report_writer("junit", file_name="junit.xml")
def render_junit(report: Report, stream: TextIO) -> None:
    """Write the report as JUnit XML (suite ``secaudit <run id>``); see the module documentation."""
    render_junit_cases(report_cases(report), stream, suite=f"secaudit {report.run.id}")
