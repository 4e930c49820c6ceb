from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import jsonschema
import orjson
import pytest

from secaudit.core.model import Evidence, RunStatus, StageResult, WaivedFinding, WaiverKind
from secaudit.core.report import ControlCoverage, Report
from secaudit.core.serialize import finding_from_dict
from secaudit.report.json_writer import SCHEMA_ID, json_schema, render_json
from tests.risk.builders import scored_report

from .conftest import FIXED_FINDING, TRAFFIC, findings_from_every_source, make_report


def _render(report: Report) -> str:
    out = io.StringIO()
    render_json(report, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_output_validates_against_the_shipped_schema(
    full_report: Report, validator: jsonschema.Draft202012Validator
) -> None:
    data = json.loads(_render(full_report))
    validator.validate(data)
    assert data["schema"] == SCHEMA_ID
    assert data["run"]["risk_model"] == full_report.run.risk_model
    assert data["authorization"]["reference"] == "PKT-SC-2026-014"
    assert data["trend"] == {"previous_run_id": "20260201T020000-pkt", "new": 4, "persisting": 1, "fixed": 1}
    assert data["summary"]["by_source"] == {"scan": 2, "passive": 1, "baseline": 1, "detection": 1, "vuln": 0}
    assert data["summary"]["by_severity"] == {"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 0}
    assert data["summary"]["partial"] is False
    assert data["waived"] == [] and data["compliance"] == []


def test_findings_in_rank_order_round_trip(full_report: Report) -> None:
    data = json.loads(_render(full_report))
    entries = data["findings"]
    assert [e["rank"] for e in entries] == [1, 2, 3, 4, 5]
    assert [e["fingerprint"] for e in entries] == [r.finding.fingerprint for r in full_report.rows]
    assert [finding_from_dict(e) for e in entries] == [r.finding for r in full_report.rows]
    top = entries[0]
    assert (top["rule_id"], top["status"], top["first_seen"]) == (
        "5af54681-df95-4c26-854f-2565e13cfab0",
        "new",
        "2026-03-01T02:00:00+07:00",
    )
    baseline = next(e for e in entries if e["source"] == "baseline")
    assert (baseline["status"], baseline["first_seen"]) == ("persisting", "2026-02-01T02:00:00+07:00")
    assert [e["fingerprint"] for e in data["fixed"]] == [FIXED_FINDING.fingerprint]
    assert finding_from_dict(data["fixed"][0]) == FIXED_FINDING


def test_output_is_deterministic_with_sorted_keys(full_report: Report) -> None:
    first, second = _render(full_report), _render(full_report)
    assert first == second
    assert first.endswith("}\n")
    data = json.loads(first)
    assert list(data) == sorted(data)
    assert list(data["findings"][0]) == sorted(data["findings"][0])


def test_empty_and_partial_runs_validate(validator: jsonschema.Draft202012Validator) -> None:
    failed_stage = StageResult(
        name="logs",
        status=RunStatus.FAILED,
        errors=("logs/security.evtx: not an EVTX file (bad signature)",),
    )
    report = make_report([], stages=[failed_stage], status=RunStatus.INCOMPLETE)
    report = replace(report, run=replace(report.run, finished_at=None))
    data = json.loads(_render(report))
    validator.validate(data)
    assert data["findings"] == []
    assert data["run"]["finished_at"] is None
    assert data["summary"]["partial"] is True
    assert data["run"]["stages"][0]["errors"] == ["logs/security.evtx: not an EVTX file (bad signature)"]


def test_bytes_that_were_not_utf8_still_give_valid_json(validator: jsonschema.Draft202012Validator) -> None:
    # A banner read with surrogateescape keeps raw bytes as lone surrogates.
    banner = b"SSH-2.0-\xff\xfeOpenSSH".decode("utf-8", "surrogateescape")
    finding = findings_from_every_source()[0]
    finding = replace(finding, evidence=(Evidence(kind="banner", summary="banner", excerpt=banner),))
    text = _render(make_report([finding]))
    text.encode("utf-8")  # would raise on a lone surrogate
    data = json.loads(text)
    validator.validate(data)
    assert data["findings"][0]["evidence"][0]["excerpt"] == "SSH-2.0-\\xff\\xfeOpenSSH"


def test_schema_rejects_a_wrong_document(
    full_report: Report, validator: jsonschema.Draft202012Validator
) -> None:
    data = json.loads(_render(full_report))
    data["findings"][0]["severity"] = "severe"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(data)


def test_version_2_carries_risk_aggregation_waivers_and_compliance(
    validator: jsonschema.Draft202012Validator,
) -> None:
    telnet = findings_from_every_source()[0]
    other = replace(telnet, asset=replace(TRAFFIC, key="tc-kata-02", address="127.20.0.12"))
    waived = WaivedFinding(
        finding=findings_from_every_source()[2],
        kind=WaiverKind.ACCEPTED,
        justification="vendor tool needs it until March",
        approved_by="CISO",
        expires=datetime(2026, 3, 31, tzinfo=UTC),
        source="waivers.yaml:3",
    )
    coverage = ControlCoverage(
        framework="cis-controls-v8",
        control="4.6",
        name="Manage",
        checked=3,
        failing=1,
        framework_controls=153,
    )
    report = scored_report([telnet, other], waived=[waived], compliance=[coverage])
    data = json.loads(_render(report))
    validator.validate(data)
    assert data["schema"] == "secaudit.findings/2"
    assert data["run"]["risk_model"] == "risk-3"
    (entry,) = data["findings"]
    assert [a["key"] for a in entry["assets"]] == ["tc-kata-02", "tc-patong-01"]
    assert entry["fingerprints"] == [other.fingerprint, telnet.fingerprint]
    assert entry["fingerprint"] == other.fingerprint
    assert (entry["score"], entry["decision"], entry["likelihood"], entry["impact"]) == (64.0, "attend", 2, 5)
    assert {"name": "criticality", "value": "public-safety-critical", "points": 20.0} in entry["factors"]
    assert data["summary"]["instances"] == 2 and data["summary"]["waived"] == 1
    assert data["summary"]["by_decision"] == {"act": 0, "attend": 1, "track*": 0, "track": 0}
    assert data["posture_score"] == report.posture_score
    assert data["waived"][0]["kind"] == "accepted"
    assert data["compliance"][0]["status"] == "failed"
    assert data["compliance_summary"] == [
        {
            "framework": "cis-controls-v8",
            "controls": 153,
            "assessed": 1,
            "passed": 0,
            "failed": 1,
            "not_applicable": 0,
            "unassessed": 152,
            "unassessed_controls": [],  # only the controls the report holds are listed by id
        }
    ]
    assert data["waived"][0]["expires"] == "2026-03-31T00:00:00+00:00"
    assert finding_from_dict(data["waived"][0]["finding"]) == waived.finding
    assert data["compliance"] == [
        {
            "framework": "cis-controls-v8",
            "control": "4.6",
            "name": "Manage",
            "name_th": "",
            "status": "failed",
            "checked": 3,
            "failing": 1,
            "passing": 0,
            "not_applicable": 0,
            "framework_controls": 153,
        }
    ]


def test_hundred_thousand_findings_give_valid_json() -> None:
    template = findings_from_every_source()[1]
    findings = [
        replace(template, rule_id=f"R-{i % 50}", evidence_key=f"k{i}", title=f"t{i}") for i in range(100_000)
    ]
    report = scored_report(findings)
    data = orjson.loads(_render(report))
    assert len(data["findings"]) == 100_000
    assert data["summary"]["instances"] == 100_000
    assert [e["rank"] for e in data["findings"][:3]] == [1, 2, 3]
