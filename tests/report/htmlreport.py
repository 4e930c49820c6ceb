"""Reports with every risk field filled by hand, for the HTML, terminal and browser tests.

The risk model fills score, decision, factors, heat-map axes and aggregated assets; these tests
must not depend on its weights, so they set them here from severity and asset criticality.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser

from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    RunStatus,
    Severity,
    Source,
    StageResult,
    Status,
    WaivedFinding,
    WaiverKind,
)
from secaudit.core.report import ControlCoverage, Decision, Report, ReportRow, RiskFactor
from secaudit.report.html import render_html

from .conftest import FIXED_FINDING, TRAFFIC, findings_from_every_source, make_report

SIGNAL_02 = replace(TRAFFIC, key="tc-kata-02", address="127.20.0.12", hostname="tc-kata-02")

WAIVED = WaivedFinding(
    finding=Finding(
        rule_id="CIS-DEB12-1.1.2",
        source=Source.BASELINE,
        severity=Severity.MEDIUM,
        title="/tmp is not a separate partition",
        asset=Asset(
            key="cc-app-01", address="127.10.0.5", segment="command-center", criticality=Criticality.CRITICAL
        ),
        evidence_key="/tmp",
    ),
    kind=WaiverKind.WAIVED,
    justification="The appliance image has a single partition; /tmp is a tmpfs mounted noexec.",
    approved_by="Head of City IT Operations",
    expires=datetime.fromisoformat("2026-09-30T00:00:00+07:00"),
    source="waivers.yaml:12",
)
ACCEPTED = WaivedFinding(
    finding=Finding(
        rule_id="SCAN-SNMP-V2C",
        source=Source.SCAN,
        severity=Severity.HIGH,
        title="SNMP v2c with a community string on the signal controller",
        asset=TRAFFIC,
        evidence_key="udp/161",
    ),
    kind=WaiverKind.ACCEPTED,
    justification="NTCIP 1202 firmware supports only v2c until the 2026 upgrade; ACL limits it to the TMC.",
    approved_by="Director, Traffic Engineering",
    expires=datetime.fromisoformat("2026-02-01T00:00:00+07:00"),  # before the run: shown as expired
    source="waivers.yaml:30",
)

COMPLIANCE = (
    ControlCoverage(
        framework="cis-controls-v8",
        control="4.1",
        name="Secure configuration process",
        checked=12,
        failing=3,
        passing=9,
    ),
    ControlCoverage(
        framework="cis-controls-v8",
        control="12.2",
        name="Secure network architecture",
        checked=4,
        failing=0,
        passing=4,
    ),
    ControlCoverage(
        framework="cis-controls-v8", control="8.2", name="Collect audit logs", checked=0, failing=0
    ),
    ControlCoverage(
        framework="th-cii-2562", control="detect", name="Detect", checked=9, failing=1, passing=8
    ),
    ControlCoverage(
        framework="city-internal-2026", control="CC-7", name="Signal cabinet access", checked=1, failing=1
    ),
)


def risk(row: ReportRow, assets: Sequence[Asset] = ()) -> ReportRow:
    """``row`` with a score, decision, factors and heat-map cell derived from its finding."""
    f = row.finding
    sev_points = 12.5 * int(f.severity)
    crit_points = 8.0 * int(f.asset.criticality)
    attack = 10.0 if f.source is Source.DETECTION else 0.0
    score = min(100.0, sev_points + crit_points + attack)
    decision = (
        Decision.ACT
        if score >= 80
        else Decision.ATTEND
        if score >= 60
        else Decision.TRACK_STAR
        if score >= 40
        else Decision.TRACK
    )
    factors = [
        RiskFactor(name="severity", value=f.severity.label, points=sev_points),
        RiskFactor(name="criticality", value=f.asset.criticality.label, points=crit_points),
    ]
    if attack:
        factors.append(
            RiskFactor(name="active_attack", value="Sigma detection on the same asset", points=attack)
        )
    every = (f.asset, *assets)
    return replace(
        row,
        score=score,
        decision=decision,
        factors=tuple(factors),
        likelihood=min(5, int(f.severity) + 1),
        impact=int(f.asset.criticality),
        assets=every,
        fingerprints=tuple(replace(f, asset=a).fingerprint for a in every),
    )


def with_risk(report: Report, *, aggregate: dict[str, Sequence[Asset]] | None = None) -> Report:
    """``report`` with risk fields on every row; ``aggregate`` adds assets to rows by rule id."""
    extra = aggregate or {}
    rows = tuple(risk(r, extra.get(r.finding.rule_id, ())) for r in report.rows)
    rows = tuple(sorted(rows, key=lambda r: (-r.score, r.rank)))
    rows = tuple(replace(r, rank=i) for i, r in enumerate(rows, start=1))
    return replace(report, rows=rows)


def full_risk_report(findings: Sequence[Finding] | None = None) -> Report:
    """Every source, one aggregated row, a waiver and an acceptance, compliance, a fixed finding."""
    base = make_report(
        list(findings_from_every_source() if findings is None else findings), fixed=[FIXED_FINDING]
    )
    report = with_risk(base, aggregate={"SCAN-TELNET": (SIGNAL_02,)})
    return replace(report, waived=(WAIVED, ACCEPTED), compliance=COMPLIANCE, posture_score=61.25)


def many_findings(count: int, *, evidence: str = "x" * 60) -> list[Finding]:
    """``count`` distinct findings over every source and severity, 40 assets in 4 segments."""
    segments = ("command-center", "traffic-ot", "cctv", "dmz")
    out = []
    for i in range(count):
        host = i % 40
        seg = host % 4
        out.append(
            Finding(
                rule_id=f"RULE-{i % 37:03d}",
                source=list(Source)[i % 4],
                severity=Severity(i % 5),
                title=f"Synthetic finding {i % 37} on host {host}",
                asset=Asset(
                    key=f"host-{host:02d}",
                    address=f"127.{10 * (seg + 1)}.0.{host + 1}",
                    segment=segments[seg],
                    criticality=Criticality(host % 5 + 1),
                ),
                remediation=f"Fix rule {i % 37}.",
                evidence_key=f"item-{i}",
                evidence=(
                    Evidence(
                        kind="file", summary=f"observed #{i}", location=f"/etc/f{i}.conf:1", excerpt=evidence
                    ),
                ),
            )
        )
    return out


def big_report(count: int) -> Report:
    """``count`` findings with risk fields, built in one pass (``with_risk`` is too slow at 100k)."""
    stage = StageResult(name="scan", status=RunStatus.COMPLETED, findings=count, items=40)
    base = make_report([], stages=[stage])
    decisions = list(Decision)
    factors = {s: (RiskFactor(name="severity", value=s.label, points=12.5 * int(s)),) for s in Severity}
    rows = tuple(
        ReportRow(
            rank=i,
            finding=f,
            status=Status.NEW,
            first_seen=base.run.started_at,
            last_seen=base.run.started_at,
            score=100.0 - 100.0 * i / count,
            decision=decisions[min(3, 4 * i // count)],
            factors=factors[f.severity],
            likelihood=int(f.severity) + 1,
            impact=int(f.asset.criticality),
            assets=(f.asset,),
            fingerprints=(f.fingerprint,),
        )
        for i, f in enumerate(many_findings(count), start=1)
    )
    return replace(base, rows=rows)


def render(report: Report, lang: str = "en") -> str:
    out = io.StringIO()
    render_html(report, out, lang=lang)
    return out.getvalue()


DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


def page_data(page: str) -> dict[str, object]:
    """The JSON the page embeds for its script."""
    match = DATA.search(page)
    assert match, "the page embeds its rows"
    data = json.loads(match.group(1))
    assert isinstance(data, dict)
    return data


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    """Every start tag with its attributes, the text (entities decoded), style/script bodies, and
    whether every element that was opened was closed in order (our writer never omits an end tag)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.problems: list[str] = []
        self._open: list[str] = []
        self._raw: str | None = None
        self.feed(text)
        self.close()
        if self._open:
            self.problems.append(f"never closed: {self._open}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._raw = tag if tag in ("style", "script") else None
        if tag not in VOID:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self._raw = None
        if not self._open or self._open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self._open[-1:] or 'nothing'}")
            return
        self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._raw == "style":
            self.styles.append(data)
        elif self._raw == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def ids(self) -> list[str]:
        return [str(a["id"]) for _, a in self.tags if a.get("id")]

    def joined(self) -> str:
        return " ".join(self.text)

    def flat(self) -> str:
        """The text with every run of white space as one space."""
        return " ".join(" ".join(self.text).split())
