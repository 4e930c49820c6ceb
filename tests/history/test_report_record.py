"""History keeps each run's report figures and gives them back exactly; a damaged or foreign record
is refused or ignored, never half-read."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from secaudit.core.errors import HistoryError
from secaudit.core.model import LocalText, Status
from secaudit.core.profile import Authorization, Profile
from secaudit.core.report import ControlCoverage, Decision, Report, ReportRow, RiskFactor, Trend
from secaudit.history import HistoryStore
from tests.history.history_builders import ALL_SOURCES, SNMP, SSH_ROOT, TELNET, at, done, run

PROFILE = Profile(
    path="/etc/secaudit/phuket.yaml",
    organisation="Phuket City Command Center",
    authorization=Authorization(
        reference="PKT-AUTH-2026-07", approver="CIO", valid_from=at(-24), valid_until=at(24)
    ),
    segments=(),
)


def stored_report(store: HistoryStore) -> Report:
    r = done(run("r1", 0))
    store.begin_run(run("r1", 0), "s")
    store.complete_run(r, "s", [TELNET, SNMP, SSH_ROOT], complete_sources=ALL_SOURCES)
    rows = (
        ReportRow(
            rank=1,
            finding=SNMP,
            status=Status.NEW,
            first_seen=at(0),
            last_seen=at(0),
            score=77.5,
            decision=Decision.ACT,
            factors=(RiskFactor(name="severity", value="critical", points=35.0),),
            likelihood=4,
            impact=5,
            assets=(SNMP.asset, TELNET.asset),
            fingerprints=(SNMP.fingerprint, TELNET.fingerprint),
            instances=(SNMP, TELNET),
        ),
        ReportRow(
            rank=2,
            finding=SSH_ROOT,
            status=Status.PERSISTING,
            first_seen=at(-5),
            last_seen=at(0),
            score=31.0,
            decision=Decision.TRACK_STAR,
            likelihood=1,
            impact=3,
            assets=(SSH_ROOT.asset,),
            fingerprints=(SSH_ROOT.fingerprint,),
            instances=(SSH_ROOT,),
        ),
    )
    report = Report(
        run=r,
        profile=PROFILE,
        rows=rows,
        fixed=(TELNET,),
        trend=Trend(previous_run_id="r0", new=2, persisting=1, fixed=1),
        compliance=(
            ControlCoverage(framework="cis-controls-v8", control="4.1", name="x", checked=2, failing=1),
        ),
        posture_score=42.4,
        generated_at=at(1),
    )
    store.record_report(report)
    return report


def test_a_recorded_report_reads_back_equal(store: HistoryStore) -> None:
    report = stored_report(store)
    assert store.run_report("r1", PROFILE) == report


def test_thai_words_of_findings_and_factors_read_back(store: HistoryStore) -> None:
    """Equality ignores a finding's texts and a factor's key and arguments: compare them by hand."""
    thai = LocalText(lang="th", title="ชื่อ", description="คำอธิบาย", remediation="วิธีแก้ไข")
    factor = RiskFactor(
        name="exposure",
        value="ot segment signals",
        points=12.0,
        key="exposure.segment",
        args=(("kind", "ot"), ("segment", "signals")),
    )
    snmp = replace(SNMP, texts=(thai,))
    r = done(run("r1", 0))
    store.begin_run(run("r1", 0), "s")
    store.complete_run(r, "s", [snmp], complete_sources=ALL_SOURCES)
    row = ReportRow(
        rank=1,
        finding=snmp,
        status=Status.NEW,
        first_seen=at(0),
        last_seen=at(0),
        factors=(factor,),
        assets=(snmp.asset,),
        fingerprints=(snmp.fingerprint,),
        instances=(snmp,),
    )
    store.record_report(Report(run=r, profile=PROFILE, rows=(row,), generated_at=at(1)))
    back = store.run_report("r1", PROFILE)
    assert back is not None
    [read] = back.rows
    assert read.finding.texts == (thai,)
    assert (read.factors[0].key, read.factors[0].args) == (factor.key, factor.args)


def test_a_run_without_a_record_has_none(store: HistoryStore) -> None:
    store.begin_run(run("r1", 0), "s")
    store.complete_run(done(run("r1", 0)), "s", [TELNET], complete_sources=ALL_SOURCES)
    assert store.run_report("r1", PROFILE) is None


def _edit(path: Path, sql: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(sql)
        conn.commit()


def test_a_record_of_an_unknown_format_is_not_read(store: HistoryStore) -> None:
    stored_report(store)
    _edit(store.path, "UPDATE run_reports SET report = json_set(report, '$.format', 99)")
    assert store.run_report("r1", PROFILE) is None


def test_a_record_naming_a_finding_the_run_did_not_record_is_refused(store: HistoryStore) -> None:
    stored_report(store)
    _edit(store.path, f"DELETE FROM run_findings WHERE fingerprint = '{TELNET.fingerprint}'")
    with pytest.raises(HistoryError) as info:
        store.run_report("r1", PROFILE)
    assert TELNET.fingerprint in info.value.message and info.value.location == str(store.path)


def test_an_evidence_attribute_given_twice_keeps_both_values(store: HistoryStore) -> None:
    from dataclasses import replace

    from secaudit.core.model import Evidence
    from secaudit.core.serialize import finding_from_dict, finding_to_dict

    cpes = (
        ("cpe", "cpe:/a:redis:redis:7.0.15"),
        ("cpe", "cpe:/a:redislabs:redis:7.0.15"),
        ("product", "Redis"),
    )
    redis = replace(TELNET, evidence=(Evidence(kind="port", summary="6379 open", attributes=cpes),))
    assert finding_to_dict(redis)["evidence"][0]["attributes"] == {
        "cpe": ["cpe:/a:redis:redis:7.0.15", "cpe:/a:redislabs:redis:7.0.15"],
        "product": "Redis",
    }
    assert finding_from_dict(finding_to_dict(redis)).evidence == redis.evidence
    store.begin_run(run("r1", 0), "s")
    store.complete_run(done(run("r1", 0)), "s", [redis], complete_sources=ALL_SOURCES)
    (back,) = store.run_findings("r1")
    assert back.evidence[0].attributes == cpes
