from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from secaudit.core.model import Asset, Evidence, Finding, Severity, Source
from secaudit.core.report import Report
from secaudit.report.sarif import FINGERPRINT_KEY, MAX_RESULTS, render_sarif, render_sarif_findings
from tests.risk.builders import scored_report

from .conftest import findings_from_every_source
from .htmlreport import full_risk_report

SCHEMA = Path(__file__).resolve().parent / "schema" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def _sarif(report: Report) -> dict[str, Any]:
    out = io.StringIO()
    render_sarif(report, out)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_report_sarif_is_valid_and_in_rank_order(validator: jsonschema.Draft4Validator) -> None:
    report = scored_report()
    data = _sarif(report)
    validator.validate(data)
    run = data["runs"][0]
    results = run["results"]
    assert [r["partialFingerprints"][FINGERPRINT_KEY] for r in results] == [
        row.finding.fingerprint for row in report.rows
    ]
    assert [r["properties"]["rank"] for r in results] == [1, 2, 3, 4, 5]
    assert results[0]["ruleId"] == "5af54681-df95-4c26-854f-2565e13cfab0"
    assert results[0]["properties"]["decision"] == "act"
    rules = run["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == [r["ruleId"] for r in results]
    telnet = next(rule for rule in rules if rule["id"] == "SCAN-TELNET")
    assert telnet["properties"]["security-severity"] == "8.0"
    assert telnet["help"]["text"].startswith("Disable Telnet")
    assert "cwe:CWE-319" in telnet["properties"]["tags"]
    assert run["properties"]["secaudit"]["results_left_out"] == 0


def test_every_result_has_a_physical_location() -> None:
    data = _sarif(scored_report())
    by_rule = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in data["runs"][0]["results"]}
    # a configuration finding: the file and line of its evidence
    assert by_rule["CIS-DEB12-5.1.20"] == {
        "artifactLocation": {"uri": "file:///etc/ssh/sshd_config"},
        "region": {"startLine": 32},
    }
    # network findings: the profile the run used
    # network findings: the profile the run used, relative to its own folder
    assert by_rule["SCAN-TELNET"]["artifactLocation"] == {
        "uri": "phuket-demo.yaml",
        "uriBaseId": "PROFILEROOT",
    }
    assert by_rule["SCAN-RTSP-NOAUTH"]["region"] == {"startLine": 1}
    # a detection: its log file
    assert by_rule["5af54681-df95-4c26-854f-2565e13cfab0"]["artifactLocation"]["uri"] == "security.evtx"


def test_lower_level_writer_relative_uris_and_severity_order(
    tmp_path: Path, validator: jsonschema.Draft4Validator
) -> None:
    config = tmp_path / "etc" / "nginx" / "nginx conf"
    low = Finding(
        rule_id="nginx-server-tokens-off",
        source=Source.BASELINE,
        severity=Severity.LOW,
        title="Not met: hide the server version",
        asset=Asset(key="web-01"),
        evidence=(Evidence(kind="config", summary="server_tokens on", location=f"{config}:7"),),
    )
    high = replace(low, rule_id="nginx-autoindex-off", severity=Severity.HIGH, title="Not met: no listings")
    out = io.StringIO()
    render_sarif_findings([low, high], out, tool_version="9.9", default_uri="targets.txt", base_dir=tmp_path)
    data = json.loads(out.getvalue())
    validator.validate(data)
    results = data["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["nginx-autoindex-off", "nginx-server-tokens-off"]
    assert [r["level"] for r in results] == ["error", "note"]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "etc/nginx/nginx%20conf"}, "region": {"startLine": 7}}
    assert data["runs"][0]["tool"]["driver"]["version"] == "9.9"


