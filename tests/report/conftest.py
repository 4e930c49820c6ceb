"""Reports built by hand from the core's frozen dataclasses: one finding from every source."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

import pytest

from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    Reference,
    RefKind,
    Run,
    RunStatus,
    SegmentKind,
    Severity,
    Source,
    StageResult,
    Status,
)
from secaudit.core.profile import Authorization, InventoryAsset, Profile, Segment
from secaudit.core.report import Report, ReportRow, Trend
from secaudit.risk.rank import RISK_MODEL_VERSION, rank

BKK = timezone(timedelta(hours=7))
STARTED = datetime(2026, 3, 1, 2, 0, tzinfo=BKK)
FINISHED = datetime(2026, 3, 1, 2, 41, 7, tzinfo=BKK)
EARLIER = datetime(2026, 2, 1, 2, 0, tzinfo=BKK)


def _segment(name: str, cidr: str, kind: SegmentKind, owner: str, crit: Criticality) -> Segment:
    return Segment(
        name=name,
        cidrs=(ipaddress.ip_network(cidr),),
        kind=kind,
        owner=owner,
        criticality=crit,
        scan_profile="ot-safe" if kind is SegmentKind.OT else "standard",
    )


def make_profile() -> Profile:
    return Profile(
        path="samples/phuket-demo.yaml",
        organisation="Phuket City Municipality — Smart City Command Center",
        timezone="Asia/Bangkok",  # the report shows every time in the city's zone
        authorization=Authorization(
            reference="PKT-SC-2026-014",
            approver="Director, Phuket Smart City Office",
            valid_from=datetime(2026, 1, 1, tzinfo=BKK),
            valid_until=datetime(2026, 12, 31, 23, 59, tzinfo=BKK),
        ),
        segments=(
            _segment("command-center", "127.10.0.0/24", SegmentKind.IT, "City IT", Criticality.CRITICAL),
            _segment(
                "traffic-ot",
                "127.20.0.0/24",
                SegmentKind.OT,
                "Traffic Engineering",
                Criticality.PUBLIC_SAFETY_CRITICAL,
            ),
            _segment("cctv", "127.30.0.0/24", SegmentKind.CCTV, "Phuket Police", Criticality.HIGH),
            _segment("dmz", "127.40.0.0/24", SegmentKind.DMZ, "City IT", Criticality.HIGH),
        ),
        assets=(
            InventoryAsset(
                name="tc-patong-01",
                address="127.20.0.11",
                role="traffic signal controller",
                criticality=Criticality.PUBLIC_SAFETY_CRITICAL,
            ),
        ),
    )


TRAFFIC = Asset(
    key="tc-patong-01",
    address="127.20.0.11",
    hostname="tc-patong-01",
    role="traffic signal controller",
    segment="traffic-ot",
    criticality=Criticality.PUBLIC_SAFETY_CRITICAL,
)
CC_APP = Asset(
    key="cc-app-01",
    address="127.10.0.5",
    hostname="cc-app-01.cc.phuket.example",
    role="command-center application server",
    segment="command-center",
    criticality=Criticality.CRITICAL,
)
CAMERA = Asset(key="127.30.0.21", address="127.30.0.21", criticality=Criticality.HIGH)  # segment derived
DC = Asset(key="cc-dc-01", address="127.10.0.2", segment="command-center", criticality=Criticality.CRITICAL)


def findings_from_every_source() -> list[Finding]:
    return [
        Finding(
            rule_id="SCAN-TELNET",
            source=Source.SCAN,
            severity=Severity.HIGH,
            title="Telnet management service is reachable",
            asset=TRAFFIC,
            description="The controller accepts Telnet logins; credentials cross the network in clear text.",
            remediation="Disable Telnet on the controller and manage it over SSH from the management segment.",
            evidence_key="tcp/23",
            evidence=(
                Evidence(
                    kind="service",
                    summary="telnet answered on tcp/23",
                    location="127.20.0.11:23/tcp",
                    excerpt="ATC-2070 controller\r\nlogin: ",
                    attributes=(("product", "BusyBox telnetd"),),
                ),
            ),
            references=(Reference(kind=RefKind.CWE, id="CWE-319"),),
            producer="scan.nmap",
        ),
        Finding(
            rule_id="PASSIVE-MODBUS-WRITE",
            source=Source.PASSIVE,
            severity=Severity.MEDIUM,
            title="Modbus write requests from outside the OT segment",
            asset=TRAFFIC,
            evidence_key="127.10.0.9>502",
            evidence=(
                Evidence(kind="flow", summary="function code 6 from 127.10.0.9", location="cap.pcap#812"),
            ),
        ),
        Finding(
            rule_id="CIS-DEB12-5.1.20",
            source=Source.BASELINE,
            severity=Severity.HIGH,
            title="SSH allows direct root login",
            asset=CC_APP,
            remediation="Set PermitRootLogin no in /etc/ssh/sshd_config and reload sshd.",
            evidence_key="PermitRootLogin",
            evidence=(
                Evidence(
                    kind="config",
                    summary="PermitRootLogin yes",
                    location="/etc/ssh/sshd_config:32",
                    excerpt="PermitRootLogin yes",
                ),
            ),
            references=(Reference(kind=RefKind.CIS, id="Debian 12 5.1.20"),),
        ),
        Finding(
            rule_id="5af54681-df95-4c26-854f-2565e13cfab0",
            source=Source.DETECTION,
            severity=Severity.CRITICAL,
            title="Password spraying against the domain controller",
            asset=DC,
            evidence_key="logon-burst-0x3e7",
            evidence=(
                Evidence(
                    kind="log",
                    summary="41 failed logons for 38 accounts in 2 minutes",
                    location="security.evtx#record=8812",
                ),
            ),
            references=(Reference(kind=RefKind.ATTACK, id="T1110.003", url="https://attack.mitre.org/"),),
        ),
        Finding(
            rule_id="SCAN-RTSP-NOAUTH",
            source=Source.SCAN,
            severity=Severity.LOW,
            title="Camera stream readable without authentication",
            asset=CAMERA,
            evidence_key="tcp/554",
        ),
    ]


def make_report(
    findings: Sequence[Finding] = (),
    *,
    fixed: Sequence[Finding] = (),
    stages: Sequence[StageResult] | None = None,
    status: RunStatus = RunStatus.COMPLETED,
    new: Callable[[Finding], bool] = lambda f: f.source is not Source.BASELINE,
) -> Report:
    if stages is None:
        stages = (
            StageResult(name="scan", status=RunStatus.COMPLETED, findings=2, items=12, seconds=93.25),
            StageResult(name="baseline", status=RunStatus.COMPLETED, findings=1, items=207, seconds=4.5),
            StageResult(name="logs", status=RunStatus.COMPLETED, findings=1, items=88412, seconds=31.0),
        )
    rows = tuple(
        ReportRow(
            rank=position,
            finding=finding,
            status=Status.NEW if new(finding) else Status.PERSISTING,
            first_seen=STARTED if new(finding) else EARLIER,
            last_seen=STARTED,
        )
        for position, finding in enumerate(rank(findings), start=1)
    )
    return Report(
        run=Run(
            id="20260301T020000-pkt",
            profile_path="samples/phuket-demo.yaml",
            organisation="Phuket City Municipality — Smart City Command Center",
            started_at=STARTED,
            finished_at=FINISHED,
            status=status,
            tool_version="0.1.0",
            risk_model=RISK_MODEL_VERSION,
            authorization_ref="PKT-SC-2026-014",
            stages=tuple(stages),
        ),
        profile=make_profile(),
        rows=rows,
        fixed=tuple(fixed),
        trend=Trend(
            previous_run_id="20260201T020000-pkt",
            new=sum(1 for r in rows if r.status is Status.NEW),
            persisting=sum(1 for r in rows if r.status is Status.PERSISTING),
            fixed=len(fixed),
        ),
        generated_at=FINISHED,
    )


FIXED_FINDING = Finding(
    rule_id="SCAN-FTP-ANON",
    source=Source.SCAN,
    severity=Severity.MEDIUM,
    title="Anonymous FTP on the DMZ file server",
    asset=Asset(key="dmz-ftp-01", address="127.40.0.7", segment="dmz", criticality=Criticality.HIGH),
    evidence_key="tcp/21",
)


@pytest.fixture
def full_report() -> Report:
    return make_report(findings_from_every_source(), fixed=[FIXED_FINDING])


@pytest.fixture
def empty_report() -> Report:
    return make_report([], stages=(StageResult(name="scan", status=RunStatus.COMPLETED, items=12),))
