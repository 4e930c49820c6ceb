"""The history schema and its versioned migrations.

The database says what it is through two header fields: ``PRAGMA application_id`` marks a
secaudit history, ``PRAGMA user_version`` counts the migration steps applied. Each step runs
in its own ``BEGIN IMMEDIATE`` transaction together with the version bump, so a crash leaves
the database at the previous version, never between two. Steps are only ever appended: a
released step is never edited.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from secaudit.core.errors import HistoryError

#: "SCAU" read as a big-endian 32-bit integer: marks a file as a secaudit history.
APPLICATION_ID = 0x53434155


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    version: int  # user_version after this step
    summary: str
    statements: tuple[str, ...]


_STATUSES = "'running', 'completed', 'incomplete', 'failed', 'interrupted'"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        summary="runs, findings per scope, findings per run, fixes per run",
        statements=(
            # One row per audit run. `scope` names the audited estate (one profile); times are
            # fixed-width UTC text; stages and complete_sources are JSON.
            f"""CREATE TABLE runs (
                id                TEXT PRIMARY KEY,
                scope             TEXT NOT NULL,
                profile_path      TEXT NOT NULL,
                organisation      TEXT NOT NULL,
                started_at        TEXT NOT NULL,
                finished_at       TEXT,
                status            TEXT NOT NULL CHECK (status IN ({_STATUSES})),
                tool_version      TEXT NOT NULL,
                risk_model        TEXT NOT NULL,
                authorization_ref TEXT NOT NULL,
                stages            TEXT NOT NULL CHECK (json_valid(stages)),
                complete_sources  TEXT CHECK (complete_sources IS NULL OR json_valid(complete_sources))
            ) STRICT""",
            "CREATE INDEX runs_by_scope ON runs (scope, started_at)",
            "CREATE INDEX runs_by_start ON runs (started_at)",
            "CREATE INDEX runs_running ON runs (scope) WHERE status = 'running'",
            # The life of each finding within a scope: open while fixed_at is NULL.
            """CREATE TABLE findings (
                scope        TEXT NOT NULL,
                fingerprint  TEXT NOT NULL,
                rule_id      TEXT NOT NULL,
                source       TEXT NOT NULL,
                severity     INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),
                title        TEXT NOT NULL,
                asset_key    TEXT NOT NULL,
                first_seen   TEXT NOT NULL,
                last_seen    TEXT NOT NULL,
                fixed_at     TEXT,
                first_run_id TEXT NOT NULL REFERENCES runs (id),
                last_run_id  TEXT NOT NULL REFERENCES runs (id),
                finding      TEXT NOT NULL CHECK (json_valid(finding)),
                PRIMARY KEY (scope, fingerprint)
            ) STRICT""",
            "CREATE INDEX findings_open ON findings (scope, source) WHERE fixed_at IS NULL",
            "CREATE INDEX findings_last_run ON findings (last_run_id)",
            # Exactly what each run found, as it found it.
            """CREATE TABLE run_findings (
                run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                fingerprint TEXT NOT NULL,
                finding     TEXT NOT NULL CHECK (json_valid(finding)),
                PRIMARY KEY (run_id, fingerprint)
            ) STRICT""",
            # Which open findings each run found gone (their source ran completely).
            """CREATE TABLE run_fixed (
                run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                fingerprint TEXT NOT NULL,
                PRIMARY KEY (run_id, fingerprint)
            ) STRICT, WITHOUT ROWID""",
        ),
    ),
    Migration(
        version=2,
        summary="network inventory: scans, the hosts each scan saw, assets merged per scope",
        statements=(
            # One row per scan (stand-alone `secaudit scan`, an audit's scan stage, an ARP sweep or
            # a passive capture). Not tied to `runs`: a stand-alone scan is not an audit run.
            """CREATE TABLE scans (
                id          TEXT PRIMARY KEY,
                scope       TEXT NOT NULL,
                source      TEXT NOT NULL CHECK (source IN ('scan', 'arp', 'passive')),
                started_at  TEXT NOT NULL,
                status      TEXT NOT NULL CHECK (status IN ('completed', 'incomplete', 'failed')),
                coverage    TEXT NOT NULL CHECK (json_valid(coverage)),
                errors      TEXT NOT NULL CHECK (json_valid(errors))
            ) STRICT""",
            "CREATE INDEX scans_by_scope ON scans (scope, source, started_at)",
            # Exactly what each scan saw of each host (JSON: mac, vendor, hostname, segment, services).
            """CREATE TABLE scan_hosts (
                scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
                address TEXT NOT NULL,
                host    TEXT NOT NULL CHECK (json_valid(host)),
                PRIMARY KEY (scan_id, address)
            ) STRICT, WITHOUT ROWID""",
            # The inventory: every address ever seen in a scope, merged across scans.
            """CREATE TABLE assets (
                scope         TEXT NOT NULL,
                address       TEXT NOT NULL,
                mac           TEXT NOT NULL,
                vendor        TEXT NOT NULL,
                hostname      TEXT NOT NULL,
                segment       TEXT NOT NULL,
                services      TEXT NOT NULL CHECK (json_valid(services)),
                first_seen    TEXT NOT NULL,
                last_seen     TEXT NOT NULL,
                first_scan_id TEXT NOT NULL REFERENCES scans (id),
                last_scan_id  TEXT NOT NULL REFERENCES scans (id),
                PRIMARY KEY (scope, address)
            ) STRICT""",
        ),
    ),
    Migration(
        version=3,
        summary="waived and accepted findings per run",
        statements=(
            # What each run found but did not count: the finding as found, with the waiver or risk
            # acceptance that covered it. `seq` keeps the order the run listed them in; a finding
            # covered twice is kept twice (each waiver is a fact for the auditor).
            """CREATE TABLE run_waived (
                run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                seq           INTEGER NOT NULL CHECK (seq >= 0),
                fingerprint   TEXT NOT NULL,
                kind          TEXT NOT NULL CHECK (kind IN ('waived', 'accepted')),
                justification TEXT NOT NULL,
                approved_by   TEXT NOT NULL,
                expires       TEXT,
                source        TEXT NOT NULL,
                finding       TEXT NOT NULL CHECK (json_valid(finding)),
                PRIMARY KEY (run_id, seq)
            ) STRICT, WITHOUT ROWID""",
        ),
    ),
    Migration(
        version=4,
        summary="each run's report figures, as computed once when the run completed",
        statements=(
            # What the run's report showed, worked out once when the run completed: each ranked
            # row's instances (fingerprints into run_findings), status, dates, score, decision and
            # factors; the trend, fixed findings, compliance and posture. A report rebuilt from
            # history reads these back instead of scoring again, so it is the original report.
            """CREATE TABLE run_reports (
                run_id  TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
                format  INTEGER NOT NULL CHECK (format >= 1),
                report  TEXT NOT NULL CHECK (json_valid(report))
            ) STRICT, WITHOUT ROWID""",
        ),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version


def _header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    return int(app_id), int(version), int(objects)


def check_identity(conn: sqlite3.Connection, location: str) -> int:
    """Return the schema version of a secaudit history (0 for an empty file); refuse anything else."""
    app_id, version, objects = _header(conn)
    if app_id == 0 and version == 0 and objects == 0:
        return 0
    if app_id != APPLICATION_ID:
        raise HistoryError(
            f"this SQLite database is not a secaudit history (application_id {app_id:#x}, "
            f"{objects} schema objects)",
            location=location,
            hint="point the history path at a new file or at an existing secaudit history; "
            "this file belongs to another program and was left untouched",
        )
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"history schema version {version} is newer than this secaudit understands "
            f"(up to {SCHEMA_VERSION})",
            location=location,
            hint="upgrade secaudit to the version that wrote this history, or use another history "
            "file; an older secaudit never writes to a newer history",
        )
    return version


def migrate(conn: sqlite3.Connection, location: str) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION`, one step per transaction.

    The connection must be in autocommit mode (``isolation_level=None``). The version is read
    again inside each write transaction, so two processes opening the same new file at once
    apply each step exactly once.
    """
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = check_identity(conn, location)
            if version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return version
            step = MIGRATIONS[version]
            for statement in step.statements:
                conn.execute(statement)
            if version == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {int(step.version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
