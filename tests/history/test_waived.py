"""Waived and accepted findings are stored with their run (migration 3) and read back exactly."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from history_builders import ALL_SOURCES, SNMP, SSH_ROOT, TELNET, done, finding, run

from secaudit.core.errors import HistoryError, UsageError
from secaudit.core.model import Severity, Source, WaivedFinding, WaiverKind
from secaudit.history import SCHEMA_VERSION, HistoryStore
from secaudit.history.schema import APPLICATION_ID, MIGRATIONS

BKK = timezone(timedelta(hours=7))

CDP = finding("ios-no-cdp", "core-rtr-01", "cdp run", source=Source.BASELINE, sev=Severity.LOW)
HTTP_API = finding("ios-no-http-server", "core-rtr-01", "ip http server", source=Source.BASELINE)

WAIVED_CDP = WaivedFinding(
    finding=CDP,
    kind=WaiverKind.WAIVED,
    justification="CDP feeds the NOC's topology map; filtered at the segment edge",
    approved_by="Network Operations",
    expires=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    source="/etc/secaudit/waivers.yaml:4",
)
ACCEPTED_HTTP = WaivedFinding(
    finding=HTTP_API,
    kind=WaiverKind.ACCEPTED,
    justification="the signal vendor's tool needs the HTTP API until the Q3 firmware; <b>not</b> markup",
    approved_by="Director, City Digital Office",
    expires=datetime(2027, 3, 31, 18, 0, tzinfo=BKK),  # an offset other than UTC must survive as written
    source="/etc/secaudit/waivers.yaml:11",
)
NO_EXPIRY = WaivedFinding(finding=SSH_ROOT, kind=WaiverKind.WAIVED, justification="lab only")


def test_waived_findings_come_back_exactly_in_the_order_given(store: HistoryStore) -> None:
    r = run("r1", 0)
    store.begin_run(r, "s")
    store.complete_run(
        done(r), "s", [TELNET], complete_sources=ALL_SOURCES, waived=[ACCEPTED_HTTP, WAIVED_CDP, NO_EXPIRY]
    )
    back = store.run_waived("r1")
    assert back == [ACCEPTED_HTTP, WAIVED_CDP, NO_EXPIRY]
    # Equal instants are not enough: the expiry keeps its offset, so it prints the same way.
    assert back[0].expires is not None and back[0].expires.utcoffset() == timedelta(hours=7)
    assert back[0].expires.isoformat() == "2027-03-31T18:00:00+07:00"
    assert back[2].expires is None and back[2].approved_by == "" and back[2].source == ""
    # Provenance fields (compare=False on Finding) survive too.
    assert back[1].finding.observed_at == CDP.observed_at and back[1].finding.producer == "test"
    assert back[1].finding.fingerprint == CDP.fingerprint


def test_waived_findings_belong_to_their_run_only(store: HistoryStore) -> None:
    r1, r2 = run("r1", 0), run("r2", 1)
    store.begin_run(r1, "s")
    store.complete_run(done(r1), "s", [TELNET], complete_sources=ALL_SOURCES, waived=[WAIVED_CDP])
    store.begin_run(r2, "s")
    store.complete_run(done(r2), "s", [TELNET], complete_sources=ALL_SOURCES)
    assert store.run_waived("r1") == [WAIVED_CDP]
    assert store.run_waived("r2") == []
    with pytest.raises(UsageError, match="no run 'nope'"):
        store.run_waived("nope")


def test_a_waived_finding_is_not_an_open_finding(store: HistoryStore) -> None:
    """Waiving keeps today's behaviour of the findings' life: nothing opened, nothing fixed by it."""
    r1, r2 = run("r1", 0), run("r2", 1)
    store.begin_run(r1, "s")
    store.complete_run(done(r1), "s", [TELNET, HTTP_API], complete_sources=ALL_SOURCES)
    store.begin_run(r2, "s")
    diff = store.complete_run(done(r2), "s", [TELNET], complete_sources=ALL_SOURCES, waived=[ACCEPTED_HTTP])
    # The finding now accepted is no longer open (as before this table existed), and the run's own
    # findings hold only what it counted.
    assert [f.fingerprint for f in diff.fixed] == [HTTP_API.fingerprint]
    assert store.run_findings("r2") == [TELNET]
    assert store.finding_dates("s", [CDP.fingerprint]) == {}


def test_the_same_finding_under_two_waivers_is_kept_twice(store: HistoryStore) -> None:
    second = replace(WAIVED_CDP, kind=WaiverKind.ACCEPTED, source="/etc/secaudit/other.yaml:2")
    r = run("r1", 0)
    store.begin_run(r, "s")
    store.complete_run(done(r), "s", [], complete_sources=ALL_SOURCES, waived=[WAIVED_CDP, second])
    assert store.run_waived("r1") == [WAIVED_CDP, second]


def test_a_failed_completion_writes_no_waived_finding(store: HistoryStore) -> None:
    """The waived list is part of the run's one transaction: refused with the run, never half-written."""
    r = run("r1", 0)
    store.begin_run(r, "s")
    store.complete_run(done(r), "s", [TELNET], complete_sources=ALL_SOURCES, waived=[WAIVED_CDP])
    with pytest.raises(HistoryError, match="already completed"):
        store.complete_run(done(r), "s", [SNMP], complete_sources=ALL_SOURCES, waived=[ACCEPTED_HTTP])
    assert store.run_waived("r1") == [WAIVED_CDP]

    r2 = run("r2", 1)
    store.begin_run(r2, "s")
    naive_run = replace(done(r2), finished_at=datetime(2026, 8, 5, 3, 0))  # a caller bug: naive time
    with pytest.raises(ValueError, match="naive"):
        store.complete_run(naive_run, "s", [SNMP], complete_sources=ALL_SOURCES, waived=[ACCEPTED_HTTP])
    assert store.run_waived("r2") == []
    assert store.run_findings("r2") == []


