"""The findings documents and the Kibana dashboard that reads them (no cluster needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from secaudit.app.reporting import build_report
from secaudit.catalog.profile import load_profile
from secaudit.core.model import Asset, Evidence, Finding, Run, RunStatus, Severity, Source
from secaudit.core.report import Report
from secaudit.elastic.findings import finding_documents, findings_template

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "data" / "kibana" / "secaudit-dashboard.ndjson"
WHEN = datetime(2026, 11, 21, 2, tzinfo=UTC)


def _report(findings: list[Finding], fixed: tuple[Finding, ...] = ()) -> Report:
    profile = load_profile(REPO / "samples" / "phuket-demo.yaml", require_valid_authorization=False)
    run = Run(
        id="20261121T020000Z-abcd",
        profile_path="samples/phuket-demo.yaml",
        organisation=profile.organisation,
        started_at=WHEN,
        status=RunStatus.COMPLETED,
        finished_at=WHEN,
    )
    return build_report(
        run=run,
        profile=profile,
        findings=findings,
        new={f.fingerprint for f in findings},
        dates={f.fingerprint: (WHEN, WHEN) for f in findings},
        fixed=fixed,
        previous_run_id="",
        generated_at=WHEN,
    )


def _finding(n: int, excerpt: str = "") -> Finding:
    return Finding(
        rule_id="exposure-telnet",
        source=Source.SCAN,
        severity=Severity.HIGH,
        title="Telnet open",
        asset=Asset(key=f"signal-ctl-0{n}", address=f"127.20.2.{n}", segment="traffic-control"),
        evidence_key="tcp/23",
        evidence=(
            Evidence(kind="service", summary="telnet", location=f"127.20.2.{n}:23/tcp", excerpt=excerpt),
        ),
    )


def test_one_document_per_instance_with_its_fingerprint_as_id() -> None:
    open_ = [_finding(1, excerpt="login: admin password: hunter2"), _finding(2)]
    gone = _finding(3)
    docs = dict(finding_documents(_report(open_, fixed=(gone,))))
    assert set(docs) == {f.fingerprint for f in [*open_, gone]}
    first = docs[open_[0].fingerprint]
    assert first["run_id"] == "20261121T020000Z-abcd"
    assert first["rule_id"] == "exposure-telnet"
    assert first["asset"]["key"] == "signal-ctl-01"
    assert first["decision"] in {"act", "attend", "track*", "track"}
    assert first["risk_score"] > 0
    assert first["status"] == "new"
    assert first["evidence_locations"] == ["127.20.2.1:23/tcp"]
    assert docs[gone.fingerprint]["status"] == "fixed"
    assert "hunter2" not in json.dumps(docs)  # evidence excerpts are not published
    mapped = set(findings_template()["template"]["mappings"]["properties"])
    assert {key for doc in docs.values() for key in doc} <= mapped


def test_dashboard_objects_reference_each_other_and_mapped_fields() -> None:
    objects = [json.loads(line) for line in DASHBOARD.read_text(encoding="utf-8").splitlines()]
    ids = {(o["type"], o["id"]) for o in objects}
    assert ("index-pattern", "secaudit-findings") in ids
    assert {o["type"] for o in objects} == {"index-pattern", "search", "visualization", "dashboard"}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, ref
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    names = {r["name"] for r in dashboard["references"]}
    assert {p["panelRefName"] for p in json.loads(dashboard["attributes"]["panelsJSON"])} == names
    properties = findings_template()["template"]["mappings"]["properties"]
    mapped = set(properties) | {f"asset.{k}" for k in properties["asset"]["properties"]}
    for obj in objects:
        if obj["type"] == "visualization":
            for agg in json.loads(obj["attributes"]["visState"])["aggs"]:
                if "field" in agg["params"]:
                    assert agg["params"]["field"] in mapped
        if obj["type"] == "search":
            assert set(obj["attributes"]["columns"]) <= mapped