def test_at_most_5000_results_highest_ranked_first(validator: jsonschema.Draft4Validator) -> None:
    template = findings_from_every_source()[0]
    findings = [
        replace(template, asset=replace(template.asset, key=f"host-{i:05d}"), severity=Severity.MEDIUM)
        for i in range(MAX_RESULTS + 200)
    ]
    findings.append(replace(template, rule_id="TOP", title="the worst", severity=Severity.CRITICAL))
    data = _sarif(scored_report(findings))
    validator.validate(data)
    run = data["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    assert run["results"][0]["ruleId"] == "TOP"
    assert run["properties"]["secaudit"] == {
        "results_total": MAX_RESULTS + 201,
        "results_written": MAX_RESULTS,
        "results_left_out": 201,
        "run_id": "20260301T020000-pkt",
        "risk_model": "risk-3",
        "posture_score": pytest.approx(data["runs"][0]["properties"]["secaudit"]["posture_score"]),
        "suppressed": 0,
    }


def test_empty_report_and_hostile_evidence(validator: jsonschema.Draft4Validator) -> None:
    empty = _sarif(scored_report([]))
    validator.validate(empty)
    assert empty["runs"][0]["results"] == []
    banner = b"\xff\xfe<script>alert(1)</script>".decode("utf-8", "surrogateescape")
    finding = replace(
        findings_from_every_source()[0],
        evidence=(Evidence(kind="banner", summary=banner + "x" * 3_000_000, location="127.20.0.11:23/tcp"),),
    )
    data = _sarif(scored_report([finding]))
    validator.validate(data)
    message = data["runs"][0]["results"][0]["message"]["text"]
    assert "\\xff\\xfe<script>" in message
    assert len(message) < 2100  # cut at 2,000 characters; each raw byte is then shown as 4


def test_offline_targets_point_into_their_root_relative_to_the_profile_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "ci-workspace"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # where the tool runs from does not matter
    audit = tmp_path / "audit"
    root = audit / "snapshots" / "cc-app-01"
    finding = replace(
        findings_from_every_source()[2],
        evidence=(
            Evidence(
                kind="config",
                summary="PermitRootLogin yes",
                location="/etc/ssh/sshd_config:3",
                attributes=(("baseline", "openssh-server"), ("target", f"offline:{root}")),
            ),
        ),
    )
    report = scored_report([finding])
    report = replace(report, profile=replace(report.profile, path=str(audit / "city.yaml")))
    data = _sarif(report)
    run = data["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "snapshots/cc-app-01/etc/ssh/sshd_config", "uriBaseId": "PROFILEROOT"},
        "region": {"startLine": 3},
    }
    assert run["originalUriBaseIds"] == {"PROFILEROOT": {"uri": audit.as_uri() + "/"}}
    network = replace(findings_from_every_source()[0], evidence=())
    data = _sarif(replace(report, rows=scored_report([network]).rows))
    uri = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "city.yaml", "uriBaseId": "PROFILEROOT"}
    assert "ci-workspace" not in json.dumps(data) and "site-packages" not in json.dumps(data)


def test_waived_and_accepted_findings_are_suppressed_results_with_their_justification(
    validator: jsonschema.Draft4Validator,
) -> None:
    report = full_risk_report()
    assert report.waived
    data = _sarif(report)
    validator.validate(data)
    results = data["runs"][0]["results"]
    open_results = [r for r in results if "suppressions" not in r]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(open_results) == sum(len(r.all_instances) for r in report.rows)
    assert [r["partialFingerprints"][FINGERPRINT_KEY] for r in suppressed] == [
        w.finding.fingerprint for w in report.waived
    ]
    for result, waived in zip(suppressed, report.waived, strict=True):
        (suppression,) = result["suppressions"]
        assert suppression["kind"] == "external" and suppression["status"] == "accepted"
        assert suppression["justification"] == waived.justification
        assert suppression["properties"]["waiver"] == waived.kind.value
        assert suppression["properties"]["approved_by"] == waived.approved_by
        assert suppression["properties"]["source"] == waived.source
    assert data["runs"][0]["properties"]["secaudit"]["suppressed"] == len(report.waived)
