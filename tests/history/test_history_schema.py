"""Opening the history: migrations, refusals, and files that cannot be used."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from history_builders import ALL_SOURCES, TELNET, at, done, run

from secaudit.core.errors import ExitCode, HistoryError
from secaudit.history import SCHEMA_VERSION, HistoryStore, schema
from secaudit.history.schema import APPLICATION_ID, MIGRATIONS, Migration

REPO = Path(__file__).resolve().parents[2]


def header(path: Path) -> tuple[int, int, str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        return (
            conn.execute("PRAGMA application_id").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0],
            conn.execute("PRAGMA journal_mode").fetchone()[0],
            [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")],
        )
    finally:
        conn.close()


def test_migration_steps_are_numbered_one_by_one() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert SCHEMA_VERSION == len(MIGRATIONS) == 4


@pytest.mark.parametrize("empty_file", [False, True], ids=["no-file", "zero-byte-file"])
def test_a_new_history_is_created_at_the_current_version(tmp_path: Path, empty_file: bool) -> None:
    path = tmp_path / "deep" / "er" / "history.sqlite"
    if empty_file:
        path.parent.mkdir(parents=True)
        path.touch()
    with HistoryStore.open(path) as store:
        r = run("r1", 0)
        store.begin_run(r, "s")
        store.complete_run(done(r), "s", [TELNET], complete_sources=ALL_SOURCES)
    assert header(path) == (
        APPLICATION_ID,
        SCHEMA_VERSION,
        "wal",
        [
            "assets",
            "findings",
            "run_findings",
            "run_fixed",
            "run_reports",
            "run_waived",
            "runs",
            "scan_hosts",
            "scans",
        ],
    )
    # Reopening migrates nothing and keeps the data.
    with HistoryStore.open(path) as store:
        assert store.run_findings("r1") == [TELNET]
    assert header(path)[1] == SCHEMA_VERSION


def test_an_existing_history_is_migrated_step_by_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite"
    monkeypatch.setattr(schema, "MIGRATIONS", MIGRATIONS[:1])  # a history written at version 1
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    with HistoryStore.open(path) as store:
        r = run("r1", 0)
        store.begin_run(r, "s")
        store.complete_run(done(r), "s", [TELNET], complete_sources=ALL_SOURCES)
    step2 = Migration(
        version=2,
        summary="waivers",
        statements=("CREATE TABLE waivers (fingerprint TEXT PRIMARY KEY, reason TEXT NOT NULL) STRICT",),
    )
    step3 = Migration(version=3, summary="run notes", statements=("ALTER TABLE runs ADD COLUMN note TEXT",))
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS[:1], step2, step3))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    with HistoryStore.open(path) as store:
        assert store.finding_dates("s", [TELNET.fingerprint]) == {TELNET.fingerprint: (at(0), at(0))}
    _, version, _, tables = header(path)
    assert version == 3 and "waivers" in tables


def test_a_failing_step_leaves_the_previous_version_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite"
    monkeypatch.setattr(schema, "MIGRATIONS", MIGRATIONS[:1])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    HistoryStore.open(path).close()
    broken = Migration(
        version=2,
        summary="half good",
        statements=(
            "CREATE TABLE waivers (fingerprint TEXT PRIMARY KEY) STRICT",
            "ALTER TABLE nowhere ADD x",
        ),
    )
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS[:1], broken))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(path)
    assert "nowhere" in info.value.message and info.value.location == str(path)
    _, version, _, tables = header(path)
    assert version == 1 and "waivers" not in tables


def test_a_newer_history_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    HistoryStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(path)
    err = info.value
    assert err.exit_code == ExitCode.OPERATIONAL and err.location == str(path)
    assert f"version {SCHEMA_VERSION + 1} is newer" in err.message
    assert err.hint and "upgrade secaudit" in err.hint
    assert header(path)[1] == SCHEMA_VERSION + 1


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cameras.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE cameras (id INTEGER PRIMARY KEY, rtsp TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(path)
    assert "not a secaudit history" in info.value.message and info.value.location == str(path)
    assert info.value.hint and "another program" in info.value.hint
    assert header(path) == (0, 0, "delete", ["cameras"])


def test_a_corrupt_file_is_a_history_error_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is no database, it was overwritten by a log rotation\n" * 200)
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(path)
    err = info.value
    assert isinstance(err.__cause__, sqlite3.DatabaseError)
    assert err.location == str(path) and "not a database" in err.message
    assert err.hint and "move the file" in err.hint


def test_a_history_path_under_a_file_is_a_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("a file where a folder should be\n")
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(blocker / "history.sqlite")
    assert info.value.location == str(blocker / "history.sqlite")
    assert "cannot create the history folder" in info.value.message
    assert info.value.hint and "history path" in info.value.hint


def test_a_folder_is_not_a_history_file(tmp_path: Path) -> None:
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(tmp_path)
    assert info.value.hint and str(tmp_path / "history.sqlite") in info.value.hint


# Opens a history in a folder the user may not write to; prints the error as JSON. As root,
# permissions do not apply, so the test runs it as "nobody" (dropping root after the imports).
_UNWRITABLE = """
import json, os, sys
from pathlib import Path
from secaudit.history import HistoryStore
from secaudit.core.errors import HistoryError
if len(sys.argv) > 2:
    os.setgroups([])
    os.setgid(int(sys.argv[2]))
    os.setuid(int(sys.argv[2]))
try:
    HistoryStore.open(Path(sys.argv[1])).close()
except HistoryError as e:
    print(json.dumps({"message": e.message, "location": e.location, "hint": e.hint, "code": int(e.exit_code),
                      "cause": type(e.__cause__).__name__}))
else:
    print(json.dumps({"opened": True}))
"""


def test_an_unwritable_folder_is_a_history_error_with_the_fix() -> None:
    # Not tmp_path: pytest's base folder is private to root, and "nobody" must reach this one.
    with tempfile.TemporaryDirectory(prefix="secaudit-history-") as top:
        os.chmod(top, 0o755)
        locked = Path(top) / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        target = locked / "history.sqlite"
        args = [sys.executable, "-c", _UNWRITABLE, str(target)]
        if os.geteuid() == 0:
            args.append(str(65534))
        proc = subprocess.run(
            args,
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert result == {
            "message": "cannot open the history database: unable to open database file",
            "location": str(target),
            "hint": result["hint"],
            "code": 3,
            "cause": "OperationalError",
        }
        assert "may create files in it" in result["hint"]
        assert not target.exists()
        assert stat.S_IMODE(locked.stat().st_mode) == 0o555
