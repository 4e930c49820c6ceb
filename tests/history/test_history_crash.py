"""A process SIGKILLed inside complete_run's transaction leaves history as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from history_builders import ALL_SOURCES, SNMP, TELNET, at, done, run

from secaudit.core.model import RunStatus
from secaudit.history import HistoryStore

REPO = Path(__file__).resolve().parents[2]
SCOPE = "phuket-command-center"
FINDINGS = 5000
SIGNAL_AT = 3000

# The victim: begins run r2, then completes it with 5,000 findings (none of r1's, so it would
# fix r1's findings). A trace callback on its own connection announces, on stdout, the moment
# the transaction has written SIGNAL_AT findings, then waits there to be killed. A small page
# cache makes SQLite spill the uncommitted pages into the WAL file, as a big run would.
_VICTIM = f"""
import sys, time
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from history_builders import ALL_SOURCES, done, finding, run
from secaudit.history import HistoryStore

store = HistoryStore.open(Path(sys.argv[1]))
r2 = run("r2", 24)
store.begin_run(r2, {SCOPE!r})
seen = 0

def trace(statement):
    global seen
    if statement.startswith("INSERT INTO run_findings"):
        seen += 1
        if seen == {SIGNAL_AT}:
            print("inside-transaction", flush=True)
            time.sleep(120)

store._conn.execute("PRAGMA cache_size = 8")
store._conn.set_trace_callback(trace)
many = [finding("SCAN-OPEN-PORT", f"cam-{{i:04d}}", f"tcp/{{i}}") for i in range({FINDINGS})]
store.complete_run(done(r2), {SCOPE!r}, many, complete_sources=ALL_SOURCES)
print("completed", flush=True)
"""


def test_a_run_killed_mid_write_leaves_history_consistent(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with HistoryStore.open(path) as store:
        r1 = run("r1", 0)
        store.begin_run(r1, SCOPE)
        store.complete_run(done(r1), SCOPE, [TELNET, SNMP], complete_sources=ALL_SOURCES)
    wal = Path(f"{path}-wal")
    wal_before = wal.stat().st_size if wal.exists() else 0

    victim = subprocess.Popen(
        [sys.executable, "-c", _VICTIM, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        line = victim.stdout.readline() if victim.stdout else ""
        assert line == "inside-transaction\n", victim.stderr.read() if victim.stderr else ""
        # Uncommitted pages of the open transaction really reached the disk before the kill.
        assert wal.stat().st_size > wal_before + 64 * 1024
        victim.send_signal(signal.SIGKILL)
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.wait(timeout=30)
        for stream in (victim.stdout, victim.stderr):
            if stream:
                stream.close()
    assert victim.returncode == -signal.SIGKILL

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM run_findings WHERE run_id = 'r2'").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM run_fixed").fetchone() == (0,)
        open_rows = conn.execute(
            "SELECT fingerprint, first_seen, last_seen, fixed_at, last_run_id FROM findings ORDER BY fingerprint"
        ).fetchall()
    finally:
        conn.close()
    first = "2026-08-05T01:00:00.000000Z"
    assert open_rows == sorted((f.fingerprint, first, first, None, "r1") for f in (TELNET, SNMP))

    with HistoryStore.open(path) as store:
        assert store.get_run("r2").status is RunStatus.RUNNING  # begun, committed, never completed
        assert store.abandon_stale_runs(SCOPE) == ["r2"]
        assert store.get_run("r2").status is RunStatus.INTERRUPTED
        assert store.run_findings("r2") == []
        assert store.run_findings("r1") == sorted([TELNET, SNMP], key=lambda f: f.fingerprint)
        assert store.get_run("r1") == done(run("r1", 0))
        assert store.finding_dates(SCOPE, [TELNET.fingerprint]) == {TELNET.fingerprint: (at(0), at(0))}
        assert store.fixed_since(SCOPE, "r2") == []
        # The history keeps working: the next run completes and fixes r1's findings.
        r3 = run("r3", 48)
        store.begin_run(r3, SCOPE)
        diff = store.complete_run(done(r3), SCOPE, [], complete_sources=ALL_SOURCES)
        assert diff.fixed == tuple(sorted([TELNET, SNMP], key=lambda f: f.fingerprint))
        assert store.previous_completed_run(SCOPE, store.get_run("r3")) == store.get_run("r1")
