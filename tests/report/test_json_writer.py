from __future__ import annotations

import io
import json
from dataclasses import replace

import jsonschema
import pytest

from secaudit.core.model import Evidence, RunStatus, StageResult
from secaudit.core.report import Report
from secaudit.core.serialize import finding_from_dict
from secaudit.report.json_writer import SCHEMA_ID, json_schema, render_json

from .conftest import FIXED_FINDING, findings_from_every_source, make_report


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
    assert data["run"]["risk_model"] == "rank-1"
    assert data["authorization"]["reference"] == "PKT-SC-2026-014"
    assert data["trend"] == {"previous_run_id": "20260201T020000-pkt", "new": 4, "persisting": 1, "fixed": 1}
    assert data["summary"]["by_source"] == {"scan": 2, "passive": 1, "baseline": 1, "detection": 1}
    assert data["summary"]["by_severity"] == {"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 0}
    assert data["summary"]["partial"] is False


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
