"""Builders for history tests: findings and runs with fixed, timezone-aware times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    Reference,
    RefKind,
    Run,
    RunStatus,
    Severity,
    Source,
    StageResult,
)

T0 = datetime(2026, 8, 5, 1, 0, tzinfo=UTC)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def finding(
    rule_id: str, asset: str, key: str = "", *, source: Source = Source.SCAN, sev: Severity = Severity.HIGH
) -> Finding:
    return Finding(
        rule_id=rule_id,
        source=source,
        severity=sev,
        title=f"{rule_id} on {asset}",
        asset=Asset(
            key=asset, address="127.0.0.1", role="traffic-controller", criticality=Criticality.CRITICAL
        ),
        description="what is wrong",
        remediation="what to change",
        evidence_key=key,
        evidence=(
            Evidence(kind="port", summary="tcp/23 open", location="127.0.0.1:23/tcp", excerpt="login:"),
        ),
        references=(Reference(kind=RefKind.CIS, id="2.2.1"),),
        observed_at=T0,
        producer="test",
    )


TELNET = finding("SCAN-TELNET", "tc-01", "tcp/23")
SNMP = finding("SCAN-SNMP-PUBLIC", "tc-02", "udp/161", sev=Severity.CRITICAL)
SSH_ROOT = finding("BL-SSH-ROOT", "cc-app-01", "PermitRootLogin", source=Source.BASELINE, sev=Severity.MEDIUM)


def run(run_id: str, hours: int) -> Run:
    return Run(
        id=run_id,
        profile_path="/etc/secaudit/phuket.yaml",
        organisation="Phuket City Command Center",
        started_at=at(hours),
        tool_version="0.1.0",
        risk_model="rm-1",
        authorization_ref="PKT-AUTH-2026-07",
    )


def done(r: Run, status: RunStatus = RunStatus.COMPLETED, *stages: StageResult) -> Run:
    """The run as it ends, ten minutes after it started."""
    return replace(r, status=status, finished_at=r.started_at + timedelta(minutes=10), stages=stages)


ALL_SOURCES = frozenset(Source)
