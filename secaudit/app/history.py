"""History use cases: list runs, show a run's findings, and rebuild a run's report from history."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from secaudit.app.reporting import (
    build_report,
    ensure_writable,
    is_binary,
    with_thai_era,
    write_file,
    write_reports,
    writer_for,
)
from secaudit.app.vuln import stored_kev
from secaudit.catalog.kev import load_kev
from secaudit.catalog.profile import load_profile
from secaudit.core.errors import ConfigError, UsageError
from secaudit.core.model import Run
from secaudit.core.profile import Profile
from secaudit.core.report import Report
from secaudit.history.store import HistoryStore
from secaudit.risk.model import describe_model


def _existing(path: Path) -> Path:
    if not path.exists():
        raise UsageError(
            "no history database here",
            location=str(path),
            hint="run `secaudit audit` first, or name its profile with --profile, or point --history / "
            "SECAUDIT_HISTORY at its history.sqlite",
        )
    return path


def list_runs(history: Path, *, limit: int = 20) -> list[Run]:
    with HistoryStore.open(_existing(history)) as store:
        return store.list_runs(limit=limit)


def latest_run_id(store: HistoryStore) -> str:
    runs = store.list_runs(limit=1)
    if not runs:
        raise UsageError("the history holds no runs yet", hint="run `secaudit audit --profile FILE` first")
    return runs[0].id


def _run_profile(run: Run) -> Profile:
    try:
        return load_profile(Path(run.profile_path), require_valid_authorization=False)
    except ConfigError as e:
        raise ConfigError(
            f"cannot rebuild the report of run {run.id}: its profile no longer loads ({e.message})",
            location=e.location,
            hint="restore the profile file the run used",
        ) from e


def load_run_report(history: Path, run_id: str | None) -> Report:
    """The Report of a recorded run, as the run itself reported it.

    A run records its report's figures and its profile when it completes
    (:meth:`HistoryStore.record_report`): they are read back, so the rebuilt report is the original
    one even when the profile file was edited or removed since. A run recorded before those
    figures were kept is scored again from its findings, and its methodology says so.
    """
    with HistoryStore.open(_existing(history)) as store:
        rid = run_id or latest_run_id(store)
        run = store.get_run(rid)
        stored = store.run_report(rid)  # with the profile as the run used it, not as the file is now
        if stored is not None:
            return stored
        profile = _run_profile(run)  # a run stored before its profile was kept
        stored = store.run_report(rid, profile)
        if stored is not None:
            return stored
        scope = store.run_scope(rid)
        findings = store.run_findings(rid)
        previous = store.previous_completed_run(scope, run)
        if previous is None:
            new = {f.fingerprint for f in findings}
        else:
            new = set(store.diff_runs(previous.id, rid).new)
        dates = store.finding_dates(scope, [f.fingerprint for f in findings])
        fixed = store.fixed_since(scope, rid)
        waived = store.run_waived(rid)
    # Scored again now, with the KEV catalogue available now; the methodology says so, and which
    # model the run itself was scored with when that differs.
    kev = load_kev(Path(profile.kev_path) if profile.kev_path else None) or stored_kev(profile)
    used = f"{describe_model(kev)}, scored again when this report was rebuilt"
    if run.risk_model and run.risk_model != describe_model(kev):
        used = f"{used}; the run used {run.risk_model}"
    return build_report(
        run=replace(run, risk_model=used),
        profile=profile,
        findings=findings,
        new=new,
        dates=dates,
        fixed=fixed,
        previous_run_id=previous.id if previous else "",
        generated_at=run.finished_at or run.started_at,
        waived=waived,
        kev=kev,
    )


def rebuild_report(
    history: Path,
    run_id: str | None,
    *,
    output_dir: Path,
    formats: tuple[str, ...],
    lang: str | None,
    output: Path | None = None,
    thai_era: str | None = None,
) -> dict[str, Path]:
    """Write a recorded run's report again: into ``output_dir/<run id>/`` under the usual names,
    or, with ``output``, one format to exactly that file."""
    report = load_run_report(history, run_id)
    if thai_era:
        report = with_thai_era(report, thai_era)
    language = lang or report.profile.report.language
    if output is not None:
        if len(formats) != 1:
            raise UsageError(
                "--output writes one file: give exactly one --format",
                hint="e.g. secaudit report --format sarif --output findings.sarif",
            )
        ensure_writable(output.parent)
        fmt = formats[0]
        return {fmt: write_file(report, output, writer_for(fmt, language), binary=is_binary(fmt))}
    folder = output_dir / report.run.id
    return write_reports(
        report,
        folder,
        formats=formats or report.profile.report.formats,
        lang=language,
        extra_languages=() if lang else report.profile.report.languages,
    )
