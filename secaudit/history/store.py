"""The history store: runs, and the life of each finding across runs, in one SQLite file.

Findings are tracked per *scope*: a string the application chooses to name one audited
estate (one profile). Within a scope a finding, identified by its fingerprint, is *open* from
the first run that sees it until a run whose producing source ran completely no longer sees
it; then it is *fixed* (``fixed_at`` set) until a later run sees it again (reopened).

Times recorded for findings are run times: ``first_seen``/``last_seen`` are the ``started_at``
of the runs that saw the finding, ``fixed_at`` the ``started_at`` of the run that found it gone.
Every write is one transaction; a process killed mid-write leaves the previous state intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from secaudit.core.errors import HistoryError, UsageError
from secaudit.core.model import Finding, Run, RunStatus, Source, Status, WaivedFinding
from secaudit.core.profile import Profile
from secaudit.core.report import Report
from secaudit.history.codec import (
    RUN_COLUMNS,
    dump_json,
    finding_from_json,
    finding_to_json,
    from_db_time,
    run_from_row,
    sources_from_json,
    sources_to_json,
    stages_to_json,
    to_db_time,
    waived_from_row,
    waived_to_row,
)
from secaudit.history.connection import connect, database_error
from secaudit.history.inventory import Inventory
from secaudit.history.report_record import (
    RECORD_FORMAT,
    record_format,
    record_report,
    report_from_record,
    stored_profile,
)

Clock = Callable[[], datetime]

#: Statuses a run may end with through :meth:`HistoryStore.complete_run`.
FINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.INCOMPLETE, RunStatus.FAILED})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunDiff:
    """How one run's findings compare with what came before.

    ``new`` and ``persisting`` are fingerprints (the caller holds those findings); ``fixed``
    holds the findings themselves as last seen, since the run no longer has them. ``new``
    means not open before: never seen, or fixed earlier (those are also in ``reopened``).
    ``fixed`` only ever covers sources that ran completely. Each part is sorted by fingerprint.
    """

    new: tuple[str, ...] = ()
    persisting: tuple[str, ...] = ()
    fixed: tuple[Finding, ...] = ()
    reopened: tuple[str, ...] = ()

    def statuses(self) -> dict[str, Status]:
        """Fingerprint -> NEW, PERSISTING or FIXED."""
        result = {f.fingerprint: Status.FIXED for f in self.fixed}
        result.update((fp, Status.PERSISTING) for fp in self.persisting)
        result.update((fp, Status.NEW) for fp in self.new)
        return result


def _by_fingerprint(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: f.fingerprint))


class HistoryStore:
    """The history database at one path. Open it with :meth:`open`; close it, or use ``with``.

    Not shared between threads. Runs of one scope must not overlap: the application holds its
    audit lock around :meth:`abandon_stale_runs`, :meth:`begin_run` and :meth:`complete_run`.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Clock) -> None:
        self._conn = conn
        self._path = path
        self._clock = clock

    @classmethod
    def open(cls, path: Path, *, clock: Clock = utc_now, busy_timeout_ms: int = 10_000) -> HistoryStore:
        """Open the history at ``path``, creating folders and file and migrating the schema.

        Raises :class:`HistoryError` (with the fix in its hint) if the file cannot be created
        or written, is damaged, is not a secaudit history, or was written by a newer secaudit.
        """
        path = Path(path)
        return cls(connect(path, busy_timeout_ms=busy_timeout_ms), path, clock)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def inventory(self) -> Inventory:
        """Scans, the hosts they saw, merged assets and drift (see :mod:`secaudit.history.inventory`)."""
        return Inventory(self._conn, self._path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whole on any exception."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise database_error(e, str(self._path), action) from e

    def _read(self, action: str, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise database_error(e, str(self._path), action) from e

    def _unknown_run(self, run_id: str) -> UsageError:
        return UsageError(
            f"no run {run_id!r} in this history",
            location=str(self._path),
            hint="use a run id that list_runs() shows (`secaudit history runs`), or check the history path",
        )

    def _run_row(self, conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT id, scope, status FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise self._unknown_run(run_id)
        return row

    # -- writing ----------------------------------------------------------------------------

    def begin_run(self, run: Run, scope: str) -> None:
        """Record ``run`` as running in ``scope``, committed at once."""
        if run.status is not RunStatus.RUNNING:
            raise ValueError(f"begin_run needs a running run, got {run.status.value}")
        with self._write(f"record the start of run {run.id}") as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run.id,)).fetchone():
                raise HistoryError(
                    f"run {run.id!r} is already recorded",
                    location=str(self._path),
                    hint="give every run a fresh id",
                )
            conn.execute(
                "INSERT INTO runs (id, scope, profile_path, organisation, started_at, finished_at, status,"
                " tool_version, risk_model, authorization_ref, stages, complete_sources)"
                " VALUES (?, ?, ?, ?, ?, NULL, 'running', ?, ?, ?, ?, NULL)",
                (
                    run.id,
                    scope,
                    run.profile_path,
                    run.organisation,
                    to_db_time(run.started_at),
                    run.tool_version,
                    run.risk_model,
                    run.authorization_ref,
                    stages_to_json(run.stages),
                ),
            )

    def complete_run(
        self,
        run: Run,
        scope: str,
        findings: Sequence[Finding],
        *,
        complete_sources: Collection[Source],
        waived: Sequence[WaivedFinding] = (),
    ) -> RunDiff:
        """Store the run's findings and outcome, in one transaction, and say what changed.

        Every finding is stored with the run; findings of the scope are opened, kept open or
        reopened; open findings absent from this run are marked fixed, but only when their
        source is in ``complete_sources`` (a failed stage must not make its findings look
        fixed). The run row gets ``run.status``, ``run.finished_at`` (now if unset) and
        ``run.stages``. If anything fails, nothing of it is written. A fingerprint given twice
        is stored once (the first occurrence wins).

        ``waived`` are the findings the run found but did not count (waived, or accepted risks):
        stored with the run in the same transaction, in the given order, each with its waiver, so
        a report rebuilt from history lists them as the run did. They take no part in the findings'
        life: a waived finding neither opens, keeps open nor fixes anything.
        """
        if run.status not in FINAL_STATUSES:
            raise ValueError(f"complete_run needs a final status, got {run.status.value}")
        finished_at = to_db_time(run.finished_at or self._clock())
        sources = [s.value for s in complete_sources]
        with self._write(f"record the findings of run {run.id}") as conn:
            row = self._run_row(conn, run.id)
            if row["scope"] != scope:
                raise HistoryError(
                    f"run {run.id!r} belongs to scope {row['scope']!r}, not {scope!r}",
                    location=str(self._path),
                    hint="complete a run with the scope it was begun with",
                )
            if row["status"] != RunStatus.RUNNING.value:
                raise HistoryError(
                    f"run {run.id!r} is already {row['status']}; its findings cannot be recorded",
                    location=str(self._path),
                    hint="start a new run; a run marked interrupted stays interrupted",
                )
            seen_at = conn.execute("SELECT started_at FROM runs WHERE id = ?", (run.id,)).fetchone()[0]

            present: dict[str, tuple[Finding, str]] = {}
            for finding in findings:
                fp = finding.fingerprint
                if fp not in present:
                    present[fp] = (finding, finding_to_json(finding))
            conn.executemany(
                "INSERT INTO run_findings (run_id, fingerprint, finding) VALUES (?, ?, ?)",
                [(run.id, fp, text) for fp, (_, text) in present.items()],
            )
            if waived:
                conn.executemany(
                    "INSERT INTO run_waived (run_id, seq, fingerprint, kind, justification, approved_by,"
                    " expires, source, finding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(run.id, seq, *waived_to_row(w)) for seq, w in enumerate(waived)],
                )
            # Before the upsert: which of them were known in this scope, and whether still open.
            was_open = {
                r["fingerprint"]: r["fixed_at"] is None
                for r in conn.execute(
                    "SELECT f.fingerprint, f.fixed_at FROM run_findings AS rf"
                    " JOIN findings AS f ON f.scope = ? AND f.fingerprint = rf.fingerprint"
                    " WHERE rf.run_id = ?",
                    (scope, run.id),
                )
            }
            # Open, keep open or reopen everything seen now; first_seen and first_run_id stay.
            conn.executemany(
                "INSERT INTO findings (scope, fingerprint, rule_id, source, severity, title, asset_key,"
                " first_seen, last_seen, fixed_at, first_run_id, last_run_id, finding)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)"
                " ON CONFLICT (scope, fingerprint) DO UPDATE SET"
                " rule_id = excluded.rule_id, source = excluded.source, severity = excluded.severity,"
                " title = excluded.title, asset_key = excluded.asset_key, last_seen = excluded.last_seen,"
                " fixed_at = NULL, last_run_id = excluded.last_run_id, finding = excluded.finding",
                [
                    (
                        scope,
                        fp,
                        f.rule_id,
                        f.source.value,
                        int(f.severity),
                        f.title,
                        f.asset.key,
                        seen_at,
                        seen_at,
                        run.id,
                        run.id,
                        text,
                    )
                    for fp, (f, text) in present.items()
                ],
            )

            # Fix what was open, is gone, and whose source ran completely.
            conn.execute(
                "INSERT INTO run_fixed (run_id, fingerprint)"
                " SELECT ?, fingerprint FROM findings"
                " WHERE scope = ? AND fixed_at IS NULL AND last_run_id != ?"
                " AND source IN (SELECT value FROM json_each(?))",
                (run.id, scope, run.id, dump_json(sources)),
            )
            fixed_rows = conn.execute(
                "UPDATE findings SET fixed_at = ?"
                " WHERE scope = ? AND fingerprint IN (SELECT fingerprint FROM run_fixed WHERE run_id = ?)"
                " RETURNING finding",
                (seen_at, scope, run.id),
            ).fetchall()

            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, stages = ?, complete_sources = ? WHERE id = ?",
                (
                    run.status.value,
                    finished_at,
                    stages_to_json(run.stages),
                    sources_to_json(complete_sources),
                    run.id,
                ),
            )

        return RunDiff(
            new=tuple(sorted(fp for fp in present if not was_open.get(fp, False))),
            persisting=tuple(sorted(fp for fp in present if was_open.get(fp, False))),
            fixed=_by_fingerprint(finding_from_json(r["finding"]) for r in fixed_rows),
            reopened=tuple(sorted(fp for fp, open_ in was_open.items() if not open_)),
        )

    def record_report(self, report: Report) -> None:
        """Store the figures of ``report`` with its run (replacing any stored before), in one
        transaction; see :mod:`secaudit.history.report_record`."""
        text = record_report(report)
        with self._write(f"record the report of run {report.run.id}") as conn:
            self._run_row(conn, report.run.id)
            conn.execute(
                "INSERT INTO run_reports (run_id, format, report) VALUES (?, ?, ?)"
                " ON CONFLICT (run_id) DO UPDATE SET format = excluded.format, report = excluded.report",
                (report.run.id, RECORD_FORMAT, text),
            )

    def mark_interrupted(self, run_id: str) -> bool:
        """Mark a running run interrupted (now); False if it had already ended."""
        with self._write(f"mark run {run_id} interrupted") as conn:
            self._run_row(conn, run_id)
            cursor = conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'",
                (to_db_time(self._clock()), run_id),
            )
            return cursor.rowcount > 0

    def abandon_stale_runs(self, scope: str) -> list[str]:
        """Mark interrupted every run of ``scope`` still shown running; return their ids, oldest first.

        Call it while holding the audit lock: any run still "running" then belongs to a process
        that died (killed, power loss) before it could complete the run.
        """
        with self._write(f"mark stale runs of {scope} interrupted") as conn:
            rows = conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?"
                " WHERE scope = ? AND status = 'running' RETURNING id, started_at",
                (to_db_time(self._clock()), scope),
            ).fetchall()
        return [r["id"] for r in sorted(rows, key=lambda r: (r["started_at"], r["id"]))]

    # -- reading ----------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run:
        rows = self._read("read a run", f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))  # noqa: S608 (constant column list)
        if not rows:
            raise self._unknown_run(run_id)
        return run_from_row(rows[0])

    def run_scope(self, run_id: str) -> str:
        """The scope a run was begun in."""
        rows = self._read("read a run", "SELECT scope FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise self._unknown_run(run_id)
        return str(rows[0]["scope"])

    def list_runs(self, scope: str | None = None, limit: int = 20) -> list[Run]:
        """The latest runs, newest first, of one scope or of all."""
        if scope is None:
            sql = f"SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?"  # noqa: S608 (constant column list)
            params: tuple[object, ...] = (limit,)
        else:
            sql = (
                f"SELECT {RUN_COLUMNS} FROM runs WHERE scope = ? ORDER BY started_at DESC, rowid DESC LIMIT ?"  # noqa: S608 (constant column list)
            )
            params = (scope, limit)
        return [run_from_row(r) for r in self._read("list runs", sql, params)]

    def previous_completed_run(self, scope: str, before: Run) -> Run | None:
        """The latest completed run of ``scope`` that started before ``before`` did."""
        rows = self._read(
            "find the previous run",
            f"SELECT {RUN_COLUMNS} FROM runs WHERE scope = ? AND status = 'completed'"  # noqa: S608 (constant column list)
            " AND started_at < ? AND id != ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
            (scope, to_db_time(before.started_at), before.id),
        )
        return run_from_row(rows[0]) if rows else None

    def run_findings(self, run_id: str) -> list[Finding]:
        """The findings a run recorded, sorted by fingerprint."""
        self.get_run(run_id)
        rows = self._read(
            "read the findings of a run",
            "SELECT finding FROM run_findings WHERE run_id = ? ORDER BY fingerprint",
            (run_id,),
        )
        return [finding_from_json(r["finding"]) for r in rows]

    def run_waived(self, run_id: str) -> list[WaivedFinding]:
        """The waived and accepted findings a run recorded, in the order it listed them."""
        self.get_run(run_id)
        rows = self._read(
            "read the waived findings of a run",
            "SELECT kind, justification, approved_by, expires, source, finding FROM run_waived"
            " WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        return [waived_from_row(r) for r in rows]

    def run_report(self, run_id: str, profile: Profile | None = None) -> Report | None:
        """The report of ``run_id`` as stored when it completed, with the profile stored with it
        (``profile`` stands in for a run stored without one), or None when the run has no stored
        figures (recorded before they were kept, in a format this secaudit does not know, or
        without a profile when ``profile`` is None)."""
        run = self.get_run(run_id)
        rows = self._read(
            "read the report of a run", "SELECT report FROM run_reports WHERE run_id = ?", (run_id,)
        )
        if not rows or record_format(rows[0]["report"]) != RECORD_FORMAT:
            return None
        if profile is None and stored_profile(rows[0]["report"]) is None:
            return None
        findings = {f.fingerprint: f for f in self.run_findings(run_id)}
        return report_from_record(
            rows[0]["report"],
            run=run,
            profile=profile,
            findings=findings,
            waived=self.run_waived(run_id),
            location=str(self._path),
        )

    def finding_dates(self, scope: str, fingerprints: Iterable[str]) -> dict[str, tuple[datetime, datetime]]:
        """(first_seen, last_seen) of each known fingerprint in ``scope``; unknown ones are left out."""
        rows = self._read(
            "read finding dates",
            "SELECT fingerprint, first_seen, last_seen FROM findings"
            " WHERE scope = ? AND fingerprint IN (SELECT value FROM json_each(?))",
            (scope, dump_json(sorted(set(fingerprints)))),
        )
        return {r["fingerprint"]: (from_db_time(r["first_seen"]), from_db_time(r["last_seen"])) for r in rows}

    def fixed_since(self, scope: str, run_id: str) -> list[Finding]:
        """The findings of ``scope`` that run ``run_id`` found fixed, sorted by fingerprint.

        Each is the finding as last seen (before it was fixed).
        """
        if self.run_scope(run_id) != scope:
            return []
        rows = self._read(
            "read fixed findings",
            "SELECT f.finding FROM run_fixed AS x JOIN findings AS f"
            " ON f.scope = ? AND f.fingerprint = x.fingerprint"
            " WHERE x.run_id = ? ORDER BY x.fingerprint",
            (scope, run_id),
        )
        return [finding_from_json(r["finding"]) for r in rows]

    def diff_runs(self, run_a: str, run_b: str) -> RunDiff:
        """Compare two runs' own findings: ``run_b`` against the older ``run_a``.

        ``fixed`` lists findings of ``run_a`` that ``run_b`` did not see although their source
        ran completely in ``run_b``; ``reopened`` stays empty (it is a fact of the scope's
        history, not of two runs).
        """
        a = {f.fingerprint: f for f in self.run_findings(run_a)}
        b = {f.fingerprint: f for f in self.run_findings(run_b)}
        rows = self._read("read a run", "SELECT complete_sources FROM runs WHERE id = ?", (run_b,))
        complete = sources_from_json(rows[0]["complete_sources"])
        return RunDiff(
            new=tuple(sorted(fp for fp in b if fp not in a)),
            persisting=tuple(sorted(fp for fp in b if fp in a)),
            fixed=_by_fingerprint(f for fp, f in a.items() if fp not in b and f.source in complete),
        )
