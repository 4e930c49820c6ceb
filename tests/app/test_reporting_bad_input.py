"""Bad input never costs a report: zero findings, 100,000 findings, huge evidence and bytes that were
not UTF-8 still give files that parse back, in every format the audit writes."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import orjson
import pytest

from secaudit.app.reporting import build_report, write_reports
from secaudit.core.model import Asset, Evidence, Finding, Run, RunStatus, StageResult
from secaudit.core.report import Report
from secaudit.report.json_writer import json_schema
from secaudit.report.sarif import MAX_RESULTS
from tests.report.conftest import FINISHED, STARTED, findings_from_every_source, make_profile

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "report" / "schema" / "sarif-schema-2.1.0.json"
MACHINE = ("json", "sarif", "junit", "csv", "md")


def _report(findings: list[Finding]) -> Report:
    run = Run(
        id="20260301T020000Z-bad0",
        profile_path="samples/phuket-demo.yaml",
        organisation="Phuket",
        started_at=STARTED,
        finished_at=FINISHED,
        status=RunStatus.COMPLETED,
        tool_version="0.1.0",
        risk_model="risk-2",
        stages=(StageResult(name="scan", status=RunStatus.COMPLETED, findings=len(findings)),),
    )
    return build_report(
        run=run,
        profile=make_profile(),
        findings=findings,
        new={f.fingerprint for f in findings},
        dates={},
        fixed=[],
        previous_run_id="",
        generated_at=FINISHED,
    )


def _parse_all(files: dict[str, Path]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for fmt, path in files.items():
        raw = path.read_bytes()
        text = raw.decode("utf-8")  # every file is valid UTF-8
        if fmt == "json":
            data = orjson.loads(raw)
            jsonschema.Draft202012Validator(json_schema()).validate(data)
            parsed[fmt] = data
        elif fmt == "sarif":
            data = json.loads(text)
            jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(data)
            parsed[fmt] = data
        elif fmt == "junit":
            parsed[fmt] = ElementTree.fromstring(raw)
        elif fmt == "csv":
            parsed[fmt] = list(csv.DictReader(io.StringIO(text, newline="")))
        elif fmt.startswith("html"):
            HTMLParser().feed(text)
            parsed[fmt] = text
        else:
            parsed[fmt] = text
    return parsed


def test_zero_findings(tmp_path: Path) -> None:
    files = write_reports(
        _report([]), tmp_path, formats=("html", *MACHINE), lang="en", extra_languages=("th",)
    )
    parsed = _parse_all(files)
    assert parsed["csv"] == []
    assert parsed["json"]["findings"] == [] and parsed["json"]["posture_score"] == 100.0  # type: ignore[index]
    assert "No open findings." in parsed["md"]  # type: ignore[operator]


def test_huge_evidence_and_bytes_that_were_not_utf8(tmp_path: Path) -> None:
    raw = b"\xff\xfe\xc3(<script>alert(1)</script>\x00\x1b[31m".decode("utf-8", "surrogateescape")
    base = findings_from_every_source()
    hostile = [
        replace(
            f,
            title=f.title + raw,
            description=raw * 1000,
            asset=replace(f.asset, hostname=f.asset.hostname + raw),
            evidence=(
                Evidence(
                    kind="config", summary=raw, location=f"/etc/{raw}.conf:7", excerpt=raw + "A" * 5_000_000
                ),
                *f.evidence,
            ),
        )
        for f in base
    ]
    files = write_reports(_report(hostile), tmp_path, formats=("html", *MACHINE), lang="th")
    parsed = _parse_all(files)
    rows = parsed["csv"]
    assert len(rows) == len(hostile)  # type: ignore[arg-type]
    assert all("\\xff\\xfe" in row["title"] for row in rows)  # type: ignore[union-attr]
    entry = parsed["json"]["findings"][0]  # type: ignore[index]
    assert entry["evidence"][0]["excerpt"].startswith("\\xff\\xfe\\xc3(<script>")
    assert "<script>alert(1)</script>" not in parsed["html"]  # type: ignore[operator]


def test_hundred_thousand_findings(tmp_path: Path) -> None:
    template = findings_from_every_source()
    findings = [
        replace(
            template[i % 5],
            rule_id=f"R-{i % 400}",
            title=f"rule {i % 400}",
            evidence_key=f"k{i}",
            asset=Asset(key=f"host-{i % 5000}", address=f"127.10.{i % 250}.{i % 200 + 1}"),
        )
        for i in range(100_000)
    ]
    report = _report(findings)
    assert len(report.rows) == 400
    assert sum(len(r.fingerprints) for r in report.rows) == 100_000
    files = write_reports(report, tmp_path, formats=MACHINE, lang="en")
    parsed = _parse_all(files)
    assert len(parsed["csv"]) == 100_000  # type: ignore[arg-type]
    assert parsed["json"]["summary"]["instances"] == 100_000  # type: ignore[index]
    assert len(parsed["sarif"]["runs"][0]["results"]) == MAX_RESULTS  # type: ignore[index]
    suite = parsed["junit"].find("testsuite")  # type: ignore[union-attr]
    assert suite is not None and suite.get("tests") == str(100_000 + 1)
    assert "### Top 10 of 400" in parsed["md"]  # type: ignore[operator]


@pytest.mark.parametrize("fmt", MACHINE)
def test_each_format_alone(tmp_path: Path, fmt: str) -> None:
    files = write_reports(_report(findings_from_every_source()), tmp_path, formats=(fmt,), lang="en")
    assert list(files) == [fmt]
    _parse_all(files)
