"""Runs and the life of findings across runs, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from history_builders import ALL_SOURCES, SNMP, SSH_ROOT, TELNET, at, done, finding, run

from secaudit.core.errors import HistoryError, UsageError
from secaudit.core.model import Finding, RunStatus, Severity, Source, StageResult, Status
from secaudit.history import HistoryStore, RunDiff

SCOPE = "phuket-command-center"


def record(
    store: HistoryStore,
    run_id: str,
    hours: int,
    findings: list[Finding],
    *,
    status: RunStatus = RunStatus.COMPLETED,
    complete_sources: Collection[Source] = ALL_SOURCES,
) -> RunDiff:
    r = run(run_id, hours)
    store.begin_run(r, SCOPE)
    return store.complete_run(done(r, status), SCOPE, findings, complete_sources=complete_sources)


def finding_row(store: HistoryStore, fp: str) -> sqlite3.Row:
    with sqlite3.connect(store.path) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute(
            "SELECT * FROM findings WHERE scope = ? AND fingerprint = ?", (SCOPE, fp)
        ).fetchone()
    conn.close()
    return row


def test_a_finding_appears_persists_is_fixed_and_reopens(store: HistoryStore) -> None:
    d1 = record(store, "r1", 0, [TELNET, SNMP])
    assert d1.new == tuple(sorted([TELNET.fingerprint, SNMP.fingerprint]))
    assert d1.persisting == () and d1.fixed == () and d1.reopened == ()

    d2 = record(store, "r2", 24, [SNMP, TELNET])
    assert d2.new == () and d2.persisting == tuple(sorted([TELNET.fingerprint, SNMP.fingerprint]))
    assert store.finding_dates(SCOPE, [TELNET.fingerprint]) == {TELNET.fingerprint: (at(0), at(24))}

    d3 = record(store, "r3", 48, [SNMP])
    assert d3.persisting == (SNMP.fingerprint,) and d3.new == ()
    assert d3.fixed == (TELNET,)
    assert d3.statuses() == {SNMP.fingerprint: Status.PERSISTING, TELNET.fingerprint: Status.FIXED}
    assert store.fixed_since(SCOPE, "r3") == [TELNET]
    assert store.fixed_since(SCOPE, "r2") == []
    row = finding_row(store, TELNET.fingerprint)
    assert (row["first_seen"], row["last_seen"], row["fixed_at"]) == (
        "2026-08-05T01:00:00.000000Z",
        "2026-08-06T01:00:00.000000Z",
        "2026-08-07T01:00:00.000000Z",
    )
    assert (row["first_run_id"], row["last_run_id"]) == ("r1", "r2")

    # Fixed stays fixed while absent: a later run does not fix it again.
    d4 = record(store, "r4", 72, [SNMP])
    assert d4.fixed == () and store.fixed_since(SCOPE, "r4") == []

    d5 = record(store, "r5", 96, [TELNET, SNMP])
    assert d5.new == (TELNET.fingerprint,) and d5.reopened == (TELNET.fingerprint,)
    assert d5.persisting == (SNMP.fingerprint,)
    row = finding_row(store, TELNET.fingerprint)
    assert row["fixed_at"] is None and row["first_run_id"] == "r1" and row["last_run_id"] == "r5"
    assert store.finding_dates(SCOPE, [TELNET.fingerprint, SNMP.fingerprint, "unknown"]) == {
        TELNET.fingerprint: (at(0), at(96)),
        SNMP.fingerprint: (at(0), at(96)),
    }
    # The fix recorded by r3 is still part of r3's history after the reopening.
    assert store.fixed_since(SCOPE, "r3") == [TELNET]


def test_a_failed_source_does_not_make_its_findings_look_fixed(store: HistoryStore) -> None:
    record(store, "r1", 0, [TELNET, SSH_ROOT])
    # The scan stage failed: only baseline ran completely, and it no longer sees SSH_ROOT.
    d2 = record(store, "r2", 24, [], status=RunStatus.INCOMPLETE, complete_sources={Source.BASELINE})
    assert d2.fixed == (SSH_ROOT,)
    assert store.fixed_since(SCOPE, "r2") == [SSH_ROOT]
    assert finding_row(store, TELNET.fingerprint)["fixed_at"] is None
    assert store.get_run("r2").status is RunStatus.INCOMPLETE

    # The next complete scan does not see it either: now it is fixed.
    d3 = record(store, "r3", 48, [], complete_sources={Source.SCAN, Source.BASELINE})
    assert d3.fixed == (TELNET,)
    assert finding_row(store, TELNET.fingerprint)["fixed_at"] == "2026-08-07T01:00:00.000000Z"


def test_scopes_are_tracked_apart(store: HistoryStore) -> None:
    r1 = run("a1", 0)
    store.begin_run(r1, "estate-a")
    store.complete_run(done(r1), "estate-a", [TELNET], complete_sources=ALL_SOURCES)
    r2 = run("b1", 1)
    store.begin_run(r2, "estate-b")
    d = store.complete_run(done(r2), "estate-b", [], complete_sources=ALL_SOURCES)
    assert d.fixed == ()
    assert store.finding_dates("estate-a", [TELNET.fingerprint]) == {TELNET.fingerprint: (at(0), at(0))}
    assert store.finding_dates("estate-b", [TELNET.fingerprint]) == {}
    assert store.fixed_since("estate-a", "b1") == []
    assert [r.id for r in store.list_runs("estate-b")] == ["b1"]


def test_findings_round_trip_and_duplicates_are_stored_once(store: HistoryStore) -> None:
    changed = replace(TELNET, severity=Severity.CRITICAL, title="Telnet answers on the signal controller")
    d = record(store, "r1", 0, [TELNET, changed, SNMP])
    assert d.new == tuple(sorted([TELNET.fingerprint, SNMP.fingerprint]))
    stored = store.run_findings("r1")
    assert stored == sorted([TELNET, SNMP], key=lambda f: f.fingerprint)
    by_fp = {f.fingerprint: f for f in stored}
    # The first occurrence wins; fields outside equality survive too.
    assert by_fp[TELNET.fingerprint].title == TELNET.title
    assert by_fp[TELNET.fingerprint].producer == "test"
    assert by_fp[TELNET.fingerprint].observed_at == TELNET.observed_at


def test_latest_finding_text_is_kept_for_fixed_findings(store: HistoryStore) -> None:
    record(store, "r1", 0, [TELNET])
    newer = replace(TELNET, title="Telnet still answers", severity=Severity.CRITICAL)
    record(store, "r2", 24, [newer])
    d3 = record(store, "r3", 48, [])
    assert [f.title for f in d3.fixed] == ["Telnet still answers"]
    assert finding_row(store, TELNET.fingerprint)["severity"] == int(Severity.CRITICAL)


def test_a_failure_inside_complete_run_writes_nothing(store: HistoryStore) -> None:
    record(store, "r1", 0, [TELNET, SNMP])
    # A real failure at the last statement of the transaction, after every finding was written.
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_end BEFORE UPDATE OF status ON runs WHEN OLD.id = 'r2'"
            " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
    conn.close()
    before = dump_tables(store.path)
    r2 = run("r2", 24)
    store.begin_run(r2, SCOPE)
    many = [finding("SCAN-OPEN-PORT", f"cam-{i:03d}", f"tcp/{i}") for i in range(200)]
    with pytest.raises(HistoryError) as info:
        store.complete_run(done(r2), SCOPE, many, complete_sources=ALL_SOURCES)
    assert "injected failure" in info.value.message and info.value.location == str(store.path)
    after = dump_tables(store.path)
    assert after["findings"] == before["findings"] and after["run_fixed"] == before["run_fixed"]
    assert after["run_findings"] == before["run_findings"]
    assert store.get_run("r2").status is RunStatus.RUNNING
    assert store.run_findings("r2") == []


def dump_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        out = {
            t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall())
            for t in ("findings", "run_findings", "run_fixed")
        }
    conn.close()
    return out


def test_completing_needs_a_running_run_of_the_same_scope(store: HistoryStore) -> None:
    r = run("r1", 0)
    with pytest.raises(UsageError):
        store.complete_run(done(r), SCOPE, [TELNET], complete_sources=ALL_SOURCES)
    store.begin_run(r, SCOPE)
    with pytest.raises(HistoryError, match="is already recorded"):
        store.begin_run(r, SCOPE)
    with pytest.raises(HistoryError, match="belongs to scope"):
        store.complete_run(done(r), "other", [TELNET], complete_sources=ALL_SOURCES)
    with pytest.raises(ValueError, match="final status"):
        store.complete_run(r, SCOPE, [TELNET], complete_sources=ALL_SOURCES)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.complete_run(
            replace(done(r), finished_at=datetime(2026, 8, 5, 2, 0)), SCOPE, [], complete_sources=ALL_SOURCES
        )
    assert store.mark_interrupted("r1") is True
    assert store.mark_interrupted("r1") is False
    with pytest.raises(HistoryError, match="already interrupted"):
        store.complete_run(done(r), SCOPE, [TELNET], complete_sources=ALL_SOURCES)
    assert store.run_findings("r1") == []


def test_stale_runs_of_one_scope_become_interrupted(tmp_path: Path) -> None:
    moments = iter([at(5), at(6)])
    with HistoryStore.open(tmp_path / "h.sqlite", clock=lambda: next(moments)) as store:
        store.begin_run(run("old", 0), SCOPE)
        store.begin_run(run("older", -1), SCOPE)
        store.begin_run(run("elsewhere", 0), "other-estate")
        assert store.abandon_stale_runs(SCOPE) == ["older", "old"]
        assert store.abandon_stale_runs(SCOPE) == []
        old = store.get_run("old")
        assert old.status is RunStatus.INTERRUPTED and old.finished_at == at(5)
        assert store.get_run("elsewhere").status is RunStatus.RUNNING


def test_runs_are_listed_newest_first_and_read_back_whole(store: HistoryStore) -> None:
    stages = (
        StageResult(name="scan", status=RunStatus.COMPLETED, findings=2, items=14, seconds=3.25),
        StageResult(name="baseline", status=RunStatus.FAILED, errors=("cc-app-01: unreadable /etc/shadow",)),
    )
    record(store, "r1", 0, [TELNET])
    record(store, "r2", 24, [TELNET], status=RunStatus.INCOMPLETE)
    record(store, "r3", 48, [TELNET, SNMP])
    r4 = run("r4", 72)
    store.begin_run(r4, SCOPE)
    store.complete_run(done(r4, RunStatus.INCOMPLETE, *stages), SCOPE, [SNMP], complete_sources={Source.SCAN})
    assert [r.id for r in store.list_runs()] == ["r4", "r3", "r2", "r1"]
    assert [r.id for r in store.list_runs(SCOPE, limit=2)] == ["r4", "r3"]
    assert store.list_runs("nobody") == []

    got = store.get_run("r4")
    assert got == replace(done(r4, RunStatus.INCOMPLETE, *stages))
    assert got.started_at.tzinfo is UTC and got.finished_at == at(72).replace(minute=10)

    # The previous *completed* run: r2 was incomplete, r4 itself does not count.
    assert store.previous_completed_run(SCOPE, got).id == "r3"
    assert store.previous_completed_run(SCOPE, store.get_run("r3")).id == "r1"
    assert store.previous_completed_run(SCOPE, store.get_run("r1")) is None

    diff = store.diff_runs("r3", "r4")
    assert diff.new == () and diff.persisting == (SNMP.fingerprint,) and diff.fixed == (TELNET,)
    back = store.diff_runs("r4", "r3")
    # r3 ran every source: SNMP is not fixed going back, it is there; TELNET is new relative to r4.
    assert back.new == (TELNET.fingerprint,) and back.fixed == ()

    with pytest.raises(UsageError) as info:
        store.get_run("r9")
    assert info.value.hint and "list" in info.value.hint


def test_history_runs_in_wal_mode_with_foreign_keys(store: HistoryStore) -> None:
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError):
        store._conn.execute("INSERT INTO run_fixed (run_id, fingerprint) VALUES ('no-such-run', 'x')")
    assert Path(str(store.path) + "-wal").exists()


def test_naive_times_are_refused(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.begin_run(replace(run("r1", 0), started_at=datetime(2026, 8, 5)), SCOPE)
    assert store.list_runs() == []
