"""The audit's detect stage over the demo profile's collected logs: our own rules, the profile's
placeholders, one finding per rule and asset with the matches as evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from secaudit.app.detect import run_detect_stage
from secaudit.catalog.profile import load_profile
from secaudit.core.model import Criticality, RunStatus, Severity, Source
from tests.conftest import DEMO_PROFILE

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

EXPECTED = {
    # (asset, title): severity
    ("cc-app-01", "SSH Brute Force from One Source"): Severity.HIGH,
    ("cc-app-01", "SSH Login Succeeded After Repeated Failures"): Severity.HIGH,
    ("cc-app-01", "Interactive Root Shell Opened Through sudo"): Severity.HIGH,
    ("cc-app-01", "Local Account Added to an Administrative Group"): Severity.HIGH,
    ("citizen-portal", "SQL Injection Attempt Against a City Portal"): Severity.HIGH,
    ("citizen-portal", "Path Traversal Attempt Against a City Portal"): Severity.HIGH,
    ("citizen-portal", "Attack Tool User-Agent Seen by a City Portal"): Severity.MEDIUM,
    ("signal-ctl-01", "Modbus Write from a Host Other Than an Engineering Workstation"): Severity.CRITICAL,
    ("core-rtr-01", "Network Device Login from Outside the Management Segment"): Severity.HIGH,
    ("ops-ws-01", "Autostart Registry Run Key Written on an Operator Workstation"): Severity.MEDIUM,
}


def test_demo_logs_give_one_finding_per_rule_and_asset(tmp_path: Path) -> None:
    profile = load_profile(DEMO_PROFILE, now=NOW)
    out = run_detect_stage(profile, run_dir=tmp_path, now=NOW, progress=lambda event: None)
    assert out.result.status is RunStatus.COMPLETED, out.result.errors
    assert out.result.errors == ()
    got = {(f.asset.key, f.title): f.severity for f in out.findings}
    assert got == EXPECTED
    assert all(f.source is Source.DETECTION and f.rule_id.startswith("sigma:") for f in out.findings)

    modbus = next(f for f in out.findings if f.asset.key == "signal-ctl-01")
    assert modbus.asset.criticality is Criticality.PUBLIC_SAFETY_CRITICAL
    assert modbus.asset.segment == "traffic-control"
    # the engineering workstation's write (127.20.1.11) is allowed by the placeholder; the broker's is not
    assert [e.location for e in modbus.evidence] == [f"{profile.log_sources[2].paths[0]}:4"]
    assert "127.20.4.11" in modbus.evidence[0].excerpt

    brute = next(f for f in out.findings if f.title == "SSH Brute Force from One Source")
    assert "127.20.5.10" in brute.evidence[0].summary
    assert dict(brute.evidence[0].attributes)["rule_author"] == "secaudit"
    assert any(r.id == "T1110" or r.id.startswith("T1110") for r in brute.references)

    hits = [json.loads(line) for line in (tmp_path / "hits.jsonl").read_text().splitlines()]
    assert {h["rule_title"] for h in hits} == {title for _, title in EXPECTED}
    assert out.result.items == 24 + 6 + 4 + 3 + 1  # events read from the five log sources


def test_identical_runs_give_identical_fingerprints(tmp_path: Path) -> None:
    profile = load_profile(DEMO_PROFILE, now=NOW)
    first = run_detect_stage(profile, run_dir=tmp_path / "a", now=NOW, progress=lambda event: None)
    second = run_detect_stage(profile, run_dir=tmp_path / "b", now=NOW, progress=lambda event: None)
    assert sorted(f.fingerprint for f in first.findings) == sorted(f.fingerprint for f in second.findings)
    assert len({f.fingerprint for f in first.findings}) == len(EXPECTED)


def test_rules_that_cannot_run_are_named_once_in_the_stage_errors(tmp_path: Path) -> None:
    """Without its placeholder values the Modbus rule cannot run: the stage says so (once, not once per
    log source) instead of reporting a clean detection over five sources."""
    profile = load_profile(DEMO_PROFILE, now=NOW)
    bare = replace(profile, detection=replace(profile.detection, placeholders={}))
    out = run_detect_stage(bare, run_dir=tmp_path, now=NOW, progress=lambda event: None)
    not_run = [e for e in out.result.errors if e.startswith("rule could not run")]
    assert len(profile.log_sources) > 1
    assert len(not_run) == 2, out.result.errors
    assert any(
        "(critical): Modbus Write from a Host Other Than an Engineering Workstation" in e for e in not_run
    )
    assert all("%ot_engineering_workstations%" in e for e in not_run)
    assert "Modbus Write from a Host Other Than an Engineering Workstation" not in {
        f.title for f in out.findings
    }