def _table_sql(path: Path, name: str) -> str:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (name,)).fetchone()
        return str(row[0])
    finally:
        conn.close()


def test_migration_3_is_strict_and_checks_its_values(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore.open(path).close()
    assert MIGRATIONS[2].version == 3 and SCHEMA_VERSION >= 3
    sql = _table_sql(path, "run_waived")
    assert "STRICT" in sql and "WITHOUT ROWID" in sql
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(
            "INSERT INTO runs VALUES ('r', 's', 'p', 'o', '2026', NULL, 'completed', 'v', 'm', 'a', '[]', NULL)"
        )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("INSERT INTO run_waived VALUES ('r', 0, 'fp', 'ignored', 'j', 'a', NULL, 's', '{}')")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(
                "INSERT INTO run_waived VALUES ('r', 0, 'fp', 'waived', 'j', 'a', NULL, 's', 'no json')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("INSERT INTO run_waived VALUES ('x', 0, 'fp', 'waived', 'j', 'a', NULL, 's', '{}')")
        with pytest.raises(sqlite3.IntegrityError, match="cannot store"):  # STRICT: no text in seq
            conn.execute(
                "INSERT INTO run_waived VALUES ('r', 'one', 'fp', 'waived', 'j', 'a', NULL, 's', '{}')"
            )
    finally:
        conn.close()


def test_a_version_2_history_gains_the_table_and_keeps_its_runs(tmp_path: Path) -> None:
    """A history written before migration 3 opens, migrates, and its old runs list no waived findings."""
    path = tmp_path / "h.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:2]:
        for statement in step.statements:
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO runs VALUES ('old', 's', 'p', 'o', '2026-08-05T01:00:00.000000Z',"
        " '2026-08-05T01:10:00.000000Z', 'completed', 'v', 'risk-2', 'a', '[]', '[]')"
    )
    conn.close()
    with HistoryStore.open(path) as store:
        assert store.run_waived("old") == []
        r = run("new", 2)
        store.begin_run(r, "s")
        store.complete_run(done(r), "s", [], complete_sources=ALL_SOURCES, waived=[WAIVED_CDP])
        assert store.run_waived("new") == [WAIVED_CDP]
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        check.close()
